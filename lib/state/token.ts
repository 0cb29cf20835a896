/**
 * Finds the workspace token: MOLECULE_WORKSPACE_TOKEN, else the file named by
 * MOLECULE_WORKSPACE_TOKEN_FILE, else `<state dir>/.auth_token`. An explicit token file that
 * cannot be used is a problem of its own, with no fallback (upstream da9061c1): the operator
 * asked for that file and must learn why it failed. The token never appears in any problem.
 */
import type { Logger } from "../log.ts";
import { decodeUtf8, readAuthToken, stateFilePath } from "./state_files.ts";
import { readNamedFile, SECRET_FILE_MAX_BYTES, UnsafeStateFileError } from "./safe_file.ts";

/** Where the token came from (safe to log: it names a source, not the value). */
export type TokenSource =
  | "MOLECULE_WORKSPACE_TOKEN"
  | "MOLECULE_WORKSPACE_TOKEN_FILE"
  | ".auth_token";

/** The outcome of resolveToken: the token and its source, or one problem for the operator. */
export type TokenResult =
  | { ok: true; token: string; source: TokenSource }
  | { ok: false; problem: string };

/** The raw inputs: the two env values and the state dir (undefined when it failed). */
export interface TokenInputs {
  /** MOLECULE_WORKSPACE_TOKEN as read from the environment. */
  inline: string | undefined;
  /** MOLECULE_WORKSPACE_TOKEN_FILE as read from the environment. */
  file: string | undefined;
  /** The resolved state directory, or undefined when it could not be resolved. */
  stateDir: string | undefined;
  /** Owner `.auth_token` must have; default the state directory's (state/safe_file.ts). */
  uid?: number | null;
}

/** Effects resolveToken needs. */
export interface TokenDeps {
  log: Logger;
  /**
   * Reads the token file; defaults to a bounded read of a regular file (links followed:
   * secret mounts are links; state/safe_file.ts readNamedFile). Tests inject failures root
   * cannot cause.
   */
  readFile?: (path: string) => Promise<Uint8Array>;
}

const WHERE_TO_GET_ONE = "create a token in the canvas: open the workspace, then the Tokens tab";

/**
 * Resolves the workspace token from the first source that is set, in precedence order.
 * Needs --allow-read on the token file and the state dir.
 */
export async function resolveToken(inputs: TokenInputs, deps: TokenDeps): Promise<TokenResult> {
  // trim() also drops a leading U+FEFF (a byte-order mark pasted with the token).
  const inline = (inputs.inline ?? "").trim();
  if (inline !== "") {
    const bad = checkToken(inline);
    if (bad === undefined) {
      return { ok: true, token: inline, source: "MOLECULE_WORKSPACE_TOKEN" };
    }
    return {
      ok: false,
      problem: `MOLECULE_WORKSPACE_TOKEN ${bad.reason}: ${bad.next ?? "paste the token again"}`,
    };
  }

  const file = (inputs.file ?? "").trim();
  if (file !== "") {
    return await readTokenFile(
      file,
      deps.readFile ?? ((path) => readNamedFile(path, SECRET_FILE_MAX_BYTES)),
    );
  }

  if (inputs.stateDir !== undefined) {
    const fromState = await readStateToken(inputs.stateDir, inputs.uid, deps.log);
    if (fromState !== undefined) return fromState;
  }
  const stateFile = inputs.stateDir === undefined
    ? "<state dir>/.auth_token"
    : stateFilePath(inputs.stateDir, "authToken");
  return {
    ok: false,
    problem: "No workspace token found: set MOLECULE_WORKSPACE_TOKEN, or " +
      `MOLECULE_WORKSPACE_TOKEN_FILE to a file holding it, or write it to ${stateFile} ` +
      `(${WHERE_TO_GET_ONE})`,
  };
}

async function readTokenFile(
  path: string,
  readFile: (path: string) => Promise<Uint8Array>,
): Promise<TokenResult> {
  const fail = (why: string, next: string): TokenResult => ({
    ok: false,
    problem: `MOLECULE_WORKSPACE_TOKEN_FILE ${JSON.stringify(path)} ${why}: ${next}`,
  });
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return fail("does not exist", "check the path, or unset the variable");
    }
    if (err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotCapable) {
      return fail(
        "cannot be read (permission denied)",
        "make it readable by your user (chmod 600)",
      );
    }
    if (err instanceof Deno.errors.IsADirectory) {
      return fail("is a directory", "point it at the file that holds the token");
    }
    if (err instanceof UnsafeStateFileError) {
      // The variable already names the path: only what is wrong with the file follows it.
      return fail(err.detail, "point it at a regular file holding only the token");
    }
    const detail = err instanceof Error ? err.message : String(err);
    return fail(`cannot be read (${detail})`, "point it at a readable file holding the token");
  }
  const decoded = decodeToken(bytes);
  if (!decoded.ok) return fail(decoded.bad.reason, decoded.bad.next ?? PUT_ONLY_THE_TOKEN);
  return { ok: true, token: decoded.token, source: "MOLECULE_WORKSPACE_TOKEN_FILE" };
}

/**
 * The `.auth_token` fallback: missing or empty is "absent" (a runtime may create it later);
 * a file that must not be used (a link, a FIFO, another user's file) and content that cannot
 * be a token are problems naming the file, like the other two sources.
 */
async function readStateToken(
  dir: string,
  uid: number | null | undefined,
  log: Logger,
): Promise<TokenResult | undefined> {
  const path = stateFilePath(dir, "authToken");
  let bytes: Uint8Array | undefined;
  try {
    bytes = await readAuthToken(dir, log, uid);
  } catch (err) {
    if (!(err instanceof UnsafeStateFileError)) throw err;
    return { ok: false, problem: `${err.message}: ${err.next}` };
  }
  if (bytes === undefined) return undefined;
  const decoded = decodeToken(bytes);
  if (decoded.ok) return { ok: true, token: decoded.token, source: ".auth_token" };
  if (decoded.bad.reason === "is empty") {
    log.warn("ignoring the token file: it is empty", { path });
    return undefined;
  }
  return {
    ok: false,
    problem: `${path} ${decoded.bad.reason}: ${decoded.bad.next ?? PUT_ONLY_THE_TOKEN}`,
  };
}

/** What the canvas shows in place of a token it has already revealed (upstream-latest.md O5). */
export const TOKEN_PLACEHOLDER = "ROTATE_TO_REVEAL_TOKEN";

const PUT_ONLY_THE_TOKEN = `put only the token in it (${WHERE_TO_GET_ONE})`;
const SAVE_AS_UTF8 = "save it as UTF-8 (plain text), holding only the token";

/** Why some text cannot be a token, and the fix when it is not the source's usual one. */
export interface BadToken {
  reason: string;
  next?: string;
}

/**
 * Decodes a token file: UTF-16 (NUL bytes, a UTF-16 byte-order mark) and non-UTF-8 bytes are
 * refused with the fix; a UTF-8 byte-order mark and surrounding blanks (a trailing CRLF) are
 * stripped; what remains must pass checkToken.
 */
function decodeToken(
  bytes: Uint8Array,
): { ok: true; token: string } | { ok: false; bad: BadToken } {
  const isUtf16Bom = bytes.length >= 2 &&
    ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
  if (isUtf16Bom || bytes.includes(0)) {
    return {
      ok: false,
      bad: {
        reason: "is UTF-16 text (it has NUL bytes or a UTF-16 byte-order mark)",
        next: SAVE_AS_UTF8,
      },
    };
  }
  const text = decodeUtf8(bytes); // strips a UTF-8 byte-order mark
  if (text === undefined) {
    return { ok: false, bad: { reason: "is not UTF-8 text", next: SAVE_AS_UTF8 } };
  }
  const token = text.trim();
  const bad = checkToken(token);
  return bad === undefined ? { ok: true, token } : { ok: false, bad };
}

/** Longest token accepted: platform tokens are 43 characters (contract §1); 4 KiB is plenty. */
export const MAX_TOKEN_CHARS = 4096;

const TYPOGRAPHIC_QUOTES = new Set([
  "\u2018",
  "\u2019",
  "\u201a",
  "\u201b",
  "\u201c",
  "\u201d",
  "\u201e",
  "\u201f",
  "\u00ab",
  "\u00bb",
  "\u2039",
  "\u203a",
]);

/**
 * Why a trimmed token text cannot be a token, or undefined when it can. A token travels in
 * `Authorization: Bearer <token>`, so it must be printable ASCII without spaces, quotes or
 * backslashes (RFC 7230 token68, loosened to every visible ASCII character but those). The
 * reason names the first bad character's position (1-based, in characters) and kind, never
 * the value.
 */
export function checkToken(text: string): BadToken | undefined {
  if (text === "") return { reason: "is empty" };
  if (text === TOKEN_PLACEHOLDER) {
    return {
      reason: `is the placeholder ${TOKEN_PLACEHOLDER}, not a token`,
      next: "the canvas shows a token only once: rotate it (open the workspace, then the " +
        "Tokens tab) and use the new one",
    };
  }
  const chars = [...text];
  if (chars.length > MAX_TOKEN_CHARS) {
    return { reason: `is ${chars.length} characters long, over the ${MAX_TOKEN_CHARS} accepted` };
  }
  for (const [index, char] of chars.entries()) {
    const code = char.codePointAt(0) ?? 0;
    if (code > 0x20 && code < 0x7f && !`"'\`\\`.includes(char)) continue;
    const at = `at character ${index + 1}`;
    const u = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
    if (/\s/.test(char)) {
      // Two words or two lines: a pasted "Bearer", or a file holding several tokens.
      return {
        reason: `contains whitespace inside the token (${describeSpace(code, u)} ${at})`,
        next: 'keep only the token itself: no "Bearer", no second token',
      };
    }
    if (code === 0) {
      return { reason: `contains a NUL byte ${at} (UTF-16 text?)`, next: SAVE_AS_UTF8 };
    }
    if (char === '"' || char === "'" || char === "`") {
      return {
        reason: `contains a quote (${char}) ${at}`,
        next: "remove the quotes around the token",
      };
    }
    if (TYPOGRAPHIC_QUOTES.has(char)) {
      return {
        reason: `contains a typographic quote (${u}) ${at}`,
        next: "remove the quotes (an editor or chat app turned them into curly quotes)",
      };
    }
    if (char === "\\") return { reason: `contains a backslash ${at}` };
    if (code < 0x20 || code === 0x7f) {
      return { reason: `contains a control character (${u}) ${at}` };
    }
    return { reason: `contains a non-ASCII character (${u}) ${at}` };
  }
  return undefined;
}

function describeSpace(code: number, u: string): string {
  if (code === 0x20) return "a space";
  if (code === 0x09) return "a tab";
  if (code === 0x0a || code === 0x0d) return "a line break";
  return `a blank (${u})`;
}
