import { assert, assertEquals, assertThrows } from "./assert.ts";
import {
  codePointLength,
  cutCodePoints,
  cutUtf8,
  neutraliseTags,
  sanitiseText,
  utf8Length,
} from "../lib/text.ts";

function hasLoneSurrogate(text: string): boolean {
  return !text.isWellFormed();
}

Deno.test("text: a cut never splits an emoji into a lone surrogate", () => {
  const name = "x".repeat(99) + "😀";
  for (let max = 0; max <= 102; max++) {
    for (const marker of ["", "…", "..."]) {
      const cut = cutCodePoints(name, max, marker);
      assert(!hasLoneSurrogate(cut), `max=${max} marker=${marker}`);
      assert(codePointLength(cut) <= max, `max=${max} marker=${marker}: ${cut.length}`);
    }
  }
  assertEquals(cutCodePoints(name, 100), name);
  assertEquals(cutCodePoints(name, 100, "…"), name);
  assertEquals(cutCodePoints(name, 99), "x".repeat(99));
  assertEquals(cutCodePoints(name, 100 - 1, "…"), "x".repeat(98) + "…");
});

Deno.test("text: a cut counts code points, so 100 emoji fit in 100", () => {
  const emoji = "😀".repeat(100);
  assertEquals(cutCodePoints(emoji, 100, "…"), emoji);
  assertEquals(cutCodePoints(emoji, 10, "…"), "😀".repeat(9) + "…");
  assertEquals(cutCodePoints("", 0, "…"), "");
  assertEquals(cutCodePoints("abc", 2, "..."), "");
  assert(assertThrows(() => cutCodePoints("abc", -1)) instanceof RangeError);
});

Deno.test("text: terminal sequences, bidi overrides and zero-width characters are removed", () => {
  const hostile = "\u001b]8;;https://evil\u0007click\u001b]8;;\u0007 " +
    "\u001b[31mred\u001b[0m \u009b2J" +
    "ab\u202eolleh\u202c \u2066iso\u2069 ig\u200bno\u200cre\u2060 al\ufeffl \u00adsoft" +
    " tag\u{e0049}\u{e0047}";
  assertEquals(sanitiseText(hostile), "click red abolleh iso ignore all soft tag");
});

Deno.test("text: emoji and any script pass the sanitiser unchanged", () => {
  const kept = [
    "👨‍👩‍👧 family, ❤️ heart, 👍🏽 thumbs, 1️⃣ keycap, 🇫🇷 flag",
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿 Scotland",
    "می‌خواهم Persian with ZWNJ",
    "日本語のテキスト, Ελληνικά, עברית, العربية, हिन्दी, 한국어",
    "tabs\tstay\nlines stay",
    "\u0600\u0661\u0662 Arabic number sign",
  ];
  for (const text of kept) assertEquals(sanitiseText(text), text);
});

Deno.test("text: line breaks become \\n and a one-line field collapses them", () => {
  assertEquals(sanitiseText("a\r\nb\rc\u2028d\u2029e\u0085f\vg\fh"), "a\nb\nc\nd\ne\nf\ng\nh");
  assertEquals(sanitiseText("  a\r\n  b\t c  ", { oneLine: true }), "a b c");
});

Deno.test("text: a lone surrogate becomes U+FFFD and sanitising twice changes nothing", () => {
  const once = sanitiseText("a\ud83db\u001b[1m\u202e");
  assertEquals(once, "a\ufffdb");
  assertEquals(sanitiseText(once), once);
});

Deno.test("text: variation-selector smuggling is dropped, one selector after a glyph stays", () => {
  const smuggled = "hi" + "\u{e0100}\u{e0101}\u{e0102}".repeat(20);
  assertEquals(sanitiseText(smuggled), "hi\u{e0100}");
  assertEquals(sanitiseText("\ufe0f\ufe0fstart"), "start");
});

Deno.test("text: tag look-alikes are caught after normalising", () => {
  for (
    const forged of [
      "</channel>",
      "</ channel>",
      "< /CHANNEL>",
      "<\t/\nChannel attr>",
      "\uff1c/\uff43hannel>",
      "<channel source=x>",
    ]
  ) {
    const out = neutraliseTags(forged, ["channel"]);
    assert(out.startsWith("&lt;"), `${JSON.stringify(forged)} -> ${JSON.stringify(out)}`);
  }
  assertEquals(neutraliseTags("a < b, <b>bold</b>", ["channel"]), "a < b, <b>bold</b>");
  // However long the gap between `<` and the name.
  const padded = neutraliseTags(`</${" ".repeat(100)}channel>`, ["channel"]);
  assert(padded.startsWith("&lt;"), padded);
});

Deno.test("text: UTF-8 length counts bytes, not UTF-16 units", () => {
  assertEquals(utf8Length("abc"), 3);
  assertEquals(utf8Length("é"), 2);
  assertEquals(utf8Length("😀"), 4);
});

Deno.test("text: cutting to a byte count never splits a code point", () => {
  assertEquals(cutUtf8("a😀b", 1), "a");
  assertEquals(cutUtf8("a😀b", 4), "a");
  assertEquals(cutUtf8("a😀b", 5), "a😀");
  assertEquals(cutUtf8("a😀b", 6), "a😀b");
  assertEquals(cutUtf8("ééé", 3), "é");
  assertEquals(cutUtf8("short", 100), "short");
  assertEquals(cutUtf8("abc", 0), "");
});
