/**
 * Chooses the directory for our state files, in upstream's order (c636022d): CONFIGS_DIR if
 * set (created), `/configs` if it exists and is writable (the in-container default), else
 * `$HOME/.molecule-workspace` (created 0700). Beyond upstream, every tier must be ours: a
 * directory owned by another user, or one that others can write (group/other write bits,
 * 0777 and 1777 included), could be filled with forged messages or links by that user, so
 * CONFIGS_DIR failing this is a problem (exit 2) naming the directory and the fix, `/configs`
 * failing it is skipped with a notice, and the home fallback is refused (another owner) or
 * tightened to 0700 with a notice (wider modes; it is ours by construction). Failures are
 * returned as a problem for main.ts (exit 2), never thrown.
 * Which files live there is state/state_files.ts's business.
 */
import { isAbsolutePath, joinPath } from "../paths.ts";
import type { Logger } from "../log.ts";

/** Name of the fallback directory under $HOME. */
export const HOME_STATE_DIR_NAME = ".molecule-workspace";
/** Where in-container runtimes mount their configs. */
export const CONTAINER_CONFIGS_DIR = "/configs";

/** Which rule chose the directory. */
export type StateDirSource = "CONFIGS_DIR" | "/configs" | "HOME";

/** The outcome of resolveStateDir. */
export type StateDirResult =
  | { ok: true; dir: string; source: StateDirSource }
  | { ok: false; problem: string };

/** Inputs of resolveStateDir. */
export interface StateDirOptions {
  /** CONFIGS_DIR as read from the environment. */
  configsDir: string | undefined;
  /** HOME as read from the environment. */
  home: string | undefined;
  log: Logger;
  /** The in-container directory to try second; tests point it elsewhere. */
  containerDir?: string;
  /**
   * Our user id, to refuse a fallback dir owned by someone else. Default: the owner of a probe
   * file we create in the dir, which needs no --allow-sys (Deno.uid() would).
   */
  uid?: number;
}

/**
 * Resolves (and creates when needed) the state directory. Really writes and removes a probe
 * file to prove the directory is writable. Needs --allow-read and --allow-write on the dirs.
 * Synchronous on purpose: it runs before initialize is answered, a handful of calls on a
 * local directory, and Deno's synchronous file calls map fewer of the runtime's pages than
 * its async ones (peak RSS at the reply 0.25 MiB lower in make bench 2).
 */
export function resolveStateDir(opts: StateDirOptions): StateDirResult {
  const configsDir = (opts.configsDir ?? "").trim();
  if (configsDir !== "") return useConfigsDir(configsDir, opts.uid);

  const containerDir = opts.containerDir ?? CONTAINER_CONFIGS_DIR;
  if (isUsableContainerDir(containerDir, opts)) {
    return { ok: true, dir: containerDir, source: "/configs" };
  }

  const home = (opts.home ?? "").trim();
  if (home === "" || !isAbsolutePath(home)) {
    return {
      ok: false,
      problem:
        `Cannot choose a state directory: HOME is ${
          home === "" ? "not set" : `not an absolute path (${JSON.stringify(home)})`
        }, CONFIGS_DIR is not set and ${containerDir} is not writable: set CONFIGS_DIR to a ` +
        "directory you own",
    };
  }
  return useHomeDir(joinPath(home, HOME_STATE_DIR_NAME), opts);
}

function useConfigsDir(dir: string, uid: number | undefined): StateDirResult {
  const fail = (why: string, next?: string): StateDirResult => ({
    ok: false,
    problem: `CONFIGS_DIR ${JSON.stringify(dir)} ${why}: ` +
      (next ?? "set CONFIGS_DIR to a directory you own, or unset it to use ~/.molecule-workspace"),
  });
  if (!isAbsolutePath(dir)) return fail("is not an absolute path");
  const created = ensureDir(dir, { recursive: true });
  if (typeof created === "string") return fail(created);
  const probe = probeWrite(dir);
  if (typeof probe === "string") return fail(`is not writable (${probe})`);
  const unsafe = unsafeDirReason(created.stat, uid ?? probe.uid);
  if (unsafe !== undefined) return fail(unsafe.why, unsafe.next(dir));
  return { ok: true, dir, source: "CONFIGS_DIR" };
}

/**
 * Why a directory may not hold our state: owned by another user, or writable by others
 * (they could plant a forged journal or a link). Undefined when it is fine. `uid` is ours
 * (null on systems without uids).
 */
function unsafeDirReason(
  stat: Deno.FileInfo,
  uid: number | null,
): { why: string; next: (dir: string) => string } | undefined {
  if (uid !== null && stat.uid !== null && stat.uid !== uid) {
    return {
      why: `is owned by user id ${stat.uid}, not by you (${uid})`,
      next: (dir) =>
        `another user could read or replace our state; chown it to yourself (chown -R ` +
        `$(id -u) ${dir}) or set CONFIGS_DIR to a directory you own`,
    };
  }
  if (stat.mode !== null && (stat.mode & 0o022) !== 0) {
    return {
      why: `is writable by other users (mode ${(stat.mode & 0o7777).toString(8).padStart(4, "0")})`,
      next: (dir) =>
        `another user could plant forged messages or links in it; run chmod 700 ${dir}, or ` +
        "set CONFIGS_DIR to a directory only you can write",
    };
  }
  return undefined;
}

function useHomeDir(dir: string, opts: StateDirOptions): StateDirResult {
  const fail = (why: string, next: string): StateDirResult => ({
    ok: false,
    problem: `State directory ${dir} ${why}: ${next}`,
  });
  // Not recursive: a HOME that does not exist is a mistake to report, not a tree to create.
  const created = ensureDir(dir, { recursive: false });
  if (typeof created === "string") {
    return fail(created, "fix it, or set CONFIGS_DIR to a directory you own");
  }
  const stat = created.stat;
  if (opts.uid !== undefined && stat.uid !== null && stat.uid !== opts.uid) {
    return fail(`is owned by user id ${stat.uid}, not by you (${opts.uid})`, ownerNext(dir));
  }
  const probe = probeWrite(dir);
  if (typeof probe === "string") {
    return fail(`is not writable (${probe})`, "fix its permissions, or set CONFIGS_DIR");
  }
  if (stat.uid !== null && probe.uid !== null && stat.uid !== probe.uid) {
    return fail(`is owned by user id ${stat.uid}, not by you (${probe.uid})`, ownerNext(dir));
  }
  if (stat.mode !== null && (stat.mode & 0o077) !== 0 && !created.isNew) {
    Deno.chmodSync(dir, 0o700);
    opts.log.warn("tightened the state directory to mode 0700: it was readable by others", {
      dir,
      was: (stat.mode & 0o777).toString(8).padStart(4, "0"),
    });
  }
  return { ok: true, dir, source: "HOME" };
}

function ownerNext(dir: string): string {
  return `another user could read or replace our state; remove it (rm -r ${dir}) or chown it ` +
    "to yourself, or set CONFIGS_DIR to a directory you own";
}

/**
 * Makes sure `dir` is a directory, creating it 0700 (with its parents if `recursive`) when missing. Returns
 * whether it was created and its stat (callers check owner and mode on it, no second stat),
 * or a short reason when it cannot be used.
 */
function ensureDir(
  dir: string,
  opts: { recursive: boolean },
): { isNew: boolean; stat: Deno.FileInfo } | string {
  try {
    const stat = Deno.statSync(dir);
    return stat.isDirectory ? { isNew: false, stat } : "exists but is not a directory";
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) return `cannot be inspected (${reason(err)})`;
  }
  try {
    Deno.mkdirSync(dir, { recursive: opts.recursive, mode: 0o700 });
    // The umask can only narrow the mode; chmod makes it exactly 0700 on systems with modes.
    if (Deno.build.os !== "windows") Deno.chmodSync(dir, 0o700);
    return { isNew: true, stat: Deno.statSync(dir) };
  } catch (err) {
    return `cannot be created (${reason(err)})`;
  }
}

/**
 * True when `dir` is an existing directory we can create files in, that we own and others
 * cannot write. A writable one that fails the ownership rules is skipped with a notice.
 */
function isUsableContainerDir(dir: string, opts: StateDirOptions): boolean {
  const log = opts.log;
  let stat: Deno.FileInfo;
  try {
    stat = Deno.statSync(dir);
    if (!stat.isDirectory) return false;
  } catch (err) {
    log.debug("not using the container configs dir", { dir, error: err });
    return false;
  }
  const probe = probeWrite(dir);
  if (typeof probe === "string") {
    log.debug("not using the container configs dir: not writable", { dir, error: probe });
    return false;
  }
  const unsafe = unsafeDirReason(stat, opts.uid ?? probe.uid);
  if (unsafe !== undefined) {
    log.warn(`not using ${dir} for state: it ${unsafe.why}`, {
      dir,
      next: unsafe.next(dir),
    });
    return false;
  }
  return true;
}

/**
 * Creates and removes a probe file in `dir`: the only honest writability test (access bits
 * lie for root, read-only mounts and ACLs). Returns the probe's owner uid (our own uid, null
 * where the OS has none), or a short reason when the dir is not writable.
 */
function probeWrite(dir: string): { uid: number | null } | string {
  const path = joinPath(dir, `.molecule-mcp-probe-${crypto.randomUUID().slice(0, 8)}`);
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { write: true, createNew: true, mode: 0o600 });
  } catch (err) {
    return reason(err);
  }
  try {
    return { uid: file.statSync().uid };
  } finally {
    file.close();
    Deno.removeSync(path);
  }
}

/** A short reason for a file-system error, for a problem line. */
function reason(err: unknown): string {
  if (err instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (err instanceof Deno.errors.NotADirectory) return "a parent is not a directory";
  if (err instanceof Error) return err.message;
  return String(err);
}
