import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { resolveToken, type TokenResult } from "../../lib/state/token.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { HOSTILE_FILES } from "../fakes/special_files.ts";
import { withTempDir } from "../fakes/temp_dir.ts";

const INLINE = "inline-token-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const IN_FILE = "file-token-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
const IN_STATE = "state-token-CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC";

function problemOf(result: TokenResult): string {
  if (result.ok) throw new Error(`expected a problem, got a token from ${result.source}`);
  for (const secret of [INLINE, IN_FILE, IN_STATE]) {
    assert(!result.problem.includes(secret), "a token never appears in a problem");
  }
  return result.problem;
}

/** A state dir holding .auth_token and a token file, for precedence tests. */
async function withSources(fn: (dir: string, file: string) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/.auth_token`, `${IN_STATE}\n`);
    await Deno.writeTextFile(`${dir}/token.txt`, `${IN_FILE}\n`);
    await fn(dir, `${dir}/token.txt`);
  });
}

Deno.test("token: MOLECULE_WORKSPACE_TOKEN wins over the token file and .auth_token", async () => {
  await withSources(async (dir, file) => {
    const { log } = captureLog();
    const result = await resolveToken({ inline: `  ${INLINE}\n`, file, stateDir: dir }, { log });
    assertEquals(result, { ok: true, token: INLINE, source: "MOLECULE_WORKSPACE_TOKEN" });
  });
});

Deno.test("token: MOLECULE_WORKSPACE_TOKEN_FILE wins over .auth_token, trimmed", async () => {
  await withSources(async (dir, file) => {
    const { log } = captureLog();
    const result = await resolveToken({ inline: "", file, stateDir: dir }, { log });
    assertEquals(result, { ok: true, token: IN_FILE, source: "MOLECULE_WORKSPACE_TOKEN_FILE" });
  });
});

Deno.test("token: <state dir>/.auth_token is used when neither variable is set", async () => {
  await withSources(async (dir) => {
    const { log } = captureLog();
    const result = await resolveToken({ inline: undefined, file: " ", stateDir: dir }, { log });
    assertEquals(result, { ok: true, token: IN_STATE, source: ".auth_token" });
  });
});

Deno.test("token: with no source the problem names all three and where to get a token", async () => {
  await withTempDir(async (dir) => {
    const { log } = captureLog();
    const problem = problemOf(
      await resolveToken({ inline: undefined, file: undefined, stateDir: dir }, { log }),
    );
    assertStringIncludes(problem, "MOLECULE_WORKSPACE_TOKEN,");
    assertStringIncludes(problem, "MOLECULE_WORKSPACE_TOKEN_FILE");
    assertStringIncludes(problem, `${dir}/.auth_token`);
    assertStringIncludes(problem, "Tokens tab");
  });
});

Deno.test("token: every unusable token file is its own problem and never falls back to .auth_token", async () => {
  await withSources(async (dir) => {
    const cases: [string, string | Uint8Array | "dir" | undefined, string][] = [
      ["missing", undefined, "does not exist"],
      ["a-dir", "dir", "is a directory"],
      ["empty", "", "is empty"],
      ["blank", " \n\t\n", "is empty"],
      ["two-tokens", `${IN_FILE}\n${IN_FILE}\n`, "contains whitespace inside the token"],
      ["two-words", `Bearer ${IN_FILE}`, "contains whitespace inside the token"],
      ["not-utf8", new Uint8Array([0x66, 0xff, 0xfe, 0x6f]), "is not UTF-8 text"],
    ];
    for (const [name, content, reason] of cases) {
      const path = `${dir}/${name}`;
      if (content === "dir") await Deno.mkdir(path);
      else if (typeof content === "string") await Deno.writeTextFile(path, content);
      else if (content !== undefined) await Deno.writeFile(path, content);
      const { log } = captureLog();
      const problem = problemOf(
        await resolveToken({ inline: "", file: path, stateDir: dir }, { log }),
      );
      assertStringIncludes(problem, `MOLECULE_WORKSPACE_TOKEN_FILE "${path}" ${reason}`, name);
    }
  });
});

Deno.test("token: a token file we may not read says permission denied", async () => {
  // Tests run as root, where chmod 000 does not stop a read: the refusal is injected.
  const readFile = () => Promise.reject(new Deno.errors.PermissionDenied("denied by test"));
  const { log } = captureLog();
  const problem = problemOf(
    await resolveToken({ inline: "", file: "/run/secrets/token", stateDir: undefined }, {
      log,
      readFile,
    }),
  );
  assertStringIncludes(problem, '"/run/secrets/token" cannot be read (permission denied)');
});

Deno.test("token: an inline token with whitespace inside is refused without echoing it", async () => {
  const { log } = captureLog();
  const problem = problemOf(
    await resolveToken({ inline: `${INLINE} ${INLINE}`, file: undefined, stateDir: undefined }, {
      log,
    }),
  );
  assertStringIncludes(problem, "MOLECULE_WORKSPACE_TOKEN contains whitespace inside the token");
});

Deno.test("token: an unusable .auth_token is logged and treated as absent", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/.auth_token`, "\n");
    const { log, text } = captureLog();
    const problem = problemOf(
      await resolveToken({ inline: undefined, file: undefined, stateDir: dir }, { log }),
    );
    assertStringIncludes(problem, "No workspace token found");
    assertStringIncludes(text(), "ignoring the token file: it is empty");
    assertStringIncludes(text(), `${dir}/.auth_token`);
  });
});

Deno.test("token: without a state dir the problem still names the three sources", async () => {
  const { log } = captureLog();
  const problem = problemOf(
    await resolveToken({ inline: undefined, file: undefined, stateDir: undefined }, { log }),
  );
  assertStringIncludes(problem, "<state dir>/.auth_token");
});

/** UTF-16LE bytes of `text`, with a byte-order mark when `bom`. */
function utf16le(text: string, bom: boolean): Uint8Array {
  const out: number[] = bom ? [0xff, 0xfe] : [];
  for (const char of text) {
    const code = char.charCodeAt(0);
    out.push(code & 0xff, code >> 8);
  }
  return new Uint8Array(out);
}

Deno.test("token: quoted inline tokens are refused at start naming the position and kind, never the value", async () => {
  const { log } = captureLog();
  const cases: [string, string][] = [
    [`"${INLINE}"`, 'contains a quote (") at character 1: remove the quotes'],
    [`'${INLINE}'`, "contains a quote (') at character 1"],
    [`\u201c${INLINE}\u201d`, "contains a typographic quote (U+201C) at character 1"],
    [
      `${INLINE}\u00e9`,
      `contains a non-ASCII character (U+00E9) at character ${INLINE.length + 1}`,
    ],
    [`${INLINE}\\x`, `contains a backslash at character ${INLINE.length + 1}`],
    [`ab\u0007${INLINE}`, "contains a control character (U+0007) at character 3"],
    [`Bearer ${INLINE}`, "contains whitespace inside the token (a space at character 7)"],
  ];
  for (const [inline, expected] of cases) {
    const problem = problemOf(
      await resolveToken({ inline, file: undefined, stateDir: undefined }, { log }),
    );
    assertStringIncludes(problem, `MOLECULE_WORKSPACE_TOKEN ${expected}`, inline);
  }
});

Deno.test("token: a UTF-16 token file is refused with save it as UTF-8, with or without a BOM", async () => {
  await withTempDir(async (dir) => {
    for (const bom of [true, false]) {
      const path = `${dir}/token-${bom}`;
      await Deno.writeFile(path, utf16le(`${IN_FILE}\r\n`, bom));
      const { log } = captureLog();
      const problem = problemOf(
        await resolveToken({ inline: "", file: path, stateDir: undefined }, { log }),
      );
      assertStringIncludes(problem, `MOLECULE_WORKSPACE_TOKEN_FILE "${path}" is UTF-16 text`);
      assertStringIncludes(problem, "save it as UTF-8");
    }
  });
});

Deno.test("token: a UTF-8 byte-order mark and a trailing CRLF are stripped and accepted", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/token.txt`;
    await Deno.writeFile(path, new TextEncoder().encode(`\ufeff${IN_FILE}\r\n`));
    const { log } = captureLog();
    const result = await resolveToken({ inline: "", file: path, stateDir: undefined }, { log });
    assertEquals(result, { ok: true, token: IN_FILE, source: "MOLECULE_WORKSPACE_TOKEN_FILE" });
    const inline = await resolveToken({
      inline: `\ufeff${INLINE}\r\n`,
      file: undefined,
      stateDir: undefined,
    }, { log });
    assertEquals(inline, { ok: true, token: INLINE, source: "MOLECULE_WORKSPACE_TOKEN" });
  });
});

Deno.test("token: a malformed .auth_token is a problem naming the file, not a silent fallback", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/.auth_token`, `\u201c${IN_STATE}\u201d\n`);
    const { log } = captureLog();
    const problem = problemOf(
      await resolveToken({ inline: undefined, file: undefined, stateDir: dir }, { log }),
    );
    assertStringIncludes(
      problem,
      `${dir}/.auth_token contains a typographic quote (U+201C) at character 1`,
    );
    await Deno.writeFile(`${dir}/.auth_token`, utf16le(IN_STATE, true));
    const utf16 = problemOf(
      await resolveToken({ inline: undefined, file: undefined, stateDir: dir }, { log }),
    );
    assertStringIncludes(utf16, "is UTF-16 text");
    assertStringIncludes(utf16, "save it as UTF-8");
  });
});

for (const { kind, make } of HOSTILE_FILES) {
  Deno.test(`token: .auth_token that is ${kind} is a problem naming it, read without hanging`, async () => {
    await withTempDir(async (dir) => {
      await make(`${dir}/.auth_token`);
      const { log } = captureLog();
      const problem = problemOf(
        await resolveToken({ inline: undefined, file: undefined, stateDir: dir }, { log }),
      );
      assertStringIncludes(problem, `State file ${dir}/.auth_token is `);
      assertStringIncludes(problem, `rm ${dir}/.auth_token`);
    });
  });

  Deno.test(`token: MOLECULE_WORKSPACE_TOKEN_FILE that is ${kind} is a problem, read without hanging`, async () => {
    await withTempDir(async (dir) => {
      await make(`${dir}/token`);
      const { log } = captureLog();
      const problem = problemOf(
        await resolveToken({ inline: undefined, file: `${dir}/token`, stateDir: dir }, { log }),
      );
      assertStringIncludes(problem, `MOLECULE_WORKSPACE_TOKEN_FILE "${dir}/token" is `);
      assertStringIncludes(problem, "not a regular file");
    });
  });
}

Deno.test("token: .auth_token owned by another user is a problem, never used", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/.auth_token`, `${IN_STATE}\n`);
    const owner = (await Deno.stat(`${dir}/.auth_token`)).uid!;
    const { log } = captureLog();
    const problem = problemOf(
      await resolveToken({
        inline: undefined,
        file: undefined,
        stateDir: dir,
        uid: owner + 1,
      }, { log }),
    );
    assertStringIncludes(problem, `is owned by user id ${owner}, not by you (${owner + 1})`);
  });
});

Deno.test("token: a huge token file is refused without reading it whole", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/token`, "a".repeat(1_000_000));
    const { log } = captureLog();
    const problem = problemOf(
      await resolveToken({ inline: undefined, file: `${dir}/token`, stateDir: dir }, { log }),
    );
    assertStringIncludes(problem, "is larger than 4096 bytes");
  });
});
