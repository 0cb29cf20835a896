/** Older versions' unkeyed inbox files: adopted only when proven to be this workspace's. */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import { DurableInbox } from "../../lib/inbox/inbox.ts";
import { encodeRecord } from "../../lib/inbox/journal.ts";
import { acquireInboxLock, InboxBusyError } from "../../lib/inbox/lock.ts";
import { openSettlingLegacy, platformRowProbe } from "../../lib/inbox/legacy_state.ts";
import type { InboxMessage } from "../../lib/inbox/message.ts";
import { createFakePlatform, type FakePlatform } from "../fakes/fake_platform.ts";
import { type CapturedLog, captureLog } from "../fakes/log_capture.ts";
import { ManualClock } from "../fakes/manual_clock.ts";
import { namesIn, withTempDir } from "../fakes/temp_dir.ts";
import { UnsafeStateFileError } from "../../lib/state/safe_file.ts";
import { clientAs } from "../fakes/platform_client.ts";

const ACTIVITY = "GET /workspaces/:id/activity";

interface Rig {
  dir: string;
  platform: FakePlatform;
  me: { id: string; token: string };
  other: { id: string; token: string };
  captured: CapturedLog;
  /** Opens `me`'s inbox the way the workspace link does. */
  open(): Promise<DurableInbox>;
  names(): Promise<string[]>;
}

async function withRig(fn: (rig: Rig) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const clock = new ManualClock();
    const platform = createFakePlatform({ clock });
    const me = platform.addWorkspace({ delivery_mode: "poll" });
    const other = platform.addWorkspace({ delivery_mode: "poll" });
    const captured = captureLog("info");
    const log = captured.log;
    const client = clientAs(me, { fetch: platform.fetch, clock, log });
    const open = () =>
      openSettlingLegacy(
        { dir, workspaceId: me.id },
        { log, clock, probeRow: platformRowProbe(client) },
        (adoptJournalFrom) =>
          DurableInbox.open({
            dir,
            log,
            clock,
            workspaceId: me.id,
            ...(adoptJournalFrom === undefined ? {} : { adoptJournalFrom }),
          }),
      );
    const names = () => namesIn(dir);
    await fn({ dir, platform, me, other, captured, open, names });
  });
}

/** A message as the older version stored it, for a row the platform holds. */
function stored(row: { id: string; created_at: string }, text: string): InboxMessage {
  return {
    activity_id: row.id,
    text,
    peer_id: "",
    kind: "canvas_user",
    method: "message/send",
    created_at: row.created_at,
  };
}

async function writeLegacyJournal(dir: string, msgs: InboxMessage[]): Promise<string> {
  const text = encodeRecord({ op: "add", msgs, seen: [] });
  await Deno.writeTextFile(`${dir}/.mcp_inbox_journal`, text, { mode: 0o600 });
  return text;
}

async function writeLegacyCursor(dir: string, name: string, content: string): Promise<void> {
  await Deno.writeTextFile(`${dir}/${name}`, content, { mode: 0o600 });
}

Deno.test("legacy inbox: an older journal and cursor whose rows are this workspace's are adopted", async () => {
  await withRig(async ({ dir, platform, me, captured, open, names }) => {
    const row = platform.sendToInbox(me.id, { text: "before the upgrade" });
    await writeLegacyJournal(dir, [stored(row, "before the upgrade")]);
    await writeLegacyCursor(
      dir,
      ".mcp_inbox_cursor",
      JSON.stringify({ id: row.id, created_at: row.created_at }),
    );
    const inbox = await open();
    try {
      assertEquals(inbox.peek(10).map((m) => m.text), ["before the upgrade"]);
      assertEquals(inbox.cursor, { id: row.id, created_at: row.created_at });
      const files = await names();
      assert(!files.includes(".mcp_inbox_journal"), "the old journal is gone once adopted");
      assert(!files.includes(".mcp_inbox_cursor"), "the old cursor is gone once adopted");
      assert(files.includes(`.mcp_inbox_journal.${me.id}`));
      const cursor = JSON.parse(await Deno.readTextFile(`${dir}/.mcp_inbox_cursor.${me.id}`));
      assertEquals(cursor.workspace_id, me.id);
      assertStringIncludes(captured.text(), "adopted the inbox journal of an older version");
    } finally {
      await inbox.close();
    }
  });
});

Deno.test("legacy inbox: upstream's plain-id cursor is adopted when the platform accepts it", async () => {
  await withRig(async ({ dir, platform, me, open }) => {
    const row = platform.sendToInbox(me.id, { text: "seen by upstream" });
    await writeLegacyCursor(dir, ".mcp_inbox_cursor", `${row.id}\n`);
    const inbox = await open();
    assertEquals(inbox.cursor, { id: row.id, created_at: null });
    await inbox.close();
  });
});

Deno.test("legacy inbox: upstream's multi-workspace cursor (_<first 8 of the id>) is adopted too", async () => {
  await withRig(async ({ dir, platform, me, open, names }) => {
    const row = platform.sendToInbox(me.id, { text: "seen by upstream" });
    await writeLegacyCursor(dir, `.mcp_inbox_cursor_${me.id.slice(0, 8)}`, `${row.id}\n`);
    const inbox = await open();
    assertEquals(inbox.cursor?.id, row.id);
    await inbox.close();
    assert(!(await names()).includes(`.mcp_inbox_cursor_${me.id.slice(0, 8)}`));
  });
});

Deno.test("legacy inbox: another workspace's older files are set aside with a notice, never served", async () => {
  await withRig(async ({ dir, platform, other, captured, open, names }) => {
    const row = platform.sendToInbox(other.id, { text: "for the other workspace" });
    const original = await writeLegacyJournal(dir, [stored(row, "for the other workspace")]);
    await writeLegacyCursor(dir, ".mcp_inbox_cursor", `${row.id}\n`);
    const inbox = await open();
    try {
      assertEquals(inbox.size, 0, "nothing of it is served");
      assertEquals(inbox.cursor, null);
      const files = await names();
      const journalAside = files.find((n) => n.startsWith(".mcp_inbox_journal.unverified-"));
      assert(journalAside !== undefined, `set aside: ${files.join(" ")}`);
      assert(files.some((n) => n.startsWith(".mcp_inbox_cursor.unverified-")));
      assertEquals(await Deno.readTextFile(`${dir}/${journalAside}`), original, "kept intact");
      const text = captured.text();
      assertStringIncludes(text, "an older version's inbox file is not used");
      assertStringIncludes(text, `${dir}/.mcp_inbox_journal`);
      assertStringIncludes(text, `${dir}/${journalAside}`);
    } finally {
      await inbox.close();
    }
  });
});

Deno.test("legacy inbox: when the platform cannot answer, nothing is moved and opening fails for a retry", async () => {
  await withRig(async ({ dir, platform, me, open, names }) => {
    const row = platform.sendToInbox(me.id, { text: "wait for it" });
    await writeLegacyJournal(dir, [stored(row, "wait for it")]);
    platform.failNext(ACTIVITY, 503, 5);
    await assertRejects(() => open());
    const files = await names();
    assert(files.includes(".mcp_inbox_journal"), "left where it was");
    assert(!files.some((n) => n.includes("unverified")));
    assert(!files.includes(`.mcp_inbox_journal.${me.id}`), "no keyed journal yet");
  });
});

Deno.test("legacy inbox: with this workspace's own files present, older ones are set aside without asking", async () => {
  await withRig(async ({ dir, platform, me, open, names }) => {
    const first = await open();
    await first.close();
    const row = platform.sendToInbox(me.id, { text: "stale copy" });
    await writeLegacyJournal(dir, [stored(row, "stale copy")]);
    const before = platform.count(ACTIVITY);
    const inbox = await open();
    assertEquals(inbox.size, 0);
    await inbox.close();
    assertEquals(platform.count(ACTIVITY), before, "no request made");
    assert((await names()).some((n) => n.startsWith(".mcp_inbox_journal.unverified-")));
  });
});

Deno.test("legacy inbox: while an older process holds the old lock, its files are left alone", async () => {
  await withRig(async ({ dir, platform, me, open, names }) => {
    const row = platform.sendToInbox(me.id, { text: "still in use" });
    await writeLegacyJournal(dir, [stored(row, "still in use")]);
    const older = await acquireInboxLock(dir, { pid: 4242, log: captureLog().log });
    try {
      const err = await assertRejects(() => open(), InboxBusyError);
      assertEquals(err.pid, 4242);
      assert((await names()).includes(".mcp_inbox_journal"));
    } finally {
      older.release();
    }
    const inbox = await open();
    assertEquals(inbox.peek(10).map((m) => m.text), ["still in use"]);
    await inbox.close();
  });
});

Deno.test("legacy inbox: the old .mcp_inbox.lock pre-created as a link is refused; its target is untouched", async () => {
  await withRig(async ({ dir, platform, me, open, names }) => {
    const row = platform.sendToInbox(me.id, { text: "old" });
    await writeLegacyJournal(dir, [stored(row, "old")]);
    await Deno.writeTextFile(`${dir}/precious`, "not a lock\n");
    await Deno.symlink(`${dir}/precious`, `${dir}/.mcp_inbox.lock`);
    const err = await assertRejects(() => open(), UnsafeStateFileError);
    assertStringIncludes(err.message, `${dir}/.mcp_inbox.lock is a symbolic link`);
    assertEquals(await Deno.readTextFile(`${dir}/precious`), "not a lock\n");
    assert((await names()).includes(".mcp_inbox_journal"), "nothing moved");
  });
});
