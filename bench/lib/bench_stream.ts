/**
 * Benchmarks of issue 14: delivery latency through the platform's event stream (row written →
 * channel push read by the client) at random spacing, with the stream up and then cut and
 * kept from reopening (polling alone must then deliver within the interval + 1 s, losing
 * nothing); and a long wait_for_message through the official SDK client kept alive by
 * progress notifications (resetTimeoutOnProgress).
 */
// The SDK's own stdio transport loads cross-spawn, which reads env the bench may not; the
// Client is the official one, over a small line transport of ours (bench/lib/sdk_stdio.ts).
import { Client } from "@modelcontextprotocol/sdk/client";
import { programCommand } from "../../tests/fakes/spawn.ts";
import { LineTransport } from "./sdk_stdio.ts";
import { SeededRandom } from "../../tests/fakes/seeded_random.ts";
import {
  activityIdOf,
  ChannelCollector,
  openSession,
  sleep,
  waitFor,
  waitForPolls,
} from "./session.ts";
import { type Simulator, startSimulator } from "./simulator.ts";

const STREAM_ROUTE = "GET /workspaces/:id/events/stream";

/** Latencies of one phase. */
export interface PhaseResult {
  latenciesMs: number[];
  lost: number;
}

/** Both phases of the stream delivery run. */
export interface StreamDeliveryResult {
  up: PhaseResult;
  cut: PhaseResult;
  /** Stream opens the platform saw while it was kept from reopening (refused with 503). */
  refusedReopens: number;
}

/** Sends `count` messages at uniformly random spacing in [0, maxSpacingMs) and times each. */
async function sendPhase(
  sim: Simulator,
  pushes: ChannelCollector,
  opts: { count: number; maxSpacingMs: number; random: SeededRandom; label: string },
  deadlineMs: number,
): Promise<PhaseResult> {
  const before = pushes.received.length;
  const writtenAt = new Map<string, number>();
  for (let i = 0; i < opts.count; i++) {
    await sleep(opts.random.next() * opts.maxSpacingMs);
    const row = sim.platform.sendToInbox(sim.workspace.id, { text: `${opts.label} ${i}` });
    writtenAt.set(row.id, performance.now());
  }
  try {
    await pushes.waitForCount(before + opts.count, deadlineMs);
  } catch {
    // Counted as lost below.
  }
  const latenciesMs: number[] = [];
  for (const push of pushes.received.slice(before)) {
    const at = writtenAt.get(activityIdOf(push));
    if (at !== undefined) latenciesMs.push(push.atMs - at);
  }
  return { latenciesMs, lost: opts.count - latenciesMs.length };
}

/**
 * Default settings (5 s poll). Phase 1: stream up, `messages` at random spacing. Phase 2: the
 * stream is cut abruptly and every reopen refused with 503; `messages` more.
 */
export async function measureStreamDelivery(
  opts: { messages: number; maxSpacingMs: number },
  childEnv: Record<string, string>,
): Promise<StreamDeliveryResult> {
  let isStreamRefused = false;
  let refusedReopens = 0;
  const sim = await startSimulator({
    workspaceName: "bench",
    programEnv: childEnv,
    intercept: (_req, route) => {
      if (!isStreamRefused || route !== STREAM_ROUTE) return null;
      refusedReopens += 1;
      return new Response(JSON.stringify({ error: "stream refused by the bench" }), {
        status: 503,
        headers: { "content-type": "application/json" },
      });
    },
  });
  try {
    const client = await openSession(sim);
    try {
      const pushes = new ChannelCollector(client);
      await waitForPolls(sim);
      await waitFor(
        () => sim.platform.eventStreams(sim.workspace.id) === 1,
        15_000,
        "the event stream to open",
      );
      // Past the program's start-up hold on pushes (1.5 s after initialized), which would
      // otherwise delay the first messages' pushes.
      await sleep(2_000);
      const random = new SeededRandom(14);
      const phase = { count: opts.messages, maxSpacingMs: opts.maxSpacingMs, random };
      const up = await sendPhase(sim, pushes, { ...phase, label: "stream up" }, 30_000);
      isStreamRefused = true;
      sim.platform.cutEventStreams(sim.workspace.id, "end");
      await sleep(500);
      const cut = await sendPhase(sim, pushes, { ...phase, label: "stream cut" }, 30_000);
      pushes.stop();
      return { up, cut, refusedReopens };
    } finally {
      await client.close();
    }
  } finally {
    await sim.close();
  }
}

/** What the long wait through the SDK client came to. */
export interface LongWaitResult {
  waitSecs: number;
  elapsedMs: number;
  /** The result text (a timeout answer, as nothing was sent). */
  result: string;
  progressCount: number;
  /** Longest gap between two progress notifications (or from the call to the first). */
  maxGapMs: number;
}

/**
 * Calls wait_for_message(timeout_secs = `waitSecs`) through the official SDK client over
 * stdio with a 60 s request timeout that each progress notification resets: it completes
 * only if progress keeps coming.
 */
export async function measureLongWait(
  waitSecs: number,
  childEnv: Record<string, string>,
): Promise<LongWaitResult> {
  const sim = await startSimulator({ workspaceName: "bench", programEnv: childEnv });
  try {
    const { command, args, cwd, env } = programCommand({ env: sim.programEnv() });
    const transport = new LineTransport({ command, args, cwd, env });
    const client = new Client({ name: "molecule-bench-sdk", version: "1.0.0" });
    await client.connect(transport);
    try {
      const t0 = performance.now();
      let last = t0;
      let maxGapMs = 0;
      let progressCount = 0;
      const result = await client.callTool(
        { name: "wait_for_message", arguments: { timeout_secs: waitSecs } },
        undefined,
        {
          timeout: 60_000,
          resetTimeoutOnProgress: true,
          onprogress: () => {
            const now = performance.now();
            maxGapMs = Math.max(maxGapMs, now - last);
            last = now;
            progressCount += 1;
          },
        },
      );
      const elapsedMs = performance.now() - t0;
      const content = Array.isArray(result.content) ? result.content : [];
      const text = content.map((c: { text?: string }) => c.text ?? "").join("");
      return { waitSecs, elapsedMs, result: text, progressCount, maxGapMs };
    } finally {
      await client.close();
    }
  } finally {
    await sim.close();
  }
}
