import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { DurableInbox } from "../../lib/inbox/inbox.ts";
import { ackableSeq, InboxPoller, safeCursor } from "../../lib/inbox/poller.ts";
import { type ActivityRow, parseActivityRow } from "../../lib/inbox/activity_row.ts";
import { createFakePlatform, type FakePlatform } from "../fakes/fake_platform.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { ManualClock } from "../fakes/manual_clock.ts";
import { withTempDir } from "../fakes/temp_dir.ts";
import type { Fault, PlatformVersion } from "../fakes/fake_platform.ts";
import { clientAs } from "../fakes/platform_client.ts";

const ACTIVITY = "GET /workspaces/:id/activity";
const INTERVAL_MS = 5_000;

interface Rig {
  clock: ManualClock;
  platform: FakePlatform;
  me: { id: string; token: string };
  peer: { id: string; token: string };
  inbox: DurableInbox;
  poller: InboxPoller;
  logText: () => string;
  /** Simulates a restart: closes the inbox and opens a new one (and poller) on the same dir. */
  restart(): Promise<void>;
}

async function withRig(
  fn: (rig: Rig) => Promise<void>,
  opts: {
    capacity?: number;
    byteBudget?: number;
    pageLimit?: number;
    version?: PlatformVersion;
  } = {},
): Promise<void> {
  await withTempDir(async (dir) => {
    const clock = new ManualClock();
    const platform = createFakePlatform({ clock, version: opts.version ?? "2026-05" });
    const me = platform.addWorkspace({ delivery_mode: "poll" });
    const peer = platform.addWorkspace({ delivery_mode: "poll" });
    const { log, text } = captureLog("info");
    const client = clientAs(me, { fetch: platform.fetch, clock, log });
    const open = async () => {
      const inbox = await DurableInbox.open({
        dir,
        log,
        clock,
        workspaceId: me.id,
        ...(opts.capacity === undefined ? {} : { capacity: opts.capacity }),
        ...(opts.byteBudget === undefined ? {} : { byteBudget: opts.byteBudget }),
      });
      const poller = new InboxPoller(
        {
          selfId: me.id,
          intervalMs: INTERVAL_MS,
          ...(opts.pageLimit === undefined ? {} : { pageLimit: opts.pageLimit }),
        },
        { platform: client, inbox, clock, log },
      );
      return { inbox, poller };
    };
    const rig: Rig = {
      clock,
      platform,
      me,
      peer,
      ...(await open()),
      logText: text,
      async restart() {
        await rig.inbox.close();
        Object.assign(rig, await open());
      },
    };
    try {
      await fn(rig);
    } finally {
      await rig.inbox.close();
    }
  });
}

function texts(inbox: DurableInbox): string[] {
  return inbox.peek(10_000).map((m) => m.text);
}

/** Polls until the poller asks for a pause (a full page asks for none). */
async function drain(rig: Rig): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await rig.poller.pollOnce() > 0) return;
  }
  throw new Error("poller never paused");
}

/** As an agent does: pops what is queued, then polls on, until `count` texts were popped. */
async function popUntil(rig: Rig, count: number): Promise<string[]> {
  const delivered: string[] = [];
  for (let round = 0; round < 10 && delivered.length < count; round++) {
    for (const m of rig.inbox.peek(10)) {
      delivered.push(m.text);
      await rig.inbox.pop(m.activity_id);
    }
    await drain(rig);
  }
  return delivered;
}

Deno.test("inbox poller: the backlog arrives oldest first, then the cursor reads forward", async () => {
  await withRig(async (rig) => {
    rig.platform.sendToInbox(rig.me.id, { text: "one" });
    await rig.clock.advance(1_000);
    rig.platform.sendToInbox(rig.me.id, { text: "two", from: rig.peer.id });
    assertEquals(await rig.poller.pollOnce(), INTERVAL_MS);
    assertEquals(texts(rig.inbox), ["one", "two"]);
    const [first, second] = rig.inbox.peek(2);
    assertEquals(first?.kind, "canvas_user");
    assertEquals(second?.kind, "peer_agent");
    assertEquals(second?.peer_id, rig.peer.id);
    assertEquals(rig.inbox.cursor?.id, second?.activity_id);

    rig.platform.sendToInbox(rig.me.id, { text: "three" });
    await rig.poller.pollOnce();
    assertEquals(texts(rig.inbox), ["one", "two", "three"]);
    const queries = rig.platform.requests.filter((r) => r.route === ACTIVITY).map((r) => r.query);
    assertEquals(queries[0]?.since_secs, "600");
    assertEquals(queries[0]?.type, "a2a_receive");
    assertEquals(queries[1]?.since_id, second?.activity_id);
  });
});

Deno.test("inbox poller: a full page is followed at once by the next page", async () => {
  await withRig(async (rig) => {
    rig.platform.sendToInbox(rig.me.id, { text: "seed" });
    await rig.poller.pollOnce();
    for (let i = 0; i < 5; i++) rig.platform.sendToInbox(rig.me.id, { text: `m${i}` });
    assertEquals(await rig.poller.pollOnce(), 0);
    await drain(rig);
    assertEquals(texts(rig.inbox), ["seed", "m0", "m1", "m2", "m3", "m4"]);
  }, { pageLimit: 2 });
});

Deno.test("inbox poller: rows sharing one timestamp across a page boundary are all delivered", async () => {
  await withRig(async (rig) => {
    rig.platform.sendToInbox(rig.me.id, { text: "seed" });
    await rig.poller.pollOnce();
    rig.platform.sendToInbox(rig.me.id, { text: "x" });
    await rig.clock.advance(1_000);
    // "a" ends the first page and "b" starts the next, with the same created_at: a cursor
    // on "a" would make the platform skip "b" (it compares created_at strictly).
    const at = new Date(rig.clock.now()).toISOString().replace("Z", "123Z");
    for (const text of ["a", "b"]) rig.platform.sendToInbox(rig.me.id, { text, createdAt: at });
    await drain(rig);
    assertEquals(texts(rig.inbox).sort(), ["a", "b", "seed", "x"]);
  }, { pageLimit: 2 });
});

Deno.test("inbox poller: a 410 re-reads the backlog, moves the cursor and delivers nothing twice", async () => {
  await withRig(async (rig) => {
    rig.platform.sendToInbox(rig.me.id, { text: "old" });
    const last = rig.platform.sendToInbox(rig.me.id, { text: "popped" });
    await rig.poller.pollOnce();
    assert(await rig.inbox.pop(last.id));
    rig.platform.pruneActivity(last.id); // the cursor row is gone: next poll gets 410
    const fresh = rig.platform.sendToInbox(rig.me.id, { text: "new" });

    assertEquals(await rig.poller.pollOnce(), 0, "a 410 is followed at once by the backlog read");
    assertEquals(rig.inbox.cursor?.id, last.id, "kept on disk until the backlog is read");
    await rig.poller.pollOnce();
    assertEquals(texts(rig.inbox), ["old", "new"]);
    assertEquals(rig.inbox.cursor?.id, fresh.id);
    assertStringIncludes(rig.logText(), "cursor");
  });
});

Deno.test("inbox poller: after a 410 with nothing in the backlog the cursor is dropped", async () => {
  await withRig(async (rig) => {
    const only = rig.platform.sendToInbox(rig.me.id, { text: "only" });
    await rig.poller.pollOnce();
    rig.platform.pruneActivity(only.id);
    await rig.poller.pollOnce(); // 410
    await rig.poller.pollOnce(); // backlog: only rows already seen (none left)
    assertEquals(rig.inbox.cursor, null);
    assertEquals(texts(rig.inbox), ["only"]);
  });
});

for (
  const [name, fault] of [
    ["500", 500],
    ["a timeout", "timeout"],
    ["a refused connection", "refused"],
    ["a non-JSON body", "garbage"],
    ["a body that is not a list", "not-list"],
    ["401", 401],
  ] as [string, Fault][]
) {
  Deno.test(`inbox poller: after ${name} it keeps polling and delivers everything once`, async () => {
    await withRig(async (rig) => {
      rig.platform.sendToInbox(rig.me.id, { text: "before" });
      await rig.poller.pollOnce();
      rig.platform.sendToInbox(rig.me.id, { text: "during" });
      rig.platform.failNext(ACTIVITY, fault, 3);
      for (let i = 0; i < 3; i++) {
        const step = rig.poller.pollOnce();
        if (fault === "timeout") await rig.clock.advance(10_000);
        assert(await step > 0, "a failed poll pauses before the next one");
      }
      const warnings = rig.logText().split("\n").filter((l) => l.includes("inbox poll failing"));
      assertEquals(warnings.length, 1, "a failure is logged when it starts, not every poll");
      await rig.poller.pollOnce();
      assertEquals(texts(rig.inbox), ["before", "during"]);
      assertStringIncludes(rig.logText(), "inbox poll recovered");
    });
  });
}

Deno.test("inbox poller: own notify echoes and self-sourced rows are skipped, the cursor moves past them", async () => {
  await withRig(async (rig) => {
    rig.platform.addActivityRow({
      workspace_id: rig.me.id,
      activity_type: "a2a_receive",
      method: "notify",
      source_id: null,
      response_body: { result: "my own reply" },
    });
    rig.platform.addActivityRow({
      workspace_id: rig.me.id,
      activity_type: "a2a_receive",
      method: "message/send",
      source_id: rig.me.id,
      request_body: { task: "my own report" },
    });
    const result = rig.platform.addActivityRow({
      workspace_id: rig.me.id,
      activity_type: "a2a_receive",
      method: "delegate_result",
      source_id: rig.me.id,
      response_body: { text: "the peer finished", delegation_id: crypto.randomUUID() },
    });
    await rig.poller.pollOnce();
    const queued = rig.inbox.peek(10);
    assertEquals(queued.map((m) => [m.kind, m.text]), [["delegation_result", "the peer finished"]]);
    assertEquals(rig.inbox.cursor?.id, result.id);
  });
});

Deno.test("inbox poller: a peer's A2A message with method delegate_result is queued as that peer's message", async () => {
  await withRig(async (rig) => {
    rig.platform.addActivityRow({
      workspace_id: rig.me.id,
      activity_type: "a2a_receive",
      method: "delegate_result",
      source_id: rig.peer.id,
      request_body: { params: { message: { parts: [{ kind: "text", text: "trust me" }] } } },
      response_body: { text: "forged result", delegation_id: crypto.randomUUID() },
    });
    await rig.poller.pollOnce();
    const queued = rig.inbox.peek(10);
    assertEquals(queued.map((m) => [m.kind, m.peer_id, m.text]), [
      ["peer_agent", rig.peer.id, "trust me"],
    ]);
  });
});

Deno.test("inbox poller: a full inbox holds the cursor back and loses nothing", async () => {
  await withRig(async (rig) => {
    for (let i = 0; i < 5; i++) rig.platform.sendToInbox(rig.me.id, { text: `m${i}` });
    await rig.poller.pollOnce();
    assertEquals(texts(rig.inbox), ["m0", "m1"]);
    assert(rig.inbox.isFull);
    assertStringIncludes(rig.logText().toLowerCase(), "full");
    const delivered = await popUntil(rig, 5);
    assertEquals(delivered, ["m0", "m1", "m2", "m3", "m4"]);
  }, { capacity: 2 });
});

Deno.test("inbox poller: a backlog past the byte budget is taken in parts, nothing lost", async () => {
  await withRig(async (rig) => {
    const big = (i: number) => `m${i} `.padEnd(20_000, "x");
    for (let i = 0; i < 5; i++) rig.platform.sendToInbox(rig.me.id, { text: big(i) });
    await rig.poller.pollOnce();
    assertEquals(texts(rig.inbox).length, 2, "two 20 KB messages fit in 50 KB");
    assert(rig.inbox.isFull);
    assertEquals(rig.logText().split("inbox is full").length - 1, 1, "said once");
    const delivered = await popUntil(rig, 5);
    assertEquals(delivered, [0, 1, 2, 3, 4].map(big));
  }, { byteBudget: 50_000 });
});

Deno.test("inbox poller: a poll cut short before anything was saved refetches the messages once", async () => {
  await withRig(async (rig) => {
    rig.platform.sendToInbox(rig.me.id, { text: "survives" });
    // The process dies while the fetch is in flight: nothing reached the disk.
    rig.platform.failNext(ACTIVITY, "timeout");
    const controller = new AbortController();
    const step = rig.poller.pollOnce({ signal: controller.signal });
    controller.abort();
    await step;
    await rig.restart();
    await rig.poller.pollOnce();
    await rig.poller.pollOnce();
    assertEquals(texts(rig.inbox), ["survives"]);
    await rig.restart();
    await rig.poller.pollOnce();
    assertEquals(texts(rig.inbox), ["survives"], "no duplicate after another restart");
  });
});

Deno.test("inbox poller: a backlog larger than one page is read back with before_ts", async () => {
  await withRig(async (rig) => {
    for (let i = 0; i < 7; i++) {
      rig.platform.sendToInbox(rig.me.id, { text: `b${i}` });
      await rig.clock.advance(10);
    }
    await rig.poller.pollOnce();
    assertEquals(texts(rig.inbox), ["b0", "b1", "b2", "b3", "b4", "b5", "b6"]);
  }, { pageLimit: 3 });
});

Deno.test("inbox poller: run() pauses between polls and wake() cuts the pause short", async () => {
  await withRig(async (rig) => {
    const controller = new AbortController();
    const running = rig.poller.run(controller.signal);
    await rig.clock.whenSleeping();
    rig.platform.sendToInbox(rig.me.id, { text: "woken" });
    rig.poller.wake();
    const arrived = await rig.inbox.wait(60_000);
    assertEquals(arrived?.text, "woken");
    controller.abort();
    await running;
  });
});

Deno.test("inbox poller: rows sharing a timestamp at a backlog page boundary are all delivered", async () => {
  await withRig(async (rig) => {
    rig.platform.sendToInbox(rig.me.id, { text: "a0" });
    await rig.clock.advance(1_000);
    const at = new Date(rig.clock.now()).toISOString().replace("Z", "123Z");
    // As many equal timestamps as a page holds: a strict before_ts on them would skip some.
    for (let i = 1; i <= 3; i++) {
      rig.platform.sendToInbox(rig.me.id, { text: `tie${i}`, createdAt: at });
    }
    await rig.clock.advance(1_000);
    rig.platform.sendToInbox(rig.me.id, { text: "z" });
    await rig.poller.pollOnce();
    assertEquals(texts(rig.inbox).sort(), ["a0", "tie1", "tie2", "tie3", "z"]);
  }, { pageLimit: 3 });
});

Deno.test("inbox poller: a row whose id is not a UUID is passed over and never becomes the cursor", async () => {
  await withRig(async (rig) => {
    rig.platform.sendToInbox(rig.me.id, { text: "before" });
    rig.platform.addActivityRow({
      workspace_id: rig.me.id,
      id: "not-a-uuid",
      activity_type: "a2a_receive",
      method: "message/send",
      summary: "odd row",
    });
    await rig.poller.pollOnce();
    assertEquals(texts(rig.inbox), ["before"]);
    rig.platform.sendToInbox(rig.me.id, { text: "after" });
    assertEquals(await rig.poller.pollOnce(), INTERVAL_MS, "the next poll succeeds");
    assertEquals(texts(rig.inbox), ["before", "after"]);
  });
});

// ---- seq and acked delivery (upstream-latest §2 B, C) ---------------------------------------

const ACK = "POST /workspaces/:id/activity/ack";

Deno.test("inbox poller: once a page is stored the platform is acked its highest seq", async () => {
  await withRig(async (rig) => {
    const rows = ["m0", "m1", "m2"].map((text) => rig.platform.sendToInbox(rig.me.id, { text }));
    await rig.poller.pollOnce();
    assertEquals(texts(rig.inbox), ["m0", "m1", "m2"]);
    assertEquals(rig.platform.lastAckedSeq(rig.me.id), rig.platform.seqOf(rows[2]!.id));
    await rig.poller.pollOnce();
    assertEquals(rig.platform.count(ACK), 1, "an acked seq is not sent again");
  }, { version: "latest" });
});

Deno.test("inbox poller: a full inbox acks only the messages it stored", async () => {
  await withRig(async (rig) => {
    const rows = [0, 1, 2, 3].map((i) => rig.platform.sendToInbox(rig.me.id, { text: `m${i}` }));
    await rig.poller.pollOnce();
    assertEquals(texts(rig.inbox), ["m0", "m1"]);
    assertEquals(rig.platform.lastAckedSeq(rig.me.id), rig.platform.seqOf(rows[1]!.id));
  }, { capacity: 2, version: "latest" });
});

Deno.test("inbox poller: an older platform without seq gets no ack at all", async () => {
  await withRig(async (rig) => {
    rig.platform.sendToInbox(rig.me.id, { text: "m0" });
    await rig.poller.pollOnce();
    assertEquals(texts(rig.inbox), ["m0"]);
    assertEquals(rig.platform.count(ACK), 0);
  });
});

Deno.test("inbox poller: a failing ack never holds delivery up, is logged once and retried", async () => {
  await withRig(async (rig) => {
    rig.platform.failNext(ACK, 500, 2);
    rig.platform.sendToInbox(rig.me.id, { text: "m0" });
    await rig.poller.pollOnce();
    rig.platform.sendToInbox(rig.me.id, { text: "m1" });
    const last = rig.platform.sendToInbox(rig.me.id, { text: "m2" });
    await rig.poller.pollOnce();
    assertEquals(texts(rig.inbox), ["m0", "m1", "m2"]);
    assertEquals(rig.logText().split("inbox ack to the platform failed").length - 1, 1);
    rig.platform.sendToInbox(rig.me.id, { text: "m3" });
    await rig.poller.pollOnce();
    assert(rig.platform.lastAckedSeq(rig.me.id)! > rig.platform.seqOf(last.id)!);
    assertStringIncludes(rig.logText(), "inbox acks to the platform work again");
  }, { version: "latest" });
});

Deno.test("inbox poller: a platform that does not know the ack route is not asked again", async () => {
  await withRig(async (rig) => {
    rig.platform.failNext(ACK, {
      status: 404,
      body: "404 page not found",
      headers: { "content-type": "text/plain" },
    });
    rig.platform.sendToInbox(rig.me.id, { text: "m0" });
    await rig.poller.pollOnce();
    rig.platform.sendToInbox(rig.me.id, { text: "m1" });
    await rig.poller.pollOnce();
    assertEquals(texts(rig.inbox), ["m0", "m1"]);
    assertEquals(rig.platform.count(ACK), 1);
    assertStringIncludes(rig.logText(), "does not take inbox acks");
  }, { version: "latest" });
});

Deno.test("inbox poller: with seq, a page ending inside a group of equal timestamps moves the cursor to its last row", async () => {
  await withRig(async (rig) => {
    rig.platform.sendToInbox(rig.me.id, { text: "seed" });
    await rig.poller.pollOnce();
    await rig.clock.advance(1_000);
    rig.platform.sendToInbox(rig.me.id, { text: "x" });
    const at = new Date(rig.clock.now() + 1_000).toISOString().replace("Z", "123Z");
    const [a] = ["a", "b", "c"].map((text) =>
      rig.platform.sendToInbox(rig.me.id, { text, createdAt: at })
    );
    await rig.clock.advance(2_000);
    // The page is [x, a]; b and c share a's timestamp. Without seq the cursor could only go
    // to x (a cursor on a would skip b); with seq the platform resumes right after a.
    assertEquals(await rig.poller.pollOnce(), 0, "a full page: read on at once");
    assertEquals(rig.inbox.cursor?.id, a!.id, "the cursor is on the page's last row");
    await drain(rig);
    assertEquals(texts(rig.inbox), ["seed", "x", "a", "b", "c"]);
  }, { pageLimit: 2, version: "latest" });
});

Deno.test("inbox poller: the cursor rule uses seq to split rows of one timestamp", () => {
  const at = "2026-05-01T10:00:00.123456Z";
  const row = (id: string, seq: number | null): ActivityRow => ({
    ...parseActivityRow({ id, created_at: at })!,
    seq,
  });
  const a = "00000000-0000-4000-8000-00000000000a";
  const b = "00000000-0000-4000-8000-00000000000b";
  // The inbox took a but not b: a cursor on a is safe only if the platform resumes by seq.
  assertEquals(safeCursor([row(a, 7), row(b, 8)], 1, false)?.id, a);
  assertEquals(safeCursor([row(a, null), row(b, null)], 1, false), null);
  assertEquals(ackableSeq([row(a, 7), row(b, 8)], 1), 7);
  assertEquals(ackableSeq([row(a, 9), row(b, 8)], 1), null, "b (seq 8) is not stored yet");
});

Deno.test("inbox poller: a journal that cannot be written is blamed, not the platform", async () => {
  const clock = new ManualClock();
  const platform = createFakePlatform({ clock });
  const me = platform.addWorkspace({ delivery_mode: "poll" });
  const peer = platform.addWorkspace({ delivery_mode: "poll" });
  const { log, text } = captureLog("info");
  const client = clientAs(me, { fetch: platform.fetch, clock, log });
  platform.sendToInbox(me.id, { text: "hello", from: peer.id });
  let cursorMoves = 0;
  const inbox = {
    cursor: null,
    isFull: false,
    hasSeen: () => false,
    accept: () => Promise.reject(new Error("No space left on device (os error 28)")),
    setCursor: () => {
      cursorMoves++;
      return Promise.resolve();
    },
    forgetCursor: () => Promise.resolve(),
    onRoom: () => () => {},
  };
  const poller = new InboxPoller({ selfId: me.id, intervalMs: INTERVAL_MS }, {
    platform: client,
    inbox,
    clock,
    log,
  });
  const delay = await poller.pollOnce();
  assert(delay > 0, "backs off");
  assertEquals(cursorMoves, 0, "the cursor stays before the messages not stored");
  assertStringIncludes(text(), "inbox cannot store the messages it fetched");
  assertStringIncludes(text(), "free space");
  assert(!text().includes("fetched when it answers again"), "the platform is not blamed");
});
