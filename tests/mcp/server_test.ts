/**
 * McpServer through the official SDK Client over InMemoryTransport: the ecosystem's own
 * client checks every protocol claim. A few things the Client cannot send (a second
 * initialize, non-object arguments) go through a raw session on the same transport.
 */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import { Client, InMemoryTransport } from "../fakes/sdk.ts";
// fakes/sdk.ts names the SDK's `.js` subpaths, which Deno types as `any` (the SDK's "./*"
// export maps types to `*.js.d.ts`, which does not exist); these type-only imports use the
// extensionless subpaths, whose types resolve, so this file is checked against the real API.
import type { Client as SdkClient } from "@modelcontextprotocol/sdk/client";
import type { InMemoryTransport as SdkInMemoryTransport } from "@modelcontextprotocol/sdk/inMemory";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types";
import { type CapturedLog, captureLog } from "../fakes/log_capture.ts";
import { INITIALIZE_PARAMS } from "../fakes/rpc_session.ts";
import { flushMicrotasks, ManualClock } from "../fakes/manual_clock.ts";
import {
  MAX_BATCH_BYTES_IN_PROGRESS,
  MAX_IN_PROGRESS_FOR_BATCH,
  McpServer,
  type McpServerOptions,
  PROGRESS_EVERY_MS,
  STARTUP_HOLD_MS,
} from "../../lib/mcp/server.ts";
import { toolError, toolJson, type ToolSpec, toolText } from "../../lib/mcp/tool_spec.ts";

/** Resolves with `promise` if it settles within a bounded number of microtask turns. */
async function settlesSoon<T>(promise: Promise<T>, what: string): Promise<T> {
  const stuck = Symbol("stuck");
  const outcome = await Promise.race([promise, flushMicrotasks(200).then(() => stuck)]);
  if (outcome === stuck) throw new Error(`${what} did not settle while other work was pending`);
  return outcome as T;
}

/** Deps the dummy tools share with the test. */
interface TestCtx {
  calls: { tool: string; args: Record<string, unknown> }[];
  blockStarted: PromiseWithResolvers<AbortSignal>;
  release: PromiseWithResolvers<string>;
  blockReturned: PromiseWithResolvers<void>;
}

function newCtx(): TestCtx {
  return {
    calls: [],
    blockStarted: Promise.withResolvers(),
    release: Promise.withResolvers(),
    blockReturned: Promise.withResolvers(),
  };
}

const echo: ToolSpec<TestCtx> = {
  name: "echo",
  title: "Echo",
  description: "Returns its arguments as JSON. Use it to test the server.",
  inputSchema: {
    type: "object",
    properties: {
      text: { type: "string", minLength: 1 },
      count: { type: "integer", minimum: 1, maximum: 5 },
      mode: { type: "string", enum: ["plain", "loud"] },
    },
    required: ["text"],
    additionalProperties: false,
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler(args, ctx) {
    ctx.calls.push({ tool: "echo", args });
    return Promise.resolve(toolJson(args));
  },
};

const block: ToolSpec<TestCtx> = {
  name: "block",
  description: "Waits until the test releases it or the call is cancelled.",
  inputSchema: { type: "object" },
  annotations: { readOnlyHint: true },
  async handler(args, ctx) {
    ctx.calls.push({ tool: "block", args });
    ctx.blockStarted.resolve(ctx.signal);
    const aborted = new Promise<string>((resolve) =>
      ctx.signal.addEventListener("abort", () => resolve("aborted"), { once: true })
    );
    const outcome = await Promise.race([ctx.release.promise, aborted]);
    ctx.blockReturned.resolve();
    return toolText(`late result: ${outcome}`);
  },
};

const boom: ToolSpec<TestCtx> = {
  name: "boom",
  description: "Always throws.",
  inputSchema: { type: "object", properties: {} },
  annotations: {},
  handler() {
    return Promise.reject(new Error("db password hunter2 leaked"));
  },
};

const refuse: ToolSpec<TestCtx> = {
  name: "refuse",
  description: "Always answers with an expected failure.",
  inputSchema: { type: "object" },
  annotations: { destructiveHint: false, idempotentHint: true },
  handler(args, ctx) {
    ctx.calls.push({ tool: "refuse", args });
    return Promise.resolve(toolError("The inbox is disabled.", "unset MOLECULE_MCP_DISABLE_INBOX"));
  },
};

const TOOLS = [echo, block, boom, refuse];

type ServerExtras = Partial<
  Pick<
    McpServerOptions<TestCtx>,
    "instructions" | "experimental" | "clock" | "startupHoldMs" | "initializeGate"
  >
>;

function makeServer(transport: Transport, ctx: TestCtx, log: CapturedLog, extra: ServerExtras) {
  return new McpServer<TestCtx>({
    transport,
    serverInfo: { name: "molecule-mcp", version: "9.9.9" },
    tools: TOOLS,
    context: ctx,
    log: log.log,
    ...extra,
  });
}

/** The client side of the pair, recording traffic and optionally rewriting the asked version. */
class TapTransport implements Transport {
  onmessage?: Transport["onmessage"];
  onclose?: Transport["onclose"];
  onerror?: Transport["onerror"];
  received: JSONRPCMessage[] = [];
  sent: JSONRPCMessage[] = [];
  negotiatedVersion = "";

  constructor(private inner: Transport, private askVersion?: string) {}

  start(): Promise<void> {
    this.inner.onmessage = (message, extra) => {
      this.received.push(message);
      this.onmessage?.(message, extra);
    };
    this.inner.onclose = () => this.onclose?.();
    this.inner.onerror = (error) => this.onerror?.(error);
    return this.inner.start();
  }

  send(message: JSONRPCMessage): Promise<void> {
    let out = message;
    if (this.askVersion !== undefined && "method" in out && out.method === "initialize") {
      out = { ...out, params: { ...out.params, protocolVersion: this.askVersion } };
    }
    this.sent.push(out);
    return this.inner.send(out);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  setProtocolVersion(version: string): void {
    this.negotiatedVersion = version;
  }
}

/** A server plus a connected SDK Client; disposing closes both. */
function linkedPair(): [SdkInMemoryTransport, SdkInMemoryTransport] {
  return InMemoryTransport.createLinkedPair();
}

async function connect(opts: ServerExtras & { askVersion?: string } = {}) {
  const { askVersion, ...extra } = opts;
  const [clientSide, serverSide] = linkedPair();
  const ctx = newCtx();
  const logs = captureLog("debug");
  const server = makeServer(serverSide, ctx, logs, extra);
  await server.start();
  const tap = new TapTransport(clientSide, askVersion);
  const client: SdkClient = new Client({ name: "sdk-test-client", version: "1.0.0" });
  await client.connect(tap);
  return {
    client,
    server,
    ctx,
    tap,
    logs,
    async [Symbol.asyncDispose]() {
      ctx.release.resolve("test over");
      await client.close();
      await server.closed;
    },
  };
}

/** A server driven by hand-written JSON-RPC messages, for what the SDK Client never sends. */
async function rawSession(extra: ServerExtras = {}) {
  const [clientSide, serverSide] = linkedPair();
  const ctx = newCtx();
  const logs = captureLog("debug");
  const server = makeServer(serverSide, ctx, logs, extra);
  await server.start();
  const received: JSONRPCMessage[] = [];
  const waiting = new Map<string | number, (message: JSONRPCMessage) => void>();
  clientSide.onmessage = (message) => {
    received.push(message);
    if ("id" in message && message.id !== undefined) waiting.get(message.id)?.(message);
  };
  await clientSide.start();
  return {
    received,
    logs,
    server,
    calls: ctx.calls,
    /** Releases every call of the `block` tool. */
    release: ctx.release,
    send: (message: JSONRPCMessage) => clientSide.send(message),
    request(id: number, method: string, params?: Record<string, unknown>) {
      const reply = new Promise<JSONRPCMessage>((resolve) => waiting.set(id, resolve));
      const message: JSONRPCMessage = params === undefined
        ? { jsonrpc: "2.0", id, method }
        : { jsonrpc: "2.0", id, method, params };
      return clientSide.send(message).then(() => settlesSoon(reply, `reply to ${method}`));
    },
    async [Symbol.asyncDispose]() {
      await clientSide.close();
      await server.closed;
    },
  };
}

function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text: string }[] }).content ?? [];
  return content.map((c) => c.text).join("\n");
}

Deno.test("server: each supported protocol version is accepted as asked", async () => {
  for (const version of ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]) {
    await using env = await connect({ askVersion: version });
    assertEquals(env.tap.negotiatedVersion, version);
  }
});

Deno.test("server: an unknown protocol version is answered with the latest one", async () => {
  await using env = await connect({ askVersion: "2099-01-01" });
  const asked = env.tap.sent.find((m) => "method" in m && m.method === "initialize");
  assertEquals(
    asked !== undefined && "params" in asked && asked.params?.protocolVersion,
    "2099-01-01",
  );
  assertEquals(env.tap.negotiatedVersion, "2025-11-25");
});

Deno.test("server: initialize carries serverInfo, capabilities and instructions", async () => {
  await using env = await connect({ instructions: () => "Call wait_for_message to read." });
  assertEquals(env.client.getServerVersion(), { name: "molecule-mcp", version: "9.9.9" });
  assertEquals(env.client.getServerCapabilities(), {
    tools: { listChanged: false },
    experimental: { "claude/channel": {} },
  });
  assertEquals(env.client.getInstructions(), "Call wait_for_message to read.");
});

Deno.test("server: instructions are rebuilt on every initialize", async () => {
  let n = 0;
  await using raw = await rawSession({ instructions: () => `generation ${++n}` });
  const first = await raw.request(1, "initialize", INITIALIZE_PARAMS);
  const second = await raw.request(2, "initialize", INITIALIZE_PARAMS);
  assertEquals("result" in first && first.result.instructions, "generation 1");
  assertEquals("result" in second && second.result.instructions, "generation 2");
});

Deno.test("server: experimental capabilities can be replaced or left out", async () => {
  {
    await using env = await connect({ experimental: { "acme/x": { on: true } } });
    assertEquals(env.client.getServerCapabilities()?.experimental, { "acme/x": { on: true } });
  }
  await using env = await connect({ experimental: {} });
  assertEquals(env.client.getServerCapabilities(), { tools: { listChanged: false } });
  assertEquals(env.client.getInstructions(), undefined);
});

Deno.test("server: failing instructions do not stop the client from connecting", async () => {
  await using env = await connect({
    instructions: () => {
      throw new Error("template bug");
    },
  });
  assertEquals(env.client.getInstructions(), undefined);
  assertStringIncludes(env.logs.text(), "building the MCP instructions failed");
});

Deno.test("server: tools/list shows every tool with its schema and annotations", async () => {
  await using env = await connect();
  const { tools } = await env.client.listTools();
  assertEquals(tools.map((t) => t.name), ["echo", "block", "boom", "refuse"]);
  assertEquals(tools[0], {
    name: "echo",
    title: "Echo",
    description: "Returns its arguments as JSON. Use it to test the server.",
    inputSchema: echo.inputSchema,
    annotations: { readOnlyHint: true, openWorldHint: false },
  });
  assertEquals(tools[1]?.title, undefined);
});

Deno.test("server: ping answers with an empty result", async () => {
  await using env = await connect();
  assertEquals(await env.client.ping(), {});
});

Deno.test("server: a valid call reaches the handler with every argument", async () => {
  await using env = await connect();
  const result = await env.client.callTool({
    name: "echo",
    arguments: { text: "hi", count: 5, mode: "loud" },
  });
  assertEquals(env.ctx.calls, [{ tool: "echo", args: { text: "hi", count: 5, mode: "loud" } }]);
  assertEquals(result.isError, undefined);
  assertEquals(JSON.parse(textOf(result)), { text: "hi", count: 5, mode: "loud" });
  assertEquals(textOf(result), '{\n  "text": "hi",\n  "count": 5,\n  "mode": "loud"\n}');
});

Deno.test("server: an expected failure reaches the client as an isError result", async () => {
  await using env = await connect();
  const result = await env.client.callTool({ name: "refuse" });
  assertEquals(result.isError, true);
  assertEquals(textOf(result), "The inbox is disabled. Next: unset MOLECULE_MCP_DISABLE_INBOX");
});

Deno.test("server: bad arguments get an isError result naming each argument", async () => {
  await using env = await connect();
  const cases: [Record<string, unknown>, string][] = [
    [{ text: 5 }, "text must be a string: got 5"],
    [{}, "text is required"],
    [{ text: "a", mode: "quiet" }, 'mode must be one of "plain", "loud": got "quiet"'],
    [{ text: "a", count: 6 }, "count must be at most 5: got 6"],
    [{ text: "a", count: 0 }, "count must be at least 1: got 0"],
    [{ text: "" }, "text must be at least 1 character long: got 0"],
    [{ text: "a", colour: "red" }, "colour is not a known argument"],
  ];
  for (const [args, problem] of cases) {
    const result = await env.client.callTool({ name: "echo", arguments: args });
    assertEquals(result.isError, true, JSON.stringify(args));
    assertEquals(
      textOf(result),
      `Invalid arguments for echo: ${problem}. Next: fix the arguments and call echo again ` +
        "(tools/list shows its input schema)",
    );
  }
  assertEquals(env.ctx.calls, [], "no handler ran for a bad call");
});

Deno.test("server: an unknown tool is a -32602 error", async () => {
  await using env = await connect();
  const err = await assertRejects(() => env.client.callTool({ name: "nope" }));
  assertEquals(err.message, "MCP error -32602: Unknown tool: nope");
});

Deno.test("server: absent or null arguments count as none; other shapes are -32602", async () => {
  await using raw = await rawSession();
  const noArgs = await raw.request(1, "tools/call", { name: "refuse" });
  const nullArgs = await raw.request(2, "tools/call", { name: "refuse", arguments: null });
  assert("result" in noArgs && "result" in nullArgs);
  assertEquals(raw.calls, [{ tool: "refuse", args: {} }, { tool: "refuse", args: {} }]);
  for (
    const [id, params] of [
      [3, { name: "echo", arguments: ["text"] }],
      [4, { name: "echo", arguments: "text=hi" }],
      [5, { arguments: {} }],
      [6, { name: 7 }],
    ] as const
  ) {
    const reply = await raw.request(id, "tools/call", params);
    assert("error" in reply, `call ${id} should be a protocol error`);
    assertEquals(reply.error.code, -32602);
  }
  assertEquals(raw.calls.length, 2, "no handler ran for a malformed call");
});

Deno.test("server: a handler that throws gives a short internal error, details in the log", async () => {
  await using env = await connect();
  const result = await env.client.callTool({ name: "boom" });
  assertEquals(result.isError, true);
  assertEquals(
    textOf(result),
    "Internal error in boom. Next: try again; if it keeps failing, the molecule-mcp log on " +
      "stderr has the details",
  );
  assertStringIncludes(env.logs.text(), "tool failed tool=boom");
  assertStringIncludes(env.logs.text(), "db password hunter2 leaked");
  assertEquals(await env.client.ping(), {}, "the server still answers");
});

Deno.test("server: a call that waits does not delay ping or another call", async () => {
  await using env = await connect();
  const waiting = env.client.callTool({ name: "block" });
  await env.ctx.blockStarted.promise;
  assertEquals(await settlesSoon(env.client.ping(), "ping"), {});
  const other = await settlesSoon(
    env.client.callTool({ name: "echo", arguments: { text: "meanwhile" } }),
    "second call",
  );
  assertEquals(JSON.parse(textOf(other)), { text: "meanwhile" });
  env.ctx.release.resolve("released");
  assertEquals(textOf(await waiting), "late result: released");
});

Deno.test("server: cancelling a call aborts its handler and no result is sent", async () => {
  await using env = await connect();
  env.client.onerror = (error) => {
    throw new Error(`client saw a stray message: ${error.message}`);
  };
  const controller = new AbortController();
  const call = env.client.callTool({ name: "block" }, undefined, { signal: controller.signal });
  const signal = await env.ctx.blockStarted.promise;
  const request = env.tap.sent.find((m) => "method" in m && m.method === "tools/call");
  assert(request !== undefined && "id" in request);
  controller.abort("operator pressed Esc");
  await assertRejects(() => call);
  await env.ctx.blockReturned.promise;
  assert(signal.aborted, "the handler's signal is aborted");
  assertEquals(await env.client.ping(), {});
  await flushMicrotasks();
  const cancelled = env.tap.sent.find((m) =>
    "method" in m && m.method === "notifications/cancelled"
  );
  assertEquals(
    cancelled !== undefined && "params" in cancelled && cancelled.params?.requestId,
    request.id,
  );
  assertEquals(env.tap.received.filter((m) => "id" in m && m.id === request.id), []);
});

Deno.test("server: closing aborts calls still in flight", async () => {
  const env = await connect();
  const call = env.client.callTool({ name: "block" });
  const signal = await env.ctx.blockStarted.promise;
  await env.server.close();
  assert(signal.aborted);
  await assertRejects(() => call);
  await env.server.closed;
});

Deno.test("server: notify reaches the client as a notification", async () => {
  await using env = await connect();
  const got = Promise.withResolvers<unknown>();
  env.client.fallbackNotificationHandler = (notification) => {
    got.resolve(notification);
    return Promise.resolve();
  };
  await env.server.notify("notifications/claude/channel", { content: "hello", meta: { k: "v" } });
  assertEquals(await settlesSoon(got.promise, "notification"), {
    jsonrpc: "2.0",
    method: "notifications/claude/channel",
    params: { content: "hello", meta: { k: "v" } },
  });
});

Deno.test("server: notify after close neither throws nor floods the log", async () => {
  const env = await connect();
  await env.client.close();
  await env.server.closed;
  await env.server.notify("notifications/claude/channel", { content: "one" });
  await env.server.notify("notifications/claude/channel", { content: "two" });
  const drops = env.logs.lines.filter((l) => l.includes("cannot send to the MCP client"));
  assertEquals(drops.length, 2);
  assertStringIncludes(drops[0] ?? "", "] warn ");
  assertStringIncludes(drops[1] ?? "", "] debug ");
});

Deno.test("server: notifications never get a reply, known or not", async () => {
  await using raw = await rawSession();
  await raw.send({ jsonrpc: "2.0", method: "notifications/initialized" });
  await raw.send({ jsonrpc: "2.0", method: "notifications/unknown", params: { x: 1 } });
  await raw.send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 99 } });
  await raw.send({ jsonrpc: "2.0", method: "tools/list" });
  const pong = await raw.request(1, "ping");
  assertEquals(raw.received, [pong]);
});

Deno.test("server: an unknown method is -32601", async () => {
  await using raw = await rawSession();
  for (const method of ["resources/read", "prompts/get", "completion/complete", "Resources/List"]) {
    assertEquals(await raw.request(1, method), {
      jsonrpc: "2.0",
      id: 1,
      error: { code: -32601, message: `Method not found: ${method}` },
    });
  }
});

Deno.test("server: resources, resource templates and prompts are listed as empty, capabilities unchanged", async () => {
  await using raw = await rawSession();
  const init = await raw.request(1, "initialize", INITIALIZE_PARAMS);
  assertEquals(
    Object.keys((init as unknown as { result: { capabilities: object } }).result.capabilities),
    ["tools", "experimental"],
  );
  assertEquals(await raw.request(2, "resources/list"), {
    jsonrpc: "2.0",
    id: 2,
    result: { resources: [] },
  });
  assertEquals(await raw.request(3, "resources/templates/list", { cursor: "x" }), {
    jsonrpc: "2.0",
    id: 3,
    result: { resourceTemplates: [] },
  });
  assertEquals(await raw.request(4, "prompts/list"), {
    jsonrpc: "2.0",
    id: 4,
    result: { prompts: [] },
  });
});

/** Every channel push the raw session has received, by content. */
function pushesOf(received: JSONRPCMessage[]): unknown[] {
  return received.filter((m) => "method" in m && m.method === "notifications/claude/channel")
    .map((m) => ("params" in m ? m.params?.content : undefined));
}

Deno.test("server: nothing is pushed before initialized; held pushes go out 1.5 s after it, in order", async () => {
  const clock = new ManualClock();
  await using raw = await rawSession({ clock });
  const push = (content: string) =>
    void raw.server.notify("notifications/claude/channel", { content });
  push("backlog 1");
  push("backlog 2");
  await raw.request(1, "initialize", INITIALIZE_PARAMS);
  assertEquals(pushesOf(raw.received), []);
  await raw.send({ jsonrpc: "2.0", method: "notifications/initialized" });
  await raw.request(2, "tools/list");
  await raw.request(3, "ping");
  push("arrived during the hold");
  await clock.advance(STARTUP_HOLD_MS - 1);
  assertEquals(pushesOf(raw.received), [], "held although the host kept talking");
  await clock.advance(1);
  assertEquals(pushesOf(raw.received), ["backlog 1", "backlog 2", "arrived during the hold"]);
  push("after the hold");
  await flushMicrotasks();
  assertEquals(pushesOf(raw.received).at(-1), "after the hold");
});

Deno.test("server: pushes held for a host that never initializes are dropped at close", async () => {
  const clock = new ManualClock();
  const raw = await rawSession({ clock });
  const sent = raw.server.notify("notifications/claude/channel", { content: "never" });
  await raw.request(1, "initialize", INITIALIZE_PARAMS);
  await raw[Symbol.asyncDispose]();
  await settlesSoon(sent, "a held notify after close");
  assertEquals(pushesOf(raw.received), []);
  assertEquals(clock.pendingSleeps, 0);
});

/** Sends a raw JSON value (a batch) and resolves with the next message the server sends. */
async function sendRaw(raw: Awaited<ReturnType<typeof rawSession>>, value: unknown) {
  const before = raw.received.length;
  // deno-lint-ignore no-explicit-any
  await raw.send(value as any);
  await flushMicrotasks(50);
  return raw.received.slice(before);
}

const PING_AND_LIST = [
  { jsonrpc: "2.0", id: "a", method: "ping" },
  { jsonrpc: "2.0", method: "notifications/unknown" },
  { jsonrpc: "2.0", id: "b", method: "tools/list" },
];

for (const version of ["2024-11-05", "2025-03-26"]) {
  Deno.test(`server: a batch after negotiating ${version} gets an array of responses`, async () => {
    await using raw = await rawSession();
    await raw.request(1, "initialize", { ...INITIALIZE_PARAMS, protocolVersion: version });
    const [reply] = await sendRaw(raw, PING_AND_LIST);
    assert(Array.isArray(reply), JSON.stringify(reply));
    const byId = new Map(
      reply.map((r: { id: string; result: { tools?: unknown[] } }) => [r.id, r]),
    );
    assertEquals(byId.size, 2);
    assertEquals(byId.get("a"), { jsonrpc: "2.0", id: "a", result: {} });
    assertEquals(byId.get("b")?.result.tools?.length, TOOLS.length);
    const [mixed] = await sendRaw(raw, [
      { jsonrpc: "2.0", id: 7, method: "initialize", params: INITIALIZE_PARAMS },
      { jsonrpc: "1.0", id: 8, method: "ping" },
      42,
    ]);
    assertEquals(mixed, [
      {
        jsonrpc: "2.0",
        id: 7,
        error: { code: -32600, message: "Invalid Request: initialize must not be part of a batch" },
      },
      {
        jsonrpc: "2.0",
        id: null,
        error: { code: -32600, message: 'Invalid Request: jsonrpc must be "2.0"' },
      },
      {
        jsonrpc: "2.0",
        id: null,
        error: { code: -32600, message: "Invalid Request: expected a JSON object" },
      },
    ]);
    assertEquals(await sendRaw(raw, [{ jsonrpc: "2.0", method: "notifications/unknown" }]), []);
    assertEquals(await sendRaw(raw, []), [
      {
        jsonrpc: "2.0",
        id: null,
        error: { code: -32600, message: "Invalid Request: empty batch" },
      },
    ]);
  });
}

Deno.test("server: a huge batch runs at most 256 requests at once; the rest are refused as busy", async () => {
  await using raw = await rawSession();
  await raw.request(1, "initialize", { ...INITIALIZE_PARAMS, protocolVersion: "2025-03-26" });
  const batch = Array.from({ length: 300 }, (_, i) => ({
    jsonrpc: "2.0",
    id: `b${i}`,
    method: "tools/call",
    params: { name: "block" },
  }));
  const before = raw.received.length;
  // deno-lint-ignore no-explicit-any
  await raw.send(batch as any);
  await flushMicrotasks(50);
  assertEquals(raw.calls.length, MAX_IN_PROGRESS_FOR_BATCH);
  raw.release.resolve("done");
  await flushMicrotasks(50);
  const [reply] = raw.received.slice(before);
  assert(Array.isArray(reply), JSON.stringify(reply)?.slice(0, 200));
  const busy = reply.filter((r: { error?: { code: number } }) => r.error?.code === -32000);
  assertEquals([reply.length, busy.length], [300, 300 - MAX_IN_PROGRESS_FOR_BATCH]);
});

Deno.test("server: batch requests in progress are bounded by their size too; past 8 MiB the rest are refused as busy", async () => {
  await using raw = await rawSession();
  await raw.request(1, "initialize", { ...INITIALIZE_PARAMS, protocolVersion: "2025-03-26" });
  const pad = "x".repeat(3 * 1024 * 1024);
  const batch = (from: number) =>
    Array.from({ length: 2 }, (_, i) => ({
      jsonrpc: "2.0",
      id: `b${from + i}`,
      method: "tools/call",
      params: { name: "block", arguments: { pad } },
    }));
  const before = raw.received.length;
  // Two batches of two 3 MiB requests: three run (9 MiB, the third passes the bound by
  // itself), the fourth is refused; far under the 256-request bound.
  // deno-lint-ignore no-explicit-any
  await raw.send(batch(0) as any);
  // deno-lint-ignore no-explicit-any
  await raw.send(batch(2) as any);
  await flushMicrotasks(50);
  assertEquals(raw.calls.length, 3);
  assert(3 * pad.length > MAX_BATCH_BYTES_IN_PROGRESS);
  raw.release.resolve("done");
  await flushMicrotasks(50);
  const replies = raw.received.slice(before).flat() as unknown as {
    error?: { code: number; message: string };
  }[];
  const busy = replies.filter((r) => r.error?.code === -32000);
  assertEquals([replies.length, busy.length], [4, 1]);
  assertStringIncludes(busy[0]?.error?.message ?? "", "8 MiB of batch requests");
  // Once answered, their size is free again: a new batch request runs.
  const after = raw.calls.length;
  // deno-lint-ignore no-explicit-any
  await raw.send(batch(4).slice(0, 1) as any);
  await flushMicrotasks(50);
  assertEquals(raw.calls.length, after + 1);
});

Deno.test("server: a batch gets one -32600 before initialize and after negotiating 2025-06-18", async () => {
  await using raw = await rawSession();
  const refused = {
    jsonrpc: "2.0",
    id: null,
    error: { code: -32600, message: "Invalid Request: batches are not supported by MCP" },
  };
  assertEquals(await sendRaw(raw, PING_AND_LIST), [refused]);
  await raw.request(1, "initialize", INITIALIZE_PARAMS);
  assertEquals(await sendRaw(raw, PING_AND_LIST), [refused]);
});

Deno.test("server: a bad tool list is refused at construction", () => {
  const [, serverSide] = linkedPair();
  const loose: ToolSpec<TestCtx> = {
    ...echo,
    name: "loose",
    inputSchema: JSON.parse(
      '{"type":"object","properties":{"id":{"type":"string","pattern":"x"}}}',
    ),
  };
  let message = "";
  try {
    new McpServer({
      transport: serverSide,
      serverInfo: { name: "m", version: "1" },
      tools: [echo, echo, loose],
      context: newCtx(),
      log: captureLog().log,
    });
  } catch (err) {
    assert(err instanceof TypeError);
    message = err.message;
  }
  assertEquals(
    message,
    "Invalid tool definitions: echo: duplicate tool name; " +
      "loose: inputSchema.properties.id: unsupported keyword pattern",
  );
});

/** A raw session whose tools are still loading until the test settles `loading`. */
async function loadingSession() {
  const [clientSide, serverSide] = linkedPair();
  const ctx = newCtx();
  const logs = captureLog("debug");
  const loading = Promise.withResolvers<{ tools: ToolSpec<TestCtx>[]; context: TestCtx }>();
  const server = new McpServer<TestCtx>({
    transport: serverSide,
    serverInfo: { name: "molecule-mcp", version: "9.9.9" },
    loading: loading.promise,
    log: logs.log,
  });
  await server.start();
  const replies = new Map<string | number, PromiseWithResolvers<JSONRPCMessage>>();
  const replyTo = (id: number) => {
    const waiter = replies.get(id) ?? Promise.withResolvers<JSONRPCMessage>();
    replies.set(id, waiter);
    return waiter.promise;
  };
  clientSide.onmessage = (message) => {
    if ("id" in message && typeof message.id === "number") {
      void replyTo(message.id);
      replies.get(message.id)?.resolve(message);
    }
  };
  await clientSide.start();
  return {
    ctx,
    logs,
    loading,
    replyTo,
    send: (id: number, method: string, params: Record<string, unknown> = {}) =>
      clientSide.send({ jsonrpc: "2.0", id, method, params }),
    async [Symbol.asyncDispose]() {
      await clientSide.close();
      await server.closed;
    },
  };
}

Deno.test("server: initialize and ping are answered while the tools are still loading", async () => {
  await using raw = await loadingSession();
  await raw.send(1, "initialize", INITIALIZE_PARAMS);
  await raw.send(2, "tools/list");
  await raw.send(3, "tools/call", { name: "echo", arguments: { text: "early" } });
  await raw.send(4, "ping");
  const init = await settlesSoon(raw.replyTo(1), "initialize");
  assert("result" in init && init.result.protocolVersion === "2025-06-18");
  assertEquals(await settlesSoon(raw.replyTo(4), "ping"), { jsonrpc: "2.0", id: 4, result: {} });

  // tools/list and tools/call wait for the tools, then answer as usual.
  let isListAnswered = false;
  void raw.replyTo(2).then(() => isListAnswered = true);
  await flushMicrotasks(50);
  assertEquals(isListAnswered, false);
  raw.loading.resolve({ tools: TOOLS, context: raw.ctx });
  const list = await settlesSoon(raw.replyTo(2), "tools/list");
  assert("result" in list && Array.isArray(list.result.tools));
  assertEquals(list.result.tools.map((t: { name: string }) => t.name), [
    "echo",
    "block",
    "boom",
    "refuse",
  ]);
  const call = await settlesSoon(raw.replyTo(3), "tools/call");
  assert("result" in call);
  assertEquals(textOf(call.result), '{\n  "text": "early"\n}');
  assertEquals(raw.ctx.calls, [{ tool: "echo", args: { text: "early" } }]);
});

Deno.test("server: tools that fail to load answer tools/list with an internal error", async () => {
  await using raw = await loadingSession();
  await raw.send(1, "tools/list");
  raw.loading.reject(new Error("the workspace link did not open"));
  assertEquals(await settlesSoon(raw.replyTo(1), "tools/list"), {
    jsonrpc: "2.0",
    id: 1,
    error: { code: -32603, message: "Internal error" },
  });
  await raw.send(2, "ping");
  assertEquals(await settlesSoon(raw.replyTo(2), "ping"), { jsonrpc: "2.0", id: 2, result: {} });
});

Deno.test("server: heard waits for the client's first message, and initialize is answered first", async () => {
  const [clientSide, serverSide] = linkedPair();
  const server = makeServer(serverSide, newCtx(), captureLog(), {});
  const order: string[] = [];
  void server.heard.then(() => order.push("heard"));
  clientSide.onmessage = (message) => order.push("id" in message ? `reply ${message.id}` : "?");
  await clientSide.start();
  await server.start();
  await flushMicrotasks(50);
  assertEquals(order, [], "nothing heard before the client speaks");
  await clientSide.send({
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: INITIALIZE_PARAMS,
  });
  await settlesSoon(server.heard, "heard");
  await flushMicrotasks(50);
  assertEquals(order, ["reply 1", "heard"]);
  await clientSide.close();
  await server.closed;
});

Deno.test("server: heard also settles when the session ends without a message", async () => {
  const [clientSide, serverSide] = linkedPair();
  const server = makeServer(serverSide, newCtx(), captureLog(), {});
  await server.start();
  await clientSide.start();
  await clientSide.close();
  await server.closed;
  await settlesSoon(server.heard, "heard");
});

Deno.test("server: a call with a progress token gets notifications/progress at least every 5 s until it answers", async () => {
  const clock = new ManualClock();
  await using env = await connect({ clock, startupHoldMs: 0 });
  const seen: { progress: number; message?: string | undefined }[] = [];
  const call = env.client.callTool({ name: "block" }, undefined, {
    onprogress: (p: { progress: number; message?: string | undefined }) => seen.push(p),
    resetTimeoutOnProgress: true,
  });
  await env.ctx.blockStarted.promise;
  for (let i = 0; i < 5; i++) {
    await clock.advance(PROGRESS_EVERY_MS);
    await flushMicrotasks(50);
  }
  assert(PROGRESS_EVERY_MS <= 5_000);
  assertEquals(seen.map((p) => p.progress), [1, 2, 3, 4, 5], "one per interval, increasing");
  env.ctx.release.resolve("released");
  assertEquals(textOf(await call), "late result: released");
  await clock.advance(3 * PROGRESS_EVERY_MS);
  await flushMicrotasks(50);
  assertEquals(seen.length, 5, "nothing after the answer");
  assertEquals(clock.pendingSleeps, 0, "no timer left behind");
});

Deno.test("server: a call without a progress token gets no progress notification", async () => {
  const clock = new ManualClock();
  await using env = await connect({ clock, startupHoldMs: 0 });
  const call = env.client.callTool({ name: "block" });
  await env.ctx.blockStarted.promise;
  await clock.advance(4 * PROGRESS_EVERY_MS);
  await flushMicrotasks(50);
  env.ctx.release.resolve("released");
  await call;
  const progress = env.tap.received.filter((m) =>
    "method" in m && m.method === "notifications/progress"
  );
  assertEquals(progress, []);
});

Deno.test("server: an answer held by the initialize gate and dropped because we closed is no warning", async () => {
  // Found with Claude Code 2.1.197: a refused token closes the session while initialize waits
  // for the first register, and the log said "the host has probably gone" (it had not).
  const gate = Promise.withResolvers<void>();
  await using raw = await rawSession({ initializeGate: gate.promise });
  await raw.send({
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: INITIALIZE_PARAMS,
  });
  const closing = raw.server.close();
  gate.resolve();
  await closing;
  await raw.server.closed;
  const warnings = raw.logs.lines.filter((l) => l.includes(" warn "));
  assertEquals(warnings, []);
  assert(raw.logs.lines.some((l) => l.includes("message dropped")), raw.logs.lines.join("\n"));
});

Deno.test("server: a host's long request id is cut in every log line that names it", async () => {
  await using raw = await rawSession();
  const id = `id-${"x".repeat(20_000)}`;
  const call = { jsonrpc: "2.0" as const, id, method: "tools/call", params: { name: "block" } };
  await raw.send(call);
  await raw.send(call); // the id of a request in progress: refused, and logged at warn
  await raw.send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: id } });
  await raw.send({ jsonrpc: "2.0", id, result: {} }); // a response from the host: ignored
  await flushMicrotasks(50);
  const naming = raw.logs.lines.filter((line) => line.includes("id-xxx"));
  assertEquals(naming.length >= 4, true, raw.logs.text().slice(0, 500));
  for (const line of naming) assert(line.length < 500, `${line.length}: ${line.slice(0, 120)}`);
});
