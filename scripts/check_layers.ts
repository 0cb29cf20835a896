/**
 * The layer check `make lint` runs: reads the module graph Deno itself resolves
 * (`deno info --json` from main.ts, then from every lib/ file main.ts does not reach) and fails
 * when an import points the wrong way or closes a cycle. The rules (README "Development"):
 *
 *   cli → tools → workspace → inbox → platform → state → basics (lib/*.ts)
 *   mcp/ imports only basics; tools (and cli) may import mcp/ (the ToolSpec contract).
 *
 * Type-only imports count like any other: a type is part of the contract a layer depends on.
 * No cycle is allowed at all, within a folder either. lib/ imports nothing outside lib/ but
 * `node:` built-ins, deno.json (the manifest: version, permission set) and, type-only, npm
 * packages (shipped code loads no npm package).
 * A new folder under lib/ fails the check until it gets a row in LAYER_RULES. Start-up must
 * not load tools/, workspace/ or inbox/ statically from main.ts (DEFERRED_AT_STARTUP).
 * Usage: deno run --allow-read --allow-run scripts/check_layers.ts (exit 1 and one line per
 * problem on stderr when the tree breaks a rule).
 */
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** One import: `from` imports `to`. Local files are repo-relative ("lib/inbox/poller.ts"). */
export interface ImportEdge {
  from: string;
  to: string;
  /** True when the import exists for types only (`import type`), erased at run time. */
  typeOnly: boolean;
  /** True for `import()`: the module loads when that line runs, not with the importer. */
  isDynamic?: boolean;
}

/**
 * Folders start-up must not load before it answers initialize: main.ts reaches them only
 * through `import()` (README "Development", issue 9). Checked over the static code imports
 * from main.ts, so a basic or a cli module importing one of them counts too.
 */
export const DEFERRED_AT_STARTUP: readonly string[] = ["tools", "workspace", "inbox"];

/**
 * Which layers each layer may import (its own layer is always allowed; cycles are checked
 * apart). "basics" is lib/*.ts, "main" is main.ts.
 */
export const LAYER_RULES: Readonly<Record<string, readonly string[]>> = {
  main: ["cli", "tools", "mcp", "workspace", "inbox", "platform", "state", "basics"],
  cli: ["tools", "mcp", "workspace", "inbox", "platform", "state", "basics"],
  tools: ["mcp", "workspace", "inbox", "platform", "state", "basics"],
  workspace: ["inbox", "platform", "state", "basics"],
  inbox: ["platform", "state", "basics"],
  platform: ["state", "basics"],
  state: ["basics"],
  mcp: ["basics"],
  basics: [],
};

/**
 * The layer of a repo-relative path: "main" for main.ts, "basics" for lib/*.ts, the folder
 * name for lib/<folder>/…, and null for anything else (tests, bench, packages).
 */
export function layerOf(path: string): string | null {
  if (path === "main.ts") return "main";
  const parts = path.split("/");
  if (parts[0] !== "lib") return null;
  if (parts.length === 2) return "basics";
  return parts[1] ?? null;
}

/**
 * Every rule the edges break, one readable line each, sorted; empty when the graph is clean.
 * Edges from files outside main.ts and lib/ are ignored.
 */
export function checkLayers(edges: readonly ImportEdge[]): string[] {
  const problems = new Set<string>();
  const local: ImportEdge[] = [];
  for (const edge of edges) {
    const from = layerOf(edge.from);
    if (from === null) continue;
    if (!(from in LAYER_RULES)) {
      problems.add(
        `${edge.from}: folder lib/${from}/ has no layer rule: add it to LAYER_RULES in scripts/check_layers.ts and README's folder map`,
      );
      continue;
    }
    if (edge.to.startsWith("node:") || edge.to === "deno.json") continue;
    if (!edge.to.startsWith("lib/") && edge.to !== "main.ts") {
      if (edge.to.startsWith("npm:") && edge.typeOnly) continue;
      problems.add(
        `${edge.from} imports ${edge.to}: shipped code imports only lib/, node: built-ins, deno.json and npm types (import type)`,
      );
      continue;
    }
    local.push(edge);
    const to = layerOf(edge.to);
    if (to === null || to === from) continue;
    if (!(to in LAYER_RULES)) {
      problems.add(
        `${edge.to}: folder lib/${to}/ has no layer rule: add it to LAYER_RULES in scripts/check_layers.ts and README's folder map`,
      );
    } else if (!(LAYER_RULES[from] ?? []).includes(to)) {
      const allowed = (LAYER_RULES[from] ?? []).join(", ") || "only its own folder";
      problems.add(
        `${edge.from} imports ${edge.to}: ${from} must not import ${to} (${from} may import ${allowed})`,
      );
    }
  }
  for (const cycle of findCycles(local)) problems.add(`import cycle: ${cycle.join(" → ")}`);
  for (const problem of checkStartup(local)) problems.add(problem);
  return [...problems].sort();
}

/**
 * One line per module of a DEFERRED_AT_STARTUP folder that main.ts loads at start-up, i.e.
 * reaches through static code imports, naming the chain that pulls it in.
 */
export function checkStartup(edges: readonly ImportEdge[]): string[] {
  const next = new Map<string, string[]>();
  for (const edge of edges) {
    if (edge.typeOnly || edge.isDynamic === true) continue;
    next.set(edge.from, [...(next.get(edge.from) ?? []), edge.to]);
  }
  const cameFrom = new Map<string, string>([["main.ts", ""]]);
  const queue = ["main.ts"];
  const problems: string[] = [];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i] ?? "";
    for (const target of (next.get(node) ?? []).sort()) {
      if (cameFrom.has(target)) continue;
      cameFrom.set(target, node);
      const layer = layerOf(target);
      if (layer !== null && DEFERRED_AT_STARTUP.includes(layer)) {
        const chain = [target];
        for (let at = node; at !== ""; at = cameFrom.get(at) ?? "") chain.unshift(at);
        problems.push(
          `${chain.join(" → ")}: start-up loads lib/${layer}/ before it answers initialize; ` +
            "reach it from main.ts with import() (see serve in main.ts)",
        );
        continue; // one line per entry point into a deferred folder
      }
      queue.push(target);
    }
  }
  return problems;
}

/**
 * One cycle per strongly connected component of the graph (Tarjan), written as a path that
 * starts and ends at the component's first file in sort order: ["a.ts", "b.ts", "a.ts"].
 */
export function findCycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) {
    next.set(from, [...(next.get(from) ?? []), to]);
    if (!next.has(to)) next.set(to, []);
  }
  for (const targets of next.values()) targets.sort();
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  // Iterative Tarjan: a deep import chain must not overflow the call stack.
  for (const start of [...next.keys()].sort()) {
    if (index.has(start)) continue;
    const work: { node: string; child: number }[] = [{ node: start, child: 0 }];
    index.set(start, index.size);
    low.set(start, index.get(start) ?? 0);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      if (frame === undefined) break;
      const targets = next.get(frame.node) ?? [];
      const target = targets[frame.child];
      if (target !== undefined) {
        frame.child++;
        if (!index.has(target)) {
          index.set(target, index.size);
          low.set(target, index.get(target) ?? 0);
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, child: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node) ?? 0, index.get(target) ?? 0));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) {
        low.set(parent.node, Math.min(low.get(parent.node) ?? 0, low.get(frame.node) ?? 0));
      }
      if (low.get(frame.node) !== index.get(frame.node)) continue;
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop();
        if (member === undefined) break;
        onStack.delete(member);
        component.push(member);
      } while (member !== frame.node);
      const selfLoop = component.length === 1 && targets.includes(frame.node);
      if (component.length > 1 || selfLoop) components.push(component.sort());
    }
  }
  return components.map((component) => cyclePath(component, next)).sort();
}

/** The shortest path from the component's first file back to itself (breadth first). */
function cyclePath(component: string[], next: Map<string, string[]>): string[] {
  const members = new Set(component);
  const start = component[0] ?? "";
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i] ?? "";
    for (const target of next.get(node) ?? []) {
      if (!members.has(target)) continue;
      if (target === start) {
        const path = [start];
        for (let at = node; at !== start; at = cameFrom.get(at) ?? start) path.splice(1, 0, at);
        path.push(start);
        return path;
      }
      if (cameFrom.has(target)) continue;
      cameFrom.set(target, node);
      queue.push(target);
    }
  }
  return [...component, start];
}

/**
 * The import edges of one `deno info --json` answer: code and type imports of every local
 * module, with file URLs made relative to `rootDir`. Anything not shaped like Deno's output
 * is skipped (the check then sees fewer edges, never crashes on a new field).
 */
export function edgesFromDenoInfo(info: unknown, rootDir: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  if (!isObject(info) || !Array.isArray(info.modules)) return edges;
  for (const module of info.modules) {
    if (!isObject(module) || typeof module.specifier !== "string") continue;
    if (!module.specifier.startsWith("file:")) continue;
    const from = toRepoPath(module.specifier, rootDir);
    if (!Array.isArray(module.dependencies)) continue;
    for (const dep of module.dependencies) {
      if (!isObject(dep)) continue;
      const code = resolvedOf(dep.code);
      const type = resolvedOf(dep.type);
      const target = code ?? type ?? (typeof dep.specifier === "string" ? dep.specifier : null);
      if (target === null) continue;
      edges.push({
        from,
        to: toRepoPath(target, rootDir),
        typeOnly: code === null,
        ...(dep.isDynamic === true ? { isDynamic: true } : {}),
      });
    }
  }
  return edges;
}

function resolvedOf(value: unknown): string | null {
  return isObject(value) && typeof value.specifier === "string" ? value.specifier : null;
}

function toRepoPath(specifier: string, rootDir: string): string {
  if (!specifier.startsWith("file:")) return specifier;
  return relative(rootDir, fileURLToPath(specifier)).split("\\").join("/");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** How the real check reaches the outside world (tests pass fakes). */
export interface GraphDeps {
  /** `deno info --json <file>` run in the repo root: its parsed stdout. */
  denoInfo(file: string): Promise<unknown>;
  /** Every .ts file under lib/, repo-relative. */
  listLibFiles(): Promise<string[]>;
}

/**
 * The import edges of main.ts and every lib/ file: one `deno info` from main.ts, then one from
 * each lib/ file that no earlier answer covered (a module only a test uses still obeys the rules).
 */
export async function readGraph(rootDir: string, deps: GraphDeps): Promise<ImportEdge[]> {
  const edges: ImportEdge[] = [];
  const seen = new Set<string>();
  const add = async (file: string) => {
    const info = await deps.denoInfo(file);
    for (const edge of edgesFromDenoInfo(info, rootDir)) edges.push(edge);
    if (isObject(info) && Array.isArray(info.modules)) {
      for (const module of info.modules) {
        if (isObject(module) && typeof module.specifier === "string") {
          seen.add(toRepoPath(module.specifier, rootDir));
        }
      }
    }
  };
  await add("main.ts");
  for (const file of (await deps.listLibFiles()).sort()) {
    if (!seen.has(file)) await add(file);
  }
  return edges;
}

/** The real deps: Deno's own binary for `deno info`, the file system for lib/. */
export function realGraphDeps(rootDir: string): GraphDeps {
  return {
    async denoInfo(file) {
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["info", "--json", file],
        cwd: rootDir,
        stdout: "piped",
        stderr: "piped",
      }).output();
      if (!output.success) {
        throw new Error(
          `Cannot read the module graph of ${file}: deno info failed: ${
            new TextDecoder().decode(output.stderr).trim()
          }`,
        );
      }
      return JSON.parse(new TextDecoder().decode(output.stdout));
    },
    async listLibFiles() {
      const files: string[] = [];
      const walk = async (dir: string) => {
        for await (const entry of Deno.readDir(join(rootDir, dir))) {
          const path = `${dir}/${entry.name}`;
          if (entry.isDirectory) await walk(path);
          else if (entry.isFile && path.endsWith(".ts")) files.push(path);
        }
      };
      await walk("lib");
      return files;
    },
  };
}

if (import.meta.main) {
  const rootDir = fileURLToPath(new URL("../", import.meta.url));
  const problems = checkLayers(await readGraph(rootDir, realGraphDeps(rootDir)));
  const encoder = new TextEncoder();
  for (const problem of problems) Deno.stderr.writeSync(encoder.encode(`layers: ${problem}\n`));
  if (problems.length > 0) {
    Deno.stderr.writeSync(
      encoder.encode(
        `layers: ${problems.length} problem(s); the rules are in scripts/check_layers.ts and README "Development"\n`,
      ),
    );
    Deno.exit(1);
  }
}
