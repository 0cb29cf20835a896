/**
 * Command-line parsing: argv → which mode to run. Nothing here prints or exits; main.ts does.
 * The usage text lives in cli/help.ts.
 */
import { cutCodePoints, ELLIPSIS } from "../text.ts";

/** MCP hosts `molecule-mcp install` can write an entry for. */
export const INSTALL_HOSTS = ["claude-code", "cursor", "codex", "gemini"] as const;
/** One of INSTALL_HOSTS. */
export type InstallHost = typeof INSTALL_HOSTS[number];
/** Where the host entry goes: the user's own config, or the current project's. */
export type InstallScope = "user" | "project";

/** What `molecule-mcp install <host> [options]` asks for. */
export interface InstallRequest {
  command: "install";
  host: InstallHost;
  /** --name: the server name to use instead of `molecule-<slug>`. */
  name?: string;
  scope: InstallScope;
  /** --force: replace an existing entry of the same name. */
  isForced: boolean;
  /** --dry-run: print the change, write nothing. */
  isDryRun: boolean;
}

/** Serve MCP: on stdio, or with `--http [HOST:]PORT` over Streamable HTTP. */
export interface ServeRequest {
  command: "serve";
  /** The `--http` value as typed (parsed with the token by lib/http_listen.ts). */
  http?: string;
}

/** What the command line asks for, or why it cannot be understood. */
export type CliCommand =
  | ServeRequest
  | { command: "help" }
  | { command: "version" }
  | { command: "doctor" }
  | InstallRequest
  | { error: string };

const HINT = "run `molecule-mcp --help` to see the usage";
const INSTALL_OPTIONS = new Set(["name", "scope", "force", "dry-run"]);
const VALUE_OPTIONS = new Set(["name", "scope", "http"]);

/**
 * Parses argv (without the program name). No arguments → serve (`--http [HOST:]PORT`: serve
 * over Streamable HTTP instead of stdio); `--help`, `-h` or `help` →
 * help; `--version` or `-V` → version (help wins when both are given); `doctor`; `install
 * <host> [--name NAME] [--scope user|project] [--force] [--dry-run]`. Anything else is an
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
      name: { type: "string" },
      scope: { type: "string" },
      force: { type: "boolean" },
      "dry-run": { type: "boolean" },
      http: { type: "string" },
    },
    allowPositionals: true,
    // Not strict: unknown options come back as tokens, so the error below is ours.
    strict: false,
    tokens: true,
  });

  let wantsHelp = false;
  let wantsVersion = false;
  const positionals: string[] = [];
  const values = new Map<string, string | true>();
  for (const token of tokens) {
    if (token.kind === "option-terminator") continue;
    if (token.kind === "positional") {
      positionals.push(token.value);
      continue;
    }
    const isKnown = token.name === "help" || token.name === "version" ||
      token.name === "http" || INSTALL_OPTIONS.has(token.name);
    if (!isKnown) return { error: `Unknown option: ${shown(token.rawName)} (${HINT})` };
    if (VALUE_OPTIONS.has(token.name)) {
      if (token.value === undefined || token.value === "") {
        return { error: `Option ${token.rawName} needs a value (${HINT})` };
      }
      values.set(token.name, token.value);
      continue;
    }
    if (token.value !== undefined) {
      const seen = shown(`${token.rawName}=${token.value}`);
      return { error: `Option ${token.rawName} takes no value: got ${seen} (${HINT})` };
    }
    if (token.name === "help") wantsHelp = true;
    else if (token.name === "version") wantsVersion = true;
    else values.set(token.name, true);
  }

  const [first, ...rest] = positionals;
  if (wantsHelp || first === "help") {
    if (first === "help" && rest[0] !== undefined) {
      return { error: `Unexpected argument: ${shown(rest[0])} (${HINT})` };
    }
    return { command: "help" };
  }
  const http = values.get("http");
  values.delete("http");
  if (first === "install") {
    if (http !== undefined) return { error: `Option --http belongs to serving (${HINT})` };
    return parseInstall(rest, values);
  }
  const stray = [...values.keys()][0];
  if (stray !== undefined) {
    return { error: `Option --${stray} belongs to \`molecule-mcp install\` (${HINT})` };
  }
  if (first !== undefined && first !== "doctor") {
    return { error: `Unknown command: ${shown(first)} (${HINT})` };
  }
  if (rest[0] !== undefined) return { error: `Unexpected argument: ${shown(rest[0])} (${HINT})` };
  if (wantsVersion) return { command: "version" };
  if (http !== undefined && first === "doctor") {
    return { error: `Option --http belongs to serving, not doctor (${HINT})` };
  }
  if (first === "doctor") return { command: "doctor" };
  return typeof http === "string" ? { command: "serve", http } : { command: "serve" };
}

function parseInstall(rest: string[], values: Map<string, string | true>): CliCommand {
  const hosts = INSTALL_HOSTS.join(", ");
  const [host, extra] = rest;
  if (host === undefined) {
    return { error: `install needs a host: one of ${hosts} (${HINT})` };
  }
  if (!isInstallHost(host)) {
    return {
      error: `Unknown host for install: ${shown(host)}; expected one of ${hosts} (${HINT})`,
    };
  }
  if (extra !== undefined) return { error: `Unexpected argument: ${shown(extra)} (${HINT})` };
  const scope = values.get("scope") ?? "user";
  if (scope !== "user" && scope !== "project") {
    return {
      error: `Option --scope must be user or project: got ${shown(String(scope))} (${HINT})`,
    };
  }
  const name = values.get("name");
  const request: InstallRequest = {
    command: "install",
    host,
    scope,
    isForced: values.get("force") === true,
    isDryRun: values.get("dry-run") === true,
  };
  return typeof name === "string" ? { ...request, name } : request;
}

function isInstallHost(value: string): value is InstallHost {
  return (INSTALL_HOSTS as readonly string[]).includes(value);
}

/** Longest argument echoed in an error, in code points: a pasted blob stays one short line. */
const SHOWN_MAX = 80;

/**
 * Shows an argument as typed (cut to SHOWN_MAX code points with "…"), quoted when it holds
 * spaces, control or non-ASCII characters.
 */
function shown(arg: string): string {
  const cut = cutCodePoints(arg, SHOWN_MAX, ELLIPSIS);
  return /^[\x21-\x7e]+$/.test(cut) ? cut : JSON.stringify(cut);
}
