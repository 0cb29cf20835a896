/**
 * The tools one MCP server offers: validated once at start-up, listed for tools/list, and
 * called for tools/call with arguments checked against each tool's schema first. The JSON-RPC
 * framing around a call (ids, error responses) stays in lib/mcp/server.ts.
 */
import { isRecord } from "../json_object.ts";
import type { Logger } from "../log.ts";
import { toolError, type ToolResult, type ToolSpec } from "./tool_spec.ts";
import { clip, type Params } from "./jsonrpc.ts";
import { checkValue, schemaProblems } from "./schema.ts";
import { capToolResult } from "./result_cap.ts";

/** What a tools/call comes to: a result record, or the message of a -32602 error. */
export type CallOutcome = { result: Record<string, unknown> } | { invalid: string };

/** The tool table of one server. */
export class ToolRegistry<Ctx extends object> {
  /** The tools/list entries, in the order given. */
  readonly list: readonly Record<string, unknown>[];
  #tools: ReadonlyMap<string, ToolSpec<Ctx>>;
  #context: Ctx;
  #log: Logger;

  /** Throws TypeError when the list is invalid (duplicate names, unsupported schema keywords). */
  constructor(tools: readonly ToolSpec<Ctx>[], context: Ctx, log: Logger) {
    const problems: string[] = [];
    const byName = new Map<string, ToolSpec<Ctx>>();
    for (const tool of tools) {
      if (byName.has(tool.name)) problems.push(`${tool.name}: duplicate tool name`);
      byName.set(tool.name, tool);
      problems.push(...schemaProblems(tool.inputSchema).map((p) => `${tool.name}: ${p}`));
    }
    if (problems.length > 0) {
      throw new TypeError(`Invalid tool definitions: ${problems.join("; ")}`);
    }
    this.#tools = byName;
    this.#context = context;
    this.#log = log;
    this.list = tools.map(describeTool);
  }

  /**
   * Runs one tools/call: `{result}` for the JSON-RPC result (a tool result, possibly
   * `isError`, cut to the 512 KiB result cap), or `{invalid}` with the -32602 message for
   * malformed params or an unknown tool.
   */
  async call(
    params: Params | undefined,
    signal: AbortSignal,
    progress?: (message: string) => void,
  ): Promise<CallOutcome> {
    if (!isRecord(params) || typeof params.name !== "string") {
      return { invalid: "tools/call needs params.name, a string" };
    }
    const tool = this.#tools.get(params.name);
    if (tool === undefined) return { invalid: `Unknown tool: ${clip(params.name)}` };
    const args = params.arguments ?? {};
    if (!isRecord(args)) return { invalid: "tools/call arguments must be an object" };
    const problems = checkValue(tool.inputSchema, args);
    const result = problems.length > 0
      ? toolError(
        `Invalid arguments for ${tool.name}: ${problems.join("; ")}`,
        `fix the arguments and call ${tool.name} again (tools/list shows its input schema)`,
      )
      : await this.#runHandler(tool, args, signal, progress);
    return { result: toResultRecord(capToolResult(result, { narrowHint: tool.narrowHint })) };
  }

  async #runHandler(
    tool: ToolSpec<Ctx>,
    args: Record<string, unknown>,
    signal: AbortSignal,
    progress: ((message: string) => void) | undefined,
  ): Promise<ToolResult> {
    const log = this.#log;
    try {
      // A shallow copy per call: getters on the context are read now, and `signal` is added.
      const result: unknown = await tool.handler(args, {
        ...this.#context,
        signal,
        ...(progress === undefined ? {} : { progress }),
      });
      if (isToolResult(result)) return result;
      log.error("tool returned a malformed result", { tool: tool.name });
    } catch (error) {
      if (signal.aborted) {
        log.debug("tool stopped after cancellation", { tool: tool.name, error });
      } else {
        log.error("tool failed", { tool: tool.name, error });
        if (error instanceof Error && log.isEnabled("debug")) {
          log.debug("tool failure stack", { tool: tool.name, stack: error.stack ?? "" });
        }
      }
    }
    return toolError(
      `Internal error in ${tool.name}`,
      "try again; if it keeps failing, the molecule-mcp log on stderr has the details",
    );
  }
}

function describeTool<Ctx>(tool: ToolSpec<Ctx>): Record<string, unknown> {
  const described: Record<string, unknown> = {
    name: tool.name,
    description: tool.description,
    inputSchema: tool.inputSchema,
    annotations: tool.annotations,
  };
  if (tool.title !== undefined) described.title = tool.title;
  return described;
}

function toResultRecord(result: ToolResult): Record<string, unknown> {
  return result.isError === true
    ? { content: result.content, isError: true }
    : { content: result.content };
}

function isToolResult(value: unknown): value is ToolResult {
  return isRecord(value) && Array.isArray(value.content) &&
    value.content.every((c) => isRecord(c) && c.type === "text" && typeof c.text === "string");
}
