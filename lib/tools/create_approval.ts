/**
 * create_approval: asks the canvas user to approve an action before the agent takes it
 * (upstream R8): a create_request of kind "approval" whose title is the action and whose
 * detail is the reason.
 */
import type { ToolDeps } from "./context.ts";
import { POSTS_TO_PLATFORM, readOptionalText } from "./tool_args.ts";
import { MAX_DETAIL_CHARS, MAX_TITLE_CHARS, raiseRequest } from "./create_request.ts";
import type { ToolSpec } from "../mcp/tool_spec.ts";

/** The create_approval tool. */
export const createApproval: ToolSpec<ToolDeps> = {
  name: "create_approval",
  title: "Ask the user to approve an action",
  description: "Ask the canvas user to approve an action before you take it (a deploy, a " +
    "deletion, spending money). You are not blocked: do not take the action yet, carry on " +
    "with other work; the decision arrives later as an inbound message quoting the request " +
    "id. Returns the request id.",
  inputSchema: {
    type: "object",
    properties: {
      action: {
        type: "string",
        minLength: 1,
        maxLength: MAX_TITLE_CHARS,
        description: 'The action to approve, in one line, e.g. "Delete the staging database"',
      },
      reason: {
        type: "string",
        maxLength: MAX_DETAIL_CHARS,
        description: "Why it is needed and what happens if it is not done",
      },
    },
    required: ["action"],
    additionalProperties: false,
  },
  annotations: POSTS_TO_PLATFORM,
  handler(args, ctx) {
    const action = typeof args.action === "string" ? args.action : "";
    return raiseRequest(
      { kind: "approval", title: action, detail: readOptionalText(args.reason) },
      ctx,
    );
  },
};
