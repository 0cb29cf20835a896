/**
 * Every tool result fits the 512 KiB cap (issue 11 item 12): text is cut with a marker that
 * says how to narrow the query, list_peers says how many peers it left out, and the inbox
 * tools return fewer (whole) messages as valid JSON.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { withToolRig } from "../fakes/tool_harness.ts";
import type { InboxMessage } from "../../lib/inbox/message.ts";
import {
  capToolResult,
  cutToUtf8Bytes,
  MAX_TOOL_RESULT_BYTES,
  utf8Length,
} from "../../lib/mcp/result_cap.ts";

const PEERS_PATH = /^\/registry\/[^/]+\/peers$/;
const MEMORIES_PATH = /^\/workspaces\/[^/]+\/memories$/;

function message(text: string, n: number): InboxMessage {
  return {
    activity_id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    text,
    peer_id: "",
    kind: "canvas_user",
    method: "message/send",
    created_at: "2026-05-01T10:00:00.000Z",
  };
}

/** True when `text` holds a UTF-16 surrogate without its partner. */
function hasLoneSurrogate(text: string): boolean {
  return !text.isWellFormed();
}

Deno.test("result cap: a cut never splits a character and lands on a line break when one is near", () => {
  const emoji = "🚀".repeat(10);
  assertEquals(cutToUtf8Bytes(emoji, 7), "🚀");
  assertEquals(utf8Length("a🚀é\ud800"), 1 + 4 + 2 + 3);
  const lines = Array.from({ length: 100_000 }, (_, i) => `line ${i} 🚀`).join("\n");
  const capped = capToolResult({ content: [{ type: "text", text: lines }], isError: true }, {
    narrowHint: "Ask for fewer lines",
  });
  const text = capped.content[0]?.text ?? "";
  assert(utf8Length(text) <= MAX_TOOL_RESULT_BYTES, `${utf8Length(text)} bytes`);
  assert(!hasLoneSurrogate(text));
  assertEquals(capped.isError, true);
  const [body, marker] = text.split("\n\n[Result cut: ");
  assert(body !== undefined && marker !== undefined);
  assert(/line \d+ 🚀$/.test(body), "the cut falls between lines");
  assertStringIncludes(marker, "over the 512 KiB limit for one tool result. Ask for fewer lines.]");
});

Deno.test("list_peers: 200,000 peers give one result under the cap that says how many were left out", async () => {
  const peers = Array.from({ length: 200_000 }, (_, i) => ({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    name: `peer-${i}`,
    role: i % 2 === 0 ? "reviewer" : null,
    tier: 1,
    status: "online",
    agent_card: null,
    url: "",
    parent_id: null,
    active_tasks: 0,
  }));
  const body = JSON.stringify(peers);
  await withToolRig(async (rig) => {
    const out = await rig.call("list_peers");
    assertEquals(out.isError, false);
    assert(utf8Length(out.text) <= MAX_TOOL_RESULT_BYTES, `${utf8Length(out.text)} bytes`);
    const lines = out.text.split("\n");
    const last = lines.at(-1) ?? "";
    const listed = lines.length - 1;
    assert(listed > 1000, `only ${listed} listed`);
    assertStringIncludes(last, `… and ${200_000 - listed} more peers not shown`);
    assertStringIncludes(last, "call list_peers with a query");
    assertEquals(
      lines[0],
      "- peer-0 (ID: 00000000-0000-4000-8000-000000000000, status: online, role: reviewer)",
    );
  }, {
    wrapFetch: (fetch) => (req) =>
      PEERS_PATH.test(new URL(req.url).pathname)
        ? Promise.resolve(new Response(body, { headers: { "content-type": "application/json" } }))
        : fetch(req),
  });
});

Deno.test("recall_memory: memories over the cap are cut with a marker saying how to narrow the search", async () => {
  const rows = Array.from({ length: 3 }, (_, i) => ({
    id: `m${i}`,
    workspace_id: "w",
    content: "𝔪emory ".repeat(40_000),
    scope: "LOCAL",
    namespace: "general",
    created_at: "2026-05-01T10:00:00Z",
  }));
  await withToolRig(async (rig) => {
    const out = await rig.call("recall_memory", { query: "memory" });
    assertEquals(out.isError, false);
    assert(utf8Length(out.text) <= MAX_TOOL_RESULT_BYTES, `${utf8Length(out.text)} bytes`);
    assert(!hasLoneSurrogate(out.text));
    assertStringIncludes(out.text, "[Result cut: it was ");
    assertStringIncludes(out.text, "Call recall_memory again with more specific query words");
  }, {
    wrapFetch: (fetch) => (req) =>
      req.method === "GET" && MEMORIES_PATH.test(new URL(req.url).pathname)
        ? Promise.resolve(Response.json(rows))
        : fetch(req),
  });
});

Deno.test("inbox_peek: large messages come back fewer and whole, as valid JSON, with a note of how many wait", async () => {
  await withToolRig(async (rig) => {
    assert(rig.inbox !== null);
    const big = (n: number) => message(`${n}: ${"x".repeat(150_000)}`, n);
    await rig.inbox.accept({ messages: Array.from({ length: 10 }, (_, i) => big(i)), skipped: [] });
    const result = await rig.client.callTool({ name: "inbox_peek", arguments: { limit: 10 } });
    const content = Array.isArray(result.content) ? result.content : [];
    const [list, note] = content.map((c: { text?: string }) => c.text ?? "");
    assert(list !== undefined && note !== undefined, "a list and a note");
    const parsed: { text: string }[] = JSON.parse(list);
    assertEquals(parsed.length, 3);
    assert(parsed.every((m, i) => m.text === big(i).text), "each shown message is whole");
    assert(utf8Length(list) + utf8Length(note) <= MAX_TOOL_RESULT_BYTES);
    assertStringIncludes(note, "3 of the 10 messages asked for are shown");
    assertStringIncludes(note, "10 messages wait in the inbox in all");
  });
});

Deno.test("wait_for_message: a message whose JSON alone passes the cap is shortened, marked, and still valid JSON", async () => {
  await withToolRig(async (rig) => {
    assert(rig.inbox !== null);
    // 256 KiB of quotes: within the inbox's message cap, but twice that once JSON-escaped.
    const quotes = '"'.repeat(256 * 1024);
    await rig.inbox.accept({ messages: [message(quotes, 1)], skipped: [] });
    const out = await rig.call("wait_for_message", { timeout_secs: 0 });
    assert(utf8Length(out.text) <= MAX_TOOL_RESULT_BYTES, `${utf8Length(out.text)} bytes`);
    const parsed: { text: string; text_cut?: boolean; activity_id: string } = JSON.parse(out.text);
    assertEquals(parsed.text_cut, true);
    assert(parsed.text.startsWith('""""') && parsed.text.endsWith("…"));
    assertEquals(parsed.activity_id, message("", 1).activity_id);
  });
});
