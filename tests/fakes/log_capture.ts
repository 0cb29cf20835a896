/** A logger whose lines land in an array, for tests that assert what the operator would read. */
import { createLogger, type Logger, type LogLevel } from "../../lib/log.ts";

/** Logger plus the lines it wrote. */
export interface CapturedLog {
  log: Logger;
  lines: string[];
  /** All lines joined by newlines, for substring asserts. */
  text(): string;
}

/** Captures every line at `level` and above (debug by default, to see everything). */
export function captureLog(
  level: LogLevel = "debug",
  secrets: readonly string[] = [],
): CapturedLog {
  const lines: string[] = [];
  const log = createLogger({ write: (line) => lines.push(line), level, secrets });
  return { log, lines, text: () => lines.join("\n") };
}
