import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import { DurableInbox } from "../../lib/inbox/inbox.ts";
import type { InboxMessage } from "../../lib/inbox/message.ts";
import { InboxBusyError } from "../../lib/inbox/lock.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { ManualClock } from "../fakes/manual_clock.ts";
import { withTempDir } from "../fakes/temp_dir.ts";
import { TEST_WORKSPACE_ID } from "../fakes/inbox_files.ts";

const T0 = Date.UTC(2026, 4, 1, 10, 0, 0);

/** Message number `n`, created `n` seconds after T0 unless `atMs` says otherwise. */
function msg(n: number, atMs = T0 + n * 1000): InboxMessage {
  return {
    activity_id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    text: `hello ${n}`,
    peer_id: "",
    kind: "canvas_user",
    method: "message/send",
    created_at: new Date(atMs).toISOString(),
  };
}

function ids(msgs: readonly InboxMessage[]): string[] {
  return msgs.map((m) => m.text);
}

function openInbox(dir: string, extra: { capacity?: number; log?: ReturnType<typeof captureLog> }) {
  const captured = extra.log ?? captureLog();
  const opts = { dir, log: captured.log, clock: new ManualClock(), workspaceId: TEST_WORKSPACE_ID };
  return DurableInbox.open(
    extra.capacity === undefined ? opts : { ...opts, capacity: extra.capacity },
  );
}

Deno.test("inbox: accepted messages survive a restart, oldest first", async () => {
  await withTempDir(async (dir) => {
    const first = await openInbox(dir, {});
    await first.accept({ messages: [msg(1), msg(2)], skipped: [] });
    await first.accept({ messages: [msg(3)], skipped: [] });
    await first.close();

    const second = await openInbox(dir, {});
    assertEquals(ids(second.peek(10)), ["hello 1", "hello 2", "hello 3"]);
    assertEquals(second.peek(10)[0], msg(1));
    assertEquals(ids(second.peek(2)), ["hello 1", "hello 2"]);
    assertEquals(second.head()?.text, "hello 1");
    assertEquals(second.size, 3);
    await second.close();
  });
});

Deno.test("inbox: a popped message is gone after a restart and popping it again is harmless", async () => {
  await withTempDir(async (dir) => {
    const first = await openInbox(dir, {});
    await first.accept({ messages: [msg(1), msg(2)], skipped: [] });
    assertEquals(await first.pop(msg(1).activity_id), true);
    assertEquals(await first.pop(msg(1).activity_id), false);
    assertEquals(await first.pop("11111111-2222-4333-8444-555555555555"), false);
    await first.close();

    const second = await openInbox(dir, {});
    assertEquals(ids(second.peek(10)), ["hello 2"]);
    assertEquals(await second.pop(msg(1).activity_id), false);
    await second.close();
  });
});

Deno.test("inbox: the same activity id is queued and announced once, within and across batches", async () => {
  await withTempDir(async (dir) => {
    const inbox = await openInbox(dir, {});
    const announced: string[][] = [];
    inbox.onArrived((msgs) => announced.push(ids(msgs)));

    const a = await inbox.accept({ messages: [msg(1), msg(1), msg(2)], skipped: [] });
    assertEquals(a.taken, 3);
    assertEquals(ids(a.queued), ["hello 1", "hello 2"]);
    const b = await inbox.accept({ messages: [msg(2), msg(3)], skipped: [] });
    assertEquals(b.taken, 2);
    assertEquals(ids(b.queued), ["hello 3"]);
    const c = await inbox.accept({ messages: [msg(3)], skipped: [] });
    assertEquals(c, { taken: 1, queued: [] });

    assertEquals(announced, [["hello 1", "hello 2"], ["hello 3"]]);
    assertEquals(ids(inbox.peek(10)), ["hello 1", "hello 2", "hello 3"]);
    await inbox.close();
  });
});

Deno.test("inbox: popped and skipped ids are still refused after a restart", async () => {
  await withTempDir(async (dir) => {
    const first = await openInbox(dir, {});
    const skippedRow = msg(2);
    await first.accept({
      messages: [msg(1)],
      skipped: [{ id: skippedRow.activity_id, created_at: skippedRow.created_at }],
    });
    await first.pop(msg(1).activity_id);
    await first.close();

    const second = await openInbox(dir, {});
    assert(second.hasSeen(msg(1).activity_id));
    assert(second.hasSeen(skippedRow.activity_id));
    assert(!second.hasSeen(msg(3).activity_id));
    const again = await second.accept({ messages: [msg(1), skippedRow, msg(3)], skipped: [] });
    assertEquals(again.taken, 3);
    assertEquals(ids(again.queued), ["hello 3"]);
    await second.close();
  });
});

Deno.test("inbox: a popped id is remembered for 30 minutes of row time, then forgotten", async () => {
  await withTempDir(async (dir) => {
    const inbox = await openInbox(dir, {});
    await inbox.accept({ messages: [msg(1, T0)], skipped: [] });
    await inbox.pop(msg(1).activity_id);
    await inbox.accept({ messages: [msg(2, T0 + 29 * 60_000)], skipped: [] });
    assert(inbox.hasSeen(msg(1).activity_id), "29 minutes later the id is still known");
    await inbox.accept({ messages: [msg(3, T0 + 31 * 60_000)], skipped: [] });
    assert(!inbox.hasSeen(msg(1).activity_id), "31 minutes later the id is forgotten");
    assert(inbox.hasSeen(msg(2).activity_id));
    await inbox.close();

    const reopened = await openInbox(dir, {});
    assert(!reopened.hasSeen(msg(1).activity_id));
    assert(reopened.hasSeen(msg(2).activity_id));
    await reopened.close();
  });
});

Deno.test("inbox: a full inbox takes only the room left, says so once, and pop frees room", async () => {
  await withTempDir(async (dir) => {
    const captured = captureLog("info");
    const inbox = await openInbox(dir, { capacity: 3, log: captured });
    let roomCalls = 0;
    inbox.onRoom(() => roomCalls++);

    const first = await inbox.accept({
      messages: [msg(1), msg(2), msg(3), msg(4), msg(5)],
      skipped: [],
    });
    assertEquals(first.taken, 3);
    assertEquals(ids(first.queued), ["hello 1", "hello 2", "hello 3"]);
    assert(inbox.isFull);
    assertEquals(inbox.capacity, 3);
    // Duplicates need no room, so they are taken even when full; the first new one is not.
    const second = await inbox.accept({ messages: [msg(3), msg(4), msg(5)], skipped: [] });
    assertEquals(second, { taken: 1, queued: [] });
    const fullWarnings = captured.lines.filter((l) => l.includes("inbox is full"));
    assertEquals(fullWarnings.length, 1);
    assertStringIncludes(fullWarnings[0] ?? "", "warn");
    assertEquals(roomCalls, 0);

    await inbox.pop(msg(1).activity_id);
    assert(!inbox.isFull);
    assertEquals(roomCalls, 1);
    assertEquals(captured.lines.filter((l) => l.includes("inbox has room again")).length, 1);
    await inbox.pop(msg(2).activity_id);
    assertEquals(roomCalls, 1, "room is announced once per full period");

    const third = await inbox.accept({ messages: [msg(4), msg(5)], skipped: [] });
    assertEquals(third.taken, 2);
    assertEquals(ids(inbox.peek(10)), ["hello 3", "hello 4", "hello 5"]);
    await inbox.close();
  });
});

Deno.test("inbox: messages beyond a lowered capacity are kept after a restart, never dropped", async () => {
  await withTempDir(async (dir) => {
    const first = await openInbox(dir, {});
    await first.accept({ messages: [msg(1), msg(2), msg(3)], skipped: [] });
    await first.close();
    const captured = captureLog("warn");
    const second = await openInbox(dir, { capacity: 2, log: captured });
    assertEquals(second.size, 3);
    assert(second.isFull);
    assertStringIncludes(captured.text(), "inbox is full");
    assertEquals((await second.accept({ messages: [msg(4)], skipped: [] })).taken, 0);
    await second.close();
  });
});

Deno.test("inbox: a throwing arrival listener is logged and does not break accept", async () => {
  await withTempDir(async (dir) => {
    const captured = captureLog("warn");
    const inbox = await openInbox(dir, { log: captured });
    const seen: string[] = [];
    inbox.onArrived(() => {
      throw new Error("stdout closed");
    });
    inbox.onArrived(() => Promise.reject(new Error("async push failed")));
    const unsubscribe = inbox.onArrived((msgs) => seen.push(...ids(msgs)));

    const result = await inbox.accept({ messages: [msg(1)], skipped: [] });
    assertEquals(ids(result.queued), ["hello 1"]);
    assertEquals(seen, ["hello 1"]);
    unsubscribe();
    await inbox.accept({ messages: [msg(2)], skipped: [] });
    assertEquals(seen, ["hello 1"]);
    assertStringIncludes(captured.text(), "stdout closed");
    assertStringIncludes(captured.text(), "async push failed");
    assertEquals(inbox.size, 2);
    await inbox.close();
  });
});

Deno.test("inbox: wait returns the head at once without removing it", async () => {
  await withTempDir(async (dir) => {
    const inbox = await openInbox(dir, {});
    await inbox.accept({ messages: [msg(1), msg(2)], skipped: [] });
    assertEquals((await inbox.wait(60_000))?.text, "hello 1");
    assertEquals((await inbox.wait(60_000))?.text, "hello 1");
    assertEquals(inbox.size, 2);
    await inbox.close();
  });
});

Deno.test("inbox: wait resolves on the next arrival, for every waiter", async () => {
  await withTempDir(async (dir) => {
    const clock = new ManualClock();
    const inbox = await DurableInbox.open({
      dir,
      log: captureLog().log,
      clock,
      workspaceId: TEST_WORKSPACE_ID,
    });
    const first = inbox.wait(60_000);
    const second = inbox.wait(5_000);
    await clock.whenSleeping(2);
    await inbox.accept({ messages: [msg(1)], skipped: [] });
    assertEquals((await first)?.text, "hello 1");
    assertEquals((await second)?.text, "hello 1");
    assertEquals(clock.pendingSleeps, 0, "the timeout sleeps were cancelled");
    await inbox.close();
  });
});

Deno.test("inbox: wait gives null when the timeout passes, an abort comes or the inbox closes", async () => {
  await withTempDir(async (dir) => {
    const clock = new ManualClock();
    const inbox = await DurableInbox.open({
      dir,
      log: captureLog().log,
      clock,
      workspaceId: TEST_WORKSPACE_ID,
    });

    const timed = inbox.wait(2_000);
    await clock.whenSleeping(1);
    await clock.advance(1_999);
    let settled = false;
    void timed.then(() => settled = true);
    await clock.advance(0);
    assert(!settled, "still waiting before the timeout");
    await clock.advance(1);
    assertEquals(await timed, null);

    const controller = new AbortController();
    const aborted = inbox.wait(60_000, controller.signal);
    controller.abort();
    assertEquals(await aborted, null);
    assertEquals(await inbox.wait(60_000, controller.signal), null);
    assertEquals(await inbox.wait(0), null);

    const closing = inbox.wait(60_000);
    await inbox.close();
    assertEquals(await closing, null);
    assertEquals(clock.pendingSleeps, 0);
  });
});

Deno.test("inbox: after close, accept and pop are refused with a clear error", async () => {
  await withTempDir(async (dir) => {
    const inbox = await openInbox(dir, {});
    await inbox.close();
    const err = await assertRejects(() => inbox.accept({ messages: [msg(1)], skipped: [] }));
    assertStringIncludes(err.message, "closed");
    await assertRejects(() => inbox.pop(msg(1).activity_id));
  });
});

Deno.test("inbox: a state directory that does not exist is reported with the path", async () => {
  await withTempDir(async (dir) => {
    const err = await assertRejects(() => openInbox(`${dir}/missing`, {}));
    assertStringIncludes(err.message, `${dir}/missing/.mcp_inbox`);
    assertStringIncludes(err.message, "writable");
  });
});

Deno.test("inbox: workspaces sharing a state directory keep separate queues", async () => {
  await withTempDir(async (dir) => {
    const log = captureLog().log;
    const clock = new ManualClock();
    const a = await DurableInbox.open({
      dir,
      log,
      clock,
      workspaceId: "aaaaaaaa-0000-4000-8000-000000000000",
    });
    const b = await DurableInbox.open({
      dir,
      log,
      clock,
      workspaceId: "bbbbbbbb-0000-4000-8000-000000000000",
    });
    await a.accept({ messages: [msg(1)], skipped: [] });
    await b.accept({ messages: [msg(2)], skipped: [] });
    await a.close();
    await b.close();
    const again = await DurableInbox.open({
      dir,
      log,
      clock,
      workspaceId: "aaaaaaaa-0000-4000-8000-000000000000",
    });
    assertEquals(ids(again.peek(10)), ["hello 1"]);
    await again.close();
  });
});

Deno.test("inbox: a message without an activity id is refused with a warning, the batch goes on", async () => {
  await withTempDir(async (dir) => {
    const captured = captureLog("warn");
    const inbox = await openInbox(dir, { log: captured });
    const result = await inbox.accept({
      messages: [{ ...msg(1), activity_id: "" }, msg(2)],
      skipped: [{ id: "", created_at: msg(3).created_at }],
    });
    assertEquals(result.taken, 2);
    assertEquals(ids(result.queued), ["hello 2"]);
    assertStringIncludes(captured.text(), "without an activity id");
    await inbox.close();
    const reopened = await openInbox(dir, { log: captured });
    assertEquals(ids(reopened.peek(10)), ["hello 2"]);
    assert(!captured.text().includes("damaged"));
    await reopened.close();
  });
});

Deno.test("inbox: the warning about a message without an activity id quotes its text cut whole and sanitised", async () => {
  await withTempDir(async (dir) => {
    const captured = captureLog("warn");
    const inbox = await openInbox(dir, { log: captured });
    // A bidi override, 198 letters, then an emoji: cutting at 200 UTF-16 units would split
    // its surrogate pair.
    const text = "\u202E" + "a".repeat(198) + "\u{1F600}tail";
    await inbox.accept({ messages: [{ ...msg(1), activity_id: "", text }], skipped: [] });
    const logged = captured.text();
    assertStringIncludes(logged, "without an activity id");
    assert(!/\\ud83d/i.test(logged), `a lone surrogate was logged: ${logged}`);
    assert(!logged.includes("\u202E"), "the bidi override was logged");
    await inbox.close();
  });
});

Deno.test("inbox: a second opener of the same inbox is refused until the first closes", async () => {
  await withTempDir(async (dir) => {
    const first = await openInbox(dir, {});
    const err = await assertRejects(() => openInbox(dir, {}), InboxBusyError);
    assertStringIncludes(err.message, `pid ${Deno.pid}`);
    await first.close();
    const second = await openInbox(dir, {});
    await second.close();
  });
});
