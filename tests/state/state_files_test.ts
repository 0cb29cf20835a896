import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import {
  readAuthToken,
  readInboundSecret,
  saveInboundSecret,
  STATE_FILES,
  stateFilePath,
} from "../../lib/state/state_files.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { withTempDir } from "../fakes/temp_dir.ts";

const SECRET = "inbound-secret-0123456789abcdef";

async function modeOf(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o777;
}

async function namesIn(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

Deno.test("state files: the names match upstream's", () => {
  assertEquals(STATE_FILES, {
    authToken: ".auth_token",
    inboundSecret: ".platform_inbound_secret",
  });
  assertEquals(stateFilePath("/configs", "inboundSecret"), "/configs/.platform_inbound_secret");
});

Deno.test("state files: the inbound secret is written 0600 and read back", async () => {
  await withTempDir(async (dir) => {
    const { log } = captureLog();
    assertEquals(await readInboundSecret(dir, log), undefined);
    assertEquals(await saveInboundSecret(dir, SECRET), true);
    const path = `${dir}/.platform_inbound_secret`;
    assertEquals(await Deno.readTextFile(path), SECRET);
    assertEquals(await modeOf(path), 0o600);
    assertEquals(await readInboundSecret(dir, log), SECRET);
    assertEquals(await namesIn(dir), [".platform_inbound_secret"]);
  });
});

Deno.test("state files: the same secret is not rewritten, a new one is", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/.platform_inbound_secret`;
    await saveInboundSecret(dir, SECRET);
    const before = (await Deno.stat(path)).ino;
    assertEquals(await saveInboundSecret(dir, SECRET), false);
    assertEquals((await Deno.stat(path)).ino, before, "same file, untouched");
    assertEquals(await saveInboundSecret(dir, `${SECRET}-rotated`), true);
    assertEquals(await Deno.readTextFile(path), `${SECRET}-rotated`);
  });
});

Deno.test("state files: a secret file readable by others is rewritten 0600 even when unchanged", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/.platform_inbound_secret`;
    await Deno.writeTextFile(path, SECRET, { mode: 0o644 });
    await Deno.chmod(path, 0o644);
    assertEquals(await saveInboundSecret(dir, SECRET), true);
    assertEquals(await modeOf(path), 0o600);
    assertEquals(await Deno.readTextFile(path), SECRET);
  });
});

Deno.test("state files: an empty secret is never written", async () => {
  await withTempDir(async (dir) => {
    assertEquals(await saveInboundSecret(dir, ""), false);
    assertEquals(await namesIn(dir), []);
  });
});

Deno.test("state files: a failed secret write throws for the caller to log and retry", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/file`, "");
    // A "directory" under a regular file cannot be written, even by root.
    await assertRejects(() => saveInboundSecret(`${dir}/file/sub`, SECRET));
  });
});

Deno.test("state files: a corrupt secret file is reported and treated as absent", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/.platform_inbound_secret`;
    for (const content of [new Uint8Array([0xff, 0xfe]), new Uint8Array([0x20, 0x0a])]) {
      await Deno.writeFile(path, content);
      const { log, text } = captureLog();
      assertEquals(await readInboundSecret(dir, log), undefined);
      assertStringIncludes(text(), "inbound secret file is corrupt");
    }
  });
});

Deno.test("state files: an unreadable secret file is reported and treated as absent", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/.platform_inbound_secret`);
    const { log, text } = captureLog();
    assertEquals(await readInboundSecret(dir, log), undefined);
    assertStringIncludes(text(), "cannot read the inbound secret file");
  });
});

Deno.test("state files: .auth_token is read as bytes; missing is silent, unreadable is logged", async () => {
  await withTempDir(async (dir) => {
    const { log, lines, text } = captureLog();
    assertEquals(await readAuthToken(dir, log), undefined);
    assertEquals(lines, []);
    await Deno.writeTextFile(`${dir}/.auth_token`, "tok\n");
    assertEquals(new TextDecoder().decode(await readAuthToken(dir, log)), "tok\n");
    await Deno.remove(`${dir}/.auth_token`);
    await Deno.mkdir(`${dir}/.auth_token`);
    assertEquals(await readAuthToken(dir, log), undefined);
    assertStringIncludes(text(), "cannot read the token file");
    assert(lines.length === 1);
  });
});
