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

/** What the canvas shows in place of a token it has already revealed (upstream-latest.md O5). */
export const TOKEN_PLACEHOLDER = "ROTATE_TO_REVEAL_TOKEN";

const WHERE_TO_GET_ONE = "create a token in the canvas: open the workspace, then the Tokens tab";

/**
 * Resolves the workspace token from the first source that is set, in precedence order.
 * Needs --allow-read on the token file and the state dir.
 */
export async function resolveToken(inputs: TokenInputs, deps: TokenDeps): Promise<TokenResult> {
  const inline = (inputs.inline ?? "").trim();
  if (inline !== "") {
    const reason = checkToken(inline);
    if (reason === undefined) {
      return { ok: true, token: inline, source: "MOLECULE_WORKSPACE_TOKEN" };
    }
    return { ok: false, problem: `MOLECULE_WORKSPACE_TOKEN ${reason}: paste the token again` };
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
    if (typeof fromState !== "string" && fromState !== undefined) return fromState;
    if (fromState !== undefined) return { ok: true, token: fromState, source: ".auth_token" };
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
      // The message starts with "State file <path>"; the variable already names the path.
      const detail = err.message.slice(`State file ${path} `.length);
      return fail(detail, "point it at a regular file holding only the token");
    }
    const detail = err instanceof Error ? err.message : String(err);
    return fail(`cannot be read (${detail})`, "point it at a readable file holding the token");
  }
  const text = decodeUtf8(bytes);
  if (text === undefined) {
    return fail("is not UTF-8 text", "save only the token, as plain text");
  }
  const reason = checkToken(text.trim());
  if (reason !== undefined) return fail(reason, `put only the token in it (${WHERE_TO_GET_ONE})`);
  return { ok: true, token: text.trim(), source: "MOLECULE_WORKSPACE_TOKEN_FILE" };
}

/**
 * The `.auth_token` fallback: a file that must not be used (a link, a FIFO, another user's
 * file) is a problem; unusable content is logged and treated as absent.
 */
async function readStateToken(
  dir: string,
  uid: number | null | undefined,
  log: Logger,
): Promise<string | TokenResult | undefined> {
  let bytes: Uint8Array | undefined;
  try {
    bytes = await readAuthToken(dir, log, uid);
  } catch (err) {
    if (!(err instanceof UnsafeStateFileError)) throw err;
    return { ok: false, problem: `${err.message}: ${err.next}` };
  }
  if (bytes === undefined) return undefined;
  const text = decodeUtf8(bytes)?.trim();
  const reason = text === undefined ? "is not UTF-8 text" : checkToken(text);
  if (text === undefined || reason !== undefined) {
    log.warn(`ignoring the token file: it ${reason}`, { path: stateFilePath(dir, "authToken") });
    return undefined;
  }
  return text;
}

/** Why a trimmed token text cannot be a token, or undefined when it looks usable. */
function checkToken(text: string): string | undefined {
  if (text === "") return "is empty";
  // The canvas re-shows connection snippets with this placeholder: the token is shown only
  // once (upstream-latest.md O5).
  if (text === TOKEN_PLACEHOLDER) {
    return `holds the placeholder ${TOKEN_PLACEHOLDER}, not a token (the canvas shows a token only once: rotate it to get a new one)`;
  }
  // Two words or two lines: a pasted extra or a file holding several tokens.
  if (/\s/.test(text)) return "contains whitespace inside the token";
  return undefined;
}
