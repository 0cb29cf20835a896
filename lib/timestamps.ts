/**
 * Ordering of the platform's row timestamps. created_at is Go's RFC 3339 encoding, which
 * trims trailing zeros from the fraction ("…12.1234Z" and "…12.123456Z" are both valid), so
 * plain string comparison is wrong; this turns a timestamp into a key that sorts correctly.
 */

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * A string that sorts like the instant `ts` names, to nanosecond precision, or null when
 * `ts` is not RFC 3339 with a zone.
 */
export function timestampKey(ts: string): string | null {
  const m = RFC3339.exec(ts.trim());
  if (m === null) return null;
  const [, base, fraction = "", zone = "Z"] = m;
  const zoneText = zone.toUpperCase() === "Z" ? "Z" : zone.replace(/^([+-]\d{2})(\d{2})$/, "$1:$2");
  const ms = Date.parse(`${base}${zoneText}`);
  if (Number.isNaN(ms)) return null;
  const seconds = Math.floor(ms / 1000) + 1e11; // shift keeps pre-1970 keys positive and sortable
  return `${String(seconds).padStart(13, "0")}.${fraction.padEnd(9, "0")}`;
}

/** Compares two row timestamps (-1, 0, 1); an unparsable one sorts first. */
export function compareTimestamps(a: string, b: string): number {
  const ka = timestampKey(a) ?? "";
  const kb = timestampKey(b) ?? "";
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * The earliest RFC 3339 timestamp (microseconds, UTC) strictly after `ts`, or null when `ts`
 * does not parse. The platform filters `before_ts` strictly and keeps microseconds, so asking
 * for rows before this value still returns the rows that share `ts` itself.
 */
export function justAfter(ts: string): string | null {
  const key = timestampKey(ts);
  if (key === null) return null;
  const [secondsText = "", fraction = ""] = key.split(".");
  const micros = Number(fraction.slice(0, 6)) + 1;
  const seconds = Number(secondsText) - 1e11 + Math.floor(micros / 1e6);
  const base = new Date(seconds * 1000).toISOString().slice(0, 19);
  return `${base}.${String(micros % 1e6).padStart(6, "0")}Z`;
}
