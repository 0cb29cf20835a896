/**
 * Inbox files of older versions, which were not keyed by the workspace: this version's
 * `.mcp_inbox_journal` and `.mcp_inbox_cursor`, upstream's plain-id `.mcp_inbox_cursor` and its
 * multi-workspace `.mcp_inbox_cursor_<first 8 of the id>`. Any workspace sharing the directory
 * could have written them, so they are never served blindly (issue 10 item 1): a file is
 * adopted only when the platform shows that one of its activity rows belongs to this workspace,
 * else it is set aside (`<name>.unverified-<time>`) with a warning naming it.
 *
 * The proof: `GET /workspaces/<id>/activity?since_id=<row>` answers 200 when the row is this
 * workspace's and 410 when it is another workspace's or was pruned (platform-contract §5:
 * the cursor lookup is `WHERE id=$since_id AND workspace_id=:id`). A journal's proof is one of
 * its newest row ids (pending or seen); a cursor's is its own row id. A 410 for every id leaves
 * nothing to prove the file is ours, so it is set aside (a file older than the 7-day retention
 * is set aside too; its rows are gone from the platform anyway). When the platform cannot
 * answer, nothing is moved and the caller asks again later.
 *
 * When this workspace already has keyed files, old unkeyed ones are not its own (it adopted or
 * set aside its old files on its first start) and are set aside without asking.
 *
 * Adoption itself: a proven cursor is rewritten under the keyed name (with the workspace id
 * inside) and the old file removed; a proven journal is handed to DurableInbox.open
 * (`adoptJournalFrom`), which replays it into the keyed journal and then removes it.
 */
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import { joinPath } from "../paths.ts";
import { openStateFile, setAsideStateFile, UnsafeStateFileError } from "../state/safe_file.ts";
import { WORKSPACE_STATE_FILES, workspaceStatePath } from "../state/state_files.ts";
import { readStoredCursor, writeCursorFile } from "./cursor.ts";
import { replayFile } from "./journal.ts";
import { acquireInboxLock } from "./lock.ts";
import { CursorGoneError } from "../platform/http.ts";
import type { PlatformClient } from "../platform/client.ts";

/** Unkeyed inbox files found in the state directory (full paths). */
export interface LegacyInboxFiles {
  /** `.mcp_inbox_journal`, when present. */
  journal: string | null;
  /** `.mcp_inbox_cursor` and `.mcp_inbox_cursor_<first 8>`, those present. */
  cursors: string[];
  /** True when this workspace already has a keyed journal or cursor. */
  hasOwnState: boolean;
}

/** The platform's verdict on one activity row id. */
export type RowOwnership = "ours" | "not-ours";

/** What settleLegacyInboxFiles needs. */
export interface LegacyDeps {
  log: Logger;
  /** For the set-aside names only. */
  clock: Clock;
  /**
   * Asks the platform whether the row is this workspace's (200 → "ours", 410 → "not-ours").
   * Throws when the platform gives no verdict (network, 5xx, 401): then nothing is moved.
   */
  probeRow(id: string): Promise<RowOwnership>;
  /** Owner the files must have; default the state directory's (state/safe_file.ts). */
  uid?: number | null;
}

/**
 * The proof request: `GET /workspaces/<self>/activity?since_id=<id>&limit=1` answers 200 for
 * this workspace's own row and 410 for another workspace's or a pruned one (platform-contract
 * §5). Any other failure is thrown: no verdict.
 */
export function platformRowProbe(
  platform: Pick<PlatformClient, "listActivity">,
  signal?: AbortSignal,
): (id: string) => Promise<RowOwnership> {
  return async (id) => {
    try {
      await platform.listActivity({ sinceId: id, limit: 1 }, signal ? { signal } : {});
      return "ours";
    } catch (err) {
      if (err instanceof CursorGoneError) return "not-ours";
      throw err;
    }
  };
}

/**
 * The platform gave no verdict on the older files (unreachable, 5xx, token refused): nothing
 * was moved, and the caller tries again later.
 */
export class LegacyCheckError extends Error {
  override name = "LegacyCheckError";
  readonly next = "the platform must answer once to tell whose they are; this is retried at " +
    "every poll interval, and the inbox opens as soon as it answers";
  constructor(cause: unknown) {
    super(
      "Cannot check with the platform whether the inbox files of an older version belong to " +
        `this workspace: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/** Newest row ids of a journal tried as proof (each one request, once per migration). */
const JOURNAL_PROBES = 2;

/**
 * Looks (lstat, no reads) for unkeyed inbox files in `dir`. Returns null when there are none,
 * which is every start after the first. Needs --allow-read on `dir`.
 */
export async function findLegacyInboxFiles(
  dir: string,
  workspaceId: string,
): Promise<LegacyInboxFiles | null> {
  const journal = joinPath(dir, WORKSPACE_STATE_FILES.journal);
  const cursors = [
    joinPath(dir, WORKSPACE_STATE_FILES.cursor),
    joinPath(dir, `${WORKSPACE_STATE_FILES.cursor}_${workspaceId.slice(0, 8)}`),
  ];
  const hasJournal = await exists(journal);
  const presentCursors: string[] = [];
  for (const path of cursors) if (await exists(path)) presentCursors.push(path);
  if (!hasJournal && presentCursors.length === 0) return null;
  const hasOwnState = await exists(workspaceStatePath(dir, "journal", workspaceId)) ||
    await exists(workspaceStatePath(dir, "cursor", workspaceId));
  return { journal: hasJournal ? journal : null, cursors: presentCursors, hasOwnState };
}

/**
 * Adopts or sets aside the files `found` lists (see the module comment). Returns the journal
 * to hand to DurableInbox.open as `adoptJournalFrom`, if one was proven. Throws
 * LegacyCheckError (wrapping what `probeRow` threw) before anything is moved. Needs --allow-read and --allow-write on `dir`.
 */
export async function settleLegacyInboxFiles(
  found: LegacyInboxFiles,
  opts: { dir: string; workspaceId: string },
  deps: LegacyDeps,
): Promise<{ adoptJournalFrom?: string }> {
  if (found.hasOwnState) {
    for (const path of [found.journal, ...found.cursors]) {
      if (path !== null) await setAside(path, "this workspace already has its own", deps);
    }
    return {};
  }
  // Every verdict first, so a platform that cannot answer leaves every file where it was.
  const journalIds = found.journal === null ? [] : await newestJournalIds(found.journal, deps);
  const isJournalOurs = await anyOurs(journalIds, deps);
  const cursorVerdicts: { path: string; cursor: Awaited<ReturnType<typeof readStoredCursor>> }[] =
    [];
  for (const path of found.cursors) {
    const cursor = await readStoredCursor(path, deps);
    const isOurs = cursor !== null &&
      (cursor.workspace_id === opts.workspaceId ||
        (cursor.workspace_id === null && await anyOurs([cursor.id], deps)));
    cursorVerdicts.push({ path, cursor: isOurs ? cursor : null });
  }

  let hasAdoptedCursor = false;
  for (const { path, cursor } of cursorVerdicts) {
    if (cursor === null || hasAdoptedCursor) {
      await setAside(path, "it could not be shown to be this workspace's", deps);
      continue;
    }
    const keyed = workspaceStatePath(opts.dir, "cursor", opts.workspaceId);
    await writeCursorFile(keyed, cursor, opts.workspaceId);
    await Deno.remove(path);
    hasAdoptedCursor = true;
    deps.log.info("adopted the inbox cursor of an older version", { from: path, to: keyed });
  }
  if (found.journal === null) return {};
  if (isJournalOurs) return { adoptJournalFrom: found.journal };
  await setAside(found.journal, "it could not be shown to be this workspace's", deps);
  return {};
}

/** True as soon as the platform says one of `ids` is ours; probes them in order. */
async function anyOurs(ids: readonly string[], deps: LegacyDeps): Promise<boolean> {
  for (const id of ids) {
    let verdict: RowOwnership;
    try {
      verdict = await deps.probeRow(id);
    } catch (err) {
      throw new LegacyCheckError(err);
    }
    if (verdict === "ours") return true;
  }
  return false;
}

/**
 * The newest row ids (by created_at) in a journal, read in pieces through openStateFile and
 * the journal's own replay (journal.ts replayFile: damaged lines skipped, a line never held
 * past MAX_LINE_BYTES). An unsafe file yields none (it is then set aside like any unproven
 * file).
 */
async function newestJournalIds(path: string, deps: LegacyDeps): Promise<string[]> {
  let file: Deno.FsFile | null;
  try {
    file = await openStateFile(path, {
      log: deps.log,
      widePerms: "tighten",
      ...(deps.uid === undefined ? {} : { uid: deps.uid }),
    });
  } catch (err) {
    if (!(err instanceof UnsafeStateFileError)) throw err;
    deps.log.warn("refusing an older version's inbox journal", { path, error: err });
    return [];
  }
  if (file === null) return [];
  const newest: { id: string; ms: number }[] = [];
  const consider = (id: string, createdAt: string) => {
    const ms = Date.parse(createdAt);
    if (Number.isNaN(ms) || newest.some((n) => n.id === id)) return;
    newest.push({ id, ms });
    newest.sort((a, b) => b.ms - a.ms);
    newest.length = Math.min(newest.length, JOURNAL_PROBES);
  };
  try {
    await replayFile(file, (record) => {
      if (record.op !== "add") return;
      for (const m of record.msgs) consider(m.activity_id, m.created_at);
      for (const s of record.seen) consider(s.id, s.created_at);
    });
  } finally {
    file.close();
  }
  return newest.map((n) => n.id);
}

async function setAside(path: string, why: string, deps: LegacyDeps): Promise<void> {
  const aside = await setAsideStateFile(path, "unverified", deps.clock.wallNow());
  if (aside instanceof Error) {
    throw new Error(
      `Cannot set aside ${path}, an older version's inbox file that is not used: ` +
        `${aside.message}; move it away, then restart`,
      { cause: aside },
    );
  }
  deps.log.warn(`an older version's inbox file is not used: ${why}; set it aside`, {
    path,
    setAside: aside,
    next: `nothing to do; delete ${aside} once you know it holds nothing you need`,
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/**
 * Runs `open` (the caller's DurableInbox.open) after settling the older version's files, if
 * any: under the older version's unkeyed lock `.mcp_inbox.lock`, which an older process still
 * running holds (so its files are never moved under it) and which keeps two new processes from
 * settling the same files at once. The lock is held until `open` has adopted the journal.
 * Throws InboxBusyError while an older process holds that lock, and LegacyCheckError;
 * the caller retries later. Needs --allow-read and --allow-write on `dir`.
 */
export async function openSettlingLegacy<T>(
  opts: { dir: string; workspaceId: string },
  deps: LegacyDeps,
  open: (adoptJournalFrom: string | undefined) => Promise<T>,
): Promise<T> {
  if (await findLegacyInboxFiles(opts.dir, opts.workspaceId) === null) return await open(undefined);
  const lock = await acquireInboxLock(opts.dir, {
    pid: Deno.pid,
    log: deps.log,
    ...(deps.uid === undefined ? {} : { uid: deps.uid }),
  });
  try {
    // Looked at again under the lock: another process may have settled them meanwhile.
    const found = await findLegacyInboxFiles(opts.dir, opts.workspaceId);
    const settled = found === null ? {} : await settleLegacyInboxFiles(found, opts, deps);
    return await open(settled.adoptJournalFrom);
  } finally {
    lock.release();
  }
}
