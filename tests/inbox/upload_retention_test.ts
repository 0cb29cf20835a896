/**
 * The retention sweep of fetched canvas uploads, on a real temp folder with a manual clock:
 * what goes (old, over the cap, stale temporary files), what always stays (files a queued
 * message mentions, links and their targets, other names, other workspaces' folders), and
 * when sweeps run.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import type { DurableInbox } from "../../lib/inbox/inbox.ts";
import type { InboxMessage } from "../../lib/inbox/message.ts";
import { fileUri } from "../../lib/inbox/upload_resolver.ts";
import {
  type RetentionPolicy,
  SWEEP_INTERVAL_MS,
  UploadRetention,
} from "../../lib/inbox/upload_retention.ts";
import type { Logger } from "../../lib/log.ts";
import { UploadStore } from "../../lib/state/upload_store.ts";
import { UnsafeStateFileError } from "../../lib/state/safe_file.ts";
import { openTestInbox, TEST_WORKSPACE_ID } from "../fakes/inbox_files.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { ManualClock } from "../fakes/manual_clock.ts";
import { namesIn, withTempDir } from "../fakes/temp_dir.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
const OTHER_WORKSPACE = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d";
const WEEK: RetentionPolicy = { maxAgeMs: 7 * DAY_MS, maxBytes: 0 };

interface Rig {
  /** The temporary folder holding the root and the inbox. */
  tmp: string;
  root: string;
  dir: string;
  clock: ManualClock;
  inbox: DurableInbox;
  retention: UploadRetention;
  removedPaths: string[];
  logText(): string;
  /** Writes `name` in `folder` (default: this workspace's) with an mtime `ageDays` ago. */
  put(name: string, opts: { ageDays: number; bytes?: number; folder?: string }): Promise<string>;
}

async function withRig(
  policy: RetentionPolicy,
  fn: (rig: Rig) => Promise<void>,
  opts: { ownerUid?: (folderUid: number | null) => number | null } = {},
): Promise<void> {
  await withTempDir(async (tmp) => {
    const clock = new ManualClock();
    const captured = captureLog("debug");
    const root = `${tmp}/chat uploads`; // a space: file:// URIs encode it
    const dir = `${root}/${TEST_WORKSPACE_ID}`;
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const inbox = await openTestInbox(tmp, captured);
    const removedPaths: string[] = [];
    const folderUid = (await Deno.lstat(dir)).uid;
    const retention = new UploadRetention(policy, {
      store: new UploadStore(root, TEST_WORKSPACE_ID, captured.log),
      ownerUid: opts.ownerUid?.(folderUid) ?? folderUid,
      inbox,
      workspaceId: TEST_WORKSPACE_ID,
      clock,
      log: captured.log,
      onRemoved: (paths) => removedPaths.push(...paths),
    });
    const put: Rig["put"] = async (name, opts) => {
      const folder = opts.folder ?? dir;
      await Deno.mkdir(folder, { recursive: true });
      const path = `${folder}/${name}`;
      await Deno.writeFile(path, new Uint8Array(opts.bytes ?? 10), { mode: 0o600 });
      const at = new Date(clock.wallNow() - opts.ageDays * DAY_MS);
      await Deno.utime(path, at, at);
      return path;
    };
    try {
      await fn({
        tmp,
        root,
        dir,
        clock,
        inbox,
        retention,
        removedPaths,
        logText: captured.text,
        put,
      });
    } finally {
      await inbox.close();
    }
  });
}

function message(id: string, fields: Partial<InboxMessage>): InboxMessage {
  return {
    activity_id: id,
    text: "see the attached file",
    peer_id: "",
    kind: "canvas_user",
    method: "message/send",
    created_at: "2026-05-01T10:00:00Z",
    ...fields,
  };
}

/** A store under `tmp` (and a manual clock) whose folder holds `names`, each 30 days old. */
async function oldUploads(
  tmp: string,
  log: Logger,
  names: readonly string[],
): Promise<{ store: UploadStore; clock: ManualClock }> {
  const store = new UploadStore(tmp, TEST_WORKSPACE_ID, log);
  const clock = new ManualClock();
  await Deno.mkdir(store.dir);
  const at = new Date(clock.wallNow() - 30 * DAY_MS);
  for (const name of names) {
    await Deno.writeTextFile(`${store.dir}/${name}`, "x");
    await Deno.utime(`${store.dir}/${name}`, at, at);
  }
  return { store, clock };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

Deno.test("upload retention: an upload older than the retention is removed, a newer one stays", async () => {
  await withRig(WEEK, async ({ dir, retention, put, removedPaths }) => {
    const old = await put("f1-report.pdf", { ageDays: 8 });
    await put("f2-photo.png", { ageDays: 6 });
    const report = await retention.sweep();
    assertEquals(await namesIn(dir), ["f2-photo.png"]);
    assertEquals([report.removed, report.freedBytes], [1, 10]);
    assertEquals(removedPaths, [old]);
  });
});

Deno.test("upload retention: a workspace folder owned by another user is never swept, and the log says why once", async () => {
  await withRig(WEEK, async ({ dir, retention, put, removedPaths, logText }) => {
    await put("f1-report.pdf", { ageDays: 30 });
    const report = await retention.sweep();
    await retention.sweep();
    assertEquals(await namesIn(dir), ["f1-report.pdf"]);
    assertEquals([report.removed, removedPaths], [0, []]);
    const said = logText().split("\n").filter((l) => l.includes("belongs to another user"));
    assertEquals(said.length, 1, logText());
    assertStringIncludes(said[0] ?? "", "MOLECULE_CHAT_UPLOAD_DIR");
  }, { ownerUid: (folderUid) => (folderUid ?? 0) + 1 });
});

Deno.test("upload retention: an old upload a queued message mentions stays until the message is popped", async () => {
  await withRig(WEEK, async ({ dir, inbox, retention, put, logText }) => {
    const inAttachment = await put("f1-plan.pdf", { ageDays: 30 });
    const inText = await put("f2-notes.txt", { ageDays: 30 });
    await put("f3-chart.png", { ageDays: 30 });
    await inbox.accept({
      messages: [
        message("00000000-0000-4000-8000-000000000001", {
          attachments: [{ kind: "file", uri: fileUri(inAttachment), name: "plan.pdf" }],
        }),
        message("00000000-0000-4000-8000-000000000002", {
          text: `the notes are at ${fileUri(inText)}.`,
        }),
        message("00000000-0000-4000-8000-000000000003", {
          text: `chart: platform-pending:${TEST_WORKSPACE_ID}/f3`,
        }),
      ],
      skipped: [],
    });
    const kept = await retention.sweep();
    assertEquals(await namesIn(dir), ["f1-plan.pdf", "f2-notes.txt", "f3-chart.png"]);
    assertEquals([kept.removed, kept.keptMentioned], [0, 3]);
    assertStringIncludes(logText(), "keptMentioned=3");

    await inbox.pop("00000000-0000-4000-8000-000000000001");
    await inbox.pop("00000000-0000-4000-8000-000000000002");
    const after = await retention.sweep();
    assertEquals(await namesIn(dir), ["f3-chart.png"]);
    assertEquals([after.removed, after.keptMentioned], [2, 1]);
    await inbox.pop("00000000-0000-4000-8000-000000000003");
    await retention.sweep();
    assertEquals(await namesIn(dir), []);
  });
});

Deno.test("upload retention: a symbolic link is neither followed nor removed, and a linked workspace folder is not swept", async () => {
  await withRig(WEEK, async ({ root, dir, retention, put, logText }) => {
    const outside = `${root}/../elsewhere`;
    const target = await put("f9-precious.txt", { ageDays: 90, folder: outside });
    await Deno.symlink(target, `${dir}/f1-link.txt`);
    await retention.sweep();
    assertEquals(await namesIn(dir), ["f1-link.txt"], "the link stays");
    assert(await exists(target), "its target stays");

    // The workspace folder itself a link to another folder: never listed through.
    await Deno.remove(dir, { recursive: true });
    await Deno.symlink(outside, dir);
    let error: unknown;
    await retention.sweep().catch((err) => error = err);
    assert(error instanceof UnsafeStateFileError, String(error));
    assert(await exists(target));
    await retention.maybeSweep({ isHoldingBack: false });
    assertStringIncludes(logText(), "cannot sweep the canvas uploads folder");
    assert(await exists(target));
  });
});

Deno.test("upload retention: another workspace's folder, other names and sub-folders are untouched", async () => {
  await withRig(WEEK, async ({ root, dir, retention, put }) => {
    const theirs = await put("f1-theirs.pdf", {
      ageDays: 90,
      folder: `${root}/${OTHER_WORKSPACE}`,
    });
    await put("notes", { ageDays: 90 }); // not a name this program writes
    await put(".hidden-file", { ageDays: 90 });
    await Deno.mkdir(`${dir}/f2-folder`);
    await put("f3-mine.pdf", { ageDays: 90 });
    const report = await retention.sweep();
    assertEquals(report.removed, 1);
    assertEquals(await namesIn(dir), [".hidden-file", "f2-folder", "notes"]);
    assert(await exists(theirs), "another workspace's upload stays");
  });
});

Deno.test("upload retention: over the size cap the oldest uploads go first, sparing those a queued message mentions", async () => {
  await withRig({ maxAgeMs: 0, maxBytes: 250 }, async ({ dir, inbox, retention, put }) => {
    const oldest = await put("a1-oldest.bin", { ageDays: 40, bytes: 100 });
    await put("a2-older.bin", { ageDays: 30, bytes: 100 });
    await put("a3-old.bin", { ageDays: 20, bytes: 100 });
    await put("a4-new.bin", { ageDays: 1, bytes: 100 });
    await inbox.accept({
      messages: [
        message("00000000-0000-4000-8000-000000000001", {
          attachments: [{ kind: "file", uri: fileUri(oldest) }],
        }),
      ],
      skipped: [],
    });
    const report = await retention.sweep();
    // 400 bytes, cap 250: the oldest is mentioned, so the next two oldest go.
    assertEquals(await namesIn(dir), ["a1-oldest.bin", "a4-new.bin"]);
    assertEquals([report.removed, report.freedBytes, report.remainingBytes], [2, 200, 200]);
  });
});

Deno.test("upload retention: a download in progress is left alone; a day-old temporary file goes", async () => {
  await withRig(WEEK, async ({ dir, retention, put }) => {
    await put("f1-big.iso.part-0a1b2c3d", { ageDays: 0 });
    await put("f2-crashed.iso.part-deadbeef", { ageDays: 2 });
    await retention.sweep();
    assertEquals(await namesIn(dir), ["f1-big.iso.part-0a1b2c3d"]);
  });
});

Deno.test("upload retention: sweeps run on the first call, then once per hour of the clock, never while messages are held back", async () => {
  await withRig(WEEK, async ({ dir, clock, retention, put }) => {
    await put("f1-a.txt", { ageDays: 8 });
    await retention.maybeSweep({ isHoldingBack: true });
    assertEquals(await namesIn(dir), ["f1-a.txt"], "held back: postponed");
    await retention.maybeSweep({ isHoldingBack: false });
    assertEquals(await namesIn(dir), [], "first sweep");

    await put("f2-b.txt", { ageDays: 8 });
    await clock.advance(SWEEP_INTERVAL_MS - 1);
    await retention.maybeSweep({ isHoldingBack: false });
    assertEquals(await namesIn(dir), ["f2-b.txt"], "not due yet");
    await clock.advance(1);
    await retention.maybeSweep({ isHoldingBack: false });
    assertEquals(await namesIn(dir), [], "due after an hour");
  });
});

Deno.test("upload retention: 0 days and 0 MiB keep every upload forever", async () => {
  await withRig({ maxAgeMs: 0, maxBytes: 0 }, async ({ dir, retention, put }) => {
    await put("f1-ancient.txt", { ageDays: 3650, bytes: 1000 });
    await put("f2-crashed.part-deadbeef", { ageDays: 30 });
    assertEquals(retention.isEnabled, false);
    await retention.maybeSweep({ isHoldingBack: false });
    assertEquals(await namesIn(dir), ["f1-ancient.txt", "f2-crashed.part-deadbeef"]);
  });
});

Deno.test("upload retention: a file replaced after the listing is not removed", async () => {
  await withTempDir(async (tmp) => {
    const { log } = captureLog();
    const store = new UploadStore(tmp, TEST_WORKSPACE_ID, log);
    await Deno.mkdir(store.dir);
    const path = `${store.dir}/f1-a.txt`;
    await Deno.writeTextFile(path, "old");
    const listing = await store.list();
    const file = listing?.files[0];
    assert(listing !== null && file !== undefined);
    await Deno.writeTextFile(`${path}.new`, "fresh fetch");
    await Deno.rename(`${path}.new`, path);
    assertEquals(await store.remove(listing, file), false);
    assertEquals(await Deno.readTextFile(path), "fresh fetch");
  });
});

Deno.test("upload retention: a queued message that names an upload by another spelling of its folder keeps it", async () => {
  await withRig(WEEK, async ({ tmp, root, dir, inbox, retention, put }) => {
    const names = ["f1-a.pdf", "f2-b.pdf", "f3-c.pdf", "f4-d.pdf", "f5-e.pdf", "f6-f.pdf"];
    const paths = await Promise.all(names.map((name) => put(name, { ageDays: 30 })));
    await put("f7-unmentioned.pdf", { ageDays: 30 });
    // How a person, a peer or another tool may write the same paths.
    const alias = `${tmp}/uploads-alias`; // a link to the root, like macOS's /tmp -> /private/tmp
    await Deno.symlink(root, alias);
    const spellings = [
      `file://localhost${fileUri(paths[0] ?? "").slice("file://".length)}`,
      fileUri(paths[1] ?? "").replace(/-/g, "%2d"), // every escape lower case, more of them
      `${dir}//f3-c.pdf`, // a doubled separator
      `${alias}/${TEST_WORKSPACE_ID}/f4-d.pdf`, // through the link
      `${fileUri(root)}/./${TEST_WORKSPACE_ID}/f5-e.pdf`,
      `file://${root.replace(/ /g, "%20")}/${TEST_WORKSPACE_ID}/f6%2Df.pdf`,
    ];
    await inbox.accept({
      messages: spellings.map((text, i) =>
        message(`00000000-0000-4000-8000-00000000000${i + 1}`, { text: `see ${text}` })
      ),
      skipped: [],
    });
    const report = await retention.sweep();
    assertEquals(await namesIn(dir), names);
    assertEquals([report.removed, report.keptMentioned], [1, 6]);
  });
});

Deno.test("upload retention: the log names every removed upload, also when another one cannot be removed", async () => {
  await withRig(WEEK, async ({ dir, retention, put, logText }) => {
    await put("f1-minutes.pdf", { ageDays: 30 });
    await put("f2-budget.xlsx", { ageDays: 30 });
    await retention.sweep();
    assertStringIncludes(logText(), "f1-minutes.pdf");
    assertStringIncludes(logText(), "f2-budget.xlsx");
    assertStringIncludes(logText(), dir, "the folder is named");
  });
  await withTempDir(async (tmp) => {
    const captured = captureLog("info");
    const { store, clock } = await oldUploads(tmp, captured.log, ["f1-gone.txt", "f2-stuck.txt"]);
    const retention = new UploadRetention(WEEK, {
      store: {
        dir: store.dir,
        list: () => store.list(),
        remove: (listing, file) =>
          file.name === "f2-stuck.txt"
            ? Promise.reject(new Deno.errors.PermissionDenied("operation not permitted"))
            : store.remove(listing, file),
      },
      inbox: { pendingMessages: () => [] },
      workspaceId: TEST_WORKSPACE_ID,
      clock,
      log: captured.log,
    });
    await retention.maybeSweep({ isHoldingBack: false });
    assertEquals(await namesIn(store.dir), ["f2-stuck.txt"]);
    assertStringIncludes(captured.text(), "f1-gone.txt");
    assertStringIncludes(captured.text(), "cannot sweep the canvas uploads folder");
  });
});

Deno.test("upload retention: while the queued messages cannot be known nothing is removed, and the sweep is due again at once", async () => {
  await withTempDir(async (tmp) => {
    const { log } = captureLog();
    const { store, clock } = await oldUploads(tmp, log, ["f1-old.txt"]);
    let isKnown = false;
    const retention = new UploadRetention(WEEK, {
      store,
      inbox: { pendingMessages: () => isKnown ? [] : null },
      workspaceId: TEST_WORKSPACE_ID,
      clock,
      log,
    });
    await retention.maybeSweep({ isHoldingBack: false });
    assertEquals(await namesIn(store.dir), ["f1-old.txt"]);
    isKnown = true;
    await retention.maybeSweep({ isHoldingBack: false }); // no hour to wait
    assertEquals(await namesIn(store.dir), []);
  });
});

Deno.test("upload retention: a stop during a long sweep ends it at the next file, so shutdown does not wait for the folder", async () => {
  await withTempDir(async (tmp) => {
    const { log } = captureLog();
    const names = [0, 1, 2, 3, 4].map((i) => `f${i}-old.txt`);
    const { store, clock } = await oldUploads(tmp, log, names);
    const stop = new AbortController();
    let removals = 0;
    const retention = new UploadRetention(WEEK, {
      store: {
        dir: store.dir,
        list: (opts) => store.list(opts),
        remove: async (listing, file) => {
          removals++;
          if (removals === 2) stop.abort(); // the program is stopping
          return await store.remove(listing, file);
        },
      },
      inbox: { pendingMessages: () => [] },
      workspaceId: TEST_WORKSPACE_ID,
      clock,
      log,
    });
    await retention.maybeSweep({ isHoldingBack: false, signal: stop.signal });
    assertEquals(removals, 2);
    assertEquals((await namesIn(store.dir)).length, 3);

    // Stopped before it starts: the folder is not even listed.
    const listed: string[] = [];
    const idle = new UploadRetention(WEEK, {
      store: {
        dir: store.dir,
        list: () => {
          listed.push("listed");
          return store.list();
        },
        remove: (listing, file) => store.remove(listing, file),
      },
      inbox: { pendingMessages: () => [] },
      workspaceId: TEST_WORKSPACE_ID,
      clock,
      log,
    });
    await idle.maybeSweep({ isHoldingBack: false, signal: stop.signal });
    assertEquals(listed, []);
  });
});
