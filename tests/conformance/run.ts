/**
 * `make conformance`: runs the official MCP conformance suite (npm:@modelcontextprotocol/
 * conformance, pinned in deno.json and deno.lock; tests only, never shipped) against the real
 * program served over Streamable HTTP (`--http`), with the fake platform on loopback behind it.
 * Every active server scenario runs; tests/conformance/expected_failures.yml lists the ones for
 * capabilities we do not offer, each with its reason. Exit 0 when the result matches that
 * baseline (no unexpected failure, no stale entry), else 1.
 *
 * Usage: deno run -A tests/conformance/run.ts [extra conformance args, e.g. --scenario ping]
 */
import manifest from "../../deno.json" with { type: "json" };
import { createFakePlatform } from "../fakes/fake_platform.ts";
import { REPO_ROOT, spawnProgram } from "../fakes/spawn.ts";
import { workspaceEnv } from "../fakes/served_platform.ts";
import { withTempDir } from "../fakes/temp_dir.ts";

const SUITE = manifest.imports["@modelcontextprotocol/conformance"];
const BASELINE = "tests/conformance/expected_failures.yml";

/** One line on stdout (no console: the lint rule keeps stdout for what we mean to print). */
function say(line: string): void {
  Deno.stdout.writeSync(new TextEncoder().encode(`${line}\n`));
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function run(): Promise<number> {
  return await withTempDir(async (dir) => {
    const platform = createFakePlatform();
    const me = platform.addWorkspace({ delivery_mode: "poll", name: "conformance" });
    const served = await platform.serve();
    const port = freePort();
    await using program = spawnProgram({
      env: {
        ...workspaceEnv(me, served.url, dir),
        MOLECULE_MCP_VERBOSE: "1",
      },
      args: ["--http", `127.0.0.1:${port}`],
      stdin: "null",
    });
    try {
      await program.waitForStderr("serving MCP over HTTP");
      const url = `http://localhost:${port}/mcp`;
      say(`conformance: ${SUITE} against molecule-mcp --http at ${url}`);
      const suite = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--frozen",
          SUITE,
          "server",
          "--url",
          url,
          "--expected-failures",
          BASELINE,
          ...Deno.args,
        ],
        cwd: REPO_ROOT,
        env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
        stdout: "inherit",
        stderr: "inherit",
      });
      const { code } = await suite.output();
      return code;
    } finally {
      const result = await program.kill("SIGTERM");
      if (result.code !== 0) {
        say(`molecule-mcp exited ${result.code}; its stderr:\n${result.stderr}`);
      }
      await served.close();
    }
  });
}

Deno.exit(await run());
