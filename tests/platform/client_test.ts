import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "../assert.ts";
import { createFakePlatform } from "../fakes/fake_platform.ts";
import { VERSION } from "../../lib/version.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { ManualClock } from "../fakes/manual_clock.ts";
import { systemClock } from "../../lib/clock.ts";
import { PlatformError } from "../../lib/errors.ts";
import { createPlatformClient, type PlatformClient } from "../../lib/platform/client.ts";
import {
  CursorGoneError,
  isTransportError,
  TalkToUserDisabledError,
} from "../../lib/platform/http.ts";

const SELF = "11111111-1111-4111-8111-111111111111";
const PEER = "22222222-2222-4222-8222-222222222222";
const TOKEN = "tok_abcdefghijklmnopqrstuvwxyz0123456789ABCDE";

/** A request as the fake platform saw it. */
interface Seen {
  method: string;
  url: URL;
  headers: Headers;
  body: string;
  form?: FormData;
}

type Reply = Response | ((seen: Seen) => Response);

/** A fetch that answers from a list of replies (last one repeats) and records every request. */
function fakeFetch(...replies: Reply[]) {
  const seen: Seen[] = [];
  const fetch = async (req: Request): Promise<Response> => {
    const isMultipart = (req.headers.get("content-type") ?? "").startsWith("multipart/");
    const entry: Seen = {
      method: req.method,
      url: new URL(req.url),
      headers: req.headers,
      body: isMultipart ? "" : await req.text(),
    };
    if (isMultipart) entry.form = await req.formData();
    seen.push(entry);
    const reply = replies[Math.min(seen.length - 1, replies.length - 1)];
    if (reply === undefined) throw new Error("fakeFetch has no reply");
    return typeof reply === "function" ? reply(entry) : reply.clone();
  };
  return { fetch, seen };
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

function client(
  fetch: (req: Request) => Promise<Response>,
  opts: { clock?: ManualClock; platformUrl?: string } = {},
): PlatformClient {
  let n = 0;
  return createPlatformClient(
    {
      platformUrl: opts.platformUrl ?? "https://acme.example.com",
      workspaceId: SELF,
      token: TOKEN,
    },
    {
      fetch,
      clock: opts.clock ?? new ManualClock(),
      log: captureLog().log,
      randomId: () => `00000000-0000-4000-8000-00000000000${n++}`,
    },
  );
}

function only(seen: Seen[]): Seen {
  assertEquals(seen.length, 1);
  const first = seen[0];
  assert(first !== undefined);
  return first;
}

Deno.test("platform: register sends Bearer, the bare Origin, poll mode and the card", async () => {
  const { fetch, seen } = fakeFetch(json({ status: "registered", delivery_mode: "poll" }));
  const platform = createPlatformClient(
    {
      platformUrl: "https://acme.example.com:8443/api/",
      workspaceId: SELF.toUpperCase(),
      token: TOKEN,
    },
    { fetch, clock: new ManualClock(), log: captureLog().log },
  );
  await platform.register({ name: "laptop", skills: [{ name: "review" }] });
  const req = only(seen);
  assertEquals(req.method, "POST");
  assertEquals(req.url.href, "https://acme.example.com:8443/api/registry/register");
  assertEquals(req.headers.get("authorization"), `Bearer ${TOKEN}`);
  assertEquals(req.headers.get("origin"), "https://acme.example.com:8443");
  assertEquals(req.headers.get("content-type"), "application/json");
  assertEquals(req.headers.get("x-workspace-id"), null);
  assertEquals(req.headers.get("user-agent"), `molecule-mcp/${VERSION}`);
  assertEquals(JSON.parse(req.body), {
    id: SELF,
    url: "",
    agent_card: { name: "laptop", skills: [{ name: "review" }] },
    delivery_mode: "poll",
  });
});

Deno.test("platform: heartbeat sends the standalone body and returns the inbound secret", async () => {
  const { fetch, seen } = fakeFetch(json({ status: "ok", platform_inbound_secret: "s3cr3t-xyz" }));
  const answer = await client(fetch).heartbeat({ uptimeSeconds: 41.9, currentTask: "review" });
  assertEquals(answer, { platformInboundSecret: "s3cr3t-xyz" });
  const req = only(seen);
  assertEquals(req.url.pathname, "/registry/heartbeat");
  assertEquals(JSON.parse(req.body), {
    workspace_id: SELF,
    error_rate: 0,
    sample_error: "",
    active_tasks: 0,
    uptime_seconds: 41,
    current_task: "review",
  });
});

Deno.test("platform: an HTML page instead of JSON is an error naming the endpoint and PLATFORM_URL", async () => {
  const { fetch } = fakeFetch(new Response("<!DOCTYPE html><html>canvas</html>", { status: 200 }));
  const err = await assertRejects(
    () => client(fetch).heartbeat({ uptimeSeconds: 1 }),
    PlatformError,
  );
  assert(err instanceof PlatformError);
  assertEquals(err.endpoint, "POST /registry/heartbeat");
  assertEquals(err.status, 200);
  assertStringIncludes(err.next, "PLATFORM_URL");
  assertStringIncludes(err.detail, "not JSON");
  assert(!err.message.includes("acme.example.com"), "the message must not carry the URL");
  assert(!err.message.includes(TOKEN));
});

Deno.test("platform: a wrong-shape or empty body is an error, not an empty result", async () => {
  const object = fakeFetch(json({ rows: [] }));
  const err = await assertRejects(() => client(object.fetch).listActivity({}), PlatformError);
  assert(err instanceof PlatformError);
  assertEquals(err.endpoint, "GET /workspaces/:id/activity");
  assertStringIncludes(err.detail, "expected a JSON array");
  assert(err.next !== "");

  const empty = fakeFetch(new Response("", { status: 200 }));
  const err2 = await assertRejects(() => client(empty.fetch).listPeers(), PlatformError);
  assert(err2 instanceof PlatformError);
  assertEquals(err2.endpoint, "GET /registry/:id/peers");
  assertStringIncludes(err2.detail, "empty body");
});

Deno.test("platform: the activity feed asks for a2a_receive rows after the cursor", async () => {
  const rows = [{ id: "r1" }, { id: "r2" }];
  const { fetch, seen } = fakeFetch(json(rows));
  const got = await client(fetch).listActivity({ sinceId: PEER.toUpperCase(), limit: 50 });
  assertEquals(got, rows);
  const req = only(seen);
  assertEquals(req.url.pathname, `/workspaces/${SELF}/activity`);
  assertEquals(req.url.searchParams.get("type"), "a2a_receive");
  assertEquals(req.url.searchParams.get("since_id"), PEER);
  assertEquals(req.url.searchParams.get("limit"), "50");
});

Deno.test("platform: a 410 on the feed is a CursorGoneError", async () => {
  const { fetch } = fakeFetch(json({ error: "since_id cursor not found" }, 410));
  const err = await assertRejects(
    () => client(fetch).listActivity({ sinceId: PEER }),
    CursorGoneError,
  );
  assert(err instanceof CursorGoneError);
  assertEquals(err.status, 410);
  assertStringIncludes(err.next, "cursor");
});

Deno.test("platform: a refusal carries the status, the platform's error text (≤200 chars) and a next step", async () => {
  const long = "x".repeat(500);
  const { fetch } = fakeFetch(json({ error: long }, 500));
  const err = await assertRejects(() => client(fetch).listDelegations(), PlatformError);
  assert(err instanceof PlatformError);
  assertEquals(err.status, 500);
  assertEquals(err.endpoint, "GET /workspaces/:id/delegations");
  assert(err.detail.length <= 200, `detail is ${err.detail.length} chars`);
  assertStringIncludes(err.next, "try again");
  assert(!isTransportError(err));
});

Deno.test("platform: a 401 is auth-rejected and says how to get a new token", async () => {
  const { fetch } = fakeFetch(json({ error: "invalid workspace auth token" }, 401));
  const err = await assertRejects(
    () => client(fetch).register({ name: "a", skills: [] }),
    PlatformError,
  );
  assert(err instanceof PlatformError);
  assert(err.isAuthRejected);
  assertEquals(err.detail, "invalid workspace auth token");
  assertStringIncludes(err.next, "Tokens");
});

Deno.test("platform: an empty 403 points at the Origin header and PLATFORM_URL", async () => {
  const { fetch } = fakeFetch(new Response(null, { status: 403 }));
  const err = await assertRejects(() => client(fetch).searchMemory(), PlatformError);
  assert(err instanceof PlatformError);
  assertStringIncludes(err.next, "PLATFORM_URL");
  assertStringIncludes(err.next, "Origin");
});

Deno.test("platform: a platform that never answers fails with status 0 after the timeout, leaving no timer", async () => {
  const clock = new ManualClock();
  const never = (_req: Request) => new Promise<Response>(() => {});
  const call = client(never, { clock }).heartbeat({ uptimeSeconds: 0 });
  const outcome = call.then(() => undefined, (err: unknown) => err);
  await clock.whenSleeping(1);
  await clock.advance(9_999);
  assertEquals(clock.pendingSleeps, 1, "still waiting just before the timeout");
  await clock.advance(1);
  const err = await outcome;
  assert(err instanceof PlatformError, String(err));
  assertEquals(err.status, 0);
  assertEquals(err.endpoint, "POST /registry/heartbeat");
  assertStringIncludes(err.detail, "no answer within 10 s");
  assertStringIncludes(err.next, "PLATFORM_URL");
  assert(isTransportError(err));
  assertEquals(clock.pendingSleeps, 0);
});

Deno.test("platform: a caller's timeout override and abort are honoured", async () => {
  const clock = new ManualClock();
  const hanging = (req: Request) =>
    new Promise<Response>((_, reject) => {
      req.signal.addEventListener("abort", () => reject(req.signal.reason), { once: true });
    });
  const platform = client(hanging, { clock });

  const quick = platform.discover(PEER, { timeoutMs: 2_000 }).then(() => undefined, (e) => e);
  await clock.whenSleeping(1);
  await clock.advance(2_000);
  const timedOut = await quick;
  assert(timedOut instanceof PlatformError && timedOut.status === 0);

  const ctrl = new AbortController();
  const cancelled = platform.sendA2A(PEER, "hi", { signal: ctrl.signal }).then(
    () => "no",
    (e) => e,
  );
  await clock.whenSleeping(1);
  ctrl.abort(new DOMException("shutting down", "AbortError"));
  const err = await cancelled;
  assert(!(err instanceof PlatformError), "an abort is not a platform failure");
  assert(err instanceof DOMException && err.name === "AbortError");
  assertEquals(clock.pendingSleeps, 0);
});

Deno.test("platform: a successful call cancels its timeout", async () => {
  const clock = new ManualClock();
  const { fetch } = fakeFetch(json({ status: "ok" }));
  await client(fetch, { clock }).heartbeat({ uptimeSeconds: 5 });
  assertEquals(clock.pendingSleeps, 0);
});

Deno.test("platform: a refused connection is a transport error naming the exception class", async () => {
  const refused = (_req: Request): Promise<Response> =>
    Promise.reject(new TypeError("error sending request: Connection refused (os error 111)"));
  const err = await assertRejects(() => client(refused).getWorkspace(), PlatformError);
  assert(err instanceof PlatformError);
  assertEquals(err.status, 0);
  assertMatch(err.detail, /^TypeError: .*Connection refused/);
  assert(isTransportError(err));
  assert(!isTransportError(new RangeError("x")));
});

Deno.test("platform: non-UUID ids are refused before any request", async () => {
  const { fetch, seen } = fakeFetch(json({}));
  const platform = client(fetch);
  const attempts: (() => Promise<unknown>)[] = [
    () => platform.discover("../../foo"),
    () => platform.sendA2A("not-a-uuid", "hi"),
    () => platform.delegate(`${PEER}x`, "task", "key"),
    () => platform.getWorkspace("abc"),
    () => platform.listActivity({ sinceId: "abc" }),
    () => platform.reportActivity({ activityType: "a2a_send", targetId: "../x" }),
  ];
  for (const attempt of attempts) await assertRejects(attempt, RangeError);
  assertEquals(seen.length, 0);
  let threw: unknown;
  try {
    createPlatformClient({ platformUrl: "https://a.example", workspaceId: "ws-1", token: TOKEN }, {
      fetch,
      clock: new ManualClock(),
      log: captureLog().log,
    });
  } catch (err) {
    threw = err;
  }
  assert(threw instanceof RangeError);
});

Deno.test("platform: a before_ts that is not an RFC 3339 time is refused before any request", async () => {
  const { fetch, seen } = fakeFetch(json([]));
  const platform = client(fetch);
  for (const beforeTs of ["yesterday", "2026-05-01", "2026-05-01T10:00:00Z&limit=1"]) {
    const history = await assertRejects(
      () => platform.listPeerHistory({ peerId: PEER, limit: 10, beforeTs }),
      RangeError,
    );
    assertStringIncludes(history.message, "before_ts must be an RFC 3339 time");
    const activity = await assertRejects(() => platform.listActivity({ beforeTs }), RangeError);
    assertStringIncludes(activity.message, "beforeTs must be an RFC 3339 time");
  }
  assertEquals(seen.length, 0);
});

Deno.test("platform: sendA2A posts message/send to the peer's proxy with X-Workspace-ID", async () => {
  const { fetch, seen } = fakeFetch(
    json({
      jsonrpc: "2.0",
      id: "1",
      result: { kind: "message", parts: [{ kind: "text", text: "done" }] },
    }),
  );
  const outcome = await client(fetch).sendA2A(PEER, "please review");
  assertEquals(outcome, { kind: "reply", text: "done" });
  const req = only(seen);
  assertEquals(req.url.pathname, `/workspaces/${PEER}/a2a`);
  assertEquals(req.headers.get("x-workspace-id"), SELF);
  assertEquals(JSON.parse(req.body), {
    jsonrpc: "2.0",
    id: "00000000-0000-4000-8000-000000000000",
    method: "message/send",
    params: {
      message: {
        role: "user",
        messageId: "00000000-0000-4000-8000-000000000001",
        parts: [{ kind: "text", text: "please review" }],
      },
    },
  });
});

Deno.test("platform: sendA2A classifies replies, queued answers, JSON-RPC errors and junk", async () => {
  const cases: [Response, unknown][] = [
    [
      json({
        result: { kind: "task", artifacts: [{ parts: [{ type: "text", text: "from task" }] }] },
      }),
      { kind: "reply", text: "from task" },
    ],
    [
      json({ status: "queued", delivery_mode: "poll", method: "message/send" }),
      { kind: "queued", via: "poll" },
    ],
    [
      json({ queued: true, queue_id: "q-1", queue_depth: 2, message: "busy" }, 202),
      { kind: "queued", via: "busy", queueId: "q-1" },
    ],
    [
      json({ status: "queued", delivery_mode: "push-async", method: "message/send" }),
      { kind: "queued", via: "async" },
    ],
    [
      json({ status: "queued", queue_id: "q-boot", queue_depth: 1 }),
      { kind: "queued", via: "busy", queueId: "q-boot" },
    ],
    [json({ status: "queued" }), {
      kind: "malformed",
      detail: "the answer has no result, error or queued status",
    }],
    [
      json({ jsonrpc: "2.0", error: { code: -32603, message: "agent crashed" } }),
      { kind: "rpc_error", code: -32603, message: "agent crashed" },
    ],
    [new Response("ok", { status: 200 }), { kind: "malformed", detail: "the answer is not JSON" }],
    [json([1, 2]), { kind: "malformed", detail: "the answer is not a JSON object" }],
  ];
  for (const [reply, expected] of cases) {
    const { fetch } = fakeFetch(reply);
    assertEquals(await client(fetch).sendA2A(PEER, "hi"), expected);
  }
});

Deno.test("platform: sendA2A refused by hierarchy rules throws with a list_peers hint", async () => {
  const { fetch } = fakeFetch(
    json({ error: "access denied: workspaces cannot communicate per hierarchy rules" }, 403),
  );
  const err = await assertRejects(() => client(fetch).sendA2A(PEER, "hi"), PlatformError);
  assert(err instanceof PlatformError);
  assertEquals(err.endpoint, "POST /workspaces/:id/a2a");
  assertStringIncludes(err.next, "list_peers");
});

Deno.test("platform: delegate accepts a new (202) and an idempotent (200) delegation, never self", async () => {
  const { fetch, seen } = fakeFetch(
    json({ delegation_id: "d-1", status: "delegated", target_id: PEER }, 202),
    json({ delegation_id: "d-1", status: "completed", target_id: PEER, idempotent_hit: true }),
  );
  const platform = client(fetch);
  const first = await platform.delegate(PEER, "review", "k".repeat(32));
  const again = await platform.delegate(PEER, "review", "k".repeat(32));
  assertEquals(first, {
    delegationId: "d-1",
    status: "delegated",
    targetId: PEER,
    isIdempotentHit: false,
  });
  assertEquals(again.isIdempotentHit, true);
  assertEquals(JSON.parse(seen[0]?.body ?? ""), {
    target_id: PEER,
    task: "review",
    idempotency_key: "k".repeat(32),
  });
  await assertRejects(() => platform.delegate(SELF, "review", "k"), RangeError);
  assertEquals(seen.length, 2);
});

Deno.test("platform: a removed workspace is a typed result with the platform's hint", async () => {
  const { fetch } = fakeFetch(
    json({
      error: "workspace removed",
      id: SELF,
      hint: "Regenerate it",
      removed_at: "2026-05-01T10:00:00Z",
    }, 410),
  );
  assertEquals(await client(fetch).getWorkspace(), {
    kind: "removed",
    id: SELF,
    hint: "Regenerate it",
    removedAt: "2026-05-01T10:00:00Z",
  });
});

Deno.test("platform: notify muted by an admin is a TalkToUserDisabledError", async () => {
  const { fetch, seen } = fakeFetch(
    json({ error: "talk_to_user_disabled", hint: "ask a parent" }, 403),
    json({ error: "something else" }, 403),
  );
  const platform = client(fetch);
  const attachments = [{ uri: "workspace:/a.txt", name: "a.txt" }];
  const err = await assertRejects(
    () => platform.notify("hello", attachments),
    TalkToUserDisabledError,
  );
  assert(err instanceof TalkToUserDisabledError);
  assertStringIncludes(err.next, "parent");
  assertEquals(JSON.parse(seen[0]?.body ?? ""), { message: "hello", attachments });
  const other = await assertRejects(() => platform.notify("hello"), PlatformError);
  assert(!(other instanceof TalkToUserDisabledError));
});

Deno.test("platform: a muted notify's hint reaches the agent without terminal escapes or line breaks", async () => {
  const { fetch } = fakeFetch(
    json({ error: "talk_to_user_disabled", hint: "ask\u001b[2J a\u202e parent\nnow" }, 403),
  );
  const err = await assertRejects(() => client(fetch).notify("hello"), TalkToUserDisabledError);
  assertStringIncludes(err.next, "(ask a parent now)");
});

Deno.test("platform: chat uploads go as multipart parts named files, one result each", async () => {
  const { fetch, seen } = fakeFetch(json({
    files: [
      { uri: "workspace:/x/a.txt", name: "a.txt", mimeType: "text/plain", size: 2 },
      { uri: "workspace:/x/b.png", name: "b.png", mimeType: "image/png", size: 3 },
    ],
  }));
  const uploaded = await client(fetch).uploadChatFiles([
    { name: "a.txt", bytes: new TextEncoder().encode("hi"), mimeType: "text/plain" },
    { name: "b.png", bytes: new Uint8Array([1, 2, 3]), mimeType: "image/png" },
  ]);
  assertEquals(uploaded.map((f) => f.uri), ["workspace:/x/a.txt", "workspace:/x/b.png"]);
  const parts = only(seen).form?.getAll("files") ?? [];
  assertEquals(parts.map((p) => (p instanceof File ? p.name : "?")), ["a.txt", "b.png"]);
  const first = parts[0];
  assert(first instanceof File);
  assertEquals(await first.text(), "hi");

  const short = fakeFetch(json({ files: [{ uri: "u", name: "a.txt" }] }));
  const files = [
    { name: "a.txt", bytes: new Uint8Array([1]), mimeType: "text/plain" },
    { name: "b.txt", bytes: new Uint8Array([2]), mimeType: "text/plain" },
  ];
  await assertRejects(() => client(short.fetch).uploadChatFiles(files), PlatformError);
});

Deno.test("platform: list_peers filters by name or role locally, never with ?q=", async () => {
  const { fetch, seen } = fakeFetch(json([
    { id: PEER, name: "Reviewer", role: null, tier: 1, status: "online", parent_id: null },
    { id: SELF.replace(/1/g, "3"), name: "builder", role: "code REVIEW", status: "online" },
    { id: "not-a-uuid", name: "review junk" },
  ]));
  const peers = await client(fetch).listPeers("review");
  assertEquals(peers.map((p) => p.name), ["Reviewer", "builder"]);
  assertEquals(only(seen).url.search, "");
});

Deno.test("platform: memories are written with a scope and searched with q and scope", async () => {
  const { fetch, seen } = fakeFetch(
    json({ id: "m-1", scope: "TEAM", namespace: "general" }, 201),
    json([{ id: "m-1", workspace_id: SELF, content: "fact", scope: "TEAM", namespace: "general" }]),
  );
  const platform = client(fetch);
  assertEquals(await platform.commitMemory("fact", "TEAM"), {
    id: "m-1",
    scope: "TEAM",
    namespace: "general",
  });
  const rows = await platform.searchMemory(" fact ", "TEAM");
  assertEquals(rows.map((r) => r.content), ["fact"]);
  assertEquals(JSON.parse(seen[0]?.body ?? ""), { content: "fact", scope: "TEAM" });
  assertEquals(seen[1]?.url.searchParams.get("q"), "fact");
  assertEquals(seen[1]?.url.searchParams.get("scope"), "TEAM");
});

Deno.test("platform: every endpoint works against the contract-faithful fake platform", async () => {
  const clock = new ManualClock();
  const fake = createFakePlatform({ clock });
  const self = fake.addWorkspace({ name: "laptop", delivery_mode: "poll", runtime: "external" });
  const pushPeer = fake.addWorkspace({
    name: "Reviewer",
    role: "code review",
    url: "http://r:8000",
  });
  const pollPeer = fake.addWorkspace({
    name: "Builder",
    delivery_mode: "poll",
    runtime: "external",
  });
  fake.setA2AReply(pushPeer.id, { kind: "task", text: "looks good" });
  const make = (ws: { id: string; token: string }) =>
    createPlatformClient({
      platformUrl: "https://acme.example.com",
      workspaceId: ws.id,
      token: ws.token,
    }, {
      fetch: fake.fetch,
      clock,
      log: captureLog().log,
    });
  const platform = make(self);

  await platform.register({ name: "laptop", skills: [] });
  await platform.heartbeat({ uptimeSeconds: 3 });
  assertEquals((await platform.discover(pushPeer.id)).name, "Reviewer");
  assertEquals(await platform.sendA2A(pushPeer.id, "review please"), {
    kind: "reply",
    text: "looks good",
  });
  assertEquals(await platform.sendA2A(pollPeer.id, "build please"), {
    kind: "queued",
    via: "poll",
  });
  const inbox = await make(pollPeer).listActivity({ sinceSecs: 600 });
  assertEquals(inbox.length, 1);
  const receipt = await platform.delegate(pushPeer.id, "review", "a".repeat(32));
  assert(receipt.delegationId !== "");
  assert((await platform.listDelegations()).length > 0);
  assertEquals((await platform.listPeers("review")).map((p) => p.id), [pushPeer.id]);
  const found = await platform.getWorkspace();
  assertEquals(found.kind === "found" ? found.workspace.name : found.kind, "laptop");
  await platform.reportActivity({ activityType: "a2a_send", targetId: pushPeer.id, summary: "x" });
  await platform.notify("done", [{ uri: "workspace:/a.txt", name: "a.txt" }]);
  assertEquals(fake.notifications.map((n) => n.message), ["done"]);
  const memory = await platform.commitMemory("the build uses deno", "LOCAL");
  assertEquals((await platform.searchMemory("deno")).map((m) => m.id), [memory.id]);

  fake.removeWorkspace(pushPeer.id);
  assertEquals((await platform.getWorkspace(pushPeer.id)).kind, "removed");
  assertEquals(clock.pendingSleeps, 0);
});

Deno.test("platform: with the real clock a finished call leaves no timer behind", async () => {
  const { fetch } = fakeFetch(json({ status: "ok" }));
  const platform = createPlatformClient(
    { platformUrl: "https://acme.example.com", workspaceId: SELF, token: TOKEN },
    { fetch, clock: systemClock, log: captureLog().log },
  );
  await platform.heartbeat({ uptimeSeconds: 1 });
  // Deno's op sanitizer fails this test if the 10 s timeout timer is still pending.
});
