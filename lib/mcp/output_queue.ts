/**
 * The stdio transport's output side: each message goes to a byte writer (stdout) as one whole
 * line, in the order it was handed over, through a queue bounded in bytes (issue 11 item 13).
 *
 * - Past the bound, notifications (inbox pushes) are dropped, logged once per stall (the
 *   messages stay in the inbox for the inbox tools). Responses are never dropped: they wait
 *   in line, first come first written.
 * - A waiting response holds only its message: it is turned into JSON and UTF-8 when it
 *   reaches the head of the line, so at most one waiting response holds encoded bytes. A
 *   host that stalls and then reads again makes the program encode one answer per answer
 *   written, never a few hundred copies at once (the drain used to peak near 600 MiB).
 * - A closed stdout (broken pipe) is logged once and later messages are dropped, so the rest
 *   of the program (the inbox) keeps running (feature catalogue §4 case 10).
 */
import type { Logger } from "../log.ts";
import type { WireMessage } from "./jsonrpc.ts";
import { wellFormedJson } from "./wire_json.ts";

/** Where output goes. `Deno.stdout` fits; a write may take only part of the bytes. */
export interface ByteWriter {
  write(bytes: Uint8Array): Promise<number>;
}

/** One message, or one batch reply (an array). */
export type OutgoingLine = WireMessage | readonly WireMessage[];

/** What OutputQueue needs. */
export interface OutputQueueOptions {
  output: ByteWriter;
  log: Logger;
  /** Bytes queued for the writer before notifications are dropped and responses wait. */
  maxQueuedBytes: number;
  /** Called with each message and its size as it joins the queue (it counts as answered). */
  onQueued(message: OutgoingLine, bytes: number): void;
  /** Called whenever room may have appeared: a write finished, or the queue closed. */
  onRoom(): void;
}

interface WaitingResponse {
  message: OutgoingLine;
  /** Its line, once it has reached the head of the waiting line. */
  bytes: Uint8Array | undefined;
  resolve(): void;
  reject(error: unknown): void;
}

const encoder = new TextEncoder();

/** Serialised, ordered, bounded output. */
export class OutputQueue {
  #output: ByteWriter;
  #log: Logger;
  #maxQueuedBytes: number;
  #onQueued: (message: OutgoingLine, bytes: number) => void;
  #onRoom: () => void;
  #queuedBytes = 0;
  #queuedMessages = 0;
  /** Responses the queue had no room for, oldest first. */
  #waiting: WaitingResponse[] = [];
  #droppedNotifications = 0;
  /** True from the first drop of a stall until the queue empties. */
  #isStallLogged = false;
  #writeTail: Promise<void> = Promise.resolve();
  #isOutputBroken = false;

  constructor(opts: OutputQueueOptions) {
    this.#output = opts.output;
    this.#log = opts.log;
    this.#maxQueuedBytes = opts.maxQueuedBytes;
    this.#onQueued = opts.onQueued;
    this.#onRoom = opts.onRoom;
  }

  /** Messages accepted and not yet fully written. */
  get messages(): number {
    return this.#queuedMessages;
  }

  /** Bytes of the messages accepted and not yet fully written. */
  get bytes(): number {
    return this.#queuedBytes;
  }

  /** Responses waiting for room. */
  get waitingResponses(): number {
    return this.#waiting.length;
  }

  /** Encoded bytes the waiting responses hold: at most the head's line. */
  get waitingBytes(): number {
    return this.#waiting[0]?.bytes?.length ?? 0;
  }

  /** Notifications dropped because the queue was full, since start. */
  get droppedNotifications(): number {
    return this.#droppedNotifications;
  }

  /** True while responses wait or the queue is at its bound. */
  get isFull(): boolean {
    return this.#waiting.length > 0 || this.#queuedBytes >= this.#maxQueuedBytes;
  }

  /**
   * Queues a notification, or drops it (logged) when responses are waiting or it does not
   * fit. Resolves once written (or dropped); rejects on an unexpected write error or when the
   * message cannot be serialised.
   */
  async sendNotification(message: WireMessage): Promise<void> {
    if (this.#waiting.length > 0) {
      this.#dropNotification(message, undefined);
      return;
    }
    const bytes = encodeLine(message);
    if (!this.#hasRoomFor(bytes.length)) {
      this.#dropNotification(message, bytes.length);
      return;
    }
    await this.#write(bytes, message);
  }

  /**
   * Queues a response (or a batch reply) after every response already waiting; without room
   * it waits, holding only the message. Resolves once written; rejects on an unexpected
   * write error, when the message cannot be serialised, or when close() comes first.
   */
  async sendResponse(message: OutgoingLine): Promise<void> {
    if (this.#waiting.length === 0) {
      const bytes = encodeLine(message);
      if (this.#hasRoomFor(bytes.length)) return await this.#write(bytes, message);
      return await this.#wait(message, bytes);
    }
    return await this.#wait(message, undefined);
  }

  /** Gives up on every waiting response: each rejects with "transport is closed". */
  close(): void {
    for (const waiting of this.#waiting.splice(0)) {
      waiting.reject(new Error("Cannot send: the stdio transport is closed"));
    }
    this.#onRoom();
  }

  /** Room for `bytes` more: always when the queue is empty, so one huge message still goes. */
  #hasRoomFor(bytes: number): boolean {
    return this.#queuedMessages === 0 || this.#queuedBytes + bytes <= this.#maxQueuedBytes;
  }

  #wait(message: OutgoingLine, bytes: Uint8Array | undefined): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#waiting.push({ message, bytes, resolve, reject });
    return promise;
  }

  /** Moves waiting responses into the queue, oldest first, while they fit. */
  #admitWaiting(): void {
    for (;;) {
      const head = this.#waiting[0];
      if (head === undefined) return;
      if (head.bytes === undefined) {
        try {
          head.bytes = encodeLine(head.message);
        } catch (error) {
          this.#waiting.shift();
          head.reject(error);
          continue;
        }
      }
      if (!this.#hasRoomFor(head.bytes.length)) return;
      this.#waiting.shift();
      this.#write(head.bytes, head.message).then(head.resolve, head.reject);
    }
  }

  async #write(bytes: Uint8Array, message: OutgoingLine): Promise<void> {
    this.#queuedBytes += bytes.length;
    this.#queuedMessages += 1;
    this.#onQueued(message, bytes.length);
    const previous = this.#writeTail;
    const { promise: done, resolve } = Promise.withResolvers<void>();
    this.#writeTail = done;
    try {
      await previous;
      await this.#writeAll(bytes);
    } finally {
      this.#queuedBytes -= bytes.length;
      this.#queuedMessages -= 1;
      resolve();
      if (this.#queuedMessages === 0 && this.#isStallLogged) {
        this.#isStallLogged = false;
        this.#log.info("stdout is being read again", {
          droppedNotifications: this.#droppedNotifications,
        });
      }
      this.#admitWaiting();
      this.#onRoom();
    }
  }

  #dropNotification(message: WireMessage, bytes: number | undefined): void {
    this.#droppedNotifications += 1;
    const fields = {
      method: String(message.method),
      ...(bytes === undefined ? {} : { bytes }),
      limitBytes: this.#maxQueuedBytes,
    };
    if (this.#isStallLogged) {
      this.#log.debug("stdout is full; notification dropped", fields);
      return;
    }
    this.#isStallLogged = true;
    this.#log.warn(
      "stdout is not being read (output queue full): notifications are dropped until it " +
        "drains; queued messages stay in the inbox for inbox_peek and wait_for_message",
      fields,
    );
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    if (this.#isOutputBroken) {
      this.#log.debug("stdout is closed; message dropped", { bytes: bytes.length });
      return;
    }
    let offset = 0;
    while (offset < bytes.length) {
      let written: number;
      try {
        written = await this.#output.write(bytes.subarray(offset));
      } catch (error) {
        if (!isClosedPipe(error)) throw error;
        this.#isOutputBroken = true;
        this.#log.warn("stdout is closed: the MCP host has gone; replies are dropped from now on", {
          error,
        });
        return;
      }
      if (written <= 0) throw new Error("stdout accepted no bytes");
      offset += written;
    }
  }
}

/** One message as a UTF-8 line. Throws TypeError when it cannot be serialised (a BigInt). */
function encodeLine(message: OutgoingLine): Uint8Array {
  return encoder.encode(`${wellFormedJson(message)}\n`);
}

/** Whether a write failed because the reader of stdout went away. */
function isClosedPipe(error: unknown): boolean {
  return error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.ConnectionReset ||
    (error instanceof Error && "code" in error && error.code === "EPIPE");
}
