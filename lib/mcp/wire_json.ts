/**
 * The one JSON writer for what goes to an MCP client (stdio lines, SSE events, HTTP JSON
 * replies): JSON.stringify with every string made well-formed.
 */

/**
 * JSON text of `message` with every string (keys too) made well-formed: a lone surrogate
 * becomes U+FFFD instead of a `\ud83d` escape, which strict JSON parsers (Python's SDK)
 * reject, leaving the caller waiting forever (issue 11 item 3). The one exception is the
 * message's own `id`: a reply carries the request's id exactly (JSON-RPC 2.0 §5), so a client
 * that chose an ill-formed id gets it back as it sent it.
 * Fast path: JSON.stringify writes a lone surrogate as a lowercase `\udXXX` escape, so a text
 * without "\ud" had none, and the replacer walk (about 7 times slower on a 512 KiB result,
 * as it turns off V8's fast serialiser) runs only for texts that may have one.
 */
export function wellFormedJson(message: unknown): string {
  const plain = JSON.stringify(message);
  if (!plain.includes("\\ud")) return plain;
  return JSON.stringify(message, function (this: unknown, key: string, value: unknown) {
    if (key === "id" && this === message) return value;
    if (typeof value === "string") return value.toWellFormed();
    if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
    // Keys are rare offenders; rebuild the object only when one is ill-formed.
    const keys = Object.keys(value);
    if (keys.every((k) => k.isWellFormed())) return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.toWellFormed(), v]));
  });
}
