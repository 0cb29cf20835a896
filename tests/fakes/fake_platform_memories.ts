/**
 * Memory routes of the fake platform (contract §11): write with scope rules, and search by
 * scope, namespace and text. Full-text ranking is approximated by a case-insensitive substring
 * match, newest first; secret redaction is not modelled. On the "latest" release (memory v2,
 * upstream-latest §2 L) writes land in plugin namespaces (`workspace:<id>`, `team:<id>`,
 * `org`), the v1 search is a shim that ignores `q` and `scope`, /v2/namespaces and
 * /v2/memories exist, and everything answers 503 when the memory plugin is not configured.
 */
import { type Ctx, hasRelease } from "./fake_platform_context.ts";
import {
  errorJson,
  formatTimestamp,
  isRecord,
  json,
  parseGoInt,
  randomId,
  readJson,
} from "./fake_platform_http.ts";
import type { MemoryRecord, PlatformModel, WorkspaceRecord } from "./fake_platform_model.ts";

const SCOPES = ["LOCAL", "TEAM", "GLOBAL"] as const;
const MAX_NAMESPACE = 50;
const MAX_LIMIT = 50;

function isScope(value: unknown): value is MemoryRecord["scope"] {
  return SCOPES.some((s) => s === value);
}

const NO_PLUGIN = "memory plugin is not configured (set MEMORY_PLUGIN_URL)";

function isV2(ctx: Ctx): boolean {
  return hasRelease(ctx.settings.version, "latest");
}

/** The v2 namespace a memory of `scope` written by `self` lands in. */
function namespaceFor(model: PlatformModel, selfId: string, scope: MemoryRecord["scope"]) {
  if (scope === "LOCAL") return `workspace:${selfId}`;
  if (scope === "GLOBAL") return "org";
  return `team:${model.workspace(selfId)?.parent_id ?? selfId}`;
}

/** POST /workspaces/:id/memories. */
export function writeMemory(ctx: Ctx): Response {
  const { model, req } = ctx;
  if (isV2(ctx) && !ctx.settings.memoryPluginConfigured) return errorJson(503, NO_PLUGIN);
  const id = req.params.id ?? "";
  const parsed = readJson(req.raw);
  const body = parsed.ok ? parsed.value : undefined;
  if (
    !isRecord(body) || typeof body.content !== "string" || body.content === "" ||
    typeof body.scope !== "string" || body.scope === "" ||
    (body.namespace != null && typeof body.namespace !== "string")
  ) {
    return errorJson(400, "invalid request body");
  }
  if (!isScope(body.scope)) return errorJson(400, "scope must be LOCAL, TEAM, or GLOBAL");
  const namespace = typeof body.namespace === "string" && body.namespace !== ""
    ? body.namespace
    : "general";
  if (namespace.length > MAX_NAMESPACE) {
    return errorJson(400, "namespace must be <= 50 characters");
  }
  const self = model.workspace(id);
  if (body.scope === "GLOBAL" && self?.parent_id !== null) {
    return errorJson(403, "only root workspaces can write GLOBAL memories");
  }
  const atUs = model.stampUs();
  const memory: MemoryRecord = {
    id: randomId(),
    workspace_id: id,
    content: body.content,
    scope: body.scope,
    namespace: isV2(ctx) ? namespaceFor(model, id, body.scope) : namespace,
    created_at: formatTimestamp(atUs),
    atUs,
  };
  model.memories.push(memory);
  if (memory.scope === "GLOBAL") {
    model.insertRow({
      workspace_id: id,
      activity_type: "memory_write_global",
      source_id: id,
      summary: `GLOBAL memory written (namespace ${namespace})`,
      request_body: { memory_id: memory.id, namespace },
    });
  }
  return json(201, { id: memory.id, scope: memory.scope, namespace: memory.namespace });
}

/** GET /workspaces/:id/memories. */
export function searchMemories(ctx: Ctx): Response {
  const { model, req } = ctx;
  if (isV2(ctx)) return searchShim(ctx);
  const id = req.params.id ?? "";
  const q = req.url.searchParams;
  const scope = q.get("scope") ?? "";
  const text = (q.get("q") ?? "").toLowerCase();
  const namespace = q.get("namespace") ?? "";
  const asked = parseGoInt(q.get("limit") ?? "");
  const limit = asked === null || asked <= 0 ? MAX_LIMIT : Math.min(asked, MAX_LIMIT);
  const self = model.workspace(id);
  let visible: (m: MemoryRecord) => boolean;
  if (scope === "LOCAL") visible = (m) => m.workspace_id === id && m.scope === "LOCAL";
  else if (scope === "GLOBAL") visible = (m) => m.scope === "GLOBAL";
  else if (scope === "TEAM") {
    const team = self === undefined ? [id] : teamOf(model, self);
    visible = (m) => m.scope === "TEAM" && team.includes(m.workspace_id);
  } else visible = (m) => m.workspace_id === id;
  const found = model.memories
    .filter((m) => visible(m) && (namespace === "" || m.namespace === namespace))
    .filter((m) => text === "" || m.content.toLowerCase().includes(text))
    .sort((a, b) => b.atUs - a.atUs)
    .slice(0, limit)
    .map((m) => ({
      id: m.id,
      workspace_id: m.workspace_id,
      content: m.scope === "GLOBAL"
        ? `[MEMORY id=${m.id} scope=GLOBAL from=${m.workspace_id}]: ${m.content}`
        : m.content,
      scope: m.scope,
      namespace: m.namespace,
      created_at: m.created_at,
    }));
  return json(200, found);
}

/** TEAM covers self, siblings and parent; for a root, self and its children (§11). */
function teamOf(model: PlatformModel, self: WorkspaceRecord): string[] {
  const all = model.allWorkspaces();
  const team = self.parent_id === null
    ? all.filter((w) => w.id === self.id || w.parent_id === self.id)
    : all.filter((w) => w.parent_id === self.parent_id || w.id === self.parent_id);
  return team.map((w) => w.id).filter((other) => model.canCommunicate(self.id, other));
}

/** The v2 namespaces `selfId` may read and write. */
function namespacesOf(model: PlatformModel, selfId: string) {
  const self = model.workspace(selfId);
  const readable = [
    { name: `workspace:${selfId}`, kind: "workspace", label: "This workspace" },
    { name: namespaceFor(model, selfId, "TEAM"), kind: "team", label: "Team" },
    { name: "org", kind: "org", label: "Organisation" },
  ];
  const writable = readable.filter((n) => n.kind !== "org" || self?.parent_id === null);
  return { readable, writable };
}

/** The "latest" GET /memories: ignores q and scope, ≤ 50 rows across readable namespaces. */
function searchShim(ctx: Ctx): Response {
  const { model, req } = ctx;
  if (!ctx.settings.memoryPluginConfigured) return errorJson(503, NO_PLUGIN);
  const id = req.params.id ?? "";
  const names = namespacesOf(model, id).readable.map((n) => n.name);
  const rows = model.memories
    .filter((m) => names.includes(m.namespace))
    .sort((a, b) => b.atUs - a.atUs)
    .slice(0, MAX_LIMIT)
    .map((m) => ({ id: m.id, content: m.content, scope: m.scope, created_at: m.created_at }));
  return json(200, rows);
}

/** GET /workspaces/:id/v2/namespaces → {readable, writable}. */
export function listNamespaces(ctx: Ctx): Response {
  if (!ctx.settings.memoryPluginConfigured) return errorJson(503, NO_PLUGIN);
  return json(200, namespacesOf(ctx.model, ctx.req.params.id ?? ""));
}

const V2_MAX_LIMIT = 100;
const V2_KINDS = ["fact", "summary", "checkpoint"];

/** GET /workspaces/:id/v2/memories?namespace&q&kind&limit → {memories}. */
export function searchMemoriesV2(ctx: Ctx): Response {
  const { model, req } = ctx;
  if (!ctx.settings.memoryPluginConfigured) return errorJson(503, NO_PLUGIN);
  const id = req.params.id ?? "";
  const q = req.url.searchParams;
  const kind = q.get("kind") ?? "";
  if (kind !== "" && !V2_KINDS.includes(kind)) {
    return errorJson(400, "kind must be fact, summary or checkpoint");
  }
  const asked = parseGoInt(q.get("limit") ?? "");
  if (asked !== null && (asked <= 0 || asked > V2_MAX_LIMIT)) {
    return errorJson(400, "limit must be between 1 and 100");
  }
  const readable = namespacesOf(model, id).readable.map((n) => n.name);
  const namespace = q.get("namespace") ?? "";
  if (namespace !== "" && !readable.includes(namespace)) {
    return errorJson(403, "namespace not readable by this workspace");
  }
  const names = namespace === "" ? readable : [namespace];
  const text = (q.get("q") ?? "").toLowerCase();
  const memories = model.memories
    .filter((m) => names.includes(m.namespace))
    .filter((m) => text === "" || m.content.toLowerCase().includes(text))
    .sort((a, b) => b.atUs - a.atUs)
    .slice(0, asked ?? 20)
    .map((m) => ({
      id: m.id,
      content: m.content,
      scope: m.scope,
      namespace: m.namespace,
      kind: "fact",
      created_at: m.created_at,
    }));
  return json(200, { memories });
}
