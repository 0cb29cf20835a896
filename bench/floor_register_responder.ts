/**
 * A second floor for `make bench`: the bare stdio responder of bench/floor_responder.ts that,
 * like the program (issue 12: initialize is held until the first register has answered),
 * sends one POST /registry/register to PLATFORM_URL and reads its answer before it replies to
 * `initialize`. Program minus this floor is what our own code costs at start-up beyond the
 * one HTTP request the hold requires. It uses fetch with the program's headers and no timer,
 * and imports nothing: any import would raise the floor.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function reply(id: unknown, result: Record<string, unknown>): void {
  const bytes = encoder.encode(JSON.stringify({ jsonrpc: "2.0", id, result }) + "\n");
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}

/** One register, as the program sends it; any answer (or failure) ends the wait. */
async function register(): Promise<void> {
  const base = Deno.env.get("PLATFORM_URL") ?? "";
  const id = Deno.env.get("WORKSPACE_ID") ?? "";
  try {
    const res = await fetch(
      new Request(`${base}/registry/register`, {
        method: "POST",
        headers: new Headers({
          "Authorization": `Bearer ${Deno.env.get("MOLECULE_WORKSPACE_TOKEN") ?? ""}`,
          "Origin": new URL(base).origin,
          "Accept": "application/json",
          "User-Agent": "molecule-mcp-floor/0",
          "Content-Type": "application/json",
        }),
        body: JSON.stringify({
          id,
          url: "",
          agent_card: { name: "floor", skills: [] },
          delivery_mode: "poll",
        }),
      }),
    );
    await res.text();
  } catch {
    // the floor has no error handling: the time spent is what counts
  }
}

async function answer(line: string): Promise<void> {
  let message: unknown;
  try {
    message = JSON.parse(line);
  } catch {
    return; // not JSON: the floor has no error replies
  }
  if (typeof message !== "object" || message === null || !("id" in message)) return;
  const method = "method" in message ? message.method : undefined;
  if (method === "initialize") {
    await register();
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
    await answer(buffer.slice(0, newline));
    buffer = buffer.slice(newline + 1);
    newline = buffer.indexOf("\n");
  }
}
