/**
 * The shape every MCP tool in lib/tools/ exports, and the helpers that build its results.
 * The dispatcher (lib/mcp/server.ts) lists and calls tools through this type only; what each
 * tool does lives in its own file.
 */
import type { ObjectSchema } from "./schema.ts";

/** Hints for the host about a tool's effects (MCP ToolAnnotations; absent means the spec's default). */
export interface ToolAnnotations {
  /** True when the tool changes nothing. MCP default: false. */
  readOnlyHint?: boolean;
  /** True when a change may destroy or overwrite (meaningful only if not read-only). Default: true. */
  destructiveHint?: boolean;
  /** True when repeating a call with the same arguments has no further effect. Default: false. */
  idempotentHint?: boolean;
  /** True when the tool reaches outside this process (the platform, peers). Default: true. */
  openWorldHint?: boolean;
}

/** One text block of a tool result. */
export interface TextContent {
  type: "text";
  text: string;
}

/** What a tool returns: text for the model; `isError` marks a failure the model can act on. */
export interface ToolResult {
  content: TextContent[];
  isError?: boolean;
}

/** What a handler receives besides its arguments: the shared deps plus this call's signal. */
export type ToolContext<Ctx> = Ctx & {
  /** Aborts when the client cancels this call or the server shuts down. */
  signal: AbortSignal;
  /**
   * Present only when the client asked for progress (`_meta.progressToken`): reports what the
   * call is doing now. The server also repeats the latest message every few seconds by
   * itself, so a handler never needs a timer for it. Absent: the host may give up after 60 s.
   */
  progress?: (message: string) => void;
};

/**
 * An MCP tool. `Ctx` is the deps object (platform client, inbox, log, clock) main.ts builds
 * once; the server hands each call a shallow copy with `signal` added, so keep it a plain
 * object.
 */
export interface ToolSpec<Ctx> {
  /** Protocol name, snake_case. */
  name: string;
  /** Human-readable name a host may show. */
  title?: string;
  /** Written for the model: when to use the tool and what comes back. */
  description: string;
  /** Checked by the dispatcher before the handler runs (see lib/mcp/schema.ts for the subset). */
  inputSchema: ObjectSchema;
  annotations: ToolAnnotations;
  /**
   * What the agent can do to get a smaller result, shown when a result passes the 512 KiB
   * cap and is cut (mcp/result_cap.ts), e.g. "call list_peers with a query". A sentence
   * without a final period.
   */
  narrowHint?: string;
  /**
   * Runs one call. `args` already conforms to inputSchema's types; the handler checks meaning
   * first. Expected failures return `toolError(...)`; a throw becomes a short "internal
   * error" result and the full error goes to the log.
   */
  handler(args: Record<string, unknown>, ctx: ToolContext<Ctx>): Promise<ToolResult>;
}

/** A successful result carrying `text`. */
export function toolText(text: string): ToolResult {
  return { content: [{ type: "text", text }] };
}

/** A successful result carrying `value` as pretty-printed JSON (two-space indent). */
export function toolJson(value: unknown): ToolResult {
  return toolText(JSON.stringify(value, null, 2) ?? "null");
}

/**
 * A failed result (`isError: true`) the model can act on: `"<message>. Next: <next>"`, or
 * just the message when there is no next step. A single trailing period on `message` is not doubled (an ellipsis is kept).
 */
export function toolError(message: string, next?: string): ToolResult {
  const text = next === undefined || next === ""
    ? message
    : `${message.replace(/(?<!\.)\.$/, "")}. Next: ${next}`;
  return { content: [{ type: "text", text }], isError: true };
}
