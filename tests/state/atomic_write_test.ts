import { assertEquals } from "../assert.ts";
import { atomicWriteFile, removeStaleTemps } from "../../lib/state/atomic_write.ts";
import { withTempDir } from "../fakes/temp_dir.ts";

Deno.test("atomic write: the file holds the new content, mode 0600, and no temp file is left", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/.platform_inbound_secret`;
    await atomicWriteFile(path, "first");
    await atomicWriteFile(path, "second");
    assertEquals(await Deno.readTextFile(path), "second");
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assertEquals(names, [".platform_inbound_secret"]);
  });
});

Deno.test("atomic write: temp files left by a killed write are cleaned up, other files kept", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/.mcp_inbox_cursor`;
    await Deno.writeTextFile(`${path}.0a1b2c3d.tmp`, "half a cursor");
    await Deno.writeTextFile(`${dir}/notes.tmp`, "not ours");
    await Deno.writeTextFile(path, "{}");
    await removeStaleTemps(path, { debug: () => {} });
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assertEquals(names.sort(), [".mcp_inbox_cursor", "notes.tmp"]);
  });
});
