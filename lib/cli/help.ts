/**
 * The usage text (`--help`) and the short hint printed after configuration problems. Defaults
 * come from config.ts and exit codes from errors.ts, so the text cannot drift from the code.
 * Printing is main.ts's job.
 */
import { BATCH_PROTOCOL_VERSIONS, STARTUP_HOLD_MS } from "../mcp/server.ts";
import {
  AGENT_NAME_PREFIX,
  DEFAULT_HEARTBEAT_INTERVAL_SECS,
  DEFAULT_POLL_INTERVAL_SECS,
  DEFAULT_UPLOAD_MAX_MB,
  DEFAULT_UPLOAD_RETENTION_DAYS,
  DEFAULT_WORKSPACE_TIER,
  HEARTBEAT_INTERVAL_BOUNDS_SECS,
  POLL_INTERVAL_BOUNDS_SECS,
} from "../config.ts";
import { DEFAULT_POLL_TIMEOUT_SECS, MAX_POLL_TIMEOUT_SECS } from "../instructions.ts";
import { EXIT } from "../errors.ts";
import { CONTAINER_CONFIGS_DIR, HOME_STATE_DIR_NAME } from "../state/state_dir.ts";
import { UPLOADS_DIR_NAME } from "../state/upload_store.ts";
import { STATE_FILES, WORKSPACE_STATE_FILES } from "../state/state_files.ts";

const NAME_WIDTH = 38;
const W = WORKSPACE_STATE_FILES;

/** Renders rows of "name  meaning" with the meaning column aligned (long names wrap). */
function table(rows: readonly (readonly [string, string])[], width = NAME_WIDTH): string[] {
  return rows.flatMap(([name, meaning]) =>
    name.length < width - 2
      ? [`  ${name.padEnd(width - 2)}${meaning}`]
      : [`  ${name}`, `  ${"".padEnd(width - 2)}${meaning}`]
  );
}

/** The full `--help` text (ends with a newline), for stdout. */
export function usageText(version: string): string {
  const poll = POLL_INTERVAL_BOUNDS_SECS;
  const beat = HEARTBEAT_INTERVAL_BOUNDS_SECS;
  const home = `~/${HOME_STATE_DIR_NAME}`;
  const lines = [
    `molecule-mcp ${version}: connects an MCP agent (Claude Code, Cursor, Codex, ...) on your`,
    "machine to a Molecule AI workspace. It registers the workspace with the platform, keeps it",
    "online with heartbeats, polls the workspace inbox, and serves MCP over stdin/stdout (tools",
    "and push notifications). Your MCP host starts it; run it by hand only to check the setup.",
    "",
    "Usage:",
    ...table([
      ["molecule-mcp", "serve MCP on stdin/stdout until stdin closes"],
      ["molecule-mcp --http [HOST:]PORT", "serve MCP over Streamable HTTP at"],
      ["", "http://HOST:PORT/mcp instead (HOST default 127.0.0.1; one"],
      ["", "process for several hosts; stops on SIGINT/SIGTERM)"],
      ["molecule-mcp --help", "show this help (also -h or help)"],
      ["molecule-mcp --version", "print the version (also -V)"],
      ["molecule-mcp doctor", "check the setup step by step (exit 0 ok, 1 a check failed)"],
      [
        "molecule-mcp install <host>",
        "write the MCP entry for claude-code, cursor, codex or gemini",
      ],
    ]),
    ...onboardingSection(),
    "",
    "Required environment:",
    ...table([
      ["WORKSPACE_ID", "the workspace UUID: in the canvas, open the workspace; its"],
      ["", "details show the ID"],
      ["PLATFORM_URL", "the platform URL of your tenant, e.g."],
      ["", "https://acme.moleculesai.app (trailing / is ignored)"],
      ["", "(plain http:// to another machine starts with a warning:"],
      ["", "the token would cross the network unencrypted)"],
      ["MOLECULE_WORKSPACE_TOKEN", "the workspace token: in the canvas, open the workspace,"],
      ["", "then the Tokens tab (it is shown only once)"],
    ]),
    "  The token can come instead from (first one set wins):",
    ...table([
      ["MOLECULE_WORKSPACE_TOKEN_FILE", "a file holding only the token, keeping it out of your"],
      ["", "MCP host's config; if set, it must be usable"],
      [`<state dir>/${STATE_FILES.authToken}`, "written by in-container runtimes"],
    ]),
    "  Several workspaces in one process (replaces WORKSPACE_ID and the token variables):",
    ...table([
      ["MOLECULE_WORKSPACES", 'JSON array [{"id":"<uuid>","token":"<token>",'],
      ["", '"platform_url":"https://…"}]; platform_url is optional'],
      ["", "(default PLATFORM_URL, then needed only for such entries);"],
      ["", "also accepted: workspace_id, workspace_token, platformUrl"],
      ["MOLECULE_WORKSPACES_JSON", "the same list under the channel plugin's name (set one)"],
    ]),
    "  Each workspace registers, heartbeats and keeps its own inbox; one refused token stops",
    "  only that workspace (exit 3 when all are refused). Messages carry arrival_workspace_id;",
    "  tools that act as a workspace take source_workspace_id (default: where the peer was",
    "  last seen, else the first entry); a reply goes out as the workspace the message",
    "  arrived on.",
    "",
    "Optional environment:",
    ...table([
      ["CONFIGS_DIR", "state directory (absolute path, created 0700); default:"],
      ["", `${CONTAINER_CONFIGS_DIR} if writable, else ${home}`],
      ["HOME", `home directory, for the ${home} fallback`],
      ["MOLECULE_MCP_VERBOSE", "any non-empty value: log at info level on stderr"],
      ["", "(default: warnings and errors only)"],
      ["MOLECULE_MCP_DISABLE_HEARTBEAT", "any non-empty value (even 0): no register, no heartbeat"],
      ["MOLECULE_MCP_DISABLE_INBOX", "any non-empty value (even 0): no inbox polling"],
      [
        "MOLECULE_MCP_POLL_INTERVAL_SECS",
        `seconds between inbox polls, ${poll.min} to ${poll.max} (default ${DEFAULT_POLL_INTERVAL_SECS})`,
      ],
      [
        "MOLECULE_MCP_HEARTBEAT_INTERVAL_SECS",
        `seconds between heartbeats, ${beat.min} to ${beat.max} (default ${DEFAULT_HEARTBEAT_INTERVAL_SECS})`,
      ],
      [
        "MOLECULE_MCP_POLL_TIMEOUT_SECS",
        "whole seconds the agent waits for messages each turn, 0",
      ],
      [
        "",
        `to ${MAX_POLL_TIMEOUT_SECS}; 0 = rely on push only (default ${DEFAULT_POLL_TIMEOUT_SECS})`,
      ],
      ["MOLECULE_AGENT_NAME", `agent-card name (default ${AGENT_NAME_PREFIX}<first 8 of the ID>)`],
      ["MOLECULE_AGENT_DESCRIPTION", "agent-card description (default: none)"],
      ["MOLECULE_AGENT_SKILLS", "comma-separated skill names for the agent card"],
      [
        "WORKSPACE_TIER",
        `workspace tier; 0 (root) may write GLOBAL memory (default ${DEFAULT_WORKSPACE_TIER})`,
      ],
      ["MOLECULE_CA_FILE", "PEM file of extra CA certificates (corporate TLS proxies)"],
      ["MOLECULE_PROXY_URL", "proxy for platform calls (else HTTPS_PROXY/NO_PROXY)"],
      ["MOLECULE_CHAT_UPLOAD_DIR", "absolute folder for files canvas users attach (a"],
      ["", `folder per workspace in it; default <state dir>/${UPLOADS_DIR_NAME})`],
      ["MOLECULE_CHAT_UPLOAD_RETENTION_DAYS", "days a fetched upload is kept once no queued"],
      ["", `message mentions it; 0 = no age limit (default ${DEFAULT_UPLOAD_RETENTION_DAYS})`],
      ["MOLECULE_CHAT_UPLOAD_MAX_MB", "MiB of uploads kept per workspace, oldest removed"],
      ["", `first, queued ones kept; 0 = no cap (default ${DEFAULT_UPLOAD_MAX_MB})`],
      ["NO_COLOR", "any non-empty value: doctor prints no colour"],
      ["CLAUDE_CONFIG_DIR", "install: Claude Code's config dir (default: your home)"],
      ["CODEX_HOME", "install: Codex's config dir (default ~/.codex)"],
      ["MOLECULE_MCP_EVENT_STREAM", "0: no platform event stream, polling only (default 1:"],
      ["", "messages are fetched as soon as the platform announces them)"],
      ["MOLECULE_MCP_INBOX_NOTICE", '0: tool results carry no "[inbox: N messages waiting]"'],
      ["", "notice (default 1, for hosts that show no pushes)"],
      ["MOLECULE_MCP_ATTACH_ALLOW", "colon-separated directories: attach files only from"],
      ["", "inside them (default: any file but this server's state and"],
      ["", "secret locations like ~/.ssh, ~/.aws, .env files)"],
      ["MOLECULE_MCP_HTTP", "[HOST:]PORT: serve MCP over HTTP at /mcp, like --http"],
      ["MOLECULE_MCP_HTTP_TOKEN", "bearer token every HTTP request must carry; required"],
      ["", "to bind anything but 127.0.0.1 (32+ characters)"],
    ]),
    "  Shown to the agent by get_runtime_identity (read, never acted on):",
    ...table([
      ["MODEL, MODEL_PROVIDER, MOLECULE_MODEL", "the model driving the agent, its provider"],
      ["ANTHROPIC_BASE_URL", "model gateway (shown without credentials or query)"],
      ["TIER, ADAPTER_MODULE", "runtime tier and adapter (shown as runtime)"],
    ]),
    "",
    "State files (in the state directory; <id> is WORKSPACE_ID, so several workspaces can",
    "share one directory):",
    ...table([
      [STATE_FILES.authToken, "optional token source; only read"],
      [`${W.inboundSecret}.<id>`, "secret the platform sends with heartbeats"],
      [`${W.journal}.<id>`, "queued inbox messages, kept across restarts"],
      [`${W.cursor}.<id>`, "where inbox polling resumes after a restart"],
      [`${W.lock}.<id>`, "held by the process receiving this workspace's messages"],
      [`${W.installedToken}.<id>`, "the token `install` saved; its host entry names this file"],
      [`${UPLOADS_DIR_NAME}/<id>/`, "files canvas users attached, fetched for the agent (0700);"],
      ["", "see MOLECULE_CHAT_UPLOAD_RETENTION_DAYS for how long"],
    ]),
    "  Each must be a regular file (never a link, FIFO or device) owned by you; they are",
    "  written 0600 and wider modes are tightened. The directory must be yours and not",
    "  writable by others. A journal or cursor that is not this workspace's is renamed",
    "  aside (<name>.foreign-<time> or .unverified-<time>) with a notice, never served.",
    "",
    "MCP session:",
    "  Nothing is sent before the host's notifications/initialized. Pushes of messages",
    `  waiting at start-up go out ${
      STARTUP_HOLD_MS / 1000
    } s after it, in order (Claude Code listens`,
    "  for channel pushes only shortly after the handshake). JSON-RPC batches are answered",
    `  with an array of responses on protocol ${BATCH_PROTOCOL_VERSIONS.join(" and ")}; later`,
    "  revisions removed batches (-32600). resources/list, resources/templates/list and",
    "  prompts/list answer empty lists; the instructions stay under 2,048 characters.",
    "",
    "Exit codes:",
    ...table([
      [String(EXIT.OK), "normal end: stdin closed (with --http: SIGINT or SIGTERM)"],
      [String(EXIT.BUG), "internal error (a bug: please report it)"],
      [String(EXIT.CONFIG), "configuration problem (printed on stderr)"],
      [String(EXIT.TOKEN_REJECTED), "the platform rejected the token (every token, with"],
      ["", "MOLECULE_WORKSPACES): create a new one. initialize waits up to"],
      ["", "3 s for this answer, so the host shows a failed start"],
    ], 5),
  ];
  return lines.map((line) => line.trimEnd()).join("\n") + "\n";
}

/**
 * doctor and install: what they do and when to reach for them. A section of its own so the
 * other parts of the help can change without touching it.
 */
function onboardingSection(): string[] {
  return [
    "",
    "Host shows the server connected, but no message arrives? Run `molecule-mcp doctor` in a",
    "shell with the same environment as the host's entry: it checks the configuration (and",
    "where each value came from), the state directory, the platform, the token and the inbox,",
    "and prints a next step for each problem. Hosts add their own environment to the entry's,",
    "so a WORKSPACE_ID exported in your shell reaches the server silently: doctor and the",
    "start-up log (MOLECULE_MCP_VERBOSE=1) name the source of each value.",
    "",
    "  molecule-mcp install claude-code|cursor|codex|gemini [--name NAME] [--scope user|project]",
    "                       [--force] [--dry-run]",
    "    writes the host's MCP entry for the current environment (the same variables the",
    "    server reads): the token goes into a 0600 file in the state directory and the entry",
    "    sets MOLECULE_WORKSPACE_TOKEN_FILE, never the token. Server name: molecule-<workspace",
    "    name>, or --name. An existing entry of that name is replaced only with --force;",
    "    --dry-run prints the change and writes nothing. Exit 0 done, 2 a configuration or",
    "    host-file problem (the file is left untouched). Run from a checkout (make run",
    '    ARGS="install …"), the entry starts the same Deno on <checkout>/main.ts with the',
    "    shipped flags, as the `make install` wrapper does (never make).",
  ];
}

/** The short hint printed on stderr after the list of configuration problems. */
export function usageHint(): string {
  return "Set these in the env section of your MCP host's config for molecule-mcp; " +
    "run `molecule-mcp --help` to see every variable, its default and where to find its value";
}
