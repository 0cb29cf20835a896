/**
 * Benchmark 4 (platform requests per idle minute with the default intervals) and 5 (tool-call
 * round trip of inbox_peek, alone and while a wait_for_message call is pending).
 */
import { openSession, sleep, waitFor, waitForPolls } from "./session.ts";
import { startSimulator } from "./simulator.ts";

/** Requests the simulator received in the idle window. */
export interface IdleResult {
  windowMs: number;
  total: number;
  /** Count per route key, e.g. {"GET /workspaces/:id/activity": 24}. */
  byRoute: Record<string, number>;
}

/**
 * Starts the program with default settings, lets start-up settle (register, first heartbeat,
 * first poll), then counts every request the platform receives during `windowMs`.
 */
export async function measureIdle(
  windowMs: number,
  childEnv: Record<string, string>,
): Promise<IdleResult> {
  const sim = await startSimulator({ workspaceName: "bench", programEnv: childEnv });
  try {
    const client = await openSession(sim);
    try {
      await waitFor(
        () => sim.platform.heartbeats.length >= 1,
        15_000,
        "the first heartbeat after registration",
      );
      await waitForPolls(sim);
      await sleep(500);
      const start = performance.now();
      await sleep(windowMs);
      const seen = sim.requestsSince(start).filter((s) => s.atMs < start + windowMs);
      const byRoute: Record<string, number> = {};
      for (const s of seen) byRoute[s.route] = (byRoute[s.route] ?? 0) + 1;
      return { windowMs, total: seen.length, byRoute };
    } finally {
      await client.close();
    }
  } finally {
    await sim.close();
  }
}

/** Round-trip samples of inbox_peek. */
export interface RoundTripResult {
  aloneMs: number[];
  withWaitPendingMs: number[];
  /** Whether wait_for_message was still unanswered after the second series (as it should). */
  isWaitStillPending: boolean;
}

/**
 * Times `calls` sequential inbox_peek calls on an empty inbox; then starts
 * wait_for_message(timeout_secs=60), checks it is pending, times `calls` more, and cancels it.
 */
export async function measureRoundTrip(
  calls: number,
  childEnv: Record<string, string>,
): Promise<RoundTripResult> {
  const sim = await startSimulator({ workspaceName: "bench", programEnv: childEnv });
  try {
    const client = await openSession(sim);
    try {
      await waitForPolls(sim);
      const series = async (n: number) => {
        const samples: number[] = [];
        for (let i = 0; i < n; i++) {
          const t0 = performance.now();
          const result = await client.callTool("inbox_peek", {});
          samples.push(performance.now() - t0);
          if (result.isError) throw new Error(`inbox_peek failed: ${result.text}`);
        }
        return samples;
      };
      await series(100); // warm-up: JIT and first-call paths
      const aloneMs = await series(calls);

      const wait = client.send("tools/call", {
        name: "wait_for_message",
        arguments: { timeout_secs: 60 },
      });
      let isAnswered = false;
      const answered = wait.result.then(
        () => (isAnswered = true),
        () => {/* cancelled below */},
      );
      await sleep(200);
      if (isAnswered) throw new Error("wait_for_message returned at once on an empty inbox");
      const withWaitPendingMs = await series(calls);
      const isWaitStillPending = !isAnswered;
      await client.cancel(wait.id);
      await answered;
      return { aloneMs, withWaitPendingMs, isWaitStillPending };
    } finally {
      await client.close();
    }
  } finally {
    await sim.close();
  }
}
