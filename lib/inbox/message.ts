/**
 * The shape of one inbound message as the agent sees it (inbox tools, push notifications)
 * and as the durable inbox stores it. Field names keep upstream's so agents prompted for the
 * Python runtime keep working. The optional fields come from newer platforms (upstream R3,
 * upstream-latest §2 A, H) and are omitted when absent, never null. Also the one size cap on a
 * message's text.
 */
import { isRecord } from "../json_object.ts";
import { cutUtf8, utf8Length } from "../text.ts";

/** Who a message is from, which decides the reply tool. */
export type MessageKind = "canvas_user" | "peer_agent" | "delegation_result";

/** What an attachment is, as the platform classifies it (upstream-latest §2 A). */
export type AttachmentKind = "file" | "image" | "audio" | "video";

/** The attachment kinds, for shape checks. */
export const ATTACHMENT_KINDS: readonly AttachmentKind[] = ["file", "image", "audio", "video"];

/** One file attached to a message. */
export interface MessageAttachment {
  kind: AttachmentKind;
  /**
   * Where the bytes are: a `platform-pending:<ws>/<file_id>` URI (a canvas upload not fetched
   * yet), a `file://` path on this machine (fetched into the uploads folder), or whatever the
   * sender gave (`workspace:`, `https:`).
   */
  uri: string;
  /** File name as the sender gave it (sanitised, one line). */
  name?: string;
  mime_type?: string;
  /** Size in bytes, when known. */
  size?: number;
  /** Why a canvas upload could not be fetched; the uri then stays platform-pending. */
  error?: string;
}

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
  /** The sender's name as the platform joined it (`include=peer_info`); raw, sanitise to show. */
  peer_name?: string;
  /** The sender's role as the platform joined it; raw, sanitise to show. */
  peer_role?: string;
  /** `<platform>/registry/discover/<peer_id>` as the platform gave it (checked). */
  agent_card_url?: string;
  /** Files attached to the message. */
  attachments?: MessageAttachment[];
  /** The canvas user's id (A2A `params.metadata.user_id`). */
  user_id?: string;
  /** The canvas user's name (A2A `params.metadata.username`); raw, sanitise to show. */
  user_name?: string;
  /**
   * The workspace the message arrived on, set only when one server serves several
   * (MOLECULE_WORKSPACES) on the copies it shows or pushes; never stored in a journal.
   */
  arrival_workspace_id?: string;
}

/** The optional fields of an InboxMessage. */
export type MessageExtras = Pick<
  InboxMessage,
  "peer_name" | "peer_role" | "agent_card_url" | "attachments" | "user_id" | "user_name"
>;

/** Most attachments kept per message: the platform allows 10 (upstream-latest §2 M). */
export const MAX_ATTACHMENTS = 20;
/** Longest URI kept, in UTF-16 units (URIs are ASCII). */
export const MAX_URI_CHARS = 2048;
/** Longest display string kept (names, roles, user names), in code points. */
export const MAX_LABEL_CHARS = 256;

const MIME = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,127}$/;
/** A URI with a scheme and no whitespace, quotes, angle brackets or backslashes. */
const SAFE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s"'<>`\\]+$/;

/**
 * One attachment checked for storage and display, or null: `kind` one of ATTACHMENT_KINDS,
 * `uri` a safe URI of at most MAX_URI_CHARS, `mime_type` a type/subtype token, `size` a
 * whole number ≥ 0, `name` and `error` strings (callers sanitise names before storing).
 */
export function checkAttachment(raw: unknown): MessageAttachment | null {
  if (!isRecord(raw)) return null;
  const { kind, uri, name, mime_type, size, error } = raw;
  const found = ATTACHMENT_KINDS.find((k) => k === kind);
  if (found === undefined || !isSafeUri(uri)) return null;
  const out: MessageAttachment = { kind: found, uri };
  if (typeof name === "string" && name !== "") out.name = name;
  if (typeof mime_type === "string" && MIME.test(mime_type)) out.mime_type = mime_type;
  if (typeof size === "number" && Number.isSafeInteger(size) && size >= 0) out.size = size;
  if (typeof error === "string" && error !== "") out.error = error;
  return out;
}

/** True when `uri` is a URI safe to show in a tag attribute or pass to a tool. */
export function isSafeUri(uri: unknown): uri is string {
  return typeof uri === "string" && uri.length <= MAX_URI_CHARS && SAFE_URI.test(uri);
}

/** True when `mime` looks like a MIME type (type/subtype, no parameters). */
export function isMimeType(mime: unknown): mime is string {
  return typeof mime === "string" && MIME.test(mime);
}

/**
 * Reads the optional fields back from a stored message (the journal), keeping only values of
 * the right shape; what fails a check is dropped, never the message.
 */
export function parseMessageExtras(raw: Record<string, unknown>): MessageExtras {
  const out: MessageExtras = {};
  for (const key of ["peer_name", "peer_role", "user_id", "user_name"] as const) {
    const value = raw[key];
    if (typeof value === "string" && value !== "") out[key] = value;
  }
  if (isSafeUri(raw.agent_card_url)) out.agent_card_url = raw.agent_card_url;
  if (Array.isArray(raw.attachments)) {
    const attachments = raw.attachments.slice(0, MAX_ATTACHMENTS).map(checkAttachment)
      .filter((a): a is MessageAttachment => a !== null);
    if (attachments.length > 0) out.attachments = attachments;
  }
  return out;
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
