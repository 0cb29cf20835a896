/**
 * One row of `GET /workspaces/:id/activity` (platform-contract.md §5) as a typed value, and
 * the text an agent should see for it. Pure: no I/O. Deciding whether a row is delivered at
 * all belongs to inbox/filter.ts; paging and cursors belong to the poller.
 */
import { timestampKey } from "../timestamps.ts";
import { parseUuid } from "../uuid.ts";
import { isRecord } from "../json_object.ts";
import { joinTextParts } from "../platform/a2a.ts";

/** An activity row after parsing. Absent or null text columns become "". */
export interface ActivityRow {
  /** Row id as the platform sent it (a random UUID; the cursor for `since_id`). */
  id: string;
  workspace_id: string;
  activity_type: string;
  /** Sender workspace, or "" when the column is NULL (canvas user, the agent's own notify). */
  source_id: string;
  /** JSON-RPC method recorded on the row, or "". */
  method: string;
  summary: string;
  /** "ok", "error", or a delegation status; "" when absent. */
  status: string;
  /** RFC 3339 timestamp as the platform sent it. */
  created_at: string;
  /** Decoded request body when it is a JSON object (sent as an object or a JSON string). */
  request_body: Record<string, unknown> | null;
  /** Decoded response body when it is a JSON object (sent as an object or a JSON string). */
  response_body: Record<string, unknown> | null;
  /** The row's `seq` (newer platforms, upstream-latest §2 B), or null when absent or bad. */
  seq: number | null;
  /** `include=peer_info` fields (upstream-latest §2 A), raw; "" when absent. */
  peer_name: string;
  peer_role: string;
  agent_card_url: string;
  /** The row's `attachments` as sent (checked by inbox/row_content.ts), or undefined. */
  attachments: unknown;
}

/** Shown when a message has neither text parts nor a summary: text is never empty. */
export const EMPTY_MESSAGE_PLACEHOLDER = "(empty A2A message)";

/**
 * Turns one element of the activity array into an ActivityRow, or null when it is not an
 * object, its `id` is not a UUID or its `created_at` is not an RFC 3339 timestamp: such a row
 * can be neither delivered nor used as a cursor (a non-UUID cursor would make every later
 * poll fail). The id comes back lowercase. Never throws.
 */
export function parseActivityRow(raw: unknown): ActivityRow | null {
  if (!isRecord(raw)) return null;
  const id = parseUuid(raw["id"]);
  const createdAt = raw["created_at"];
  if (id === null) return null;
  if (typeof createdAt !== "string" || timestampKey(createdAt) === null) return null;
  return {
    id,
    workspace_id: stringOrEmpty(raw["workspace_id"]),
    activity_type: stringOrEmpty(raw["activity_type"]),
    source_id: stringOrEmpty(raw["source_id"]),
    method: stringOrEmpty(raw["method"]),
    summary: stringOrEmpty(raw["summary"]),
    status: stringOrEmpty(raw["status"]),
    created_at: createdAt,
    request_body: decodeBody(raw["request_body"]),
    response_body: decodeBody(raw["response_body"]),
    seq: parseSeq(raw["seq"]),
    peer_name: stringOrEmpty(raw["peer_name"]),
    peer_role: stringOrEmpty(raw["peer_role"]),
    agent_card_url: stringOrEmpty(raw["agent_card_url"]),
    attachments: raw["attachments"],
  };
}

/** A BIGINT identity: a whole number ≥ 0 (JSON numbers are exact up to 2^53). */
function parseSeq(value: unknown): number | null {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

/**
 * The text an agent sees for a row; never empty.
 *
 * Order: for a delegation result the platform wrote (`isDelegationResult`; by default any
 * `delegate_result` row) the result text in `response_body.text` (contract §16: their request
 * body holds only the delegation id); then the text parts of the A2A message at
 * `request_body.params.message.parts`, `request_body.params.parts` or `request_body.parts`
 * (the first location holding any text part wins; a part counts when `kind` or `type` is
 * "text", covering a2a-sdk v1 and v0), joined with TEXT_PART_SEPARATOR; then the row
 * summary; then EMPTY_MESSAGE_PLACEHOLDER. Blank candidates are skipped.
 */
export function extractText(
  row: ActivityRow,
  isDelegationResult = row.method === "delegate_result",
): string {
  if (isDelegationResult) {
    const result = row.response_body?.["text"];
    if (typeof result === "string" && result.trim() !== "") return result;
  }
  const fromParts = textFromParts(row.request_body);
  if (fromParts !== "") return fromParts;
  if (row.summary.trim() !== "") return row.summary;
  return EMPTY_MESSAGE_PLACEHOLDER;
}

function textFromParts(body: Record<string, unknown> | null): string {
  if (body === null) return "";
  const params = body["params"];
  const message = isRecord(params) ? params["message"] : undefined;
  const candidates = [
    isRecord(message) ? message["parts"] : undefined,
    isRecord(params) ? params["parts"] : undefined,
    body["parts"],
  ];
  for (const parts of candidates) {
    const text = joinTextParts(parts);
    if (text !== "") return text;
  }
  return "";
}

/** Bodies are raw JSON objects (contract §5), but older writers stored JSON strings. */
function decodeBody(raw: unknown): Record<string, unknown> | null {
  if (isRecord(raw)) return raw;
  if (typeof raw !== "string") return null;
  let decoded: unknown;
  try {
    decoded = JSON.parse(raw);
  } catch (err) {
    // A body that is not JSON carries no parts; extractText falls back to the summary.
    if (err instanceof SyntaxError) return null;
    throw err;
  }
  return isRecord(decoded) ? decoded : null;
}

function stringOrEmpty(value: unknown): string {
  return typeof value === "string" ? value : "";
}
