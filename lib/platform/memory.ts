/**
 * The workspace's shared memory: POST and GET /workspaces/:self/memories (contract §11).
 * Redacting secrets from content and the GLOBAL tier gate are the commit_memory tool's job.
 */
import { expectArray, expectObject, expectOk, keepParsed, malformed } from "./answer.ts";
import type { CallOptions, PlatformHttp } from "./http.ts";
import { type MemoryRow, type MemoryScope, parseMemoryRow } from "./rows.ts";

/** POST /memories answer. */
export interface StoredMemory {
  id: string;
  scope: string;
  namespace: string;
}

const MEMORY_TIMEOUT_MS = 10_000;
/**
 * Body cap for a memory search: at most 50 rows (contract §11) whose content has no set limit;
 * 16 MiB holds 50 memories of 300 KB, far beyond notes an agent writes.
 */
const SEARCH_MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Stores `content` in `scope`. Throws RangeError for empty content. */
export async function commitMemory(
  http: PlatformHttp,
  args: { content: string; scope: MemoryScope; opts?: CallOptions | undefined },
): Promise<StoredMemory> {
  if (args.content.trim() === "") throw new RangeError("content is empty: nothing to remember");
  const endpoint = "POST /workspaces/:id/memories";
  const answer = await http.request({
    method: "POST",
    template: "/workspaces/:id/memories",
    path: `/workspaces/${http.workspaceId}/memories`,
    json: { content: args.content, scope: args.scope },
    timeoutMs: MEMORY_TIMEOUT_MS,
    opts: args.opts,
  });
  const body = expectObject(
    endpoint,
    expectOk(endpoint, answer, {
      403: "only root workspaces can write GLOBAL memories; use TEAM or LOCAL",
    }),
  );
  if (typeof body.id !== "string") throw malformed(endpoint, answer, "an object with an id");
  return {
    id: body.id,
    scope: typeof body.scope === "string" ? body.scope : args.scope,
    namespace: typeof body.namespace === "string" ? body.namespace : "",
  };
}

/**
 * Searches memories: `query` (trimmed; empty = everything), `scope` (absent = this
 * workspace's own). Rows without an id or content are dropped.
 */
export async function searchMemory(
  http: PlatformHttp,
  args: {
    query?: string | undefined;
    scope?: MemoryScope | undefined;
    opts?: CallOptions | undefined;
  },
): Promise<MemoryRow[]> {
  const params = new URLSearchParams();
  const q = (args.query ?? "").trim();
  if (q !== "") params.set("q", q);
  if (args.scope !== undefined) params.set("scope", args.scope);
  const endpoint = "GET /workspaces/:id/memories";
  const answer = await http.request({
    method: "GET",
    template: "/workspaces/:id/memories",
    path: `/workspaces/${http.workspaceId}/memories`,
    query: params,
    timeoutMs: MEMORY_TIMEOUT_MS,
    opts: args.opts,
    maxBodyBytes: SEARCH_MAX_BODY_BYTES,
    nextWhenTooLarge: "search with a narrower query or a single scope",
  });
  return keepParsed(expectArray(endpoint, expectOk(endpoint, answer)), parseMemoryRow);
}
