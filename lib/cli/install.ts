/**
 * `molecule-mcp install <host>`: placeholder until the host writers land.
 */
import type { InstallRequest } from "./args.ts";
import type { Env } from "../config.ts";
import type { Clock } from "../clock.ts";
import type { HttpClientDeps } from "../platform/http_client.ts";

/** Effects install needs. */
export interface InstallDeps {
  clock: Clock;
  http: HttpClientDeps;
  cwd: string;
  program: { command: string; args: string[] };
}

/** What main.ts prints and returns. */
export interface InstallResult {
  output: string;
  errors: string[];
  exitCode: number;
}

/** Not available yet: says so, exit 2. */
export function runInstall(
  request: InstallRequest,
  _env: Env,
  _deps: InstallDeps,
): Promise<InstallResult> {
  return Promise.resolve({
    output: "",
    errors: [`molecule-mcp install ${request.host} is not available in this build yet`],
    exitCode: 2,
  });
}
