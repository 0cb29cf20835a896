/**
 * The local pieces both the server (main.ts) and `doctor` resolve from the environment before
 * any request: the state directory, the token (unless MOLECULE_WORKSPACES lists the tokens) and
 * the HTTP transport (MOLECULE_CA_FILE, MOLECULE_PROXY_URL). One function, so doctor checks
 * exactly what the server will use.
 */
import type { Env } from "../config.ts";
import type { Logger } from "../log.ts";
import { buildFetch, type HttpClientDeps, type HttpClientResult } from "../platform/http_client.ts";
import { resolveStateDir, type StateDirResult } from "../state/state_dir.ts";
import { resolveToken, type TokenResult } from "../state/token.ts";

/** What {@link resolveLocalSetup} found; each part carries its own problem when not ok. */
export interface LocalSetup {
  stateDir: StateDirResult;
  /** null when a workspace list variable carries the tokens (the token variables are unused). */
  token: TokenResult | null;
  http: HttpClientResult;
}

/**
 * Resolves the state directory, then the token (inline, file, or the state dir's token file),
 * then builds the fetch. Blank MOLECULE_CA_FILE / MOLECULE_PROXY_URL count as unset, as for
 * every other variable. Never throws for bad input: problems come back in the results.
 */
export async function resolveLocalSetup(
  env: Env,
  deps: { log: Logger; http: HttpClientDeps; isListed: boolean; containerDir?: string },
): Promise<LocalSetup> {
  const stateDir = resolveStateDir({
    configsDir: env.CONFIGS_DIR,
    home: env.HOME,
    log: deps.log,
    ...(deps.containerDir === undefined ? {} : { containerDir: deps.containerDir }),
  });
  const token = deps.isListed ? null : await resolveToken({
    inline: env.MOLECULE_WORKSPACE_TOKEN,
    file: env.MOLECULE_WORKSPACE_TOKEN_FILE,
    stateDir: stateDir.ok ? stateDir.dir : undefined,
  }, { log: deps.log });
  const caFile = env.MOLECULE_CA_FILE?.trim() ?? "";
  const proxyUrl = env.MOLECULE_PROXY_URL?.trim() ?? "";
  const http = buildFetch({
    ...(caFile === "" ? {} : { caFile }),
    ...(proxyUrl === "" ? {} : { proxyUrl }),
  }, deps.http);
  return { stateDir, token, http };
}
