/**
 * Requests the stdio transport has read but holds back while the unanswered cap is reached
 * (lib/mcp/unanswered.ts): kept in the order read, as the text of their line, and handed on,
 * parsed again, as places free. Reading stdin goes on meanwhile so that notifications (a
 * `notifications/cancelled` above all, or a host's response) reach the server at once; this
 * line bounds what that reading may hold. It knows nothing of stdin: lib/mcp/stdio.ts decides
 * what waits here and when it goes on.
 *
 * Why text and not the parsed value: a parsed value can take twenty times its line (a line of
 * `{}` items: 1 MiB of line, 21 MiB of objects), so 1 MiB of parsed lines plus one 4 MiB line
 * held over 100 MiB; as text they hold about their bytes (twice that past Latin-1). Only lines
 * that wait pay the second parse, and only at the cap.
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
 * Line bytes held back at most, by default: 1 MiB (held as text, see above). Reading stops
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
  /** The JSON text of the line, parsed again when it is handed on. */
  text: string;
  bytes: number;
  /** idKey of the requests in it (one for a request; a batch's, by item, duplicates kept). */
  requestKeys: string[];
  /** Items of a batch; undefined for a single message. */
  batchItems: number | undefined;
  /** Keys of a batch's requests cancelled while it waited: left out when it is handed on. */
  cancelled: Set<string>;
}

/** An ordered, bounded line of requests (or batches) waiting for a place. */
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

  /**
   * Adds one line at the back: `value` is `text` parsed (read for the request ids only, not
   * kept), `bytes` the length of the line it came from.
   */
  push(value: unknown, text: string, bytes: number): void {
    const items = Array.isArray(value) ? value : undefined;
    const requestKeys = (items ?? [value]).map(requestKeyOf).filter((key) => key !== undefined);
    this.#lines.push({
      text,
      bytes,
      requestKeys,
      batchItems: items?.length,
      cancelled: new Set(),
    });
    this.#bytes += bytes;
  }

  /** Takes the oldest line, parsed, with its bytes as read; undefined when none waits. */
  shift(): { value: unknown; bytes: number } | undefined {
    const line = this.#lines.shift();
    if (line === undefined) return undefined;
    this.#bytes -= line.bytes;
    const value: unknown = JSON.parse(line.text); // it parsed when read: it parses now
    if (!Array.isArray(value) || line.cancelled.size === 0) return { value, bytes: line.bytes };
    return {
      bytes: line.bytes,
      value: value.filter((item) => {
        const key = requestKeyOf(item);
        return key === undefined || !line.cancelled.has(key);
      }),
    };
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
      const named = line.requestKeys.filter((k) => k === key).length;
      if (named === 0 || line.cancelled.has(key)) {
        kept.push(line);
        continue;
      }
      dropped += named;
      if (line.batchItems === undefined) continue; // a single request: dropped
      line.cancelled.add(key);
      const left = line.requestKeys.filter((k) => !line.cancelled.has(k)).length +
        (line.batchItems - line.requestKeys.length);
      if (left > 0) kept.push(line);
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

/** The idKey of a request (a message with a method and a usable id); undefined otherwise. */
function requestKeyOf(value: unknown): string | undefined {
  return isRecord(value) && typeof value.method === "string" && isRequestId(value.id)
    ? idKey(value.id)
    : undefined;
}
