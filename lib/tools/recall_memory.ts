/**
 * recall_memory: searches the workspace's shared memory and lists what matches, one line per
 * memory in upstream's `[<SCOPE>] <content>` shape. The request is platform/memory.ts's job.
 */
import { escapePeerText, peerLabel } from "./trust_boundary.ts";
import type { MemoryScope } from "../platform/rows.ts";
import { MEMORY_SCOPES } from "./commit_memory.ts";
import type { ToolDeps } from "./context.ts";
import { type ToolSpec, toolText } from "../mcp/tool_spec.ts";

/** The recall_memory tool. */
export const recallMemory: ToolSpec<ToolDeps> = {
  name: "recall_memory",
  title: "Recall memories",
  description: "Search memories saved with commit_memory (by this workspace, its team, or " +
    "globally). Use it before starting work to pick up earlier decisions and lessons. An " +
    "empty query returns everything accessible in the scope, newest first. Returns one line " +
    'per memory, "[<SCOPE>] <content>", or "No memories found.".',
  inputSchema: {
    type: "object",
    properties: {
      query: {
        type: "string",
        default: "",
        description: "Words to search for; empty returns every accessible memory.",
      },
      scope: {
        type: "string",
        enum: [...MEMORY_SCOPES, ""],
        default: "",
        description: "LOCAL (this workspace's private memories), TEAM (shared by the parent " +
          'and siblings), GLOBAL (shared by everyone), or "" (all of this workspace\'s own).',
      },
    },
    additionalProperties: false,
  },
  annotations: {
    readOnlyHint: true,
    idempotentHint: true,
    openWorldHint: true,
  },
  narrowHint: "Call recall_memory again with more specific query words, or with one scope",
  async handler(args, ctx) {
    const query = typeof args.query === "string" ? args.query.trim() : "";
    const scope: MemoryScope | undefined = MEMORY_SCOPES.find((s) => s === args.scope);
    const { rows } = await ctx.platform.recallMemories(query, scope, { signal: ctx.signal });
    if (rows.length === 0) return toolText("No memories found.");
    // TEAM and GLOBAL memories are written by other workspaces: one line each, escaped, so a
    // memory cannot forge further entries or boundary markers.
    const line = (content: string) => escapePeerText(content).replace(/\s*\n\s*/g, " ");
    // The scope is the platform's text too: one safe token (no brackets, no line break).
    return toolText(
      rows.map((row) => `[${peerLabel(row.scope, "?")}] ${line(row.content)}`).join("\n"),
    );
  },
};
