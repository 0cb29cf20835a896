/**
 * wait_for_message: blocks until the inbox holds a message (or a timeout passes) and returns
 * the oldest one WITHOUT removing it, so an agent that crashes before replying sees it again.
 * The server runs calls concurrently, so a long wait never delays other tools or pings; the
 * queue and its waiters are lib/inbox/inbox.ts.
 */
import type { ToolDeps } from "./context.ts";
import { openedInbox, withPeerIdentity } from "./inbox_peek.ts";
import { toolJson, type ToolSpec } from "../mcp/tool_spec.ts";
import { messageResult } from "./inbox_result.ts";

/**
 * Seconds waited when timeout_secs is omitted: well below the 60 s after which SDK-based hosts
 * give up on a call (issue 14; upstream's 60 s default was cut off in those hosts).
 */
export const DEFAULT_WAIT_SECS = 30;
/**
 * Longest wait for a call without a progress token: SDK-based hosts (the MCP Inspector,
 * Codex, opencode) give up at 60 s unless progress arrives (upstream-latest §3 #4, #8).
 */
export const MAX_WAIT_SECS_WITHOUT_PROGRESS = 50;
/**
 * Longest wait with a progress token (the server then sends progress every few seconds):
 * hosts time tool calls out after about 10 minutes, and a shorter turn keeps the model's
 * prompt cache warm (upstream's cap).
 */
export const MAX_WAIT_SECS = 300;

/** The wait_for_message tool. */
export const waitForMessage: ToolSpec<ToolDeps> = {
  name: "wait_for_message",
  title: "Wait for a message",
  description: "Wait until a message arrives in the inbox (from the canvas user, a peer " +
    "agent, or a delegation result) and return the oldest queued one WITHOUT removing it: " +
    "returns at once if one is already queued, so calling again before inbox_pop returns " +
    "the same message. Returns the message as JSON {activity_id, text, peer_id, kind, " +
    "method, created_at} (plus peer_name, peer_role, user_name and attachments [{kind, uri, " +
    'name, mime_type}] when known; open file:// paths directly), or {"timeout":true,' +
    '"timeout_secs":N} when none arrived in time. ' +
    "Reply with send_message_to_user (kind canvas_user) or delegate_task to peer_id (kind " +
    "peer_agent), then call inbox_pop with its activity_id.",
  inputSchema: {
    type: "object",
    properties: {
      timeout_secs: {
        type: "number",
        default: DEFAULT_WAIT_SECS,
        description: `Seconds to wait, default ${DEFAULT_WAIT_SECS}; clamped to 0 ` +
          `(just check) … ${MAX_WAIT_SECS} when the client asks for progress notifications, ` +
          `else … ${MAX_WAIT_SECS_WITHOUT_PROGRESS} (the result then says so: call again to ` +
          "keep waiting).",
      },
    },
    additionalProperties: false,
  },
  annotations: {
    readOnlyHint: true,
    idempotentHint: true,
    openWorldHint: false,
  },
  async handler(args, ctx) {
    const opened = await openedInbox(ctx);
    if ("answer" in opened) return opened.answer;
    const asked = typeof args.timeout_secs === "number" ? args.timeout_secs : DEFAULT_WAIT_SECS;
    const hasProgress = ctx.progress !== undefined;
    const cap = hasProgress ? MAX_WAIT_SECS : MAX_WAIT_SECS_WITHOUT_PROGRESS;
    const timeoutSecs = Math.min(cap, Math.max(0, asked));
    ctx.progress?.("waiting for a message");
    const message = await opened.inbox.wait(timeoutSecs * 1000, ctx.signal);
    if (message !== null) return messageResult(withPeerIdentity(message, ctx));
    if (!hasProgress && asked > cap) {
      return toolJson({
        timeout: true,
        timeout_secs: timeoutSecs,
        asked_secs: asked,
        note: `Waited ${cap} s, not ${asked} s: without progress notifications a host gives ` +
          `up on a call after 60 s. Call wait_for_message again to keep waiting.`,
      });
    }
    return toolJson({ timeout: true, timeout_secs: timeoutSecs });
  },
};
