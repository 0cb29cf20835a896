/**
 * The durable inbox of one workspace: the queue the agent drains with wait_for_message /
 * inbox_peek / inbox_pop, its on-disk journal, the dedupe memory and the poll cursor.
 * Upstream kept the queue in memory (max 200, oldest silently dropped) and lost it on a crash;
 * this one does neither. The HTTP poller (lib/inbox/poller.ts) and row parsing are not here.
 *
 * Guarantees
 * - Accepted and not yet popped ⇒ survives a restart, including kill -9 at any instant: accept()
 *   resolves only after the journal record is written (lib/inbox/journal.ts).
 * - pop() resolved ⇒ never delivered again after a restart (same rule for the pop record).
 * - No silent drop: at most `capacity` messages (default 10_000) and `byteBudget` bytes of
 *   them (default 512 MiB; StoredMessage.bytes: UTF-8 text plus the other fields) wait.
 *   accept() takes a prefix of the batch that fits and says how many (`taken`); the poller
 *   moves its cursor only past those, so the rest is fetched again once pop() makes room
 *   (`onRoom`). Becoming full is logged once (warn), having room again once (info). A journal
 *   holding more than either limit (written by an older version, or before a limit was
 *   lowered) loads whole; the inbox is then full until enough is popped.
 * - One message's text is capped at 256 KiB (capMessageText in lib/inbox/message.ts): a longer
 *   text is cut when accepted, with a marker the agent sees naming the full length.
 * - Crash order with the cursor: the poller awaits accept() (journal written) before
 *   setCursor(); a crash between the two refetches the batch and dedupe absorbs it.
 *
 * Dedupe rule: an activity id is refused while it is pending, and afterwards while it is in the
 * "seen" set, which holds every id accepted, popped or skipped (rows the poller filtered out),
 * with its row's created_at. Seen ids are kept for at least SEEN_WINDOW_MS (30 min) of ROW time:
 * an id is forgotten only once the newest created_at accepted so far is more than 30 minutes
 * past it, so a 410 backlog refetch (the last 10 minutes) or overlapping pages never replay a
 * popped message. The set is also capped at SEEN_CAP (50_000 ids, about 4 MB on disk); when the
 * cap is hit the earliest-accepted ids go first. Row time rather than the local clock keeps the
 * rule independent of clock skew and of how long the process was down.
 *
 * Durability versus cost: records reach the kernel with one write each, which is all kill -9
 * needs. `add` records are also flushed to disk (syncData) because the cursor file, flushed by
 * atomicWriteFile, moves past them right after: without the flush a power loss could lose
 * messages for good. That costs one flush per poll that brought something new. `pop` records are
 * not flushed (the agent may pop many messages quickly); after a power loss a message popped in
 * the last seconds may be delivered again, which the agent already handles as an ordinary
 * redelivery.
 *
 * Compaction: at open when the journal is damaged or more than 2 × the live state, and while
 * running whenever it exceeds max(4 MiB, 10 × the live state), the live state is written as a
 * fresh snapshot (atomic rename, mode 0600), streamed in bounded
 * records (lib/inbox/journal.ts): an inbox at its limits is never one string.
 */
import { removeStaleTemps } from "../state/atomic_write.ts";
import { workspaceStatePath } from "../state/state_files.ts";
import type { Clock } from "../clock.ts";
import { type InboxCursor, readCursorFile, removeCursorFile, writeCursorFile } from "./cursor.ts";
import {
  addRecords,
  InboxJournal,
  type JournalRecord,
  type SeenId,
  type SizedMessage,
} from "./journal.ts";
import {
  capMessageText,
  type InboxMessage,
  loadMessage,
  type StoredMessage,
  storeMessage,
} from "./message.ts";
import { acquireInboxLock, type InboxLock } from "./lock.ts";
import type { Logger } from "../log.ts";
import { ownerCheck, setAsideForeignJournal } from "./journal_owner.ts";
import { SeenIds } from "./seen.ts";
import { cutCodePoints, sanitiseText } from "../text.ts";

export type { InboxCursor } from "./cursor.ts";
export type { SeenId } from "./journal.ts";

/** Default cap on pending messages. */
export const DEFAULT_INBOX_CAPACITY = 10_000;
/**
 * Default cap on the bytes of pending messages (StoredMessage.bytes: UTF-8 text plus the other
 * fields): 512 MiB. Pending messages are held in memory (as UTF-8 bytes) as well as on disk,
 * so this bounds the program's memory: the budget is well under 2 GB of RSS, a journal
 * of an older version past the budget must still load (10,000 × 100 KB measured 1.0 GiB peak
 * RSS), and replaying or compacting needs room beside the state. It is 5,000 messages of 100 KB, or 2,000 at the 256 KiB text cap; typical messages
 * (a few KB) hit the count cap first.
 */
export const DEFAULT_INBOX_BYTE_BUDGET = 512 * 1024 * 1024;
/** Bytes one seen-only id takes in a snapshot, for the live-state estimate. */
const SEEN_ID_BYTES = 80;
/** Journal size below which no compaction happens while running. */
const COMPACT_MIN_BYTES = 4 * 1024 * 1024;
/** Compact when the journal is this many times the size of the live state. */
const COMPACT_RATIO = 10;
/** At open, compact when the journal is more than this many times the live state. */
const OPEN_COMPACT_RATIO = 2;

/** Options for DurableInbox.open. */
export interface DurableInboxOptions {
  /** State directory (already created, 0700). */
  dir: string;
  log: Logger;
  clock: Clock;
  /** Maximum pending messages; default DEFAULT_INBOX_CAPACITY. */
  capacity?: number;
  /** Maximum bytes of pending messages (StoredMessage.bytes); default DEFAULT_INBOX_BYTE_BUDGET. */
  byteBudget?: number;
  /**
   * The workspace this inbox belongs to (lowercase UUID). Every file is keyed by it
   * (`<base>.<workspace id>`, state/state_files.ts), so several workspaces share one state
   * directory, and the id is recorded inside the journal and the cursor: a file naming another
   * workspace, or none, is set aside with a warning and never served.
   */
  workspaceId: string;
  /**
   * An unkeyed journal of an older version that lib/inbox/legacy_state.ts proved to be this
   * workspace's: replayed when this workspace has no journal of its own yet, then removed
   * once its content is in the keyed snapshot.
   */
  adoptJournalFrom?: string;
  /**
   * The user id every state file must belong to; default the state directory's owner
   * (state/safe_file.ts). Tests pass another id to play files owned by someone else.
   */
  uid?: number | null;
}

/** One poller page, already parsed: rows to queue and rows filtered out (echoes etc.). */
export interface AcceptBatch {
  messages: readonly InboxMessage[];
  skipped: readonly SeenId[];
}

/** What accept() did with a batch. */
export interface AcceptResult {
  /**
   * How many of `messages`, counted from the start, were handled (queued or recognised as
   * duplicates). Less than `messages.length` only when the inbox filled up: the poller must
   * not move its cursor past message `taken - 1`. Skipped ids are always all recorded.
   */
  taken: number;
  /** The messages newly queued (and announced to onArrived listeners), in order. */
  queued: InboxMessage[];
}

/**
 * A durable, deduplicating, capped message queue with its poll cursor. One instance per
 * workspace; all state is in the instance. Needs --allow-read and --allow-write on `dir`.
 */
export class DurableInbox {
  readonly capacity: number;
  readonly byteBudget: number;
  #log: Logger;
  #clock: Clock;
  #journal!: InboxJournal;
  #cursorPath: string;
  #workspaceId: string;
  #cursor: InboxCursor | null;
  #pending = new Map<string, StoredMessage>();
  #pendingBytes = 0;
  /** Size of the first message accept() refused for lack of byte room (0: none refused). */
  #neededBytes = 0;
  #seen: SeenIds;
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;
  #lock: InboxLock | null = null;
  #reportedFull = false;
  #compactFailing = false;
  #cursorFailing = false;
  #arrivalListeners = new Set<(msgs: InboxMessage[]) => void>();
  #roomListeners = new Set<() => void>();
  #waiters = new Set<(msg: InboxMessage | null) => void>();

  private constructor(opts: DurableInboxOptions, cursor: InboxCursor | null) {
    this.capacity = opts.capacity ?? DEFAULT_INBOX_CAPACITY;
    this.byteBudget = opts.byteBudget ?? DEFAULT_INBOX_BYTE_BUDGET;
    this.#log = opts.log;
    this.#clock = opts.clock;
    this.#workspaceId = opts.workspaceId;
    this.#cursorPath = workspaceStatePath(opts.dir, "cursor", opts.workspaceId);
    this.#cursor = cursor;
    this.#seen = new SeenIds(opts.clock);
  }

  /**
   * Opens the inbox in `dir`: replays the journal, writes a compact snapshot, reads the cursor.
   * A damaged journal or cursor is reported and worked around (never fatal). Throws
   * InboxBusyError when another process has this inbox open (lib/inbox/lock.ts), and an Error
   * that says so when the directory cannot be written.
   */
  static async open(opts: DurableInboxOptions): Promise<DurableInbox> {
    if (opts.capacity !== undefined && !(Number.isInteger(opts.capacity) && opts.capacity > 0)) {
      throw new RangeError(`Inbox capacity must be a positive integer: got ${opts.capacity}`);
    }
    if (opts.byteBudget !== undefined && !(opts.byteBudget > 0)) {
      throw new RangeError(`Inbox byte budget must be positive: got ${opts.byteBudget}`);
    }
    const lock = await acquireInboxLock(opts.dir, {
      pid: Deno.pid,
      log: opts.log,
      ...(opts.uid === undefined ? {} : { uid: opts.uid }),
      fileSuffix: `.${opts.workspaceId}`,
    });
    try {
      const inbox = await DurableInbox.#load(opts);
      inbox.#lock = lock;
      return inbox;
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  static async #load(opts: DurableInboxOptions): Promise<DurableInbox> {
    const path = workspaceStatePath(opts.dir, "journal", opts.workspaceId);
    const cursorPath = workspaceStatePath(opts.dir, "cursor", opts.workspaceId);
    await removeStaleTemps(cursorPath, opts.log); // written on most polls: kills leave these
    const cursor = await readCursorFile(cursorPath, {
      log: opts.log,
      workspaceId: opts.workspaceId,
      clock: opts.clock,
      ...(opts.uid === undefined ? {} : { uid: opts.uid }),
    });
    let inbox = new DurableInbox(opts, cursor);
    // Records are applied only after the first line named this workspace (see ownerCheck).
    const owner = ownerCheck(opts.workspaceId);
    const journal = await InboxJournal.open(path, opts, (record) => {
      if (owner.admits(record)) inbox.#apply(record);
    });
    if (owner.verdict === "foreign" || owner.verdict === "unverified") {
      inbox = new DurableInbox(opts, cursor); // nothing of it is served, even what was applied
      await setAsideForeignJournal(path, owner, opts);
    }
    const adoptFrom = owner.verdict === "empty" ? opts.adoptJournalFrom : undefined;
    if (adoptFrom !== undefined) {
      // Proven to be ours by lib/inbox/legacy_state.ts; older versions wrote no header. The
      // journal object of the old file is dropped: it never opened a file for writing.
      await InboxJournal.open(adoptFrom, opts, (record) => inbox.#apply(record));
    }
    inbox.#journal = journal;
    inbox.#seen.prune(true);
    // Appending may go on only to a file that starts with this workspace's name: anything
    // else (set aside, adopted, empty) gets a fresh snapshot, header first.
    if (owner.verdict !== "ours" || adoptFrom !== undefined) journal.requireRewrite();
    try {
      // A clean journal mostly live is kept as it is: rewriting 1 GB at every start would cost
      // seconds and disk wear for nothing. One that is half dead (or damaged) is compacted.
      const isMostlyLive = journal.bytes <= OPEN_COMPACT_RATIO * inbox.#liveBytes();
      if (journal.needsRewrite || !isMostlyLive) await journal.rewrite(inbox.#snapshot());
    } catch (err) {
      throw new Error(
        `Cannot write the inbox journal ${path}: ${err instanceof Error ? err.message : err}; ` +
          "check that the state directory exists and is writable",
        { cause: err },
      );
    }
    if (adoptFrom !== undefined) {
      await Deno.remove(adoptFrom).catch((err) => {
        // Its content is in the keyed journal; a leftover is set aside at the next start.
        opts.log.debug("cannot remove the adopted journal", { path: adoptFrom, error: err });
      });
      opts.log.info("adopted the inbox journal of an older version", {
        from: adoptFrom,
        to: path,
        pending: inbox.size,
      });
    }
    inbox.#checkFull();
    return inbox;
  }

  /** Where the poller resumes, or null (first start, after a 410, or an unusable file). */
  get cursor(): InboxCursor | null {
    return this.#cursor;
  }

  /** Number of pending messages. */
  get size(): number {
    return this.#pending.size;
  }

  /** Bytes of the pending messages (as counted against `byteBudget`). */
  get bytes(): number {
    return this.#pendingBytes;
  }

  /**
   * True when no more messages fit (by count, or by bytes once a message was refused for lack
   * of byte room, until that much is free): the poller should stop moving its cursor.
   */
  get isFull(): boolean {
    return this.#pending.size >= this.capacity ||
      this.#pendingBytes + Math.max(1, this.#neededBytes) > this.byteBudget;
  }

  /**
   * Moves the cursor. Called after accept() resolved for the rows before it. A failed write is
   * logged (warn once, until a write works again) and the in-memory cursor is used anyway.
   */
  setCursor(cursor: InboxCursor): Promise<void> {
    return this.#serial(async () => {
      this.#cursor = { id: cursor.id, created_at: cursor.created_at };
      await this.#storeCursor(() => writeCursorFile(this.#cursorPath, cursor, this.#workspaceId));
    });
  }

  /** Drops the cursor (after a 410), so the next poll fetches the backlog window. */
  forgetCursor(): Promise<void> {
    return this.#serial(async () => {
      this.#cursor = null;
      await this.#storeCursor(() => removeCursorFile(this.#cursorPath));
    });
  }

  /** Whether `activityId` is pending or was recently accepted, popped or skipped. */
  hasSeen(activityId: string): boolean {
    return this.#pending.has(activityId) || this.#seen.has(activityId);
  }

  /**
   * Queues new messages and records skipped ids, durably, then announces what was queued.
   * Duplicates (pending, seen, or repeated in the batch) are counted as taken but neither
   * queued nor announced; so is a message with an empty activity id (logged). Throws
   * (nothing recorded) if the journal cannot be written or the inbox is closed; the poller
   * then keeps its cursor and retries.
   */
  accept(batch: AcceptBatch): Promise<AcceptResult> {
    return this.#serial(async () => {
      const fresh = new Set<string>();
      const isNew = (id: string) => !this.hasSeen(id) && !fresh.has(id);
      const room = Math.max(0, this.capacity - this.#pending.size);
      const queued: { msg: InboxMessage; stored: StoredMessage }[] = [];
      let queuedBytes = 0;
      let taken = 0;
      for (const msg of batch.messages) {
        if (msg.activity_id === "") {
          // Cannot be deduped, popped or stored; the row parser should never produce one.
          // Peer text in a log line: the one sanitiser, cut by code points (lib/text.ts).
          this.#log.warn("inbox refused a message without an activity id", {
            text: sanitiseText(cutCodePoints(msg.text, 200), { oneLine: true }),
          });
        } else if (isNew(msg.activity_id)) {
          if (queued.length >= room) break;
          const capped = capMessageText(msg);
          const stored = storeMessage(capped);
          const bytes = stored.bytes;
          // An empty inbox always takes one message, so no message can block it for good.
          const isEmpty = this.#pending.size === 0 && queued.length === 0;
          if (!isEmpty && this.#pendingBytes + queuedBytes + bytes > this.byteBudget) {
            this.#neededBytes = bytes;
            break;
          }
          queued.push({ msg: capped, stored });
          queuedBytes += bytes;
          fresh.add(msg.activity_id);
        }
        taken++;
      }
      const seen: SeenId[] = [];
      for (const s of batch.skipped) {
        if (s.id === "" || !isNew(s.id)) continue;
        seen.push({ id: s.id, created_at: s.created_at });
        fresh.add(s.id);
      }
      if (taken === batch.messages.length) this.#neededBytes = 0;
      if (queued.length === 0 && seen.length === 0) {
        this.#checkFull();
        return { taken, queued: [] };
      }
      const sized = queued.map((q) => ({ msg: q.msg, bytes: q.stored.bytes }));
      await this.#persist([...addRecords(sized, seen)], true);
      for (const s of seen) this.#seen.add(s.id, s.created_at);
      for (const q of queued) this.#addPending(q.stored);
      this.#seen.prune(false);
      this.#checkFull();
      const msgs = queued.map((q) => q.msg);
      if (msgs.length > 0) this.#announce(msgs);
      return { taken, queued: msgs };
    });
  }

  /** Up to `limit` pending messages, oldest first, without removing them. */
  peek(limit: number): InboxMessage[] {
    const out: InboxMessage[] = [];
    for (const stored of this.#pending.values()) {
      if (out.length >= limit) break;
      out.push(loadMessage(stored));
    }
    return out;
  }

  /**
   * Every pending message, oldest first, each decoded only when the iteration reaches it (the
   * upload retention scans them for the files they mention). Consume it without awaiting in
   * between: a pop meanwhile may or may not be seen.
   */
  *pendingMessages(): Generator<InboxMessage> {
    for (const stored of this.#pending.values()) yield loadMessage(stored);
  }

  /** The oldest pending message, if any. */
  head(): InboxMessage | undefined {
    const stored = this.#pending.values().next().value;
    return stored === undefined ? undefined : loadMessage(stored);
  }

  /**
   * Removes a pending message. Resolves true once the removal is in the journal, false if the
   * id is not pending (unknown or already popped; calling twice is harmless). Throws if the
   * journal cannot be written (the message then stays pending).
   */
  pop(activityId: string): Promise<boolean> {
    return this.#serial(async () => {
      if (!this.#pending.has(activityId)) return false;
      const record: JournalRecord = { op: "pop", id: activityId };
      await this.#persist([record], false);
      this.#apply(record);
      this.#checkFull();
      return true;
    });
  }

  /**
   * The head message without removing it: at once when the inbox is not empty, else on the
   * next arrival; null when `timeoutMs` passes (deps.clock), `signal` aborts or the inbox
   * closes. Several waiters may wait at once; nothing is left behind when one ends.
   */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<InboxMessage | null> {
    if (signal?.aborted || this.#closed) return Promise.resolve(null);
    const head = this.head();
    if (head !== undefined) return Promise.resolve(head);
    if (!(timeoutMs > 0)) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = new AbortController();
      let done = false;
      const finish = (msg: InboxMessage | null) => {
        if (done) return;
        done = true;
        this.#waiters.delete(finish);
        signal?.removeEventListener("abort", onAbort);
        timer.abort();
        resolve(msg);
      };
      const onAbort = () => finish(null);
      this.#waiters.add(finish);
      signal?.addEventListener("abort", onAbort, { once: true });
      // Clock.sleep never rejects; it resolves early once `timer` aborts.
      void this.#clock.sleep(timeoutMs, timer.signal).then(() => finish(null));
    });
  }

  /**
   * Calls `listener` with every batch of newly queued messages (for push notifications),
   * after they are durable. A throwing listener is logged and never affects accept().
   * Returns the unsubscribe function.
   */
  onArrived(listener: (msgs: InboxMessage[]) => void): () => void {
    this.#arrivalListeners.add(listener);
    return () => this.#arrivalListeners.delete(listener);
  }

  /**
   * Calls `listener` when pop() frees room in a full inbox, so the poller can resume at once.
   * Returns the unsubscribe function.
   */
  onRoom(listener: () => void): () => void {
    this.#roomListeners.add(listener);
    return () => this.#roomListeners.delete(listener);
  }

  /**
   * Writes the live state as a fresh snapshot now (what happens by itself when the journal has
   * grown well past the live state), streamed in bounded records. Throws the write error; the
   * old journal is then intact.
   */
  compact(): Promise<void> {
    return this.#serial(() => this.#journal.rewrite(this.#snapshot()));
  }

  /** Waits for pending writes, ends all waiters with null and closes the journal. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#serial(() => {
      this.#closed = true;
      return Promise.resolve();
    }).catch(() => {
      // A failed operation already reported to its caller; closing must proceed.
    });
    for (const finish of [...this.#waiters]) finish(null);
    await this.#journal.close();
    this.#lock?.release();
  }

  /** Runs `task` after every earlier operation, so decisions and writes never interleave. */
  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(() => {
      if (this.#closed) throw new Error("The inbox is closed");
      return task();
    });
    this.#chain = run.catch(() => {
      // The caller receives the rejection; later operations must still run.
    });
    return run;
  }

  /**
   * Stores `records` (a full snapshot with them instead if an earlier write failed), then
   * compacts when the journal has grown well past the live state.
   */
  async #persist(records: readonly JournalRecord[], sync: boolean): Promise<void> {
    if (this.#journal.needsRewrite) {
      await this.#journal.rewrite(this.#snapshot(records));
      return;
    }
    await this.#journal.append(records, { sync });
    const limit = Math.max(COMPACT_MIN_BYTES, COMPACT_RATIO * this.#liveBytes());
    if (this.#journal.bytes <= limit) return;
    try {
      await this.#journal.rewrite(this.#snapshot(records));
      if (this.#compactFailing) this.#log.info("inbox journal compaction works again");
      this.#compactFailing = false;
    } catch (err) {
      // The record is already stored by the append; a failed compaction only costs space.
      const fields = { path: this.#journal.path, error: String(err), next: "free disk space" };
      if (this.#compactFailing) this.#log.debug("inbox journal compaction failed", fields);
      else this.#log.warn("cannot compact the inbox journal; it keeps growing", fields);
      this.#compactFailing = true;
    }
  }

  /** Estimated size of a snapshot of the live state. */
  #liveBytes(): number {
    return this.#pendingBytes + SEEN_ID_BYTES * this.#seen.size;
  }

  /** Applies a stored record to memory (replay at open, and pops). */
  #apply(record: JournalRecord): void {
    if (record.op === "workspace") return; // checked while replaying (ownerCheck)
    if (record.op === "pop") {
      const stored = this.#pending.get(record.id);
      if (stored === undefined) return;
      this.#pending.delete(record.id);
      this.#pendingBytes -= stored.bytes;
      this.#seen.add(stored.meta.activity_id, stored.meta.created_at);
      return;
    }
    for (const s of record.seen) this.#seen.add(s.id, s.created_at);
    for (const msg of record.msgs) {
      if (this.#pending.has(msg.activity_id)) continue;
      this.#addPending(storeMessage(msg));
    }
  }

  #addPending(stored: StoredMessage): void {
    const { meta } = stored;
    this.#seen.add(meta.activity_id, meta.created_at);
    if (this.#pending.has(meta.activity_id)) return;
    this.#pending.set(meta.activity_id, stored);
    this.#pendingBytes += stored.bytes;
  }

  /**
   * The live state as bounded journal records, produced lazily while the journal writes them,
   * followed by `extra` (records being persisted, applied to memory afterwards).
   */
  *#snapshot(extra: readonly JournalRecord[] = []): Generator<JournalRecord> {
    const seenOnly = this.#seen.entries().filter((s) => !this.#pending.has(s.id));
    yield { op: "workspace", id: this.#workspaceId };
    yield* addRecords(sizedPending(this.#pending.values()), seenOnly);
    yield* extra;
  }

  /** Logs the full / room-again transitions and wakes the poller when room appears. */
  #checkFull(): void {
    if (this.isFull && !this.#reportedFull) {
      this.#reportedFull = true;
      this.#log.warn("inbox is full; new messages wait on the platform until some are popped", {
        pending: this.#pending.size,
        capacity: this.capacity,
        pendingBytes: this.#pendingBytes,
        byteBudget: this.byteBudget,
        next: "the agent should handle messages and call inbox_pop for each one",
      });
    } else if (!this.isFull && this.#reportedFull) {
      this.#reportedFull = false;
      this.#log.info("inbox has room again; fetching resumes", {
        pending: this.#pending.size,
        pendingBytes: this.#pendingBytes,
      });
      for (const listener of [...this.#roomListeners]) this.#callListener("room", () => listener());
    }
  }

  #announce(queued: InboxMessage[]): void {
    const head = this.head();
    for (const finish of [...this.#waiters]) finish(head ?? null);
    for (const listener of [...this.#arrivalListeners]) {
      this.#callListener("arrival", () => listener([...queued]));
    }
  }

  #callListener(kind: string, call: () => unknown): void {
    const report = (err: unknown) =>
      this.#log.warn(`inbox ${kind} listener failed`, { error: String(err) });
    try {
      const result = call();
      if (result instanceof Promise) result.catch(report);
    } catch (err) {
      report(err);
    }
  }

  async #storeCursor(write: () => Promise<void>): Promise<void> {
    try {
      await write();
      if (this.#cursorFailing) this.#log.info("inbox cursor file is written again");
      this.#cursorFailing = false;
    } catch (err) {
      const fields = {
        path: this.#cursorPath,
        error: String(err),
        next: "check the state directory's permissions; after a restart some rows are refetched",
      };
      if (this.#cursorFailing) this.#log.debug("cannot write the inbox cursor", fields);
      else this.#log.warn("cannot write the inbox cursor; keeping it in memory", fields);
      this.#cursorFailing = true;
    }
  }
}

/** Pending messages back in their stored form, one at a time, for a snapshot. */
function* sizedPending(stored: Iterable<StoredMessage>): Generator<SizedMessage> {
  for (const s of stored) yield { msg: loadMessage(s), bytes: s.bytes };
}
