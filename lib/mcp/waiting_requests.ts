/**
 * Requests the stdio transport has read but holds back while the unanswered cap is reached
 * (lib/mcp/unanswered.ts): parsed once, kept in the order read, handed on as places free.
 * Reading stdin goes on meanwhile so that notifications (a `notifications/cancelled` above all,
 * or a host's response) reach the server at once; this line bounds what that reading may hold.
 * It knows nothing of stdin: lib/mcp/stdio.ts decides what waits here and when it goes on.
 */
import { isRecord } from "../json_object.ts";
import { classifyMessage, idKey, isRequestId, type RequestId } from "./jsonrpc.ts";

/**
 * Lines held back at most, by default: 64, four times the 16 long calls (MIN_UNANSWERED) that
 * may fill the cap after a run of big answers, and far more than a host keeps queued; past it
 * the pipe holds the rest, as it always did.
 */
export const DEFAULT_MAX_WAITING_LINES = 64;
/**
 * Line bytes held back at most, by default: 1 MiB. A parsed value takes a few times its line
 * in memory, so this keeps the line within a few MiB even for large requests. Reading stops
 * once the lines held reach it, so the last line read may take it past the bound by at most
 * one line (capped by the transport's maxLineBytes, 4 MiB).
 */
export const DEFAULT_MAX_WAITING_BYTES = 1024 * 1024;

/** What WaitingRequests needs. */
export interface WaitingRequestsOptions {
  /** Most lines held; reading stops once this many wait. */
  maxLines: number;
  /** Most line bytes held; reading stops once this many wait. */
  maxBytes: number;
}

interface WaitingLine {
  value: unknown;
  bytes: number;
}

/** An ordered, bounded line of parsed requests (or batches) waiting for a place. */
export class WaitingRequests {
  #maxLines: number;
  #maxBytes: number;
  #lines: WaitingLine[] = [];
  #bytes = 0;

  constructor(opts: WaitingRequestsOptions) {
    this.#maxLines = opts.maxLines;
    this.#maxBytes = opts.maxBytes;
  }

  /** Lines waiting. */
  get count(): number {
    return this.#lines.length;
  }

  /** Their bytes as read (newline excluded). */
  get bytes(): number {
    return this.#bytes;
  }

  /** True when no more lines should be read until some are handed on. */
  get isFull(): boolean {
    return this.#lines.length >= this.#maxLines || this.#bytes >= this.#maxBytes;
  }

  /** Adds one parsed line at the back; `bytes` is the length of the line it came from. */
  push(value: unknown, bytes: number): void {
    this.#lines.push({ value, bytes });
    this.#bytes += bytes;
  }

  /** Takes the oldest line; undefined when none waits. */
  shift(): { value: unknown } | undefined {
    const line = this.#lines.shift();
    if (line === undefined) return undefined;
    this.#bytes -= line.bytes;
    return line;
  }

  /**
   * Drops the waiting requests with this id (a cancellation came before they were handed on:
   * MCP says a cancelled request gets no answer), also from inside waiting batches: the
   * server would not see the cancellation after the batch. A batch left with nothing goes
   * too. Returns how many requests were dropped.
   */
  drop(id: RequestId): number {
    const key = idKey(id);
    let dropped = 0;
    const kept: WaitingLine[] = [];
    for (const line of this.#lines) {
      if (!Array.isArray(line.value)) {
        if (isRequestWithId(line.value, key)) dropped += 1;
        else kept.push(line);
        continue;
      }
      const items = line.value.filter((item) => !isRequestWithId(item, key));
      const removed = line.value.length - items.length;
      dropped += removed;
      if (removed === 0) kept.push(line);
      else if (items.length > 0) kept.push({ value: items, bytes: line.bytes });
    }
    if (dropped === 0) return 0;
    this.#lines = kept;
    this.#bytes = kept.reduce((sum, line) => sum + line.bytes, 0);
    return dropped;
  }
}

/**
 * Whether a parsed line will be answered, so it must wait its turn behind earlier requests: a
 * request, a batch, or a malformed message that gets an error reply. Notifications and the
 * host's responses (to our requests) are answered by nothing: false.
 */
export function expectsAnswer(value: unknown): boolean {
  if (Array.isArray(value)) return true; // a batch
  const message = classifyMessage(value);
  return message.kind === "request" || (message.kind === "invalid" && message.reply !== null);
}

function isRequestWithId(value: unknown, key: string): boolean {
  return isRecord(value) && typeof value.method === "string" && isRequestId(value.id) &&
    idKey(value.id) === key;
}
