/**
 * What a hostile or broken platform cannot do to the client (issue 11 items 10, 11, 13):
 * redirect requests elsewhere, flood it with an endless body, or make it open thousands of
 * connections at once.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { ManualClock } from "../fakes/manual_clock.ts";
import { PlatformError } from "../../lib/errors.ts";
import { createPlatformClient, type PlatformClient } from "../../lib/platform/client.ts";
import { MAX_REDIRECTS, ResponseTooLargeError } from "../../lib/platform/http.ts";
import { BodyBudget } from "../../lib/platform/body_reader.ts";
import { MAX_ACTIVE_REQUESTS, RequestGate } from "../../lib/platform/request_gate.ts";
import type { Fetch } from "../../lib/platform/http_client.ts";

const SELF = "11111111-1111-4111-8111-111111111111";
const TOKEN = "tok_abcdefghijklmnopqrstuvwxyz0123456789ABCDE";
const MiB = 1024 * 1024;

interface Seen {
  method: string;
  url: string;
  body: string;
  redirect: RequestRedirect;
  contentType: string | null;
}

/** A fetch answering from `reply` (given the request and how many came before) that records all. */
function recordingFetch(reply: (seen: Seen, n: number) => Response) {
  const seen: Seen[] = [];
  const fetch: Fetch = async (req) => {
    const entry: Seen = {
      method: req.method,
      url: req.url,
      body: await req.text(),
      redirect: req.redirect,
      contentType: req.headers.get("content-type"),
    };
    seen.push(entry);
    return reply(entry, seen.length - 1);
  };
  return { fetch, seen };
}

function client(
  fetch: Fetch,
  opts: { gate?: RequestGate; clock?: ManualClock; bodyBudget?: BodyBudget } = {},
) {
  const { log, text } = captureLog("debug");
  const platform: PlatformClient = createPlatformClient(
    { platformUrl: "https://acme.example.com/api", workspaceId: SELF, token: TOKEN },
    {
      fetch,
      clock: opts.clock ?? new ManualClock(),
      log,
      ...(opts.gate === undefined ? {} : { gate: opts.gate }),
      ...(opts.bodyBudget === undefined ? {} : { bodyBudget: opts.bodyBudget }),
    },
  );
  return { platform, logText: text };
}

/** The rejection of `fn`, which must be an instance of `cls`. */
async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  cls: abstract new (...args: never[]) => E,
): Promise<E> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof cls) return err;
    throw new Error(`expected ${cls.name}, got ${String(err)}`);
  }
  throw new Error("expected a rejection, got none");
}

function redirect(status: number, location: string): Response {
  return new Response("moved: see the other place", { status, headers: { location } });
}

function workspaceRow(): Response {
  return Response.json({ id: SELF, name: "me", status: "online" });
}

Deno.test("platform: a redirect to another origin is an error naming only that origin, and nothing is sent there", async () => {
  const { fetch, seen } = recordingFetch(() =>
    redirect(302, "https://evil.example:8443/collect?token=abc&x=1")
  );
  const { platform } = client(fetch);
  const err = await assertRejects(() => platform.notify("the user's private note"), PlatformError);
  assertEquals(seen.length, 1, "only the platform saw the request");
  assertEquals(seen[0]?.redirect, "manual", "fetch is never left to follow redirects");
  assertEquals(err.status, 302);
  assertStringIncludes(err.message, "redirected to another origin (https://evil.example:8443)");
  assert(!err.message.includes("collect") && !err.message.includes("token=abc"), err.message);
  assertStringIncludes(err.next, "nothing was sent to https://evil.example:8443");
});

Deno.test("platform: a redirect from https to http on the same host is refused as a downgrade", async () => {
  const { fetch, seen } = recordingFetch(() =>
    redirect(307, "http://acme.example.com/api/workspaces/x")
  );
  const { platform } = client(fetch);
  const err = await assertRejects(
    () => platform.commitMemory("remember this", "LOCAL"),
    PlatformError,
  );
  assertEquals(seen.length, 1);
  assertStringIncludes(err.message, "redirected from https to http (http://acme.example.com)");
  assertStringIncludes(err.next, "cleartext");
});

Deno.test("platform: a same-origin 307 repeats the request with its body; a 303 continues as a GET", async () => {
  const { fetch, seen } = recordingFetch((_, n) => {
    if (n === 0) return redirect(307, "/api/v2/workspaces/" + SELF + "/memories");
    if (n === 1) return redirect(303, "https://acme.example.com/api/stored");
    return Response.json({ id: "m1", scope: "LOCAL", namespace: "general" }, { status: 201 });
  });
  const { platform } = client(fetch);
  const stored = await platform.commitMemory("remember this", "LOCAL");
  assertEquals(stored.id, "m1");
  assertEquals(seen.map((s) => `${s.method} ${new URL(s.url).pathname}`), [
    `POST /api/workspaces/${SELF}/memories`,
    `POST /api/v2/workspaces/${SELF}/memories`,
    "GET /api/stored",
  ]);
  assertEquals(JSON.parse(seen[1]?.body ?? "").content, "remember this");
  assertEquals(seen[2]?.body, "", "the body stays behind after a 303");
  assertEquals(seen[2]?.contentType, null);
});

Deno.test("platform: an upload is re-sent whole on a same-origin 307, and never to another origin", async () => {
  const file = {
    name: "report.pdf",
    bytes: new TextEncoder().encode("%PDF-1.7"),
    mimeType: "application/pdf",
  };
  const uploaded = { files: [{ uri: "workspace:/x/report.pdf", name: "report.pdf", size: 8 }] };
  const same = recordingFetch((_, n) =>
    n === 0 ? redirect(307, "/api/v2/uploads") : Response.json(uploaded)
  );
  const got = await client(same.fetch).platform.uploadChatFiles([file]);
  assertEquals(got.length, 1);
  assertEquals(same.seen.length, 2);
  assert(same.seen.every((s) => s.body.includes("%PDF-1.7")), "the file went with both hops");
  const away = recordingFetch(() => redirect(308, "https://files.example/upload"));
  const err = await assertRejects(
    () => client(away.fetch).platform.uploadChatFiles([file]),
    PlatformError,
  );
  assertEquals(away.seen.length, 1, "the file never left for files.example");
  assertStringIncludes(err.message, "redirected to another origin (https://files.example)");
});

Deno.test("platform: a redirect loop on the platform's own origin stops after a few hops", async () => {
  const { fetch, seen } = recordingFetch((_, n) => redirect(302, `/api/loop/${n}`));
  const { platform } = client(fetch);
  const err = await assertRejects(() => platform.getWorkspace(), PlatformError);
  assertEquals(seen.length, MAX_REDIRECTS + 1);
  assertStringIncludes(err.message, `more than ${MAX_REDIRECTS} redirects`);
});

Deno.test("platform: a redirect to a non-HTTP or unreadable location is refused without echoing it", async () => {
  for (const location of ["file:///etc/passwd", "http://[bad"]) {
    const { fetch, seen } = recordingFetch(() => redirect(301, location));
    const { platform } = client(fetch);
    const err = await assertRejects(() => platform.getWorkspace(), PlatformError);
    assertEquals(seen.length, 1);
    assert(!err.message.includes("passwd") && !err.message.includes("[bad"), err.message);
  }
});

/** A body that never ends: `chunkBytes` of "x" per pull; counts what was pulled and cancels. */
function endlessBody(chunkBytes = 256 * 1024) {
  const chunk = new Uint8Array(chunkBytes).fill(0x78);
  const stats = { pulledBytes: 0, isCancelled: false };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      stats.pulledBytes += chunk.length;
      controller.enqueue(chunk);
    },
    cancel() {
      stats.isCancelled = true;
    },
  }, { highWaterMark: 0 });
  return { body, stats };
}

Deno.test("platform: an endless answer is cut at the endpoint's cap with an error naming the cap", async () => {
  const { body, stats } = endlessBody();
  const { platform, logText } = client(() => Promise.resolve(new Response(body)));
  const err = await assertRejects(() => platform.getWorkspace(), ResponseTooLargeError);
  assertEquals(err.capBytes, 4 * MiB);
  assertEquals(err.status, 200);
  assertStringIncludes(err.message, "answer larger than the 4 MiB limit for this endpoint");
  assert(stats.isCancelled, "the stream was cancelled, freeing the connection");
  assert(stats.pulledBytes <= 4 * MiB + 2 * 256 * 1024, `pulled ${stats.pulledBytes} bytes`);
  assertStringIncludes(logText(), "platform answer over the size limit");
});

Deno.test("platform: a Content-Length over the cap fails before any of the body is read", async () => {
  const { body, stats } = endlessBody();
  const huge = new Response(body, { headers: { "content-length": String(300 * MiB) } });
  const { platform } = client(() => Promise.resolve(huge));
  const err = await assertRejects(() => platform.listPeers(), ResponseTooLargeError);
  assertEquals(err.capBytes, 64 * MiB, "the peer list has its own, larger cap");
  assertEquals(stats.pulledBytes, 0);
  assert(stats.isCancelled);
});

Deno.test("platform: the inbox feed admits a full page of large rows (50 MB) under its 64 MiB cap", async () => {
  const text = "y".repeat(100_000);
  const rows = Array.from({ length: 500 }, (_, i) => ({ id: `row-${i}`, summary: text }));
  const payload = new TextEncoder().encode(JSON.stringify(rows));
  assert(payload.length > 50_000_000);
  const { platform } = client(() => Promise.resolve(new Response(payload)));
  const got = await platform.listActivity({ limit: 500 });
  assertEquals(got.length, 500);
  const { body } = endlessBody(4 * MiB);
  const flood = client(() => Promise.resolve(new Response(body)));
  const err = await assertRejects(() => flood.platform.listActivity({}), ResponseTooLargeError);
  assertEquals(err.capBytes, 64 * MiB);
});

Deno.test("platform: answers read at once share one byte budget, so a flood of huge answers stays bounded", async () => {
  const streams = [endlessBody(), endlessBody(), endlessBody()];
  let n = 0;
  const budget = new BodyBudget(8 * MiB);
  const { platform } = client(() => {
    const next = streams[n++];
    assert(next !== undefined);
    return Promise.resolve(new Response(next.body));
  }, { bodyBudget: budget });
  const errors = await Promise.all([
    platform.listActivity({}).catch((e: unknown) => e),
    platform.listPeers().catch((e: unknown) => e),
    platform.searchMemory("x").catch((e: unknown) => e),
  ]);
  assert(errors.every((e) => e instanceof ResponseTooLargeError), String(errors));
  const pulled = streams.reduce((sum, s) => sum + s.stats.pulledBytes, 0);
  assert(pulled <= 8 * MiB + 6 * 256 * 1024, `pulled ${pulled} bytes in all`);
  assert(streams.every((s) => s.stats.isCancelled));
  assertEquals(budget.usedBytes, 0, "every byte is given back");
  const shared = errors.filter((e) =>
    e instanceof ResponseTooLargeError && e.message.includes("shared 8 MiB limit")
  );
  assert(shared.length >= 1, "the shared limit is named");
});

Deno.test("platform: a body split inside a UTF-8 character still decodes whole", async () => {
  const bytes = new TextEncoder().encode(JSON.stringify({ id: SELF, name: "né 🚀", status: "x" }));
  const cut = bytes.indexOf(0xf0) + 2; // inside the rocket's four bytes
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes.slice(0, cut));
      controller.enqueue(bytes.slice(cut));
      controller.close();
    },
  });
  const { platform } = client(() => Promise.resolve(new Response(body)));
  const got = await platform.getWorkspace();
  assert(got.kind === "found");
  assertEquals(got.workspace.name, "né 🚀");
});

Deno.test("platform: 2,000 simultaneous calls never put more than the cap on the wire", async () => {
  const clock = new ManualClock();
  let inFlight = 0;
  let peak = 0;
  const fetch: Fetch = async () => {
    inFlight += 1;
    peak = Math.max(peak, inFlight);
    await clock.sleep(5);
    inFlight -= 1;
    return workspaceRow();
  };
  const gate = new RequestGate();
  const { platform } = client(fetch, { gate, clock });
  let settled = 0;
  const calls = Array.from({ length: 2000 }, () =>
    platform.getWorkspace().finally(() => {
      settled += 1;
    }));
  // Each round answers the requests on the wire and lets the next ones in.
  for (let round = 0; round < 200 && settled < calls.length; round++) await clock.advance(5);
  const results = await Promise.all(calls);
  assertEquals(results.filter((r) => r.kind === "found").length, 2000);
  assertEquals(peak, MAX_ACTIVE_REQUESTS - gate.reservedForBackground);
  assertEquals(gate.peakActive, peak);
  assertEquals(gate.active + gate.waiting, 0);
});

Deno.test("platform: a heartbeat passes tool calls queued at the cap, and an aborted call leaves the line", async () => {
  const clock = new ManualClock();
  const order: string[] = [];
  const fetch: Fetch = async (req) => {
    order.push(new URL(req.url).pathname.split("/").pop() ?? "");
    await clock.sleep(5);
    return new URL(req.url).pathname.endsWith("heartbeat")
      ? Response.json({ status: "ok" })
      : workspaceRow();
  };
  const gate = new RequestGate(4, 1);
  const { platform } = client(fetch, { gate, clock });
  const calls = Array.from({ length: 5 }, () => platform.getWorkspace());
  const abort = new AbortController();
  const cancelled = platform.getWorkspace(undefined, { signal: abort.signal });
  assertEquals([gate.active, gate.waiting], [3, 3], "calls leave one slot to background work");
  const beat = platform.heartbeat({ uptimeSeconds: 1 });
  assertEquals(gate.active, 4, "the heartbeat went straight to the reserved slot");
  abort.abort(new Error("host cancelled"));
  assertEquals((await assertRejects(() => cancelled, Error)).message, "host cancelled");
  assertEquals(gate.waiting, 2);
  for (let round = 0; round < 10 && gate.active + gate.waiting > 0; round++) {
    await clock.advance(5);
  }
  await beat;
  assertEquals((await Promise.all(calls)).length, 5);
  assertEquals(order.filter((p) => p === "heartbeat").length, 1);
  assertEquals(order.length, 6, "the aborted call never reached the platform");
});

Deno.test("platform: the gate refuses settings that would leave no slot for calls or background", () => {
  for (const [max, reserved] of [[1, 0], [4, 0], [4, 4], [2.5, 1]] as const) {
    let err: unknown;
    try {
      new RequestGate(max, reserved);
    } catch (e) {
      err = e;
    }
    assert(err instanceof RangeError, `${max}/${reserved}: ${String(err)}`);
  }
});
