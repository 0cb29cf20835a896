/**
 * The shape of one inbound message as the agent sees it (inbox tools, push notifications)
 * and as the durable inbox stores it. Field names keep upstream's so agents prompted for the
 * Python runtime keep working.
 */

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
