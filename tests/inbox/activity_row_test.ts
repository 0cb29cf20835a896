import { assertEquals } from "../assert.ts";
import {
  type ActivityRow,
  EMPTY_MESSAGE_PLACEHOLDER,
  extractText,
  parseActivityRow,
} from "../../lib/inbox/activity_row.ts";

const ID = "0b6a43a0-3c1e-4a8e-9f4e-2b1d9c7e5a10";
const TS = "2026-05-01T10:11:12.123456Z";

function row(fields: Record<string, unknown>): ActivityRow {
  const parsed = parseActivityRow({
    id: ID,
    created_at: TS,
    activity_type: "a2a_receive",
    method: "message/send",
    ...fields,
  });
  if (parsed === null) throw new Error("test row did not parse");
  return parsed;
}

Deno.test("activity row: a full platform row parses with every field typed", () => {
  const parsed = parseActivityRow({
    id: ID,
    workspace_id: "11111111-1111-4111-8111-111111111111",
    activity_type: "a2a_receive",
    source_id: "22222222-2222-4222-8222-222222222222",
    target_id: null,
    method: "message/send",
    summary: "hi",
    duration_ms: 12,
    status: "ok",
    error_detail: null,
    created_at: TS,
    request_body: { params: { message: { parts: [{ kind: "text", text: "hi" }] } } },
    response_body: { result: "ok" },
    tool_trace: [],
    seq: 42,
    peer_name: "Bot",
    peer_role: "analyst",
    agent_card_url: "https://p.example/registry/discover/22222222-2222-4222-8222-222222222222",
    attachments: [{ kind: "file", uri: "workspace:/a" }],
  });
  assertEquals(parsed, {
    id: ID,
    workspace_id: "11111111-1111-4111-8111-111111111111",
    activity_type: "a2a_receive",
    source_id: "22222222-2222-4222-8222-222222222222",
    method: "message/send",
    summary: "hi",
    status: "ok",
    created_at: TS,
    request_body: { params: { message: { parts: [{ kind: "text", text: "hi" }] } } },
    response_body: { result: "ok" },
    seq: 42,
    peer_name: "Bot",
    peer_role: "analyst",
    agent_card_url: "https://p.example/registry/discover/22222222-2222-4222-8222-222222222222",
    attachments: [{ kind: "file", uri: "workspace:/a" }],
  });
});

Deno.test("activity row: null and missing columns become empty strings and null bodies", () => {
  const parsed = parseActivityRow({
    id: ID,
    created_at: TS,
    source_id: null,
    method: null,
    summary: null,
  });
  assertEquals(parsed, {
    id: ID,
    workspace_id: "",
    activity_type: "",
    source_id: "",
    method: "",
    summary: "",
    status: "",
    created_at: TS,
    request_body: null,
    response_body: null,
    seq: null,
    peer_name: "",
    peer_role: "",
    agent_card_url: "",
    attachments: undefined,
  });
});

Deno.test("activity row: non-objects and rows without a string id or created_at are refused", () => {
  for (
    const raw of [
      null,
      "row",
      42,
      [{ id: ID, created_at: TS }],
      { created_at: TS },
      { id: 7, created_at: TS },
      { id: "", created_at: TS },
      { id: ID },
      { id: ID, created_at: null },
      { id: ID, created_at: "" },
    ]
  ) {
    assertEquals(parseActivityRow(raw), null, JSON.stringify(raw));
  }
});

Deno.test("activity row: a body sent as a JSON string is decoded; junk or arrays become null", () => {
  const body = { parts: [{ kind: "text", text: "from a string" }] };
  assertEquals(row({ request_body: JSON.stringify(body) }).request_body, body);
  assertEquals(row({ request_body: "not json {" }).request_body, null);
  assertEquals(row({ request_body: "[1,2]" }).request_body, null);
  assertEquals(row({ request_body: [1, 2] }).request_body, null);
  assertEquals(row({ response_body: '{"text":"r"}' }).response_body, { text: "r" });
});

Deno.test("extract text: a2a-sdk v1 parts (kind) under params.message.parts", () => {
  const r = row({
    request_body: { params: { message: { parts: [{ kind: "text", text: "hello v1" }] } } },
  });
  assertEquals(extractText(r), "hello v1");
});

Deno.test("extract text: a2a-sdk v0 parts (type) under params.message.parts", () => {
  const r = row({
    request_body: { params: { message: { parts: [{ type: "text", text: "hello v0" }] } } },
  });
  assertEquals(extractText(r), "hello v0");
});

Deno.test("extract text: parts under params.parts", () => {
  const r = row({ request_body: { params: { parts: [{ kind: "text", text: "in params" }] } } });
  assertEquals(extractText(r), "in params");
});

Deno.test("extract text: parts at the top of the body", () => {
  const r = row({ request_body: { parts: [{ type: "text", text: "top level" }] } });
  assertEquals(extractText(r), "top level");
});

Deno.test("extract text: params.message.parts wins over the other locations", () => {
  const r = row({
    request_body: {
      params: { message: { parts: [{ kind: "text", text: "first" }] }, parts: [] },
      parts: [{ kind: "text", text: "third" }],
    },
  });
  assertEquals(extractText(r), "first");
});

Deno.test("extract text: a location with no text parts falls through to the next", () => {
  const r = row({
    request_body: {
      params: { message: { parts: [{ kind: "file", file: { uri: "x" } }] } },
      parts: [{ kind: "text", text: "found below" }],
    },
  });
  assertEquals(extractText(r), "found below");
});

Deno.test("extract text: several text parts are joined by newlines, other parts skipped", () => {
  const r = row({
    request_body: {
      params: {
        message: {
          parts: [
            { kind: "text", text: "line one" },
            { kind: "file", file: { uri: "https://x" }, text: "not text" },
            "garbage",
            { type: "text", text: "line two" },
            { kind: "text", text: 5 },
          ],
        },
      },
    },
  });
  assertEquals(extractText(r), "line one\nline two");
});

Deno.test("extract text: a body stored as a JSON string still yields its text", () => {
  const body = { params: { message: { parts: [{ kind: "text", text: "stringly" }] } } };
  assertEquals(extractText(row({ request_body: JSON.stringify(body) })), "stringly");
});

Deno.test("extract text: no text parts falls back to the summary", () => {
  const r = row({
    summary: "message/send → me (queued for poll)",
    request_body: { params: { message: { parts: [{ kind: "text", text: "   " }] } } },
  });
  assertEquals(extractText(r), "message/send → me (queued for poll)");
});

Deno.test("extract text: no parts and no summary gives the placeholder, never empty", () => {
  assertEquals(extractText(row({})), EMPTY_MESSAGE_PLACEHOLDER);
  assertEquals(extractText(row({ summary: "  ", request_body: "nope" })), "(empty A2A message)");
});

Deno.test("extract text: a delegate_result row shows the result text from response_body", () => {
  const r = row({
    method: "delegate_result",
    summary: "delegation completed",
    request_body: { delegation_id: "d-1" },
    response_body: { text: "the peer's answer", delegation_id: "d-1" },
  });
  assertEquals(extractText(r), "the peer's answer");
});

Deno.test("extract text: a delegate_result row without result text falls back to the summary", () => {
  const r = row({
    method: "delegate_result",
    summary: "delegation failed",
    request_body: { delegation_id: "d-1" },
    response_body: { text: "", delegation_id: "d-1" },
  });
  assertEquals(extractText(r), "delegation failed");
});

Deno.test("extract text: response_body.text is ignored for ordinary messages", () => {
  const r = row({
    request_body: { parts: [{ kind: "text", text: "the request" }] },
    response_body: { text: "our own reply" },
  });
  assertEquals(extractText(r), "the request");
});
