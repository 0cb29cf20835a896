/**
 * Instant delivery through the platform's event stream (issue 14 item 1): the stream wakes the
 * poller, the poll stays the only source of messages, and every way the stream can fail falls
 * back to polling without losing or doubling a message.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { DurableInbox } from "../../lib/inbox/inbox.ts";
import { InboxPoller, SAFETY_POLL_MS } from "../../lib/inbox/poller.ts";
import { EventWake, STREAM_BACKOFF_CAP_MS } from "../../lib/inbox/event_wake.ts";
import { createFakePlatform, type FakePlatform } from "../fakes/fake_platform.ts";
import type { PlatformVersion } from "../fakes/fake_platform.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { flushMicrotasks, ManualClock } from "../fakes/manual_clock.ts";
import { withTempDir } from "../fakes/temp_dir.ts";
import { clientAs } from "../fakes/platform_client.ts";

const ACTIVITY = "GET /workspaces/:id/activity";
const STREAM = "GET /workspaces/:id/events/stream";
const INTERVAL_MS = 5_000;
const HEARTBEAT_MS = 20_000;
const STALL_MS = 2 * HEARTBEAT_MS;

interface Rig {
  clock: ManualClock;
  platform: FakePlatform;
  me: { id: string; token: string };
  inbox: DurableInbox;
  poller: InboxPoller;
  wake: EventWake;
  lines: string[];
  /** Polls of the activity feed so far. */
  polls(): number;
  /** Stream opens so far. */
  opens(): number;
  /** The stream loop; it ends by itself only when the platform has no stream. */
  streamLoop: Promise<void>;
  /**
   * Resolves once the loops are parked again: the poller in its pause and the stream loop in
   * its stall timer or reconnect pause (just the poller once the stream loop has stopped).
   */
  settled(): Promise<void>;
}

async function withRig(
  fn: (rig: Rig) => Promise<void>,
  opts: { version?: PlatformVersion; hasStream?: boolean } = {},
): Promise<void> {
  await withTempDir(async (dir) => {
    const clock = new ManualClock();
    const platform = createFakePlatform({ clock, version: opts.version ?? "2026-05" });
    const me = platform.addWorkspace({ delivery_mode: "poll" });
    const { log, lines } = captureLog("info");
    // Request timeouts run on a clock of their own that never moves: the fake always answers,
    // and the test clock's pending sleeps are then only the loops' own (see settled()).
    const client = clientAs(me, { fetch: platform.fetch, clock: new ManualClock(), log });
    const inbox = await DurableInbox.open({ dir, log, clock, workspaceId: me.id });
    const poller = new InboxPoller(
      { selfId: me.id, intervalMs: INTERVAL_MS },
      { platform: client, inbox, clock, log },
    );
    const wake = new EventWake(
      { stallMs: STALL_MS },
      { platform: client, poller, clock, log, random: () => 0.5 },
    );
    const stopping = new AbortController();
    const streamLoop = wake.run(stopping.signal);
    const loops = Promise.all([poller.run(stopping.signal), streamLoop]);
    const rig: Rig = {
      clock,
      platform,
      me,
      inbox,
      poller,
      wake,
      lines,
      streamLoop,
      polls: () => platform.count(ACTIVITY),
      // By path: on a platform without the route, no route key matches.
      opens: () => platform.count(`GET /workspaces/${me.id}/events/stream`),
      settled: async () => {
        await flushMicrotasks(100);
        await clock.whenSleeping(opts.hasStream === false ? 1 : 2);
        await flushMicrotasks(100);
      },
    };
    try {
      await rig.settled();
      await fn(rig);
    } finally {
      stopping.abort();
      await loops;
      await inbox.close();
    }
  });
}

function texts(inbox: DurableInbox): string[] {
  return inbox.peek(10_000).map((m) => m.text);
}

/** Moves time on in heartbeat-sized steps, with the heartbeat event the platform would send. */
async function advanceWithHeartbeats(rig: Rig, ms: number): Promise<void> {
  for (let left = ms; left > 0; left -= HEARTBEAT_MS) {
    await rig.clock.advance(Math.min(HEARTBEAT_MS, left));
    await rig.settled();
    rig.platform.emitEvent(rig.me.id, "WORKSPACE_HEARTBEAT");
    await rig.settled();
  }
}

Deno.test("event stream: a message announced on the stream is fetched at once, without waiting for the poll", async () => {
  await withRig(async (rig) => {
    assertEquals(rig.platform.eventStreams(rig.me.id), 1);
    const before = rig.polls();
    rig.platform.sendToInbox(rig.me.id, { text: "hello now" });
    // The clock does not move: only the event can have brought it.
    const got = await rig.inbox.wait(1);
    assertEquals(got?.text, "hello now");
    assertEquals(rig.polls(), before + 1);
    assertEquals(rig.wake.wakes, 1);
  });
});

Deno.test("event stream: while it is up the regular poll slows to the safety poll", async () => {
  await withRig(async (rig) => {
    const before = rig.polls();
    await advanceWithHeartbeats(rig, SAFETY_POLL_MS - HEARTBEAT_MS);
    assertEquals(rig.polls(), before, "no poll every 5 s while the stream is up");
    await advanceWithHeartbeats(rig, 2 * HEARTBEAT_MS);
    assertEquals(rig.polls(), before + 1, "one safety poll a minute");
    assertEquals(rig.opens(), 1);
  });
});

Deno.test("event stream: a row whose event was dropped still arrives by the safety poll", async () => {
  await withRig(async (rig) => {
    rig.platform.dropEvents(rig.me.id, 1);
    rig.platform.sendToInbox(rig.me.id, { text: "event lost" });
    await rig.settled();
    assertEquals(rig.inbox.size, 0);
    await advanceWithHeartbeats(rig, SAFETY_POLL_MS + INTERVAL_MS);
    assertEquals(texts(rig.inbox), ["event lost"]);
  });
});

Deno.test("event stream: duplicate, stale and odd events never deliver a message twice", async () => {
  await withRig(async (rig) => {
    rig.platform.sendToInbox(rig.me.id, { text: "once" });
    await rig.inbox.wait(1);
    // The same announcement again, an event for nothing new, and frames that are not events.
    for (let i = 0; i < 3; i++) {
      rig.platform.emitEvent(rig.me.id, "ACTIVITY_LOGGED", { activity_type: "a2a_receive" });
    }
    rig.platform.emitRawEvent(rig.me.id, "data: not json\n\ndata: {}\n\n: comment\n\n");
    await rig.settled();
    rig.platform.sendToInbox(rig.me.id, { text: "twice?" });
    await rig.inbox.wait(1);
    await rig.settled();
    assertEquals(texts(rig.inbox), ["once", "twice?"]);
    assertEquals(rig.platform.eventStreams(rig.me.id), 1, "odd frames do not drop the stream");
  });
});

Deno.test("event stream: stream and poll racing over the same rows deliver each message once", async () => {
  await withRig(async (rig) => {
    const sent: string[] = [];
    for (let i = 0; i < 40; i++) {
      const text = `m${i}`;
      sent.push(text);
      rig.platform.sendToInbox(rig.me.id, { text });
      // Some events are lost, so safety polls and event polls both fetch rows.
      if (i % 7 === 0) rig.platform.dropEvents(rig.me.id, 1);
      if (i % 5 === 0) await rig.clock.advance(HEARTBEAT_MS);
      rig.platform.emitEvent(rig.me.id, "WORKSPACE_HEARTBEAT");
      if (i % 3 === 0) await rig.settled();
    }
    await advanceWithHeartbeats(rig, SAFETY_POLL_MS);
    await rig.settled();
    assertEquals(texts(rig.inbox), sent);
  });
});

for (const how of ["end", "error", "stall"] as const) {
  Deno.test(`event stream: when the stream is lost (${how}) polling returns to its interval at once and the stream reopens`, async () => {
    await withRig(async (rig) => {
      await advanceWithHeartbeats(rig, 2 * HEARTBEAT_MS); // up for a while: a healthy stream
      const polls = rig.polls();
      rig.platform.cutEventStreams(rig.me.id, how);
      if (how === "stall") {
        // Nothing arrives any more; two heartbeat intervals of silence mean dead.
        await rig.clock.advance(STALL_MS);
        await rig.settled();
      }
      await rig.settled();
      assert(rig.polls() > polls, "a poll at once, for events missed while it died");
      assertEquals(rig.platform.eventStreams(rig.me.id), 0, "a dead stream is closed");
      rig.platform.dropEvents(rig.me.id, 1);
      rig.platform.sendToInbox(rig.me.id, { text: "by poll" });
      await rig.clock.advance(INTERVAL_MS);
      await rig.settled();
      assertEquals(texts(rig.inbox), ["by poll"]);
      // A healthy stream is reopened after about a second (jittered).
      assertEquals(rig.opens(), 2);
      assertEquals(rig.platform.eventStreams(rig.me.id), 1);
      assertStringIncludes(rig.lines.join("\n"), "event stream closed; reopening");
      assert(!rig.lines.some((l) => l.includes(" warn ")), rig.lines.join("\n"));
    });
  });
}

Deno.test("event stream: an unreachable stream is retried with a growing jittered backoff capped at 60 s", async () => {
  await withRig(async (rig) => {
    rig.platform.cutEventStreams(rig.me.id, "end");
    rig.platform.failNext(STREAM, 503, 20);
    await rig.settled();
    // Reopen times (jitter fixed at 0.75): 0.75 × 1, 2, 4 … s, at most 0.75 × 60 s.
    const gaps: number[] = [];
    let last = rig.clock.now();
    let opens = rig.opens();
    // Bounded: 9 reopens take 182.25 s of test time (729 steps); a stream that is never
    // reopened fails the assertion below instead of spinning the manual clock forever.
    for (let step = 0; gaps.length < 9 && step < 1_000; step++) {
      await rig.clock.advance(250);
      await rig.settled();
      if (rig.opens() > opens) {
        opens = rig.opens();
        gaps.push(rig.clock.now() - last);
        last = rig.clock.now();
      }
    }
    assertEquals(gaps, [750, 1500, 3000, 6000, 12000, 24000, 45000, 45000, 45000]);
    assert(gaps.every((g) => g <= STREAM_BACKOFF_CAP_MS));
  });
});

Deno.test("event stream: a platform without the stream (404) means polling only, with one info line and no warning", async () => {
  await withRig(async (rig) => {
    await rig.streamLoop;
    assertEquals(rig.opens(), 1);
    const log = rig.lines.join("\n");
    assertStringIncludes(log, "the platform has no event stream (an older release)");
    assert(!rig.lines.some((l) => l.includes(" warn ")), log);
    const polls = rig.polls();
    for (let i = 0; i < 3; i++) {
      await rig.clock.advance(INTERVAL_MS);
      await rig.settled();
    }
    assertEquals(rig.polls(), polls + 3, "polls every 5 s");
    await rig.clock.advance(10 * STREAM_BACKOFF_CAP_MS);
    assertEquals(rig.opens(), 1, "never asked again");
  }, { version: "seed", hasStream: false });
});

Deno.test("event stream: a refused token (401) is escalated like the heartbeat's, and polling goes on", async () => {
  await withRig(async (rig) => {
    rig.platform.failNext(STREAM, 401, 10);
    rig.platform.cutEventStreams(rig.me.id, "error");
    for (let i = 0; i < 8; i++) {
      await rig.clock.advance(STREAM_BACKOFF_CAP_MS / 2);
      await rig.settled();
    }
    const log = rig.lines.join("\n");
    assertStringIncludes(log, "event stream auth failure 1/3: the platform answered HTTP 401");
    assertStringIncludes(log, "event stream auth failure 2/3");
    assertStringIncludes(log, "has refused the token on the event stream 3 times in a row");
    // Retried at the cap, not in a loop.
    assert(rig.opens() <= 2 + 4 * 2, `opens ${rig.opens()}`);
    rig.platform.sendToInbox(rig.me.id, { text: "still polled" });
    await rig.clock.advance(INTERVAL_MS);
    await rig.settled();
    assertEquals(texts(rig.inbox), ["still polled"]);
  });
});
