/**
 * The request core of the platform client: it builds each request (base URL, headers,
 * timeout), reads the answer defensively, and turns every failure into a PlatformError whose
 * endpoint is a path template and whose `next` says what the operator can do. The endpoint
 * functions live in platform/client.ts; retry policies live with the callers that need them.
 */
import { cutCodePoints } from "../text.ts";
import type { Clock } from "../clock.ts";
import { VERSION } from "../version.ts";
import { parseUuid } from "../uuid.ts";
import { type Fetch, isUntrustedCertificateError } from "./http_client.ts";
import { PlatformError } from "../errors.ts";
import { type Answer, truncate } from "./answer.ts";
import type { Logger } from "../log.ts";

/** Who we are on the platform. `workspaceId` must be a UUID; it is lower-cased. */
export interface PlatformConfig {
  platformUrl: string;
  workspaceId: string;
  token: string;
}

/** What the client needs from outside. `randomId` makes JSON-RPC ids predictable in tests. */
export interface PlatformDeps {
  /** main.ts passes platform/http_client.ts's fetch; tests pass a fake platform. */
  fetch: Fetch;
  clock: Clock;
  log: Logger;
  /** Returns a fresh UUID; defaults to crypto.randomUUID. */
  randomId?: () => string;
}

/** Per-call options every endpoint accepts. */
export interface CallOptions {
  /** Aborting it rejects the call with the signal's reason (not a PlatformError). */
  signal?: AbortSignal;
  /** Overrides the endpoint's default timeout. */
  timeoutMs?: number;
}

/** The 410 on the activity feed: the cursor row is gone; drop the cursor and re-read the backlog. */
export class CursorGoneError extends PlatformError {
  override name = "CursorGoneError";
}

/** The 403 `talk_to_user_disabled` on notify: an admin muted this agent's chat with the user. */
export class TalkToUserDisabledError extends PlatformError {
  override name = "TalkToUserDisabledError";
}

/**
 * Like parseUuid (lib/uuid.ts), but throws: TypeError when `raw` is not a string, RangeError when it
 * is not a UUID. Every id is checked this way before it goes into a URL or a body.
 */
export function requireUuid(raw: unknown, what: string): string {
  if (typeof raw !== "string") throw new TypeError(`${what} must be a string: got ${typeof raw}`);
  const id = parseUuid(raw);
  if (id === null) throw new RangeError(`${what} must be a UUID: got "${cutCodePoints(raw, 64)}"`);
  return id;
}

/**
 * True when the call got no answer at all (timeout, refused, DNS): the only failures worth
 * retrying. HTTP and JSON-RPC errors are answers, and so are false here.
 */
export function isTransportError(err: unknown): boolean {
  return err instanceof PlatformError && err.status === 0;
}

/** One request as an endpoint function describes it. */
export interface RequestSpec {
  method: "GET" | "POST";
  /** The path with ":id"-style placeholders, used in errors and logs. */
  template: string;
  /** The real path; every id in it has passed requireUuid. */
  path: string;
  query?: URLSearchParams;
  json?: unknown;
  form?: FormData;
  /** Adds `X-Workspace-ID: <self>` (discover and the A2A proxy need it, contract §1.1). */
  asSelf?: boolean;
  timeoutMs: number;
  opts?: CallOptions | undefined;
}

const NEXT_UNREACHABLE =
  "check that PLATFORM_URL is right and reachable from this machine, and that the network is up";
const NEXT_BAD_HEADER = "the workspace token holds characters an HTTP header cannot carry: " +
  "copy the token again from the canvas (Tokens tab) as plain text and restart";
const NEXT_UNTRUSTED_CERT = "the platform's certificate is not trusted here (a TLS-inspecting " +
  "proxy?): set MOLECULE_CA_FILE to your organisation's CA certificate (PEM) and restart";

/** The HTTP core: one instance per workspace, shared by every endpoint function. */
export class PlatformHttp {
  readonly workspaceId: string;
  /** scheme://host[:port] of PLATFORM_URL, sent as Origin (contract §1.3). */
  readonly origin: string;
  #base: string;
  #token: string;
  #deps: PlatformDeps;

  /** Throws TypeError for an unparsable platformUrl and RangeError for a non-UUID workspaceId. */
  constructor(cfg: PlatformConfig, deps: PlatformDeps) {
    this.workspaceId = requireUuid(cfg.workspaceId, "workspaceId");
    const url = new URL(cfg.platformUrl);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`platformUrl must be http or https: got "${url.protocol}"`);
    }
    this.origin = url.origin;
    // A path prefix (https://host/api) is kept for requests; only Origin drops it.
    this.#base = `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
    this.#token = cfg.token;
    this.#deps = deps;
  }

  /** A fresh UUID for JSON-RPC and message ids. */
  randomId(): string {
    return this.#deps.randomId?.() ?? crypto.randomUUID();
  }

  /**
   * Sends one request and reads the whole body within the timeout. Any status comes back as
   * an Answer; only "no answer" throws: a PlatformError with status 0. When the caller's
   * signal aborts, rejects with that signal's reason instead. The timeout's sleep is always
   * cancelled before this returns, so no timer outlives the call.
   */
  async request(spec: RequestSpec): Promise<Answer> {
    const endpoint = `${spec.method} ${spec.template}`;
    const caller = spec.opts?.signal;
    const timeoutMs = spec.opts?.timeoutMs ?? spec.timeoutMs;
    if (caller?.aborted) throw caller.reason;

    const abort = new AbortController();
    const stopTimer = new AbortController();
    let timedOut = false;
    const timer = this.#deps.clock.sleep(timeoutMs, stopTimer.signal).then(() => {
      if (stopTimer.signal.aborted) return;
      timedOut = true;
      abort.abort(new DOMException(`no answer within ${timeoutMs} ms`, "TimeoutError"));
    });
    const onCallerAbort = () => abort.abort(caller?.reason);
    caller?.addEventListener("abort", onCallerAbort, { once: true });
    // Settles only on abort, so a fetch that ignores its signal still cannot hang the call.
    const gaveUp = new Promise<never>((_, reject) => {
      abort.signal.addEventListener("abort", () => reject(abort.signal.reason), { once: true });
    });

    let built: { req: Request; headerValues: string[] };
    try {
      built = this.#buildRequest(spec, abort.signal);
    } catch (err) {
      stopTimer.abort();
      caller?.removeEventListener("abort", onCallerAbort);
      await timer;
      if (!(err instanceof TypeError)) throw err;
      // Deno's message quotes the refused header value (the token): never pass it on.
      throw new PlatformError(endpoint, 0, {
        next: NEXT_BAD_HEADER,
        detail: "the request could not be built: a header value was refused",
      });
    }
    try {
      const pending = this.#deps.fetch(built.req);
      pending.then(
        (late) => {
          if (abort.signal.aborted) void late.body?.cancel().catch(() => undefined);
        },
        () => undefined, // A late failure after we gave up was already reported as ours.
      );
      const res = await Promise.race([pending, gaveUp]);
      const text = await Promise.race([res.text(), gaveUp]);
      this.#deps.log.debug("platform call answered", { endpoint, status: res.status });
      return toAnswer(res, text);
    } catch (err) {
      if (caller?.aborted && !timedOut) throw caller.reason;
      const raw = timedOut
        ? `no answer within ${Math.round(timeoutMs / 1000)} s`
        : describeCause(err);
      // No request header value ever goes into an error text (a fetch error may quote one).
      const detail = scrubHeaderValues(raw, built.headerValues);
      this.#deps.log.debug("platform call got no answer", { endpoint, detail });
      // A TLS-inspecting proxy re-signs traffic with a private CA: say how to trust it.
      const next = isUntrustedCertificateError(err) ? NEXT_UNTRUSTED_CERT : NEXT_UNREACHABLE;
      const cause = detail === raw ? err : new Error(detail);
      throw new PlatformError(endpoint, 0, { next, detail, cause });
    } finally {
      stopTimer.abort();
      caller?.removeEventListener("abort", onCallerAbort);
      await timer;
    }
  }

  /**
   * Opens a long-lived response (the event stream, contract §14.1) on its own path: not
   * through `request`, so it never holds a request slot or a body cap meant for short calls,
   * and its body is handed over unread. `timeoutMs` bounds only the wait for the status line;
   * reading is the caller's, and so is cancelling the body (or aborting `signal`) when done.
   * A 2xx with Content-Type text/event-stream comes back as `{ body }`; any other answer is
   * read (at most `STREAM_REFUSAL_MAX_CHARS`) and comes back as `{ answer }`. No answer at all
   * throws a PlatformError with status 0; an aborted `signal` rejects with its reason.
   */
  async openStream(spec: StreamSpec): Promise<StreamOpening> {
    const endpoint = `GET ${spec.template}`;
    const { signal } = spec;
    if (signal.aborted) throw signal.reason;
    const abort = new AbortController();
    const onAbort = () => abort.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    const stopTimer = new AbortController();
    let timedOut = false;
    const timer = this.#deps.clock.sleep(spec.timeoutMs, stopTimer.signal).then(() => {
      if (stopTimer.signal.aborted) return;
      timedOut = true;
      abort.abort(new DOMException(`no answer within ${spec.timeoutMs} ms`, "TimeoutError"));
    });
    const gaveUp = new Promise<never>((_, reject) => {
      abort.signal.addEventListener("abort", () => reject(abort.signal.reason), { once: true });
    });
    gaveUp.catch(() => undefined); // only raced below; an abort after opening is the reader's
    let built: { req: Request; headerValues: string[] } | null = null;
    let isOpen = false;
    try {
      built = this.#buildRequest(
        { method: "GET", template: spec.template, path: spec.path, timeoutMs: spec.timeoutMs },
        abort.signal,
      );
      built.req.headers.set("Accept", "text/event-stream");
      const pending = this.#deps.fetch(built.req);
      pending.then(
        (late) => {
          if (abort.signal.aborted) void late.body?.cancel().catch(() => undefined);
        },
        () => undefined, // A late failure after we gave up was already reported as ours.
      );
      const res = await Promise.race([pending, gaveUp]);
      stopTimer.abort();
      const type = res.headers.get("content-type") ?? "";
      if (res.ok && res.body !== null && /^text\/event-stream\b/i.test(type)) {
        this.#deps.log.debug("platform stream opened", { endpoint });
        isOpen = true; // the caller's signal keeps ending the stream until close()
        const close = () => {
          signal.removeEventListener("abort", onAbort);
          abort.abort(new DOMException("stream closed", "AbortError"));
        };
        return { body: res.body, close };
      }
      const text = await Promise.race([readBounded(res, STREAM_REFUSAL_MAX_CHARS), gaveUp]);
      this.#deps.log.debug("platform stream refused", { endpoint, status: res.status });
      return { answer: toAnswer(res, text) };
    } catch (err) {
      if (signal.aborted && !timedOut) throw signal.reason;
      if (built === null) {
        if (!(err instanceof TypeError)) throw err;
        throw new PlatformError(endpoint, 0, {
          next: NEXT_BAD_HEADER,
          detail: "the request could not be built: a header value was refused",
        });
      }
      const raw = timedOut
        ? `no answer within ${Math.round(spec.timeoutMs / 1000)} s`
        : describeCause(err);
      const detail = scrubHeaderValues(raw, built.headerValues);
      const next = isUntrustedCertificateError(err) ? NEXT_UNTRUSTED_CERT : NEXT_UNREACHABLE;
      throw new PlatformError(endpoint, 0, {
        next,
        detail,
        cause: detail === raw ? err : new Error(detail),
      });
    } finally {
      stopTimer.abort();
      if (!isOpen) signal.removeEventListener("abort", onAbort);
      await timer;
    }
  }

  /**
   * Builds the Request and lists its credential header values (for scrubbing error texts). Throws the
   * TypeError of Headers or Request when a value cannot be sent; its message may quote it.
   */
  #buildRequest(spec: RequestSpec, signal: AbortSignal): { req: Request; headerValues: string[] } {
    const query = spec.query === undefined || spec.query.size === 0 ? "" : `?${spec.query}`;
    const headers = new Headers({
      "Authorization": `Bearer ${this.#token}`,
      "Origin": this.origin,
      "Accept": "application/json",
      // Names us in the platform's logs (Deno's default would say only "Deno/<version>").
      "User-Agent": `molecule-mcp/${VERSION}`,
    });
    if (spec.asSelf === true) headers.set("X-Workspace-ID", this.workspaceId);
    let body: BodyInit | undefined;
    if (spec.json !== undefined) {
      headers.set("Content-Type", "application/json");
      body = JSON.stringify(spec.json);
    } else if (spec.form !== undefined) {
      body = spec.form; // Request sets the multipart Content-Type with its boundary.
    }
    const req = new Request(`${this.#base}${spec.path}${query}`, {
      method: spec.method,
      headers,
      body: body ?? null,
      signal,
    });
    // The credential headers: the other values (Origin, Accept, User-Agent) are no secret,
    // and the Origin helps in a DNS or connection error.
    return { req, headerValues: [`Bearer ${this.#token}`, this.#token] };
  }
}

/** At most this much of a refused stream's body is read (an error text, or a proxy page). */
export const STREAM_REFUSAL_MAX_CHARS = 16 * 1024;

/** A long-lived GET (PlatformHttp.openStream). */
export interface StreamSpec {
  /** The path with ":id"-style placeholders, used in errors and logs. */
  template: string;
  /** The real path; every id in it has passed requireUuid. */
  path: string;
  /** How long to wait for the status line; the body has no time limit. */
  timeoutMs: number;
  /** Aborting it ends the wait, or the open stream. */
  signal: AbortSignal;
}

/** An opened stream (`close` ends it), or the answer of a platform that did not open one. */
export type StreamOpening =
  | { body: ReadableStream<Uint8Array>; close(): void }
  | { answer: Answer };

/** Reads at most `maxChars` of a body as text, then cancels the rest. */
async function readBounded(res: Response, maxChars: number): Promise<string> {
  if (res.body === null) return "";
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  try {
    while (text.length < maxChars) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
  } finally {
    await reader.cancel().catch(() => undefined); // the rest is not needed
  }
  return cutCodePoints(text, maxChars);
}

function toAnswer(res: Response, text: string): Answer {
  const base = { status: res.status, headers: res.headers, text };
  if (text.trim() === "") return { ...base, body: undefined, bodyKind: "empty" };
  try {
    return { ...base, body: JSON.parse(text), bodyKind: "json" };
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    return { ...base, body: undefined, bodyKind: "text" };
  }
}

/** Replaces every credential header value (6+ characters) found in `text` with a placeholder. */
function scrubHeaderValues(text: string, values: readonly string[]): string {
  let out = text;
  for (const value of values) {
    if (value.length >= 6 && out.includes(value)) out = out.replaceAll(value, "[header value]");
  }
  return out;
}

function describeCause(err: unknown): string {
  if (err instanceof Error) {
    // Name the class even when the message is empty (upstream case 31).
    return truncate(err.message === "" ? err.name : `${err.name}: ${err.message}`);
  }
  return truncate(String(err));
}
