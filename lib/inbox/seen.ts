/**
 * The inbox's dedupe memory: which activity ids were accepted, popped or skipped recently, by
 * row time. lib/inbox/inbox.ts explains the rule; this module only keeps the set and prunes it.
 */
import type { Clock } from "../clock.ts";
import type { SeenId } from "./journal.ts";

/** How long (in row time) a seen id is kept: 3x the poller's 10-minute 410 backlog window. */
export const SEEN_WINDOW_MS = 30 * 60_000;
/** Most seen ids kept, whatever their age (bounded memory and snapshot size). */
export const SEEN_CAP = 50_000;

/**
 * The seen set: id → row created_at (ms), in acceptance order. See the module comment for the
 * rule. Pruning walks from the earliest-accepted end and stops at the first id still inside the
 * window, so an id accepted out of row-time order is kept longer, never shorter; at open the
 * walk covers every entry.
 */
export class SeenIds {
  #ids = new Map<string, number>();
  #newestMs = Number.NEGATIVE_INFINITY;
  #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Number of ids remembered. */
  get size(): number {
    return this.#ids.size;
  }

  /** True when `id` was accepted, popped or skipped within the window (a row to skip). */
  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /** Remembers `id`; a created_at that does not parse counts as the newest row time so far. */
  add(id: string, createdAt: string): void {
    if (this.#ids.has(id)) return;
    let ms = Date.parse(createdAt);
    if (Number.isNaN(ms)) {
      // A stand-in for a platform row time, so wall time (rows carry wall times).
      ms = Number.isFinite(this.#newestMs) ? this.#newestMs : this.#clock.wallNow();
    } else if (ms > this.#newestMs) {
      this.#newestMs = ms;
    }
    this.#ids.set(id, ms);
  }

  /** Forgets ids past the window, then the earliest-accepted ones beyond the cap. */
  prune(everyEntry: boolean): void {
    const cutoff = this.#newestMs - SEEN_WINDOW_MS;
    for (const [id, ms] of this.#ids) {
      if (ms < cutoff) this.#ids.delete(id);
      else if (!everyEntry) break;
    }
    for (const id of this.#ids.keys()) {
      if (this.#ids.size <= SEEN_CAP) break;
      this.#ids.delete(id);
    }
  }

  /** Every remembered id with its row time as ISO 8601, in acceptance order (for a snapshot). */
  entries(): SeenId[] {
    const out: SeenId[] = [];
    for (const [id, ms] of this.#ids) out.push({ id, created_at: new Date(ms).toISOString() });
    return out;
  }
}
