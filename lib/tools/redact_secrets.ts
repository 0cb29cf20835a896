/**
 * Masks secrets in text an agent is about to store in shared memory, so a key pasted into a
 * note never reaches teammates or the platform's database. Two layers: the secrets this
 * process knows (its own token, inbound secret, proxy password) are masked exactly, in every
 * form, always; then every rule of the pattern list (secret_patterns.ts, after gitleaks)
 * masks secret-shaped strings. It is a safety net, not a guarantee: it errs towards masking.
 */
import { secretForms } from "../redact.ts";
import { codePointLength } from "../text.ts";
import {
  GENERIC_LONG_CHARS,
  GENERIC_MIN_ENTROPY,
  GENERIC_NAME_ALLOWED,
  SECRET_RULES,
} from "./secret_patterns.ts";

/** What replaces each secret. */
export const REDACTED = "[REDACTED]";

/** The redacted text, how many secrets were masked, and which rules fired (ids, for logs). */
export interface Redaction {
  text: string;
  count: number;
  rules: string[];
}

/** Known secrets shorter than this are not masked exactly (they would hit ordinary words). */
const MIN_KNOWN_LENGTH = 6;

/**
 * Replaces every known secret and every secret-looking string in `text` with [REDACTED].
 * `known` holds the raw values this process holds (Redactor.values()). Pure; never throws.
 */
export function redactSecrets(text: string, known: readonly string[] = []): Redaction {
  let count = 0;
  const fired = new Set<string>();
  let out = text;
  const forms = known.filter((k) => k.length >= MIN_KNOWN_LENGTH).flatMap(secretForms)
    .filter((f) => f.length >= MIN_KNOWN_LENGTH)
    .sort((a, b) => b.length - a.length);
  for (const form of forms) {
    const pieces = out.split(form);
    if (pieces.length === 1) continue;
    count += pieces.length - 1;
    fired.add("known-secret");
    out = pieces.join(REDACTED);
  }
  for (const { id, pattern, minEntropy } of SECRET_RULES) {
    out = out.replace(pattern, (...args: unknown[]) => {
      const match = String(args[0]);
      const offset = args.find((a): a is number => typeof a === "number") ?? 0;
      const groups = args[args.length - 1];
      const secret = isGroups(groups) && typeof groups.secret === "string" ? groups.secret : match;
      if (secret.includes(REDACTED)) return match;
      if (minEntropy !== undefined && shannonEntropy(secret) < minEntropy) return match;
      if (id === "generic-api-key" && !looksGenerated(secret, match, out, offset)) return match;
      count++;
      fired.add(id);
      const at = match.lastIndexOf(secret);
      return match.slice(0, at) + REDACTED + match.slice(at + secret.length);
    });
  }
  return { text: out, count, rules: [...fired] };
}

/**
 * Shannon entropy of `text` in bits per character: how random it looks. English words score
 * about 2.5-3.3, base64 keys 4.5-6; gitleaks' thresholds (3 to 4.5) assume this measure.
 */
export function shannonEntropy(text: string): number {
  if (text === "") return 0;
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  const n = codePointLength(text);
  for (const c of counts.values()) bits -= (c / n) * Math.log2(c / n);
  return bits;
}

/**
 * The generic rule's extra checks (gitleaks' allow-lists): the value is random enough (or
 * long, with letters and digits), is not a plain word or dotted name (no digit and no mixed
 * case), and the name it is assigned to is no id, name, URL or keyboard.
 */
function looksGenerated(secret: string, match: string, text: string, offset: number): boolean {
  if (/^[a-zA-Z_.-]+$/.test(secret) && !(/[a-z]/.test(secret) && /[A-Z]/.test(secret))) {
    return false;
  }
  // A dotted reference in code (process.env.API_KEY, settings.Token) names a secret, is none.
  if (/^[A-Za-z_]+(?:\.[A-Za-z_]+)+$/.test(secret)) return false;
  const isLong = secret.length >= GENERIC_LONG_CHARS && /\d/.test(secret) &&
    /[A-Za-z]/.test(secret);
  if (!isLong && shannonEntropy(secret) < GENERIC_MIN_ENTROPY) return false;
  const name = text.slice(Math.max(0, offset - 20), offset) +
    match.slice(0, match.length - secret.length);
  return !GENERIC_NAME_ALLOWED.test(name.replace(/[\s'"`:=>?]+$/, ""));
}

function isGroups(value: unknown): value is Record<string, string | undefined> {
  return typeof value === "object" && value !== null;
}
