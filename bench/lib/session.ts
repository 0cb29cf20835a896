/**
 * Glue for scripted sessions: start the program against a simulator and initialize it, wait
 * for a condition with a deadline, and collect channel pushes by activity id. Shared by the
 * benchmarks and the demo.
 */
import { McpClient, type ReceivedNotification } from "./mcp_client.ts";
import { ACTIVITY_ROUTE, type Simulator } from "./simulator.ts";

/** The method of the program's inbound-message push. */
export const CHANNEL_METHOD = "notifications/claude/channel";

/** Starts the program for `sim`'s workspace (plus `extraEnv`) and completes the handshake. */
export async function openSession(
  sim: Simulator,
  extraEnv: Record<string, string> = {},
): Promise<McpClient> {
  const client = McpClient.start({ env: sim.programEnv(extraEnv) });
  try {
    await client.initialize();
  } catch (err) {
    await client.close();
    throw err;
  }
  return client;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Checks `condition` every 10 ms until it holds; throws after `timeoutMs`, naming `what`
 * (a function is called only then, so it can report the state at the deadline).
 */
export async function waitFor(
  condition: () => boolean,
  timeoutMs: number,
  what: string | (() => string),
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms: ${typeof what === "string" ? what : what()}`,
      );
    }
    await sleep(10);
  }
}

/** Waits until the program has polled the inbox at least `polls` times since `sinceMs`. */
export async function waitForPolls(
  sim: Simulator,
  opts: { sinceMs?: number; polls?: number; timeoutMs?: number } = {},
): Promise<void> {
  const polls = opts.polls ?? 1;
  await waitFor(
    () => sim.requestsSince(opts.sinceMs ?? 0, ACTIVITY_ROUTE).length >= polls,
    opts.timeoutMs ?? 15_000,
    `${polls} inbox poll(s) at the simulator`,
  );
}

/** The `meta.activity_id` of a channel push, or "" when absent. */
export function activityIdOf(n: ReceivedNotification): string {
  const meta = n.params.meta;
  if (typeof meta !== "object" || meta === null) return "";
  const id = (meta as Record<string, unknown>).activity_id;
  return typeof id === "string" ? id : "";
}

/**
 * The `activity_id`s of an inbox listing (a tool result's text: a JSON array of messages),
 * in order; [] when the text is not such a list.
 */
export function activityIdsOf(text: string): string[] {
  try {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) return [];
    return parsed.map((m) => (m as { activity_id?: string }).activity_id ?? "").filter((id) =>
      id !== ""
    );
  } catch {
    return [];
  }
}

/** Collects the channel pushes of one client from now on. */
export class ChannelCollector {
  /** Every push received, oldest first. */
  readonly received: ReceivedNotification[] = [];
  #off: () => void;

  constructor(client: McpClient) {
    this.#off = client.onNotification((n) => {
      if (n.method === CHANNEL_METHOD) this.received.push(n);
    });
  }

  /** Waits until `count` pushes in total have arrived. */
  async waitForCount(count: number, timeoutMs: number): Promise<void> {
    await waitFor(
      () => this.received.length >= count,
      timeoutMs,
      () => `${count} channel notifications (got ${this.received.length})`,
    );
  }

  /** Stops collecting. */
  stop(): void {
    this.#off();
  }
}
