/**
 * Registry and workspace-info routes of the fake platform: register (§2), heartbeat (§3),
 * update-card (§4), discover and peers (§12), and the open GET /workspaces/:id (§13).
 */
import { grandfatheredAuth } from "./fake_platform_auth.ts";
import type { Ctx } from "./fake_platform_context.ts";
import {
  canonicalUuid,
  errorJson,
  formatTimestamp,
  isRecord,
  json,
  randomToken,
  readJson,
} from "./fake_platform_http.ts";
import type { WorkspaceRecord } from "./fake_platform_model.ts";

/** POST /registry/register. */
export function register({ model, req }: Ctx): Response {
  const parsed = readJson(req.raw);
  const body = parsed.ok ? parsed.value : undefined;
  if (!isRecord(body) || typeof body.id !== "string" || body.id === "" || !("agent_card" in body)) {
    return errorJson(400, "invalid request body");
  }
  const mode = body.delivery_mode ?? "";
  if (mode !== "" && mode !== "push" && mode !== "poll") {
    return errorJson(400, "delivery_mode must be 'push' or 'poll'");
  }
  const url = body.url ?? "";
  if (typeof url !== "string") return errorJson(400, "invalid request body");
  // Postgres compares UUIDs by value, and a non-UUID id fails inside the upsert.
  const id = canonicalUuid(body.id);
  if (id === null) return errorJson(500, "registration failed");
  const denied = grandfatheredAuth(model, id, req.headers, "workspace");
  if (denied !== null) return denied;

  const existing = model.workspace(id);
  const effective = mode !== ""
    ? mode
    : existing?.delivery_mode ?? (existing?.runtime === "external" ? "poll" : "push");
  if (effective === "push") {
    if (url === "") return errorJson(400, "url is required for push-mode workspaces");
    const blocked = ssrfProblem(url);
    if (blocked !== null) return errorJson(400, blocked);
  }

  const ws = existing ?? model.createWorkspace({ id, name: id, status: "online" });
  if (ws.status !== "removed") {
    ws.status = "online";
    ws.last_heartbeat_ms = model.clock.now();
    ws.agent_card = body.agent_card;
    ws.delivery_mode = effective;
    if (effective === "push" && !ws.url.startsWith("http://127.0.0.1")) ws.url = url;
    model.touch(ws);
  }
  // A removed row has no live token, so it gets a fresh (useless) one: contract §2 edge case.
  const mintToken = !model.hasLiveToken(id);
  const reply: Record<string, unknown> = { status: "registered", delivery_mode: effective };
  if (mintToken) reply.auth_token = model.mintToken(id);
  ws.platform_inbound_secret ??= randomToken();
  reply.platform_inbound_secret = ws.platform_inbound_secret;
  model.registrations.push({ workspace_id: id, body, minted_token: mintToken });
  return json(200, reply);
}

/**
 * A reduced form of the push-URL SSRF check: http(s) only, `localhost` allowed by name, IP
 * literals in blocked ranges refused. Hostnames are not resolved (tests have no DNS).
 */
function ssrfProblem(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    if (err instanceof TypeError) return `invalid url: ${url}`;
    throw err;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return `url scheme must be http or https: ${parsed.protocol}`;
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  const blocked =
    /^(127\.|10\.|169\.254\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.|192\.0\.2\.|198\.51\.100\.|203\.0\.113\.|2[2-3]\d\.|0\.)/;
  if (blocked.test(host) || host === "::1" || /^f[cd]|^fe80|^2001:db8/i.test(host)) {
    return `url targets a blocked address: ${host}`;
  }
  return null;
}

const HEARTBEAT_NUMBERS = ["error_rate", "active_tasks", "uptime_seconds", "monthly_spend"];
const HEARTBEAT_STRINGS = ["sample_error", "current_task", "runtime_state"];

/** POST /registry/heartbeat: never 404s; unknown and removed workspaces get 200 too. */
export function heartbeat({ model, req, settings }: Ctx): Response {
  const parsed = readJson(req.raw);
  const body = parsed.ok ? parsed.value : undefined;
  if (!isRecord(body) || typeof body.workspace_id !== "string" || body.workspace_id === "") {
    return errorJson(400, "invalid request body");
  }
  const badType = HEARTBEAT_NUMBERS.some((k) => k in body && typeof body[k] !== "number") ||
    HEARTBEAT_STRINGS.some((k) => k in body && typeof body[k] !== "string") ||
    ("runtime_metadata" in body && body.runtime_metadata !== null &&
      !isRecord(body.runtime_metadata));
  if (badType) return errorJson(400, "invalid request body");
  const id = canonicalUuid(body.workspace_id);
  if (id === null) return errorJson(500, "failed to update");
  const denied = grandfatheredAuth(model, id, req.headers, "workspace");
  if (denied !== null) return denied;

  model.heartbeats.push({ workspace_id: id, body });
  const ws = model.workspace(id);
  const reply: Record<string, unknown> = { status: "ok" };
  if (ws === undefined || ws.status === "removed") return json(200, reply);
  ws.last_heartbeat_ms = model.clock.now();
  if (typeof body.active_tasks === "number") ws.active_tasks = body.active_tasks;
  if (typeof body.uptime_seconds === "number") ws.uptime_seconds = body.uptime_seconds;
  if (typeof body.error_rate === "number") ws.last_error_rate = body.error_rate;
  if (typeof body.current_task === "string") ws.current_task = body.current_task;
  ws.status = nextStatus(ws.status, body);
  model.touch(ws);
  // The workspace's own heartbeat is the only keep-alive its event stream gets (§14.1).
  model.events.publish(id, "WORKSPACE_HEARTBEAT", { uptime_seconds: ws.uptime_seconds });
  if (settings.heartbeatIncludesSecret && ws.platform_inbound_secret !== null) {
    reply.platform_inbound_secret = ws.platform_inbound_secret;
  }
  return json(200, reply);
}

/** evaluateStatus (contract §3), for an adapter that does not declare status_mgmt. */
function nextStatus(current: string, body: Record<string, unknown>): string {
  const errorRate = typeof body.error_rate === "number" ? body.error_rate : 0;
  const wedged = body.runtime_state === "wedged";
  switch (current) {
    case "online":
      return wedged || errorRate >= 0.5 ? "degraded" : "online";
    case "degraded":
      return errorRate < 0.1 && (body.runtime_state ?? "") === "" ? "online" : "degraded";
    case "offline":
    case "provisioning":
    case "awaiting_agent":
      return "online";
    default:
      return current;
  }
}

/** POST /registry/update-card: no existence check, so an unknown ID still gets 200. */
export function updateCard({ model, req }: Ctx): Response {
  const parsed = readJson(req.raw);
  const body = parsed.ok ? parsed.value : undefined;
  if (
    !isRecord(body) || typeof body.workspace_id !== "string" || body.workspace_id === "" ||
    !("agent_card" in body)
  ) {
    return errorJson(400, "invalid request body");
  }
  const id = canonicalUuid(body.workspace_id);
  if (id === null) return errorJson(500, "failed to update card");
  const denied = grandfatheredAuth(model, id, req.headers, "workspace");
  if (denied !== null) return denied;
  const ws = model.workspace(id);
  if (ws !== undefined) {
    ws.agent_card = body.agent_card;
    model.touch(ws);
  }
  return json(200, { status: "updated" });
}

/** GET /registry/discover/:id. */
export function discover({ model, req }: Ctx): Response {
  const caller = req.headers.get("x-workspace-id") ?? "";
  if (caller === "") return errorJson(400, "X-Workspace-ID header is required");
  const denied = grandfatheredAuth(model, caller, req.headers, "workspace");
  if (denied !== null) return denied;
  const targetId = req.params.id ?? "";
  if (!model.canCommunicate(caller, targetId)) {
    return errorJson(403, "not authorized to discover this workspace");
  }
  const target = model.workspace(targetId);
  if (target === undefined) return errorJson(404, "workspace not found");
  let url = target.url;
  if (url === "") {
    if (target.status !== "online" && target.status !== "degraded") {
      return errorJson(503, "workspace not available", { status: target.status });
    }
    url = `http://ws-${target.id.slice(0, 12)}:8000`;
  }
  return json(200, { id: target.id, url, name: target.name });
}

/** GET /registry/:id/peers: siblings, then children, then the parent; removed rows excluded. */
export function peers({ model, req }: Ctx): Response {
  const id = req.params.id ?? "";
  const denied = grandfatheredAuth(model, id, req.headers, "workspace");
  if (denied !== null) return denied;
  const self = model.workspace(id);
  if (self === undefined) return errorJson(404, "workspace not found");
  const live = model.allWorkspaces().filter((w) => w.status !== "removed" && w.id !== id);
  const byName = (a: WorkspaceRecord, b: WorkspaceRecord) => a.name.localeCompare(b.name);
  const siblings = live.filter((w) => w.parent_id === self.parent_id).sort(byName);
  const children = live.filter((w) => w.parent_id === id).sort(byName);
  const parent = live.filter((w) => w.id === self.parent_id);
  let list = [...siblings, ...children, ...parent];
  // The later fix: a null role simply does not match (c636022d panicked here, see §12).
  const q = (req.url.searchParams.get("q") ?? "").toLowerCase();
  if (q !== "") {
    list = list.filter((w) =>
      w.name.toLowerCase().includes(q) || (w.role ?? "").toLowerCase().includes(q)
    );
  }
  return json(200, list.map(peerJson));
}

function peerJson(w: WorkspaceRecord): Record<string, unknown> {
  return {
    id: w.id,
    name: w.name,
    role: w.role,
    tier: w.tier,
    status: w.status,
    agent_card: w.agent_card,
    url: "",
    parent_id: w.parent_id,
    active_tasks: w.active_tasks,
  };
}

/** GET /workspaces/:id: an open route; a removed workspace is 410 unless include_removed=true. */
export function workspaceInfo({ model, req }: Ctx): Response {
  const id = canonicalUuid(req.params.id ?? "");
  if (id === null) return errorJson(400, "invalid workspace ID");
  const ws = model.workspace(id);
  if (ws === undefined) return errorJson(404, "workspace not found");
  if (ws.status === "removed" && req.url.searchParams.get("include_removed") !== "true") {
    return json(410, removedBody(ws));
  }
  return json(200, workspaceJson(ws));
}

/** The 410 body of GET /workspaces/:id for a removed workspace (contract §13). */
export function removedBody(
  ws: Pick<WorkspaceRecord, "id" | "updated_at_us">,
): Record<string, unknown> {
  return {
    error: "workspace removed",
    id: ws.id,
    hint: "Regenerate workspace + token from the canvas → Tokens tab",
    removed_at: formatTimestamp(ws.updated_at_us),
  };
}

function workspaceJson(w: WorkspaceRecord): Record<string, unknown> {
  return {
    id: w.id,
    name: w.name,
    role: w.role,
    tier: w.tier,
    status: w.status,
    url: w.url,
    parent_id: w.parent_id,
    agent_card: w.agent_card,
    active_tasks: w.active_tasks,
    max_concurrent_tasks: 1,
    last_error_rate: w.last_error_rate,
    uptime_seconds: w.uptime_seconds,
    runtime: w.runtime ?? "langgraph",
    x: 0,
    y: 0,
    collapsed: false,
    last_outbound_at: null,
    broadcast_enabled: w.broadcast_enabled,
    talk_to_user_enabled: w.talk_to_user_enabled,
  };
}
