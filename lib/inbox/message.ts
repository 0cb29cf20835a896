/**
 * The shape of one inbound message as the agent sees it (inbox tools, push notifications)
 * and as the durable inbox stores it. Field names keep upstream's so agents prompted for the
 * Python runtime keep working. Also the one size cap on a message's text.
 */
import { cutUtf8, utf8Length } from "../text.ts";

/** Who a message is from, which decides the reply tool. */
export type MessageKind = "canvas_user" | "peer_agent" | "delegation_result";

/** One queued inbound message. */
export interface InboxMessage {
  /** The activity row id (a lowercase UUID): the key for dedupe and inbox_pop. */
  activity_id: string;
  /** Extracted text (never empty: falls back to the row summary, then a placeholder). */
  text: string;
  /** Sender workspace UUID, or "" for the canvas user. */
  peer_id: string;
  kind: MessageKind;
  /** JSON-RPC method recorded on the row ("message/send", "delegate_result", …). */
  method: string;
  /** Row created_at as the platform sent it (RFC 3339). */
  created_at: string;
}

/**
 * Most UTF-8 bytes of text one message keeps: 256 KiB (issue 10 item 5). A longer text is cut
 * (capMessageText) so that one message can neither fill the inbox's byte budget nor make a
 * journal record that is expensive to write or replay.
 */
export const MESSAGE_TEXT_CAP_BYTES = 256 * 1024;

/**
 * `msg` itself when its text fits MESSAGE_TEXT_CAP_BYTES; else a copy whose text is cut on a
 * code-point boundary and ends with a marker naming both lengths, so the agent knows the
 * message is incomplete and how much is missing. Applied once, when the inbox accepts it.
 */
export function capMessageText(msg: InboxMessage): InboxMessage {
  if (msg.text.length * 3 <= MESSAGE_TEXT_CAP_BYTES) return msg; // cannot be over: no encoding
  const fullBytes = utf8Length(msg.text);
  if (fullBytes <= MESSAGE_TEXT_CAP_BYTES) return msg;
  const kept = cutUtf8(msg.text, MESSAGE_TEXT_CAP_BYTES);
  return { ...msg, text: kept + truncationMarker(utf8Length(kept), fullBytes) };
}

/** The line appended to a cut message (see capMessageText). */
export function truncationMarker(keptBytes: number, fullBytes: number): string {
  const n = (x: number) => x.toLocaleString("en-US");
  return `\n\n[molecule-mcp cut this message: it is ${n(fullBytes)} bytes of UTF-8 text and ` +
    `only the first ${n(keptBytes)} are kept (limit ${n(MESSAGE_TEXT_CAP_BYTES)}); the rest ` +
    "was not stored. Ask the sender for the missing part in smaller messages or as a file.]";
}

/**
 * A pending message as the inbox holds it in memory: its text as UTF-8 bytes, which live
 * outside the JavaScript heap. Holding hundreds of MB of text as strings makes every full
 * garbage collection walk them while the heap grows (a 1 GB replay measured several times
 * slower); bytes cost the collector nothing. `bytes` is its size against the byte budget.
 */
export interface StoredMessage {
  meta: Omit<InboxMessage, "text">;
  text: Uint8Array;
  /** UTF-8 bytes of the text plus those of the other fields as JSON. */
  bytes: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The in-memory form of `msg` (see StoredMessage). */
export function storeMessage(msg: InboxMessage): StoredMessage {
  const { text, ...meta } = msg;
  const bytes = encoder.encode(text);
  return { meta, text: bytes, bytes: bytes.length + JSON.stringify(meta).length };
}

/** The message back from its in-memory form. */
export function loadMessage(stored: StoredMessage): InboxMessage {
  return { ...stored.meta, text: decoder.decode(stored.text) };
}

/** Size of `msg` against the inbox's byte budget (as StoredMessage.bytes). */
export function messageBytes(msg: InboxMessage): number {
  return storeMessage(msg).bytes;
}
