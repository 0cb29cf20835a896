/**
 * The fake platform's route table (the subset of the contract's routes a standalone client
 * uses) and the gin-style matcher: static segments match exactly, ":name" matches one
 * non-empty segment; a wrong method or unknown path matches nothing.
 */
import {
  ackActivity,
  broadcast,
  chatUploads,
  listActivity,
  notify,
  reportActivity,
} from "./fake_platform_activity.ts";
import { pendingAck, pendingContent, uploadLimits } from "./fake_platform_uploads.ts";
import { createRequest, listRequests } from "./fake_platform_requests.ts";
import { a2aProxy } from "./fake_platform_a2a.ts";
import { eventStream } from "./fake_platform_events.ts";
import { type Handler, hasRelease, type PlatformVersion } from "./fake_platform_context.ts";
import { delegate, listDelegations } from "./fake_platform_delegation.ts";
import {
  listNamespaces,
  searchMemories,
  searchMemoriesV2,
  writeMemory,
} from "./fake_platform_memories.ts";
import {
  discover,
  heartbeat,
  peers,
  register,
  updateCard,
  workspaceInfo,
} from "./fake_platform_registry.ts";

/** One route: method, pattern segments, its "METHOD /pattern" key and handler. */
export interface Route {
  method: string;
  segments: string[];
  key: string;
  /** WorkspaceAuth guards the /workspaces/:id/* sub-routes except /a2a (§1.1). */
  workspaceAuth: boolean;
  handler: Handler;
  /** The release that introduced the route; older releases answer gin's 404. */
  since: PlatformVersion;
}

function route(
  method: string,
  pattern: string,
  handler: Handler,
  guarded = false,
  since: PlatformVersion = "seed",
): Route {
  return {
    method,
    segments: pattern.split("/").slice(1),
    key: `${method} ${pattern}`,
    workspaceAuth: guarded,
    handler,
    since,
  };
}

const ROUTES: readonly Route[] = [
  route("POST", "/registry/register", register),
  route("POST", "/registry/heartbeat", heartbeat),
  route("POST", "/registry/update-card", updateCard),
  route("GET", "/registry/discover/:id", discover),
  route("GET", "/registry/:id/peers", peers),
  route("GET", "/workspaces/:id", workspaceInfo),
  route("GET", "/workspaces/:id/activity", listActivity, true),
  route("POST", "/workspaces/:id/activity", reportActivity, true),
  route("POST", "/workspaces/:id/notify", notify, true),
  route("POST", "/workspaces/:id/chat/uploads", chatUploads, true),
  route("POST", "/workspaces/:id/a2a", a2aProxy),
  route("POST", "/workspaces/:id/delegate", delegate, true),
  route("GET", "/workspaces/:id/delegations", listDelegations, true),
  route("POST", "/workspaces/:id/memories", writeMemory, true),
  route("GET", "/workspaces/:id/memories", searchMemories, true),
  route("POST", "/workspaces/:id/broadcast", broadcast, true, "2026-05"),
  // In the seed's source (§14.1), but the fake's "seed" plays a platform without it, so the
  // client's 404 path (an older or stripped-down release) has a faithful counterpart.
  route("GET", "/workspaces/:id/events/stream", eventStream, true, "2026-05"),
  route("GET", "/workspaces/:id/pending-uploads/:file_id/content", pendingContent, true, "2026-05"),
  route("POST", "/workspaces/:id/pending-uploads/:file_id/ack", pendingAck, true, "2026-05"),
  route("POST", "/workspaces/:id/activity/ack", ackActivity, true, "latest"),
  route("POST", "/workspaces/:id/requests", createRequest, true, "latest"),
  route("GET", "/workspaces/:id/requests", listRequests, true, "latest"),
  route("GET", "/workspaces/:id/v2/namespaces", listNamespaces, true, "latest"),
  route("GET", "/workspaces/:id/v2/memories", searchMemoriesV2, true, "latest"),
  route("GET", "/uploads/limits", uploadLimits, false, "latest"),
];

/** The "METHOD /pattern" keys of every route the fake serves. */
export const ROUTE_KEYS: readonly string[] = ROUTES.map((r) => r.key);

/**
 * The route serving `method` + `path` on release `version` (default: every route), with its
 * path params, or null (gin's 404).
 */
export function matchRoute(
  method: string,
  path: string,
  version: PlatformVersion = "latest",
): { route: Route; params: Record<string, string> } | null {
  const parts = path.split("/").slice(1);
  for (const r of ROUTES) {
    if (!hasRelease(version, r.since)) continue;
    if (r.method !== method || r.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const matches = r.segments.every((seg, i) => {
      const part = parts[i] ?? "";
      if (!seg.startsWith(":")) return seg === part;
      params[seg.slice(1)] = safeDecode(part);
      return part !== "";
    });
    if (matches) return { route: r, params };
  }
  return null;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch (err) {
    if (err instanceof URIError) return segment; // malformed escapes: keep the raw text
    throw err;
  }
}
