/**
 * The host entry `install` writes when the program runs from this checkout (as `make run ARGS=
 * "install …"` runs it), started the way a host starts it: its command, args and env alone,
 * from another working directory. With MOLECULE_MCP_BIN (a compiled binary) the entry is the
 * binary itself.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { makeInstall, REPO_ROOT, runProgram } from "../fakes/spawn.ts";
import { withServedPlatform } from "../fakes/served_platform.ts";
import { withTempDir } from "../fakes/temp_dir.ts";
import manifest from "../../deno.json" with { type: "json" };

const WRONG_TOKEN = "not-the-right-token-aaaaaaaaaaaaaaaaaaaaaaaaa";

/** The one server entry in a Claude Code config file. */
function onlyEntry(text: string): { command: string; args: string[]; env: Record<string, string> } {
  const parsed: { mcpServers: Record<string, unknown> } = JSON.parse(text);
  const entries = Object.values(parsed.mcpServers);
  assertEquals(entries.length, 1);
  const entry = entries[0] as { command: string; args: string[]; env: Record<string, string> };
  assertEquals(typeof entry.command, "string");
  return entry;
}

/** What a checkout's entry must start: this runtime, the shipped flags, absolute main.ts. */
function checkoutArgs(): string[] {
  return [
    "run",
    "-q",
    "--no-lock",
    "--config",
    `${REPO_ROOT}deno.json`,
    "-P=shipped",
    `--v8-flags=${manifest.runtime.v8Flags}`,
    `${REPO_ROOT}main.ts`,
  ];
}

Deno.test("e2e: `install` from a checkout writes an entry that starts the runtime with main.ts (never make), so the host sees exit 3 for a refused token from any folder", async () => {
  await withServedPlatform(async ({ url, me, dir }) => {
    const env = {
      WORKSPACE_ID: me.id,
      PLATFORM_URL: url,
      MOLECULE_WORKSPACE_TOKEN: WRONG_TOKEN,
      CONFIGS_DIR: `${dir}/state`,
      HOME: dir,
      CLAUDE_CONFIG_DIR: `${dir}/claude`,
    };
    const installed = await runProgram({ env, args: ["install", "claude-code"] });
    assertEquals([installed.code, installed.stderr], [0, ""], installed.stdout);
    const text = await Deno.readTextFile(`${dir}/claude/.claude.json`);
    assert(!text.includes(WRONG_TOKEN), "no token in the host's config file");
    const entry = onlyEntry(text);
    const bin = Deno.env.get("MOLECULE_MCP_BIN");
    if (bin === undefined || bin === "") {
      assertEquals([entry.command, entry.args], [Deno.execPath(), checkoutArgs()]);
      assertStringIncludes(
        installed.stdout,
        `note: run from the checkout ${REPO_ROOT.replace(/\/$/, "")}:`,
      );
    } else {
      assertEquals([entry.command, entry.args], [bin, []]);
      assert(!installed.stdout.includes("run from the checkout"), installed.stdout);
    }

    // Started as a host starts it: the entry alone (plus the cache dir a shell would give
    // Deno), from a folder with a deno.json of its own, stdin left open.
    const elsewhere = `${dir}/project`;
    await Deno.mkdir(elsewhere);
    await Deno.writeTextFile(`${elsewhere}/deno.json`, '{ "permissions": {} }\n');
    const child = new Deno.Command(entry.command, {
      args: entry.args,
      cwd: elsewhere,
      clearEnv: true,
      env: {
        ...entry.env,
        NO_COLOR: "1",
        DENO_DIR: Deno.env.get("DENO_DIR") ?? `${REPO_ROOT}.tools/deno_dir`,
      },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const [status, stdout, stderr] = await Promise.all([
      child.status,
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ]);
    await child.stdin.close();
    assertEquals(status.code, 3, stderr);
    assertStringIncludes(stderr, me.id);
    assertEquals(stdout, "");
  });
});

Deno.test("e2e: a checkout's `install` entry runs the same command line as the `make install` wrapper", async () => {
  if ((Deno.env.get("MOLECULE_MCP_BIN") ?? "") !== "") return; // a binary's entry is itself
  await withTempDir(async (dir) => {
    const made = await makeInstall(dir);
    assertEquals(made.code, 0, made.stderr);
    const wrapper = await Deno.readTextFile(`${dir}/bin/molecule-mcp`);
    const line = wrapper.split("\n").find((l) => l.startsWith("exec ")) ?? "";
    // The words of the exec line as sh sees them (the wrapper quotes each path).
    const shown = await new Deno.Command("sh", {
      args: ["-c", `set -- '$@'; ${line.replace(/^exec /, "printf '%s\\n' ")}`],
      clearEnv: true,
      stdout: "piped",
    }).output();
    const words = new TextDecoder().decode(shown.stdout).split("\n").slice(0, -1);
    assertEquals(words.at(-1), "$@", line);
    const [runtime = "", ...args] = words.slice(0, -1);

    const env = {
      WORKSPACE_ID: "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
      PLATFORM_URL: "http://127.0.0.1:9",
      MOLECULE_WORKSPACE_TOKEN: WRONG_TOKEN,
      CONFIGS_DIR: `${dir}/state`,
      HOME: dir,
      CLAUDE_CONFIG_DIR: `${dir}/claude`,
    };
    const installed = await runProgram({ env, args: ["install", "claude-code"] });
    assertEquals(installed.code, 0, installed.stderr);
    const entry = onlyEntry(await Deno.readTextFile(`${dir}/claude/.claude.json`));
    // The wrapper names make's Deno by its link (.tools/node_modules/.bin/deno); the same file.
    assertEquals(await Deno.realPath(entry.command), await Deno.realPath(runtime));
    assertEquals(entry.args, args);
  });
});
