/**
 * create_request: raises a task or an approval for the canvas user through the platform's
 * requests inbox (upstream R8, core#2606). The agent is not blocked: the user's decision
 * arrives later as an inbound message. create_approval shares raiseRequest. The request is
 * platform/requests.ts's job.
 */
import type { UserRequest } from "../platform/requests.ts";
import type { ToolDeps } from "./context.ts";
import { POSTS_TO_PLATFORM, readOptionalText } from "./tool_args.ts";
import { peerLabel } from "./trust_boundary.ts";
import { toolError, type ToolResult, type ToolSpec, toolText } from "../mcp/tool_spec.ts";
import type { ToolContext } from "../mcp/tool_spec.ts";

/** Longest title, in code points: a title is one line on the canvas. */
export const MAX_TITLE_CHARS = 500;
/** Longest detail, in code points. */
export const MAX_DETAIL_CHARS = 20_000;

/** The create_request tool. */
export const createRequest: ToolSpec<ToolDeps> = {
  name: "create_request",
  title: "Ask the user for a task or an approval",
  description: 'Raise a request to the canvas user: kind "task" (something only they can ' +
    'do) or "approval" (permission before you act). You are not blocked: carry on with other ' +
    "work; the user's decision arrives later as an inbound message quoting the request id. " +
    "Returns the request id.",
  inputSchema: {
    type: "object",
    properties: {
      kind: {
        type: "string",
        enum: ["task", "approval"],
        description: '"task" asks the user to do something, "approval" asks for permission',
      },
      title: {
        type: "string",
        minLength: 1,
        maxLength: MAX_TITLE_CHARS,
        description: 'One line the user sees first, e.g. "Rotate the staging API key"',
      },
      detail: {
        type: "string",
        maxLength: MAX_DETAIL_CHARS,
        description: "Context the user needs to decide: why, what happens next",
      },
      priority: {
        type: "integer",
        description: "Optional priority; higher is more urgent",
      },
    },
    required: ["kind", "title"],
    additionalProperties: false,
  },
  annotations: POSTS_TO_PLATFORM,
  handler(args, ctx) {
    const kind = args.kind === "approval" ? "approval" : "task";
    const title = typeof args.title === "string" ? args.title : "";
    const request: UserRequest = { kind, title };
    const detail = readOptionalText(args.detail);
    if (detail !== undefined) request.detail = detail;
    if (typeof args.priority === "number") request.priority = args.priority;
    return raiseRequest(request, ctx);
  },
};

/**
 * Sends `request` and words the receipt the way upstream does: raised, its id, not blocked,
 * the answer comes back as a message. An empty title is refused before any request.
 */
export async function raiseRequest(
  request: UserRequest,
  ctx: ToolContext<ToolDeps>,
): Promise<ToolResult> {
  if (request.title.trim() === "") {
    return toolError(
      request.kind === "approval" ? "action is empty" : "title is empty",
      "say in one line what you ask the user for",
    );
  }
  const receipt = await ctx.platform.createUserRequest(request, { signal: ctx.signal });
  // The id and status are the platform's text: one safe token each (the sanitiser, a cap).
  const id = peerLabel(receipt.requestId, "unknown");
  const status = peerLabel(receipt.status, "pending");
  return toolText(
    `Raised ${request.kind} request “${request.title.trim()}” to the user ` +
      `(id ${id}, status ${status}). You are NOT blocked: carry on ` +
      "with other work. The user's decision arrives later as an inbound message that quotes " +
      "this id; act on it then.",
  );
}
