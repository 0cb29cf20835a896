/**
 * The on-disk journal of the durable inbox (`.mcp_inbox_journal`, mode 0600): an append-only
 * file of JSON lines, one record per line, replayed at open.
 *
 *   {"op":"add","msgs":[<InboxMessage>…],"seen":[{"id":…,"created_at":…}…]}
 *       messages newly queued, and ids only marked as seen (rows the poller skipped)
 *   {"op":"pop","id":"<activity id>"}
 *       the message left the queue (its id stays seen)
 *   {"op":"workspace","id":"<workspace id>"}
 *       first line of every snapshot: the workspace the journal belongs to
 *
 * A snapshot is the same format: the live state written as `add` records (seen ids first, then
 * pending messages oldest first) into a fresh file with atomicWriteFile, after which appends
 * continue on the new file. Replaying a snapshot plus later appends rebuilds the exact state.
 *
 * Crash safety (kill -9 at any instant):
 * - each record is one `write` on an O_APPEND handle, and a caller is told a record is stored
 *   only after that write returned, so the only damage a kill can do is a torn LAST line; that
 *   record was never acknowledged, and replay drops it quietly (debug);
 * - a snapshot replaces the file by rename, so a kill leaves the old file or the new one;
 * - a failed or short write (disk full) may leave a partial line, so after any write error the
 *   journal refuses further appends until the owner rewrites a snapshot (`needsRewrite`).
 * Any other damage (a bad line in the middle, bytes that are not UTF-8 JSON, a file that cannot
 * be read) is reported as a warning with the path and next step; the file is renamed to
 * `<name>.corrupt-<timestamp>` for inspection and every readable record is kept.
 *
 * Power loss is a different matter: `add` records can be flushed with syncData (the owner asks
 * for it; see lib/inbox/inbox.ts for which records and why), `pop` records are not.
 *
 * This module knows the format and the file; what the records mean is lib/inbox/inbox.ts's business.
 */
import { removeStaleTemps } from "../state/atomic_write.ts";
import { atomicWriteFile } from "../state/atomic_write.ts";
import type { Clock } from "../clock.ts";
import { openStateFile, UnsafeStateFileError } from "../state/safe_file.ts";
import type { InboxMessage, MessageKind } from "./message.ts";
import type { Logger } from "../log.ts";

/** File name of the journal inside the state directory. */
export const JOURNAL_FILE_NAME = ".mcp_inbox_journal";

/** An activity id remembered only for dedupe, with its row's created_at. */
export interface SeenId {
  id: string;
  created_at: string;
}

/** One journal line. */
export type JournalRecord =
  | { op: "add"; msgs: InboxMessage[]; seen: SeenId[] }
  | { op: "pop"; id: string }
  | WorkspaceRecord;

/**
 * The first line of every snapshot: whose journal this is (issue 10). A journal naming another
 * workspace is never served (lib/inbox/inbox.ts sets it aside).
 */
export interface WorkspaceRecord {
  op: "workspace";
  /** The workspace id, lowercase UUID. */
  id: string;
}

/** What the journal needs from its owner. */
export interface JournalDeps {
  log: Logger;
  /** Used only to name a set-aside corrupt file. */
  clock: Clock;
  /** Owner the file must have; default the state directory's (state/safe_file.ts). */
  uid?: number | null;
}

/** Records per snapshot line, so no single line grows without bound. */
const SNAPSHOT_MSGS_PER_LINE = 200;
const SNAPSHOT_SEEN_PER_LINE = 2_000;
const NEWLINE = 0x0a;
/** Every encoded record starts with these bytes (`op` is always the first key). */
const RECORD_START = new TextEncoder().encode('{"op":"');
const KINDS: ReadonlySet<string> = new Set<MessageKind>([
  "canvas_user",
  "peer_agent",
  "delegation_result",
]);

/** Serialises one record as a single line (JSON escapes every newline inside strings). */
export function encodeRecord(record: JournalRecord): string {
  return JSON.stringify(record) + "\n";
}

/** Parses one journal line; null when it is not a well-formed record. */
export function parseRecord(line: string): JournalRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    if (err instanceof SyntaxError) return null;
    throw err;
  }
  if (!isObject(value)) return null;
  if (value.op === "pop") {
    return isNonEmptyString(value.id) ? { op: "pop", id: value.id } : null;
  }
  if (value.op === "workspace") {
    return isNonEmptyString(value.id) ? { op: "workspace", id: value.id } : null;
  }
  if (value.op !== "add" || !Array.isArray(value.msgs) || !Array.isArray(value.seen)) return null;
  const msgs: InboxMessage[] = [];
  for (const raw of value.msgs) {
    const msg = parseStoredMessage(raw);
    if (msg === null) return null;
    msgs.push(msg);
  }
  const seen: SeenId[] = [];
  for (const raw of value.seen) {
    if (!isObject(raw) || !isNonEmptyString(raw.id) || typeof raw.created_at !== "string") {
      return null;
    }
    seen.push({ id: raw.id, created_at: raw.created_at });
  }
  return { op: "add", msgs, seen };
}

/**
 * Builds the records of a snapshot: seen-only ids first, then pending messages in queue order,
 * chunked so each line stays moderate.
 */
export function snapshotRecords(
  pending: readonly InboxMessage[],
  seen: readonly SeenId[],
): JournalRecord[] {
  const records: JournalRecord[] = [];
  for (let i = 0; i < seen.length; i += SNAPSHOT_SEEN_PER_LINE) {
    records.push({ op: "add", msgs: [], seen: seen.slice(i, i + SNAPSHOT_SEEN_PER_LINE) });
  }
  for (let i = 0; i < pending.length; i += SNAPSHOT_MSGS_PER_LINE) {
    records.push({ op: "add", msgs: pending.slice(i, i + SNAPSHOT_MSGS_PER_LINE), seen: [] });
  }
  return records;
}

/**
 * The open journal file. Appends and rewrites run one at a time in call order (one write
 * queue), so records never interleave. Needs --allow-read and --allow-write on the directory.
 */
export class InboxJournal {
  readonly path: string;
  #file: Deno.FsFile | undefined;
  #bytes = 0;
  #snapshotBytes = 0;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(path: string) {
    this.path = path;
  }

  /**
   * Reads and parses the journal at `path` (missing = empty), setting a damaged file aside as
   * described in the module comment. The returned journal has no open file yet
   * (`needsRewrite` is true): the owner rewrites a snapshot of the replayed state before the
   * first append, which also drops a torn tail. Throws only when an unreadable file cannot be
   * set aside either (continuing would overwrite it).
   */
  static async open(
    path: string,
    deps: JournalDeps,
  ): Promise<{ journal: InboxJournal; records: JournalRecord[] }> {
    await removeStaleTemps(path, deps.log);
    const journal = new InboxJournal(path);
    let bytes: Uint8Array;
    try {
      // Checked at open (no link, regular file we own); see state/safe_file.ts.
      const file = await openStateFile(path, {
        log: deps.log,
        widePerms: "tighten",
        ...(deps.uid === undefined ? {} : { uid: deps.uid }),
      });
      if (file === null) return { journal, records: [] };
      try {
        bytes = await readAll(file);
      } finally {
        file.close();
      }
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return { journal, records: [] };
      const aside = await setAside(path, deps.clock);
      if (aside instanceof Error) {
        throw new Error(
          `Cannot read the inbox journal ${path} nor move it aside: ${describe(aside)}; ` +
            "fix the file's permissions or move it away, then restart",
          { cause: err },
        );
      }
      deps.log.warn(
        err instanceof UnsafeStateFileError
          ? "refused the inbox journal; set it aside and started an empty inbox"
          : "cannot read the inbox journal; set it aside and started an empty inbox",
        {
          path,
          setAside: aside,
          error: describe(err),
          next: `messages pending before the restart may be missing; inspect ${aside}`,
        },
      );
      return { journal, records: [] };
    }
    const { records, badLines, tornTail } = parseJournalBytes(bytes);
    if (tornTail) {
      deps.log.debug(
        "inbox journal ends in a torn record; ignoring it (it was never acknowledged)",
        {
          path,
        },
      );
    }
    if (badLines.length > 0) {
      const aside = await setAside(path, deps.clock, true);
      deps.log.warn("inbox journal has damaged lines; kept every readable record", {
        path,
        lines: badLines.slice(0, 10).join(","),
        kept: records.length,
        setAside: aside instanceof Error ? `failed (${describe(aside)})` : aside,
        next: "nothing to do unless a message is missing; the set-aside copy can then be deleted",
      });
    }
    return { journal, records };
  }

  /** Bytes in the current file (snapshot plus appended records). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Size of the last snapshot, the measure of the live state used to decide on compaction. */
  get snapshotBytes(): number {
    return this.#snapshotBytes;
  }

  /** True until a snapshot is written, and again after any failed write (see module comment). */
  get needsRewrite(): boolean {
    return this.#file === undefined;
  }

  /**
   * Appends one record with a single write. With `sync`, also waits for the data to reach the
   * disk (power-loss safety). Throws if the journal needs a rewrite first, or the Deno error of
   * a failed write, after which it needs a rewrite.
   */
  append(record: JournalRecord, opts: { sync: boolean }): Promise<void> {
    const data = new TextEncoder().encode(encodeRecord(record));
    return this.#enqueue(async () => {
      const file = this.#file;
      if (file === undefined) {
        throw new Error(`Inbox journal ${this.path} must be rewritten before appending`);
      }
      try {
        // Regular files take the whole buffer in one write; the loop only guards the rule.
        let written = 0;
        while (written < data.length) written += await file.write(data.subarray(written));
        if (opts.sync) await file.syncData();
      } catch (err) {
        this.#closeFile();
        throw err;
      }
      this.#bytes += data.length;
    });
  }

  /**
   * Replaces the file with `records` atomically (temp file 0600, flushed, renamed) and reopens
   * it for appending. On failure the old file is intact; throws the Deno error.
   */
  rewrite(records: readonly JournalRecord[]): Promise<void> {
    const data = new TextEncoder().encode(records.map(encodeRecord).join(""));
    return this.#enqueue(async () => {
      await atomicWriteFile(this.path, data);
      this.#closeFile();
      this.#bytes = data.length;
      this.#snapshotBytes = data.length;
      this.#file = await Deno.open(this.path, { append: true, create: true, mode: 0o600 });
    });
  }

  /** Waits for queued writes, then closes the file. */
  async close(): Promise<void> {
    await this.#queue.catch(() => {
      // Each write's caller already received its error; closing must still happen.
    });
    this.#closeFile();
  }

  #closeFile(): void {
    const file = this.#file;
    this.#file = undefined;
    try {
      file?.close();
    } catch (err) {
      // Already closed (e.g. by a failed write path); nothing is lost by ignoring it.
      if (!(err instanceof Deno.errors.BadResource)) throw err;
    }
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => {
      // The caller of this task gets the rejection; the queue itself must keep going.
    });
    return run;
  }
}

/** Reads an open file to its end (the journal streams its reads; see issue 10 item 5). */
async function readAll(file: Deno.FsFile): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const buf = new Uint8Array(1 << 20);
    const n = await file.read(buf);
    if (n === null) break;
    chunks.push(buf.subarray(0, n));
    total += n;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** Splits the file into lines and parses each; see the module comment for the rules. */
function parseJournalBytes(bytes: Uint8Array): {
  records: JournalRecord[];
  badLines: number[];
  tornTail: boolean;
} {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const records: JournalRecord[] = [];
  const badLines: number[] = [];
  let start = 0;
  let lineNo = 0;
  while (start < bytes.length) {
    const end = bytes.indexOf(NEWLINE, start);
    lineNo++;
    if (end === -1) {
      // An unterminated last line is a record cut by a kill, if it starts like every record we
      // write; anything else there is damage like any other.
      const tail = bytes.subarray(start);
      if (looksLikeRecordStart(tail)) return { records, badLines, tornTail: true };
      return { records, badLines: [...badLines, lineNo], tornTail: false };
    }
    const record = decodeLine(decoder, bytes.subarray(start, end));
    if (record === "blank") {
      // Tolerated: an empty line carries nothing.
    } else if (record === null) badLines.push(lineNo);
    else records.push(record);
    start = end + 1;
  }
  return { records, badLines, tornTail: false };
}

/** True when `tail` and RECORD_START agree on their common length. */
function looksLikeRecordStart(tail: Uint8Array): boolean {
  return RECORD_START.subarray(0, tail.length).every((b, i) => tail[i] === b);
}

function decodeLine(decoder: TextDecoder, line: Uint8Array): JournalRecord | null | "blank" {
  let text: string;
  try {
    text = decoder.decode(line);
  } catch (err) {
    if (err instanceof TypeError) return null; // not UTF-8
    throw err;
  }
  return text.trim() === "" ? "blank" : parseRecord(text);
}

function parseStoredMessage(raw: unknown): InboxMessage | null {
  if (!isObject(raw)) return null;
  const { activity_id, text, peer_id, kind, method, created_at } = raw;
  if (!isNonEmptyString(activity_id) || typeof text !== "string") return null;
  if (typeof peer_id !== "string" || typeof method !== "string") return null;
  if (typeof created_at !== "string" || typeof kind !== "string" || !isKind(kind)) return null;
  return { activity_id, text, peer_id, kind, method, created_at };
}

function isKind(kind: string): kind is MessageKind {
  return KINDS.has(kind);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value !== "";
}

/**
 * Renames (or, with `copy`, copies then leaves the original for the rewrite to replace) the
 * file to `<path>.corrupt-<timestamp>`; returns the new path or the error.
 */
async function setAside(path: string, clock: Clock, copy = false): Promise<string | Error> {
  const stamp = new Date(clock.now()).toISOString().replaceAll(/[-:]/g, "");
  const target = `${path}.corrupt-${stamp}`;
  try {
    if (copy) {
      await Deno.copyFile(path, target);
      await Deno.chmod(target, 0o600);
    } else {
      await Deno.rename(path, target);
    }
    return target;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
