/**
 * The workspace's shared memory: POST and GET /workspaces/:self/memories (contract §11; on
 * memory-v2 platforms the POST answers 201 {id, scope, namespace} and the GET is a shim,
 * upstream-latest §2 L; the v2 search is platform/memory_v2.ts). Redacting secrets from
 * content and the GLOBAL tier gate are the commit_memory tool's job.
 */
import {
  type Answer,
  expectArray,
  expectObject,
  expectOk,
  keepParsed,
  malformed,
  type NextSteps,
} from "./answer.ts";
import type { CallOptions, PlatformHttp } from "./http.ts";
import { platformRoute } from "./route.ts";
import { type MemoryRow, type MemoryScope, parseMemoryRow } from "./rows.ts";

/** POST /memories answer. */
export interface StoredMemory {
  id: string;
  scope: string;
  namespace: string;
}

/** Memory calls: upstream's 10 s. */
export const MEMORY_TIMEOUT_MS = 10_000;

/**
 * Next steps for memory refusals. A memory-v2 platform whose memory plugin is not set up
 * answers 503 `memory plugin is not configured (set MEMORY_PLUGIN_URL)` to every memory call:
 * no retry helps, an administrator must configure it.
 */
export function memoryNextSteps(answer: Answer, extra: NextSteps = {}): NextSteps {
  const error = answer.body !== null && typeof answer.body === "object" && "error" in answer.body
    ? String(answer.body.error)
    : "";
  if (answer.status === 503 && error.startsWith("memory plugin is not configured")) {
    return {
      ...extra,
      503: "the platform's memory service is not set up (MEMORY_PLUGIN_URL on the platform): " +
        "ask an administrator to configure it; until then memories can be neither saved nor " +
        "recalled, so keep what matters in your own notes",
    };
  }
  return extra;
}

/**
 * Body cap for a memory search: at most 50 rows (contract §11) whose content has no set limit;
 * 16 MiB holds 50 memories of 300 KB, far beyond notes an agent writes.
 */
export const SEARCH_MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Stores `content` in `scope`. Throws RangeError for empty content. */
export async function commitMemory(
  http: PlatformHttp,
  args: { content: string; scope: MemoryScope; opts?: CallOptions | undefined },
): Promise<StoredMemory> {
  if (args.content.trim() === "") throw new RangeError("content is empty: nothing to remember");
  const route = platformRoute("POST /workspaces/:id/memories", { id: http.workspaceId });
  const { endpoint } = route;
  const answer = await http.request({
    route,
    json: { content: args.content, scope: args.scope },
    timeoutMs: MEMORY_TIMEOUT_MS,
    opts: args.opts,
  });
  const body = expectObject(
    endpoint,
    expectOk(
      endpoint,
      answer,
      memoryNextSteps(answer, {
        403: "only root workspaces can write GLOBAL memories; use TEAM or LOCAL",
      }),
    ),
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
  const route = platformRoute("GET /workspaces/:id/memories", { id: http.workspaceId });
  const { endpoint } = route;
  const answer = await http.request({
    route,
    query: params,
    timeoutMs: MEMORY_TIMEOUT_MS,
    opts: args.opts,
    maxBodyBytes: SEARCH_MAX_BODY_BYTES,
    nextWhenTooLarge: "search with a narrower query or a single scope",
  });
  return keepParsed(
    expectArray(endpoint, expectOk(endpoint, answer, memoryNextSteps(answer))),
    parseMemoryRow,
  );
}
