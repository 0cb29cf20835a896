/**
 * The stdio transport at the cap of unanswered requests: stdin is still read, so a host's
 * cancellation reaches the call it names at once, while later requests wait in a bounded line
 * and go on, in order, as places free.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { flushMicrotasks } from "../fakes/manual_clock.ts";
import { pulledStdin, rig } from "../fakes/stdio_rig.ts";
import { McpServer } from "../../lib/mcp/server.ts";
import { type ToolSpec, toolText } from "../../lib/mcp/tool_spec.ts";
import { MIN_UNANSWERED } from "../../lib/mcp/unanswered.ts";
import {
  DEFAULT_MAX_WAITING_BYTES,
  DEFAULT_MAX_WAITING_LINES,
} from "../../lib/mcp/waiting_requests.ts";

/** What the long calls saw: which started, which were stopped by their signal. */
interface Calls {
  started: number[];
  stopped: number[];
}

/** A long call (like wait_for_message) that ends only when its signal aborts. */
function longCall(calls: Calls): ToolSpec<object> {
  return {
    name: "wait",
    description: "Waits until the call is cancelled.",
    inputSchema: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] },
    annotations: { readOnlyHint: true },
    async handler(args, ctx) {
      const n = typeof args.n === "number" ? args.n : -1;
      calls.started.push(n);
      await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
      calls.stopped.push(n);
      return toolText("stopped");
    },
  };
}

/** A tool whose answer is about 100 KB: a run of these makes later answers weigh heavy. */
const bigAnswer: ToolSpec<object> = {
  name: "big",
  description: "Answers 100 KB of text.",
  inputSchema: { type: "object", properties: {} },
  annotations: { readOnlyHint: true },
  handler: () => Promise.resolve(toolText("x".repeat(100_000))),
};

const callTool = (id: number, name: string, args: Record<string, unknown> = {}) =>
  JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });
const ping = (id: number) => JSON.stringify({ jsonrpc: "2.0", id, method: "ping" });
const cancel = (requestId: number) =>
  JSON.stringify({
    jsonrpc: "2.0",
    method: "notifications/cancelled",
    params: { requestId, reason: "the user pressed Esc" },
  });

/**
 * The real server over the stdio rig, with a host that reads stdout, after one 100 KB answer:
 * with an 1 MB budget for answers in the making, 16 (MIN_UNANSWERED) unanswered calls reach
 * the cap. Then 16 long calls (ids 1..16) go in flight.
 */
async function serverAtCap() {
  const r = rig({ maxUnansweredBytes: 1_000_000 }, { isReading: true });
  const calls: Calls = { started: [], stopped: [] };
  const server = new McpServer<object>({
    transport: r.transport,
    serverInfo: { name: "molecule", version: "test" },
    tools: [longCall(calls), bigAnswer],
    context: {},
    log: r.log,
  });
  await server.start();
  r.stdin.write(callTool(0, "big"));
  await flushMicrotasks();
  assert(r.transport.outputQueue.answerBytes > 100_000, "a big answer went out");
  for (let n = 1; n <= MIN_UNANSWERED; n++) r.stdin.write(callTool(n, "wait", { n }));
  await flushMicrotasks();
  assertEquals(calls.started.length, MIN_UNANSWERED);
  assertEquals(r.transport.outputQueue.unanswered, MIN_UNANSWERED, "the cap is reached");
  const answeredIds = () => r.stdout.lines.map((line) => JSON.parse(line).id);
  return { ...r, server, calls, answeredIds };
}

Deno.test("stdio: after big answers, with 16 long calls in flight, a cancellation is read at once: that call stops and the next request is handled", async () => {
  const { stdin, transport, server, calls, answeredIds } = await serverAtCap();
  stdin.write(callTool(17, "wait", { n: 17 })); // waits: the cap is reached
  await flushMicrotasks();
  assertEquals(calls.started.includes(17), false, "the 17th call waits for a place");
  stdin.write(cancel(5));
  await flushMicrotasks();
  assertEquals(calls.stopped, [5], "the cancelled call was stopped");
  assertEquals(answeredIds(), [0], "a cancelled call gets no answer (MCP)");
  assertEquals(calls.started.at(-1), 17, "its place went to the waiting call");
  assertEquals(transport.outputQueue.unanswered, MIN_UNANSWERED);
  assertEquals(transport.outputQueue.waitingRequests, 0);
  stdin.end();
  await server.close();
});

Deno.test("stdio: a ping sent at the cap waits its turn and is answered, in order, as soon as a place frees", async () => {
  const { stdin, transport, server, calls, answeredIds } = await serverAtCap();
  stdin.write(ping(20));
  stdin.write(ping(21));
  await flushMicrotasks();
  assertEquals(answeredIds(), [0], "no ping answered while the cap holds");
  assertEquals(transport.outputQueue.waitingRequests, 2, "both pings were read and wait");
  stdin.write(cancel(2));
  await flushMicrotasks();
  assertEquals(calls.stopped, [2]);
  assertEquals(answeredIds(), [0, 20, 21], "the pings answered in the order sent");
  assertEquals(transport.outputQueue.waitingRequests, 0);
  stdin.end();
  await server.close();
});

Deno.test("stdio: a cancellation of a request still waiting for a place drops it: it never runs and gets no answer", async () => {
  const { stdin, transport, server, calls, answeredIds, text } = await serverAtCap();
  stdin.write(callTool(17, "wait", { n: 17 }));
  stdin.write(ping(18));
  stdin.write(cancel(17));
  await flushMicrotasks();
  assertEquals(transport.outputQueue.waitingRequests, 1, "only the ping still waits");
  assertStringIncludes(text(), "request cancelled by the MCP client before it was handled");
  stdin.write(cancel(1)); // a place frees: the ping goes on, call 17 never does
  await flushMicrotasks();
  assertEquals(answeredIds(), [0, 18]);
  assertEquals(calls.started.includes(17), false);
  assertEquals(calls.stopped, [1]);
  stdin.end();
  await server.close();
});

const pings = (count: number, pad = "") =>
  Array.from(
    { length: count },
    (_, id) => JSON.stringify({ jsonrpc: "2.0", id, method: "ping", params: { pad } }),
  );

Deno.test("stdio: at the cap, stdin is read no further once 64 requests wait; all are handed on in order as answers go out", async () => {
  const stdin = pulledStdin(pings(500));
  const { transport, received } = rig({ maxUnanswered: 3 }, {
    isReading: true,
    input: stdin.stream,
  });
  await transport.start();
  await flushMicrotasks(1_000); // each line read takes a few turns
  assertEquals(received, [0, 1, 2]);
  assertEquals(transport.outputQueue.waitingRequests, DEFAULT_MAX_WAITING_LINES);
  assertEquals(stdin.pulled(), 3 + DEFAULT_MAX_WAITING_LINES, "no line read past the limit");
  await transport.send({ jsonrpc: "2.0", id: 0, result: {} });
  await flushMicrotasks();
  assertEquals(received, [0, 1, 2, 3], "one answer out, one waiting request on");
  assertEquals(stdin.pulled(), 4 + DEFAULT_MAX_WAITING_LINES, "and one more line read");
  for (let answered = 1; answered < 500; answered++) {
    await transport.send({ jsonrpc: "2.0", id: answered, result: {} });
    await flushMicrotasks(4);
  }
  assertEquals(received, Array.from({ length: 500 }, (_, i) => i));
  await transport.close();
});

Deno.test("stdio: at the cap, stdin is read no further once 1 MiB of requests wait", async () => {
  const lines = pings(200, "x".repeat(20_000));
  const lineBytes = new TextEncoder().encode(lines[1] ?? "").length;
  const stdin = pulledStdin(lines);
  const { transport, received } = rig({ maxUnanswered: 1 }, {
    isReading: true,
    input: stdin.stream,
  });
  await transport.start();
  await flushMicrotasks(1_000);
  assertEquals(received, [0]);
  const held = Math.ceil(DEFAULT_MAX_WAITING_BYTES / lineBytes);
  assert(held < DEFAULT_MAX_WAITING_LINES, "the byte limit comes first here");
  assertEquals(transport.outputQueue.waitingRequests, held);
  assertEquals(stdin.pulled(), 1 + held, "no line read past the limit");
  const { waitingRequestBytes } = transport.outputQueue;
  assert(waitingRequestBytes < DEFAULT_MAX_WAITING_BYTES + lineBytes, `${waitingRequestBytes}`);
  await transport.close();
});

Deno.test("stdio: requests still waiting when stdin ends are all handed on, in order, before the session ends", async () => {
  const stdin = pulledStdin(pings(10));
  const { transport, received } = rig({ maxUnanswered: 3 }, {
    isReading: true,
    input: stdin.stream,
  });
  const order: string[] = [];
  const onmessage = transport.onmessage;
  transport.onmessage = (m) => {
    order.push("message");
    onmessage?.(m);
  };
  transport.onclose = () => order.push("close");
  await transport.start();
  await flushMicrotasks(200);
  assertEquals(stdin.pulled(), 10, "every line read, up to EOF");
  assertEquals(received, Array.from({ length: 10 }, (_, i) => i), "past the cap, in order");
  assertEquals(order, [...Array(10).fill("message"), "close"]);
  await transport.close();
});

/**
 * The real server over the stdio rig (a host that reads stdout) with at most `maxUnanswered`
 * requests handed on, after an initialize for `protocolVersion` (2025-03-26 has batches).
 */
async function serverWithCap(maxUnanswered: number, protocolVersion = "2025-11-25") {
  const r = rig({ maxUnanswered }, { isReading: true });
  const calls: Calls = { started: [], stopped: [] };
  const server = new McpServer<object>({
    transport: r.transport,
    serverInfo: { name: "molecule", version: "test" },
    tools: [longCall(calls)],
    context: {},
    log: r.log,
  });
  await server.start();
  r.stdin.write(JSON.stringify({
    jsonrpc: "2.0",
    id: 0,
    method: "initialize",
    params: { protocolVersion, capabilities: {}, clientInfo: { name: "t", version: "1" } },
  }));
  await flushMicrotasks();
  const answers = () => r.stdout.lines.slice(1).map((line) => JSON.parse(line));
  assertEquals(r.transport.outputQueue.unanswered, 0, "initialize answered");
  return { ...r, server, calls, answers };
}

Deno.test("stdio: requests with an id no answer can carry (1e999) take no place for good: later requests are still answered", async () => {
  const { stdin, transport, server, answers } = await serverWithCap(2);
  stdin.write('{"jsonrpc":"2.0","id":1e999,"method":"ping"}');
  stdin.write('{"jsonrpc":"2.0","id":-1e999,"method":"ping"}');
  stdin.write(ping(5));
  await flushMicrotasks();
  assertEquals(answers().map((a) => a.id), [null, null, 5]);
  assertEquals(transport.outputQueue.unanswered, 0);
  stdin.end();
  await server.close();
});

Deno.test("stdio: a malformed message reusing the id of a call in flight does not free that call's place", async () => {
  const { stdin, transport, server, calls, answers } = await serverWithCap(2);
  stdin.write(callTool(1, "wait", { n: 1 }));
  stdin.write('{"jsonrpc":"2.0","id":1}'); // no method: -32600 with id 1
  stdin.write('{"jsonrpc":"2.0","id":1,"method":5}'); // method not a string: -32600 with id 1
  for (let n = 2; n <= 5; n++) stdin.write(callTool(n, "wait", { n }));
  await flushMicrotasks();
  assertEquals(answers().map((a) => [a.id, a.error?.code]), [[1, -32600], [1, -32600]]);
  assertEquals(calls.started, [1, 2], "two calls in flight at most");
  assertEquals(transport.outputQueue.unanswered, 2);
  await server.close();
});

Deno.test("stdio: a batch reply carrying the id of a call in flight does not free that call's place", async () => {
  const { stdin, transport, server, calls, answers } = await serverWithCap(2, "2025-03-26");
  stdin.write(callTool(1, "wait", { n: 1 }));
  stdin.write(`[${ping(1)}]`); // id 1 is in progress: the batch reply holds a -32600 for id 1
  for (let n = 2; n <= 5; n++) stdin.write(callTool(n, "wait", { n }));
  await flushMicrotasks();
  assertEquals(answers().map((a) => a[0]?.error?.code), [-32600]);
  assertEquals(calls.started, [1, 2], "two calls in flight at most");
  assertEquals(transport.outputQueue.unanswered, 2);
  await server.close();
});

Deno.test("stdio: a cancellation of a request inside a batch still waiting for a place stops it: the rest of the batch is answered", async () => {
  const { stdin, transport, server, calls, answers } = await serverWithCap(1, "2025-03-26");
  stdin.write(callTool(1, "wait", { n: 1 })); // the one place
  stdin.write(`[${callTool(2, "wait", { n: 2 })},${ping(3)}]`);
  await flushMicrotasks();
  assertEquals(transport.outputQueue.waitingRequests, 1, "the batch waits");
  stdin.write(cancel(2));
  stdin.write(cancel(1)); // a place frees: the batch goes on
  await flushMicrotasks();
  assertEquals(calls.started, [1], "the cancelled call in the batch never ran");
  assertEquals(answers(), [[{ jsonrpc: "2.0", id: 3, result: {} }]]);
  stdin.end();
  await server.close();
});

Deno.test("stdio: when the host closes stdin with long calls holding every place, the requests still waiting are answered and the session ends (the calls are stopped)", async () => {
  const { stdin, server, calls, answeredIds } = await serverAtCap();
  stdin.write(ping(20));
  stdin.write(callTool(21, "wait", { n: 21 }));
  stdin.end();
  await flushMicrotasks(100);
  // Without a clock the server stops calls at once at the end of input (DRAIN_GRACE_MS with one).
  assertEquals(calls.stopped.length, MIN_UNANSWERED + 1, "every call stopped, 21 included");
  assertEquals(answeredIds().includes(20), true, "the ping was answered");
  let isClosed = false;
  void server.closed.then(() => isClosed = true);
  await flushMicrotasks();
  assertEquals(isClosed, true, "the session ended");
});

Deno.test("stdio: requests in flight are bounded by their own size too: past 8 MiB of request lines later requests wait", async () => {
  const { stdin, transport, server, calls } = await serverWithCap(128);
  const pad = "x".repeat(3 * 1024 * 1024); // a call holds its request until it answers
  for (let n = 1; n <= 3; n++) {
    stdin.write(JSON.stringify({
      jsonrpc: "2.0",
      id: n,
      method: "tools/call",
      params: { name: "wait", arguments: { n }, pad },
    }));
  }
  stdin.write(callTool(4, "wait", { n: 4 }));
  await flushMicrotasks();
  assertEquals(calls.started, [1, 2, 3], "9 MiB of requests in flight: the next one waits");
  assertEquals(transport.outputQueue.waitingRequests, 1);
  stdin.write(cancel(1));
  await flushMicrotasks();
  assertEquals(calls.started, [1, 2, 3, 4], "6 MiB left in flight: it goes on");
  await server.close();
});

Deno.test("stdio: a tiny malformed message reusing the id of a big call in flight does not free that call's bytes", async () => {
  const { stdin, server, calls } = await serverWithCap(128);
  const pad = "x".repeat(3 * 1024 * 1024);
  const bigCall = (n: number) =>
    JSON.stringify({
      jsonrpc: "2.0",
      id: n,
      method: "tools/call",
      params: { name: "wait", arguments: { n }, pad },
    });
  stdin.write(bigCall(1));
  stdin.write(bigCall(2));
  stdin.write('{"jsonrpc":"2.0","id":1}'); // answered at once: -32600 with id 1
  stdin.write(bigCall(3));
  stdin.write(callTool(4, "wait", { n: 4 }));
  await flushMicrotasks();
  assertEquals(calls.started, [1, 2, 3], "9 MiB of requests still in flight: 4 waits");
  await server.close();
});
