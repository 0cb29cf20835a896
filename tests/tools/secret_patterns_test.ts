/**
 * Issue 10 item 8: the pattern list on a corpus of real-shaped fake secrets (each must be
 * masked, by the named rule) and of ordinary texts that look a bit like them (none may be).
 * Fakes are built from a seeded generator so no real credential is ever in the repository.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { REDACTED, redactSecrets, shannonEntropy } from "../../lib/tools/redact_secrets.ts";
import { SeededRandom } from "../fakes/seeded_random.ts";

const rng = new SeededRandom(20261130);
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const HEX = "0123456789abcdef";
const B64URL = `${ALNUM}_-`;
const BECH32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";

function r(alphabet: string, n: number): string {
  let out = "";
  for (let i = 0; i < n; i++) out += alphabet[rng.int(0, alphabet.length - 1)];
  return out;
}

function b64url(text: string): string {
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

const JWT = `${b64url('{"alg":"HS256","typ":"JWT"}')}.${
  b64url('{"sub":"1234567890","name":"Jane","iat":1516239022}')
}.${r(B64URL, 43)}`;

/** [rule id, secret, text it is embedded in (SECRET is replaced by it)]. */
const SECRETS: [string, string, string][] = [
  ["jwt", JWT, "session cookie was SECRET; expires tomorrow"],
  ["stripe-access-token", `sk_${"live"}_${r(ALNUM, 24)}`, "Stripe prod key SECRET for billing"],
  ["stripe-access-token", `rk_${"test"}_${r(ALNUM, 99)}`, "restricted: SECRET."],
  ["stripe-webhook-secret", `whsec_${r(ALNUM, 32)}`, "webhook SECRET"],
  ["aws-access-token", `AKIA${r(UPPER_ALNUM, 16)}`, "id SECRET in us-east-1"],
  ["aws-access-token", `ASIA${r(UPPER_ALNUM, 16)}`, "(SECRET)"],
  ["github-pat", `ghp_${r(ALNUM, 36)}`, "GH SECRET"],
  ["github-pat", `gho_${r(ALNUM, 36)}`, "oauth=SECRET"],
  ["github-fine-grained-pat", `github_pat_${r(ALNUM, 22)}_${r(ALNUM, 59)}`, "pat SECRET"],
  ["gitlab-pat", `glpat-${r(B64URL, 20)}`, "gitlab SECRET"],
  ["slack-token", `xoxb-${r("0123456789", 12)}-${r("0123456789", 12)}-${r(ALNUM, 24)}`, "SECRET"],
  ["slack-token", `xoxp-${r("0123456789", 11)}-${r("0123456789", 11)}-${r(ALNUM, 32)}`, "u SECRET"],
  [
    "slack-webhook-url",
    `hooks.slack.com/services/T${r(ALNUM, 10)}/B${r(ALNUM, 10)}/${r(ALNUM, 24)}`,
    "https://SECRET",
  ],
  ["openai-api-key", `sk-proj-${r(B64URL, 74)}T3BlbkFJ${r(B64URL, 74)}`, "OPENAI SECRET"],
  ["openai-api-key", `sk-ant-api03-${r(B64URL, 93)}AA`, "claude SECRET ok"],
  ["gcp-api-key", `AIza${r(B64URL, 35)}`, "maps key SECRET"],
  ["gcp-oauth-client-secret", `GOCSPX-${r(B64URL, 28)}`, "client SECRET"],
  ["npm-access-token", `npm_${r(ALNUM, 36)}`, "//registry.npmjs.org/:_authToken=SECRET"],
  ["pypi-upload-token", `pypi-AgEIcHlwaS5vcmc${r(B64URL, 70)}`, "twine SECRET"],
  ["sendgrid-api-token", `SG.${r(B64URL, 22)}.${r(B64URL, 43)}`, "mail SECRET"],
  ["twilio-api-key", `SK${r(HEX, 32)}`, "twilio SECRET"],
  [
    "huggingface-access-token",
    `hf_${r("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 34)}`,
    "HF SECRET",
  ],
  ["digitalocean-token", `dop_v1_${r(HEX, 64)}`, "do SECRET"],
  ["shopify-token", `shpat_${r(HEX, 32)}`, "shop SECRET"],
  ["databricks-api-token", `dapi${r(HEX, 32)}`, "dbx SECRET"],
  ["doppler-api-token", `dp.pt.${r(ALNUM, 43)}`, "doppler SECRET"],
  ["vault-token", `hvs.${r(B64URL, 95)}`, "VAULT_TOKEN SECRET"],
  ["postman-api-token", `PMAK-${r(HEX, 24)}-${r(HEX, 34)}`, "postman SECRET"],
  ["linear-api-key", `lin_api_${r(ALNUM, 40)}`, "linear SECRET"],
  ["pulumi-api-token", `pul-${r(HEX, 40)}`, "pulumi SECRET"],
  ["grafana-token", `glsa_${r(ALNUM, 32)}_${r(HEX, 8)}`, "grafana SECRET"],
  ["age-secret-key", `AGE-SECRET-KEY-1${r(BECH32, 58)}`, "age SECRET"],
  ["square-access-token", `sq0atp-${r(B64URL, 22)}`, "square SECRET"],
  ["planetscale-token", `pscale_tkn_${r(ALNUM, 43)}`, "ps SECRET"],
  ["docker-pat", `dckr_pat_${r(B64URL, 27)}`, "docker login -p SECRET"],
  ["telegram-bot-api-token", `${r("123456789", 10)}:AA${r(B64URL, 33)}`, "bot SECRET"],
  ["url-credentials", r(ALNUM, 16), "postgres://app:SECRET@db.internal:5432/prod"],
  ["bearer", r(B64URL, 40), "curl -H 'Authorization: Bearer SECRET' https://api"],
  ["generic-api-key", r(ALNUM, 40), "DB_PASSWORD=SECRET"],
  ["generic-api-key", r(ALNUM, 24), '{"client_secret": "SECRET"}'],
  ["generic-api-key", r(`${ALNUM}+/`, 40), "aws_secret_access_key = SECRET"],
  ["generic-api-key", r(ALNUM, 16), "api-token: SECRET"],
  [
    "private-key",
    `-----BEGIN OPENSSH PRIVATE KEY-----\n${r(ALNUM, 70)}\n${
      r(ALNUM, 70)
    }\n-----END OPENSSH PRIVATE KEY-----`,
    "my key:\nSECRET\nend",
  ],
];

/** Texts that must come back unchanged. */
const ORDINARY: string[] = [
  "We decided to keep the access pattern simple: read-through cache, 5 minute TTL.",
  "const apiKey = process.env.API_KEY; // never hard-code it",
  "token_url: https://auth.example.com/oauth/token",
  "api_version=2024-06-01",
  "keyboard_layout=us-international",
  "secret_name: prod-db-password",
  "token_count=123456789012",
  "password: ********",
  "password=hunter2",
  "api_id: a1b2c3d4e5f6a7b8",
  "public_key: ssh-ed25519",
  "the author: someone-with-a-long-name-2024",
  "commit 3f786850e387550fdab836ed7e6dc881de23001b fixed the key rotation bug",
  "workspace 1b4e28ba-2fa1-11d2-883f-0016d3cca427 is the parent",
  "desk-abcdefghijklmnopqrstuvwxyz is a slug; task-runner and sk-short are words",
  "Use TEAM scope for decisions; key: use the staging cluster first.",
  "https://docs.example.com/guides/authentication/tokens#rotating",
  "idempotency_key=delivery-2024-11-30-batch-7",
  "The SK value in the matrix is 0.5 and AKIA is an AWS prefix.",
  "eyJ is how base64 JSON starts, e.g. eyJhbGciOi (cut short).",
];

Deno.test("secret patterns: every real-shaped fake secret in the corpus is masked by its rule", () => {
  for (const [id, secret, template] of SECRETS) {
    const text = template.replace("SECRET", secret);
    const out = redactSecrets(text);
    assert(!out.text.includes(secret), `${id} not masked: ${out.text}`);
    assertStringIncludes(out.text, REDACTED);
    assert(out.rules.includes(id), `${id}: fired ${out.rules.join(",")} on ${text}`);
    // The context around the secret survives.
    const [before] = template.split("SECRET");
    assert(out.text.startsWith(before ?? ""), `${id}: ${out.text}`);
  }
});

Deno.test("secret patterns: ordinary notes, ids, hashes and code stay untouched", () => {
  for (const text of ORDINARY) {
    const out = redactSecrets(text);
    assertEquals(out.text, text, `masked by ${out.rules.join(",")}`);
  }
});

Deno.test("secret patterns: this workspace's own 36-character token and inbound secret are masked exactly", () => {
  const token = r(ALNUM, 36); // under the old 40-character rule, and no known prefix
  const inbound = r(B64URL, 43);
  const note = `To call the platform use ${token} (inbound ${inbound}); JSON: ${
    JSON.stringify({ t: token })
  }`;
  const out = redactSecrets(note, [token, inbound]);
  assert(!out.text.includes(token) && !out.text.includes(inbound), out.text);
  assertEquals(out.text.split(REDACTED).length - 1, 3);
  assert(out.rules.includes("known-secret"));
});

Deno.test("secret patterns: entropy separates words from keys", () => {
  assert(shannonEntropy("passwordpassword") < 3);
  assert(shannonEntropy(r(ALNUM, 40)) > 4.5);
});

Deno.test("secret patterns: 1 MB of hostile near-misses is scanned without blowing up", () => {
  const text = "key=".repeat(50_000) + "sk-".repeat(50_000) + "a-".repeat(200_000);
  const out = redactSecrets(text);
  assertEquals(out.text.length > 0, true);
});
