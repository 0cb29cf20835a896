/**
 * Small HTTP and data helpers shared by the fake platform's handlers: JSON and error responses
 * in the platform's shapes, the request view handlers read, UUID and timestamp parsing the way
 * Postgres and Go accept them, and random IDs and tokens. No test-framework imports: the same
 * code backs `make demo`.
 */

/** A request as the fake's handlers see it: body already read, path params extracted. */
export interface Incoming {
  readonly method: string;
  readonly url: URL;
  /** Path parameters of the matched route (":id" → params.id), percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly headers: Headers;
  readonly raw: Uint8Array<ArrayBuffer>;
  /** Aborts when the caller gives up (fetch signal) or the served fake closes. */
  readonly signal: AbortSignal;
}

/** Result of decoding a request body as JSON. */
export type JsonBody = { ok: true; value: unknown } | { ok: false };

/** Decodes the raw body as JSON; an empty or malformed body is `{ ok: false }`. */
export function readJson(raw: Uint8Array): JsonBody {
  const text = new TextDecoder().decode(raw);
  if (text.trim() === "") return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    if (err instanceof SyntaxError) return { ok: false };
    throw err;
  }
}

/** True for a plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A JSON response, as gin's c.JSON writes it. */
export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/** The platform's usual error shape: `{"error": message, ...extra}`. */
export function errorJson(
  status: number,
  message: string,
  extra: Record<string, unknown> = {},
): Response {
  return json(status, { error: message, ...extra });
}

/** A response with no body (CORS rejections, TenantGuard-style 404s). */
export function empty(status: number): Response {
  return new Response(null, { status });
}

/** Gin's plain-text answer for a route it does not know. */
export function pageNotFound(): Response {
  return new Response("404 page not found", {
    status: 404,
    headers: { "content-type": "text/plain" },
  });
}

const UUID_HEX = /^[0-9a-f]{32}$/i;

/**
 * The canonical lowercase form of a UUID in any spelling Postgres and Go's uuid.Parse accept
 * (hyphenated in any case, 32 bare hex digits, `{…}` or `urn:uuid:` wrapped), else null.
 */
export function canonicalUuid(text: string): string | null {
  let s = text;
  if (s.startsWith("{") && s.endsWith("}")) s = s.slice(1, -1);
  else if (s.toLowerCase().startsWith("urn:uuid:")) s = s.slice(9);
  let hex: string;
  if (s.length === 36) {
    if (s[8] !== "-" || s[13] !== "-" || s[18] !== "-" || s[23] !== "-") return null;
    hex = s.replaceAll("-", "");
  } else {
    hex = s;
  }
  if (!UUID_HEX.test(hex)) return null;
  const h = hex.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A lowercase random UUID, like gen_random_uuid(). */
export function randomId(): string {
  return crypto.randomUUID();
}

/** 32 random bytes as unpadded base64url: 43 characters, the platform's token format. */
export function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Microseconds since the epoch as RFC 3339 UTC with six fractional digits. */
export function formatTimestamp(us: number): string {
  const secs = Math.floor(us / 1e6);
  const frac = String(us - secs * 1e6).padStart(6, "0");
  return new Date(secs * 1000).toISOString().replace(/\.\d{3}Z$/, `.${frac}Z`);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Parses an RFC 3339 timestamp (as Go's time.RFC3339 layout accepts it, fraction optional) to
 * microseconds since the epoch; digits beyond microseconds are truncated. Null when malformed.
 */
export function parseTimestamp(text: string): number | null {
  const m = RFC3339.exec(text);
  if (m === null) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(ms)) return null;
  let offsetMin = 0;
  if (zone !== undefined && zone !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    offsetMin = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  }
  const fracUs = frac === undefined ? 0 : Number(frac.slice(1, 7).padEnd(6, "0"));
  return (ms - offsetMin * 60_000) * 1000 + fracUs;
}

/** Go's strconv.Atoi: an optionally signed run of decimal digits, else null. */
export function parseGoInt(text: string): number | null {
  return /^[+-]?\d+$/.test(text) ? Number(text) : null;
}
