/**
 * update_agent_card: replaces this workspace's agent card on the canvas, live (upstream
 * fb0a35f2). The card is checked here (an object with a non-empty name, a bounded size)
 * before anything is sent; the request is platform/registry.ts's job.
 */
import { isRecord } from "../json_object.ts";
import type { ToolDeps } from "./context.ts";
import { toolError, toolJson, type ToolSpec } from "../mcp/tool_spec.ts";
import { utf8Length } from "../mcp/result_cap.ts";
import { peerLabel } from "./trust_boundary.ts";

/** Largest card accepted, as JSON bytes: a card is a few fields, not a document. */
export const MAX_CARD_BYTES = 64 * 1024;

/** The update_agent_card tool. */
export const updateAgentCard: ToolSpec<ToolDeps> = {
  name: "update_agent_card",
  title: "Update the agent card",
  description: "Replace this workspace's agent card (what the canvas and peers see: name, " +
    "description, skills…) right away. Send the whole card: fields you leave out are gone. " +
    "The card set in the server's configuration comes back when the server restarts. " +
    'Returns JSON {"success":true,"status":"updated"}.',
  inputSchema: {
    type: "object",
    properties: {
      card: {
        type: "object",
        description: 'The agent card, e.g. {"name":"Release bot","description":"Ships ' +
          'releases","skills":[{"name":"release"}]}; name is required',
        properties: {
          name: { type: "string", minLength: 1, description: "Display name (required)" },
          description: { type: "string", description: "What this agent does" },
          skills: {
            type: "array",
            items: { type: "object" },
            description: 'Skills, e.g. [{"name":"code-review"}]',
          },
        },
        required: ["name"],
      },
    },
    required: ["card"],
    additionalProperties: false,
  },
  annotations: {
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: true,
    openWorldHint: true,
  },
  async handler(args, ctx) {
    const card = args.card;
    if (!isRecord(card)) {
      return toolError("card must be a JSON object", 'pass {"name":"…", …}');
    }
    if (typeof card.name !== "string" || card.name.trim() === "") {
      return toolError(
        "card.name is empty: an agent card needs a name",
        "set card.name to the display name the canvas should show",
      );
    }
    const size = utf8Length(JSON.stringify(card));
    if (size > MAX_CARD_BYTES) {
      return toolError(
        `card is ${size} bytes of JSON, over the ${MAX_CARD_BYTES}-byte limit`,
        "keep the card to a name, a short description and a list of skills",
      );
    }
    const status = await ctx.platform.updateAgentCard(card, { signal: ctx.signal });
    return toolJson({ success: true, status: peerLabel(status, "updated") });
  },
};
