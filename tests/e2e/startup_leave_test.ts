/**
 * A host that leaves while the answer to initialize is still held for the first register
 * (issue 12's hold, at most 3 s): the workspace link is never opened for it (no inbox, no
 * poll). SIGTERM stops the program at once; after stdin EOF the first registers still decide
 * the exit code (3 when every token is refused) within the hold, and the initialize already
 * read is answered unless every token was refused.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { createFakePlatform } from "../fakes/fake_platform.ts";
import { runProgram, spawnProgram } from "../fakes/spawn.ts";
import { workspaceEnv } from "../fakes/served_platform.ts";
import { INITIALIZE_PARAMS, RpcSession } from "../fakes/rpc_session.ts";
import { withTempDir } from "../fakes/temp_dir.ts";

/** Runs `leave` against a program whose first register never answers; returns its result. */
async function leaveDuringHold(leave: "eof" | "SIGTERM") {
  return await withTempDir(async (dir) => {
    const platform = createFakePlatform();
    const me = platform.addWorkspace({ delivery_mode: "poll", name: "me" });
    platform.failNext("POST /registry/register", "timeout");
    const registerSeen = Promise.withResolvers<void>();
    const served = await platform.serve({
      beforeAnswer: (_req, route) => {
        if (route === "POST /registry/register") registerSeen.resolve();
      },
    });
    try {
      await using program = spawnProgram({
        env: {
          ...workspaceEnv(me, served.url, dir),
          MOLECULE_MCP_VERBOSE: "1",
        },
      });
      const session = new RpcSession(program);
      await session.send(1, "initialize", INITIALIZE_PARAMS);
      await registerSeen.promise; // the hold is on: the register hangs
      const result = leave === "eof" ? await program.wait() : await program.kill("SIGTERM");
      return { ...result, activityPolls: platform.count("GET /workspaces/:id/activity") };
    } finally {
      await served.close();
    }
  });
}

for (const leave of ["eof", "SIGTERM"] as const) {
  Deno.test(`e2e: a host that leaves (${leave}) while initialize is held for the first register stops the program without opening the workspace`, async () => {
    const { code, stdout, stderr, activityPolls } = await leaveDuringHold(leave);
    assertEquals(code, 0, stderr);
    // A request read before stdin ended is still answered (the drain rule of lib/mcp/server.ts).
    if (leave === "eof") assert(stdout.includes('"id":1'), `no answer to initialize: ${stdout}`);
    assert(!stderr.includes("inbox journal loaded"), `the inbox was opened:\n${stderr}`);
    assertEquals(activityPolls, 0);
  });
}

Deno.test("e2e: stdin closed at once with a refused token still exits 3, without opening the workspace", async () => {
  await withTempDir(async (dir) => {
    const platform = createFakePlatform();
    const me = platform.addWorkspace({ delivery_mode: "poll", name: "me" });
    const served = await platform.serve();
    try {
      const { code, stderr, stdout } = await runProgram({
        env: {
          ...workspaceEnv(
            { id: me.id, token: "not-the-right-token-aaaaaaaaaaaaaaaaaaaaaaaaa" },
            served.url,
            dir,
          ),
          MOLECULE_MCP_VERBOSE: "1",
        },
      });
      assertEquals(code, 3, stderr);
      assertEquals(stdout, "");
      assertStringIncludes(stderr, `refused workspace ${me.id}`);
      assert(!stderr.includes("inbox journal loaded"), `the inbox was opened:\n${stderr}`);
    } finally {
      await served.close();
    }
  });
});
