/**
 * Reading the platform's answers: what counts as success, what a refusal or a malformed body
 * becomes (a PlatformError whose `next` tells the operator what to do), and small shape
 * checks shared by the endpoint modules.
 */
import { cutCodePoints, ELLIPSIS, sanitiseText } from "../text.ts";
import { isRecord } from "../json_object.ts";
import { PlatformError } from "../errors.ts";

/** One answer from the platform, body already read. */
export interface Answer {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined when the body was empty or not JSON (see `bodyKind`). */
  body: unknown;
  bodyKind: "json" | "empty" | "text";
  /** The raw text, for a short snippet in errors. */
  text: string;
}

/** Platform `{error}` text is cut to this many characters before it reaches a message. */
const DETAIL_MAX_CHARS = 200;

const NEXT_NOT_PLATFORM =
  "check that PLATFORM_URL points at the platform API, not the canvas web app or a proxy page";

/** Per-status next steps an endpoint knows better than the defaults. */
export type NextSteps = Partial<Record<number, string>>;

/**
 * Sanitises platform-supplied `text` (lib/text.ts), puts it on one line and cuts it to 200 code
 * points for an error detail.
 */
export function truncate(text: string): string {
  const flat = sanitiseText(text, { oneLine: true });
  return cutCodePoints(flat, DETAIL_MAX_CHARS, ELLIPSIS);
}

/** The platform's `{error}` text, or a snippet of a non-JSON body, for PlatformError.detail. */
export function answerDetail(answer: Answer): string {
  if (answer.bodyKind === "empty") return "empty body";
  if (answer.bodyKind === "text") return truncate(`not JSON: ${answer.text}`);
  if (isRecord(answer.body) && typeof answer.body.error === "string") {
    return truncate(answer.body.error);
  }
  return "";
}

/**
 * Turns a refusal into a PlatformError with the right next step. `next` overrides the
 * default for this status (endpoints know what a 403 or 404 means for them).
 */
export function refusal(
  endpoint: string,
  answer: Answer,
  next?: NextSteps,
): PlatformError {
  const status = answer.status;
  // An empty body never comes from the endpoint's handler but from the edge (the CORS check,
  // TenantGuard): the endpoint's own advice does not apply to it.
  const own = answer.bodyKind === "empty" ? undefined : next?.[status];
  return new PlatformError(endpoint, status, {
    next: own ?? defaultNext(answer),
    detail: answerDetail(answer),
  });
}

/** A 2xx whose body is not what the contract promises (HTML, empty, wrong shape). */
export function malformed(endpoint: string, answer: Answer, expected: string): PlatformError {
  const seen = answer.bodyKind === "json" ? describeShape(answer.body) : answerDetail(answer);
  return new PlatformError(endpoint, answer.status, {
    next: NEXT_NOT_PLATFORM,
    detail: truncate(`expected ${expected}, got ${seen}`),
  });
}

function describeShape(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (isRecord(value)) return `an object with keys ${Object.keys(value).slice(0, 6).join(",")}`;
  return `a ${typeof value}`;
}

function defaultNext(answer: Answer): string {
  const status = answer.status;
  const isEmpty = answer.bodyKind === "empty";
  if (status === 401) {
    return "regenerate the workspace token in the canvas (workspace → Tokens tab), put it where " +
      "your MCP config reads it (MOLECULE_WORKSPACE_TOKEN, or the file MOLECULE_WORKSPACE_TOKEN_FILE " +
      "names) and restart";
  }
  if (status === 403 && isEmpty) {
    // CORS answers an empty 403 to an Origin that is neither same-host nor listed (§1.3).
    return "set PLATFORM_URL to the platform's own address (scheme://host) so the Origin header matches";
  }
  if (status === 403) {
    return "this workspace is not allowed to do that; check its abilities in the canvas";
  }
  if (status === 404 && isEmpty) {
    // TenantGuard and the SaaS edge answer an empty 404 (contract §1.2, §1.3).
    return NEXT_NOT_PLATFORM;
  }
  if (status === 404) return "check the id: the platform does not know it";
  if (status === 429) {
    const wait = retryAfterSecs(answer.headers.get("Retry-After")) ?? 60;
    return `the platform is rate limiting this machine; wait ${wait} s and try again`;
  }
  if (status >= 500) {
    return "the platform had a problem; try again shortly and check the platform status if it persists";
  }
  if (status === 400) {
    return "the platform refused the request as invalid; check the values sent, or update molecule-mcp";
  }
  return NEXT_NOT_PLATFORM;
}

/**
 * True when the platform does not know the route at all: gin's plain-text
 * `404 page not found` (contract §0), which is what a platform older than the endpoint
 * answers. A JSON 404 comes from the endpoint's own handler, an empty one from the edge.
 */
export function isRouteMissing(answer: Answer): boolean {
  return answer.status === 404 && answer.bodyKind === "text";
}

/** Longest wait a Retry-After may ask for and still be repeated: a day. */
const MAX_RETRY_AFTER_SECS = 86_400;

/**
 * The seconds a `Retry-After` header asks for, or null when it is absent or not a plain
 * number of seconds up to a day (RFC 9110 §10.2.3 also allows a date; the platform sends
 * seconds, contract §1.4). The header's text itself never reaches a message: a hostile one
 * can be 59 KB of instructions for the agent (issue 11 item 12).
 */
export function retryAfterSecs(header: string | null): number | null {
  if (header === null) return null;
  const trimmed = header.trim();
  if (!/^\d{1,6}$/.test(trimmed)) return null;
  const secs = Number(trimmed);
  return secs <= MAX_RETRY_AFTER_SECS ? secs : null;
}

/** True for a 2xx status. */
export function isOk(answer: Answer): boolean {
  return answer.status >= 200 && answer.status < 300;
}

/** Returns `answer` when it is a 2xx, else throws its refusal. */
export function expectOk(endpoint: string, answer: Answer, next?: NextSteps): Answer {
  if (isOk(answer)) return answer;
  throw refusal(endpoint, answer, next);
}

/** The body as a JSON object, or a PlatformError saying what came instead. */
export function expectObject(endpoint: string, answer: Answer): Record<string, unknown> {
  if (answer.bodyKind === "json" && isRecord(answer.body)) return answer.body;
  throw malformed(endpoint, answer, "a JSON object");
}

/** The body as a JSON array, or a PlatformError saying what came instead. */
export function expectArray(endpoint: string, answer: Answer): unknown[] {
  if (answer.bodyKind === "json" && Array.isArray(answer.body)) return answer.body;
  throw malformed(endpoint, answer, "a JSON array");
}

/** Parses each row, dropping those the parser rejects (a bad row must not hide the rest). */
export function keepParsed<T>(rows: unknown[], parse: (raw: unknown) => T | null): T[] {
  const kept: T[] = [];
  for (const row of rows) {
    const parsed = parse(row);
    if (parsed !== null) kept.push(parsed);
  }
  return kept;
}
