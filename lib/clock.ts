/**
 * Time as lib/ sees it. main.ts passes `systemClock`; tests pass a manual clock
 * (tests/fakes/manual_clock.ts) so no test ever sleeps for real.
 *
 * Two kinds of time, never mixed: `now()` is monotonic and measures every interval, timeout,
 * schedule and uptime (an NTP step or a VM snapshot restore never moves it); `wallNow()` is
 * the calendar time, only for timestamps shown to people (file names set aside) and for
 * comparing with times the platform wrote.
 */

/** The clock every loop and timeout in lib/ takes as a parameter. */
export interface Clock {
  /** Monotonic milliseconds for durations and schedules; never steps when the wall clock does. */
  now(): number;
  /** Milliseconds since the epoch: timestamps for people and platform times only. May step. */
  wallNow(): number;
  /** Resolves after `ms` (measured monotonically), or early (never rejecting) once `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Where the real clock reads its time and sets its timers (parameters so tests can step them). */
export interface ClockSources {
  /** A monotonic millisecond counter (performance.now). */
  monotonicMs(): number;
  /** The wall clock (Date.now). */
  wallMs(): number;
  /** Calls `fn` once after `ms`; returns what cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

/**
 * Builds a clock over `sources`. `now()` starts at the wall time of the first read and then
 * follows the monotonic counter only, so values look like epoch milliseconds in logs yet
 * never go back or jump when the system clock is stepped.
 */
export function createClock(sources: ClockSources): Clock {
  const originMs = sources.wallMs() - sources.monotonicMs();
  return {
    // Whole milliseconds, like Date.now: callers print and compare them as integers.
    now: () => Math.floor(originMs + sources.monotonicMs()),
    wallNow: () => sources.wallMs(),
    sleep(ms: number, signal?: AbortSignal): Promise<void> {
      if (signal?.aborted) return Promise.resolve();
      return new Promise((resolve) => {
        const done = () => {
          cancel();
          signal?.removeEventListener("abort", done);
          resolve();
        };
        // Timers run on the runtime's monotonic clock already.
        const cancel = sources.setTimer(done, Math.max(0, ms));
        signal?.addEventListener("abort", done, { once: true });
      });
    },
  };
}

/** The real clock: performance.now for durations, Date.now for wall time, setTimeout timers. */
export const systemClock: Clock = createClock({
  monotonicMs: () => performance.now(),
  wallMs: () => Date.now(),
  setTimer(fn, ms) {
    const id = setTimeout(fn, ms);
    return () => clearTimeout(id);
  },
});
