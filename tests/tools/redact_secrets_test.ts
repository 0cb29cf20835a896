import { REDACTED, redactSecrets } from "../../lib/tools/redact_secrets.ts";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";

const B64_48 = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4";

Deno.test("redact secrets: OpenAI and Anthropic style sk- keys are masked", () => {
  const out = redactSecrets(
    "openai sk-abcdefghijklmnopqrstuvwx and anthropic sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv_x end",
  );
  assertEquals(out.text, `openai ${REDACTED} and anthropic ${REDACTED} end`);
  assertEquals(out.count, 2);
});

Deno.test("redact secrets: GitHub classic, app and fine-grained tokens are masked", () => {
  const ghp = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8";
  const ghs = "ghs_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2";
  const pat = "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz";
  const out = redactSecrets(`${ghp}\n${ghs}\n(${pat})`);
  assertEquals(out.text, `${REDACTED}\n${REDACTED}\n(${REDACTED})`);
  assertEquals(out.count, 3);
});

Deno.test("redact secrets: AWS access key ids are masked", () => {
  const out = redactSecrets("aws AKIAIOSFODNN7EXAMPLE / ASIAY34FZKBOKMUTVV7A.");
  assertEquals(out.text, `aws ${REDACTED} / ${REDACTED}.`);
});

Deno.test("redact secrets: key=value assignments keep the keyword and mask the value", () => {
  const text = [
    `api_key=${B64_48}`,
    `token: ${B64_48}`,
    `GITHUB_TOKEN="${B64_48}"`,
    `password = ${B64_48}`,
    `"client_secret": "${B64_48}"`,
  ].join("\n");
  const out = redactSecrets(text);
  assertEquals(
    out.text,
    [
      `api_key=${REDACTED}`,
      `token: ${REDACTED}`,
      `GITHUB_TOKEN="${REDACTED}"`,
      `password = ${REDACTED}`,
      `"client_secret": "${REDACTED}"`,
    ].join("\n"),
  );
  assertEquals(out.count, 5);
});

Deno.test("redact secrets: Bearer credentials, Slack tokens and PEM private keys are masked", () => {
  const pem =
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc\n-----END RSA PRIVATE KEY-----";
  const out = redactSecrets(
    `Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig\nslack xoxb-1234567890-abcdef\n${pem}\nafter`,
  );
  assertEquals(
    out.text,
    `Authorization: Bearer ${REDACTED}\nslack ${REDACTED}\n${REDACTED}\nafter`,
  );
  assertEquals(out.count, 3);
});

Deno.test("redact secrets: ordinary prose, short values and look-alike words stay untouched", () => {
  const text = "task-runner sk-short ghp_short password=hunter2 the key: use TEAM scope. " +
    "AKIA is a prefix; desk-abcdefghijklmnopqrstuvwxyz is a slug";
  const out = redactSecrets(text);
  assertEquals(out.text, text);
  assertEquals(out.count, 0);
});

Deno.test("redact secrets: a secret inside a sentence leaves the rest of the sentence", () => {
  const out = redactSecrets("Deploy with sk-proj-0123456789abcdefghijKLMN then restart.");
  assertStringIncludes(out.text, "Deploy with ");
  assertStringIncludes(out.text, " then restart.");
  assert(!out.text.includes("0123456789abcdefghij"), out.text);
});
