/**
 * The tool router over two workspaces on two fake platforms (two tenants): which workspace a
 * call acts as, list_peers per workspace, and the merged inbox.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { DurableInbox } from "../../lib/inbox/inbox.ts";
import type { InboxMessage } from "../../lib/inbox/message.ts";
import { createPlatformClient } from "../../lib/platform/client.ts";
import type { ToolSpec } from "../../lib/mcp/tool_spec.ts";
import { platformTools, type ToolDeps } from "../../lib/tools/index.ts";
import {
  MergedInbox,
  type ServedWorkspace,
  WorkspaceRouter,
} from "../../lib/tools/workspace_router.ts";
import { readRuntimeIdentity } from "../../lib/runtime_identity.ts";
import { PeerDirectory } from "../../lib/workspace/peer_directory.ts";
import { createFakePlatform, type FakePlatform } from "../fakes/fake_platform.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { flushMicrotasks, ManualClock } from "../fakes/manual_clock.ts";
import { withTempDir } from "../fakes/temp_dir.ts";

interface Side {
  platform: FakePlatform;
  me: { id: string; token: string };
  peer: { id: string; token: string };
  inbox: DurableInbox;
}

interface Rig {
  alpha: Side;
  beta: Side;
  router: WorkspaceRouter;
  call(name: string, args: Record<string, unknown>): ReturnType<ToolSpec<ToolDeps>["handler"]>;
  tools: ToolSpec<ToolDeps>[];
}

async function withRouter(
  fn: (rig: Rig) => Promise<void>,
  firstPolls: { alpha?: Promise<void>; beta?: Promise<void> } = {},
): Promise<void> {
  await withTempDir(async (dir) => {
    const clock = new ManualClock();
    const { log } = captureLog("debug");
    const side = async (
      name: "alpha" | "beta",
      url: string,
    ): Promise<Side & { served: ServedWorkspace }> => {
      const platform = createFakePlatform({ clock });
      const me = platform.addWorkspace({ delivery_mode: "poll", name });
      const peer = platform.addWorkspace({ delivery_mode: "poll", name: `${name}-peer` });
      const client = createPlatformClient(
        { platformUrl: url, workspaceId: me.id, token: me.token },
        { fetch: platform.fetch, clock, log },
      );
      const inbox = await DurableInbox.open({ dir, log, clock, workspaceId: me.id });
      const peers = new PeerDirectory({ source: client, clock, log });
      return {
        platform,
        me,
        peer,
        inbox,
        served: {
          id: me.id,
          platform: client,
          peers,
          inbox,
          inboxUnavailable: null,
          ...(firstPolls[name] === undefined ? {} : { firstPoll: firstPolls[name] }),
        },
      };
    };
    const a = await side("alpha", "http://alpha.test");
    const b = await side("beta", "http://beta.test");
    const router = new WorkspaceRouter([
      a.served,
      b.served,
    ]);
    const tools = router.route(platformTools());
    const first = a.served;
    const base: ToolDeps = {
      platform: first.platform,
      inbox: a.inbox,
      inboxUnavailable: null,
      peers: first.peers,
      selfId: a.me.id,
      workspaceTier: 1,
      runtimeIdentity: readRuntimeIdentity(() => ""),
      clock,
      log,
      random: () => 0.5,
      attachmentFs: {
        realPath: () => Promise.reject(new Error("no files")),
        stat: () => Promise.reject(new Error("no files")),
        open: () => Promise.reject(new Error("no files")),
      },
      attachPolicy: { stateDir: dir },
      // As main.ts: the context carries the first workspace's first poll.
      ...(first.firstPoll === undefined ? {} : { firstPoll: first.firstPoll }),
    };
    const call = (name: string, args: Record<string, unknown>) => {
      const spec = tools.find((t) => t.name === name);
      if (spec === undefined) throw new Error(`no tool ${name}`);
      return spec.handler(args, { ...base, signal: new AbortController().signal });
    };
    try {
      await fn({ alpha: a, beta: b, router, call, tools });
    } finally {
      await a.inbox.close();
      await b.inbox.close();
    }
  });
}

function message(id: string, createdAt: string, extra: Partial<InboxMessage> = {}): InboxMessage {
  return {
    activity_id: id,
    text: `text ${id}`,
    peer_id: "",
    kind: "canvas_user",
    method: "message/send",
    created_at: createdAt,
    ...extra,
  };
}

const ID1 = "00000000-0000-4000-8000-000000000001";
const ID2 = "00000000-0000-4000-8000-000000000002";
const ID3 = "00000000-0000-4000-8000-000000000003";

Deno.test("workspace router: a call to a peer goes out as the workspace the peer was last seen on; an explicit source wins", async () => {
  await withRouter(async ({ alpha, beta, router, call }) => {
    // beta's peer wrote to beta: a reply to it goes out as beta, to beta's tenant.
    router.noteArrival(beta.me.id, [
      message(ID1, "2026-05-01T00:00:00Z", { kind: "peer_agent", peer_id: beta.peer.id }),
    ]);
    const sent = await call("delegate_task_async", { workspace_id: beta.peer.id, task: "hi" });
    assert(!sent.isError, JSON.stringify(sent));
    assertEquals(beta.platform.delegations.map((d) => d.workspace_id), [beta.me.id]);
    assertEquals(alpha.platform.delegations.length, 0);
    // Explicit source_workspace_id wins over the last-seen rule.
    const explicit = await call("delegate_task_async", {
      workspace_id: alpha.peer.id,
      task: "hi",
      source_workspace_id: alpha.me.id.toUpperCase(),
    });
    assert(!explicit.isError, JSON.stringify(explicit));
    assertEquals(alpha.platform.delegations.map((d) => d.workspace_id), [alpha.me.id]);
  });
});

Deno.test("workspace router: without a last-seen workspace, calls act as the first configured one", async () => {
  await withRouter(async ({ alpha, beta, call }) => {
    const sent = await call("send_message_to_user", { message: "status" });
    assert(!sent.isError, JSON.stringify(sent));
    assertEquals(alpha.platform.notifications.map((n) => n.workspace_id), [alpha.me.id]);
    assertEquals(beta.platform.notifications.length, 0);
  });
});

Deno.test("workspace router: list_peers shows each workspace's peers under its own heading, and remembers where each was seen", async () => {
  await withRouter(async ({ alpha, beta, router, call }) => {
    const listed = await call("list_peers", {});
    const text = listed.content.map((c) => (c.type === "text" ? c.text : "")).join("");
    assertStringIncludes(text, `Peers of workspace ${alpha.me.id}`);
    assertStringIncludes(text, `Peers of workspace ${beta.me.id}`);
    assertStringIncludes(text, alpha.peer.id);
    assertStringIncludes(text, beta.peer.id);
    assertEquals(router.lastSeenOn(beta.peer.id), beta.me.id);
    assertEquals(router.lastSeenOn(alpha.peer.id), alpha.me.id);
  });
});

Deno.test("workspace router: every acting tool advertises source_workspace_id; the inbox tools and a single workspace do not change", async () => {
  await withRouter(({ tools, alpha }) => {
    for (const tool of tools) {
      const has = Object.hasOwn(tool.inputSchema.properties ?? {}, "source_workspace_id");
      const acts = !["wait_for_message", "inbox_peek", "inbox_pop", "get_runtime_identity"]
        .includes(tool.name);
      assertEquals(has, acts, tool.name);
    }
    const single = new WorkspaceRouter([{
      id: alpha.me.id,
      platform: createPlatformClient({
        platformUrl: "http://alpha.test",
        workspaceId: alpha.me.id,
        token: alpha.me.token,
      }, { fetch: alpha.platform.fetch, clock: new ManualClock(), log: captureLog("warn").log }),
      peers: new PeerDirectory({
        source: { listPeers: () => Promise.resolve([]) },
        clock: new ManualClock(),
        log: captureLog("warn").log,
      }),
      inbox: alpha.inbox,
      inboxUnavailable: null,
    }]);
    const specs = platformTools();
    assertEquals(single.route(specs), specs);
    return Promise.resolve();
  });
});

Deno.test("workspace router: the merged inbox lists oldest first over both, tags the arrival workspace and pops from the holder", async () => {
  await withRouter(async ({ alpha, beta, call }) => {
    await beta.inbox.accept({ messages: [message(ID1, "2026-05-01T00:00:01Z")], skipped: [] });
    await alpha.inbox.accept({ messages: [message(ID2, "2026-05-01T00:00:02Z")], skipped: [] });
    const peek = await call("inbox_peek", {});
    const listed = JSON.parse(peek.content[0]?.type === "text" ? peek.content[0].text : "[]") as {
      activity_id: string;
      arrival_workspace_id: string;
    }[];
    assertEquals(listed.map((m) => [m.activity_id, m.arrival_workspace_id]), [
      [ID1, beta.me.id],
      [ID2, alpha.me.id],
    ]);
    const popped = await call("inbox_pop", { activity_id: ID1 });
    assertStringIncludes(popped.content[0]?.type === "text" ? popped.content[0].text : "", "true");
    assertEquals(beta.inbox.size, 0);
    assertEquals(alpha.inbox.size, 1);
  });
});

Deno.test("workspace router: a wait over both inboxes wakes for a message arriving on the second", async () => {
  await withRouter(async ({ alpha, beta }) => {
    const merged = new MergedInbox([
      { id: alpha.me.id, inbox: alpha.inbox },
      { id: beta.me.id, inbox: beta.inbox },
    ]);
    const waiting = merged.wait(60_000);
    await beta.inbox.accept({ messages: [message(ID3, "2026-05-01T00:00:03Z")], skipped: [] });
    const got = await waiting;
    assertEquals(got?.activity_id, ID3);
    assertEquals(got?.arrival_workspace_id, beta.me.id);
  });
});

Deno.test("workspace router: right after start the merged inbox_peek waits for the second workspace's first poll too, so its messages are listed", async () => {
  const betaPoll = Promise.withResolvers<void>();
  await withRouter(async ({ beta, call }) => {
    const peek = call("inbox_peek", {});
    await flushMicrotasks();
    // beta's first poll brings a message, then finishes; alpha's had finished at once.
    await beta.inbox.accept({ messages: [message(ID1, "2026-05-01T00:00:01Z")], skipped: [] });
    betaPoll.resolve();
    const result = await peek;
    assertStringIncludes(result.content[0]?.type === "text" ? result.content[0].text : "", ID1);
  }, { alpha: Promise.resolve(), beta: betaPoll.promise });
});
