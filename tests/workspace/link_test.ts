import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { DurableInbox } from "../../lib/inbox/inbox.ts";
import { WorkspaceLink, type WorkspaceLinkSettings } from "../../lib/workspace/link.ts";
import { createFakePlatform } from "../fakes/fake_platform.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { ManualClock } from "../fakes/manual_clock.ts";
import { withTempDir } from "../fakes/temp_dir.ts";

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
