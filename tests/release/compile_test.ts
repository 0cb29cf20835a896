/**
 * `make compile` where the Deno runtime cannot be downloaded (as on our machines): it must stop
 * at once with a message that says why and how to build anyway, never hang or half-build.
 * The probe is pointed at a closed loopback port so the test sends nothing off this machine.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { REPO_ROOT } from "../fakes/spawn.ts";

async function compile(env: Record<string, string>) {
  const output = await new Deno.Command("bash", {
    args: ["release/compile.sh"],
    cwd: REPO_ROOT,
    env: { DENO: Deno.execPath(), DENORT_PROBE_URL: "http://127.0.0.1:9", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  return { code: output.code, text };
}

Deno.test("compile: an unreachable runtime host stops the build with the way out", async () => {
  const { code, text } = await compile({ TARGETS: "x86_64-unknown-linux-gnu" });
  assert(code !== 0, "the build fails");
  assertStringIncludes(text, "cannot be reached from this machine");
  assertStringIncludes(text, "DENORT_BIN=/path/to/denort make compile TARGETS=");
  assertStringIncludes(text, "release workflow");
});

Deno.test("compile: a DENORT_BIN that is not a runtime is refused before any build", async () => {
  const { code, text } = await compile({
    TARGETS: "x86_64-unknown-linux-gnu",
    DENORT_BIN: `${REPO_ROOT}/README.md`,
  });
  assertEquals(code, 1);
  assertStringIncludes(text, "is not an executable file");
});

Deno.test("compile: an unknown target is named with the list of valid ones", async () => {
  const { code, text } = await compile({ TARGETS: "x86_64-pc-windows-msvc" });
  assertEquals(code, 1);
  assertStringIncludes(text, 'unknown target "x86_64-pc-windows-msvc"');
  assertStringIncludes(text, "aarch64-apple-darwin");
});
