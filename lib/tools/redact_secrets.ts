/**
 * Masks secret-looking strings in text an agent is about to store in shared memory, so a key
 * pasted into a note never reaches teammates or the platform's database. It covers upstream's
 * patterns (sk- keys, GitHub tokens, AWS access key ids, `key|token|secret|password = <long
 * base64>`) plus a few common ones upstream missed (Slack tokens, Bearer credentials, PEM
 * private keys). It is a safety net, not a guarantee: it errs towards masking.
 */

/** What replaces each secret. */
export const REDACTED = "[REDACTED]";

/** One pattern; `keep` (when set) is the number of leading capture groups kept in place. */
interface SecretPattern {
  pattern: RegExp;
  keep?: number;
}

/**
 * Ordered: whole PEM blocks first, then assignments (so the keyword survives), then bare
 * token shapes. Every pattern is global; boundaries avoid cutting words that merely contain
 * a prefix (a "task-..." word is not an "sk-" key).
 */
const PATTERNS: readonly SecretPattern[] = [
  // PEM private keys, whole block (or to the end of the text if the END line is missing).
  {
    pattern:
      /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|$)/g,
  },
  // `api_key = …`, `GITHUB_TOKEN: "…"`, `password=…`: keep the keyword, mask 40+ base64 chars.
  // No word prefix before the keyword: text before it stays as it is anyway, and a prefix like
  // `[A-Za-z0-9_-]*` made long hyphenated text take quadratic time (seconds for 100 KB).
  {
    pattern:
      /((?:key|token|secret|password|passwd|pwd)["']?\s*[:=]\s*["']?)[A-Za-z0-9+/=_-]{40,}/gi,
    keep: 1,
  },
  // `Authorization: Bearer …` and bare `Bearer …` credentials of 20+ chars.
  { pattern: /(\bBearer\s+)[A-Za-z0-9._~+/=-]{20,}/g, keep: 1 },
  // OpenAI / Anthropic style keys: sk-…, sk-proj-…, sk-ant-… (20+ chars after "sk-").
  { pattern: /(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{20,}/g },
  // GitHub tokens: classic/app/OAuth/user/refresh (ghp_, ghs_, gho_, ghu_, ghr_) and fine-grained.
  { pattern: /(?<![A-Za-z0-9_])gh[psour]_[A-Za-z0-9]{20,}/g },
  { pattern: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{20,}/g },
  // AWS access key ids (long-term AKIA…, temporary ASIA…).
  { pattern: /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])/g },
  // Slack tokens.
  { pattern: /(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,}/g },
];

/** The redacted text and how many secrets were masked. */
export interface Redaction {
  text: string;
  count: number;
}

/** Replaces every secret-looking string in `text` with [REDACTED]. Pure; never throws. */
export function redactSecrets(text: string): Redaction {
  let count = 0;
  let out = text;
  for (const { pattern, keep } of PATTERNS) {
    out = out.replace(pattern, (...match: unknown[]) => {
      count++;
      const kept = keep === undefined ? [] : match.slice(1, keep + 1);
      return kept.map((part) => (typeof part === "string" ? part : "")).join("") + REDACTED;
    });
  }
  return { text: out, count };
}
