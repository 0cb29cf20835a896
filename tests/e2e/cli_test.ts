/**
 * The CLI and configuration paths of the real program, run as a subprocess with the shipped
 * permission set (tests/fakes/spawn.ts): exit codes, what lands on stdout and on stderr.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { makeInstall, REPO_ROOT, runProgram, spawnProgram } from "../fakes/spawn.ts";
import { withTempDir } from "../fakes/temp_dir.ts";
import { createFakePlatform } from "../fakes/fake_platform.ts";
import { VERSION } from "../../lib/version.ts";
import { ENV_VARS } from "../../lib/config.ts";

const WORKSPACE_ID = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
const TOKEN = "tok_e2e_abcdefghijklmnopqrstuvwxyz0123456";

function validEnv(configsDir: string): Record<string, string> {
  return {
    WORKSPACE_ID,
    // Loopback only: tests never send traffic off this machine. Nothing listens on port 9.
    PLATFORM_URL: "http://127.0.0.1:9/",
    MOLECULE_WORKSPACE_TOKEN: TOKEN,
    CONFIGS_DIR: configsDir,
    MOLECULE_MCP_DISABLE_HEARTBEAT: "1",
    MOLECULE_MCP_DISABLE_INBOX: "1",
  };
}

for (const flag of ["--help", "-h", "help"]) {
  Deno.test(`e2e: \`molecule-mcp ${flag}\` prints the usage on stdout and exits 0`, async () => {
    const { code, stdout, stderr } = await runProgram({ env: {}, args: [flag] });
    assertEquals(code, 0);
    assertEquals(stderr, "");
    assertStringIncludes(stdout, `molecule-mcp ${VERSION}`);
    for (const name of ENV_VARS) assertStringIncludes(stdout, name);
    assertStringIncludes(stdout, "Exit codes:");
  });
}

for (const flag of ["--version", "-V"]) {
  Deno.test(`e2e: \`molecule-mcp ${flag}\` prints the version and exits 0`, async () => {
    const { code, stdout, stderr } = await runProgram({ env: {}, args: [flag] });
    assertEquals([code, stdout, stderr], [0, `molecule-mcp ${VERSION}\n`, ""]);
  });
}

Deno.test("e2e: an unknown flag is one stderr line, nothing on stdout, exit 2", async () => {
  const { code, stdout, stderr } = await runProgram({ env: {}, args: ["--frobnicate"] });
  assertEquals(code, 2);
  assertEquals(stdout, "");
  assertEquals(stderr.trimEnd().split("\n").length, 1);
  assertStringIncludes(stderr, "--frobnicate");
  assertStringIncludes(stderr, "molecule-mcp --help");
});

Deno.test("e2e: `doctor` reports on stdout: exit 0 when all is well, 1 for a wrong token", async () => {
  const platform = createFakePlatform();
  const { id, token } = platform.addWorkspace({ name: "E2E" });
  const served = await platform.serve();
  try {
    await withTempDir(async (dir) => {
      const env = {
        WORKSPACE_ID: id,
        PLATFORM_URL: served.url,
        MOLECULE_WORKSPACE_TOKEN: token,
        CONFIGS_DIR: dir,
      };
      const ok = await runProgram({ env, args: ["doctor"] });
      assertEquals([ok.code, ok.stderr], [0, ""], ok.stdout);
      assertMatch(ok.stdout, /^\[OK\] version: molecule-mcp /);
      assertStringIncludes(ok.stdout, "[OK] token accepted:");
      assert(!ok.stdout.includes("\x1b["), "no colour when stdout is not a terminal");
      assert(!ok.stdout.includes(token));

      const wrong = await runProgram({
        env: { ...env, MOLECULE_WORKSPACE_TOKEN: "tok_not_the_right_one_0123456789abcdef" },
        args: ["doctor"],
      });
      assertEquals(wrong.code, 1, wrong.stdout);
      assertStringIncludes(wrong.stdout, "[FAIL] token accepted: the platform refused the token");
    });
  } finally {
    await served.close();
  }
});

Deno.test("e2e: `doctor` with no environment lists the problems and exits 1", async () => {
  await withTempDir(async (dir) => {
    const { code, stdout, stderr } = await runProgram({
      env: { CONFIGS_DIR: dir },
      args: ["doctor"],
    });
    assertEquals([code, stderr], [1, ""]);
    assertStringIncludes(stdout, "[FAIL] configuration:");
    assertStringIncludes(stdout, "problem: WORKSPACE_ID is not set");
  });
});

Deno.test("e2e: with no environment every missing setting is listed, then exit 2", async () => {
  await withTempDir(async (dir) => {
    const { code, stdout, stderr } = await runProgram({ env: { CONFIGS_DIR: dir } });
    assertEquals(code, 2);
    assertEquals(stdout, "");
    assertStringIncludes(stderr, "WORKSPACE_ID is not set");
    assertStringIncludes(stderr, "PLATFORM_URL is not set");
    assertStringIncludes(stderr, "No workspace token found");
    assertStringIncludes(stderr, "MOLECULE_WORKSPACE_TOKEN_FILE");
    assertStringIncludes(stderr, "molecule-mcp --help");
    assert(!stderr.includes("    at "), "no stack trace");
  });
});

Deno.test("e2e: invalid values are all named with the value seen, then exit 2", async () => {
  await withTempDir(async (dir) => {
    const { code, stdout, stderr } = await runProgram({
      env: {
        ...validEnv(dir),
        WORKSPACE_ID: "not-a-uuid",
        PLATFORM_URL: "ftp://example.com",
        MOLECULE_MCP_HEARTBEAT_INTERVAL_SECS: "120",
      },
    });
    assertEquals([code, stdout], [2, ""]);
    assertStringIncludes(stderr, 'WORKSPACE_ID is not a workspace UUID: got "not-a-uuid"');
    assertStringIncludes(stderr, 'PLATFORM_URL must start with https:// or http://: got "ftp:');
    assertStringIncludes(stderr, "MOLECULE_MCP_HEARTBEAT_INTERVAL_SECS must be a number");
    assertStringIncludes(stderr, "3 configuration problem(s)");
    assert(!stderr.includes(TOKEN), "the token never appears");
  });
});

Deno.test("e2e: a token file that cannot be used gives its reason and exit 2, with no fallback", async () => {
  await withTempDir(async (dir) => {
    // A usable .auth_token exists, but the explicit file wins and its failure is reported.
    await Deno.writeTextFile(`${dir}/.auth_token`, "fallback-token-value\n");
    const env = { ...validEnv(dir), MOLECULE_WORKSPACE_TOKEN: "" };
    const cases: [string, string | Uint8Array | undefined, string][] = [
      ["missing", undefined, "does not exist"],
      ["empty", "  \n", "is empty"],
      ["two", "first-token second-token\n", "contains whitespace inside the token"],
      ["latin1", new Uint8Array([0x74, 0x6f, 0xe9, 0x6b]), "is not UTF-8 text"],
    ];
    for (const [name, content, reason] of cases) {
      const path = `${dir}/${name}.token`;
      if (typeof content === "string") await Deno.writeTextFile(path, content);
      if (content instanceof Uint8Array) await Deno.writeFile(path, content);
      const r = await runProgram({ env: { ...env, MOLECULE_WORKSPACE_TOKEN_FILE: path } });
      assertEquals([r.code, r.stdout], [2, ""], name);
      assertStringIncludes(r.stderr, `MOLECULE_WORKSPACE_TOKEN_FILE "${path}" ${reason}`);
      assert(!r.stderr.includes("first-token"), "the file's content never appears");
    }
  });
});

Deno.test("e2e: a quoted token is refused at start with exit 2 naming the variable, never the value", async () => {
  await withTempDir(async (dir) => {
    for (const quoted of [`"${TOKEN}"`, `\u201c${TOKEN}\u201d`]) {
      const r = await runProgram({ env: { ...validEnv(dir), MOLECULE_WORKSPACE_TOKEN: quoted } });
      assertEquals([r.code, r.stdout], [2, ""], quoted);
      assertStringIncludes(r.stderr, "MOLECULE_WORKSPACE_TOKEN contains a");
      assertStringIncludes(r.stderr, "at character 1");
      assert(!r.stderr.includes(TOKEN), "the token never appears");
    }
  });
});

Deno.test("e2e: with a valid environment it serves stdin until EOF, then exits 0", async () => {
  await withTempDir(async (dir) => {
    const configsDir = `${dir}/state`;
    await using program = spawnProgram({
      env: { ...validEnv(configsDir), MOLECULE_MCP_VERBOSE: "1" },
    });
    const ok = await program.waitForStderr("configuration ok");
    assertStringIncludes(ok, `workspace=${WORKSPACE_ID}`);
    assertStringIncludes(ok, "platform=http://127.0.0.1:9 ");
    // One info line names where each value came from (hosts add their own environment).
    assertStringIncludes(
      ok,
      'from="workspace=env WORKSPACE_ID; platform=env PLATFORM_URL; ' +
        'token=env MOLECULE_WORKSPACE_TOKEN (value not shown); stateDir=env CONFIGS_DIR"',
    );
    await program.writeLine("not a JSON-RPC message");
    const reply = JSON.parse(await program.readLine() ?? "null");
    assertEquals(reply.error.code, -32700, "bad input gets a JSON-RPC error, not an exit");
    assertEquals(await program.hasExited(), false);
    const { code, stdout, stderr } = await program.wait();
    assertEquals([code, stdout], [0, ""]);
    assert(!stderr.includes(TOKEN), "the token never appears");
    assertEquals((await Deno.stat(configsDir)).mode! & 0o777, 0o700);
  });
});

/** A writable /configs on the test host would (rightly) win over $HOME. */
const hasContainerConfigs = (() => {
  try {
    return Deno.statSync("/configs").isDirectory;
  } catch {
    // Absent (the normal case on a developer machine or CI runner).
    return false;
  }
})();

Deno.test({
  name: "e2e: the state dir falls back to $HOME/.molecule-workspace, created 0700",
  ignore: hasContainerConfigs,
}, async () => {
  await withTempDir(async (home) => {
    const env = { ...validEnv(""), HOME: home };
    const { code, stdout, stderr } = await runProgram({ env });
    assertEquals([code, stdout, stderr], [0, "", ""]);
    assertEquals((await Deno.stat(`${home}/.molecule-workspace`)).mode! & 0o777, 0o700);
  });
});

Deno.test("e2e: `install codex` writes a table that starts this program, exit 0", async () => {
  await withTempDir(async (dir) => {
    const env = {
      WORKSPACE_ID,
      PLATFORM_URL: "http://127.0.0.1:1",
      MOLECULE_WORKSPACE_TOKEN: TOKEN,
      CONFIGS_DIR: `${dir}/state`,
      HOME: dir,
      CODEX_HOME: `${dir}/codex`,
    };
    const dry = await runProgram({ env, args: ["install", "codex", "--dry-run"] });
    assertEquals([dry.code, dry.stderr], [0, ""], dry.stdout);
    assertStringIncludes(dry.stdout, "[mcp_servers.molecule-1b4e28ba]");

    const { code, stdout, stderr } = await runProgram({ env, args: ["install", "codex"] });
    assertEquals([code, stderr], [0, ""], stdout);
    assert(!stdout.includes(TOKEN));
    const toml = await Deno.readTextFile(`${dir}/codex/config.toml`);
    const bin = Deno.env.get("MOLECULE_MCP_BIN");
    if (bin === undefined || bin === "") {
      // From a checkout: this runtime and main.ts, never make (tests/e2e/install_entry_test.ts).
      assertStringIncludes(toml, `command = ${JSON.stringify(Deno.execPath())}\nargs = ["run", `);
      assertStringIncludes(toml, `${JSON.stringify(`${REPO_ROOT}main.ts`)}]`);
    } else {
      assertStringIncludes(toml, "args = []");
    }
    assert(!toml.includes(TOKEN), "no token in the host file");

    const again = await runProgram({ env, args: ["install", "codex", "--name", "molecule-x!"] });
    assertEquals(again.code, 2);
    assertStringIncludes(again.stderr, "--name must be");
  });
});

Deno.test("e2e: `make install` writes a wrapper that runs this checkout from anywhere", async () => {
  await withTempDir(async (dir) => {
    const made = await makeInstall(dir);
    assertEquals(made.code, 0, made.stderr);
    assertEquals(made.stdout, "", "make -s prints nothing on stdout");
    const wrapper = `${dir}/bin/molecule-mcp`;
    assertEquals((await Deno.stat(wrapper)).mode! & 0o777, 0o755);
    const run = await new Deno.Command(wrapper, {
      args: ["--version"],
      cwd: dir,
      clearEnv: true,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(new TextDecoder().decode(run.stdout), `molecule-mcp ${VERSION}\n`);
    assertEquals(run.code, 0);
  });
});

Deno.test("e2e: `make install` from a checkout whose path holds $, quotes, a backtick and a space writes a wrapper that runs exactly that path", async () => {
  await withTempDir(async (dir) => {
    // What the install recipe reads: the Makefile, deno.json, and make's Deno (.tools).
    const checkout = `${dir}/co $HOME'q"\`x\\y`;
    await Deno.mkdir(checkout);
    for (const name of ["Makefile", "deno.json"]) {
      await Deno.copyFile(`${REPO_ROOT}/${name}`, `${checkout}/${name}`);
    }
    await Deno.symlink(`${REPO_ROOT}/.tools`, `${checkout}/.tools`);
    const prefix = `${dir}/pre fix`; // (a $ here would be make's: command-line values expand)
    const made = await makeInstall(prefix, checkout);
    assertEquals(made.code, 0, made.stderr);
    assertStringIncludes(made.stderr, checkout);
    // The words the wrapper's exec line passes, as sh sees them.
    const wrapper = await Deno.readTextFile(`${prefix}/bin/molecule-mcp`);
    const line = wrapper.split("\n").find((l) => l.startsWith("exec ")) ?? "";
    const shown = await new Deno.Command("sh", {
      args: ["-c", `set -- one two; ${line.replace(/^exec /, "printf '%s\\n' ")}`],
      clearEnv: true,
      env: { HOME: "/nowhere", USER: "nobody" },
      stdout: "piped",
    }).output();
    const words = new TextDecoder().decode(shown.stdout).split("\n").slice(0, -1);
    assertEquals(words.at(-3), `${checkout}/main.ts`, line);
    assertEquals(words.slice(-2), ["one", "two"], "the caller's arguments pass as they are");
    assert(words.includes(`${checkout}/deno.json`), line);
  });
});
