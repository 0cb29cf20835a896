/**
 * doctor's check of one workspace's fetched canvas uploads folder (state/upload_store.ts),
 * without any request: where the folder is (the state directory's `uploads/` or
 * MOLECULE_CHAT_UPLOAD_DIR), that it is a plain folder (not a link), ours and private, and
 * what it holds against the retention (inbox/upload_retention.ts): the finished uploads' count
 * and size against MOLECULE_CHAT_UPLOAD_MAX_MB, and how many are older than
 * MOLECULE_CHAT_UPLOAD_RETENTION_DAYS. It only reads: nothing is created, tightened or removed.
 * A folder that does not exist yet is fine (the first fetch creates it); any problem is a
 * warning, never a failure: uploads are one feature, messages still arrive without them.
 */
import { isExpired, retentionPolicy } from "../inbox/upload_retention.ts";
import { createLogger } from "../log.ts";
import { joinPath } from "../paths.ts";
import { UnsafeStateFileError } from "../state/safe_file.ts";
import { type UploadListing, UploadStore } from "../state/upload_store.ts";
import { type CheckResult, octal } from "./doctor_result.ts";

const MIB = 1024 * 1024;

/** Where one workspace's uploads go and what the retention keeps (from the configuration). */
export interface DoctorUploads {
  /** The uploads root (absolute): MOLECULE_CHAT_UPLOAD_DIR, or `<state dir>/uploads`. */
  root: string;
  /** True when the root comes from MOLECULE_CHAT_UPLOAD_DIR. */
  isRootFromEnv: boolean;
  /** MOLECULE_CHAT_UPLOAD_RETENTION_DAYS (0: no age limit). */
  retentionDays: number;
  /** MOLECULE_CHAT_UPLOAD_MAX_MB in bytes (0: no size cap). */
  maxBytes: number;
}

/**
 * The verdict on `<root>/<workspace id>` at wall time `nowMs` (epoch ms: file times are wall
 * times). `ownerUid` is the user id the folder must belong to (doctor passes the state
 * directory's owner, the one checked to be ours; null skips the check). OK when it is missing,
 * or a private plain folder of ours within the cap; WARN when it is a link, not a folder,
 * someone else's, open to other users, over the cap, or cannot be read. Needs --allow-read.
 */
export async function checkUploads(
  workspaceId: string,
  uploads: DoctorUploads,
  opts: { nowMs: number; ownerUid: number | null },
): Promise<Omit<CheckResult, "label">> {
  const dir = joinPath(uploads.root, workspaceId);
  const where = `${dir} (${
    uploads.isRootFromEnv ? "from MOLECULE_CHAT_UPLOAD_DIR" : "in the state directory"
  })`;
  const policy = describePolicy(uploads);
  // One look at the folder: the store's listing lstat-s it (never followed) and reports its
  // owner and mode with the files.
  let listing: UploadListing | null;
  try {
    const quiet = createLogger({ write: () => {}, level: "error" });
    listing = await new UploadStore(uploads.root, workspaceId, quiet).list();
  } catch (err) {
    if (err instanceof UnsafeStateFileError) {
      const what = err.reason === "symlink" ? "a symbolic link" : "not a folder";
      return {
        status: "warn",
        message: `${where}: is ${what}; the server refuses to fetch into it, so attached files ` +
          "arrive as a reason instead of a path",
        next: `remove ${dir} (the server creates a private folder there)` +
          (uploads.isRootFromEnv ? " or point MOLECULE_CHAT_UPLOAD_DIR elsewhere" : ""),
      };
    }
    return unreadable(where, err);
  }
  if (listing === null) {
    return {
      status: "ok",
      message: `${where}: none fetched yet (the folder is created, private, with the first ` +
        `file a canvas user attaches); ${policy}`,
    };
  }
  const warnings: string[] = [];
  const { dirUid, dirMode } = listing;
  if (opts.ownerUid !== null && dirUid !== null && dirUid !== opts.ownerUid) {
    warnings.push(
      `the folder is owned by user id ${dirUid}, not by you (${opts.ownerUid}): the sweep ` +
        "never removes its files",
    );
  }
  if (dirMode !== null && (dirMode & 0o077) !== 0) {
    warnings.push(
      `the folder is open to other users (mode ${octal(dirMode)}): run chmod 700 ${dir}`,
    );
  }
  const finished = listing.files.filter((f) => !f.isPartial);
  const partial = listing.files.filter((f) => f.isPartial);
  let totalBytes = 0;
  for (const file of finished) totalBytes += file.sizeBytes;
  const retention = retentionPolicy(uploads.retentionDays, uploads.maxBytes);
  const expired = finished.filter((f) => isExpired(f, opts.nowMs, retention)).length;
  const details = [
    ...(expired === 0 ? [] : [
      `${expired} file(s) older than ${uploads.retentionDays} day(s): the next sweep removes ` +
      "those no queued message mentions",
    ]),
    ...(partial.length === 0 ? [] : [
      `${partial.length} temporary download file(s) (a fetch in progress, or a crashed one's ` +
      "leftover, removed once a day old)",
    ]),
    ...(listing.skipped === 0 ? [] : [
      `${listing.skipped} other entr(ies) left alone (links, folders, other names or owners)`,
    ]),
  ];
  const cap = uploads.maxBytes > 0 ? ` of the ${mib(uploads.maxBytes)} cap` : "";
  const held = `${finished.length} file(s), ${mib(totalBytes)}${cap}; ${policy}`;
  const isOverCap = uploads.maxBytes > 0 && totalBytes > uploads.maxBytes;
  if (isOverCap) {
    warnings.push(
      `over the cap by ${mib(totalBytes - uploads.maxBytes)}: a running server's sweep (hourly) ` +
        "removes the oldest files no queued message mentions",
    );
  }
  if (warnings.length === 0) {
    return {
      status: "ok",
      message: `${where}: private folder, ${held}`,
      ...(details.length === 0 ? {} : { details }),
    };
  }
  return {
    status: "warn",
    message: `${where}: ${held}`,
    details: [...warnings, ...details],
    next: isOverCap
      ? "files a queued message mentions are kept: pop answered messages (inbox_pop), or " +
        "raise MOLECULE_CHAT_UPLOAD_MAX_MB; fix the folder's owner and permissions if listed"
      : "fix the folder's owner and permissions: other users could read the files canvas " +
        "users attach",
  };
}

function unreadable(where: string, err: unknown): Omit<CheckResult, "label"> {
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return {
    status: "warn",
    message: `${where}: cannot be read (${what}); its size is unknown and the sweep fails`,
    next: "check the folder's owner and permissions (it must be a private folder you own)",
  };
}

function describePolicy(uploads: DoctorUploads): string {
  if (uploads.retentionDays === 0 && uploads.maxBytes === 0) {
    return "kept forever (MOLECULE_CHAT_UPLOAD_RETENTION_DAYS and _MAX_MB are both 0)";
  }
  const age = uploads.retentionDays === 0
    ? "no age limit"
    : `kept ${uploads.retentionDays} day(s) once no queued message mentions them`;
  const size = uploads.maxBytes === 0 ? "no size cap" : `cap ${mib(uploads.maxBytes)}`;
  return `${age}, ${size}`;
}

/** Bytes as MiB for people: whole MiB when exact, else one decimal. */
function mib(bytes: number): string {
  const value = bytes / MIB;
  return `${Number.isInteger(value) ? value : value.toFixed(1)} MiB`;
}
