/**
 * The minimal TOML edit `install codex` makes: only the named table and its sub-tables change,
 * however they are spelled or spread, and every other byte (comments, CRLF) stays.
 */
import { parse as parseToml } from "smol-toml";
import { assert, assertEquals } from "../assert.ts";
import { replaceTomlTable, scanTomlTable } from "../../lib/cli/install_toml.ts";

const PATH = ["mcp_servers", "molecule-x"];
const TABLE = '[mcp_servers.molecule-x]\ncommand = "new"\n';

function edit(text: string): string {
  const scan = scanTomlTable(text, PATH);
  if (!scan.ok) throw new Error(scan.reason);
  return replaceTomlTable(scan, TABLE);
}

Deno.test("install toml: a quoted header and a scattered sub-table are both replaced", () => {
  const text = [
    "# top",
    '[mcp_servers."molecule-x"]',
    'command = "old"',
    "",
    "[other]",
    "a = 1 # keep",
    "",
    "[ mcp_servers . 'molecule-x' . env ]",
    'K = "v"',
    "",
    "[last]",
    "b = 2",
    "",
  ].join("\n");
  const out = edit(text);
  const parsed = JSON.parse(JSON.stringify(parseToml(out)));
  assertEquals(parsed, {
    mcp_servers: { "molecule-x": { command: "new" } },
    other: { a: 1 },
    last: { b: 2 },
  });
  assert(out.startsWith("# top\n[mcp_servers.molecule-x]\n"), out);
  assert(out.includes("a = 1 # keep"), "comments stay");
});

Deno.test("install toml: CRLF files keep CRLF, and an absent table is appended", () => {
  const text = 'model = "m"\r\n\r\n[tools]\r\nweb_search = true\r\n';
  const out = edit(text);
  assert(out.startsWith(text.trimEnd()), out);
  assert(!/[^\r]\n/.test(out), "every line ends with CRLF");
  assertEquals(JSON.parse(JSON.stringify(parseToml(out))).mcp_servers, {
    "molecule-x": { command: "new" },
  });
});

Deno.test("install toml: a header look-alike inside a multi-line string is not a table", () => {
  const text = 'notes = """\n[mcp_servers.molecule-x]\n"""\n';
  const scan = scanTomlTable(text, PATH);
  assert(scan.ok);
  assertEquals(scan.blocks, []);
});

Deno.test("install toml: forms it cannot edit safely are refused with the line", () => {
  for (
    const [text, line] of [
      ['[mcp_servers]\nmolecule-x = { command = "y" }\n', 2],
      ['mcp_servers.molecule-x.command = "y"\n', 1],
      ['s = """\nnever closed\n', 0],
      ["[mcp_servers.molecule-x\n", 1],
    ] as const
  ) {
    const scan = scanTomlTable(text, PATH);
    assert(!scan.ok, text);
    if (line > 0) assert(scan.reason.startsWith(`line ${line}`), scan.reason);
  }
});
