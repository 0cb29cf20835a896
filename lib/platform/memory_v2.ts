/**
 * Recalling memories on a memory-v2 platform (upstream-latest §2 L): the readable namespaces
 * from GET /workspaces/:self/v2/namespaces, then GET …/v2/memories?namespace=&q=&limit=. On a
 * platform without v2 (gin's 404 on the namespaces route) the recall falls back to the v1
 * search of platform/memory.ts, whose `q` and `scope` a v2 platform's shim would ignore.
 */
import { isRecord } from "../json_object.ts";
import { compareTimestamps } from "../timestamps.ts";
import { expectObject, expectOk, isRouteMissing, keepParsed, malformed } from "./answer.ts";
import type { CallOptions, PlatformHttp } from "./http.ts";
import { platformRoute } from "./route.ts";
import {
  MEMORY_TIMEOUT_MS,
  memoryNextSteps,
  SEARCH_MAX_BODY_BYTES,
  searchMemory,
} from "./memory.ts";
import type { MemoryRow, MemoryScope } from "./rows.ts";

/** One memory namespace as the platform lists it. */
export interface MemoryNamespace {
  name: string;
  kind: string;
  label: string;
}

/** The v2 search's largest page (§2 L: limit ≤ 100). */
export const V2_RECALL_LIMIT = 100;

/**
 * Searches memories for `query` (trimmed; empty = everything) in `scope` (absent = every
 * readable namespace), newest first. Uses v2 when the platform has it, else v1; `source` says
 * which answered. Throws PlatformError on a refusal (a 503 without the memory plugin comes with
 * its own next step).
 */
export async function recallMemories(
  http: PlatformHttp,
  args: { query: string; scope?: MemoryScope | undefined; opts?: CallOptions | undefined },
): Promise<{ rows: MemoryRow[]; source: "v2" | "v1" }> {
  const namespaces = await listNamespaces(http, args.opts);
  if (namespaces === null) {
    const rows = await searchMemory(http, {
      query: args.query,
      scope: args.scope,
      opts: args.opts,
    });
    return { rows, source: "v1" };
  }
  const wanted = args.scope === undefined
    ? [undefined]
    : namespaces.filter((n) => scopeOfNamespace(n) === args.scope).map((n) => n.name);
  const rows: MemoryRow[] = [];
  for (const namespace of wanted) {
    rows.push(...await searchV2(http, { query: args.query, namespace, opts: args.opts }));
  }
  // By instant, not text: Go trims the fraction's zeros and may write an offset.
  rows.sort((a, b) => compareTimestamps(b.createdAt, a.createdAt));
  return { rows: rows.slice(0, V2_RECALL_LIMIT), source: "v2" };
}

/**
 * The namespaces this workspace may read, or null when the platform predates memory v2.
 */
export async function listNamespaces(
  http: PlatformHttp,
  opts?: CallOptions,
): Promise<MemoryNamespace[] | null> {
  const route = platformRoute("GET /workspaces/:id/v2/namespaces", { id: http.workspaceId });
  const { endpoint } = route;
  const answer = await http.request({
    route,
    timeoutMs: MEMORY_TIMEOUT_MS,
    opts,
  });
  if (isRouteMissing(answer)) return null;
  const body = expectObject(endpoint, expectOk(endpoint, answer, memoryNextSteps(answer)));
  if (!Array.isArray(body.readable)) throw malformed(endpoint, answer, "{readable:[…]}");
  return keepParsed(body.readable, parseNamespace);
}

/**
 * The scope a namespace stands for: kind (or name prefix) `workspace` → LOCAL, `team` → TEAM,
 * `org` or `global` → GLOBAL; undefined for anything else.
 */
export function scopeOfNamespace(
  ns: Pick<MemoryNamespace, "name" | "kind">,
): MemoryScope | undefined {
  const key = (ns.kind !== "" ? ns.kind : ns.name.split(":")[0] ?? "").toLowerCase();
  if (key === "workspace") return "LOCAL";
  if (key === "team") return "TEAM";
  if (key === "org" || key === "global") return "GLOBAL";
  return undefined;
}

async function searchV2(
  http: PlatformHttp,
  args: { query: string; namespace: string | undefined; opts?: CallOptions | undefined },
): Promise<MemoryRow[]> {
  const params = new URLSearchParams({ limit: String(V2_RECALL_LIMIT) });
  const q = args.query.trim();
  if (q !== "") params.set("q", q);
  if (args.namespace !== undefined) params.set("namespace", args.namespace);
  const route = platformRoute("GET /workspaces/:id/v2/memories", { id: http.workspaceId });
  const { endpoint } = route;
  const answer = await http.request({
    route,
    query: params,
    timeoutMs: MEMORY_TIMEOUT_MS,
    opts: args.opts,
    maxBodyBytes: SEARCH_MAX_BODY_BYTES, // as v1: a page of memories of any length
    nextWhenTooLarge: "search with a narrower query or one namespace",
  });
  const body = expectObject(endpoint, expectOk(endpoint, answer, memoryNextSteps(answer)));
  if (!Array.isArray(body.memories)) throw malformed(endpoint, answer, "{memories:[…]}");
  return keepParsed(body.memories, parseV2Memory);
}

function parseNamespace(raw: unknown): MemoryNamespace | null {
  if (!isRecord(raw) || typeof raw.name !== "string" || raw.name === "") return null;
  return {
    name: raw.name,
    kind: typeof raw.kind === "string" ? raw.kind : "",
    label: typeof raw.label === "string" ? raw.label : "",
  };
}

/** A v2 memory; its scope comes from the row, else from its namespace. */
function parseV2Memory(raw: unknown): MemoryRow | null {
  if (!isRecord(raw) || typeof raw.id !== "string" || typeof raw.content !== "string") {
    return null;
  }
  const namespace = typeof raw.namespace === "string" ? raw.namespace : "";
  const scope = typeof raw.scope === "string" && raw.scope !== ""
    ? raw.scope
    : scopeOfNamespace({ name: namespace, kind: "" }) ?? "";
  return {
    id: raw.id,
    workspaceId: typeof raw.workspace_id === "string" ? raw.workspace_id : "",
    content: raw.content,
    scope,
    namespace,
    createdAt: typeof raw.created_at === "string" ? raw.created_at : "",
  };
}
