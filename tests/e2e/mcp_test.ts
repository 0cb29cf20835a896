/**
 * The whole program as a host runs it: spawned with the shipped permission set, speaking MCP
 * on stdio, against the fake platform served on loopback.
 */
import { UPSTREAM_TOOL_NAMES } from "../fakes/tool_names.ts";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { programCommand, spawnProgram } from "../fakes/spawn.ts";
import { Client, StdioClientTransport } from "../fakes/sdk.ts";
import { RpcSession } from "../fakes/rpc_session.ts";
import { withServedPlatform } from "../fakes/served_platform.ts";
import { DEFAULT_MAX_UNANSWERED } from "../../lib/mcp/unanswered.ts";

Deno.test("e2e: the SDK client completes the handshake and lists the platform tools", async () => {
  await withServedPlatform(async ({ env }) => {
    const { command, args, cwd, env: childEnv } = programCommand({ env });
    const transport = new StdioClientTransport({
      command,
      args,
      cwd,
      env: childEnv,
      stderr: "pipe",
    });
    const client = new Client({ name: "e2e", version: "1.0.0" });
    try {
      await client.connect(transport);
      assertEquals(client.getServerVersion()?.name, "molecule");
      const caps = client.getServerCapabilities();
      assert(caps?.tools !== undefined);
      assertEquals(caps?.experimental?.["claude/channel"], {});
      assertStringIncludes(client.getInstructions() ?? "", "wait_for_message");
      const { tools } = await client.listTools();
      assertEquals(tools.map((t) => t.name), UPSTREAM_TOOL_NAMES);
    } finally {
      await client.close();
    }
  });
});

Deno.test("e2e: it registers in poll mode and pushes an inbound canvas message as a channel notification", async () => {
  await withServedPlatform(async ({ platform, env, me }) => {
    await using program = spawnProgram({ env });
    const session = new RpcSession(program);
    const init = await session.initialize();
    assertEquals(init.protocolVersion, "2025-06-18");
    await program.waitForStderr("registered with the platform");
    const registration = platform.registrations.find((r) => r.workspace_id === me.id);
    assertEquals((registration?.body as Record<string, unknown>).delivery_mode, "poll");

    const row = platform.sendToInbox(me.id, { text: "hello from the canvas" });
    const push = await session.notification("notifications/claude/channel");
    const params = push.params as { content: string; meta: Record<string, string> };
    assertStringIncludes(params.content, "hello from the canvas");
    assertEquals(params.meta.kind, "canvas_user");
    assertEquals(params.meta.activity_id, row.id);
    assertEquals(params.meta.source, "molecule");
    await program.closeStdin();
    assertEquals((await program.wait()).code, 0);
  });
});

Deno.test("e2e: a canvas image upload reaches the agent as a file it can open, the same bytes", async () => {
  await withServedPlatform(async ({ platform, env, me, dir }) => {
    await using program = spawnProgram({ env });
    const session = new RpcSession(program);
    await session.initialize();
    await program.waitForStderr("registered with the platform");
    const bytes = new Uint8Array(4096).map((_, i) => (i * 31) % 256);
    platform.uploadFromCanvas(me.id, { name: "screen shot.png", mimeType: "image/png", bytes });
    const push = await session.notification("notifications/claude/channel");
    const meta = (push.params as { meta: Record<string, string> }).meta;
    assertEquals([meta.attachment_count, meta.attachment_1_kind], ["1", "image"]);
    const waited = await session.callTool(2, "wait_for_message", { timeout_secs: 5 });
    const message = JSON.parse(waited.text) as { attachments: { uri: string }[] };
    const uri = message.attachments[0]?.uri ?? "";
    assert(uri.startsWith("file://"), uri);
    const path = decodeURIComponent(new URL(uri).pathname);
    assertEquals(meta.attachment_1_path, path);
    assert(path.startsWith(`${dir}/uploads/${me.id}/`), path);
    assertEquals(await Deno.readFile(path), bytes);
    assertEquals(platform.pendingUploads[0]?.acked, true);
    await program.closeStdin();
    assertEquals((await program.wait()).code, 0);
  });
});

Deno.test("e2e: a message waiting at start-up is pushed only after the host initialized", async () => {
  await withServedPlatform(async ({ platform, env, me }) => {
    const row = platform.sendToInbox(me.id, { text: "waiting since before start" });
    await using program = spawnProgram({ env });
    // A slow host: the backlog is already in the inbox before it says initialize.
    await program.waitForStderr("inbox received messages");
    const session = new RpcSession(program);
    await session.initialize();
    assertEquals(session.notifications, [], "nothing server-initiated before initialized");
    await session.request("list", "tools/list");
    const push = await session.notification("notifications/claude/channel");
    const params = push.params as { content: string; meta: Record<string, string> };
    assertStringIncludes(params.content, "waiting since before start");
    assertEquals(params.meta.activity_id, row.id);
    await program.closeStdin();
    assertEquals((await program.wait()).code, 0);
  });
});

Deno.test("e2e: a new message adds the inbox notice to the next tool result; MOLECULE_MCP_INBOX_NOTICE=0 leaves it out", async () => {
  for (const setting of ["1", "0"]) {
    await withServedPlatform(async ({ platform, env, me }) => {
      await using program = spawnProgram({ env: { ...env, MOLECULE_MCP_INBOX_NOTICE: setting } });
      const session = new RpcSession(program);
      await session.initialize();
      platform.sendToInbox(me.id, { text: "a message for the notice" });
      await program.waitForStderr("inbox received messages");
      const out = await session.callTool(2, "get_runtime_identity");
      assertEquals(out.isError, false, out.text);
      assertEquals(
        out.text.includes("[inbox: 1 message waiting"),
        setting === "1",
        `MOLECULE_MCP_INBOX_NOTICE=${setting}: ${out.text}`,
      );
      await program.closeStdin();
      assertEquals((await program.wait()).code, 0);
    });
  }
});

Deno.test("e2e: stdout carries only JSON-RPC lines, even for garbage input", async () => {
  await withServedPlatform(async ({ env }) => {
    await using program = spawnProgram({ env });
    const session = new RpcSession(program);
    await session.initialize();
    await program.writeLine("this is not json");
    await program.writeLine(JSON.stringify({ jsonrpc: "2.0", id: { evil: true }, method: "x" }));
    await program.writeLine(JSON.stringify({ jsonrpc: "2.0", method: "unknown/notification" }));
    const pong = await session.request(7, "ping");
    assertEquals(pong.result, {});
    await program.closeStdin();
    const { code, stdout } = await program.wait();
    assertEquals(code, 0);
    for (const line of [...session.stdoutLines, ...stdout.split("\n").filter((l) => l !== "")]) {
      const msg = JSON.parse(line) as Record<string, unknown>;
      assertEquals(msg.jsonrpc, "2.0", `not JSON-RPC: ${line}`);
    }
    const errors = session.stdoutLines.map((l) => JSON.parse(l)).filter((m) => "error" in m);
    assertEquals(errors.map((m) => m.error.code).sort((a, b) => a - b), [-32700, -32600]);
  });
});

Deno.test("e2e: a rejected token at registration exits 3 with the fix on stderr", async () => {
  await withServedPlatform(async ({ env, me }) => {
    await using program = spawnProgram({
      env: { ...env, MOLECULE_WORKSPACE_TOKEN: "not-the-right-token-aaaaaaaaaaaaaaaaaaaaaaaaa" },
    });
    const { code, stderr, stdout } = await program.exited();
    assertEquals(code, 3);
    assertStringIncludes(stderr, me.id);
    assertStringIncludes(stderr, "Tokens");
    assertEquals(stdout, "");
  });
});

Deno.test("e2e: SIGTERM stops the server cleanly with exit 0", async () => {
  await withServedPlatform(async ({ env }) => {
    await using program = spawnProgram({ env });
    const session = new RpcSession(program);
    await session.initialize();
    await program.waitForStderr("registered with the platform");
    assertEquals((await program.kill("SIGTERM")).code, 0);
  });
});

Deno.test("e2e: a second process on the same state directory waits for the inbox, then takes it over", async () => {
  await withServedPlatform(async ({ platform, env, me }) => {
    await using first = spawnProgram({ env });
    const firstSession = new RpcSession(first);
    await firstSession.initialize();
    await first.waitForStderr("registered with the platform");

    await using second = spawnProgram({ env });
    const secondSession = new RpcSession(second);
    await secondSession.initialize();
    await second.waitForStderr("another molecule-mcp process");
    const busy = await secondSession.request(2, "tools/call", { name: "inbox_peek" });
    const busyResult = busy.result as { isError?: boolean; content: { text: string }[] };
    assertEquals(busyResult.isError, true);
    assertStringIncludes(busyResult.content[0]?.text ?? "", "another molecule-mcp process");

    assertEquals((await first.kill("SIGTERM")).code, 0);
    await second.waitForStderr("inbox open");
    const row = platform.sendToInbox(me.id, { text: "for the survivor" });
    const push = await secondSession.notification("notifications/claude/channel");
    assertEquals((push.params as { meta: { activity_id: string } }).meta.activity_id, row.id);
  });
});

Deno.test("e2e: stdin and stdout may be regular files (a host that logs through files, or tee)", async () => {
  await withServedPlatform(async ({ env, dir }) => {
    const input = `${dir}/in.jsonl`;
    const output = `${dir}/out.jsonl`;
    const lines = [
      { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18" } },
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", id: 2, method: "tools/list" },
    ];
    await Deno.writeTextFile(input, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
    const { command, args, cwd, env: childEnv } = programCommand({ env });
    // Through the shell, so stdin and stdout really are regular files (not pipes).
    const quoted = [command, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
    const shell = await new Deno.Command("bash", {
      args: ["-c", `${quoted} < '${input}' > '${output}'`],
      cwd,
      env: childEnv,
      clearEnv: true,
      stderr: "piped",
    }).output();
    assertEquals(shell.code, 0, new TextDecoder().decode(shell.stderr));
    const replies = (await Deno.readTextFile(output)).trim().split("\n").map((l) => JSON.parse(l));
    assertEquals(replies.map((r) => r.id), [1, 2]);
    assertEquals(replies[1].result.tools.length, UPSTREAM_TOOL_NAMES.length);
  });
});

Deno.test("e2e: with 128 long calls in flight, a cancellation gets through at once and a ping behind it is answered", async () => {
  await withServedPlatform(async ({ env }) => {
    await using program = spawnProgram({ env });
    const session = new RpcSession(program);
    await session.initialize();
    const waits = Array.from({ length: DEFAULT_MAX_UNANSWERED }, (_, i) => i + 1);
    for (const id of waits) {
      await session.send(id, "tools/call", {
        name: "wait_for_message",
        arguments: { timeout_secs: 50 },
      });
    }
    await session.send("ping-1", "ping"); // past the cap: it waits for a place
    await session.notify("notifications/cancelled", { requestId: 7, reason: "Esc" });
    const pong = await session.response("ping-1");
    assertEquals(pong.result, {});
    assertEquals(
      waits.filter((id) => session.peekResponse(id) !== undefined),
      [],
      "none timed out",
    );
    // The host leaves: it cancels the other calls and closes stdin; nothing more is answered.
    for (const id of waits.filter((id) => id !== 7)) {
      await session.notify("notifications/cancelled", { requestId: id, reason: "bye" });
    }
    const { code, stdout } = await program.wait();
    assertEquals(code, 0);
    assertEquals(stdout.split("\n").filter((line) => line.includes('"result"')), []);
  });
});
