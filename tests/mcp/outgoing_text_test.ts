/** The server's `outgoingText` filter: the one redaction step for everything it sends. */
import { assert, assertEquals } from "../assert.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { McpServer } from "../../lib/mcp/server.ts";
import type { JsonRpcTransport, WireMessage } from "../../lib/mcp/jsonrpc.ts";
import { toolText } from "../../lib/mcp/tool_spec.ts";

const SECRET = "s3cr3t-value-XYZ";

/** A transport that records what is sent; `done` resolves once `expected` messages went out. */
function recordingTransport(expected: number) {
  const sent: WireMessage[] = [];
  const { promise: done, resolve } = Promise.withResolvers<void>();
  const transport: JsonRpcTransport = {
    start: () => Promise.resolve(),
    send: (message) => {
      if ("jsonrpc" in message) sent.push(message);
      else sent.push(...message);
      if (sent.length === expected) resolve();
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
  return { transport, sent, done };
}

Deno.test("server: results, errors and pushes pass the outgoing filter before they are sent", async () => {
  const { log } = captureLog("debug", [SECRET]);
  const { transport, sent, done } = recordingTransport(3);
  const server = new McpServer<Record<string, never>>({
    transport,
    serverInfo: { name: "t", version: "1" },
    tools: [{
      name: "leak",
      description: "returns text with a secret",
      inputSchema: { type: "object", properties: {} },
      annotations: { readOnlyHint: true },
      handler: () => Promise.resolve(toolText(`body echoed Bearer ${SECRET}`)),
    }],
    context: {},
    log,
    outgoingText: (text) => log.redactor.redact(text),
  });
  await server.start();
  transport.onmessage?.({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "leak" } });
  transport.onmessage?.({ jsonrpc: "2.0", id: 2, method: `nope/${SECRET}` });
  transport.onmessage?.({ jsonrpc: "2.0", method: "notifications/initialized" });
  await server.notify("notifications/claude/channel", {
    content: `> ${JSON.stringify({ k: SECRET })}`,
    meta: { [SECRET]: "x" },
  });
  await done;
  await server.close();
  const wire = JSON.stringify(sent);
  assertEquals(sent.length, 3, wire);
  assert(!wire.includes(SECRET), wire);
  assert(wire.includes("[redacted]"));
});

Deno.test("server: a tool result cut at the result cap never shows the start of a secret", async () => {
  const { log } = captureLog("debug", [SECRET]);
  const { transport, sent, done } = recordingTransport(1);
  // The cap cuts 512 KiB in: the secret straddles the cut, its first 12 characters before it.
  const padding = "a".repeat(512 * 1024 - 300);
  const server = new McpServer<Record<string, never>>({
    transport,
    serverInfo: { name: "t", version: "1" },
    tools: [{
      name: "big",
      description: "returns a long text with a secret at the cut",
      inputSchema: { type: "object", properties: {} },
      annotations: { readOnlyHint: true },
      handler: () => Promise.resolve(toolText(padding + SECRET.repeat(40))),
    }],
    context: {},
    log,
    outgoingText: (text) => log.redactor.redact(text),
  });
  await server.start();
  transport.onmessage?.({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "big" } });
  await done;
  await server.close();
  const wire = JSON.stringify(sent);
  assert(wire.includes("Result cut"), wire.slice(-400));
  assert(!wire.includes(SECRET.slice(0, 8)), wire.slice(-400));
});
