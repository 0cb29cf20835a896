import type { DurableInbox } from "../../lib/inbox/inbox.ts";
import type { InboxMessage } from "../../lib/inbox/message.ts";
import {
  FIRST_POLL_WAIT_MS,
  inboxLoading,
  type InboxOpening,
} from "../../lib/inbox/unavailable.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import { flushMicrotasks } from "../fakes/manual_clock.ts";
import { type ToolRig, withToolRig } from "../fakes/tool_harness.ts";
import { UNTRUSTED_NOTE } from "../../lib/tools/inbox_peek.ts";
import { InboxNotice } from "../../lib/tools/inbox_notice.ts";

function message(text: string, overrides: Partial<InboxMessage> = {}): InboxMessage {
  return {
    activity_id: crypto.randomUUID(),
    text,
    peer_id: "",
    kind: "canvas_user",
    method: "message/send",
    created_at: "2026-05-01T10:00:00.000Z",
    ...overrides,
  };
}

/** A message as the inbox tools show it: marked as untrusted text from its sender. */
function shown(msg: InboxMessage) {
  return { ...msg, untrusted: true, note: UNTRUSTED_NOTE };
}

function inboxOf(rig: ToolRig): DurableInbox {
  assert(rig.inbox !== null, "the rig has an inbox");
  return rig.inbox;
}

async function queue(rig: ToolRig, ...msgs: InboxMessage[]): Promise<void> {
  await inboxOf(rig).accept({ messages: msgs, skipped: [] });
}

function ids(text: string): string[] {
  const parsed: unknown = JSON.parse(text);
  assert(Array.isArray(parsed), `expected a JSON array: ${text}`);
  return parsed.map((m: { activity_id: string }) => m.activity_id);
}

// ---- inbox_peek ----------------------------------------------------------------------------

Deno.test("inbox_peek: an empty inbox lists []", async () => {
  await withToolRig(async (rig) => {
    const out = await rig.call("inbox_peek");
    assertEquals(out.isError, false);
    assertEquals(JSON.parse(out.text), []);
  });
});

Deno.test("inbox_peek: lists queued messages oldest first with upstream's fields, removing none", async () => {
  await withToolRig(async (rig) => {
    const first = message("hello from the canvas");
    const second = message("peer asks", { peer_id: rig.peer.id, kind: "peer_agent" });
    await queue(rig, first, second);
    const out = await rig.call("inbox_peek", {});
    assertEquals(out.isError, false);
    assertEquals(JSON.parse(out.text), [shown(first), shown(second)]);
    assertEquals(ids((await rig.call("inbox_peek")).text), [first.activity_id, second.activity_id]);
    assertEquals(inboxOf(rig).size, 2);
  });
});

Deno.test("inbox_peek: terminal sequences, bidi overrides and invisible characters in a text never reach the agent", async () => {
  await withToolRig(async (rig) => {
    await queue(rig, message("hi\u001b]52;c;cGF5bG9hZA==\u0007 there\u202e\u200b!\r\nok"));
    const out = await rig.call("inbox_peek");
    const [shown] = JSON.parse(out.text);
    assertEquals(shown.text, "hi there!\nok");
    const waited = await rig.call("wait_for_message", { timeout_secs: 1 });
    assertEquals(JSON.parse(waited.text).text, "hi there!\nok");
  });
});

Deno.test("inbox_peek: limit caps the list, defaults to 10, and is clamped to 1..100", async () => {
  await withToolRig(async (rig) => {
    const msgs = Array.from({ length: 105 }, (_, i) => message(`m${i}`));
    await queue(rig, ...msgs);
    assertEquals(ids((await rig.call("inbox_peek", { limit: 3 })).text), [
      msgs[0]?.activity_id,
      msgs[1]?.activity_id,
      msgs[2]?.activity_id,
    ]);
    assertEquals(ids((await rig.call("inbox_peek")).text).length, 10);
    assertEquals(ids((await rig.call("inbox_peek", { limit: 0 })).text), [msgs[0]?.activity_id]);
    assertEquals(ids((await rig.call("inbox_peek", { limit: -5 })).text).length, 1);
    assertEquals(ids((await rig.call("inbox_peek", { limit: 500 })).text).length, 100);
  });
});

Deno.test("inbox_peek: a non-integer limit is refused with the argument named", async () => {
  await withToolRig(async (rig) => {
    const out = await rig.call("inbox_peek", { limit: "ten" });
    assertEquals(out.isError, true);
    assertStringIncludes(out.text, "limit");
  });
});

// ---- inbox_pop -----------------------------------------------------------------------------

Deno.test("inbox_pop: removes the message, and popping it again reports removed:false", async () => {
  await withToolRig(async (rig) => {
    const keep = message("keep me");
    const done = message("handled");
    await queue(rig, done, keep);
    const out = await rig.call("inbox_pop", { activity_id: done.activity_id });
    assertEquals(out.isError, false);
    assertEquals(JSON.parse(out.text), { removed: true, activity_id: done.activity_id });
    assertEquals(ids((await rig.call("inbox_peek")).text), [keep.activity_id]);
    const again = await rig.call("inbox_pop", { activity_id: done.activity_id });
    assertEquals(again.isError, false);
    assertEquals(JSON.parse(again.text), { removed: false, activity_id: done.activity_id });
  });
});

Deno.test("inbox_pop: an id echoed back in upper case or with spaces still removes the message", async () => {
  await withToolRig(async (rig) => {
    const msg = message("hi");
    await queue(rig, msg);
    const out = await rig.call("inbox_pop", {
      activity_id: `  ${msg.activity_id.toUpperCase()}\n`,
    });
    assertEquals(JSON.parse(out.text), { removed: true, activity_id: msg.activity_id });
    assertEquals(inboxOf(rig).size, 0);
  });
});

Deno.test("inbox_pop: an unknown id is removed:false, not an error", async () => {
  await withToolRig(async (rig) => {
    const out = await rig.call("inbox_pop", { activity_id: "not-a-known-id" });
    assertEquals(out.isError, false);
    assertEquals(JSON.parse(out.text), { removed: false, activity_id: "not-a-known-id" });
  });
});

Deno.test("inbox_pop: a blank or missing activity_id is refused and nothing is removed", async () => {
  await withToolRig(async (rig) => {
    await queue(rig, message("stay"));
    const blank = await rig.call("inbox_pop", { activity_id: "   " });
    assertEquals(blank.isError, true);
    assertStringIncludes(blank.text, "activity_id is empty");
    assertStringIncludes(blank.text, "Next:");
    const missing = await rig.call("inbox_pop", {});
    assertEquals(missing.isError, true);
    assertStringIncludes(missing.text, "activity_id is required");
    assertEquals(inboxOf(rig).size, 1);
  });
});

Deno.test("inbox_pop: a removal the journal cannot record keeps the message and says so", async () => {
  await withToolRig(async (rig) => {
    const msg = message("stays");
    await queue(rig, msg);
    await inboxOf(rig).close(); // every later write fails, as a vanished state dir would
    const out = await rig.call("inbox_pop", { activity_id: msg.activity_id });
    assertEquals(out.isError, true);
    assertStringIncludes(out.text, "stays queued");
    assertStringIncludes(out.text, "retry inbox_pop");
    assertStringIncludes(rig.logText(), "inbox_pop could not record the removal");
  });
});

// ---- wait_for_message ----------------------------------------------------------------------

Deno.test("wait_for_message: a queued message is returned at once and stays queued", async () => {
  await withToolRig(async (rig) => {
    const msg = message("already here", { peer_id: rig.peer.id, kind: "peer_agent" });
    await queue(rig, msg);
    const first = await rig.call("wait_for_message", { timeout_secs: 30 });
    assertEquals(first.isError, false);
    assertEquals(JSON.parse(first.text), shown(msg));
    const second = await rig.call("wait_for_message");
    assertEquals(JSON.parse(second.text), shown(msg));
    assertEquals(inboxOf(rig).size, 1);
    assertEquals(rig.clock.pendingSleeps, 0);
  });
});

Deno.test("wait_for_message: while it waits, another tool call is answered; then it times out", async () => {
  await withToolRig(async (rig) => {
    let settled = false;
    const waiting = rig.call("wait_for_message").finally(() => {
      settled = true;
    });
    await rig.clock.whenSleeping();
    // The server runs calls concurrently: a 30 s wait must not hold up other tools.
    const peek = await rig.call("inbox_peek");
    assertEquals(JSON.parse(peek.text), []);
    await rig.clock.advance(29_999);
    assertEquals(settled, false);
    await rig.clock.advance(1);
    const out = await waiting;
    assertEquals(out.isError, false);
    assertEquals(JSON.parse(out.text), { timeout: true, timeout_secs: 30 });
  });
});

Deno.test("wait_for_message: a message arriving during the wait is returned and stays queued", async () => {
  await withToolRig(async (rig) => {
    const waiting = rig.call("wait_for_message", { timeout_secs: 120 });
    await rig.clock.whenSleeping();
    const msg = message("just arrived");
    await queue(rig, msg);
    const out = await waiting;
    assertEquals(JSON.parse(out.text), shown(msg));
    assertEquals(ids((await rig.call("inbox_peek")).text), [msg.activity_id]);
    assertEquals(rig.clock.pendingSleeps, 0);
  });
});

Deno.test("wait_for_message: without a progress token a longer wait is cut to 50 s, and the result says so", async () => {
  await withToolRig(async (rig) => {
    let settled = false;
    const waiting = rig.call("wait_for_message", { timeout_secs: 120 }).finally(() => {
      settled = true;
    });
    await rig.clock.whenSleeping();
    await rig.clock.advance(49_999);
    assertEquals(settled, false);
    await rig.clock.advance(1);
    const out = JSON.parse((await waiting).text);
    assertEquals([out.timeout, out.timeout_secs, out.asked_secs], [true, 50, 120]);
    assertStringIncludes(out.note, "Call wait_for_message again to keep waiting");
  });
});

Deno.test("wait_for_message: with a progress token it waits up to 300 s, and timeout_secs above 300 waits 300 s", async () => {
  await withToolRig(async (rig) => {
    let settled = false;
    const waiting = rig.client.callTool(
      { name: "wait_for_message", arguments: { timeout_secs: 900 } },
      undefined,
      { onprogress: () => {}, timeout: 3_600_000 },
    ).finally(() => {
      settled = true;
    });
    await rig.clock.whenSleeping();
    await rig.clock.advance(299_999);
    assertEquals(settled, false);
    await rig.clock.advance(1);
    const result = await waiting;
    const content = Array.isArray(result.content) ? result.content : [];
    assertEquals(JSON.parse(content[0]?.text ?? ""), { timeout: true, timeout_secs: 300 });
  });
});

Deno.test("wait_for_message: zero or negative timeout_secs just checks and returns at once", async () => {
  await withToolRig(async (rig) => {
    const negative = await rig.call("wait_for_message", { timeout_secs: -3 });
    assertEquals(JSON.parse(negative.text), { timeout: true, timeout_secs: 0 });
    const zero = await rig.call("wait_for_message", { timeout_secs: 0 });
    assertEquals(JSON.parse(zero.text), { timeout: true, timeout_secs: 0 });
    assertEquals(rig.clock.pendingSleeps, 0);
  });
});

Deno.test("wait_for_message: fractional seconds are kept in the timeout answer", async () => {
  await withToolRig(async (rig) => {
    const waiting = rig.call("wait_for_message", { timeout_secs: 1.5 });
    await rig.clock.whenSleeping();
    await rig.clock.advance(1_500);
    assertEquals(JSON.parse((await waiting).text), { timeout: true, timeout_secs: 1.5 });
  });
});

Deno.test("wait_for_message: cancelling the call ends the wait and leaves no timer", async () => {
  await withToolRig(async (rig) => {
    const controller = new AbortController();
    const call = rig.client.callTool(
      { name: "wait_for_message", arguments: { timeout_secs: 300 } },
      undefined,
      { signal: controller.signal },
    );
    await rig.clock.whenSleeping();
    controller.abort("operator pressed Esc");
    await assertRejects(() => call);
    // The server needs a round trip to see the cancellation; a ping provides it.
    await rig.client.ping();
    await flushMicrotasks();
    assertEquals(rig.clock.pendingSleeps, 0);
  });
});

// ---- inbox disabled ------------------------------------------------------------------------

Deno.test("inbox tools: with the inbox disabled each says MOLECULE_MCP_DISABLE_INBOX is set", async () => {
  await withToolRig(async (rig) => {
    for (
      const [name, args] of [
        ["wait_for_message", { timeout_secs: 60 }],
        ["inbox_peek", {}],
        ["inbox_pop", { activity_id: crypto.randomUUID() }],
      ] as const
    ) {
      const out = await rig.call(name, args);
      assertEquals(out.isError, true, name);
      assertStringIncludes(out.text, "MOLECULE_MCP_DISABLE_INBOX is set");
      assertStringIncludes(out.text, "Next:");
    }
    assertEquals(rig.clock.pendingSleeps, 0);
    assertEquals(rig.platform.requests.length, 0);
  }, { isInboxDisabled: true });
});

Deno.test("inbox tools: tools/list marks peek and wait read-only and pop idempotent", async () => {
  await withToolRig(async (rig) => {
    const { tools } = await rig.client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    assertEquals(byName.get("inbox_peek")?.annotations?.readOnlyHint, true);
    assertEquals(byName.get("wait_for_message")?.annotations?.readOnlyHint, true);
    assertEquals(byName.get("inbox_pop")?.annotations?.readOnlyHint, false);
    assertEquals(byName.get("inbox_pop")?.annotations?.idempotentHint, true);
    assertEquals(byName.get("inbox_pop")?.inputSchema.required, ["activity_id"]);
    assertEquals(
      Object.keys(byName.get("wait_for_message")?.inputSchema.properties ?? {}),
      ["timeout_secs"],
    );
  });
});

// ---- inbox still loading (journal replayed in the background) -------------------------------

/** Makes the rig's inbox look as it does while its journal is replayed; returns the release. */
function loadingInbox(rig: ToolRig): (opened: InboxOpening) => void {
  let release: (opened: InboxOpening) => void = () => {};
  const opening = new Promise<InboxOpening>((resolve) => (release = resolve));
  rig.deps.inbox = null;
  rig.deps.inboxUnavailable = inboxLoading(opening);
  return release;
}

Deno.test("inbox tools: a call made while the journal loads waits for it, then answers", async () => {
  await withToolRig(async (rig) => {
    const inbox = inboxOf(rig);
    const m = message("saved before the restart");
    await queue(rig, m);
    const release = loadingInbox(rig);
    const peek = rig.call("inbox_peek", {});
    const wait = rig.call("wait_for_message", { timeout_secs: 0 });
    await rig.clock.whenSleeping();
    release({ inbox, unavailable: null });
    assertEquals(ids((await peek).text), [m.activity_id]);
    assertEquals(JSON.parse((await wait).text).activity_id, m.activity_id);
    const pop = await rig.call("inbox_pop", { activity_id: m.activity_id });
    assertEquals(JSON.parse(pop.text), { removed: true, activity_id: m.activity_id });
    await flushMicrotasks();
    assertEquals(rig.clock.pendingSleeps, 0, "the wait for the journal left no timer");
  });
});

Deno.test("inbox tools: a journal still loading after 30 s gets a clear answer, not a hang", async () => {
  await withToolRig(async (rig) => {
    const release = loadingInbox(rig);
    const peek = rig.call("inbox_peek", {});
    await rig.clock.whenSleeping();
    await rig.clock.advance(30_000);
    const out = await peek;
    assertEquals(out.isError, true);
    assertStringIncludes(out.text, "still loading its journal");
    assertStringIncludes(out.text, "Next:");
    release({ inbox: inboxOf(rig), unavailable: null });
  });
});

Deno.test("inbox tools: an inbox that fails to open answers with the reason", async () => {
  await withToolRig(async (rig) => {
    const release = loadingInbox(rig);
    const pop = rig.call("inbox_pop", { activity_id: crypto.randomUUID() });
    await rig.clock.whenSleeping();
    release({
      inbox: null,
      unavailable: { message: "The inbox cannot be opened: disk full", next: "free space" },
    });
    const out = await pop;
    assertEquals(out.isError, true);
    assertStringIncludes(out.text, "disk full");
  });
});

// ---- the first poll of a fresh start --------------------------------------------------------

Deno.test("inbox tools: right after start they wait for the first poll, then list what it brought", async () => {
  await withToolRig(async (rig) => {
    for (const tool of ["inbox_peek", "wait_for_message"]) {
      const firstPoll = Promise.withResolvers<void>();
      rig.deps.firstPoll = firstPoll.promise;
      let isAnswered = false;
      const call = rig.call(tool, tool === "wait_for_message" ? { timeout_secs: 0 } : {})
        .then((out) => {
          isAnswered = true;
          return out;
        });
      await flushMicrotasks(50);
      assertEquals(isAnswered, false, `${tool} answered before the first poll`);
      const waiting = message(`waiting on the platform for ${tool}`);
      await queue(rig, waiting); // what the first poll brings
      firstPoll.resolve();
      const out = await call;
      assertStringIncludes(out.text, waiting.activity_id, tool);
      await inboxOf(rig).pop(waiting.activity_id);
    }
  });
});

Deno.test("inbox tools: a first poll that hangs delays the answer by at most 3 s", async () => {
  await withToolRig(async (rig) => {
    rig.deps.firstPoll = new Promise<void>(() => {});
    let isAnswered = false;
    const call = rig.call("inbox_peek").then((out) => {
      isAnswered = true;
      return out;
    });
    await rig.clock.whenSleeping(1);
    await rig.clock.advance(FIRST_POLL_WAIT_MS - 1);
    assertEquals(isAnswered, false);
    await rig.clock.advance(1);
    const out = await call;
    assertEquals(out.isError, false);
    assertEquals(JSON.parse(out.text), []);
  });
});

Deno.test("inbox tools: message text is sanitised and every message is marked untrusted", async () => {
  await withToolRig(async (rig) => {
    const hostile = message("\u001b]0;pwned\u0007hi\u202e there\u200b 日本 😀\r\nnext");
    await queue(rig, hostile);
    for (const tool of ["inbox_peek", "wait_for_message"]) {
      const out = await rig.call(tool, tool === "wait_for_message" ? { timeout_secs: 0 } : {});
      const parsed: unknown = JSON.parse(out.text);
      const [got] = Array.isArray(parsed) ? parsed : [parsed];
      assertEquals(got.text, "hi there 日本 😀\nnext", tool);
      assertEquals(got.untrusted, true, tool);
      assertEquals(got.note, UNTRUSTED_NOTE, tool);
    }
  });
});

// ---- inbox notice (hosts without push) -----------------------------------------------------

Deno.test("inbox notice: other tools' results end with one line per new arrival; the inbox tools clear it", async () => {
  await withToolRig(async (rig) => {
    const notice = new InboxNotice();
    rig.deps.inboxNotice = notice;
    inboxOf(rig).onArrived((msgs) => notice.noteArrivals(msgs.length));
    const plain = await rig.call("get_runtime_identity");
    assert(!plain.text.includes("[inbox:"), plain.text);

    await queue(rig, message("first"));
    const told = await rig.call("get_runtime_identity");
    assert(told.text.endsWith("[inbox: 1 message waiting — call inbox_peek]"), told.text);
    const again = await rig.call("get_runtime_identity");
    assert(!again.text.includes("[inbox:"), "once per arrival, not on every call");

    await queue(rig, message("second"), message("third"));
    const more = await rig.call("get_runtime_identity");
    assert(more.text.endsWith("[inbox: 3 messages waiting — call inbox_peek]"), more.text);

    await queue(rig, message("fourth"));
    const peek = await rig.call("inbox_peek");
    assert(!peek.text.includes("[inbox:"), "the inbox tools never carry it");
    const afterPeek = await rig.call("get_runtime_identity");
    assert(!afterPeek.text.includes("[inbox:"), "seen through inbox_peek: no notice");
  });
});

Deno.test("inbox notice: with no InboxNotice in the deps (what main.ts passes for MOLECULE_MCP_INBOX_NOTICE=0) results stay as they are", async () => {
  await withToolRig(async (rig) => {
    await queue(rig, message("quiet"));
    const out = await rig.call("get_runtime_identity");
    assert(!out.text.includes("[inbox:"), out.text);
  });
});
