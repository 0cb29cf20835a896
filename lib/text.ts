/**
 * Text measuring and cutting in UTF-8 bytes, always on code-point boundaries (a surrogate pair
 * is never split). Sanitising peer text is not here.
 */

const encoder = new TextEncoder();

/** Bytes `text` takes in UTF-8 (a lone surrogate counts 3, as TextEncoder writes U+FFFD). */
export function utf8Length(text: string): number {
  // Encoding is a native copy (about 0.5 s per GB); a regex or a charCode loop is slower in
  // --lite-mode, which the binary runs with.
  return encoder.encode(text).byteLength;
}

/**
 * The longest prefix of `text` whose UTF-8 encoding takes at most `maxBytes`, cut between code
 * points (TextEncoder.encodeInto stops before a code point that does not fit whole).
 */
export function cutUtf8(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text;
  const { read } = encoder.encodeInto(text, new Uint8Array(Math.max(0, maxBytes)));
  return text.slice(0, read);
}
