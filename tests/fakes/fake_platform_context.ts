/**
 * What every fake-platform handler receives: the model, the platform's settings, the scripted
 * push-mode replies and the request. Also the types tests use to script A2A replies.
 */
import type { Incoming } from "./fake_platform_http.ts";
import type { PlatformModel } from "./fake_platform_model.ts";

/**
 * Which platform release the fake plays. "seed" is c636022d (platform-contract.md §1–§15):
 * no broadcast, no staged uploads, `peer_id`/`before_ts` ignored. "2026-05" adds §16
 * (a053ca6f), the default. "latest" adds upstream-latest.md §2 (enteros-core HEAD): rows carry
 * `seq`, `include=peer_info`, the activity ack, the requests inbox, memory v2 and
 * /uploads/limits. A route newer than the release answers gin's plain-text 404, and a query
 * flag newer than it is ignored, as an older platform does.
 */
export type PlatformVersion = "seed" | "2026-05" | "latest";

/** The releases in order, oldest first. */
export const PLATFORM_VERSIONS: readonly PlatformVersion[] = ["seed", "2026-05", "latest"];

/** True when release `version` has what release `since` introduced. */
export function hasRelease(version: PlatformVersion, since: PlatformVersion): boolean {
  return PLATFORM_VERSIONS.indexOf(version) >= PLATFORM_VERSIONS.indexOf(since);
}

/** Platform behaviour chosen when the fake is created. */
export interface PlatformSettings {
  /** The platform release the fake plays (default "2026-05"). */
  version: PlatformVersion;
  /** MEMORY_PLUGIN_URL set ("latest" only): false makes memory routes answer 503. */
  memoryPluginConfigured: boolean;
  /** Whether POST /registry/heartbeat includes `platform_inbound_secret`. */
  heartbeatIncludesSecret: boolean;
  /** DELEGATION_RESULT_INBOX_PUSH=1 (contract §16): results also land in the caller's inbox. */
  delegationResultInboxPush: boolean;
  /** ADMIN_TOKEN: a bearer that passes WorkspaceAuth for any workspace; null when unset. */
  adminToken: string | null;
  /** CORS_ORIGINS: extra Origins that pass besides the platform's own. */
  corsOrigins: readonly string[];
}

/**
 * How a push-mode target answers one proxied A2A call (contract §8). Poll-mode targets never
 * consult this: they always get the "queued" reply and an inbox row.
 */
export type A2AReply =
  /** 200 JSON-RPC Message whose text is `echo: <text of the request>` (the default). */
  | { kind: "echo" }
  /** 200 JSON-RPC Message with this text in `result.parts`. */
  | { kind: "message"; text: string }
  /** 200 JSON-RPC Task with this text in `result.artifacts[0].parts`. */
  | { kind: "task"; text: string }
  /** 200 JSON-RPC error envelope `{jsonrpc, id, error: {code, message}}`. */
  | { kind: "jsonrpc-error"; code: number; message: string }
  /** 202 `{queued:true, queue_id, queue_depth, message}`: agent busy, request queued. */
  | { kind: "busy-queued"; queueDepth?: number }
  /** 503 `{error:"workspace agent busy — …", busy:true, retry_after:30}` + Retry-After. */
  | { kind: "busy" }
  /** 503 `{error:"workspace agent unreachable — container restart triggered", restarting:true}`. */
  | { kind: "restarting" }
  /** 503 `{error:"workspace has no URL", status}`. */
  | { kind: "no-url" }
  /** 502 `failed to reach workspace agent`. */
  | { kind: "unreachable" }
  /** The agent answered ≥ 300: the platform replaces its body with `{error}`. */
  | { kind: "agent-error"; status: number; error?: string }
  /** Any status and JSON body, passed through as the agent's answer. */
  | { kind: "raw"; status: number; body: unknown };

/** One proxied call, as a reply script sees it. */
export interface A2ACall {
  targetId: string;
  /** The caller workspace, or null for a canvas caller. */
  callerId: string | null;
  /** The normalised JSON-RPC envelope. */
  body: Record<string, unknown>;
  /** Text of the request's message parts joined by newlines ("" when none). */
  text: string;
}

/** A fixed reply, or a function choosing one per call. */
export type A2AScript = A2AReply | ((call: A2ACall) => A2AReply);

/** Everything a handler needs. */
export interface Ctx {
  readonly model: PlatformModel;
  readonly settings: PlatformSettings;
  readonly a2aScripts: ReadonlyMap<string, A2AScript>;
  readonly req: Incoming;
}

/** A route handler. */
export type Handler = (ctx: Ctx) => Response | Promise<Response>;
