/**
 * Our files inside the state directory: their names (shared ones, and per-workspace ones keyed
 * by the workspace id), and small helpers to read the optional `.auth_token` and to read and
 * save the inbound secret. Every read goes through state/safe_file.ts. Unreadable or corrupt state
 * is logged and treated as absent, never fatal. The inbox journal and cursor files belong to
 * the inbox's own store; state/state_dir.ts decides which directory is used.
 */
import { joinPath } from "../paths.ts";
import { atomicWriteFile } from "./atomic_write.ts";
import type { Logger } from "../log.ts";
import { readStateFile, SECRET_FILE_MAX_BYTES, UnsafeStateFileError } from "./safe_file.ts";

/** Names of the state files shared by every workspace, relative to the state directory. */
export const STATE_FILES = {
  /** Optional token source written by in-container runtimes; we only read it. */
  authToken: ".auth_token",
} as const;

/**
 * Base names of the state files that belong to one workspace. The full name is
 * `<base>.<workspace id>` (workspaceStatePath), so one state directory holds several
 * workspaces side by side, and `ls -a` shows which file is whose. A suffix rather than a
 * folder per workspace: every file stays in the one directory whose owner and mode start-up
 * checks (state/state_dir.ts), there is no second directory to create, check or leave behind,
 * and set-aside copies sit beside the file they came from.
 */
export const WORKSPACE_STATE_FILES = {
  /** The durable inbox journal (lib/inbox/journal.ts), 0600. */
  journal: ".mcp_inbox_journal",
  /** Where inbox polling resumes (lib/inbox/cursor.ts), 0600. */
  cursor: ".mcp_inbox_cursor",
  /** One process per workspace inbox (lib/inbox/lock.ts), 0600. */
  lock: ".mcp_inbox.lock",
  /** Secret for platform → workspace calls, persisted from heartbeat answers, 0600. */
  inboundSecret: ".platform_inbound_secret",
  /**
   * The token `molecule-mcp install` saves (0600) when it came inline: the host entry names it
   * in MOLECULE_WORKSPACE_TOKEN_FILE, so no token sits in a host's config file.
   */
  installedToken: ".mcp_workspace_token",
} as const;

/** Full path of one shared state file in `dir`. */
export function stateFilePath(dir: string, name: keyof typeof STATE_FILES): string {
  return joinPath(dir, STATE_FILES[name]);
}

/**
 * Full path of one workspace's state file in `dir`: `<dir>/<base>.<workspaceId>`. The id is
 * the validated lowercase UUID from lib/config.ts, so it is safe in a file name.
 */
export function workspaceStatePath(
  dir: string,
  name: keyof typeof WORKSPACE_STATE_FILES,
  workspaceId: string,
): string {
  return joinPath(dir, `${WORKSPACE_STATE_FILES[name]}.${workspaceId}`);
}

/**
 * Reads `<dir>/.auth_token` as raw bytes through state/safe_file.ts (no link, a regular file
 * we own, at most SECRET_FILE_MAX_BYTES; readable by others → a warning), or undefined when it
 * does not exist. Throws UnsafeStateFileError for a file that must not be used (the caller
 * makes it a start-up problem); any other read failure is logged as a warning and treated as
 * absent. Validation of the content is left to state/token.ts. Needs --allow-read on `dir`.
 */
export async function readAuthToken(
  dir: string,
  log: Logger,
  uid?: number | null,
): Promise<Uint8Array | undefined> {
  const path = stateFilePath(dir, "authToken");
  try {
    const bytes = await readStateFile(path, {
      log,
      widePerms: "warn",
      maxBytes: SECRET_FILE_MAX_BYTES,
      ...(uid === undefined ? {} : { uid }),
    });
    return bytes ?? undefined;
  } catch (err) {
    if (err instanceof UnsafeStateFileError) throw err;
    log.warn("cannot read the token file, ignoring it", { path, error: err });
    return undefined;
  }
}

/**
 * Reads the persisted inbound secret at `path` through state/safe_file.ts, or undefined when
 * absent. A missing file is normal; an unsafe, unreadable, non-UTF-8 or empty file is logged
 * as a warning and treated as absent (the next heartbeat rewrites it). Needs --allow-read.
 */
export async function readInboundSecret(
  path: string,
  log: Logger,
): Promise<string | undefined> {
  let bytes: Uint8Array | null;
  try {
    bytes = await readStateFile(path, {
      log,
      widePerms: "tighten",
      maxBytes: SECRET_FILE_MAX_BYTES,
    });
  } catch (err) {
    log.warn("cannot read the inbound secret file, ignoring it", {
      path,
      error: err,
      ...(err instanceof UnsafeStateFileError ? { next: err.next } : {}),
    });
    return undefined;
  }
  if (bytes === null) return undefined;
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
 * Saves the inbound secret to `path` atomically with mode 0600, but only when the stored
 * secret differs (or the file is not a private regular file of ours), so a heartbeat every
 * 20 s does not rewrite the same bytes. Returns whether it wrote. An empty secret is never
 * written (returns false). Throws the Deno error when the write fails; the caller logs it and
 * retries on the next heartbeat. Needs --allow-read and --allow-write on the directory.
 */
export async function saveInboundSecret(
  path: string,
  secret: string,
  log: Logger,
): Promise<boolean> {
  if (secret === "") return false;
  if (await holdsPrivately(path, secret, log)) return false;
  // A rename replaces whatever the name held (a link, a FIFO) without writing through it.
  await atomicWriteFile(path, secret);
  return true;
}

/** True when `path` is a safe state file (tightened if needed) holding exactly `content`. */
async function holdsPrivately(path: string, content: string, log: Logger): Promise<boolean> {
  try {
    const bytes = await readStateFile(path, {
      log,
      widePerms: "tighten",
      maxBytes: SECRET_FILE_MAX_BYTES,
    });
    return bytes !== null && decodeUtf8(bytes) === content;
  } catch (err) {
    // Unsafe, too big or unreadable: either way the atomic write replaces it.
    if (
      err instanceof UnsafeStateFileError || err instanceof Deno.errors.NotFound ||
      err instanceof Deno.errors.PermissionDenied
    ) {
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
