/**
 * The secret-pattern list commit_memory masks with, as data. Rule ids, token prefixes, lengths
 * and entropy thresholds follow gitleaks' maintained default rule set (config/gitleaks.toml,
 * github.com/gitleaks/gitleaks, MIT), the de-facto reference for what real credentials look
 * like; the regular expressions are our own, written for JavaScript (no inline flags), each
 * anchored on a literal prefix or keyword so none backtracks badly on long text. Only rules
 * whose format is distinctive are kept; vendor rules that need the vendor's name next to a
 * bare hex string are covered by the generic assignment rule. Update from gitleaks' list when
 * a vendor changes its format. Applying the rules is redact_secrets.ts's job.
 */

/** One rule. The named group `secret`, when present, is what is masked; else the match. */
export interface SecretRule {
  /** gitleaks' rule id (ours where gitleaks has none: marked in the comment). */
  id: string;
  /** Global regular expression. */
  pattern: RegExp;
  /** Least Shannon entropy (bits per character) of the masked part, as gitleaks applies it. */
  minEntropy?: number;
}

/** Characters that may not touch a token on its left (so "desk-…" is not "sk-…"). */
const L = "(?<![A-Za-z0-9_-])";
/** …and on its right. */
const R = "(?![A-Za-z0-9_-])";

function rule(id: string, source: string, minEntropy?: number, flags = "g"): SecretRule {
  return {
    id,
    pattern: new RegExp(source, flags),
    ...(minEntropy === undefined ? {} : { minEntropy }),
  };
}

/**
 * Ordered: whole private keys first, then credentials inside URLs and headers (so the context
 * survives), then prefixed tokens, then the generic keyword assignment last.
 */
export const SECRET_RULES: readonly SecretRule[] = [
  // PEM private keys, whole block (or to the end of the text when the END line is missing).
  rule(
    "private-key",
    "-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\\s\\S]*?" +
      "(?:-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----|$)",
  ),
  // user:password@ in any URL (ours: database and proxy URLs); the user name stays.
  rule(
    "url-credentials",
    "\\b[A-Za-z][A-Za-z0-9+.-]{1,20}://[^\\s:@/]{1,100}:(?<secret>[^\\s@/]{3,200})@",
  ),
  // Authorization: Bearer … / Basic … (ours, like gitleaks' curl-auth-header).
  rule("bearer", "\\b(?:Bearer|Basic|Token)\\s+(?<secret>[A-Za-z0-9._~+/=-]{20,})"),
  rule(
    "jwt",
    `${L}(?<secret>ey[A-Za-z0-9_-]{17,}\\.ey[A-Za-z0-9_-]{17,}\\.[A-Za-z0-9_-]*)${R}`,
    3,
  ),
  rule("stripe-access-token", `${L}(?:sk|rk)_(?:test|live|prod)_[A-Za-z0-9]{10,99}${R}`, 2),
  rule("stripe-webhook-secret", `${L}whsec_[A-Za-z0-9+/]{24,}${R}`), // ours
  rule(
    "aws-access-token",
    "(?<![A-Z0-9])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])",
  ),
  rule("github-pat", `${L}gh[pousr]_[A-Za-z0-9]{20,}${R}`),
  rule("github-fine-grained-pat", `${L}github_pat_[A-Za-z0-9_]{20,}${R}`),
  rule(
    "gitlab-pat",
    `${L}(?:glpat|gldt|glrt|glptt|glsoat|glffct|glft|glimt|glagent|gloas|glcbt)-[A-Za-z0-9_.-]{20,}${R}`,
  ),
  rule("slack-token", `${L}xox[abposre]-[A-Za-z0-9-]{10,}`),
  rule("slack-app-token", `${L}xapp-\\d-[A-Za-z0-9]+-\\d+-[A-Za-z0-9]+`),
  rule(
    "slack-webhook-url",
    "hooks\\.slack\\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{20,}",
  ),
  // OpenAI (sk-, sk-proj-, sk-svcacct-), Anthropic (sk-ant-api03-, sk-ant-admin01-) and
  // similar sk- keys: one rule for the family.
  rule("openai-api-key", `${L}sk-[A-Za-z0-9_-]{20,}${R}`),
  rule("gcp-api-key", `${L}AIza[A-Za-z0-9_-]{35}${R}`, 4),
  rule("gcp-oauth-client-secret", `${L}GOCSPX-[A-Za-z0-9_-]{28}${R}`), // ours
  rule("npm-access-token", `${L}npm_[A-Za-z0-9]{36}${R}`, 2),
  rule("pypi-upload-token", `${L}pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}`),
  rule("sendgrid-api-token", `${L}SG\\.[A-Za-z0-9_-]{16,32}\\.[A-Za-z0-9_-]{16,64}${R}`),
  rule("twilio-api-key", "(?<![A-Za-z0-9])SK[0-9a-fA-F]{32}(?![A-Za-z0-9])", 3),
  rule("huggingface-access-token", `${L}(?:hf_|api_org_)[A-Za-z]{34}${R}`, 2),
  rule("digitalocean-token", `${L}do[opr]_v1_[a-f0-9]{64}${R}`),
  rule("shopify-token", `${L}shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}${R}`),
  rule("databricks-api-token", `${L}dapi[a-f0-9]{32}(?:-\\d)?${R}`, 3),
  rule("doppler-api-token", `${L}dp\\.pt\\.[A-Za-z0-9]{43}${R}`),
  rule("vault-token", `${L}hv[sb]\\.[A-Za-z0-9_-]{90,}`),
  rule("hashicorp-tf-api-token", "[A-Za-z0-9]{14}\\.atlasv1\\.[A-Za-z0-9_=-]{60,70}"),
  rule("postman-api-token", `${L}PMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34}${R}`),
  rule("linear-api-key", `${L}lin_api_[A-Za-z0-9]{40}${R}`),
  rule("pulumi-api-token", `${L}pul-[a-f0-9]{40}${R}`),
  rule("grafana-token", `${L}(?:glc_[A-Za-z0-9+/]{32,}={0,3}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})`),
  rule("sentry-token", `${L}(?:sntrys_eyJ[A-Za-z0-9+/=_]{40,}|sntryu_[a-f0-9]{64})`),
  rule("age-secret-key", "AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}"),
  rule("square-access-token", `${L}(?:EAAA|sq0atp-|sq0csp-)[A-Za-z0-9_-]{22,60}${R}`, 2),
  rule("planetscale-token", `${L}pscale_(?:tkn|oauth|pw)_[A-Za-z0-9_=.-]{32,64}`),
  rule("rubygems-api-token", `${L}rubygems_[a-f0-9]{48}${R}`),
  rule("perplexity-api-key", `${L}pplx-[A-Za-z0-9]{48}${R}`),
  rule("notion-api-token", `${L}ntn_[0-9]{11}[A-Za-z0-9]{35}${R}`),
  rule("docker-pat", `${L}dckr_pat_[A-Za-z0-9_-]{27,}${R}`), // ours
  rule("telegram-bot-api-token", "(?<![0-9])[0-9]{8,10}:AA[A-Za-z0-9_-]{33}(?![A-Za-z0-9_-])"),
  // A value assigned to a credential-like name (`api_key = …`, `"password": "…"`,
  // `DB_PASSWORD=…`): the name stays, the value is masked when it looks random enough.
  rule(
    "generic-api-key",
    "(?:access|auth|api|credential|creds|key|passw(?:or)?d|pwd|secret|token)[A-Za-z0-9_.-]{0,20}" +
      "[\\s'\"]{0,3}(?:=|:{1,3}=|:|=>|\\?=)[\\s`'\"=]{0,5}" +
      // Greedy and unbounded on purpose: the value runs to its end and the scan resumes after
      // it, so a long run of near-misses ("key=key=…") costs linear time, not quadratic.
      "(?<secret>[A-Za-z0-9_.=+/~-]{10,})",
    undefined,
    "gi",
  ),
];

/**
 * The generic rule masks a value with at least this entropy (gitleaks' threshold), or a long
 * one (GENERIC_LONG_CHARS+) of letters and digits whatever its entropy: a 40-character value
 * assigned to `api_key` is a key even when it repeats.
 */
export const GENERIC_MIN_ENTROPY = 3.5;
/** See GENERIC_MIN_ENTROPY. */
export const GENERIC_LONG_CHARS = 32;

/**
 * Names that contain a keyword of the generic rule but are no credential (gitleaks keeps a
 * similar allow-list): ids, names, sizes, URLs, keyboards. Tested on the keyword and the name
 * characters around it.
 */
export const GENERIC_NAME_ALLOWED =
  /(?:^|[^a-z])(?:author\w*|authenticat\w*|access(?:ibility|or)|(?:access|api|key|secret|token|credentials?)[_.-]?(?:id|ids|name|names|version|url|uri|endpoint|path|file|size|length|type|count|expires?\w*|board|word|ring|pair|press\w*|stone|frame|code|alias)|(?:public|primary|foreign|csrf|sort|cache|idempotency|monkey|tur)[_.-]?(?:key|token))(?:$|[^a-z])/i;
