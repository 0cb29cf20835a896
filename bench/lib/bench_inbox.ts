/**
 * Inbox benchmarks: RSS growth over a received-and-popped run (benchmark 2), inbound delivery
 * latency (3) and burst ingest (6). Each run gets its own simulator and state directory.
 */
import type { McpClient } from "./mcp_client.ts";
import type { LatencyRun } from "./plan.ts";
import { activityIdOf, ChannelCollector, openSession, sleep, waitForPolls } from "./session.ts";
import { ACTIVITY_ROUTE, type Simulator, startSimulator } from "./simulator.ts";
import { STARTUP_HOLD_MS } from "../../lib/mcp/server.ts";

/** In-flight inbox_pop calls while draining. */
const POP_CONCURRENCY = 32;

/** Runs `fn` with a fresh simulator and an initialized program, then cleans both up. */
async function withProgram<T>(
  env: { childEnv: Record<string, string>; extraEnv: Record<string, string> },
  fn: (sim: Simulator, client: McpClient) => Promise<T>,
): Promise<T> {
  const sim = await startSimulator({ workspaceName: "bench", programEnv: env.childEnv });
  try {
    const client = await openSession(sim, env.extraEnv);
    try {
      return await fn(sim, client);
    } finally {
      await client.close();
    }
  } finally {
    await sim.close();
  }
}

async function rssOf(client: McpClient): Promise<number> {
  return await client.rssMiB() ?? Number.NaN;
}

/** Pops every id with inbox_pop, `POP_CONCURRENCY` calls in flight; returns the failures. */
export async function popAll(client: McpClient, ids: readonly string[]): Promise<number> {
  let next = 0;
  let failures = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++] ?? "";
      const result = await client.callTool("inbox_pop", { activity_id: id });
      if (result.isError || !isRemoved(result.text)) failures++;
    }
  };
  await Promise.all(Array.from({ length: POP_CONCURRENCY }, worker));
  return failures;
}

function isRemoved(text: string): boolean {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null &&
      (parsed as Record<string, unknown>).removed === true;
  } catch {
    return false;
  }
}

/** What the received-and-popped run measured. */
export interface MemoryRunResult {
  messages: number;
  rssAfterInitMiB: number;
  /** Highest RSS seen right after a batch was queued (before popping it). */
  rssPeakMiB: number;
  /** RSS once every message was popped and the program idled for a second. */
  rssAfterMiB: number;
  popFailures: number;
  /** Messages inbox_peek still lists at the end (should be 0). */
  leftInInbox: number;
  elapsedMs: number;
}

/**
 * Sends `messages` canvas messages in batches of `batch`; after each batch is pushed, pops all
 * of it with inbox_pop. Poll interval 1 s so the run is quick.
 */
export function measureMemoryRun(
  { messages, batch }: { messages: number; batch: number },
  childEnv: Record<string, string>,
): Promise<MemoryRunResult> {
  const extraEnv = { MOLECULE_MCP_POLL_INTERVAL_SECS: "1" };
  return withProgram({ childEnv, extraEnv }, async (sim, client) => {
    const pushes = new ChannelCollector(client);
    await waitForPolls(sim);
    await sleep(500);
    const rssAfterInitMiB = await rssOf(client);
    const t0 = performance.now();
    let rssPeakMiB = rssAfterInitMiB;
    let popFailures = 0;
    for (let sent = 0; sent < messages;) {
      const ids: string[] = [];
      for (let i = 0; i < batch && sent < messages; i++, sent++) {
        ids.push(sim.platform.sendToInbox(sim.workspace.id, { text: `bench message ${sent}` }).id);
      }
      await pushes.waitForCount(sent, 60_000);
      rssPeakMiB = Math.max(rssPeakMiB, await rssOf(client));
      popFailures += await popAll(client, ids);
    }
    const elapsedMs = performance.now() - t0;
    pushes.stop();
    await sleep(1_000);
    const rssAfterMiB = await rssOf(client);
    const peek = await client.callTool("inbox_peek", { limit: 100 });
    const listed: unknown = JSON.parse(peek.text);
    const leftInInbox = Array.isArray(listed) ? listed.length : -1;
    return {
      messages,
      rssAfterInitMiB,
      rssPeakMiB,
      rssAfterMiB,
      popFailures,
      leftInInbox,
      elapsedMs,
    };
  });
}

/** Per-message delivery latencies of one latency run. */
export interface LatencyResult {
  run: LatencyRun;
  /** Platform row write → notification read by the client, per message. */
  latenciesMs: number[];
  /** Messages whose push never arrived before the deadline. */
  lost: number;
}

/**
 * Writes `run.messages` canvas messages, one every `run.spacingMs`, and times each from the
 * platform write to the client reading its channel push.
 */
export function measureLatency(
  run: LatencyRun,
  childEnv: Record<string, string>,
): Promise<LatencyResult> {
  const extraEnv: Record<string, string> = run.intervalSecs === null
    ? {}
    : { MOLECULE_MCP_POLL_INTERVAL_SECS: String(run.intervalSecs) };
  return withProgram({ childEnv, extraEnv }, async (sim, client) => {
    const pushes = new ChannelCollector(client);
    await waitForPolls(sim);
    const writtenAt = new Map<string, number>();
    const start = performance.now();
    for (let i = 0; i < run.messages; i++) {
      await sleep(Math.max(0, start + i * run.spacingMs - performance.now()));
      const at = performance.now();
      const row = sim.platform.sendToInbox(sim.workspace.id, { text: `latency probe ${i}` });
      writtenAt.set(row.id, at);
    }
    try {
      await pushes.waitForCount(run.messages, run.effectiveSecs * 3_000 + 30_000);
    } catch {
      // Counted as lost below; the figures say so.
    }
    pushes.stop();
    const latenciesMs: number[] = [];
    for (const push of pushes.received) {
      const at = writtenAt.get(activityIdOf(push));
      if (at !== undefined) latenciesMs.push(push.atMs - at);
    }
    return { run, latenciesMs, lost: run.messages - latenciesMs.length };
  });
}

/** What one burst measured. */
export interface BurstResult {
  rows: number;
  /** Whether the program already had a cursor (forward paging) or read it as a backlog. */
  hadCursor: boolean;
  /** Time the simulator took to write the rows (not part of the figures). */
  writeMs: number;
  /** Rows written → the first inbox poll that saw them (the poll-interval wait). */
  firstPollWaitMs: number;
  /** That first poll → the last row's push read by the client. */
  ingestMs: number;
  /** Inbox poll requests during the ingest. */
  polls: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  /** Pushes received (should equal rows). */
  queued: number;
}

/**
 * Writes `rows` canvas messages at once and waits for every push. With `hadCursor`, one
 * message goes through first so the program pages forward from a cursor (steady state);
 * without, the burst is read as a first-start backlog (newest first with before_ts).
 */
export function measureBurst(
  { rows, hadCursor }: { rows: number; hadCursor: boolean },
  childEnv: Record<string, string>,
): Promise<BurstResult> {
  // Ingest through paging, timed from the poll that sees the burst: without the event stream,
  // whose 60 s safety poll would leave the poll waits below nothing to see (bench 9 measures it).
  const extraEnv = { MOLECULE_MCP_POLL_INTERVAL_SECS: "1", MOLECULE_MCP_EVENT_STREAM: "0" };
  return withProgram({ childEnv, extraEnv }, async (sim, client) => {
    const initializedAt = performance.now();
    const pushes = new ChannelCollector(client);
    await waitForPolls(sim);
    if (hadCursor) {
      const seed = sim.platform.sendToInbox(sim.workspace.id, { text: "seed" });
      await pushes.waitForCount(1, 15_000);
      await popAll(client, [seed.id]);
      await waitForPolls(sim, { sinceMs: performance.now(), polls: 1 });
    }
    // Pushes made during the startup hold are held, at most MAX_HELD_NOTIFICATIONS (1,000) of
    // them, and the rest dropped (the inbox keeps them): a first-start burst written inside the
    // hold never brought all its pushes, and the run timed out at ~1,000 of 5,000.
    await sleep(Math.max(300, initializedAt + STARTUP_HOLD_MS + 500 - performance.now()));
    const before = pushes.received.length;
    const rssBeforeMiB = await rssOf(client);
    const t0 = performance.now();
    for (let i = 0; i < rows; i++) {
      sim.platform.sendToInbox(sim.workspace.id, { text: `burst row ${i}` });
    }
    const written = performance.now();
    await pushes.waitForCount(before + rows, 120_000);
    const last = pushes.received.at(-1)?.atMs ?? Number.NaN;
    const polls = sim.requestsSince(written, ACTIVITY_ROUTE).filter((s) => s.atMs <= last);
    const firstPoll = polls[0]?.atMs ?? Number.NaN;
    const rssAfterMiB = await rssOf(client);
    pushes.stop();
    return {
      rows,
      hadCursor,
      writeMs: written - t0,
      firstPollWaitMs: firstPoll - written,
      ingestMs: last - firstPoll,
      polls: polls.length,
      rssBeforeMiB,
      rssAfterMiB,
      queued: pushes.received.length - before,
    };
  });
}
