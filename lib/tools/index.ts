/**
 * The MCP tool list, in upstream's order so agents see the familiar surface. Each tool lives
 * in its own file; this module only collects them.
 */
import { PlatformError } from "../errors.ts";
import { broadcastMessage } from "./broadcast_message.ts";
import { chatHistory } from "./chat_history.ts";
import { checkTaskStatus } from "./check_task_status.ts";
import { createApproval } from "./create_approval.ts";
import { createRequest } from "./create_request.ts";
import { getRuntimeIdentity } from "./get_runtime_identity.ts";
import { updateAgentCard } from "./update_agent_card.ts";
import { delegateTask } from "./delegate_task.ts";
import { delegateTaskAsync } from "./delegate_task_async.ts";
import { getWorkspaceInfo } from "./get_workspace_info.ts";
import { listPeers } from "./list_peers.ts";
import { commitMemory } from "./commit_memory.ts";
import { inboxPeek } from "./inbox_peek.ts";
import { withInboxNotice } from "./inbox_notice.ts";
import { inboxPop } from "./inbox_pop.ts";
import { recallMemory } from "./recall_memory.ts";
import { sendMessageToUser } from "./send_message_to_user.ts";
import type { ToolDeps } from "./context.ts";
import { toolError, type ToolSpec } from "../mcp/tool_spec.ts";
import { waitForMessage } from "./wait_for_message.ts";

export type { ToolDeps } from "./context.ts";
export { InboxNotice } from "./inbox_notice.ts";

/** Every platform tool the server advertises. */
export function platformTools(): ToolSpec<ToolDeps>[] {
  const specs: ToolSpec<ToolDeps>[] = [
    // TOOLS-LIST: each tool file adds its spec here, in upstream's order (the eleven of the
    // seed first, then what upstream added later, then the requests inbox tools).
    delegateTask,
    delegateTaskAsync,
    checkTaskStatus,
    sendMessageToUser,
    listPeers,
    getWorkspaceInfo,
    commitMemory,
    recallMemory,
    waitForMessage,
    inboxPeek,
    inboxPop,
    chatHistory,
    broadcastMessage,
    getRuntimeIdentity,
    updateAgentCard,
    createRequest,
    createApproval,
  ];
  return specs.map((spec) => withInboxNotice(withPlatformErrors(spec)));
}

/**
 * The one error wrapper every tool gets: a thrown PlatformError becomes an isError result with
 * its message and next step; a RangeError (the platform client's guards on ids and texts,
 * thrown before any request) becomes an isError result with its message. Anything else,
 * including a TypeError (a bug, since the dispatcher already checked argument types) and the
 * call's own abort, is rethrown: the server turns it into a short
 * "internal error" result and logs it in full on stderr. PlatformError messages name the
 * endpoint as "METHOD /path", never a URL or a token, so they are safe to show the agent.
 */
export function withPlatformErrors(spec: ToolSpec<ToolDeps>): ToolSpec<ToolDeps> {
  return {
    ...spec,
    async handler(args, ctx) {
      try {
        return await spec.handler(args, ctx);
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        if (err instanceof PlatformError) return toolError(err.message, err.next);
        if (err instanceof RangeError) {
          ctx.log.debug("tool refused a value", { tool: spec.name, error: err.message });
          return toolError(err.message);
        }
        throw err;
      }
    },
  };
}
export { type ServedWorkspace, WorkspaceRouter } from "./workspace_router.ts";
