/**
 * `make demo` as a newcomer sees it: the walkthrough runs end to end against the local
 * simulator and the real program (spawned with the shipped permission set), prints every step
 * in order, and leaves nothing behind.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { DEMO_REPLY, DEMO_STEPS, DEMO_USER_MESSAGE, runDemo } from "../../demo/demo.ts";

Deno.test("demo: walks through register, push, wait, reply, pop and an empty peek, then cleans up", async () => {
  const chunks: string[] = [];
  const result = await runDemo({ write: (text) => chunks.push(text) });
  const text = chunks.join("");

  let at = 0;
  for (const heading of DEMO_STEPS) {
    const found = text.indexOf(`\n${heading}\n`, at);
    assert(found >= 0, `step heading missing or out of order: ${heading}\n--- output ---\n${text}`);
    at = found;
  }
  assertStringIncludes(text, '"delivery_mode": "poll"');
  assertStringIncludes(text, "← notifications/claude/channel");
  assertStringIncludes(text, `> ${DEMO_USER_MESSAGE}`);
  assertStringIncludes(text, `"message": "${DEMO_REPLY}"`);
  assertStringIncludes(text, '"removed": true');
  assertStringIncludes(text, "← []");
  assertEquals(result.exitCode, 0);
  const isStateDirGone = await Deno.stat(result.stateDir).then(() => false, () => true);
  assert(isStateDirGone, `state directory left behind: ${result.stateDir}`);
});
