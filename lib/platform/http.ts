/**
 * The request core of the platform client: it builds each request (base URL, headers,
 * timeout), reads the answer defensively, and turns every failure into a PlatformError whose
 * endpoint is a path template and whose `next` says what the operator can do. The endpoint
 * functions live in platform/client.ts; retry policies live with the callers that need them.
 *
 * Limits every request gets here (issue 11 items 10, 11, 13), so no endpoint can forget them:
 * - Redirects are followed by hand (`redirect: "manual"`): only to the same origin, at most
 *   MAX_REDIRECTS times. A redirect to another origin, or from https to http, is an error
 *   naming the target's origin, and nothing (token, message, file) is sent there.
 * - The body is read as a stream within the endpoint's byte cap (`maxBodyBytes`, default
 *   DEFAULT_MAX_BODY_BYTES); past it the read stops with a ResponseTooLargeError.
 * - At most a few dozen requests are on the wire at once (platform/request_gate.ts).
 */
import { cutCodePoints } from "../text.ts";
import type { Clock } from "../clock.ts";
import { VERSION } from "../version.ts";
import { parseUuid } from "../uuid.ts";
import { type Fetch, isUntrustedCertificateError } from "./http_client.ts";
import { PlatformError } from "../errors.ts";
import { type Answer, truncate } from "./answer.ts";
import type { Logger } from "../log.ts";
import { formatBytes } from "../byte_units.ts";
import { BodyBudget, readCappedBody } from "./body_reader.ts";
import { RequestGate, type RequestPriority } from "./request_gate.ts";
import type { Route } from "./route.ts";

/**
 * Body cap for endpoints that answer one object or a short list (register, heartbeat,
 * discover, a workspace row, a delegation receipt, notify, uploads): those are a few KB, so
 * 4 MiB is three orders of magnitude of headroom and still cheap to hold.
 */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Same-origin redirects followed for one request; a loop ends with an error after these. */
export const MAX_REDIRECTS = 3;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

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
  /** The concurrency cap; pass one gate to several clients to share it. Default: one per client. */
  gate?: RequestGate;
  /** Answer bytes all requests may hold at once while reading. Default: 128 MiB per client. */
  bodyBudget?: BodyBudget;
}

/** Per-call options every endpoint accepts. */
export interface CallOptions {
  /** Aborting it rejects the call with the signal's reason (not a PlatformError). */
  signal?: AbortSignal;
  /** Overrides the endpoint's default timeout. */
  timeoutMs?: number;
}

/**
 * The answer's body passed the endpoint's byte cap (`capBytes`); reading stopped there.
 * `status` is the HTTP status of the answer. The feed poller catches it to ask for smaller
 * pages.
 */
export class ResponseTooLargeError extends PlatformError {
  override name = "ResponseTooLargeError";
  /** `isShared`: the limit passed was the one for all answers being read at once. */
  constructor(
    endpoint: string,
    status: number,
    readonly capBytes: number,
    opts: { next: string; isShared?: boolean },
  ) {
    super(endpoint, status, {
      next: opts.next,
      detail: opts.isShared === true
        ? `the answers being read at once passed their shared ${formatBytes(capBytes)} ` +
          "limit; reading this one stopped"
        : `answer larger than the ${formatBytes(capBytes)} limit for this endpoint; ` +
          "reading stopped there",
    });
  }
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

/** RFC 3339 with a zone, as the platform's `before_ts` filters accept it (Go's time.RFC3339). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * `raw` when it is an RFC 3339 time with a zone; throws RangeError naming `what` otherwise,
 * before a value the platform would refuse goes into a query.
 */
export function requireRfc3339(raw: string, what: string): string {
  if (!RFC3339.test(raw)) {
    throw new RangeError(
      `${what} must be an RFC 3339 time such as 2026-05-01T10:00:00Z: got "${
        cutCodePoints(raw, 40)
      }"`,
    );
  }
  return raw;
}

/**
 * True when the call got no answer at all (timeout, refused, DNS): the only failures worth
 * retrying. HTTP and JSON-RPC errors are answers, and so are false here.
 */
export function isTransportError(err: unknown): boolean {
  return err instanceof PlatformError && err.status === 0;
}

/** Where a download's bytes go, and how many it may take. */
export interface DownloadSink {
  maxBytes: number;
  write(chunk: Uint8Array): Promise<void>;
}

/** A download's sink failed to write (a local disk problem); `cause` is its error. */
export class DownloadWriteError extends Error {
  override name = "DownloadWriteError";
  constructor(cause: unknown) {
    super(`Cannot write the downloaded file: ${cause instanceof Error ? cause.message : cause}`, {
      cause,
    });
  }
}

/** How a download ended: all bytes written, cut at the cap, or a non-2xx answer. */
export type Download =
  | { kind: "done"; bytes: number }
  | { kind: "too-large"; bytes: number }
  | { kind: "answer"; answer: Answer };

/** Reads the final (non-redirect) answer of a request; `gaveUp` rejects on timeout/abort. */
type ReadAnswer<T> = (res: Response, gaveUp: Promise<never>) => Promise<T>;

/** One request as an endpoint function describes it. */
export interface RequestSpec {
  /** Method, template (errors and logs) and real path, from one platformRoute call. */
  route: Route;
  query?: URLSearchParams;
  json?: unknown;
  form?: FormData;
  /** Adds `X-Workspace-ID: <self>` (discover and the A2A proxy need it, contract §1.1). */
  asSelf?: boolean;
  timeoutMs: number;
  opts?: CallOptions | undefined;
  /** Longest body read, in bytes (default DEFAULT_MAX_BODY_BYTES); say why when raising it. */
  maxBodyBytes?: number;
  /** What to do when the body passes `maxBodyBytes` (default: a generic next step). */
  nextWhenTooLarge?: string;
  /** "background" for the workspace's upkeep (may use reserved slots); default "call". */
  priority?: RequestPriority;
}

const NEXT_UNREACHABLE =
  "check that PLATFORM_URL is right and reachable from this machine, and that the network is up";
const NEXT_TOO_LARGE = "the platform (or a proxy in front of it) sent far more than this " +
  "endpoint ever needs; check that PLATFORM_URL points at the platform API, and narrow the request";
const NEXT_OVER_BUDGET = "several very large answers arrived at once; try again in a moment, " +
  "and if it keeps happening check that PLATFORM_URL points at the platform API";
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
  #gate: RequestGate;
  #bodyBudget: BodyBudget;

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
    this.#gate = deps.gate ?? new RequestGate();
    this.#bodyBudget = deps.bodyBudget ?? new BodyBudget();
  }

  /** A fresh UUID for JSON-RPC and message ids. */
  randomId(): string {
    return this.#deps.randomId?.() ?? crypto.randomUUID();
  }

  /**
   * Sends one request and reads the whole body within the timeout. Any status comes back as
   * an Answer; a failure throws a PlatformError: status 0 for "no answer", the 3xx status for
   * a redirect we refuse to follow, ResponseTooLargeError past the body cap. When the
   * caller's signal aborts (also while the request waits for a slot), rejects with that
   * signal's reason instead. The timeout runs from when the request gets its slot; its sleep
   * is always cancelled before this returns, so no timer outlives the call.
   */
  request(spec: RequestSpec): Promise<Answer> {
    return this.#withSlot(spec, (res, gaveUp) => this.#readAnswer(spec, res, gaveUp));
  }

  /**
   * Like request, but a 2xx body is streamed to `sink.write` chunk by chunk instead of read
   * into memory (so `maxBodyBytes` does not apply), and stops, the rest cancelled, once it
   * would pass `sink.maxBytes`. A non-2xx answer is read as request reads it and returned for
   * the caller's refusal handling. The timeout covers the whole transfer. A failing sink
   * rejects with DownloadWriteError (a local problem, never blamed on the platform).
   */
  download(spec: RequestSpec, sink: DownloadSink): Promise<Download> {
    return this.#withSlot(spec, async (res, gaveUp): Promise<Download> => {
      if (res.status < 200 || res.status >= 300 || res.body === null) {
        return { kind: "answer", answer: await this.#readAnswer(spec, res, gaveUp) };
      }
      const reader = res.body.getReader();
      let bytes = 0;
      try {
        for (;;) {
          const chunk = await Promise.race([reader.read(), gaveUp]);
          if (chunk.done) return { kind: "done", bytes };
          bytes += chunk.value.length;
          if (bytes > sink.maxBytes) return { kind: "too-large", bytes };
          try {
            await sink.write(chunk.value);
          } catch (err) {
            throw new DownloadWriteError(err);
          }
        }
      } finally {
        // Finished or failed: cancelling frees the connection either way; nothing to report.
        await reader.cancel().catch(() => undefined);
      }
    });
  }

  /** Runs `exchange` once the request gate gives this request a slot. */
  async #withSlot<T>(spec: RequestSpec, read: ReadAnswer<T>): Promise<T> {
    const caller = spec.opts?.signal;
    if (caller?.aborted) throw caller.reason;
    const priority = spec.priority ?? "call";
    // With a slot free the request goes out in this tick, as it would with no gate at all.
    const release = this.#gate.tryAcquire(priority) ??
      await this.#gate.acquire(priority, caller);
    try {
      return await this.#requestWithSlot(spec, read);
    } finally {
      release();
    }
  }

  /** The whole body (up to maxBodyBytes) as an Answer; ResponseTooLargeError past it. */
  async #readAnswer(spec: RequestSpec, res: Response, gaveUp: Promise<never>): Promise<Answer> {
    const { endpoint } = spec.route;
    const cap = spec.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const body = await Promise.race([
      readCappedBody(res, cap, this.#bodyBudget),
      gaveUp,
    ]);
    if (!body.ok) {
      const limitBytes = body.isOverBudget ? this.#bodyBudget.maxBytes : cap;
      this.#deps.log.warn("platform answer over the size limit; reading stopped", {
        endpoint,
        status: res.status,
        limitBytes,
        bytes: body.bytes,
        ...(body.isOverBudget ? { shared: true } : {}),
      });
      throw new ResponseTooLargeError(endpoint, res.status, limitBytes, {
        next: body.isOverBudget ? NEXT_OVER_BUDGET : spec.nextWhenTooLarge ?? NEXT_TOO_LARGE,
        isShared: body.isOverBudget,
      });
    }
    return toAnswer(res, body.text);
  }

  async #requestWithSlot<T>(spec: RequestSpec, read: ReadAnswer<T>): Promise<T> {
    const { endpoint } = spec.route;
    const caller = spec.opts?.signal;
    const timeoutMs = spec.opts?.timeoutMs ?? spec.timeoutMs;
    if (caller?.aborted) throw caller.reason;

    const abort = new AbortController();
    const deadline = startDeadline(this.#deps.clock, timeoutMs, abort);
    const onCallerAbort = () => abort.abort(caller?.reason);
    caller?.addEventListener("abort", onCallerAbort, { once: true });
    // Settles only on abort, so a fetch that ignores its signal still cannot hang the call.
    const gaveUp = rejectOnAbort(abort.signal);

    let hop: Hop = { url: this.#url(spec), method: spec.route.method, hasBody: true };
    let req: Request;
    try {
      req = this.#buildRequest(spec, hop, abort.signal);
    } catch (err) {
      caller?.removeEventListener("abort", onCallerAbort);
      await deadline.stop();
      if (!(err instanceof TypeError)) throw err;
      throw badHeaderError(endpoint);
    }
    try {
      for (let redirects = 0;; redirects++) {
        const res = await this.#send(req, abort.signal, gaveUp);
        if (!REDIRECT_STATUSES.has(res.status) || !res.headers.has("location")) {
          const result = await read(res, gaveUp);
          this.#deps.log.debug("platform call answered", { endpoint, status: res.status });
          return result;
        }
        void res.body?.cancel().catch(() => undefined); // a redirect's own body is never read
        hop = this.#redirected(endpoint, res, hop, redirects);
        req = this.#buildRequest(spec, hop, abort.signal); // same headers: built once already
      }
    } catch (err) {
      if (err instanceof DownloadWriteError) throw err; // ours, not the platform's
      if (caller?.aborted && !deadline.hasFired()) throw caller.reason;
      if (err instanceof PlatformError) throw err; // an answer we refuse: already explained
      const noAnswer = this.#noAnswerError(
        endpoint,
        err,
        deadline.hasFired() ? timeoutMs : undefined,
      );
      this.#deps.log.debug("platform call got no answer", { endpoint, detail: noAnswer.detail });
      throw noAnswer;
    } finally {
      caller?.removeEventListener("abort", onCallerAbort);
      await deadline.stop();
    }
  }

  /** One hop: sends it and waits for the head of the answer (or for the call to give up). */
  async #send(req: Request, signal: AbortSignal, gaveUp: Promise<never>): Promise<Response> {
    const pending = this.#deps.fetch(req);
    pending.then(
      (late) => {
        if (signal.aborted) void late.body?.cancel().catch(() => undefined);
      },
      () => undefined, // A late failure after we gave up was already reported as ours.
    );
    return await Promise.race([pending, gaveUp]);
  }

  /**
   * Opens a long-lived response (the event stream, contract §14.1) on its own path: not
   * through `request`, so it never holds a request slot or a body cap meant for short calls,
   * and its body is handed over unread. `timeoutMs` bounds only the wait for the status line;
   * reading is the caller's, and so is cancelling the body (or aborting `signal`) when done.
   * A 2xx with Content-Type text/event-stream comes back as `{ body }`; any other answer is
   * read (at most `STREAM_REFUSAL_MAX_BYTES`) and comes back as `{ answer }`. No answer at all
   * throws a PlatformError with status 0; an aborted `signal` rejects with its reason.
   */
  async openStream(spec: StreamSpec): Promise<StreamOpening> {
    const { endpoint } = spec.route;
    const { signal } = spec;
    if (signal.aborted) throw signal.reason;
    const abort = new AbortController();
    const onAbort = () => abort.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    const deadline = startDeadline(this.#deps.clock, spec.timeoutMs, abort);
    // Only raced below; an abort after opening is the reader's.
    const gaveUp = rejectOnAbort(abort.signal);
    const rspec: RequestSpec = {
      route: spec.route,
      timeoutMs: spec.timeoutMs,
    };
    let isBuilt = false;
    let isOpen = false;
    try {
      const hop: Hop = { url: this.#url(rspec), method: "GET", hasBody: false };
      const req = this.#buildRequest(rspec, hop, abort.signal);
      req.headers.set("Accept", "text/event-stream");
      isBuilt = true;
      // A redirect is not followed here: it comes back as a refusal (the stream is optional).
      const res = await this.#send(req, abort.signal, gaveUp);
      void deadline.stop(); // the status line came: the body has no time limit
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
      const read = await Promise.race([
        readCappedBody(res, STREAM_REFUSAL_MAX_BYTES, this.#bodyBudget),
        gaveUp,
      ]);
      this.#deps.log.debug("platform stream refused", { endpoint, status: res.status });
      return { answer: toAnswer(res, read.ok ? read.text : "") };
    } catch (err) {
      if (signal.aborted && !deadline.hasFired()) throw signal.reason;
      if (!isBuilt) {
        if (!(err instanceof TypeError)) throw err;
        throw badHeaderError(endpoint);
      }
      throw this.#noAnswerError(endpoint, err, deadline.hasFired() ? spec.timeoutMs : undefined);
    } finally {
      if (!isOpen) signal.removeEventListener("abort", onAbort);
      await deadline.stop();
    }
  }

  /**
   * The next hop of a redirect, or a PlatformError (with the 3xx status) when it leaves our
   * origin, downgrades https to http, or is one too many. Errors name the target's origin
   * only: a path or query can carry secrets. 303, and 301/302 after a POST, continue as a GET
   * without the body (Fetch standard, "HTTP-redirect fetch"); 307/308 repeat the request.
   */
  #redirected(endpoint: string, res: Response, hop: Hop, redirects: number): Hop {
    const status = res.status;
    let target: URL;
    try {
      target = new URL(res.headers.get("location") ?? "", hop.url);
    } catch {
      // Not a URL: there is nothing safe to follow, and the text itself is not repeated.
      throw new PlatformError(endpoint, status, {
        next: NEXT_REDIRECT_ELSEWHERE,
        detail: "redirected to a location that is not a URL; not followed",
      });
    }
    const current = new URL(hop.url);
    if (current.protocol === "https:" && target.protocol === "http:") {
      throw new PlatformError(endpoint, status, {
        next: "the platform (or a proxy in front of it) tried to move this request to " +
          "cleartext HTTP; nothing was sent there. Check PLATFORM_URL and the proxies on the way",
        detail: `redirected from https to http (${describeOrigin(target)}); not followed`,
      });
    }
    if (target.origin !== this.origin) {
      throw new PlatformError(endpoint, status, {
        next: `nothing was sent to ${describeOrigin(target)}. If it is the platform's real ` +
          "address, set PLATFORM_URL to it and restart; otherwise " + NEXT_REDIRECT_ELSEWHERE,
        detail: `redirected to another origin (${describeOrigin(target)}); not followed`,
      });
    }
    if (redirects >= MAX_REDIRECTS) {
      throw new PlatformError(endpoint, status, {
        next: "the platform keeps redirecting (a loop?); check PLATFORM_URL, including its path",
        detail: `more than ${MAX_REDIRECTS} redirects; not followed further`,
      });
    }
    const isNowGet = status === 303 ||
      ((status === 301 || status === 302) && hop.method === "POST");
    return {
      url: target.href,
      method: isNowGet ? "GET" : hop.method,
      hasBody: hop.hasBody && !isNowGet,
    };
  }

  /**
   * The PlatformError (status 0) of a call that got no answer: `err` is what fetch or the
   * abort threw, `timedOutMs` the timeout when it ran out. No request header value ever goes
   * into its text (a fetch error may quote one).
   */
  #noAnswerError(endpoint: string, err: unknown, timedOutMs: number | undefined): PlatformError {
    const raw = timedOutMs !== undefined
      ? `no answer within ${Math.round(timedOutMs / 1000)} s`
      : describeCause(err);
    const detail = scrubHeaderValues(raw, this.#credentialValues());
    // A TLS-inspecting proxy re-signs traffic with a private CA: say how to trust it.
    const next = isUntrustedCertificateError(err) ? NEXT_UNTRUSTED_CERT : NEXT_UNREACHABLE;
    return new PlatformError(endpoint, 0, {
      next,
      detail,
      cause: detail === raw ? err : new Error(detail),
    });
  }

  /**
   * The credential header values, for scrubbing error texts: the other values (Origin,
   * Accept, User-Agent) are no secret, and the Origin helps in a DNS or connection error.
   */
  #credentialValues(): string[] {
    return [`Bearer ${this.#token}`, this.#token];
  }

  #url(spec: RequestSpec): string {
    const query = spec.query === undefined || spec.query.size === 0 ? "" : `?${spec.query}`;
    return `${this.#base}${spec.route.path}${query}`;
  }

  /**
   * Builds the Request for one hop. Throws the TypeError of Headers or Request when a value
   * cannot be sent; its message may quote it.
   */
  #buildRequest(spec: RequestSpec, hop: Hop, signal: AbortSignal): Request {
    const headers = new Headers({
      "Authorization": `Bearer ${this.#token}`,
      "Origin": this.origin,
      "Accept": "application/json",
      // Names us in the platform's logs (Deno's default would say only "Deno/<version>").
      "User-Agent": `molecule-mcp/${VERSION}`,
    });
    if (spec.asSelf === true) headers.set("X-Workspace-ID", this.workspaceId);
    let body: BodyInit | undefined;
    if (!hop.hasBody) {
      // A redirect turned the request into a GET: the body (and its type) stay behind.
    } else if (spec.json !== undefined) {
      headers.set("Content-Type", "application/json");
      body = JSON.stringify(spec.json);
    } else if (spec.form !== undefined) {
      body = spec.form; // Request sets the multipart Content-Type with its boundary.
    }
    return new Request(hop.url, {
      method: hop.method,
      headers,
      body: body ?? null,
      signal,
      // Redirects are ours to judge (#redirected): fetch must never follow one by itself.
      redirect: "manual",
    });
  }
}

/** At most this much of a refused stream's body is read (an error text, or a proxy page). */
export const STREAM_REFUSAL_MAX_BYTES = 16 * 1024;

/** A long-lived GET (PlatformHttp.openStream). */
export interface StreamSpec {
  /** The stream's route (platformRoute): always a GET. */
  route: Route<"GET">;
  /** How long to wait for the status line; the body has no time limit. */
  timeoutMs: number;
  /** Aborting it ends the wait, or the open stream. */
  signal: AbortSignal;
}

/** An opened stream (`close` ends it), or the answer of a platform that did not open one. */
export type StreamOpening =
  | { body: ReadableStream<Uint8Array>; close(): void }
  | { answer: Answer };

/** One request on the wire: the first, or one a same-origin redirect led to. */
interface Hop {
  url: string;
  method: "GET" | "POST";
  /** False once a redirect turned a POST into a GET. */
  hasBody: boolean;
}

const NEXT_REDIRECT_ELSEWHERE = "check PLATFORM_URL: it should be the platform API's own " +
  "address, not a page or proxy that redirects elsewhere";

/** A call's time limit (PlatformHttp.request, openStream). */
interface Deadline {
  /** Whether the limit ran out (and aborted the call). */
  hasFired(): boolean;
  /** Cancels the wait; resolves once it has ended, so no timer outlives the call. Idempotent. */
  stop(): Promise<void>;
}

/** Aborts `abort` with a TimeoutError once `timeoutMs` pass on `clock`, unless stopped first. */
function startDeadline(clock: Clock, timeoutMs: number, abort: AbortController): Deadline {
  const stopTimer = new AbortController();
  let hasFired = false;
  const timer = clock.sleep(timeoutMs, stopTimer.signal).then(() => {
    if (stopTimer.signal.aborted) return;
    hasFired = true;
    abort.abort(new DOMException(`no answer within ${timeoutMs} ms`, "TimeoutError"));
  });
  return {
    hasFired: () => hasFired,
    stop: () => {
      stopTimer.abort();
      return timer;
    },
  };
}

/**
 * A promise that rejects with `signal`'s reason once it aborts and never settles otherwise,
 * for racing against a fetch that ignores its signal. Its rejection counts as handled, since
 * a call may end without racing it.
 */
function rejectOnAbort(signal: AbortSignal): Promise<never> {
  const aborted = new Promise<never>((_, reject) => {
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
  aborted.catch(() => undefined);
  return aborted;
}

/**
 * The PlatformError of a request whose headers Headers/Request refused. Deno's TypeError
 * quotes the refused value (the token), so it is never passed on.
 */
function badHeaderError(endpoint: string): PlatformError {
  return new PlatformError(endpoint, 0, {
    next: NEXT_BAD_HEADER,
    detail: "the request could not be built: a header value was refused",
  });
}

/** A redirect target for errors and logs: its origin only, never the path or query. */
function describeOrigin(url: URL): string {
  return url.origin === "null" ? `a ${url.protocol} location` : url.origin;
}

/** Replaces every credential header value (6+ characters) found in `text` with a placeholder. */
function scrubHeaderValues(text: string, values: readonly string[]): string {
  let out = text;
  for (const value of values) {
    if (value.length >= 6 && out.includes(value)) out = out.replaceAll(value, "[header value]");
  }
  return out;
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

function describeCause(err: unknown): string {
  if (err instanceof Error) {
    // Name the class even when the message is empty (upstream case 31).
    return truncate(err.message === "" ? err.name : `${err.name}: ${err.message}`);
  }
  return truncate(String(err));
}
