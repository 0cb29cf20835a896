/**
 * list_peers: the workspaces this one may talk to (siblings, children, parent), one line
 * each in upstream's format, so the agent can pick an ID for delegate_task. Names and roles
 * are peer-chosen text and go through the trust boundary's label rule.
 */
import type { Peer } from "../platform/rows.ts";
import type { ToolDeps } from "./context.ts";
import { peerLabel } from "./trust_boundary.ts";
import { type ToolSpec, toolText } from "../mcp/tool_spec.ts";
import { MAX_TOOL_RESULT_BYTES, utf8Length } from "../mcp/result_cap.ts";

/** Room kept under the result cap for the closing line that says how many peers were left out. */
const FOOTER_BYTES = 1024;
const NARROW = "call list_peers with a query (part of a name or role) to see the others";

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
  narrowHint: "Call list_peers with a query (part of a name or role)",
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
    return toolText(listWithinCap(peers));
  },
};

/**
 * One line per peer, as many as fit under the tool result cap; when some do not, a last line
 * says how many were left out and how to find them (200,000 peers would otherwise be 17 MB).
 */
function listWithinCap(peers: readonly Peer[]): string {
  const lines: string[] = [];
  let bytes = 0;
  for (const peer of peers) {
    const line = peerLine(peer);
    bytes += utf8Length(line) + 1;
    if (bytes > MAX_TOOL_RESULT_BYTES - FOOTER_BYTES) break;
    lines.push(line);
  }
  const left = peers.length - lines.length;
  if (left > 0) {
    lines.push(
      `… and ${left} more peers not shown (${lines.length} of ${peers.length} listed; one ` +
        `result holds at most ${MAX_TOOL_RESULT_BYTES / 1024} KiB): ${NARROW}.`,
    );
  }
  return lines.join("\n");
}

function peerLine(peer: Peer): string {
  const role = peer.role === null || peer.role.trim() === "" ? "none" : peerLabel(peer.role);
  const status = peerLabel(peer.status, "unknown");
  return `- ${peerLabel(peer.name)} (ID: ${peer.id}, status: ${status}, role: ${role})`;
}
