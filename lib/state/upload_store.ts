/**
 * The private folder where canvas uploads are kept once fetched: `<root>/<workspace id>/`,
 * the root being `uploads` in the state directory or MOLECULE_CHAT_UPLOAD_DIR. Folders are
 * 0700, files 0600, written under a temporary name opened create-exclusive (an existing name,
 * a symbolic link included, is never opened) and renamed into place once complete (a rename
 * replaces a link itself, never its target). A finished file is named
 * `<file id>-<sanitised name>`, so after a restart a file already fetched is found again.
 * It also lists the folder and removes single files for the retention sweep, with the same
 * rules (never through a link, only regular files of ours, only in this workspace's folder).
 * Fetching the bytes is the inbox's upload resolver's job; which files go, the inbox's
 * upload retention (inbox/upload_retention.ts).
 */
import type { Logger } from "../log.ts";
import { dirName, joinPath } from "../paths.ts";
import { checkStateFile, UnsafeStateFileError } from "./safe_file.ts";

/** The folder name under the state directory. */
export const UPLOADS_DIR_NAME = "uploads";
/** Longest stored name (the file id prefix included), in characters: fits every file system. */
const MAX_NAME_CHARS = 200;

/** A finished upload's name: `<file id>-<sanitised name>` (storedName), nothing else. */
const STORED_NAME = /^[A-Za-z0-9_-]{1,128}-[A-Za-z0-9._-]+$/;
/** The temporary name of a download in progress: `<stored name>.part-<8 hex>` (create()). */
const PARTIAL_NAME = /\.part-[0-9a-f]{8}$/;

/** One file in a workspace's uploads folder, as lstat saw it when the folder was listed. */
export interface StoredUpload {
  /** Entry name in the folder. */
  name: string;
  /** Absolute path. */
  path: string;
  sizeBytes: number;
  /** Last modification (epoch ms, the wall clock of the machine): when its fetch finished. */
  mtimeMs: number;
  /** True for the temporary file of a download (finished or not: see UploadListing). */
  isPartial: boolean;
  /** Device and inode, checked again right before a removal. */
  dev: number;
  ino: number;
}

/** The folder's files that this program could have written (see UploadStore.list). */
export interface UploadListing {
  /** Finished uploads and temporary download files, in directory order. */
  files: StoredUpload[];
  /** Entries left alone: links, folders, foreign names or owners, files that vanished. */
  skipped: number;
  /** The folder's own device and inode, checked again before each removal. */
  dirDev: number;
  dirIno: number;
  /** The folder's owner and mode as listed (null where the OS has none): doctor reports them. */
  dirUid: number | null;
  dirMode: number | null;
}

/** One upload being written: write chunks, then `finish` (or `discard` on failure). */
export interface UploadWriter {
  write(chunk: Uint8Array): Promise<void>;
  /** Closes and moves the file into place; resolves its absolute path. */
  finish(): Promise<string>;
  /** Closes and removes the partial file. Never throws. */
  discard(): Promise<void>;
}

/** The folder of one workspace's uploads, created on first use. */
export class UploadStore {
  readonly dir: string;
  #log: Logger;
  #isReady = false;

  /** `root` is the uploads root (absolute); files go to `<root>/<workspaceId>/`. */
  constructor(root: string, workspaceId: string, log: Logger) {
    this.dir = joinPath(root, workspaceId);
    this.#log = log;
  }

  /**
   * The path of the stored file for `fileId`, when it was fetched before (a regular file we
   * own, not a link); null otherwise (a planted link or foreign file is skipped with a warning).
   * The folder is checked first as create() checks it: a link or a non-folder is refused
   * (UnsafeStateFileError), never listed through, and group/other bits are removed (a chmod
   * that fails with the Deno error when the folder is someone else's), so a file found here
   * was written by us.
   */
  async find(fileId: string): Promise<string | null> {
    const folder = await this.#checkFolder({ tighten: true });
    if (folder === null) return null;
    try {
      for await (const entry of Deno.readDir(this.dir)) {
        if (!entry.name.startsWith(`${fileId}-`) || entry.name.includes(".part-")) continue;
        const path = `${this.dir}/${entry.name}`;
        try {
          const info = await checkStateFile(path, {
            log: this.#log,
            widePerms: "tighten",
            uid: folder.uid,
          });
          if (info !== null) return path;
        } catch (err) {
          if (!(err instanceof UnsafeStateFileError)) throw err;
          // A link or foreign file under our name: not ours to open. A fresh fetch replaces it
          // by rename (which swaps the entry itself, never writes through a link).
          this.#log.warn("ignoring an unsafe file in the uploads folder", {
            path,
            reason: err.reason,
          });
        }
      }
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
    return null;
  }

  /**
   * Starts writing the upload `fileId` named `name` (sanitised here). Needs --allow-read and
   * --allow-write on the folder. Throws the Deno error when the folder cannot be made safe.
   */
  async create(fileId: string, name: string): Promise<UploadWriter> {
    await this.#prepare();
    const finalName = storedName(fileId, name);
    const finalPath = `${this.dir}/${finalName}`;
    const partPath = `${this.dir}/${finalName}.part-${crypto.randomUUID().slice(0, 8)}`;
    // createNew is O_CREAT|O_EXCL: it fails on any existing entry, a link included.
    const file = await Deno.open(partPath, { write: true, createNew: true, mode: 0o600 });
    let isClosed = false;
    const close = () => {
      if (!isClosed) {
        isClosed = true;
        file.close();
      }
    };
    return {
      write: async (chunk) => {
        let done = 0;
        while (done < chunk.length) done += await file.write(chunk.subarray(done));
      },
      finish: async () => {
        await file.syncData();
        close();
        await Deno.rename(partPath, finalPath);
        return finalPath;
      },
      discard: async () => {
        close();
        await Deno.remove(partPath).catch((err) =>
          this.#log.debug("cannot remove a partial upload", { path: partPath, error: err })
        );
      },
    };
  }

  /**
   * Lists the files of this workspace's folder that this program could have written: regular
   * files (not links) owned by the folder's owner, named like a stored upload or its temporary
   * download file. Nothing else is listed, so nothing else can be removed. Resolves null when
   * the folder does not exist. Throws UnsafeStateFileError when the folder is a link or not a
   * folder (never followed), or the Deno error when it cannot be read. Needs --allow-read.
   * `signal`: once it aborts the listing stops early and is incomplete (act on none of it).
   */
  async list(opts: { signal?: AbortSignal } = {}): Promise<UploadListing | null> {
    const dirInfo = await this.#checkFolder({ tighten: false });
    if (dirInfo === null) return null;
    const listing: UploadListing = {
      files: [],
      skipped: 0,
      dirDev: dirInfo.dev,
      dirIno: dirInfo.ino ?? 0,
      dirUid: dirInfo.uid,
      dirMode: dirInfo.mode,
    };
    for await (const entry of Deno.readDir(this.dir)) {
      if (opts.signal?.aborted) break;
      const isPartial = PARTIAL_NAME.test(entry.name);
      if (!STORED_NAME.test(entry.name) || !entry.isFile) {
        listing.skipped++;
        continue;
      }
      const path = `${this.dir}/${entry.name}`;
      let info: Deno.FileInfo;
      try {
        info = await Deno.lstat(path);
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
        listing.skipped++; // removed meanwhile (a fetch's temporary file renamed into place)
        continue;
      }
      const isOurs = dirInfo.uid === null || info.uid === dirInfo.uid;
      if (!info.isFile || info.isSymlink || !isOurs) {
        listing.skipped++;
        continue;
      }
      listing.files.push({
        name: entry.name,
        path,
        sizeBytes: info.size,
        mtimeMs: info.mtime?.getTime() ?? 0,
        isPartial,
        dev: info.dev,
        ino: info.ino ?? 0,
      });
    }
    return listing;
  }

  /**
   * Removes `file` (an entry of `listing`) when it is still the very file listed: the folder
   * and the entry are lstat-ed again and must show the same device and inode (the entry also
   * the same size and time), so a file replaced since the listing (a fresh fetch renamed over
   * it, a link planted) is left alone. Removing unlinks the name itself, never a link's target.
   * Resolves false when it was left alone or is gone already. Needs --allow-write.
   */
  async remove(listing: UploadListing, file: StoredUpload): Promise<boolean> {
    try {
      const dir = await Deno.lstat(this.dir);
      if (dir.isSymlink || dir.dev !== listing.dirDev || (dir.ino ?? 0) !== listing.dirIno) {
        return false;
      }
      const now = await Deno.lstat(file.path);
      const isSame = now.isFile && !now.isSymlink && now.dev === file.dev &&
        (now.ino ?? 0) === file.ino && now.size === file.sizeBytes &&
        (now.mtime?.getTime() ?? 0) === file.mtimeMs;
      if (!isSame) return false;
      await Deno.remove(file.path);
      return true;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return false;
      throw err;
    }
  }

  /**
   * Makes `<root>` (created 0700 when missing; an operator may point MOLECULE_CHAT_UPLOAD_DIR
   * at a link to a folder) and `<root>/<workspace>`: a plain folder, not a link, 0700.
   */
  async #prepare(): Promise<void> {
    if (this.#isReady) return;
    const root = dirName(this.dir);
    await Deno.mkdir(root, { recursive: true, mode: 0o700 });
    if (!(await Deno.stat(root)).isDirectory) {
      throw new UnsafeStateFileError(root, "not-regular", "is not a folder");
    }
    await Deno.mkdir(this.dir, { recursive: true, mode: 0o700 });
    if (await this.#checkFolder({ tighten: true }) === null) {
      throw new Deno.errors.NotFound(`${this.dir} is gone right after it was made`);
    }
    this.#isReady = true;
  }

  /**
   * The workspace folder's lstat (never followed), or null when it does not exist. Throws
   * UnsafeStateFileError when it is a link or not a folder. With `tighten`, group/other bits
   * are removed (chmod 0700: the Deno error when the folder is someone else's); without, the
   * folder is only looked at (the sweep, doctor).
   */
  async #checkFolder(opts: { tighten: boolean }): Promise<Deno.FileInfo | null> {
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(this.dir);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
    if (info.isSymlink || !info.isDirectory) {
      throw new UnsafeStateFileError(
        this.dir,
        info.isSymlink ? "symlink" : "not-regular",
        "is not a plain folder",
      );
    }
    if (opts.tighten && info.mode !== null && (info.mode & 0o077) !== 0) {
      await Deno.chmod(this.dir, 0o700);
    }
    return info;
  }
}

/**
 * `<fileId>-<name>` with the name reduced to letters, digits, `.`, `_` and `-` (anything else
 * becomes `_`), no leading dots, at most MAX_NAME_CHARS in all; "file" when nothing is left.
 */
export function storedName(fileId: string, name: string): string {
  const base = name.split(/[\\/]/).pop() ?? "";
  let safe = base.normalize("NFKC").replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "");
  safe = safe.replace(/_+/g, "_");
  if (safe === "" || safe === "_") safe = "file";
  const room = MAX_NAME_CHARS - fileId.length - 1;
  if (safe.length > room) {
    const dot = safe.lastIndexOf(".");
    const ext = dot > 0 && safe.length - dot <= 16 ? safe.slice(dot) : "";
    safe = safe.slice(0, room - ext.length) + ext;
  }
  return `${fileId}-${safe}`;
}
