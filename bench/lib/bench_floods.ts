/**
 * Benchmark 7 (issue 11, "what a hostile or broken platform can do"): the program's resident
 * memory when idle, under a flood of huge answers (every tool endpoint and the inbox feed
 * answer 300-400 MB, streamed by the simulator without holding them), and under 2,000
 * simultaneous tool calls, and with a host that stops reading stdout while 2,000 calls with
 * 400 KB answers are made; plus the most requests the platform saw at once.
 */
import type { McpClient, ToolCallResult } from "./mcp_client.ts";
import { openSession, sleep, waitForPolls } from "./session.ts";
import { ACTIVITY_ROUTE, type SimulatorOptions, startSimulator } from "./simulator.ts";

const MB = 1_000_000;
/** The figures: 300 MB per tool answer, 400 MB for the feed. */
const TOOL_ANSWER_BYTES = 300 * MB;
const FEED_ANSWER_BYTES = 400 * MB;
const SAMPLE_EVERY_MS = 20;

/** RSS figures of one flood. */
export interface FloodResult {
  idleMiB: number;
  peakMiB: number;
  afterMiB: number;
  calls: number;
  /** Calls that came back as tool errors (expected for huge answers: the limit is named). */
  errors: number;
  /** One error text, to show what the agent reads. */
  sampleError: string;
  /** Most requests the platform was answering at once during the flood. */
  peakInFlight: number;
  /** Stalled host only: the peak once stdout is read again (answers draining). */
  drainPeakMiB?: number;
  elapsedMs: number;
}

/** A body of `bytes` spaces (valid JSON whitespace) made 1 MiB at a time, never held whole. */
function hugeBody(bytes: number): Response {
  const chunk = new Uint8Array(1024 * 1024).fill(0x20);
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= bytes) {
        controller.close();
        return;
      }
      controller.enqueue(chunk);
      sent += chunk.length;
    },
  }, { highWaterMark: 0 });
  // No Content-Length: the program has to find out by reading, the harder case.
  return new Response(body, { headers: { "content-type": "application/json" } });
}

/** Samples the child's RSS every 20 ms until `done` settles; returns the peak seen. */
async function peakRssWhile(client: McpClient, done: Promise<unknown>): Promise<number> {
  let isDone = false;
  void done.finally(() => (isDone = true));
  let peak = (await client.rssMiB()) ?? 0;
  while (!isDone) {
    peak = Math.max(peak, (await client.rssMiB()) ?? 0);
    await sleep(SAMPLE_EVERY_MS);
  }
  return Math.max(peak, (await client.rssMiB()) ?? 0);
}

/** Idle RSS: after the handshake, registration and the first polls, with nothing to do. */
async function settleIdle(client: McpClient): Promise<number> {
  await sleep(1_000);
  return (await client.rssMiB()) ?? 0;
}

/** How one flood runs (runFlood). */
interface FloodPlan {
  /** The program's environment. */
  childEnv: Record<string, string>;
  /** Added to the session's environment. */
  sessionEnv: Record<string, string>;
  calls: number;
  /** The platform's answer while the flood runs (null: the usual one); idle polls get theirs. */
  whileFlooding: Intercept;
  /** The `i`th of the simultaneous calls. */
  callAt: (client: McpClient, i: number) => Promise<ToolCallResult>;
}

/** The simulator's intercept hook. */
type Intercept = NonNullable<SimulatorOptions["intercept"]>;

/**
 * One flood on a simulator of its own (closed at the end): opens a session, waits for the
 * first poll and idle RSS, then, with the platform answering through `whileFlooding`, makes
 * `calls` simultaneous calls while sampling RSS, and reports after 1.5 s of calm.
 */
async function runFlood(plan: FloodPlan): Promise<FloodResult> {
  let isFlooding = false;
  const sim = await startSimulator({
    workspaceName: "bench",
    programEnv: plan.childEnv,
    intercept: (req, route) => isFlooding ? plan.whileFlooding(req, route) : null,
  });
  const { calls, callAt } = plan;
  try {
    const client = await openSession(sim, plan.sessionEnv);
    try {
      await waitForPolls(sim);
      const idleMiB = await settleIdle(client);
      isFlooding = true;
      sim.load.peakInFlight = sim.load.inFlight;
      const t0 = performance.now();
      const all = Promise.all(Array.from({ length: calls }, (_, i) => callAt(client, i)));
      const peakMiB = await peakRssWhile(client, all);
      const results = await all;
      const elapsedMs = performance.now() - t0;
      isFlooding = false;
      await sleep(1_500);
      const errors = results.filter((r) => r.isError);
      return {
        idleMiB,
        peakMiB,
        afterMiB: (await client.rssMiB()) ?? 0,
        calls,
        errors: errors.length,
        sampleError: errors[0]?.text.slice(0, 110) ?? "",
        peakInFlight: sim.load.peakInFlight,
        elapsedMs,
      };
    } finally {
      await client.close();
    }
  } finally {
    await sim.close();
  }
}

/**
 * The huge-answer flood: `calls` tool calls (half list_peers, half get_workspace_info) whose
 * platform answers are 300 MB each, while the feed answers 400 MB to every poll.
 */
export function measureHugeAnswers(
  calls: number,
  childEnv: Record<string, string>,
): Promise<FloodResult> {
  return runFlood({
    childEnv,
    sessionEnv: { MOLECULE_MCP_POLL_INTERVAL_SECS: "1" },
    calls,
    whileFlooding: (req, route) => {
      if (req.method !== "GET") return null;
      if (route === ACTIVITY_ROUTE) return hugeBody(FEED_ANSWER_BYTES);
      if (route === "GET /registry/:id/peers" || route === "GET /workspaces/:id") {
        return hugeBody(TOOL_ANSWER_BYTES);
      }
      return null;
    },
    callAt: (client, i) => client.callTool(i % 2 === 0 ? "list_peers" : "get_workspace_info", {}),
  });
}

/** The call flood: `calls` simultaneous get_workspace_info calls, each answer held 20 ms. */
export function measureCallFlood(
  calls: number,
  childEnv: Record<string, string>,
): Promise<FloodResult> {
  return runFlood({
    childEnv,
    sessionEnv: {},
    calls,
    whileFlooding: async (_req, route) => {
      // A slow platform, so calls pile up: 20 ms per lookup.
      if (route === "GET /workspaces/:id") await sleep(20);
      return null;
    },
    callAt: (client) => client.callTool("get_workspace_info", {}),
  });
}

/**
 * A host that stops reading stdout: `calls` inbox_peek calls (each answer about 400 KB: 50
 * queued messages of 8 KB) are written while the client reads nothing for `stallMs`; then it
 * reads again and every answer must arrive.
 */
export async function measureStalledHost(
  calls: number,
  stallMs: number,
  childEnv: Record<string, string>,
): Promise<FloodResult> {
  const sim = await startSimulator({ workspaceName: "bench", programEnv: childEnv });
  try {
    for (let i = 0; i < 50; i++) {
      sim.platform.sendToInbox(sim.workspace.id, { text: `queued ${i} ${"x".repeat(8_000)}` });
    }
    const client = await openSession(sim, { MOLECULE_MCP_POLL_INTERVAL_SECS: "1" });
    try {
      const deadline = performance.now() + 15_000;
      while (!(await client.callTool("inbox_peek", { limit: 50 })).text.includes("queued 49 ")) {
        if (performance.now() > deadline) {
          throw new Error("the 50 messages never reached the inbox");
        }
        await sleep(200);
      }
      const idleMiB = await settleIdle(client);
      sim.load.peakInFlight = sim.load.inFlight;
      const t0 = performance.now();
      client.pauseReading();
      const all = Promise.all(
        Array.from({ length: calls }, () => client.callTool("inbox_peek", { limit: 50 })),
      );
      const stalled = sleep(stallMs);
      const stalledPeak = await peakRssWhile(client, stalled);
      client.resumeReading();
      const drainPeak = await peakRssWhile(client, all);
      const results = await all;
      const elapsedMs = performance.now() - t0;
      await sleep(1_000);
      const errors = results.filter((r) => r.isError);
      return {
        idleMiB,
        peakMiB: stalledPeak,
        drainPeakMiB: drainPeak,
        afterMiB: (await client.rssMiB()) ?? 0,
        calls,
        errors: errors.length,
        sampleError: errors[0]?.text.slice(0, 110) ?? "",
        peakInFlight: sim.load.peakInFlight,
        elapsedMs,
      };
    } finally {
      await client.close();
    }
  } finally {
    await sim.close();
  }
}
