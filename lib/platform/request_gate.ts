/**
 * The cap on concurrent platform requests: at most `maxActive` requests are on the wire at
 * once; the rest wait in line, first come first served, each leaving the line when its
 * caller's signal aborts. Background work (register, heartbeat, inbox polls) may use every
 * slot; calls made for tools may use all but `reservedForBackground`, so 2,000 tool calls in
 * flight (issue 11 item 13) can neither open 2,000 connections nor starve the heartbeat that
 * keeps the workspace online (the platform marks it offline after 90 s without one).
 */

/** Who a request serves: the workspace's own upkeep, or a tool call. */
export type RequestPriority = "background" | "call";

/** Requests on the wire at once, per process: a few dozen is plenty for one agent. */
export const MAX_ACTIVE_REQUESTS = 32;
/** Slots tool calls may not take, so registration, heartbeat and polls never queue behind them. */
export const RESERVED_FOR_BACKGROUND = 4;

interface Waiter {
  priority: RequestPriority;
  grant(): void;
}

/** A counting gate: each platform client makes its own unless given one to share. */
export class RequestGate {
  readonly maxActive: number;
  readonly reservedForBackground: number;
  #active = 0;
  #activeCalls = 0;
  #peak = 0;
  #waiting: Waiter[] = [];

  /** Throws RangeError unless 1 ≤ reservedForBackground < maxActive. */
  constructor(maxActive = MAX_ACTIVE_REQUESTS, reservedForBackground = RESERVED_FOR_BACKGROUND) {
    if (!Number.isInteger(maxActive) || maxActive < 2) {
      throw new RangeError(`maxActive must be an integer ≥ 2: got ${maxActive}`);
    }
    if (
      !Number.isInteger(reservedForBackground) || reservedForBackground < 1 ||
      reservedForBackground >= maxActive
    ) {
      throw new RangeError(
        `reservedForBackground must be from 1 to ${maxActive - 1}: got ${reservedForBackground}`,
      );
    }
    this.maxActive = maxActive;
    this.reservedForBackground = reservedForBackground;
  }

  /** Requests on the wire now. */
  get active(): number {
    return this.#active;
  }

  /** Requests waiting for a slot now. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** The most requests ever on the wire at once (for tests and the bench). */
  get peakActive(): number {
    return this.#peak;
  }

  /**
   * Waits for a slot and returns the function that gives it back (call it exactly once; later
   * calls do nothing). Rejects with the signal's reason, leaving the line, when `signal`
   * aborts first.
   */
  acquire(priority: RequestPriority, signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const release = this.tryAcquire(priority);
    if (release !== null) return Promise.resolve(release);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        priority,
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve(this.#take(priority));
        },
      };
      const onAbort = () => {
        this.#waiting = this.#waiting.filter((w) => w !== waiter);
        reject(signal?.reason);
        this.#wake(); // a call at the head may have been holding back those behind it
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  /**
   * A slot at once (the function that gives it back), or null when the request would have to
   * wait. Lets a caller with a free slot go on in the same tick, as if there were no gate.
   */
  tryAcquire(priority: RequestPriority): (() => void) | null {
    // Calls keep their place in line; background work passes calls that are waiting.
    const isLineAhead = this.#waiting.some((w) =>
      priority === "call" || w.priority === "background"
    );
    return !isLineAhead && this.#hasRoom(priority) ? this.#take(priority) : null;
  }

  #hasRoom(priority: RequestPriority): boolean {
    if (this.#active >= this.maxActive) return false;
    return priority === "background" ||
      this.#activeCalls < this.maxActive - this.reservedForBackground;
  }

  #take(priority: RequestPriority): () => void {
    this.#active += 1;
    if (priority === "call") this.#activeCalls += 1;
    this.#peak = Math.max(this.#peak, this.#active);
    let isReleased = false;
    return () => {
      if (isReleased) return;
      isReleased = true;
      this.#active -= 1;
      if (priority === "call") this.#activeCalls -= 1;
      this.#wake();
    };
  }

  /** Grants slots in line order; a background waiter may pass calls that have no room. */
  #wake(): void {
    for (let i = 0; i < this.#waiting.length && this.#active < this.maxActive;) {
      const waiter = this.#waiting[i];
      if (waiter !== undefined && this.#hasRoom(waiter.priority)) {
        this.#waiting.splice(i, 1);
        waiter.grant();
      } else {
        i += 1;
      }
    }
  }
}
