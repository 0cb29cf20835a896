/**
 * Crash safety of the durable inbox, end to end: the real program is killed with SIGKILL at
 * seeded random points (while the platform is answering a poll, right after a poll answer,
 * right after the inbox logged an accept, in the middle of an inbox_pop, between tool calls)
 * across many restarts on one CONFIGS_DIR, while a scripted agent waits, peeks and pops.
 * At the end every message was seen by the agent, none whose inbox_pop answered
 * `removed:true` came back afterwards, and none was lost.
 *
 * Replay a failure with FAULT_CRASH_SEED=<seed printed in the test name>;
 * FAULT_SUITE=full runs the long version (≥ 50 kills).
 */
import { assert, assertEquals } from "../assert.ts";
import { createFakePlatform, type FakePlatform } from "../fakes/fake_platform.ts";
import { isFullSuite, SeededRandom, suiteSeed } from "../fakes/seeded_random.ts";
import { RpcSession, type ToolAnswer } from "../fakes/rpc_session.ts";
import { programCommand, ProgramHandle } from "../fakes/spawn.ts";
import { workspaceEnv } from "../fakes/served_platform.ts";
import { withTempDir } from "../fakes/temp_dir.ts";

const IS_FULL = isFullSuite();
const SEED = suiteSeed("FAULT_CRASH_SEED", 20260501);
const KILLS = IS_FULL ? 55 : 12;
const MESSAGES = IS_FULL ? 220 : 48;
const MODE = IS_FULL ? "full" : "quick";

const ACTIVITY_ROUTE = "GET /workspaces/:id/activity";
const CHANNEL = "notifications/claude/channel";

/** Where in a life the SIGKILL lands. */
type KillPlan =
  | { at: "poll-request"; nth: number }
  | { at: "poll-answered"; nth: number; jitterMs: number }
  | { at: "accept-logged" }
  | { at: "register" }
  | { at: "pop"; nth: number }
  | { at: "tool-reply"; nth: number };

/** One spawned program that can be SIGKILLed from anywhere (a platform handler, a step). */
interface Life {
  program: ProgramHandle;
  session: RpcSession;
  killNow(): void;
  readonly isKilled: boolean;
  status: Promise<Deno.CommandStatus>;
}

function startLife(env: Record<string, string>): Life {
  const { command, args, env: childEnv, cwd } = programCommand({ env });
  const child = new Deno.Command(command, {
    args,
    env: childEnv,
    cwd,
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const program = new ProgramHandle(child, true);
  let isKilled = false;
  return {
    program,
    session: new RpcSession(program),
    status: child.status,
    get isKilled() {
      return isKilled;
    },
    killNow() {
      if (isKilled) return;
      isKilled = true;
      try {
        child.kill("SIGKILL");
      } catch (err) {
        if (!(err instanceof TypeError)) throw err; // already exited
      }
    },
  };
}

/**
 * The fake platform served on loopback through a hook that sees every request before and
 * after the platform answers it: how the test kills the program at a poll.
 */
interface HookedPlatform {
  url: string;
  /** Called with the route key before the platform answers; may kill. */
  beforeAnswer: (route: string | null) => void;
  /** Called after the platform answered (body fully read here, rows counted). */
  afterAnswer: (route: string | null, rowCount: number) => Promise<void> | void;
  close(): Promise<void>;
}

async function serveHooked(platform: FakePlatform): Promise<HookedPlatform> {
  const hooked: HookedPlatform = {
    url: "",
    beforeAnswer: () => {},
    afterAnswer: () => {},
    close: () => Promise.resolve(),
  };
  const served = await platform.serve({
    beforeAnswer: (_req, route) => hooked.beforeAnswer(route),
    async afterAnswer(route, res) {
      const bytes = new Uint8Array(await res.arrayBuffer());
      let rows = 0;
      if (route === ACTIVITY_ROUTE && res.status === 200) {
        const body: unknown = JSON.parse(new TextDecoder().decode(bytes));
        rows = Array.isArray(body) ? body.length : 0;
      }
      await hooked.afterAnswer(route, rows);
      return new Response(bytes, { status: res.status, headers: res.headers });
    },
  });
  hooked.url = served.url;
  hooked.close = () => served.close();
  return hooked;
}

function drawPlan(rng: SeededRandom): KillPlan {
  switch (rng.int(0, 5)) {
    case 0:
      return { at: "poll-request", nth: rng.int(1, 4) };
    case 1:
      return { at: "poll-answered", nth: rng.int(1, 2), jitterMs: rng.int(0, 15) };
    case 2:
      return { at: "accept-logged" };
    case 3:
      return { at: "register" };
    case 4:
      return { at: "pop", nth: rng.int(1, 4) };
    default:
      return { at: "tool-reply", nth: rng.int(1, 12) };
  }
}

/** Everything the agent observed across all lives, and the checks made on each observation. */
class AgentRecord {
  readonly sent: string[] = [];
  readonly seen = new Set<string>();
  /** Ids whose inbox_pop answered removed:true, with the life it happened in. */
  readonly removed = new Map<string, number>();
  /**
   * Ids of pops sent just before a kill whose answer never came out: the removal may or may
   * not be on disk, so such a message may be gone for good (the agent asked) or come back.
   */
  readonly uncertain = new Set<string>();
  observations = 0;

  /** Sent ids neither removed (answer seen) nor the subject of an unanswered pop. */
  unaccounted(): string[] {
    return this.sent.filter((id) => !this.removed.has(id) && !this.uncertain.has(id));
  }

  /** Records ids the agent saw (peek, wait) in `life`; none may be a confirmed-removed one. */
  observe(ids: readonly string[], life: number, where: string): void {
    this.observations++;
    assertEquals(new Set(ids).size, ids.length, `${where}: duplicate ids in one answer`);
    for (const id of ids) {
      const removedIn = this.removed.get(id);
      assert(
        removedIn === undefined,
        `${where} in life ${life}: ${id} came back after inbox_pop said removed:true in life ${removedIn}`,
      );
      assert(this.sent.includes(id), `${where}: ${id} was never sent`);
      this.seen.add(id);
    }
  }

  /** Files the answer of an inbox_pop, whenever it was read (even after the kill). */
  notePop(answer: ToolAnswer, life: number): void {
    if (answer.isError) return;
    const parsed = JSON.parse(answer.text) as { removed: boolean; activity_id: string };
    if (!parsed.removed) return;
    assert(
      !this.removed.has(parsed.activity_id),
      `${parsed.activity_id} was removed twice (lives ${
        this.removed.get(parsed.activity_id)
      } and ${life})`,
    );
    this.removed.set(parsed.activity_id, life);
  }
}

interface CrashWorld {
  platform: FakePlatform;
  hooked: HookedPlatform;
  env: Record<string, string>;
  me: { id: string; token: string };
  rng: SeededRandom;
  record: AgentRecord;
  stdoutAll: string[];
  stderrAll: string[];
}

/** Sends 1..3 new messages to the workspace's inbox (until the total is reached). */
function inject(world: CrashWorld): void {
  const { rng, record, platform, me } = world;
  const count = Math.min(rng.int(1, 3), MESSAGES - record.sent.length);
  for (let i = 0; i < count; i++) {
    const from = rng.chance(0.3) ? null : undefined;
    const row = platform.sendToInbox(me.id, {
      text: `message ${record.sent.length} ${rng.pick(["hi", "ünïcode ✓", "line\nbreak", ""])}`,
      ...(from === null ? { from } : {}),
    });
    record.sent.push(row.id);
  }
}

function peekIds(answer: ToolAnswer): string[] {
  assert(!answer.isError, `inbox_peek failed: ${answer.text}`);
  const list = JSON.parse(answer.text) as { activity_id: string }[];
  return list.map((m) => m.activity_id);
}

/**
 * One life: start, initialize, then agent steps until the plan's kill fires (or a step limit,
 * then a kill between steps). Returns once the process is dead and its output is read.
 */
/** Kills the program in one life; returns whether the plan's kill point was reached. */
async function liveAndDie(world: CrashWorld, lifeNo: number, plan: KillPlan): Promise<boolean> {
  const { hooked, record, rng } = world;
  const life = startLife(world.env);
  const { session } = life;
  let polls = 0;
  let answeredPolls = 0;
  let pops = 0;
  let toolReplies = 0;
  const pending: Promise<void>[] = [];
  hooked.beforeAnswer = (route) => {
    if (plan.at === "register" && route === "POST /registry/register") life.killNow();
    if (plan.at === "poll-request" && route === ACTIVITY_ROUTE && ++polls === plan.nth) {
      life.killNow();
    }
  };
  hooked.afterAnswer = (route, rows) => {
    if (plan.at !== "poll-answered" || route !== ACTIVITY_ROUTE || rows === 0) return;
    if (++answeredPolls !== plan.nth) return;
    // The answer goes out now; the kill lands while the program reads, parses or persists it.
    const { promise, resolve } = Promise.withResolvers<void>();
    setTimeout(() => {
      life.killNow();
      resolve();
    }, plan.jitterMs);
    pending.push(promise);
  };
  if (plan.at === "accept-logged") {
    pending.push(
      life.program.waitForStderr("inbox received messages").then(
        () => life.killNow(),
        () => {}, // stderr ended first: the life ended another way
      ),
    );
  }

  let nextId = 1;
  const filedPops = new Set<unknown>();
  /** Pops sent in this life whose answer was not read yet: request id → activity id. */
  const openPops = new Map<number, string>();
  const call = async (name: string, args: Record<string, unknown>) => {
    const id = nextId++;
    if (name === "inbox_pop") openPops.set(id, String(args.activity_id));
    if (plan.at === "pop" && name === "inbox_pop" && ++pops === plan.nth) {
      await session.send(id, "tools/call", { name, arguments: args });
      life.killNow(); // the pop may or may not be on disk; its answer tells, if it got out
      throw new Killed();
    }
    const answer = await session.callTool(id, name, args);
    if (name === "inbox_pop") {
      record.notePop(answer, lifeNo);
      filedPops.add(id);
      openPops.delete(id);
    }
    if (plan.at === "tool-reply" && ++toolReplies === plan.nth) {
      life.killNow();
      throw new Killed();
    }
    return answer;
  };

  try {
    await session.initialize();
    for (let step = 0; step < 40 && !life.isKilled; step++) {
      if (record.sent.length < MESSAGES && rng.chance(0.7)) inject(world);
      const head = await call("wait_for_message", { timeout_secs: 3 });
      const msg = JSON.parse(head.text) as { activity_id?: string; timeout?: boolean };
      if (msg.activity_id !== undefined) record.observe([msg.activity_id], lifeNo, "wait");
      // All sent and nothing queued: this life's plan cannot fire any more (no new rows).
      else if (record.sent.length >= MESSAGES) break;
      const ids = peekIds(await call("inbox_peek", { limit: 100 }));
      record.observe(ids, lifeNo, "peek");
      for (const id of ids) {
        if (rng.chance(0.5)) await call("inbox_pop", { activity_id: id });
      }
    }
  } catch (err) {
    if (!life.isKilled && !(err instanceof Killed)) {
      life.killNow();
      await session.drain().catch(() => {});
      throw new Error(
        `life ${lifeNo} (${
          JSON.stringify(plan)
        }) failed before its kill: ${err}\nstderr:\n${life.program.stderrText()}`,
      );
    }
  }
  const hasPlanFired = life.isKilled;
  life.killNow(); // the plan never fired within the step limit: kill between steps
  await Promise.all(pending);
  hooked.beforeAnswer = () => {};
  hooked.afterAnswer = () => {};
  await session.drain();
  const status = await life.status;
  await life.program.wait();
  assertEquals(
    status.signal,
    "SIGKILL",
    `life ${lifeNo} exited by itself: ${life.program.stderrText()}`,
  );
  // Pop answers written just before the kill still count: they were journaled first.
  for (const line of session.stdoutLines) {
    const msg = JSON.parse(line) as Record<string, unknown>;
    if ("result" in msg && !filedPops.has(msg.id) && isPopAnswer(msg)) {
      record.notePop(toolAnswerOf(msg), lifeNo);
      if (typeof msg.id === "number") openPops.delete(msg.id);
    }
  }
  // A kill (from any plan) that cut a pop short: its removal may or may not be on disk.
  for (const activityId of openPops.values()) record.uncertain.add(activityId);
  world.stdoutAll.push(...session.stdoutLines);
  world.stderrAll.push(life.program.stderrText());
  assertNoInternalError(life.program.stderrText(), lifeNo);
  return hasPlanFired;
}

class Killed extends Error {}

function isPopAnswer(msg: Record<string, unknown>): boolean {
  const text = toolAnswerOf(msg).text;
  return /^\{\s*"removed"/.test(text);
}

function toolAnswerOf(msg: Record<string, unknown>): ToolAnswer {
  const result = msg.result as { content?: { text?: string }[]; isError?: boolean };
  const text = (result.content ?? []).map((c) => c.text ?? "").join("");
  return { text, isError: result.isError === true, response: msg };
}

function assertNoInternalError(stderr: string, lifeNo: number): void {
  for (const line of stderr.split("\n")) {
    assert(!/internal error|tool failed|MCP request failed/i.test(line), `life ${lifeNo}: ${line}`);
  }
}

/** The last life: no kill; drain everything that is left and pop it. */
async function finalLife(world: CrashWorld, lifeNo: number): Promise<void> {
  const { record } = world;
  const life = startLife(world.env);
  const { session } = life;
  let nextId = 1;
  try {
    await session.initialize();
    while (record.sent.length < MESSAGES) inject(world);
    let idleWaits = 0;
    for (;;) {
      if (record.unaccounted().length === 0) {
        const rest = peekIds(await session.callTool(nextId++, "inbox_peek", { limit: 100 }));
        record.observe(rest, lifeNo, "final check");
        if (rest.length === 0) break; // everything popped; the inbox is empty
      }
      const head = await session.callTool(nextId++, "wait_for_message", { timeout_secs: 4 });
      const msg = JSON.parse(head.text) as { activity_id?: string };
      if (msg.activity_id === undefined) {
        // Nothing queued for 4 s while rows are still unpopped: after two such waits (several
        // polls at 1 s) they are lost.
        idleWaits++;
        const missing = record.unaccounted();
        assert(idleWaits < 2, `lost messages (never delivered again): ${missing.join(", ")}`);
        continue;
      }
      idleWaits = 0;
      const ids = peekIds(await session.callTool(nextId++, "inbox_peek", { limit: 100 }));
      record.observe([msg.activity_id], lifeNo, "final wait");
      record.observe(ids, lifeNo, "final peek");
      for (const id of ids) {
        record.notePop(await session.callTool(nextId++, "inbox_pop", { activity_id: id }), lifeNo);
      }
    }
  } finally {
    await life.program.closeStdin();
    await session.drain();
    const { code } = await life.program.wait();
    world.stdoutAll.push(...session.stdoutLines);
    world.stderrAll.push(life.program.stderrText());
    assertEquals(code, 0, `the last life exits cleanly: ${life.program.stderrText()}`);
  }
  assertNoInternalError(life.program.stderrText(), lifeNo);
}

Deno.test(
  `fault crash: ${KILLS} SIGKILLs at random points lose no message and revive no popped one (${MODE}, seed ${SEED})`,
  async () => {
    await withTempDir(async (dir) => {
      const platform = createFakePlatform();
      const me = platform.addWorkspace({ delivery_mode: "poll", name: "crash-me" });
      const hooked = await serveHooked(platform);
      const world: CrashWorld = {
        platform,
        hooked,
        me,
        rng: new SeededRandom(SEED),
        record: new AgentRecord(),
        env: {
          ...workspaceEnv(me, hooked.url, dir),
          MOLECULE_MCP_POLL_INTERVAL_SECS: "1",
          MOLECULE_MCP_VERBOSE: "1",
        },
        stdoutAll: [],
        stderrAll: [],
      };
      const plans: string[] = [];
      try {
        for (let lifeNo = 1; lifeNo <= KILLS; lifeNo++) {
          const plan = drawPlan(world.rng);
          if (await liveAndDie(world, lifeNo, plan)) plans.push(plan.at);
        }
        await finalLife(world, KILLS + 1);
      } catch (err) {
        throw new Error(`seed ${SEED} (replay: FAULT_CRASH_SEED=${SEED}): ${err}`, { cause: err });
      } finally {
        await hooked.close();
      }

      const { record } = world;
      assertEquals(record.sent.length, MESSAGES);
      const unseen = record.sent.filter((id) => !record.seen.has(id));
      assertEquals(unseen, [], "the agent saw every message");
      assertEquals(record.unaccounted(), [], "every message was popped (or its pop was cut short)");
      assert([...record.removed.keys()].every((id) => record.sent.includes(id)));
      // Some planned kill points really were reached (which ones depends on the seed and on
      // the program's timing, so their spread is not asserted: that would be a timing test).
      // The other lives were killed between agent steps.
      assert(plans.length > 0, "no planned kill point was reached");

      const secret = platform.workspace(me.id)?.platform_inbound_secret ?? null;
      assert(secret !== null, "the platform handed out an inbound secret");
      const output = [...world.stdoutAll, ...world.stderrAll].join("\n");
      assert(!output.includes(me.token), "the token never appears on stdout or stderr");
      assert(!output.includes(secret), "the inbound secret never appears on stdout or stderr");
      // Pushes were announced for fresh arrivals (not asserted per id: a kill may land between
      // the journal write and the push, and a replayed message is not pushed again).
      assert(world.stdoutAll.some((l) => l.includes(CHANNEL)), "channel pushes were sent");
    });
  },
);
