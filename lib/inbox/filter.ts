/**
 * Decides whether an activity row becomes an inbox message, and builds that message. Pure: the
 * poller owns fetching and the cursor, the inbox owns queueing. Every skipped row is still
 * consumed: the poller moves its cursor past it, so a skip is final, never "retry later".
 */
import { parseUuid } from "../uuid.ts";
import { type ActivityRow, extractText } from "./activity_row.ts";
import type { InboxMessage, MessageAttachment, MessageKind } from "./message.ts";
import { rowExtras } from "./row_content.ts";

/**
 * Why a row was not delivered, for a debug log line. The cursor advances past the row in
 * every case.
 * - `not_a2a_receive`: another activity type slipped into the feed (the poller asks for
 *   `type=a2a_receive`; this guards against a platform that ignores the filter).
 * - `own_notify`: the agent's own send_message_to_user (method `notify`, no source_id):
 *   delivering it would make the agent answer itself (upstream 2d8c4598).
 * - `self_echo`: a row this workspace wrote about its own outbound traffic (source_id is this
 *   workspace) other than a delegation result (upstream deeff950/af250199).
 */
export type SkipReason = "not_a2a_receive" | "own_notify" | "self_echo";

/** The outcome for one row: a message to queue, or the reason it is consumed silently. */
export type RowDecision = { deliver: InboxMessage } | { skip: SkipReason };

/**
 * Classifies one row fetched for workspace `selfWorkspaceId`.
 *
 * Kinds: `delegation_result` only for a row the platform wrote for our own delegation: method
 * `delegate_result` AND source_id this workspace (the platform records the caller as source,
 * contract §16; no peer can write a row whose source is us). A peer's A2A message that merely
 * says `method: "delegate_result"` is a message from its sender, like any other (issue 11 item
 * 6): it must not read as "[delegation result] … use it". We keep no list of our delegation
 * ids across restarts, so the source is the check. Then a non-empty source_id → `peer_agent`;
 * else `canvas_user`. `peer_id` is the source as a lowercase UUID, or "" when the source is absent
 * or not a UUID: a `peer_agent` message with `peer_id` "" is a poison row the agent is told
 * to pop without replying (the id never reaches a tool argument or tag attribute).
 * `activity_id` is the row id lowercased, so pops match case-insensitively.
 */
export function classifyRow(row: ActivityRow, selfWorkspaceId: string): RowDecision {
  if (row.activity_type !== "a2a_receive") return { skip: "not_a2a_receive" };
  const source = row.source_id.trim();
  if (row.method === "notify" && source === "") return { skip: "own_notify" };
  const isFromSelf = source !== "" && isSameId(source, selfWorkspaceId);
  const isDelegationResult = row.method === "delegate_result" && isFromSelf;
  if (!isDelegationResult && isFromSelf) return { skip: "self_echo" };
  const kind: MessageKind = isDelegationResult
    ? "delegation_result"
    : source === ""
    ? "canvas_user"
    : "peer_agent";
  const peerId = parseUuid(source) ?? "";
  const extras = rowExtras(row, kind === "peer_agent" ? peerId : "");
  return {
    deliver: {
      activity_id: row.id.toLowerCase(),
      text: row.method === UPLOAD_METHOD
        ? uploadText(extras.attachments)
        : extractText(row, isDelegationResult),
      peer_id: peerId,
      kind,
      method: row.method,
      created_at: row.created_at,
      ...extras,
    },
  };
}

/** The row method of a file a canvas user attached (contract §16). */
export const UPLOAD_METHOD = "chat_upload_receive";

/**
 * The text of an upload row, which carries only the file's manifest: upstream delivers it as a
 * message of its own (R4), since an image sent alone may produce no other row.
 */
function uploadText(attachments: readonly MessageAttachment[] | undefined): string {
  const names = (attachments ?? []).map((a) => a.name ?? a.kind);
  return names.length === 0
    ? "(the canvas user attached a file that could not be read)"
    : `(the canvas user attached a file: ${names.join(", ")})`;
}

/** UUIDs compare case-insensitively; a non-UUID self id (tests, fakes) compares verbatim. */
function isSameId(a: string, b: string): boolean {
  return a.toLowerCase() === b.trim().toLowerCase();
}
