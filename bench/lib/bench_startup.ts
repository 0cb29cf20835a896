/**
 * Benchmark 1 (cold start: spawn → initialize reply) and the first half of benchmark 2 (RSS
 * right after initialize), from the same runs: each run spawns a fresh program, and beside it
 * the runtime's floor (bench/floor_responder.ts: a bare Deno stdio responder run with the same
 * Deno flags), so the table shows what our own start-up costs above what Deno itself costs on
 * this machine.
 */
import { McpClient, type MemoryMiB } from "./mcp_client.ts";
import { atMost, type Figure, info, mib, ms } from "./report.ts";
import { waitForPolls } from "./session.ts";
import type { Simulator } from "./simulator.ts";
import { median, summarize } from "./stats.ts";

/** Budgets from the issues (absolute, and above the floor: issue 9 §4). */
export const COLD_START_BUDGET_MS = 150;
export const RSS_AFTER_INIT_BUDGET_MIB = 45;
export const COLD_START_ABOVE_FLOOR_MS = 25;
export const PEAK_RSS_ABOVE_FLOOR_MIB = 5;

/** The bare stdio responder, repo-relative. */
export const FLOOR_ENTRY = "bench/floor_responder.ts";
/**
 * The bare responder that first sends one register, as the program must before it answers
 * initialize (issue 12's hold): shows what that request alone costs in Deno.
 */
export const REGISTER_FLOOR_ENTRY = "bench/floor_register_responder.ts";

/** Raw samples of one process kind (the program, or the floor). */
export interface StartSamples {
  startMs: number[];
  /** CPU time (all threads) up to the initialize reply, read while stopped on the reply. */
  cpuMs: number[];
  /** VmRSS at the initialize reply (the process is stopped on the reply while it is read). */
  rssMiB: number[];
  /** VmHWM (peak resident set so far) at the initialize reply, read the same way. */
  peakMiB: number[];
  /** RssAnon at the reply: the process's private memory (see MemoryMiB in mcp_client.ts). */
  anonMiB: number[];
  /** RssFile at the reply: the Deno executable's pages mapped so far (shared, reclaimable). */
  fileMiB: number[];
  /**
   * VmHWM once the start-up is complete (program only): tools listed, registered, first inbox
   * poll answered. Start-up defers loading the link and the tools past initialize; this shows
   * where the memory settles once they are in.
   */
  settledPeakMiB: number[];
}

/** Raw samples of the cold-start runs. */
export interface ColdStartSamples {
  program: StartSamples;
  floor: StartSamples;
  /** The floor that registers before it replies, as the program must (issue 12's hold). */
  registerFloor: StartSamples;
  /**
   * The program from a checkout (`deno run main.ts`, ~35 modules) when `program` is a bundle
   * or binary (MOLECULE_MCP_BIN); empty otherwise (then the program is the checkout).
   */
  source: StartSamples;
}

/** The program's entry when run from a checkout (repo-relative, `deno run`). */
export const SOURCE_ENTRY = "main.ts";

function emptySamples(): StartSamples {
  return {
    startMs: [],
    cpuMs: [],
    rssMiB: [],
    peakMiB: [],
    anonMiB: [],
    fileMiB: [],
    settledPeakMiB: [],
  };
}

/** Spawns one process, initializes it, and records the time and memory in `into`. */
async function measureOne(
  sim: Simulator,
  entry: string | undefined,
  into: StartSamples | null,
  config?: string,
): Promise<void> {
  const t0 = performance.now();
  const client = McpClient.start({
    env: sim.programEnv(),
    ...(entry === undefined ? {} : { entry }),
    ...(config === undefined ? {} : { config }),
  });
  try {
    await client.requestInitialize();
    const elapsed = performance.now() - t0;
    // Frozen on the reply: the memory start-up needed to answer, not what it loads next.
    client.suspend();
    let memory: MemoryMiB | null;
    let cpu: number | null;
    try {
      memory = await client.memoryMiB();
      cpu = await client.cpuMs();
    } finally {
      client.resume();
    }
    await client.notify("notifications/initialized", {});
    if (into === null) return; // warm-up
    into.startMs.push(elapsed);
    if (cpu !== null) into.cpuMs.push(cpu);
    if (memory !== null) {
      into.rssMiB.push(memory.rss);
      into.peakMiB.push(memory.peak);
      if (Number.isFinite(memory.anon) && Number.isFinite(memory.file)) {
        into.anonMiB.push(memory.anon);
        into.fileMiB.push(memory.file);
      }
    }
    if (entry !== undefined) return; // only the program as shipped is followed further
    await client.request("tools/list");
    await waitForPolls(sim, { sinceMs: t0, polls: 1 });
    const settled = await client.memoryMiB();
    if (settled !== null) into.settledPeakMiB.push(settled.peak);
  } finally {
    await client.close();
  }
}

/**
 * Spawns the program and the floor `runs` times each (after one unmeasured warm-up of each
 * that fills Deno's caches), alternating which goes first so drift on a busy machine hits both.
 */
export async function measureColdStart(
  sim: Simulator,
  runs: number,
  opts: {
    alsoSource: boolean;
    /**
     * The deno.json the floors run with: the measured program's own (the release bundle runs
     * with its permission set alone), so a config's cost is on both sides or neither.
     */
    floorConfig?: string;
  },
): Promise<ColdStartSamples> {
  const samples: ColdStartSamples = {
    program: emptySamples(),
    floor: emptySamples(),
    registerFloor: emptySamples(),
    source: emptySamples(),
  };
  for (let i = 0; i <= runs; i++) {
    const isWarmUp = i === 0;
    const program = () => measureOne(sim, undefined, isWarmUp ? null : samples.program);
    const floor = () =>
      measureOne(sim, FLOOR_ENTRY, isWarmUp ? null : samples.floor, opts.floorConfig);
    const registerFloor = () =>
      measureOne(
        sim,
        REGISTER_FLOOR_ENTRY,
        isWarmUp ? null : samples.registerFloor,
        opts.floorConfig,
      );
    const source = () => measureOne(sim, SOURCE_ENTRY, isWarmUp ? null : samples.source);
    const order = [program, floor, registerFloor, ...(opts.alsoSource ? [source] : [])];
    if (i % 2 === 1) order.reverse();
    for (const run of order) await run();
  }
  return samples;
}

function plus(value: string): string {
  return value.startsWith("-") ? value : `+${value}`;
}

/** A budget row for "program − a floor": `above` against `≤ floor +budget unit`. */
function aboveFloor(
  row: { bench: string; what: string },
  above: number,
  budget: number,
  unit: "ms" | "MiB",
): Figure {
  return {
    ...row,
    value: plus(unit === "ms" ? ms(above) : mib(above)),
    budget: `≤ floor +${budget} ${unit}`,
    verdict: above <= budget ? "PASS" : "MISS",
  };
}

/** The table rows for benchmark 1 and the RSS-after-initialize rows of benchmark 2. */
export function coldStartFigures(s: ColdStartSamples): Figure[] {
  const start = summarize(s.program.startMs);
  const floorStart = summarize(s.floor.startMs);
  const startAbove = start.p50 - floorStart.p50;
  const figures = [
    atMost(
      {
        bench: "1 cold start",
        what: `spawn → initialize reply, p50 (${start.count} runs)`,
        value: ms(start.p50),
      },
      start.p50,
      COLD_START_BUDGET_MS,
      "ms",
    ),
    info({
      bench: "1 cold start",
      what: "p95 / max",
      value: `${ms(start.p95)} / ${ms(start.max)}`,
    }),
    info({
      bench: "1 cold start",
      what: `floor (bare Deno stdio responder), p50 / p95 (${floorStart.count} runs)`,
      value: `${ms(floorStart.p50)} / ${ms(floorStart.p95)}`,
    }),
    aboveFloor(
      { bench: "1 cold start", what: "program − floor, p50" },
      startAbove,
      COLD_START_ABOVE_FLOOR_MS,
      "ms",
    ),
  ];
  const registerStart = summarize(s.registerFloor.startMs);
  if (registerStart.count > 0) {
    // Issue 12 holds the answer until the first register has answered: this floor sends that
    // one request too, so program − it is what our own code costs (the budget of issue 9 §4).
    const aboveRegister = start.p50 - registerStart.p50;
    figures.push(
      info({
        bench: "1 cold start",
        what: "floor that registers first (issue 12 hold), p50",
        value: ms(registerStart.p50),
      }),
      aboveFloor(
        { bench: "1 cold start", what: "program − floor that registers first, p50" },
        aboveRegister,
        COLD_START_ABOVE_FLOOR_MS,
        "ms",
      ),
    );
  }
  const sourceStart = summarize(s.source.startMs);
  if (sourceStart.count > 0) {
    figures.push(info({
      bench: "1 cold start",
      what: "from a checkout (deno run main.ts), p50; − floor",
      value: `${ms(sourceStart.p50)}; ${plus(ms(sourceStart.p50 - floorStart.p50))}`,
    }));
  }
  if (s.program.cpuMs.length > 0 && s.floor.cpuMs.length > 0) {
    const cpu = median(s.program.cpuMs);
    const floorCpu = median(s.floor.cpuMs);
    figures.push(info({
      bench: "1 cold start",
      what: "CPU time to the reply, all threads: program / floor",
      value: `${ms(cpu)} / ${ms(floorCpu)} (${plus(ms(cpu - floorCpu))})`,
    }));
    if (s.registerFloor.cpuMs.length > 0) {
      const registerCpu = median(s.registerFloor.cpuMs);
      figures.push(info({
        bench: "1 cold start",
        what: "CPU time to the reply: floor that registers first; program − it",
        value: `${ms(registerCpu)}; ${plus(ms(cpu - registerCpu))}`,
      }));
    }
  }
  if (s.program.rssMiB.length === 0 || s.floor.peakMiB.length === 0) {
    figures.push(
      info({ bench: "2 memory", what: "RSS after initialize", value: "n/a (no /proc)" }),
    );
    return figures;
  }
  const rss = median(s.program.rssMiB);
  const peak = median(s.program.peakMiB);
  const floorRss = median(s.floor.rssMiB);
  const floorPeak = median(s.floor.peakMiB);
  const peakAbove = peak - floorPeak;
  figures.push(
    atMost(
      {
        bench: "2 memory",
        what: `RSS at the initialize reply, median of ${s.program.rssMiB.length}`,
        value: mib(rss),
      },
      rss,
      RSS_AFTER_INIT_BUDGET_MIB,
      "MiB",
    ),
    info({
      bench: "2 memory",
      what: "peak RSS (VmHWM) at the initialize reply: program / floor",
      value: `${mib(peak)} / ${mib(floorPeak)}`,
    }),
    aboveFloor(
      { bench: "2 memory", what: "program − floor, peak RSS at the initialize reply" },
      peakAbove,
      PEAK_RSS_ABOVE_FLOOR_MIB,
      "MiB",
    ),
    info({
      bench: "2 memory",
      what: `program − floor, RSS now (floor ${mib(floorRss)})`,
      value: plus(mib(rss - floorRss)),
    }),
  );
  if (s.program.anonMiB.length > 0 && s.floor.anonMiB.length > 0) {
    // Where the RSS above the floor lives (issue 9 §4 asks where the memory goes): most of it is
    // the Deno executable's own pages, mapped the first time start-up uses a runtime feature
    // the bare responder never touches (fetch, file calls, signals, regexes, more bytecodes).
    const anon = median(s.program.anonMiB);
    const floorAnon = median(s.floor.anonMiB);
    const file = median(s.program.fileMiB);
    const floorFile = median(s.floor.fileMiB);
    figures.push(
      info({
        bench: "2 memory",
        what: "RSS at the reply, private (RssAnon): program / floor",
        value: `${mib(anon)} / ${mib(floorAnon)} (${plus(mib(anon - floorAnon))})`,
      }),
      info({
        bench: "2 memory",
        what: "RSS at the reply, Deno executable's pages (RssFile): program / floor",
        value: `${mib(file)} / ${mib(floorFile)} (${plus(mib(file - floorFile))})`,
      }),
    );
    if (s.registerFloor.anonMiB.length > 0) {
      figures.push(info({
        bench: "2 memory",
        what: "private / executable's pages, floor that registers first; program − it",
        value: `${mib(median(s.registerFloor.anonMiB))} / ${
          mib(median(s.registerFloor.fileMiB))
        }; ${plus(mib(anon - median(s.registerFloor.anonMiB)))} / ${
          plus(mib(file - median(s.registerFloor.fileMiB)))
        }`,
      }));
    }
  }
  if (s.registerFloor.peakMiB.length > 0) {
    const registerPeak = median(s.registerFloor.peakMiB);
    const aboveRegister = peak - registerPeak;
    figures.push(
      info({
        bench: "2 memory",
        what: "peak RSS, floor that registers first (issue 12 hold)",
        value: mib(registerPeak),
      }),
      aboveFloor(
        { bench: "2 memory", what: "program − floor that registers first, peak RSS at the reply" },
        aboveRegister,
        PEAK_RSS_ABOVE_FLOOR_MIB,
        "MiB",
      ),
    );
  }
  if (s.source.peakMiB.length > 0) {
    const sourcePeak = median(s.source.peakMiB);
    figures.push(info({
      bench: "2 memory",
      what: "peak RSS from a checkout (deno run main.ts); − floor",
      value: `${mib(sourcePeak)}; ${plus(mib(sourcePeak - floorPeak))}`,
    }));
  }
  if (s.program.settledPeakMiB.length > 0) {
    const settled = median(s.program.settledPeakMiB);
    figures.push(info({
      bench: "2 memory",
      what: "peak RSS once tools listed + first poll done (floor +)",
      value: `${mib(settled)} (${plus(mib(settled - floorPeak))})`,
    }));
  }
  return figures;
}
