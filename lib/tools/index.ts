/**
 * The MCP tool list, in upstream's order so agents see the familiar surface. Each tool lives
 * in its own file; this module only collects them.
 */
import type { ToolDeps } from "./context.ts";
import type { ToolSpec } from "./tool_spec.ts";

export type { ToolDeps } from "./context.ts";

/** Every platform tool the server advertises. */
export function platformTools(): ToolSpec<ToolDeps>[] {
  return [
    // TOOLS-LIST: each tool file adds its spec here, in upstream's order:
    // delegate_task, delegate_task_async, check_task_status, send_message_to_user, list_peers,
    // get_workspace_info, commit_memory, recall_memory, wait_for_message, inbox_peek, inbox_pop
  ];
}
