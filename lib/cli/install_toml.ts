/**
 * A careful, minimal edit of one table in a TOML file (Codex's config.toml): find the
 * `[mcp_servers.<name>]` table and its sub-tables, replace them with new text (or append the
 * text), and leave every other byte of the file as it was, comments and layout included. No
 * TOML library: shipped code imports nothing from npm, and the edit needs only the table
 * headers, read with the TOML 1.0 key grammar (bare, "basic" and 'literal' keys, dotted).
 * Anything this scanner cannot be sure of (a malformed header, an unterminated multi-line
 * string, the servers table written inline or with dotted keys) is refused with a reason, so
 * the caller leaves the file untouched.
 */
import { cutCodePoints } from "../text.ts";

/** What the scan found: where our tables are, or why the file cannot be edited safely. */
export type TomlTableScan =
  | {
    ok: true;
    /** The file's lines (without their line ends). */
    lines: string[];
    /** The file's line end: CRLF when it uses any, else LF. */
    eol: "\n" | "\r\n";
    /** [start, end) line ranges of the table and its sub-tables, in file order. */
    blocks: Array<[number, number]>;
  }
  | { ok: false; reason: string };

/**
 * Finds the table `path` (e.g. ["mcp_servers", "molecule-acme"]) and its sub-tables. A block
 * runs from its header to the next header of any other table; comment and blank lines right
 * before that next header stay with the next table.
 */
export function scanTomlTable(text: string, path: readonly string[]): TomlTableScan {
  const lines = text.split(/\r?\n/);
  const headers: Array<{ line: number; keys: string[] }> = [];
  let openString: '"""' | "'''" | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (openString !== null) {
      if (line.includes(openString)) openString = closesString(line, openString);
      continue;
    }
    const trimmed = line.trim();
    if (trimmed.startsWith("[")) {
      const keys = parseHeader(trimmed);
      if (keys === null) {
        const shown = cutCodePoints(trimmed, 60, "...");
        return {
          ok: false,
          reason: `line ${i + 1} is not a table header TOML allows: ${shown}`,
        };
      }
      headers.push({ line: i, keys });
      continue;
    }
    const opened = opensString(line);
    if (opened !== null) openString = opened;
    const inTable = headers.at(-1)?.keys ?? [];
    const refusal = inlineDefinition(trimmed, inTable, path);
    if (refusal !== null) return { ok: false, reason: `line ${i + 1}: ${refusal}` };
  }
  if (openString !== null) return { ok: false, reason: `a ${openString} string is never closed` };

  const blocks: Array<[number, number]> = [];
  for (let h = 0; h < headers.length; h++) {
    const header = headers[h];
    if (header === undefined || !startsWith(header.keys, path)) continue;
    const nextLine = headers[h + 1]?.line ?? lines.length;
    blocks.push([header.line, trailingCommentStart(lines, header.line + 1, nextLine)]);
  }
  return { ok: true, lines, blocks, eol: text.includes("\r\n") ? "\r\n" : "\n" };
}

/**
 * Returns the file's text with the table's blocks replaced by `table` (inserted where the
 * first block was), or `table` appended after one blank line when there was none. `table` is
 * complete TOML text ending with a newline. Every other line is kept byte for byte; the file's
 * line ends (LF or CRLF) are kept.
 */
export function replaceTomlTable(
  scan: Extract<TomlTableScan, { ok: true }>,
  table: string,
): string {
  const { lines, eol } = scan;
  const tableLines = table.replace(/\n$/, "").split("\n");
  const first = scan.blocks[0];
  if (first === undefined) {
    const body = [...lines];
    while (body.length > 0 && (body.at(-1) ?? "").trim() === "") body.pop();
    return [...body, ...(body.length === 0 ? [] : [""]), ...tableLines].join(eol) + eol;
  }
  const dropped = new Set<number>();
  for (const [start, end] of scan.blocks) for (let i = start; i < end; i++) dropped.add(i);
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (i === first[0]) {
      out.push(...tableLines);
      let next = i;
      while (next < lines.length && dropped.has(next)) next++;
      if (next < lines.length && (lines[next] ?? "").trim() !== "") out.push("");
    }
    if (!dropped.has(i)) out.push(lines[i] ?? "");
  }
  const text = out.join(eol);
  return text.endsWith(eol) ? text : text + eol;
}

/** The text of `path`'s blocks as they are now (for showing an existing entry). */
export function tomlBlocksText(scan: Extract<TomlTableScan, { ok: true }>): string {
  return scan.blocks.map(([start, end]) => scan.lines.slice(start, end).join("\n").trimEnd())
    .join("\n\n");
}

/** A TOML key: bare when it can be, else a basic string. */
export function tomlKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : tomlString(key);
}

/** A TOML basic string: JSON's escaping, plus DEL, which TOML also forbids raw. */
export function tomlString(value: string): string {
  return JSON.stringify(value).replace(/\x7f/g, "\\u007f");
}

/** Parses `[a.b."c"]` into ["a","b","c"]; null when it is not a valid standard-table header. */
function parseHeader(trimmed: string): string[] | null {
  if (trimmed.startsWith("[[")) {
    // An array of tables: never ours, but its keys still bound the table before it.
    const end = trimmed.lastIndexOf("]]");
    if (end < 0 || !isCommentOrEmpty(trimmed.slice(end + 2))) return null;
    return parseDottedKey(trimmed.slice(2, end));
  }
  const close = findHeaderClose(trimmed);
  if (close < 0 || !isCommentOrEmpty(trimmed.slice(close + 1))) return null;
  return parseDottedKey(trimmed.slice(1, close));
}

/** The index of the `]` that closes a header, skipping brackets inside quoted keys. */
function findHeaderClose(text: string): number {
  let quote: string | null = null;
  for (let i = 1; i < text.length; i++) {
    const ch = text[i];
    if (quote !== null) {
      if (ch === "\\" && quote === '"') i++;
      else if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === "]") return i;
  }
  return -1;
}

/** `a . "b.c" . 'd'` → ["a", "b.c", "d"]; null when malformed. */
function parseDottedKey(text: string): string[] | null {
  const keys: string[] = [];
  let i = 0;
  const skipSpace = () => {
    while (text[i] === " " || text[i] === "\t") i++;
  };
  for (;;) {
    skipSpace();
    const ch = text[i];
    if (ch === '"') {
      const end = closingQuote(text, i);
      if (end < 0) return null;
      try {
        const parsed: unknown = JSON.parse(text.slice(i, end + 1));
        if (typeof parsed !== "string") return null;
        keys.push(parsed);
      } catch (err) {
        if (!(err instanceof SyntaxError)) throw err;
        return null; // An escape JSON does not know: not a key we can match safely.
      }
      i = end + 1;
    } else if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return null;
      keys.push(text.slice(i + 1, end));
      i = end + 1;
    } else {
      const match = /^[A-Za-z0-9_-]+/.exec(text.slice(i));
      if (match === null) return null;
      keys.push(match[0]);
      i += match[0].length;
    }
    skipSpace();
    if (i >= text.length) return keys;
    if (text[i] !== ".") return null;
    i++;
  }
}

function closingQuote(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}

/**
 * Refuses forms that define our servers outside `[mcp_servers.<name>]` headers: an inline
 * `mcp_servers = {…}` or dotted `mcp_servers.x = …` at the root, or `<name> = {…}` / dotted
 * `<name>.x = …` inside `[mcp_servers]`. Adding a header next to those would be invalid TOML
 * or a second definition.
 */
function inlineDefinition(
  trimmed: string,
  table: readonly string[],
  path: readonly string[],
): string | null {
  if (trimmed === "" || trimmed.startsWith("#")) return null;
  const eq = keyPart(trimmed);
  if (eq === null) return null;
  const keys = parseDottedKey(eq);
  if (keys === null) return null;
  // Lines inside our own table are what the edit replaces.
  if (startsWith(table, path)) return null;
  const full = [...table, ...keys];
  const parent = path.slice(0, -1);
  // The servers table itself written inline (a header next to it would be invalid TOML), or
  // our server defined by a key/value at any depth (a header would define it twice).
  const isInlineParent = full.length === parent.length && startsWith(full, parent);
  if (isInlineParent || startsWith(full, path)) {
    const what = full.length === parent.length ? parent.join(".") : path.join(".");
    return `${what} is written as a key/value (inline table or dotted keys); install edits only ` +
      `[${
        path.map(tomlKey).join(".")
      }] tables: move it into such a table, or add the entry by hand`;
  }
  return null;
}

/** The key part of a `key = value` line (before the first `=` outside quotes), or null. */
function keyPart(line: string): string | null {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote !== null) {
      if (ch === "\\" && quote === '"') i++;
      else if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === "=") return line.slice(0, i);
  }
  return null;
}

/** The multi-line string delimiter a key/value line leaves open, if any. */
function opensString(line: string): '"""' | "'''" | null {
  const value = line.slice(line.indexOf("=") + 1);
  for (const delim of ['"""', "'''"] as const) {
    const count = value.split(delim).length - 1;
    if (count % 2 === 1) return delim;
  }
  return null;
}

/** Whether `line` (inside a multi-line string) closes it: null when it does. */
function closesString(line: string, delim: '"""' | "'''"): '"""' | "'''" | null {
  return (line.split(delim).length - 1) % 2 === 1 ? null : delim;
}

/** Where the comments and blank lines just before the next header begin. */
function trailingCommentStart(lines: string[], from: number, to: number): number {
  let end = to;
  while (end > from) {
    const line = (lines[end - 1] ?? "").trim();
    if (line === "" || line.startsWith("#")) end--;
    else break;
  }
  return end;
}

function startsWith(keys: readonly string[], prefix: readonly string[]): boolean {
  return prefix.every((key, i) => keys[i] === key);
}

function isCommentOrEmpty(text: string): boolean {
  const t = text.trim();
  return t === "" || t.startsWith("#");
}
