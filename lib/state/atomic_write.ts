/**
 * Atomic, private file writes for state that must never be seen half-written or by another
 * user: a temp file is created 0600 in the same directory, written, flushed, then renamed over
 * the target. A crash at any instant leaves either the old file or the new one.
 */
import { baseName, dirName, joinPath } from "../paths.ts";

const TMP_SUFFIX = ".tmp";
/** The name a temp file of `atomicWriteFile(path)` gets: `<path>.<8 hex>.tmp`. */
const TMP_NAME = /^[0-9a-f]{8}\.tmp$/;

/**
 * Writes `data` to `path` atomically with mode 0600 (or `opts.mode`: `install` keeps a host
 * config file's own mode). `data` may be an iterable of chunks,
 * consumed one at a time while writing (a large file is never one buffer). Throws the
 * underlying Deno error, or the iterable's, on failure (after removing the temp file). Needs
 * --allow-write and --allow-read on the dir.
 */
export async function atomicWriteFile(
  path: string,
  data: string | Uint8Array | Iterable<Uint8Array>,
  opts: { mode?: number } = {},
): Promise<void> {
  const mode = opts.mode ?? 0o600;
  const chunks = typeof data === "string"
    ? [new TextEncoder().encode(data)]
    : data instanceof Uint8Array
    ? [data]
    : data;
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}${TMP_SUFFIX}`;
  let file: Deno.FsFile | undefined;
  try {
    file = await Deno.open(tmp, { write: true, createNew: true, mode });
    // The umask may have narrowed the mode at creation; make sure it is exactly `mode`.
    await Deno.chmod(tmp, mode);
    for (const bytes of chunks) {
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
    }
    await file.syncData();
    file.close();
    file = undefined;
    await Deno.rename(tmp, path);
  } catch (err) {
    file?.close();
    await Deno.remove(tmp).catch(() => {
      // The temp file may never have been created; the original error is what matters.
    });
    throw err;
  }
}

/**
 * Removes the temp files `atomicWriteFile(path)` left behind when the process was killed
 * mid-write. Never throws: leftovers only waste space. Needs --allow-read and --allow-write.
 */
export async function removeStaleTemps(
  path: string,
  log: { debug(msg: string, fields?: Record<string, unknown>): void },
): Promise<void> {
  const dir = dirName(path);
  const prefix = `${baseName(path)}.`;
  try {
    for await (const entry of Deno.readDir(dir)) {
      const rest = entry.name.startsWith(prefix) ? entry.name.slice(prefix.length) : "";
      if (!entry.isFile || !TMP_NAME.test(rest)) continue;
      await Deno.remove(joinPath(dir, entry.name));
      log.debug("removed a temp file left by an interrupted write", { file: entry.name });
    }
  } catch (err) {
    log.debug("could not clean up temp files", { dir, error: err });
  }
}
