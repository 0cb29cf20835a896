/**
 * One process per inbox. Two molecule-mcp processes on the same state directory and workspace
 * (the same server added to two hosts, or a host restarting it before the old one has exited)
 * would both append to the journal and both deliver every message. An exclusive advisory lock
 * on a small file beside the journal makes the second one wait its turn instead. The lock is
 * the kernel's (flock), so it goes away with the process, even after kill -9: no stale locks.
 */
import { joinPath } from "../paths.ts";

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

/**
 * Takes the inbox lock in `dir` without waiting. Throws InboxBusyError when another process
 * holds it. Needs --allow-read and --allow-write on `dir`.
 */
export async function acquireInboxLock(
  dir: string,
  opts: { fileSuffix?: string; pid: number },
): Promise<InboxLock> {
  const path = joinPath(dir, LOCK_FILE_NAME + (opts.fileSuffix ?? ""));
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
  } catch (err) {
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
    await file.truncate(0);
    await file.write(new TextEncoder().encode(`${opts.pid}\n`));
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

async function readPid(file: Deno.FsFile): Promise<number | null> {
  const buf = new Uint8Array(32);
  const n = await file.read(buf);
  const text = new TextDecoder().decode(buf.subarray(0, n ?? 0)).trim();
  return /^\d+$/.test(text) ? Number(text) : null;
}
