/**
 * doctor's local checks, before any network: the version, the configuration (every variable,
 * where each value came from, never a token's value) and the state directory (writable,
 * private, our files private, whether a server is using the inbox now). It also resolves what
 * the network checks need: one DoctorWorkspace per configured workspace and the fetch built
 * with the configured CA file and proxy, exactly as the server builds them.
 */
import { type Env, ENV_VARS, type EnvVar, loadConfig } from "../config.ts";
import { createLogger } from "../log.ts";
import { joinPath } from "../paths.ts";
import { cutCodePoints } from "../text.ts";
import type { Fetch, HttpClientDeps } from "../platform/http_client.ts";
import { openStateFile, UnsafeStateFileError } from "../state/safe_file.ts";
import type { StateDirSource } from "../state/state_dir.ts";
import { resolveLocalSetup } from "./local_setup.ts";
import { UPLOADS_DIR_NAME } from "../state/upload_store.ts";
import { STATE_FILES, WORKSPACE_STATE_FILES, workspaceStatePath } from "../state/state_files.ts";
import { checkToken } from "../state/token.ts";
import { parseUuid } from "../uuid.ts";
import { listVarOf } from "../workspace_list.ts";
import { describeSources } from "./config_sources.ts";
import { type CheckResult, octal } from "./doctor_result.ts";
import type { DoctorWorkspace } from "./doctor_network.ts";

/** Whether a lock file is held by another process (null: no lock file). */
export type LockProbe = (path: string) => Promise<{ isHeld: boolean; pid: number | null } | null>;

/** What the configuration check found, for the checks after it. */
export interface LocalFindings {
  results: CheckResult[];
  /** The resolved token and proxy password forms: kept out of every printed line. */
  secrets: string[];
  stateDir?: { dir: string; source: StateDirSource };
  /** Empty when the configuration has problems. */
  workspaces: DoctorWorkspace[];
  /** The platform fetch (CA file / proxy applied); a plain one when those are broken. */
  fetch: Fetch;
  closeHttp(): void;
}

/** Variables shown as "set" without their value. */
const SECRET_VARS: ReadonlySet<EnvVar> = new Set([
  "MOLECULE_WORKSPACE_TOKEN",
  // The workspace lists carry tokens.
  "MOLECULE_WORKSPACES",
  "MOLECULE_WORKSPACES_JSON",
  // The bearer token HTTP clients of --http must send.
  "MOLECULE_MCP_HTTP_TOKEN",
]);
/** Shown in their own lines (with their source) rather than in the list of other variables. */
const CORE_VARS: ReadonlySet<EnvVar> = new Set([
  "WORKSPACE_ID",
  "PLATFORM_URL",
  "MOLECULE_WORKSPACE_TOKEN",
  "MOLECULE_WORKSPACE_TOKEN_FILE",
  "MOLECULE_WORKSPACES",
  "MOLECULE_WORKSPACES_JSON",
  "CONFIGS_DIR",
  "HOME",
]);

/** `[OK] version: molecule-mcp X (runtime)`. */
export function checkVersion(version: string, runtime: string): CheckResult {
  return { status: "ok", label: "version", message: `molecule-mcp ${version} (${runtime})` };
}

/**
 * Validates the whole configuration the way the server does (config, state directory, token,
 * CA file and proxy) and lists every variable with where it came from. Needs the permissions
 * the server needs to start (read/write on the state directory, read on the token file).
 */
export async function checkConfiguration(
  env: Env,
  deps: { http: HttpClientDeps; containerDir?: string },
): Promise<LocalFindings> {
  const notes: string[] = [];
  const log = createLogger({ write: (line) => notes.push(line), level: "warn" });
  const loaded = loadConfig(env, { checkToken });
  // MOLECULE_WORKSPACES (or _JSON) lists the tokens and replaces the token variables.
  const listVar = listVarOf(env);
  const { stateDir, token: resolved, http } = await resolveLocalSetup(env, {
    log,
    http: deps.http,
    isListed: listVar !== undefined,
    ...(deps.containerDir === undefined ? {} : { containerDir: deps.containerDir }),
  });
  const token = resolved ?? { ok: true as const, token: "", source: undefined };

  const problems = [
    ...(loaded.ok ? [] : loaded.problems),
    ...(stateDir.ok ? [] : [stateDir.problem]),
    ...(token.ok ? [] : [token.problem]),
    ...(http.ok ? [] : http.problems),
  ];
  const sources = describeSources(env, {
    tokenSource: token.ok ? token.source : undefined,
    stateDirSource: stateDir.ok ? stateDir.source : undefined,
  });
  const listed = loaded.ok ? loaded.config.workspaces : [];
  const details = [
    ...(listVar === undefined
      ? [`WORKSPACE_ID = ${shown(env, "WORKSPACE_ID")} (from ${sources.workspace})`]
      : [
        `${listVar} = (set; tokens not shown): ${listed.length} workspace(s)`,
        ...listed.map((w, i) => `  [${i}] ${w.id} on ${w.platformUrl}`),
      ]),
    `PLATFORM_URL = ${shown(env, "PLATFORM_URL")} (from ${sources.platform})`,
    `token: from ${sources.token}`,
    `state directory: ${stateDir.ok ? stateDir.dir : "none"} (from ${sources.stateDir})`,
    ...otherVariables(env),
    "doctor reads the environment it was started with; your MCP host starts the server with " +
    "the env of its entry added to the host's own environment, so a variable exported in your " +
    "shell can reach the server too",
  ];
  const warnings = [...notes.map((n) => `note: ${n.replace(/^\[molecule-mcp\] \w+ /, "")}`)];
  const inline = (env.MOLECULE_WORKSPACE_TOKEN ?? "").trim();
  const file = (env.MOLECULE_WORKSPACE_TOKEN_FILE ?? "").trim();
  if (inline !== "" && file !== "") {
    warnings.push(
      "both MOLECULE_WORKSPACE_TOKEN and MOLECULE_WORKSPACE_TOKEN_FILE are set: the file is ignored",
    );
  }

  const base = {
    token: token.ok ? token.token : undefined,
    fetch: http.ok ? http.fetch : deps.http.fetch,
    closeHttp: http.ok ? http.close : () => {},
  };
  const listedTokens = loaded.ok ? [...(loaded.workspaceTokens?.values() ?? [])] : [];
  const secrets = [
    ...(token.ok && token.token !== "" ? [token.token] : []),
    ...listedTokens,
    ...(http.ok ? http.secrets : []),
  ];
  const withDir = stateDir.ok ? { stateDir: { dir: stateDir.dir, source: stateDir.source } } : {};
  if (problems.length > 0 || !loaded.ok || !stateDir.ok || !token.ok) {
    return {
      secrets,
      ...withDir,
      fetch: base.fetch,
      closeHttp: base.closeHttp,
      workspaces: [],
      results: [{
        status: "fail",
        label: "configuration",
        message: `${problems.length} problem(s): the server would exit with code 2`,
        details: [...problems.map((p) => `problem: ${p}`), ...warnings, ...details],
        next: "fix each problem in the env section of your MCP host's entry for molecule-mcp " +
          "(and in this shell, to run doctor with the same values); `molecule-mcp --help` lists " +
          "every variable",
      }],
    };
  }
  const config = loaded.config;
  const isMulti = config.workspaces.length > 1;
  const workspaces: DoctorWorkspace[] = config.workspaces.map((ws) => ({
    id: ws.id,
    // One line per configured workspace: labels carry the short id when there are several.
    tag: isMulti ? ws.id.slice(0, 8) : "",
    platformUrl: ws.platformUrl,
    token: loaded.workspaceTokens?.get(ws.id) ?? token.token,
    stateDir: stateDir.dir,
    cursorPath: workspaceStatePath(stateDir.dir, "cursor", ws.id),
    isHeartbeatDisabled: config.isHeartbeatDisabled,
    isInboxDisabled: config.isInboxDisabled,
    pollIntervalSecs: config.pollIntervalMs / 1000,
    isEventStreamDisabled: config.isEventStreamDisabled,
    uploads: {
      root: config.chatUploadDir ?? joinPath(stateDir.dir, UPLOADS_DIR_NAME),
      isRootFromEnv: config.chatUploadDir !== undefined,
      retentionDays: config.chatUploadRetentionDays,
      maxBytes: config.chatUploadMaxBytes,
    },
  }));
  return {
    secrets,
    ...withDir,
    fetch: base.fetch,
    closeHttp: base.closeHttp,
    workspaces,
    results: [{
      status: warnings.length > 0 ? "warn" : "ok",
      label: "configuration",
      message: warnings.length > 0 ? "valid, with notes" : "valid",
      details: [...warnings, ...details],
      ...(warnings.length > 0 ? { next: "see the notes above" } : {}),
    }],
  };
}

/** The value of a variable for display: quoted, cut, never a secret. */
function shown(env: Env, name: EnvVar): string {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return "(unset)";
  if (SECRET_VARS.has(name)) return "(set; value not shown)";
  const value = name === "MOLECULE_PROXY_URL" ? withoutCredentials(raw.trim()) : raw.trim();
  return JSON.stringify(cutCodePoints(value, 100, "..."));
}

/** Every other variable: the set ones with their value, then the unset ones in one line. */
function otherVariables(env: Env): string[] {
  const rest = ENV_VARS.filter((name) => !CORE_VARS.has(name));
  const set = rest.filter((name) => (env[name] ?? "").trim() !== "");
  const unset = rest.filter((name) => (env[name] ?? "").trim() === "");
  return [
    ...set.map((name) => `${name} = ${shown(env, name)} (from env ${name})`),
    ...(unset.length === 0 ? [] : [`unset, defaults apply: ${unset.join(", ")}`]),
  ];
}

/** A proxy URL with any user name and password replaced by `***`. */
function withoutCredentials(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.username === "" && url.password === "") return raw;
    return `${url.protocol}//***@${url.host}`;
  } catch {
    // Not a URL: the configuration check reports it; show nothing that might be a password.
    return "(not a URL; not shown)";
  }
}

/**
 * The state directory: private (mode 0700 or narrower), each of our files a regular private
 * file, whose state it holds besides ours, and whether a server holds each configured
 * workspace's inbox lock now. Writability was proven by resolveStateDir's probe file during the
 * configuration check.
 */
export async function checkStateDir(
  stateDir: { dir: string; source: StateDirSource } | undefined,
  workspaceIds: readonly string[],
  probeLock: LockProbe = probeLockFile,
): Promise<CheckResult> {
  const label = "state directory";
  if (stateDir === undefined) {
    return {
      status: "skip",
      label,
      message: "skipped: no usable state directory (see configuration)",
    };
  }
  const { dir } = stateDir;
  const warnings: string[] = [];
  const dirMode = (await Deno.stat(dir)).mode;
  if (dirMode !== null && (dirMode & 0o077) !== 0) {
    warnings.push(`${dir} is open to other users (mode ${octal(dirMode)}): run chmod 700 ${dir}`);
  }
  const bases = Object.values(WORKSPACE_STATE_FILES);
  const others = new Set<string>();
  let present = 0;
  for await (const entry of Deno.readDir(dir)) {
    const owner = ownerOf(entry.name, bases);
    const isShared = entry.name === STATE_FILES.authToken;
    if (owner === null && !isShared) continue;
    if (owner !== null && !workspaceIds.includes(owner)) {
      others.add(owner);
      continue;
    }
    present++;
    const path = joinPath(dir, entry.name);
    const info = await Deno.lstat(path);
    if (info.isSymlink) {
      warnings.push(`${path} is a symbolic link: state files must be regular files; remove it`);
    } else if (!info.isFile) {
      warnings.push(`${path} is not a regular file; remove it`);
    } else if (info.mode !== null && (info.mode & 0o077) !== 0) {
      warnings.push(`${path} is readable by other users (mode ${octal(info.mode)}): chmod 600`);
    }
  }
  const serving: string[] = [];
  for (const id of workspaceIds) {
    const lock = await probeLock(workspaceStatePath(dir, "lock", id));
    const who = workspaceIds.length > 1 ? ` for ${id.slice(0, 8)}` : "";
    serving.push(
      lock === null || !lock.isHeld
        ? `no molecule-mcp server is using its inbox${who} right now`
        : `a molecule-mcp server${
          lock.pid === null ? "" : ` (pid ${lock.pid})`
        } is using its inbox${who} now`,
    );
  }
  const shared = others.size === 0
    ? ""
    : `; it also holds the state of ${others.size} other workspace(s), kept apart by their IDs`;
  const message = `${dir}: writable, ${present} of our files${shared}` +
    (serving.length === 0 ? "" : `; ${serving.join("; ")}`);
  if (warnings.length > 0) {
    return {
      status: "warn",
      label,
      message,
      details: warnings,
      next: "fix the permissions above: other users could read queued messages",
    };
  }
  return { status: "ok", label, message: message.replace(": writable", ": writable, private") };
}

/** The workspace id a state file belongs to (`<base>.<uuid>`), or null for other names. */
function ownerOf(name: string, bases: readonly string[]): string | null {
  for (const base of bases) {
    if (!name.startsWith(`${base}.`)) continue;
    const rest = name.slice(base.length + 1);
    // Files are keyed by the canonical id (lib/uuid.ts, the one UUID rule), never another form.
    if (parseUuid(rest) === rest) return rest;
  }
  return null;
}

/**
 * Tries a shared flock on the inbox lock file (opened read-only: nothing is created or
 * written). A server holds it exclusively, so failing to get it means a server is running.
 */
async function probeLockFile(
  path: string,
): Promise<{ isHeld: boolean; pid: number | null } | null> {
  let file: Deno.FsFile | null;
  try {
    // Through state/safe_file.ts: a FIFO or a link at the lock's name would hang or mislead
    // the open; such a file is already listed among the warnings. Silent: the result reports.
    const log = createLogger({ write: () => {}, level: "error" });
    file = await openStateFile(path, { log, widePerms: "warn", uid: null });
  } catch (err) {
    if (err instanceof UnsafeStateFileError) return null;
    throw err;
  }
  if (file === null) return null;
  try {
    const isFree = await file.tryLock(false);
    if (isFree) {
      await file.unlock();
      return { isHeld: false, pid: null };
    }
    const buf = new Uint8Array(32); // a pid and a newline
    const n = await file.read(buf);
    const text = new TextDecoder().decode(buf.subarray(0, n ?? 0)).trim();
    const pid = /^\d+$/.test(text) ? Number(text) : null;
    return { isHeld: true, pid };
  } finally {
    file.close();
  }
}
