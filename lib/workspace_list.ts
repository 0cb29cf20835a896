/**
 * MOLECULE_WORKSPACES (or MOLECULE_WORKSPACES_JSON, the channel plugin's name): several
 * workspaces served by one process. This module owns the parse of that JSON array into
 * `{id, token, platformUrl}` entries and the full list of problems, each naming the entry
 * index and field and never a token (issue 12 §1; upstream-features.md §2 829ab664;
 * upstream-latest.md R1 per-entry platform_url, C1 the plugin's key name and aliases).
 */
import { isRecord } from "./json_object.ts";
import { cutCodePoints } from "./text.ts";
import { parseUuid } from "./uuid.ts";

/** The two names of the variable; setting both is a problem (which one would win?). */
export const WORKSPACE_LIST_VARS = ["MOLECULE_WORKSPACES", "MOLECULE_WORKSPACES_JSON"] as const;

/** One of WORKSPACE_LIST_VARS. */
export type WorkspaceListVar = typeof WORKSPACE_LIST_VARS[number];

/**
 * The list variable in use: the first of WORKSPACE_LIST_VARS set to a non-blank value (blank
 * counts as unset, as for every variable), or undefined in single-workspace mode. Setting both
 * is loadConfig's problem to report.
 */
export function listVarOf(
  env: Readonly<Record<WorkspaceListVar, string | undefined>>,
): WorkspaceListVar | undefined {
  return WORKSPACE_LIST_VARS.find((name) => (env[name] ?? "").trim() !== "");
}

/** Most workspaces one process serves: each runs a poller, a heartbeat and an inbox. */
export const MAX_WORKSPACES = 32;

/** One configured workspace. `token` is a secret: never log or show it. */
export interface WorkspaceEntry {
  /** Workspace UUID, lowercase. */
  readonly id: string;
  readonly token: string;
  /** Platform base URL without trailing slashes: the entry's own, else PLATFORM_URL. */
  readonly platformUrl: string;
  /** True when the entry named its own platform_url (another tenant, perhaps). */
  readonly hasOwnUrl: boolean;
}

/** Checks a platform URL; returns why it is not one (without echoing credentials), or undefined. */
export type UrlCheck = (raw: string) => string | undefined;

/** Why a token text cannot be a token (lib/state/token.ts checkToken), never its value. */
export type TokenCheck = (text: string) => { reason: string; next?: string } | undefined;

/** What the parse needs besides the text. */
export interface WorkspaceListOptions {
  /** The variable the text came from, for problem lines. */
  name: string;
  /** PLATFORM_URL (already checked), "" when unset: the default for entries without their own. */
  defaultUrl: string;
  checkUrl: UrlCheck;
  /** Token content rule; omitted, only emptiness is checked. */
  checkToken?: TokenCheck;
}

/**
 * Parses the variable's text. Returns the entries (empty when there is any problem) and every
 * problem found at once. Accepts `id`/`workspace_id`, `token`/`workspace_token`,
 * `platform_url`/`platformUrl`; an entry naming the same field twice (e.g. `id` and
 * `workspace_id`) with different values is a problem.
 */
export function parseWorkspaceList(
  text: string,
  opts: WorkspaceListOptions,
): { entries: WorkspaceEntry[]; problems: string[] } {
  const { name } = opts;
  const problems: string[] = [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    // V8's message quotes a snippet of the text, which may be a token: only the position it
    // names is repeated, never the message itself.
    if (!(err instanceof SyntaxError)) throw err;
    const at = /position (\d+)/.exec(err.message)?.[1];
    const why = at === undefined ? "a syntax error" : `a syntax error at character ${at}`;
    problems.push(
      `${name} is not valid JSON (${why}): expected an array like ` +
        `[{"id":"<workspace uuid>","token":"<token>","platform_url":"https://…"}]`,
    );
    return { entries: [], problems };
  }
  if (!Array.isArray(parsed)) {
    problems.push(`${name} must be a JSON array of {id, token, platform_url?} objects`);
    return { entries: [], problems };
  }
  if (parsed.length === 0) {
    problems.push(`${name} is an empty array: list at least one {id, token} workspace`);
    return { entries: [], problems };
  }
  if (parsed.length > MAX_WORKSPACES) {
    problems.push(
      `${name} lists ${parsed.length} workspaces; one process serves at most ${MAX_WORKSPACES} ` +
        "(split them over several MCP server entries)",
    );
  }
  const entries: WorkspaceEntry[] = [];
  const firstIndexOf = new Map<string, number>();
  parsed.forEach((raw, index) => {
    const at = `${name}[${index}]`;
    if (!isRecord(raw)) {
      problems.push(`${at} is not an object: expected {"id": …, "token": …}`);
      return;
    }
    const before = problems.length;
    const idText = pick(raw, ["id", "workspace_id"], at, problems, { isSecret: false });
    const token = pick(raw, ["token", "workspace_token"], at, problems, { isSecret: true });
    const urlText = pick(raw, ["platform_url", "platformUrl"], at, problems, { isSecret: false });
    let id: string | null = null;
    if (idText === null) {
      // Reported by pick.
    } else if (idText === undefined) {
      problems.push(`${at}.id is missing: copy the workspace ID from the canvas`);
    } else {
      id = parseUuid(idText);
      if (id === null) {
        problems.push(
          `${at}.id is not a workspace UUID: got ${quote(idText)} (expected the form ` +
            "1b4e28ba-2fa1-11d2-883f-0016d3cca427)",
        );
      } else if (firstIndexOf.has(id)) {
        problems.push(`${at}.id repeats ${name}[${firstIndexOf.get(id)}].id (${id})`);
      } else {
        firstIndexOf.set(id, index);
      }
    }
    if (token === null) {
      // Reported by pick.
    } else if (token === undefined) {
      problems.push(`${at}.token is missing: the workspace's token, shown once by the canvas`);
    } else {
      const bad = token.trim() === "" ? { reason: "is empty" } : opts.checkToken?.(token.trim());
      if (bad !== undefined) {
        problems.push(`${at}.token ${bad.reason}${bad.next === undefined ? "" : `: ${bad.next}`}`);
      }
    }
    let platformUrl = opts.defaultUrl;
    if (urlText === null) {
      // Reported by pick.
    } else if (urlText !== undefined && urlText.trim() !== "") {
      const why = opts.checkUrl(urlText.trim());
      if (why !== undefined) problems.push(`${at}.platform_url ${why}`);
      platformUrl = urlText.trim().replace(/\/+$/, "");
    } else if (opts.defaultUrl === "") {
      problems.push(
        `${at}.platform_url is missing and PLATFORM_URL is not set: give the entry a ` +
          '"platform_url" or set PLATFORM_URL for every entry without one',
      );
    }
    if (problems.length > before || id === null || typeof token !== "string") return;
    entries.push({
      id,
      token: token.trim(),
      platformUrl,
      hasOwnUrl: typeof urlText === "string" && urlText.trim() !== "",
    });
  });
  return { entries: problems.length > 0 ? [] : entries, problems };
}

/**
 * A field under one of its names, as text; undefined when absent. A non-string value or two
 * differing values are problems, and give null (already reported).
 */
function pick(
  raw: Record<string, unknown>,
  names: readonly string[],
  at: string,
  problems: string[],
  { isSecret }: { isSecret: boolean },
): string | null | undefined {
  let found: { name: string; value: string } | undefined;
  for (const key of names) {
    if (!Object.hasOwn(raw, key) || raw[key] === null || raw[key] === undefined) continue;
    const value = raw[key];
    if (typeof value !== "string") {
      problems.push(
        `${at}.${key} must be a string, got ${Array.isArray(value) ? "array" : typeof value}`,
      );
      return null;
    }
    if (found !== undefined && found.value.trim() !== value.trim()) {
      const shown = isSecret ? "" : ` (${quote(found.value)} and ${quote(value)})`;
      problems.push(
        `${at} sets both ${found.name} and ${key} to different values${shown}: keep one`,
      );
      return null;
    }
    found ??= { name: key, value };
  }
  return found?.value;
}

function quote(raw: string): string {
  return JSON.stringify(cutCodePoints(raw, 80, "..."));
}
