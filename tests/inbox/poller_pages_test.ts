/**
 * The poller under the feed's byte cap (issue 11 item 11): a page too large to read is asked
 * for again in smaller pages, and no message is lost or skipped on the way.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { createFakePlatform } from "../fakes/fake_platform.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { ManualClock } from "../fakes/manual_clock.ts";
import { withTempDir } from "../fakes/temp_dir.ts";
import { DurableInbox } from "../../lib/inbox/inbox.ts";
import { InboxPoller } from "../../lib/inbox/poller.ts";
import type { Fetch } from "../../lib/platform/http_client.ts";
import { clientAs } from "../fakes/platform_client.ts";

const ACTIVITY_PATH = /\/workspaces\/[^/]+\/activity$/;
const MiB = 1024 * 1024;

/** A body that never ends, 1 MiB of spaces at a time (valid JSON whitespace, forever). */
function endless(): Response {
  const chunk = new Uint8Array(MiB).fill(0x20);
  return new Response(
    new ReadableStream<Uint8Array>({ pull: (c) => c.enqueue(chunk) }, { highWaterMark: 0 }),
  );
}

Deno.test("inbox poller: pages too large to read are asked for again smaller, and every message arrives", async () => {
  await withTempDir(async (dir) => {
    const clock = new ManualClock();
    const platform = createFakePlatform({ clock });
    const me = platform.addWorkspace({ delivery_mode: "poll" });
    for (let i = 0; i < 40; i++) {
      platform.sendToInbox(me.id, { text: `m${i}` });
      await clock.advance(10);
    }
    const limitsAsked: number[] = [];
    // Pages of more than 31 rows are "too large": this platform floods them endlessly.
    const fetch: Fetch = (req) => {
      const url = new URL(req.url);
      if (req.method !== "GET" || !ACTIVITY_PATH.test(url.pathname)) return platform.fetch(req);
      const limit = Number(url.searchParams.get("limit"));
      limitsAsked.push(limit);
      return limit > 31 ? Promise.resolve(endless()) : platform.fetch(req);
    };
    const { log, text } = captureLog("info");
    const client = clientAs(me, { fetch, clock, log });
    const inbox = await DurableInbox.open({ dir, log, clock, workspaceId: me.id });
    try {
      const poller = new InboxPoller({ selfId: me.id, intervalMs: 5_000 }, {
        platform: client,
        inbox,
        clock,
        log,
      });
      for (let i = 0; i < 5 && inbox.peek(100).length < 40; i++) await poller.pollOnce();
      assertEquals(
        inbox.peek(100).map((m) => m.text),
        Array.from({ length: 40 }, (_, i) => `m${i}`),
      );
      assertEquals(limitsAsked.slice(0, 3), [500, 125, 31], "the page shrinks by four each time");
      assert(limitsAsked.every((l) => [500, 125, 31].includes(l)), String(limitsAsked));
      assertStringIncludes(text(), "inbox page over the size limit; asking for smaller pages");
    } finally {
      await inbox.close();
    }
  });
});
