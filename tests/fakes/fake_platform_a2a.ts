/**
 * The fake platform's A2A proxy (contract §8): caller identification, hierarchy access,
 * payload normalisation, poll-mode queueing into the target's feed, and scripted push-mode
 * replies. Delegation (fake_platform_delegation.ts) dispatches through `dispatchA2A` too.
 */
import { bearerOf, grandfatheredAuth } from "./fake_platform_auth.ts";
import type { A2ACall, A2AReply, Ctx } from "./fake_platform_context.ts";
import {
  canonicalUuid,
  errorJson,
  isRecord,
  json,
  randomId,
  readJson,
} from "./fake_platform_http.ts";
import type { WorkspaceRecord } from "./fake_platform_model.ts";

/** What the proxy answered: status, JSON body and extra headers. */
export interface ProxyAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const MAX_A2A_BODY = 1024 * 1024;
/** The 403 text for a caller the hierarchy does not allow (§8). */
export const ACCESS_DENIED = "access denied: workspaces cannot communicate per hierarchy rules";

/** POST /workspaces/:id/a2a. */
export function a2aProxy(ctx: Ctx): Response {
  const { model, req } = ctx;
  const pathId = req.params.id ?? "";
  let callerId = req.headers.get("x-workspace-id") ?? "";
  if (callerId === "") {
    const bearer = bearerOf(req.headers);
    // An invalid bearer leaves the caller empty: it is then treated as the canvas (§17.8).
    if (bearer !== "") callerId = model.tokenWorkspace(bearer) ?? "";
  }
  if (/^(webhook|system|test|channel):/.test(callerId)) return errorJson(403, "invalid caller ID");
  if (callerId !== "" && callerId !== pathId) {
    const denied = grandfatheredAuth(model, callerId, req.headers, "caller");
    if (denied !== null) return denied;
  }
  if (callerId !== "" && !model.canCommunicate(callerId, pathId)) {
    return errorJson(403, ACCESS_DENIED);
  }
  const targetId = canonicalUuid(pathId);
  if (targetId === null) return errorJson(500, "lookup failed");
  const target = model.workspace(targetId);
  if (target === undefined) return errorJson(404, "workspace not found");

  // Bodies over 1 MiB are silently truncated, which makes them fail as invalid JSON.
  const parsed = readJson(req.raw.subarray(0, MAX_A2A_BODY));
  if (!parsed.ok || !isRecord(parsed.value)) return errorJson(400, "invalid JSON");
  const normalised = normaliseEnvelope(parsed.value);
  if ("problem" in normalised) return json(400, normalised.problem);
  const answer = dispatchA2A(ctx, target, callerId === "" ? null : callerId, normalised.envelope);
  return json(answer.status, answer.body, answer.headers);
}

/** Wraps a non-JSON-RPC body and upgrades a v0.2 `content` message to v0.3 `parts`. */
export function normaliseEnvelope(
  body: Record<string, unknown>,
): { envelope: Record<string, unknown> } | { problem: Record<string, string> } {
  const envelope: Record<string, unknown> = "jsonrpc" in body
    ? { ...body }
    : { jsonrpc: "2.0", id: randomId(), method: body.method ?? null, params: body.params ?? null };
  const params = envelope.params;
  if (!isRecord(params) || !isRecord(params.message)) return { envelope };
  const message: Record<string, unknown> = { ...params.message };
  if (message.messageId === undefined) message.messageId = randomId();
  if (!("parts" in message)) {
    const content = message.content;
    if (typeof content === "string") message.parts = [{ kind: "text", text: content }];
    else if (Array.isArray(content)) message.parts = content;
    else if (content !== undefined) {
      return {
        problem: {
          error: "params.message.content must be a string or an array of parts",
          hint: 'send params.message.parts as [{"kind":"text","text":"…"}]',
        },
      };
    } else {
      return {
        problem: {
          error: "params.message must contain either 'parts' (v0.3) or 'content' (v0.2 compat)",
        },
      };
    }
    delete message.content;
  }
  envelope.params = { ...params, message };
  return { envelope };
}

/** The text of the message parts (`kind` or `type` "text"), joined by newlines. */
export function messageText(envelope: Record<string, unknown>): string {
  const params = envelope.params;
  const message = isRecord(params) ? params.message : undefined;
  const parts = isRecord(message) ? message.parts : undefined;
  if (!Array.isArray(parts)) return "";
  return parts
    .filter((p) => isRecord(p) && (p.kind === "text" || p.type === "text"))
    .map((p) => (isRecord(p) && typeof p.text === "string" ? p.text : ""))
    .join("\n");
}

/**
 * Delivers one normalised call to a target the caller may reach: poll mode writes the
 * `a2a_receive` row (synchronously, as a053ca6f does) and answers "queued"; push mode answers
 * from the target's script. Every delivery is recorded and logged on the target's feed.
 */
export function dispatchA2A(
  ctx: Ctx,
  target: WorkspaceRecord,
  callerId: string | null,
  envelope: Record<string, unknown>,
): ProxyAnswer {
  const { model } = ctx;
  const method = typeof envelope.method === "string" ? envelope.method : "";
  const mode = target.delivery_mode ?? "push";
  const base = {
    workspace_id: target.id,
    activity_type: "a2a_receive",
    source_id: callerId,
    target_id: target.id,
    method,
    request_body: envelope,
  };
  if (mode === "poll") {
    model.insertRow({ ...base, summary: `${method} → ${target.name} (queued for poll)` });
    model.a2aCalls.push({
      target_id: target.id,
      caller_id: callerId,
      request_body: envelope,
      mode,
      status: 200,
    });
    return { status: 200, body: { status: "queued", delivery_mode: "poll", method } };
  }
  const call: A2ACall = {
    targetId: target.id,
    callerId,
    body: envelope,
    text: messageText(envelope),
  };
  const script = ctx.a2aScripts.get(target.id) ?? { kind: "echo" };
  const reply = typeof script === "function" ? script(call) : script;
  const answer = answerFor(reply, call, target);
  model.a2aCalls.push({
    target_id: target.id,
    caller_id: callerId,
    request_body: envelope,
    mode,
    status: answer.status,
  });
  if (reply.kind !== "no-url") {
    // A busy agent's request is parked in a2a_queue: for the feed it is a failed delivery.
    const ok = answer.status < 300 && reply.kind !== "busy-queued";
    const error = isRecord(answer.body) && typeof answer.body.error === "string"
      ? answer.body.error
      : null;
    model.insertRow({
      ...base,
      summary: `${method} → ${target.name}`,
      status: ok ? "ok" : "error",
      error_detail: ok ? null : error,
      duration_ms: 0,
      response_body: ok ? answer.body : null,
    });
  }
  return answer;
}

function answerFor(reply: A2AReply, call: A2ACall, target: WorkspaceRecord): ProxyAnswer {
  const rpcId = call.body.id ?? null;
  switch (reply.kind) {
    case "echo":
      return { status: 200, body: rpcMessage(rpcId, `echo: ${call.text}`) };
    case "message":
      return { status: 200, body: rpcMessage(rpcId, reply.text) };
    case "task":
      return {
        status: 200,
        body: {
          jsonrpc: "2.0",
          id: rpcId,
          result: {
            kind: "task",
            id: randomId(),
            contextId: randomId(),
            status: { state: "completed" },
            artifacts: [{ artifactId: randomId(), parts: [{ kind: "text", text: reply.text }] }],
          },
        },
      };
    case "jsonrpc-error":
      return {
        status: 200,
        body: { jsonrpc: "2.0", id: rpcId, error: { code: reply.code, message: reply.message } },
      };
    case "busy-queued":
      return {
        status: 202,
        body: {
          queued: true,
          queue_id: randomId(),
          queue_depth: reply.queueDepth ?? 1,
          message: "workspace agent busy — request queued, will be delivered when it is free",
        },
      };
    case "busy":
      return {
        status: 503,
        body: { error: "workspace agent busy — retry later", busy: true, retry_after: 30 },
        headers: { "retry-after": "30" },
      };
    case "restarting":
      return {
        status: 503,
        body: {
          error: "workspace agent unreachable — container restart triggered",
          restarting: true,
          retry_after: 15,
        },
      };
    case "no-url":
      return { status: 503, body: { error: "workspace has no URL", status: target.status } };
    case "unreachable":
      return { status: 502, body: { error: "failed to reach workspace agent" } };
    case "agent-error":
      return { status: reply.status, body: { error: reply.error ?? statusText(reply.status) } };
    case "raw":
      return { status: reply.status, body: reply.body };
  }
}

function rpcMessage(id: unknown, text: string): unknown {
  return {
    jsonrpc: "2.0",
    id,
    result: {
      kind: "message",
      role: "agent",
      messageId: randomId(),
      parts: [{ kind: "text", text }],
    },
  };
}

/** Go's http.StatusText for the codes an agent plausibly returns. */
function statusText(status: number): string {
  const texts: Record<number, string> = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
  };
  return texts[status] ?? `HTTP ${status}`;
}
