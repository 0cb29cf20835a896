/**
 * Moves inbound messages from the platform's activity feed into the durable inbox. It owns the
 * paging rules (contract §5): without a cursor it reads the backlog window (newest first, and
 * backwards with before_ts while pages are full), with one it reads forward from the cursor
 * (oldest first, following full pages at once). It leaves row parsing to inbox/activity_row.ts and
 * inbox/filter.ts, and storage, dedupe and the cap to inbox/inbox.ts.
 *
 * Cursor rule: the cursor may only move to a row R when every row the platform would return
 * after R has not been handled yet, and every row it would not return has been (queued,
 * recognised as a duplicate, or filtered). Older platforms compare the cursor's created_at
 * strictly and ids are random (contract §17.1), so moving to the last row of a full page could
 * skip a sibling with the same timestamp on the next page; newer ones resume by
 * (created_at, seq) (upstream-latest §2 B), so with `seq` on the rows an equal timestamp is no
 * longer a boundary. Moving past a row the full inbox could not take would lose it.
 *
 * Backlog memory: the backlog is walked newest first but stored oldest first, so the walk keeps
 * only the oldest page it has read (plus the page in flight): at most two pages, never the whole
 * backlog (40 pages of 100 KB rows were up to 2 GB). That page is stored first and the cursor
 * moved past it by the rule above; the newer pages the walk passed over are then read again
 * forward from that cursor, one page at a time, in the same step. Nothing is lost: every row
 * newer than the oldest page is after the cursor as the platform sees it (the oldest page holds
 * every row before its before_ts, the rest are at or after it), so the forward read returns it;
 * rows read twice are absorbed by the inbox's dedupe. A crash or a full inbox mid-way leaves the
 * cursor before the first row not stored, as on any page. The price is reading a backlog of more
 * than one page twice.
 *
 * Acked delivery (upstream-latest §2 C): once a page is in the journal, the highest `seq` of
 * its handled rows is acked to the platform (POST …/activity/ack), so it can prune them and
 * count unread mail. An ack never holds delivery up: a failure is logged once and retried with
 * the next page, and a platform without the endpoint is not asked again.
 */
import { type ActivityRow, parseActivityRow } from "./activity_row.ts";
import type { Clock } from "../clock.ts";
import { PlatformError } from "../errors.ts";
import type { AcceptBatch, AcceptResult, InboxCursor } from "./inbox.ts";
import { classifyRow } from "./filter.ts";
import type { InboxMessage } from "./message.ts";
import type { Resolution, UploadResolver } from "./upload_resolver.ts";
import type { SeenId } from "./journal.ts";
import type { Logger } from "../log.ts";
import { AckUnsupportedError, type ActivityQuery } from "../platform/registry.ts";
import { type CallOptions, CursorGoneError, ResponseTooLargeError } from "../platform/http.ts";
import { compareTimestamps, justAfter, timestampKey } from "../timestamps.ts";

/** Upstream's backlog window on a first start or after a 410: ten minutes. */
export const BACKLOG_WINDOW_SECS = 600;
/** The platform's maximum page (contract §5): fewer round trips for a burst. */
export const PAGE_LIMIT = 500;
/**
 * A page over the feed's byte cap is asked for again with the limit divided by this (500,
 * 125, 31, 7, 1): large rows then come in smaller pages instead of failing the poll.
 */
const PAGE_SHRINK_FACTOR = 4;
/**
 * Pages read backwards through a large backlog before giving up on older rows. A bound on
 * round trips, not memory: the walk holds only its oldest page (see "Backlog memory" above).
 */
const MAX_BACKLOG_PAGES = 40;
/**
 * Pause between polls while the platform's event stream is up (issue 14): events wake the
 * poller at once, so the poll is only a safety net for events the platform dropped (its
 * 64-slot buffers, another server process, a reconnect gap: contract §14.1).
 */
export const SAFETY_POLL_MS = 60_000;
/** Canvas uploads fetched at the same time (upstream's 4). */
const UPLOAD_FETCHES = 4;
/** Longest wait between polls while the platform keeps failing. */
const MAX_BACKOFF_MS = 60_000;
/** The platform clamps since_secs to 30 days (contract §5). */
const MAX_BACKLOG_SECS = 30 * 24 * 3600;
/** Slack added when the backlog window is stretched over an outage (clock skew, in flight). */
const BACKLOG_MARGIN_SECS = 60;

/** What the poller needs from the platform client. */
export interface PollerPlatform {
  listActivity(query: ActivityQuery, opts?: CallOptions): Promise<unknown[]>;
  /** POST …/activity/ack; absent in tests that do not care (then nothing is acked). */
  ackActivity?(ackedSeq: number, opts?: CallOptions): Promise<number>;
}

/** What the poller needs from the inbox (DurableInbox satisfies it). */
export interface PollerInbox {
  readonly cursor: InboxCursor | null;
  readonly isFull: boolean;
  hasSeen(activityId: string): boolean;
  accept(batch: AcceptBatch): Promise<AcceptResult>;
  setCursor(cursor: InboxCursor): Promise<void>;
  forgetCursor(): Promise<void>;
  onRoom(listener: () => void): () => void;
}

/** Settings of one workspace's poller. */
export interface PollerConfig {
  /** This workspace's id (lowercase), for the self-echo filter. */
  selfId: string;
  /** Pause between polls when there is nothing more to read. */
  intervalMs: number;
  /** Rows per request; the platform's maximum by default. */
  pageLimit?: number;
}

/** Dependencies of the poller. */
export interface PollerDeps {
  platform: PollerPlatform;
  inbox: PollerInbox;
  clock: Clock;
  log: Logger;
  /**
   * Fetches canvas uploads (`platform-pending:` attachments) before a message is queued
   * (inbox/upload_resolver.ts); absent: attachments are queued as they came.
   */
  uploads?: Pick<UploadResolver, "resolve">;
  /**
   * Work run by run() between two polls, never during one (the upload retention sweep,
   * inbox/upload_retention.ts). `isHoldingBack`: the last poll left messages on the platform
   * (the inbox is full, or an upload fetch is retried); `signal` aborts when the poller stops
   * (end soon: shutdown waits for it). Must not throw.
   */
  betweenPolls?: (state: { isHoldingBack: boolean; signal: AbortSignal }) => Promise<void>;
}

interface Page {
  /** Parsed rows, oldest first. */
  rows: ActivityRow[];
  /**
   * More rows may follow right after the last one: a full forward page, or the oldest page of a
   * backlog walk that passed over newer pages (read forward next).
   */
  hasMore: boolean;
}

/**
 * One workspace's inbox poller. `pollOnce` is the step (tests drive it directly); `run` loops
 * it until aborted; `wake` cuts the current pause short (used when the inbox gets room again,
 * and later by the platform's event stream).
 */
export class InboxPoller {
  #cfg: Required<PollerConfig>;
  #deps: PollerDeps;
  #failures = 0;
  #failingReason = "";
  /** When a poll last caught up with the feed (local clock): the backlog reaches back to it. */
  #caughtUpMs: number | null = null;
  /** Row time of a cursor the platform no longer knows (410), until the backlog is read. */
  #lostCursorMs: number | null = null;
  /**
   * The id of the stored cursor the platform answered 410 for. It stays on disk until the
   * backlog has been read, so a restart in between still knows how far back to read.
   */
  #goneCursorId: string | null = null;
  #wakeController: AbortController | null = null;
  #wakeRequested = false;
  /** Rows asked per page now: pageLimit, or less after a page passed the byte cap. */
  #pageLimit: number;
  /** The highest seq the platform confirmed (or we sent), so a seq is acked once. */
  #ackedSeq = -1;
  /** The platform answered the ack route with gin's 404: it predates acks. */
  #isAckUnsupported = false;
  /** An ack failed and that was logged; the next success logs the recovery. */
  #isAckFailing = false;
  /** Most rows a backlog walk held at once (see backlogPeakRows). */
  #backlogPeakRows = 0;
  /** The event stream is up: polls slow to the safety interval. */
  #isStreamUp = false;
  /** The last page read was not handed over whole (inbox full, or an upload held back). */
  #isHoldingBack = false;

  #firstPoll = Promise.withResolvers<void>();

  constructor(cfg: PollerConfig, deps: PollerDeps) {
    this.#cfg = { pageLimit: PAGE_LIMIT, ...cfg };
    this.#pageLimit = this.#cfg.pageLimit;
    this.#deps = deps;
  }

  /**
   * The most activity rows a backlog walk held in memory at once, over this poller's life: at
   * most two pages (the oldest page read and the page in flight), so at most 2 × pageLimit rows
   * and 2 × the feed's body cap (platform/registry.ts ACTIVITY_MAX_BODY_BYTES) in bytes, however
   * long the backlog. Exposed for tests and the benchmark.
   */
  get backlogPeakRows(): number {
    return this.#backlogPeakRows;
  }

  /**
   * Tells the poller whether the platform's event stream is up. Up: the pause between polls
   * grows to SAFETY_POLL_MS (events wake it). Down: it polls at once (events may have been
   * missed) and then every `intervalMs` again.
   */
  setStreamUp(isUp: boolean): void {
    if (this.#isStreamUp === isUp) return;
    this.#isStreamUp = isUp;
    if (!isUp) this.wake();
  }

  /** The pause between polls now: the configured one, or the safety one while streaming. */
  get intervalMs(): number {
    return this.#isStreamUp ? Math.max(SAFETY_POLL_MS, this.#cfg.intervalMs) : this.#cfg.intervalMs;
  }

  /** Ends the current pause at once (or makes the next one zero-length). */
  wake(): void {
    this.#wakeRequested = true;
    this.#wakeController?.abort();
  }

  /**
   * Polls until `signal` aborts. Never throws: every fault becomes a pause. The inbox's
   * "room again" event wakes it, so a full inbox resumes as soon as the agent pops.
   */
  async run(signal: AbortSignal): Promise<void> {
    const unsubscribe = this.#deps.inbox.onRoom(() => this.wake());
    try {
      while (!signal.aborted) {
        const delayMs = await this.pollOnce({ signal });
        this.#firstPoll.resolve();
        if (signal.aborted) break;
        const isHoldingBack = this.#isHoldingBack || this.#deps.inbox.isFull;
        await this.#deps.betweenPolls?.({ isHoldingBack, signal });
        if (signal.aborted) break;
        await this.#pause(delayMs, signal);
      }
    } finally {
      unsubscribe();
      this.#firstPoll.resolve();
    }
  }

  /**
   * Settles once run()'s first poll has finished, whatever its outcome (or run() ended).
   * Never rejects: the inbox tools wait on it so a fresh start does not answer "empty" while
   * messages wait on the platform.
   */
  get firstPoll(): Promise<void> {
    return this.#firstPoll.promise;
  }

  /**
   * One step: read what is new, hand it to the inbox, move the cursor. Returns how long to
   * wait before the next step (0 when a full page says more is waiting). Never throws.
   */
  async pollOnce(opts: CallOptions = {}): Promise<number> {
    const { inbox, log } = this.#deps;
    if (inbox.isFull) return this.intervalMs; // the inbox reports this itself, once
    try {
      const stored = inbox.cursor;
      const cursor = stored !== null && stored.id === this.#goneCursorId ? null : stored;
      let page = cursor === null ? await this.#readBacklog(opts) : await this.#readForward(
        cursor,
        opts,
      );
      let readAtMs = this.#deps.clock.now();
      let moreNow = await this.#ingest(page, opts);
      // A backlog of more than one page: its oldest page is stored and the cursor is on it; the
      // newer pages the walk passed over are read forward now, one page held at a time.
      for (let next = inbox.cursor; cursor === null && moreNow && next !== null;) {
        page = await this.#readForward(next, opts);
        readAtMs = this.#deps.clock.now();
        moreNow = await this.#ingest(page, opts);
        next = inbox.cursor;
      }
      if (!page.hasMore) this.#caughtUpMs = readAtMs;
      if (cursor === null) await this.#settleGoneCursor();
      this.#recovered();
      return moreNow ? 0 : this.intervalMs;
    } catch (err) {
      if (opts.signal?.aborted) return 0;
      if (err instanceof CursorGoneError) {
        const lost = inbox.cursor;
        const lostMs = lost?.created_at == null ? NaN : Date.parse(lost.created_at);
        if (!Number.isNaN(lostMs)) this.#lostCursorMs = lostMs;
        this.#goneCursorId = lost?.id ?? null;
        log.warn(
          "inbox cursor is no longer known to the platform (pruned or reset): re-reading the " +
            "backlog since it; messages already seen are not delivered twice",
        );
        return 0;
      }
      return this.#failed(err);
    }
  }

  /**
   * After a backlog read that followed a 410: the ingest moved the cursor to the newest row
   * read; when there was none, the forgotten cursor is dropped now (the next poll reads the
   * backlog window again, as on a first start).
   */
  async #settleGoneCursor(): Promise<void> {
    const gone = this.#goneCursorId;
    this.#lostCursorMs = null;
    this.#goneCursorId = null;
    if (gone === null || this.#deps.inbox.cursor?.id !== gone) return;
    await this.#deps.inbox.forgetCursor().catch((err) =>
      this.#deps.log.warn("cannot forget the inbox cursor", { error: err })
    );
  }

  /** Rows after the cursor, oldest first. */
  async #readForward(cursor: InboxCursor, opts: CallOptions): Promise<Page> {
    const { raw, limit } = await this.#fetchPage({ sinceId: cursor.id }, opts);
    return { rows: this.#parse(raw), hasMore: raw.length >= limit };
  }

  /**
   * The oldest page of the backlog window, oldest first. The platform returns the window newest
   * first and cut at the limit, so while pages are full this reads further back with before_ts
   * (contract §16); a platform without before_ts answers the same page again, which ends the
   * walk. Only the oldest page read is kept (with the page in flight, two at most): when the
   * walk passed over newer pages, `hasMore` says so and pollOnce reads them forward from the
   * cursor this page leaves (module comment, "Backlog memory").
   */
  async #readBacklog(opts: CallOptions): Promise<Page> {
    // Ids of every row the walk has read (at most MAX_BACKLOG_PAGES × pageLimit short strings),
    // to notice a page that brings nothing new.
    const ids = new Set<string>();
    const sinceSecs = this.#backlogSecs();
    let query: ActivityQuery = { sinceSecs };
    /** The last page that brought rows not read before: the oldest part of the window so far. */
    let oldestPage: ActivityRow[] = [];
    let oldest: ActivityRow | undefined;
    let hasNewer = false;
    for (let pageNo = 0; pageNo < MAX_BACKLOG_PAGES; pageNo++) {
      const { raw, limit } = await this.#fetchPage(query, opts);
      const page = this.#parse(raw);
      this.#backlogPeakRows = Math.max(this.#backlogPeakRows, oldestPage.length + page.length);
      const fresh = page.filter((r) => !ids.has(r.id));
      for (const row of fresh) ids.add(row.id);
      if (fresh.length > 0) {
        hasNewer ||= oldestPage.length > 0;
        oldestPage = page;
        oldest = fresh.at(-1);
      }
      if (raw.length < limit || oldest === undefined) break;
      // before_ts is strict. Ask first from just after the oldest row, so rows sharing its
      // timestamp that the limit cut off come back too; when that brings nothing new (a group
      // of equal timestamps filling the page), step strictly past the group.
      const isStuck = fresh.length === 0;
      if (isStuck && query.beforeTs === oldest.created_at) break;
      const beforeTs = isStuck ? oldest.created_at : justAfter(oldest.created_at);
      if (beforeTs === null) break;
      query = { sinceSecs, beforeTs };
    }
    // Keys computed once per row, then sorted oldest first.
    const keyed = oldestPage.map((row) => ({ row, key: timestampKey(row.created_at) ?? "" }));
    keyed.sort((a, b) =>
      a.key < b.key ? -1 : a.key > b.key ? 1 : (a.row.seq ?? 0) - (b.row.seq ?? 0)
    );
    return { rows: keyed.map((k) => k.row), hasMore: hasNewer };
  }

  /**
   * One page of the feed at the current page size, and the limit it was asked with (a page
   * that long means more may follow). A page over the feed's byte cap is asked for again,
   * smaller, down to one row; the size goes back up once a page is not full (caught up).
   */
  async #fetchPage(
    query: ActivityQuery,
    opts: CallOptions,
  ): Promise<{ raw: unknown[]; limit: number }> {
    for (;;) {
      const limit = this.#pageLimit;
      try {
        const raw = await this.#deps.platform.listActivity({ ...query, limit }, opts);
        if (raw.length < limit) this.#pageLimit = this.#cfg.pageLimit;
        return { raw, limit };
      } catch (err) {
        if (!(err instanceof ResponseTooLargeError) || limit <= 1) throw err;
        this.#pageLimit = Math.max(1, Math.floor(limit / PAGE_SHRINK_FACTOR));
        this.#deps.log.warn("inbox page over the size limit; asking for smaller pages", {
          rows: limit,
          nextRows: this.#pageLimit,
          limitBytes: err.capBytes,
        });
      }
    }
  }

  /**
   * How far back the backlog read reaches: upstream's ten minutes, stretched to reach the last
   * time a poll caught up with the feed (an outage after a 410, or with no cursor) or, after a
   * restart, the row time of a cursor the platform forgot. No message written meanwhile falls
   * out of the window; rows read twice are absorbed by the inbox's dedupe.
   */
  #backlogSecs(): number {
    const { clock } = this.#deps;
    // Since the last catch-up: monotonic. Since a lost cursor's row: that is a platform (wall)
    // time, so it is compared with the wall clock.
    const elapsedMs = this.#caughtUpMs !== null
      ? clock.now() - this.#caughtUpMs
      : this.#lostCursorMs !== null
      ? clock.wallNow() - this.#lostCursorMs
      : null;
    if (elapsedMs === null) return BACKLOG_WINDOW_SECS;
    const secs = Math.ceil(elapsedMs / 1000) + BACKLOG_MARGIN_SECS;
    return Math.min(MAX_BACKLOG_SECS, Math.max(BACKLOG_WINDOW_SECS, secs));
  }

  #parse(raw: unknown[]): ActivityRow[] {
    const rows: ActivityRow[] = [];
    for (const item of raw) {
      const row = parseActivityRow(item);
      if (row === null) this.#deps.log.debug("skipping an activity row without id or created_at");
      else rows.push(row);
    }
    return rows;
  }

  /**
   * Hands a page to the inbox, moves the cursor and acks what is stored. Returns whether to
   * read again at once.
   */
  async #ingest(page: Page, opts: CallOptions): Promise<boolean> {
    const { inbox, log } = this.#deps;
    const { rows } = page;
    const messages: InboxMessage[] = [];
    const skipped: SeenId[] = [];
    const messageRowIndex: number[] = [];
    rows.forEach((row, index) => {
      if (inbox.hasSeen(row.id)) return;
      const decision = classifyRow(row, this.#cfg.selfId);
      if ("deliver" in decision) {
        messages.push(decision.deliver);
        messageRowIndex.push(index);
      } else {
        skipped.push({ id: row.id, created_at: row.created_at });
        log.debug("skipping activity row", { id: row.id, reason: decision.skip });
      }
    });
    // Canvas uploads are fetched before their message is queued. A message whose upload must
    // be retried is held back (not handled: the cursor stays before it), the others go on.
    // Up to UPLOAD_FETCHES files are fetched side by side (upstream 30fb5071: N files one
    // after another stalled the poller N times as long).
    const uploads = this.#deps.uploads;
    // Until the inbox has them, fetched uploads are mentioned by no queued message.
    if (messages.length > 0) this.#isHoldingBack = true;
    const resolutions = uploads === undefined
      ? messages.map((message): Resolution => ({ ready: message }))
      : await mapLimited(messages, UPLOAD_FETCHES, (message) => uploads.resolve(message, opts));
    const ready: InboxMessage[] = [];
    const readyRowIndex: number[] = [];
    let firstHeld = rows.length;
    for (const [i, resolved] of resolutions.entries()) {
      const rowIndex = messageRowIndex[i] ?? rows.length;
      if ("retry" in resolved) firstHeld = Math.min(firstHeld, rowIndex);
      else {
        ready.push(resolved.ready);
        readyRowIndex.push(rowIndex);
      }
    }
    let accepted: AcceptResult = { taken: 0, queued: [] };
    if (ready.length + skipped.length > 0) {
      try {
        accepted = await inbox.accept({ messages: ready, skipped });
      } catch (err) {
        throw new InboxStoreError(err);
      }
    }
    const { taken, queued } = accepted;
    if (queued.length > 0) log.info("inbox received messages", { count: queued.length });

    // Rows before the first message the inbox could not take (or that was held back) are handled.
    const handled = Math.min(
      firstHeld,
      taken < ready.length ? readyRowIndex[taken] ?? rows.length : rows.length,
    );
    const next = safeCursor(rows, handled, page.hasMore);
    if (next !== null) await inbox.setCursor({ id: next.id, created_at: next.created_at });
    this.#isHoldingBack = handled < rows.length;
    await this.#ack(ackableSeq(rows, handled), opts);
    if (handled < rows.length) return false; // inbox full: wait for room
    return page.hasMore && next !== null;
  }

  /** Acks `seq` when it is new. Never throws: acks are a courtesy to the platform. */
  async #ack(seq: number | null, opts: CallOptions): Promise<void> {
    const ack = this.#deps.platform.ackActivity;
    if (seq === null || seq <= this.#ackedSeq || this.#isAckUnsupported || ack === undefined) {
      return;
    }
    const { log } = this.#deps;
    try {
      const floor = await ack.call(this.#deps.platform, seq, opts);
      this.#ackedSeq = Math.max(seq, floor);
      if (this.#isAckFailing) log.info("inbox acks to the platform work again", { seq });
      this.#isAckFailing = false;
    } catch (err) {
      if (opts.signal?.aborted) return;
      if (err instanceof AckUnsupportedError) {
        this.#isAckUnsupported = true;
        log.info("the platform does not take inbox acks (an older release); not acking");
        return;
      }
      if (!this.#isAckFailing) {
        log.info("inbox ack to the platform failed; retrying with the next messages", {
          reason: err instanceof Error ? err.message : String(err),
        });
      }
      this.#isAckFailing = true;
    }
  }

  async #pause(delayMs: number, signal: AbortSignal): Promise<void> {
    if (this.#wakeRequested) {
      this.#wakeRequested = false;
      return;
    }
    if (delayMs <= 0) return;
    const controller = new AbortController();
    this.#wakeController = controller;
    const onAbort = () => controller.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      await this.#deps.clock.sleep(delayMs, controller.signal);
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.#wakeController = null;
      this.#wakeRequested = false;
    }
  }

  /** Logs a failure when the state changes, and backs off. Returns the pause in ms. */
  #failed(err: unknown): number {
    const { log } = this.#deps;
    this.#failures++;
    const reason = err instanceof PlatformError
      ? `${err.message}`
      : err instanceof Error
      ? `${err.name}: ${err.message}`
      : String(err);
    if (this.#failingReason === "" && err instanceof InboxStoreError) {
      // Our own disk, not the platform: say so (the fetched messages wait on the platform).
      log.warn("inbox cannot store the messages it fetched; retrying", {
        reason,
        next: "check the state directory's free space and permissions; the messages wait on " +
          "the platform until they are stored",
      });
    } else if (this.#failingReason === "") {
      const next = err instanceof PlatformError
        ? err.next
        : "messages stay on the platform and are fetched when it answers again";
      log.warn("inbox poll failing; retrying", { reason, next });
    } else if (reason !== this.#failingReason) {
      log.debug("inbox poll still failing, for another reason", { reason });
    }
    this.#failingReason = reason;
    const backoff = this.#cfg.intervalMs * 2 ** Math.min(this.#failures - 1, 4);
    return Math.min(backoff, Math.max(MAX_BACKOFF_MS, this.#cfg.intervalMs));
  }

  #recovered(): void {
    if (this.#failingReason !== "") {
      this.#deps.log.warn("inbox poll recovered", { afterFailures: this.#failures });
    }
    this.#failures = 0;
    this.#failingReason = "";
  }
}

/** The inbox refused a fetched page (its journal could not be written): not a platform fault. */
class InboxStoreError extends Error {
  override name = "InboxStoreError";
  constructor(cause: unknown) {
    super(`Cannot store fetched messages: ${cause instanceof Error ? cause.message : cause}`, {
      cause,
    });
  }
}

/**
 * The row the cursor may move to: the last of the first `handled` rows whose created_at is
 * strictly before every row not yet handled (the rest of the page, and when `hasMore`, the
 * unseen rows after the page, which are no older than its last row). Null: stay put. When a
 * whole full page shares one timestamp no such row exists; then the last row is taken so the
 * poller cannot loop forever, accepting the platform's own limit (contract §17.1).
 */
export function safeCursor(
  rows: readonly ActivityRow[],
  handled: number,
  hasMore: boolean,
): ActivityRow | null {
  if (handled === 0) return null;
  const prefix = rows.slice(0, handled);
  let boundary: ActivityRow | undefined;
  if (handled < rows.length) boundary = rows[handled];
  else if (hasMore) {
    const last = rows.at(-1);
    // A platform with seq resumes strictly after the cursor row in (created_at, seq) order
    // (upstream-latest §2 B): the rows of the next page come after the last one.
    if (last?.seq != null) return last;
    boundary = last;
  }
  if (boundary === undefined) return prefix.at(-1) ?? null;
  for (let i = prefix.length - 1; i >= 0; i--) {
    const row = prefix[i];
    if (row !== undefined && isResumedBefore(row, boundary)) return row;
  }
  return handled === rows.length ? prefix.at(-1) ?? null : null;
}

/**
 * True when a cursor on `row` makes the platform return `later`: its created_at is later, or
 * (on a platform with seq) equal with a higher seq.
 */
function isResumedBefore(row: ActivityRow, later: ActivityRow): boolean {
  const order = compareTimestamps(row.created_at, later.created_at);
  if (order !== 0) return order < 0;
  return row.seq !== null && later.seq !== null && row.seq < later.seq;
}

/**
 * The seq to ack after the first `handled` rows are stored: the highest seq among them that
 * is below every seq of the rows not handled yet (acking a seq tells the platform every row
 * up to it is stored). Null when no handled row carries a seq.
 */
export function ackableSeq(rows: readonly ActivityRow[], handled: number): number | null {
  let pendingMin = Infinity;
  for (const row of rows.slice(handled)) {
    if (row.seq !== null) pendingMin = Math.min(pendingMin, row.seq);
  }
  let best: number | null = null;
  for (const row of rows.slice(0, handled)) {
    if (row.seq !== null && row.seq < pendingMin && (best === null || row.seq > best)) {
      best = row.seq;
    }
  }
  return best;
}

/** `fn` over `items` with at most `limit` running at once; results in the order of `items`. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
