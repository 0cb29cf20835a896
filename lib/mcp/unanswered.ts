/**
 * Requests a stdio host has sent, handed to the server and not yet had answered: counted by
 * id, and weighed by the size of recent answers, so the transport holds later requests back
 * before the answers in the making outgrow memory. A host can write thousands of requests
 * before reading one answer; each answer may be a 512 KiB tool result (lib/mcp/result_cap.ts).
 * At the cap the transport still reads stdin: notifications (a cancellation above all) go to
 * the server at once, and requests wait, as text, in lib/mcp/waiting_requests.ts (64 lines or
 * 1 MiB at most, then reading stops) until this count frees a place.
 */
import { isRecord } from "../json_object.ts";
import { cancelledRequestId, classifyMessage, idKey, type RequestId } from "./jsonrpc.ts";
import type { OutgoingLine } from "./output_queue.ts";

/**
 * Requests handed on and not yet answered, by default: 128, far above what a host keeps in flight,
 * and with every answer within the 512 KiB result cap at most 64 MiB of answers in the making.
 */
export const DEFAULT_MAX_UNANSWERED = 128;
/**
 * Answers in the making, by default, as the unanswered count times the recent answer size:
 * 8 MiB, as much as the output queue holds (lib/mcp/stdio.ts DEFAULT_MAX_QUEUED_BYTES). With
 * 400 KB answers about 20 requests are worked on at once instead of 128; a stalled host that
 * reads again then drains at about the memory it stalled at (bench 7).
 */
export const DEFAULT_MAX_UNANSWERED_BYTES = 8 * 1024 * 1024;
/**
 * Below this many unanswered requests the byte weight never holds requests back: a few long
 * calls (wait_for_message) after a run of big answers must not stop the host's next requests.
 * At 16 such calls the cap holds; a cancellation of one is still read at once (stdio.ts).
 */
export const MIN_UNANSWERED = 16;
/**
 * Line bytes of the requests handed on and not yet answered, by default: 8 MiB, whatever
 * their count. A call holds its request until it answers, and parsed, a request can take
 * twenty times its line (1 MiB of `{}` items: 21 MiB of objects): 16 calls of 4 MiB lines held
 * 1.37 GB (measured), 128 would hold some 11 GB. The request that reaches the bound may pass
 * it by one line (4 MiB at most, the transport's maxLineBytes). Requests inside a batch are
 * not counted here (the server runs at most MAX_IN_PROGRESS_FOR_BATCH of them).
 */
export const DEFAULT_MAX_UNANSWERED_REQUEST_BYTES = 8 * 1024 * 1024;
/** Weight of the newest answer in the running size estimate (an exponential average). */
const NEWEST_ANSWER_WEIGHT = 1 / 8;

/** What UnansweredRequests needs. */
export interface UnansweredOptions {
  /** Most requests unanswered before later requests wait. */
  maxCount: number;
  /** Most answer bytes in the making (count × recent answer size) before later ones wait. */
  maxBytes: number;
  /** Most line bytes of unanswered requests before later ones wait. */
  maxRequestBytes: number;
  /** Called when a request is answered or cancelled: a waiting request may go on. */
  onRelease(): void;
}

/** The requests handed to the server and not yet answered (nor cancelled). */
export class UnansweredRequests {
  #maxCount: number;
  #maxBytes: number;
  #maxRequestBytes: number;
  #onRelease: () => void;
  /** By id (a host may reuse an id): the line bytes of each request with it. */
  #byId = new Map<string, number[]>();
  #count = 0;
  #requestBytes = 0;
  #answerBytes = 0;

  constructor(opts: UnansweredOptions) {
    this.#maxCount = opts.maxCount;
    this.#maxBytes = opts.maxBytes;
    this.#maxRequestBytes = opts.maxRequestBytes;
    this.#onRelease = opts.onRelease;
  }

  /** Requests unanswered now. */
  get count(): number {
    return this.#count;
  }

  /** The recent answer size in bytes (a running average; 0 before the first answer). */
  get answerBytes(): number {
    return Math.round(this.#answerBytes);
  }

  /** True when no more requests should be handed on until some are answered or cancelled. */
  get isAtCap(): boolean {
    return this.#count >= this.#maxCount || this.#requestBytes >= this.#maxRequestBytes ||
      (this.#count >= MIN_UNANSWERED && this.#count * this.#answerBytes >= this.#maxBytes);
  }

  /**
   * Counts a message handed to the server that will be answered with its id: a request, or a
   * malformed message whose error reply echoes its id. Forgets one when the host cancels it
   * (no answer comes). Called for every line handed on, notifications included. What is
   * answered with id null (an id like 1e999, a batch refused whole) is not counted: no answer
   * could ever free its place. `bytes`: the length of the line it came in.
   */
  noteIncoming(value: unknown, bytes: number): void {
    const cancelled = cancelledRequestId(value);
    if (cancelled !== undefined) {
      this.#forget(cancelled);
      return;
    }
    const id = answerIdOf(value);
    if (id === null) return;
    const key = idKey(id);
    const sizes = this.#byId.get(key);
    if (sizes === undefined) this.#byId.set(key, [bytes]);
    else sizes.push(bytes);
    this.#count += 1;
    this.#requestBytes += bytes;
  }

  /**
   * Forgets the request a response going out answers and weighs its `bytes` (or a batch
   * reply's) into the recent answer size. Notifications change nothing. A batch reply forgets
   * nothing: the requests in a batch were never counted, and the ids in its reply may be those
   * of single requests still in progress (a reused id gets -32600 with that id).
   */
  noteQueued(message: OutgoingLine, bytes: number): void {
    const answers = (Array.isArray(message) ? message : [message]).filter((m) =>
      isRecord(m) && ("result" in m || "error" in m)
    );
    if (answers.length === 0) return;
    this.#answerBytes = this.#answerBytes === 0
      ? bytes
      : this.#answerBytes + (bytes - this.#answerBytes) * NEWEST_ANSWER_WEIGHT;
    const id = Array.isArray(message) ? undefined : answers[0]?.id;
    if (typeof id === "string" || typeof id === "number") this.#forget(id);
  }

  #forget(id: string | number): void {
    const key = idKey(id);
    const sizes = this.#byId.get(key);
    if (sizes === undefined) return;
    // An answer does not say which of the requests with its id it answers: the smallest goes,
    // so a tiny message reusing the id of a big call in flight never frees that call's bytes.
    const smallest = sizes.indexOf(Math.min(...sizes));
    const [bytes = 0] = sizes.splice(smallest, 1);
    if (sizes.length === 0) this.#byId.delete(key);
    this.#count -= 1;
    this.#requestBytes -= bytes;
    this.#onRelease();
  }
}

/**
 * The id the answer to an incoming message will carry (lib/mcp/server.ts answers requests
 * with their id, and malformed messages with the reply classifyMessage builds), or null when
 * it gets no answer with an id.
 */
function answerIdOf(value: unknown): RequestId | null {
  const message = classifyMessage(value);
  if (message.kind === "request") return message.id;
  if (message.kind === "invalid") return message.reply?.id ?? null;
  return null;
}
