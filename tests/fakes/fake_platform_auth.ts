/**
 * The fake platform's credential checks (contract §1.1 and §1.3): the CORS `Origin` rule,
 * `WorkspaceAuth` on /workspaces/:id/* sub-routes, and the registry-style "grandfathered" check.
 * Each check returns null when the request may go on, or the platform's rejection response.
 */
import { empty, errorJson, type Incoming } from "./fake_platform_http.ts";
import type { PlatformModel } from "./fake_platform_model.ts";

/** The bearer from `Authorization: Bearer <token>`, or "" when there is none. */
export function bearerOf(headers: Headers): string {
  const header = headers.get("authorization") ?? "";
  return header.startsWith("Bearer ") ? header.slice(7).trim() : "";
}

/**
 * gin-contrib/cors as the platform runs it: no `Origin` is not CORS; `http(s)://<Host>` is
 * same-origin; an entry of CORS_ORIGINS passes; anything else is 403 with an empty body.
 */
export function checkOrigin(req: Incoming, corsOrigins: readonly string[]): Response | null {
  const origin = req.headers.get("origin");
  if (origin === null) return null;
  const host = req.url.host;
  if (origin === `http://${host}` || origin === `https://${host}`) return null;
  if (corsOrigins.includes(origin)) return null;
  return empty(403);
}

/**
 * WorkspaceAuth: the admin token, or a live token whose workspace equals the path ID compared
 * as plain strings (so an uppercase path ID fails). The path ID is not checked for UUID shape.
 */
export function workspaceAuth(
  model: PlatformModel,
  req: Incoming,
  adminToken: string | null,
): Response | null {
  const bearer = bearerOf(req.headers);
  if (bearer === "") return errorJson(401, "missing workspace auth token");
  if (adminToken !== null && bearer === adminToken) return null;
  if (model.tokenWorkspace(bearer) === req.params.id) return null;
  return errorJson(401, "invalid workspace auth token");
}

/**
 * requireWorkspaceToken and its copies: a workspace with no live token lets any request
 * through; otherwise the bearer must be one of its live tokens. `who` picks the wording
 * ("workspace" on the registry, "caller" on the A2A proxy).
 */
export function grandfatheredAuth(
  model: PlatformModel,
  workspaceId: string,
  headers: Headers,
  who: "workspace" | "caller",
): Response | null {
  if (!model.hasLiveToken(workspaceId)) return null;
  const bearer = bearerOf(headers);
  if (bearer === "") return errorJson(401, `missing ${who} auth token`);
  if (model.tokenWorkspace(bearer) === workspaceId) return null;
  return errorJson(401, `invalid ${who} auth token`);
}
