/** cli/install_program.ts: the command an `install` entry starts, compiled or from a checkout. */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { hostProgram } from "../../lib/cli/install_program.ts";

const CHECKOUT = "/home/ana/src/molecule mcp";

Deno.test("install: a compiled binary's entry starts the binary alone, without a note", () => {
  const program = hostProgram({
    isCompiled: true,
    execPath: "/usr/local/bin/molecule-mcp",
    mainPath: "/ignored/main.ts",
    v8Flags: "--lite-mode",
  });
  assertEquals(program, { command: "/usr/local/bin/molecule-mcp", args: [] });
});

Deno.test("install: from a checkout the entry starts the running deno on the absolute main.ts with the shipped flags, not make", () => {
  const program = hostProgram({
    isCompiled: false,
    execPath: `${CHECKOUT}/.tools/node_modules/deno/deno`,
    mainPath: `${CHECKOUT}/main.ts`,
    v8Flags: "--lite-mode",
  });
  assertEquals(program.command, `${CHECKOUT}/.tools/node_modules/deno/deno`);
  assertEquals(program.args, [
    "run",
    "-q",
    "--no-lock",
    "--config",
    `${CHECKOUT}/deno.json`,
    "-P=shipped",
    "--v8-flags=--lite-mode",
    `${CHECKOUT}/main.ts`,
  ]);
  assertStringIncludes(program.note ?? "", `run from the checkout ${CHECKOUT}:`);
  assertStringIncludes(program.note ?? "", "run install again if either moves");
});

Deno.test("install: a checkout without V8 flags in deno.json gets no empty --v8-flags= argument", () => {
  const program = hostProgram({
    isCompiled: false,
    execPath: "/usr/bin/deno",
    mainPath: "/src/mcp/main.ts",
    v8Flags: "",
  });
  assert(!program.args.some((arg) => arg.startsWith("--v8-flags")), program.args.join(" "));
  assertEquals(program.args.at(-1), "/src/mcp/main.ts");
});
