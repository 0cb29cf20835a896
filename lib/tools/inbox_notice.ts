/**
 * The inbox notice for hosts that show no pushes (Codex, Cursor, opencode: upstream-latest §3
 * #2–#4): a tool result other than the inbox tools' own ends with one line saying messages are
 * waiting, once per new arrival, so an agent learns of them on its next call of any tool.
 * MOLECULE_MCP_INBOX_NOTICE=0 leaves it out (main.ts then passes no InboxNotice).
 */
import type { ToolSpec } from "../mcp/tool_spec.ts";

/** What the wrapper reads of the tool deps (ToolDeps has it; no import, to avoid a cycle). */
export interface NoticeDeps {
  inboxNotice?: InboxNotice;
  inbox: { readonly size: number } | null;
}

/** Tools that show the inbox themselves: they never carry the notice, and calling one counts as seeing it. */
export const INBOX_TOOLS: ReadonlySet<string> = new Set([
  "wait_for_message",
  "inbox_peek",
  "inbox_pop",
]);

/** Counts arrivals the agent has not been told about yet. */
export class InboxNotice {
  #unnoticed = 0;

  /** `count` messages were queued (WorkspaceLink.onArrived). */
  noteArrivals(count: number): void {
    if (count > 0) this.#unnoticed += count;
  }

  /** The agent looked at the inbox: what arrived so far needs no notice. */
  markSeen(): void {
    this.#unnoticed = 0;
  }

  /**
   * The notice line when messages arrived since the last notice (or since the agent looked)
   * and `waiting` are queued now; null otherwise. Giving it out counts as telling the agent.
   */
  take(waiting: number): string | null {
    if (this.#unnoticed === 0) return null;
    this.#unnoticed = 0;
    if (waiting <= 0) return null;
    const what = waiting === 1 ? "1 message" : `${waiting} messages`;
    return `[inbox: ${what} waiting — call inbox_peek]`;
  }
}

/**
 * Wraps a tool so its result ends with the inbox notice when one is due (a separate text
 * block, so a JSON result stays parseable). The inbox tools only mark the inbox seen.
 */
export function withInboxNotice<Ctx extends NoticeDeps>(spec: ToolSpec<Ctx>): ToolSpec<Ctx> {
  const isInboxTool = INBOX_TOOLS.has(spec.name);
  return {
    ...spec,
    async handler(args, ctx) {
      const result = await spec.handler(args, ctx);
      const notice = ctx.inboxNotice;
      if (notice === undefined) return result;
      if (isInboxTool) {
        notice.markSeen();
        return result;
      }
      const line = notice.take(ctx.inbox?.size ?? 0);
      if (line === null) return result;
      return { ...result, content: [...result.content, { type: "text" as const, text: line }] };
    },
  };
}
