import { assert, assertEquals, assertStringIncludes } from "./assert.ts";
import { captureLog } from "./fakes/log_capture.ts";

Deno.test("log: lines carry the prefix, level and key=value fields", () => {
  const { log, lines } = captureLog("debug");
  log.warn("heartbeat failing", { status: 503, next: "check PLATFORM_URL" });
  assertEquals(lines, [
    '[molecule-mcp] warn heartbeat failing status=503 next="check PLATFORM_URL"',
  ]);
});

Deno.test("log: at the warn level info and debug are hidden", () => {
  const { log, lines } = captureLog("warn");
  log.info("registered");
  log.debug("noise");
  log.error("broken");
  assertEquals(lines.length, 1);
  assertStringIncludes(lines[0] ?? "", "broken");
});

Deno.test("log: a known secret never appears, even inside a message or a field", () => {
  const token = "tok_abcdefghijklmnopqrstuvwxyz0123456789ABCDEF";
  const { log, text } = captureLog("debug", [token]);
  log.error(`rejected ${token}`, { body: `Bearer ${token}`, token, authorization: "Bearer x" });
  log.redactor.add("inbound-secret-value");
  log.warn("saved inbound-secret-value");
  assert(!text().includes(token));
  assert(!text().includes("inbound-secret-value"));
  assert(!text().includes("Bearer x"));
});

Deno.test("log: a secret JSON-escaped or percent-encoded inside a line is masked too", () => {
  const password = 'p"a\\ss/w0rd&x';
  const { log, text } = captureLog("debug", [password]);
  log.warn("proxy said", { body: JSON.stringify({ echo: password }) });
  log.warn(`url http://u:${encodeURIComponent(password)}@proxy`);
  assert(!text().includes("w0rd"), text());
});

Deno.test("log: a field named like a credential is masked whatever its value (one rule with install)", () => {
  const { log, text } = captureLog("debug");
  log.warn("proxy", { api_key: "k-value-1", passwd: "p-value-2", cookie: "c-value-3", host: "h" });
  assertStringIncludes(text(), "api_key=[redacted] passwd=[redacted] cookie=[redacted] host=h");
});
