/**
 * Atomic, private file writes for state that must never be seen half-written or by another
 * user: a temp file is created 0600 in the same directory, written, flushed, then renamed over
 * the target. A crash at any instant leaves either the old file or the new one.
 */

/**
 * Writes `data` to `path` atomically with mode 0600. Throws the underlying Deno error on
 * failure (after removing the temp file). Needs --allow-write and --allow-read on the dir.
 */
export async function atomicWriteFile(path: string, data: string | Uint8Array): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  let file: Deno.FsFile | undefined;
  try {
    file = await Deno.open(tmp, { write: true, createNew: true, mode: 0o600 });
    // The umask may have narrowed the mode at creation; make sure it is exactly 0600.
    await Deno.chmod(tmp, 0o600);
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
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
