/**
 * Configuration from the environment: one pure function turns the env record into a frozen
 * Config, or into the full list of problems (every one, not just the first). The token and
 * the state directory need the file system, so state/token.ts and state/state_dir.ts own those; this
 * module only lists their variables in ENV_VARS.
 */
import { cutCodePoints } from "./text.ts";
import { isAbsolutePath } from "./paths.ts";
import { isLoopbackName } from "./http_listen.ts";
import { normalisePollTimeout } from "./instructions.ts";
import {
  readRuntimeIdentity,
  RUNTIME_IDENTITY_VARS,
  type RuntimeIdentity,
} from "./runtime_identity.ts";
import { parseUuid } from "./uuid.ts";
import {
  parseWorkspaceList,
  type TokenCheck,
  WORKSPACE_LIST_VARS,
  type WorkspaceEntry,
} from "./workspace_list.ts";
import type { Logger, LogLevel } from "./log.ts";

/**
 * Every environment variable the program reads. deno.json's `permissions.shipped.env` must
 * equal this list (a test checks it): the binary may read no other variable.
 */
export const ENV_VARS = [
  "WORKSPACE_ID",
  "PLATFORM_URL",
  // Several workspaces in one process (lib/workspace_list.ts); both names, never both set.
  ...WORKSPACE_LIST_VARS,
  "MOLECULE_WORKSPACE_TOKEN",
  "MOLECULE_WORKSPACE_TOKEN_FILE",
  "CONFIGS_DIR",
  "HOME",
  "MOLECULE_MCP_VERBOSE",
  "MOLECULE_MCP_DISABLE_HEARTBEAT",
  "MOLECULE_MCP_DISABLE_INBOX",
  "MOLECULE_MCP_POLL_INTERVAL_SECS",
  "MOLECULE_MCP_HEARTBEAT_INTERVAL_SECS",
  "MOLECULE_MCP_POLL_TIMEOUT_SECS",
  "MOLECULE_AGENT_NAME",
  "MOLECULE_AGENT_DESCRIPTION",
  "MOLECULE_AGENT_SKILLS",
  "WORKSPACE_TIER",
  "MOLECULE_CA_FILE",
  "MOLECULE_PROXY_URL",
  "MOLECULE_CHAT_UPLOAD_DIR",
  "MOLECULE_CHAT_UPLOAD_RETENTION_DAYS",
  "MOLECULE_CHAT_UPLOAD_MAX_MB",
  // Read only by `doctor` (colour) and `install` (where the hosts keep their config).
  "NO_COLOR",
  "CLAUDE_CONFIG_DIR",
  "CODEX_HOME",
  "MOLECULE_MCP_ATTACH_ALLOW",
  "MOLECULE_MCP_HTTP",
  "MOLECULE_MCP_HTTP_TOKEN",
  "MOLECULE_MCP_EVENT_STREAM",
  "MOLECULE_MCP_INBOX_NOTICE",
  // Shown by get_runtime_identity (lib/runtime_identity.ts), never interpreted.
  ...RUNTIME_IDENTITY_VARS,
] as const;

/** The name of one variable the program reads. */
export type EnvVar = typeof ENV_VARS[number];

/** The environment as main.ts reads it: one entry per ENV_VARS name, undefined when unset. */
export type Env = Readonly<Record<EnvVar, string | undefined>>;

/**
 * Builds the env record by asking `get` for each name in ENV_VARS, and for nothing else: the
 * shipped permission set denies Deno.env.toObject(). main.ts passes `Deno.env.get`.
 */
export function readEnv(get: (name: EnvVar) => string | undefined): Env {
  // The keys are exactly ENV_VARS, which is what Env promises.
  return Object.fromEntries(ENV_VARS.map((name) => [name, get(name)])) as Env;
}

/** Upstream polls the activity feed every 5 s (upstream-features.md §1.4). */
export const DEFAULT_POLL_INTERVAL_SECS = 5;
/** Faster than 1 s hammers the platform; slower than 60 s makes replies feel lost. */
export const POLL_INTERVAL_BOUNDS_SECS = { min: 1, max: 60 } as const;
/** Upstream heartbeats every 20 s (upstream-features.md §1.4). */
export const DEFAULT_HEARTBEAT_INTERVAL_SECS = 20;
/**
 * The platform marks a workspace stale after 90 s without a heartbeat
 * (platform-contract.md, REMOTE_LIVENESS_STALE_AFTER); 60 s keeps at least one retry inside
 * that window, 5 s keeps the load reasonable.
 */
export const HEARTBEAT_INTERVAL_BOUNDS_SECS = { min: 5, max: 60 } as const;
/**
 * Days a fetched canvas upload stays once no queued message mentions it. Upstream never removes
 * them; 7 is the platform's own retention for a delivered message (ACTIVITY_RETENTION_DAYS,
 * upstream-latest §2 C): past it, the message that brought the file is gone there too.
 */
export const DEFAULT_UPLOAD_RETENTION_DAYS = 7;
/** Longest retention accepted (100 years): a larger number is a typo; 0 means forever. */
const MAX_UPLOAD_RETENTION_DAYS = 36_500;
/**
 * Size cap of one workspace's uploads folder, in MiB: 1 GiB holds 10 files at the platform's
 * 100 MB per-file limit (upstream-latest §2 M) or 40 at the 25 MB local default.
 */
export const DEFAULT_UPLOAD_MAX_MB = 1024;
/** Largest cap accepted, in MiB (1 TiB); 0 means no cap. */
const MAX_UPLOAD_MAX_MB = 1024 * 1024;

/** Upstream treats a missing tier as 1: GLOBAL memory writes are denied unless set to 0. */
export const DEFAULT_WORKSPACE_TIER = 1;
/** Upstream's default agent-card name is this prefix plus the first 8 characters of the id. */
export const AGENT_NAME_PREFIX = "molecule-mcp-";

/** One workspace this process serves (its token is kept out of Config: see ConfigResult). */
export interface WorkspaceTarget {
  /** Workspace UUID, lowercase. */
  readonly id: string;
  /** Its platform base URL without trailing slashes. */
  readonly platformUrl: string;
  /** Agent-card display name for this workspace. */
  readonly agentName: string;
}

/** The validated, frozen configuration every other module receives (or a part of it). */
export interface Config {
  /** Workspace UUID, lowercase: the first configured workspace's. */
  readonly workspaceId: string;
  /**
   * Platform base URL without trailing slashes, e.g. "https://acme.moleculesai.app": the first
   * configured workspace's.
   */
  readonly platformUrl: string;
  /**
   * Every workspace served, in configuration order (at least one). One unless
   * MOLECULE_WORKSPACES (or _JSON) lists several; then it replaces WORKSPACE_ID.
   */
  readonly workspaces: readonly WorkspaceTarget[];
  /** Which variable listed the workspaces; absent in single-workspace mode. */
  readonly workspaceListVar?: string;
  /** "info" when MOLECULE_MCP_VERBOSE is non-empty, else "warn". */
  readonly logLevel: LogLevel;
  /** MOLECULE_MCP_DISABLE_HEARTBEAT non-empty: neither register nor heartbeat. */
  readonly isHeartbeatDisabled: boolean;
  /** MOLECULE_MCP_DISABLE_INBOX non-empty: no poller; inbox tools say so. */
  readonly isInboxDisabled: boolean;
  /** Agent-card display name. */
  readonly agentName: string;
  /** Agent-card description; absent when MOLECULE_AGENT_DESCRIPTION is empty. */
  readonly agentDescription?: string;
  /**
   * MOLECULE_CHAT_UPLOAD_DIR (absolute): where fetched canvas uploads go, in a folder per
   * workspace; absent: `uploads` in the state directory.
   */
  readonly chatUploadDir?: string;
  /**
   * MOLECULE_CHAT_UPLOAD_RETENTION_DAYS: fetched uploads older than this many days are removed
   * unless a queued message mentions them (inbox/upload_retention.ts); 0 = no age limit.
   */
  readonly chatUploadRetentionDays: number;
  /**
   * MOLECULE_CHAT_UPLOAD_MAX_MB, in bytes: each workspace's uploads folder is cut to this,
   * oldest first, sparing files a queued message mentions; 0 = no size cap.
   */
  readonly chatUploadMaxBytes: number;
  /** Agent-card skill names, blanks dropped. */
  readonly agentSkills: readonly string[];
  /** Delay between two activity polls, in milliseconds. */
  readonly pollIntervalMs: number;
  /** Delay between two heartbeats, in milliseconds. */
  readonly heartbeatIntervalMs: number;
  /**
   * wait_for_message timeout the instructions suggest, in seconds; 0 means push-only. Unset,
   * garbage or negative → 2, above 60 → 60 (normalisePollTimeout in instructions.ts).
   */
  readonly pollTimeoutSecs: number;
  /** Workspace tier for the GLOBAL memory gate (0 = root workspace). */
  readonly workspaceTier: number;
  /**
   * MOLECULE_MCP_ATTACH_ALLOW's directories (absolute): send_message_to_user attaches only
   * files inside them. Absent when the variable is unset or blank.
   */
  readonly attachAllowDirs?: readonly string[];
  /** The model/runtime variables get_runtime_identity shows. */
  readonly runtimeIdentity: RuntimeIdentity;
  /** MOLECULE_MCP_EVENT_STREAM=0 (or false/off/no): no event stream, polling only. */
  readonly isEventStreamDisabled: boolean;
  /** MOLECULE_MCP_INBOX_NOTICE=0 (or false/off/no): tool results carry no inbox notice. */
  readonly isInboxNoticeDisabled: boolean;
}

/** The outcome of loadConfig: a frozen Config, or every problem found. */
export type ConfigResult =
  | {
    ok: true;
    config: Config;
    /**
     * Workspace id → token, when MOLECULE_WORKSPACES listed the workspaces (the token
     * variables are then not used). Secrets: register them with the redactor at once.
     */
    workspaceTokens?: ReadonlyMap<string, string>;
  }
  | { ok: false; problems: string[] };

/** What loadConfig may use besides the environment. */
export interface LoadConfigOptions {
  /** Token content rule for MOLECULE_WORKSPACES entries (lib/state/token.ts checkToken). */
  checkToken?: TokenCheck;
}

const DECIMAL = /^\d+(\.\d+)?$/;
const WHOLE = /^\d+$/;

/**
 * Validates the environment record and returns a frozen Config, or every problem found, each
 * naming the variable and the value seen. Pure: never reads Deno.env itself. The token
 * variables are not read here (state/token.ts resolves them), so no secret can reach a problem.
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  opts: LoadConfigOptions = {},
): ConfigResult {
  const problems: string[] = [];
  const value = (name: EnvVar): string => (env[name] ?? "").trim();

  const listVars = WORKSPACE_LIST_VARS.filter((name) => value(name) !== "");
  let listVar: string | undefined;
  let listed: WorkspaceEntry[] = [];
  let workspaceId: string;
  let platformUrl: string;
  if (listVars.length === 0) {
    workspaceId = parseWorkspaceId(value("WORKSPACE_ID"), problems);
    platformUrl = parsePlatformUrl(value("PLATFORM_URL"), problems);
  } else {
    if (listVars.length > 1) {
      problems.push(
        `${listVars.join(" and ")} are both set: they are two names for the same list; keep one`,
      );
    }
    listVar = listVars[0] ?? "MOLECULE_WORKSPACES";
    // PLATFORM_URL is the default for entries without their own; optional when all have one.
    const defaultUrl = value("PLATFORM_URL") === ""
      ? ""
      : parsePlatformUrl(value("PLATFORM_URL"), problems);
    const list = parseWorkspaceList(value(listVar as EnvVar), {
      name: listVar,
      defaultUrl,
      checkUrl: platformUrlProblem,
      ...(opts.checkToken === undefined ? {} : { checkToken: opts.checkToken }),
    });
    problems.push(...list.problems);
    listed = list.entries;
    workspaceId = listed[0]?.id ?? "";
    platformUrl = listed[0]?.platformUrl ?? "";
  }
  const pollIntervalSecs = parseBoundedSecs("MOLECULE_MCP_POLL_INTERVAL_SECS", value, {
    fallback: DEFAULT_POLL_INTERVAL_SECS,
    ...POLL_INTERVAL_BOUNDS_SECS,
  }, problems);
  const heartbeatIntervalSecs = parseBoundedSecs("MOLECULE_MCP_HEARTBEAT_INTERVAL_SECS", value, {
    fallback: DEFAULT_HEARTBEAT_INTERVAL_SECS,
    ...HEARTBEAT_INTERVAL_BOUNDS_SECS,
  }, problems);
  const workspaceTier = parseTier(value("WORKSPACE_TIER"), problems);
  const attachAllowDirs = parseAttachAllow(value("MOLECULE_MCP_ATTACH_ALLOW"), problems);
  const isEventStreamOn = parseSwitch("MOLECULE_MCP_EVENT_STREAM", value, problems);
  const isInboxNoticeOn = parseSwitch("MOLECULE_MCP_INBOX_NOTICE", value, problems);
  const chatUploadDir = value("MOLECULE_CHAT_UPLOAD_DIR");
  if (chatUploadDir !== "" && !isAbsolutePath(chatUploadDir)) {
    problems.push(`MOLECULE_CHAT_UPLOAD_DIR must be an absolute path: got ${quote(chatUploadDir)}`);
  }
  const uploadRetentionDays = parseWholeSetting("MOLECULE_CHAT_UPLOAD_RETENTION_DAYS", value, {
    unit: "days",
    fallback: DEFAULT_UPLOAD_RETENTION_DAYS,
    max: MAX_UPLOAD_RETENTION_DAYS,
    zero: "keeps uploads forever",
  }, problems);
  const uploadMaxMb = parseWholeSetting("MOLECULE_CHAT_UPLOAD_MAX_MB", value, {
    unit: "MiB",
    fallback: DEFAULT_UPLOAD_MAX_MB,
    max: MAX_UPLOAD_MAX_MB,
    zero: "means no size cap",
  }, problems);

  if (problems.length > 0) return { ok: false, problems };

  const description = value("MOLECULE_AGENT_DESCRIPTION");
  const agentNameFor = (id: string) =>
    value("MOLECULE_AGENT_NAME") || `${AGENT_NAME_PREFIX}${id.slice(0, 8)}`;
  const targets = listVar === undefined
    ? [{ id: workspaceId, platformUrl, agentName: agentNameFor(workspaceId) }]
    : listed.map((e) => ({ id: e.id, platformUrl: e.platformUrl, agentName: agentNameFor(e.id) }));
  const config: Config = {
    workspaceId,
    platformUrl,
    workspaces: Object.freeze(targets.map((t) => Object.freeze(t))),
    ...(listVar === undefined ? {} : { workspaceListVar: listVar }),
    logLevel: value("MOLECULE_MCP_VERBOSE") === "" ? "warn" : "info",
    // Upstream treats any non-empty value as "on", even "0"; the help text says so.
    isHeartbeatDisabled: (env["MOLECULE_MCP_DISABLE_HEARTBEAT"] ?? "") !== "",
    isInboxDisabled: (env["MOLECULE_MCP_DISABLE_INBOX"] ?? "") !== "",
    agentName: agentNameFor(workspaceId),
    ...(description === "" ? {} : { agentDescription: description }),
    agentSkills: Object.freeze(
      value("MOLECULE_AGENT_SKILLS").split(",").map((s) => s.trim()).filter((s) => s !== ""),
    ),
    pollIntervalMs: Math.round(pollIntervalSecs * 1000),
    heartbeatIntervalMs: Math.round(heartbeatIntervalSecs * 1000),
    // Upstream semantics (ea206043), shared with the instructions: never a problem.
    pollTimeoutSecs: normalisePollTimeout(env["MOLECULE_MCP_POLL_TIMEOUT_SECS"]),
    workspaceTier,
    ...(attachAllowDirs === undefined ? {} : { attachAllowDirs }),
    ...(chatUploadDir === "" ? {} : { chatUploadDir: chatUploadDir.replace(/(.)\/+$/, "$1") }),
    chatUploadRetentionDays: uploadRetentionDays,
    chatUploadMaxBytes: uploadMaxMb * 1024 * 1024,
    runtimeIdentity: readRuntimeIdentity(value),
    isEventStreamDisabled: !isEventStreamOn,
    isInboxNoticeDisabled: !isInboxNoticeOn,
  };
  if (listVar === undefined) return { ok: true, config: Object.freeze(config) };
  const workspaceTokens = new Map(listed.map((e) => [e.id, e.token]));
  return { ok: true, config: Object.freeze(config), workspaceTokens };
}

/**
 * An on/off switch that defaults to on: unset or blank, 1/true/on/yes → true; 0/false/off/no →
 * false (any case); anything else is a problem (a typo must not silently pick a side).
 */
function parseSwitch(name: EnvVar, value: (name: EnvVar) => string, problems: string[]): boolean {
  const raw = value(name).toLowerCase();
  if (["", "1", "true", "on", "yes"].includes(raw)) return true;
  if (["0", "false", "off", "no"].includes(raw)) return false;
  problems.push(`${name} must be 0 (off) or 1 (on): got ${quote(value(name))}`);
  return true;
}

function parseWorkspaceId(raw: string, problems: string[]): string {
  if (raw === "") {
    problems.push(
      "WORKSPACE_ID is not set: copy the workspace ID from the canvas (open the workspace, " +
        "its details show the ID)",
    );
    return "";
  }
  const id = parseUuid(raw);
  if (id === null) {
    problems.push(
      `WORKSPACE_ID is not a workspace UUID: got ${quote(raw)} ` +
        "(expected the form 1b4e28ba-2fa1-11d2-883f-0016d3cca427, shown in the canvas " +
        "workspace details)",
    );
  }
  return id ?? "";
}

/**
 * True when `url` is plain `http://` to a host that is not this machine: the workspace token
 * and every message then cross the network unencrypted (issue 11 item 14). Loopback counts as
 * this machine: `localhost` and `*.localhost` (RFC 6761 §6.3), 127.0.0.0/8, `::1` and its
 * IPv4-mapped form. False for https, for loopback, and for text that is not a URL (loadConfig
 * reports that). Shared by the start-up warning and `doctor`; the loopback rule is
 * lib/http_listen.ts isLoopbackName (one rule for both).
 */
export function isCleartextRemote(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not a URL: loadConfig has already named it as a problem; nothing is sent anywhere.
    return false;
  }
  if (parsed.protocol !== "http:") return false;
  return !isLoopbackName(parsed.hostname);
}

/**
 * Logs the one start-up warning for a cleartext PLATFORM_URL to another machine (see
 * isCleartextRemote). Refusing it would break local development setups (a platform in a VM
 * or on the LAN), so it is a warning, repeated by `doctor`.
 */
export function warnIfCleartextRemote(platformUrl: string, log: Logger): void {
  if (!isCleartextRemote(platformUrl)) return;
  log.warn(
    "PLATFORM_URL uses plain http:// to another machine: the workspace token and every " +
      "message cross the network unencrypted",
    {
      platform: new URL(platformUrl).origin,
      next: "use the platform's https:// address; plain http is meant for a platform on " +
        "this machine (localhost)",
    },
  );
}

/** Ends PLATFORM_URL problems: what a good value looks like. */
const PLATFORM_URL_HINT =
  "(expected the platform URL of your tenant, e.g. https://acme.moleculesai.app)";

function parsePlatformUrl(raw: string, problems: string[]): string {
  if (raw === "") {
    problems.push(`PLATFORM_URL is not set ${PLATFORM_URL_HINT}`);
    return "";
  }
  const why = platformUrlProblem(raw);
  if (why !== undefined) {
    problems.push(`PLATFORM_URL ${why}`);
    if (why.startsWith("is not a URL") || why.startsWith("must not contain a user")) return "";
  }
  return raw.replace(/\/+$/, "");
}

/**
 * Why `raw` (trimmed, non-empty) cannot be a platform URL, worded to follow the variable or
 * field name, or undefined when it can. A URL carrying credentials is never echoed.
 */
export function platformUrlProblem(raw: string): string | undefined {
  const hint = PLATFORM_URL_HINT;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Only an invalid URL throws here; the problem says what was seen.
    return `is not a URL: got ${quote(raw)} ${hint}`;
  }
  if (url.username !== "" || url.password !== "") {
    // Never echo the value: it carries credentials.
    return "must not contain a user name or password: remove the part before @ " +
      "(the token goes in MOLECULE_WORKSPACE_TOKEN)";
  }
  const seen = quote(raw);
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return `must start with https:// or http://: got ${seen} ${hint}`;
  } else if (raw.includes("?") || raw.includes("#")) {
    return `must not contain a query (?) or fragment (#): got ${seen}`;
  } else if (/\s/.test(raw)) {
    return `must not contain spaces: got ${seen}`;
  }
  return undefined;
}

interface SecsRule {
  fallback: number;
  min: number;
  max: number;
}

function parseBoundedSecs(
  name: EnvVar,
  value: (name: EnvVar) => string,
  rule: SecsRule,
  problems: string[],
): number {
  const raw = value(name);
  if (raw === "") return rule.fallback;
  const secs = DECIMAL.test(raw) ? Number(raw) : NaN;
  if (Number.isNaN(secs) || secs < rule.min || secs > rule.max) {
    problems.push(
      `${name} must be a number of seconds from ${rule.min} to ${rule.max}: got ${quote(raw)} ` +
        `(unset it to use the default, ${rule.fallback})`,
    );
    return rule.fallback;
  }
  return secs;
}

/**
 * A whole number from 0 to `rule.max` (unset or blank: the fallback). The problem names the
 * unit, the range, what 0 does and the default, so the operator can fix it from the message.
 */
function parseWholeSetting(
  name: EnvVar,
  value: (name: EnvVar) => string,
  rule: { unit: string; fallback: number; max: number; zero: string },
  problems: string[],
): number {
  const raw = value(name);
  if (raw === "") return rule.fallback;
  const n = WHOLE.test(raw) ? Number(raw) : NaN;
  if (!(n <= rule.max)) {
    problems.push(
      `${name} must be a whole number of ${rule.unit} from 0 to ${rule.max} (0 ${rule.zero}): ` +
        `got ${quote(raw)} (unset it to use the default, ${rule.fallback})`,
    );
    return rule.fallback;
  }
  return n;
}

function parseTier(raw: string, problems: string[]): number {
  if (raw === "") return DEFAULT_WORKSPACE_TIER;
  if (!WHOLE.test(raw)) {
    problems.push(
      `WORKSPACE_TIER must be a whole number (0 for a root workspace): got ${quote(raw)} ` +
        `(unset it to use the default, ${DEFAULT_WORKSPACE_TIER})`,
    );
    return DEFAULT_WORKSPACE_TIER;
  }
  return Number(raw);
}

/**
 * MOLECULE_MCP_ATTACH_ALLOW: colon-separated absolute directories (blank entries skipped, a
 * trailing slash dropped). Undefined when blank; a relative entry is a problem, since it
 * would depend on the directory the host started us in.
 */
function parseAttachAllow(raw: string, problems: string[]): readonly string[] | undefined {
  const entries = raw.split(":").map((e) => e.trim()).filter((e) => e !== "");
  if (entries.length === 0) return undefined;
  const relative = entries.filter((e) => !isAbsolutePath(e));
  if (relative.length > 0) {
    problems.push(
      `MOLECULE_MCP_ATTACH_ALLOW must list absolute directories separated by ":": got ` +
        `${relative.map(quote).join(", ")} (write them in full, e.g. /home/me/reports)`,
    );
    return undefined;
  }
  return Object.freeze(entries.map((e) => (e.length > 1 ? e.replace(/\/+$/, "") : e)));
}

/** Quotes a seen value for a problem line, cut so a pasted blob cannot flood the terminal. */
function quote(raw: string): string {
  const cut = cutCodePoints(raw, 80, "...");
  return JSON.stringify(cut);
}
