import { assert, assertEquals, assertStringIncludes } from "./assert.ts";
import {
  ENV_VARS,
  isCleartextRemote,
  loadConfig,
  readEnv,
  warnIfCleartextRemote,
} from "../lib/config.ts";
import { captureLog } from "./fakes/log_capture.ts";

const ID = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
const BASE = { WORKSPACE_ID: ID, PLATFORM_URL: "https://acme.moleculesai.app" };

function config(env: Record<string, string | undefined>) {
  const result = loadConfig(env);
  if (!result.ok) throw new Error(`expected a valid config, got: ${result.problems.join("; ")}`);
  return result.config;
}

function problems(env: Record<string, string | undefined>): string[] {
  const result = loadConfig(env);
  if (result.ok) throw new Error("expected problems, got a valid config");
  return result.problems;
}

Deno.test("config: deno.json's shipped env permission lists exactly the variables the program reads", async () => {
  const manifest: unknown = JSON.parse(
    await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
  );
  const shipped = (manifest as { permissions: { shipped: { env: unknown } } }).permissions.shipped;
  assertEquals(shipped.env, [...ENV_VARS]);
});

Deno.test("config: the env record holds every listed variable and asks for nothing else", () => {
  const asked: string[] = [];
  const env = readEnv((name) => {
    asked.push(name);
    return name === "HOME" ? "/home/op" : undefined;
  });
  assertEquals(asked, [...ENV_VARS]);
  assertEquals(env.HOME, "/home/op");
  assertEquals(Object.keys(env), [...ENV_VARS]);
});

Deno.test("config: with only the required settings every default applies", () => {
  assertEquals(config(BASE), {
    workspaceId: ID,
    platformUrl: "https://acme.moleculesai.app",
    workspaces: [
      { id: ID, platformUrl: "https://acme.moleculesai.app", agentName: "molecule-mcp-1b4e28ba" },
    ],
    logLevel: "warn",
    isHeartbeatDisabled: false,
    isInboxDisabled: false,
    agentName: "molecule-mcp-1b4e28ba",
    agentSkills: [],
    pollIntervalMs: 5000,
    heartbeatIntervalMs: 20000,
    pollTimeoutSecs: 2,
    workspaceTier: 1,
    runtimeIdentity: {
      model: null,
      model_provider: null,
      molecule_model: null,
      anthropic_base_url: null,
      tier: null,
      workspace_id: ID,
      runtime: null,
    },
    isEventStreamDisabled: false,
    isInboxNoticeDisabled: false,
    chatUploadRetentionDays: 7,
    chatUploadMaxBytes: 1024 * 1024 * 1024,
  });
});

Deno.test("config: the result is frozen", () => {
  const c = config({ ...BASE, MOLECULE_AGENT_SKILLS: "a,b" });
  assert(Object.isFrozen(c));
  assert(Object.isFrozen(c.agentSkills));
});

Deno.test("config: every missing setting is listed at once", () => {
  const found = problems({});
  assertEquals(found.length, 2);
  assertStringIncludes(found[0] ?? "", "WORKSPACE_ID is not set");
  assertStringIncludes(found[0] ?? "", "canvas");
  assertStringIncludes(found[1] ?? "", "PLATFORM_URL is not set");
});

Deno.test("config: every invalid value is listed at once, naming the variable and the value", () => {
  const found = problems({
    WORKSPACE_ID: "ws-123",
    PLATFORM_URL: "acme.moleculesai.app",
    MOLECULE_MCP_POLL_INTERVAL_SECS: "0.5",
    MOLECULE_MCP_HEARTBEAT_INTERVAL_SECS: "90",
    WORKSPACE_TIER: "root",
  });
  assertEquals(found.length, 5);
  assertStringIncludes(found.join("\n"), 'WORKSPACE_ID is not a workspace UUID: got "ws-123"');
  assertStringIncludes(found.join("\n"), 'PLATFORM_URL is not a URL: got "acme.moleculesai.app"');
  assertStringIncludes(
    found.join("\n"),
    'MOLECULE_MCP_POLL_INTERVAL_SECS must be a number of seconds from 1 to 60: got "0.5"',
  );
  assertStringIncludes(
    found.join("\n"),
    'MOLECULE_MCP_HEARTBEAT_INTERVAL_SECS must be a number of seconds from 5 to 60: got "90"',
  );
  assertStringIncludes(
    found.join("\n"),
    'WORKSPACE_TIER must be a whole number (0 for a root workspace): got "root"',
  );
});

Deno.test("config: the workspace id is trimmed and stored lowercase", () => {
  assertEquals(config({ ...BASE, WORKSPACE_ID: ` ${ID.toUpperCase()}\n` }).workspaceId, ID);
});

Deno.test("config: trailing slashes are dropped from PLATFORM_URL, and nothing else changes", () => {
  assertEquals(
    config({ ...BASE, PLATFORM_URL: "https://acme.moleculesai.app//" }).platformUrl,
    "https://acme.moleculesai.app",
  );
  assertEquals(
    config({ ...BASE, PLATFORM_URL: "http://localhost:8080/api/" }).platformUrl,
    "http://localhost:8080/api",
  );
});

Deno.test("config: a PLATFORM_URL with a query, a fragment or another scheme is refused", () => {
  for (
    const url of [
      "https://acme.app/?x=1",
      "https://acme.app/#top",
      "ws://acme.app",
      "https://acme .app",
    ]
  ) {
    const found = problems({ ...BASE, PLATFORM_URL: url });
    assertEquals(found.length, 1, url);
    assertStringIncludes(found[0] ?? "", "PLATFORM_URL");
  }
});

Deno.test("config: credentials in PLATFORM_URL are refused without being echoed", () => {
  const found = problems({ ...BASE, PLATFORM_URL: "https://admin:hunter22@acme.app" });
  assertEquals(found.length, 1);
  assertStringIncludes(found[0] ?? "", "user name or password");
  assert(!(found[0] ?? "").includes("hunter22"));
});

Deno.test("config: MOLECULE_MCP_VERBOSE and the disable flags are on for any non-empty value, even 0", () => {
  const c = config({
    ...BASE,
    MOLECULE_MCP_VERBOSE: "0",
    MOLECULE_MCP_DISABLE_HEARTBEAT: "0",
    MOLECULE_MCP_DISABLE_INBOX: "false",
  });
  assertEquals([c.logLevel, c.isHeartbeatDisabled, c.isInboxDisabled], ["info", true, true]);
  const off = config({ ...BASE, MOLECULE_MCP_DISABLE_HEARTBEAT: "", MOLECULE_MCP_VERBOSE: "" });
  assertEquals([off.logLevel, off.isHeartbeatDisabled], ["warn", false]);
});

Deno.test("config: agent card fields come from the env, blanks dropped", () => {
  const c = config({
    ...BASE,
    MOLECULE_AGENT_NAME: " laptop-claude ",
    MOLECULE_AGENT_DESCRIPTION: "Claude Code on Ana's laptop",
    MOLECULE_AGENT_SKILLS: " review, ,triage,,",
  });
  assertEquals(c.agentName, "laptop-claude");
  assertEquals(c.agentDescription, "Claude Code on Ana's laptop");
  assertEquals(c.agentSkills, ["review", "triage"]);
  assert(!("agentDescription" in config({ ...BASE, MOLECULE_AGENT_DESCRIPTION: "  " })));
});

Deno.test("config: poll and heartbeat intervals accept whole or decimal seconds within bounds", () => {
  const c = config({
    ...BASE,
    MOLECULE_MCP_POLL_INTERVAL_SECS: "2.5",
    MOLECULE_MCP_HEARTBEAT_INTERVAL_SECS: "60",
  });
  assertEquals([c.pollIntervalMs, c.heartbeatIntervalMs], [2500, 60000]);
  const edges = config({
    ...BASE,
    MOLECULE_MCP_POLL_INTERVAL_SECS: "1",
    MOLECULE_MCP_HEARTBEAT_INTERVAL_SECS: "5",
  });
  assertEquals([edges.pollIntervalMs, edges.heartbeatIntervalMs], [1000, 5000]);
  for (const bad of ["61", "-1", "abc", "1e3", "4.99"]) {
    assertEquals(problems({ ...BASE, MOLECULE_MCP_HEARTBEAT_INTERVAL_SECS: bad }).length, 1, bad);
  }
});

Deno.test("config: the poll timeout follows upstream and is never a problem", () => {
  const timeout = (raw: string | undefined) =>
    config({ ...BASE, MOLECULE_MCP_POLL_TIMEOUT_SECS: raw }).pollTimeoutSecs;
  assertEquals(
    [
      timeout(undefined),
      timeout("garbage"),
      timeout("-3"),
      timeout("7"),
      timeout("500"),
      timeout("0"),
    ],
    [2, 2, 2, 7, 60, 0],
  );
});

Deno.test("config: WORKSPACE_TIER 0 marks a root workspace", () => {
  assertEquals(config({ ...BASE, WORKSPACE_TIER: "0" }).workspaceTier, 0);
  assertEquals(config({ ...BASE, WORKSPACE_TIER: "3" }).workspaceTier, 3);
});

Deno.test("config: token variables never reach a problem", () => {
  const found = problems({ MOLECULE_WORKSPACE_TOKEN: "secret-token-value" });
  assert(!found.join("\n").includes("secret-token-value"));
});

Deno.test("config: plain http to another machine is cleartext-remote; loopback and https are not", () => {
  const remote = [
    "http://acme.moleculesai.app",
    "http://10.0.0.5:8080/api",
    "http://192.168.1.20",
    "http://host.docker.internal:8080",
    "http://[2001:db8::1]/",
    "http://127.0.0.1.nip.io/",
  ];
  const local = [
    "https://acme.moleculesai.app",
    "http://localhost:8080",
    "http://LOCALHOST.",
    "http://platform.localhost/api",
    "http://127.0.0.1:8080",
    "http://127.1:8080",
    "http://127.200.3.4",
    "http://[::1]:3000",
    "http://[::ffff:127.0.0.1]/",
    "not a url",
  ];
  assertEquals(remote.filter((u) => !isCleartextRemote(u)), [], "all remote");
  assertEquals(local.filter((u) => isCleartextRemote(u)), [], "none remote");
});

Deno.test("config: a cleartext PLATFORM_URL to another machine is one start-up warning naming only its origin", () => {
  const { log, text } = captureLog("debug");
  warnIfCleartextRemote("http://10.0.0.5:8080/api/v1", log);
  const lines = text().trim().split("\n");
  assertEquals(lines.length, 1);
  assertStringIncludes(lines[0] ?? "", "warn PLATFORM_URL uses plain http:// to another machine");
  assertStringIncludes(lines[0] ?? "", "platform=http://10.0.0.5:8080 ");
  assert(!(lines[0] ?? "").includes("/api/v1"));
  const quiet = captureLog("debug");
  warnIfCleartextRemote("http://localhost:8080", quiet.log);
  warnIfCleartextRemote("https://acme.moleculesai.app", quiet.log);
  assertEquals(quiet.text(), "");
});

Deno.test("config: MOLECULE_MCP_ATTACH_ALLOW is a list of absolute directories; a relative one is a problem", () => {
  const ok = loadConfig({ ...BASE, MOLECULE_MCP_ATTACH_ALLOW: "/home/me/reports/: :/tmp/out" });
  assert(ok.ok);
  assertEquals(ok.config.attachAllowDirs, ["/home/me/reports", "/tmp/out"]);
  const blank = loadConfig({ ...BASE, MOLECULE_MCP_ATTACH_ALLOW: " " });
  assert(blank.ok);
  assertEquals(blank.config.attachAllowDirs, undefined);
  const bad = loadConfig({ ...BASE, MOLECULE_MCP_ATTACH_ALLOW: "/ok:reports" });
  assert(!bad.ok);
  assertStringIncludes(bad.problems.join("\n"), "MOLECULE_MCP_ATTACH_ALLOW must list absolute");
  assertStringIncludes(bad.problems.join("\n"), '"reports"');
});

Deno.test("config: MOLECULE_MCP_EVENT_STREAM and MOLECULE_MCP_INBOX_NOTICE are on unless set to 0", () => {
  for (const off of ["0", "false", "OFF", " no "]) {
    const c = config({ ...BASE, MOLECULE_MCP_EVENT_STREAM: off, MOLECULE_MCP_INBOX_NOTICE: off });
    assertEquals([c.isEventStreamDisabled, c.isInboxNoticeDisabled], [true, true], off);
  }
  for (const on of ["", "1", "true", "on", "yes"]) {
    const c = config({ ...BASE, MOLECULE_MCP_EVENT_STREAM: on, MOLECULE_MCP_INBOX_NOTICE: on });
    assertEquals([c.isEventStreamDisabled, c.isInboxNoticeDisabled], [false, false], on);
  }
  const found = problems({ ...BASE, MOLECULE_MCP_EVENT_STREAM: "maybe" });
  assertStringIncludes(
    found.join("\n"),
    'MOLECULE_MCP_EVENT_STREAM must be 0 (off) or 1 (on): got "maybe"',
  );
});

Deno.test("config: MOLECULE_CHAT_UPLOAD_DIR must be absolute; a trailing slash is dropped", () => {
  assertEquals(
    config({ ...BASE, MOLECULE_CHAT_UPLOAD_DIR: "/data/uploads/" }).chatUploadDir,
    "/data/uploads",
  );
  const found = problems({ ...BASE, MOLECULE_CHAT_UPLOAD_DIR: "uploads" });
  assertEquals(found.length, 1);
  assertStringIncludes(
    found[0] ?? "",
    'MOLECULE_CHAT_UPLOAD_DIR must be an absolute path: got "uploads"',
  );
});

Deno.test("config: upload retention takes whole days and MiB, 0 switching a limit off", () => {
  const c = config({
    ...BASE,
    MOLECULE_CHAT_UPLOAD_RETENTION_DAYS: "30",
    MOLECULE_CHAT_UPLOAD_MAX_MB: "0",
  });
  assertEquals([c.chatUploadRetentionDays, c.chatUploadMaxBytes], [30, 0]);
  const mb = config({ ...BASE, MOLECULE_CHAT_UPLOAD_MAX_MB: " 5 " }).chatUploadMaxBytes;
  assertEquals(mb, 5 * 1024 * 1024);
});

Deno.test("config: a bad upload retention or size cap is a problem that names the fix (exit 2)", () => {
  const found = problems({
    ...BASE,
    MOLECULE_CHAT_UPLOAD_RETENTION_DAYS: "7d",
    MOLECULE_CHAT_UPLOAD_MAX_MB: "-1",
  });
  assertEquals(found, [
    "MOLECULE_CHAT_UPLOAD_RETENTION_DAYS must be a whole number of days from 0 to 36500 (0 keeps " +
    'uploads forever): got "7d" (unset it to use the default, 7)',
    "MOLECULE_CHAT_UPLOAD_MAX_MB must be a whole number of MiB from 0 to 1048576 (0 means no " +
    'size cap): got "-1" (unset it to use the default, 1024)',
  ]);
  for (const bad of ["1.5", "99999999", "1e3"]) {
    assertEquals(problems({ ...BASE, MOLECULE_CHAT_UPLOAD_MAX_MB: bad }).length, 1, bad);
  }
});
