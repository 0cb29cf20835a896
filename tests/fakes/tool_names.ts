/**
 * The platform tools in upstream's order (the seed's eleven, then what upstream added later):
 * what agents prompted for the Python runtime expect to find. A tool added to lib/tools must be added here, and exercised by the tests
 * that use this list (tools/list order, the network-scope run over every tool).
 */
export const UPSTREAM_TOOL_NAMES: readonly string[] = [
  "delegate_task",
  "delegate_task_async",
  "check_task_status",
  "send_message_to_user",
  "list_peers",
  "get_workspace_info",
  "commit_memory",
  "recall_memory",
  "wait_for_message",
  "inbox_peek",
  "inbox_pop",
  "chat_history",
  "broadcast_message",
  "get_runtime_identity",
  "update_agent_card",
  "create_request",
  "create_approval",
];
