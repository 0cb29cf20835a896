/** Issue 10 item 6: no request header value ever goes into an error text. */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { ManualClock } from "../fakes/manual_clock.ts";
import { PlatformError } from "../../lib/errors.ts";
import { PlatformHttp } from "../../lib/platform/http.ts";
import { platformRoute } from "../../lib/platform/route.ts";

const WORKSPACE = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
const SECRET_PART = "abcdefghijklmnopqrstuvwxyz0123456789";

function http(token: string, fetch: (req: Request) => Promise<Response>) {
  const { log, text } = captureLog("debug");
  const core = new PlatformHttp(
    { platformUrl: "https://platform.test", workspaceId: WORKSPACE, token },
    { fetch, clock: new ManualClock(), log },
  );
  return { core, text };
}

Deno.test("http: a token Deno refuses in a header fails without quoting it and blames the token", async () => {
  let calls = 0;
  const { core, text } = http(`${SECRET_PART}\n${SECRET_PART}`, () => {
    calls++;
    return Promise.resolve(new Response("{}"));
  });
  const err = await assertRejects(
    () => core.request({ route: platformRoute("GET /x"), timeoutMs: 1000 }),
    PlatformError,
  );
  assertEquals(calls, 0);
  assert(err instanceof PlatformError);
  assert(!err.message.includes(SECRET_PART), err.message);
  assert(!String(err.cause ?? "").includes(SECRET_PART));
  assertStringIncludes(err.next, "token");
  assert(!err.next.includes("PLATFORM_URL"));
  assert(!text().includes(SECRET_PART));
});

Deno.test("http: a fetch error that quotes the Authorization header is scrubbed", async () => {
  const token = `tok-${SECRET_PART}`;
  const { core } = http(token, (req) => {
    throw new TypeError(`invalid header: ${req.headers.get("authorization")}`);
  });
  const err = await assertRejects(
    () => core.request({ route: platformRoute("GET /x"), timeoutMs: 1000 }),
    PlatformError,
  );
  assert(!err.message.includes(SECRET_PART), err.message);
  assertStringIncludes(err.message, "[header value]");
  assert(err.cause instanceof Error && !err.cause.message.includes(SECRET_PART));
});
