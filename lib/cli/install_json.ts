/**
 * The JSON side of `install`: put one server under `mcpServers` in a host's JSON config
 * (Claude Code's ~/.claude.json or .mcp.json, Cursor's mcp.json), keeping every other key and
 * their order. The file is written back with its own indentation and final newline; when that
 * round trip would change its layout (hand-formatted JSON), the caller is told so. A file that
 * is not a JSON object, or whose `mcpServers` is not an object, is refused with a reason.
 */
import { isRecord } from "../json_object.ts";

/** The edit, or why the file cannot be edited. `existing` is the entry found under `name`. */
export type JsonServersEdit =
  | { ok: true; text: string; existing: unknown; isLayoutKept: boolean }
  | { ok: false; reason: string };

/**
 * Sets `mcpServers[name] = entry` in `text` (null: the file does not exist yet, so a new one
 * holding only that is made). Pure.
 */
export function editJsonServers(
  text: string | null,
  name: string,
  entry: Record<string, unknown>,
): JsonServersEdit {
  if (text === null || text.trim() === "") {
    return {
      ok: true,
      text: JSON.stringify({ mcpServers: { [name]: entry } }, null, 2) + "\n",
      existing: undefined,
      isLayoutKept: true,
    };
  }
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    return { ok: false, reason: `it is not valid JSON (${err.message})` };
  }
  if (!isRecord(root)) return { ok: false, reason: "it is JSON, but not an object at the top" };
  const servers = root.mcpServers ?? {};
  if (!isRecord(servers)) {
    return { ok: false, reason: "its mcpServers is not an object" };
  }
  const indent = detectIndent(text);
  const newline = text.endsWith("\n") ? "\n" : "";
  const isLayoutKept = JSON.stringify(root, null, indent) + newline === text;
  const existing = servers[name];
  const next = { ...root, mcpServers: { ...servers, [name]: entry } };
  return {
    ok: true,
    text: JSON.stringify(next, null, indent) + newline,
    existing,
    isLayoutKept,
  };
}

/** The indentation of the first indented line (spaces or a tab); 2 spaces by default. */
function detectIndent(text: string): string | number {
  const match = /\n([ \t]+)\S/.exec(text);
  if (match === null) return text.includes("\n") ? 2 : 0;
  return match[1] ?? 2;
}
