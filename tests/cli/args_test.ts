import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { parseCli } from "../../lib/cli/args.ts";
import { usageHint, usageText } from "../../lib/cli/help.ts";
import { ENV_VARS } from "../../lib/config.ts";

async function errorOf(args: string[]): Promise<string> {
  const parsed = await parseCli(args);
  if (!("error" in parsed)) throw new Error(`expected an error, got ${parsed.command}`);
  assert(!parsed.error.includes("\n"), "the error is one line");
  assertStringIncludes(parsed.error, "run `molecule-mcp --help`");
  return parsed.error;
}

Deno.test("cli: no arguments means serve", async () => {
  assertEquals(await parseCli([]), { command: "serve" });
});

Deno.test("cli: --help, -h and help ask for the usage", async () => {
  for (const args of [["--help"], ["-h"], ["help"], ["-h", "-V"], ["--version", "help"]]) {
    assertEquals(await parseCli(args), { command: "help" }, args.join(" "));
  }
});

Deno.test("cli: --version and -V ask for the version", async () => {
  assertEquals(await parseCli(["--version"]), { command: "version" });
  assertEquals(await parseCli(["-V"]), { command: "version" });
});

Deno.test("cli: an unknown flag is a one-line error naming it", async () => {
  assertMatch(await errorOf(["--verbose"]), /^Unknown option: --verbose /);
  assertMatch(await errorOf(["-x"]), /^Unknown option: -x /);
});

Deno.test("cli: an unknown or reserved subcommand is a one-line error naming it", async () => {
  assertMatch(await errorOf(["doctor", "now"]), /^Unexpected argument: now /);
  assertMatch(await errorOf(["serve"]), /^Unknown command: serve /);
  assertMatch(await errorOf(["help", "me"]), /^Unexpected argument: me /);
});

Deno.test("cli: a value given to a flag that takes none is refused", async () => {
  assertMatch(await errorOf(["--help=yes"]), /^Option --help takes no value: got --help=yes /);
});

Deno.test("cli: odd or very long arguments stay on one short line", async () => {
  assertStringIncludes(await errorOf(["do\nctor"]), '"do\\nctor"');
  const long = await errorOf([`--${"x".repeat(10_000)}`]);
  assertStringIncludes(long, `"--${"x".repeat(77)}…"`, "a pasted blob is cut");
  assert(long.length < 200, long);
});

Deno.test("help: the usage names every variable, where values come from, files and exit codes", () => {
  const text = usageText("9.9.9");
  assertStringIncludes(text, "molecule-mcp 9.9.9");
  for (const name of ENV_VARS) assertStringIncludes(text, name);
  assertStringIncludes(text, "Tokens tab");
  assertStringIncludes(text, "platform URL of your tenant");
  assertStringIncludes(text, "details show the ID");
  assertStringIncludes(text, ".platform_inbound_secret");
  assertStringIncludes(text, ".auth_token");
  assertStringIncludes(text, ".mcp_inbox_cursor");
  assertStringIncludes(text, ".mcp_inbox_journal");
  for (const code of ["0  ", "1  ", "2  ", "3  "]) assertStringIncludes(text, `\n  ${code}`);
  assertStringIncludes(text, "(default 5)");
  assertStringIncludes(text, "(default 20)");
  for (const line of text.split("\n")) assert(line.length <= 100, `too long: ${line}`);
});

Deno.test("help: the hint after problems points at --help", () => {
  assertStringIncludes(usageHint(), "molecule-mcp --help");
});

Deno.test("cli: doctor and install parse, with install's options checked", async () => {
  assertEquals(await parseCli(["doctor"]), { command: "doctor" });
  assertEquals(await parseCli(["install", "codex"]), {
    command: "install",
    host: "codex",
    scope: "user",
    isForced: false,
    isDryRun: false,
  });
  assertEquals(
    await parseCli(["install", "cursor", "--scope", "project", "--name=molecule-x", "--force"]),
    {
      command: "install",
      host: "cursor",
      scope: "project",
      isForced: true,
      isDryRun: false,
      name: "molecule-x",
    },
  );
  const dry = await parseCli(["install", "claude-code", "--dry-run"]);
  assert("command" in dry && dry.command === "install" && dry.isDryRun);
  assertMatch(await errorOf(["install"]), /^install needs a host: one of claude-code, cursor/);
  assertMatch(await errorOf(["install", "vim"]), /^Unknown host for install: vim/);
  assertMatch(await errorOf(["install", "codex", "--scope", "global"]), /--scope must be user/);
  assertMatch(await errorOf(["install", "codex", "--name"]), /^Option --name needs a value/);
  assertMatch(await errorOf(["doctor", "--force"]), /belongs to `molecule-mcp install`/);
});

Deno.test("cli: --http [HOST:]PORT serves over HTTP; it belongs to serving only", async () => {
  assertEquals(await parseCli(["--http", "8765"]), { command: "serve", http: "8765" });
  assertEquals(await parseCli(["--http=127.0.0.1:9000"]), {
    command: "serve",
    http: "127.0.0.1:9000",
  });
  assert("error" in await parseCli(["--http"]));
  assert("error" in await parseCli(["doctor", "--http", "8765"]));
  assert("error" in await parseCli(["install", "cursor", "--http", "8765"]));
});
