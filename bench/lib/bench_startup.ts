/**
 * Benchmark 1 (cold start: spawn → initialize reply) and the first half of benchmark 2 (RSS
 * right after initialize), from the same runs: each run spawns a fresh program.
 */
import { McpClient } from "./mcp_client.ts";
import { atMost, type Figure, info, mib, ms } from "./report.ts";
import type { Simulator } from "./simulator.ts";
import { median, summarize } from "./stats.ts";

/** Budgets from the issue. */
export const COLD_START_BUDGET_MS = 150;
export const RSS_AFTER_INIT_BUDGET_MIB = 45;

/** Raw samples of the cold-start runs. */
export interface ColdStartSamples {
  startMs: number[];
  rssMiB: number[];
}

/** Spawns the program `runs` times (after one unmeasured warm-up that fills Deno's caches). */
export async function measureColdStart(sim: Simulator, runs: number): Promise<ColdStartSamples> {
  const samples: ColdStartSamples = { startMs: [], rssMiB: [] };
  for (let i = 0; i <= runs; i++) {
    const t0 = performance.now();
    const client = McpClient.start({ env: sim.programEnv() });
    try {
      await client.initialize();
      const elapsed = performance.now() - t0;
      const rss = await client.rssMiB();
      if (i === 0) continue; // warm-up
      samples.startMs.push(elapsed);
      if (rss !== null) samples.rssMiB.push(rss);
    } finally {
      await client.close();
    }
  }
  return samples;
}

/** The table rows for benchmark 1 and the RSS-after-initialize row of benchmark 2. */
export function coldStartFigures(s: ColdStartSamples): Figure[] {
  const start = summarize(s.startMs);
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
  ];
  if (s.rssMiB.length === 0) {
    figures.push(
      info({ bench: "2 memory", what: "RSS after initialize", value: "n/a (no /proc)" }),
    );
  } else {
    const rss = median(s.rssMiB);
    figures.push(
      atMost(
        {
          bench: "2 memory",
          what: `RSS right after initialize, median of ${s.rssMiB.length}`,
          value: mib(rss),
        },
        rss,
        RSS_AFTER_INIT_BUDGET_MIB,
        "MiB",
      ),
    );
  }
  return figures;
}
