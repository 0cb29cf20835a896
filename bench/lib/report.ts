/**
 * The benchmark table: one row per figure with its value, the budget it is held to and a
 * PASS/MISS verdict (figures without a budget say "info"). Budgets are printed, never
 * asserted: `make test` has no timing checks.
 */

/** A verdict beside a figure. */
export type Verdict = "PASS" | "MISS" | "info" | "n/a";

/** One row of the table. */
export interface Figure {
  /** Benchmark number and name, e.g. "1 cold start". */
  bench: string;
  /** What was measured, e.g. "spawn → initialize reply, p50". */
  what: string;
  /** The measured value with its unit, e.g. "48.2 ms". */
  value: string;
  /** The budget as text, e.g. "≤ 150 ms"; "" when there is none. */
  budget: string;
  verdict: Verdict;
}

/** A figure held to an upper bound: PASS when `measured <= limit`. */
export function atMost(
  row: Omit<Figure, "verdict" | "budget">,
  measured: number,
  limit: number,
  unit: string,
): Figure {
  return { ...row, budget: `≤ ${limit} ${unit}`, verdict: measured <= limit ? "PASS" : "MISS" };
}

/** A figure held to a lower bound: PASS when `measured >= limit`. */
export function atLeast(
  row: Omit<Figure, "verdict" | "budget">,
  measured: number,
  limit: number,
  unit: string,
): Figure {
  return {
    ...row,
    budget: `≥ ${limit.toLocaleString("en-US")} ${unit}`,
    verdict: measured >= limit ? "PASS" : "MISS",
  };
}

/** A figure without a budget. */
export function info(row: Omit<Figure, "verdict" | "budget">): Figure {
  return { ...row, budget: "", verdict: "info" };
}

/** Rows for a benchmark that could not run, with the reason. */
export function notRun(bench: string, reason: string): Figure {
  return { bench, what: `not run: ${reason}`, value: "-", budget: "", verdict: "n/a" };
}

/** Milliseconds with one decimal below 100, whole above. */
export function ms(value: number): string {
  return value < 100 ? `${value.toFixed(1)} ms` : `${Math.round(value).toLocaleString("en-US")} ms`;
}

/** MiB with one decimal. */
export function mib(value: number): string {
  return `${value.toFixed(1)} MiB`;
}

/** The table as text lines (columns padded; a verdict column at the end). */
export function formatTable(figures: readonly Figure[]): string {
  const header: Figure = {
    bench: "benchmark",
    what: "figure",
    value: "value",
    budget: "budget",
    verdict: "info",
  };
  const rows = [header, ...figures];
  const width = (key: "bench" | "what" | "value" | "budget") =>
    Math.max(...rows.map((r) => [...r[key]].length));
  const w = { bench: width("bench"), what: width("what"), value: width("value") };
  const wb = width("budget");
  const pad = (text: string, n: number) => text + " ".repeat(Math.max(0, n - [...text].length));
  const padStart = (text: string, n: number) =>
    " ".repeat(Math.max(0, n - [...text].length)) + text;
  const line = (r: Figure, verdict: string) =>
    [pad(r.bench, w.bench), pad(r.what, w.what), padStart(r.value, w.value), pad(r.budget, wb)]
      .join("  ") + "  " + verdict;
  const rule = "-".repeat(w.bench + w.what + w.value + wb + 8 + 7);
  let lastBench = "";
  const body = figures.map((r) => {
    const shown = r.bench === lastBench ? { ...r, bench: "" } : r;
    lastBench = r.bench;
    return line(shown, r.verdict);
  });
  return [line(header, "verdict"), rule, ...body].join("\n") + "\n";
}
