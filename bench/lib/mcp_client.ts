/**
 * A scripted MCP client over the program's stdio, for `make bench` and `make demo`: spawns the
 * real program (programCommand: `deno run -q -P=shipped main.ts`, or MOLECULE_MCP_BIN), sends
 * JSON-RPC requests (several may be in flight), timestamps every notification it reads, and
 * reads the child's resident memory from /proc. Not a test helper: nothing here asserts.
 */
import { programCommand } from "../../tests/fakes/spawn.ts";

/** One JSON-RPC notification from the server, stamped with performance.now() at arrival. */
export interface ReceivedNotification {
  method: string;
  params: Record<string, unknown>;
  atMs: number;
}

/** A tools/call result: the text blocks joined, and whether the tool reported an error. */
export interface ToolCallResult {
  text: string;
  isError: boolean;
}

/** A request on the wire: its id and the promise of its result. */
export interface SentRequest {
  id: number;
  result: Promise<Record<string, unknown>>;
}

/** The server answered a request with a JSON-RPC error. */
export class RpcError extends Error {
  constructor(readonly code: number, message: string) {
    super(`JSON-RPC error ${code}: ${message}`);
    this.name = "RpcError";
  }
}

/** Options for `McpClient.start`. */
export interface StartOptions {
  /** The child's whole environment (besides Deno's cache settings). */
  env: Record<string, string>;
  /** Called with every stderr line of the child as it arrives (e.g. to echo verbose logs). */
  onStderrLine?: (line: string) => void;
  /** A repo-relative script to run instead of the program, with the program's Deno flags. */
  entry?: string;
  /** The deno.json `entry` runs with (absolute; default the checkout's). */
  config?: string;
}

interface Pending {
  resolve(result: Record<string, unknown>): void;
  reject(err: Error): void;
}

/** Most stderr lines kept for error messages. */
const STDERR_TAIL_LINES = 40;
/** How long close() waits for the program to exit on stdin EOF before signalling it. */
const EXIT_GRACE_MS = 5_000;

/** A running program and the MCP session with it. */
export class McpClient {
  /** The child's process id (for /proc/<pid>/status). */
  readonly pid: number;
  /** The command line that started the program, for display. */
  readonly commandLine: string;
  #child: Deno.ChildProcess;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #encoder = new TextEncoder();
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #listeners = new Set<(n: ReceivedNotification) => void>();
  #stderrTail: string[] = [];
  #pumps: Promise<void>[];
  #exitCode: number | null = null;
  #status: Promise<Deno.CommandStatus>;
  #isStdinClosed = false;
  #readGate: PromiseWithResolvers<void> | null = null;

  private constructor(child: Deno.ChildProcess, commandLine: string, opts: StartOptions) {
    this.#child = child;
    this.pid = child.pid;
    this.commandLine = commandLine;
    this.#stdin = child.stdin.getWriter();
    this.#status = child.status.then((status) => {
      this.#exitCode = status.code;
      return status;
    });
    this.#pumps = [
      this.#pumpStdout(child.stdout),
      this.#pumpStderr(child.stderr, opts.onStderrLine),
    ];
  }

  /** Spawns the program with a cleared environment plus `opts.env`. */
  static start(opts: StartOptions): McpClient {
    const { command, args, env, cwd } = programCommand({
      env: opts.env,
      ...(opts.entry === undefined ? {} : { entry: opts.entry }),
      ...(opts.config === undefined ? {} : { config: opts.config }),
    });
    const child = new Deno.Command(command, {
      args,
      env,
      cwd,
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const shown = command === Deno.execPath() ? "deno" : command;
    return new McpClient(child, [shown, ...args].join(" "), opts);
  }

  /** Sends `initialize` then `notifications/initialized`; returns the initialize result. */
  async initialize(clientName = "molecule-bench"): Promise<Record<string, unknown>> {
    const result = await this.requestInitialize(clientName);
    await this.notify("notifications/initialized", {});
    return result;
  }

  /** Sends `initialize` alone (the caller sends `notifications/initialized`). */
  requestInitialize(clientName = "molecule-bench"): Promise<Record<string, unknown>> {
    return this.request("initialize", {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: clientName, version: "1" },
    });
  }

  /**
   * Stops the child (SIGSTOP) until resume(): freezes it at a moment (say, right on a reply)
   * so /proc shows what it needed up to then, not what it goes on to do.
   */
  suspend(): void {
    this.#kill("SIGSTOP");
  }

  /** Lets a suspended child run again (SIGCONT). */
  resume(): void {
    this.#kill("SIGCONT");
  }

  /** Sends a request and waits for its result; rejects with RpcError on a JSON-RPC error. */
  request(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.send(method, params).result;
  }

  /** Sends a request without waiting, so several can be in flight (see cancel). */
  send(method: string, params: Record<string, unknown> = {}): SentRequest {
    const id = this.#nextId++;
    const result = new Promise<Record<string, unknown>>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
    });
    this.#write({ jsonrpc: "2.0", id, method, params }).catch((err) => {
      this.#settle(id, (p) => p.reject(err instanceof Error ? err : new Error(String(err))));
    });
    return { id, result };
  }

  /** Sends a notification (no reply). */
  notify(method: string, params: Record<string, unknown> = {}): Promise<void> {
    return this.#write({ jsonrpc: "2.0", method, params });
  }

  /** Calls a tool and returns its text; rejects with RpcError when the server refuses the call. */
  async callTool(name: string, args: Record<string, unknown> = {}): Promise<ToolCallResult> {
    return parseToolResult(await this.request("tools/call", { name, arguments: args }));
  }

  /**
   * Cancels an in-flight request (notifications/cancelled): the server never answers it, so
   * its promise rejects here with "cancelled".
   */
  async cancel(id: number, reason = "cancelled by the client"): Promise<void> {
    this.#settle(id, (p) => p.reject(new Error(`request ${id} cancelled`)));
    await this.notify("notifications/cancelled", { requestId: id, reason });
  }

  /** Calls `listener` with every notification from now on; returns the unsubscribe function. */
  onNotification(listener: (n: ReceivedNotification) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The next notification with `method`, or a rejection after `timeoutMs`. */
  nextNotification(method: string, timeoutMs: number): Promise<ReceivedNotification> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no ${method} notification within ${timeoutMs} ms${this.#tailNote()}`));
      }, timeoutMs);
      const off = this.onNotification((n) => {
        if (n.method !== method) return;
        clearTimeout(timer);
        off();
        resolve(n);
      });
    });
  }

  /** Resident set size of the child in MiB (VmRSS), or null where /proc is not available. */
  async rssMiB(): Promise<number | null> {
    return (await readMemoryMiB(this.pid))?.rss ?? null;
  }

  /** Current and peak (VmHWM) resident set size of the child in MiB, or null without /proc. */
  memoryMiB(): Promise<MemoryMiB | null> {
    return readMemoryMiB(this.pid);
  }

  /**
   * CPU time the child has used so far, all threads, in ms (from /proc/<pid>/task/* /schedstat),
   * or null without /proc. Unlike wall time it barely moves when other work shares the CPUs.
   */
  cpuMs(): Promise<number | null> {
    return readCpuMs(this.pid);
  }

  /** The last stderr lines of the child, joined by newlines. */
  stderrTail(): string {
    return this.#stderrTail.join("\n");
  }

  /** The exit code once the program has exited, else null. */
  get exitCode(): number | null {
    return this.#exitCode;
  }

  /**
   * Closes stdin (the program stops on EOF), waits for the exit (SIGTERM after a grace
   * period, SIGKILL after another) and for both output streams; returns the exit code.
   */
  async close(): Promise<number> {
    if (!this.#isStdinClosed) {
      this.#isStdinClosed = true;
      await this.#stdin.close().catch(() => {
        // The child may already be gone (broken pipe); its exit status tells the story.
      });
    }
    let status = await this.#waitExit(EXIT_GRACE_MS);
    if (status === null) {
      this.#kill("SIGTERM");
      status = await this.#waitExit(EXIT_GRACE_MS);
    }
    if (status === null) {
      this.#kill("SIGKILL");
      status = await this.#status;
    }
    await Promise.all(this.#pumps);
    return status.code;
  }

  async #waitExit(ms: number): Promise<Deno.CommandStatus | null> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), ms);
    });
    try {
      return await Promise.race([this.#status, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #kill(signal: Deno.Signal): void {
    try {
      this.#child.kill(signal);
    } catch {
      // Already exited between the wait and the kill.
    }
  }

  async #write(message: Record<string, unknown>): Promise<void> {
    if (this.#isStdinClosed) throw new Error("stdin of the program is closed");
    await this.#stdin.write(this.#encoder.encode(JSON.stringify(message) + "\n"));
  }

  #settle(id: number, how: (p: Pending) => void): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    how(pending);
  }

  #tailNote(): string {
    const tail = this.stderrTail();
    return tail === "" ? "" : `; program stderr:\n${tail}`;
  }

  /**
   * Stops reading the program's stdout (as a host that stalls) until resumeReading(): the
   * pipe fills and the program's writes wait.
   */
  pauseReading(): void {
    this.#readGate ??= Promise.withResolvers<void>();
  }

  /** Reads stdout again after pauseReading(). */
  resumeReading(): void {
    this.#readGate?.resolve();
    this.#readGate = null;
  }

  async #pumpStdout(stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const line of lines(stream)) {
      while (this.#readGate !== null) await this.#readGate.promise;
      const atMs = performance.now();
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        this.#keepStderr(`[stdout, not JSON] ${line}`);
        continue;
      }
      if (!isRecord(msg)) continue;
      if (typeof msg.id === "number" && ("result" in msg || "error" in msg)) {
        const { result, error } = msg;
        this.#settle(msg.id, (p) => {
          if (isRecord(error)) {
            const code = typeof error.code === "number" ? error.code : 0;
            p.reject(new RpcError(code, String(error.message)));
          } else p.resolve(isRecord(result) ? result : {});
        });
      } else if (typeof msg.method === "string" && !("id" in msg)) {
        const n = { method: msg.method, params: isRecord(msg.params) ? msg.params : {}, atMs };
        for (const listener of [...this.#listeners]) listener(n);
      }
    }
    const ended = new Error(`the program closed stdout${this.#tailNote()}`);
    for (const id of [...this.#pending.keys()]) this.#settle(id, (p) => p.reject(ended));
  }

  async #pumpStderr(
    stream: ReadableStream<Uint8Array>,
    onLine: ((line: string) => void) | undefined,
  ): Promise<void> {
    for await (const line of lines(stream)) {
      this.#keepStderr(line);
      onLine?.(line);
    }
  }

  #keepStderr(line: string): void {
    this.#stderrTail.push(line);
    if (this.#stderrTail.length > STDERR_TAIL_LINES) this.#stderrTail.shift();
  }
}

/** A process's memory in MiB, from /proc/<pid>/status (readMemoryMiB). */
export interface MemoryMiB {
  /** VmRSS: resident now. */
  rss: number;
  /** VmHWM: the peak resident set so far. */
  peak: number;
  /**
   * RssAnon: the private part of `rss` (V8 heap, Rust allocations, stacks): what the process
   * itself allocated. NaN where the kernel does not report it.
   */
  anon: number;
  /**
   * RssFile (+ RssShmem): pages mapped from files, almost all of them the Deno executable's
   * code and read-only data, brought in (64 KiB at a time with Linux's fault-around) the first
   * time a runtime feature runs. Shared with every process running the same executable and
   * reclaimable. NaN where the kernel does not report it.
   */
  file: number;
}

/**
 * Memory of process `pid` in MiB from /proc/<pid>/status, or null when it cannot be read.
 * Read through `cat`: Deno grants /proc/<pid> paths only with --allow-all, and the benchmark
 * already runs subprocesses.
 */
export async function readMemoryMiB(pid: number): Promise<MemoryMiB | null> {
  try {
    const out = await new Deno.Command("cat", {
      args: [`/proc/${pid}/status`],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!out.success) return null;
    const text = new TextDecoder().decode(out.stdout);
    // One "Name:   1234 kB" line in MiB; NaN when the kernel does not report that field.
    const mib = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, "m").exec(text)?.[1]) / 1024;
    const rss = mib("VmRSS");
    const peak = mib("VmHWM");
    if (Number.isNaN(rss) || Number.isNaN(peak)) return null;
    return { rss, peak, anon: mib("RssAnon"), file: mib("RssFile") + mib("RssShmem") };
  } catch {
    return null;
  }
}

/** CPU time of every thread of `pid` in ms (schedstat's first field is on-CPU nanoseconds). */
export async function readCpuMs(pid: number): Promise<number | null> {
  try {
    const out = await new Deno.Command("sh", {
      args: ["-c", `cat /proc/${pid}/task/*/schedstat`],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!out.success) return null;
    const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
    const ns = lines.map((line) => Number(line.split(" ")[0]));
    return ns.some((n) => !Number.isFinite(n)) ? null : ns.reduce((a, b) => a + b, 0) / 1e6;
  } catch {
    return null;
  }
}

/** The text and error flag of a tools/call result. */
export function parseToolResult(result: Record<string, unknown>): ToolCallResult {
  const content = Array.isArray(result.content) ? result.content : [];
  const text = content
    .map((block) => isRecord(block) && typeof block.text === "string" ? block.text : "")
    .join("\n");
  return { text, isError: result.isError === true };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Splits a byte stream into lines (without "\n"); a last partial line counts. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let newline = buffer.indexOf("\n");
    while (newline >= 0) {
      yield buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf("\n");
    }
  }
  if (buffer !== "") yield buffer;
}
