/**
 * One server-sent-events stream of JSON-RPC messages (MCP Streamable HTTP: a POST's answer
 * stream or the session's GET stream). Owns framing (`event: message` + one `data:` line per
 * message) and a bounded queue: a client that stops reading cannot grow memory without bound.
 */
import { wellFormedJson } from "./wire_json.ts";
import type { WireMessage } from "./jsonrpc.ts";

/** Bytes queued on one stream before notifications are dropped (the stdio queue's bound). */
export const DEFAULT_SSE_QUEUE_BYTES = 8 * 1024 * 1024;

/** An SSE response body the transport writes messages into. */
export class SseStream {
  /** The body to hand to `new Response(...)`. */
  readonly body: ReadableStream<Uint8Array>;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #encoder = new TextEncoder();
  #isClosed = false;
  #onGone: () => void;

  /** `onGone` runs once when the client goes away (cancels the body); not after close(). */
  constructor(onGone: () => void, maxQueuedBytes = DEFAULT_SSE_QUEUE_BYTES) {
    this.#onGone = onGone;
    this.body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      cancel: () => {
        if (this.#isClosed) return;
        this.#isClosed = true;
        this.#onGone();
      },
    }, new ByteLengthQueuingStrategy({ highWaterMark: maxQueuedBytes }));
  }

  /** True until close() or the client went away. */
  get isOpen(): boolean {
    return !this.#isClosed;
  }

  /**
   * Queues one message (or one batch reply). Returns false when it was not queued: the stream
   * is closed, or `mayDrop` is set and the queue is full (the client is not reading).
   */
  write(message: WireMessage | readonly WireMessage[], mayDrop: boolean): boolean {
    const controller = this.#controller;
    if (this.#isClosed || controller === undefined) return false;
    if (mayDrop && (controller.desiredSize ?? 0) <= 0) return false;
    controller.enqueue(
      this.#encoder.encode(`event: message\ndata: ${wellFormedJson(message)}\n\n`),
    );
    return true;
  }

  /** Ends the stream (the client sees its end). Idempotent. */
  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    try {
      this.#controller?.close();
    } catch (error) {
      // Already errored or cancelled by the client: nothing left to end.
      if (!(error instanceof TypeError)) throw error;
    }
  }
}
