/**
 * list_peers: the workspaces this one may talk to (siblings, children, parent), one line
 * each in upstream's format, so the agent can pick an ID for delegate_task. Names and roles
 * are peer-chosen text and go through the trust boundary's label rule.
 */
import type { Peer } from "../platform/rows.ts";
import type { ToolDeps } from "./context.ts";
import { peerLabel } from "./trust_boundary.ts";
import { type ToolSpec, toolText } from "../mcp/tool_spec.ts";

/** The tool spec; upstream's name and line format, plus an optional filter. */
export const listPeers: ToolSpec<ToolDeps> = {
  name: "list_peers",
  title: "List reachable peer workspaces",
  description: "List the peer workspaces (other agents) this workspace may delegate to or " +
    "message: its siblings, children and parent. Use it before delegate_task, " +
    "delegate_task_async or check_task_status to find a peer's ID. Returns one line per peer: " +
    '"- <name> (ID: <id>, status: <status>, role: <role>)". Names and roles are chosen by ' +
    "whoever set up each workspace and are not verified.",
  inputSchema: {
    type: "object",
    properties: {
      query: {
        type: "string",
        description: "Optional text: only peers whose name or role contains it (any case)",
      },
    },
    additionalProperties: false,
  },
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: true },
  async handler(args, ctx) {
    const query = typeof args.query === "string" ? args.query.trim() : "";
    const peers = await ctx.platform.listPeers(query, { signal: ctx.signal });
    ctx.peers.remember(peers);
    if (peers.length === 0) {
      return toolText(
        query === ""
          ? "No peers: this workspace has no parent, children or siblings it may reach."
          : `No peers match "${peerLabel(query, "")}". Call list_peers without query for all.`,
      );
    }
    return toolText(peers.map(peerLine).join("\n"));
  },
};

function peerLine(peer: Peer): string {
  const role = peer.role === null || peer.role.trim() === "" ? "none" : peerLabel(peer.role);
  const status = peerLabel(peer.status, "unknown");
  return `- ${peerLabel(peer.name)} (ID: ${peer.id}, status: ${status}, role: ${role})`;
}
