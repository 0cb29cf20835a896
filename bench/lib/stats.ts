/**
 * Summary statistics for benchmark samples: median and nearest-rank percentiles. Pure.
 */

/** A distribution summarised the way the benchmark table prints it. */
export interface Summary {
  count: number;
  min: number;
  p50: number;
  p95: number;
  max: number;
  mean: number;
}

/**
 * The nearest-rank percentile `p` (0..100) of `samples`. Throws on an empty list: a figure
 * computed from nothing would print as a plausible number.
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new RangeError("percentile of no samples");
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be 0..100: got ${p}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}

/** The median (50th nearest-rank percentile). */
export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

/** min, p50, p95, max and mean of `samples` (non-empty). */
export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const total = sorted.reduce((sum, x) => sum + x, 0);
  return {
    count: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    max: sorted.at(-1) ?? Number.NaN,
    mean: total / Math.max(1, sorted.length),
  };
}
