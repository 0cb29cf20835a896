/**
 * delegate_task_async: hand a task to a peer through the platform's durable /delegate route
 * and return at once with a delegation ID that check_task_status follows. Owns the
 * idempotency key (a restarted agent re-firing the same task gets the same delegation) and
 * the result shape; the request is the platform client's.
 */
import type { ToolDeps } from "./context.ts";
import { PEER_TASK_SCHEMA, readPeerId, readTask } from "./ids.ts";
import { peerLabel } from "./trust_boundary.ts";
import { truncate } from "../platform/answer.ts";
import { toolJson, type ToolSpec } from "../mcp/tool_spec.ts";

/** The tool spec; upstream's name, arguments and result shape. */
export const delegateTaskAsync: ToolSpec<ToolDeps> = {
  name: "delegate_task_async",
  title: "Delegate a task without waiting",
  description: "Hand a task to a peer workspace and return at once with a delegation_id; the " +
    "platform delivers it (also when the peer is busy or asleep) and records the result. Use " +
    "it for long work or when you have other things to do meanwhile; use delegate_task when " +
    "you need the answer before going on. Call list_peers first for peer IDs. Returns JSON " +
    '{delegation_id, workspace_id, status:"delegated", note}; follow it with ' +
    "check_task_status. Sending the same task to the same peer again returns the existing " +
    "delegation instead of starting a second one.",
  inputSchema: PEER_TASK_SCHEMA,
  // Idempotent: the same target and task map to the same delegation (see idempotencyKey).
  annotations: {
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: true,
  },
  async handler(args, ctx) {
    const target = readPeerId(args.workspace_id, "workspace_id", ctx.selfId);
    if (!target.ok) return target.result;
    const task = readTask(args.task);
    if (!task.ok) return task.result;
    const key = await idempotencyKey(target.id, task.task);
    const receipt = await ctx.platform.delegate(target.id, task.task, key, { signal: ctx.signal });
    const notes = [
      receipt.isIdempotentHit
        ? `This task was already delegated to that peer; this is the existing delegation ` +
          `(current status: ${peerLabel(receipt.status, "unknown")}). Do not delegate it again.`
        : "The platform is delivering the task to the peer.",
      "Call check_task_status with this delegation_id to see its progress and a preview of " +
      "the result.",
    ];
    // The receipt is the platform's text: its id and status one safe token each, its warning
    // one sanitised line of bounded length.
    if (receipt.warning !== undefined) {
      notes.push(`Platform warning: ${truncate(receipt.warning)}.`);
    }
    return toolJson({
      delegation_id: peerLabel(receipt.delegationId, ""),
      workspace_id: target.id,
      status: "delegated",
      note: notes.join(" "),
    });
  },
};

/**
 * The first 32 hex characters of SHA-256("<target>:<task>"), as upstream computes it, with
 * the canonical (lower-case) target so the id's spelling does not change the key.
 */
export async function idempotencyKey(targetId: string, task: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(`${targetId}:${task}`),
  );
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0"))
    .join("")
    .slice(0, 32);
}
