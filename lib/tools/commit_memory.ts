/**
 * commit_memory: stores a note in the workspace's shared memory, secrets masked first
 * (redact_secrets.ts: this workspace's own secrets exactly, others by pattern). The GLOBAL tier gate is checked here so a non-root workspace learns
 * the rule without a round trip; the request itself is platform/memory.ts's job.
 */
import type { MemoryScope } from "../platform/rows.ts";
import type { ToolDeps } from "./context.ts";
import { POSTS_TO_PLATFORM, readRequiredText } from "./tool_args.ts";
import { redactSecrets } from "./redact_secrets.ts";
import { peerLabel } from "./trust_boundary.ts";
import { toolError, toolJson, type ToolSpec } from "../mcp/tool_spec.ts";

/** Memory scopes, narrowest first. */
export const MEMORY_SCOPES: readonly MemoryScope[] = ["LOCAL", "TEAM", "GLOBAL"];

/** The commit_memory tool. */
export const commitMemory: ToolSpec<ToolDeps> = {
  name: "commit_memory",
  title: "Save a memory",
  description: "Save a fact, decision or lesson to persistent memory so it survives restarts " +
    "and can be recalled later with recall_memory. Scope LOCAL (default) is private to this " +
    "workspace, TEAM is shared with the parent and sibling workspaces, GLOBAL with every " +
    "workspace (root workspaces only). Secret-looking strings (API keys, tokens, passwords) " +
    "are replaced with [REDACTED] before anything is sent. Returns JSON " +
    '{"success":true,"id":…,"scope":…}.',
  inputSchema: {
    type: "object",
    properties: {
      content: {
        type: "string",
        minLength: 1,
        description: "What to remember, as a self-contained sentence or paragraph.",
      },
      scope: {
        type: "string",
        enum: MEMORY_SCOPES,
        default: "LOCAL",
        description: "Who can recall it: LOCAL (this workspace), TEAM (parent and siblings) " +
          "or GLOBAL (everyone; root workspaces only).",
      },
    },
    required: ["content"],
    additionalProperties: false,
  },
  annotations: POSTS_TO_PLATFORM,
  async handler(args, ctx) {
    const given = readRequiredText(
      args.content,
      "content",
      "write the fact or decision to remember",
    );
    if (!given.ok) return given.result;
    const content = given.text;
    const scope = MEMORY_SCOPES.find((s) => s === args.scope) ?? "LOCAL";
    if (scope === "GLOBAL" && ctx.workspaceTier !== 0) {
      return toolError(
        "RBAC — only root workspaces (tier 0) can write GLOBAL memories: this workspace is " +
          `tier ${ctx.workspaceTier}`,
        'use scope "TEAM" to share with your team, or "LOCAL"',
      );
    }
    // This workspace's own secrets (token, inbound secret, proxy password) are masked exactly,
    // whatever their shape; then the pattern list catches other credentials.
    const redaction = redactSecrets(content, ctx.log.redactor.values());
    if (redaction.count > 0) {
      ctx.log.info("commit_memory masked secrets before storing", {
        count: redaction.count,
        rules: redaction.rules.join(","),
      });
    }
    const stored = await ctx.platform.commitMemory(redaction.text, scope, { signal: ctx.signal });
    // The platform's id, scope and namespace: one safe token each (the sanitiser, a cap).
    const result: Record<string, unknown> = {
      success: true,
      id: peerLabel(stored.id, ""),
      scope: peerLabel(stored.scope, scope),
    };
    // Memory-v2 platforms say which namespace it landed in (upstream-latest §2 L).
    if (stored.namespace !== "" && stored.namespace !== "general") {
      result.namespace = peerLabel(stored.namespace, "");
    }
    if (redaction.count > 0) result.redacted = redaction.count;
    return toolJson(result);
  },
};
