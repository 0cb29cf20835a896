/**
 * The layer check of `make lint` (scripts/check_layers.ts): synthetic graphs that break each
 * rule are reported, in words that name both files, and the real tree passes.
 */
import { assertEquals } from "../assert.ts";
import { REPO_ROOT } from "../fakes/spawn.ts";
import {
  checkLayers,
  edgesFromDenoInfo,
  type ImportEdge,
  readGraph,
  realGraphDeps,
} from "../../scripts/check_layers.ts";

function edge(from: string, to: string, typeOnly = false): ImportEdge {
  return { from, to, typeOnly };
}

/** An `import()` edge. */
function dynamicEdge(from: string, to: string): ImportEdge {
  return { from, to, typeOnly: false, isDynamic: true };
}

/** A clean graph every test starts from: one file per layer, imports pointing down. */
const CLEAN: ImportEdge[] = [
  edge("main.ts", "lib/cli/args.ts"),
  dynamicEdge("main.ts", "lib/tools/index.ts"),
  edge("main.ts", "lib/tools/context.ts", true),
  edge("lib/tools/index.ts", "lib/mcp/tool_spec.ts", true),
  edge("lib/tools/index.ts", "lib/workspace/link.ts"),
  edge("lib/workspace/link.ts", "lib/inbox/inbox.ts"),
  edge("lib/inbox/inbox.ts", "lib/platform/rows.ts", true),
  edge("lib/platform/http.ts", "lib/state/token.ts"),
  edge("lib/state/token.ts", "lib/log.ts"),
  edge("lib/mcp/server.ts", "lib/json_object.ts"),
  edge("lib/log.ts", "lib/clock.ts", true),
  edge("lib/cli/args.ts", "node:util"),
  edge("lib/version.ts", "deno.json"),
];

Deno.test("layers: a graph whose imports all point down passes", () => {
  assertEquals(checkLayers(CLEAN), []);
});

Deno.test("layers: a wrong-way import and a cycle are both reported, naming the files", () => {
  const problems = checkLayers([
    ...CLEAN,
    edge("lib/platform/rows.ts", "lib/inbox/message.ts"), // platform → inbox: wrong way
    edge("lib/inbox/journal.ts", "lib/inbox/cursor.ts"),
    edge("lib/inbox/cursor.ts", "lib/inbox/seen.ts"),
    edge("lib/inbox/seen.ts", "lib/inbox/journal.ts"), // journal → cursor → seen → journal
  ]);
  assertEquals(problems, [
    "import cycle: lib/inbox/cursor.ts → lib/inbox/seen.ts → lib/inbox/journal.ts → lib/inbox/cursor.ts",
    "lib/platform/rows.ts imports lib/inbox/message.ts: platform must not import inbox (platform may import state, basics)",
  ]);
});

Deno.test("layers: mcp/ importing a tool, even for a type only, is refused", () => {
  assertEquals(checkLayers([...CLEAN, edge("lib/mcp/server.ts", "lib/tools/context.ts", true)]), [
    "lib/mcp/server.ts imports lib/tools/context.ts: mcp must not import tools (mcp may import basics)",
  ]);
});

Deno.test("layers: a basic importing a folder is refused", () => {
  assertEquals(checkLayers([...CLEAN, edge("lib/config.ts", "lib/state/token.ts")]), [
    "lib/config.ts imports lib/state/token.ts: basics must not import state (basics may import only its own folder)",
  ]);
});

Deno.test("layers: a two-file cycle across allowed layers and a self-import are cycles", () => {
  const problems = checkLayers([
    edge("lib/tools/a.ts", "lib/tools/b.ts"),
    edge("lib/tools/b.ts", "lib/tools/a.ts", true),
    edge("lib/state/x.ts", "lib/state/x.ts"),
  ]);
  assertEquals(problems, [
    "import cycle: lib/state/x.ts → lib/state/x.ts",
    "import cycle: lib/tools/a.ts → lib/tools/b.ts → lib/tools/a.ts",
  ]);
});

Deno.test("layers: a new folder without a rule fails until it gets one", () => {
  assertEquals(checkLayers([edge("lib/events/stream.ts", "lib/log.ts")]), [
    "lib/events/stream.ts: folder lib/events/ has no layer rule: add it to LAYER_RULES in scripts/check_layers.ts and README's folder map",
  ]);
});

Deno.test("layers: lib/ loading an npm package or a test file is refused; npm types are fine", () => {
  const problems = checkLayers([
    edge("lib/mcp/stdio.ts", "npm:/@modelcontextprotocol/sdk@1.32.2/types.js", true),
    edge("lib/mcp/server.ts", "npm:/@modelcontextprotocol/sdk@1.32.2/server.js"),
    edge("lib/inbox/inbox.ts", "tests/fakes/manual_clock.ts"),
  ]);
  assertEquals(problems, [
    "lib/inbox/inbox.ts imports tests/fakes/manual_clock.ts: shipped code imports only lib/, node: built-ins, deno.json and npm types (import type)",
    "lib/mcp/server.ts imports npm:/@modelcontextprotocol/sdk@1.32.2/server.js: shipped code imports only lib/, node: built-ins, deno.json and npm types (import type)",
  ]);
});

Deno.test("layers: deno info's code and type imports both become edges", () => {
  const info = {
    modules: [
      {
        specifier: "file:///repo/lib/inbox/poller.ts",
        dependencies: [
          { specifier: "./inbox.ts", code: { specifier: "file:///repo/lib/inbox/inbox.ts" } },
          { specifier: "../log.ts", type: { specifier: "file:///repo/lib/log.ts" } },
          {
            specifier: "./journal.ts",
            code: { specifier: "file:///repo/lib/inbox/journal.ts" },
            type: { specifier: "file:///repo/lib/inbox/journal.ts" },
          },
          { specifier: "node:util", code: { specifier: "node:util" }, isDynamic: true },
        ],
      },
      { specifier: "node:util" },
      "not a module",
    ],
  };
  assertEquals(edgesFromDenoInfo(info, "/repo"), [
    edge("lib/inbox/poller.ts", "lib/inbox/inbox.ts"),
    edge("lib/inbox/poller.ts", "lib/log.ts", true),
    edge("lib/inbox/poller.ts", "lib/inbox/journal.ts"),
    { ...edge("lib/inbox/poller.ts", "node:util"), isDynamic: true },
  ]);
});

Deno.test("layers: a lib/ file main.ts does not reach is checked too", async () => {
  const asked: string[] = [];
  const graphs: Record<string, unknown> = {
    "main.ts": {
      modules: [
        { specifier: "file:///repo/main.ts", dependencies: [] },
        { specifier: "file:///repo/lib/log.ts", dependencies: [] },
        { specifier: "file:///repo/lib/inbox/inbox.ts", dependencies: [] },
      ],
    },
    "lib/platform/orphan.ts": {
      modules: [{
        specifier: "file:///repo/lib/platform/orphan.ts",
        dependencies: [{
          specifier: "../inbox/inbox.ts",
          code: { specifier: "file:///repo/lib/inbox/inbox.ts" },
        }],
      }, { specifier: "file:///repo/lib/inbox/inbox.ts", dependencies: [] }],
    },
  };
  const edges = await readGraph("/repo", {
    denoInfo(file) {
      asked.push(file);
      return Promise.resolve(graphs[file] ?? { modules: [] });
    },
    listLibFiles: () =>
      Promise.resolve(["lib/platform/orphan.ts", "lib/log.ts", "lib/inbox/inbox.ts"]),
  });
  assertEquals(asked, ["main.ts", "lib/platform/orphan.ts"]);
  assertEquals(checkLayers(edges), [
    "lib/platform/orphan.ts imports lib/inbox/inbox.ts: platform must not import inbox (platform may import state, basics)",
  ]);
});

Deno.test("layers: the real tree passes", async () => {
  const edges = await readGraph(REPO_ROOT, realGraphDeps(REPO_ROOT));
  assertEquals(checkLayers(edges), []);
  // The check saw the real graph, not an empty one.
  assertEquals(edges.some((e) => e.from === "lib/mcp/server.ts"), true);
  assertEquals(edges.some((e) => e.from === "lib/tools/index.ts"), true);
});

Deno.test("layers: start-up loading tools/, workspace/ or inbox/ statically is refused, naming the chain", () => {
  const problems = checkLayers([
    ...CLEAN,
    edge("main.ts", "lib/cli/doctor.ts"),
    edge("lib/cli/doctor.ts", "lib/workspace/link.ts"), // allowed for cli, but main loads it
    edge("lib/workspace/link.ts", "lib/inbox/inbox.ts"),
  ]);
  assertEquals(problems, [
    "main.ts → lib/cli/doctor.ts → lib/workspace/link.ts: start-up loads lib/workspace/ before it " +
    "answers initialize; reach it from main.ts with import() (see serve in main.ts)",
  ]);
});
