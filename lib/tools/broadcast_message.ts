/**
 * broadcast_message: one message to every other workspace of the organisation (upstream
 * 026d1c5f), for org-wide signals. Only workspaces an administrator enabled may broadcast;
 * that refusal is explained here. The request is platform/chat.ts's job.
 */
import { BroadcastDisabledError } from "../platform/chat.ts";
import type { ToolDeps } from "./context.ts";
import { POSTS_TO_PLATFORM, readRequiredText } from "./tool_args.ts";
import { toolError, type ToolSpec, toolText } from "../mcp/tool_spec.ts";

/** The broadcast_message tool. */
export const broadcastMessage: ToolSpec<ToolDeps> = {
  name: "broadcast_message",
  title: "Broadcast to the organisation",
  description: "Send one message to every other workspace in the organisation, for " +
    "org-wide announcements (an outage, a freeze, a changed convention). Use delegate_task " +
    "to ask one peer for work. Only works when an administrator enabled broadcast for this " +
    'workspace. Returns "Broadcast sent to N workspace(s)".',
  inputSchema: {
    type: "object",
    properties: {
      message: {
        type: "string",
        minLength: 1,
        description: "The announcement, self-contained: each workspace sees only this text",
      },
    },
    required: ["message"],
    additionalProperties: false,
  },
  annotations: POSTS_TO_PLATFORM,
  async handler(args, ctx) {
    const message = readRequiredText(args.message, "message", "write the announcement to send");
    if (!message.ok) return message.result;
    try {
      const delivered = await ctx.platform.broadcast(message.text, { signal: ctx.signal });
      return toolText(`Broadcast sent to ${delivered} workspace(s)`);
    } catch (err) {
      if (!(err instanceof BroadcastDisabledError)) throw err;
      return toolError(
        `Broadcast not sent: broadcast ability not enabled for this workspace (${err.detail})`,
        err.next,
      );
    }
  },
};
