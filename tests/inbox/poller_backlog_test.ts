/**
 * The poller on a first-start backlog much larger than the inbox's byte budget (issue 10 item 5:
 * "a first-start backlog of more than ~512 MB … nothing is ever delivered"). Small limits stand
 * in for the real ones: pages of 5 rows, a budget of a few messages. Every row arrives exactly
 * once and in order, the backlog walk never holds more than two pages, and a crash at any
 * request of the walk or of the forward read after it loses and repeats nothing.
 */
import { assert, assertEquals } from "../assert.ts";
import { DurableInbox } from "../../lib/inbox/inbox.ts";
import { InboxPoller } from "../../lib/inbox/poller.ts";
import type { Fetch } from "../../lib/platform/http_client.ts";
import { createFakePlatform, type PlatformVersion } from "../fakes/fake_platform.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { ManualClock } from "../fakes/manual_clock.ts";
import { withTempDir } from "../fakes/temp_dir.ts";
import { clientAs } from "../fakes/platform_client.ts";

const ACTIVITY_PATH = /\/workspaces\/[^/]+\/activity$/;
const PAGE_LIMIT = 5;
const ROWS = 60;
const TEXT_BYTES = 2_000;
/** Room for about six messages at a time: the backlog is ten times the budget. */
const BYTE_BUDGET = 6 * (TEXT_BYTES + 400);
const INTERVAL_MS = 5_000;

interface BacklogRun {
  /** Message labels ("m00"…) in the order the agent popped them. */
  delivered: string[];
  expected: string[];
  peakRows: number;
  activityRequests: number;
}

/**
 * Fills the platform with ROWS messages (groups of three sharing one timestamp, so ties cross
 * page boundaries), then starts a poller on an empty state directory and pops every message
 * as it arrives. `crashAt`: the n-th activity request fails and the process "dies" (inbox
 * closed and opened again, a new poller) before polling on.
 */
async function runBacklog(
  opts: { version: PlatformVersion; rows?: number; crashAt?: number },
): Promise<BacklogRun> {
  let result: BacklogRun | undefined;
  await withTempDir(async (dir) => {
    const clock = new ManualClock();
    const platform = createFakePlatform({ clock, version: opts.version });
    const me = platform.addWorkspace({ delivery_mode: "poll" });
    const rows = opts.rows ?? ROWS;
    const expected: string[] = [];
    for (let i = 0; i < rows; i++) {
      if (i % 3 === 0) await clock.advance(1_000);
      const at = new Date(clock.now()).toISOString().replace("Z", "123Z");
      const text = `m${String(i).padStart(2, "0")} `.padEnd(TEXT_BYTES, "x");
      platform.sendToInbox(me.id, { text, createdAt: at });
      expected.push(text.slice(0, 3));
    }
    let activityRequests = 0;
    let isCrashing = false;
    const fetch: Fetch = (req) => {
      const url = new URL(req.url);
      if (req.method === "GET" && ACTIVITY_PATH.test(url.pathname)) {
        activityRequests++;
        if (activityRequests === opts.crashAt) {
          isCrashing = true;
          return Promise.resolve(new Response("boom", { status: 500 }));
        }
      }
      return platform.fetch(req);
    };
    const { log } = captureLog("info");
    const client = clientAs(me, { fetch, clock, log });
    const open = async () => {
      const inbox = await DurableInbox.open({
        dir,
        log,
        clock,
        workspaceId: me.id,
        byteBudget: BYTE_BUDGET,
      });
      const poller = new InboxPoller(
        { selfId: me.id, intervalMs: INTERVAL_MS, pageLimit: PAGE_LIMIT },
        { platform: client, inbox, clock, log },
      );
      return { inbox, poller };
    };
    let { inbox, poller } = await open();
    let peakRows = 0;
    const delivered: string[] = [];
    try {
      for (let round = 0; round < 200 && delivered.length < rows; round++) {
        for (let step = 0; step < 20; step++) {
          const pauseMs = await poller.pollOnce();
          if (isCrashing) {
            isCrashing = false;
            peakRows = Math.max(peakRows, poller.backlogPeakRows);
            await inbox.close();
            ({ inbox, poller } = await open());
            continue;
          }
          if (pauseMs > 0) break;
        }
        for (const m of inbox.peek(100)) {
          delivered.push(m.text.slice(0, 3));
          assert(await inbox.pop(m.activity_id));
        }
      }
      peakRows = Math.max(peakRows, poller.backlogPeakRows);
    } finally {
      await inbox.close();
    }
    result = { delivered, expected, peakRows, activityRequests };
  });
  if (result === undefined) throw new Error("the backlog run did not finish");
  return result;
}

/**
 * Delivery order: by created_at; within one timestamp by seq where the platform has it, else in
 * no set order (contract §5: ids are random). So without seq each group of three is compared as
 * a set.
 */
function inDeliveryOrder(labels: readonly string[], hasSeq: boolean): string[][] {
  const groups: string[][] = [];
  labels.forEach((label, i) => {
    if (i % 3 === 0) groups.push([]);
    groups.at(-1)?.push(label);
  });
  return hasSeq ? groups : groups.map((g) => [...g].sort());
}

for (const version of ["2026-05", "latest"] as const) {
  Deno.test(`inbox poller: a first-start backlog ten times the byte budget arrives whole, once and in order (${version})`, async () => {
    const run = await runBacklog({ version });
    assertEquals(run.delivered.length, ROWS);
    const hasSeq = version === "latest";
    assertEquals(inDeliveryOrder(run.delivered, hasSeq), inDeliveryOrder(run.expected, hasSeq));
    assert(run.peakRows > 0, "the backlog was walked");
    assert(
      run.peakRows <= 2 * PAGE_LIMIT,
      `the walk held ${run.peakRows} rows at once; at most two pages (${2 * PAGE_LIMIT}) allowed`,
    );
  });
}

Deno.test("inbox poller: a crash at any request of a large first-start backlog loses and repeats nothing", async () => {
  const rows = 24; // five pages: enough for a walk, few enough to crash at every request
  const clean = await runBacklog({ version: "2026-05", rows });
  // Every request of the run: the backward walk, the forward read after it, the polls later.
  for (let crashAt = 1; crashAt <= clean.activityRequests; crashAt++) {
    const run = await runBacklog({ version: "2026-05", rows, crashAt });
    assertEquals(
      inDeliveryOrder(run.delivered, false),
      inDeliveryOrder(run.expected, false),
      `crash at activity request ${crashAt}`,
    );
    assert(run.peakRows <= 2 * PAGE_LIMIT, `crash at ${crashAt}: held ${run.peakRows} rows`);
  }
});
