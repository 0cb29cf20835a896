/**
 * A stdio transport over a scripted stdin and a stdout the test stalls and resumes: the rig the
 * stdio backpressure and waiting-request tests share.
 */
import { captureLog } from "./log_capture.ts";
import {
  type ByteWriter,
  StdioTransport,
  type StdioTransportOptions,
} from "../../lib/mcp/stdio.ts";

const encoder = new TextEncoder();

/** An stdout whose reader has stalled: writes hang until `resume()`, then all complete. */
export class StalledStdout implements ByteWriter {
  lines: string[] = [];
  #isStalled = true;
  #held: (() => void)[] = [];
  #partial = "";

  write(chunk: Uint8Array): Promise<number> {
    const take = () => {
      const text = this.#partial + new TextDecoder().decode(chunk);
      const parts = text.split("\n");
      this.#partial = parts.pop() ?? "";
      this.lines.push(...parts);
      return chunk.length;
    };
    if (!this.#isStalled) return Promise.resolve(take());
    return new Promise((resolve) => this.#held.push(() => resolve(take())));
  }

  resume(): void {
    this.#isStalled = false;
    const held = this.#held;
    this.#held = [];
    for (const release of held) release();
  }
}

/** A stdin the test writes lines into (each write is one chunk) and ends. */
export function stdinOf() {
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  return {
    stream,
    write: (line: string) => controller?.enqueue(encoder.encode(`${line}\n`)),
    end: () => controller?.close(),
  };
}

/**
 * A stdin that holds `lines` (each ending in a newline) and hands one over per read, only when
 * the transport reads: `pulled()` counts the lines it took, so a test sees where reading stopped.
 */
export function pulledStdin(lines: readonly string[]) {
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const line = lines[pulled];
      if (line === undefined) return controller.close();
      pulled += 1;
      controller.enqueue(encoder.encode(`${line}\n`));
    },
  }, { highWaterMark: 0 });
  return { stream, pulled: () => pulled };
}

/**
 * The rig the stdio tests use: a transport over a scripted stdin (or `input`) and a stdout that
 * has stalled (`isReading`: a host that reads stdout), with `opts` as given, not started yet.
 * `received` collects the ids of the requests it reads; tests may set their own `onmessage`.
 */
export function rig(
  opts: Pick<StdioTransportOptions, "maxQueuedBytes" | "maxUnanswered" | "maxUnansweredBytes">,
  { isReading = false, input }: { isReading?: boolean; input?: ReadableStream<Uint8Array> } = {},
) {
  const stdout = new StalledStdout();
  if (isReading) stdout.resume();
  const stdin = stdinOf();
  const { log, text } = captureLog("info");
  const transport = new StdioTransport({
    input: input ?? stdin.stream,
    output: stdout,
    log,
    ...opts,
  });
  const received: number[] = [];
  transport.onmessage = (m) => {
    if (typeof m === "object" && m !== null && "id" in m && typeof m.id === "number") {
      received.push(m.id);
    }
  };
  return { stdout, stdin, log, text, transport, received };
}
