/**
 * Who may talk to the HTTP transport: the DNS-rebinding check on Host and Origin (MCP
 * 2025-11-25 basic/transports "Security Warning": local servers MUST validate Origin and
 * SHOULD bind loopback only) and the bearer token (constant-time compare). Knows nothing of
 * sessions or JSON-RPC.
 */
import { isLoopbackName } from "../http_listen.ts";

/** What the guard checks against. */
export interface GuardSettings {
  /** The bound host (no brackets). */
  hostname: string;
  /** True when bound to loopback: Host and Origin must then name loopback. */
  isLoopback: boolean;
  /** The bearer token every request must carry, or undefined. */
  token: string | undefined;
}

/** Why a request is refused: HTTP status and a message for the body. */
export interface Refusal {
  status: 401 | 403;
  message: string;
}

/**
 * Checks Host, Origin and the bearer token. Returns undefined when the request may go on.
 *
 * - Bound to loopback: Host must be a loopback name (any port); an Origin, when present, must
 *   be http(s) to a loopback name. A page on evil.example whose DNS turns to 127.0.0.1 sends
 *   `Host: evil.example`, and is refused (403).
 * - Bound elsewhere (token required): Host must be the bound address or a loopback name unless
 *   bound to a wildcard (0.0.0.0, ::), where the token is what keeps strangers out; an Origin,
 *   when present, must name the same host as Host (browsers cannot add our bearer anyway).
 */
export async function checkRequest(
  req: Request,
  settings: GuardSettings,
): Promise<Refusal | undefined> {
  // Deno.serve builds req.url from the Host header; a Request made in-process has only the URL.
  const host = hostOf(req.headers.get("host") ?? new URL(req.url).host);
  if (host === null || !isAllowedHost(host, settings)) {
    return { status: 403, message: "Forbidden: Host header not allowed for this server" };
  }
  const origin = req.headers.get("origin");
  if (origin !== null && !isAllowedOrigin(origin, host, settings)) {
    return { status: 403, message: "Forbidden: Origin not allowed for this server" };
  }
  if (settings.token !== undefined) {
    const auth = req.headers.get("authorization") ?? "";
    const match = /^Bearer +(\S+) *$/i.exec(auth);
    if (match === null || !(await isSameSecret(match[1] ?? "", settings.token))) {
      return { status: 401, message: "Unauthorized: missing or wrong bearer token" };
    }
  }
  return undefined;
}

/** The host part of a Host header (brackets and port dropped, lower case), or null. */
function hostOf(header: string | null): string | null {
  if (header === null || header === "") return null;
  try {
    return new URL(`http://${header}`).hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  } catch {
    // Not a host[:port]: refused like any other unknown host.
    return null;
  }
}

function isAllowedHost(host: string, settings: GuardSettings): boolean {
  if (isLoopbackName(host)) return true;
  if (settings.isLoopback) return false;
  if (isWildcard(settings.hostname)) return true;
  return host === settings.hostname.toLowerCase();
}

function isAllowedOrigin(origin: string, host: string, settings: GuardSettings): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // "null" (sandboxed page, file://) and junk are refused
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return false;
  const originHost = url.hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (isLoopbackName(originHost)) return true;
  if (settings.isLoopback) return false;
  return originHost === host;
}

function isWildcard(hostname: string): boolean {
  return hostname === "0.0.0.0" || hostname === "::" || hostname === "[::]";
}

/**
 * Compares two secrets in time that depends on neither: both are hashed (SHA-256) and the
 * digests compared byte by byte without an early exit, so neither the length nor the first
 * differing byte shows in the timing.
 */
export async function isSameSecret(given: string, expected: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(given)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
