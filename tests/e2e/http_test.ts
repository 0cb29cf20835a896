/**
 * The whole program served over MCP Streamable HTTP (`--http`), driven by the official SDK
 * client's StreamableHTTPClientTransport against the fake platform on loopback.
 */
import { UPSTREAM_TOOL_NAMES } from "../fakes/tool_names.ts";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { INITIALIZE_PARAMS } from "../fakes/rpc_session.ts";
import { spawnProgram } from "../fakes/spawn.ts";
import { Client, StreamableHTTPClientTransport } from "../fakes/sdk.ts";
import { withServedPlatform } from "../fakes/served_platform.ts";

/** A port free right now on 127.0.0.1. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function connect(url: string, headers?: Record<string, string>): Promise<Client> {
  const client = new Client({ name: "e2e-http", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(
    new URL(url),
    headers === undefined ? undefined : { requestInit: { headers } },
  );
  await client.connect(transport);
  return client;
}

Deno.test("e2e http: the SDK client over HTTP lists and calls every tool, gets a push, and two sessions share one inbox", async () => {
  await withServedPlatform(async ({ platform, me, env }) => {
    const port = freePort();
    // stdin is at EOF from the start: in HTTP mode that must not stop the server.
    await using program = spawnProgram({ env, args: ["--http", `${port}`], stdin: "null" });
    await program.waitForStderr("serving MCP over HTTP");
    const url = `http://127.0.0.1:${port}/mcp`;
    const first = await connect(url);
    const second = await connect(url);
    try {
      assertEquals(first.getServerVersion()?.name, "molecule");
      assertEquals(first.getServerCapabilities()?.experimental?.["claude/channel"], {});
      const { tools } = await first.listTools();
      assertEquals(tools.map((t) => t.name), UPSTREAM_TOOL_NAMES);
      await program.waitForStderr("registered with the platform");
      // Every tool answers over HTTP (with empty arguments most answer a clear isError).
      for (const name of UPSTREAM_TOOL_NAMES) {
        if (name === "wait_for_message") continue; // waits; called below with a message queued
        const result = await first.callTool({ name, arguments: {} });
        assert(Array.isArray(result.content), `${name} answered without content`);
      }
      const info = await first.callTool({ name: "get_workspace_info", arguments: {} });
      assertEquals(info.isError ?? false, false);

      const pushes: unknown[] = [];
      const pushed = Promise.withResolvers<void>();
      first.fallbackNotificationHandler = (n) => {
        if (n.method === "notifications/claude/channel") {
          pushes.push(n.params);
          pushed.resolve();
        }
        return Promise.resolve();
      };
      const row = platform.sendToInbox(me.id, { text: "hello over http" });
      await pushed.promise;
      const push = pushes[0] as { content: string; meta: Record<string, string> };
      assertStringIncludes(push.content, "hello over http");
      assertEquals(push.meta.activity_id, row.id);

      const waited = await second.callTool({ name: "wait_for_message", arguments: {} });
      assertStringIncludes(JSON.stringify(waited.content), "hello over http");
      const popped = await second.callTool({
        name: "inbox_pop",
        arguments: { activity_id: row.id },
      });
      const [answer] = popped.content as { type: string; text: string }[];
      assertEquals(JSON.parse(answer?.text ?? "{}").removed, true);
      const peek = await first.callTool({ name: "inbox_peek", arguments: {} });
      assert(!JSON.stringify(peek.content).includes("hello over http"), "the pop was not shared");
    } finally {
      await first.close();
      await second.close();
    }
    assert(!(await program.hasExited()), "the server stopped when stdin ended");
    const result = await program.kill("SIGTERM");
    assertEquals(result.code, 0);
  });
});

Deno.test("e2e http: a non-loopback bind needs MOLECULE_MCP_HTTP_TOKEN and every request must carry it", async () => {
  await withServedPlatform(async ({ env }) => {
    const refused = spawnProgram({ env, args: ["--http", "0.0.0.0:1"], stdin: "null" });
    const outcome = await refused.wait();
    assertEquals(outcome.code, 2);
    assertStringIncludes(outcome.stderr, "MOLECULE_MCP_HTTP_TOKEN");

    const token = "t".repeat(40);
    const port = freePort();
    await using program = spawnProgram({
      env: { ...env, MOLECULE_MCP_HTTP: `127.0.0.1:${port}`, MOLECULE_MCP_HTTP_TOKEN: token },
      stdin: "null",
    });
    await program.waitForStderr("serving MCP over HTTP");
    const url = `http://127.0.0.1:${port}/mcp`;
    const init = {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { ...INITIALIZE_PARAMS, protocolVersion: "2025-11-25" },
    };
    const headers = { "content-type": "application/json", accept: "application/json" };
    const anonymous = await fetch(url, { method: "POST", headers, body: JSON.stringify(init) });
    await anonymous.body?.cancel();
    assertEquals(anonymous.status, 401);
    const wrong = await fetch(url, {
      method: "POST",
      headers: { ...headers, authorization: `Bearer ${"x".repeat(40)}` },
      body: JSON.stringify(init),
    });
    await wrong.body?.cancel();
    assertEquals(wrong.status, 401);
    const client = await connect(url, { authorization: `Bearer ${token}` });
    try {
      const { tools } = await client.listTools();
      assertEquals(tools.length, UPSTREAM_TOOL_NAMES.length);
    } finally {
      await client.close();
    }
    assertEquals((await program.kill("SIGTERM")).code, 0);
  });
});
