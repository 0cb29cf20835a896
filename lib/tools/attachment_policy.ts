/**
 * Which local files send_message_to_user may upload. An agent can be prompt-injected by any
 * inbound message, so attachments are an exfiltration path (issue 10 item 10). The rules, all
 * applied to the path after every link is resolved (a link inside an allowed directory that
 * leads outside is judged by where it leads):
 * 1. never this program's own state: the state directory (token, inbound secret, journal,
 *    cursor, lock), except a folder named `uploads` inside it (files stored from canvas
 *    uploads may be sent on), nor the token file named by MOLECULE_WORKSPACE_TOKEN_FILE, nor
 *    a hard link to one of those files anywhere (refuseHardLink, on the opened file's inode);
 * 2. no well-known secret location (~/.ssh, ~/.aws, ~/.gnupg, ~/.config/gh, /etc/shadow,
 *    /proc, …) unless the operator named a directory at or inside it in
 *    MOLECULE_MCP_ATTACH_ALLOW; no file named like a secret (.env, .env.local, id_rsa, *.p12)
 *    anywhere (dotenv templates such as .env.example are fine);
 * 3. when MOLECULE_MCP_ATTACH_ALLOW is set, only files inside one of its directories.
 * Reading the file (open once, bounded) is attachment_reader.ts's job.
 */
import { baseName, joinPath } from "../paths.ts";

/** What the rules need to know; main.ts builds it from the configuration. */
export interface AttachPolicy {
  /** The state directory (absolute). */
  stateDir: string;
  /** HOME, when set: the well-known secret locations below it are refused. */
  home?: string | undefined;
  /** MOLECULE_MCP_ATTACH_ALLOW's directories (absolute); undefined when it is unset. */
  allowDirs?: readonly string[] | undefined;
  /** Other files holding our secrets (the MOLECULE_WORKSPACE_TOKEN_FILE path). */
  secretFiles?: readonly string[];
}

/** Resolves every link of a path (Deno.realPath); rejects like it when the path is missing. */
export type RealPath = (path: string) => Promise<string>;

/**
 * Secret locations under HOME, from the tools' documented defaults: OpenSSH, AWS CLI, GnuPG,
 * GitHub CLI, gcloud, Azure CLI, kubectl, Docker, git credential store, netrc, npm, PyPI,
 * pass, GNOME keyring, 1Password CLI, Vault, PostgreSQL, Terraform, and upstream's state dir;
 * and the MCP hosts' own credentials and server configs (Claude Code, Codex, Gemini CLI,
 * Cursor): the host that runs this server keeps its login there, and an older entry for this
 * server may hold the workspace token in plain text (attachments are sent as bytes, so the
 * redaction step never sees them).
 */
const HOME_SECRET_PATHS: readonly string[] = [
  ".ssh",
  ".aws",
  ".gnupg",
  ".config/gh",
  ".config/gcloud",
  ".azure",
  ".kube",
  ".docker",
  ".git-credentials",
  ".netrc",
  ".npmrc",
  ".pypirc",
  ".password-store",
  ".local/share/keyrings",
  ".config/op",
  ".vault-token",
  ".pgpass",
  ".terraform.d",
  ".molecule-workspace",
  ".claude.json",
  ".claude/.credentials.json",
  ".codex/auth.json",
  ".codex/config.toml",
  ".gemini/oauth_creds.json",
  ".gemini/settings.json",
  ".cursor/mcp.json",
];

/**
 * System-wide secret locations: password and sudo databases, host keys and TLS private keys,
 * container and Kubernetes secrets, and the kernel's views (/proc/self/environ holds this
 * process's environment, token included).
 */
const SYSTEM_SECRET_PATHS: readonly string[] = [
  "/etc/shadow",
  "/etc/gshadow",
  "/etc/sudoers",
  "/etc/sudoers.d",
  "/etc/ssh",
  "/etc/ssl/private",
  "/run/secrets",
  "/var/run/secrets",
  "/proc",
  "/sys",
  "/dev",
];

/** File names that hold secrets wherever they are: dotenv files and SSH private keys. */
const SECRET_FILE_NAME =
  /^(?:\.env(?:\..+)?|id_(?:rsa|dsa|ecdsa|ed25519)(?:_sk)?|.+\.(?:p12|pfx))$/;
/** Dotenv templates carry no secrets by convention. */
const DOTENV_TEMPLATE = /^\.env\.(?:example|sample|template|dist)$/;

/** The folder under the state directory whose files may be sent on. */
const UPLOADS_FOLDER = "uploads";

/**
 * The policy's own paths with their links resolved, once per send_message_to_user call (each
 * file is judged twice, as written and where it leads: resolving ~40 secret locations for each
 * check cost ~3 ms a check). A path that cannot be resolved is kept as written.
 */
export interface ResolvedAttachPolicy {
  /** The token files, as written and resolved. */
  secretFiles: readonly string[];
  /** The state directory, as written and resolved. */
  stateDirs: readonly string[];
  /** MOLECULE_MCP_ATTACH_ALLOW's directories, as written and resolved; undefined when unset. */
  allowDirs?: readonly string[];
  /** MOLECULE_MCP_ATTACH_ALLOW as the operator wrote it, for the refusal text. */
  allowShown: string;
  /** Every secret location, as written and resolved, with how a refusal names it. */
  secretDirs: readonly { shown: string; path: string }[];
}

/**
 * Resolves the links of every directory and file `policy` names (see ResolvedAttachPolicy),
 * so that a state dir or a HOME reached through a link is still recognised. Never throws: a
 * path that cannot be resolved is compared as written.
 */
export async function resolveAttachPolicy(
  policy: AttachPolicy,
  realPath: RealPath,
): Promise<ResolvedAttachPolicy> {
  const resolve = async (path: string): Promise<string[]> => {
    try {
      const real = await realPath(path);
      return real === path ? [path] : [path, real];
    } catch {
      // Missing (nothing inside it can exist either) or unreadable: compare as written.
      return [path];
    }
  };
  const secretFiles: string[] = [];
  for (const file of policy.secretFiles ?? []) secretFiles.push(...await resolve(file));
  const stateDirs = await resolve(policy.stateDir);
  const allowDirs: string[] = [];
  for (const dir of policy.allowDirs ?? []) allowDirs.push(...await resolve(dir));
  const secretDirs: { shown: string; path: string }[] = [];
  for (const path of SYSTEM_SECRET_PATHS) {
    for (const real of await resolve(path)) secretDirs.push({ shown: path, path: real });
  }
  if (policy.home !== undefined && policy.home !== "") {
    for (const home of await resolve(policy.home)) {
      for (const rel of HOME_SECRET_PATHS) {
        for (const real of await resolve(joinPath(home, rel))) {
          secretDirs.push({ shown: `~/${rel}`, path: real });
        }
      }
    }
  }
  return {
    secretFiles,
    stateDirs,
    ...(policy.allowDirs === undefined ? {} : { allowDirs }),
    allowShown: (policy.allowDirs ?? []).join(":"),
    secretDirs,
  };
}

/**
 * Why the file at `realFile` (an absolute, normalised path: as written, or resolved by
 * realPath) may not be attached under `policy` (resolveAttachPolicy), or undefined when it may.
 */
export function refuseAttachment(
  realFile: string,
  policy: ResolvedAttachPolicy,
): string | undefined {
  if (policy.secretFiles.includes(realFile)) {
    return "it is the token file (MOLECULE_WORKSPACE_TOKEN_FILE); this server never sends " +
      "its own secrets";
  }
  for (const stateDir of policy.stateDirs) {
    const rest = relativeInside(realFile, stateDir);
    if (rest !== undefined && !rest.split("/").slice(0, -1).includes(UPLOADS_FOLDER)) {
      return "it is in this server's state directory (token, inbound secret, inbox); only " +
        `files in its ${UPLOADS_FOLDER} folder may be sent`;
    }
  }
  const allowDirs = policy.allowDirs ?? [];
  const isAllowed = allowDirs.some((dir) => relativeInside(realFile, dir) !== undefined);
  if (policy.allowDirs !== undefined && !isAllowed) {
    return "it is outside the directories MOLECULE_MCP_ATTACH_ALLOW allows " +
      `(${policy.allowShown})`;
  }
  for (const { shown, path } of policy.secretDirs) {
    if (relativeInside(realFile, path) === undefined) continue;
    // The operator opted in by naming a directory at or inside this location.
    if (allowDirs.some((dir) => relativeInside(dir, path) !== undefined)) continue;
    return `it is inside ${shown}, a well-known secret location (to send files from there, ` +
      "name that directory in MOLECULE_MCP_ATTACH_ALLOW)";
  }
  const name = baseName(realFile);
  if (SECRET_FILE_NAME.test(name) && !DOTENV_TEMPLATE.test(name)) {
    return `its name (${name}) marks a secret file (a dotenv file or a private key), refused ` +
      "wherever it is";
  }
  return undefined;
}

/** What tells two names of one file apart from two files (Deno.FileInfo's fields). */
export interface FileIdentity {
  /** Hard links to the file; more than 1 means other names lead to the same bytes. */
  nlink: number | null;
  dev: number;
  ino: number | null;
}

/** The file system refuseHardLink looks at (a part of attachment_reader.ts AttachmentFs). */
export interface LinkCheckFs {
  realPath: RealPath;
  stat(path: string): Promise<{ isFile: boolean } & Partial<FileIdentity>>;
  readDir?(path: string): AsyncIterable<{ name: string; isFile: boolean }>;
}

/**
 * Why an opened file may not be attached although its path passed refuseAttachment: it has
 * several hard links, and one of them is a file of the state directory (token, inbound
 * secret, journal…) or a token file. A hard link is another name for the same file, which no
 * path rule (links resolved or not) can see; only the device and inode tell. Never throws:
 * files that cannot be listed or stat'ed are skipped.
 */
export async function refuseHardLink(
  opened: Partial<FileIdentity>,
  policy: AttachPolicy,
  fs: LinkCheckFs,
): Promise<string | undefined> {
  const { nlink, dev, ino } = opened;
  if (nlink === undefined || nlink === null || nlink <= 1) return undefined;
  if (dev === undefined || ino === undefined || ino === null) return undefined;
  const same = async (path: string): Promise<boolean> => {
    try {
      const info = await fs.stat(path);
      return info.isFile && info.dev === dev && info.ino === ino;
    } catch {
      return false; // gone or unreadable: it cannot be this file
    }
  };
  for (const file of policy.secretFiles ?? []) {
    if (await same(file)) {
      return "it is another name (a hard link) of the token file; this server never sends " +
        "its own secrets";
    }
  }
  if (fs.readDir === undefined) return undefined;
  try {
    for await (const entry of fs.readDir(policy.stateDir)) {
      if (entry.isFile && await same(joinPath(policy.stateDir, entry.name))) {
        return `it is another name (a hard link) of ${entry.name} in this server's state ` +
          "directory (token, inbound secret, inbox); those are never sent";
      }
    }
  } catch {
    // The state directory cannot be listed: nothing in it can be compared.
  }
  return undefined;
}

/**
 * The part of `path` below `dir` ("" for `dir` itself), or undefined when `path` is not at or
 * inside `dir`. Both are absolute, normalised paths (realPath's output).
 */
function relativeInside(path: string, dir: string): string | undefined {
  if (path === dir) return "";
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  return path.startsWith(prefix) ? path.slice(prefix.length) : undefined;
}
