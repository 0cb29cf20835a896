/**
 * One process per inbox. Two molecule-mcp processes on the same state directory and workspace
 * (the same server added to two hosts, or a host restarting it before the old one has exited)
 * would both append to the journal and both deliver every message. An exclusive advisory lock
 * on a small file beside the journal makes the second one wait its turn instead. The lock is
 * the kernel's (flock), so it goes away with the process, even after kill -9: no stale locks.
 *
 * The lock file is the one state file written in place (the pid, for the busy message), so it
 * is created exclusively (O_EXCL never follows a link) or, when it exists, opened only through
 * state/safe_file.ts: a link, a FIFO or another user's file at its name is refused with the
 * path in the error, and nothing is written to whatever it points at. A lock file with other
 * names (hard links) is locked but never written: the write would reach the other file.
 */
import { joinPath } from "../paths.ts";
import type { Logger } from "../log.ts";
import { openStateFile, UnsafeStateFileError } from "../state/safe_file.ts";

/** File name of the lock inside the state directory (suffixed like the journal). */
export const LOCK_FILE_NAME = ".mcp_inbox.lock";

/** A held lock; release() frees it (closing the file frees it too). */
export interface InboxLock {
  release(): void;
}

/** Another process holds the inbox; `pid` is what it wrote in the lock file, when readable. */
export class InboxBusyError extends Error {
  override name = "InboxBusyError";
  constructor(readonly path: string, readonly pid: number | null) {
    super(
      `The inbox in ${path} is in use by another molecule-mcp process` +
        (pid === null ? "" : ` (pid ${pid})`),
    );
  }
}

/** Options of acquireInboxLock. */
export interface InboxLockOptions {
  /** Appended to the file name: the workspace key (as in state/state_files.ts). */
  fileSuffix?: string;
  /** Written into the file, for the busy message of the next process. */
  pid: number;
  log: Logger;
  /** Owner the file must have; default the state directory's (state/safe_file.ts). */
  uid?: number | null;
}

/**
 * Takes the inbox lock in `dir` without waiting. Throws InboxBusyError when another process
 * holds it, UnsafeStateFileError (state/safe_file.ts) when the name holds a link, a FIFO or
 * another user's file. Needs --allow-read and --allow-write on `dir`.
 */
export async function acquireInboxLock(dir: string, opts: InboxLockOptions): Promise<InboxLock> {
  const path = joinPath(dir, LOCK_FILE_NAME + (opts.fileSuffix ?? ""));
  let file: Deno.FsFile;
  try {
    file = await openLockFile(path, opts);
  } catch (err) {
    if (err instanceof UnsafeStateFileError) throw err;
    throw new Error(
      `Cannot open the inbox lock ${path}: ${err instanceof Error ? err.message : err}; ` +
        "check that the state directory exists and is writable",
      { cause: err },
    );
  }
  let isLocked = false;
  try {
    isLocked = await file.tryLock(true);
    if (!isLocked) throw new InboxBusyError(dir, await readPid(file));
    const { nlink } = await file.stat();
    if (nlink !== null && nlink > 1) {
      // Another name leads to these bytes (a hard link made to another file, or by a backup
      // tool): writing the pid would change that file too. The flock works without it.
      opts.log.warn("the inbox lock file has other names (hard links); not writing into it", {
        path,
        links: nlink,
        next: `remove it (rm ${path}) while molecule-mcp is stopped`,
      });
    } else {
      await file.truncate(0);
      await file.write(new TextEncoder().encode(`${opts.pid}\n`));
    }
  } catch (err) {
    file.close();
    throw err;
  }
  let isReleased = false;
  return {
    release() {
      if (isReleased) return;
      isReleased = true;
      file.close(); // closing the descriptor drops the flock
    },
  };
}

/** Creates the lock file exclusively, or opens the existing one after the safety checks. */
async function openLockFile(path: string, opts: InboxLockOptions): Promise<Deno.FsFile> {
  const checks = {
    log: opts.log,
    widePerms: "tighten" as const,
    write: true,
    ...(opts.uid === undefined ? {} : { uid: opts.uid }),
  };
  // Two rounds: another process may create the file between our look and our create.
  for (let round = 0; round < 2; round++) {
    const existing = await openStateFile(path, checks);
    if (existing !== null) return existing;
    try {
      return await Deno.open(path, { read: true, write: true, createNew: true, mode: 0o600 });
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    }
  }
  throw new Deno.errors.NotFound("the file appeared and disappeared twice while opening it");
}

async function readPid(file: Deno.FsFile): Promise<number | null> {
  const buf = new Uint8Array(32);
  const n = await file.read(buf);
  const text = new TextDecoder().decode(buf.subarray(0, n ?? 0)).trim();
  return /^\d+$/.test(text) ? Number(text) : null;
}
