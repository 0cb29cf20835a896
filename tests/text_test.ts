import { assertEquals } from "./assert.ts";
import { cutUtf8, utf8Length } from "../lib/text.ts";

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
