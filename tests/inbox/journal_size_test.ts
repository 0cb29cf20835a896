/**
 * Issue 10 item 5 at sizes a test can afford: the journal is written, compacted and replayed in
 * bounded pieces, whatever the size of the state (the 10,000 × 100 KB figures are in the bench).
 */
import { assert, assertEquals } from "../assert.ts";
import type { InboxMessage } from "../../lib/inbox/message.ts";
import { encodeRecord, RECORD_TARGET_BYTES } from "../../lib/inbox/journal.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { withTempDir } from "../fakes/temp_dir.ts";
import { openTestInbox, TEST_JOURNAL, TEST_WORKSPACE_ID } from "../fakes/inbox_files.ts";

const T0 = Date.UTC(2026, 4, 1, 10, 0, 0);
const KB = 1000;
/** A record may pass the target by one message at most (message text is capped at 256 KiB). */
const MAX_LINE_BYTES = Math.max(RECORD_TARGET_BYTES, 300 * 1024);

function msg(n: number, textBytes: number): InboxMessage {
  const head = `message ${n} `;
  return {
    activity_id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    text: head + "x".repeat(Math.max(0, textBytes - head.length)),
    peer_id: "",
    kind: "canvas_user",
    method: "message/send",
    created_at: new Date(T0 + n * 1000).toISOString(),
  };
}

/** Byte length of every line of the journal (the file read as bytes, never as one string). */
async function lineSizes(dir: string): Promise<number[]> {
  const bytes = await Deno.readFile(`${dir}/${TEST_JOURNAL}`);
  const sizes: number[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0a) {
      sizes.push(i - start);
      start = i + 1;
    }
  }
  assertEquals(start, bytes.length, "the journal ends with a complete line");
  return sizes;
}

Deno.test("inbox journal: a large batch is stored as bounded records, never as one", async () => {
  await withTempDir(async (dir) => {
    const inbox = await openTestInbox(dir);
    const batch = Array.from({ length: 40 }, (_, i) => msg(i + 1, 100 * KB));
    const { taken, queued } = await inbox.accept({ messages: batch, skipped: [] });
    assertEquals([taken, queued.length], [40, 40]);
    await inbox.close();
    const sizes = await lineSizes(dir);
    assert(sizes.length >= 4, `4 MB in ${sizes.length} line(s)`);
    assert(sizes.every((n) => n <= MAX_LINE_BYTES), `line sizes ${sizes.join(",")}`);
  });
});

Deno.test("inbox journal: compaction at restart writes bounded records and keeps every message", async () => {
  await withTempDir(async (dir) => {
    const first = await openTestInbox(dir);
    for (let n = 1; n <= 60; n++) {
      await first.accept({ messages: [msg(n, 100 * KB)], skipped: [] });
    }
    await first.pop(msg(1, 0).activity_id);
    await first.close();
    const second = await openTestInbox(dir); // replays, then rewrites the live state
    assertEquals(second.size, 59);
    const sizes = await lineSizes(dir);
    assert(sizes.every((n) => n <= MAX_LINE_BYTES), `line sizes ${sizes.join(",")}`);
    assert(sizes.length >= 5, `5.9 MB in ${sizes.length} line(s)`);
    await second.close();
    const third = await openTestInbox(dir);
    assertEquals(third.peek(100).map((m) => m.activity_id), [
      ...Array.from({ length: 59 }, (_, i) => msg(i + 2, 0).activity_id),
    ]);
    assertEquals(third.head()?.text, msg(2, 100 * KB).text);
    await third.close();
  });
});

Deno.test("inbox journal: an older version's multi-MB lines spanning read chunks still load", async () => {
  await withTempDir(async (dir) => {
    // Older versions wrote 200 messages per snapshot line: 3 lines of 3 MB here, each split
    // across the journal's 1 MiB reads, plus a pop and a torn last record.
    const lines: string[] = [encodeRecord({ op: "workspace", id: TEST_WORKSPACE_ID })];
    for (let line = 0; line < 3; line++) {
      const msgs = Array.from({ length: 30 }, (_, i) => msg(line * 30 + i + 1, 100 * KB));
      lines.push(encodeRecord({ op: "add", msgs, seen: [] }));
    }
    lines.push(encodeRecord({ op: "pop", id: msg(5, 0).activity_id }));
    const torn = encodeRecord({ op: "add", msgs: [msg(99, 10)], seen: [] });
    await Deno.writeTextFile(`${dir}/${TEST_JOURNAL}`, lines.join("") + torn.slice(0, 50), {
      mode: 0o600,
    });
    const captured = captureLog("warn");
    const inbox = await openTestInbox(dir, captured);
    assertEquals(inbox.size, 89);
    assertEquals(inbox.hasSeen(msg(99, 0).activity_id), false);
    assertEquals(captured.lines, [], "a clean older journal loads without warnings");
    assertEquals(inbox.peek(1)[0]?.text, msg(1, 100 * KB).text);
    // The torn record is cut off, so what is appended next survives the following restart.
    await inbox.accept({ messages: [msg(100, 10)], skipped: [] });
    await inbox.close();
    await lineSizes(dir); // ends with a complete line
    const again = await openTestInbox(dir);
    assertEquals(again.size, 90);
    await again.close();
  });
});

Deno.test("inbox journal: a clean journal of live messages is not rewritten at restart", async () => {
  await withTempDir(async (dir) => {
    const first = await openTestInbox(dir);
    await first.accept({ messages: [msg(1, 10 * KB), msg(2, 10 * KB)], skipped: [] });
    await first.close();
    const path = `${dir}/${TEST_JOURNAL}`;
    const before = await Deno.stat(path);
    const second = await openTestInbox(dir);
    await second.accept({ messages: [msg(3, 10 * KB)], skipped: [] });
    await second.close();
    const after = await Deno.stat(path);
    assertEquals(after.ino, before.ino, "appended to, not replaced");
    const third = await openTestInbox(dir);
    assertEquals(third.size, 3);
    await third.close();
  });
});

Deno.test("inbox journal: an empty journal file is rewritten with its owner before appends", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/${TEST_JOURNAL}`, new Uint8Array(), { mode: 0o600 });
    const first = await openTestInbox(dir);
    await first.accept({ messages: [msg(1, 10)], skipped: [] });
    await first.close();
    const second = await openTestInbox(dir);
    assertEquals(second.size, 1, "the message is served after a restart, not set aside");
    await second.close();
  });
});

Deno.test("inbox journal: compaction on demand rewrites the live state in bounded records", async () => {
  await withTempDir(async (dir) => {
    const inbox = await openTestInbox(dir);
    for (let n = 1; n <= 12; n++) {
      await inbox.accept({ messages: [msg(n, 100 * KB)], skipped: [] });
    }
    for (let n = 1; n <= 6; n++) await inbox.pop(msg(n, 0).activity_id);
    await inbox.compact();
    const sizes = await lineSizes(dir);
    assertEquals(sizes.length, 1 + 6, "the owner, then one record per 100 KB message");
    assert(sizes.every((n) => n <= MAX_LINE_BYTES));
    await inbox.close();
    const again = await openTestInbox(dir);
    assertEquals(again.size, 6);
    assert(again.hasSeen(msg(1, 0).activity_id));
    await again.close();
  });
});
