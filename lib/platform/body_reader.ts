/**
 * Reading an answer's body within a byte cap: the body is read as a stream and decoded as it
 * arrives, and reading stops (the stream is cancelled, the connection freed) as soon as the
 * cap is passed, so a platform that answers 400 MB, or never stops, costs at most the cap
 * (issue 11 item 11). Which cap each endpoint gets is decided in platform/http.ts.
 *
 * Every answer being read also draws on one shared BodyBudget (128 MiB by default): per-answer
 * caps alone would let 28 concurrent calls with 64 MiB caps hold 1.8 GB at once.
 */

/**
 * Answer bytes held at once by all the answers being read: 128 MiB admits a full 64 MiB feed
 * page beside any other answer within its own cap, while a flood of huge answers (issue 11:
 * 8 tool calls of 300 MB each) costs at most this much.
 */
export const MAX_BODY_BYTES_IN_FLIGHT = 128 * 1024 * 1024;

/** A shared count of answer bytes being read; one per client unless passed in to share. */
export class BodyBudget {
  readonly maxBytes: number;
  #used = 0;

  constructor(maxBytes = MAX_BODY_BYTES_IN_FLIGHT) {
    this.maxBytes = maxBytes;
  }

  /** Bytes held now. */
  get usedBytes(): number {
    return this.#used;
  }

  /** Takes `bytes` if they fit; false (taking nothing) when they would pass the budget. */
  take(bytes: number): boolean {
    if (this.#used + bytes > this.maxBytes) return false;
    this.#used += bytes;
    return true;
  }

  /** Gives back bytes taken earlier. */
  give(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
  }
}

/** The body's text, or how far it got before it passed the cap. */
export type CappedBody =
  | { ok: true; text: string }
  | {
    ok: false;
    /** Bytes read before stopping, or the Content-Length that announced too many. */
    bytes: number;
    /** True when Content-Length alone ruled the body out (nothing was read). */
    isDeclared: boolean;
    /** True when the shared budget, not this answer's own cap, ran out. */
    isOverBudget: boolean;
  };

/**
 * Reads `res`'s body as UTF-8 text (invalid bytes become U+FFFD, as `Response.text()` does)
 * unless it is longer than `capBytes` or, counted with every other answer being read, passes
 * `budget`. The bytes taken from `budget` are given back when this returns. Always leaves the
 * body consumed or cancelled.
 */
export async function readCappedBody(
  res: Response,
  capBytes: number,
  budget: BodyBudget = new BodyBudget(Infinity),
): Promise<CappedBody> {
  const declared = Number(res.headers.get("content-length") ?? "");
  if (Number.isFinite(declared) && declared > capBytes) {
    await cancelQuietly(res.body);
    return { ok: false, bytes: declared, isDeclared: true, isOverBudget: false };
  }
  if (res.body === null) return { ok: true, text: "" };
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const parts: string[] = [];
  let bytes = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const isOverCap = bytes + value.byteLength > capBytes;
      const isOverBudget = !isOverCap && !budget.take(value.byteLength);
      if (isOverCap || isOverBudget) {
        await reader.cancel().catch(() => undefined); // the stream's own error is moot now
        return { ok: false, bytes: bytes + value.byteLength, isDeclared: false, isOverBudget };
      }
      bytes += value.byteLength;
      parts.push(decoder.decode(value, { stream: true }));
    }
  } finally {
    budget.give(bytes);
    reader.releaseLock();
  }
  parts.push(decoder.decode());
  return { ok: true, text: parts.join("") };
}

/** Cancels a body we will not read; a stream that already failed has nothing left to free. */
async function cancelQuietly(body: ReadableStream<Uint8Array> | null): Promise<void> {
  await body?.cancel().catch(() => undefined);
}
