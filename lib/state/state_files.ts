/**
 * Our files inside the state directory: their names, and small helpers to read the optional
 * `.auth_token` and to read and save `.platform_inbound_secret`. Unreadable or corrupt state
 * is logged and treated as absent, never fatal. The inbox journal and cursor files belong to
 * the inbox's own store; state/state_dir.ts decides which directory is used.
 */
import { joinPath } from "../paths.ts";
import { atomicWriteFile } from "./atomic_write.ts";
import type { Logger } from "../log.ts";

/** Names of the state files, relative to the state directory. */
export const STATE_FILES = {
  /** Optional token source written by in-container runtimes; we only read it. */
  authToken: ".auth_token",
  /** Secret for platform → workspace calls, persisted from heartbeat answers (0600). */
  inboundSecret: ".platform_inbound_secret",
} as const;

/**
 * The token file `molecule-mcp install` writes for one workspace (mode 0600), named by its
 * host entry's MOLECULE_WORKSPACE_TOKEN_FILE: `.mcp_token_<first 8 hex of the id>`, keyed by
 * workspace like upstream's per-workspace cursor files.
 */
export function installedTokenFileName(workspaceId: string): string {
  return `${INSTALLED_TOKEN_PREFIX}${workspaceId.replace(/-/g, "").slice(0, 8)}`;
}

/** Prefix of installedTokenFileName; README and --help show `.mcp_token_<first 8 of the ID>`. */
export const INSTALLED_TOKEN_PREFIX = ".mcp_token_";

/** Full path of one state file in `dir`. */
export function stateFilePath(dir: string, name: keyof typeof STATE_FILES): string {
  return joinPath(dir, STATE_FILES[name]);
}

/**
 * Reads `<dir>/.auth_token` as raw bytes, or undefined when it does not exist. Any other read
 * failure is logged as a warning and treated as absent. Validation of the content is left to
 * state/token.ts. Needs --allow-read on `dir`.
 */
export async function readAuthToken(dir: string, log: Logger): Promise<Uint8Array | undefined> {
  const path = stateFilePath(dir, "authToken");
  try {
    return await Deno.readFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    log.warn("cannot read the token file, ignoring it", { path, error: err });
    return undefined;
  }
}

/**
 * Reads the persisted inbound secret, or undefined when absent. A missing file is normal; an
 * unreadable, non-UTF-8 or empty file is logged as a warning and treated as absent.
 * Needs --allow-read on `dir`.
 */
export async function readInboundSecret(dir: string, log: Logger): Promise<string | undefined> {
  const path = stateFilePath(dir, "inboundSecret");
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    log.warn("cannot read the inbound secret file, ignoring it", { path, error: err });
    return undefined;
  }
  const text = decodeUtf8(bytes)?.trim();
  if (text === undefined || text === "") {
    log.warn("the inbound secret file is corrupt, ignoring it", {
      path,
      next: "it is rewritten after the next successful heartbeat",
    });
    return undefined;
  }
  return text;
}

/**
 * Saves the inbound secret to `<dir>/.platform_inbound_secret` atomically with mode 0600, but
 * only when the stored secret differs (or the file's mode is wider than 0600), so a heartbeat
 * every 20 s does not rewrite the same bytes. Returns whether it wrote. An empty secret is
 * never written (returns false). Throws the Deno error when the write fails; the caller logs
 * it and retries on the next heartbeat. Needs --allow-read and --allow-write on `dir`.
 */
export async function saveInboundSecret(dir: string, secret: string): Promise<boolean> {
  if (secret === "") return false;
  const path = stateFilePath(dir, "inboundSecret");
  if (await holdsPrivately(path, secret)) return false;
  await atomicWriteFile(path, secret);
  return true;
}

/** True when `path` already holds exactly `content` and nobody but the owner can read it. */
async function holdsPrivately(path: string, content: string): Promise<boolean> {
  try {
    const [stat, bytes] = await Promise.all([Deno.stat(path), Deno.readFile(path)]);
    const isPrivate = stat.mode === null || (stat.mode & 0o077) === 0;
    return isPrivate && decodeUtf8(bytes) === content;
  } catch (err) {
    // Missing or unreadable: either way the atomic write below replaces it.
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.PermissionDenied) {
      return false;
    }
    throw err;
  }
}

/** Decodes strict UTF-8, or undefined when the bytes are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    // A TypeError here means invalid UTF-8, which callers treat as corrupt content.
    return undefined;
  }
}
