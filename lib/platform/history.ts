/**
 * The conversation with one peer: GET /workspaces/:self/activity?peer_id=…&limit=…&before_ts=…
 * (contract §16; upstream chat_history 09e99a09). Every activity type is asked for, so what
 * this workspace sent and what it received both show. Turning rows into what the agent reads
 * is the chat_history tool's job.
 */
import { isRecord } from "../json_object.ts";
import { expectArray, expectOk } from "./answer.ts";
import { type CallOptions, type PlatformHttp, requireRfc3339, requireUuid } from "./http.ts";
import { platformRoute } from "./route.ts";
import { ACTIVITY_MAX_BODY_BYTES } from "./registry.ts";

/** What chat_history asks for. */
export interface HistoryQuery {
  /** The peer workspace (UUID). */
  peerId: string;
  /** 1…500 rows. */
  limit: number;
  /** RFC 3339: only rows created before it (paging backwards). */
  beforeTs?: string | undefined;
}

const HISTORY_TIMEOUT_MS = 10_000;

/**
 * The raw rows exchanged with `peerId`, newest first as the platform sends them. A platform
 * older than the `peer_id` filter ignores it and answers every row: rows whose source_id and
 * target_id are both other than the peer are dropped here, so the answer is right either way.
 * Throws RangeError for a bad id, limit or time before any request; PlatformError on a
 * refusal (400 carries the platform's own text).
 */
export async function listPeerHistory(
  http: PlatformHttp,
  query: HistoryQuery,
  opts?: CallOptions,
): Promise<unknown[]> {
  const peerId = requireUuid(query.peerId, "peer_id");
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > 500) {
    throw new RangeError(`limit must be an integer from 1 to 500: got ${query.limit}`);
  }
  const params = new URLSearchParams({ peer_id: peerId, limit: String(query.limit) });
  if (query.beforeTs !== undefined) {
    params.set("before_ts", requireRfc3339(query.beforeTs, "before_ts"));
  }
  const route = platformRoute("GET /workspaces/:id/activity", { id: http.workspaceId });
  const { endpoint } = route;
  const answer = await http.request({
    route,
    query: params,
    timeoutMs: HISTORY_TIMEOUT_MS,
    opts,
    // The same feed as the inbox, up to 500 rows a page: the same cap.
    maxBodyBytes: ACTIVITY_MAX_BODY_BYTES,
    nextWhenTooLarge: "ask for fewer messages at a time (a smaller limit)",
  });
  const rows = expectArray(
    endpoint,
    expectOk(endpoint, answer, {
      400: "check peer_id (a workspace UUID) and before_ts (an RFC 3339 time)",
    }),
  );
  return rows.filter((row) =>
    isRecord(row) && (parseId(row.source_id) === peerId || parseId(row.target_id) === peerId)
  );
}

function parseId(value: unknown): string | null {
  return typeof value === "string" ? value.toLowerCase() : null;
}
