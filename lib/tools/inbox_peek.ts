/**
 * inbox_peek: lists queued inbound messages without removing them. Also home of the one
 * "inbox disabled" result the three inbox tools share. The queue itself is lib/inbox/inbox.ts.
 */
import type { ToolDeps } from "./context.ts";
import { sanitiseIdentity } from "../workspace/channel_push.ts";
import type { InboxMessage } from "../inbox/message.ts";
import { toolError, type ToolResult, type ToolSpec } from "../mcp/tool_spec.ts";
import { messagesResult } from "./inbox_result.ts";

/** Messages listed when `limit` is omitted (upstream's default). */
export const DEFAULT_PEEK_LIMIT = 10;
/** Most messages one call lists: keeps a result within a model's comfortable context. */
export const MAX_PEEK_LIMIT = 100;

/** What the inbox tools answer while there is no inbox (disabled, or held by another process). */
export function inboxDisabledError(deps: Pick<ToolDeps, "inboxUnavailable">): ToolResult {
  const why = deps.inboxUnavailable ?? {
    message: "The inbox is not available in this server",
    next: "check the molecule-mcp log on stderr",
  };
  return toolError(why.message, why.next);
}

/**
 * A message as the inbox tools show it: with the sender's registry name and role when the
 * peer directory knows them (sanitised exactly as in a push, since a peer picks its own name).
 */
export function withPeerIdentity(
  msg: InboxMessage,
  deps: Pick<ToolDeps, "peers">,
): InboxMessage & { peer_name?: string; peer_role?: string } {
  const { peerName, peerRole } = deps.peers.senderOf(msg);
  const name = sanitiseIdentity(peerName);
  const role = sanitiseIdentity(peerRole);
  return {
    ...msg,
    ...(name === undefined ? {} : { peer_name: name }),
    ...(role === undefined ? {} : { peer_role: role }),
  };
}

/** The inbox_peek tool. */
export const inboxPeek: ToolSpec<ToolDeps> = {
  name: "inbox_peek",
  title: "Peek at the inbox",
  description: "List queued inbound messages (from the canvas user, peer agents, or " +
    "delegation results), oldest first, WITHOUT removing them. Use it to look at the backlog; " +
    "use wait_for_message to block until something arrives. Returns a JSON array (possibly " +
    "[]) of {activity_id, text, peer_id, kind, method, created_at}. After handling a message " +
    "and replying successfully, call inbox_pop with its activity_id.",
  inputSchema: {
    type: "object",
    properties: {
      limit: {
        type: "integer",
        default: DEFAULT_PEEK_LIMIT,
        description: `How many messages to list, default ${DEFAULT_PEEK_LIMIT}; values ` +
          `below 1 count as 1 and values above ${MAX_PEEK_LIMIT} as ${MAX_PEEK_LIMIT}.`,
      },
    },
    additionalProperties: false,
  },
  annotations: {
    readOnlyHint: true,
    idempotentHint: true,
    openWorldHint: false,
  },
  handler(args, ctx) {
    const inbox = ctx.inbox;
    if (inbox === null) return Promise.resolve(inboxDisabledError(ctx));
    const asked = typeof args.limit === "number" ? args.limit : DEFAULT_PEEK_LIMIT;
    const limit = Math.min(MAX_PEEK_LIMIT, Math.max(1, Math.trunc(asked)));
    const messages = inbox.peek(limit).map((m) => withPeerIdentity(m, ctx));
    return Promise.resolve(messagesResult(messages, { waiting: inbox.size }));
  },
};
