/**
 * A raw JSON-RPC session over a spawned program's stdio (tests/fakes/spawn.ts): it writes
 * requests as lines and reads stdout line by line, keeping every line, every notification and
 * every response that arrives before the one being waited for. Any stdout line that is not a
 * JSON-RPC 2.0 object fails the read at once: stdout belongs to JSON-RPC.
 */
import type { ProgramHandle } from "./spawn.ts";

/** One parsed stdout message. */
export type RpcMessage = Record<string, unknown>;

/** What a tools/call answered, flattened. */
export interface ToolAnswer {
  /** The text blocks of the result joined, or the JSON-RPC error message. */
  text: string;
  /** True for `isError: true` results and for JSON-RPC errors. */
  isError: boolean;
  /** The whole response message. */
  response: RpcMessage;
}

/** The params of a host's initialize request (protocol 2025-06-18, no capabilities). */
export const INITIALIZE_PARAMS = {
  protocolVersion: "2025-06-18",
  capabilities: {},
  clientInfo: { name: "test-host", version: "1" },
};

/** A raw JSON-RPC session over the program's stdio. */
export class RpcSession {
  /** Every notification read so far, in order. */
  readonly notifications: RpcMessage[] = [];
  /** Every stdout line read so far, in order. */
  readonly stdoutLines: string[] = [];
  #responses = new Map<string, RpcMessage>();
  #isEnded = false;

  constructor(readonly program: ProgramHandle) {}

  /** Whether stdout has ended (the program exited or closed it). */
  get isEnded(): boolean {
    return this.#isEnded;
  }

  /** Reads stdout until the response with `id` arrives; other messages are kept. */
  async response(id: number | string): Promise<RpcMessage> {
    for (;;) {
      const kept = this.#takeResponse(id);
      if (kept !== undefined) return kept;
      if (!await this.#readOne()) throw new Error(`stdout ended before response ${id}`);
    }
  }

  /** Sends a request and waits for its response. */
  async request(id: number | string, method: string, params: unknown = {}): Promise<RpcMessage> {
    await this.send(id, method, params);
    return await this.response(id);
  }

  /** Sends a request without waiting for the response. */
  async send(id: number | string, method: string, params: unknown = {}): Promise<void> {
    await this.program.writeLine(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
  }

  /** Sends a notification (no reply expected). */
  async notify(method: string, params?: unknown): Promise<void> {
    const msg = params === undefined
      ? { jsonrpc: "2.0", method }
      : { jsonrpc: "2.0", method, params };
    await this.program.writeLine(JSON.stringify(msg));
  }

  /** initialize + notifications/initialized, as a host does; returns the initialize result. */
  async initialize(id: number | string = "init"): Promise<RpcMessage> {
    const reply = await this.request(id, "initialize", INITIALIZE_PARAMS);
    await this.notify("notifications/initialized");
    const result = reply.result;
    if (typeof result !== "object" || result === null) {
      throw new Error(`initialize failed: ${JSON.stringify(reply)}`);
    }
    return result as RpcMessage;
  }

  /** Calls a tool and flattens its answer. */
  async callTool(
    id: number | string,
    name: string,
    args: Record<string, unknown> = {},
  ): Promise<ToolAnswer> {
    const response = await this.request(id, "tools/call", { name, arguments: args });
    return toolAnswer(response);
  }

  /** The first notification with `method` (already read or still to come). */
  async notification(method: string): Promise<RpcMessage> {
    for (;;) {
      const seen = this.notifications.find((n) => n.method === method);
      if (seen !== undefined) return seen;
      if (!await this.#readOne()) throw new Error(`stdout ended before a ${method} notification`);
    }
  }

  /** Reads until at least `count` notifications with `method` were seen; returns them all. */
  async notificationsOf(method: string, count: number): Promise<RpcMessage[]> {
    for (;;) {
      const seen = this.notifications.filter((n) => n.method === method);
      if (seen.length >= count) return seen;
      if (!await this.#readOne()) {
        throw new Error(`stdout ended after ${seen.length} of ${count} ${method} notifications`);
      }
    }
  }

  /** Reads stdout to its end (after a kill or EOF), keeping every message. */
  async drain(): Promise<void> {
    while (await this.#readOne());
  }

  /** A response already read for `id`, without waiting (and without consuming it). */
  peekResponse(id: number | string): RpcMessage | undefined {
    return this.#responses.get(responseKey(id));
  }

  #takeResponse(id: number | string): RpcMessage | undefined {
    const key = responseKey(id);
    const kept = this.#responses.get(key);
    if (kept !== undefined) this.#responses.delete(key);
    return kept;
  }

  /** Reads and files one line; false at the end of stdout. */
  async #readOne(): Promise<boolean> {
    if (this.#isEnded) return false;
    const line = await this.program.readLine();
    if (line === undefined) {
      this.#isEnded = true;
      return false;
    }
    this.stdoutLines.push(line);
    const msg = parseRpcLine(line);
    if ("method" in msg && !("id" in msg)) {
      this.notifications.push(msg);
    } else if ("result" in msg || "error" in msg) {
      const id = msg.id;
      if (typeof id === "string" || typeof id === "number") {
        this.#responses.set(responseKey(id), msg);
      }
    }
    return true;
  }
}

/** Parses one stdout line; throws when it is not a JSON-RPC 2.0 object. */
export function parseRpcLine(line: string): RpcMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error(`stdout line is not JSON: ${line.slice(0, 200)}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`stdout line is not a JSON-RPC object: ${line.slice(0, 200)}`);
  }
  const msg = value as RpcMessage;
  if (msg.jsonrpc !== "2.0") {
    throw new Error(`stdout line is not JSON-RPC 2.0: ${line.slice(0, 200)}`);
  }
  return msg;
}

/** Flattens a tools/call response. */
export function toolAnswer(response: RpcMessage): ToolAnswer {
  const error = response.error;
  if (typeof error === "object" && error !== null) {
    const message = (error as Record<string, unknown>).message;
    return { text: String(message), isError: true, response };
  }
  const result = (response.result ?? {}) as Record<string, unknown>;
  const content = Array.isArray(result.content) ? result.content : [];
  const text = content
    .map((c) => (typeof c === "object" && c !== null && "text" in c ? String(c.text) : ""))
    .join("");
  return { text, isError: result.isError === true, response };
}

function responseKey(id: number | string): string {
  return `${typeof id}:${id}`;
}
