/**
 * Memory routes of the fake platform (contract §11): write with scope rules, and search by
 * scope, namespace and text. Full-text ranking is approximated by a case-insensitive substring
 * match, newest first; secret redaction is not modelled.
 */
import type { Ctx } from "./fake_platform_context.ts";
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

/** POST /workspaces/:id/memories. */
export function writeMemory({ model, req }: Ctx): Response {
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
    namespace,
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
  return json(201, { id: memory.id, scope: memory.scope, namespace });
}

/** GET /workspaces/:id/memories. */
export function searchMemories({ model, req }: Ctx): Response {
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
