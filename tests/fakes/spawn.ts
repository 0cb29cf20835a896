/**
 * Runs the real program as a subprocess for end-to-end tests, with the permission set the
 * binary is compiled with: `deno run -q -P=shipped main.ts` from the repo root, or the built
 * binary named by MOLECULE_MCP_BIN. The environment is cleared: the child sees only the
 * variables a test passes (plus Deno's own cache settings), so a test never picks up the
 * developer's real token or home directory. Pass CONFIGS_DIR (or HOME) pointing at a temp dir.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import manifest from "../../deno.json" with { type: "json" };

/** Options for one program run. */
export interface SpawnOptions {
  /** The child's whole environment (besides Deno's cache settings). */
  env: Record<string, string>;
  /** Command-line arguments after the program name. */
  args?: string[];
  /** "piped" (default) lets the test write stdin; "null" gives the child an immediate EOF. */
  stdin?: "piped" | "null";
  /**
   * A script to run instead of main.ts (repo-relative, or absolute), with exactly the program's Deno flags
   * (always `deno run`, even when MOLECULE_MCP_BIN names a binary). The benchmark's bare
   * stdio responder uses it to measure the runtime's floor.
   */
  entry?: string;
  /**
   * The deno.json an `entry` runs with (absolute; default the checkout's). The benchmark runs
   * its floors with the config the measured program has, so neither pays for the other's.
   */
  config?: string;
}

/** What a finished run produced. */
export interface ProgramResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The repo root (where deno.json and main.ts live). */
export const REPO_ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Runs `make -s -C <checkout> install PREFIX=<prefix>` (the checkout defaults to this repo), as
 * an operator installs the wrapper; its exit code and decoded output.
 */
export async function makeInstall(
  prefix: string,
  checkout: string = REPO_ROOT,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const made = await new Deno.Command("make", {
    args: ["-s", "-C", checkout, "install", `PREFIX=${prefix}`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: made.code,
    stdout: decoder.decode(made.stdout),
    stderr: decoder.decode(made.stderr),
  };
}

/**
 * The command line and environment that start the program, for tests that hand them to
 * another launcher (the MCP SDK's StdioClientTransport, for one).
 */
export function programCommand(
  opts: Pick<SpawnOptions, "env" | "args" | "entry" | "config">,
): { command: string; args: string[]; env: Record<string, string>; cwd: string } {
  const args = opts.args ?? [];
  const bin = Deno.env.get("MOLECULE_MCP_BIN");
  if (bin !== undefined && bin !== "" && opts.entry === undefined) {
    return { command: bin, args, env: { ...opts.env }, cwd: REPO_ROOT };
  }
  // Same flags as the Makefile's `run`: the shipped permission set and V8 flags from deno.json,
  // Deno's notices hidden.
  const denoEnv: Record<string, string> = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  denoEnv.DENO_DIR = Deno.env.get("DENO_DIR") ?? join(REPO_ROOT, ".tools", "deno_dir");
  return {
    command: Deno.execPath(),
    args: [
      "run",
      "-q",
      "--no-lock",
      // Explicit, so an entry outside the checkout (the release bundle) gets the same set.
      `--config=${opts.config ?? join(REPO_ROOT, "deno.json")}`,
      "-P=shipped",
      `--v8-flags=${manifest.runtime.v8Flags}`,
      opts.entry ?? "main.ts",
      ...args,
    ],
    env: { ...denoEnv, ...opts.env },
    cwd: REPO_ROOT,
  };
}

/** Starts the program; the handle must be finished with wait(), kill() or `await using`. */
export function spawnProgram(opts: SpawnOptions): ProgramHandle {
  const { command, args, env, cwd } = programCommand(opts);
  const child = new Deno.Command(command, {
    args,
    env,
    cwd,
    clearEnv: true,
    stdin: opts.stdin ?? "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return new ProgramHandle(child, (opts.stdin ?? "piped") === "piped");
}

/** Runs the program to completion with stdin closed at once (unless `input` is given). */
export async function runProgram(
  opts: Omit<SpawnOptions, "stdin"> & { input?: string },
): Promise<ProgramResult> {
  const program = spawnProgram({ ...opts, stdin: opts.input === undefined ? "null" : "piped" });
  if (opts.input !== undefined) await program.write(opts.input);
  return await program.wait();
}

/** A running program: line-by-line stdout, collected stderr, stdin writes, exit status. */
export class ProgramHandle {
  #child: Deno.ChildProcess;
  #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #stdout: LineReader;
  #stderrLines: string[] = [];
  #stderrWatchers: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  #stderrDone: Promise<void>;
  #isStderrDone = false;
  #status: Promise<Deno.CommandStatus>;
  #hasExited = false;

  constructor(child: Deno.ChildProcess, isStdinPiped: boolean) {
    this.#child = child;
    this.#stdin = isStdinPiped ? child.stdin.getWriter() : undefined;
    this.#stdout = new LineReader(child.stdout);
    this.#stderrDone = this.#pumpStderr(new LineReader(child.stderr));
    this.#status = child.status.then((status) => {
      this.#hasExited = true;
      return status;
    });
  }

  /** Writes raw text to stdin. */
  async write(text: string): Promise<void> {
    if (this.#stdin === undefined) throw new Error("stdin is not piped or already closed");
    await this.#stdin.write(new TextEncoder().encode(text));
  }

  /** Writes one line (a newline is appended) to stdin. */
  async writeLine(line: string): Promise<void> {
    await this.write(`${line}\n`);
  }

  /** Closes stdin: the program sees EOF. Safe to call twice. */
  async closeStdin(): Promise<void> {
    const stdin = this.#stdin;
    this.#stdin = undefined;
    await stdin?.close().catch((err) => {
      // The child may already be gone: a broken pipe, or a stream that errored when an earlier
      // write hit the dead pipe. The exit status tells the story.
      if (!(err instanceof Deno.errors.BrokenPipe) && !(err instanceof TypeError)) throw err;
    });
  }

  /** The next stdout line (without its newline), or undefined once stdout has ended. */
  readLine(): Promise<string | undefined> {
    return this.#stdout.readLine();
  }

  /** Every stderr line seen so far, joined by newlines. */
  stderrText(): string {
    return this.#stderrLines.join("\n");
  }

  /**
   * Resolves with the first stderr line (already seen or still to come) that contains
   * `pattern` (a string) or matches it (a RegExp); rejects when stderr ends without one.
   */
  waitForStderr(pattern: string | RegExp): Promise<string> {
    const match = (line: string) =>
      typeof pattern === "string" ? line.includes(pattern) : pattern.test(line);
    const seen = this.#stderrLines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.#isStderrDone) return Promise.reject(this.#noMatch(pattern));
    return new Promise((resolve, reject) => {
      this.#stderrWatchers.push({ match, resolve });
      this.#stderrDone.then(() => reject(this.#noMatch(pattern)));
    });
  }

  /** Whether the process has exited by now (a snapshot, not a wait). */
  async hasExited(): Promise<boolean> {
    // Let an exit that is already reported settle its promise before answering.
    await Promise.race([this.#status, Promise.resolve()]);
    return this.#hasExited;
  }

  /** Closes stdin, then returns the exit code, the stdout not yet read, and all of stderr. */
  async wait(): Promise<ProgramResult> {
    await this.closeStdin();
    const [stdout, status] = await Promise.all([this.#stdout.readRest(), this.#status]);
    await this.#stderrDone;
    return { code: status.code, stdout, stderr: this.stderrText() };
  }

  /** Waits for the program to exit by itself, stdin left open as a host leaves it. */
  async exited(): Promise<ProgramResult> {
    const [stdout, status] = await Promise.all([this.#stdout.readRest(), this.#status]);
    await this.#stderrDone;
    await this.closeStdin();
    return { code: status.code, stdout, stderr: this.stderrText() };
  }

  /** Sends `signal` (SIGTERM by default) unless the process already exited, then waits. */
  async kill(signal: Deno.Signal = "SIGTERM"): Promise<ProgramResult> {
    if (!this.#hasExited) {
      try {
        this.#child.kill(signal);
      } catch (err) {
        // It exited between the check and the kill: nothing left to stop.
        if (!(err instanceof TypeError)) throw err;
      }
    }
    return await this.wait();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
  }

  async #pumpStderr(reader: LineReader): Promise<void> {
    for (;;) {
      const line = await reader.readLine();
      if (line === undefined) break;
      this.#stderrLines.push(line);
      const ready = this.#stderrWatchers.filter((w) => w.match(line));
      this.#stderrWatchers = this.#stderrWatchers.filter((w) => !ready.includes(w));
      for (const w of ready) w.resolve(line);
    }
    this.#isStderrDone = true;
  }

  #noMatch(pattern: string | RegExp): Error {
    return new Error(`stderr ended without ${String(pattern)}; stderr was:\n${this.stderrText()}`);
  }
}

/** Splits a byte stream into text lines on demand. */
class LineReader {
  #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";
  #isDone = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next line without its "\n", or undefined at the end (a last partial line counts). */
  async readLine(): Promise<string | undefined> {
    for (;;) {
      const newline = this.#buffer.indexOf("\n");
      if (newline >= 0) {
        const line = this.#buffer.slice(0, newline);
        this.#buffer = this.#buffer.slice(newline + 1);
        return line;
      }
      if (this.#isDone) {
        if (this.#buffer === "") return undefined;
        const last = this.#buffer;
        this.#buffer = "";
        return last;
      }
      const { value, done } = await this.#reader.read();
      if (done) this.#isDone = true;
      else this.#buffer += value;
    }
  }

  /** Everything not read yet, up to the end of the stream. */
  async readRest(): Promise<string> {
    while (!this.#isDone) {
      const { value, done } = await this.#reader.read();
      if (done) this.#isDone = true;
      else this.#buffer += value;
    }
    const rest = this.#buffer;
    this.#buffer = "";
    return rest;
  }
}
