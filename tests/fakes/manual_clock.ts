/**
 * A clock that moves only when the test calls advance(): pending sleeps whose deadline has
 * passed resolve in deadline order, and aborting a sleep's signal resolves it at once.
 */
import type { Clock } from "../../lib/clock.ts";

interface Sleeper {
  at: number;
  resolve: () => void;
}

/** Manual clock for tests. */
export class ManualClock implements Clock {
  #now: number;
  #wallOffsetMs = 0;
  #sleepers: Sleeper[] = [];
  #watchers: { count: number; resolve: () => void }[] = [];

  constructor(startMs = Date.UTC(2026, 4, 1, 10, 0, 0)) {
    this.#now = startMs;
  }

  /** Monotonic time: moves only with advance(). */
  now(): number {
    return this.#now;
  }

  /** Wall time: follows advance() plus every stepWallClock() so far. */
  wallNow(): number {
    return this.#now + this.#wallOffsetMs;
  }

  /**
   * Steps the wall clock by `deltaMs` (negative = back, as after an NTP correction or a VM
   * snapshot restore) without moving monotonic time or waking any sleep.
   */
  stepWallClock(deltaMs: number): void {
    this.#wallOffsetMs += deltaMs;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper: Sleeper = {
        at: this.#now + Math.max(0, ms),
        resolve: () => {
          this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
          signal?.removeEventListener("abort", sleeper.resolve);
          resolve();
        },
      };
      this.#sleepers.push(sleeper);
      signal?.addEventListener("abort", sleeper.resolve, { once: true });
      this.#notifyWatchers();
    });
  }

  /** Number of sleeps not yet resolved (lets a test see that a loop is parked). */
  get pendingSleeps(): number {
    return this.#sleepers.length;
  }

  /**
   * Resolves once at least `count` sleeps are pending: the deterministic way for a test to
   * know a background loop has finished its step (including real I/O) and parked again.
   */
  whenSleeping(count = 1): Promise<void> {
    if (this.#sleepers.length >= count) return Promise.resolve();
    return new Promise((resolve) => {
      this.#watchers.push({ count, resolve });
    });
  }

  #notifyWatchers(): void {
    const ready = this.#watchers.filter((w) => this.#sleepers.length >= w.count);
    this.#watchers = this.#watchers.filter((w) => this.#sleepers.length < w.count);
    for (const w of ready) w.resolve();
  }

  /**
   * Moves time forward by `ms`, resolving due sleeps one by one in deadline order and letting
   * the microtask queue drain after each, so a loop woken by one sleep can schedule the next.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await flushMicrotasks();
      const due = this.#sleepers.filter((s) => s.at <= target).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.#now = Math.max(this.#now, due.at);
      due.resolve();
    }
    this.#now = target;
    await flushMicrotasks();
  }
}

/** Lets pending promise callbacks (and the I/O they started on a resolved path) run. */
export async function flushMicrotasks(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => queueMicrotask(r));
}
