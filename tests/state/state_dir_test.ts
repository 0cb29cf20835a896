import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { resolveStateDir, type StateDirResult } from "../../lib/state/state_dir.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { modeOf, namesIn, withTempDir } from "../fakes/temp_dir.ts";

function problemOf(result: StateDirResult): string {
  if (result.ok) throw new Error(`expected a problem, got ${result.dir}`);
  return result.problem;
}

/** A path nothing can be created under, even by root: its parent is a regular file. */
async function unusablePath(tmp: string): Promise<string> {
  await Deno.writeTextFile(`${tmp}/plain-file`, "");
  return `${tmp}/plain-file/configs`;
}

Deno.test("state dir: CONFIGS_DIR is used first, created 0700 with its parents", async () => {
  await withTempDir(async (tmp) => {
    const { log } = captureLog();
    const configsDir = `${tmp}/a/b/state`;
    const result = resolveStateDir({
      configsDir,
      home: tmp,
      containerDir: tmp,
      log,
    });
    assertEquals(result, { ok: true, dir: configsDir, source: "CONFIGS_DIR" });
    assertEquals(await modeOf(configsDir), 0o700);
    assertEquals(await namesIn(configsDir), [], "no probe file left behind");
  });
});

Deno.test("state dir: an existing CONFIGS_DIR is used as the operator set it up", async () => {
  await withTempDir(async (tmp) => {
    await Deno.chmod(tmp, 0o750);
    const { log, lines } = captureLog();
    const result = resolveStateDir({ configsDir: tmp, home: undefined, log });
    assertEquals(result, { ok: true, dir: tmp, source: "CONFIGS_DIR" });
    assertEquals(await modeOf(tmp), 0o750);
    assertEquals(lines, []);
  });
});

Deno.test("state dir: a CONFIGS_DIR that cannot be used is a problem saying what to do", async () => {
  await withTempDir(async (tmp) => {
    const { log } = captureLog();
    const under = await unusablePath(tmp);
    const cases: [string, string][] = [
      ["relative/state", "is not an absolute path"],
      [`${tmp}/plain-file`, "exists but is not a directory"],
      [under, "cannot be inspected (a parent is not a directory)"],
    ];
    for (const [configsDir, why] of cases) {
      const problem = problemOf(resolveStateDir({ configsDir, home: tmp, log }));
      assertStringIncludes(problem, `CONFIGS_DIR ${JSON.stringify(configsDir)} ${why}`);
      assertStringIncludes(problem, "set CONFIGS_DIR to a directory you own");
    }
  });
});

Deno.test("state dir: a writable /configs is used when CONFIGS_DIR is unset", async () => {
  await withTempDir(async (tmp) => {
    const { log } = captureLog();
    const containerDir = `${tmp}/configs`;
    await Deno.mkdir(containerDir);
    const result = resolveStateDir({ configsDir: " ", home: tmp, containerDir, log });
    assertEquals(result, { ok: true, dir: containerDir, source: "/configs" });
    assertEquals(await namesIn(containerDir), [], "no probe file left behind");
    assertEquals(await namesIn(tmp), ["configs"], "no home fallback created");
  });
});

Deno.test("state dir: a missing /configs falls back to $HOME/.molecule-workspace, created 0700", async () => {
  await withTempDir(async (home) => {
    const { log } = captureLog();
    const result = resolveStateDir({
      configsDir: undefined,
      home,
      containerDir: `${home}/no-such-configs`,
      log,
    });
    const dir = `${home}/.molecule-workspace`;
    assertEquals(result, { ok: true, dir, source: "HOME" });
    assertEquals(await modeOf(dir), 0o700);
    assertEquals(await namesIn(dir), []);
  });
});

Deno.test("state dir: an unwritable /configs stand-in falls back to $HOME", async () => {
  await withTempDir(async (home) => {
    const { log } = captureLog();
    const containerDir = await unusablePath(home);
    const result = resolveStateDir({ configsDir: undefined, home, containerDir, log });
    assertEquals(result, { ok: true, dir: `${home}/.molecule-workspace`, source: "HOME" });
  });
});

Deno.test({
  name: "state dir: an existing but read-only /configs falls back to $HOME",
  // /proc/self is a directory nobody, not even root, can create files in.
  ignore: Deno.build.os !== "linux",
}, async () => {
  await withTempDir((home) => {
    const { log } = captureLog();
    const result = resolveStateDir({
      configsDir: undefined,
      home,
      containerDir: "/proc/self",
      log,
    });
    assertEquals(result, { ok: true, dir: `${home}/.molecule-workspace`, source: "HOME" });
  });
});

Deno.test("state dir: an existing fallback dir readable by others is tightened to 0700 with a notice", async () => {
  await withTempDir(async (home) => {
    const dir = `${home}/.molecule-workspace`;
    await Deno.mkdir(dir);
    await Deno.chmod(dir, 0o755);
    const { log, lines } = captureLog("warn");
    const result = resolveStateDir({
      configsDir: undefined,
      home,
      containerDir: `${home}/none`,
      log,
    });
    assertEquals(result, { ok: true, dir, source: "HOME" });
    assertEquals(await modeOf(dir), 0o700);
    assertEquals(lines.length, 1);
    assertStringIncludes(lines[0] ?? "", "tightened the state directory to mode 0700");
    assertStringIncludes(lines[0] ?? "", "was=0755");
  });
});

Deno.test("state dir: a private fallback dir is used silently", async () => {
  await withTempDir(async (home) => {
    const dir = `${home}/.molecule-workspace`;
    await Deno.mkdir(dir, { mode: 0o700 });
    await Deno.writeTextFile(`${dir}/.platform_inbound_secret`, "kept");
    const { log, lines } = captureLog("debug");
    const result = resolveStateDir({
      configsDir: undefined,
      home,
      containerDir: `${home}/none`,
      log,
    });
    assertEquals(result, { ok: true, dir, source: "HOME" });
    assertEquals(lines.filter((l) => !l.includes(" debug ")), []);
    assertEquals(await Deno.readTextFile(`${dir}/.platform_inbound_secret`), "kept");
  });
});

Deno.test("state dir: a fallback dir owned by another user is refused and left alone", async () => {
  await withTempDir(async (home) => {
    const dir = `${home}/.molecule-workspace`;
    await Deno.mkdir(dir);
    await Deno.chmod(dir, 0o777);
    const owner = (await Deno.stat(dir)).uid!;
    const { log } = captureLog();
    const problem = problemOf(
      resolveStateDir({
        configsDir: undefined,
        home,
        containerDir: `${home}/none`,
        log,
        uid: owner + 1,
      }),
    );
    assertStringIncludes(problem, `${dir} is owned by user id ${owner}, not by you (${owner + 1})`);
    assertStringIncludes(problem, `rm -r ${dir}`);
    assertStringIncludes(problem, "CONFIGS_DIR");
    assertEquals(await modeOf(dir), 0o777, "not touched");
  });
});

Deno.test({
  name: "state dir: without an injected uid, another user's dir is detected from the probe file",
  ignore: Deno.build.os === "windows" || Deno.uid() !== 0,
}, async () => {
  await withTempDir(async (home) => {
    const dir = `${home}/.molecule-workspace`;
    await Deno.mkdir(dir, { mode: 0o700 });
    await Deno.chown(dir, 4242, 4242);
    const { log } = captureLog();
    const problem = problemOf(
      resolveStateDir({ configsDir: undefined, home, containerDir: `${home}/none`, log }),
    );
    assertStringIncludes(problem, "is owned by user id 4242, not by you (0)");
    assertEquals(await namesIn(dir), [], "the probe file was removed");
  });
});

Deno.test("state dir: without HOME, CONFIGS_DIR or /configs the problem says to set CONFIGS_DIR", async () => {
  await withTempDir((tmp) => {
    const { log } = captureLog();
    for (const home of [undefined, "", "relative/home"]) {
      const problem = problemOf(
        resolveStateDir({ configsDir: undefined, home, containerDir: `${tmp}/none`, log }),
      );
      assertStringIncludes(problem, "Cannot choose a state directory: HOME is not");
      assertStringIncludes(problem, "set CONFIGS_DIR to a directory you own");
    }
  });
});

Deno.test("state dir: a HOME that does not exist is reported, not created", async () => {
  await withTempDir(async (tmp) => {
    const { log } = captureLog();
    const home = `${tmp}/gone`;
    const problem = problemOf(
      resolveStateDir({ configsDir: undefined, home, containerDir: `${tmp}/none`, log }),
    );
    assertStringIncludes(problem, `${home}/.molecule-workspace cannot be created`);
    assertEquals(await namesIn(tmp), []);
    assert(!problem.includes("undefined"));
  });
});

Deno.test("state dir: a fallback path that is a file is reported", async () => {
  await withTempDir(async (home) => {
    await Deno.writeTextFile(`${home}/.molecule-workspace`, "");
    const { log } = captureLog();
    const problem = problemOf(
      resolveStateDir({ configsDir: undefined, home, containerDir: `${home}/none`, log }),
    );
    assertStringIncludes(problem, "exists but is not a directory");
  });
});

for (const mode of [0o777, 0o1777, 0o770, 0o702]) {
  const octal = mode.toString(8).padStart(4, "0");
  Deno.test(`state dir: a CONFIGS_DIR others can write (${octal}) is a problem naming it and the fix`, async () => {
    await withTempDir(async (tmp) => {
      const dir = `${tmp}/shared`;
      await Deno.mkdir(dir);
      await Deno.chmod(dir, mode);
      const { log } = captureLog();
      const problem = problemOf(resolveStateDir({ configsDir: dir, home: tmp, log }));
      assertStringIncludes(
        problem,
        `CONFIGS_DIR "${dir}" is writable by other users (mode ${octal})`,
      );
      assertStringIncludes(problem, `chmod 700 ${dir}`);
      assertEquals(await modeOf(dir), mode & 0o777, "left as the operator set it");
    });
  });
}

Deno.test("state dir: a CONFIGS_DIR owned by another user is a problem naming it and the fix", async () => {
  await withTempDir(async (tmp) => {
    const owner = (await Deno.stat(tmp)).uid!;
    const { log } = captureLog();
    const problem = problemOf(
      resolveStateDir({ configsDir: tmp, home: tmp, log, uid: owner + 1 }),
    );
    assertStringIncludes(problem, `CONFIGS_DIR "${tmp}" is owned by user id ${owner}`);
    assertStringIncludes(problem, "chown");
  });
});

Deno.test("state dir: a writable /configs that others can write is skipped with a notice, HOME is used", async () => {
  await withTempDir(async (tmp) => {
    const container = `${tmp}/configs`;
    await Deno.mkdir(container);
    await Deno.chmod(container, 0o1777);
    const { log, text } = captureLog();
    const result = resolveStateDir({
      configsDir: undefined,
      home: tmp,
      containerDir: container,
      log,
    });
    assertEquals(result, { ok: true, dir: `${tmp}/.molecule-workspace`, source: "HOME" });
    assertStringIncludes(text(), `not using ${container} for state: it is writable by other users`);
  });
});

Deno.test("state dir: a /configs owned by another user is skipped with a notice", async () => {
  await withTempDir(async (tmp) => {
    const container = `${tmp}/configs`;
    await Deno.mkdir(container);
    const owner = (await Deno.stat(container)).uid!;
    const { log, text } = captureLog();
    const result = resolveStateDir({
      configsDir: undefined,
      home: undefined,
      containerDir: container,
      log,
      uid: owner + 1,
    });
    assert(!result.ok, "not used: with no HOME there is nowhere else to go");
    assertStringIncludes(
      text(),
      `not using ${container} for state: it is owned by user id ${owner}`,
    );
  });
});
