/**
 * One MCP Streamable HTTP session as a JsonRpcTransport (the shape McpServer drives): each
 * POST hands its message(s) to `onmessage` and gets back the replies, as an SSE stream
 * (`Accept: text/event-stream`) or one JSON body; server-initiated messages go to the
 * session's GET stream. Owns the routing of replies to the POST that asked; the HTTP checks and
 * the session table live in lib/mcp/http.ts.
 *
 * Routing rules (MCP 2025-11-25 basic/transports, "Sending Messages to the Server"):
 * - A reply goes to the POST whose request has its id (several POSTs may be open at once).
 *   A request reusing the id of one still in progress in the session gets its -32600 on its
 *   own POST (in a JSON reply inside its batch's array; on an SSE stream as an event of its
 *   own): routed by id, it would land in the earlier POST. A batch refused whole (one -32600
 *   with id null, in a revision without batches) ends its POST with that reply.
 * - `notifications/progress` goes to the POST stream of the request that set that
 *   progressToken while it is open; every other notification (channel pushes) goes to the GET
 *   stream. Without an open GET stream a push is dropped and logged (debug): nothing is lost,
 *   the inbox keeps every message for the inbox tools. Resumability (Last-Event-ID) is not
 *   offered: a client that reconnects gets new messages only.
 * - A client that drops a POST stream does not cancel its request (the spec says so); the reply
 *   is then dropped.
 * - A stream's queue is bounded (SseStream): notifications are dropped past it, like stdio.
 */
import { isRecord } from "../json_object.ts";
import type { Logger } from "../log.ts";
import {
  cancelledRequestId,
  classifyMessage,
  errorResponse,
  idKey,
  isRequestId,
  JSONRPC_ERROR,
  type JsonRpcTransport,
  type MessageHandler,
  type WireMessage,
} from "./jsonrpc.ts";
import { DEFAULT_SSE_QUEUE_BYTES, SseStream } from "./sse_stream.ts";
import { SERVER_BUSY } from "./server.ts";
import { DEFAULT_MAX_UNANSWERED } from "./unanswered.ts";
import { wellFormedJson } from "./wire_json.ts";

/** How a POST wants its replies. */
export type ReplyMode = "sse" | "json";

/** One POST waiting for replies. */
interface Exchange {
  /** Ids of its requests not answered yet (key: idKey). */
  pending: Set<string>;
  /** Progress tokens its requests set (key: idKey). */
  progressTokens: string[];
  /** Replies collected (JSON mode, or before the stream exists). */
  replies: (WireMessage | readonly WireMessage[])[];
  stream: SseStream | undefined;
  /** Progress sent before the stream exists (a handler that reports at once): sent first. */
  earlyProgress: WireMessage[];
  /** Resolves when every request of the POST is answered (JSON mode waits for it). */
  done: () => void;
  finished: Promise<void>;
}

/** What a session needs. */
export interface HttpSessionOptions {
  id: string;
  log: Logger;
  /** Bytes one SSE stream may queue (default DEFAULT_SSE_QUEUE_BYTES). */
  maxQueuedBytes?: number;
  /**
   * Requests of this session received and not yet answered, at most (default
   * DEFAULT_MAX_UNANSWERED, stdio's bound): past it a POST gets 503, so a client cannot pile
   * up calls without limit, as stdio holds later requests back at the same count.
   */
  maxUnanswered?: number;
}

/** One session's transport; the server side of it is an McpServer. */
export class HttpSessionTransport implements JsonRpcTransport {
  onmessage?: MessageHandler | undefined;
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;

  readonly id: string;
  #log: Logger;
  #maxQueuedBytes: number;
  #maxUnanswered: number;
  #byId = new Map<string, Exchange[]>();
  #byProgressToken = new Map<string, Exchange>();
  #exchanges = new Set<Exchange>();
  /** The exchange whose messages are being handed to onmessage right now. */
  #current: Exchange | undefined;
  #getStream: SseStream | undefined;
  #isClosed = false;
  #droppedPushes = 0;

  constructor(opts: HttpSessionOptions) {
    this.id = opts.id;
    this.#log = opts.log;
    this.#maxQueuedBytes = opts.maxQueuedBytes ?? DEFAULT_SSE_QUEUE_BYTES;
    this.#maxUnanswered = opts.maxUnanswered ?? DEFAULT_MAX_UNANSWERED;
  }

  /** True while a POST waits for replies or the GET stream is open: the session is in use. */
  get isBusy(): boolean {
    return this.#exchanges.size > 0 || (this.#getStream?.isOpen ?? false);
  }

  /** Whether the GET stream is open. */
  get hasGetStream(): boolean {
    return this.#getStream?.isOpen ?? false;
  }

  /** Pushes dropped for want of a GET stream (or a full one), since the session began. */
  get droppedPushes(): number {
    return this.#droppedPushes;
  }

  /** Nothing to start: the HTTP handler feeds this session request by request. */
  start(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Handles one POST body (already parsed JSON: a message or a batch). Resolves with the
   * response: 202 when nothing in it expects a reply, else the replies as `mode` asks.
   */
  async post(body: unknown, mode: ReplyMode, headers: Headers): Promise<Response> {
    const { promise: finished, resolve: done } = Promise.withResolvers<void>();
    const exchange: Exchange = {
      pending: new Set(),
      progressTokens: [],
      replies: [],
      stream: undefined,
      earlyProgress: [],
      done,
      finished,
    };
    const passed = this.#withoutReusedIds(body, exchange);
    const items = Array.isArray(passed) ? passed : [passed];
    // Past the bound the POST is refused before anything in it acts: a cancellation in a
    // refused batch must not end another POST's wait while the server runs that call on.
    const requests = new Set(items.flatMap((item) => {
      const message = classifyMessage(item);
      return message.kind === "request" ? [idKey(message.id)] : [];
    }));
    if (
      requests.size > 0 &&
      countPending(this.#exchanges) + requests.size > this.#maxUnanswered
    ) {
      return busyResponse(this.#maxUnanswered, headers);
    }
    for (const item of items) this.#noteIncoming(item, exchange);
    this.#exchanges.add(exchange);
    this.#current = exchange;
    try {
      if (passed !== undefined) this.onmessage?.(passed);
    } finally {
      this.#current = undefined;
    }
    if (exchange.pending.size === 0) {
      this.#finish(exchange);
      if (exchange.replies.length === 0) return new Response(null, { status: 202, headers });
      return jsonResponse(exchange.replies, headers);
    }
    if (mode === "json") {
      await finished;
      return jsonResponse(exchange.replies, headers);
    }
    const stream = new SseStream(() => this.#finish(exchange), this.#maxQueuedBytes);
    exchange.stream = stream;
    for (const message of exchange.earlyProgress.splice(0)) stream.write(message, true);
    for (const reply of exchange.replies.splice(0)) stream.write(reply, false);
    headers.set("content-type", "text/event-stream");
    headers.set("cache-control", "no-cache");
    return new Response(stream.body, { status: 200, headers });
  }

  /** Opens the GET stream; null when one is open already (the caller answers 409). */
  openGetStream(headers: Headers): Response | null {
    if (this.#getStream?.isOpen) return null;
    const stream = new SseStream(() => {
      this.#log.debug("MCP HTTP GET stream closed by the client", { session: this.id });
    }, this.#maxQueuedBytes);
    this.#getStream = stream;
    headers.set("content-type", "text/event-stream");
    headers.set("cache-control", "no-cache");
    return new Response(stream.body, { status: 200, headers });
  }

  /**
   * Sends replies to the POST that asked, progress to the POST whose progressToken matches,
   * other notifications to the GET stream. Rejects once the session is closed.
   */
  send(message: WireMessage | readonly WireMessage[]): Promise<void> {
    if (this.#isClosed) return Promise.reject(new Error("Cannot send: the HTTP session is closed"));
    const items = Array.isArray(message) ? message : [message];
    const first = items[0];
    if (!Array.isArray(message) && first !== undefined && isNotificationMessage(first)) {
      this.#sendNotification(first);
      return Promise.resolve();
    }
    // A reply made while its POST is being handed on (the server answers a malformed message,
    // or a request reusing the id of a call in progress, at once) belongs to that POST: routed
    // by id it would land in the earlier call's POST and end it with the wrong answer. Replies
    // to requests come later (every request is answered asynchronously), routed by id.
    const exchange = this.#current ?? this.#exchangeFor(items);
    if (exchange === undefined) {
      this.#log.debug("MCP HTTP reply for a request no POST waits for; dropped", {
        session: this.id,
      });
      return Promise.resolve();
    }
    for (const item of items) {
      if (isRecord(item) && isRequestId(item.id)) this.#settle(exchange, idKey(item.id));
    }
    if (exchange === this.#current && !Array.isArray(message) && first?.id === null) {
      // One reply with id null while its POST is handed on refuses the body whole (a batch in
      // a session whose revision has no batches): nothing else will come for it.
      for (const key of [...exchange.pending]) this.#settle(exchange, key);
    }
    if (exchange.stream !== undefined) exchange.stream.write(message, false);
    else exchange.replies.push(message);
    if (exchange.pending.size === 0 && exchange !== this.#current) this.#finish(exchange);
    return Promise.resolve();
  }

  /** Ends the session: every stream ends, waiting POSTs get what they have; onclose fires. */
  close(): Promise<void> {
    if (this.#isClosed) return Promise.resolve();
    this.#isClosed = true;
    for (const exchange of [...this.#exchanges]) this.#finish(exchange);
    this.#getStream?.close();
    this.onclose?.();
    return Promise.resolve();
  }

  #sendNotification(message: WireMessage): void {
    const params = isRecord(message.params) ? message.params : {};
    if (message.method === "notifications/progress" && isRequestId(params.progressToken)) {
      const exchange = this.#byProgressToken.get(idKey(params.progressToken));
      if (exchange !== undefined && exchange.stream === undefined) {
        // Still inside post(): the stream is made as soon as onmessage returns (JSON replies
        // carry no progress: the list is then dropped with the exchange).
        exchange.earlyProgress.push(message);
        return;
      }
      if (exchange?.stream?.write(message, true)) return;
    }
    if (this.#getStream?.write(message, true)) return;
    this.#droppedPushes += 1;
    this.#log.debug(
      "MCP HTTP session has no open GET stream (or it is full); notification dropped",
      {
        session: this.id,
        method: String(message.method),
      },
    );
  }

  /**
   * A batch without its requests that reuse the id of a request still in progress in this
   * session (JSON-RPC: ids must not repeat while pending); each of those gets its -32600 on
   * the batch's POST here (inside the JSON reply's array, or as an SSE event of its own). A
   * reply is routed to its POST by id, so the server's answer to such a request would land in
   * the earlier POST. Undefined when nothing is left to hand on. A single message passes as it
   * is: the server answers a reused id at once, and a reply made while its POST is handed on
   * goes to that POST (see send).
   */
  #withoutReusedIds(body: unknown, exchange: Exchange): unknown {
    if (!Array.isArray(body)) return body;
    const refused: WireMessage[] = [];
    const left = body.filter((item) => {
      if (!isRecord(item) || typeof item.method !== "string" || !isRequestId(item.id)) {
        return true;
      }
      if (!this.#byId.has(idKey(item.id))) return true;
      refused.push(errorResponse(item.id, {
        code: JSONRPC_ERROR.INVALID_REQUEST,
        message: "Invalid Request: this id belongs to a request still in progress",
      }));
      return false;
    });
    if (refused.length === 0) return body;
    // All refused: their errors are the batch's reply (an array, as for any batch).
    if (left.length === 0) {
      exchange.replies.push(refused);
      return undefined;
    }
    exchange.replies.push(...refused);
    return left;
  }

  #noteIncoming(item: unknown, exchange: Exchange): void {
    // The cancellations the server acts on (lib/mcp/jsonrpc.ts), no others: a POST ended for
    // a call the server runs on would lose its answer.
    const cancelled = cancelledRequestId(item);
    if (cancelled !== undefined) {
      this.#cancel(idKey(cancelled));
      return;
    }
    // Only what the server answers later with its id waits: a malformed message is answered
    // at once (while its POST is handed on, see send), and one whose jsonrpc is not "2.0"
    // with id null, which no pending id would ever settle.
    const message = classifyMessage(item);
    if (message.kind !== "request") return;
    const key = idKey(message.id);
    exchange.pending.add(key);
    const list = this.#byId.get(key);
    if (list === undefined) this.#byId.set(key, [exchange]);
    else list.push(exchange);
    const params = message.params;
    const meta = isRecord(params) && isRecord(params._meta) ? params._meta : {};
    if (isRequestId(meta.progressToken)) {
      const token = idKey(meta.progressToken);
      exchange.progressTokens.push(token);
      this.#byProgressToken.set(token, exchange);
    }
  }

  /** A cancelled request gets no reply (the server drops it): stop waiting for it. */
  #cancel(key: string): void {
    const exchange = this.#byId.get(key)?.[0];
    if (exchange === undefined) return;
    this.#settle(exchange, key);
    if (exchange.pending.size === 0) this.#finish(exchange);
  }

  #exchangeFor(items: readonly WireMessage[]): Exchange | undefined {
    for (const item of items) {
      if (!isRecord(item) || !isRequestId(item.id)) continue;
      const exchange = this.#byId.get(idKey(item.id))?.[0];
      if (exchange !== undefined) return exchange;
    }
    return undefined;
  }

  #settle(exchange: Exchange, key: string): void {
    if (!exchange.pending.delete(key)) return;
    const list = this.#byId.get(key);
    if (list === undefined) return;
    const at = list.indexOf(exchange);
    if (at !== -1) list.splice(at, 1);
    if (list.length === 0) this.#byId.delete(key);
  }

  #finish(exchange: Exchange): void {
    if (!this.#exchanges.delete(exchange)) return;
    for (const key of [...exchange.pending]) this.#settle(exchange, key);
    for (const token of exchange.progressTokens) {
      if (this.#byProgressToken.get(token) === exchange) this.#byProgressToken.delete(token);
    }
    exchange.stream?.close();
    exchange.done();
  }
}

/** Requests of the session's open POSTs not answered yet. */
function countPending(exchanges: Iterable<Exchange>): number {
  let count = 0;
  for (const exchange of exchanges) count += exchange.pending.size;
  return count;
}

/** 503 with a JSON-RPC error, for a POST past the session's unanswered-request bound. */
function busyResponse(max: number, headers: Headers): Response {
  headers.set("content-type", "application/json");
  headers.set("retry-after", "1");
  const error = errorResponse(null, {
    code: SERVER_BUSY,
    message: `Server busy: ${max} requests of this session are unanswered; ` +
      "send more once some are answered",
  });
  return new Response(wellFormedJson(error), { status: 503, headers });
}

function jsonResponse(
  replies: readonly (WireMessage | readonly WireMessage[])[],
  headers: Headers,
): Response {
  headers.set("content-type", "application/json");
  const body = replies.length === 1 ? replies[0] : replies.flat();
  return new Response(wellFormedJson(body), { status: 200, headers });
}

function isNotificationMessage(message: WireMessage): boolean {
  return typeof message.method === "string" && !("id" in message);
}
