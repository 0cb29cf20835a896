/** Recall on a memory-v2 platform (platform/memory_v2.ts). */
import { assertEquals } from "../assert.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { ManualClock } from "../fakes/manual_clock.ts";
import { PlatformHttp } from "../../lib/platform/http.ts";
import { recallMemories } from "../../lib/platform/memory_v2.ts";

const WORKSPACE = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";

Deno.test("memory v2: recall lists memories newest first by instant, whatever the timestamps' fraction or zone", async () => {
  // Go trims trailing zeros from the fraction and may write an offset: as text, "…00Z" sorts
  // after "…00.5Z" and "12:00:01+02:00" after "10:30:00Z", though both are earlier.
  const memories = [
    { id: "a", content: "whole second", created_at: "2026-05-01T10:00:00Z" },
    { id: "b", content: "half past", created_at: "2026-05-01T10:00:00.5Z" },
    { id: "c", content: "offset", created_at: "2026-05-01T12:00:01+02:00" },
    { id: "d", content: "latest", created_at: "2026-05-01T10:30:00Z" },
  ];
  const fetch = (req: Request) => {
    const path = new URL(req.url).pathname;
    const body = path.endsWith("/v2/namespaces")
      ? { readable: [{ name: `workspace:${WORKSPACE}`, kind: "workspace" }] }
      : { memories };
    return Promise.resolve(Response.json(body));
  };
  const { log } = captureLog("debug");
  const http = new PlatformHttp(
    { platformUrl: "https://platform.test", workspaceId: WORKSPACE, token: "tok-0123456789" },
    { fetch, clock: new ManualClock(), log },
  );
  const { rows, source } = await recallMemories(http, { query: "" });
  assertEquals(source, "v2");
  assertEquals(rows.map((r) => r.id), ["d", "c", "b", "a"]);
});
