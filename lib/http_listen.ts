/**
 * Where `molecule-mcp --http [HOST:]PORT` (or MOLECULE_MCP_HTTP) listens, and whether that
 * address may be bound: the rules, not the server (lib/mcp/http.ts serves).
 *
 * - HOST defaults to 127.0.0.1 (loopback only). IPv6 literals are written in brackets
 *   (`[::1]:8765`). PORT is 0-65535 (0 picks a free port, which the start-up log names).
 * - Binding anything but loopback needs MOLECULE_MCP_HTTP_TOKEN (at least 32 characters):
 *   every request must then carry it as `Authorization: Bearer <token>`.
 */

/** The default host: loopback only (the MCP transport spec asks local servers for it). */
export const DEFAULT_HTTP_HOST = "127.0.0.1";

/** Shortest MOLECULE_MCP_HTTP_TOKEN accepted: 32 characters, ~190 bits when random base64. */
export const MIN_HTTP_TOKEN_CHARS = 32;

/** A parsed listen address. `hostname` has no brackets (Deno.serve wants `::1`, not `[::1]`). */
export interface HttpListen {
  hostname: string;
  port: number;
  /** The bearer token every request must carry, or undefined (loopback without a token). */
  token: string | undefined;
  /** True when `hostname` is a loopback address (or `localhost`). */
  isLoopback: boolean;
}

/**
 * Parses `[HOST:]PORT` with the token. Returns the listen address, or a problem naming the
 * value seen and what to do (the token itself is never shown). `from` names where the value
 * came from (`--http` or `MOLECULE_MCP_HTTP`).
 */
export function parseHttpListen(
  text: string,
  opts: { token: string | undefined; from: string },
): { ok: true; listen: HttpListen } | { ok: false; problem: string } {
  const value = text.trim();
  const bad = (why: string) => ({
    ok: false as const,
    problem: `${opts.from} must be [HOST:]PORT (e.g. 8765 or 127.0.0.1:8765): ${why}`,
  });
  let host = DEFAULT_HTTP_HOST;
  let portText = value;
  const bracketed = /^\[([0-9a-fA-F:.]+)\]:(.*)$/.exec(value);
  if (bracketed !== null) {
    host = bracketed[1] ?? "";
    portText = bracketed[2] ?? "";
  } else if (value.includes(":")) {
    const at = value.lastIndexOf(":");
    host = value.slice(0, at);
    portText = value.slice(at + 1);
    if (host.includes(":")) return bad(`got ${JSON.stringify(value)} (write IPv6 as [::1]:PORT)`);
  }
  if (host === "") return bad(`got ${JSON.stringify(value)} (the host is empty)`);
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 65535) {
    return bad(`got ${JSON.stringify(value)} (the port must be 0-65535)`);
  }
  if (bracketed === null && !/^[A-Za-z0-9.-]+$/.test(host)) {
    return bad(`got ${JSON.stringify(value)} (the host is not a name or an address)`);
  }
  const isLoopback = isLoopbackName(host);
  const token = opts.token?.trim() || undefined;
  if (!isLoopback && token === undefined) {
    return {
      ok: false,
      problem: `${opts.from} binds ${host}, which other machines can reach: set ` +
        `MOLECULE_MCP_HTTP_TOKEN (at least ${MIN_HTTP_TOKEN_CHARS} random characters, e.g. ` +
        "`openssl rand -base64 32`) so every request must carry it, or bind 127.0.0.1",
    };
  }
  if (token !== undefined && token.length < MIN_HTTP_TOKEN_CHARS) {
    return {
      ok: false,
      problem: `MOLECULE_MCP_HTTP_TOKEN is too short: ${token.length} characters, at least ` +
        `${MIN_HTTP_TOKEN_CHARS} needed (e.g. \`openssl rand -base64 32\`)`,
    };
  }
  return { ok: true, listen: { hostname: host, port: Number(portText), token, isLoopback } };
}

/**
 * Whether a host name (no brackets, no port) is this machine's loopback: `localhost`,
 * `*.localhost`, 127.0.0.0/8, `::1` (and its IPv4-mapped 127 forms).
 */
export function isLoopbackName(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "").replace(/^\[(.*)\]$/, "$1");
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (host === "::1" || host === "0:0:0:0:0:0:0:1") return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return true;
  return /^::ffff:(7f[0-9a-f]{2}:[0-9a-f]{1,4}|127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.test(host);
}
