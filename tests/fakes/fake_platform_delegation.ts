/**
 * Delegation routes of the fake platform (contract §10): POST /delegate with idempotency keys,
 * and GET /delegations. The real platform dispatches in the background; the fake dispatches
 * before answering 202, so the final status is visible at once and tests stay deterministic.
 */
import { ACCESS_DENIED, dispatchA2A } from "./fake_platform_a2a.ts";
import type { Ctx } from "./fake_platform_context.ts";
import {
  canonicalUuid,
  errorJson,
  isRecord,
  json,
  randomId,
  readJson,
} from "./fake_platform_http.ts";
import type { ActivityRow, DelegationRecord } from "./fake_platform_model.ts";

const MAX_LISTED = 50;
const PREVIEW_CHARS = 300;

/** POST /workspaces/:id/delegate. */
export function delegate(ctx: Ctx): Response {
  const { model, req } = ctx;
  const id = req.params.id ?? "";
  const parsed = readJson(req.raw);
  const body = parsed.ok ? parsed.value : undefined;
  if (
    !isRecord(body) || typeof body.target_id !== "string" || body.target_id === "" ||
    typeof body.task !== "string" || body.task === ""
  ) {
    return errorJson(400, "invalid delegation request");
  }
  const targetId = canonicalUuid(body.target_id);
  if (targetId === null) return errorJson(400, "target_id must be a valid UUID");
  if (targetId === id) return errorJson(400, "self-delegation not permitted");
  const key = typeof body.idempotency_key === "string" && body.idempotency_key !== ""
    ? body.idempotency_key
    : null;
  if (key !== null) {
    const index = model.delegations.findIndex((d) =>
      d.workspace_id === id && d.idempotency_key === key
    );
    const existing = model.delegations[index];
    if (existing !== undefined && existing.status !== "failed") {
      return json(200, {
        delegation_id: existing.delegation_id,
        status: existing.status,
        target_id: existing.target_id,
        idempotent_hit: true,
      });
    }
    if (existing !== undefined) {
      // A failed attempt is forgotten so the same key can try again.
      model.delegations.splice(index, 1);
      model.deleteRows((r) => delegationIdOf(r) === existing.delegation_id);
    }
  }
  const record: DelegationRecord = {
    delegation_id: randomId(),
    workspace_id: id,
    target_id: targetId,
    task: body.task,
    idempotency_key: key,
    status: "pending",
    response_text: null,
    error: null,
  };
  model.delegations.push(record);
  const targetName = model.workspace(targetId)?.name ?? targetId;
  const requestRow = model.insertRow({
    workspace_id: id,
    activity_type: "delegation",
    method: "delegate",
    event: "DELEGATION_SENT",
    source_id: id,
    target_id: targetId,
    summary: `Delegating to ${targetName}`,
    status: "pending",
    request_body: { task: body.task, delegation_id: record.delegation_id },
  });
  runDelegation(ctx, record);
  requestRow.status = record.status;
  return json(202, {
    delegation_id: record.delegation_id,
    status: "delegated",
    target_id: targetId,
  });
}

/** Sends the task through the proxy as the delegating workspace and settles the record. */
function runDelegation(ctx: Ctx, record: DelegationRecord): void {
  const { model } = ctx;
  record.status = "dispatched";
  const target = model.workspace(record.target_id);
  if (target === undefined || !model.canCommunicate(record.workspace_id, record.target_id)) {
    settle(ctx, record, { error: ACCESS_DENIED });
    return;
  }
  const envelope = {
    jsonrpc: "2.0",
    id: record.delegation_id,
    method: "message/send",
    params: {
      message: {
        role: "user",
        messageId: record.delegation_id,
        parts: [{ type: "text", text: record.task }],
        metadata: { delegation_id: record.delegation_id },
      },
    },
  };
  const answer = dispatchA2A(ctx, target, record.workspace_id, envelope);
  const body = isRecord(answer.body) ? answer.body : {};
  if (answer.status === 202 && body.queued === true) {
    record.status = "queued";
  } else if (answer.status >= 300 || "error" in body) {
    const err = body.error;
    const message = typeof err === "string"
      ? err
      : isRecord(err) && typeof err.message === "string"
      ? err.message
      : `HTTP ${answer.status}`;
    settle(ctx, record, { error: message });
  } else if (target.delivery_mode === "poll") {
    // §10.6: the proxy's "queued" JSON is taken as the reply and the delegation completes.
    settle(ctx, record, { text: JSON.stringify(answer.body) });
  } else {
    settle(ctx, record, { text: responseText(body) });
  }
}

function settle(ctx: Ctx, record: DelegationRecord, outcome: { text: string } | { error: string }) {
  const { model } = ctx;
  const ok = "text" in outcome;
  record.status = ok ? "completed" : "failed";
  if (ok) record.response_text = outcome.text;
  else record.error = outcome.error;
  const responseBody = { text: ok ? outcome.text : "", delegation_id: record.delegation_id };
  model.insertRow({
    workspace_id: record.workspace_id,
    activity_type: "delegation",
    method: "delegate_result",
    event: ok ? "DELEGATION_COMPLETE" : "DELEGATION_FAILED",
    source_id: record.target_id,
    target_id: record.workspace_id,
    summary: ok ? "Delegation completed" : "Delegation failed",
    status: record.status,
    error_detail: ok ? null : outcome.error,
    response_body: responseBody,
  });
  if (ctx.settings.delegationResultInboxPush) {
    model.insertRow({
      workspace_id: record.workspace_id,
      activity_type: "a2a_receive",
      method: "delegate_result",
      source_id: record.workspace_id,
      target_id: record.target_id,
      summary: ok ? "Delegation completed" : "Delegation failed",
      status: ok ? "ok" : "error",
      request_body: { delegation_id: record.delegation_id },
      response_body: {
        text: ok ? outcome.text : outcome.error,
        delegation_id: record.delegation_id,
      },
    });
  }
}

/** extractResponseText: `result.parts` first, then `result.artifacts[].parts`. */
function responseText(body: Record<string, unknown>): string {
  const result = isRecord(body.result) ? body.result : {};
  const texts = (parts: unknown) =>
    Array.isArray(parts)
      ? parts.flatMap((p) => (isRecord(p) && typeof p.text === "string" ? [p.text] : []))
      : [];
  const direct = texts(result.parts);
  if (direct.length > 0) return direct.join("\n");
  const artifacts = Array.isArray(result.artifacts) ? result.artifacts : [];
  return artifacts.flatMap((a) => (isRecord(a) ? texts(a.parts) : [])).join("\n");
}

function delegationIdOf(row: ActivityRow): string | null {
  for (const b of [row.request_body, row.response_body]) {
    if (isRecord(b) && typeof b.delegation_id === "string") return b.delegation_id;
  }
  return null;
}

/** GET /workspaces/:id/delegations: request and result rows, newest first, at most 50. */
export function listDelegations({ model, req }: Ctx): Response {
  const id = req.params.id ?? "";
  const rows = model.rowsOf(id)
    .filter((r) => r.row.method === "delegate" || r.row.method === "delegate_result")
    .sort((a, b) => b.atUs - a.atUs || b.seq - a.seq)
    .slice(0, MAX_LISTED)
    .map(({ row }) => {
      const item: Record<string, unknown> = {
        id: row.id,
        type: "delegation",
        source_id: row.source_id,
        target_id: row.target_id ?? "",
        summary: row.summary,
        status: row.status,
        created_at: row.created_at,
      };
      const delegationId = delegationIdOf(row);
      if (delegationId !== null) item.delegation_id = delegationId;
      if (row.error_detail !== null) item.error = row.error_detail;
      const text = isRecord(row.response_body) ? row.response_body.text : undefined;
      if (typeof text === "string" && text !== "") {
        item.response_preview = text.slice(0, PREVIEW_CHARS);
      }
      return item;
    });
  return json(200, rows);
}
