/**
 * The inbox cursor file (`.mcp_inbox_cursor`): the last activity row the poller has moved past,
 * so a restart resumes with `since_id` instead of replaying the backlog window.
 *
 * Format: JSON `{"workspace_id":"<uuid>","id":"<uuid>","created_at":"<RFC 3339>"}`, written
 * atomically with mode 0600 (upstream used default permissions, see upstream-features §5), in
 * the workspace's own file `.mcp_inbox_cursor.<workspace id>`. A cursor naming another
 * workspace, or none, is never used: it is set aside (`.foreign-<time>` / `.unverified-<time>`)
 * with a warning. The parser also understands upstream's legacy file, which holds only the
 * plain row id (`created_at` and `workspace_id` then `null`); whether such a file may be
 * adopted is lib/inbox/legacy_state.ts's business.
 *
 * A cursor is only ever a hint: a missing file is the normal first start, and a corrupt or
 * unreadable one is logged and treated as absent, which makes the poller fall back to the
 * backlog window while the durable inbox's dedupe absorbs any rows seen before. The id must be a
 * UUID, because the platform answers a non-UUID `since_id` with 500 on every poll
 * (platform-contract §5) while a missing cursor recovers by itself.
 *
 * This module owns the file format only; when to move the cursor is the poller's business and
 * the ordering against the journal is the durable inbox's (lib/inbox/inbox.ts).
 */
import { atomicWriteFile } from "../state/atomic_write.ts";
import type { Clock } from "../clock.ts";
import {
  CURSOR_FILE_MAX_BYTES,
  readStateFile,
  setAsideStateFile,
  UnsafeStateFileError,
} from "../state/safe_file.ts";
import { decodeUtf8 } from "../state/state_files.ts";
import { parseUuid } from "../uuid.ts";
import type { Logger } from "../log.ts";

/** Where the poller resumes: the activity row id and, when known, its created_at. */
export interface InboxCursor {
  /** Activity row id, a lowercase UUID. */
  id: string;
  /** The row's created_at as the platform sent it; null for a legacy plain-id file. */
  created_at: string | null;
}

/** A cursor as stored: the position plus the workspace it was written for (null: unknown). */
export interface StoredCursor extends InboxCursor {
  /** Lowercase UUID of the workspace, or null for a file that does not say (older versions). */
  workspace_id: string | null;
}

/** Base name of the cursor file (upstream's name); ours is keyed: `<base>.<workspace id>`. */
export const CURSOR_FILE_NAME = ".mcp_inbox_cursor";

/**
 * Parses a cursor file's text: the JSON object, or upstream's legacy plain id. Returns null when
 * the text is neither (an id that is not a UUID counts as corrupt; so does a workspace_id that
 * is present but not a UUID).
 */
export function parseCursor(text: string): StoredCursor | null {
  const trimmed = text.trim();
  const plain = parseUuid(trimmed);
  if (plain !== null) return { id: plain, created_at: null, workspace_id: null };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (err) {
    if (err instanceof SyntaxError) return null;
    throw err;
  }
  if (typeof value !== "object" || value === null) return null;
  const id: unknown = Reflect.get(value, "id");
  const createdAt: unknown = Reflect.get(value, "created_at");
  const rawWorkspace: unknown = Reflect.get(value, "workspace_id");
  const cursorId = parseUuid(id);
  if (cursorId === null) return null;
  const workspaceId = rawWorkspace === undefined || rawWorkspace === null
    ? null
    : parseUuid(rawWorkspace);
  if (workspaceId === null && rawWorkspace !== undefined && rawWorkspace !== null) return null;
  if (createdAt === null || createdAt === undefined) {
    return { id: cursorId, created_at: null, workspace_id: workspaceId };
  }
  if (typeof createdAt !== "string" || Number.isNaN(Date.parse(createdAt))) return null;
  return { id: cursorId, created_at: createdAt, workspace_id: workspaceId };
}

/**
 * Reads this workspace's cursor at `path` (see readStoredCursor for the safety rules). A file
 * written for another workspace, or one that does not say which (older versions), is set
 * aside with a warning naming it and the new name, and null is returned: the poller then
 * reads the recent backlog and dedupe absorbs what was seen. Never throws.
 */
export async function readCursorFile(
  path: string,
  opts: { log: Logger; workspaceId: string; clock: Clock; uid?: number | null },
): Promise<InboxCursor | null> {
  const stored = await readStoredCursor(path, opts);
  if (stored === null) return null;
  if (stored.workspace_id === opts.workspaceId) {
    return { id: stored.id, created_at: stored.created_at };
  }
  const isForeign = stored.workspace_id !== null;
  const aside = await setAsideStateFile(
    path,
    isForeign ? "foreign" : "unverified",
    opts.clock.wallNow(),
  );
  opts.log.warn(
    isForeign
      ? "the inbox cursor file belongs to another workspace; set it aside, not used"
      : "the inbox cursor file does not say which workspace it belongs to; set it aside, not used",
    {
      path,
      ...(isForeign ? { cursorWorkspace: stored.workspace_id } : {}),
      workspace: opts.workspaceId,
      setAside: aside instanceof Error ? `failed (${aside.message})` : aside,
      next: "nothing to do: the recent backlog is read again and duplicates are filtered",
    },
  );
  return null;
}

/**
 * Reads a cursor file through state/safe_file.ts (no link, regular file we own, at most
 * CURSOR_FILE_MAX_BYTES), whoever it was written for. Missing → null, quietly. Unsafe, corrupt
 * or unreadable → null plus a warning naming the file and the consequence; the next write
 * replaces it by rename. Never throws. Needs --allow-read.
 */
export async function readStoredCursor(
  path: string,
  opts: { log: Logger; uid?: number | null },
): Promise<StoredCursor | null> {
  const { log } = opts;
  let text: string | undefined;
  try {
    const bytes = await readStateFile(path, {
      log,
      widePerms: "tighten",
      maxBytes: CURSOR_FILE_MAX_BYTES,
      ...(opts.uid === undefined ? {} : { uid: opts.uid }),
    });
    if (bytes === null) return null;
    text = decodeUtf8(bytes);
  } catch (err) {
    const isUnsafe = err instanceof UnsafeStateFileError;
    log.warn(
      isUnsafe
        ? "refusing the inbox cursor file; fetching the recent backlog instead"
        : "cannot read the inbox cursor; fetching the recent backlog instead",
      {
        path,
        error: err instanceof Error ? err : String(err),
        next: isUnsafe
          ? err.next
          : "check the file's owner and permissions; it is rewritten after the next poll",
      },
    );
    return null;
  }
  const cursor = text === undefined ? null : parseCursor(text);
  if (cursor === null) {
    log.warn("inbox cursor file is corrupt; fetching the recent backlog instead", {
      path,
      next: "nothing to do: duplicates are filtered and the file is rewritten after the next poll",
    });
  }
  return cursor;
}

/**
 * Writes `cursor` for `workspaceId` to `path` atomically, mode 0600. Throws the Deno error on
 * failure.
 */
export async function writeCursorFile(
  path: string,
  cursor: InboxCursor,
  workspaceId: string,
): Promise<void> {
  await atomicWriteFile(
    path,
    JSON.stringify({ workspace_id: workspaceId, id: cursor.id, created_at: cursor.created_at }) +
      "\n",
  );
}

/** Removes the cursor file; a file that is already gone is fine. Throws other Deno errors. */
export async function removeCursorFile(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}
