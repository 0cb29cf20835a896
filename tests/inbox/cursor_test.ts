import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { parseCursor } from "../../lib/inbox/cursor.ts";
import type { InboxMessage } from "../../lib/inbox/message.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { withTempDir } from "../fakes/temp_dir.ts";
import {
  openTestInbox,
  TEST_CURSOR,
  TEST_JOURNAL,
  TEST_WORKSPACE_ID,
} from "../fakes/inbox_files.ts";

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

Deno.test("inbox cursor: a saved cursor is back after a restart, in a 0600 JSON file", async () => {
  await withTempDir(async (dir) => {
    const first = await openTestInbox(dir);
    assertEquals(first.cursor, null);
    await first.setCursor({ id: ROW_ID, created_at: ROW_AT });
    assertEquals(first.cursor, { id: ROW_ID, created_at: ROW_AT });
    await first.close();

    const path = `${dir}/${TEST_CURSOR}`;
    assertEquals(JSON.parse(await Deno.readTextFile(path)), {
      workspace_id: TEST_WORKSPACE_ID,
      id: ROW_ID,
      created_at: ROW_AT,
    });
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
    const second = await openTestInbox(dir);
    assertEquals(second.cursor, { id: ROW_ID, created_at: ROW_AT });
    await second.close();
  });
});

Deno.test("inbox cursor: parseCursor still understands upstream's plain-id file", () => {
  assertEquals(parseCursor(`${ROW_ID.toUpperCase()}\n`), {
    id: ROW_ID,
    created_at: null,
    workspace_id: null,
  });
});

Deno.test("inbox cursor: a cursor written for another workspace is set aside with a warning, never used", async () => {
  await withTempDir(async (dir) => {
    const other = "99999999-8888-4777-8666-555555555555";
    const path = `${dir}/${TEST_CURSOR}`;
    await Deno.writeTextFile(path, JSON.stringify({ workspace_id: other, id: ROW_ID }), {
      mode: 0o600,
    });
    const captured = captureLog("warn");
    const inbox = await openTestInbox(dir, captured);
    try {
      assertEquals(inbox.cursor, null);
      assertStringIncludes(captured.text(), "the inbox cursor file belongs to another workspace");
      assertStringIncludes(captured.text(), `cursorWorkspace=${other}`);
      assertStringIncludes(captured.text(), `${path}.foreign-`);
      const names = [];
      for await (const e of Deno.readDir(dir)) names.push(e.name);
      assert(names.some((n) => n.startsWith(`${TEST_CURSOR}.foreign-`)), "set aside, not deleted");
    } finally {
      await inbox.close();
    }
  });
});

Deno.test("inbox cursor: a keyed cursor that names no workspace is set aside as unverified", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/${TEST_CURSOR}`, `${ROW_ID}\n`, { mode: 0o600 });
    const captured = captureLog("warn");
    const inbox = await openTestInbox(dir, captured);
    assertEquals(inbox.cursor, null);
    assertStringIncludes(captured.text(), "does not say which workspace it belongs to");
    assertStringIncludes(captured.text(), `${dir}/${TEST_CURSOR}.unverified-`);
    await inbox.close();
  });
});

Deno.test("inbox cursor: a corrupt cursor file means no cursor plus a warning, never a failure", async () => {
  for (const content of ["{not json", '{"id":"not-a-uuid"}', '{"id":42}', "[]", ""]) {
    await withTempDir(async (dir) => {
      await Deno.writeTextFile(`${dir}/${TEST_CURSOR}`, content);
      const captured = captureLog("warn");
      const inbox = await openTestInbox(dir, captured);
      assertEquals(inbox.cursor, null, `content ${JSON.stringify(content)}`);
      assertStringIncludes(captured.text(), "inbox cursor file is corrupt");
      assertStringIncludes(captured.text(), `${dir}/${TEST_CURSOR}`);
      await inbox.close();
    });
  }
});

Deno.test("inbox cursor: a missing cursor file is a quiet first start", async () => {
  await withTempDir(async (dir) => {
    const captured = captureLog("debug");
    const inbox = await openTestInbox(dir, captured);
    assertEquals(inbox.cursor, null);
    assert(!captured.text().includes("cursor"));
    await inbox.close();
  });
});

Deno.test("inbox cursor: parseCursor accepts a missing created_at and rejects a bad one", () => {
  assertEquals(parseCursor(JSON.stringify({ id: ROW_ID })), {
    id: ROW_ID,
    created_at: null,
    workspace_id: null,
  });
  assertEquals(parseCursor(JSON.stringify({ id: ROW_ID, workspace_id: "nope" })), null);
  assertEquals(parseCursor(JSON.stringify({ id: ROW_ID, created_at: "yesterday" })), null);
  assertEquals(parseCursor(JSON.stringify({ id: ROW_ID, created_at: 5 })), null);
});

Deno.test("inbox cursor: forgetting the cursor (after a 410) survives a restart", async () => {
  await withTempDir(async (dir) => {
    const first = await openTestInbox(dir);
    await first.setCursor({ id: ROW_ID, created_at: ROW_AT });
    await first.forgetCursor();
    assertEquals(first.cursor, null);
    await first.forgetCursor();
    await first.close();
    const second = await openTestInbox(dir);
    assertEquals(second.cursor, null);
    await second.close();
  });
});

Deno.test("inbox cursor: a failed cursor write only logs, once, and the cursor is kept in memory", async () => {
  await withTempDir(async (dir) => {
    // A non-empty directory where the file should be: the atomic rename fails, even as root.
    await Deno.mkdir(`${dir}/${TEST_CURSOR}/blocker`, { recursive: true });
    const captured = captureLog("info");
    const inbox = await openTestInbox(dir, captured);
    await inbox.setCursor({ id: ROW_ID, created_at: ROW_AT });
    await inbox.setCursor({ id: ROW_ID, created_at: ROW_AT });
    assertEquals(inbox.cursor, { id: ROW_ID, created_at: ROW_AT });
    const warnings = captured.lines.filter((l) => l.includes("cannot write the inbox cursor"));
    assertEquals(warnings.length, 1);
    assertStringIncludes(warnings[0] ?? "", "next=");

    await Deno.remove(`${dir}/${TEST_CURSOR}`, { recursive: true });
    await inbox.setCursor({ id: ROW_ID, created_at: ROW_AT });
    assertStringIncludes(captured.text(), "inbox cursor file is written again");
    await inbox.close();
    const reopened = await openTestInbox(dir);
    assertEquals(reopened.cursor, { id: ROW_ID, created_at: ROW_AT });
    await reopened.close();
  });
});

Deno.test("inbox cursor: a kill between the journal write and the cursor write replays nothing", async () => {
  await withTempDir(async (live) => {
    await withTempDir(async (afterKill) => {
      const inbox = await openTestInbox(live);
      const older = msg(1);
      await inbox.accept({ messages: [older], skipped: [] });
      await inbox.setCursor({ id: older.activity_id, created_at: older.created_at });
      const batch = [msg(2), msg(3)];
      const skipped = { id: msg(4).activity_id, created_at: msg(4).created_at };
      await inbox.accept({ messages: batch, skipped: [skipped] });
      // The process dies here, before setCursor: the disk holds the batch and the old cursor.
      for (const name of [TEST_JOURNAL, TEST_CURSOR]) {
        await Deno.copyFile(`${live}/${name}`, `${afterKill}/${name}`);
      }
      await inbox.close();

      const restarted = await openTestInbox(afterKill);
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
