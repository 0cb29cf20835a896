/** The inbox's state files refuse links, FIFOs, devices and other users' files (issue 10). */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import { DurableInbox } from "../../lib/inbox/inbox.ts";
import { encodeRecord } from "../../lib/inbox/journal.ts";
import { UnsafeStateFileError } from "../../lib/state/safe_file.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { ManualClock } from "../fakes/manual_clock.ts";
import { HOSTILE_FILES } from "../fakes/special_files.ts";
import { namesIn, withTempDir } from "../fakes/temp_dir.ts";
import { openTestInbox, TEST_CURSOR, TEST_JOURNAL, TEST_LOCK } from "../fakes/inbox_files.ts";

const JOURNAL = TEST_JOURNAL;
const CURSOR = TEST_CURSOR;
const LOCK = TEST_LOCK;

Deno.test("inbox lock: a lock file that is a link to another file is refused; the target is untouched", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/precious`, "do not overwrite me\n");
    await Deno.symlink(`${dir}/precious`, `${dir}/${LOCK}`);
    const err = await assertRejects(() => openTestInbox(dir), UnsafeStateFileError);
    assertStringIncludes(err.message, `${dir}/${LOCK} is a symbolic link`);
    assertEquals(await Deno.readTextFile(`${dir}/precious`), "do not overwrite me\n");
  });
});

Deno.test("inbox lock: a lock file that is a hard link to another file is never written into; that file is untouched", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/precious`, "do not overwrite me\n", { mode: 0o600 });
    await Deno.chmod(`${dir}/precious`, 0o600);
    await Deno.link(`${dir}/precious`, `${dir}/${LOCK}`);
    const log = captureLog();
    const inbox = await openTestInbox(dir, log);
    await inbox.close();
    assertEquals(await Deno.readTextFile(`${dir}/precious`), "do not overwrite me\n");
    assertStringIncludes(log.lines.join("\n"), "has other names (hard links)");
  });
});

Deno.test("inbox lock: a dangling link at the lock's name is refused, nothing is created through it", async () => {
  await withTempDir(async (dir) => {
    await Deno.symlink(`${dir}/elsewhere`, `${dir}/${LOCK}`);
    await assertRejects(() => openTestInbox(dir), UnsafeStateFileError);
    assertEquals(await namesIn(dir), [LOCK]);
  });
});

Deno.test("inbox lock: a lock file owned by another user is refused, naming it", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/${LOCK}`, "");
    const owner = (await Deno.stat(`${dir}/${LOCK}`)).uid!;
    const err = await assertRejects(
      () => openTestInbox(dir, captureLog(), owner + 1),
      UnsafeStateFileError,
    );
    assertStringIncludes(err.message, `${dir}/${LOCK} is owned by user id ${owner}`);
  });
});

Deno.test("inbox lock: a lock file readable by others is tightened to 0600 with a notice", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/${LOCK}`, "");
    await Deno.chmod(`${dir}/${LOCK}`, 0o666);
    const log = captureLog();
    const inbox = await openTestInbox(dir, log);
    await inbox.close();
    assertEquals((await Deno.stat(`${dir}/${LOCK}`)).mode! & 0o777, 0o600);
    assertStringIncludes(log.text(), "tightened a state file to mode 0600");
  });
});

for (const { kind, make } of HOSTILE_FILES) {
  Deno.test(`inbox lock: a lock file that is ${kind} is refused without hanging`, async () => {
    await withTempDir(async (dir) => {
      await make(`${dir}/${LOCK}`);
      const err = await assertRejects(() => openTestInbox(dir), UnsafeStateFileError);
      assertStringIncludes(err.message, `${dir}/${LOCK} is `);
    });
  });

  Deno.test(`inbox cursor: a cursor file that is ${kind} is refused with a warning; the inbox opens`, async () => {
    await withTempDir(async (dir) => {
      await make(`${dir}/${CURSOR}`);
      const log = captureLog();
      const inbox = await openTestInbox(dir, log);
      try {
        assertEquals(inbox.cursor, null);
        assertStringIncludes(log.text(), "refusing the inbox cursor file");
        assertStringIncludes(log.text(), `${dir}/${CURSOR}`);
        // The next save replaces the name with a regular file, never writing through it.
        await inbox.setCursor({ id: "0b5e2c1a-7f3d-4c2b-9a8e-1d2c3b4a5f60", created_at: null });
        const info = await Deno.lstat(`${dir}/${CURSOR}`);
        assert(info.isFile && !info.isSymlink);
      } finally {
        await inbox.close();
      }
    });
  });

  Deno.test(`inbox journal: a journal that is ${kind} is set aside with a warning; the inbox opens empty`, async () => {
    await withTempDir(async (dir) => {
      await make(`${dir}/${JOURNAL}`);
      const log = captureLog();
      const inbox = await openTestInbox(dir, log);
      try {
        assertEquals(inbox.size, 0);
        assertStringIncludes(log.text(), "refused the inbox journal");
        const aside = (await namesIn(dir)).filter((n) => n.startsWith(`${JOURNAL}.corrupt-`));
        assertEquals(aside.length, 1);
        assert((await Deno.lstat(`${dir}/${JOURNAL}`)).isFile, "a fresh regular journal");
      } finally {
        await inbox.close();
      }
    });
  });
}

Deno.test("inbox journal: a journal owned by another user is never served: set aside, inbox empty", async () => {
  await withTempDir(async (dir) => {
    const first = await openTestInbox(dir);
    await first.accept({
      messages: [{
        activity_id: "00000000-0000-4000-8000-000000000001",
        text: "forged canvas message",
        peer_id: "",
        kind: "canvas_user",
        method: "message/send",
        created_at: "2026-05-01T10:00:00Z",
      }],
      skipped: [],
    });
    await first.close();
    const owner = (await Deno.stat(`${dir}/${JOURNAL}`)).uid!;
    const log = captureLog();
    await Deno.remove(`${dir}/${LOCK}`); // the lock would be refused first, as it should
    const inbox = await openTestInbox(dir, log, owner + 1);
    try {
      assertEquals(inbox.size, 0);
      assertStringIncludes(log.text(), `is owned by user id ${owner}`);
    } finally {
      await inbox.close();
    }
  });
});

const OTHER_WORKSPACE = "99999999-8888-4777-8666-555555555555";

Deno.test("inbox journal: a journal written for another workspace is set aside as foreign, never served", async () => {
  await withTempDir(async (dir) => {
    // The other workspace's journal, copied (or forged) under this workspace's name.
    const other = await DurableInbox.open({
      dir,
      log: captureLog().log,
      clock: new ManualClock(),
      workspaceId: OTHER_WORKSPACE,
    });
    await other.accept({
      messages: [{
        activity_id: "00000000-0000-4000-8000-000000000001",
        text: "meant for the other workspace",
        peer_id: "",
        kind: "canvas_user",
        method: "message/send",
        created_at: "2026-05-01T10:00:00Z",
      }],
      skipped: [],
    });
    await other.close();
    const original = await Deno.readTextFile(`${dir}/.mcp_inbox_journal.${OTHER_WORKSPACE}`);
    await Deno.copyFile(`${dir}/.mcp_inbox_journal.${OTHER_WORKSPACE}`, `${dir}/${JOURNAL}`);
    const log = captureLog();
    const inbox = await openTestInbox(dir, log);
    try {
      assertEquals(inbox.size, 0, "nothing of it is served");
      assertStringIncludes(log.text(), "the inbox journal belongs to another workspace");
      assertStringIncludes(log.text(), `journalWorkspace=${OTHER_WORKSPACE}`);
      const aside = (await namesIn(dir)).find((n) => n.startsWith(`${JOURNAL}.foreign-`));
      assert(aside !== undefined, "set aside under a .foreign- name");
      assertStringIncludes(log.text(), `${dir}/${aside}`);
      assertEquals(await Deno.readTextFile(`${dir}/${aside}`), original);
    } finally {
      await inbox.close();
    }
  });
});

Deno.test("inbox journal: a keyed journal that names no workspace is set aside as unverified", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/${JOURNAL}`,
      encodeRecord({
        op: "add",
        msgs: [{
          activity_id: "00000000-0000-4000-8000-000000000001",
          text: "forged",
          peer_id: "",
          kind: "canvas_user",
          method: "message/send",
          created_at: "2026-05-01T10:00:00Z",
        }],
        seen: [],
      }),
      { mode: 0o600 },
    );
    const log = captureLog();
    const inbox = await openTestInbox(dir, log);
    assertEquals(inbox.size, 0);
    assertStringIncludes(log.text(), "does not say which workspace it belongs to");
    assert((await namesIn(dir)).some((n) => n.startsWith(`${JOURNAL}.unverified-`)));
    await inbox.close();
  });
});
