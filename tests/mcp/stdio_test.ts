/**
 * The stdio transport and the dispatcher at the byte level: lines are written into an
 * in-memory stdin exactly as a host would, and stdout is read back line by line.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { flushMicrotasks } from "../fakes/manual_clock.ts";
import { McpServer } from "../../lib/mcp/server.ts";
import { type ByteWriter, DEFAULT_MAX_LINE_BYTES, StdioTransport } from "../../lib/mcp/stdio.ts";
import { wellFormedJson } from "../../lib/mcp/wire_json.ts";
import { type ToolSpec, toolText } from "../../lib/mcp/tool_spec.ts";

const encoder = new TextEncoder();

/** An stdin the test writes into; it stays open until end(). */
function fakeStdin() {
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  let isEnded = false;
  return {
    stream,
    write(data: string | Uint8Array) {
      controller?.enqueue(typeof data === "string" ? encoder.encode(data) : data);
    },
    end() {
      if (!isEnded) controller?.close();
      isEnded = true;
    },
  };
}

/** An stdout that records bytes; `maxBytesPerWrite` makes it take writes in small pieces. */
class FakeStdout implements ByteWriter {
  bytes: number[] = [];
  #waiters: { count: number; resolve: () => void }[] = [];

  constructor(private maxBytesPerWrite = Infinity) {}

  async write(chunk: Uint8Array): Promise<number> {
    await Promise.resolve(); // a real pipe answers later, letting other sends try to cut in
    const taken = chunk.subarray(0, Math.min(chunk.length, this.maxBytesPerWrite));
    this.bytes.push(...taken);
    const ready = this.#waiters.filter((w) => this.lines().length >= w.count);
    for (const w of ready) w.resolve();
    return taken.length;
  }

  text(): string {
    return new TextDecoder().decode(new Uint8Array(this.bytes));
  }

  lines(): string[] {
    return this.text().split("\n").slice(0, -1);
  }

  messages(): unknown[] {
    return this.lines().map((line) => JSON.parse(line));
  }

  /** Resolves with every message once `count` lines are out; fails if they never come. */
  async messagesWhen(count: number): Promise<unknown[]> {
    const { promise, resolve } = Promise.withResolvers<void>();
    if (this.lines().length >= count) resolve();
    else this.#waiters.push({ count, resolve });
    const stuck = Symbol("stuck");
    const outcome = await Promise.race([promise, flushMicrotasks(200).then(() => stuck)]);
    if (outcome === stuck) {
      throw new Error(`expected ${count} lines on stdout, got ${this.lines().length}`);
    }
    return this.messages();
  }
}

const echo: ToolSpec<Record<string, never>> = {
  name: "echo",
  description: "Returns its text.",
  inputSchema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
  annotations: { readOnlyHint: true },
  handler(args) {
    return Promise.resolve(toolText(String(args.text)));
  },
};

/** A server on a stdio transport over fake stdin/stdout. */
async function startStdio(
  opts: { stdout?: ByteWriter; maxLineBytes?: number; isInitialized?: boolean } = {},
) {
  const stdin = fakeStdin();
  const stdout = opts.stdout ?? new FakeStdout();
  const logs = captureLog("debug");
  const transport = new StdioTransport({
    input: stdin.stream,
    output: stdout,
    log: logs.log,
    ...(opts.maxLineBytes === undefined ? {} : { maxLineBytes: opts.maxLineBytes }),
  });
  const server = new McpServer({
    transport,
    serverInfo: { name: "molecule-mcp", version: "0.0.0-test" },
    tools: [echo],
    context: {},
    log: logs.log,
  });
  await server.start();
  // As if the host had finished the handshake: server notifications go out at once.
  if (opts.isInitialized === true) {
    transport.onmessage?.({ jsonrpc: "2.0", method: "notifications/initialized" });
  }
  return {
    stdin,
    stdout,
    server,
    transport,
    logs,
    async [Symbol.asyncDispose]() {
      stdin.end();
      await server.closed;
      await server.close();
    },
  };
}

function ping(id: number | string): string {
  return `${JSON.stringify({ jsonrpc: "2.0", id, method: "ping" })}\n`;
}

function pong(id: number | string) {
  return { jsonrpc: "2.0", id, result: {} };
}

function invalidRequest(message: string) {
  return { jsonrpc: "2.0", id: null, error: { code: -32600, message } };
}

Deno.test("stdio: a line that is not JSON gets -32700 and the next line is still answered", async () => {
  const out = new FakeStdout();
  await using io = await startStdio({ stdout: out });
  io.stdin.write('{"jsonrpc":"2.0","id":1,"method":\n');
  io.stdin.write(ping(2));
  assertEquals(await out.messagesWhen(2), [
    {
      jsonrpc: "2.0",
      id: null,
      error: { code: -32700, message: "Parse error: message is not JSON" },
    },
    pong(2),
  ]);
});

Deno.test("stdio: a wrong version, an object id or an array id get -32600 with id null", async () => {
  const out = new FakeStdout();
  await using io = await startStdio({ stdout: out });
  io.stdin.write('{"jsonrpc":"1.0","id":1,"method":"ping"}\n');
  io.stdin.write('{"jsonrpc":"2.0","id":{"$gt":""},"method":"ping"}\n');
  io.stdin.write('{"jsonrpc":"2.0","id":[1],"method":"ping"}\n');
  io.stdin.write('[{"jsonrpc":"2.0","id":4,"method":"ping"}]\n');
  assertEquals(await out.messagesWhen(4), [
    invalidRequest('Invalid Request: jsonrpc must be "2.0"'),
    invalidRequest("Invalid Request: id must be a string or a number"),
    invalidRequest("Invalid Request: id must be a string or a number"),
    invalidRequest("Invalid Request: batches are not supported by MCP"),
  ]);
});

Deno.test("stdio: an unknown method gets -32601 with its id", async () => {
  const out = new FakeStdout();
  await using io = await startStdio({ stdout: out });
  io.stdin.write('{"jsonrpc":"2.0","id":"r1","method":"completion/complete"}\n');
  assertEquals(await out.messagesWhen(1), [
    {
      jsonrpc: "2.0",
      id: "r1",
      error: { code: -32601, message: "Method not found: completion/complete" },
    },
  ]);
});

Deno.test("stdio: an unknown method named 99 x and an emoji is echoed without a lone surrogate", async () => {
  const out = new FakeStdout();
  await using io = await startStdio({ stdout: out });
  const method = "x".repeat(99) + "😀";
  io.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 1, method })}\n`);
  io.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 2, method: "x".repeat(200) + "😀" })}\n`);
  const [first, second] = await out.messagesWhen(2);
  for (const line of out.lines()) {
    assert(!/\\ud[89a-f]/i.test(line), `escaped surrogate on stdout: ${line.slice(-40)}`);
    assert(line.isWellFormed());
  }
  assertEquals(first, {
    jsonrpc: "2.0",
    id: 1,
    error: { code: -32601, message: `Method not found: ${method}` },
  });
  assertStringIncludes(JSON.stringify(second), `${"x".repeat(100)}...`);
});

Deno.test("stdio: a lone surrogate in a result is written as U+FFFD, never as an escape", async () => {
  const out = new FakeStdout();
  await using io = await startStdio({ stdout: out });
  const call = { name: "echo", arguments: { text: "cut \ud83d here" } };
  io.stdin.write(
    `${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: call })}\n`,
  );
  await out.messagesWhen(1);
  const [line = ""] = out.lines();
  assert(!/\\ud[89a-f]/i.test(line), line);
  assertStringIncludes(line, "cut \ufffd here");
});

Deno.test("stdio: a text that only looks like a surrogate escape, or a lone surrogate in a member name, is written right", () => {
  // A literal backslash then "ud83d" is ordinary text: it must come back as written.
  const lookalike = { jsonrpc: "2.0", id: 1, result: { text: "path C:\\ud83d\\x" } };
  assertEquals(wellFormedJson(lookalike), JSON.stringify(lookalike));
  const badKey = { jsonrpc: "2.0", method: "m", params: { ["k\udc00"]: "v\ud800" } };
  assertEquals(
    JSON.parse(wellFormedJson(badKey)).params,
    { "k\ufffd": "v\ufffd" },
  );
  assertEquals(
    wellFormedJson({ jsonrpc: "2.0", id: 2, result: {} }),
    '{"jsonrpc":"2.0","id":2,"result":{}}',
  );
});

Deno.test("stdio: notifications get no reply, not even unknown or malformed ones", async () => {
  const out = new FakeStdout();
  await using io = await startStdio({ stdout: out });
  io.stdin.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
  io.stdin.write('{"jsonrpc":"2.0","method":"notifications/whatever","params":{}}\n');
  io.stdin.write('{"jsonrpc":"2.0","method":"notifications/cancelled","params":"x"}\n');
  io.stdin.write('{"jsonrpc":"2.0","method":"ping"}\n');
  io.stdin.write(ping(9));
  assertEquals(await out.messagesWhen(1), [pong(9)]);
  await flushMicrotasks(200);
  assertEquals(out.lines().length, 1);
});

Deno.test("stdio: a request split across chunks, even inside a character, is read whole", async () => {
  const out = new FakeStdout();
  await using io = await startStdio({ stdout: out });
  const line = encoder.encode(
    `${
      JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "echo", arguments: { text: "héllo → 世界 😀" } },
      })
    }\n`,
  );
  const cut = line.indexOf(0xf0) + 2; // in the middle of the emoji's four bytes
  io.stdin.write(line.subarray(0, 10));
  io.stdin.write(line.subarray(10, cut));
  io.stdin.write(line.subarray(cut));
  assertEquals(await out.messagesWhen(1), [
    { jsonrpc: "2.0", id: 1, result: { content: [{ type: "text", text: "héllo → 世界 😀" }] } },
  ]);
});

Deno.test("stdio: two requests in one chunk are both answered", async () => {
  const out = new FakeStdout();
  await using io = await startStdio({ stdout: out });
  io.stdin.write(ping(1) + ping(2));
  const replies = await out.messagesWhen(2);
  assertEquals(replies.length, 2);
  assertEquals(
    new Set(replies.map((r) => JSON.stringify(r))),
    new Set([pong(1), pong(2)].map((r) => JSON.stringify(r))),
  );
});

Deno.test("stdio: CRLF endings and blank lines are accepted", async () => {
  const out = new FakeStdout();
  await using io = await startStdio({ stdout: out });
  io.stdin.write(`\n\r\n   \n${ping(1).replace("\n", "\r\n")}\r\n${ping(2)}`);
  assertEquals(await out.messagesWhen(2), [pong(1), pong(2)]);
  await flushMicrotasks(200);
  assertEquals(out.lines().length, 2, "blank lines get no reply");
});

Deno.test("stdio: a line is answered when its newline arrives, with stdin still open", async () => {
  const out = new FakeStdout();
  await using io = await startStdio({ stdout: out });
  const line = ping(1);
  io.stdin.write(line.slice(0, -1));
  await flushMicrotasks(200);
  assertEquals(out.lines(), [], "no answer before the newline");
  io.stdin.write("\n");
  assertEquals(await out.messagesWhen(1), [pong(1)]);
});

Deno.test("stdio: a line over the limit is refused and reading resyncs at its newline", async () => {
  const out = new FakeStdout();
  await using io = await startStdio({ stdout: out, maxLineBytes: 64 });
  io.stdin.write(`{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"${"x".repeat(40)}`);
  io.stdin.write(`${"y".repeat(100)}"}}`);
  io.stdin.write(`\n${ping(2)}`);
  assertEquals(await out.messagesWhen(2), [
    {
      jsonrpc: "2.0",
      id: null,
      error: { code: -32700, message: "Parse error: message longer than 64 bytes" },
    },
    pong(2),
  ]);
  assertStringIncludes(io.logs.text(), "line over the size limit");
});

Deno.test("stdio: the default limit is 4 MiB and a longer line does not stop the server", async () => {
  assertEquals(DEFAULT_MAX_LINE_BYTES, 4 * 1024 * 1024);
  const out = new FakeStdout();
  await using io = await startStdio({ stdout: out });
  const piece = "z".repeat(64 * 1024);
  for (let i = 0; i < 65; i++) io.stdin.write(piece); // 4 MiB + 64 KiB, no newline yet
  io.stdin.write(`\n${ping(3)}`);
  const replies = await out.messagesWhen(2);
  assertEquals(replies[1], pong(3));
  assertEquals(
    (replies[0] as { error: { message: string } }).error.message,
    "Parse error: message longer than 4194304 bytes",
  );
});

Deno.test("stdio: a line that is not UTF-8 gets -32700", async () => {
  const out = new FakeStdout();
  await using io = await startStdio({ stdout: out });
  io.stdin.write(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d, 0x0a]));
  io.stdin.write(ping(1));
  assertEquals(await out.messagesWhen(2), [
    {
      jsonrpc: "2.0",
      id: null,
      error: { code: -32700, message: "Parse error: message is not valid UTF-8" },
    },
    pong(1),
  ]);
});

Deno.test("stdio: overlapping sends go out as whole lines, in order", async () => {
  const out = new FakeStdout(7); // a pipe that takes 7 bytes at a time
  await using io = await startStdio({ stdout: out, isInitialized: true });
  await Promise.all([
    io.server.notify("notifications/claude/channel", { content: "first ".repeat(20) }),
    io.server.notify("notifications/claude/channel", { content: "second ".repeat(20) }),
    io.transport.send({ jsonrpc: "2.0", method: "notifications/third" }),
  ]);
  assertEquals(out.messages(), [
    {
      jsonrpc: "2.0",
      method: "notifications/claude/channel",
      params: { content: "first ".repeat(20) },
    },
    {
      jsonrpc: "2.0",
      method: "notifications/claude/channel",
      params: { content: "second ".repeat(20) },
    },
    { jsonrpc: "2.0", method: "notifications/third" },
  ]);
});

Deno.test("stdio: a closed stdout is swallowed and stdin is still read", async () => {
  let writes = 0;
  const brokenStdout: ByteWriter = {
    write() {
      writes++;
      return Promise.reject(new Deno.errors.BrokenPipe("Broken pipe (os error 32)"));
    },
  };
  await using io = await startStdio({ stdout: brokenStdout, isInitialized: true });
  await io.server.notify("notifications/claude/channel", { content: "lost" });
  await io.transport.send({ jsonrpc: "2.0", method: "notifications/also_lost" });
  io.stdin.write(ping(1));
  // The transport is still reading: EOF is noticed, the ping is answered (into the broken
  // stdout) and the session ends normally.
  io.stdin.end();
  await io.server.closed;
  assertEquals(writes, 1, "after the first broken write, nothing more is attempted");
  const warnings = io.logs.lines.filter((l) => l.includes("] warn ") && l.includes("stdout"));
  assertEquals(warnings.length, 1);
  assertStringIncludes(warnings[0] ?? "", "stdout is closed");
  const dropped = io.logs.lines.filter((l) => l.includes("stdout is closed; message dropped"));
  assertEquals(dropped.length, 2, "the second notification and the ping's reply were dropped");
});

Deno.test("stdio: EOF ends the session and a trailing partial line is dropped", async () => {
  const out = new FakeStdout();
  const io = await startStdio({ stdout: out });
  io.stdin.write(ping(1));
  io.stdin.write('{"jsonrpc":"2.0","id":2,"method":"pi');
  await out.messagesWhen(1);
  io.stdin.end();
  await io.server.closed;
  assertEquals(out.messages(), [pong(1)]);
  assertStringIncludes(io.logs.text(), "stdin ended in the middle of a line");
  await io.server.close();
});

Deno.test("stdio: close() stops reading an open stdin and refuses later sends", async () => {
  const io = await startStdio();
  let closes = 0;
  const onclose = io.transport.onclose;
  io.transport.onclose = () => {
    closes++;
    onclose?.();
  };
  await io.server.close();
  await io.server.closed;
  await io.transport.close();
  assertEquals(closes, 1);
  let refused = false;
  try {
    await io.transport.send({ jsonrpc: "2.0", method: "notifications/x" });
  } catch (err) {
    refused = err instanceof Error && err.message.includes("closed");
  }
  assert(refused, "send after close rejects");
});
