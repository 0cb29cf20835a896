/**
 * A small Server-Sent Events parser (the WHATWG "event stream interpretation" rules) for the
 * platform's per-workspace stream (contract §14.1). It turns decoded text, fed in chunks cut
 * anywhere, into events; it owns line splitting (LF, CR, CRLF, even split across chunks),
 * comments, multi-line `data`, and a bound on how much one event may hold. Opening the stream
 * and reacting to events are left to platform/event_stream.ts and inbox/event_wake.ts.
 *
 * Why our own and not an npm package: lib/ loads no npm code at run time (layout rule), the
 * platform sends only `data:` lines and comments, and the bound on frame size (a hostile or
 * broken server must not grow our memory) is what a generic parser would not give.
 */

/** One dispatched event. `type` is "message" unless an `event:` line named another. */
export interface SseEvent {
  type: string;
  /** The `data:` lines joined with "\n" (the last newline removed, as the spec says). */
  data: string;
  /** The last `id:` seen (the platform sends none; kept for completeness). */
  id: string;
}

/** What one `push` produced: the events it completed and the ones dropped for size. */
export interface SseChunkResult {
  events: SseEvent[];
  /** Events thrown away because they passed `maxEventChars` (each counted once). */
  oversized: number;
}

/** Default bound on one event (its data plus the line being read), in UTF-16 code units. */
export const DEFAULT_MAX_EVENT_CHARS = 256 * 1024;

/** Incremental parser: call `push` with each decoded chunk, `end` when the stream closes. */
export class SseParser {
  #maxChars: number;
  /** The part of a line not yet ended by a line break. */
  #line = "";
  /** The current line has text (possibly skipped): its end is not a blank line. */
  #hasLineText = false;
  /** The previous chunk ended in CR: a LF at the start of the next one belongs to it. */
  #isAfterCr = false;
  #data: string[] = [];
  #dataChars = 0;
  #type = "";
  #lastId = "";
  /** The event being read passed the bound: skip until the blank line that ends it. */
  #isSkipping = false;

  /** `maxEventChars`: an event (or a line) longer than this is dropped and counted. */
  constructor(opts: { maxEventChars?: number } = {}) {
    this.#maxChars = opts.maxEventChars ?? DEFAULT_MAX_EVENT_CHARS;
  }

  /** Feeds decoded text; returns the events completed by it. Never throws on any input. */
  push(chunk: string): SseChunkResult {
    const out: SseChunkResult = { events: [], oversized: 0 };
    let start = 0;
    let i = 0;
    if (this.#isAfterCr && chunk.startsWith("\n")) {
      start = 1;
      i = 1;
    }
    this.#isAfterCr = false;
    for (; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.#appendPartial(chunk.slice(start, i), out);
      this.#endLine(out);
      if (c === 13) {
        if (i + 1 < chunk.length) {
          if (chunk.charCodeAt(i + 1) === 10) i++;
        } else {
          this.#isAfterCr = true;
        }
      }
      start = i + 1;
    }
    this.#appendPartial(chunk.slice(start), out);
    return out;
  }

  /**
   * The stream closed. An event not ended by a blank line is discarded (the spec's rule), so
   * a cut in the middle of an event never dispatches half of it.
   */
  end(): void {
    this.#line = "";
    this.#hasLineText = false;
    this.#isAfterCr = false;
    this.#resetEvent();
  }

  #appendPartial(text: string, out: SseChunkResult): void {
    if (text === "") return;
    this.#hasLineText = true;
    if (this.#isSkipping) return;
    if (this.#line.length + text.length + this.#dataChars > this.#maxChars) {
      this.#startSkipping(out);
      return;
    }
    this.#line += text;
  }

  #startSkipping(out: SseChunkResult): void {
    if (!this.#isSkipping) out.oversized += 1;
    this.#isSkipping = true;
    this.#line = "";
    this.#data = [];
    this.#dataChars = 0;
  }

  #endLine(out: SseChunkResult): void {
    const line = this.#line;
    const isBlank = !this.#hasLineText;
    this.#line = "";
    this.#hasLineText = false;
    if (isBlank) {
      this.#dispatch(out);
      return;
    }
    if (this.#isSkipping || line.startsWith(":")) return; // a comment (": ping") or skipped
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data":
        this.#data.push(value);
        this.#dataChars += value.length + 1;
        return;
      case "event":
        this.#type = value;
        return;
      case "id":
        if (!value.includes("\0")) this.#lastId = value;
        return;
      default:
        return; // "retry" and unknown fields: nothing we use
    }
  }

  #dispatch(out: SseChunkResult): void {
    if (this.#isSkipping) {
      this.#isSkipping = false;
      this.#resetEvent();
      return;
    }
    if (this.#data.length > 0) {
      out.events.push({
        type: this.#type === "" ? "message" : this.#type,
        data: this.#data.join("\n"),
        id: this.#lastId,
      });
    }
    this.#resetEvent();
  }

  #resetEvent(): void {
    this.#data = [];
    this.#dataChars = 0;
    this.#type = "";
    this.#isSkipping = false;
  }
}
