/**
 * Platform storms: runs of 500 / timeout / refused / non-JSON / not-a-list / 410 / 401 mixed
 * with good answers. The long storm drives the real InboxPoller and DurableInbox in-process on
 * a ManualClock (time moves only when the test says, so hundreds of failures and their backoff
 * cost no real time); the short storm runs the spawned program against the served fake, with
 * faults on the activity feed and the heartbeat. Either way: the process (or loop) stays alive,
 * every message is delivered exactly once after recovery, and the log shows state changes,
 * not a line per failed poll.
 *
 * Replay with FAULT_STORM_SEED=<seed printed in the test name>; FAULT_SUITE=full runs longer.
 */
import { assert, assertEquals } from "../assert.ts";
import { DurableInbox } from "../../lib/inbox/inbox.ts";
import { InboxPoller } from "../../lib/inbox/poller.ts";
import { createFakePlatform, type FakePlatform, type Fault } from "../fakes/fake_platform.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { ManualClock } from "../fakes/manual_clock.ts";
import { isFullSuite, SeededRandom, suiteSeed } from "../fakes/seeded_random.ts";
import { RpcSession } from "../fakes/rpc_session.ts";
import { type ProgramHandle, spawnProgram } from "../fakes/spawn.ts";
import { workspaceEnv } from "../fakes/served_platform.ts";
import { withTempDir } from "../fakes/temp_dir.ts";
import { TEST_WORKSPACE_ID } from "../fakes/inbox_files.ts";
import { clientAs } from "../fakes/platform_client.ts";

const IS_FULL = isFullSuite();
const MODE = IS_FULL ? "full" : "quick";
const SEED = suiteSeed("FAULT_STORM_SEED", 7_340_033);
const ACTIVITY_ROUTE = "GET /workspaces/:id/activity";
const HEARTBEAT_ROUTE = "POST /registry/heartbeat";
/** The activity feed's request timeout (lib/platform/registry.ts REGISTRY_TIMEOUT_MS). */
const ACTIVITY_TIMEOUT_MS = 10_000;
/** The poller's longest pause while the platform keeps failing. */
const MAX_BACKOFF_MS = 60_000;
const INTERVAL_MS = 1_000;

const FAULTS: readonly Fault[] = [500, "timeout", "refused", "garbage", "not-list", 410, 401];

/** One step of the scripted storm: maybe new messages, maybe a fault on this poll. */
interface StormStep {
  inject: number;
  fault: Fault | null;
}

/**
 * A storm script: bursts (1..12 polls) of one fault kind or of mixed kinds, each followed by
 * 1..3 good answers, with messages arriving throughout. Every burst ends within a few minutes
 * of platform time, inside the 10-minute backlog window a 410 falls back to (the test below
 * the storm shows what a longer outage after a 410 does).
 */
function stormScript(rng: SeededRandom, steps: number): StormStep[] {
  const script: StormStep[] = [];
  const step = (fault: Fault | null) =>
    script.push({ inject: rng.chance(0.3) ? rng.int(1, 3) : 0, fault });
  while (script.length < steps) {
    const isMixed = rng.chance(0.5);
    const kind = rng.pick(FAULTS);
    const length = rng.int(1, 12);
    for (let i = 0; i < length; i++) step(isMixed ? rng.pick(FAULTS) : kind);
    const good = rng.int(1, 3);
    for (let i = 0; i < good; i++) step(null);
  }
  return script;
}

/** Lines of the "failing"/"recovered" state logs. */
function pollStateLines(lines: readonly string[]): { failing: number; recovered: number } {
  return {
    failing: lines.filter((l) => l.includes("inbox poll failing")).length,
    recovered: lines.filter((l) => l.includes("inbox poll recovered")).length,
  };
}

/** The real poller and durable inbox on a fake platform, all on one ManualClock. */
interface PollerRig {
  clock: ManualClock;
  platform: FakePlatform;
  me: { id: string; token: string };
  peer: { id: string; token: string };
  readonly inbox: DurableInbox;
  lines: string[];
  /** Activity ids in the order the inbox announced them (onArrived). */
  announced: string[];
  /** Sends a message to this workspace's inbox (from the peer or the canvas); returns its id. */
  send(fromPeer: boolean): string;
  /** One poll, `fault` scripted on it; moves the clock through a timeout. Returns the pause. */
  poll(fault: Fault | null): Promise<number>;
  /** Closes the inbox and starts over on the same state dir, as a restarted process does. */
  restart(): Promise<void>;
}

async function withPollerRig(fn: (rig: PollerRig) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const clock = new ManualClock();
    const platform = createFakePlatform({ clock });
    const me = platform.addWorkspace({ delivery_mode: "poll", name: "storm-me" });
    const peer = platform.addWorkspace({ delivery_mode: "poll", name: "storm-peer" });
    const { log, lines } = captureLog("info", [me.token]);
    const client = clientAs(me, { fetch: platform.fetch, clock, log });
    const announced: string[] = [];
    const open = async () => {
      const inbox = await DurableInbox.open({ dir, log, clock, workspaceId: TEST_WORKSPACE_ID });
      inbox.onArrived((msgs) => announced.push(...msgs.map((m) => m.activity_id)));
      const poller = new InboxPoller(
        { selfId: me.id, intervalMs: INTERVAL_MS },
        { platform: client, inbox, clock, log },
      );
      return { inbox, poller };
    };
    let { inbox, poller } = await open();
    let sentCount = 0;
    const rig: PollerRig = {
      clock,
      platform,
      me,
      peer,
      get inbox() {
        return inbox;
      },
      lines,
      announced,
      send: (fromPeer) =>
        platform.sendToInbox(me.id, {
          text: `storm ${sentCount++}`,
          from: fromPeer ? peer.id : null,
        }).id,
      async poll(fault) {
        if (fault !== null) platform.failNext(ACTIVITY_ROUTE, fault);
        const polling = poller.pollOnce();
        if (fault === "timeout") {
          await clock.whenSleeping(1); // the request's timeout timer
          await clock.advance(ACTIVITY_TIMEOUT_MS);
        }
        const delayMs = await polling;
        assert(delayMs >= 0 && delayMs <= MAX_BACKOFF_MS, `pause ${delayMs} ms`);
        return delayMs;
      },
      async restart() {
        await inbox.close();
        ({ inbox, poller } = await open());
      },
    };
    try {
      await fn(rig);
    } finally {
      await inbox.close();
    }
    assert(!lines.join("\n").includes(me.token), "the token is never logged");
  });
}

Deno.test(
  `fault storm: the in-process poller survives a long mixed storm and delivers every message once (${MODE}, seed ${SEED})`,
  async () => {
    await withPollerRig(async (rig) => {
      const rng = new SeededRandom(SEED);
      const steps = IS_FULL ? 3000 : 600;
      const script = stormScript(rng, steps);
      const sent: string[] = [];
      let failureRuns = 0;
      let isFailing = false;
      for (const step of script) {
        for (let i = 0; i < step.inject; i++) sent.push(rig.send(rng.chance(0.5)));
        const delayMs = await rig.poll(step.fault);
        if (step.fault === null) assertEquals(delayMs, INTERVAL_MS, "good answers reset backoff");
        if (step.fault !== null && step.fault !== 410 && !isFailing) failureRuns++;
        if (step.fault !== 410) isFailing = step.fault !== null;
        await rig.clock.advance(delayMs); // the pause the run loop would take
      }
      // Recovery: the platform answers again; a few polls bring in the rest.
      for (let i = 0; i < 3; i++) await rig.clock.advance(await rig.poll(null));

      const { platform, announced, inbox, lines } = rig;
      const { failedPolls, reasonChanges } = countFailures(script.map((s) => s.fault));
      assertEquals(platform.pendingFaults, 0, "every scripted fault fired");
      assert(failedPolls >= steps / 3, `the storm failed ${failedPolls} of ${steps} polls`);
      assertEquals(new Set(announced).size, announced.length, "no message announced twice");
      assertEquals([...announced].sort(), [...sent].sort(), "every message announced once");
      const queued = inbox.peek(sent.length + 1).map((m) => m.activity_id);
      assertEquals([...queued].sort(), [...sent].sort(), "every message queued exactly once");
      const { failing, recovered } = pollStateLines(lines);
      // State changes, not a line per failed poll: one "failing" and one "recovered" line per
      // outage, however often its reason changed.
      assertEquals(recovered, failureRuns, "one 'recovered' line per outage");
      assertEquals(failing, failureRuns, "one 'failing' line per outage");
      assert(
        reasonChanges > failureRuns,
        `the storm changed reasons mid-outage (${reasonChanges})`,
      );
    });
  },
);

Deno.test({
  name: "fault storm: a 410 followed by an outage longer than 10 minutes loses no message",
  fn: async () => {
    await withPollerRig(async (rig) => {
      const first = rig.send(false);
      await rig.clock.advance(await rig.poll(null)); // the cursor now sits on `first`
      const waiting = [rig.send(true), rig.send(false)];
      await rig.clock.advance(await rig.poll(410)); // cursor pruned: the poller drops it
      const outageEnds = rig.clock.now() + 12 * 60_000;
      while (rig.clock.now() < outageEnds) await rig.clock.advance(await rig.poll(500));
      await rig.poll(null); // the platform is back
      assertEquals(
        rig.announced,
        [first, ...waiting],
        "messages sent before the 410 and never delivered arrive once the platform is back",
      );
    });
  },
});

Deno.test({
  name: "fault storm: a restart between a 410 and the end of a long outage loses no message",
  fn: async () => {
    await withPollerRig(async (rig) => {
      const first = rig.send(false);
      await rig.clock.advance(await rig.poll(null)); // the cursor now sits on `first`
      const waiting = [rig.send(true), rig.send(false)];
      await rig.clock.advance(await rig.poll(410)); // cursor pruned: the poller drops it
      await rig.clock.advance(await rig.poll(500));
      await rig.restart(); // e.g. the host restarted the MCP server during the outage
      const outageEnds = rig.clock.now() + 12 * 60_000;
      while (rig.clock.now() < outageEnds) await rig.clock.advance(await rig.poll(500));
      await rig.poll(null);
      assertEquals(rig.announced, [first, ...waiting], "the waiting messages arrive");
    });
  },
});

Deno.test({
  name: "fault storm: a platform flapping between two failures logs the outage once, not a " +
    "line per poll",
  fn: async () => {
    await withPollerRig(async (rig) => {
      for (let i = 0; i < 20; i++) await rig.clock.advance(await rig.poll(i % 2 ? 500 : 503));
      await rig.poll(null);
      const { failing, recovered } = pollStateLines(rig.lines);
      assertEquals(recovered, 1);
      assertEquals(failing, 1, `${failing} "inbox poll failing" lines for 20 failed polls`);
    });
  },
});

/**
 * Failed polls in a script, how many of them differ from the failure just before, and how
 * many outages (runs of failures ended by a good answer) there are. A 410 is a reset, not a
 * failure, and does not end a run.
 */
function countFailures(script: readonly (Fault | null)[]) {
  let failedPolls = 0;
  let reasonChanges = 0;
  let outages = 0;
  let last: Fault | null = null;
  for (const fault of script) {
    if (fault === 410) continue;
    if (fault !== null) {
      failedPolls++;
      if (fault !== last) reasonChanges++;
      if (last === null) outages++;
    }
    last = fault;
  }
  return { failedPolls, reasonChanges, outages };
}

/** Rejects when the program's stderr ends (it died); never resolves otherwise. */
function untilDeath(program: ProgramHandle): Promise<never> {
  return program.waitForStderr("\u0000 never logged").then(() => {
    throw new Error("unreachable");
  }, (err) => {
    throw new Error(`the program died: ${err}`);
  });
}

/**
 * The activity-feed script of the short storm: one entry per poll, null = a good answer.
 * Faults come in runs of at most two (the backoff doubles per failure, so this keeps the run
 * short in real time), every kind at least once, exactly one timeout (10 s of real time), and
 * at least one run that repeats its fault.
 */
function shortStormScript(rng: SeededRandom, rounds: number): (Fault | null)[] {
  const kinds: Fault[] = [500, "refused", "garbage", "not-list", 410, 401];
  const script: (Fault | null)[] = [null];
  const order = [...kinds, ...Array.from({ length: rounds - kinds.length }, () => rng.pick(kinds))];
  order.splice(rng.int(0, order.length), 0, "timeout");
  const repeated = rng.int(0, order.length - 1); // one run repeats its fault: logged once
  order.forEach((fault, i) => {
    script.push(fault);
    if (i === repeated && fault !== "timeout") script.push(fault);
    else if (rng.chance(0.3) && fault !== "timeout") script.push(rng.pick(kinds));
    script.push(null);
  });
  return script;
}

Deno.test(
  `fault storm: the program stays up through a short e2e storm on the feed and the heartbeat and pushes each message once (${MODE}, seed ${SEED})`,
  async () => {
    await withTempDir(async (dir) => {
      const rng = new SeededRandom(SEED ^ 0x5eed);
      const platform = createFakePlatform();
      const me = platform.addWorkspace({ delivery_mode: "poll", name: "e2e-storm" });
      const peer = platform.addWorkspace({ delivery_mode: "poll", name: "e2e-peer" });
      const script = shortStormScript(rng, IS_FULL ? 24 : 6);
      const heartbeatFaults: Fault[] = [500, "refused"];
      const sent: string[] = [];
      let polls = 0;
      let beats = 0;
      const scriptDone = Promise.withResolvers<void>();
      const server = await platform.serve({
        beforeAnswer: (req) => {
          const path = new URL(req.url).pathname;
          if (req.method === "GET" && path === `/workspaces/${me.id}/activity`) {
            const fault = script[polls++];
            if (polls === script.length + 1) scriptDone.resolve();
            if (fault !== undefined && fault !== null) platform.failNext(ACTIVITY_ROUTE, fault);
            if (polls <= script.length && rng.chance(0.4)) {
              const from = rng.chance(0.5) ? peer.id : null;
              sent.push(platform.sendToInbox(me.id, { text: `e2e storm ${sent.length}`, from }).id);
            }
          } else if (req.method === "POST" && path === "/registry/heartbeat") {
            const fault = heartbeatFaults[beats++];
            if (fault !== undefined) platform.failNext(HEARTBEAT_ROUTE, fault);
          }
        },
      });
      const program = spawnProgram({
        env: {
          ...workspaceEnv(me, server.url, dir),
          MOLECULE_MCP_POLL_INTERVAL_SECS: "1",
          MOLECULE_MCP_HEARTBEAT_INTERVAL_SECS: "5",
          MOLECULE_MCP_VERBOSE: "1",
          // The storm is on the polled feed: with the event stream up, polls are 60 s apart
          // (SAFETY_POLL_MS) and the script (one step per poll) would take minutes.
          MOLECULE_MCP_EVENT_STREAM: "0",
        },
      });
      const session = new RpcSession(program);
      try {
        await session.initialize();
        // The storm is over once the script ran out and the heartbeat came back.
        await program.waitForStderr("heartbeat recovered");
        await Promise.race([scriptDone.promise, untilDeath(program)]);
        const total = sent.length;
        assert(total > 0, "messages arrived during the storm");
        const pushes = await session.notificationsOf("notifications/claude/channel", total);
        const pushed = pushes.map((n) => (n.params as { meta: { activity_id: string } }).meta);
        assertEquals(pushed.map((m) => m.activity_id).sort(), [...sent].sort(), "pushed once each");
        const peek = await session.callTool("peek", "inbox_peek", { limit: 100 });
        const queued = (JSON.parse(peek.text) as { activity_id: string }[]).map((m) =>
          m.activity_id
        );
        assertEquals([...queued].sort(), [...sent].sort(), "queued once each");
        assertEquals(await program.hasExited(), false, "the process is still up");
      } finally {
        await program.closeStdin();
        await session.drain();
        const { code, stderr } = await program.wait();
        await server.close();
        const stdout = session.stdoutLines.join("\n");
        assertEquals(code, 0, `clean exit after the storm; stderr:\n${stderr}`);
        const lines = stderr.split("\n");
        const { failing, recovered } = pollStateLines(lines);
        const { failedPolls, outages } = countFailures(script);
        assert(outages < failedPolls, `the script has a run of failures (${failedPolls})`);
        assertEquals(failing, outages, `one "failing" line per outage; stderr:\n${stderr}`);
        assertEquals(recovered, outages, `one "recovered" line per outage; stderr:\n${stderr}`);
        const heartbeatFailing = lines.filter((l) => l.includes("heartbeat failing")).length;
        assert(heartbeatFailing <= 2, `heartbeat failures logged ${heartbeatFailing} times`);
        const secret = platform.workspace(me.id)?.platform_inbound_secret ?? null;
        assert(secret !== null, "the platform handed out an inbound secret");
        for (const [name, text] of [["stdout", stdout], ["stderr", stderr]]) {
          assert(!text?.includes(me.token), `the token appears on ${name}`);
          assert(!text?.includes(secret), `the inbound secret appears on ${name}`);
        }
      }
    });
  },
);
