/**
 * A minimal SDK-shaped client Transport over a spawned program's stdio (newline-delimited
 * JSON-RPC), so the official SDK Client can drive the program in the bench without the SDK's
 * StdioClientTransport (which needs env access the bench does not grant).
 */
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types";

/** Spawns `command` with `args` (cleared environment plus `env`) and speaks JSON lines. */
export class LineTransport implements Transport {
  onmessage?: Transport["onmessage"];
  onclose?: Transport["onclose"];
  onerror?: Transport["onerror"];
  #opts: { command: string; args: string[]; cwd: string; env: Record<string, string> };
  #child: Deno.ChildProcess | null = null;
  #writer: WritableStreamDefaultWriter<Uint8Array> | null = null;
  #pumps: Promise<void>[] = [];
  #encoder = new TextEncoder();

  constructor(opts: { command: string; args: string[]; cwd: string; env: Record<string, string> }) {
    this.#opts = opts;
  }

  start(): Promise<void> {
    const child = new Deno.Command(this.#opts.command, {
      args: this.#opts.args,
      cwd: this.#opts.cwd,
      env: this.#opts.env,
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#pumps.push(this.#pump(child.stdout));
    return Promise.resolve();
  }

  async #pump(stdout: ReadableStream<Uint8Array>): Promise<void> {
    let buffer = "";
    for await (const chunk of stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line === "") continue;
        try {
          this.onmessage?.(JSON.parse(line) as JSONRPCMessage);
        } catch (err) {
          this.onerror?.(err instanceof Error ? err : new Error(String(err)));
        }
      }
    }
    this.onclose?.();
  }

  async send(message: JSONRPCMessage): Promise<void> {
    await this.#writer?.write(this.#encoder.encode(`${JSON.stringify(message)}\n`));
  }

  async close(): Promise<void> {
    await this.#writer?.close().catch(() => undefined); // stdin EOF: the program exits
    await this.#child?.status;
    await Promise.allSettled(this.#pumps);
  }
}
