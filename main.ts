/**
 * molecule-mcp entry point: the only place that reads Deno.args and Deno.env, writes outside
 * the logger and picks the exit code. It parses the command line, validates the whole
 * configuration (every problem at once), then serves. The server is not wired yet: for now a
 * valid configuration is acknowledged on stderr and stdin is drained until EOF.
 */
import { parseCli } from "./lib/cli.ts";
import { type Config, type Env, loadConfig, readEnv } from "./lib/config.ts";
import { EXIT } from "./lib/errors.ts";
import { usageHint, usageText } from "./lib/help.ts";
import { createLogger, type Logger } from "./lib/log.ts";
import { resolveStateDir } from "./lib/state_dir.ts";
import { resolveToken, type TokenSource } from "./lib/token.ts";
import { VERSION } from "./lib/version.ts";

/** Everything the server needs once the configuration is valid. */
interface Setup {
  config: Config;
  stateDir: string;
  token: string;
  tokenSource: TokenSource;
  log: Logger;
}

/** Runs the program and returns its exit code. */
export async function main(args: string[]): Promise<number> {
  const cli = parseCli(args);
  if ("error" in cli) {
    writeStderr(cli.error);
    return EXIT.CONFIG;
  }
  if (cli.command !== "serve") {
    writeStdout(cli.command === "help" ? usageText(VERSION) : `molecule-mcp ${VERSION}\n`);
    return EXIT.OK;
  }

  const setup = await prepare(readEnv((name) => Deno.env.get(name)));
  if (!setup.ok) {
    writeStderr(`molecule-mcp cannot start: ${setup.problems.length} configuration problem(s)`);
    for (const problem of setup.problems) writeStderr(`  - ${problem}`);
    writeStderr(usageHint());
    return EXIT.CONFIG;
  }
  const { config, stateDir, tokenSource, log } = setup.value;
  log.info("configuration ok", {
    workspace: config.workspaceId,
    platform: config.platformUrl,
    stateDir,
    credentialsFrom: tokenSource,
  });
  // Placeholder for the server: read and discard stdin until the host closes it.
  for await (const _chunk of Deno.stdin.readable) { /* discarded */ }
  return EXIT.OK;
}

/** Validates config, state dir and token together, so every problem is reported at once. */
async function prepare(
  env: Env,
): Promise<{ ok: true; value: Setup } | { ok: false; problems: string[] }> {
  const loaded = loadConfig(env);
  const log = createLogger({
    write: writeStderr,
    level: loaded.ok ? loaded.config.logLevel : "warn",
  });
  const stateDir = await resolveStateDir({ configsDir: env.CONFIGS_DIR, home: env.HOME, log });
  const token = await resolveToken({
    inline: env.MOLECULE_WORKSPACE_TOKEN,
    file: env.MOLECULE_WORKSPACE_TOKEN_FILE,
    stateDir: stateDir.ok ? stateDir.dir : undefined,
  }, { log });
  if (!loaded.ok || !stateDir.ok || !token.ok) {
    const problems = loaded.ok ? [] : [...loaded.problems];
    if (!stateDir.ok) problems.push(stateDir.problem);
    if (!token.ok) problems.push(token.problem);
    return { ok: false, problems };
  }
  log.addSecret(token.token);
  const value = { config: loaded.config, stateDir: stateDir.dir, log };
  return { ok: true, value: { ...value, token: token.token, tokenSource: token.source } };
}

function writeStdout(text: string): void {
  writeAll(Deno.stdout, text);
}

function writeStderr(line: string): void {
  writeAll(Deno.stderr, `${line}\n`);
}

function writeAll(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (err) {
    writeStderr(`molecule-mcp stopped on an internal error (a bug, please report it): ${err}`);
    code = EXIT.BUG;
  }
  Deno.exit(code);
}
