/**
 * Variables that only main.ts hands on (config → the link, the register, the instructions):
 * each test runs the real program with one of them set and checks what it changes where a user
 * would see it, so main.ts dropping the value fails here, not only in lib/config.ts's tests.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { spawnProgram } from "../fakes/spawn.ts";
import { RpcSession } from "../fakes/rpc_session.ts";
import { withServedPlatform } from "../fakes/served_platform.ts";
import { namesIn } from "../fakes/temp_dir.ts";

Deno.test("e2e: the agent card the platform records carries MOLECULE_AGENT_DESCRIPTION and MOLECULE_AGENT_SKILLS", async () => {
  await withServedPlatform(async ({ platform, env, me }) => {
    await using program = spawnProgram({
      env: {
        ...env,
        MOLECULE_AGENT_NAME: "ana-laptop",
        MOLECULE_AGENT_DESCRIPTION: "Claude Code on Ana's laptop",
        MOLECULE_AGENT_SKILLS: " review, ,triage",
      },
    });
    const session = new RpcSession(program);
    await session.initialize();
    await program.waitForStderr("registered with the platform");
    const expected = {
      name: "ana-laptop",
      description: "Claude Code on Ana's laptop",
      skills: [{ name: "review" }, { name: "triage" }],
    };
    const cards = platform.registrations
      .filter((r) => r.workspace_id === me.id)
      .map((r) => (r.body as { agent_card?: unknown }).agent_card);
    assert(cards.length > 0, "registered at least once");
    for (const card of cards) assertEquals(card, expected);
    // What the canvas shows: the card stored on the workspace row.
    assertEquals(platform.workspace(me.id)?.agent_card, expected);
    await program.closeStdin();
    assertEquals((await program.wait()).code, 0);
  });
});

Deno.test("e2e: a canvas upload is saved under MOLECULE_CHAT_UPLOAD_DIR, not the state directory", async () => {
  await withServedPlatform(async ({ platform, env, me, dir }) => {
    const uploadDir = `${dir}/chat files`;
    await using program = spawnProgram({ env: { ...env, MOLECULE_CHAT_UPLOAD_DIR: uploadDir } });
    const session = new RpcSession(program);
    await session.initialize();
    await program.waitForStderr("registered with the platform");
    const bytes = new Uint8Array(2048).map((_, i) => (i * 7) % 256);
    platform.uploadFromCanvas(me.id, { name: "notes.txt", mimeType: "text/plain", bytes });
    const push = await session.notification("notifications/claude/channel");
    const path = (push.params as { meta: Record<string, string> }).meta.attachment_1_path ?? "";
    assert(path.startsWith(`${uploadDir}/${me.id}/`), path);
    assertEquals(await Deno.readFile(path), bytes);
    assert(!(await namesIn(dir)).includes("uploads"), "nothing under <state dir>/uploads");
    await program.closeStdin();
    assertEquals((await program.wait()).code, 0);
  });
});

Deno.test("e2e: MOLECULE_MCP_POLL_TIMEOUT_SECS sets the wait the instructions ask for; 0 switches them to push only", async () => {
  for (
    const [setting, expected, absent] of [
      ["17", "wait_for_message(timeout_secs=17)", "--dangerously-load-development-channels"],
      ["0", "--dangerously-load-development-channels server:molecule", "timeout_secs="],
    ]
  ) {
    await withServedPlatform(async ({ env }) => {
      await using program = spawnProgram({
        env: { ...env, MOLECULE_MCP_POLL_TIMEOUT_SECS: setting ?? "" },
      });
      const session = new RpcSession(program);
      const init = await session.initialize();
      const text = typeof init.instructions === "string" ? init.instructions : "";
      assertStringIncludes(text, expected ?? "", `MOLECULE_MCP_POLL_TIMEOUT_SECS=${setting}`);
      assert(!text.includes(absent ?? "-"), `MOLECULE_MCP_POLL_TIMEOUT_SECS=${setting}: ${text}`);
      await program.closeStdin();
      assertEquals((await program.wait()).code, 0);
    });
  }
});
