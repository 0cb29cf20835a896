/**
 * Where each setting came from, in words an operator can act on: the variable (or file, or
 * default rule) behind the workspace, the platform URL, the token and the state directory.
 * MCP hosts pass their own environment to the servers they start, so a WORKSPACE_ID exported in
 * a shell is picked up silently; naming the source is how an operator finds that out. Used by
 * the start-up log line (main.ts) and by `doctor`. Never shows a token's value.
 */
import type { Env } from "../config.ts";
import type { StateDirSource } from "../state/state_dir.ts";
import type { TokenSource } from "../state/token.ts";
import { listVarOf } from "../workspace_list.ts";

/** The settings whose origin matters, each as "<source>" text. */
export interface ConfigSources {
  workspace: string;
  platform: string;
  token: string;
  stateDir: string;
}

/**
 * Describes where each value came from. Today every value comes from one environment
 * variable; the token from one of three sources and the state directory from one of three
 * rules. `tokenSource`/`stateDirSource` are undefined when they could not be resolved.
 */
export function describeSources(
  env: Env,
  resolved: { tokenSource?: TokenSource | undefined; stateDirSource?: StateDirSource | undefined },
): ConfigSources {
  // MOLECULE_WORKSPACES (or _JSON) replaces WORKSPACE_ID and the token variables.
  const list = listVarOf(env);
  if (list !== undefined) {
    return {
      workspace: `env ${list}`,
      platform: `each entry's platform_url in env ${list}, else env PLATFORM_URL`,
      token: `env ${list} (values not shown)`,
      stateDir: describeStateDirSource(resolved.stateDirSource),
    };
  }
  return {
    workspace: "env WORKSPACE_ID",
    platform: "env PLATFORM_URL",
    token: describeTokenSource(env, resolved.tokenSource),
    stateDir: describeStateDirSource(resolved.stateDirSource),
  };
}

/** One line for the start-up log: `workspace=env:WORKSPACE_ID platform=… token=… stateDir=…`. */
export function sourcesLine(sources: ConfigSources): string {
  return Object.entries(sources).map(([key, from]) => `${key}=${from}`).join("; ");
}

function describeTokenSource(env: Env, source: TokenSource | undefined): string {
  switch (source) {
    case "MOLECULE_WORKSPACE_TOKEN":
      return "env MOLECULE_WORKSPACE_TOKEN (value not shown)";
    case "MOLECULE_WORKSPACE_TOKEN_FILE":
      return `file ${JSON.stringify((env.MOLECULE_WORKSPACE_TOKEN_FILE ?? "").trim())} ` +
        "named by env MOLECULE_WORKSPACE_TOKEN_FILE";
    case ".auth_token":
      return "file .auth_token in the state directory";
    case undefined:
      return "none found";
  }
}

function describeStateDirSource(source: StateDirSource | undefined): string {
  switch (source) {
    case "CONFIGS_DIR":
      return "env CONFIGS_DIR";
    case "/configs":
      return "default /configs (writable, CONFIGS_DIR unset)";
    case "HOME":
      return "default ~/.molecule-workspace (env HOME; CONFIGS_DIR unset)";
    case undefined:
      return "none usable";
  }
}
