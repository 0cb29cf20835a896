/**
 * Why a workspace has no inbox right now (disabled, or held by another process), worded for the
 * agent and the operator. The inbox tools answer with it; the workspace link decides which applies.
 */

/** Why a workspace has no inbox right now, worded for the agent and the operator. */
export interface InboxUnavailable {
  message: string;
  next: string;
}

/** Why the inbox is off when MOLECULE_MCP_DISABLE_INBOX is set. */
export const INBOX_DISABLED: InboxUnavailable = {
  message: "The inbox is disabled: MOLECULE_MCP_DISABLE_INBOX is set, so this server does not " +
    "receive messages from the user or peers",
  next: "to receive messages here, remove MOLECULE_MCP_DISABLE_INBOX from this MCP server's " +
    "environment and restart it",
};
