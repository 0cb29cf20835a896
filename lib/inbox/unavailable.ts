/**
 * Why a workspace has no inbox right now (disabled, still opening, held by another process, or
 * failing to open), worded for the agent and the operator. The inbox tools answer with it; the
 * workspace link decides which applies.
 */
import type { DurableInbox } from "./inbox.ts";

/** Why a workspace has no inbox right now, worded for the agent and the operator. */
export interface InboxUnavailable {
  message: string;
  next: string;
  /**
   * Set while the inbox is being opened (its journal replayed in the background after the MCP
   * session started): settles once that attempt ends. Never rejects.
   */
  opening?: Promise<InboxOpening>;
}

/** How an attempt to open the inbox ended: the inbox, or why there is none. */
export interface InboxOpening {
  inbox: DurableInbox | null;
  unavailable: InboxUnavailable | null;
}

/** How long an inbox tool waits for an inbox that is still opening before it answers. */
export const INBOX_OPEN_WAIT_MS = 30_000;

/** Why the inbox is not there yet while its journal is replayed. */
export function inboxLoading(opening: Promise<InboxOpening>): InboxUnavailable {
  return {
    message: "The inbox is still loading its journal (the messages saved before the last " +
      `restart) after ${INBOX_OPEN_WAIT_MS / 1000} s`,
    next: "call the tool again in a little while; a very large journal can take a minute to " +
      "load, and the server's stderr says when it is open",
    opening,
  };
}

/** Why the inbox is off when MOLECULE_MCP_DISABLE_INBOX is set. */
export const INBOX_DISABLED: InboxUnavailable = {
  message: "The inbox is disabled: MOLECULE_MCP_DISABLE_INBOX is set, so this server does not " +
    "receive messages from the user or peers",
  next: "to receive messages here, remove MOLECULE_MCP_DISABLE_INBOX from this MCP server's " +
    "environment and restart it",
};

/**
 * How long an inbox tool waits, on a fresh start, for the first poll to finish before it
 * answers from what the inbox holds (issue 11 item 9): a poll usually takes well under a
 * second; a slow platform must not stall the agent's turn for long.
 */
export const FIRST_POLL_WAIT_MS = 3_000;
