/**
 * The one logger. Every line goes to a `write(line)` sink (stderr in main.ts, an array in
 * tests), never to stdout, which belongs to JSON-RPC. Every line passes the one redaction step
 * (lib/redact.ts): known secrets are masked in every form, and fields named like a credential
 * are never printed.
 */
import { CREDENTIAL_KEY, MASK, Redactor } from "./redact.ts";

/** Severity, lowest first. WARNING is the default; MOLECULE_MCP_VERBOSE turns on info. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Structured fields appended as key=value. */
export type LogFields = Readonly<Record<string, unknown>>;

/** What every lib/ module receives to report what it does. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /**
   * The redactor every line passes; main.ts shares it with the MCP server, and the heartbeat
   * rotates the inbound secret in it.
   */
  readonly redactor: Redactor;
  /** Whether a line at `level` would be written (to skip building costly fields). */
  isEnabled(level: LogLevel): boolean;
}

/** Options for createLogger. */
export interface LoggerOptions {
  write: (line: string) => void;
  level: LogLevel;
  /** The shared redactor; a private one (with `secrets`) when omitted. */
  redactor?: Redactor;
  /** Secrets to mask when no redactor is passed (tests). */
  secrets?: readonly string[];
}

const PREFIX = "[molecule-mcp]";

/** Builds the logger main.ts passes down. Never throws, even if the sink does. */
export function createLogger(opts: LoggerOptions): Logger {
  const redactor = opts.redactor ?? new Redactor(opts.secrets ?? []);
  const threshold = RANK[opts.level];

  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < threshold) return;
    const parts = [PREFIX, level, msg];
    for (const [key, value] of Object.entries(fields ?? {})) {
      if (value === undefined) continue;
      parts.push(`${key}=${CREDENTIAL_KEY.test(key) ? MASK : formatValue(value)}`);
    }
    try {
      opts.write(redactor.redact(parts.join(" ")));
    } catch {
      // A broken stderr must not take the process down; there is nowhere left to report it.
    }
  };

  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    redactor,
    isEnabled: (level) => RANK[level] >= threshold,
  };
}

/** Renders one field value: bare when it is a simple word, JSON-quoted otherwise. */
function formatValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(`${value.name}: ${value.message}`);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
  return /^[\w.:/@+-]+$/.test(text) ? text : JSON.stringify(text);
}

/**
 * A logger that adds `fields` to every line of `log` (same sink, level and redactor): main.ts
 * gives each workspace's link one tagged with `{workspace: <id>}` when several are served.
 */
export function withLogFields(log: Logger, fields: LogFields): Logger {
  return {
    debug: (msg, more) => log.debug(msg, { ...fields, ...more }),
    info: (msg, more) => log.info(msg, { ...fields, ...more }),
    warn: (msg, more) => log.warn(msg, { ...fields, ...more }),
    error: (msg, more) => log.error(msg, { ...fields, ...more }),
    redactor: log.redactor,
    isEnabled: (level) => log.isEnabled(level),
  };
}
