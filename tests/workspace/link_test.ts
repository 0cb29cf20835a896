import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { DurableInbox } from "../../lib/inbox/inbox.ts";
import { AuthRejectedError, PlatformError } from "../../lib/errors.ts";
import { WorkspaceLink, type WorkspaceLinkSettings } from "../../lib/workspace/link.ts";
import { createFakePlatform } from "../fakes/fake_platform.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { ManualClock } from "../fakes/manual_clock.ts";
import { namesIn, withTempDir } from "../fakes/temp_dir.ts";

function settings(stateDir: string, ws: { id: string; token: string }): WorkspaceLinkSettings {
  return {
    workspaceId: ws.id,
    platformUrl: "http://platform.test",
    token: ws.token,
    stateDir,
    agentName: "test",
    agentSkills: [],
    isHeartbeatDisabled: true,
    isInboxDisabled: false,
    pollIntervalMs: 5_000,
    heartbeatIntervalMs: 20_000,
    isEventStreamDisabled: true,
    chatUploadRetentionDays: 7,
    chatUploadMaxBytes: 1024 * 1024 * 1024,
  };
}

Deno.test("workspace link: opening returns before the journal is replayed, which goes on behind", async () => {
  await withTempDir(async (dir) => {
    const clock = new ManualClock();
    const { log, text } = captureLog("info");
    const platform = createFakePlatform({ clock });
    const me = platform.addWorkspace({ delivery_mode: "poll", name: "me" });
    const saved = await DurableInbox.open({ dir, log, clock, workspaceId: me.id });
    await saved.accept({
      messages: [{
        activity_id: "00000000-0000-4000-8000-000000000001",
        text: "saved before the restart",
        peer_id: "",
        kind: "canvas_user",
        method: "message/send",
        created_at: "2026-05-01T10:00:00.000Z",
      }],
      skipped: [],
    });
    await saved.close();

    const link = await WorkspaceLink.open(settings(dir, me), { fetch: platform.fetch, clock, log });
    // The MCP session starts here; the inbox tools wait on `opening`.
    assertEquals(link.inbox, null);
    assertStringIncludes(link.inboxUnavailable?.message ?? "", "still loading its journal");
    assert(link.inboxUnavailable?.opening !== undefined);
    const opened = await link.inboxOpened;
    assertEquals(opened.inbox?.head()?.text, "saved before the restart");
    assert(link.inbox === opened.inbox, "the link serves the opened inbox");
    assertEquals(link.inboxUnavailable, null);
    assertStringIncludes(text(), "inbox journal loaded");
    await link.stop();
  });
});

Deno.test("workspace link: an inbox that cannot be opened is reported, not fatal", async () => {
  await withTempDir(async (dir) => {
    const clock = new ManualClock();
    const { log, text } = captureLog("warn");
    const platform = createFakePlatform({ clock });
    const me = platform.addWorkspace({ delivery_mode: "poll", name: "me" });
    const missing = `${dir}/does-not-exist`;
    const link = await WorkspaceLink.open(settings(missing, me), {
      fetch: platform.fetch,
      clock,
      log,
    });
    const opened = await link.inboxOpened;
    assertEquals(opened.inbox, null);
    assertStringIncludes(opened.unavailable?.message ?? "", "The inbox cannot be opened");
    assertStringIncludes(text(), "cannot open the inbox");
    await link.stop();
  });
});

Deno.test("workspace link: the inbound secret saved by an earlier run is masked from the start", async () => {
  await withTempDir(async (dir) => {
    const clock = new ManualClock();
    const { log } = captureLog("info");
    const platform = createFakePlatform({ clock });
    const me = platform.addWorkspace({ delivery_mode: "poll", name: "me" });
    const secret = "persisted-inbound-secret-0123456789";
    await Deno.writeTextFile(`${dir}/.platform_inbound_secret.${me.id}`, secret, { mode: 0o600 });
    const link = await WorkspaceLink.open(
      { ...settings(dir, me), isInboxDisabled: true },
      { fetch: platform.fetch, clock, log },
    );
    assertEquals(log.redactor.redact(`echo ${secret}`), "echo [redacted]");
    await link.stop();
  });
});

Deno.test("workspace link: a lock file that is a link is refused; the tools name the path and the fix", async () => {
  await withTempDir(async (dir) => {
    const clock = new ManualClock();
    const { log } = captureLog("info");
    const platform = createFakePlatform({ clock });
    const me = platform.addWorkspace({ delivery_mode: "poll", name: "me" });
    await Deno.writeTextFile(`${dir}/precious`, "keep me\n");
    const lock = `${dir}/.mcp_inbox.lock.${me.id}`;
    await Deno.symlink(`${dir}/precious`, lock);
    const link = await WorkspaceLink.open(settings(dir, me), { fetch: platform.fetch, clock, log });
    const opened = await link.inboxOpened;
    assertEquals(opened.inbox, null);
    assertStringIncludes(opened.unavailable?.message ?? "", `${lock} is a symbolic link`);
    assertStringIncludes(opened.unavailable?.next ?? "", `rm ${lock}`);
    assertEquals(await Deno.readTextFile(`${dir}/precious`), "keep me\n");
    await link.stop();
  });
});

Deno.test("workspace link: an older version's files are checked with the platform in the background", async () => {
  await withTempDir(async (dir) => {
    const clock = new ManualClock();
    const { log, text } = captureLog("info");
    const platform = createFakePlatform({ clock });
    const me = platform.addWorkspace({ delivery_mode: "poll", name: "me" });
    const row = platform.sendToInbox(me.id, { text: "queued before the upgrade" });
    await Deno.writeTextFile(`${dir}/.mcp_inbox_cursor`, `${row.id}\n`, { mode: 0o600 });
    platform.failNext("GET /workspaces/:id/activity", 503);
    const link = await WorkspaceLink.open(settings(dir, me), { fetch: platform.fetch, clock, log });
    const first = await link.inboxOpened;
    assertEquals(first.inbox, null, "no verdict yet: the platform answered 503");
    assertStringIncludes(first.unavailable?.message ?? "", "older version");
    assertStringIncludes(first.unavailable?.next ?? "", "retried at every poll interval");
    assertStringIncludes(text(), "cannot open the inbox; retrying");
    await link.stop();
    // Next start: the platform answers, the cursor is adopted.
    const again = await WorkspaceLink.open(settings(dir, me), {
      fetch: platform.fetch,
      clock,
      log,
    });
    const opened = await again.inboxOpened;
    assertEquals(opened.inbox?.cursor?.id, row.id);
    await again.stop();
  });
});

Deno.test("workspace link: a first register already sent at start-up is not sent again; its refusal stops the link", async () => {
  await withTempDir(async (dir) => {
    const clock = new ManualClock();
    const { log } = captureLog("info");
    const platform = createFakePlatform({ clock });
    const me = platform.addWorkspace({ delivery_mode: "poll", name: "me" });
    const live = { ...settings(dir, me), isHeartbeatDisabled: false, isInboxDisabled: true };
    const registers = () =>
      platform.requests.filter((r) => r.route === "POST /registry/register").length;

    const link = await WorkspaceLink.open(live, { fetch: platform.fetch, clock, log });
    const stop = new AbortController();
    await link.start(stop.signal, Promise.resolve(true));
    assertEquals(registers(), 0, "main.ts's register stands in for the link's");
    stop.abort();
    await link.stop();

    const refused = await WorkspaceLink.open(live, { fetch: platform.fetch, clock, log });
    const refusal = new AuthRejectedError(
      me.id,
      new PlatformError("POST /registry/register", 401, { next: "fix the token" }),
    );
    const again = new AbortController();
    const error = await refused.start(again.signal, Promise.reject(refusal)).then(
      () => null,
      (err: unknown) => err,
    );
    assert(error === refusal, "the refusal reaches the caller, which exits 3");
    assertEquals(registers(), 0);
    again.abort();
    await refused.stop();
  });
});

Deno.test("workspace link: no upload is swept while another served workspace's queued messages are unknown", async () => {
  await withTempDir(async (dir) => {
    const clock = new ManualClock();
    const { log } = captureLog("info");
    const platform = createFakePlatform({ clock });
    const me = platform.addWorkspace({ delivery_mode: "poll", name: "me" });
    const folder = `${dir}/uploads/${me.id}`;
    await Deno.mkdir(folder, { recursive: true, mode: 0o700 });
    await Deno.writeTextFile(`${folder}/f1-old.txt`, "x", { mode: 0o600 });
    const old = new Date(clock.wallNow() - 30 * 24 * 60 * 60 * 1000);
    await Deno.utime(`${folder}/f1-old.txt`, old, old);
    let others: string[] | null = null; // the other inbox is still opening
    const link = await WorkspaceLink.open(settings(dir, me), {
      fetch: platform.fetch,
      clock,
      log,
      otherPending: () => others?.map((text) => ({ text })) ?? null,
    });
    await link.inboxOpened;
    const stop = new AbortController();
    await link.start(stop.signal);
    await link.firstPoll;
    await clock.whenSleeping(1); // the poll and the sweep after it are done
    assertEquals(await namesIn(folder), ["f1-old.txt"], "kept: the other queue may name it");
    others = [];
    await clock.advance(5_000);
    await clock.whenSleeping(1);
    assertEquals(await namesIn(folder), [], "swept at the next poll once the others are known");
    stop.abort();
    await link.stop();
  });
});
