/**
 * The end of input (stdin EOF): requests already read still get their replies, and a call
 * that would keep waiting is stopped after a grace period so the process can exit.
 */
import { assertEquals } from "../assert.ts";
import type { JsonRpcTransport, WireMessage } from "../../lib/mcp/jsonrpc.ts";
import { DRAIN_GRACE_MS, McpServer } from "../../lib/mcp/server.ts";
import { type ToolSpec, toolText } from "../../lib/mcp/tool_spec.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { ManualClock } from "../fakes/manual_clock.ts";

/** A transport the test drives by hand: it delivers lines and ends the input. */
class HandTransport implements JsonRpcTransport {
  onmessage?: ((message: unknown) => void) | undefined;
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  readonly sent: WireMessage[] = [];
  start(): Promise<void> {
    return Promise.resolve();
  }
  send(message: WireMessage): Promise<void> {
    this.sent.push(message);
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.onclose?.();
    return Promise.resolve();
  }
  endInput(): void {
    this.onclose?.();
  }
}

/** A tool that answers only when released or aborted (like wait_for_message). */
function waitingTool(release: Promise<void>): ToolSpec<object> {
  return {
    name: "wait",
    description: "Waits until released or aborted.",
    inputSchema: { type: "object", properties: {} },
    annotations: { readOnlyHint: true },
    async handler(_args, ctx) {
      const aborted = new Promise<void>((r) => ctx.signal.addEventListener("abort", () => r()));
      await Promise.race([release, aborted]);
      return toolText(ctx.signal.aborted ? "stopped" : "released");
    },
  };
}

function serve(tool: ToolSpec<object>) {
  const transport = new HandTransport();
  const clock = new ManualClock();
  const server = new McpServer<object>({
    transport,
    serverInfo: { name: "molecule", version: "test" },
    tools: [tool],
    context: {},
    log: captureLog().log,
    clock,
  });
  return { transport, clock, server };
}

/** The text of the tool result sent for request `id`. */
function replyText(sent: readonly WireMessage[], id: number): string | undefined {
  const reply = sent.find((m) => m.id === id);
  const result = reply?.result;
  if (typeof result !== "object" || result === null || !("content" in result)) return undefined;
  const content = result.content;
  return Array.isArray(content) ? content[0]?.text : undefined;
}

const call = (id: number) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name: "wait", arguments: {} },
});

Deno.test("mcp drain: a call still running when input ends gets its reply before the session closes", async () => {
  const release = Promise.withResolvers<void>();
  const { transport, server } = serve(waitingTool(release.promise));
  await server.start();
  transport.onmessage?.(call(1));
  transport.onmessage?.({ jsonrpc: "2.0", id: 2, method: "tools/list" });
  transport.endInput();
  release.resolve();
  await server.closed;
  const ids = transport.sent.map((m) => m.id);
  assertEquals(ids.sort(), [1, 2]);
  assertEquals(replyText(transport.sent, 1), "released");
});

Deno.test("mcp drain: a call that keeps waiting is stopped after the grace period and still answers", async () => {
  const { transport, clock, server } = serve(waitingTool(new Promise(() => {})));
  await server.start();
  transport.onmessage?.(call(1));
  transport.endInput();
  await clock.whenSleeping();
  await clock.advance(DRAIN_GRACE_MS);
  await server.closed;
  assertEquals(replyText(transport.sent, 1), "stopped");
});
