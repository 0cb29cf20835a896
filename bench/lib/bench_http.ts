/**
 * The tool round trip over MCP Streamable HTTP (`molecule-mcp --http`), for `make bench` to
 * show beside the stdio one: the program serves 127.0.0.1:<free port>/mcp, one session calls
 * inbox_peek in sequence (each a POST answered with one JSON body over a kept-alive
 * connection).
 */
import { programCommand } from "../../tests/fakes/spawn.ts";
import { sleep, waitForPolls } from "./session.ts";
import { startSimulator } from "./simulator.ts";

/** Sequential inbox_peek calls over HTTP, in ms each. */
export interface HttpRoundTripResult {
  aloneMs: number[];
}

/** Times `calls` sequential inbox_peek calls over HTTP on an empty inbox (after 100 warm-up). */
export async function measureHttpRoundTrip(
  calls: number,
  childEnv: Record<string, string>,
): Promise<HttpRoundTripResult> {
  const sim = await startSimulator({ workspaceName: "bench", programEnv: childEnv });
  const port = freePort();
  const { command, args, env, cwd } = programCommand({
    env: sim.programEnv(),
    args: ["--http", `127.0.0.1:${port}`],
  });
  const child = new Deno.Command(command, {
    args,
    env,
    cwd,
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `http://127.0.0.1:${port}/mcp`;
  try {
    const session = await initialize(url);
    await post(url, session, { jsonrpc: "2.0", method: "notifications/initialized" });
    await waitForPolls(sim);
    let id = 10;
    const series = async (n: number) => {
      const samples: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        const reply = await post(url, session, {
          jsonrpc: "2.0",
          id: ++id,
          method: "tools/call",
          params: { name: "inbox_peek", arguments: {} },
        });
        samples.push(performance.now() - t0);
        if (isToolError(reply)) throw new Error("inbox_peek failed over HTTP");
      }
      return samples;
    };
    await series(100);
    const aloneMs = await series(calls);
    const ended = await fetch(url, { method: "DELETE", headers: { "mcp-session-id": session } });
    await ended.body?.cancel();
    return { aloneMs };
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await sim.close();
  }
}

/** Sends initialize until the server listens (it starts in well under 5 s); the session id. */
async function initialize(url: string): Promise<string> {
  const body = {
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: {
      protocolVersion: "2025-11-25",
      capabilities: {},
      clientInfo: { name: "molecule-bench", version: "1" },
    },
  };
  for (let attempt = 0; attempt < 250; attempt++) {
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify(body),
      });
      await res.body?.cancel();
      const session = res.headers.get("mcp-session-id");
      if (res.ok && session !== null) return session;
      throw new Error(`initialize over HTTP answered ${res.status}`);
    } catch (err) {
      if (!(err instanceof TypeError)) throw err; // not listening yet
      await sleep(20);
    }
  }
  throw new Error("the program did not listen for MCP over HTTP within 5 s");
}

/** Whether a JSON-RPC reply is an error, or a tool result with isError. */
function isToolError(reply: unknown): boolean {
  if (typeof reply !== "object" || reply === null) return true;
  if ("error" in reply) return true;
  const result = "result" in reply ? reply.result : undefined;
  return typeof result === "object" && result !== null && "isError" in result &&
    result.isError === true;
}

/** POSTs one message in the session; its JSON reply, or undefined for 202. */
async function post(url: string, session: string, message: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json",
      "mcp-session-id": session,
    },
    body: JSON.stringify(message),
  });
  if (res.status === 202) {
    await res.body?.cancel();
    return undefined;
  }
  if (!res.ok) throw new Error(`POST over HTTP answered ${res.status}`);
  return await res.json();
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
