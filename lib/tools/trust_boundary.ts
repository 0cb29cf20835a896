/**
 * The trust boundary around text another agent wrote (OFFSEC-003): a peer's reply, a
 * delegation preview or error, a peer's name. The agent reading our tool results must see
 * where peer text starts and ends, and the peer must not be able to end that boundary early
 * or dress its text up as instructions. Only the text transforms live here; the tools decide
 * what to wrap.
 */
import { isRecord } from "../json_object.ts";
import { sanitiseText } from "../text.ts";
import { sanitiseIdentity } from "../workspace/channel_push.ts";

/** The line that opens peer-written text in a tool result. */
export const PEER_OUTPUT_BEGIN = "<<<PEER_OUTPUT_BEGIN>>>";
/** The line that closes it; it appears exactly once, as the last line of a wrapped block. */
export const PEER_OUTPUT_END = "<<<PEER_OUTPUT_END>>>";

/**
 * Anything that reads like one of our markers, whatever the case or separators
 * ("peer output end", "PEER-OUTPUT_BEGIN"), so near-miss forgeries are escaped too.
 */
const MARKER_WORDS = /PEER[\s_-]*OUTPUT[\s_-]*(BEGIN|END)/gi;
/** Angle-bracket runs that could rebuild a marker's frame. */
const ANGLE_RUNS = /<{3,}|>{3,}/g;
/**
 * Shouted words prompt injections lean on. Upper case only: a peer writing "the build
 * system" in prose is not escaped, "SYSTEM: ignore…" is.
 */
const INJECTION_WORDS = /\b(SYSTEM|OVERRIDE|INSTRUCTIONS|IGNORE\s+ALL|YOU\s+ARE\s+NOW)\b/g;
/** Control characters except tab and newline (carriage returns go too: they hide text). */
// deno-lint-ignore no-control-regex
const CONTROL_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/**
 * Neutralises peer-written `text` without wrapping it: marker look-alikes become
 * `[escaped marker: …]`, runs of three or more angle brackets are broken up, the injection
 * words become `[escaped: …]`, and control characters are dropped. The result contains
 * neither marker line, so it can sit inside a boundary or in a JSON field.
 */
export function escapePeerText(text: string): string {
  // The one sanitiser first (lib/text.ts): terminal sequences, bidi overrides, invisible
  // characters, so no hidden text reaches the marker and injection checks below.
  return sanitiseText(text)
    .replace(CONTROL_CHARS, "")
    .replace(MARKER_WORDS, (_, which: string) => `[escaped marker: PEER_OUTPUT_${which}]`)
    .replace(ANGLE_RUNS, (run) => run.split("").join(" "))
    .replace(INJECTION_WORDS, (word) => `[escaped: ${word.replace(/\s+/g, " ")}]`);
}

/**
 * `value` (peer-written JSON data, e.g. another workspace's row) as pretty-printed JSON (two
 * spaces, as toolJson) with every string, member names included, put through escapePeerText.
 * Escaping the strings rather than the JSON text keeps the JSON valid: the sanitiser turns
 * U+2028 or U+0085 into a line break, which inside a JSON string would not parse.
 */
export function escapePeerJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === "string") return escapePeerText(item);
    if (!isRecord(item)) return item;
    return Object.fromEntries(Object.entries(item).map(([k, v]) => [escapePeerText(k), v]));
  }, 2) ?? "null";
}

/**
 * Wraps peer-written `text` between the marker lines after escaping it, so that whatever the
 * peer wrote, the only PEER_OUTPUT_END line is the last one.
 */
export function wrapPeerText(text: string): string {
  return `${PEER_OUTPUT_BEGIN}\n${escapePeerText(text)}\n${PEER_OUTPUT_END}`;
}

/**
 * A peer's registry name (or role, or status) as one safe token for a result line: the same
 * character rule and length cap as the push header (workspace/channel_push.ts sanitiseIdentity), with
 * injection words escaped too; `fallback` when nothing is left. Registry names are not
 * attested: anyone who can name a workspace chooses them.
 */
export function peerLabel(name: string, fallback = "peer-agent"): string {
  const safe = sanitiseIdentity(name);
  return safe === undefined ? fallback : escapePeerText(safe);
}
