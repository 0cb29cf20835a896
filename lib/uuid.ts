/**
 * The one UUID rule. The platform compares ids as plain strings and its own ids are
 * lowercase (contract §0), so every id we send, store or show is trimmed and lower-cased here
 * first; anything that is not a UUID (a sender-chosen `../../foo`) never reaches a URL, a file
 * or a tag attribute.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `raw` as a lowercase canonical UUID (surrounding whitespace allowed), or null. */
export function parseUuid(raw: unknown): string | null {
  if (typeof raw !== "string") return null;
  const id = raw.trim().toLowerCase();
  return UUID.test(id) ? id : null;
}
