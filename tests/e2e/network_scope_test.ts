/**
 * Network scope: the program talks to PLATFORM_URL and to nothing else. It runs with the
 * shipped permission set (deno.json `permissions.shipped`, the one source of truth) and net
 * narrowed to the fake platform's host:port: `deno run -P=shipped --allow-net=<host:port>`
 * replaces the set's `net: true` with that one address (Deno 2.9: a flag given with -P
 * overrides that permission; the first test proves it narrows here). Then register, heartbeat,
 * the inbox and every tool run; any request elsewhere would fail with "Requires net access"
 * on stderr or in a tool's answer.
 *
 * A compiled binary (MOLECULE_MCP_BIN) has its permissions baked in and takes no flags: then
 * only the narrowing is skipped, with the reason in the test name; the rest still runs.
 */
import { UPSTREAM_TOOL_NAMES } from "../fakes/tool_names.ts";
import { assert, assertEquals } from "../assert.ts";
import { join } from "node:path";
import { createFakePlatform } from "../fakes/fake_platform.ts";
import { RpcSession, type ToolAnswer } from "../fakes/rpc_session.ts";
import { programCommand, ProgramHandle } from "../fakes/spawn.ts";
import { withTempDir } from "../fakes/temp_dir.ts";

const BIN = Deno.env.get("MOLECULE_MCP_BIN") ?? "";
const SKIP_REASON = BIN === ""
  ? ""
  : "narrowing skipped: MOLECULE_MCP_BIN is a compiled binary, which takes no permission flags";
const NO_NET = /Requires net access|NotCapable|PermissionDenied/;

const ALL_TOOLS = UPSTREAM_TOOL_NAMES;

/**
 * Starts the program as spawn.ts does, with net narrowed to `hostPort` (unless it is a
 * compiled binary). The flag goes right after the `-P=shipped` that programCommand uses, so
 * everything else still comes from deno.json.
 */
function spawnNarrowed(env: Record<string, string>, hostPort: string): ProgramHandle {
  const base = programCommand({ env });
  let args = base.args;
  if (BIN === "") {
    const at = args.indexOf("-P=shipped");
    assert(at >= 0, `spawn.ts no longer runs with -P=shipped: ${args.join(" ")}`);
    args = [
      ...args.slice(0, at + 1),
      `--allow-net=${hostPort}`,
      "--no-prompt",
      ...args.slice(at + 1),
    ];
  }
  const child = new Deno.Command(base.command, {
    args,
    env: base.env,
    cwd: base.cwd,
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return new ProgramHandle(child, true);
}

function hostPortOf(url: string): string {
  return new URL(url).host;
}

Deno.test({
  name: SKIP_REASON === ""
    ? "network scope: the narrowed permission set refuses any address but the platform's"
    : `network scope: the narrowed permission set refuses other addresses (${SKIP_REASON})`,
  ignore: SKIP_REASON !== "",
  fn: async () => {
    await withTempDir(async (dir) => {
      const allowed = createFakePlatform();
      const elsewhere = createFakePlatform();
      const me = elsewhere.addWorkspace({ delivery_mode: "poll", name: "elsewhere" });
      const allowedServed = await allowed.serve();
      const elsewhereServed = await elsewhere.serve();
      const program = spawnNarrowed({
        WORKSPACE_ID: me.id,
        PLATFORM_URL: elsewhereServed.url, // not the address net is narrowed to
        MOLECULE_WORKSPACE_TOKEN: me.token,
        CONFIGS_DIR: dir,
        MOLECULE_MCP_VERBOSE: "1",
      }, hostPortOf(allowedServed.url));
      try {
        const line = await program.waitForStderr("cannot register");
        assert(NO_NET.test(line), `registration failed for another reason: ${line}`);
        assertEquals(elsewhere.requests.length, 0, "no request got through");
      } finally {
        await program.kill();
        await allowedServed.close();
        await elsewhereServed.close();
      }
    });
  },
});

Deno.test(
  SKIP_REASON === ""
    ? "network scope: with net narrowed to the platform, register, heartbeat, the inbox and every tool work"
    : `network scope: register, heartbeat, the inbox and every tool work (${SKIP_REASON})`,
  async () => {
    await withTempDir(async (dir) => {
      const platform = createFakePlatform({ version: "latest" });
      const me = platform.addWorkspace({
        delivery_mode: "poll",
        name: "scope-me",
        broadcast_enabled: true,
      });
      const peer = platform.addWorkspace({ delivery_mode: "push", name: "scope-peer" });
      const served = await platform.serve();
      const attachment = join(dir, "report.txt");
      await Deno.writeTextFile(attachment, "attached bytes\n");
      const stateDir = join(dir, "state");
      await Deno.mkdir(stateDir, { mode: 0o700 });
      const program = spawnNarrowed({
        WORKSPACE_ID: me.id,
        PLATFORM_URL: served.url,
        MOLECULE_WORKSPACE_TOKEN: me.token,
        CONFIGS_DIR: stateDir,
        MOLECULE_MCP_POLL_INTERVAL_SECS: "1",
        MOLECULE_MCP_HEARTBEAT_INTERVAL_SECS: "5",
        MOLECULE_MCP_VERBOSE: "1",
      }, hostPortOf(served.url));
      const session = new RpcSession(program);
      const answers: Record<string, ToolAnswer> = {};
      let nextId = 1;
      const call = async (name: string, args: Record<string, unknown>) => {
        const answer = await session.callTool(nextId++, name, args);
        answers[name] = answer;
        assert(!answer.isError, `${name} failed: ${answer.text}`);
        assert(!NO_NET.test(answer.text), `${name} hit the permission wall: ${answer.text}`);
        return answer;
      };
      let stderr = "";
      try {
        await session.initialize();
        const listed = await session.request(nextId++, "tools/list");
        const names = (listed.result as { tools: { name: string }[] }).tools.map((t) => t.name);
        assertEquals([...names].sort(), [...ALL_TOOLS].sort(), "the tool list is every tool");

        await program.waitForStderr("registered with the platform");
        await program.waitForStderr("saved the platform inbound secret"); // the first heartbeat
        const row = platform.sendToInbox(me.id, { text: "scope check", from: peer.id });
        const push = await session.notification("notifications/claude/channel");
        assertEquals((push.params as { meta: { activity_id: string } }).meta.activity_id, row.id);

        const waited = await call("wait_for_message", { timeout_secs: 5 });
        assertEquals((JSON.parse(waited.text) as { activity_id: string }).activity_id, row.id);
        await call("inbox_peek", { limit: 10 });
        await call("delegate_task", { workspace_id: peer.id, task: "echo this" });
        await call("delegate_task_async", { workspace_id: peer.id, task: "later" });
        await call("check_task_status", {});
        await call("send_message_to_user", { message: "done", attachments: [attachment] });
        await call("list_peers", {});
        await call("get_workspace_info", {});
        await call("commit_memory", { content: "scope memory" });
        await call("recall_memory", { query: "" });
        await call("chat_history", { peer_id: peer.id });
        await call("broadcast_message", { message: "scope broadcast" });
        await call("get_runtime_identity", {});
        await call("update_agent_card", { card: { name: "scope-me" } });
        await call("create_request", { kind: "task", title: "scope task" });
        await call("create_approval", { action: "scope approval" });
        const popped = await call("inbox_pop", { activity_id: row.id });
        assertEquals(JSON.parse(popped.text), { removed: true, activity_id: row.id });
        assertEquals(Object.keys(answers).sort(), [...ALL_TOOLS].sort(), "every tool answered");
        assertEquals(await program.hasExited(), false);
      } finally {
        await program.closeStdin();
        await session.drain();
        const result = await program.wait();
        stderr = result.stderr;
        await served.close();
        assertEquals(result.code, 0, `clean exit; stderr:\n${stderr}`);
      }
      const badLines = stderr.split("\n").filter((l) => NO_NET.test(l));
      assertEquals(badLines, [], "no permission error on stderr");
      assert(platform.registrations.length >= 1, "registered");
      assert(platform.heartbeats.length >= 1, "heartbeat sent");
      assert(platform.count("GET /workspaces/:id/activity") >= 1, "inbox polled");
      assertEquals(platform.uploads.length, 1, "the attachment was uploaded");
      assertEquals(platform.notifications.length, 1, "the user was notified");
      assert(platform.a2aCalls.length >= 1, "the peer was called");
      assert(platform.delegations.length >= 1, "the async delegation was recorded");
      assertEquals(platform.memories.length, 1, "the memory was stored");

      const secret = (await Deno.readTextFile(join(stateDir, `.platform_inbound_secret.${me.id}`)))
        .trim();
      assert(secret.length > 0, "the inbound secret was saved");
      const stdout = session.stdoutLines.join("\n");
      for (const [name, text] of [["stdout", stdout], ["stderr", stderr]] as const) {
        assert(!text.includes(me.token), `the token appears on ${name}`);
        assert(!text.includes(secret), `the inbound secret appears on ${name}`);
      }
    });
  },
);
