/**
 * Activity-feed routes of the fake platform: the list with its cursor rules (§5, §16), the
 * self-report (§6), notify and chat uploads (§7, uploads answered the staging way of §16).
 */
import { type Ctx, hasRelease } from "./fake_platform_context.ts";
import {
  canonicalUuid,
  errorJson,
  isRecord,
  json,
  parseGoInt,
  parseTimestamp,
  randomId,
  readJson,
} from "./fake_platform_http.ts";
import type { PlatformModel, StoredRow } from "./fake_platform_model.ts";

/** The 410 body for a cursor row that is gone or belongs to another workspace (§5). */
export const CURSOR_GONE =
  "since_id cursor not found (row may have been pruned or belongs to a different workspace); omit since_id to reset";

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 500;
const MAX_SINCE_SECS = 30 * 24 * 3600;

/**
 * GET /workspaces/:id/activity. The release decides the flags: "seed" ignores `peer_id` and
 * `before_ts`; "latest" adds `seq` to every row, orders by (created_at, seq), resumes a
 * cursor at an equal timestamp by seq, and honours `include=peer_info` (upstream-latest §2 A, B).
 */
export function listActivity({ model, req, settings }: Ctx): Response {
  const q = req.url.searchParams;
  const isSeed = !hasRelease(settings.version, "2026-05");
  const isLatest = hasRelease(settings.version, "latest");
  const ignored = new Set(isSeed ? ["peer_id", "before_ts"] : []);
  const param = (name: string) => ignored.has(name) ? "" : q.get(name) ?? "";
  const wsId = canonicalUuid(req.params.id ?? "");
  if (wsId === null) return errorJson(500, "query failed");

  const source = param("source");
  if (source !== "" && source !== "canvas" && source !== "agent") {
    return errorJson(400, "source must be 'canvas' or 'agent'");
  }
  const askedLimit = parseGoInt(param("limit"));
  const limit = askedLimit === null || askedLimit <= 0
    ? DEFAULT_LIMIT
    : Math.min(askedLimit, MAX_LIMIT);

  let sinceUs: number | null = null;
  if (param("since_secs") !== "") {
    const secs = parseGoInt(param("since_secs"));
    if (secs === null || secs <= 0) return errorJson(400, "since_secs must be a positive integer");
    sinceUs = model.clock.now() * 1000 - Math.min(secs, MAX_SINCE_SECS) * 1e6;
  }
  let peer: string | null = null;
  if (param("peer_id") !== "") {
    peer = canonicalUuid(param("peer_id"));
    if (peer === null) return errorJson(400, "peer_id must be a UUID");
  }
  let beforeUs: number | null = null;
  if (param("before_ts") !== "") {
    beforeUs = parseTimestamp(param("before_ts"));
    if (beforeUs === null) return errorJson(400, "before_ts must be an RFC 3339 timestamp");
  }
  let cursorUs: number | null = null;
  let cursorSeq = 0;
  if (param("since_id") !== "") {
    const cursorId = canonicalUuid(param("since_id"));
    if (cursorId === null) return errorJson(500, "cursor lookup failed");
    const cursor = model.findRow(cursorId);
    if (cursor === undefined || cursor.row.workspace_id !== wsId) {
      return errorJson(410, CURSOR_GONE);
    }
    cursorUs = cursor.atUs;
    cursorSeq = cursor.seq;
  }
  const isAfterCursor = (atUs: number, seq: number) =>
    cursorUs === null || atUs > cursorUs || (isLatest && atUs === cursorUs && seq > cursorSeq);

  const type = param("type");
  const keep = ({ row, atUs, seq }: StoredRow) =>
    (type === "" || row.activity_type === type) &&
    (source !== "canvas" || row.source_id === null) &&
    (source !== "agent" || row.source_id !== null) &&
    (sinceUs === null || atUs >= sinceUs) &&
    (beforeUs === null || atUs < beforeUs) &&
    isAfterCursor(atUs, seq) &&
    (peer === null || row.source_id === peer || row.target_id === peer);
  // Before "latest" created_at is the only sort key; among equal timestamps the fake keeps
  // insertion order (ascending) or its reverse, the real order being undefined (§17.2).
  // "latest" sorts by (created_at, seq), which is the same order.
  const ascending = cursorUs !== null;
  const rows = model.rowsOf(wsId).filter(keep).sort((a, b) =>
    ascending ? a.atUs - b.atUs || a.seq - b.seq : b.atUs - a.atUs || b.seq - a.seq
  );
  const includes = new Set(param("include").split(",").map((s) => s.trim()));
  const withPeerInfo = isLatest && includes.has("peer_info");
  return json(
    200,
    rows.slice(0, limit).map((r) => {
      if (!isLatest) return r.row;
      const out: Record<string, unknown> = { ...r.row, seq: r.seq };
      if (withPeerInfo) Object.assign(out, peerInfo(model, r.row, req.url.origin));
      return out;
    }),
  );
}

/**
 * The `include=peer_info` fields (upstream-latest §2 A): peer_name and peer_role joined from
 * the sender's workspace row (left out when empty), agent_card_url when the row has a
 * source, and attachments[] from the message's file parts or the flat upload manifest.
 */
function peerInfo(
  model: PlatformModel,
  row: StoredRow["row"],
  origin: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (row.source_id !== null) {
    const sender = model.workspace(row.source_id);
    if (sender !== undefined && sender.name !== "") out.peer_name = sender.name;
    if (sender?.role) out.peer_role = sender.role;
    out.agent_card_url = `${origin}/registry/discover/${row.source_id}`;
  }
  const attachments = attachmentsOf(row.request_body);
  if (attachments.length > 0) out.attachments = attachments;
  return out;
}

function kindOfMime(mime: string): string {
  for (const kind of ["image", "audio", "video"]) if (mime.startsWith(`${kind}/`)) return kind;
  return "file";
}

function attachmentsOf(body: unknown): Record<string, unknown>[] {
  if (!isRecord(body)) return [];
  const params = body.params;
  const message = isRecord(params) ? params.message : undefined;
  const parts = isRecord(message) && Array.isArray(message.parts) ? message.parts : [];
  const found: Record<string, unknown>[] = [];
  for (const part of parts) {
    if (!isRecord(part) || !isRecord(part.file)) continue;
    const file = part.file;
    if (typeof file.uri !== "string") continue;
    const mime = typeof file.mimeType === "string"
      ? file.mimeType
      : typeof file.mime_type === "string"
      ? file.mime_type
      : "";
    const entry: Record<string, unknown> = { kind: kindOfMime(mime), uri: file.uri };
    if (mime !== "") entry.mime_type = mime;
    if (typeof file.name === "string") entry.name = file.name;
    found.push(entry);
  }
  if (found.length === 0 && typeof body.uri === "string" && typeof body.file_id === "string") {
    const mime = typeof body.mimeType === "string" ? body.mimeType : "";
    const entry: Record<string, unknown> = { kind: kindOfMime(mime), uri: body.uri };
    if (mime !== "") entry.mime_type = mime;
    if (typeof body.name === "string") entry.name = body.name;
    found.push(entry);
  }
  return found;
}

/**
 * POST /workspaces/:id/activity/ack (upstream-latest §2 C): `{acked_seq}` ≥ 0 raises the
 * workspace's ack floor (never lowers it) and answers the floor.
 */
export function ackActivity({ model, req }: Ctx): Response {
  const id = req.params.id ?? "";
  const parsed = readJson(req.raw);
  const body = parsed.ok ? parsed.value : undefined;
  if (!isRecord(body) || body.acked_seq === undefined || body.acked_seq === null) {
    return errorJson(400, "acked_seq is required");
  }
  if (!Number.isInteger(body.acked_seq)) return errorJson(400, "acked_seq is required");
  const asked = Number(body.acked_seq);
  if (asked < 0) return errorJson(400, "acked_seq must be >= 0");
  const floor = Math.max(model.lastAckedSeq.get(id) ?? 0, asked);
  model.lastAckedSeq.set(id, floor);
  return json(200, { last_acked_seq: floor });
}

/**
 * POST /workspaces/:id/broadcast (contract §16): needs broadcast_enabled, else 403
 * broadcast_disabled; writes a `broadcast_receive` row to every other live workspace of the
 * org (the fake holds one org) and answers how many got it.
 */
export function broadcast({ model, req }: Ctx): Response {
  const id = req.params.id ?? "";
  const parsed = readJson(req.raw);
  const body = parsed.ok ? parsed.value : undefined;
  if (!isRecord(body) || typeof body.message !== "string" || body.message === "") {
    return errorJson(400, "message is required");
  }
  const ws = model.workspace(id);
  if (ws === undefined || ws.status === "removed") return errorJson(404, "workspace not found");
  if (!ws.broadcast_enabled) {
    return errorJson(403, "broadcast_disabled", {
      hint: "An administrator can enable broadcast for this workspace in the canvas",
    });
  }
  let delivered = 0;
  for (const other of model.allWorkspaces()) {
    if (other.id === id || other.status === "removed") continue;
    model.insertRow({
      workspace_id: other.id,
      activity_type: "broadcast_receive",
      method: "broadcast",
      source_id: id,
      summary: body.message,
      request_body: { message: body.message, sender_id: id, sender: ws.name },
    });
    delivered++;
  }
  return json(200, { status: "sent", delivered });
}

const ACTIVITY_TYPES = [
  "a2a_send",
  "a2a_receive",
  "task_update",
  "agent_log",
  "skill_promotion",
  "memory_write",
  "error",
];
const REPORT_STRINGS = ["method", "summary", "target_id", "source_id", "status", "error_detail"];

/** POST /workspaces/:id/activity: a workspace reporting its own activity. */
export function reportActivity({ model, req }: Ctx): Response {
  const id = req.params.id ?? "";
  const parsed = readJson(req.raw);
  const body = parsed.ok ? parsed.value : undefined;
  if (
    !isRecord(body) || typeof body.activity_type !== "string" || body.activity_type === "" ||
    REPORT_STRINGS.some((k) => body[k] != null && typeof body[k] !== "string") ||
    (body.duration_ms != null && !Number.isInteger(body.duration_ms))
  ) {
    return errorJson(400, "invalid request body");
  }
  if (!ACTIVITY_TYPES.includes(body.activity_type)) {
    return errorJson(400, `invalid activity_type, must be one of: ${ACTIVITY_TYPES.join(", ")}`);
  }
  const text = (key: string) =>
    typeof body[key] === "string" && body[key] !== "" ? body[key] : null;
  const sourceId = text("source_id");
  if (sourceId !== null && sourceId !== id) {
    return errorJson(403, "source_id must match authenticated workspace");
  }
  model.insertRow({
    workspace_id: id,
    activity_type: body.activity_type,
    source_id: sourceId ?? id,
    target_id: text("target_id"),
    method: text("method"),
    summary: text("summary"),
    status: text("status") ?? "ok",
    error_detail: text("error_detail"),
    duration_ms: typeof body.duration_ms === "number" ? body.duration_ms : null,
    request_body: body.request_body ?? body.metadata,
    response_body: body.response_body,
  });
  return json(200, { status: "logged" });
}

/** POST /workspaces/:id/notify: a message to the canvas user, echoed into the own feed. */
export function notify({ model, req }: Ctx): Response {
  const id = req.params.id ?? "";
  const parsed = readJson(req.raw);
  const body = parsed.ok ? parsed.value : undefined;
  if (!isRecord(body) || typeof body.message !== "string" || body.message === "") {
    return errorJson(400, "message is required");
  }
  const attachments = body.attachments ?? [];
  if (!Array.isArray(attachments)) return errorJson(400, "message is required");
  const fileParts: unknown[] = [];
  for (const [i, a] of attachments.entries()) {
    if (!isRecord(a) || !nonEmpty(a.uri) || !nonEmpty(a.name)) {
      return errorJson(400, `attachment[${i}]: uri and name are required`);
    }
    fileParts.push({ kind: "file", file: a });
  }
  const ws = model.workspace(id);
  if (ws === undefined || ws.status === "removed") return errorJson(404, "workspace not found");
  if (!ws.talk_to_user_enabled) {
    return errorJson(403, "talk_to_user_disabled", {
      hint: "Enable talk-to-user for this workspace in the canvas",
    });
  }
  const response: Record<string, unknown> = { result: body.message };
  if (fileParts.length > 0) response.parts = fileParts;
  model.insertRow({
    workspace_id: id,
    activity_type: "a2a_receive",
    method: "notify",
    source_id: null,
    summary: body.message,
    event: "AGENT_MESSAGE",
    response_body: response,
  });
  model.notifications.push({ workspace_id: id, message: body.message, attachments });
  return json(200, { status: "sent" });
}

function nonEmpty(value: unknown): value is string {
  return typeof value === "string" && value !== "";
}

const MAX_FILE_BYTES = 25 * 1024 * 1024;
const MAX_TOTAL_BYTES = 50 * 1024 * 1024;

/**
 * POST /workspaces/:id/chat/uploads: multipart parts named `files`, answered as the staging
 * platform does (`platform-pending:<ws>/<file_id>` URIs). Every file is recorded.
 */
export async function chatUploads({ model, req }: Ctx): Promise<Response> {
  const id = canonicalUuid(req.params.id ?? "");
  if (id === null) return errorJson(400, "invalid workspace ID");
  const ws = model.workspace(id);
  if (ws === undefined || ws.status === "removed") return errorJson(404, "workspace not found");
  if (req.raw.length > MAX_TOTAL_BYTES) return errorJson(413, "request body too large");
  let form: FormData;
  try {
    form = await new Request(req.url, {
      method: "POST",
      headers: req.headers,
      body: req.raw,
    }).formData();
  } catch (err) {
    if (err instanceof TypeError) return errorJson(400, "invalid multipart form");
    throw err;
  }
  const files = form.getAll("files").filter((f): f is File => f instanceof File);
  if (files.length === 0) return errorJson(400, "no files in request");
  if (files.some((f) => f.size > MAX_FILE_BYTES)) return errorJson(413, "file too large");
  const answered: unknown[] = [];
  for (const file of files) {
    const fileId = randomId();
    const uri = `platform-pending:${id}/${fileId}`;
    const mimeType = file.type === "" ? "application/octet-stream" : file.type;
    const bytes = new Uint8Array(await file.arrayBuffer());
    model.uploads.push({
      workspace_id: id,
      file_id: fileId,
      uri,
      name: file.name,
      mimeType,
      size: bytes.length,
      bytes,
    });
    answered.push({ uri, name: file.name, mimeType, size: bytes.length });
  }
  return json(200, { files: answered });
}
