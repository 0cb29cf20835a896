/**
 * The requests inbox of the fake platform (upstream-latest §2 K): an agent raises a task or
 * an approval for the canvas user; the test answers it with FakePlatform.respondToRequest,
 * which enqueues the platform's message/send to the requesting agent.
 */
import type { Ctx } from "./fake_platform_context.ts";
import { errorJson, isRecord, json, randomId, readJson } from "./fake_platform_http.ts";
import type { RequestRecord } from "./fake_platform_model.ts";

/** POST /workspaces/:id/requests → 201 {request_id, status:"pending"}. */
export function createRequest({ model, req }: Ctx): Response {
  const id = req.params.id ?? "";
  const parsed = readJson(req.raw);
  const body = parsed.ok ? parsed.value : undefined;
  if (!isRecord(body)) return errorJson(400, "invalid request body");
  if (body.kind !== "task" && body.kind !== "approval") {
    return errorJson(400, "kind must be 'task' or 'approval'");
  }
  if (body.recipient_type !== "user" && body.recipient_type !== "agent") {
    return errorJson(400, "recipient_type must be 'user' or 'agent'");
  }
  if (typeof body.title !== "string" || body.title.trim() === "") {
    return errorJson(400, "title is required");
  }
  if (body.detail !== undefined && typeof body.detail !== "string") {
    return errorJson(400, "invalid request body");
  }
  if (body.priority !== undefined && !Number.isInteger(body.priority)) {
    return errorJson(400, "invalid request body");
  }
  const record: RequestRecord = {
    request_id: randomId(),
    workspace_id: id,
    kind: body.kind,
    recipient_type: body.recipient_type,
    recipient_id: typeof body.recipient_id === "string" ? body.recipient_id : "",
    title: body.title,
    detail: typeof body.detail === "string" ? body.detail : "",
    priority: typeof body.priority === "number" ? body.priority : null,
    status: "pending",
  };
  model.requests.push(record);
  return json(201, { request_id: record.request_id, status: "pending" });
}

/** GET /workspaces/:id/requests: the workspace's outgoing requests. */
export function listRequests({ model, req }: Ctx): Response {
  const id = req.params.id ?? "";
  return json(200, model.requests.filter((r) => r.workspace_id === id));
}
