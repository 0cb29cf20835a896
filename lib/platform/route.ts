/**
 * One platform route as an endpoint function names it: `platformRoute("POST
 * /workspaces/:id/notify", { id })` yields the method, the template (what errors and logs show:
 * never the real path, which carries ids, nor a URL, which can carry secrets), the real path
 * and the `endpoint` text ("METHOD template") from that one string, so the name a refusal
 * carries and the path the request goes to cannot drift apart. The request core
 * (platform/http.ts) takes the route whole.
 */

/** The methods the platform client uses (platform-contract.md). */
export type RouteMethod = "GET" | "POST";

/** A route with its placeholders filled: what PlatformHttp sends and how its errors name it. */
export interface Route<M extends RouteMethod = RouteMethod> {
  method: M;
  /** The path with ":name" placeholders, used in errors and logs. */
  template: string;
  /** The real path: every placeholder replaced by its value. */
  path: string;
  /** `${method} ${template}`: PlatformError's `endpoint`, never a full URL. */
  endpoint: string;
}

/**
 * A path segment value the core accepts: a UUID (requireUuid) or a staged file id, both made
 * of these characters. Anything else (a `/`, `?`, `#`, `%`, `..`, a space) would change which
 * route the request reaches, so it is refused rather than escaped.
 */
const SEGMENT = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Builds the route `endpoint` ("GET /registry/:id/peers") with each `:name` placeholder
 * replaced by `params[name]`. Values must already have passed their own check (requireUuid, a
 * file id rule); this one is the last guard. Throws TypeError for a placeholder without a
 * value, a value without a placeholder, or a value that is not one plain path segment: all
 * bugs of the caller, never of input (which is checked earlier with its own message).
 */
export function platformRoute<M extends RouteMethod>(
  endpoint: `${M} /${string}`,
  params: Readonly<Record<string, string>> = {},
): Route<M> {
  const space = endpoint.indexOf(" ");
  // The type guarantees "METHOD /…": the method is everything before the first space.
  const method = endpoint.slice(0, space) as M;
  const template = endpoint.slice(space + 1);
  const used = new Set<string>();
  const path = template.replace(/:([a-z_]+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) {
      throw new TypeError(`route ${endpoint} needs a value for :${name}`);
    }
    if (!SEGMENT.test(value)) {
      throw new TypeError(`route ${endpoint}: :${name} must be one plain path segment`);
    }
    used.add(name);
    return value;
  });
  for (const name of Object.keys(params)) {
    if (!used.has(name)) throw new TypeError(`route ${endpoint} has no :${name}`);
  }
  return { method, template, path, endpoint };
}
