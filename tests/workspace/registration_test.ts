import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import { createFakePlatform, type FakePlatform } from "../fakes/fake_platform.ts";
import { type CapturedLog, captureLog } from "../fakes/log_capture.ts";
import { ManualClock } from "../fakes/manual_clock.ts";
import type { Clock } from "../../lib/clock.ts";
import { AuthRejectedError } from "../../lib/errors.ts";
import { Redactor } from "../../lib/redact.ts";
import { createPlatformClient, type PlatformClient } from "../../lib/platform/client.ts";
import type { HeartbeatReport, RegistryAnswer } from "../../lib/platform/registry.ts";
import {
  buildAgentCard,
  type HeartbeatDeps,
  heartbeatOnce,
  HeartbeatState,
  inboundSecretSlot,
  registerOnce,
  runHeartbeat,
} from "../../lib/workspace/registration.ts";

const PLATFORM_URL = "https://acme.example.com";
const SECRET = "inbound-secret-0123456789abcdef";

interface World {
  clock: ManualClock;
  fake: FakePlatform;
  id: string;
  token: string;
  captured: CapturedLog;
  /** A client for the workspace, with its real token unless `token` is given. */
  client(token?: string): PlatformClient;
}

function world(): World {
  const clock = new ManualClock();
  const fake = createFakePlatform({ clock });
  const { id, token } = fake.addWorkspace({ delivery_mode: "poll", runtime: "external" });
  const captured = captureLog("debug");
  return {
    clock,
    fake,
    id,
    token,
    captured,
    client: (t = token) =>
      createPlatformClient({ platformUrl: PLATFORM_URL, workspaceId: id, token: t }, {
        fetch: fake.fetch,
        clock,
        log: captured.log,
      }),
  };
}

/** Heartbeat deps whose secret saves are recorded (and fail while `failSaves` is set). */
function heartbeatDeps(w: World, platform: PlatformClient) {
  const saved: string[] = [];
  const control = { failSaves: false };
  const deps: HeartbeatDeps = {
    platform,
    clock: w.clock,
    log: w.captured.log,
    saveInboundSecret: (secret) => {
      if (control.failSaves) return Promise.reject(new Error("EACCES: permission denied"));
      saved.push(secret);
      return Promise.resolve(true);
    },
  };
  return { deps, saved, control };
}

function linesAt(captured: CapturedLog, level: string): string[] {
  return captured.lines.filter((line) => line.startsWith(`[molecule-mcp] ${level} `));
}

Deno.test("registration: the card carries name, non-blank skills and a description only when set", () => {
  assertEquals(
    buildAgentCard({ agentName: "laptop", agentSkills: ["review", " ", "ship "] }),
    { name: "laptop", skills: [{ name: "review" }, { name: "ship" }] },
  );
  assertEquals(
    buildAgentCard({ agentName: "laptop", agentDescription: "Reviews PRs", agentSkills: [] }),
    { name: "laptop", skills: [], description: "Reviews PRs" },
  );
});

Deno.test("registration: register announces a poll-mode workspace with Bearer and the platform's Origin", async () => {
  const w = world();
  const card = buildAgentCard({ agentName: "laptop", agentSkills: ["review"] });
  assertEquals(await registerOnce(card, { platform: w.client(), log: w.captured.log }), true);
  assertEquals(w.fake.registrations.map((r) => r.body), [
    {
      id: w.id,
      url: "",
      agent_card: { name: "laptop", skills: [{ name: "review" }] },
      delivery_mode: "poll",
    },
  ]);
  const req = w.fake.requests[0];
  assertEquals(req?.headers["authorization"], `Bearer ${w.token}`);
  assertEquals(req?.headers["origin"], PLATFORM_URL);
  assertEquals(w.fake.workspace(w.id)?.status, "online");
});

Deno.test("registration: a rejected token at register is fatal with a regenerate hint", async () => {
  const w = world();
  const err = await assertRejects(
    () =>
      registerOnce({ name: "x", skills: [] }, { platform: w.client("wrong"), log: w.captured.log }),
    AuthRejectedError,
  );
  assert(err instanceof AuthRejectedError);
  assertEquals(err.status, 401);
  assertStringIncludes(err.message, w.id);
  assertStringIncludes(err.message, "Tokens");
});

Deno.test("registration: an empty 403 (Origin refused) points at PLATFORM_URL, not the token", async () => {
  const w = world();
  w.fake.failNext("POST /registry/register", 403);
  const err = await assertRejects(
    () => registerOnce({ name: "x", skills: [] }, { platform: w.client(), log: w.captured.log }),
    AuthRejectedError,
  );
  assertStringIncludes(err.message, "PLATFORM_URL");
  assertStringIncludes(err.message, "Origin");
});

Deno.test("registration: shutting down during a slow register stops it at once", async () => {
  const w = world();
  w.fake.failNext("POST /registry/register", "timeout");
  const stop = new AbortController();
  const registering = registerOnce(
    { name: "x", skills: [] },
    { platform: w.client(), log: w.captured.log },
    stop.signal,
  );
  const reason = new Error("shutting down");
  stop.abort(reason);
  const err = await assertRejects(() => registering);
  assertEquals(err, reason);
});

Deno.test("registration: a 500 or an unreachable platform at register only warns", async () => {
  for (const fault of [500, "refused"] as const) {
    const w = world();
    w.fake.failNext("POST /registry/register", fault);
    const isRegistered = await registerOnce({ name: "x", skills: [] }, {
      platform: w.client(),
      log: w.captured.log,
    });
    assertEquals(isRegistered, false);
    const warnings = linesAt(w.captured, "warn");
    assertEquals(warnings.length, 1);
    assertStringIncludes(warnings[0] ?? "", `status=${fault === 500 ? 500 : 0}`);
    assertStringIncludes(warnings[0] ?? "", "next=");
    // Found by hand (a host showed "Connected" with a closed port): the log names the tool
    // that pinpoints it.
    assertStringIncludes(warnings[0] ?? "", "molecule-mcp doctor");
  }
});

Deno.test("registration: a heartbeat reports uptime in the standalone body", async () => {
  const w = world();
  const state = new HeartbeatState({ workspaceId: w.id, startedAtMs: w.clock.now() });
  await w.clock.advance(61_500);
  assertEquals(await heartbeatOnce(state, heartbeatDeps(w, w.client()).deps), "ok");
  assertEquals(w.fake.heartbeats.map((h) => h.body), [
    { workspace_id: w.id, error_rate: 0, sample_error: "", active_tasks: 0, uptime_seconds: 61 },
  ]);
});

Deno.test("registration: the inbound secret is saved only when it changes and never logged", async () => {
  const w = world();
  w.fake.updateWorkspace(w.id, { platform_inbound_secret: SECRET });
  const state = new HeartbeatState({ workspaceId: w.id, startedAtMs: w.clock.now() });
  const { deps, saved } = heartbeatDeps(w, w.client());
  await heartbeatOnce(state, deps);
  await heartbeatOnce(state, deps);
  await heartbeatOnce(state, deps);
  assertEquals(saved, [SECRET]);
  w.fake.updateWorkspace(w.id, { platform_inbound_secret: `${SECRET}-rotated` });
  await heartbeatOnce(state, deps);
  assertEquals(saved, [SECRET, `${SECRET}-rotated`]);
  w.captured.log.warn(`something printed ${SECRET}`);
  assert(!w.captured.text().includes(SECRET), w.captured.text());
});

Deno.test("registration: a 3 MB inbound secret on every beat is refused with one warning and never kept", async () => {
  const w = world();
  // 3 MB: under the 4 MiB body cap of a heartbeat answer (a larger answer is not even read).
  const huge = "x".repeat(3 * 1024 * 1024);
  w.fake.updateWorkspace(w.id, { platform_inbound_secret: huge });
  const state = new HeartbeatState({ workspaceId: w.id, startedAtMs: w.clock.now() });
  const { deps, saved } = heartbeatDeps(w, w.client());
  for (let beat = 0; beat < 5; beat++) assertEquals(await heartbeatOnce(state, deps), "ok");
  assertEquals(saved, []);
  assertEquals(w.captured.log.redactor.size, 0);
  const warnings = linesAt(w.captured, "warn").filter((l) => l.includes("inbound secret"));
  assertEquals(warnings.length, 1, w.captured.text().slice(0, 2000));
  assertStringIncludes(warnings[0] ?? "", "over the 1024 accepted");
  assert(w.captured.text().length < 10_000);
  // A usable secret afterwards is saved, and a later refusal warns again.
  w.fake.updateWorkspace(w.id, { platform_inbound_secret: SECRET });
  await heartbeatOnce(state, deps);
  assertEquals(saved, [SECRET]);
  w.fake.updateWorkspace(w.id, { platform_inbound_secret: "two words" });
  await heartbeatOnce(state, deps);
  assertEquals(linesAt(w.captured, "warn").filter((l) => l.includes("ignoring")).length, 2);
  assertStringIncludes(w.captured.text(), "character 4 is not printable ASCII (U+0020)");
});

Deno.test("registration: an inbound secret too short to be masked is refused, never saved or used", async () => {
  const w = world();
  w.fake.updateWorkspace(w.id, { platform_inbound_secret: "abc12" });
  const state = new HeartbeatState({ workspaceId: w.id, startedAtMs: w.clock.now() });
  const { deps, saved } = heartbeatDeps(w, w.client());
  assertEquals(await heartbeatOnce(state, deps), "ok");
  assertEquals(saved, []);
  assertStringIncludes(w.captured.text(), "5 characters long, under the 6 a secret needs");
  assert(!w.captured.text().includes("abc12"));
});

Deno.test("registration: only the current and the previous inbound secret stay masked", async () => {
  const w = world();
  const state = new HeartbeatState({ workspaceId: w.id, startedAtMs: w.clock.now() });
  const { deps } = heartbeatDeps(w, w.client());
  const secrets = Array.from({ length: 50 }, (_, i) => `${SECRET}-${i}`);
  for (const secret of secrets) {
    w.fake.updateWorkspace(w.id, { platform_inbound_secret: secret });
    await heartbeatOnce(state, deps);
  }
  assertEquals(w.captured.log.redactor.size, 2);
  assertEquals(
    w.captured.log.redactor.redact(`${secrets[49]} ${secrets[48]}`),
    "[redacted] [redacted]",
  );
});

Deno.test("registration: a failed secret write warns once and is retried on the next beat", async () => {
  const w = world();
  w.fake.updateWorkspace(w.id, { platform_inbound_secret: SECRET });
  const state = new HeartbeatState({ workspaceId: w.id, startedAtMs: w.clock.now() });
  const { deps, saved, control } = heartbeatDeps(w, w.client());
  control.failSaves = true;
  assertEquals(await heartbeatOnce(state, deps), "ok");
  await heartbeatOnce(state, deps);
  assertEquals(linesAt(w.captured, "warn").filter((l) => l.includes("cannot save")).length, 1);
  control.failSaves = false;
  await heartbeatOnce(state, deps);
  assertEquals(saved, [SECRET]);
  assertEquals(
    linesAt(w.captured, "warn").filter((l) => l.includes("saved the platform")).length,
    1,
  );
  assert(!w.captured.text().includes(SECRET));
});

Deno.test("registration: a revoked token warns twice, then errors on the 3rd and every 20th failure after", async () => {
  const w = world();
  const state = new HeartbeatState({ workspaceId: w.id, startedAtMs: w.clock.now() });
  const rejected = heartbeatDeps(w, w.client("revoked-token-value")).deps;
  const errorsAfter: number[] = [];
  for (let beat = 1; beat <= 44; beat++) {
    assertEquals(await heartbeatOnce(state, rejected), "auth_rejected");
    errorsAfter.push(linesAt(w.captured, "error").length);
  }
  const warnings = linesAt(w.captured, "warn");
  assertEquals(warnings.length, 2);
  assertStringIncludes(warnings[0] ?? "", "auth failure 1/3");
  assertStringIncludes(warnings[1] ?? "", "auth failure 2/3");
  assertStringIncludes(warnings[1] ?? "", "may be revoked");
  // Errors appear on beats 3, 23 and 43 only.
  assertEquals(errorsAfter[1], 0);
  assertEquals(errorsAfter[2], 1);
  assertEquals(errorsAfter[21], 1);
  assertEquals(errorsAfter[22], 2);
  assertEquals(errorsAfter[42], 3);
  const loud = linesAt(w.captured, "error")[0] ?? "";
  assertStringIncludes(loud, w.id);
  assertStringIncludes(loud, "revoked");
  assertStringIncludes(loud, "deleted");
  assertStringIncludes(loud, "Tokens");
  assertStringIncludes(loud, "MCP config");
  assertStringIncludes(loud, "restart");
});

Deno.test("registration: a successful beat resets the auth-failure count", async () => {
  const w = world();
  const state = new HeartbeatState({ workspaceId: w.id, startedAtMs: w.clock.now() });
  const rejected = heartbeatDeps(w, w.client("revoked-token-value")).deps;
  await heartbeatOnce(state, rejected);
  await heartbeatOnce(state, rejected);
  assertEquals(await heartbeatOnce(state, heartbeatDeps(w, w.client()).deps), "ok");
  await heartbeatOnce(state, rejected);
  await heartbeatOnce(state, rejected);
  assertEquals(linesAt(w.captured, "error").length, 0);
  const lastWarning = linesAt(w.captured, "warn").at(-1) ?? "";
  assertStringIncludes(lastWarning, "auth failure 2/3");
});

Deno.test("registration: other heartbeat failures warn when failing starts and when it recovers", async () => {
  const w = world();
  const state = new HeartbeatState({ workspaceId: w.id, startedAtMs: w.clock.now() });
  const { deps } = heartbeatDeps(w, w.client());
  w.fake.failNext("POST /registry/heartbeat", 503, 3);
  for (let i = 0; i < 3; i++) assertEquals(await heartbeatOnce(state, deps), "failed");
  assertEquals(await heartbeatOnce(state, deps), "ok");
  assertEquals(await heartbeatOnce(state, deps), "ok");
  const warnings = linesAt(w.captured, "warn");
  assertEquals(warnings.length, 2, warnings.join("\n"));
  assertStringIncludes(warnings[0] ?? "", "heartbeat failing");
  assertStringIncludes(warnings[0] ?? "", "status=503");
  assertStringIncludes(warnings[1] ?? "", "heartbeat recovered");
});

/**
 * Starts the heartbeat loop on `clock` against a platform that answers at once, recording the
 * uptime each beat reported; resolves once the first beat went out and the loop sleeps on
 * `timers` (the manual clock behind `clock`). `stop()` ends the loop.
 */
async function startHeartbeat(clock: Clock, timers: ManualClock) {
  const uptimes: number[] = [];
  const platform = {
    heartbeat(report: HeartbeatReport): Promise<RegistryAnswer> {
      uptimes.push(report.uptimeSeconds);
      return Promise.resolve({});
    },
  };
  const state = new HeartbeatState({ workspaceId: "w", startedAtMs: clock.now() });
  const stopping = new AbortController();
  const loop = runHeartbeat({ state }, {
    platform,
    clock,
    log: captureLog().log,
    saveInboundSecret: () => Promise.resolve(false),
  }, stopping.signal);
  await timers.whenSleeping(1);
  return {
    uptimes,
    async stop() {
      stopping.abort();
      await loop;
    },
  };
}

Deno.test("registration: the heartbeat beats at once and then every 20 s until stopped", async () => {
  const clock = new ManualClock();
  const { uptimes, stop } = await startHeartbeat(clock, clock);
  assertEquals(uptimes, [0]);
  await clock.advance(19_999);
  assertEquals(uptimes, [0]);
  await clock.advance(1);
  await clock.advance(20_000);
  assertEquals(uptimes, [0, 20, 40]);
  await stop();
  assertEquals(clock.pendingSleeps, 0);
});

Deno.test("registration: after the laptop slept, the heartbeat beats once, not a burst", async () => {
  const manual = new ManualClock();
  let jumpMs = 0;
  // The wall clock jumps while no timer fires: what a suspended laptop looks like on wake.
  const clock: Clock = {
    now: () => manual.now() + jumpMs,
    wallNow: () => manual.wallNow() + jumpMs,
    sleep: (ms, signal) => manual.sleep(ms, signal),
  };
  const { uptimes, stop } = await startHeartbeat(clock, manual);
  jumpMs = 600_000;
  await manual.advance(20_000);
  assertEquals(uptimes, [0, 620]);
  await manual.advance(20_000);
  assertEquals(uptimes, [0, 620, 640]);
  await stop();
});

Deno.test("registration: the wall clock stepping back an hour changes neither the beat nor the uptime", async () => {
  const clock = new ManualClock();
  const { uptimes, stop } = await startHeartbeat(clock, clock);
  await clock.advance(20_000);
  clock.stepWallClock(-3_600_000); // NTP correction or a VM snapshot restore
  await clock.advance(20_000);
  await clock.advance(20_000);
  assertEquals(uptimes, [0, 20, 40, 60], "a beat every 20 s, uptime never restarts");
  await stop();
});

Deno.test("registration: each workspace's inbound secret has its own redactor slot, so two workspaces' secrets are both masked", () => {
  const redactor = new Redactor();
  redactor.rotate(inboundSecretSlot("1b4e28ba-2fa1-11d2-883f-0016d3cca427"), "alpha-secret-123456");
  redactor.rotate(inboundSecretSlot("2c5f39cb-3fb2-42e3-994f-1127e4ddb538"), "beta-secret-654321");
  const out = redactor.redact("alpha-secret-123456 beta-secret-654321");
  assert(!out.includes("alpha-secret") && !out.includes("beta-secret"), out);
});
