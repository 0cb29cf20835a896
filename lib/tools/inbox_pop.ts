/**
 * inbox_pop: acknowledges a handled message so it leaves the durable inbox (and is not shown
 * again after a restart). The queue itself is lib/inbox/inbox.ts.
 */
import type { ToolDeps } from "./context.ts";
import { openedInbox } from "./inbox_peek.ts";
import { toolError, toolJson, type ToolSpec } from "../mcp/tool_spec.ts";

/** The inbox_pop tool. */
export const inboxPop: ToolSpec<ToolDeps> = {
  name: "inbox_pop",
  title: "Remove a handled message",
  description: "Remove a message from the inbox once you have handled it. Call it only " +
    "after your reply (send_message_to_user or delegate_task) succeeded, so a failed reply " +
    "leaves the message queued for another try. Safe to repeat. Returns JSON " +
    '{"removed":true|false,"activity_id":…}; false means it was not queued (already removed ' +
    "or unknown).",
  inputSchema: {
    type: "object",
    properties: {
      activity_id: {
        type: "string",
        minLength: 1,
        description: "The activity_id of the message, as wait_for_message or inbox_peek " +
          "showed it.",
      },
    },
    required: ["activity_id"],
    additionalProperties: false,
  },
  annotations: {
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: true,
    openWorldHint: false,
  },
  async handler(args, ctx) {
    const opened = await openedInbox(ctx);
    if ("answer" in opened) return opened.answer;
    // Ids are stored lower-case; an agent may echo one back with different case or spacing.
    const id = (typeof args.activity_id === "string" ? args.activity_id : "").trim()
      .toLowerCase();
    if (id === "") {
      return toolError(
        "activity_id is empty",
        "pass the activity_id of a message that wait_for_message or inbox_peek returned",
      );
    }
    let removed: boolean;
    try {
      removed = await opened.inbox.pop(id);
    } catch (err) {
      // A journal write failure (disk full, permissions) or an inbox closing at shutdown: the
      // message stays queued, which is safe; the operator needs the detail, the agent a retry.
      ctx.log.warn("inbox_pop could not record the removal", { activityId: id, error: err });
      return toolError(
        "Could not remove the message: the inbox could not record the removal on disk, so it " +
          "stays queued",
        "retry inbox_pop later; the operator should check the state directory's free space " +
          "and permissions (see the server's stderr)",
      );
    }
    return toolJson({ removed, activity_id: id });
  },
};
