/**
 * The one check every parser of outside JSON starts with (platform answers, activity rows,
 * JSON-RPC messages, tool arguments): is this value a JSON object?
 */

/** True for a JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
