import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { DurableInbox } from "../../lib/inbox/inbox.ts";
import { parseCursor } from "../../lib/inbox/cursor.ts";
import type { InboxMessage } from "../../lib/inbox/message.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { ManualClock } from "../fakes/manual_clock.ts";
import { withTempDir } from "../fakes/temp_dir.ts";

const ROW_ID = "0b5e2c1a-7f3d-4c2b-9a8e-1d2c3b4a5f60";
const ROW_AT = "2026-05-01T10:11:12.123456Z";

function msg(n: number): InboxMessage {
  return {
    activity_id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    text: `hello ${n}`,
    peer_id: "",
    kind: "canvas_user",
    method: "message/send",
    created_at: new Date(Date.UTC(2026, 4, 1, 10) + n * 1000).toISOString(),
  };
}

function open(dir: string, log = captureLog()) {
  return DurableInbox.open({ dir, log: log.log, clock: new ManualClock() });
}

Deno.test("inbox cursor: a saved cursor is back after a restart, in a 0600 JSON file", async () => {
  await withTempDir(async (dir) => {
    const first = await open(dir);
    assertEquals(first.cursor, null);
    await first.setCursor({ id: ROW_ID, created_at: ROW_AT });
    assertEquals(first.cursor, { id: ROW_ID, created_at: ROW_AT });
    await first.close();

    const path = `${dir}/.mcp_inbox_cursor`;
    assertEquals(JSON.parse(await Deno.readTextFile(path)), { id: ROW_ID, created_at: ROW_AT });
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
    const second = await open(dir);
    assertEquals(second.cursor, { id: ROW_ID, created_at: ROW_AT });
    await second.close();
  });
});

Deno.test("inbox cursor: upstream's plain-id cursor file is still understood", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/.mcp_inbox_cursor`, `${ROW_ID.toUpperCase()}\n`, {
      mode: 0o600,
    });
    await Deno.chmod(`${dir}/.mcp_inbox_cursor`, 0o600);
    const captured = captureLog("warn");
    const inbox = await open(dir, captured);
    assertEquals(inbox.cursor, { id: ROW_ID, created_at: null });
    assertEquals(captured.lines, []);
    await inbox.close();
  });
});

Deno.test("inbox cursor: a corrupt cursor file means no cursor plus a warning, never a failure", async () => {
  for (const content of ["{not json", '{"id":"not-a-uuid"}', '{"id":42}', "[]", ""]) {
    await withTempDir(async (dir) => {
      await Deno.writeTextFile(`${dir}/.mcp_inbox_cursor`, content);
      const captured = captureLog("warn");
      const inbox = await open(dir, captured);
      assertEquals(inbox.cursor, null, `content ${JSON.stringify(content)}`);
      assertStringIncludes(captured.text(), "inbox cursor file is corrupt");
      assertStringIncludes(captured.text(), `${dir}/.mcp_inbox_cursor`);
      await inbox.close();
    });
  }
});

Deno.test("inbox cursor: a missing cursor file is a quiet first start", async () => {
  await withTempDir(async (dir) => {
    const captured = captureLog("debug");
    const inbox = await open(dir, captured);
    assertEquals(inbox.cursor, null);
    assert(!captured.text().includes("cursor"));
    await inbox.close();
  });
});

Deno.test("inbox cursor: parseCursor accepts a missing created_at and rejects a bad one", () => {
  assertEquals(parseCursor(JSON.stringify({ id: ROW_ID })), { id: ROW_ID, created_at: null });
  assertEquals(parseCursor(JSON.stringify({ id: ROW_ID, created_at: "yesterday" })), null);
  assertEquals(parseCursor(JSON.stringify({ id: ROW_ID, created_at: 5 })), null);
});

Deno.test("inbox cursor: forgetting the cursor (after a 410) survives a restart", async () => {
  await withTempDir(async (dir) => {
    const first = await open(dir);
    await first.setCursor({ id: ROW_ID, created_at: ROW_AT });
    await first.forgetCursor();
    assertEquals(first.cursor, null);
    await first.forgetCursor();
    await first.close();
    const second = await open(dir);
    assertEquals(second.cursor, null);
    await second.close();
  });
});

Deno.test("inbox cursor: a failed cursor write only logs, once, and the cursor is kept in memory", async () => {
  await withTempDir(async (dir) => {
    // A non-empty directory where the file should be: the atomic rename fails, even as root.
    await Deno.mkdir(`${dir}/.mcp_inbox_cursor/blocker`, { recursive: true });
    const captured = captureLog("info");
    const inbox = await open(dir, captured);
    await inbox.setCursor({ id: ROW_ID, created_at: ROW_AT });
    await inbox.setCursor({ id: ROW_ID, created_at: ROW_AT });
    assertEquals(inbox.cursor, { id: ROW_ID, created_at: ROW_AT });
    const warnings = captured.lines.filter((l) => l.includes("cannot write the inbox cursor"));
    assertEquals(warnings.length, 1);
    assertStringIncludes(warnings[0] ?? "", "next=");

    await Deno.remove(`${dir}/.mcp_inbox_cursor`, { recursive: true });
    await inbox.setCursor({ id: ROW_ID, created_at: ROW_AT });
    assertStringIncludes(captured.text(), "inbox cursor file is written again");
    await inbox.close();
    const reopened = await open(dir);
    assertEquals(reopened.cursor, { id: ROW_ID, created_at: ROW_AT });
    await reopened.close();
  });
});

Deno.test("inbox cursor: a kill between the journal write and the cursor write replays nothing", async () => {
  await withTempDir(async (live) => {
    await withTempDir(async (afterKill) => {
      const inbox = await open(live);
      const older = msg(1);
      await inbox.accept({ messages: [older], skipped: [] });
      await inbox.setCursor({ id: older.activity_id, created_at: older.created_at });
      const batch = [msg(2), msg(3)];
      const skipped = { id: msg(4).activity_id, created_at: msg(4).created_at };
      await inbox.accept({ messages: batch, skipped: [skipped] });
      // The process dies here, before setCursor: the disk holds the batch and the old cursor.
      for (const name of [".mcp_inbox_journal", ".mcp_inbox_cursor"]) {
        await Deno.copyFile(`${live}/${name}`, `${afterKill}/${name}`);
      }
      await inbox.close();

      const restarted = await open(afterKill);
      assertEquals(restarted.cursor?.id, older.activity_id);
      const announced: InboxMessage[] = [];
      restarted.onArrived((msgs) => announced.push(...msgs));
      // The poller refetches from the old cursor and offers the same rows again.
      const again = await restarted.accept({ messages: batch, skipped: [skipped] });
      assertEquals(again, { taken: 2, queued: [] });
      assertEquals(announced, []);
      assertEquals(restarted.peek(10).map((m) => m.text), ["hello 1", "hello 2", "hello 3"]);
      await restarted.close();
    });
  });
});
