/**
 * chat_history: the recent exchange with one peer workspace, oldest first (upstream
 * 09e99a09), so an agent can answer "what did this peer ask me last hour?". The request is
 * platform/history.ts's job; this module shapes rows for the model and keeps peer text inside
 * the trust boundary.
 */
import { isRecord } from "../json_object.ts";
import { cutCodePoints, ELLIPSIS } from "../text.ts";
import { extractText, parseActivityRow } from "../inbox/activity_row.ts";
import type { ToolDeps } from "./context.ts";
import { readWorkspaceId } from "./ids.ts";
import { escapePeerText, peerLabel } from "./trust_boundary.ts";
import { toolError, toolJson, type ToolSpec } from "../mcp/tool_spec.ts";

/** Upstream's default page. */
export const DEFAULT_HISTORY_LIMIT = 20;
/** The platform's cap on one activity page (contract §5). */
export const MAX_HISTORY_LIMIT = 500;
/** Text kept per entry, in code points: 500 entries stay a readable result. */
const MAX_ENTRY_TEXT = 2_000;

/** The chat_history tool. */
export const chatHistory: ToolSpec<ToolDeps> = {
  name: "chat_history",
  title: "Show the conversation with a peer",
  description: "Show the recent messages exchanged with one peer workspace, oldest first: " +
    "what it sent you and what you sent it. Use it to recall earlier turns before answering. " +
    "Returns a JSON list of {id, created_at, activity_type, method, source_id, target_id, " +
    "status, summary, text} ([] when there is none). To page further back, call again with " +
    "before_ts set to the created_at of the oldest entry you have.",
  inputSchema: {
    type: "object",
    properties: {
      peer_id: {
        type: "string",
        description: "ID (UUID) of the peer workspace, as list_peers or a message shows it",
      },
      limit: {
        type: "integer",
        minimum: 1,
        maximum: MAX_HISTORY_LIMIT,
        default: DEFAULT_HISTORY_LIMIT,
        description: "How many of the most recent entries to return (1 to 500, default 20)",
      },
      before_ts: {
        type: "string",
        description: "Only entries created before this RFC 3339 time, e.g. " +
          "2026-05-01T10:00:00Z (for paging backwards)",
      },
    },
    required: ["peer_id"],
    additionalProperties: false,
  },
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: true },
  async handler(args, ctx) {
    const peer = readWorkspaceId(args.peer_id, "peer_id");
    if (!peer.ok) return peer.result;
    const limit = typeof args.limit === "number" ? args.limit : DEFAULT_HISTORY_LIMIT;
    const beforeTs = typeof args.before_ts === "string" && args.before_ts.trim() !== ""
      ? args.before_ts.trim()
      : undefined;
    if (beforeTs !== undefined && Number.isNaN(Date.parse(beforeTs))) {
      return toolError(
        `before_ts must be an RFC 3339 time: got "${cutCodePoints(beforeTs, 40)}"`,
        "pass a time such as 2026-05-01T10:00:00Z, or the created_at of an entry",
      );
    }
    const rows = await ctx.platform.listPeerHistory(
      { peerId: peer.id, limit, beforeTs },
      { signal: ctx.signal },
    );
    // The platform sends newest first; the agent reads a conversation oldest first.
    return toolJson(rows.map(toEntry).filter((e) => e !== null).reverse());
  },
};

/**
 * One history entry; the peer-written texts are escaped and cut, the other platform strings
 * made one safe token each (trust_boundary peerLabel: the sanitiser and a length cap).
 */
function toEntry(raw: unknown): Record<string, unknown> | null {
  const row = parseActivityRow(raw);
  if (row === null) return null;
  const targetId = isRecord(raw) && typeof raw.target_id === "string" ? raw.target_id : "";
  return {
    id: row.id,
    created_at: row.created_at,
    activity_type: peerLabel(row.activity_type, ""),
    method: peerLabel(row.method, ""),
    source_id: peerLabel(row.source_id, ""),
    target_id: peerLabel(targetId, ""),
    status: peerLabel(row.status, ""),
    summary: peerText(row.summary),
    text: peerText(extractText(row)),
  };
}

/**
 * Someone else's text: injection escaping (which runs the one sanitiser first), then the
 * per-entry cut.
 */
function peerText(text: string): string {
  return cutCodePoints(escapePeerText(text), MAX_ENTRY_TEXT, ELLIPSIS);
}
