/**
 * MOLECULE_WORKSPACES / MOLECULE_WORKSPACES_JSON through loadConfig: several workspaces in one
 * process, every problem at once, naming entry index and field, never a token.
 */
import { assert, assertEquals, assertStringIncludes } from "./assert.ts";
import { loadConfig } from "../lib/config.ts";
import { checkToken } from "../lib/state/token.ts";
import { listVarOf } from "../lib/workspace_list.ts";

const A = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
const B = "2c5f39cb-3fb2-42e3-994f-1127e4ddb538";
const SECRET_A = "tok-alpha-0123456789";
const SECRET_B = "tok-beta-9876543210";

function load(env: Record<string, string>) {
  return loadConfig(env, { checkToken });
}

function problemsOf(env: Record<string, string>): string[] {
  const result = load(env);
  if (result.ok) throw new Error("expected problems, got a valid config");
  return result.problems;
}

Deno.test("workspaces: two entries on two tenants replace WORKSPACE_ID and the token variables", () => {
  const result = load({
    PLATFORM_URL: "https://acme.moleculesai.app/",
    MOLECULE_WORKSPACES: JSON.stringify([
      { id: A, token: SECRET_A },
      { workspace_id: B.toUpperCase(), workspace_token: SECRET_B, platformUrl: "https://b.test//" },
    ]),
  });
  if (!result.ok) throw new Error(result.problems.join("; "));
  assertEquals(result.config.workspaces, [
    { id: A, platformUrl: "https://acme.moleculesai.app", agentName: "molecule-mcp-1b4e28ba" },
    { id: B, platformUrl: "https://b.test", agentName: "molecule-mcp-2c5f39cb" },
  ]);
  assertEquals(result.config.workspaceId, A);
  assertEquals(result.config.workspaceListVar, "MOLECULE_WORKSPACES");
  assertEquals([...(result.workspaceTokens ?? new Map())], [[A, SECRET_A], [B, SECRET_B]]);
  // Tokens are kept out of the frozen Config every module receives.
  assert(!JSON.stringify(result.config).includes("tok-"));
});

Deno.test("workspaces: the channel plugin's MOLECULE_WORKSPACES_JSON works; PLATFORM_URL is optional when every entry has one", () => {
  const result = load({
    MOLECULE_WORKSPACES_JSON: JSON.stringify([{
      id: A,
      token: SECRET_A,
      platform_url: "http://localhost:8080",
    }]),
  });
  if (!result.ok) throw new Error(result.problems.join("; "));
  assertEquals(result.config.platformUrl, "http://localhost:8080");
  assertEquals(result.config.workspaceListVar, "MOLECULE_WORKSPACES_JSON");
});

Deno.test("workspaces: setting both names is an error", () => {
  const list = JSON.stringify([{ id: A, token: SECRET_A }]);
  const found = problemsOf({
    PLATFORM_URL: "https://a.test",
    MOLECULE_WORKSPACES: list,
    MOLECULE_WORKSPACES_JSON: list,
  });
  assertStringIncludes(
    found.join("\n"),
    "MOLECULE_WORKSPACES and MOLECULE_WORKSPACES_JSON are both set",
  );
});

Deno.test("workspaces: not JSON, not an array and an empty array are each named", () => {
  const base = { PLATFORM_URL: "https://a.test" };
  assertStringIncludes(
    problemsOf({ ...base, MOLECULE_WORKSPACES: `[{"id": "${A}", "token": "${SECRET_A}"` })[0] ?? "",
    "MOLECULE_WORKSPACES is not valid JSON",
  );
  assertStringIncludes(
    problemsOf({ ...base, MOLECULE_WORKSPACES: "{}" })[0] ?? "",
    "must be a JSON array",
  );
  assertStringIncludes(
    problemsOf({ ...base, MOLECULE_WORKSPACES: "[]" })[0] ?? "",
    "is an empty array",
  );
});

Deno.test("workspaces: every bad entry and field is listed at once, by index and field, never showing a token", () => {
  const badToken = `${SECRET_B} zebra99`;
  const found = problemsOf({
    MOLECULE_WORKSPACES: JSON.stringify([
      { id: A, token: SECRET_A, platform_url: "https://a.test" },
      "not an object",
      { token: SECRET_A, platform_url: "https://a.test" },
      { id: "not-a-uuid", platform_url: "https://a.test" },
      { id: A, token: SECRET_A, platform_url: "https://a.test" },
      { id: B, token: badToken, platform_url: "ftp://b.test" },
      { id: B.replace("2c", "3c"), token: "ROTATE_TO_REVEAL_TOKEN" },
      {
        id: A.replace("1b", "4b"),
        token: SECRET_A,
        workspace_token: SECRET_B,
        platform_url: "https://a.test",
      },
    ]),
  });
  const text = found.join("\n");
  for (
    const expected of [
      "MOLECULE_WORKSPACES[1] is not an object",
      "MOLECULE_WORKSPACES[2].id is missing",
      "MOLECULE_WORKSPACES[3].id is not a workspace UUID",
      "MOLECULE_WORKSPACES[3].token is missing",
      "MOLECULE_WORKSPACES[4].id repeats MOLECULE_WORKSPACES[0].id",
      "MOLECULE_WORKSPACES[5].token contains whitespace",
      "MOLECULE_WORKSPACES[5].platform_url must start with https:// or http://",
      "MOLECULE_WORKSPACES[6].token is the placeholder ROTATE_TO_REVEAL_TOKEN",
      "MOLECULE_WORKSPACES[6].platform_url is missing and PLATFORM_URL is not set",
      "MOLECULE_WORKSPACES[7] sets both token and workspace_token to different values",
    ]
  ) {
    assertStringIncludes(text, expected);
  }
  assertEquals(found.length, 10, text);
  for (const secret of [SECRET_A, SECRET_B, "zebra99"]) assert(!text.includes(secret), text);
});

Deno.test("workspaces: a platform_url with credentials is refused without echoing it", () => {
  const found = problemsOf({
    MOLECULE_WORKSPACES: JSON.stringify([{
      id: A,
      token: SECRET_A,
      platform_url: "https://u:pw-secret@a.test",
    }]),
  });
  assertStringIncludes(
    found[0] ?? "",
    "MOLECULE_WORKSPACES[0].platform_url must not contain a user name",
  );
  assert(!found.join("").includes("pw-secret"));
});

Deno.test("workspaces: a non-string field is named with its type", () => {
  const found = problemsOf({
    PLATFORM_URL: "https://a.test",
    MOLECULE_WORKSPACES: JSON.stringify([{ id: 42, token: SECRET_A }]),
  });
  assertStringIncludes(found.join("\n"), "MOLECULE_WORKSPACES[0].id must be a string, got number");
});

Deno.test("workspaces: a token left unquoted in the JSON never appears in the problem text", () => {
  const problems = problemsOf({
    PLATFORM_URL: "https://acme.moleculesai.app/",
    MOLECULE_WORKSPACES: `[{"id":"${A}","token":${SECRET_A}}]`,
  });
  assertEquals(problems.length, 1);
  assertStringIncludes(problems[0] ?? "", "MOLECULE_WORKSPACES is not valid JSON");
  for (const piece of ["tok-alph", "alpha", "0123456"]) {
    assert(!(problems[0] ?? "").includes(piece), `problem text quotes "${piece}": ${problems[0]}`);
  }
});

Deno.test("workspace list: a blank list variable counts as unset (doctor, install and the sources line agree)", () => {
  const unset = { MOLECULE_WORKSPACES: undefined, MOLECULE_WORKSPACES_JSON: undefined };
  assertEquals(listVarOf(unset), undefined);
  assertEquals(listVarOf({ ...unset, MOLECULE_WORKSPACES: "  " }), undefined);
  assertEquals(
    listVarOf({ MOLECULE_WORKSPACES: " ", MOLECULE_WORKSPACES_JSON: "[]" }),
    "MOLECULE_WORKSPACES_JSON",
  );
  assertEquals(
    listVarOf({ MOLECULE_WORKSPACES: "[]", MOLECULE_WORKSPACES_JSON: "[]" }),
    "MOLECULE_WORKSPACES",
  );
});
