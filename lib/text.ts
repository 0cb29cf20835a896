/**
 * Text basics every folder uses: the ONE cutter (by code points, never UTF-16 units, so a cut
 * never leaves a lone surrogate) and the ONE sanitiser for peer-, user- and platform-supplied
 * text (terminal control sequences, bidi overrides, invisible characters, tag look-alikes).
 * Redaction of secrets is the logger's and the tools' job, not this module's.
 */

/** The marker cutCodePoints callers usually append: one code point, "…". */
export const ELLIPSIS = "…";

/**
 * Cuts `text` to at most `maxCodePoints` code points, `marker` included (so the result is
 * never longer than the limit), when it is longer; returns it unchanged otherwise. Counts code
 * points, not UTF-16 units, so an emoji is never split into a lone surrogate. A lone surrogate
 * already in `text` counts as one code point and is kept as it is: outgoing lines are made
 * well-formed by their writer (mcp/stdio.ts). O(maxCodePoints), whatever the length of `text`.
 *
 * @throws RangeError when maxCodePoints is negative or not an integer.
 */
export function cutCodePoints(text: string, maxCodePoints: number, marker = ""): string {
  if (!Number.isInteger(maxCodePoints) || maxCodePoints < 0) {
    throw new RangeError(`maxCodePoints must be a whole number >= 0: got ${maxCodePoints}`);
  }
  // UTF-16 length >= code point count, so a short string needs no walk.
  if (text.length <= maxCodePoints) return text;
  const markerPoints = countCodePointsUpTo(marker, maxCodePoints + 1);
  const keep = markerPoints > maxCodePoints ? 0 : maxCodePoints - markerPoints;
  let units = 0;
  let points = 0;
  for (const ch of text) {
    if (points === keep) {
      // More than `keep` points: check whether the rest still fits without a cut.
      return fitsFrom(text, units, maxCodePoints - points)
        ? text
        : text.slice(0, units) + (markerPoints > maxCodePoints ? "" : marker);
    }
    units += ch.length;
    points += 1;
  }
  return text;
}

/** How many code points `text` holds, counting at most `limit` of them. */
function countCodePointsUpTo(text: string, limit: number): number {
  let n = 0;
  for (const _ of text) {
    n += 1;
    if (n >= limit) break;
  }
  return n;
}

/** Whether text from UTF-16 index `start` to its end holds at most `room` code points. */
function fitsFrom(text: string, start: number, room: number): boolean {
  let n = 0;
  for (let i = start; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i += 1;
    }
    n += 1;
    if (n > room) return false;
  }
  return true;
}

/** Counts the code points of `text` (a lone surrogate counts as one). */
export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

// ---------------------------------------------------------------------------------------------
// The sanitiser
// ---------------------------------------------------------------------------------------------

/**
 * Terminal escape sequences, whole: OSC (ESC ] … BEL or ST, also the C1 form U+009D), DCS/SOS/
 * PM/APC strings (ESC P/X/^/_ … ST), CSI (ESC [ or U+009B, parameters, final byte), and every
 * other two-byte ESC sequence. An unterminated string sequence runs to the end of the text,
 * the way a terminal would swallow it.
 */
const TERMINAL_SEQUENCES = new RegExp(
  [
    "(?:\\u001b\\]|\\u009d)[^\\u0007\\u001b\\u009c]*(?:\\u0007|\\u001b\\\\|\\u009c|$)",
    "(?:\\u001b[PX^_]|[\\u0090\\u0098\\u009e\\u009f])[^\\u001b\\u009c]*(?:\\u001b\\\\|\\u009c|$)",
    "(?:\\u001b\\[|\\u009b)[\\u0030-\\u003f]*[\\u0020-\\u002f]*[\\u0040-\\u007e]?",
    "\\u001b[\\u0020-\\u002f]*[\\u0030-\\u007e]?",
  ].join("|"),
  "g",
);

/** Every line break a terminal or editor honours, \r\n first so it becomes one \n. */
const LINE_BREAKS = /\r\n|[\r\v\f\u0085\u2028\u2029]/g;

/** C0 and C1 controls left after the sequences went, except tab and newline. */
// deno-lint-ignore no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Invisible format characters (Unicode category Cf: bidi embeddings, overrides, isolates and
 * marks, zero-width space, word joiner, BOM, invisible operators, tag characters, soft hyphen)
 * and variation selectors, matched with what decides whether one is kept (see keepFormat).
 */
const formatChars = once(() => /\p{Cf}|[\u180b-\u180f\ufe00-\ufe0f\u{e0100}-\u{e01ef}]/gu);

/** Tag characters spelling an emoji subdivision flag (🏴 + 1-6 tags + CANCEL TAG). */
const FLAG_TAGS = /^[\u{e0030}-\u{e0039}\u{e0061}-\u{e007a}]{1,6}\u{e007f}/u;
const BLACK_FLAG = 0x1f3f4;

/**
 * Prepended concatenation marks (Arabic number signs and the like): format characters a
 * script needs in place, so they stay.
 */
const SCRIPT_FORMATS: ReadonlySet<number> = new Set([
  0x0600,
  0x0601,
  0x0602,
  0x0603,
  0x0604,
  0x0605,
  0x06dd,
  0x070f,
  0x0890,
  0x0891,
  0x08e2,
  0x110bd,
  0x110cd,
]);

const letterOrMark = once(() => /[\p{L}\p{M}]/u);
const pictograph = once(() => /[\p{Extended_Pictographic}\p{Emoji_Modifier}\u{fe0f}\u20e3]/u);
const formatChar = once(() => /\p{Cf}/u);
const spaceOrFormat = once(() => /[\s\p{Cf}]/gu);
/** Whitespace, invisible characters and slashes (ASCII, fullwidth) between `<` and a name. */
const tagGap = once(() => /[\s\p{Cf}/\uff0f]*/uy);

/**
 * A constant built on first use. The Unicode-property patterns above are built this way:
 * a \p{…} literal at module level is compiled when the module loads, which reads ICU data
 * (about 0.7 MiB of RSS and a few ms, measured for issue 9) in every process, even one that
 * only cuts text before its first sanitised line.
 */
function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => value ??= make();
}

/** Options for sanitiseText. */
export interface SanitiseOptions {
  /**
   * Joins every line with a space and collapses whitespace runs (for one-line fields such as
   * a header or an error detail). Default false: line breaks become "\n".
   */
  oneLine?: boolean;
}

/**
 * The ONE sanitiser for text someone else wrote (a peer's message or reply, a user's message,
 * a peer's name, platform error text) before it reaches the agent, a push or a terminal:
 * - removes terminal control sequences (ESC/CSI/OSC/DCS, 7- and 8-bit) and every other C0/C1
 *   control except tab and newline;
 * - turns every line break (\r\n, \r, \v, \f, U+0085, U+2028, U+2029) into "\n";
 * - removes invisible format characters: bidi embeddings, overrides, isolates and marks
 *   (U+202A-202E, U+2066-2069, U+200E/F, U+061C), zero-width space, word joiner, BOM, soft
 *   hyphen, tag characters (ASCII smuggling) and runs of variation selectors (byte smuggling);
 * - keeps what a script or an emoji needs: ZWJ/ZWNJ between letters or between pictographs
 *   (👨‍👩‍👧, Persian), one variation selector after a character (❤️), the tag sequence of a
 *   subdivision flag (🏴󠁧󠁢󠁳󠁣󠁴󠁿), prepended concatenation marks (Arabic number signs);
 * - replaces lone surrogates with U+FFFD.
 * Everything else (any script, emoji, punctuation, tabs) is left as it is. Idempotent.
 */
export function sanitiseText(text: string, opts: SanitiseOptions = {}): string {
  let out = text.toWellFormed()
    .replace(TERMINAL_SEQUENCES, "")
    .replace(LINE_BREAKS, "\n")
    .replace(CONTROLS, "")
    .replace(formatChars(), keepFormat);
  if (opts.oneLine === true) out = out.replace(/\s+/g, " ").trim();
  return out;
}

/** The replacer for formatChars(): the character itself when it stays, "" when it goes. */
function keepFormat(ch: string, offset: number, whole: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  if (SCRIPT_FORMATS.has(cp)) return ch;
  const before = codePointBefore(whole, offset);
  if (cp === 0x200c || cp === 0x200d) {
    const after = whole.codePointAt(offset + ch.length);
    if (before === undefined || after === undefined) return "";
    const b = String.fromCodePoint(before);
    const a = String.fromCodePoint(after);
    const joinsLetters = letterOrMark().test(b) && letterOrMark().test(a) &&
      (before > 0x7f || after > 0x7f);
    const joinsPictographs = pictograph().test(b) && pictograph().test(a);
    return joinsLetters || joinsPictographs ? ch : "";
  }
  if (isVariationSelector(cp)) {
    // One selector after a visible character; a second in a row carries no glyph.
    return before === undefined || isVariationSelector(before) || isFormat(before) ? "" : ch;
  }
  if (cp >= 0xe0000 && cp <= 0xe007f) {
    // Keep a subdivision flag's tags: they follow 🏴 directly (walk back over the tags).
    let start = offset;
    while (start >= 2 && isTagAt(whole, start - 2)) start -= 2;
    if (codePointBefore(whole, start) !== BLACK_FLAG) return "";
    return FLAG_TAGS.test(whole.slice(start)) ? ch : "";
  }
  return "";
}

function isTagAt(text: string, index: number): boolean {
  const cp = text.codePointAt(index) ?? 0;
  return cp >= 0xe0000 && cp <= 0xe007f;
}

function isVariationSelector(cp: number): boolean {
  return (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xe0100 && cp <= 0xe01ef) ||
    (cp >= 0x180b && cp <= 0x180d) || cp === 0x180f;
}

function isFormat(cp: number): boolean {
  return formatChar().test(String.fromCodePoint(cp));
}

/** The code point that ends just before UTF-16 index `index`, or undefined at the start. */
function codePointBefore(text: string, index: number): number | undefined {
  if (index <= 0) return undefined;
  const low = text.charCodeAt(index - 1);
  if (low >= 0xdc00 && low <= 0xdfff && index >= 2) {
    const high = text.charCodeAt(index - 2);
    if (high >= 0xd800 && high <= 0xdbff) return text.codePointAt(index - 2);
  }
  return low;
}

/**
 * Writes every `<` that opens (or closes) a tag named in `tagNames` as `&lt;`, so text cannot
 * close the host's tag and open a forged one. The check normalises before matching: whitespace,
 * invisible characters, case and compatibility forms (NFKC: fullwidth letters) between the
 * `<` and the name do not hide it, so `</ channel>`, `< /CHANNEL` and `＜/ｃhannel` are caught.
 * `<` look-alikes (U+FF1C, U+FE64) opening such a tag are replaced too.
 */
export function neutraliseTags(text: string, tagNames: readonly string[]): string {
  const names = tagNames.map((n) => n.toLowerCase());
  const gap = tagGap();
  return text.replace(/[<\uff1c\ufe64]/g, (lt: string, offset: number) => {
    // Skip the gap after the `<` whatever its length (a fixed window let 64 spaces hide the
    // name), then normalise a window; 64 units are plenty for a short name.
    gap.lastIndex = offset + 1;
    gap.exec(text);
    const ahead = text.slice(gap.lastIndex, gap.lastIndex + 64).normalize("NFKC")
      .replace(spaceOrFormat(), "")
      .toLowerCase();
    const name = ahead.startsWith("/") ? ahead.slice(1) : ahead;
    return names.some((n) => name.startsWith(n)) ? "&lt;" : lt;
  });
}

// ---------------------------------------------------------------------------------------------
// UTF-8 sizes (the inbox's message cap and byte budget are in bytes)
// ---------------------------------------------------------------------------------------------

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
