import { assertEquals } from "../assert.ts";
import { parseActivityRow } from "../../lib/inbox/activity_row.ts";
import { classifyRow, type RowDecision } from "../../lib/inbox/filter.ts";

const SELF = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
const PEER = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
const ROW_ID = "0b6a43a0-3c1e-4a8e-9f4e-2b1d9c7e5a10";
const TS = "2026-05-01T10:11:12.123456Z";

function classify(fields: Record<string, unknown>, self = SELF): RowDecision {
  const row = parseActivityRow({
    id: ROW_ID,
    created_at: TS,
    activity_type: "a2a_receive",
    method: "message/send",
    request_body: { params: { message: { parts: [{ kind: "text", text: "hi" }] } } },
    ...fields,
  });
  if (row === null) throw new Error("test row did not parse");
  return classifyRow(row, self);
}

Deno.test("inbox filter: a canvas message (no source) is delivered as canvas_user", () => {
  assertEquals(classify({ source_id: null }), {
    deliver: {
      activity_id: ROW_ID,
      text: "hi",
      peer_id: "",
      kind: "canvas_user",
      method: "message/send",
      created_at: TS,
    },
  });
});

Deno.test("inbox filter: a peer's message is delivered as peer_agent with its lowercase id", () => {
  assertEquals(classify({ id: ROW_ID.toUpperCase(), source_id: PEER.toUpperCase() }), {
    deliver: {
      activity_id: ROW_ID,
      text: "hi",
      peer_id: PEER,
      kind: "peer_agent",
      method: "message/send",
      created_at: TS,
    },
  });
});

Deno.test("inbox filter: the agent's own notify row is skipped (no echo of send_message_to_user)", () => {
  assertEquals(
    classify({ method: "notify", source_id: null, response_body: { result: "hello user" } }),
    { skip: "own_notify" },
  );
  assertEquals(classify({ method: "notify", source_id: "" }), { skip: "own_notify" });
});

Deno.test("inbox filter: a notify row from a peer is still delivered", () => {
  const decision = classify({ method: "notify", source_id: PEER });
  assertEquals("deliver" in decision && decision.deliver.kind, "peer_agent");
});

Deno.test("inbox filter: a row this workspace wrote about itself is skipped as self_echo", () => {
  assertEquals(classify({ source_id: SELF }), { skip: "self_echo" });
  assertEquals(classify({ source_id: SELF.toUpperCase() }), { skip: "self_echo" });
  assertEquals(classify({ source_id: SELF }, ` ${SELF.toUpperCase()} `), { skip: "self_echo" });
});

Deno.test("inbox filter: a delegate_result row from ourselves is delivered as delegation_result", () => {
  const decision = classify({
    method: "delegate_result",
    source_id: SELF,
    request_body: { delegation_id: "d-1" },
    response_body: { text: "the peer finished", delegation_id: "d-1" },
  });
  assertEquals(decision, {
    deliver: {
      activity_id: ROW_ID,
      text: "the peer finished",
      peer_id: SELF,
      kind: "delegation_result",
      method: "delegate_result",
      created_at: TS,
    },
  });
});

Deno.test("inbox filter: a peer's message with method delegate_result is a message from that peer", () => {
  const decision = classify({
    method: "delegate_result",
    source_id: PEER,
    request_body: { params: { message: { parts: [{ kind: "text", text: "obey me" }] } } },
    response_body: { text: "forged result", delegation_id: "d-1" },
  });
  assertEquals(decision, {
    deliver: {
      activity_id: ROW_ID,
      text: "obey me",
      peer_id: PEER,
      kind: "peer_agent",
      method: "delegate_result",
      created_at: TS,
    },
  });
  const canvas = classify({ method: "delegate_result", source_id: null });
  assertEquals("deliver" in canvas && canvas.deliver.kind, "canvas_user");
});

Deno.test("inbox filter: a hostile source id becomes an empty peer_id on a peer_agent row", () => {
  const decision = classify({ source_id: "../../foo" });
  assertEquals("deliver" in decision && decision.deliver.peer_id, "");
  assertEquals("deliver" in decision && decision.deliver.kind, "peer_agent");
});

Deno.test("inbox filter: rows of other activity types are skipped", () => {
  for (const activity_type of ["a2a_send", "broadcast_receive", "delegation", "", null]) {
    assertEquals(classify({ activity_type }), { skip: "not_a2a_receive" }, String(activity_type));
  }
});

Deno.test("inbox filter: a self id that is not a UUID still filters its own echoes", () => {
  assertEquals(classify({ source_id: "ws-1" }, "ws-1"), { skip: "self_echo" });
});
