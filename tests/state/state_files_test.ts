import { assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import {
  readAuthToken,
  readInboundSecret,
  saveInboundSecret,
  STATE_FILES,
  stateFilePath,
  WORKSPACE_STATE_FILES,
  workspaceStatePath,
} from "../../lib/state/state_files.ts";
import { UnsafeStateFileError } from "../../lib/state/safe_file.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { HOSTILE_FILES } from "../fakes/special_files.ts";
import { modeOf, namesIn, withTempDir } from "../fakes/temp_dir.ts";

const SECRET = "inbound-secret-0123456789abcdef";
const WS = "11111111-2222-4333-8444-555555555555";
const SECRET_NAME = `.platform_inbound_secret.${WS}`;

Deno.test("state files: shared names match upstream's; a workspace's files carry its id", () => {
  assertEquals(STATE_FILES, { authToken: ".auth_token" });
  assertEquals(stateFilePath("/configs", "authToken"), "/configs/.auth_token");
  assertEquals(WORKSPACE_STATE_FILES, {
    journal: ".mcp_inbox_journal",
    cursor: ".mcp_inbox_cursor",
    lock: ".mcp_inbox.lock",
    inboundSecret: ".platform_inbound_secret",
    installedToken: ".mcp_workspace_token",
  });
  assertEquals(
    workspaceStatePath("/configs", "inboundSecret", WS),
    `/configs/.platform_inbound_secret.${WS}`,
  );
});

Deno.test("state files: the inbound secret is written 0600 and read back", async () => {
  await withTempDir(async (dir) => {
    const { log } = captureLog();
    const path = `${dir}/${SECRET_NAME}`;
    assertEquals(await readInboundSecret(path, log), undefined);
    assertEquals(await saveInboundSecret(path, SECRET, log), true);
    assertEquals(await Deno.readTextFile(path), SECRET);
    assertEquals(await modeOf(path), 0o600);
    assertEquals(await readInboundSecret(path, log), SECRET);
    assertEquals(await namesIn(dir), [SECRET_NAME]);
  });
});

Deno.test("state files: the same secret is not rewritten, a new one is", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/${SECRET_NAME}`;
    const { log } = captureLog();
    await saveInboundSecret(path, SECRET, log);
    const before = (await Deno.stat(path)).ino;
    assertEquals(await saveInboundSecret(path, SECRET, log), false);
    assertEquals((await Deno.stat(path)).ino, before, "same file, untouched");
    assertEquals(await saveInboundSecret(path, `${SECRET}-rotated`, log), true);
    assertEquals(await Deno.readTextFile(path), `${SECRET}-rotated`);
  });
});

Deno.test("state files: a secret file readable by others is tightened to 0600 with a notice", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/${SECRET_NAME}`;
    const { log, text } = captureLog();
    await Deno.writeTextFile(path, SECRET, { mode: 0o644 });
    await Deno.chmod(path, 0o644);
    assertEquals(await saveInboundSecret(path, SECRET, log), false);
    assertStringIncludes(text(), "tightened a state file to mode 0600");
    assertEquals(await modeOf(path), 0o600);
    assertEquals(await Deno.readTextFile(path), SECRET);
  });
});

Deno.test("state files: an empty secret is never written", async () => {
  await withTempDir(async (dir) => {
    assertEquals(await saveInboundSecret(`${dir}/${SECRET_NAME}`, "", captureLog().log), false);
    assertEquals(await namesIn(dir), []);
  });
});

Deno.test("state files: a failed secret write throws for the caller to log and retry", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/file`, "");
    // A "directory" under a regular file cannot be written, even by root.
    await assertRejects(() => saveInboundSecret(`${dir}/file/sub`, SECRET, captureLog().log));
  });
});

Deno.test("state files: a corrupt secret file is reported and treated as absent", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/${SECRET_NAME}`;
    for (const content of [new Uint8Array([0xff, 0xfe]), new Uint8Array([0x20, 0x0a])]) {
      await Deno.writeFile(path, content);
      const { log, text } = captureLog();
      assertEquals(await readInboundSecret(path, log), undefined);
      assertStringIncludes(text(), "inbound secret file is corrupt");
    }
  });
});

Deno.test("state files: an unreadable secret file is reported and treated as absent", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/${SECRET_NAME}`);
    const { log, text } = captureLog();
    assertEquals(await readInboundSecret(`${dir}/${SECRET_NAME}`, log), undefined);
    assertStringIncludes(text(), "cannot read the inbound secret file");
  });
});

Deno.test("state files: .auth_token is read as bytes; missing is silent, a directory is refused", async () => {
  await withTempDir(async (dir) => {
    const { log, lines } = captureLog();
    assertEquals(await readAuthToken(dir, log), undefined);
    assertEquals(lines, []);
    await Deno.writeTextFile(`${dir}/.auth_token`, "tok\n", { mode: 0o600 });
    await Deno.chmod(`${dir}/.auth_token`, 0o600);
    assertEquals(new TextDecoder().decode(await readAuthToken(dir, log)), "tok\n");
    assertEquals(lines, []);
    await Deno.remove(`${dir}/.auth_token`);
    await Deno.mkdir(`${dir}/.auth_token`);
    const err = await assertRejects(() => readAuthToken(dir, log), UnsafeStateFileError);
    assertStringIncludes(err.message, `${dir}/.auth_token is a directory`);
  });
});

Deno.test("state files: .auth_token readable by others is read with a warning, left as it is", async () => {
  await withTempDir(async (dir) => {
    const { log, text } = captureLog();
    await Deno.writeTextFile(`${dir}/.auth_token`, "tok\n");
    await Deno.chmod(`${dir}/.auth_token`, 0o644);
    assertEquals(new TextDecoder().decode(await readAuthToken(dir, log)), "tok\n");
    assertStringIncludes(text(), "readable or writable by other users");
    assertStringIncludes(text(), `chmod 600 ${dir}/.auth_token`);
    assertEquals(await modeOf(`${dir}/.auth_token`), 0o644);
  });
});

for (const { kind, make } of HOSTILE_FILES) {
  Deno.test(`state files: an inbound secret file that is ${kind} is refused, then replaced by a regular file`, async () => {
    await withTempDir(async (dir) => {
      const path = `${dir}/${SECRET_NAME}`;
      await make(path);
      const { log, text } = captureLog();
      assertEquals(await readInboundSecret(path, log), undefined);
      assertStringIncludes(text(), "cannot read the inbound secret file");
      assertEquals(await saveInboundSecret(path, SECRET, log), true);
      const info = await Deno.lstat(path);
      assertEquals([info.isFile, info.isSymlink], [true, false]);
      assertEquals(await readInboundSecret(path, log), SECRET);
    });
  });
}
