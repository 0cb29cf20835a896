/**
 * The MCP dispatcher: answers initialize, ping, tools/list and tools/call, honours
 * notifications/cancelled, and sends server notifications, over any SDK-shaped transport
 * (stdio today, Streamable HTTP later). It owns no tool logic (lib/tools/) and no framing
 * (lib/mcp/stdio.ts).
 *
 * Choices where the MCP spec leaves room:
 * - Requests run concurrently: a tools/call that waits (wait_for_message, up to 300 s) never
 *   delays ping or another call.
 * - Argument problems (wrong type, missing, out of range) are tool results with
 *   `isError: true` naming the argument, so the model can fix its call (the 2025-11-25 spec
 *   prefers this). JSON-RPC -32602 is only for an unknown tool or malformed params
 *   (no tool name, arguments that are not an object).
 * - No request is refused for coming before `initialize`: some hosts pipeline.
 * - Nothing is ever sent in reply to a notification, whatever it is.
 * - The reply of a cancelled request is never sent; nor is anything after close.
 * - Nothing server-initiated goes out before the client's `notifications/initialized` (MCP
 *   lifecycle). Notifications made earlier, and during STARTUP_HOLD_MS after it, are held and
 *   then sent in order: Claude Code registers its channel listener 60-250 ms after the
 *   handshake and drops anything earlier (issue 11 item 2).
 * - Batches (JSON arrays) are answered with an array of responses for sessions that
 *   negotiated a revision with batching (2024-11-05, 2025-03-26); later revisions removed
 *   batching, so there (and before initialize) a batch gets one -32600 with id null. A batch
 *   request that comes while MAX_IN_PROGRESS_FOR_BATCH requests, or
 *   MAX_BATCH_BYTES_IN_PROGRESS of batch requests, are in progress gets -32000.
 * - `resources/list`, `resources/templates/list` and `prompts/list` get empty lists although
 *   no such capability is declared: some hosts (Codex) ask anyway and log every -32601.
 */
import { formatBytes } from "../byte_units.ts";
import { isRecord } from "../json_object.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import type { ToolSpec } from "./tool_spec.ts";
import {
  classifyMessage,
  clip,
  errorResponse,
  filterMessage,
  isRequestId,
  JSONRPC_ERROR,
  type JsonRpcTransport,
  notificationMessage,
  type OutgoingMessage,
  type Params,
  type RequestId,
  resultResponse,
} from "./jsonrpc.ts";
import { ToolRegistry } from "./tool_registry.ts";

/** Protocol versions we speak, newest first. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly string[] = [
  "2025-11-25",
  "2025-06-18",
  "2025-03-26",
  "2024-11-05",
];

/** Answered when the client asks for a version we do not know (the spec's negotiation rule). */
export const LATEST_PROTOCOL_VERSION = "2025-11-25";

/**
 * Pause between two `notifications/progress` of a call that carries a progress token: under
 * the 5 s issue 14 promises, and far under the 60 s SDK-based hosts wait without one.
 */
export const PROGRESS_EVERY_MS = 4_000;

/** How long calls still running at the end of input may take to answer. */
export const DRAIN_GRACE_MS = 2_000;

/**
 * How long notifications stay held after the client's `notifications/initialized`. Claude
 * Code 2.1.197 starts listening for channel messages 60-250 ms after the handshake (after its
 * tools/list) and drops anything earlier; 1.5 s leaves a wide margin on a busy machine.
 */
export const STARTUP_HOLD_MS = 1_500;

/** Notifications held at most before `initialized`; later ones are dropped (the inbox keeps them). */
export const MAX_HELD_NOTIFICATIONS = 1_000;

/** Protocol revisions whose JSON-RPC layer includes batches (2025-06-18 removed them). */
export const BATCH_PROTOCOL_VERSIONS: readonly string[] = ["2024-11-05", "2025-03-26"];

/**
 * Requests in progress past which a batch's requests are refused (-32000) instead of run. The
 * stdio transport hands no more requests on once 128 single requests are unanswered
 * (stdio.ts; later ones wait, 64 lines at most, then reading stops), but a batch is one line:
 * without this, one 4 MiB line of 50,000 wait_for_message calls, sent again and again, would
 * hold every call in memory at once.
 */
export const MAX_IN_PROGRESS_FOR_BATCH = 256;

/**
 * Size (JSON text) of the batch requests in progress past which a batch's requests are
 * refused (-32000) too: 8 MiB, as the stdio transport's bound on the single requests in
 * progress (lib/mcp/unanswered.ts). A call holds its request until it answers, and the
 * transport cannot weigh the requests inside a batch; without this, 256 batches of one 4 MiB
 * request each would hold 1 GiB of text, some 20 GiB once parsed. The request that reaches the
 * bound may pass it by itself (a line is at most 4 MiB).
 */
export const MAX_BATCH_BYTES_IN_PROGRESS = 8 * 1024 * 1024;

/** JSON-RPC's implementation-defined server error: too many requests in progress. */
export const SERVER_BUSY = -32000;

/** Methods of capabilities we do not declare, answered with empty lists instead of -32601. */
const EMPTY_LISTS: Readonly<Record<string, Record<string, unknown[]>>> = {
  "resources/list": { resources: [] },
  "resources/templates/list": { resourceTemplates: [] },
  "prompts/list": { prompts: [] },
};

/** Experimental capabilities declared unless the caller says otherwise. */
const DEFAULT_EXPERIMENTAL = { "claude/channel": {} };

/** The tools a server offers and the deps their handlers receive. */
export interface ToolSet<Ctx> {
  tools: readonly ToolSpec<Ctx>[];
  /** Deps handed to every handler (shallow-copied, with the call's `signal` added). */
  context: Ctx;
}

/**
 * Where the tools come from: given now, or still loading. While they load, initialize and
 * ping are answered at once and tools/list and tools/call wait for them (so a program can
 * answer its host before loading the modules its tools live in). A load that fails answers
 * the waiting requests with an internal error; reporting the failure is the loader's job.
 */
export type ToolSource<Ctx> = ToolSet<Ctx> | { loading: Promise<ToolSet<Ctx>> };

/** What McpServer needs. */
export type McpServerOptions<Ctx> = ToolSource<Ctx> & McpServerSettings;

/** Everything McpServer needs besides its tools. */
export interface McpServerSettings {
  transport: JsonRpcTransport;
  /** Sent as serverInfo in the initialize result. */
  serverInfo: { name: string; version: string };
  log: Logger;
  /**
   * Builds the `instructions` text; called on every initialize so it reflects current
   * settings. Omitted, empty or throwing → no instructions field.
   */
  instructions?: () => string;
  /**
   * Times the grace period at end of input: calls still running when stdin ends get
   * DRAIN_GRACE_MS to answer before they are aborted. Without a clock they are aborted at once
   * (their replies are still sent).
   */
  clock?: Clock;
  /**
   * How long notifications are held after `notifications/initialized` (default
   * STARTUP_HOLD_MS). Timed with `clock`; without a clock they go out as soon as the client
   * says `initialized`.
   */
  startupHoldMs?: number;
  /**
   * `capabilities.experimental`. Default `{"claude/channel": {}}` (Claude Code channel
   * push); `{}` leaves the field out.
   */
  experimental?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /**
   * The one redaction step for everything the server sends: applied to every string of every
   * result, error and notification (tool results and channel pushes included) just before it
   * goes to the transport. main.ts passes the shared Redactor's `redact`; omitted, texts go
   * out as they are (tests of the protocol alone).
   */
  outgoingText?: (text: string) => string;
  /**
   * Held before answering `initialize`: main.ts passes a promise that settles once the first
   * register has answered (at most a few seconds), so a refused token stops the program before
   * the host sees a healthy server (issue 12). Must never reject. Omitted: answered at once.
   */
  initializeGate?: Promise<void>;
}

/**
 * One MCP session over one transport. Call `start()`, then await `closed` (resolves when the
 * transport closes, e.g. stdin EOF) or call `close()` (SIGINT/SIGTERM). Never throws on
 * anything a client sends.
 */
export class McpServer<Ctx extends object> {
  /** Resolves once the session is over: transport closed or close() called. Never rejects. */
  readonly closed: Promise<void>;
  /**
   * Resolves once the client has been heard: its first message has arrived and is being
   * handled (the reply to an initialize is already on its way), or the session ended without
   * one. A program can load what only later requests need from here on, so that work never
   * delays the first answer. Never rejects.
   */
  readonly heard: Promise<void>;
  #resolveHeard: () => void;
  /**
   * Resolves once the session is ending: the input ended (requests already read are still
   * being answered, see #drain) or close() was called; before `closed`. Never rejects.
   */
  readonly ending: Promise<void>;
  #resolveEnding: () => void;
  #opts: McpServerSettings;
  /** The tool table once known; until then #loading settles with it. */
  #tools: ToolRegistry<Ctx> | null = null;
  #loading: Promise<ToolRegistry<Ctx>>;
  #inFlight = new Map<RequestId, AbortController>();
  /** JSON size of the batch requests in progress (MAX_BATCH_BYTES_IN_PROGRESS). */
  #batchBytesInProgress = 0;
  /** Every request being handled, so the end of input can wait for their replies. */
  #running = new Set<Promise<void>>();
  /** Requests the client cancelled: their replies are never sent. */
  #cancelled = new Set<RequestId>();
  #isDraining = false;
  #isStarted = false;
  #isClosed = false;
  #isTransportClosing = false;
  #hasWarnedSendFailure = false;
  #resolveClosed: () => void;
  /** The revision agreed in initialize; "" before it. */
  #protocolVersion = "";
  /** "waiting" for initialized, "holding" for STARTUP_HOLD_MS after it, then "open". */
  #pushGate: "waiting" | "holding" | "open" = "waiting";
  #held: { message: OutgoingMessage; what: string; done: () => void }[] = [];
  #hasWarnedHeldOverflow = false;
  /** Aborted when the session closes: ends the start-up hold. */
  #closing = new AbortController();

  /**
   * Throws TypeError when a tool list given now is invalid (duplicate names, unsupported
   * schema); a loading list that turns out invalid fails like a failed load.
   */
  constructor(opts: McpServerOptions<Ctx>) {
    const { log } = opts;
    if ("loading" in opts) {
      this.#loading = opts.loading.then(({ tools, context }) => {
        this.#tools = new ToolRegistry(tools, context, log);
        return this.#tools;
      });
      // Requests waiting for the tools get the failure; this only keeps a load that fails
      // before any request from being an unhandled rejection (the loader reports it).
      this.#loading.catch((error) => log.debug("MCP tools failed to load", { error }));
    } else {
      this.#tools = new ToolRegistry(opts.tools, opts.context, log);
      this.#loading = Promise.resolve(this.#tools);
    }
    this.#opts = opts;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.closed = promise;
    this.#resolveClosed = resolve;
    const heard = Promise.withResolvers<void>();
    this.heard = heard.promise;
    this.#resolveHeard = heard.resolve;
    const ending = Promise.withResolvers<void>();
    this.ending = ending.promise;
    this.#resolveEnding = ending.resolve;
  }

  /** Hooks the transport and starts it. Throws if called twice or if the transport fails. */
  async start(): Promise<void> {
    if (this.#isStarted) throw new Error("McpServer.start was called twice");
    this.#isStarted = true;
    const { transport, log } = this.#opts;
    transport.onmessage = (message) => this.#receive(message);
    transport.onclose = () => {
      log.info("MCP input ended");
      this.#resolveEnding();
      void this.#drain();
    };
    transport.onerror = (error) => log.warn("MCP transport error", { error });
    await transport.start();
  }

  /** Ends the session: aborts every in-flight call, closes the transport. Never throws. */
  async close(): Promise<void> {
    this.#markClosed();
    if (!this.#isTransportClosing) {
      this.#isTransportClosing = true;
      try {
        await this.#opts.transport.close();
      } catch (error) {
        // Closing a transport that already broke has nothing left to do; note it for debugging.
        this.#opts.log.debug("MCP transport close failed", { error });
      }
    }
    await this.closed;
  }

  /**
   * Sends a server notification (e.g. `notifications/claude/channel`). Never throws or
   * rejects: when the transport is closed or the send fails, the message is dropped and
   * logged (warn the first time, debug after), so a dead host cannot stop the inbox.
   */
  async notify(method: string, params?: Record<string, unknown>): Promise<void> {
    const message = notificationMessage(method, params);
    if (this.#pushGate === "open" || this.#isClosed) {
      await this.#send(message, method);
      return;
    }
    if (this.#held.length >= MAX_HELD_NOTIFICATIONS) {
      const fields = { method: clip(method), held: this.#held.length };
      if (this.#hasWarnedHeldOverflow) this.#opts.log.debug("notification dropped", fields);
      else {
        this.#hasWarnedHeldOverflow = true;
        this.#opts.log.warn("too many notifications before the MCP client initialized; dropped", {
          ...fields,
          next: "nothing is lost: inbox_peek still lists every message",
        });
      }
      return;
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#held.push({ message, what: method, done: resolve });
    await promise;
  }

  /** Sends the held notifications in order once the hold is over; then opens the gate. */
  async #releaseHeld(): Promise<void> {
    const { clock, log } = this.#opts;
    const holdMs = this.#opts.startupHoldMs ?? STARTUP_HOLD_MS;
    if (clock !== undefined && holdMs > 0) await clock.sleep(holdMs, this.#closing.signal);
    if (this.#held.length > 0) {
      log.debug("sending held notifications", { count: this.#held.length });
    }
    // Notifications made while these go out join the queue, so the order is kept.
    for (let next = this.#held.shift(); next !== undefined; next = this.#held.shift()) {
      await this.#send(next.message, next.what);
      next.done();
    }
    this.#pushGate = "open";
  }

  #receive(raw: unknown): void {
    this.#dispatchMessage(raw);
    this.#resolveHeard();
  }

  #dispatchMessage(raw: unknown): void {
    if (Array.isArray(raw) && BATCH_PROTOCOL_VERSIONS.includes(this.#protocolVersion)) {
      this.#receiveBatch(raw);
      return;
    }
    const { log } = this.#opts;
    const message = classifyMessage(raw);
    switch (message.kind) {
      case "invalid":
        log.warn("invalid JSON-RPC message from the MCP client", { problem: message.problem });
        if (message.reply !== null) void this.#send(message.reply, "error reply");
        return;
      case "response":
        log.debug("ignoring a JSON-RPC response: this server sends no requests", {
          id: clip(String(message.id)),
        });
        return;
      case "notification":
        this.#onNotification(message.method, message.params);
        return;
      case "request":
        // #handleRequest catches everything, so this promise never rejects.
        this.#track(this.#handleRequest(message.id, message.method, message.params));
        return;
    }
  }

  /**
   * A batch in a session whose revision allows them (JSON-RPC 2.0 §6): every request is
   * handled as if sent alone, and their replies go out together as one array once all are
   * ready. Notifications and responses in it get no reply; an empty batch gets one -32600; a
   * batch of notifications only gets nothing. `initialize` must not be batched (2025-03-26,
   * lifecycle), so there it gets -32600.
   */
  #receiveBatch(items: readonly unknown[]): void {
    const { log } = this.#opts;
    if (items.length === 0) {
      void this.#send(
        errorResponse(null, {
          code: JSONRPC_ERROR.INVALID_REQUEST,
          message: "Invalid Request: empty batch",
        }),
        "error reply",
      );
      return;
    }
    const replies: Promise<OutgoingMessage | null>[] = [];
    for (const item of items) {
      const message = classifyMessage(item);
      switch (message.kind) {
        case "invalid":
          log.warn("invalid JSON-RPC message in a batch", { problem: message.problem });
          if (message.reply !== null) replies.push(Promise.resolve(message.reply));
          break;
        case "response":
          log.debug("ignoring a JSON-RPC response in a batch", { id: clip(String(message.id)) });
          break;
        case "notification":
          this.#onNotification(message.method, message.params);
          break;
        case "request":
          if (message.method === "initialize") {
            replies.push(Promise.resolve(errorResponse(message.id, {
              code: JSONRPC_ERROR.INVALID_REQUEST,
              message: "Invalid Request: initialize must not be part of a batch",
            })));
          } else if (
            this.#inFlight.size >= MAX_IN_PROGRESS_FOR_BATCH ||
            this.#batchBytesInProgress >= MAX_BATCH_BYTES_IN_PROGRESS
          ) {
            const what = this.#inFlight.size >= MAX_IN_PROGRESS_FOR_BATCH
              ? `${MAX_IN_PROGRESS_FOR_BATCH} requests are`
              : `${formatBytes(MAX_BATCH_BYTES_IN_PROGRESS)} of batch requests is`;
            replies.push(Promise.resolve(errorResponse(message.id, {
              code: SERVER_BUSY,
              message: `Server busy: ${what} in progress; ` +
                "send this one again once some have been answered",
            })));
          } else {
            // Parsed from JSON, so it serialises again (no cycles, no bigint).
            const size = JSON.stringify(item).length;
            this.#batchBytesInProgress += size;
            replies.push(
              this.#answer(message.id, message.method, message.params).finally(() => {
                this.#batchBytesInProgress -= size;
              }),
            );
          }
      }
    }
    if (replies.length === 0) return;
    this.#track((async () => {
      const ready = (await Promise.all(replies)).filter((r) => r !== null);
      if (ready.length > 0) await this.#send(ready, "batch reply");
    })());
  }

  #onNotification(method: string, params: Params | undefined): void {
    const { log } = this.#opts;
    if (method === "notifications/initialized") {
      log.debug("MCP client finished initialization");
      if (this.#pushGate === "waiting") {
        this.#pushGate = "holding";
        void this.#releaseHeld(); // never rejects: #send catches every failure
      }
    } else if (method === "notifications/cancelled") {
      this.#cancel(params);
    } else {
      log.debug("ignoring notification", { method: clip(method) });
    }
  }

  #cancel(params: Params | undefined): void {
    const { log } = this.#opts;
    const requestId = isRecord(params) ? params.requestId : undefined;
    const controller = isRequestId(requestId) ? this.#inFlight.get(requestId) : undefined;
    if (controller === undefined || !isRequestId(requestId)) {
      log.debug("cancel for no request in progress", { requestId: clip(String(requestId)) });
      return;
    }
    const reason = isRecord(params) && typeof params.reason === "string"
      ? clip(params.reason)
      : "no reason given";
    log.info("request cancelled by the MCP client", { requestId: clip(String(requestId)), reason });
    this.#cancelled.add(requestId);
    controller.abort(new DOMException(`Cancelled by the client: ${reason}`, "AbortError"));
  }

  /**
   * Handles one request and hands its reply to `deliver` (default: send it alone). The reply
   * of a cancelled request is never delivered. Never rejects.
   */
  async #handleRequest(
    id: RequestId,
    method: string,
    params: Params | undefined,
    deliver: (reply: OutgoingMessage) => Promise<void> = (reply) => this.#send(reply, method),
  ): Promise<void> {
    const { log } = this.#opts;
    if (this.#inFlight.has(id)) {
      log.warn("MCP client reused the id of a request in progress", {
        id: clip(String(id)),
        method: clip(method),
      });
      await deliver(
        errorResponse(id, {
          code: JSONRPC_ERROR.INVALID_REQUEST,
          message: "Invalid Request: this id belongs to a request still in progress",
        }),
      );
      return;
    }
    const controller = new AbortController();
    this.#inFlight.set(id, controller);
    let reply: OutgoingMessage;
    try {
      reply = await this.#dispatch(id, method, params, controller.signal);
    } catch (error) {
      // Only a bug in this file, or tools that failed to load, land here (handlers are
      // wrapped in ToolRegistry.call).
      log.error("MCP request failed", { method: clip(method), error });
      reply = errorResponse(id, { code: JSONRPC_ERROR.INTERNAL_ERROR, message: "Internal error" });
    } finally {
      this.#inFlight.delete(id);
    }
    if (this.#cancelled.delete(id)) {
      log.debug("not sending the reply of a cancelled request", {
        id: clip(String(id)),
        method: clip(method),
      });
      return;
    }
    await deliver(reply);
  }

  /** The reply a request in a batch gets, or null when it has none (cancelled). */
  #answer(id: RequestId, method: string, params: Params | undefined) {
    return new Promise<OutgoingMessage | null>((resolve) => {
      const collect = (reply: OutgoingMessage) => {
        resolve(reply);
        return Promise.resolve();
      };
      void this.#handleRequest(id, method, params, collect).then(() => resolve(null));
    });
  }

  async #dispatch(
    id: RequestId,
    method: string,
    params: Params | undefined,
    signal: AbortSignal,
  ): Promise<OutgoingMessage> {
    switch (method) {
      case "initialize":
        if (this.#opts.initializeGate !== undefined) await this.#opts.initializeGate;
        return resultResponse(id, this.#initialize(params));
      case "ping":
        return resultResponse(id, {});
      case "tools/list":
        // A pipelined request is answered after the held initialize, never before it.
        if (this.#opts.initializeGate !== undefined) await this.#opts.initializeGate;
        return resultResponse(id, { tools: (this.#tools ?? await this.#loading).list });
      case "tools/call": {
        if (this.#opts.initializeGate !== undefined) await this.#opts.initializeGate;
        const tools = this.#tools ?? await this.#loading;
        const outcome = await this.#withProgress(
          params,
          signal,
          (progress) => tools.call(params, signal, progress),
        );
        return "result" in outcome
          ? resultResponse(id, outcome.result)
          : errorResponse(id, { code: JSONRPC_ERROR.INVALID_PARAMS, message: outcome.invalid });
      }
      default: {
        const empty = Object.hasOwn(EMPTY_LISTS, method) ? EMPTY_LISTS[method] : undefined;
        if (empty !== undefined) return resultResponse(id, structuredClone(empty));
        return errorResponse(id, {
          code: JSONRPC_ERROR.METHOD_NOT_FOUND,
          message: `Method not found: ${clip(method)}`,
        });
      }
    }
  }

  /**
   * Runs one tools/call. When the request carries `_meta.progressToken` (MCP "Progress"), the
   * handler gets a `progress(message)` reporter and, while it runs, a
   * `notifications/progress` goes out at least every PROGRESS_EVERY_MS with the latest
   * message: SDK-based hosts reset their request timeout on each one (upstream-latest §3 #8),
   * so a long wait or delegation is not cut at 60 s. Progress answers a request, so the
   * start-up hold on pushes does not apply; nothing is sent once the call has settled.
   */
  async #withProgress<T>(
    params: Params | undefined,
    signal: AbortSignal,
    run: (progress: ((message: string) => void) | undefined) => Promise<T>,
  ): Promise<T> {
    const meta = isRecord(params) && isRecord(params._meta) ? params._meta : undefined;
    const token = meta?.progressToken;
    const clock = this.#opts.clock;
    if (typeof token !== "string" && typeof token !== "number") return await run(undefined);
    let count = 0;
    let latest = "working";
    let isDone = false;
    const send = () => {
      if (isDone || signal.aborted) return;
      count += 1;
      void this.#send(
        notificationMessage("notifications/progress", {
          progressToken: token,
          progress: count,
          message: latest,
        }),
        "notifications/progress",
      );
    };
    const stop = new AbortController();
    // Without a clock (tests of the protocol alone) only the handler's own reports go out.
    const ticking = clock === undefined ? Promise.resolve() : (async () => {
      while (!stop.signal.aborted) {
        await clock.sleep(PROGRESS_EVERY_MS, stop.signal);
        send();
      }
    })();
    try {
      return await run((message) => {
        latest = clip(message);
        send();
      });
    } finally {
      isDone = true;
      stop.abort();
      await ticking;
    }
  }

  #initialize(params: Params | undefined): Record<string, unknown> {
    const { log, serverInfo } = this.#opts;
    const requested = isRecord(params) ? params.protocolVersion : undefined;
    const protocolVersion = typeof requested === "string" &&
        SUPPORTED_PROTOCOL_VERSIONS.includes(requested)
      ? requested
      : LATEST_PROTOCOL_VERSION;
    const clientInfo = isRecord(params) && isRecord(params.clientInfo) ? params.clientInfo : {};
    log.info("MCP client connected", {
      client: typeof clientInfo.name === "string" ? clip(clientInfo.name) : "unknown",
      clientVersion: typeof clientInfo.version === "string" ? clip(clientInfo.version) : "",
      requestedVersion: typeof requested === "string" ? clip(requested) : "",
      protocolVersion,
    });
    this.#protocolVersion = protocolVersion;
    const experimental = this.#opts.experimental ?? DEFAULT_EXPERIMENTAL;
    const capabilities: Record<string, unknown> = { tools: { listChanged: false } };
    if (Object.keys(experimental).length > 0) capabilities.experimental = experimental;
    const result: Record<string, unknown> = {
      protocolVersion,
      capabilities,
      serverInfo: { name: serverInfo.name, version: serverInfo.version },
    };
    const instructions = this.#instructions();
    if (instructions !== "") result.instructions = instructions;
    return result;
  }

  #instructions(): string {
    const build = this.#opts.instructions;
    if (build === undefined) return "";
    try {
      return build();
    } catch (error) {
      // Instructions are guidance; a bug there must not stop the host from connecting.
      this.#opts.log.error("building the MCP instructions failed; sending none", { error });
      return "";
    }
  }

  /**
   * Sends one message; after close or on failure, drops it and logs (warn once, then debug;
   * an answer dropped after close only at debug).
   */
  async #send(message: OutgoingMessage | OutgoingMessage[], what: string): Promise<void> {
    if (this.#isClosed) {
      if (isAnswer(message)) {
        // The answer to a request still running at close (e.g. initialize held for the first
        // register when a refused token stops us): nobody waits for it any more; not news.
        this.#opts.log.debug("cannot send to the MCP client; message dropped", {
          what: clip(what),
          error: "the MCP session is closed",
        });
        return;
      }
      this.#reportDropped(what, "the MCP session is closed");
      return;
    }
    const filter = this.#opts.outgoingText;
    try {
      await this.#opts.transport.send(
        filter === undefined
          ? message
          : Array.isArray(message)
          ? message.map((m) => filterMessage(m, filter))
          : filterMessage(message, filter),
      );
    } catch (error) {
      this.#reportDropped(what, error);
    }
  }

  #reportDropped(what: string, why: unknown): void {
    const fields = { what: clip(what), error: why };
    if (this.#hasWarnedSendFailure) {
      this.#opts.log.debug("cannot send to the MCP client; message dropped", fields);
      return;
    }
    this.#hasWarnedSendFailure = true;
    this.#opts.log.warn("cannot send to the MCP client; message dropped", {
      ...fields,
      next: "the host has probably gone; later drops are logged at debug",
    });
  }

  #track(request: Promise<void>): void {
    this.#running.add(request);
    void request.finally(() => this.#running.delete(request));
  }

  /**
   * The input ended (stdin EOF): requests already read still get their replies, so a script
   * piping requests into the server sees every answer. Calls still running after the grace
   * period (a long wait_for_message) are aborted and answer at once; then the session closes.
   */
  async #drain(): Promise<void> {
    if (this.#isClosed || this.#isDraining) return;
    this.#isDraining = true;
    const clock = this.#opts.clock;
    if (this.#running.size > 0 && clock !== undefined) {
      const stopGrace = new AbortController();
      const grace = clock.sleep(DRAIN_GRACE_MS, stopGrace.signal).then(() => "grace" as const);
      const settled = Promise.allSettled([...this.#running]).then(() => "done" as const);
      const first = await Promise.race([settled, grace]);
      stopGrace.abort();
      if (first === "grace") this.#opts.log.info("input ended; stopping calls still running");
    }
    for (const controller of this.#inFlight.values()) {
      controller.abort(new DOMException("The MCP input ended", "AbortError"));
    }
    await Promise.allSettled([...this.#running]);
    this.#markClosed();
  }

  #markClosed(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#closing.abort();
    if (this.#pushGate === "waiting" && this.#held.length > 0) {
      this.#opts.log.debug("the session closed before the MCP client initialized", {
        droppedNotifications: this.#held.length,
      });
      for (const held of this.#held.splice(0)) held.done();
    }
    for (const controller of this.#inFlight.values()) {
      controller.abort(new DOMException("The MCP session closed", "AbortError"));
    }
    this.#resolveEnding();
    this.#resolveClosed();
    this.#resolveHeard();
  }
}

/** True for a response (or a batch of them): it has an id and no method. */
function isAnswer(message: OutgoingMessage | OutgoingMessage[]): boolean {
  const one = Array.isArray(message) ? message[0] : message;
  return one !== undefined && "id" in one && !("method" in one);
}
