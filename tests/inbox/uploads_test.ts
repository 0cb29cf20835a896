/**
 * Canvas uploads end to end: the fake platform stages a file a canvas user attached, the
 * poller fetches it into the private uploads folder, acks it and queues a message whose
 * attachment is a file:// path the agent can open.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { DurableInbox } from "../../lib/inbox/inbox.ts";
import type { InboxMessage } from "../../lib/inbox/message.ts";
import { InboxPoller } from "../../lib/inbox/poller.ts";
import { UploadResolver } from "../../lib/inbox/upload_resolver.ts";
import { UploadRetention } from "../../lib/inbox/upload_retention.ts";
import { storedName, UploadStore } from "../../lib/state/upload_store.ts";
import { buildChannelNotification } from "../../lib/workspace/channel_push.ts";
import {
  createFakePlatform,
  type FakePlatform,
  type PlatformVersion,
} from "../fakes/fake_platform.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { ManualClock } from "../fakes/manual_clock.ts";
import { withTempDir } from "../fakes/temp_dir.ts";
import { clientAs } from "../fakes/platform_client.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
const CONTENT = "GET /workspaces/:id/pending-uploads/:file_id/content";
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4, 5]);

interface Rig {
  platform: FakePlatform;
  me: { id: string; token: string };
  inbox: DurableInbox;
  poller: InboxPoller;
  uploadsRoot: string;
  /** A week's retention over the same folder, wired to the resolver as the link does. */
  retention: UploadRetention;
  clock: ManualClock;
  /** What the poller's betweenPolls was told, call by call. */
  betweenPolls: { isHoldingBack: boolean }[];
  /** Resolves once betweenPolls has been called `count` times. */
  betweenPollsCalled(count: number): Promise<void>;
  logText(): string;
}

async function withRig(
  fn: (rig: Rig) => Promise<void>,
  opts: {
    version?: PlatformVersion;
    wrapResolver?: (resolver: UploadResolver) => Pick<UploadResolver, "resolve">;
  } = {},
): Promise<void> {
  await withTempDir(async (dir) => {
    const clock = new ManualClock();
    const platform = createFakePlatform({ clock, version: opts.version ?? "latest" });
    const me = platform.addWorkspace({ delivery_mode: "poll" });
    const { log, text } = captureLog("debug");
    const client = clientAs(me, { fetch: platform.fetch, clock, log });
    const uploadsRoot = `${dir}/uploads`;
    const inbox = await DurableInbox.open({ dir, log, clock, workspaceId: me.id });
    const store = new UploadStore(uploadsRoot, me.id, log);
    const uploads = new UploadResolver({ platform: client, store, selfId: me.id, log });
    const retention = new UploadRetention({ maxAgeMs: 7 * DAY_MS, maxBytes: 0 }, {
      store,
      inbox,
      workspaceId: me.id,
      clock,
      log,
      onRemoved: (paths) => uploads.forget(paths),
    });
    const betweenPolls: { isHoldingBack: boolean }[] = [];
    const watchers: { count: number; resolve: () => void }[] = [];
    const betweenPollsCalled = (count: number) =>
      betweenPolls.length >= count ? Promise.resolve() : new Promise<void>((resolve) => {
        watchers.push({ count, resolve });
      });
    const poller = new InboxPoller(
      { selfId: me.id, intervalMs: 5_000 },
      {
        platform: client,
        inbox,
        clock,
        log,
        uploads: opts.wrapResolver?.(uploads) ?? uploads,
        betweenPolls: (state) => {
          betweenPolls.push({ isHoldingBack: state.isHoldingBack });
          for (const w of watchers) if (betweenPolls.length >= w.count) w.resolve();
          return Promise.resolve();
        },
      },
    );
    try {
      await fn({
        platform,
        me,
        inbox,
        poller,
        uploadsRoot,
        retention,
        clock,
        betweenPolls,
        betweenPollsCalled,
        logText: text,
      });
    } finally {
      await inbox.close();
    }
  });
}

function localPath(uri: string): string {
  assert(uri.startsWith("file://"), `not a file URI: ${uri}`);
  return decodeURIComponent(new URL(uri).pathname);
}

function only(inbox: DurableInbox): InboxMessage {
  const all = inbox.peek(10);
  assertEquals(all.length, 1, JSON.stringify(all));
  return all[0]!;
}

/** A canvas user attaches notes.txt; it is fetched, then popped. Its pending and local URIs. */
async function receiveNotes(rig: Rig): Promise<{ uri: string; local: string }> {
  const { uri } = rig.platform.uploadFromCanvas(rig.me.id, {
    name: "notes.txt",
    mimeType: "text/plain",
    bytes: new TextEncoder().encode("hello"),
  });
  await rig.poller.pollOnce();
  const first = only(rig.inbox);
  await rig.inbox.pop(first.activity_id);
  return { uri, local: first.attachments?.[0]?.uri ?? "" };
}

Deno.test("canvas uploads: an image a canvas user attaches arrives as a message whose path opens as the same bytes", async () => {
  await withRig(async (rig) => {
    rig.platform.uploadFromCanvas(rig.me.id, {
      name: "photo.png",
      mimeType: "image/png",
      bytes: PNG,
    });
    await rig.poller.pollOnce();
    const msg = only(rig.inbox);
    assertEquals([msg.kind, msg.method], ["canvas_user", "chat_upload_receive"]);
    assertStringIncludes(msg.text, "photo.png");
    const [file] = msg.attachments ?? [];
    assert(file !== undefined);
    assertEquals([file.kind, file.name, file.mime_type, file.size], [
      "image",
      "photo.png",
      "image/png",
      PNG.length,
    ]);
    const path = localPath(file.uri);
    assertEquals(await Deno.readFile(path), PNG);
    assert(path.startsWith(`${rig.uploadsRoot}/${rig.me.id}/`), path);
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
    assertEquals((await Deno.stat(`${rig.uploadsRoot}/${rig.me.id}`)).mode! & 0o777, 0o700);
    assertEquals(rig.platform.pendingUploads[0]?.acked, true, "the upload was acked");
    const push = buildChannelNotification(msg);
    assertEquals(push.params.meta.attachment_1_path, path);
    assertEquals(push.params.meta.method, "chat_upload_receive");
  });
});

Deno.test("canvas uploads: a later message naming the pending URI gets the local path", async () => {
  await withRig(async (rig) => {
    const { uri, local } = await receiveNotes(rig);
    rig.platform.addActivityRow({
      workspace_id: rig.me.id,
      activity_type: "a2a_receive",
      method: "message/send",
      request_body: {
        params: {
          message: {
            parts: [
              { kind: "text", text: `summarise ${uri} please` },
              { kind: "file", file: { uri, name: "notes.txt", mimeType: "text/plain" } },
            ],
          },
        },
      },
    });
    await rig.poller.pollOnce();
    const msg = only(rig.inbox);
    assertEquals(msg.text, `summarise ${local} please`);
    assertEquals(msg.attachments?.[0]?.uri, local);
    assertEquals(rig.platform.count(CONTENT), 1, "fetched once");
  });
});

Deno.test("canvas uploads: a failed fetch is retried next poll and never holds other messages back", async () => {
  await withRig(async (rig) => {
    rig.platform.failNext(CONTENT, 503);
    rig.platform.uploadFromCanvas(rig.me.id, { name: "a.png", mimeType: "image/png", bytes: PNG });
    rig.platform.sendToInbox(rig.me.id, { text: "and another thing" });
    await rig.poller.pollOnce();
    assertEquals(rig.inbox.peek(10).map((m) => m.text), ["and another thing"]);
    await rig.poller.pollOnce();
    const texts = rig.inbox.peek(10).map((m) => m.text);
    assertEquals(texts.length, 2, "each delivered once");
    const upload = rig.inbox.peek(10).find((m) => m.method === "chat_upload_receive");
    assertEquals(await Deno.readFile(localPath(upload?.attachments?.[0]?.uri ?? "")), PNG);
  });
});

Deno.test("canvas uploads: a fetch failing twice is delivered with the reason, and polling moves on", async () => {
  await withRig(async (rig) => {
    rig.platform.failNext(CONTENT, 503, 2);
    const { uri } = rig.platform.uploadFromCanvas(rig.me.id, {
      name: "a.png",
      mimeType: "image/png",
      bytes: PNG,
    });
    await rig.poller.pollOnce();
    assertEquals(rig.inbox.peek(10).length, 0);
    await rig.poller.pollOnce();
    const file = only(rig.inbox).attachments?.[0];
    assertEquals(file?.uri, uri, "still the pending URI");
    assertStringIncludes(file?.error ?? "", "platform answered 503");
    const push = buildChannelNotification(only(rig.inbox));
    assertStringIncludes(push.params.content, "not fetched: ");
    await rig.poller.pollOnce();
    assertEquals(rig.inbox.peek(10).length, 1, "not delivered twice");
  });
});

Deno.test("canvas uploads: an expired upload (404) is delivered at once with the reason", async () => {
  await withRig(async (rig) => {
    const staged = rig.platform.uploadFromCanvas(rig.me.id, {
      name: "a.png",
      mimeType: "image/png",
      bytes: PNG,
    });
    rig.platform.pendingUploads.find((u) => u.file_id === staged.fileId)!.acked = true;
    await rig.poller.pollOnce();
    const file = only(rig.inbox).attachments?.[0];
    assertStringIncludes(file?.error ?? "", "platform answered 404");
    assertStringIncludes(file?.error ?? "", "ask the user to attach the file again");
  });
});

Deno.test("canvas uploads: a file over the platform's published per-file limit is refused and not kept", async () => {
  await withRig(async (rig) => {
    rig.platform.setUploadLimits({ per_file_bytes: 8 });
    rig.platform.uploadFromCanvas(rig.me.id, {
      name: "big.png",
      mimeType: "image/png",
      bytes: PNG,
    });
    await rig.poller.pollOnce();
    const file = only(rig.inbox).attachments?.[0];
    assertStringIncludes(file?.error ?? "", "over the 8-byte limit");
    const left = [...Deno.readDirSync(`${rig.uploadsRoot}/${rig.me.id}`)].map((e) => e.name);
    assertEquals(left, [], "the partial file was removed");
  });
});

Deno.test("canvas uploads: a platform without /uploads/limits still delivers (25 MB default)", async () => {
  await withRig(async (rig) => {
    rig.platform.uploadFromCanvas(rig.me.id, { name: "a.png", mimeType: "image/png", bytes: PNG });
    await rig.poller.pollOnce();
    assertEquals(await Deno.readFile(localPath(only(rig.inbox).attachments?.[0]?.uri ?? "")), PNG);
  }, { version: "2026-05" });
});

Deno.test("canvas uploads: a symbolic link planted under the file's name is never written through", async () => {
  await withRig(async (rig) => {
    const staged = rig.platform.uploadFromCanvas(rig.me.id, {
      name: "a.png",
      mimeType: "image/png",
      bytes: PNG,
    });
    const dir = `${rig.uploadsRoot}/${rig.me.id}`;
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const victim = `${rig.uploadsRoot}/victim.txt`;
    await Deno.writeTextFile(victim, "keep me");
    await Deno.symlink(victim, `${dir}/${storedName(staged.fileId, "a.png")}`);
    await rig.poller.pollOnce();
    const path = localPath(only(rig.inbox).attachments?.[0]?.uri ?? "");
    assertEquals(await Deno.readTextFile(victim), "keep me");
    assert((await Deno.lstat(path)).isFile, "the link was replaced by a regular file");
    assertEquals(await Deno.readFile(path), PNG);
  });
});

Deno.test("canvas uploads: stored names keep only safe characters and never climb out of the folder", () => {
  assertEquals(storedName("f1", "../../etc/passwd"), "f1-passwd");
  assertEquals(storedName("f1", ".bashrc"), "f1-bashrc");
  assertEquals(storedName("f1", "my report (final).pdf"), "f1-my_report_final_.pdf");
  assertEquals(storedName("f1", "..."), "f1-file");
  assertEquals(storedName("f1", "x".repeat(500) + ".png").length, 200);
  assert(storedName("f1", "x".repeat(500) + ".png").endsWith(".png"));
});

Deno.test("canvas uploads: several files attached at once are fetched side by side, each once", async () => {
  let inFlight = 0;
  let peak = 0;
  // Counts resolutions running at once: the poller starts up to 4 before awaiting any.
  const wrapResolver = (resolver: UploadResolver): Pick<UploadResolver, "resolve"> => ({
    async resolve(message, opts) {
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        return await resolver.resolve(message, opts);
      } finally {
        inFlight--;
      }
    },
  });
  await withRig(async (rig) => {
    const staged = [1, 2, 3].map((n) =>
      rig.platform.uploadFromCanvas(rig.me.id, {
        name: `f${n}.png`,
        mimeType: "image/png",
        bytes: PNG,
      })
    );
    // A message in the same batch naming the first file shares its fetch.
    rig.platform.addActivityRow({
      workspace_id: rig.me.id,
      activity_type: "a2a_receive",
      method: "message/send",
      request_body: {
        params: {
          message: {
            parts: [{ kind: "file", file: { uri: staged[0]!.uri, name: "f1.png" } }],
          },
        },
      },
    });
    await rig.poller.pollOnce();
    const messages = rig.inbox.peek(10);
    assertEquals(messages.length, 4);
    for (const m of messages) {
      assertEquals(await Deno.readFile(localPath(m.attachments?.[0]?.uri ?? "")), PNG);
    }
    assertEquals(rig.platform.count(CONTENT), 3, "one fetch per file");
    assertEquals(peak, 4, "the four messages were resolved side by side");
  }, { wrapResolver });
});

Deno.test("canvas uploads: a link planted as the workspace's upload folder is refused, nothing written through it", async () => {
  await withRig(async (rig) => {
    const elsewhere = `${rig.uploadsRoot}-elsewhere`;
    await Deno.mkdir(elsewhere);
    await Deno.mkdir(rig.uploadsRoot, { mode: 0o700 });
    await Deno.symlink(elsewhere, `${rig.uploadsRoot}/${rig.me.id}`);
    rig.platform.uploadFromCanvas(rig.me.id, { name: "a.png", mimeType: "image/png", bytes: PNG });
    await rig.poller.pollOnce();
    await rig.poller.pollOnce();
    const file = only(rig.inbox).attachments?.[0];
    assertStringIncludes(file?.error ?? "", "is not a plain folder");
    assertEquals([...Deno.readDirSync(elsewhere)], []);
  });
});

Deno.test("canvas uploads: a file behind a link planted as the workspace's folder is never handed out as a fetched upload", async () => {
  await withTempDir(async (dir) => {
    const { log } = captureLog();
    await Deno.mkdir(`${dir}/elsewhere`);
    await Deno.writeTextFile(`${dir}/elsewhere/f1-a.png`, "not the canvas user's file");
    await Deno.mkdir(`${dir}/root`, { mode: 0o700 });
    await Deno.symlink(`${dir}/elsewhere`, `${dir}/root/ws-1`);
    const store = new UploadStore(`${dir}/root`, "ws-1", log);
    let error: unknown;
    const found = await store.find("f1").catch((err) => {
      error = err;
      return null;
    });
    assertEquals(found, null);
    assertStringIncludes(String(error), "is not a plain folder");
  });
});

Deno.test("canvas uploads: an operator's upload folder may itself be a link to a folder", async () => {
  await withTempDir(async (dir) => {
    const { log } = captureLog();
    await Deno.mkdir(`${dir}/real`);
    await Deno.symlink(`${dir}/real`, `${dir}/chosen`);
    const store = new UploadStore(`${dir}/chosen`, "ws-1", log);
    const writer = await store.create("f1", "a.txt");
    await writer.write(new TextEncoder().encode("hi"));
    const path = await writer.finish();
    assertEquals(await Deno.readTextFile(`${dir}/real/ws-1/f1-a.txt`), "hi");
    assertEquals(await store.find("f1"), path);
  });
});

Deno.test("canvas uploads: once the sweep removed an old upload, a later message naming it is not pointed at the removed file", async () => {
  await withRig(async (rig) => {
    const { uri, local } = await receiveNotes(rig);
    const path = localPath(local);
    const longAgo = new Date(rig.clock.wallNow() - 8 * DAY_MS);
    await Deno.utime(path, longAgo, longAgo);
    assertEquals((await rig.retention.sweep()).removed, 1);

    rig.platform.sendToInbox(rig.me.id, { text: `summarise ${uri} please` });
    await rig.poller.pollOnce();
    const later = only(rig.inbox);
    assertEquals(later.text, `summarise ${uri} please`, "not rewritten to the removed path");
  });
});

Deno.test("canvas uploads: the poller tells the sweep to wait while an upload fetch is held back", async () => {
  await withRig(async (rig) => {
    rig.platform.failNext(CONTENT, 503);
    rig.platform.uploadFromCanvas(rig.me.id, { name: "a.png", mimeType: "image/png", bytes: PNG });
    const stop = new AbortController();
    const running = rig.poller.run(stop.signal);
    try {
      await rig.betweenPollsCalled(1);
      assertEquals(rig.betweenPolls, [{ isHoldingBack: true }], "fetched-to-be, not queued yet");
      await rig.clock.advance(5_000);
      await rig.betweenPollsCalled(2);
      assertEquals(rig.betweenPolls.at(-1), { isHoldingBack: false });
      assertEquals(rig.inbox.peek(10).length, 1);
    } finally {
      stop.abort();
      await running;
    }
  });
});
