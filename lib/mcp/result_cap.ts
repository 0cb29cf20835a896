/**
 * The cap on every tool result (issue 11 item 12): a result longer than MAX_TOOL_RESULT_BYTES
 * of UTF-8 is cut at a line break where one is near (never inside a character), and ends with
 * a marker telling the agent how much was left out and how to ask for less. Tools whose
 * results are JSON the agent parses (the inbox tools) fit themselves under the cap instead,
 * so this cut never meets them; it is the backstop for every other tool.
 */
import { formatBytes } from "../byte_units.ts";
import type { ToolResult } from "./tool_spec.ts";

/**
 * Longest tool result, in UTF-8 bytes: 512 KiB is about 130,000 tokens, the most a model's
 * context can take in one turn and still work; longer results cost the host memory and the
 * agent its context, and usually mean the query was too broad.
 */
export const MAX_TOOL_RESULT_BYTES = 512 * 1024;

/** How far back from the cut a line break may be and still be preferred, in bytes. */
const LINE_BREAK_WINDOW_BYTES = 16 * 1024;

const encoder = new TextEncoder();

/**
 * UTF-8 length of `text` (a lone surrogate counts as U+FFFD: 3 bytes). Encodes natively: a
 * loop over the characters in JavaScript is far slower for the 400 KB results it meets, most
 * of all in the shipped binary's interpreter-only (--lite-mode) V8.
 */
export function utf8Length(text: string): number {
  return encoder.encode(text).byteLength;
}

/**
 * The longest start of `text` whose UTF-8 form fits in `maxBytes`, cut between code points
 * (TextEncoder.encodeInto never writes part of one), so no lone surrogate is left.
 */
export function cutToUtf8Bytes(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return "";
  if (text.length * 3 <= maxBytes) return text; // every UTF-16 unit is at most 3 bytes
  const { read } = encoder.encodeInto(text, new Uint8Array(maxBytes));
  return text.slice(0, read);
}

/**
 * `result` unchanged when its text fits in `maxBytes`; otherwise cut to fit, marker included.
 * The marker names the limit, the full size and `narrowHint` (what the agent can ask for
 * instead). Blocks after the cut are dropped; `isError` is kept.
 */
export function capToolResult(
  result: ToolResult,
  opts: { maxBytes?: number; narrowHint?: string | undefined } = {},
): ToolResult {
  const maxBytes = opts.maxBytes ?? MAX_TOOL_RESULT_BYTES;
  const sizes = result.content.map((c) => utf8Length(c.text));
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total <= maxBytes) return result;
  const marker = `\n\n[Result cut: it was ${formatBytes(total)}, over the ` +
    `${formatBytes(maxBytes)} limit for one tool result. ` +
    `${opts.narrowHint ?? "Ask for less at a time"}.]`;
  let room = Math.max(0, maxBytes - utf8Length(marker));
  const content: ToolResult["content"] = [];
  for (const [i, block] of result.content.entries()) {
    const size = sizes[i] ?? 0;
    if (size <= room) {
      content.push(block);
      room -= size;
      continue;
    }
    content.push({ type: "text", text: cutAtLine(block.text, room) + marker });
    break;
  }
  return result.isError === true ? { content, isError: true } : { content };
}

/** Cut to `maxBytes`, at the last line break when one is within the last 16 KiB. */
function cutAtLine(text: string, maxBytes: number): string {
  const cut = cutToUtf8Bytes(text, maxBytes);
  const lastBreak = cut.lastIndexOf("\n");
  if (lastBreak < 0) return cut;
  return utf8Length(cut.slice(lastBreak)) <= LINE_BREAK_WINDOW_BYTES
    ? cut.slice(0, lastBreak)
    : cut;
}
