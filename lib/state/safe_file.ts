/**
 * The one way to open a state file: every read of a file in the state directory (journal,
 * cursor, lock, `.auth_token`, inbound secret, stored uploads) goes through here, so the rules
 * live in one place:
 *
 * - never through a symbolic link: the name is checked with lstat (no follow), and a link is
 *   refused, whatever it points at (`/dev/zero`, another user's file…);
 * - only a regular file: a FIFO would block the open or the read forever, a device would read
 *   without end, a directory cannot be read;
 * - owned by us: a file another user owns is refused (they could have written anything in it);
 *   "us" is the owner of the state directory, which start-up checked is ours
 *   (state/state_dir.ts), unless the caller passes a uid;
 * - private: group/other permission bits are tightened to 0600 with a notice for files we
 *   write, and only warned about for files we just read (`.auth_token`);
 * - the open handle is the file lstat saw: after opening, fstat must show the same device and
 *   inode, else the name was swapped (for a link, say) between the check and the open;
 * - bounded: readStateFile reads at most `maxBytes` and refuses a bigger file instead of
 *   reading it whole (streamed readers such as the journal take the handle from openStateFile).
 *
 * Writes are not here: they go to a temp file and a rename (state/atomic_write.ts), which
 * replaces a link's name and never writes through it. Deno has no O_NOFOLLOW open flag, so the
 * lstat-then-fstat check stands in for it; the only race left needs write access to the state
 * directory, which only we (and root) have once state/state_dir.ts accepted it.
 */
import { dirName } from "../paths.ts";
import type { Logger } from "../log.ts";

/** Why a state file was refused. */
export type UnsafeReason = "symlink" | "not-regular" | "foreign-owner" | "too-large" | "swapped";

/**
 * A state file that must not be used: a link, not a regular file, owned by someone else, too
 * big, or swapped while opening. `next` says what the operator can do.
 */
export class UnsafeStateFileError extends Error {
  override name = "UnsafeStateFileError";
  readonly next: string;
  /** What is wrong with it, worded to follow the path ("is a symbolic link, …"). */
  readonly detail: string;
  constructor(readonly path: string, readonly reason: UnsafeReason, detail: string) {
    super(`State file ${path} ${detail}`);
    this.detail = detail;
    this.next = reason === "foreign-owner"
      ? `another user could have written it; remove it (rm ${path}) or chown it to yourself`
      : reason === "too-large"
      ? `it is not a file this program writes at that size; move it away (mv ${path} ${path}.old)`
      : `remove it (rm ${path}), or put a regular file there`;
  }
}

/** How strictly a state file is checked. */
export interface StateFileOptions {
  log: Logger;
  /**
   * The user id the file must belong to. Default: the owner of the file's directory (the
   * state directory, checked to be ours at start-up). null skips the check (no uids on the OS).
   * Tests pass another uid to play a file owned by someone else.
   */
  uid?: number | null;
  /**
   * Group/other permission bits: "tighten" (chmod 0600, with a notice) for files we write,
   * "warn" for files we only read and do not own the format of (`.auth_token`).
   */
  widePerms: "tighten" | "warn";
  /** Open for writing too (the lock file). Default: read only. */
  write?: boolean;
}

/** Options of readStateFile: the checks plus the most bytes the file may hold. */
export interface ReadStateFileOptions extends StateFileOptions {
  /** A larger file is refused (UnsafeStateFileError "too-large"), never read whole. */
  maxBytes: number;
}

/** Most bytes a token or secret file may hold (a token is 43 characters; room to spare). */
export const SECRET_FILE_MAX_BYTES = 4096;
/** Most bytes a cursor file may hold (about 100 are written). */
export const CURSOR_FILE_MAX_BYTES = 4096;

/**
 * Checks `path` without following links. Returns null when nothing is there, the lstat
 * result when it is a regular file we own (tightening or warning about wide modes as asked),
 * and throws UnsafeStateFileError otherwise. Other file-system errors (permission denied on
 * the directory) are thrown as Deno errors. Needs --allow-read (and --allow-write to tighten).
 */
export async function checkStateFile(
  path: string,
  opts: StateFileOptions,
): Promise<Deno.FileInfo | null> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  if (info.isSymlink) {
    throw new UnsafeStateFileError(path, "symlink", "is a symbolic link, not a regular file");
  }
  if (!info.isFile) {
    throw new UnsafeStateFileError(path, "not-regular", `is ${kindOf(info)}, not a regular file`);
  }
  const uid = opts.uid === undefined ? (await Deno.lstat(dirName(path))).uid : opts.uid;
  if (uid !== null && info.uid !== null && info.uid !== uid) {
    throw new UnsafeStateFileError(
      path,
      "foreign-owner",
      `is owned by user id ${info.uid}, not by you (${uid})`,
    );
  }
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    const was = (info.mode & 0o777).toString(8).padStart(4, "0");
    if (opts.widePerms === "tighten") {
      await Deno.chmod(path, 0o600);
      opts.log.warn("tightened a state file to mode 0600: others could read or change it", {
        path,
        was,
      });
    } else {
      opts.log.warn("a state file is readable or writable by other users", {
        path,
        mode: was,
        next: `chmod 600 ${path}`,
      });
    }
  }
  return info;
}

/**
 * Opens a state file after checkStateFile, then makes sure the handle is the file that was
 * checked (same device and inode, still a regular file). Returns null when the file does not
 * exist. Throws UnsafeStateFileError (see checkStateFile), or the Deno error of the open. The
 * caller closes the handle. Needs --allow-read (and --allow-write with `write`).
 */
export async function openStateFile(
  path: string,
  opts: StateFileOptions,
): Promise<Deno.FsFile | null> {
  const info = await checkStateFile(path, opts);
  if (info === null) return null;
  let file: Deno.FsFile;
  try {
    // Never `create` or `truncate` here: the name was checked, and only this open may use it.
    file = await Deno.open(path, { read: true, write: opts.write === true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null; // removed since the check
    throw err;
  }
  try {
    assertSameFile(await file.stat(), info, path);
  } catch (err) {
    file.close();
    throw err;
  }
  return file;
}

/**
 * Reads a whole state file of at most `maxBytes` with every check of openStateFile. Returns
 * null when the file does not exist; throws UnsafeStateFileError for an unsafe or too large
 * file, or the Deno error of a failed read. Needs --allow-read.
 */
export async function readStateFile(
  path: string,
  opts: ReadStateFileOptions,
): Promise<Uint8Array | null> {
  const file = await openStateFile(path, opts);
  if (file === null) return null;
  try {
    return await readAtMost(file, path, opts.maxBytes);
  } finally {
    file.close();
  }
}

/**
 * Reads a file the operator named (MOLECULE_WORKSPACE_TOKEN_FILE, say): links are followed
 * (secret mounts are links), but what they lead to must be a regular file, read to at most
 * `maxBytes`. Throws UnsafeStateFileError ("not-regular", "too-large", "swapped") or the Deno
 * error of the open (NotFound, PermissionDenied…). Needs --allow-read.
 */
export async function readNamedFile(path: string, maxBytes: number): Promise<Uint8Array> {
  // stat first: opening a FIFO for reading blocks until a writer appears.
  const info = await Deno.stat(path);
  assertRegular(info, path);
  const file = await Deno.open(path, { read: true });
  try {
    assertSameFile(await file.stat(), info, path);
    return await readAtMost(file, path, maxBytes);
  } finally {
    file.close();
  }
}

/**
 * readNamedFile for a caller that cannot await (buildFetch reads MOLECULE_CA_FILE while the
 * configuration is checked, certificate mounts being links too): the same rules and errors.
 */
export function readNamedFileSync(path: string, maxBytes: number): Uint8Array {
  const info = Deno.statSync(path);
  assertRegular(info, path);
  const file = Deno.openSync(path, { read: true });
  try {
    assertSameFile(file.statSync(), info, path);
    const buf = new Uint8Array(maxBytes + 1);
    let used = 0;
    while (used < buf.length) {
      const n = file.readSync(buf.subarray(used));
      if (n === null) return buf.slice(0, used);
      used += n;
    }
    throw tooLarge(path, maxBytes);
  } finally {
    file.close();
  }
}

/** Throws UnsafeStateFileError "not-regular" unless `info` (followed links) is a regular file. */
function assertRegular(info: Deno.FileInfo, path: string): void {
  if (!info.isFile) {
    throw new UnsafeStateFileError(path, "not-regular", `is ${kindOf(info)}, not a regular file`);
  }
}

/**
 * Throws UnsafeStateFileError "swapped" unless the open handle's fstat `opened` shows the
 * regular file `info` described (same device and inode): the name was replaced between the
 * check and the open otherwise.
 */
function assertSameFile(opened: Deno.FileInfo, info: Deno.FileInfo, path: string): void {
  if (!opened.isFile || opened.dev !== info.dev || opened.ino !== info.ino) {
    throw new UnsafeStateFileError(path, "swapped", "was replaced while it was being opened");
  }
}

/** Reads `file` to its end, refusing (without reading on) once it passes `maxBytes`. */
async function readAtMost(file: Deno.FsFile, path: string, maxBytes: number): Promise<Uint8Array> {
  const buf = new Uint8Array(maxBytes + 1);
  let used = 0;
  while (used < buf.length) {
    const n = await file.read(buf.subarray(used));
    if (n === null) return buf.slice(0, used);
    used += n;
  }
  throw tooLarge(path, maxBytes);
}

/** The refusal of a file found to hold more than `maxBytes` (reading stopped there). */
function tooLarge(path: string, maxBytes: number): UnsafeStateFileError {
  return new UnsafeStateFileError(path, "too-large", `is larger than ${maxBytes} bytes`);
}

/** Names what a non-regular file is, for an error message. */
function kindOf(info: Deno.FileInfo): string {
  if (info.isDirectory) return "a directory";
  if (info.isFifo) return "a FIFO (named pipe)";
  if (info.isCharDevice) return "a character device";
  if (info.isBlockDevice) return "a block device";
  if (info.isSocket) return "a socket";
  if (info.isSymlink) return "a symbolic link";
  return "not a regular file";
}

/** Why a state file was renamed aside: damaged, written for another workspace, or unproven. */
export type SetAsideTag = "corrupt" | "foreign" | "unverified";

/**
 * Renames `path` to `<path>.<tag>-<UTC stamp>` (a link or FIFO is renamed as itself, never
 * followed) and returns the new path, or the error when the rename failed. Never throws. The
 * stamp comes from `nowMs` (epoch milliseconds). With `copy`, the file is copied there (mode
 * 0600) and left in place for its owner to replace (a damaged inbox journal whose readable
 * records are rewritten next). Needs --allow-write on the directory.
 */
export async function setAsideStateFile(
  path: string,
  tag: SetAsideTag,
  nowMs: number,
  opts: { copy?: boolean } = {},
): Promise<string | Error> {
  const stamp = new Date(nowMs).toISOString().replaceAll(/[-:]/g, "");
  const target = `${path}.${tag}-${stamp}`;
  try {
    if (opts.copy === true) {
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
