/**
 * The Streamable HTTP endpoint (lib/mcp/http.ts) driven in-process: raw requests for the
 * checks (Host/Origin, sessions, limits) and the official SDK client (its fetch pointed at the
 * handler) for the protocol, pushes and progress routing.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { Client, StreamableHTTPClientTransport } from "../fakes/sdk.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { flushMicrotasks, ManualClock } from "../fakes/manual_clock.ts";
import { INITIALIZE_PARAMS } from "../fakes/rpc_session.ts";
import { McpHttpHandler, type McpHttpOptions } from "../../lib/mcp/http.ts";
import { checkRequest, isSameSecret } from "../../lib/mcp/http_guard.ts";
import { McpServer } from "../../lib/mcp/server.ts";
import { HttpSessionTransport } from "../../lib/mcp/http_session.ts";
import { type ToolSpec, toolText } from "../../lib/mcp/tool_spec.ts";
import { isLoopbackName, parseHttpListen } from "../../lib/http_listen.ts";

const URL_BASE = "http://127.0.0.1:8765/mcp";

const ECHO: ToolSpec<Record<string, never>> = {
  name: "echo",
  description: "Echoes its text.",
  inputSchema: { type: "object", properties: { text: { type: "string" } } },
  annotations: { readOnlyHint: true },
  handler: (args) => Promise.resolve(toolText(String(args.text ?? ""))),
};

/** Reports progress once, then answers. */
const STEP: ToolSpec<Record<string, never>> = {
  name: "step",
  description: "Reports progress once.",
  inputSchema: { type: "object", properties: {} },
  annotations: { readOnlyHint: true },
  handler: (_args, ctx) => {
    ctx.progress?.("half way");
    return Promise.resolve(toolText("done"));
  },
};

function rig(
  opts: Partial<McpHttpOptions> = {},
  tools: ToolSpec<Record<string, never>>[] = [ECHO, STEP],
) {
  const clock = new ManualClock();
  const { log } = captureLog();
  let counter = 0;
  const handler = new McpHttpHandler({
    hostname: "127.0.0.1",
    isLoopback: true,
    token: undefined,
    log,
    clock,
    newId: () => `session-${++counter}`,
    openSession: (transport) =>
      new McpServer({
        transport,
        serverInfo: { name: "t", version: "1" },
        tools,
        context: {},
        log,
        startupHoldMs: 0,
      }),
    ...opts,
  });
  return { handler, clock };
}

const INIT = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { ...INITIALIZE_PARAMS, protocolVersion: "2025-11-25" },
};

function post(body: unknown, headers: Record<string, string> = {}): Request {
  return new Request(URL_BASE, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function openSession(handler: McpHttpHandler): Promise<string> {
  const res = await handler.handle(post(INIT));
  assertEquals(res.status, 200);
  const body = await res.json();
  assertEquals(body.result.protocolVersion, "2025-11-25");
  const id = res.headers.get("mcp-session-id");
  assert(id !== null);
  return id;
}

/** Opens the session's GET stream (the session is busy while it is open). */
async function openGetStream(handler: McpHttpHandler, id: string): Promise<Response> {
  const res = await handler.handle(
    new Request(URL_BASE, {
      method: "GET",
      headers: { accept: "text/event-stream", "mcp-session-id": id },
    }),
  );
  assertEquals(res.status, 200);
  return res;
}

/** An SDK client whose fetch calls the handler; `getOpened` settles when its GET stream is up. */
function sdkClient(handler: McpHttpHandler) {
  const getOpened = Promise.withResolvers<void>();
  const transport = new StreamableHTTPClientTransport(new URL(URL_BASE), {
    fetch: async (input: string | URL | Request, init?: RequestInit) => {
      const res = await handler.handle(new Request(input, init));
      if (init?.method === "GET" && res.status === 200) getOpened.resolve();
      return res;
    },
  });
  return {
    client: new Client({ name: "t", version: "1" }),
    transport,
    getOpened: getOpened.promise,
  };
}

Deno.test("mcp http: a page whose DNS turned to 127.0.0.1 is refused (Host or Origin not loopback)", async () => {
  const { handler } = rig();
  const evilHost = await handler.handle(post(INIT, { host: "evil.example.com" }));
  assertEquals(evilHost.status, 403);
  await evilHost.body?.cancel();
  const evilOrigin = await handler.handle(post(INIT, { origin: "http://evil.example.com" }));
  assertEquals(evilOrigin.status, 403);
  await evilOrigin.body?.cancel();
  const local = await handler.handle(
    post(INIT, { host: "localhost:8765", origin: "http://localhost:8765" }),
  );
  assertEquals(local.status, 200);
  await local.body?.cancel();
  await handler.close();
});

Deno.test("mcp http: bound to a LAN address, Host must name it (or loopback) and an Origin must match Host; a wildcard bind takes any Host", async () => {
  const token = "s".repeat(40);
  const auth = { authorization: `Bearer ${token}` };
  const statusOf = async (hostname: string, headers: Record<string, string>) =>
    (await checkRequest(post(INIT, { ...auth, ...headers }), {
      hostname,
      isLoopback: false,
      token,
    }))?.status ?? 200;
  const lan = "192.168.1.20";
  assertEquals(await statusOf(lan, { host: `${lan}:8765` }), 200);
  assertEquals(await statusOf(lan, { host: "localhost:8765" }), 200);
  assertEquals(await statusOf(lan, { host: "evil.example.com" }), 403, "another Host");
  assertEquals(
    await statusOf(lan, { host: `${lan}:8765`, origin: `http://${lan}:3000` }),
    200,
    "an Origin naming the same host",
  );
  assertEquals(
    await statusOf(lan, { host: `${lan}:8765`, origin: "http://evil.example.com" }),
    403,
    "an Origin naming another host",
  );
  assertEquals(await statusOf("0.0.0.0", { host: "evil.example.com" }), 200, "wildcard bind");
});

Deno.test("mcp http: with a token, a request without it or with a wrong one gets 401", async () => {
  const token = "s".repeat(40);
  const { handler } = rig({ token });
  const none = await handler.handle(post(INIT));
  assertEquals(none.status, 401);
  assertEquals(none.headers.get("www-authenticate"), "Bearer");
  await none.body?.cancel();
  const wrong = await handler.handle(post(INIT, { authorization: `Bearer ${token}x` }));
  assertEquals(wrong.status, 401);
  await wrong.body?.cancel();
  const right = await handler.handle(post(INIT, { authorization: `Bearer ${token}` }));
  assertEquals(right.status, 200);
  await right.body?.cancel();
  assert(await isSameSecret("abc", "abc"));
  assert(!(await isSameSecret("abc", "abd")));
  await handler.close();
});

Deno.test("mcp http: requests outside a session are refused, DELETE ends one, an unknown one is 404", async () => {
  const { handler } = rig();
  const orphan = await handler.handle(post({ jsonrpc: "2.0", id: 2, method: "ping" }));
  assertEquals(orphan.status, 400);
  await orphan.body?.cancel();
  const id = await openSession(handler);
  const ping = await handler.handle(
    post({ jsonrpc: "2.0", id: 2, method: "ping" }, { "mcp-session-id": id }),
  );
  assertEquals(ping.status, 200);
  assertEquals((await ping.json()).result, {});
  const note = await handler.handle(
    post({ jsonrpc: "2.0", method: "notifications/initialized" }, { "mcp-session-id": id }),
  );
  assertEquals(note.status, 202);
  const ended = await handler.handle(
    new Request(URL_BASE, { method: "DELETE", headers: { "mcp-session-id": id } }),
  );
  assertEquals(ended.status, 200);
  const after = await handler.handle(
    post({ jsonrpc: "2.0", id: 3, method: "ping" }, { "mcp-session-id": id }),
  );
  assertEquals(after.status, 404);
  await after.body?.cancel();
  const put = await handler.handle(new Request(URL_BASE, { method: "PUT" }));
  assertEquals(put.status, 405);
  await put.body?.cancel();
  const elsewhere = await handler.handle(new Request("http://127.0.0.1:8765/other"));
  assertEquals(elsewhere.status, 404);
  await elsewhere.body?.cancel();
  await handler.close();
});

Deno.test("mcp http: a lone surrogate in a JSON reply is written as U+FFFD, never as an escape", async () => {
  const { handler } = rig();
  const id = await openSession(handler);
  const call = { name: "echo", arguments: { text: "cut \ud83d here" } };
  const reply = await handler.handle(
    post({ jsonrpc: "2.0", id: 2, method: "tools/call", params: call }, { "mcp-session-id": id }),
  );
  assertEquals(reply.status, 200);
  const text = await reply.text();
  assert(!text.includes("\\ud83d"), text);
  assertEquals(JSON.parse(text).result.content[0].text, "cut \ufffd here");
  await handler.close();
});

Deno.test("mcp http: a body over the limit gets 413, junk gets a -32700 parse error", async () => {
  const { handler } = rig({ maxBodyBytes: 1024 });
  const big = await handler.handle(post({ ...INIT, pad: "x".repeat(2000) }));
  assertEquals(big.status, 413);
  await big.body?.cancel();
  const junk = await handler.handle(post("{not json"));
  assertEquals(junk.status, 400);
  assertEquals((await junk.json()).error.code, -32700);
  const version = await handler.handle(post(INIT, { "mcp-protocol-version": "1999-01-01" }));
  assertEquals(version.status, 400);
  await version.body?.cancel();
  await handler.close();
});

Deno.test("mcp http: a client that goes away mid-body gets a 400, not an unhandled error", async () => {
  const { handler } = rig();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"jsonrpc":"2.0",'));
      controller.error(new Error("connection reset"));
    },
  });
  const req = new Request(URL_BASE, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body,
  });
  const res = await handler.handle(req);
  assertEquals(res.status, 400);
  assertStringIncludes((await res.json()).error.message, "could not be read");
  await handler.close();
});

Deno.test("mcp http: a session unused past the idle timeout ends and its client gets 404", async () => {
  const { handler, clock } = rig({ idleTimeoutMs: 60_000 });
  const id = await openSession(handler);
  await clock.advance(59_000);
  assertEquals(await handler.sweepIdle(), 0);
  await clock.advance(1_000);
  assertEquals(await handler.sweepIdle(), 1);
  const after = await handler.handle(
    post({ jsonrpc: "2.0", id: 2, method: "ping" }, { "mcp-session-id": id }),
  );
  assertEquals(after.status, 404);
  await after.body?.cancel();
  await handler.close();
});

Deno.test("mcp http: a session with its GET stream open is never ended as idle", async () => {
  const { handler, clock } = rig({ idleTimeoutMs: 60_000 });
  const id = await openSession(handler);
  const stream = await openGetStream(handler, id);
  await clock.advance(120_000);
  assertEquals(await handler.sweepIdle(), 0);
  assertEquals(handler.sessionCount, 1);
  await stream.body?.cancel();
  await handler.close();
});

Deno.test("mcp http: at the session limit the session idle longest makes room; all busy gets 503", async () => {
  const { handler, clock } = rig({ maxSessions: 2 });
  const a = await openSession(handler);
  await clock.advance(10);
  const b = await openSession(handler);
  await clock.advance(10);
  const c = await openSession(handler); // ends a, the least recently used
  assertEquals(handler.sessionCount, 2);
  const oldA = await handler.handle(
    post({ jsonrpc: "2.0", id: 2, method: "ping" }, { "mcp-session-id": a }),
  );
  assertEquals(oldA.status, 404);
  await oldA.body?.cancel();
  const stillB = await handler.handle(
    post({ jsonrpc: "2.0", id: 2, method: "ping" }, { "mcp-session-id": b }),
  );
  assertEquals(stillB.status, 200);
  await stillB.body?.cancel();
  const streams = [await openGetStream(handler, b), await openGetStream(handler, c)];
  const refused = await handler.handle(post(INIT));
  assertEquals([refused.status, refused.headers.get("retry-after")], [503, "5"], "all busy");
  await refused.body?.cancel();
  assertEquals(handler.sessionCount, 2);
  for (const stream of streams) await stream.body?.cancel();
  await handler.close();
});

Deno.test("mcp http: the SDK client calls a tool and receives a push on its GET stream", async () => {
  const { handler } = rig();
  const { client, transport, getOpened } = sdkClient(handler);
  await client.connect(transport);
  try {
    const result = await client.callTool({ name: "echo", arguments: { text: "hi" } });
    assertEquals(result.content, [{ type: "text", text: "hi" }]);
    const pushed = Promise.withResolvers<unknown>();
    client.fallbackNotificationHandler = (n) => {
      pushed.resolve(n.params);
      return Promise.resolve();
    };
    // The SDK opens its GET stream after initialized; a push sent to every session reaches it.
    await getOpened;
    await handler.notifyAll("notifications/claude/channel", { content: "ping", meta: {} });
    assertStringIncludes(JSON.stringify(await pushed.promise), "ping");
  } finally {
    await client.close();
    await handler.close();
  }
});

Deno.test("mcp http: [HOST:]PORT parsing binds loopback by default and needs a token elsewhere", () => {
  const plain = parseHttpListen("8765", { token: undefined, from: "--http" });
  assert(plain.ok);
  assertEquals(plain.listen.hostname, "127.0.0.1");
  assertEquals(plain.listen.port, 8765);
  const v6 = parseHttpListen("[::1]:9000", { token: undefined, from: "--http" });
  assert(v6.ok);
  assertEquals(v6.listen.hostname, "::1");
  const open = parseHttpListen("0.0.0.0:9000", { token: undefined, from: "--http" });
  assert(!open.ok);
  assertStringIncludes(open.problem, "MOLECULE_MCP_HTTP_TOKEN");
  const short = parseHttpListen("0.0.0.0:9000", { token: "short", from: "--http" });
  assert(!short.ok);
  assertStringIncludes(short.problem, "too short");
  assert(!parseHttpListen("99999", { token: undefined, from: "--http" }).ok);
  assert(!parseHttpListen("::1:80", { token: undefined, from: "--http" }).ok);
  assert(isLoopbackName("localhost") && isLoopbackName("127.0.0.2") && isLoopbackName("[::1]"));
  assert(!isLoopbackName("evil.example.com") && !isLoopbackName("10.0.0.1"));
});

Deno.test("mcp http: a call's progress and its answer come on that POST's stream, not another session's", async () => {
  const { handler } = rig();
  const mine = await openSession(handler);
  const other = await openSession(handler);
  for (const id of [mine, other]) {
    const done = await handler.handle(
      post({ jsonrpc: "2.0", method: "notifications/initialized" }, { "mcp-session-id": id }),
    );
    assertEquals(done.status, 202);
  }
  const otherStream = handler.handle(
    new Request(URL_BASE, {
      headers: { accept: "text/event-stream", "mcp-session-id": other },
    }),
  );
  const call = await handler.handle(post({
    jsonrpc: "2.0",
    id: 7,
    method: "tools/call",
    params: { name: "step", arguments: {}, _meta: { progressToken: "p-1" } },
  }, { "mcp-session-id": mine, accept: "application/json, text/event-stream" }));
  assertEquals(call.headers.get("content-type"), "text/event-stream");
  const events = await call.text(); // the stream ends once the call is answered
  const progressAt = events.indexOf('"method":"notifications/progress"');
  const answerAt = events.indexOf('"id":7');
  assert(progressAt !== -1 && answerAt > progressAt, events);
  assertStringIncludes(events, "half way");
  await handler.close(); // ends the other session's GET stream: it got nothing
  assertEquals(await (await otherStream).text(), "");
});

/** A bare HTTP session with `maxUnanswered`, the messages it hands on, and a tools/call maker. */
function boundedSession(maxUnanswered: number) {
  const { log } = captureLog();
  const session = new HttpSessionTransport({ id: "s-1", log, maxUnanswered });
  const received: unknown[] = [];
  session.onmessage = (message) => received.push(message);
  const call = (id: number) => ({ jsonrpc: "2.0", id, method: "tools/call", params: {} });
  return { session, received, call };
}

Deno.test("mcp http: past the unanswered-request bound a session's POST gets 503 busy; answered ones free room", async () => {
  const { session, received, call } = boundedSession(2);
  const first = await session.post(call(1), "sse", new Headers());
  const second = await session.post(call(2), "sse", new Headers());
  assertEquals([first.status, second.status], [200, 200]);
  const third = await session.post(call(3), "sse", new Headers());
  assertEquals(third.status, 503);
  assertEquals(third.headers.get("retry-after"), "1");
  assertStringIncludes(
    await third.text(),
    "Server busy: 2 requests of this session are unanswered",
  );
  assertEquals(received.length, 2, "the refused request never reached the server");
  await session.send({ jsonrpc: "2.0", id: 1, result: {} });
  const fourth = await session.post(call(4), "sse", new Headers());
  assertEquals(fourth.status, 200);
  for (const res of [first, second, fourth]) await res.body?.cancel();
  await session.close();
});

/** A tools/call request for `name` with `args`. */
const toolCall = (id: number, name: string, args: Record<string, unknown> = {}) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: args },
});

/** A tool whose call answers "held answer" once `release` resolves: a call kept in progress. */
function holdTool(release: Promise<void>): ToolSpec<Record<string, never>> {
  return {
    name: "hold",
    description: "Answers once released.",
    inputSchema: { type: "object", properties: {} },
    annotations: { readOnlyHint: true },
    handler: async () => {
      await release;
      return toolText("held answer");
    },
  };
}

Deno.test("mcp http: a malformed message or a request reusing the id of a call in progress gets its error on its own POST; the call keeps its answer", async () => {
  const release = Promise.withResolvers<void>();
  const { handler } = rig({}, [ECHO, holdTool(release.promise)]);
  const id = await openSession(handler);
  const session = { "mcp-session-id": id };
  await handler.handle(post({ jsonrpc: "2.0", method: "notifications/initialized" }, session));
  const call = handler.handle(post(toolCall(5, "hold"), session));
  const malformed = await handler.handle(post({ jsonrpc: "2.0", id: 5 }, session));
  assertEquals(malformed.status, 200);
  const malformedBody = await malformed.json();
  assertEquals([malformedBody.id, malformedBody.error?.code], [5, -32600]);
  const reused = await handler.handle(
    post(toolCall(5, "echo", { text: "again" }), session),
  );
  const reusedBody = await reused.json();
  assertEquals([reusedBody.id, reusedBody.error?.code], [5, -32600]);
  assertStringIncludes(reusedBody.error.message, "still in progress");
  release.resolve();
  const answer = await (await call).json();
  assertEquals(answer.id, 5);
  assertEquals(answer.result?.content?.[0]?.text, "held answer");
  await handler.close();
});

Deno.test("mcp http: in a session with batches, a batch request reusing the id of a call in progress gets its error in the batch's reply; the call keeps its answer", async () => {
  const release = Promise.withResolvers<void>();
  const { handler } = rig({}, [ECHO, holdTool(release.promise)]);
  const opened = await handler.handle(
    post({ ...INIT, params: { ...INITIALIZE_PARAMS, protocolVersion: "2025-03-26" } }),
  );
  assertEquals((await opened.json()).result.protocolVersion, "2025-03-26");
  const session = { "mcp-session-id": opened.headers.get("mcp-session-id") ?? "" };
  await handler.handle(post({ jsonrpc: "2.0", method: "notifications/initialized" }, session));
  const call = handler.handle(post(toolCall(5, "hold"), session));
  const echo = (id: number) => toolCall(id, "echo", { text: `echo ${id}` });
  const batch = await handler.handle(post([echo(5), echo(6)], session));
  assertEquals(batch.status, 200);
  const replies = await batch.json();
  assert(Array.isArray(replies), JSON.stringify(replies));
  type Reply = {
    id: number;
    error?: { code: number };
    result?: { content?: { text?: string }[] };
  };
  const byId = new Map((replies as Reply[]).map((r) => [r.id, r]));
  assertEquals(byId.get(5)?.error?.code, -32600);
  assertEquals(byId.get(6)?.result?.content?.[0]?.text, "echo 6");
  // A batch of nothing but such a request: its error alone, still as a batch reply.
  const alone = await (await handler.handle(post([echo(5)], session))).json();
  assert(Array.isArray(alone) && alone.length === 1, JSON.stringify(alone));
  assertEquals([alone[0].id, alone[0].error?.code], [5, -32600]);
  release.resolve();
  const answer = await (await call).json();
  assertEquals([answer.id, answer.result?.content?.[0]?.text], [5, "held answer"]);
  await handler.close();
});

Deno.test('mcp http: a "cancellation" that is not JSON-RPC 2.0 stops nothing: the call still gets its answer on its POST', async () => {
  const release = Promise.withResolvers<void>();
  const { handler } = rig({}, [ECHO, holdTool(release.promise)]);
  const session = { "mcp-session-id": await openSession(handler) };
  await handler.handle(post({ jsonrpc: "2.0", method: "notifications/initialized" }, session));
  const call = handler.handle(post(toolCall(5, "hold"), session));
  // The server drops a notification whose jsonrpc is not "2.0", so the call runs on.
  const notCancel = { jsonrpc: "1.0", method: "notifications/cancelled", params: { requestId: 5 } };
  assertEquals((await handler.handle(post(notCancel, session))).status, 202);
  release.resolve();
  const answer = await (await call).json();
  assertEquals([answer.id, answer.result?.content?.[0]?.text], [5, "held answer"]);
  await handler.close();
});

Deno.test('mcp http: a request whose jsonrpc is not "2.0" gets its -32600 at once; its POST does not wait for an answer that never comes', async () => {
  const { handler } = rig({});
  const session = { "mcp-session-id": await openSession(handler) };
  await handler.handle(post({ jsonrpc: "2.0", method: "notifications/initialized" }, session));
  let isAnswered = false;
  const posted = handler.handle(post({ jsonrpc: "1.0", id: 9, method: "ping" }, session));
  void posted.then(() => isAnswered = true);
  await flushMicrotasks(50);
  assert(isAnswered, "the POST is still open");
  const reply = await (await posted).json();
  assertEquals([reply.id, reply.error?.code], [null, -32600]);
  await handler.close();
});

Deno.test("mcp http: a batch in a session whose protocol has no batches gets its one -32600 at once; its POST does not wait for answers that never come", async () => {
  const { handler } = rig({});
  const session = { "mcp-session-id": await openSession(handler) }; // 2025-11-25: no batches
  await handler.handle(post({ jsonrpc: "2.0", method: "notifications/initialized" }, session));
  let isAnswered = false;
  const posted = handler.handle(post([{ jsonrpc: "2.0", id: 9, method: "ping" }], session));
  void posted.then(() => isAnswered = true);
  await flushMicrotasks(50);
  assert(isAnswered, "the POST is still open");
  const reply = await (await posted).json();
  assertEquals([reply.id, reply.error?.code], [null, -32600]);
  // Its id waits for nothing: a request reusing it runs.
  const ping =
    await (await handler.handle(post({ jsonrpc: "2.0", id: 9, method: "ping" }, session)))
      .json();
  assertEquals([ping.id, ping.result], [9, {}]);
  await handler.close();
});

Deno.test("mcp http: a POST refused as busy acts on nothing in it: a cancellation inside it leaves the call's POST waiting for its answer", async () => {
  const { session, received, call } = boundedSession(1);
  const first = await session.post(call(1), "sse", new Headers());
  const cancel = {
    jsonrpc: "2.0",
    method: "notifications/cancelled",
    params: { requestId: 1 },
  };
  const refused = await session.post([cancel, call(2)], "sse", new Headers());
  assertEquals(refused.status, 503);
  await refused.body?.cancel();
  assertEquals(received.length, 1, "nothing of the refused POST reached the server");
  await session.send({ jsonrpc: "2.0", id: 1, result: { ok: true } });
  assertStringIncludes(await first.text(), '"id":1');
  await session.close();
});
