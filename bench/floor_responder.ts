/**
 * The runtime's floor for `make bench`: a bare Deno stdio responder with nothing behind it.
 * It answers `initialize` (and `ping`) with the smallest valid result, ignores everything else,
 * and exits on stdin EOF. The benchmark runs it with exactly the program's Deno flags
 * (`-P=shipped`, deno.json's V8 flags), so program minus floor is what our own code costs at
 * start-up. It imports nothing: any import would raise the floor.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function reply(id: unknown, result: Record<string, unknown>): void {
  const bytes = encoder.encode(JSON.stringify({ jsonrpc: "2.0", id, result }) + "\n");
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}

function answer(line: string): void {
  let message: unknown;
  try {
    message = JSON.parse(line);
  } catch {
    return; // not JSON: the floor has no error replies
  }
  if (typeof message !== "object" || message === null || !("id" in message)) return;
  const method = "method" in message ? message.method : undefined;
  if (method === "initialize") {
    reply(message.id, {
      protocolVersion: "2025-06-18",
      capabilities: {},
      serverInfo: { name: "floor", version: "0" },
    });
  } else if (method === "ping") {
    reply(message.id, {});
  }
}

let buffer = "";
for await (const chunk of Deno.stdin.readable) {
  buffer += decoder.decode(chunk, { stream: true });
  let newline = buffer.indexOf("\n");
  while (newline >= 0) {
    answer(buffer.slice(0, newline));
    buffer = buffer.slice(newline + 1);
    newline = buffer.indexOf("\n");
  }
}
