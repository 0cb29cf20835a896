/**
 * The hosts `install` knows: where each keeps its MCP servers for each scope, what an
 * entry looks like there, and the server-name rule. Facts checked against the hosts (Claude
 * Code 2.1.197 run with a temp HOME; Cursor and Codex documentation):
 * - Claude Code: user scope = top-level `mcpServers` of `$CLAUDE_CONFIG_DIR/.claude.json`
 *   (default `~/.claude.json`), entries `{type: "stdio", command, args, env}`; project scope =
 *   `.mcp.json` in the project (shared with the team, approved on first use).
 * - Cursor: `~/.cursor/mcp.json` or `.cursor/mcp.json`, `mcpServers.<name> = {command, args, env}`.
 * - Codex: `$CODEX_HOME/config.toml` (default `~/.codex`) or `.codex/config.toml` in a trusted
 *   project, table `[mcp_servers.<name>]` with command, args, env, startup_timeout_sec and
 *   tool_timeout_sec.
 * - Gemini CLI: `~/.gemini/settings.json` or `.gemini/settings.json`, `mcpServers.<name> =
 *   {command, args, env}` (as `gemini mcp add` 0.61.0 writes it; its default request timeout
 *   is 10 min, enough for wait_for_message).
 */
import type { InstallHost, InstallScope } from "./args.ts";
import { isAbsolutePath, joinPath } from "../paths.ts";
import { tomlKey, tomlString } from "./install_toml.ts";

/** What a host entry starts: the program and its arguments. */
export interface ProgramCommand {
  command: string;
  args: string[];
}

/** Where a host's servers live for one scope. */
export interface HostTarget {
  /** The host's name as people know it. */
  title: string;
  file: string;
  format: "json" | "toml";
  /** Project files are usually committed: said to the user before writing. */
  isShared: boolean;
}

/** The directories the host paths depend on, from the environment. */
export interface HostDirs {
  home: string;
  cwd: string;
  claudeConfigDir?: string;
  codexHome?: string;
}

/**
 * Codex's default startup timeout is 10 s; upstream's snippet gives 30 (upstream-latest.md O4)
 * so a slow first start (make from a checkout, a cold disk) is not reported as a failure.
 */
export const CODEX_STARTUP_TIMEOUT_SECS = 30;
/**
 * Codex's default tool timeout is 60 s, but wait_for_message may wait 300 s and delegate_task
 * waits up to 300 s for a peer: 330 s leaves room for both to answer.
 */
export const CODEX_TOOL_TIMEOUT_SECS = 330;

/** The file a host keeps its servers in for `scope`; every path absolute. */
export function hostTarget(host: InstallHost, scope: InstallScope, dirs: HostDirs): HostTarget {
  const isShared = scope === "project";
  switch (host) {
    case "claude-code":
      return {
        title: "Claude Code",
        file: scope === "user"
          ? joinPath(dirs.claudeConfigDir || dirs.home, ".claude.json")
          : joinPath(dirs.cwd, ".mcp.json"),
        format: "json",
        isShared,
      };
    case "cursor":
      return {
        title: "Cursor",
        file: joinPath(scope === "user" ? dirs.home : dirs.cwd, ".cursor", "mcp.json"),
        format: "json",
        isShared,
      };
    case "gemini":
      return {
        title: "Gemini CLI",
        file: joinPath(scope === "user" ? dirs.home : dirs.cwd, ".gemini", "settings.json"),
        format: "json",
        isShared,
      };
    case "codex":
      return {
        title: "Codex",
        file: scope === "user"
          ? joinPath(dirs.codexHome || joinPath(dirs.home, ".codex"), "config.toml")
          : joinPath(dirs.cwd, ".codex", "config.toml"),
        format: "toml",
        isShared,
      };
  }
}

/** The JSON entry for Claude Code, Cursor or Gemini CLI. */
export function jsonEntry(
  host: Exclude<InstallHost, "codex">,
  program: ProgramCommand,
  env: Record<string, string>,
): Record<string, unknown> {
  const base = { command: program.command, args: program.args, env };
  return host === "claude-code" ? { type: "stdio", ...base } : base;
}

/** The Codex table (and its env sub-table) as TOML text ending with a newline. */
export function tomlEntry(name: string, program: ProgramCommand, env: Record<string, string>) {
  const table = `mcp_servers.${tomlKey(name)}`;
  const lines = [
    `[${table}]`,
    `command = ${tomlString(program.command)}`,
    `args = [${program.args.map(tomlString).join(", ")}]`,
    `startup_timeout_sec = ${CODEX_STARTUP_TIMEOUT_SECS}`,
    `tool_timeout_sec = ${CODEX_TOOL_TIMEOUT_SECS}`,
    "",
    `[${table}.env]`,
    ...Object.entries(env).map(([key, value]) => `${tomlKey(key)} = ${tomlString(value)}`),
  ];
  return lines.join("\n") + "\n";
}

/** Longest slug after `molecule-` (upstream-latest.md O5). */
const SLUG_MAX = 24;

/**
 * The server name upstream uses (upstream-latest.md O5): `molecule-` + slug of the workspace
 * name (lowercase, runs of other characters → `-`, trimmed, at most 24 characters), else the
 * first 8 hex of the id, else `molecule`.
 */
export function serverNameFor(workspaceName: string | null, workspaceId: string): string {
  const slug = (workspaceName ?? "").toLowerCase().replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "").slice(0, SLUG_MAX).replace(/-+$/, "");
  if (slug !== "") return `molecule-${slug}`;
  const short = workspaceId.replace(/-/g, "").slice(0, 8);
  return short === "" ? "molecule" : `molecule-${short}`;
}

/** Names every host accepts as a server key: letters, digits, `_` and `-`, at most 64. */
export function checkServerName(name: string): string | undefined {
  if (/^[A-Za-z0-9_-]{1,64}$/.test(name)) return undefined;
  return `--name must be 1 to 64 letters, digits, "_" or "-": got ${JSON.stringify(name)}`;
}

/** `path` made absolute against `cwd`. */
export function absolutePath(path: string, cwd: string): string {
  return isAbsolutePath(path) ? path : joinPath(cwd, path);
}
