/**
 * The stdio transport: newline-delimited JSON-RPC in from a byte stream (stdin), one message
 * per line out to a writer (stdout). It owns framing only: what a message means is the
 * server's business (lib/mcp/server.ts), and the only reply it makes itself is -32700 for a
 * line that is not JSON (or too long, or not UTF-8).
 *
 * - Lines are handled as soon as their newline arrives: the transport never waits for a full
 *   buffer or for EOF (upstream hung hosts that keep stdin open, feature catalogue §4 case 8).
 * - CRLF is accepted, blank lines are skipped, and UTF-8 is decoded per complete line, so a
 *   character split across chunks arrives whole.
 * - A line over `maxLineBytes` is dropped (logged, -32700 with id null) and reading resyncs
 *   at the next newline, so a runaway client cannot grow memory without bound.
 * - Bytes after the last newline at EOF are not a message (MCP delimits by newline): dropped
 *   and logged.
 * - Output goes through lib/mcp/output_queue.ts: serialised whole lines in order, bounded in
 *   bytes (`maxQueuedBytes`), notifications dropped past the bound, responses waiting in line
 *   (each encoded only when it reaches the head), a broken pipe logged once (§4 case 10).
 *   stdin is not read while the output is full, so no new requests pile up behind answers
 *   that cannot be written (issue 11 item 13).
 * - Requests handed to the server and not yet answered are capped too (`maxUnanswered`,
 *   lib/mcp/unanswered.ts): a host can write thousands of requests before the first answer is
 *   queued, and each answer may be a 512 KiB tool result; each call also holds its request
 *   (8 MiB of request lines at most). The cap holds line by line, also inside one chunk of
 *   stdin that carries hundreds of requests. At the cap stdin is still read, line by line, so
 *   that a `notifications/cancelled` (or any other notification, or the host's response to a
 *   request of ours) reaches the server at once, ahead of waiting requests: the call it names
 *   stops and frees its place. Lines that will be answered (requests, batches, malformed
 *   messages that get an error) wait instead, as text, in the order read, in
 *   lib/mcp/waiting_requests.ts, and go on as places free (an answer goes out, or a
 *   cancellation forgets a call), so answers keep the order they had; a cancellation for a
 *   request still waiting there drops it (no answer, as MCP asks), also inside a batch.
 *   Reading stops once that line holds 64 lines or 1 MiB of line bytes
 *   (DEFAULT_MAX_WAITING_LINES/BYTES), so memory stays bounded; the pipe holds the rest.
 *   Requests inside a batch are not counted (the server may answer a batch with one error);
 *   the batch itself waits like a request.
 * - At EOF the lines still waiting are handed on at once, past the cap (64 lines at most),
 *   then onclose fires: they were read before the host closed stdin, and the server's drain
 *   (lib/mcp/server.ts DRAIN_GRACE_MS, then calls still running are stopped) must start now,
 *   not once long calls holding every place have ended on their own.
 */
import type { Logger } from "../log.ts";
import {
  cancelledRequestId,
  clip,
  errorResponse,
  JSONRPC_ERROR,
  type JsonRpcTransport,
  parseJson,
  type WireMessage,
} from "./jsonrpc.ts";
import { type ByteWriter, OutputQueue } from "./output_queue.ts";
import {
  DEFAULT_MAX_UNANSWERED,
  DEFAULT_MAX_UNANSWERED_BYTES,
  DEFAULT_MAX_UNANSWERED_REQUEST_BYTES,
  UnansweredRequests,
} from "./unanswered.ts";
import {
  DEFAULT_MAX_WAITING_BYTES,
  DEFAULT_MAX_WAITING_LINES,
  expectsAnswer,
  WaitingRequests,
} from "./waiting_requests.ts";

export type { ByteWriter } from "./output_queue.ts";

/** Longest line accepted by default: 4 MiB, far above any MCP request we expect. */
export const DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024;
/**
 * Output waiting for stdout, by default: 8 MiB, sixteen tool results at their 512 KiB cap or
 * thousands of pushes; a host that reads at all drains it in milliseconds.
 */
export const DEFAULT_MAX_QUEUED_BYTES = 8 * 1024 * 1024;

const NEWLINE = 0x0a;

/** What StdioTransport needs; main.ts passes Deno.stdin.readable and Deno.stdout. */
export interface StdioTransportOptions {
  input: ReadableStream<Uint8Array>;
  output: ByteWriter;
  log: Logger;
  /** Longest accepted line in bytes, newline excluded. Default DEFAULT_MAX_LINE_BYTES. */
  maxLineBytes?: number;
  /** Bytes queued for stdout before pushes are dropped and responses wait. */
  maxQueuedBytes?: number;
  /**
   * Requests handed to the server and not yet answered before later requests wait (stdin is
   * still read for notifications, up to DEFAULT_MAX_WAITING_LINES/BYTES of waiting lines).
   */
  maxUnanswered?: number;
  /**
   * Answer bytes in the making (unanswered requests times the recent answer size, once at
   * least MIN_UNANSWERED are unanswered) before later requests wait, as for maxUnanswered.
   */
  maxUnansweredBytes?: number;
}

/** The output queue as it stands (for tests, the bench and a future status tool). */
export interface OutputQueueState {
  /** Messages accepted and not yet fully written. */
  messages: number;
  /** Their bytes. */
  bytes: number;
  /** Responses waiting for room before they may join the queue, in the order sent. */
  waitingResponses: number;
  /** Encoded bytes those hold: only the head of the line is encoded (at most one message). */
  waitingBytes: number;
  /** Notifications dropped because the queue was full, since start. */
  droppedNotifications: number;
  /** Requests handed to the server and not yet answered (nor cancelled). */
  unanswered: number;
  /** The recent answer size in bytes, which weighs the unanswered requests. */
  answerBytes: number;
  /** Lines read and waiting for the unanswered cap to free a place (requests, batches). */
  waitingRequests: number;
  /** Their bytes as read. */
  waitingRequestBytes: number;
}

/** MCP over stdio. Start it once; `onclose` fires once, at EOF, on a read error or on close(). */
export class StdioTransport implements JsonRpcTransport {
  onmessage?: ((message: unknown) => void) | undefined;
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;

  #input: ReadableStream<Uint8Array>;
  #out: OutputQueue;
  #log: Logger;
  #maxLineBytes: number;
  #unanswered: UnansweredRequests;
  /** Requests read while the unanswered cap is reached, in order, as text. */
  #waiting = new WaitingRequests({
    maxLines: DEFAULT_MAX_WAITING_LINES,
    maxBytes: DEFAULT_MAX_WAITING_BYTES,
  });
  /** True while a hand-on of waiting requests is due in a microtask. */
  #isHandOnDue = false;
  /** The read loop, paused until answers go out or waiting requests go on. */
  #roomWaiters: (() => void)[] = [];
  #decoder = new TextDecoder("utf-8", { fatal: true });
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #reading: Promise<void> = Promise.resolve();
  /** Bytes of the line being assembled (copies, so the stream may reuse its chunks). */
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** True while skipping the rest of an oversized line. */
  #isDiscarding = false;
  /** The unread rest of a chunk whose lines stopped at the cap (a copy). */
  #leftover: Uint8Array | undefined;
  #isCloseCalled = false;
  #hasFiredClose = false;

  constructor(opts: StdioTransportOptions) {
    this.#input = opts.input;
    this.#log = opts.log;
    this.#out = new OutputQueue({
      output: opts.output,
      log: opts.log,
      maxQueuedBytes: opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES,
      onQueued: (message, bytes) => this.#unanswered.noteQueued(message, bytes),
      onRoom: () => this.#onRoom(),
    });
    this.#unanswered = new UnansweredRequests({
      maxCount: opts.maxUnanswered ?? DEFAULT_MAX_UNANSWERED,
      maxBytes: opts.maxUnansweredBytes ?? DEFAULT_MAX_UNANSWERED_BYTES,
      maxRequestBytes: DEFAULT_MAX_UNANSWERED_REQUEST_BYTES,
      onRelease: () => this.#onRoom(),
    });
    this.#maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  }

  /** The output queue now. */
  get outputQueue(): OutputQueueState {
    return {
      messages: this.#out.messages,
      bytes: this.#out.bytes,
      waitingResponses: this.#out.waitingResponses,
      waitingBytes: this.#out.waitingBytes,
      droppedNotifications: this.#out.droppedNotifications,
      unanswered: this.#unanswered.count,
      answerBytes: this.#unanswered.answerBytes,
      waitingRequests: this.#waiting.count,
      waitingRequestBytes: this.#waiting.bytes,
    };
  }

  /** Starts reading in the background and returns at once. Throws if called twice. */
  start(): Promise<void> {
    if (this.#reader !== undefined) throw new Error("StdioTransport.start was called twice");
    const reader = this.#input.getReader();
    this.#reader = reader;
    this.#reading = this.#readLoop(reader);
    return Promise.resolve();
  }

  /**
   * Writes one message (or one batch reply, an array) as one line, after every earlier send
   * has finished. Resolves without writing once stdout is broken, and for a notification the
   * full queue had no room for. A response (anything but a notification) waits for room in
   * line behind earlier responses. Rejects after close() or on an unexpected write error.
   */
  async send(message: WireMessage | readonly WireMessage[]): Promise<void> {
    if (this.#isCloseCalled) throw new Error("Cannot send: the stdio transport is closed");
    if (isNotification(message)) return await this.#out.sendNotification(message);
    return await this.#out.sendResponse(message);
  }

  /**
   * Reading stdin pauses: the output is full (responses wait, so no new requests), or the
   * line of waiting requests is.
   */
  #isReadingHeld(): boolean {
    return this.#out.isFull || this.#waiting.isFull;
  }

  /** Requests wait instead of going to the server: too many are unanswered, or output is full. */
  #isHandOnHeld(): boolean {
    return this.#out.isFull || this.#unanswered.isAtCap;
  }

  /** A write finished, an answer went out, a call was cancelled, or the transport closed. */
  #onRoom(): void {
    this.#wakeRoomWaiters();
    if (this.#isHandOnDue || this.#waiting.count === 0) return;
    // Not at once: this runs inside a send (or inside noting a cancellation), and the server
    // should not be handed new requests from inside its own send.
    this.#isHandOnDue = true;
    queueMicrotask(() => {
      this.#isHandOnDue = false;
      this.#handOnWaiting();
    });
  }

  /** Resolves when a write finishes, an answer is cancelled, or the transport closes. */
  #room(): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#roomWaiters.push(resolve);
    return promise;
  }

  #wakeRoomWaiters(): void {
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Stops reading (onclose fires) and refuses later sends. Never throws. */
  async close(): Promise<void> {
    if (this.#isCloseCalled) return;
    this.#isCloseCalled = true;
    this.#out.close(); // responses waiting for room give up; a paused read loop ends
    if (this.#reader === undefined) {
      this.#fireClose();
      return;
    }
    try {
      await this.#reader.cancel();
    } catch (error) {
      // The stream already failed; the read loop has reported that through onerror.
      this.#log.debug("stdin cancel failed", { error });
    }
    await this.#reading;
  }

  async #readLoop(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    try {
      for (;;) {
        this.#handOnWaiting();
        if (this.#isReadingHeld() && !this.#isCloseCalled) {
          // Backpressure: no new requests while their answers could not be written anyway, or
          // while the requests read ahead fill their line.
          this.#log.debug("reading stdin paused until answers go out", {
            queuedBytes: this.#out.bytes,
            unanswered: this.#unanswered.count,
            answerBytes: this.#unanswered.answerBytes,
            waitingRequests: this.#waiting.count,
          });
          while (this.#isReadingHeld() && !this.#isCloseCalled) {
            await this.#room();
            this.#handOnWaiting();
          }
        }
        if (this.#isCloseCalled) break;
        let chunk = this.#leftover;
        this.#leftover = undefined;
        if (chunk === undefined) {
          const { value, done } = await reader.read();
          if (done) break;
          chunk = value;
        }
        const stop = this.#consume(chunk);
        if (stop < chunk.length) this.#leftover = chunk.slice(stop);
      }
      // EOF: the requests read before it go on now, past the cap (64 lines at most). Waiting
      // for places would keep the session up, with the host gone, until the long calls that
      // hold them end on their own (wait_for_message: up to 300 s); at onclose the server
      // gives them DRAIN_GRACE_MS and then stops them, so every request read is answered.
      while (!this.#isCloseCalled) {
        const line = this.#waiting.shift();
        if (line === undefined) break;
        this.#handOn(line.value, line.bytes);
      }
      if (this.#pendingBytes > 0 && !this.#isCloseCalled) {
        this.#log.warn("stdin ended in the middle of a line; the partial message was dropped", {
          bytes: this.#pendingBytes,
        });
      }
    } catch (error) {
      if (!this.#isCloseCalled) {
        this.onerror?.(error instanceof Error ? error : new Error(String(error)));
      }
    } finally {
      this.#fireClose();
    }
  }

  /**
   * Splits a chunk at newlines, taking each complete line, until the output is full or the
   * line of waiting requests is. Returns where it stopped (chunk.length when done).
   */
  #consume(chunk: Uint8Array): number {
    let start = 0;
    while (start < chunk.length) {
      if (this.#isReadingHeld()) return start;
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline === -1 ? chunk.length : newline;
      this.#append(chunk.subarray(start, end));
      if (newline === -1) return chunk.length;
      if (this.#isDiscarding) {
        this.#isDiscarding = false; // the oversized line ends here: resync
      } else {
        this.#handleLine(this.#takePending());
      }
      start = newline + 1;
    }
    return chunk.length;
  }

  #append(piece: Uint8Array): void {
    if (this.#isDiscarding || piece.length === 0) return;
    if (this.#pendingBytes + piece.length > this.#maxLineBytes) {
      this.#takePending();
      this.#isDiscarding = true;
      this.#log.warn("MCP client sent a line over the size limit; it was dropped", {
        limitBytes: this.#maxLineBytes,
      });
      this.#replyParseError(`Parse error: message longer than ${this.#maxLineBytes} bytes`);
      return;
    }
    this.#pending.push(piece.slice());
    this.#pendingBytes += piece.length;
  }

  #takePending(): Uint8Array {
    const line = new Uint8Array(this.#pendingBytes);
    let offset = 0;
    for (const piece of this.#pending) {
      line.set(piece, offset);
      offset += piece.length;
    }
    this.#pending = [];
    this.#pendingBytes = 0;
    return line;
  }

  #handleLine(bytes: Uint8Array): void {
    let text: string;
    try {
      text = this.#decoder.decode(bytes);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      this.#log.warn("MCP client sent a line that is not UTF-8", { bytes: bytes.length });
      this.#replyParseError("Parse error: message is not valid UTF-8");
      return;
    }
    if (text.trim() === "") return; // blank lines (and a lone CR) carry nothing
    const json = text.endsWith("\r") ? text.slice(0, -1) : text;
    const parsed = parseJson(json);
    if (!parsed.ok) {
      this.#log.warn("MCP client sent a line that is not JSON", { bytes: bytes.length });
      this.#sendInBackground(parsed.reply);
      return;
    }
    this.#take(parsed.value, json, bytes.length);
  }

  /**
   * Hands a parsed line to the server, or, while requests are held back, makes it wait in
   * order. Lines that get no answer (notifications, the host's responses) never wait: a
   * cancellation must reach the call it names, and a cancellation of a waiting request drops
   * that request.
   */
  #take(value: unknown, text: string, bytes: number): void {
    if (this.#waiting.count === 0 && !this.#isHandOnHeld()) return this.#handOn(value, bytes);
    if (expectsAnswer(value)) {
      if (this.#waiting.count === 0) {
        this.#log.debug("requests wait until answers go out", {
          unanswered: this.#unanswered.count,
          answerBytes: this.#unanswered.answerBytes,
        });
      }
      this.#waiting.push(value, text, bytes);
      return;
    }
    const cancelled = cancelledRequestId(value);
    if (cancelled !== undefined && this.#waiting.drop(cancelled) > 0) {
      this.#log.info("request cancelled by the MCP client before it was handled", {
        requestId: clip(String(cancelled)),
      });
    }
    this.#handOn(value, bytes);
  }

  /** Hands waiting requests on, oldest first, while places are free. */
  #handOnWaiting(): void {
    let handed = 0;
    while (this.#waiting.count > 0 && !this.#isHandOnHeld() && !this.#isCloseCalled) {
      const line = this.#waiting.shift();
      if (line === undefined) break;
      this.#handOn(line.value, line.bytes);
      handed += 1;
    }
    if (handed > 0) this.#wakeRoomWaiters(); // their line has room: reading may go on
  }

  #handOn(value: unknown, bytes: number): void {
    this.#unanswered.noteIncoming(value, bytes);
    try {
      this.onmessage?.(value);
    } catch (error) {
      // A receiver bug must not stop reading stdin: later requests still deserve answers.
      this.#log.error("MCP message handler threw", { error });
    }
  }

  #replyParseError(message: string): void {
    this.#sendInBackground(errorResponse(null, { code: JSONRPC_ERROR.PARSE_ERROR, message }));
  }

  /** Sends without awaiting: for the transport's own replies, made inside the read loop. */
  #sendInBackground(message: WireMessage): void {
    this.send(message).catch((error: unknown) => {
      this.#log.warn("cannot write an error reply to stdout", { error });
    });
  }

  #fireClose(): void {
    if (this.#hasFiredClose) return;
    this.#hasFiredClose = true;
    this.onclose?.();
  }
}

/** A message with a method and no id: it expects no reply, so it may be dropped. */
function isNotification(message: WireMessage | readonly WireMessage[]): message is WireMessage {
  return "jsonrpc" in message && typeof message.method === "string" && !("id" in message);
}
