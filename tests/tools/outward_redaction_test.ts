/**
 * Issue 10 item 7: every outward text passes the one redaction step, tool results included.
 */
import { assert, assertStringIncludes } from "../assert.ts";
import { withToolRig } from "../fakes/tool_harness.ts";

Deno.test("tools: an error body that echoes the request headers never puts the token in the result", async () => {
  await withToolRig(async (rig) => {
    const echoed = JSON.stringify({ authorization: `Bearer ${rig.me.token}` });
    rig.platform.failNext("POST /workspaces/:id/memories", {
      status: 500,
      body: { error: `upstream refused ${echoed}` },
    });
    const result = await rig.call("commit_memory", { content: "the build uses deno" });
    assert(result.isError);
    assertStringIncludes(result.text, "[redacted]");
    assert(!result.text.includes(rig.me.token), result.text);
    assert(!rig.logText().includes(rig.me.token));
  });
});
