/**
 * The inbox's size limits (issue 10 item 5): one message's text is capped at 256 KiB with a
 * marker, and pending messages have a byte budget beside the count cap, with the same
 * backpressure (nothing discarded).
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { DurableInbox } from "../../lib/inbox/inbox.ts";
import {
  type InboxMessage,
  MESSAGE_TEXT_CAP_BYTES,
  messageBytes,
} from "../../lib/inbox/message.ts";

import { captureLog } from "../fakes/log_capture.ts";
import { ManualClock } from "../fakes/manual_clock.ts";
import { withTempDir } from "../fakes/temp_dir.ts";
import { TEST_WORKSPACE_ID } from "../fakes/inbox_files.ts";

const T0 = Date.UTC(2026, 4, 1, 10, 0, 0);

function msg(n: number, text = `hello ${n}`): InboxMessage {
  return {
    activity_id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    text,
    peer_id: "",
    kind: "canvas_user",
    method: "message/send",
    created_at: new Date(T0 + n * 1000).toISOString(),
  };
}

function open(dir: string, opts: { byteBudget?: number; log?: ReturnType<typeof captureLog> }) {
  const captured = opts.log ?? captureLog();
  const base = { dir, log: captured.log, clock: new ManualClock(), workspaceId: TEST_WORKSPACE_ID };
  return DurableInbox.open(
    opts.byteBudget === undefined ? base : { ...base, byteBudget: opts.byteBudget },
  );
}

const encoder = new TextEncoder();

Deno.test("inbox: a message over 256 KiB is cut on a code point and says its full length", async () => {
  await withTempDir(async (dir) => {
    const inbox = await open(dir, {});
    // 1 byte, then 4-byte emoji: the cap falls inside one, which must not be split.
    const long = "a" + "😀".repeat(100_000); // 400,001 bytes of UTF-8
    const { queued } = await inbox.accept({ messages: [msg(1, long)], skipped: [] });
    const text = queued[0]?.text ?? "";
    const [kept = "", marker = ""] = text.split("\n\n[molecule-mcp cut this message");
    assertEquals(encoder.encode(kept).length, 1 + 4 * Math.floor((MESSAGE_TEXT_CAP_BYTES - 1) / 4));
    assert(long.startsWith(kept));
    assert(!/[\ud800-\udbff]$/.test(kept), "no half surrogate pair at the cut");
    assertStringIncludes(marker, "400,001 bytes");
    assertStringIncludes(marker, "262,141 are kept");
    await inbox.close();
    const again = await open(dir, {});
    assertEquals(
      again.head()?.text,
      text,
      "the agent sees the cut text and marker after a restart",
    );
    await again.close();
  });
});

Deno.test("inbox: a message within 256 KiB is kept whole", async () => {
  await withTempDir(async (dir) => {
    const inbox = await open(dir, {});
    const exact = "é".repeat(MESSAGE_TEXT_CAP_BYTES / 2); // exactly the cap in UTF-8
    const { queued } = await inbox.accept({ messages: [msg(1, exact)], skipped: [] });
    assertEquals(queued[0]?.text, exact);
    await inbox.close();
  });
});

Deno.test("inbox: the byte budget holds messages back like the count cap, and pop resumes", async () => {
  await withTempDir(async (dir) => {
    const captured = captureLog("info");
    const big = (n: number) => msg(n, `${n} `.padEnd(10_000, "x"));
    const size = messageBytes(big(1));
    const inbox = await open(dir, { byteBudget: 3 * size + 10, log: captured });
    let roomCalls = 0;
    inbox.onRoom(() => roomCalls++);
    const first = await inbox.accept({ messages: [1, 2, 3, 4, 5].map(big), skipped: [] });
    assertEquals(first.taken, 3, "the cursor may move past three messages only");
    assert(inbox.isFull);
    assertEquals(inbox.size, 3);
    const again = await inbox.accept({ messages: [4, 5].map(big), skipped: [] });
    assertEquals(again.taken, 0);
    const full = captured.lines.filter((l) => l.includes("inbox is full"));
    assertEquals(full.length, 1, "said once");
    assertStringIncludes(full[0] ?? "", "byteBudget=");

    await inbox.pop(big(1).activity_id);
    assert(!inbox.isFull);
    assertEquals(roomCalls, 1);
    const resumed = await inbox.accept({ messages: [4, 5].map(big), skipped: [] });
    assertEquals(resumed.taken, 1);
    assertEquals(inbox.peek(10).map((m) => m.text.split(" ")[0]), ["2", "3", "4"]);
    await inbox.close();
  });
});

Deno.test("inbox: a journal past the byte budget (an older version's) loads whole, then waits", async () => {
  await withTempDir(async (dir) => {
    const first = await open(dir, {});
    const batch = Array.from({ length: 10 }, (_, i) => msg(i + 1, "y".repeat(5_000)));
    await first.accept({ messages: batch, skipped: [] });
    await first.close();
    const captured = captureLog("warn");
    const second = await open(dir, { byteBudget: 20_000, log: captured });
    assertEquals(second.size, 10);
    assert(second.isFull);
    assertStringIncludes(captured.text(), "inbox is full");
    assertEquals((await second.accept({ messages: [msg(11)], skipped: [] })).taken, 0);
    await second.close();
  });
});

Deno.test("inbox: an empty inbox takes a message even when it is larger than the budget", async () => {
  await withTempDir(async (dir) => {
    const inbox = await open(dir, { byteBudget: 100 });
    const { taken } = await inbox.accept({ messages: [msg(1, "z".repeat(1000))], skipped: [] });
    assertEquals(taken, 1);
    assert(inbox.isFull);
    await inbox.close();
  });
});
