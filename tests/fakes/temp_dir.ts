/** Per-test temp directories that are always removed, even when the test fails. */

/** Runs `fn` with a fresh temp dir, then removes it. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "molecule-mcp-test-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.chmod(dir, 0o700).catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}
