/**
 * The host-file half of `install`: the new text of a host's config with our entry in it (JSON
 * via cli/install_json.ts, TOML via cli/install_toml.ts), the entry found there before (with
 * secret-looking values hidden, since old entries often hold a token in plain text) and the
 * new entry as the user will see it. No file access here.
 */
import { CREDENTIAL_KEY } from "../redact.ts";
import type { InstallRequest } from "./args.ts";
import { type HostTarget, jsonEntry, type ProgramCommand, tomlEntry } from "./install_hosts.ts";
import { editJsonServers } from "./install_json.ts";
import { replaceTomlTable, scanTomlTable, tomlBlocksText } from "./install_toml.ts";

/** The edited file text, the entry found before (secrets hidden) and the new one as shown. */
export interface HostEdit {
  ok: true;
  text: string;
  existing: string[] | undefined;
  isSame: boolean;
  isLayoutKept: boolean;
  /** The new entry as it appears in the file. */
  shown: string[];
}

/**
 * Puts server `name` into the host file's text (null: no file yet), in the host's format.
 * Pure: the caller reads and writes the file.
 */
export function editHostFile(
  request: InstallRequest,
  target: HostTarget,
  input: {
    name: string;
    text: string | null;
    entryEnv: Record<string, string>;
    program: ProgramCommand;
  },
): HostEdit | { ok: false; reason: string } {
  const { name, text, entryEnv, program } = input;
  if (target.format === "toml") {
    const scan = scanTomlTable(text ?? "", ["mcp_servers", name]);
    if (!scan.ok) return scan;
    const table = tomlEntry(name, program, entryEnv);
    const existing = scan.blocks.length === 0 ? undefined : tomlBlocksText(scan);
    return {
      ok: true,
      text: replaceTomlTable(scan, table),
      existing: existing === undefined ? undefined : hideSecrets(existing.split("\n")),
      isSame: existing !== undefined && existing === table.trimEnd(),
      isLayoutKept: true,
      shown: table.trimEnd().split("\n"),
    };
  }
  const host = request.host === "codex" ? "cursor" : request.host;
  const entry = jsonEntry(host, program, entryEnv);
  const edit = editJsonServers(text, name, entry);
  if (!edit.ok) return edit;
  const existing = edit.existing === undefined
    ? undefined
    : hideSecrets(JSON.stringify(edit.existing, null, 2).split("\n"));
  return {
    ok: true,
    text: edit.text,
    existing,
    isSame: edit.existing !== undefined && JSON.stringify(edit.existing) === JSON.stringify(entry),
    isLayoutKept: edit.isLayoutKept,
    shown: JSON.stringify({ [name]: entry }, null, 2).split("\n"),
  };
}

/** Lines of an existing entry with values of secret-looking keys hidden (tokens in plain text). */
function hideSecrets(lines: string[]): string[] {
  // Every `KEY = "value"` / `"KEY": "value"` pair in a line, inline tables included.
  const pair = /("?)([A-Za-z0-9_]+)\1(\s*[:=]\s*)"((?:[^"\\]|\\.)*)"/g;
  return lines.map((line) =>
    line.replace(pair, (whole, quote: string, key: string, sep: string, value: string) => {
      if (!CREDENTIAL_KEY.test(key) || /_FILE$/i.test(key) || value === "") return whole;
      return `${quote}${key}${quote}${sep}"(hidden)"`;
    })
  );
}

/** `lines`, each indented by `by`. */
export function indent(lines: string[], by = "  "): string[] {
  return lines.map((line) => `${by}${line}`);
}
