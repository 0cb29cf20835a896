/**
 * The one logger. Every line goes to a `write(line)` sink (stderr in main.ts, an array in
 * tests), never to stdout, which belongs to JSON-RPC. Redaction lives here: secrets known at
 * start-up (and any learned later, like the inbound secret) are masked in every line, and
 * fields named like a credential are never printed.
 */

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
  /** Masks `value` in every later line (for secrets learned after start-up). */
  addSecret(value: string): void;
  /** Whether a line at `level` would be written (to skip building costly fields). */
  isEnabled(level: LogLevel): boolean;
}

/** Options for createLogger. */
export interface LoggerOptions {
  write: (line: string) => void;
  level: LogLevel;
  secrets?: readonly string[];
}

const PREFIX = "[molecule-mcp]";
const CREDENTIAL_FIELD = /token|authorization|secret|password|cookie/i;
/** Secrets shorter than this are not masked: masking "a" would wreck every line. */
const MIN_SECRET_LENGTH = 6;

/** Builds the logger main.ts passes down. Never throws, even if the sink does. */
export function createLogger(opts: LoggerOptions): Logger {
  const secrets = new Set<string>();
  const addSecret = (value: string) => {
    if (value.length >= MIN_SECRET_LENGTH) secrets.add(value);
  };
  for (const s of opts.secrets ?? []) addSecret(s);
  const threshold = RANK[opts.level];

  const redact = (text: string): string => redactSecrets(text, secrets);

  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < threshold) return;
    const parts = [PREFIX, level, msg];
    for (const [key, value] of Object.entries(fields ?? {})) {
      if (value === undefined) continue;
      parts.push(`${key}=${CREDENTIAL_FIELD.test(key) ? "[redacted]" : formatValue(value)}`);
    }
    try {
      opts.write(redact(parts.join(" ")));
    } catch {
      // A broken stderr must not take the process down; there is nowhere left to report it.
    }
  };

  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    addSecret,
    isEnabled: (level) => RANK[level] >= threshold,
  };
}

/**
 * Masks every secret in `text` as "[redacted]": the one redaction step, shared by the logger and
 * by the modes that print reports instead of log lines (doctor, install). Secrets shorter than
 * 6 characters are left alone (masking "a" would wreck every line).
 */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const s of secrets) if (s.length >= MIN_SECRET_LENGTH) out = out.replaceAll(s, "[redacted]");
  return out;
}

/** Renders one field value: bare when it is a simple word, JSON-quoted otherwise. */
function formatValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(`${value.name}: ${value.message}`);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
  return /^[\w.:/@+-]+$/.test(text) ? text : JSON.stringify(text);
}
