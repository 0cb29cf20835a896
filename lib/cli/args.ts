/**
 * Command-line parsing: argv → which mode to run. Nothing here prints or exits; main.ts does.
 * The usage text lives in cli/help.ts.
 */

/** What the command line asks for, or why it cannot be understood. */
export type CliCommand =
  | { command: "serve" }
  | { command: "help" }
  | { command: "version" }
  | { error: string };

const HINT = "run `molecule-mcp --help` to see the usage";

/**
 * Parses argv (without the program name). No arguments → serve; `--help`, `-h` or `help` →
 * help; `--version` or `-V` → version (help wins when both are given). Anything else is an
 * error: one line naming what was seen, plus a pointer to --help.
 *
 * node:util is loaded only when there are arguments: the server (started without any) then
 * does not pay for Node compatibility at start-up (measured: about 2 MB of RSS).
 */
export async function parseCli(args: string[]): Promise<CliCommand> {
  if (args.length === 0) return { command: "serve" };
  const { parseArgs } = await import("node:util");
  const { tokens } = parseArgs({
    args,
    options: {
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "V" },
    },
    allowPositionals: true,
    // Not strict: unknown options come back as tokens, so the error below is ours.
    strict: false,
    tokens: true,
  });

  let wantsHelp = false;
  let wantsVersion = false;
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === "option-terminator") continue;
    if (token.kind === "positional") {
      positionals.push(token.value);
      continue;
    }
    if (token.name !== "help" && token.name !== "version") {
      return { error: `Unknown option: ${shown(token.rawName)} (${HINT})` };
    }
    if (token.value !== undefined) {
      const seen = shown(`${token.rawName}=${token.value}`);
      return { error: `Option ${token.rawName} takes no value: got ${seen} (${HINT})` };
    }
    if (token.name === "help") wantsHelp = true;
    else wantsVersion = true;
  }

  const [first, ...rest] = positionals;
  if (first !== undefined && first !== "help") {
    return { error: `Unknown command: ${shown(first)} (${HINT})` };
  }
  if (rest[0] !== undefined) return { error: `Unexpected argument: ${shown(rest[0])} (${HINT})` };
  if (wantsHelp || first === "help") return { command: "help" };
  if (wantsVersion) return { command: "version" };
  return { command: "serve" };
}

/** Shows an argument as typed, quoted when it holds spaces or control characters. */
function shown(arg: string): string {
  return /^[\x21-\x7e]+$/.test(arg) ? arg : JSON.stringify(arg);
}
