/**
 * Reading workspace ids out of tool arguments: the checks every tool that names a peer makes
 * before any request (UUID shape, not ourselves), with failure results that tell the agent
 * where to find a valid id. The UUID rule itself is lib/uuid.ts.
 */
import { cutCodePoints } from "../text.ts";
import { parseUuid } from "../uuid.ts";
import type { ObjectSchema } from "../mcp/schema.ts";
import { toolError, type ToolResult } from "../mcp/tool_spec.ts";

/** A checked id, or the isError result to return instead. */
export type IdArg = { ok: true; id: string } | { ok: false; result: ToolResult };

const NEXT_FIND_ID = "call list_peers and use the ID it shows";

/**
 * Reads `raw` (the tool argument `name`) as a workspace UUID: trimmed and lower-cased
 * (the platform compares ids as plain strings). Refuses anything else without a request.
 */
export function readWorkspaceId(raw: unknown, name: string): IdArg {
  const id = parseUuid(raw);
  if (id !== null) return { ok: true, id };
  const seen = typeof raw === "string" ? `"${cutCodePoints(raw, 64)}"` : typeof raw;
  return {
    ok: false,
    result: toolError(`${name} must be a workspace ID (a UUID): got ${seen}`, NEXT_FIND_ID),
  };
}

/**
 * Like readWorkspaceId, and also refuses this workspace's own id: delegating to yourself
 * deadlocks on the workspace's run lock upstream and the platform refuses it anyway.
 */
export function readPeerId(raw: unknown, name: string, selfId: string): IdArg {
  const read = readWorkspaceId(raw, name);
  if (!read.ok || read.id !== selfId) return read;
  return {
    ok: false,
    result: toolError(
      `${name} is this workspace's own ID: a workspace cannot delegate to itself`,
      "do the task yourself, or call list_peers and pick another workspace",
    ),
  };
}

/** The non-empty `task` argument, or the isError result to return instead. */
export function readTask(
  raw: unknown,
): { ok: true; task: string } | { ok: false; result: ToolResult } {
  if (typeof raw === "string" && raw.trim() !== "") return { ok: true, task: raw };
  return {
    ok: false,
    result: toolError("task is empty", "describe the work the peer should do in task"),
  };
}

/** Input schema shared by delegate_task and delegate_task_async: a peer and a task. */
export const PEER_TASK_SCHEMA: ObjectSchema = {
  type: "object",
  properties: {
    workspace_id: {
      type: "string",
      description: "ID (UUID) of the peer workspace, as list_peers shows it",
    },
    task: {
      type: "string",
      minLength: 1,
      description: "What the peer should do, with every detail it needs: it sees only this text",
    },
  },
  required: ["workspace_id", "task"],
  additionalProperties: false,
};
