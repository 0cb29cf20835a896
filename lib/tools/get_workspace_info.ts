/**
 * get_workspace_info: the platform's row for this workspace (or another one) as JSON, and
 * upstream's `{error:"removed", …}` when the workspace was deleted (410, contract §13).
 */
import type { ToolDeps } from "./context.ts";
import { readWorkspaceId } from "./ids.ts";
import { truncate } from "../platform/answer.ts";
import { escapePeerJson } from "./trust_boundary.ts";
import { toolJson, type ToolSpec, toolText } from "../mcp/tool_spec.ts";

/** The tool spec; upstream's name and JSON shapes, plus an optional workspace_id. */
export const getWorkspaceInfo: ToolSpec<ToolDeps> = {
  name: "get_workspace_info",
  title: "Show workspace details",
  description: "Show this workspace's record on the platform as JSON: id, name, role, tier, " +
    "status (online, offline, degraded, paused, hibernated…), parent_id, agent_card, " +
    "active_tasks and more. Pass workspace_id to look at a peer instead, for instance to see " +
    "whether it is online before delegating. A deleted workspace returns " +
    '{"error":"removed", id, removed_at, hint}.',
  inputSchema: {
    type: "object",
    properties: {
      workspace_id: {
        type: "string",
        description: "Optional workspace ID (UUID); omit it for this workspace",
      },
    },
    additionalProperties: false,
  },
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: true },
  narrowHint: "The platform's record of this workspace is unusually large; ask the operator " +
    "to check it in the canvas",
  async handler(args, ctx) {
    let id = ctx.selfId;
    if (args.workspace_id !== undefined && args.workspace_id !== "") {
      const read = readWorkspaceId(args.workspace_id, "workspace_id");
      if (!read.ok) return read.result;
      id = read.id;
    }
    const lookup = await ctx.platform.getWorkspace(id, { signal: ctx.signal });
    if (lookup.kind === "removed") {
      // The platform's own words: one sanitised line, cut like any platform detail.
      const removed = toolJson({
        error: "removed",
        id: lookup.id,
        removed_at: lookup.removedAt === null ? null : truncate(lookup.removedAt),
        hint: truncate(lookup.hint),
      });
      return { ...removed, isError: true };
    }
    // Another workspace's name and agent card are that workspace's own words.
    if (id === ctx.selfId) return toolJson(lookup.workspace.row);
    return toolText(escapePeerJson(lookup.workspace.row));
  },
};
