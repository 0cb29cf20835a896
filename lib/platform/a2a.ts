/**
 * The A2A side of the platform client: the `message/send` envelope we post to
 * `/workspaces/:peer/a2a`, and the classifier that turns whatever comes back into a typed
 * outcome. HTTP refusals are not outcomes: the request core throws those as PlatformError.
 */
import { isRecord } from "../json_object.ts";

/**
 * Joins the text of several text parts. A2A senders split paragraphs and attachments' captions
 * into separate parts; a newline keeps them readable where "" would glue words together.
 */
export const TEXT_PART_SEPARATOR = "\n";

/**
 * The text of A2A message parts: parts whose discriminator is `kind:"text"` (a2a-sdk v1) or
 * `type:"text"` (v0), joined; "" when there is none or it is blank. Shared by A2A replies and
 * inbox rows (inbox/activity_row.ts): the part format is the platform's.
 */
export function joinTextParts(parts: unknown): string {
  if (!Array.isArray(parts)) return "";
  const texts: string[] = [];
  for (const part of parts) {
    if (!isRecord(part)) continue;
    const isText = part["kind"] === "text" || part["type"] === "text";
    const text = part["text"];
    if (isText && typeof text === "string" && text !== "") texts.push(text);
  }
  const joined = texts.join(TEXT_PART_SEPARATOR);
  return joined.trim() === "" ? "" : joined;
}

/** What a peer's answer to message/send amounts to. */
export type A2AOutcome =
  /** A push-mode peer answered; `text` may be "" when its result carried no text part. */
  | { kind: "reply"; text: string }
  /** The peer (or its SDK) answered with a JSON-RPC error. */
  | { kind: "rpc_error"; code: number; message: string }
  /**
   * Delivered but not answered yet: `poll` means the peer reads its inbox (contract §8), `busy`
   * means a push peer was at capacity and the platform queued it (202 `{queued:true}`, or a
   * boot-turn envelope with a `queue_id`), `async` means the platform accepted it for later
   * delivery (`delivery_mode:"push-async"`, upstream-latest §2 H).
   */
  | { kind: "queued"; via: "poll" | "busy" | "async"; queueId?: string }
  /** A 2xx body matching none of the above; `detail` says what was seen. */
  | { kind: "malformed"; detail: string };

/** The platform truncates A2A bodies at 1 MiB, which then fail as "invalid JSON" (§1.4). */
export const A2A_MAX_BODY_BYTES = 1024 * 1024;

/** The JSON-RPC `message/send` request with one text part (contract §8). */
export function buildMessageSend(text: string, ids: { rpcId: string; messageId: string }): unknown {
  return {
    jsonrpc: "2.0",
    id: ids.rpcId,
    method: "message/send",
    params: {
      message: { role: "user", messageId: ids.messageId, parts: [{ kind: "text", text }] },
    },
  };
}

/**
 * Classifies a 2xx A2A body. A queued answer needs `status:"queued"` with `delivery_mode`
 * "poll" or "push-async", or a `queue_id`, or `queued:true`; a body with only
 * `status:"queued"` is malformed (upstream case 28).
 */
export function classifyA2AAnswer(body: unknown): A2AOutcome {
  if (!isRecord(body)) return { kind: "malformed", detail: "the answer is not a JSON object" };
  if (body.status === "queued" && body.delivery_mode === "poll") {
    return { kind: "queued", via: "poll" };
  }
  if (body.status === "queued" && body.delivery_mode === "push-async") {
    return { kind: "queued", via: "async" };
  }
  if (body.queued === true || (body.status === "queued" && typeof body.queue_id === "string")) {
    return typeof body.queue_id === "string"
      ? { kind: "queued", via: "busy", queueId: body.queue_id }
      : { kind: "queued", via: "busy" };
  }
  if ("error" in body) {
    const err = body.error;
    if (isRecord(err) && typeof err.code === "number" && typeof err.message === "string") {
      return { kind: "rpc_error", code: err.code, message: err.message };
    }
    return { kind: "malformed", detail: "the error member is not {code, message}" };
  }
  if (isRecord(body.result)) return { kind: "reply", text: extractResultText(body.result) };
  return { kind: "malformed", detail: "the answer has no result, error or queued status" };
}

/**
 * Text of a JSON-RPC result: the Message's own parts first, else the Task's artifact parts,
 * as the platform itself reads them (contract §8). Accepts `kind` and `type` text parts.
 */
function extractResultText(result: Record<string, unknown>): string {
  const direct = joinTextParts(result.parts);
  if (direct !== "") return direct;
  if (!Array.isArray(result.artifacts)) return "";
  return result.artifacts
    .map((artifact) => (isRecord(artifact) ? joinTextParts(artifact.parts) : ""))
    .filter((text) => text !== "")
    .join("\n");
}
