/**
 * The end-to-end setting: the fake platform served on loopback with two poll-mode
 * workspaces ("me", and a "peer" to talk to), a temp state directory, and the environment
 * that starts the program as "me" (1 s polls, verbose log).
 */
import { createFakePlatform, type FakePlatform } from "./fake_platform.ts";
import { withTempDir } from "./temp_dir.ts";

/** What a test gets: the platform, its URL, both workspaces, the state dir, the program env. */
export interface ServedPlatform {
  platform: FakePlatform;
  url: string;
  me: { id: string; token: string };
  peer: { id: string; token: string };
  dir: string;
  env: Record<string, string>;
}

/**
 * The env that starts the program as workspace `ws` (its id and token) of the platform at
 * `url`, with its state in `dir`: spread it and add what a test needs.
 */
export function workspaceEnv(
  ws: { id: string; token: string },
  url: string,
  dir: string,
): Record<string, string> {
  return {
    WORKSPACE_ID: ws.id,
    PLATFORM_URL: url,
    MOLECULE_WORKSPACE_TOKEN: ws.token,
    CONFIGS_DIR: dir,
  };
}

/** Runs `fn` with a served fake platform; the server and temp dir are gone afterwards. */
export async function withServedPlatform(fn: (s: ServedPlatform) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const platform = createFakePlatform();
    const me = platform.addWorkspace({ delivery_mode: "poll", name: "me" });
    const peer = platform.addWorkspace({ delivery_mode: "poll", name: "peer" });
    const served = await platform.serve();
    const env = {
      ...workspaceEnv(me, served.url, dir),
      MOLECULE_MCP_POLL_INTERVAL_SECS: "1",
      MOLECULE_MCP_VERBOSE: "1",
    };
    try {
      await fn({ platform, url: served.url, me, peer, dir, env });
    } finally {
      await served.close();
    }
  });
}
