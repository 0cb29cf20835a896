/**
 * The upload retention sweep in the spawned program, against the fake platform served on
 * loopback: a restart sweeps the uploads folder once the first poll is done.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { spawnProgram } from "../fakes/spawn.ts";
import { RpcSession } from "../fakes/rpc_session.ts";
import { withServedPlatform } from "../fakes/served_platform.ts";
import { namesIn } from "../fakes/temp_dir.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

async function backdate(path: string, days: number): Promise<void> {
  const at = new Date(Date.now() - days * DAY_MS);
  await Deno.utime(path, at, at);
}

Deno.test("e2e: at start the program removes old uploads, keeps one a queued message mentions, and touches no link or other workspace", async () => {
  await withServedPlatform(async ({ platform, env, me, peer, dir }) => {
    // First run: a canvas upload is fetched and its message queued (never popped).
    {
      await using program = spawnProgram({ env });
      const session = new RpcSession(program);
      await session.initialize();
      platform.uploadFromCanvas(me.id, {
        name: "plan.pdf",
        mimeType: "application/pdf",
        bytes: new Uint8Array(64),
      });
      await program.waitForStderr("inbox received messages");
      await program.closeStdin();
      assertEquals((await program.wait()).code, 0);
    }
    const folder = `${dir}/uploads/${me.id}`;
    const [queued] = await namesIn(folder);
    assert(queued !== undefined && queued.endsWith("-plan.pdf"), String(queued));
    await backdate(`${folder}/${queued}`, 30);
    await Deno.writeTextFile(`${folder}/f0-stale.txt`, "old");
    await backdate(`${folder}/f0-stale.txt`, 30);
    await Deno.writeTextFile(`${folder}/f1-fresh.txt`, "new");
    const outside = `${dir}/precious.txt`;
    await Deno.writeTextFile(outside, "not ours to remove");
    await backdate(outside, 30);
    await Deno.symlink(outside, `${folder}/f2-link.txt`);
    const theirs = `${dir}/uploads/${peer.id}`;
    await Deno.mkdir(theirs);
    await Deno.writeTextFile(`${theirs}/f3-theirs.txt`, "old");
    await backdate(`${theirs}/f3-theirs.txt`, 30);

    // Second run: the sweep after the first poll.
    await using program = spawnProgram({ env });
    const session = new RpcSession(program);
    await session.initialize();
    const line = await program.waitForStderr("swept old canvas uploads");
    assertStringIncludes(line, "removed=1");
    assertStringIncludes(line, "keptMentioned=1");
    assertEquals(await namesIn(folder), ["f1-fresh.txt", "f2-link.txt", queued].sort());
    assertEquals(await Deno.readTextFile(outside), "not ours to remove");
    assertEquals(await namesIn(theirs), ["f3-theirs.txt"]);
    await program.closeStdin();
    assertEquals((await program.wait()).code, 0);
  });
});

Deno.test("e2e: MOLECULE_CHAT_UPLOAD_RETENTION_DAYS and MOLECULE_CHAT_UPLOAD_MAX_MB set what the sweep removes", async () => {
  const cases = [
    {
      setting: { MOLECULE_CHAT_UPLOAD_RETENTION_DAYS: "40" },
      files: [["a1-fifty-days.txt", 50, 3], ["a2-thirty-days.txt", 30, 3]] as const,
      left: ["a2-thirty-days.txt"], // the default 7 days would remove it too
    },
    {
      setting: { MOLECULE_CHAT_UPLOAD_MAX_MB: "1" },
      files: [["b1-older.bin", 2, 700 * 1024], ["b2-newer.bin", 1, 700 * 1024]] as const,
      left: ["b2-newer.bin"], // the default 1024 MiB would keep both
    },
  ];
  for (const { setting, files, left } of cases) {
    await withServedPlatform(async ({ env, me, dir }) => {
      const folder = `${dir}/uploads/${me.id}`;
      await Deno.mkdir(folder, { recursive: true, mode: 0o700 });
      for (const [name, days, bytes] of files) {
        await Deno.writeFile(`${folder}/${name}`, new Uint8Array(bytes), { mode: 0o600 });
        await backdate(`${folder}/${name}`, days);
      }
      await using program = spawnProgram({ env: { ...env, ...setting } });
      const session = new RpcSession(program);
      await session.initialize();
      await program.waitForStderr("swept old canvas uploads");
      assertEquals(await namesIn(folder), left, JSON.stringify(setting));
      await program.closeStdin();
      assertEquals((await program.wait()).code, 0);
    });
  }
});
