/**
 * The release binary embeds one bundled module of main.ts (release/bundle.sh, compiled by
 * release/compile.sh). `deno compile` cannot fetch its runtime here, so these tests run that
 * bundle with the shipped permission set: it must be one self-contained file, and a host
 * session with it must go as with main.ts (the release workflow runs the whole suite against
 * the compiled binary).
 */
import { join } from "node:path";
import { UPSTREAM_TOOL_NAMES } from "../fakes/tool_names.ts";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { REPO_ROOT, spawnProgram } from "../fakes/spawn.ts";
import { RpcSession } from "../fakes/rpc_session.ts";
import { withServedPlatform } from "../fakes/served_platform.ts";
import { withTempDir } from "../fakes/temp_dir.ts";

/** Runs release/bundle.sh into `dir`; returns the bundle's path. */
async function bundleInto(dir: string): Promise<string> {
  const out = join(dir, "molecule-mcp.js");
  const built = await new Deno.Command("bash", {
    args: ["release/bundle.sh", out],
    cwd: REPO_ROOT,
    env: { DENO: Deno.execPath() },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(built.code, 0, new TextDecoder().decode(built.stderr));
  return out;
}

Deno.test("bundle: release/bundle.sh writes one file that imports no other module", async () => {
  await withTempDir(async (dir) => {
    const text = await Deno.readTextFile(await bundleInto(dir));
    // Any relative import (static or import()) would be a module the binary does not carry.
    assertEquals(text.match(/(?:\bfrom|\bimport\s*\(?)\s*["'`]\.{1,2}\//g), null);
    assertStringIncludes(text, '"molecule"', "the server name is in the bundle");
  });
});

Deno.test("bundle: the release bundle registers, answers initialize, lists every tool and pushes a message", async () => {
  await withTempDir(async (dir) => {
    const entry = await bundleInto(dir);
    await withServedPlatform(async ({ platform, env, me }) => {
      await using program = spawnProgram({ env, entry });
      const session = new RpcSession(program);
      const init = await session.initialize();
      assertEquals((init.serverInfo as { name: string }).name, "molecule");
      await program.waitForStderr("registered with the platform");
      assert(platform.registrations.some((r) => r.workspace_id === me.id));
      const listed = await session.request("list", "tools/list");
      const names = (listed.result as { tools: { name: string }[] }).tools.map((t) => t.name);
      assertEquals(names, UPSTREAM_TOOL_NAMES);
      platform.sendToInbox(me.id, { text: "hello through the bundle" });
      const push = await session.notification("notifications/claude/channel");
      assertStringIncludes((push.params as { content: string }).content, "through the bundle");
      await program.closeStdin();
      assertEquals((await program.wait()).code, 0);
    });
  });
});
