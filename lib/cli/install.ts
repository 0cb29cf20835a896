/**
 * `molecule-mcp install <host>`: writes the host's MCP entry for the configuration in this
 * environment (the same variables the server reads), so nobody wires a host by hand or leaves
 * a token in plain text in a host config file (upstream-latest.md §3 #1, #9). The token goes
 * into a 0600 file in the state directory and the entry names that file in
 * MOLECULE_WORKSPACE_TOKEN_FILE. The server name follows upstream's `molecule-<slug>` rule.
 * An existing entry of that name is shown and replaced only with --force; --dry-run shows the
 * change and writes nothing. The host file is edited in place (cli/install_json.ts,
 * cli/install_toml.ts) and replaced atomically; a file that cannot be edited safely is left
 * untouched with the reason. Printing is main.ts's job.
 */
import type { Clock } from "../clock.ts";
import { type Env, ENV_VARS, type EnvVar, loadConfig } from "../config.ts";
import { createLogger } from "../log.ts";
import { createPlatformClient } from "../platform/client.ts";
import type { Fetch, HttpClientDeps } from "../platform/http_client.ts";
import { Redactor } from "../redact.ts";
import { atomicWriteFile } from "../state/atomic_write.ts";
import type { StateDirResult } from "../state/state_dir.ts";
import { stateFilePath, workspaceStatePath } from "../state/state_files.ts";
import { checkToken, type TokenResult } from "../state/token.ts";
import { listVarOf } from "../workspace_list.ts";
import { dirName } from "../paths.ts";
import type { InstallRequest } from "./args.ts";
import {
  absolutePath,
  checkServerName,
  type HostTarget,
  hostTarget,
  serverNameFor,
} from "./install_hosts.ts";
import { editHostFile, indent } from "./install_edit.ts";
import type { HostProgram } from "./install_program.ts";
import { resolveLocalSetup } from "./local_setup.ts";

/** Effects install needs; main.ts passes the real ones. */
export interface InstallDeps {
  clock: Clock;
  /** For the workspace-name lookup (CA file / proxy honoured as in the server). */
  http: HttpClientDeps;
  /** The directory a project-scope entry goes into. */
  cwd: string;
  /**
   * How the host should start this program (cli/install_program.ts: the binary, or the Deno
   * runtime and main.ts of a checkout); its note, if any, is printed with the entry.
   */
  program: HostProgram;
  /** Tests point the in-container default elsewhere (see state/state_dir.ts). */
  containerDir?: string;
}

/** What main.ts prints (stdout, then stderr lines) and the exit code (0 done, 2 refused). */
export interface InstallResult {
  output: string;
  errors: string[];
  exitCode: 0 | 2;
}

/** The name lookup is a nicety: a platform that does not answer in 3 s gets the id fallback. */
const NAME_LOOKUP_TIMEOUT_MS = 3_000;
/** Variables never copied into an entry: replaced by the token file, or not the server's. */
const NOT_COPIED: ReadonlySet<EnvVar> = new Set([
  "MOLECULE_WORKSPACE_TOKEN",
  "MOLECULE_WORKSPACES",
  "MOLECULE_WORKSPACES_JSON",
  "MOLECULE_WORKSPACE_TOKEN_FILE",
  "CONFIGS_DIR",
  "HOME",
  "NO_COLOR",
  "CLAUDE_CONFIG_DIR",
  "CODEX_HOME",
  // The host starts the entry on stdio: an --http setting of this shell would make it serve
  // HTTP instead (the host would see no server), and the bearer token would sit in plain text
  // in the host file and in what install prints.
  "MOLECULE_MCP_HTTP",
  "MOLECULE_MCP_HTTP_TOKEN",
]);

/**
 * Runs the install. Never throws for an expected problem (bad configuration, a host file that
 * cannot be parsed or written): those come back as errors with exit code 2. Needs read/write
 * on the state directory and the host's config file, and net for the name lookup.
 */
export async function runInstall(
  request: InstallRequest,
  env: Env,
  deps: InstallDeps,
): Promise<InstallResult> {
  const listVar = listVarOf(env);
  // Resolved once for the run, however many workspaces are listed: the state directory (its
  // write probe), the token (unless listed) and the fetch (the CA file), as the server does.
  const notes: string[] = [];
  const log = createLogger({ write: (line) => notes.push(line), level: "warn" });
  const { stateDir, token, http } = await resolveLocalSetup(env, {
    log,
    http: deps.http,
    isListed: listVar !== undefined,
    ...(deps.containerDir === undefined ? {} : { containerDir: deps.containerDir }),
  });
  const local: LocalSetup = {
    stateDir,
    fetch: http.ok ? http.fetch : null,
    httpProblems: http.ok ? [] : http.problems,
    secrets: http.ok ? http.secrets : [],
    notes,
  };
  try {
    if (listVar !== undefined) return await installEach(listVar, request, env, { deps, local });
    return await installOne(request, env, { deps, local, token: token ?? NO_TOKEN });
  } finally {
    if (http.ok) http.close();
  }
}

/** What runInstall resolved once for every entry it writes. */
interface LocalSetup {
  stateDir: StateDirResult;
  /** The platform fetch (MOLECULE_CA_FILE, MOLECULE_PROXY_URL), null when it cannot be built. */
  fetch: Fetch | null;
  /**
   * Why it cannot be built: the server refuses to start on these (exit 2), so install refuses
   * to write an entry that would start it.
   */
  httpProblems: string[];
  /**
   * The proxy password in its forms (MOLECULE_PROXY_URL): the entry carries the URL, as the
   * server needs it, but what install prints masks it (the one redaction step, as doctor does).
   */
  secrets: string[];
  /** Warnings logged while resolving (e.g. a state directory tightened), said as notes. */
  notes: string[];
}

/** Unreachable: resolveLocalSetup resolves a token whenever no list variable is set. */
const NO_TOKEN: TokenResult = { ok: false, problem: "no token was resolved" };

/**
 * MOLECULE_WORKSPACES (or _JSON) set: one host entry per listed workspace, each with its own
 * token file, so no token lands in the host's config file (which an entry carrying the list
 * would need). `--name` names one entry, so it is refused with several workspaces.
 */
async function installEach(
  listVar: string,
  request: InstallRequest,
  env: Env,
  setup: { deps: InstallDeps; local: LocalSetup },
): Promise<InstallResult> {
  const { deps, local } = setup;
  const loaded = loadConfig(env, { checkToken });
  const redactor = new Redactor(local.secrets);
  const problems = [
    ...(loaded.ok ? [] : loaded.problems),
    ...local.httpProblems,
    ...(loaded.ok && request.name !== undefined && loaded.config.workspaces.length > 1
      ? [
        `--name names one entry, but ${listVar} lists ${loaded.config.workspaces.length} ` +
        "workspaces: leave --name out (each entry is named after its workspace)",
      ]
      : []),
  ];
  if (!loaded.ok || problems.length > 0) {
    return {
      output: "",
      errors: [
        `molecule-mcp install: ${problems.length} problem(s); nothing was written`,
        ...problems.map((p) => `  - ${p}`),
      ],
      exitCode: 2,
    };
  }
  const outputs: string[] = [];
  const errors: string[] = [];
  let exitCode: 0 | 2 = 0;
  // The program's note and the set-up's are the same for every entry: said once, after them all.
  const { note, ...program } = deps.program;
  for (const ws of loaded.config.workspaces) {
    const token = loaded.workspaceTokens?.get(ws.id) ?? "";
    redactor.add(token);
    const one = await installOne(request, {
      ...env,
      MOLECULE_WORKSPACES: undefined,
      MOLECULE_WORKSPACES_JSON: undefined,
      WORKSPACE_ID: ws.id,
      PLATFORM_URL: ws.platformUrl,
      MOLECULE_WORKSPACE_TOKEN: token,
      MOLECULE_WORKSPACE_TOKEN_FILE: undefined,
    }, {
      deps: { ...deps, program },
      local: { ...local, notes: [] },
      // The list's tokens passed checkToken in loadConfig: inline tokens, as the entry sees them.
      token: { ok: true, token, source: "MOLECULE_WORKSPACE_TOKEN" },
    });
    outputs.push(one.output);
    errors.push(...one.errors);
    if (one.exitCode !== 0) exitCode = one.exitCode;
  }
  const intro = `${listVar} lists ${loaded.config.workspaces.length} workspace(s): one entry ` +
    "each, with its own token file (no token in the host's config)\n\n";
  const shown = outputs.filter((o) => o !== "");
  if (shown.length > 0) {
    for (const line of noteLines([...local.notes, ...(note === undefined ? [] : [note])])) {
      shown.push(`${line}\n`);
    }
  }
  return {
    output: redactor.redact(intro + shown.join("\n")),
    errors: errors.map((line) => redactor.redact(line)),
    exitCode,
  };
}

/** Writes (or shows) the entry of one workspace: WORKSPACE_ID and a token source. */
async function installOne(
  request: InstallRequest,
  env: Env,
  setup: { deps: InstallDeps; local: LocalSetup; token: TokenResult },
): Promise<InstallResult> {
  const { deps, local, token } = setup;
  const { stateDir } = local;
  const notes = [...local.notes];
  const refuse = (lines: string[]): InstallResult => ({
    output: "",
    errors: lines.map((line) => redactor.redact(line)),
    exitCode: 2,
  });
  const redactor = new Redactor(local.secrets);

  const loaded = loadConfig(env);
  const home = (env.HOME ?? "").trim();
  const nameProblem = request.name === undefined ? undefined : checkServerName(request.name);
  const problems = [
    ...(loaded.ok ? [] : loaded.problems),
    ...(stateDir.ok ? [] : [stateDir.problem]),
    ...(token.ok ? [] : [token.problem]),
    ...local.httpProblems,
    ...(request.scope === "user" && home === ""
      ? [
        "HOME is not set: install needs it to find " +
        "the host's config in your home directory",
      ]
      : []),
    ...(nameProblem === undefined ? [] : [nameProblem]),
  ];
  if (!loaded.ok || !stateDir.ok || !token.ok || problems.length > 0) {
    return refuse([
      `molecule-mcp install: ${problems.length} problem(s); nothing was written`,
      ...problems.map((p) => `  - ${p}`),
      "install writes the entry for the configuration in this shell's environment: set " +
      "WORKSPACE_ID, PLATFORM_URL and the token (or its file) here first, then run it again",
    ]);
  }
  redactor.add(token.token);
  const config = loaded.config;

  let name = request.name;
  if (name === undefined) {
    const shown = await workspaceName(config, token.token, { ...deps, fetch: local.fetch });
    if (shown === null) {
      notes.push(
        "the workspace name could not be read from the platform: the server is " +
          "named after the workspace ID (use --name to choose)",
      );
    }
    name = serverNameFor(shown, config.workspaceId);
  }

  // The token file the entry names: the operator's own file when they have one, else ours.
  const tokenFile = token.source === "MOLECULE_WORKSPACE_TOKEN_FILE"
    ? absolutePath((env.MOLECULE_WORKSPACE_TOKEN_FILE ?? "").trim(), deps.cwd)
    : token.source === ".auth_token"
    ? stateFilePath(stateDir.dir, "authToken")
    : workspaceStatePath(stateDir.dir, "installedToken", config.workspaceId);
  const entryEnv: Record<string, string> = {
    WORKSPACE_ID: config.workspaceId,
    PLATFORM_URL: config.platformUrl,
    MOLECULE_WORKSPACE_TOKEN_FILE: tokenFile,
    // Pinned: the host's own HOME or /configs must not pick another directory than this one.
    CONFIGS_DIR: stateDir.dir,
    // Blank counts as unset: a token exported in the shell that started the host (which would
    // win over the file) cannot reach the server through this entry.
    MOLECULE_WORKSPACE_TOKEN: "",
  };
  for (const key of ENV_VARS) {
    const value = (env[key] ?? "").trim();
    if (!NOT_COPIED.has(key) && !(key in entryEnv) && value !== "") entryEnv[key] = value;
  }

  const target = hostTarget(request.host, request.scope, {
    home,
    cwd: deps.cwd,
    ...((env.CLAUDE_CONFIG_DIR ?? "").trim() === ""
      ? {}
      : { claudeConfigDir: (env.CLAUDE_CONFIG_DIR ?? "").trim() }),
    ...((env.CODEX_HOME ?? "").trim() === "" ? {} : { codexHome: (env.CODEX_HOME ?? "").trim() }),
  });
  const file = await realTarget(target.file);
  const current = await readIfExists(file);
  const edit = editHostFile(request, target, {
    name,
    text: current?.text ?? null,
    entryEnv,
    program: deps.program,
  });
  if (!edit.ok) {
    return refuse([
      `molecule-mcp install: cannot edit ${file}: ${edit.reason}`,
      "the file was left untouched; fix it (or add the entry by hand), then run install again",
    ]);
  }
  const header = [
    `molecule-mcp install ${request.host} (${request.scope} scope)${
      request.isDryRun ? ", dry run: nothing is written" : ""
    }`,
    `  file:   ${file}${current === null ? " (new)" : ""}`,
    `  server: ${name}`,
  ];
  if (edit.existing !== undefined && edit.isSame) {
    return done(redactor, [...header, "", "The entry is already there and up to date."], notes);
  }
  if (edit.existing !== undefined && !request.isForced) {
    return refuse([
      `molecule-mcp install: ${target.title} already has a server named ${name} in ${file}:`,
      ...indent(edit.existing),
      `run again with --force to replace it (or choose another name with --name)`,
    ]);
  }

  const tokenLine = token.source === "MOLECULE_WORKSPACE_TOKEN"
    ? `  token:  ${request.isDryRun ? "would be written" : "written"} to ${tokenFile} (mode ` +
      "0600); the entry names this file, never the token"
    : `  token:  the entry names ${tokenFile}, where the token already is`;
  const body = [
    ...header,
    tokenLine,
    ...(edit.existing === undefined ? [] : ["  replaces:", ...indent(edit.existing, "    ")]),
    "  entry:",
    ...indent(edit.shown, "    "),
  ];
  if (target.isShared) {
    notes.push(
      `${file} is usually committed to version control: the entry holds no token, but ` +
        "it names paths on this machine",
    );
  }
  if (deps.program.note !== undefined) notes.push(deps.program.note);
  if (!edit.isLayoutKept) {
    notes.push("the file's layout was normalised (its keys and values are unchanged)");
  }
  if (request.isDryRun) return done(redactor, body, notes);

  try {
    if (token.source === "MOLECULE_WORKSPACE_TOKEN") {
      await atomicWriteFile(tokenFile, token.token + "\n");
    }
    await Deno.mkdir(dirName(file), { recursive: true, mode: 0o700 });
    // A host config may hold other servers' secrets: a new file is private; an old one keeps its mode.
    const mode = current?.mode ?? (target.isShared ? 0o644 : 0o600);
    await atomicWriteFile(file, edit.text, { mode });
  } catch (err) {
    return refuse([
      `molecule-mcp install: cannot write ${file}: ${err instanceof Error ? err.message : err}`,
      "check that you may write there; nothing else was changed",
    ]);
  }
  return done(redactor, [...body, "", ...afterwards(request, target, name)], notes);
}

function done(redactor: Redactor, body: string[], notes: string[]): InstallResult {
  const text = [...body, ...noteLines(notes)].join("\n") + "\n";
  return { output: redactor.redact(text), errors: [], exitCode: 0 };
}

/** Notes as printed: `note: …`, a logged line's `[molecule-mcp] <level> ` prefix dropped. */
function noteLines(notes: string[]): string[] {
  return notes.map((n) => `note: ${n.replace(/^\[molecule-mcp\] \w+ /, "")}`);
}

/** What to do next in each host. */
function afterwards(request: InstallRequest, target: HostTarget, name: string): string[] {
  const check = "If the host shows the server connected but no message arrives, run " +
    "`molecule-mcp doctor`.";
  switch (request.host) {
    case "claude-code":
      return [
        `Done. Restart Claude Code (or /mcp to reconnect); \`claude mcp list\` shows ${name}.`,
        `Channel push: start it with --dangerously-load-development-channels server:${name}.`,
        check,
      ];
    case "cursor":
      return [`Done. In ${target.title}, open Settings → MCP and make sure ${name} is on.`, check];
    case "codex":
      return [`Done. Start codex; /mcp lists ${name}.`, check];
    case "gemini":
      return [
        `Done. \`gemini mcp list\` shows ${name} (run it in a trusted folder: Gemini CLI starts ` +
        "no MCP server in an untrusted one).",
        check,
      ];
  }
}

/** The workspace's display name from GET /workspaces/:id, or null when it cannot be read. */
async function workspaceName(
  config: { platformUrl: string; workspaceId: string },
  token: string,
  deps: { clock: Clock; fetch: Fetch | null },
): Promise<string | null> {
  if (deps.fetch === null) return null;
  try {
    const client = createPlatformClient({ ...config, token }, {
      fetch: deps.fetch,
      clock: deps.clock,
      log: createLogger({ write: () => {}, level: "error" }),
    });
    const lookup = await client.getWorkspace(undefined, { timeoutMs: NAME_LOOKUP_TIMEOUT_MS });
    return lookup.kind === "found" ? lookup.workspace.name : null;
  } catch (err) {
    // Any failure only costs the nicer name; the ID fallback is said in a note.
    if (err instanceof Error) return null;
    throw err;
  }
}

/** The file a symlinked host config points at (editing must not replace the link). */
async function realTarget(path: string): Promise<string> {
  try {
    return await Deno.realPath(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return path;
    throw err;
  }
}

async function readIfExists(path: string): Promise<{ text: string; mode: number | null } | null> {
  try {
    const [text, info] = await Promise.all([Deno.readTextFile(path), Deno.stat(path)]);
    return { text, mode: info.mode === null ? null : info.mode & 0o777 };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}
