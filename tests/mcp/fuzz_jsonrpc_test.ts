/**
 * Hostile input on the MCP side: thousands of seeded malformed or hostile lines (not JSON,
 * not UTF-8, ids/methods/params of every JSON type, batches, notifications, responses, deep
 * nesting, ≥ 1 MiB strings, path-traversal ids, control characters, lone surrogates) and
 * tools/call arguments for every advertised tool. Most of the volume runs in-process against
 * McpServer + StdioTransport over in-memory streams; a few hundred lines go through the
 * spawned program. Each line is followed by a `ping` sentinel, so every reply is attributed to
 * the line that caused it.
 *
 * The promises checked: the server never dies; every request (string/number id and a
 * method, jsonrpc "2.0") gets exactly one reply with its id; everything else gets exactly
 * what tests/fakes/hostile_inputs.ts's oracle says (one id-null error, or nothing); every
 * stdout line is a well-formed JSON-RPC 2.0 message; no internal error; and no request
 * reaches the platform for an invalid id. Replay with FUZZ_SEED=<seed in the test name>.
 */
import { assert, assertEquals } from "../assert.ts";
import { McpServer } from "../../lib/mcp/server.ts";
import { DEFAULT_MAX_LINE_BYTES, StdioTransport } from "../../lib/mcp/stdio.ts";
import { platformTools, type ToolDeps } from "../../lib/tools/index.ts";
import { createFakePlatform } from "../fakes/fake_platform.ts";
import {
  type Expectation,
  expectedReply,
  type HostileCase,
  hostileCases,
  type ToolShape,
} from "../fakes/hostile_inputs.ts";
import { INITIALIZE_PARAMS, parseRpcLine, type RpcMessage } from "../fakes/rpc_session.ts";
import { isFullSuite, SeededRandom, suiteSeed } from "../fakes/seeded_random.ts";
import { spawnProgram } from "../fakes/spawn.ts";
import { workspaceEnv } from "../fakes/served_platform.ts";
import { withTempDir } from "../fakes/temp_dir.ts";
import { withToolRig } from "../fakes/tool_harness.ts";

const IS_FULL = isFullSuite();
const MODE = IS_FULL ? "full" : "quick";
const SEED = suiteSeed("FUZZ_SEED", 1_234_567);
const IN_PROCESS_CASES = IS_FULL ? 12_000 : 1_500;
const SPAWNED_CASES = IS_FULL ? 1_000 : 300;
/** A hung case fails the test instead of hanging it (a watchdog, not a wait). */
const WATCHDOG_MS = IS_FULL ? 600_000 : 120_000;

const ENCODER = new TextEncoder();

/** Where lines go and replies come from: in-memory streams or a spawned program's stdio. */
interface Wire {
  send(bytes: Uint8Array): Promise<void>;
  /** The next stdout line, or undefined once stdout ended. */
  nextLine(): Promise<string | undefined>;
}

/** What a run saw. */
interface Tally {
  requests: number;
  nullReplies: number;
  silentCases: number;
  stdoutLines: number;
}

/**
 * Sends each case followed by a ping sentinel and checks, per case, the replies read up to
 * the sentinel's answer (plus the case's own reply when it comes later): exactly what the
 * oracle expects, all well-formed. `afterCase` runs once the case is fully answered.
 */
async function runCases(
  wire: Wire,
  cases: readonly HostileCase[],
  opts: { rng: SeededRandom; afterCase?: (c: HostileCase, index: number) => void },
): Promise<Tally> {
  const tally: Tally = { requests: 0, nullReplies: 0, silentCases: 0, stdoutLines: 0 };
  for (const [index, c] of cases.entries()) {
    const expect = expectedReply(c.bytes, DEFAULT_MAX_LINE_BYTES);
    const sentinel = `sentinel-${index}`;
    const ping = ENCODER.encode(`{"jsonrpc":"2.0","id":"${sentinel}","method":"ping"}\n`);
    const line = new Uint8Array([...c.bytes, 0x0a]);
    // Split the line at random points (and sometimes glue the sentinel on): framing is fuzzed too.
    const cuts = [
      0,
      ...Array.from({ length: opts.rng.int(0, 3) }, () => opts.rng.int(0, line.length)),
      line.length,
    ].sort((a, b) => a - b);
    for (let i = 1; i < cuts.length; i++) {
      const piece = line.subarray(cuts[i - 1], cuts[i]);
      if (piece.length > 0) await wire.send(piece);
    }
    await wire.send(ping);

    const where = `case ${index} (${c.label.slice(0, 120)})`;
    const seen: RpcMessage[] = [];
    const readOne = async (): Promise<RpcMessage> => {
      const text = await wire.nextLine();
      if (text === undefined) throw new Error(`${where}: stdout ended (the server died)`);
      tally.stdoutLines++;
      const msg = parseRpcLine(text);
      checkWellFormed(msg, where);
      return msg;
    };
    for (;;) {
      const msg = await readOne();
      if (msg.id === sentinel) {
        assertEquals(msg.result, {}, `${where}: the sentinel ping was not answered {}`);
        break;
      }
      seen.push(msg);
    }
    if (expect.reply === "id" && !seen.some((m) => sameId(m.id, expect.id))) {
      seen.push(await readOne()); // a slower handler (a tools/call): its reply comes next
    }
    checkCaseReplies(seen, expect, where);
    if (expect.reply === "id") tally.requests++;
    if (expect.reply === "null") tally.nullReplies++;
    if (c.isPlatformSilent) tally.silentCases++;
    opts.afterCase?.(c, index);
  }
  return tally;
}

function sameId(a: unknown, b: string | number): boolean {
  return a === b || (typeof a === "number" && typeof b === "number" && Object.is(a + 0, b + 0));
}

function checkCaseReplies(seen: RpcMessage[], expect: Expectation, where: string): void {
  const notes = seen.filter((m) => !("id" in m));
  assertEquals(notes.map((m) => m.method), [], `${where}: unexpected notifications`);
  const replies = seen.filter((m) => "id" in m);
  const describe = () => JSON.stringify(replies).slice(0, 400);
  switch (expect.reply) {
    case "none":
      assertEquals(replies.length, 0, `${where}: expected no reply, got ${describe()}`);
      return;
    case "null":
      assertEquals(replies.length, 1, `${where}: expected one id-null error, got ${describe()}`);
      assertEquals(replies[0]?.id, null, `${where}: the error must carry id null`);
      assert("error" in (replies[0] ?? {}), `${where}: an id-null reply must be an error`);
      return;
    case "id":
      assertEquals(replies.length, 1, `${where}: expected exactly one reply, got ${describe()}`);
      assert(
        sameId(replies[0]?.id, expect.id),
        `${where}: reply carries the wrong id (want ${JSON.stringify(expect.id)}): ${describe()}`,
      );
      return;
  }
}

/** One stdout message: a response (result xor error) or a notification, nothing else. */
function checkWellFormed(msg: RpcMessage, where: string): void {
  if (!("id" in msg)) {
    assert(typeof msg.method === "string", `${where}: a message with no id must be a notification`);
    return;
  }
  const id = msg.id;
  assert(
    id === null || typeof id === "string" || (typeof id === "number" && Number.isFinite(id)),
    `${where}: reply id of a bad type`,
  );
  assert(!("method" in msg), `${where}: a reply must not carry a method`);
  assert(("result" in msg) !== ("error" in msg), `${where}: exactly one of result and error`);
  if ("error" in msg) {
    const error = msg.error as Record<string, unknown>;
    assert(Number.isInteger(error.code), `${where}: error code must be an integer`);
    assert(typeof error.message === "string", `${where}: error message must be a string`);
    assert(error.code !== -32603, `${where}: internal error: ${error.message}`);
    return;
  }
  const result = msg.result;
  assert(
    typeof result === "object" && result !== null && !Array.isArray(result),
    `${where}: result must be an object`,
  );
  const content = (result as Record<string, unknown>).content;
  if (content === undefined) return;
  assert(Array.isArray(content), `${where}: tool content must be a list`);
  for (const block of content) {
    assert(block?.type === "text" && typeof block.text === "string", `${where}: text blocks only`);
    assert(!block.text.startsWith("Internal error in"), `${where}: a tool crashed: ${block.text}`);
  }
}

/** Runs `fn`, failing with `what` if it does not settle within WATCHDOG_MS. */
async function withWatchdog<T>(what: string, fn: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: no progress for ${WATCHDOG_MS} ms`)),
      WATCHDOG_MS,
    );
  });
  try {
    return await Promise.race([fn(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Stdout of the in-process server, as lines. */
class LineQueue {
  #decoder = new TextDecoder();
  #buffer = "";
  #lines: string[] = [];
  #waiter: ((line: string | undefined) => void) | null = null;
  #isEnded = false;

  write(bytes: Uint8Array): Promise<number> {
    this.#buffer += this.#decoder.decode(bytes, { stream: true });
    for (;;) {
      const newline = this.#buffer.indexOf("\n");
      if (newline < 0) break;
      this.#push(this.#buffer.slice(0, newline));
      this.#buffer = this.#buffer.slice(newline + 1);
    }
    return Promise.resolve(bytes.length);
  }

  end(): void {
    this.#isEnded = true;
    this.#waiter?.(undefined);
    this.#waiter = null;
  }

  next(): Promise<string | undefined> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.#isEnded) return Promise.resolve(undefined);
    return new Promise((resolve) => (this.#waiter = resolve));
  }

  #push(line: string): void {
    if (this.#waiter !== null) {
      const waiter = this.#waiter;
      this.#waiter = null;
      waiter(line);
    } else {
      this.#lines.push(line);
    }
  }
}

function toolShapes(): ToolShape[] {
  return platformTools().map((t) => ({ name: t.name, inputSchema: t.inputSchema }));
}

Deno.test(
  `fuzz jsonrpc: ${IN_PROCESS_CASES} hostile lines in-process get exactly the replies JSON-RPC requires (${MODE}, seed ${SEED})`,
  async () => {
    // The tool rig builds the tool deps (fake platform on a ManualClock, client, inbox);
    // this test serves them through its own McpServer over a StdioTransport.
    await withToolRig(async (rig) => {
      const { platform, me, peer, deps } = rig;
      const inbox = rig.inbox;
      assert(inbox !== null, "the rig has an inbox");
      // A push-mode peer answers delegate_task at once (a poll-mode one would be polled).
      platform.updateWorkspace(peer.id, { delivery_mode: "push" });
      // One queued message: wait_for_message then answers at once, whatever timeout it is given.
      const row = platform.sendToInbox(me.id, { text: "already here" });
      await inbox.accept({
        messages: [{
          activity_id: row.id,
          text: "already here",
          peer_id: "",
          kind: "canvas_user",
          method: "message/send",
          created_at: row.created_at,
        }],
        skipped: [],
      });
      const log = deps.log;
      let input: ReadableStreamDefaultController<Uint8Array> | undefined;
      const stream = new ReadableStream<Uint8Array>({ start: (c) => void (input = c) });
      const output = new LineQueue();
      const server = new McpServer<ToolDeps>({
        transport: new StdioTransport({ input: stream, output, log }),
        serverInfo: { name: "molecule", version: "fuzz" },
        tools: platformTools(),
        context: deps,
        log,
      });
      let isClosed = false;
      void server.closed.then(() => {
        isClosed = true;
        output.end();
      });
      await server.start();

      const rng = new SeededRandom(SEED);
      const cases = hostileCases(rng.fork(), {
        count: IN_PROCESS_CASES,
        tools: toolShapes(),
        selfId: me.id,
        peerId: peer.id,
        withHuge: true,
        withInvalidUtf8: true,
        maxLineBytes: DEFAULT_MAX_LINE_BYTES,
      });
      const wire: Wire = {
        send: (bytes) => {
          input?.enqueue(bytes.slice());
          return Promise.resolve();
        },
        nextLine: () => output.next(),
      };
      let requestsBefore = platform.requests.length;
      const leaks: string[] = [];
      let tally: Tally;
      try {
        tally = await withWatchdog(`fuzz seed ${SEED}`, () =>
          runCases(wire, cases, {
            rng: rng.fork(),
            afterCase: (c, index) => {
              const after = platform.requests.length;
              if (c.isPlatformSilent && after !== requestsBefore) {
                const paths = platform.requests.slice(requestsBefore).map((r) => r.path);
                leaks.push(`case ${index} (${c.label.slice(0, 100)}): ${paths.join(", ")}`);
              }
              requestsBefore = after;
            },
          }));
        assertEquals(isClosed, false, "the server is still up after every case");
      } catch (err) {
        throw new Error(`seed ${SEED} (replay: FUZZ_SEED=${SEED}): ${err}`, { cause: err });
      } finally {
        input?.close();
        await server.close();
      }
      assertEquals(leaks, [], "no request reached the platform for an invalid id or argument");
      assert(tally.requests >= IN_PROCESS_CASES / 3, `${tally.requests} requests answered`);
      assert(tally.nullReplies >= 50, `${tally.nullReplies} id-null errors`);
      assert(tally.silentCases >= IN_PROCESS_CASES / 2, `${tally.silentCases} platform-silent`);
      assert(platform.requests.length > 0, "valid tool calls did reach the platform");
      const logLines = rig.logText().split("\n");
      const logText = logLines.join("\n");
      for (const line of logLines) {
        assert(
          !/tool failed|MCP request failed|handler threw|malformed result/.test(line),
          `seed ${SEED}: ${line.slice(0, 300)}`,
        );
      }
      assert(!logText.includes(me.token), "the token is never logged");
    });
  },
);

Deno.test(
  `fuzz jsonrpc: ${SPAWNED_CASES} hostile lines through the spawned program; no invalid id reaches the platform (${MODE}, seed ${SEED})`,
  async () => {
    await withTempDir(async (dir) => {
      const platform = createFakePlatform();
      const me = platform.addWorkspace({ delivery_mode: "poll", name: "fuzz-e2e" });
      const peer = platform.addWorkspace({ delivery_mode: "push", name: "fuzz-e2e-peer" });
      const served = await platform.serve();
      const program = spawnProgram({
        env: {
          ...workspaceEnv(me, served.url, dir),
          MOLECULE_MCP_POLL_INTERVAL_SECS: "1",
          MOLECULE_MCP_VERBOSE: "1",
        },
      });
      const rng = new SeededRandom(SEED ^ 0xe2e);
      const cases = hostileCases(rng.fork(), {
        count: SPAWNED_CASES,
        tools: toolShapes(),
        selfId: me.id,
        peerId: peer.id,
        withHuge: true,
        withInvalidUtf8: false, // the child's stdin is written as text
        maxLineBytes: DEFAULT_MAX_LINE_BYTES,
      });
      const decoder = new TextDecoder();
      const wire: Wire = {
        // Streaming decode: a chunk may end inside a multi-byte character (lines are cut up).
        send: (bytes) => program.write(decoder.decode(bytes, { stream: true })),
        nextLine: () => program.readLine(),
      };
      let stdoutSeen = "";
      try {
        await program.waitForStderr("registered with the platform");
        const linesBefore: string[] = [];
        // The handshake first: nothing is pushed before notifications/initialized.
        await program.write(
          `${
            JSON.stringify({
              jsonrpc: "2.0",
              id: "fuzz-init",
              method: "initialize",
              params: INITIALIZE_PARAMS,
            })
          }\n${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`,
        );
        // One queued message, so wait_for_message answers at once whatever timeout it gets.
        platform.sendToInbox(me.id, { text: "already here" });
        for (;;) {
          const line = await program.readLine();
          if (line === undefined) throw new Error("stdout ended before the first push");
          linesBefore.push(line);
          if (parseRpcLine(line).method === "notifications/claude/channel") break;
        }
        const recording: Wire = {
          send: wire.send,
          nextLine: async () => {
            const line = await wire.nextLine();
            if (line !== undefined) linesBefore.push(line);
            return line;
          },
        };
        await withWatchdog(
          `fuzz e2e seed ${SEED}`,
          () => runCases(recording, cases, { rng: rng.fork() }),
        );
        stdoutSeen = linesBefore.join("\n");
        assertEquals(await program.hasExited(), false, "the program is still up");
      } catch (err) {
        throw new Error(`seed ${SEED} (replay: FUZZ_SEED=${SEED}): ${err}`, { cause: err });
      } finally {
        await program.closeStdin();
        const { code, stdout, stderr } = await program.wait();
        await served.close();
        stdoutSeen += stdout;
        assertEquals(code, 0, `clean exit; stderr:\n${stderr.slice(-2000)}`);
        assert(!/tool failed|MCP request failed|handler threw/.test(stderr), stderr.slice(-2000));
        const secret = platform.workspace(me.id)?.platform_inbound_secret ?? "";
        for (const [name, text] of [["stdout", stdoutSeen], ["stderr", stderr]] as const) {
          assert(!text.includes(me.token), `the token appears on ${name}`);
          assert(secret === "" || !text.includes(secret), `the inbound secret appears on ${name}`);
        }
      }
      const known = new Set([me.id, peer.id]);
      for (const req of platform.requests) {
        const ids = req.path.match(/[0-9a-fA-F-]{36}/g) ?? [];
        assert(ids.every((id) => known.has(id)), `request to an unknown id: ${req.path}`);
        const text = `${req.path} ${JSON.stringify(req.query)}`;
        assert(
          !/\.\.|passwd|%2e|%2f|\\u0000/i.test(text),
          `hostile id reached the platform: ${text}`,
        );
        assert(
          /^\/(registry\/(register|heartbeat|update-card|discover\/[0-9a-f-]{36}|[0-9a-f-]{36}\/peers)|workspaces\/[0-9a-f-]{36}(\/[a-z0-9/_-]+)?)$/
            .test(req.path),
          `unexpected request path: ${req.path}`,
        );
      }
    });
  },
);
