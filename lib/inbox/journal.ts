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
 * Size (issue 10 item 5): nothing here ever holds the whole journal as one string or buffer.
 * Records are bounded by the writer (addRecords: about RECORD_TARGET_BYTES each, or one
 * message), snapshots are streamed to the temp file in chunks of about WRITE_CHUNK_BYTES, and
 * replay reads the file in READ_CHUNK_BYTES pieces, one line at a time. Lines written by older
 * versions (up to hundreds of MB) still replay; a line too long for one JavaScript string
 * (MAX_LINE_BYTES) is damage like any other.
 *
 * Crash safety (kill -9 at any instant):
 * - each record is one `write` at the end of the file (one handle, one writer: the inbox
 *   lock), and a caller is told a record is stored only after that write returned, so the
 *   only damage a kill can do is a torn LAST line; that record was never acknowledged, and
 *   replay drops it quietly (debug);
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
import {
  openStateFile,
  setAsideStateFile,
  type StateFileOptions,
  UnsafeStateFileError,
} from "../state/safe_file.ts";
import { type InboxMessage, type MessageKind, parseMessageExtras } from "./message.ts";
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

/**
 * Target size of one `add` record: messages are grouped until the next would pass it (a single
 * message larger than this gets a record of its own; the inbox caps message text at 256 KiB).
 * Kept well under V8's largest regular heap object (128 KiB): replaying a line decodes it into
 * one string, and strings past that size go to the large-object space, which turns a replay of
 * 1 GB into hundreds of full garbage collections (measured: 1 MiB lines replay 9 × slower).
 */
export const RECORD_TARGET_BYTES = 64 * 1024;
/** Seen-only ids per record (about 80 bytes each). */
const SEEN_PER_RECORD = 2_000;
/** Snapshot bytes handed to one write call. */
const WRITE_CHUNK_BYTES = 1024 * 1024;
/** Bytes per read while replaying. */
const READ_CHUNK_BYTES = 1024 * 1024;
/**
 * Longest line replay tries to decode: V8 strings hold at most 2^29 - 24 UTF-16 units, and a
 * line of more UTF-8 bytes than that may not fit. No version ever wrote one (its write failed).
 */
const MAX_LINE_BYTES = 2 ** 29 - 24;
const NEWLINE = 0x0a;
/** Every encoded record starts with these bytes (`op` is always the first key). */
const RECORD_START = new TextEncoder().encode('{"op":"');
const encoder = new TextEncoder();
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

/** A message with its size (about its bytes in a record), as addRecords groups them. */
export interface SizedMessage {
  msg: InboxMessage;
  bytes: number;
}

/**
 * Groups messages and seen ids into bounded `add` records, in order: seen ids go with the first
 * record (at most SEEN_PER_RECORD per record), messages are grouped up to RECORD_TARGET_BYTES.
 * Lazy, so a snapshot of a large inbox is encoded one record at a time. Empty input yields
 * nothing.
 */
export function* addRecords(
  msgs: Iterable<SizedMessage>,
  seen: readonly SeenId[] = [],
): Generator<JournalRecord> {
  let seenAt = 0;
  const nextSeen = () => {
    const part = seen.slice(seenAt, seenAt + SEEN_PER_RECORD);
    seenAt += part.length;
    return part;
  };
  let group: InboxMessage[] = [];
  let groupBytes = 0;
  for (const { msg, bytes } of msgs) {
    if (group.length > 0 && groupBytes + bytes > RECORD_TARGET_BYTES) {
      yield { op: "add", msgs: group, seen: nextSeen() };
      group = [];
      groupBytes = 0;
    }
    group.push(msg);
    groupBytes += bytes;
  }
  if (group.length > 0) yield { op: "add", msgs: group, seen: nextSeen() };
  while (seenAt < seen.length) yield { op: "add", msgs: [], seen: nextSeen() };
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
  /** The safety checks every open of the file goes through (state/safe_file.ts). */
  #fileOpts: StateFileOptions;

  private constructor(path: string, fileOpts: StateFileOptions) {
    this.path = path;
    this.#fileOpts = fileOpts;
  }

  /**
   * Replays the journal at `path` (missing = empty), handing each record to `apply` in file
   * order while reading it in pieces, and sets a damaged file aside as described in the module
   * comment. A clean file (a torn last record aside, which is cut off) is kept open for
   * appending, so a restart does not rewrite a large journal; otherwise the returned journal
   * has no open file (`needsRewrite`) and the owner rewrites a snapshot of the replayed state
   * before the first append. Throws only when an unreadable file cannot be set aside either
   * (continuing would overwrite it).
   */
  static async open(
    path: string,
    deps: JournalDeps,
    apply: (record: JournalRecord) => void,
  ): Promise<InboxJournal> {
    await removeStaleTemps(path, deps.log);
    let result: ReplayResult;
    // Checked at every open (no link, regular file we own); see state/safe_file.ts.
    const fileOpts = {
      log: deps.log,
      widePerms: "tighten" as const,
      ...(deps.uid === undefined ? {} : { uid: deps.uid }),
    };
    const journal = new InboxJournal(path, fileOpts);
    try {
      const file = await openStateFile(path, fileOpts);
      if (file === null) return journal;
      try {
        result = await replayFile(file, apply);
        if (result.badLines.length === 0) {
          await journal.#keepForAppending(file, result.goodBytes, { ...fileOpts, write: true });
        }
      } finally {
        file.close();
      }
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return journal;
      const aside = await setAsideStateFile(path, "corrupt", deps.clock.wallNow());
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
          : "cannot read the inbox journal; set it aside and kept what was read before the error",
        {
          path,
          setAside: aside,
          error: describe(err),
          next: `messages pending before the restart may be missing; inspect ${aside}`,
        },
      );
      return journal;
    }
    const { records, badLines, tornTail } = result;
    if (tornTail) {
      deps.log.debug(
        "inbox journal ends in a torn record; ignoring it (it was never acknowledged)",
        { path },
      );
    }
    if (badLines.length > 0) {
      const aside = await setAsideStateFile(path, "corrupt", deps.clock.wallNow(), {
        copy: true,
      });
      deps.log.warn("inbox journal has damaged lines; kept every readable record", {
        path,
        lines: badLines.slice(0, 10).join(","),
        kept: records,
        setAside: aside instanceof Error ? `failed (${describe(aside)})` : aside,
        next: "nothing to do unless a message is missing; the set-aside copy can then be deleted",
      });
    }
    return journal;
  }

  /**
   * Reopens the replayed file for writing, after its last good line (cutting a torn record
   * off), when it is still the file that was read. Any failure leaves `needsRewrite` set,
   * which is always safe (debug log).
   */
  async #keepForAppending(
    replayed: Deno.FsFile,
    goodBytes: number,
    opts: Parameters<typeof openStateFile>[1],
  ): Promise<void> {
    let file: Deno.FsFile | null = null;
    try {
      file = await openStateFile(this.path, opts);
      if (file === null) return;
      const [was, now] = [await replayed.stat(), await file.stat()];
      if (was.dev !== now.dev || was.ino !== now.ino) throw new Error("replaced while read");
      if (now.size !== goodBytes) await file.truncate(goodBytes);
      await file.seek(goodBytes, Deno.SeekMode.Start);
      this.#file = file;
      file = null;
      this.#bytes = goodBytes;
      this.#snapshotBytes = goodBytes;
    } catch (err) {
      opts.log.debug("cannot append to the replayed inbox journal; rewriting it", {
        path: this.path,
        error: describe(err),
      });
    } finally {
      file?.close();
    }
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
   * Appends `records` (each bounded by its writer, see addRecords), one write per record, so a
   * kill can tear only the last one. With `sync`, also waits for the data to reach the disk
   * (power-loss safety). Throws if the journal needs a rewrite first, or the Deno error of a
   * failed write, after which it needs a rewrite.
   */
  append(records: readonly JournalRecord[], opts: { sync: boolean }): Promise<void> {
    return this.#enqueue(async () => {
      const file = this.#file;
      if (file === undefined) {
        throw new Error(`Inbox journal ${this.path} must be rewritten before appending`);
      }
      try {
        for (const record of records) {
          const data = encoder.encode(encodeRecord(record));
          // Regular files take the whole buffer in one write; the loop only guards the rule.
          let written = 0;
          while (written < data.length) written += await file.write(data.subarray(written));
          this.#bytes += data.length;
        }
        if (opts.sync) await file.syncData();
      } catch (err) {
        this.#closeFile();
        throw err;
      }
    });
  }

  /**
   * Replaces the file with `records` atomically (temp file 0600, flushed, renamed) and reopens
   * it for appending. The records are encoded and written a chunk at a time while the
   * iterable is consumed, so the state is never one string; the caller keeps the state still
   * until the returned promise settles. On failure the old file is intact; throws the error.
   */
  rewrite(records: Iterable<JournalRecord>): Promise<void> {
    return this.#enqueue(async () => {
      let bytes = 0;
      await atomicWriteFile(
        this.path,
        encodeChunks(records, (n) => {
          bytes += n;
        }),
      );
      this.#closeFile();
      this.#bytes = bytes;
      this.#snapshotBytes = bytes;
      // Reopened through state/safe_file.ts, never created: a name that no longer holds the
      // snapshot just written (removed, or a link put there) must not be appended to. The
      // owner is not checked again: this process just wrote the file.
      const file = await openStateFile(this.path, { ...this.#fileOpts, uid: null, write: true });
      if (file === null) throw new Deno.errors.NotFound(`${this.path} is gone after its rewrite`);
      try {
        await file.seek(0, Deno.SeekMode.End);
      } catch (err) {
        file.close();
        throw err;
      }
      this.#file = file;
    });
  }

  /** Lets go of the file kept for appending: the next write must be a rewrite. */
  requireRewrite(): void {
    this.#closeFile();
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

/** What a replay found: records applied, damaged line numbers, and whether the tail was torn. */
export interface ReplayResult {
  records: number;
  /** Bytes up to the end of the last complete line. */
  goodBytes: number;
  badLines: number[];
  tornTail: boolean;
}

/**
 * Reads the file in READ_CHUNK_BYTES pieces, splits it into lines and applies each record; see
 * the module comment for the rules (damaged lines and a torn tail are reported, never applied;
 * a line is never longer than MAX_LINE_BYTES in memory). Throws the Deno error when the file
 * cannot be read (what was applied before stays applied). Also used by inbox/legacy_state.ts
 * to look through an older version's journal without adopting it.
 */
export async function replayFile(
  file: Deno.FsFile,
  apply: (record: JournalRecord) => void,
): Promise<ReplayResult> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const result: ReplayResult = { records: 0, goodBytes: 0, badLines: [], tornTail: false };
  /** File offset of `chunk`'s first byte. */
  let chunkAt = 0;
  const chunk = new Uint8Array(READ_CHUNK_BYTES);
  /** Pieces of the line being read, when it spans reads. */
  let parts: Uint8Array[] = [];
  let partBytes = 0;
  /** The current line is too long to decode: skip to its end. */
  let isSkipping = false;
  let lineNo = 0;
  const endLine = (line: Uint8Array | null) => {
    lineNo++;
    const record = line === null ? null : decodeLine(decoder, line);
    if (record === "blank") return; // tolerated: an empty line carries nothing
    if (record === null) result.badLines.push(lineNo);
    else {
      apply(record);
      result.records++;
    }
  };
  for (;;) {
    const n = await file.read(chunk);
    if (n === null) break;
    let start = 0;
    while (start < n) {
      const end = chunk.subarray(0, n).indexOf(NEWLINE, start);
      const stop = end === -1 ? n : end;
      if (!isSkipping) {
        if (partBytes + (stop - start) > MAX_LINE_BYTES) {
          isSkipping = true;
          parts = [];
          partBytes = 0;
        } else if (end === -1 || parts.length > 0) {
          parts.push(chunk.slice(start, stop));
          partBytes += stop - start;
        }
      }
      if (end === -1) break;
      if (isSkipping) endLine(null);
      else endLine(parts.length === 0 ? chunk.subarray(start, end) : joinParts(parts, partBytes));
      result.goodBytes = chunkAt + end + 1;
      parts = [];
      partBytes = 0;
      isSkipping = false;
      start = end + 1;
    }
    chunkAt += n;
  }
  if (isSkipping) {
    result.badLines.push(lineNo + 1);
  } else if (partBytes > 0) {
    // An unterminated last line is a record cut by a kill, if it starts like every record we
    // write; anything else there is damage like any other.
    if (looksLikeRecordStart(joinParts(parts, partBytes))) result.tornTail = true;
    else result.badLines.push(lineNo + 1);
  }
  return result;
}

function joinParts(parts: readonly Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1 && parts[0] !== undefined) return parts[0];
  const line = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    line.set(part, at);
    at += part.length;
  }
  return line;
}

/** Encodes records into chunks of about WRITE_CHUNK_BYTES, reporting each chunk's size. */
function* encodeChunks(
  records: Iterable<JournalRecord>,
  onChunk: (bytes: number) => void,
): Generator<Uint8Array> {
  let lines: string[] = [];
  let length = 0;
  const flush = () => {
    const data = encoder.encode(lines.join(""));
    lines = [];
    length = 0;
    onChunk(data.length);
    return data;
  };
  for (const record of records) {
    const line = encodeRecord(record);
    lines.push(line);
    length += line.length;
    if (length >= WRITE_CHUNK_BYTES) yield flush();
  }
  if (lines.length > 0) yield flush();
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
  return { activity_id, text, peer_id, kind, method, created_at, ...parseMessageExtras(raw) };
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

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
