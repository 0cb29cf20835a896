/**
 * get_runtime_identity: what this process knows of the model and runtime driving it
 * (upstream fb0a35f2), so an agent need not guess its model from a stale prompt. No request:
 * the values were read from the environment at start-up (lib/runtime_identity.ts).
 */
import type { ToolDeps } from "./context.ts";
import { toolJson, type ToolSpec } from "../mcp/tool_spec.ts";
import { VERSION } from "../version.ts";

/** The get_runtime_identity tool. */
export const getRuntimeIdentity: ToolSpec<ToolDeps> = {
  name: "get_runtime_identity",
  title: "Show model and runtime identity",
  description: "Show what this process was told about the model and runtime driving it: " +
    "model, model_provider, molecule_model, anthropic_base_url, tier, workspace_id and " +
    "runtime (null where the operator set nothing), plus this server's name and version. " +
    "Makes no network call. Returns JSON.",
  inputSchema: { type: "object", properties: {}, additionalProperties: false },
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  handler(_args, ctx) {
    return Promise.resolve(toolJson({
      ...ctx.runtimeIdentity,
      workspace_id: ctx.runtimeIdentity.workspace_id ?? ctx.selfId,
      mcp_server: "molecule-mcp",
      mcp_server_version: VERSION,
    }));
  },
};
