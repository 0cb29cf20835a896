/**
 * The background endpoints: register, heartbeat, the inbox feed and self-reported activity
 * (contract §2, §3, §5, §6). What to do with their answers (escalation, cursor handling) is
 * left to workspace/registration.ts and the inbox poller.
 */
import {
  answerDetail,
  expectArray,
  expectObject,
  expectOk,
  isOk,
  isRouteMissing,
  refusal,
} from "./answer.ts";
import { PlatformError } from "../errors.ts";
import type { Answer } from "./answer.ts";
import {
  type CallOptions,
  CursorGoneError,
  type PlatformHttp,
  requireRfc3339,
  requireUuid,
} from "./http.ts";
import { platformRoute } from "./route.ts";

/** The agent card sent on register (contract §2). */
export interface AgentCard {
  name: string;
  skills: { name: string }[];
  description?: string;
}

/**
 * POST /registry/update-card {workspace_id, agent_card} (contract §4): replaces the card the
 * canvas shows, live. `card` is any JSON object with a non-empty `name` (the agent-card
 * schema requires one, upstream-latest §2 P). Resolves the platform's `status` ("updated").
 * Throws RangeError for a card without a name, PlatformError on a refusal.
 */
export async function updateAgentCard(
  http: PlatformHttp,
  card: Record<string, unknown>,
  opts?: CallOptions,
): Promise<string> {
  if (typeof card.name !== "string" || card.name.trim() === "") {
    throw new RangeError("the agent card needs a non-empty name");
  }
  const route = platformRoute("POST /registry/update-card");
  const { endpoint } = route;
  const answer = await http.request({
    route,
    json: { workspace_id: http.workspaceId, agent_card: card },
    timeoutMs: REGISTRY_TIMEOUT_MS,
    opts,
  });
  const body = expectObject(endpoint, expectOk(endpoint, answer));
  return typeof body.status === "string" ? body.status : "updated";
}

/** What a register or heartbeat answer carries that we keep. */
export interface RegistryAnswer {
  /** The bearer the platform presents when calling into the workspace; persisted for parity. */
  platformInboundSecret?: string;
}

/** The varying part of a heartbeat; the rest of the body is fixed (contract §3). */
export interface HeartbeatReport {
  uptimeSeconds: number;
  /** Shown on the canvas; a change fires TASK_UPDATED. */
  currentTask?: string;
}

/** Filters for the inbox feed. `type=a2a_receive` is always sent. */
export interface ActivityQuery {
  /** Cursor: the id of the last row seen (rows then come oldest first). */
  sinceId?: string;
  /** Backlog window in seconds (rows come newest first without sinceId). */
  sinceSecs?: number;
  /** 1…500; the platform's default is 100. */
  limit?: number;
  /** RFC 3339; only rows created before it. */
  beforeTs?: string;
}

/** Activity types the platform accepts on POST /activity (contract §5). */
export type ActivityType =
  | "a2a_send"
  | "a2a_receive"
  | "task_update"
  | "agent_log"
  | "skill_promotion"
  | "memory_write"
  | "error";

/** A self-reported activity row. `source_id` is left to the platform's default: ourselves. */
export interface ActivityReport {
  activityType: ActivityType;
  method?: string;
  summary?: string;
  targetId?: string;
  status?: "ok" | "error";
  errorDetail?: string;
  durationMs?: number;
  requestBody?: unknown;
  responseBody?: unknown;
}

/** Registry calls and feed polls: upstream's 10 s. */
const REGISTRY_TIMEOUT_MS = 10_000;
/** Activity reports are best-effort; upstream gives them 5 s. */
const REPORT_TIMEOUT_MS = 5_000;
/**
 * Body cap for the inbox feed: a full page is 500 rows, and a row carries a message of up to
 * 1 MiB (the A2A request limit, contract §1.4) plus the proxy's bodies; 500 rows of 100 KB is
 * 50 MB. 64 MiB admits that page; past it the poller asks for smaller pages (inbox/poller.ts).
 */
export const ACTIVITY_MAX_BODY_BYTES = 64 * 1024 * 1024;

/** POST /registry/register as a poll-mode workspace with no URL. */
export async function registerWorkspace(
  http: PlatformHttp,
  card: AgentCard,
  opts?: CallOptions,
): Promise<RegistryAnswer> {
  const route = platformRoute("POST /registry/register");
  const { endpoint } = route;
  const answer = await http.request({
    route,
    json: { id: http.workspaceId, url: "", agent_card: card, delivery_mode: "poll" },
    timeoutMs: REGISTRY_TIMEOUT_MS,
    opts,
    priority: "background",
  });
  return registryAnswer(endpoint, expectOk(endpoint, answer));
}

/** POST /registry/heartbeat with the fixed standalone body plus uptime and current task. */
export async function sendHeartbeat(
  http: PlatformHttp,
  report: HeartbeatReport,
  opts?: CallOptions,
): Promise<RegistryAnswer> {
  const body: Record<string, unknown> = {
    workspace_id: http.workspaceId,
    error_rate: 0,
    sample_error: "",
    active_tasks: 0,
    uptime_seconds: Math.max(0, Math.floor(report.uptimeSeconds)),
  };
  if (report.currentTask !== undefined) body.current_task = report.currentTask;
  const route = platformRoute("POST /registry/heartbeat");
  const { endpoint } = route;
  const answer = await http.request({
    route,
    json: body,
    timeoutMs: REGISTRY_TIMEOUT_MS,
    opts,
    priority: "background",
  });
  return registryAnswer(endpoint, expectOk(endpoint, answer));
}

function registryAnswer(endpoint: string, answer: Answer): RegistryAnswer {
  const secret = expectObject(endpoint, answer).platform_inbound_secret;
  return typeof secret === "string" && secret !== "" ? { platformInboundSecret: secret } : {};
}

/**
 * GET /workspaces/:self/activity?type=a2a_receive. Returns the raw rows (checked to be an
 * array; the inbox parses them). Throws CursorGoneError on 410, RangeError on a bad query.
 */
export async function listActivity(
  http: PlatformHttp,
  query: ActivityQuery,
  opts?: CallOptions,
): Promise<unknown[]> {
  const route = platformRoute("GET /workspaces/:id/activity", { id: http.workspaceId });
  const { endpoint } = route;
  const answer = await http.request({
    route,
    query: activityParams(query),
    timeoutMs: REGISTRY_TIMEOUT_MS,
    opts,
    priority: "background",
    maxBodyBytes: ACTIVITY_MAX_BODY_BYTES,
    nextWhenTooLarge: "the inbox asks for smaller pages on its own; if even one row is this " +
      "large, the platform (or a proxy) is sending something no message can be: check PLATFORM_URL",
  });
  if (answer.status === 410) {
    throw new CursorGoneError(endpoint, 410, {
      next: "forget the saved inbox cursor and read the recent backlog again",
      detail: answerDetail(answer),
    });
  }
  if (!isOk(answer)) throw refusal(endpoint, answer);
  return expectArray(endpoint, answer);
}

/**
 * POST /workspaces/:self/activity/ack {acked_seq} (upstream-latest §2 C): tells the platform
 * every row up to `ackedSeq` is safely stored, so it may prune them after 7 days instead of 30
 * and count unread mail right. Resolves the platform's floor (monotonic; may be higher than
 * sent). Throws RangeError for a negative or non-integer seq; PlatformError otherwise (a
 * platform older than acks answers gin's 404: `isRouteMissing` on the error's status 404).
 */
export async function ackActivity(
  http: PlatformHttp,
  ackedSeq: number,
  opts?: CallOptions,
): Promise<number> {
  if (!Number.isSafeInteger(ackedSeq) || ackedSeq < 0) {
    throw new RangeError(`acked_seq must be a whole number >= 0: got ${ackedSeq}`);
  }
  const route = platformRoute("POST /workspaces/:id/activity/ack", { id: http.workspaceId });
  const { endpoint } = route;
  const answer = await http.request({
    route,
    json: { acked_seq: ackedSeq },
    timeoutMs: REPORT_TIMEOUT_MS,
    opts,
    priority: "background", // the poller's own upkeep, like the poll itself
  });
  if (isRouteMissing(answer)) throw new AckUnsupportedError(endpoint);
  const body = expectObject(endpoint, expectOk(endpoint, answer));
  return typeof body.last_acked_seq === "number" ? body.last_acked_seq : ackedSeq;
}

/** The platform predates acked delivery (gin's 404 on the ack route). */
export class AckUnsupportedError extends PlatformError {
  override name = "AckUnsupportedError";
  constructor(endpoint: string) {
    super(endpoint, 404, {
      next: "nothing to do: this platform predates acked delivery and keeps rows 7 days",
      detail: "the platform does not know this endpoint",
    });
  }
}

/** POST /workspaces/:self/activity. Best-effort for callers: they may ignore its failures. */
export async function reportActivity(
  http: PlatformHttp,
  report: ActivityReport,
  opts?: CallOptions,
): Promise<void> {
  const route = platformRoute("POST /workspaces/:id/activity", { id: http.workspaceId });
  const { endpoint } = route;
  const answer = await http.request({
    route,
    json: activityBody(report),
    timeoutMs: REPORT_TIMEOUT_MS,
    opts,
  });
  expectObject(endpoint, expectOk(endpoint, answer));
}

/** Query for the inbox feed; throws RangeError on a value the platform would 400 or 500 on. */
function activityParams(query: ActivityQuery): URLSearchParams {
  // include=peer_info asks newer platforms to join the sender's name, role and card URL and
  // list attachments (upstream-latest §2 A); older ones ignore the flag.
  const params = new URLSearchParams({ type: "a2a_receive", include: "peer_info" });
  // A non-UUID cursor makes the platform answer 500, not 410 (contract §5).
  if (query.sinceId !== undefined) params.set("since_id", requireUuid(query.sinceId, "sinceId"));
  if (query.sinceSecs !== undefined) {
    if (!Number.isInteger(query.sinceSecs) || query.sinceSecs <= 0) {
      throw new RangeError(`sinceSecs must be a positive integer: got ${query.sinceSecs}`);
    }
    params.set("since_secs", String(query.sinceSecs));
  }
  if (query.limit !== undefined) {
    if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > 500) {
      throw new RangeError(`limit must be an integer from 1 to 500: got ${query.limit}`);
    }
    params.set("limit", String(query.limit));
  }
  if (query.beforeTs !== undefined) {
    params.set("before_ts", requireRfc3339(query.beforeTs, "beforeTs"));
  }
  return params;
}

function activityBody(report: ActivityReport): Record<string, unknown> {
  const body: Record<string, unknown> = { activity_type: report.activityType };
  if (report.method !== undefined) body.method = report.method;
  if (report.summary !== undefined) body.summary = report.summary;
  if (report.targetId !== undefined) body.target_id = requireUuid(report.targetId, "targetId");
  if (report.status !== undefined) body.status = report.status;
  if (report.errorDetail !== undefined) body.error_detail = report.errorDetail;
  if (report.durationMs !== undefined) {
    body.duration_ms = Math.max(0, Math.round(report.durationMs));
  }
  if (report.requestBody !== undefined) body.request_body = report.requestBody;
  if (report.responseBody !== undefined) body.response_body = report.responseBody;
  return body;
}
