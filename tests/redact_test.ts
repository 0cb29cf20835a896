import { assert, assertEquals } from "./assert.ts";
import { MASK, Redactor, secretForms } from "../lib/redact.ts";

const TOKEN = "Zt3x_9QmK2vL8pR4wY6nB1cD5fG7hJ0kM2qS4uW6yA8";

Deno.test("redact: the token is masked raw, JSON-escaped, percent-encoded and double-escaped", () => {
  const secret = 'pa ss"w/ord+é<1>';
  const r = new Redactor([TOKEN, secret]);
  const body = JSON.stringify({ headers: { authorization: `Bearer ${TOKEN}`, proxy: secret } });
  for (
    const text of [
      `raw ${secret}`,
      body,
      JSON.stringify(body),
      `?p=${encodeURIComponent(secret)}`,
      new URLSearchParams({ p: secret }).toString(),
      JSON.stringify(secret).replace("é", "\\u00e9").replace("<", "\\u003c").replace(
        ">",
        "\\u003e",
      ),
    ]
  ) {
    const out = r.redact(text);
    assert(!out.includes("w/ord") && !out.includes("w%2Ford") && !out.includes(TOKEN), out);
    assert(out.includes(MASK), out);
  }
});

Deno.test("redact: short values are never masked, so ordinary words survive", () => {
  const r = new Redactor(["abc", ""]);
  assertEquals(r.size, 0);
  assertEquals(r.redact("abc def"), "abc def");
});

Deno.test("redact: a rotating secret keeps only its current and previous value", () => {
  const r = new Redactor([TOKEN]);
  r.rotate("inbound", "secret-one-111");
  r.rotate("inbound", "secret-two-222");
  r.rotate("inbound", "secret-three-333");
  assertEquals(r.size, 3);
  assertEquals(
    r.redact("secret-one-111 secret-two-222 secret-three-333"),
    `secret-one-111 ${MASK} ${MASK}`,
  );
  assertEquals(r.rotate("inbound", "secret-three-333"), false);
});

Deno.test("redact: forms are distinct and include the raw value first", () => {
  assertEquals(secretForms(TOKEN), [TOKEN]);
  assertEquals(secretForms("a b/c")[0], "a b/c");
});

Deno.test("redact: a secret cut short at the end of a text or before a cut marker is still masked", () => {
  const r = new Redactor([TOKEN]);
  const start = TOKEN.slice(0, 30);
  for (
    const text of [
      `Authorization: Bearer ${start}`,
      `platform said: header echo Bearer ${start}… (HTTP 500)`,
      `echo ${start}...`,
      `{"h":"${start}\n\n[Result cut: it was 600 KiB]`,
    ]
  ) {
    const out = r.redact(text);
    assert(!out.includes(TOKEN.slice(0, 8)), out);
    assert(out.includes(MASK), out);
  }
});

Deno.test("redact: the start of a secret in running text, or a short start at a cut, stays", () => {
  const r = new Redactor([TOKEN]);
  const text = `word ${TOKEN.slice(0, 20)} more, and ${TOKEN.slice(0, 7)}…`;
  assertEquals(r.redact(text), text);
});
