/**
 * Scripted failures for the fake platform: a queue of faults per route, and the response (or
 * rejection) each fault produces. Status faults answer with the body the contract gives that
 * route for that status, so a client sees what the real platform would send.
 */
import { CURSOR_GONE } from "./fake_platform_activity.ts";
import { ACCESS_DENIED } from "./fake_platform_a2a.ts";
import { canonicalUuid, empty, json, randomId } from "./fake_platform_http.ts";
import { removedBody } from "./fake_platform_registry.ts";

/**
 * A scripted failure:
 * - a status code: that status with the contract's body for the route;
 * - `{status, body?, headers?}`: exactly that (a string body is sent as-is, else as JSON;
 *   no body means an empty one);
 * - "timeout": never answers; rejects with the request signal's reason once it aborts;
 * - "refused": rejects with a TypeError, as fetch does when the connection is refused;
 * - "garbage": 200 with an HTML body that is not JSON;
 * - "not-list": 200 with `{}` where a list (or another shape) was expected.
 */
export type Fault =
  | number
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | "timeout"
  | "refused"
  | "garbage"
  | "not-list";

interface Pending {
  route: string;
  fault: Fault;
  remaining: number;
}

/** Faults waiting to fire, matched by route pattern or by concrete path. */
export class FaultBook {
  #pending: Pending[] = [];

  add(route: string, fault: Fault, times: number): void {
    if (!Number.isInteger(times) || times < 1) {
      throw new RangeError(`fake platform: times must be a positive integer, got ${times}`);
    }
    this.#pending.push({ route, fault, remaining: times });
  }

  /** Takes the first fault for "METHOD /pattern" or "METHOD /concrete/path", if any. */
  take(patternKey: string, pathKey: string): Fault | undefined {
    const entry = this.#pending.find((p) => p.route === patternKey || p.route === pathKey);
    if (entry === undefined) return undefined;
    entry.remaining -= 1;
    if (entry.remaining === 0) this.#pending = this.#pending.filter((p) => p !== entry);
    return entry.fault;
  }

  /** How many faults have not fired yet. */
  get pendingCount(): number {
    return this.#pending.reduce((n, p) => n + p.remaining, 0);
  }
}

/** What a fault turns into for the request on `route` (a "METHOD /pattern" key). */
export function faultResponse(
  fault: Fault,
  route: string,
  params: Readonly<Record<string, string>>,
  signal: AbortSignal,
): Promise<Response> {
  if (fault === "timeout") return hangUntilAborted(signal);
  if (fault === "refused") {
    return Promise.reject(
      new TypeError(
        "error sending request: client error (Connect): tcp connect error: Connection refused (os error 111)",
      ),
    );
  }
  if (fault === "garbage") {
    return Promise.resolve(
      new Response("<html><body><h1>502 Bad Gateway</h1></body></html>", {
        status: 200,
        headers: { "content-type": "text/html" },
      }),
    );
  }
  if (fault === "not-list") return Promise.resolve(json(200, {}));
  if (typeof fault === "number") return Promise.resolve(contractResponse(route, fault, params));
  const headers = fault.headers ?? {};
  if (fault.body === undefined) {
    return Promise.resolve(new Response(null, { status: fault.status, headers }));
  }
  if (typeof fault.body === "string") {
    return Promise.resolve(new Response(fault.body, { status: fault.status, headers }));
  }
  return Promise.resolve(json(fault.status, fault.body, headers));
}

/** A response that never comes: rejects with the signal's reason when it aborts. */
function hangUntilAborted(signal: AbortSignal): Promise<Response> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((_, reject) => {
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

const ERROR_500: Record<string, string> = {
  "POST /registry/register": "registration failed",
  "POST /registry/heartbeat": "failed to update",
  "POST /registry/update-card": "failed to update card",
  "GET /registry/:id/peers": "lookup failed",
  "GET /workspaces/:id": "query failed",
  "GET /workspaces/:id/activity": "query failed",
  "POST /workspaces/:id/a2a": "lookup failed",
  "GET /workspaces/:id/delegations": "query failed",
  "POST /workspaces/:id/memories": "failed to store memory",
  "GET /workspaces/:id/memories": "search failed",
};

const ERROR_403: Record<string, Record<string, unknown>> = {
  "POST /workspaces/:id/activity": { error: "source_id must match authenticated workspace" },
  "POST /workspaces/:id/notify": {
    error: "talk_to_user_disabled",
    hint: "Enable talk-to-user for this workspace in the canvas",
  },
  "POST /workspaces/:id/a2a": { error: ACCESS_DENIED },
  "GET /registry/discover/:id": { error: "not authorized to discover this workspace" },
  "POST /workspaces/:id/memories": { error: "only root workspaces can write GLOBAL memories" },
};

/** The response the contract gives `route` for `status`, or a generic `{"error"}` one. */
export function contractResponse(
  route: string,
  status: number,
  params: Readonly<Record<string, string>>,
): Response {
  const isA2A = route === "POST /workspaces/:id/a2a";
  const isUpload = route === "POST /workspaces/:id/chat/uploads";
  switch (status) {
    case 202:
      if (isA2A) {
        return json(202, {
          queued: true,
          queue_id: randomId(),
          queue_depth: 1,
          message: "workspace agent busy — request queued, will be delivered when it is free",
        });
      }
      break;
    case 400:
      return json(400, { error: isUpload ? "invalid workspace ID" : "invalid request body" });
    case 401:
      return json(401, {
        error: isA2A ? "invalid caller auth token" : "invalid workspace auth token",
      });
    case 403: {
      // No 403 body exists for the other routes; a CORS rejection is the one that happens.
      const body = ERROR_403[route];
      return body === undefined ? empty(403) : json(403, body);
    }
    case 404:
      return json(404, { error: "workspace not found" });
    case 410:
      if (route === "GET /workspaces/:id/activity") return json(410, { error: CURSOR_GONE });
      if (route === "GET /workspaces/:id") {
        const id = canonicalUuid(params.id ?? "") ?? params.id ?? "";
        return json(410, { ...removedBody({ id, updated_at_us: 0 }), removed_at: null });
      }
      break;
    case 429:
      return json(429, { error: "rate limit exceeded", retry_after: 60 }, { "retry-after": "60" });
    case 500:
      return json(500, { error: ERROR_500[route] ?? "internal error" });
    case 502:
      if (isA2A) return json(502, { error: "failed to reach workspace agent" });
      if (isUpload) return json(502, { error: "workspace unreachable" });
      break;
    case 503:
      if (isA2A) {
        return json(503, {
          error: "workspace agent busy — retry later",
          busy: true,
          retry_after: 30,
        }, {
          "retry-after": "30",
        });
      }
      if (isUpload) return json(503, { error: "workspace url not registered yet" });
      return json(503, {
        error: "platform datastore unavailable — retry shortly",
        code: "platform_unavailable",
      });
  }
  return json(status, { error: `fake platform scripted ${status}` });
}
