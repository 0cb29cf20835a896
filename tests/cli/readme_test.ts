/**
 * README and `--help` against the one source of each fact: ENV_VARS (lib/config.ts), the state
 * file names (state/state_files.ts and the inbox modules) and the exit-code table (errors.ts).
 * A variable, file or exit code added to the program but not to both texts fails here.
 */
import { assertEquals } from "../assert.ts";
import { usageText } from "../../lib/cli/help.ts";
import { ENV_VARS } from "../../lib/config.ts";
import { EXIT } from "../../lib/errors.ts";
import { STATE_FILES, WORKSPACE_STATE_FILES } from "../../lib/state/state_files.ts";
import { REPO_ROOT } from "../fakes/spawn.ts";

const README = await Deno.readTextFile(`${REPO_ROOT}README.md`);
const HELP = usageText("0.0.0");

/** The first-column names of the Markdown table under `## <heading>`. */
function readmeTable(heading: string): string[] {
  const start = README.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README has no "## ${heading}" section`);
  const next = README.indexOf("\n## ", start + 4);
  const section = README.slice(start, next < 0 ? undefined : next);
  return section.split("\n")
    .filter((line) => line.startsWith("| ") && !/^\|\s*-/.test(line))
    .slice(1) // the header row
    .flatMap((line) => (line.split("|")[1] ?? "").split(","))
    .map((cell) => cell.trim().replace(/^`|`$/g, ""));
}

/** The first-column names of the help section that starts with `title`. */
function helpSection(title: string, until: string): string[] {
  const start = HELP.indexOf(`\n${title}`);
  const end = until === "" ? HELP.length : HELP.indexOf(`\n${until}`, start + 1);
  if (start < 0 || end < 0) throw new Error(`help has no "${title}" section`);
  // The first column: text after the two-space indent, up to the next run of spaces; a cell
  // may name several variables ("MODEL, MODEL_PROVIDER").
  return HELP.slice(start, end).split("\n")
    .map((line) => /^ {2}([^\s,]+(?:, [^\s,]+)*)/.exec(line)?.[1])
    .filter((cell): cell is string => cell !== undefined)
    .flatMap((cell) => cell.split(", "));
}

const sorted = (names: Iterable<string>) => [...new Set(names)].sort();

Deno.test("readme: the environment table lists exactly the variables the program reads", () => {
  assertEquals(sorted(readmeTable("Environment")), sorted(ENV_VARS));
});

Deno.test("help: the environment sections list exactly the variables the program reads", () => {
  const names = [
    ...helpSection("Required environment:", "Optional environment:"),
    ...helpSection("Optional environment:", "State files"),
  ].filter((name) => /^[A-Z][A-Z0-9_]+$/.test(name));
  assertEquals(sorted(names), sorted(ENV_VARS));
});

Deno.test("readme and help: the state files are the same, and are the program's", () => {
  const files = sorted([
    ...Object.values(STATE_FILES),
    ...Object.values(WORKSPACE_STATE_FILES).map((base) => `${base}.<id>`),
  ]);
  assertEquals(sorted(readmeTable("State files")), files);
  const inHelp = helpSection("State files", "Exit codes:").filter((name) => name.startsWith("."));
  assertEquals(sorted(inHelp), files);
});

Deno.test("readme and help: the exit codes are the program's", () => {
  const codes = sorted(Object.values(EXIT).map(String));
  assertEquals(sorted(readmeTable("Exit codes")), codes);
  assertEquals(sorted(helpSection("Exit codes:", "").filter((c) => /^\d+$/.test(c))), codes);
});
