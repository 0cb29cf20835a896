/**
 * How much each benchmark does, in full mode (the figures for the issue) and quick mode
 * (BENCH_QUICK=1: shorter windows and fewer messages, for a fast sanity check).
 */

/** One inbound-latency run: poll interval (null = the program's default) and send schedule. */
export interface LatencyRun {
  /** MOLECULE_MCP_POLL_INTERVAL_SECS, or null to leave it unset (default 5 s). */
  intervalSecs: number | null;
  /** The interval the program will use, for labels. */
  effectiveSecs: number;
  messages: number;
  /** One message every `spacingMs`, so arrivals fall at every phase of the poll cycle. */
  spacingMs: number;
}

/** The sizes of every benchmark. */
export interface BenchPlan {
  mode: "full" | "quick";
  /** Extra environment of every spawned program (DENO_V8_FLAGS from BENCH_V8_FLAGS). */
  childEnv: Record<string, string>;
  coldStartRuns: number;
  /** Messages received and popped for the RSS-growth figure, in batches of `memoryBatch`. */
  memoryMessages: number;
  memoryBatch: number;
  latency: LatencyRun[];
  idleWindowMs: number;
  roundTrips: number;
  burstRows: number;
  /** Benchmark 8: pending 100 KB messages in the journal, and how many to pop at the end. */
  largeJournal: { messages: number; pops: number };
  /** Benchmark 8: 100 KB rows waiting on the platform at a first start (full: past 512 MiB). */
  firstStartBacklogRows: number;
  /** Tool calls whose platform answers are 300 MB each (the 8). */
  hugeAnswerCalls: number;
  /** Simultaneous tool calls of the call flood (the 2,000). */
  floodCalls: number;
  /** How long the stalled host leaves stdout unread (the issue watched 30 s). */
  stallMs: number;
  /** Benchmark 9 (issue 14): messages per phase (stream up, stream cut) and their spacing. */
  streamDelivery: { messages: number; maxSpacingMs: number };
  /** Benchmark 10 (issue 14): the wait_for_message through the SDK client, in seconds. */
  longWaitSecs: number;
}

/** The plan for `quick` (BENCH_QUICK=1) or full mode, spawning programs with `childEnv`. */
export function benchPlan(quick: boolean, childEnv: Record<string, string> = {}): BenchPlan {
  if (quick) {
    return {
      mode: "quick",
      childEnv,
      coldStartRuns: 10,
      memoryMessages: 2_000,
      memoryBatch: 1_000,
      latency: [
        { intervalSecs: null, effectiveSecs: 5, messages: 200, spacingMs: 50 },
        { intervalSecs: 1, effectiveSecs: 1, messages: 200, spacingMs: 20 },
      ],
      idleWindowMs: 60_000,
      roundTrips: 300,
      burstRows: 5_000,
      largeJournal: { messages: 2_000, pops: 1_900 },
      firstStartBacklogRows: 2_000,
      hugeAnswerCalls: 8,
      floodCalls: 2_000,
      stallMs: 5_000,
      streamDelivery: { messages: 100, maxSpacingMs: 300 },
      // Past the SDK's 60 s request timeout, so only progress can keep it alive.
      longWaitSecs: 70,
    };
  }
  return {
    mode: "full",
    childEnv,
    coldStartRuns: 20,
    memoryMessages: 10_000,
    memoryBatch: 1_000,
    latency: [
      { intervalSecs: null, effectiveSecs: 5, messages: 1_000, spacingMs: 50 },
      { intervalSecs: 1, effectiveSecs: 1, messages: 1_000, spacingMs: 20 },
    ],
    idleWindowMs: 300_000,
    roundTrips: 1_000,
    burstRows: 10_000,
    largeJournal: { messages: 10_000, pops: 9_500 },
    firstStartBacklogRows: 8_000,
    hugeAnswerCalls: 8,
    floodCalls: 2_000,
    stallMs: 30_000,
    streamDelivery: { messages: 200, maxSpacingMs: 500 },
    longWaitSecs: 120,
  };
}
