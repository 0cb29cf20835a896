/** The event stream's own failures (platform/event_stream.ts). */
import { assert, assertRejects, assertStringIncludes } from "../assert.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { ManualClock } from "../fakes/manual_clock.ts";
import { PlatformError } from "../../lib/errors.ts";
import { PlatformHttp } from "../../lib/platform/http.ts";
import { openEventStream } from "../../lib/platform/event_stream.ts";
import { codePointLength } from "../../lib/text.ts";

const WORKSPACE = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";

Deno.test("event stream: a broken connection is reported with a short detail free of terminal escapes", async () => {
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.error(new Error(`reset\u001b]0;owned\u0007 ${"x".repeat(5000)}`));
    },
  });
  const fetch = () =>
    Promise.resolve(
      new Response(body, { headers: { "content-type": "text/event-stream" } }),
    );
  const { log } = captureLog("debug");
  const http = new PlatformHttp(
    { platformUrl: "https://platform.test", workspaceId: WORKSPACE, token: "tok-0123456789" },
    { fetch, clock: new ManualClock(), log },
  );
  const abort = new AbortController();
  const opened = await openEventStream(http, { signal: abort.signal });
  assert(opened.kind === "open");
  const err = await assertRejects(() => opened.stream.next(), PlatformError);
  assert(!err.detail.includes("\u001b") && !err.detail.includes("owned"), err.detail);
  assert(codePointLength(err.detail) <= 200, `${codePointLength(err.detail)} code points`);
  opened.stream.close();
});

Deno.test("event stream: a proxy page answering 200 is refused with its Content-Type cut short", async () => {
  const type = `text/html; x=${"y".repeat(5000)}`;
  const fetch = () =>
    Promise.resolve(new Response("<html>", { headers: { "content-type": type } }));
  const { log } = captureLog("debug");
  const http = new PlatformHttp(
    { platformUrl: "https://platform.test", workspaceId: WORKSPACE, token: "tok-0123456789" },
    { fetch, clock: new ManualClock(), log },
  );
  const opened = await openEventStream(http, { signal: new AbortController().signal });
  assert(opened.kind === "refused");
  assertStringIncludes(opened.error.detail, "not an event stream (Content-Type text/html");
  assert(codePointLength(opened.error.detail) <= 200, `${codePointLength(opened.error.detail)}`);
});
