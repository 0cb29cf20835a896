/**
 * Pins the contract behaviours other tests rely on the fake platform for: auth, Origin,
 * activity ordering and cursor rules, A2A routing, notify echoes and scripted faults.
 */
import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "./assert.ts";
import { createFakePlatform, type FakePlatform } from "./fakes/fake_platform.ts";
import { flushMicrotasks, ManualClock } from "./fakes/manual_clock.ts";

const BASE = "http://platform.test";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface CallOpts {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

function call(p: FakePlatform, method: string, path: string, opts: CallOpts = {}) {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  const init: RequestInit = { method, headers };
  if (opts.body !== undefined) {
    init.body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
    headers["content-type"] = "application/json";
  }
  if (opts.signal !== undefined) init.signal = opts.signal;
  return p.fetch(new Request(BASE + path, init));
}

async function callJson(p: FakePlatform, method: string, path: string, opts: CallOpts = {}) {
  const res = await call(p, method, path, opts);
  return { status: res.status, body: await res.json() as unknown };
}

/** The `id` fields of a JSON array of rows. */
function ids(body: unknown): unknown[] {
  assert(Array.isArray(body), `expected a list, got ${JSON.stringify(body)}`);
  return body.map((r: { id?: unknown }) => r.id);
}

function setup() {
  const clock = new ManualClock();
  const platform = createFakePlatform({ clock });
  const me = platform.addWorkspace({ name: "me", delivery_mode: "poll" });
  return { clock, platform, me };
}

Deno.test("fake platform: register mints a 43-char token once and always returns the inbound secret", async () => {
  const platform = createFakePlatform({ clock: new ManualClock() });
  const id = crypto.randomUUID();
  const card = { name: "agent", skills: [] };
  const first = await callJson(platform, "POST", "/registry/register", {
    body: { id, url: "", agent_card: card, delivery_mode: "poll" },
  });
  assertEquals(first.status, 200);
  const reply = first.body as Record<string, unknown>;
  assertEquals(reply.status, "registered");
  assertEquals(reply.delivery_mode, "poll");
  assertMatch(String(reply.auth_token), /^[A-Za-z0-9_-]{43}$/);
  assertEquals(platform.tokenFor(id), reply.auth_token);
  assertEquals(platform.workspace(id)?.name, id);

  const bare = await callJson(platform, "POST", "/registry/register", {
    body: { id, agent_card: card, delivery_mode: "poll" },
  });
  assertEquals(bare, { status: 401, body: { error: "missing workspace auth token" } });
  const again = await callJson(platform, "POST", "/registry/register", {
    token: String(reply.auth_token),
    body: { id, agent_card: card, delivery_mode: "poll" },
  });
  assertEquals(again.status, 200);
  const second = again.body as Record<string, unknown>;
  assertEquals("auth_token" in second, false);
  assertEquals(second.platform_inbound_secret, reply.platform_inbound_secret);
  assertEquals(platform.registrations.map((r) => r.minted_token), [true, false]);
});

Deno.test("fake platform: register refuses bad bodies with the contract's 400s and 500", async () => {
  const { platform, me } = setup();
  const post = (body: unknown) =>
    callJson(platform, "POST", "/registry/register", { token: me.token, body });
  assertEquals((await post("{nope")).body, { error: "invalid request body" });
  assertEquals((await post({ id: me.id })).body, { error: "invalid request body" });
  assertEquals((await post({ id: me.id, agent_card: {}, delivery_mode: "pull" })).body, {
    error: "delivery_mode must be 'push' or 'poll'",
  });
  assertEquals((await post({ id: me.id, agent_card: {}, delivery_mode: "push" })).body, {
    error: "url is required for push-mode workspaces",
  });
  assertEquals(await post({ id: "not-a-uuid", agent_card: {} }), {
    status: 500,
    body: { error: "registration failed" },
  });
  // A brand-new id with no mode is push, so it needs a URL.
  assertEquals((await post({ id: crypto.randomUUID(), agent_card: {} })).status, 400);
});

Deno.test("fake platform: heartbeat answers ok with the secret, even for unknown workspaces", async () => {
  const { platform, me } = setup();
  const hb = await callJson(platform, "POST", "/registry/heartbeat", {
    token: me.token,
    body: {
      workspace_id: me.id,
      error_rate: 0,
      sample_error: "",
      active_tasks: 0,
      uptime_seconds: 5,
    },
  });
  assertEquals(hb.status, 200);
  assertEquals(hb.body, {
    status: "ok",
    platform_inbound_secret: platform.workspace(me.id)?.platform_inbound_secret,
  });
  const unknown = await callJson(platform, "POST", "/registry/heartbeat", {
    body: { workspace_id: crypto.randomUUID() },
  });
  assertEquals(unknown, { status: 200, body: { status: "ok" } });
  const wrong = await callJson(platform, "POST", "/registry/heartbeat", {
    token: "x".repeat(43),
    body: { workspace_id: me.id },
  });
  assertEquals(wrong, { status: 401, body: { error: "invalid workspace auth token" } });
  assertEquals(platform.heartbeats.length, 2);

  const quiet = createFakePlatform({ heartbeatIncludesSecret: false });
  const ws = quiet.addWorkspace();
  const res = await callJson(quiet, "POST", "/registry/heartbeat", {
    token: ws.token,
    body: { workspace_id: ws.id },
  });
  assertEquals(res.body, { status: "ok" });
});

Deno.test("fake platform: workspace routes reject missing, wrong, foreign and uppercase-path tokens", async () => {
  const { platform, me } = setup();
  const other = platform.addWorkspace();
  const path = `/workspaces/${me.id}/activity`;
  assertEquals(await callJson(platform, "GET", path), {
    status: 401,
    body: { error: "missing workspace auth token" },
  });
  const invalid = { status: 401, body: { error: "invalid workspace auth token" } };
  assertEquals(await callJson(platform, "GET", path, { token: "nope" }), invalid);
  assertEquals(await callJson(platform, "GET", path, { token: other.token }), invalid);
  const upper = `/workspaces/${me.id.toUpperCase()}/activity`;
  assertEquals(await callJson(platform, "GET", upper, { token: me.token }), invalid);
  platform.revokeToken(me.id);
  assertEquals(await callJson(platform, "GET", path, { token: me.token }), invalid);
});

Deno.test("fake platform: a foreign Origin gets 403 with an empty body; the own origin passes", async () => {
  const { platform, me } = setup();
  const path = `/workspaces/${me.id}/activity`;
  const foreign = await call(platform, "GET", path, {
    token: me.token,
    headers: { origin: "https://evil.example" },
  });
  assertEquals(foreign.status, 403);
  assertEquals(await foreign.text(), "");
  const withPath = await call(platform, "GET", path, {
    token: me.token,
    headers: { origin: `${BASE}/` },
  });
  assertEquals(withPath.status, 403);
  await withPath.body?.cancel();
  const own = await call(platform, "GET", path, { token: me.token, headers: { origin: BASE } });
  assertEquals(own.status, 200);
  await own.body?.cancel();
  assertEquals(platform.requests.map((r) => r.headers.origin), [
    "https://evil.example",
    `${BASE}/`,
    BASE,
  ]);
});

Deno.test("fake platform: activity lists newest first, and since_id pages oldest first past the cursor", async () => {
  const { clock, platform, me } = setup();
  const rows = [];
  for (let i = 0; i < 4; i++) {
    rows.push(platform.sendToInbox(me.id, { text: `m${i}` }));
    await clock.advance(1000);
  }
  const path = `/workspaces/${me.id}/activity?type=a2a_receive`;
  const newest = await callJson(platform, "GET", path, { token: me.token });
  assertEquals(ids(newest.body), rows.map((r) => r.id).reverse());
  const page = await callJson(platform, "GET", `${path}&since_id=${rows[1]?.id}&limit=1`, {
    token: me.token,
  });
  assertEquals(ids(page.body), [rows[2]?.id]);
  const rest = await callJson(platform, "GET", `${path}&since_id=${rows[1]?.id}`, {
    token: me.token,
  });
  assertEquals(ids(rest.body), [rows[2]?.id, rows[3]?.id]);
  const tail = await callJson(platform, "GET", `${path}&since_id=${rows[3]?.id}`, {
    token: me.token,
  });
  assertEquals(tail.body, []);
});

Deno.test("fake platform: rows sharing one created_at are lost across a page boundary", async () => {
  const { platform, me } = setup();
  const at = "2026-05-01T10:00:00.123456Z";
  const before = platform.addActivityRow({
    workspace_id: me.id,
    created_at: "2026-05-01T09:00:00Z",
  });
  const tied = [1, 2, 3].map(() =>
    platform.addActivityRow({ workspace_id: me.id, created_at: at })
  );
  const path = `/workspaces/${me.id}/activity?since_id=${before.id}&limit=2`;
  const first = await callJson(platform, "GET", path, { token: me.token });
  assertEquals(ids(first.body), [tied[0]?.id, tied[1]?.id]);
  const next = await callJson(
    platform,
    "GET",
    `/workspaces/${me.id}/activity?since_id=${tied[1]?.id}`,
    { token: me.token },
  );
  assertEquals(next.body, [], "strictly-greater cursor skips the third tied row");
});

Deno.test("fake platform: a vanished or foreign cursor is 410, a non-UUID cursor is 500", async () => {
  const { platform, me } = setup();
  const other = platform.addWorkspace();
  const foreignRow = platform.sendToInbox(other.id, { text: "x" });
  const ownRow = platform.sendToInbox(me.id, { text: "y" });
  const gone = {
    status: 410,
    body: {
      error:
        "since_id cursor not found (row may have been pruned or belongs to a different workspace); omit since_id to reset",
    },
  };
  const list = (cursor: string) =>
    callJson(platform, "GET", `/workspaces/${me.id}/activity?since_id=${cursor}`, {
      token: me.token,
    });
  assertEquals(await list(crypto.randomUUID()), gone);
  assertEquals(await list(foreignRow.id), gone);
  assertEquals(await list("abc"), { status: 500, body: { error: "cursor lookup failed" } });
  assertEquals((await list(ownRow.id.toUpperCase())).status, 200, "Postgres UUIDs ignore case");
  assert(platform.pruneActivity(ownRow.id));
  assertEquals(await list(ownRow.id), gone);
});

Deno.test("fake platform: limit defaults to 100, clamps at 500, and ignores junk", async () => {
  const { platform, me } = setup();
  for (let i = 0; i < 501; i++) platform.addActivityRow({ workspace_id: me.id });
  const count = async (query: string) => {
    const res = await callJson(platform, "GET", `/workspaces/${me.id}/activity${query}`, {
      token: me.token,
    });
    return ids(res.body).length;
  };
  assertEquals(await count(""), 100);
  assertEquals(await count("?limit=1000"), 500);
  assertEquals(await count("?limit=7"), 7);
  assertEquals(await count("?limit=abc"), 100);
  assertEquals(await count("?limit=0"), 100);
  assertEquals(await count("?limit=-3"), 100);
});

Deno.test("fake platform: since_secs keeps the recent window, newest first, and rejects non-positive values", async () => {
  const { clock, platform, me } = setup();
  const old = platform.sendToInbox(me.id, { text: "old" });
  await clock.advance(120_000);
  const recent = platform.sendToInbox(me.id, { text: "recent" });
  await clock.advance(1000);
  const newer = platform.sendToInbox(me.id, { text: "newer" });
  const path = `/workspaces/${me.id}/activity`;
  const window = await callJson(platform, "GET", `${path}?since_secs=60`, { token: me.token });
  assertEquals(ids(window.body), [newer.id, recent.id]);
  const both = await callJson(platform, "GET", `${path}?since_secs=600&since_id=${old.id}`, {
    token: me.token,
  });
  assertEquals(ids(both.body), [recent.id, newer.id], "with a cursor the order is ascending");
  for (const bad of ["0", "-5", "1.5", "abc"]) {
    assertEquals(
      await callJson(platform, "GET", `${path}?since_secs=${bad}`, { token: me.token }),
      {
        status: 400,
        body: { error: "since_secs must be a positive integer" },
      },
    );
  }
  const before = await callJson(platform, "GET", `${path}?before_ts=${recent.created_at}`, {
    token: me.token,
  });
  assertEquals(ids(before.body), [old.id]);
});

Deno.test("fake platform: rows have UUID ids, microsecond timestamps, and omit null bodies", async () => {
  const { platform, me } = setup();
  const peer = platform.addWorkspace();
  platform.sendToInbox(me.id, { text: "from canvas" });
  platform.sendToInbox(me.id, { text: "from peer", from: peer.id });
  const path = `/workspaces/${me.id}/activity`;
  const { body } = await callJson(platform, "GET", path, { token: me.token });
  assert(Array.isArray(body));
  const [fromPeer, fromCanvas] = body as Record<string, unknown>[];
  assertMatch(String(fromPeer?.id), UUID);
  assertEquals(fromPeer?.created_at, "2026-05-01T10:00:00.000001Z");
  assertEquals(fromCanvas?.created_at, "2026-05-01T10:00:00.000000Z");
  assertEquals(fromPeer?.source_id, peer.id);
  assertEquals(fromCanvas?.source_id, null);
  assertEquals("response_body" in (fromPeer ?? {}), false);
  assertEquals(fromPeer?.request_body, {
    jsonrpc: "2.0",
    id: (fromPeer?.request_body as Record<string, unknown>).id,
    method: "message/send",
    params: {
      message: {
        role: "user",
        messageId: (fromPeer?.request_body as { params: { message: { messageId: string } } })
          .params.message.messageId,
        parts: [{ kind: "text", text: "from peer" }],
      },
    },
  });
  const canvasOnly = await callJson(platform, "GET", `${path}?source=canvas`, { token: me.token });
  assertEquals(ids(canvasOnly.body), [fromCanvas?.id]);
  assertEquals(await callJson(platform, "GET", `${path}?source=nobody`, { token: me.token }), {
    status: 400,
    body: { error: "source must be 'canvas' or 'agent'" },
  });
  assertEquals(
    (await callJson(platform, "GET", `${path}?type=notify`, { token: me.token })).body,
    [],
  );
});

Deno.test("fake platform: A2A to a poll-mode sibling answers queued and writes the row on the target", async () => {
  const { platform, me } = setup();
  const sibling = platform.addWorkspace({ name: "sib", delivery_mode: "poll" });
  const res = await callJson(platform, "POST", `/workspaces/${sibling.id}/a2a`, {
    token: me.token,
    headers: { "x-workspace-id": me.id },
    body: {
      jsonrpc: "2.0",
      id: "r1",
      method: "message/send",
      params: { message: { role: "user", content: "hello" } },
    },
  });
  assertEquals(res, {
    status: 200,
    body: { status: "queued", delivery_mode: "poll", method: "message/send" },
  });
  const [row] = platform.activity(sibling.id);
  assertEquals(row?.source_id, me.id);
  assertEquals(row?.target_id, sibling.id);
  assertEquals(row?.method, "message/send");
  assertEquals(row?.summary, "message/send → sib (queued for poll)");
  const message = (row?.request_body as { params: { message: Record<string, unknown> } }).params
    .message;
  assertEquals(message.parts, [{ kind: "text", text: "hello" }]);
  assertMatch(String(message.messageId), UUID);
  assertEquals(platform.activity(me.id), [], "nothing lands on the caller");
});

Deno.test("fake platform: A2A enforces the hierarchy and caller tokens", async () => {
  const { platform, me } = setup();
  const parent = platform.addWorkspace({ name: "root2" });
  const child = platform.addWorkspace({ name: "kid", parent_id: parent.id });
  const send = (target: string, opts: CallOpts) =>
    callJson(platform, "POST", `/workspaces/${target}/a2a`, {
      ...opts,
      body: {
        method: "message/send",
        params: { message: { parts: [{ kind: "text", text: "hi" }] } },
      },
    });
  const asMe = { token: me.token, headers: { "x-workspace-id": me.id } };
  assertEquals(await send(child.id, asMe), {
    status: 403,
    body: { error: "access denied: workspaces cannot communicate per hierarchy rules" },
  });
  assertEquals((await send(parent.id, asMe)).status, 200, "two roots are siblings");
  assertEquals(
    (await send(parent.id, { token: child.token })).status,
    200,
    "bearer names the caller",
  );
  assertEquals(await send(parent.id, { headers: { "x-workspace-id": me.id }, token: "bad" }), {
    status: 401,
    body: { error: "invalid caller auth token" },
  });
  assertEquals(await send(parent.id, { headers: { "x-workspace-id": "system:cron" } }), {
    status: 403,
    body: { error: "invalid caller ID" },
  });
  assertEquals(await send(crypto.randomUUID(), {}), {
    status: 404,
    body: { error: "workspace not found" },
  });
});

Deno.test("fake platform: push-mode targets echo by default and follow their script", async () => {
  const { platform, me } = setup();
  const peer = platform.addWorkspace({ delivery_mode: "push" });
  const send = () =>
    callJson(platform, "POST", `/workspaces/${peer.id}/a2a`, {
      token: me.token,
      headers: { "x-workspace-id": me.id },
      body: {
        jsonrpc: "2.0",
        id: 7,
        method: "message/send",
        params: { message: { role: "user", parts: [{ kind: "text", text: "ping" }] } },
      },
    });
  const echo = await send();
  assertEquals(echo.status, 200);
  const result = echo.body as { id: unknown; result: { parts: unknown[] } };
  assertEquals(result.id, 7);
  assertEquals(result.result.parts, [{ kind: "text", text: "echo: ping" }]);
  platform.setA2AReply(peer.id, { kind: "busy-queued" });
  const busy = await send();
  assertEquals(busy.status, 202);
  assertEquals((busy.body as Record<string, unknown>).queued, true);
  platform.setA2AReply(peer.id, (c) => ({ kind: "message", text: `from ${c.callerId}` }));
  const scripted = await send();
  assertEquals((scripted.body as { result: { parts: unknown[] } }).result.parts, [
    { kind: "text", text: `from ${me.id}` },
  ]);
  assertEquals(platform.a2aCalls.map((c) => c.status), [200, 202, 200]);
  assertEquals(platform.activity(peer.id).map((r) => r.status), ["ok", "error", "ok"]);
});

Deno.test("fake platform: notify writes the self-echo row and honours talk_to_user", async () => {
  const { platform, me } = setup();
  const path = `/workspaces/${me.id}/notify`;
  const sent = await callJson(platform, "POST", path, {
    token: me.token,
    body: { message: "done", attachments: [{ uri: "platform-pending:x/y", name: "a.txt" }] },
  });
  assertEquals(sent, { status: 200, body: { status: "sent" } });
  const [row] = platform.activity(me.id);
  assertEquals(row?.activity_type, "a2a_receive");
  assertEquals(row?.method, "notify");
  assertEquals(row?.source_id, null);
  assertEquals(row?.response_body, {
    result: "done",
    parts: [{ kind: "file", file: { uri: "platform-pending:x/y", name: "a.txt" } }],
  });
  assertEquals(platform.notifications.map((n) => n.message), ["done"]);
  assertEquals((await callJson(platform, "POST", path, { token: me.token, body: {} })).body, {
    error: "message is required",
  });
  platform.updateWorkspace(me.id, { talk_to_user_enabled: false });
  const off = await callJson(platform, "POST", path, { token: me.token, body: { message: "x" } });
  assertEquals(off.status, 403);
  assertEquals((off.body as Record<string, unknown>).error, "talk_to_user_disabled");
});

Deno.test("fake platform: chat uploads answer staged URIs and keep the bytes", async () => {
  const { platform, me } = setup();
  const form = new FormData();
  form.append("files", new File(["hello"], "note.txt", { type: "text/plain" }));
  form.append("files", new File([new Uint8Array([1, 2, 3])], "blob.bin"));
  const res = await platform.fetch(
    new Request(`${BASE}/workspaces/${me.id}/chat/uploads`, {
      method: "POST",
      headers: { authorization: `Bearer ${me.token}` },
      body: form,
    }),
  );
  assertEquals(res.status, 200);
  const { files } = await res.json() as { files: Record<string, unknown>[] };
  assertEquals(files.map((f) => [f.name, f.mimeType, f.size]), [
    ["note.txt", "text/plain", 5],
    ["blob.bin", "application/octet-stream", 3],
  ]);
  assertMatch(String(files[0]?.uri), new RegExp(`^platform-pending:${me.id}/`));
  assertEquals(new TextDecoder().decode(platform.uploads[0]?.bytes), "hello");
});

Deno.test("fake platform: discover and peers follow the hierarchy", async () => {
  const { platform, me } = setup();
  const kid = platform.addWorkspace({ name: "kid", role: "Coder", parent_id: me.id });
  const kid2 = platform.addWorkspace({ name: "kid2", parent_id: me.id });
  const gone = platform.addWorkspace({ name: "gone", parent_id: me.id });
  platform.removeWorkspace(gone.id);
  const grandkid = platform.addWorkspace({ name: "gk", parent_id: kid.id });
  assertEquals(await callJson(platform, "GET", `/registry/discover/${kid.id}`), {
    status: 400,
    body: { error: "X-Workspace-ID header is required" },
  });
  const asKid = { token: kid.token, headers: { "x-workspace-id": kid.id } };
  assertEquals((await callJson(platform, "GET", `/registry/discover/${me.id}`, asKid)).body, {
    id: me.id,
    url: `http://ws-${me.id.slice(0, 12)}:8000`,
    name: "me",
  });
  const asKid2 = { token: kid2.token, headers: { "x-workspace-id": kid2.id } };
  assertEquals(await callJson(platform, "GET", `/registry/discover/${grandkid.id}`, asKid2), {
    status: 403,
    body: { error: "not authorized to discover this workspace" },
  });
  const peers = await callJson(platform, "GET", `/registry/${kid.id}/peers`, { token: kid.token });
  assertEquals(ids(peers.body), [kid2.id, grandkid.id, me.id], "siblings, children, parent");
  const coder = await callJson(platform, "GET", `/registry/${me.id}/peers?q=CODE`, {
    token: me.token,
  });
  assertEquals(ids(coder.body), [kid.id]);
});

Deno.test("fake platform: GET /workspaces/:id is open and answers 400, 404 and 410 per contract", async () => {
  const { platform, me } = setup();
  assertEquals(await callJson(platform, "GET", "/workspaces/nope"), {
    status: 400,
    body: { error: "invalid workspace ID" },
  });
  assertEquals((await callJson(platform, "GET", `/workspaces/${crypto.randomUUID()}`)).status, 404);
  const info = await callJson(platform, "GET", `/workspaces/${me.id}`);
  assertEquals((info.body as Record<string, unknown>).name, "me");
  assertEquals("delivery_mode" in (info.body as Record<string, unknown>), false);
  platform.removeWorkspace(me.id);
  const removed = await callJson(platform, "GET", `/workspaces/${me.id}`);
  assertEquals(removed.status, 410);
  const body = removed.body as Record<string, unknown>;
  assertEquals(body.error, "workspace removed");
  assertEquals(body.id, me.id);
  assertMatch(String(body.removed_at), /^2026-05-01T10:00:00\.\d{6}Z$/);
  const included = await callJson(platform, "GET", `/workspaces/${me.id}?include_removed=true`);
  assertEquals((included.body as Record<string, unknown>).status, "removed");
});

Deno.test("fake platform: delegate answers 202, repeats an idempotency key as a 200 hit, and lists both rows", async () => {
  const { platform, me } = setup();
  const peer = platform.addWorkspace({ name: "peer", delivery_mode: "push" });
  platform.setA2AReply(peer.id, { kind: "task", text: "42" });
  const path = `/workspaces/${me.id}/delegate`;
  const body = { target_id: peer.id, task: "compute", idempotency_key: "k1" };
  const first = await callJson(platform, "POST", path, { token: me.token, body });
  assertEquals(first.status, 202);
  const { delegation_id } = first.body as { delegation_id: string };
  assertEquals(first.body, { delegation_id, status: "delegated", target_id: peer.id });
  assertEquals(await callJson(platform, "POST", path, { token: me.token, body }), {
    status: 200,
    body: { delegation_id, status: "completed", target_id: peer.id, idempotent_hit: true },
  });
  assertEquals(
    (await callJson(platform, "POST", path, {
      token: me.token,
      body: { target_id: me.id, task: "x" },
    }))
      .body,
    { error: "self-delegation not permitted" },
  );
  assertEquals(
    (await callJson(platform, "POST", path, {
      token: me.token,
      body: { target_id: "x", task: "x" },
    }))
      .body,
    { error: "target_id must be a valid UUID" },
  );
  const list = await callJson(platform, "GET", `/workspaces/${me.id}/delegations`, {
    token: me.token,
  });
  const rows = list.body as Record<string, unknown>[];
  assertEquals(rows.map((r) => [r.status, r.delegation_id]), [
    ["completed", delegation_id],
    ["completed", delegation_id],
  ]);
  assertEquals(rows[0]?.response_preview, "42");
  const sent = platform.activity(peer.id)[0]?.request_body as {
    params: { message: { parts: unknown } };
  };
  assertEquals(sent.params.message.parts, [{ type: "text", text: "compute" }]);
});

Deno.test("fake platform: memories validate scope and let only roots write GLOBAL", async () => {
  const { platform, me } = setup();
  const kid = platform.addWorkspace({ parent_id: me.id });
  const write = (ws: { id: string; token: string }, body: unknown) =>
    callJson(platform, "POST", `/workspaces/${ws.id}/memories`, { token: ws.token, body });
  const ok = await write(me, { content: "the sky is blue", scope: "GLOBAL" });
  assertEquals(ok.status, 201);
  assertEquals((ok.body as Record<string, unknown>).namespace, "general");
  assertEquals((await write(me, { content: "x", scope: "WORLD" })).body, {
    error: "scope must be LOCAL, TEAM, or GLOBAL",
  });
  assertEquals(await write(kid, { content: "x", scope: "GLOBAL" }), {
    status: 403,
    body: { error: "only root workspaces can write GLOBAL memories" },
  });
  assertEquals((await write(kid, { content: "kid note", scope: "LOCAL" })).status, 201);
  const search = await callJson(
    platform,
    "GET",
    `/workspaces/${kid.id}/memories?scope=GLOBAL&q=SKY`,
    {
      token: kid.token,
    },
  );
  const [found] = search.body as Record<string, unknown>[];
  assertEquals(
    found?.content,
    `[MEMORY id=${found?.id} scope=GLOBAL from=${me.id}]: the sky is blue`,
  );
});

Deno.test("fake platform: status faults use the contract body and fire only the scripted number of times", async () => {
  const { platform, me } = setup();
  platform.failNext("GET /workspaces/:id/activity", 503, 2);
  platform.failNext(`POST /registry/heartbeat`, 429);
  const path = `/workspaces/${me.id}/activity`;
  const unavailable = {
    status: 503,
    body: { error: "platform datastore unavailable — retry shortly", code: "platform_unavailable" },
  };
  assertEquals(await callJson(platform, "GET", path, { token: me.token }), unavailable);
  assertEquals(await callJson(platform, "GET", path, { token: me.token }), unavailable);
  assertEquals((await callJson(platform, "GET", path, { token: me.token })).status, 200);
  const limited = await call(platform, "POST", "/registry/heartbeat", {
    body: { workspace_id: me.id },
  });
  assertEquals(limited.status, 429);
  assertEquals(limited.headers.get("retry-after"), "60");
  await limited.body?.cancel();
  assertEquals(platform.count("GET /workspaces/:id/activity"), 3);
  assertEquals(platform.pendingFaults, 0);
  assertEquals(platform.heartbeats.length, 0, "a faulted request never reaches the model");
  assertThrows(() => platform.failNext("GET /workspaces/:id/activities", 500));
});

Deno.test("fake platform: garbage, not-list and refused faults look like broken platforms", async () => {
  const { platform, me } = setup();
  const path = `/workspaces/${me.id}/activity`;
  platform.failNext("GET /workspaces/:id/activity", "garbage");
  platform.failNext("GET /workspaces/:id/activity", "not-list");
  platform.failNext(`GET ${path}`, "refused");
  const garbage = await call(platform, "GET", path, { token: me.token });
  assertEquals(garbage.status, 200);
  await assertRejects(() => garbage.json(), SyntaxError);
  assertEquals(await callJson(platform, "GET", path, { token: me.token }), {
    status: 200,
    body: {},
  });
  await assertRejects(() => call(platform, "GET", path, { token: me.token }), TypeError);
});

Deno.test("fake platform: a timeout fault hangs until the caller aborts, then rejects with its reason", async () => {
  const { platform, me } = setup();
  platform.failNext("GET /workspaces/:id/activity", "timeout");
  const ac = new AbortController();
  const pending = call(platform, "GET", `/workspaces/${me.id}/activity`, {
    token: me.token,
    signal: ac.signal,
  });
  let isSettled = false;
  void pending.then(() => isSettled = true, () => isSettled = true);
  await flushMicrotasks(50);
  assertEquals(isSettled, false, "no answer while the caller waits");
  const reason = new Error("poll deadline");
  ac.abort(reason);
  const err = await assertRejects(() => pending);
  assertEquals(err, reason);
});

Deno.test("fake platform: an unknown route is gin's plain-text 404", async () => {
  const { platform } = setup();
  const res = await call(platform, "GET", "/registry/nothing/here");
  assertEquals(res.status, 404);
  assertEquals(await res.text(), "404 page not found");
  const wrongMethod = await call(platform, "DELETE", "/registry/register");
  assertEquals(wrongMethod.status, 404);
  await wrongMethod.body?.cancel();
});

Deno.test("fake platform: serve() answers over real loopback and closes cleanly", async () => {
  const { platform, me } = setup();
  platform.sendToInbox(me.id, { text: "over the wire" });
  const served = await platform.serve();
  try {
    assertMatch(served.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${served.url}/workspaces/${me.id}/activity?type=a2a_receive`, {
      headers: { authorization: `Bearer ${me.token}`, origin: served.url },
    });
    assertEquals(res.status, 200);
    const rows = await res.json() as { summary: string }[];
    assertEquals(rows.map((r) => r.summary), ["message/send → me (queued for poll)"]);
    assertEquals(platform.requests.at(-1)?.headers.origin, served.url);
  } finally {
    await served.close();
  }
});

Deno.test("fake platform: close() settles a hung served request and frees the port", async () => {
  const { platform, me } = setup();
  platform.failNext("GET /workspaces/:id/activity", "timeout");
  const served = await platform.serve();
  const hung = fetch(`${served.url}/workspaces/${me.id}/activity`, {
    headers: { authorization: `Bearer ${me.token}` },
  });
  await served.close();
  // Whether the request got in before the listener closed decides between a 500 and a reset;
  // either way it must settle, and the port must be gone.
  await hung.then((res) => res.body?.cancel(), (err) => assert(err instanceof TypeError));
  await assertRejects(() => fetch(`${served.url}/workspaces/${me.id}`), TypeError);
  await served.close(); // idempotent
});

Deno.test("fake platform: a delegation to a poll target completes with the queued JSON and can reach the inbox", async () => {
  const platform = createFakePlatform({
    clock: new ManualClock(),
    delegationResultInboxPush: true,
  });
  const me = platform.addWorkspace({ delivery_mode: "poll" });
  const peer = platform.addWorkspace({ delivery_mode: "poll" });
  const res = await callJson(platform, "POST", `/workspaces/${me.id}/delegate`, {
    token: me.token,
    body: { target_id: peer.id, task: "later" },
  });
  assertEquals(res.status, 202);
  assertEquals(platform.delegations.map((d) => [d.status, d.response_text]), [
    ["completed", '{"status":"queued","delivery_mode":"poll","method":"message/send"}'],
  ]);
  const inbox = await callJson(platform, "GET", `/workspaces/${me.id}/activity?type=a2a_receive`, {
    token: me.token,
  });
  const [row] = inbox.body as Record<string, unknown>[];
  assertEquals([row?.method, row?.source_id, row?.status], ["delegate_result", me.id, "ok"]);
  assertEquals(platform.activity(peer.id).map((r) => r.source_id), [me.id]);
});

// ---- releases (seed, 2026-05, latest) -------------------------------------------------------

Deno.test("fake platform: a route newer than the release answers gin's plain-text 404", async () => {
  for (
    const [version, path, expected] of [
      ["seed", "/broadcast", 404],
      ["2026-05", "/broadcast", 400],
      ["2026-05", "/requests", 404],
      ["latest", "/requests", 400],
    ] as const
  ) {
    const p = createFakePlatform({ version });
    const me = p.addWorkspace();
    const res = await call(p, "POST", `/workspaces/${me.id}${path}`, { token: me.token, body: {} });
    assertEquals(res.status, expected, `${version} ${path}`);
    const text = await res.text();
    if (expected === 404) assertEquals(text, "404 page not found");
  }
});

Deno.test("fake platform: the seed release ignores peer_id; later ones filter by it", async () => {
  for (const [version, count] of [["seed", 2], ["2026-05", 1]] as const) {
    const p = createFakePlatform({ version });
    const me = p.addWorkspace();
    const a = p.addWorkspace();
    const b = p.addWorkspace();
    p.sendToInbox(me.id, { text: "from a", from: a.id });
    p.sendToInbox(me.id, { text: "from b", from: b.id });
    const { body } = await callJson(p, "GET", `/workspaces/${me.id}/activity?peer_id=${a.id}`, {
      token: me.token,
    });
    assertEquals(ids(body).length, count, version);
  }
});

Deno.test("fake platform: latest rows carry seq and, with include=peer_info, the sender's name", async () => {
  const p = createFakePlatform({ version: "latest" });
  const me = p.addWorkspace();
  const peer = p.addWorkspace({ name: "Bot", role: "analyst" });
  const row = p.sendToInbox(me.id, { text: "hi", from: peer.id });
  const plain = await callJson(p, "GET", `/workspaces/${me.id}/activity`, { token: me.token });
  const [first] = plain.body as Record<string, unknown>[];
  assertEquals(first?.seq, p.seqOf(row.id));
  assert(!("peer_name" in (first ?? {})), "no peer_info without the flag");
  const rich = await callJson(p, "GET", `/workspaces/${me.id}/activity?include=peer_info`, {
    token: me.token,
  });
  const [joined] = rich.body as Record<string, unknown>[];
  assertEquals([joined?.peer_name, joined?.peer_role], ["Bot", "analyst"]);
  assertEquals(joined?.agent_card_url, `${BASE}/registry/discover/${peer.id}`);
  const older = createFakePlatform();
  const olderMe = older.addWorkspace();
  older.sendToInbox(olderMe.id, { text: "hi", from: older.addWorkspace().id });
  const old = await callJson(older, "GET", `/workspaces/${olderMe.id}/activity?include=peer_info`, {
    token: olderMe.token,
  });
  const [oldRow] = old.body as Record<string, unknown>[];
  assert(!("seq" in (oldRow ?? {})) && !("peer_name" in (oldRow ?? {})), "flag ignored, no seq");
});

Deno.test("fake platform: the activity ack keeps the highest seq and refuses bad values", async () => {
  const p = createFakePlatform({ version: "latest" });
  const me = p.addWorkspace();
  const ack = (body: unknown) =>
    callJson(p, "POST", `/workspaces/${me.id}/activity/ack`, { token: me.token, body });
  assertEquals(await ack({ acked_seq: 5 }), { status: 200, body: { last_acked_seq: 5 } });
  assertEquals(await ack({ acked_seq: 3 }), { status: 200, body: { last_acked_seq: 5 } });
  assertEquals((await ack({})).status, 400);
  assertEquals(await ack({ acked_seq: -1 }), {
    status: 400,
    body: { error: "acked_seq must be >= 0" },
  });
});
