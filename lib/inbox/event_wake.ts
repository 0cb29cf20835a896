/**
 * Instant delivery (issue 14 item 1): keeps the platform's event stream open and wakes the
 * inbox poller when an event says a message row was written. The event is a hint only: the
 * poller fetches the row through its cursor, so exactly-once and durability stay the poller's
 * and the inbox's (the event carries no row id anyway, contract §14.1).
 *
 * Its rules:
 * - While the stream is up the poller slows to a safety poll; when it drops, the poller polls
 *   at once and returns to its interval, and the stream is reopened after a jittered backoff
 *   (1 s doubling, capped at 60 s). A stream that stayed up a while reconnects after ~1 s.
 * - A stream silent for `stallMs` (two heartbeat intervals: the workspace's own heartbeat
 *   events are the only keep-alive, and proxies cut idle streams without closing them) is dead.
 * - 404: a platform without the stream; one info line, then polling only, for this session.
 * - 401/403: logged like the heartbeat's auth failures (warn, then error), retried at the cap.
 * `step` is one connection's life (tests drive it with a manual clock); `run` loops it.
 */
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import { AUTH_ERROR_AT, authRefusalLevel, PlatformError } from "../errors.ts";
import type { EventBatch, EventStream, EventStreamOpening } from "../platform/event_stream.ts";

/** First reconnect delay after a failure; doubles per failure in a row. */
export const STREAM_BACKOFF_BASE_MS = 1_000;
/** Longest pause before reopening the stream (issue 14). */
export const STREAM_BACKOFF_CAP_MS = 60_000;

/** What the loop needs from the platform client. */
export interface EventWakePlatform {
  openEventStream(opts: { signal: AbortSignal }): Promise<EventStreamOpening>;
}

/** What the loop drives: the inbox poller (InboxPoller satisfies it). */
export interface WakeablePoller {
  wake(): void;
  setStreamUp(isUp: boolean): void;
}

/** Settings of the loop. */
export interface EventWakeConfig {
  /** Silence after which an open stream counts as dead (two heartbeat intervals). */
  stallMs: number;
}

/** Dependencies of the loop. */
export interface EventWakeDeps {
  platform: EventWakePlatform;
  poller: WakeablePoller;
  clock: Clock;
  log: Logger;
  /** Uniform in [0, 1) for the jitter; Math.random in production. */
  random: () => number;
}

/** What `step` came to: reopen after `delayMs`, or stop for this session. */
export type StepOutcome = { reopenInMs: number } | { stop: string };

/** True for an event that may mean a new inbox row (ACTIVITY_LOGGED a2a_receive, results). */
export function isInboxHint(event: { type: string; activityType: string | null }): boolean {
  if (event.type === "ACTIVITY_LOGGED") {
    return event.activityType === "a2a_receive" || event.activityType === "delegation" ||
      event.activityType === null;
  }
  return event.type === "DELEGATION_COMPLETE" || event.type === "DELEGATION_FAILED";
}

/** The event-stream loop of one workspace. */
export class EventWake {
  #cfg: EventWakeConfig;
  #deps: EventWakeDeps;
  /** Failures in a row (opening refused or unreachable, or a stream that died young). */
  #failures = 0;
  #authFailures = 0;
  /** Whether "event stream up" / "down" was last logged, so only changes are logged. */
  #wasUp = false;
  #isFailingLogged = false;
  #wakes = 0;

  constructor(cfg: EventWakeConfig, deps: EventWakeDeps) {
    this.#cfg = cfg;
    this.#deps = deps;
  }

  /** How many times an event woke the poller (for the log and tests). */
  get wakes(): number {
    return this.#wakes;
  }

  /** Loops `step` until `signal` aborts or the platform has no stream. Never throws. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let outcome: StepOutcome;
      try {
        outcome = await this.step(signal);
      } catch (err) {
        // step never throws; if a bug makes it, polling goes on and the stream is retried.
        this.#deps.log.error("event stream step failed unexpectedly", { error: err });
        this.#deps.poller.setStreamUp(false);
        outcome = { reopenInMs: STREAM_BACKOFF_CAP_MS };
      }
      if (signal.aborted || "stop" in outcome) return;
      await this.#deps.clock.sleep(outcome.reopenInMs, signal);
    }
  }

  /**
   * One connection: opens the stream, wakes the poller on every inbox hint until the stream
   * ends, stalls or `signal` aborts, and says when to try again. Never throws.
   */
  async step(signal: AbortSignal): Promise<StepOutcome> {
    const { platform, log } = this.#deps;
    let opening: EventStreamOpening;
    try {
      opening = await platform.openEventStream({ signal });
    } catch (err) {
      if (signal.aborted) return { stop: "stopping" };
      return this.#failed(err instanceof Error ? err.message : String(err));
    }
    if (opening.kind === "missing") {
      log.info(
        opening.isRouteMissing
          ? "the platform has no event stream (an older release): messages arrive by polling"
          : "the platform's event stream does not know this workspace: messages arrive by polling",
        { detail: opening.detail },
      );
      return { stop: "missing" };
    }
    if (opening.kind === "refused") {
      if (opening.error.isAuthRejected) return this.#authRefused(opening.error);
      return this.#failed(opening.error.message);
    }
    return await this.#follow(opening.stream, signal);
  }

  /** Reads an open stream until it ends; returns when to reopen. */
  async #follow(stream: EventStream, signal: AbortSignal): Promise<StepOutcome> {
    const { clock, log, poller } = this.#deps;
    const openedAt = clock.now();
    this.#authFailures = 0;
    if (!this.#wasUp) log.info("event stream up: messages are fetched as they arrive");
    this.#wasUp = true;
    this.#isFailingLogged = false;
    poller.setStreamUp(true);
    // Events written while the stream was down are gone (no replay, §14.1): catch up now.
    poller.wake();
    const onAbort = () => stream.close();
    signal.addEventListener("abort", onAbort, { once: true });
    let why = "ended";
    try {
      for (;;) {
        const read = await this.#nextOrStall(stream);
        if (read === "stalled") {
          why = `silent for ${Math.round(this.#cfg.stallMs / 1000)} s`;
          break;
        }
        if (read === null) break;
        this.#handle(read);
      }
    } catch (err) {
      why = err instanceof Error ? err.message : String(err);
    } finally {
      signal.removeEventListener("abort", onAbort);
      stream.close();
    }
    poller.setStreamUp(false);
    if (signal.aborted) return { stop: "stopping" };
    const livedMs = clock.now() - openedAt;
    if (livedMs >= Math.min(this.#cfg.stallMs, STREAM_BACKOFF_CAP_MS)) {
      // It worked for a while: a proxy's idle cut or a platform restart. Reopen soon.
      this.#failures = 0;
      log.info("event stream closed; reopening, polling meanwhile", { why });
      return { reopenInMs: this.#jitter(STREAM_BACKOFF_BASE_MS) };
    }
    return this.#failed(`the stream closed after ${Math.round(livedMs / 1000)} s: ${why}`);
  }

  /** The next batch, null at the end, or "stalled" after `stallMs` without a byte. */
  async #nextOrStall(stream: EventStream): Promise<EventBatch | null | "stalled"> {
    const stopTimer = new AbortController();
    const reading = stream.next();
    const stall = this.#deps.clock.sleep(this.#cfg.stallMs, stopTimer.signal).then(() =>
      stopTimer.signal.aborted ? null : "stalled" as const
    );
    try {
      const first = await Promise.race([reading, stall]);
      if (first !== "stalled") return first;
      stream.close();
      // The read ends once the stream is closed; wait for it so nothing outlives the step.
      await reading.catch(() => null);
      return "stalled";
    } finally {
      stopTimer.abort();
      await stall;
    }
  }

  /** Wakes the poller once per batch holding an inbox hint; bursts coalesce in the poller. */
  #handle(batch: EventBatch): void {
    const { log, poller } = this.#deps;
    if (batch.malformed > 0) {
      log.debug("event stream: skipped malformed events", { count: batch.malformed });
    }
    // An event too large to read is most likely a message row with a large body: a poll
    // costs less than missing it.
    if (batch.oversized > 0 || batch.events.some(isInboxHint)) {
      this.#wakes += 1;
      poller.wake();
    }
  }

  #failed(reason: string): StepOutcome {
    this.#deps.poller.setStreamUp(false);
    this.#failures += 1;
    const delay = Math.min(
      STREAM_BACKOFF_CAP_MS,
      STREAM_BACKOFF_BASE_MS * 2 ** Math.min(this.#failures - 1, 10),
    );
    const reopenInMs = this.#jitter(delay);
    const fields = { reason, retryInMs: Math.round(reopenInMs), failures: this.#failures };
    // Polling still delivers: the stream's trouble is news, not an operator's problem.
    if (this.#wasUp || !this.#isFailingLogged) {
      this.#deps.log.info("event stream unavailable; polling meanwhile", fields);
    } else this.#deps.log.debug("event stream still unavailable", fields);
    this.#wasUp = false;
    this.#isFailingLogged = true;
    return { reopenInMs };
  }

  /** 401/403: the token is refused; escalate like the heartbeat, retry at the cap. */
  #authRefused(err: PlatformError): StepOutcome {
    const { log, poller } = this.#deps;
    poller.setStreamUp(false);
    this.#wasUp = false;
    this.#authFailures += 1;
    const count = this.#authFailures;
    const level = authRefusalLevel(count);
    if (level === "warn") {
      log.warn(
        `event stream auth failure ${count}/${AUTH_ERROR_AT}: the platform answered HTTP ` +
          `${err.status}; the token may be revoked`,
        { next: err.next },
      );
    } else if (level === "error") {
      log.error(
        `The platform has refused the token on the event stream ${count} times in a row: it ` +
          "was probably revoked, or the workspace was deleted",
        { status: err.status, next: err.next },
      );
    } else {
      log.debug("event stream auth failure", { count, status: err.status });
    }
    return { reopenInMs: this.#jitter(STREAM_BACKOFF_CAP_MS) };
  }

  /** A delay in [ms/2, ms): spreads reconnects of many clients after a platform restart. */
  #jitter(ms: number): number {
    return ms / 2 + this.#deps.random() * (ms / 2);
  }
}
