/**
 * Inbox tool results within the tool result cap (issue 11 item 12): the agent parses them as
 * JSON, so instead of being cut they hold fewer messages, and a note says how many were left
 * out. A message is never cut unless it alone would not fit (the inbox keeps each one under
 * its own message cap, but JSON escaping can double a text); then its text is shortened and
 * the message says so (`text_cut: true`), still as whole, valid JSON.
 */
import { cutToUtf8Bytes, MAX_TOOL_RESULT_BYTES, utf8Length } from "../mcp/result_cap.ts";
import type { ToolResult } from "../mcp/tool_spec.ts";

/** Room kept under the cap for the note and the array's own brackets. */
const NOTE_BYTES = 2048;

/** A message as an inbox tool shows it: at least its text; other fields pass through. */
export interface ShownMessage {
  text: string;
}

/** How the message list is pretty-printed (two-space indent, as toolJson does). */
function render(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? "null";
}

/**
 * `messages` as a JSON array result holding as many as fit under the result cap (always at
 * least the first, shortened if it must be). When some were left out, a second text block
 * says how many, and `waiting` (all queued messages) for context.
 */
export function messagesResult<M extends ShownMessage>(
  messages: readonly M[],
  opts: { waiting: number; maxBytes?: number },
): ToolResult {
  const budget = (opts.maxBytes ?? MAX_TOOL_RESULT_BYTES) - NOTE_BYTES;
  const shown: (M | Cut<M>)[] = [];
  let bytes = 2; // "[" and "]"
  for (const msg of messages) {
    const fitted = shown.length === 0 ? fitMessage(msg, budget - bytes) : msg;
    // In the array every line gains two spaces of indent, and entries are joined by ",\n".
    const rendered = render(fitted);
    const size = utf8Length(rendered) + 2 * (rendered.split("\n").length) + 2;
    if (shown.length > 0 && bytes + size > budget) break;
    shown.push(fitted);
    bytes += size;
  }
  const content: ToolResult["content"] = [{ type: "text", text: render(shown) }];
  const left = messages.length - shown.length;
  if (left > 0) {
    content.push({
      type: "text",
      text: `${shown.length} of the ${messages.length} messages asked for are shown: the ` +
        `others would not fit in one ${
          Math.floor((opts.maxBytes ?? MAX_TOOL_RESULT_BYTES) / 1024)
        } KiB result. ${opts.waiting} messages wait in the inbox in all; handle these and ` +
        "inbox_pop each one, then call inbox_peek again for the rest.",
    });
  }
  return { content };
}

/** One message as a JSON object result, its text shortened only if it alone passes the cap. */
export function messageResult<M extends ShownMessage>(
  message: M,
  maxBytes = MAX_TOOL_RESULT_BYTES,
): ToolResult {
  return { content: [{ type: "text", text: render(fitMessage(message, maxBytes - NOTE_BYTES)) }] };
}

/**
 * `msg` when its JSON fits in `maxBytes`; else a copy whose text is cut (by code points) until
 * it does, with `text_cut: true`. Each round removes at least the overflow, so it ends fast.
 */
function fitMessage<M extends ShownMessage>(msg: M, maxBytes: number): M | Cut<M> {
  let size = utf8Length(render(msg));
  if (size <= maxBytes) return msg;
  let text = msg.text;
  let fitted: M | Cut<M> = msg;
  while (size > maxBytes && text !== "") {
    const keep = Math.max(0, utf8Length(text) - (size - maxBytes) - 64);
    text = cutToUtf8Bytes(text, keep);
    fitted = { ...msg, text: `${text}…`, text_cut: true };
    size = utf8Length(render(fitted));
  }
  return fitted;
}

/** A message whose text was shortened to fit. */
type Cut<M> = M & { text_cut: true };
