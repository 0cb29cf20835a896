/**
 * The one redaction step every outward text passes: log lines (lib/log.ts), MCP results,
 * errors and notifications (lib/mcp/server.ts's `outgoingText`), hence tool results and
 * channel pushes. It masks the secrets this process knows (the workspace token, the proxy
 * password, the current and previous inbound secret) in every form they are likely to take in
 * a text: raw, JSON-escaped (once and twice), percent-encoded and form-encoded. Pattern-based
 * masking of secrets we do not know (a key an agent pastes into a memory) is
 * tools/redact_secrets.ts's job.
 */

/** What replaces each known secret. */
export const MASK = "[redacted]";

/**
 * A field or env key whose value is a credential, shown as a mask without looking at the value:
 * log fields (lib/log.ts) and the env of an old host entry that `install` shows (cli/install_edit.ts).
 */
export const CREDENTIAL_KEY = /token|authorization|secret|password|passwd|api_?key|cookie/i;

/**
 * Secrets shorter than this are not masked: masking "a" would wreck every line, and no
 * credential we hold is this short (tokens are 43 characters, contract §1).
 */
export const MIN_SECRET_LENGTH = 6;

/**
 * Shortest start of a secret masked where a text was cut short (see Redactor.redact): shorter
 * starts tell an attacker little and would mask ordinary words before an ellipsis.
 */
export const MIN_CUT_PREFIX_LENGTH = 8;

/**
 * What a cutter leaves right after a cut: the ellipsis of lib/text.ts cutCodePoints ("…"),
 * the "..." of echoed client text, and the blank line before the bracketed notes of the tool
 * result cap and the message cap ("\n\n[").
 */
const CUT_MARKERS: readonly string[] = ["…", "...", "\n\n["];

/**
 * How many values of one rotating secret stay masked: the current and the previous one
 * (issue 10 item 9). A text made just before a rotation may still carry the old value; older
 * ones are dropped so a platform that rotates on every beat cannot grow the set.
 */
const ROTATING_KEPT = 2;

/**
 * The set of known secrets and the function that masks them. Fixed secrets (token, proxy
 * password) stay for the life of the process; rotating ones (the inbound secret) keep only
 * their current and previous value. Create one in main.ts and pass it to the logger and the
 * MCP server.
 */
export class Redactor {
  #fixed = new Set<string>();
  #rotating = new Map<string, string[]>();
  /** Every form of every secret, longest first, rebuilt when the set changes. */
  #forms: string[] = [];

  constructor(secrets: readonly string[] = []) {
    for (const s of secrets) this.add(s);
  }

  /** Masks `value` from now on, for the life of the process. Short values are ignored. */
  add(value: string): void {
    if (value.length < MIN_SECRET_LENGTH || this.#fixed.has(value)) return;
    this.#fixed.add(value);
    this.#rebuild();
  }

  /**
   * Sets the current value of the rotating secret named `slot`: the value before it stays
   * masked, older ones no longer are. Returns false (and changes nothing) when `value` is
   * already the current one.
   */
  rotate(slot: string, value: string): boolean {
    const values = this.#rotating.get(slot) ?? [];
    if (values[0] === value) return false;
    const next = [value, ...values.filter((v) => v !== value)].slice(0, ROTATING_KEPT);
    this.#rotating.set(slot, next);
    this.#rebuild();
    return true;
  }

  /** How many secret values are masked now (fixed plus rotating); for tests and bench. */
  get size(): number {
    let n = this.#fixed.size;
    for (const values of this.#rotating.values()) n += values.length;
    return n;
  }

  /** The known secret values (raw form), for exact masking elsewhere (commit_memory). */
  values(): string[] {
    const out = [...this.#fixed];
    for (const values of this.#rotating.values()) out.push(...values);
    return out.filter((v) => v.length >= MIN_SECRET_LENGTH);
  }

  /**
   * Replaces every form of every known secret in `text` with MASK, and the start of a form
   * (MIN_CUT_PREFIX_LENGTH characters or more) that a cut left at the end of the text or just
   * before a cut marker: texts are cut before they reach this step (a platform error detail
   * at 200 characters, a tool result at its cap), and a cut through a secret must not show
   * most of it. Pure; never throws.
   */
  redact(text: string): string {
    let out = text;
    for (const form of this.#forms) {
      if (out.includes(form)) out = out.replaceAll(form, MASK);
    }
    for (const form of this.#forms) out = maskCutStarts(out, form);
    return out;
  }

  #rebuild(): void {
    const forms = new Set<string>();
    for (const value of this.values()) {
      for (const form of secretForms(value)) {
        if (form.length >= MIN_SECRET_LENGTH) forms.add(form);
      }
    }
    // Longest first, so a form that contains another is masked whole.
    this.#forms = [...forms].sort((a, b) => b.length - a.length);
  }
}

/** `text` with every cut-short start of `form` (see Redactor.redact) replaced by MASK. */
function maskCutStarts(text: string, form: string): string {
  if (form.length <= MIN_CUT_PREFIX_LENGTH) return text;
  const head = form.slice(0, MIN_CUT_PREFIX_LENGTH);
  let out = text;
  let from = 0;
  for (let at = out.indexOf(head, from); at >= 0; at = out.indexOf(head, from)) {
    let end = at + MIN_CUT_PREFIX_LENGTH;
    while (end < out.length && end - at < form.length && out[end] === form[end - at]) end++;
    const isCut = end === out.length || CUT_MARKERS.some((m) => out.startsWith(m, end));
    if (isCut && end - at < form.length) {
      out = out.slice(0, at) + MASK + out.slice(end);
      from = at + MASK.length;
    } else from = at + 1;
  }
  return out;
}

/**
 * The forms one secret takes in texts we send: raw; JSON-escaped once (a body that echoes
 * it, quoted inside a string) and twice (that body quoted again in a tool result);
 * percent-encoded (a URL or a query); form-encoded (spaces as `+`); JSON with \uXXXX escapes
 * (what Python and Go servers write). Exported for tests.
 */
export function secretForms(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  const json2 = JSON.stringify(json).slice(1, -1);
  const percent = encodeURIComponent(value);
  const form = new URLSearchParams({ v: value }).toString().slice(2);
  // Python's json.dumps escapes non-ASCII as \uXXXX, Go's also <, > and &.
  const ascii = json.replace(
    /[<>&\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return [...new Set([value, json, json2, percent, form, ascii])];
}
