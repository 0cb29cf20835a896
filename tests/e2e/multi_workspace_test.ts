/**
 * Several workspaces in one process (MOLECULE_WORKSPACES, issue 12 §1), as a host runs it:
 * two workspaces on two fake platforms (two tenants), one MCP surface; and a refused token
 * that must not look like a healthy server.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { createFakePlatform, type FakePlatform } from "../fakes/fake_platform.ts";
import { runProgram, spawnProgram } from "../fakes/spawn.ts";
import { workspaceEnv } from "../fakes/served_platform.ts";
import { INITIALIZE_PARAMS, RpcSession } from "../fakes/rpc_session.ts";
import { namesIn, withTempDir } from "../fakes/temp_dir.ts";

interface Tenant {
  platform: FakePlatform;
  url: string;
  ws: { id: string; token: string };
}

interface TwoTenants {
  alpha: Tenant;
  beta: Tenant;
  dir: string;
  /** The env of one process serving both, alpha without platform_url (PLATFORM_URL). */
  env: (tokens?: { alpha?: string; beta?: string }) => Record<string, string>;
}

async function withTwoTenants(fn: (t: TwoTenants) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const platforms = [createFakePlatform(), createFakePlatform()] as const;
    const alphaWs = platforms[0].addWorkspace({ delivery_mode: "poll", name: "alpha" });
    const betaWs = platforms[1].addWorkspace({ delivery_mode: "poll", name: "beta" });
    const served = [await platforms[0].serve(), await platforms[1].serve()] as const;
    const alpha = { platform: platforms[0], url: served[0].url, ws: alphaWs };
    const beta = { platform: platforms[1], url: served[1].url, ws: betaWs };
    const env = (tokens: { alpha?: string; beta?: string } = {}) => ({
      PLATFORM_URL: alpha.url,
      MOLECULE_WORKSPACES: JSON.stringify([
        { id: alpha.ws.id, token: tokens.alpha ?? alpha.ws.token },
        {
          workspace_id: beta.ws.id,
          workspace_token: tokens.beta ?? beta.ws.token,
          platformUrl: beta.url,
        },
      ]),
      CONFIGS_DIR: dir,
      MOLECULE_MCP_POLL_INTERVAL_SECS: "1",
      MOLECULE_MCP_VERBOSE: "1",
    });
    try {
      await fn({ alpha, beta, dir, env });
    } finally {
      await served[0].close();
      await served[1].close();
    }
  });
}

const WRONG_TOKEN = "not-the-right-token-aaaaaaaaaaaaaaaaaaaaaaaaa";

Deno.test("e2e: one process with MOLECULE_WORKSPACES serves two tenants; each workspace receives and answers its own messages", async () => {
  await withTwoTenants(async ({ alpha, beta, env, dir }) => {
    await using program = spawnProgram({ env: env() });
    const session = new RpcSession(program);
    const init = await session.initialize();
    assertStringIncludes(String(init.instructions), "arrival_workspace_id");
    // Each registered on its own tenant, with its own token, and nowhere else.
    assertEquals(alpha.platform.registrations.map((r) => r.workspace_id), [alpha.ws.id]);
    assertEquals(beta.platform.registrations.map((r) => r.workspace_id), [beta.ws.id]);
    await program.waitForStderr("inbox open; polling for messages");

    // One after the other, so beta's is the last canvas message (the default reply target).
    const toAlpha = alpha.platform.sendToInbox(alpha.ws.id, { text: "for alpha" });
    await session.notificationsOf("notifications/claude/channel", 1);
    const toBeta = beta.platform.sendToInbox(beta.ws.id, { text: "for beta" });
    const pushes = await session.notificationsOf("notifications/claude/channel", 2);
    const byActivity = new Map(pushes.map((p) => {
      const params = p.params as { content: string; meta: Record<string, string> };
      return [params.meta.activity_id, params];
    }));
    const pushedAlpha = byActivity.get(toAlpha.id);
    const pushedBeta = byActivity.get(toBeta.id);
    assertEquals(pushedAlpha?.meta.arrival_workspace_id, alpha.ws.id);
    assertEquals(pushedBeta?.meta.arrival_workspace_id, beta.ws.id);
    assertStringIncludes(pushedBeta?.content ?? "", "[to workspace ");
    assertStringIncludes(pushedBeta?.content ?? "", `source_workspace_id="${beta.ws.id}"`);

    // One inbox view, oldest first, each message naming the workspace it arrived on.
    const peek = await session.callTool(2, "inbox_peek");
    const listed = JSON.parse(peek.text) as { activity_id: string; arrival_workspace_id: string }[];
    assertEquals(
      listed.map((m) => [m.activity_id, m.arrival_workspace_id]),
      [[toAlpha.id, alpha.ws.id], [toBeta.id, beta.ws.id]],
    );

    // Replies: by default as the workspace the last canvas message arrived on (beta), or
    // explicitly as another; each goes to its own tenant with its own token.
    const byDefault = await session.callTool(3, "send_message_to_user", { message: "hi beta" });
    assert(!byDefault.isError, byDefault.text);
    const explicit = await session.callTool(4, "send_message_to_user", {
      message: "hi alpha",
      source_workspace_id: alpha.ws.id,
    });
    assert(!explicit.isError, explicit.text);
    assertEquals(beta.platform.notifications.map((n) => [n.workspace_id, n.message]), [
      [beta.ws.id, "hi beta"],
    ]);
    assertEquals(alpha.platform.notifications.map((n) => [n.workspace_id, n.message]), [
      [alpha.ws.id, "hi alpha"],
    ]);
    const unknown = await session.callTool(5, "send_message_to_user", {
      message: "x",
      source_workspace_id: "00000000-0000-4000-8000-000000000000",
    });
    assert(unknown.isError === true);
    assertStringIncludes(unknown.text, "not one of this server's workspaces");

    // inbox_pop finds each message in whichever inbox holds it.
    for (const [i, id] of [toBeta.id, toAlpha.id].entries()) {
      const popped = await session.callTool(10 + i, "inbox_pop", { activity_id: id });
      assertStringIncludes(popped.text, '"removed": true');
    }
    const empty = await session.callTool(20, "wait_for_message", { timeout_secs: 0 });
    assertStringIncludes(empty.text, '"timeout": true');

    await program.closeStdin();
    const { code, stderr } = await program.wait();
    assertEquals(code, 0);
    for (const token of [alpha.ws.token, beta.ws.token]) assert(!stderr.includes(token));
    const names = await namesIn(dir);
    for (const ws of [alpha.ws, beta.ws]) {
      assert(names.includes(`.mcp_inbox_journal.${ws.id}`), names.join(" "));
      assert(names.includes(`.mcp_inbox_cursor.${ws.id}`), names.join(" "));
    }
  });
});

Deno.test("e2e: a token refused for one workspace is reported; that one stays down while the other serves", async () => {
  await withTwoTenants(async ({ alpha, beta, env }) => {
    await using program = spawnProgram({ env: env({ beta: WRONG_TOKEN }) });
    const session = new RpcSession(program);
    await session.initialize();
    await program.waitForStderr("1 of 2 workspaces refused their token");
    assertStringIncludes(program.stderrText(), beta.ws.id);
    const row = alpha.platform.sendToInbox(alpha.ws.id, { text: "alpha still works" });
    const push = await session.notification("notifications/claude/channel");
    assertEquals((push.params as { meta: Record<string, string> }).meta.activity_id, row.id);
    await program.closeStdin();
    const { code, stderr } = await program.wait();
    assertEquals(code, 0);
    assert(!stderr.includes(WRONG_TOKEN));
  });
});

Deno.test("e2e: a host that leaves at once still learns which workspace refused its token; the others' start exits 0", async () => {
  await withTwoTenants(async ({ alpha, beta, env }) => {
    // initialize, then stdin ends: the program leaves before any link opens.
    const { code, stdout, stderr } = await runProgram({
      env: env({ beta: WRONG_TOKEN }),
      input: `${
        JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: INITIALIZE_PARAMS })
      }\n`,
    });
    assertEquals(code, 0, stderr);
    assert(stdout.includes('"id":1'), `initialize was not answered: ${stdout}`);
    assertStringIncludes(stderr, `refused workspace ${beta.ws.id}`);
    assert(!stderr.includes(`refused workspace ${alpha.ws.id}`), stderr);
    assertStringIncludes(stderr, "1 of 2 workspaces refused their token");
    assert(!stderr.includes(WRONG_TOKEN));
  });
});

Deno.test("e2e: when every workspace's token is refused, exit 3 and initialize is never answered", async () => {
  await withTwoTenants(async ({ env }) => {
    await using program = spawnProgram({
      env: env({ alpha: WRONG_TOKEN, beta: `${WRONG_TOKEN}b` }),
    });
    await new RpcSession(program).send(1, "initialize", INITIALIZE_PARAMS);
    const { code, stdout } = await program.exited();
    assertEquals(code, 3);
    assertEquals(stdout, "", "the host sees a failed start, not a connected server");
  });
});

Deno.test("e2e: a refused token (one workspace) exits 3 before the host's initialize is answered", async () => {
  await withTwoTenants(async ({ alpha, dir }) => {
    await using program = spawnProgram({
      env: {
        ...workspaceEnv({ id: alpha.ws.id, token: WRONG_TOKEN }, alpha.url, dir),
      },
    });
    await new RpcSession(program).send(1, "initialize", INITIALIZE_PARAMS);
    const { code, stdout, stderr } = await program.exited();
    assertEquals(code, 3);
    assertEquals(stdout, "");
    assertStringIncludes(stderr, "Tokens");
  });
});

Deno.test("e2e: a bad MOLECULE_WORKSPACES lists every problem by entry and field, exit 2, no token shown", async () => {
  await using program = spawnProgram({
    env: {
      MOLECULE_WORKSPACES: JSON.stringify([
        { id: "nope", token: "secret-token-one" },
        { id: "1b4e28ba-2fa1-11d2-883f-0016d3cca427", token: "has space inside" },
      ]),
      MOLECULE_WORKSPACES_JSON: "[]",
      HOME: "/nonexistent-home",
    },
  });
  const { code, stderr, stdout } = await program.exited();
  assertEquals(code, 2);
  assertEquals(stdout, "");
  for (
    const expected of [
      "MOLECULE_WORKSPACES and MOLECULE_WORKSPACES_JSON are both set",
      "MOLECULE_WORKSPACES[0].id is not a workspace UUID",
      "MOLECULE_WORKSPACES[0].platform_url is missing and PLATFORM_URL is not set",
      "MOLECULE_WORKSPACES[1].token contains whitespace",
    ]
  ) {
    assertStringIncludes(stderr, expected);
  }
  assert(!stderr.includes("secret-token-one") && !stderr.includes("has space"), stderr);
  assert(!stderr.includes("WORKSPACE_ID is not set"), "the list replaces WORKSPACE_ID");
});

Deno.test("e2e: a 410, an outage and a revoked token in one workspace change nothing in the other", async () => {
  await withTwoTenants(async ({ alpha, beta, env }) => {
    await using program = spawnProgram({ env: env() });
    const session = new RpcSession(program);
    await session.initialize();
    await program.waitForStderr("inbox open; polling for messages");
    // beta: its cursor is gone (410), then its tenant is down, then its token is revoked.
    beta.platform.failNext("GET /workspaces/:id/activity", 410);
    beta.platform.failNext("GET /workspaces/:id/activity", 503, 1000);
    beta.platform.failNext("POST /registry/heartbeat", 503, 1000);
    beta.platform.revokeToken(beta.ws.id);
    const row = alpha.platform.sendToInbox(alpha.ws.id, { text: "alpha is fine" });
    const push = await session.notification("notifications/claude/channel");
    assertEquals((push.params as { meta: Record<string, string> }).meta.activity_id, row.id);
    const reply = await session.callTool(2, "send_message_to_user", {
      message: "answer from alpha",
      source_workspace_id: alpha.ws.id,
    });
    assert(!reply.isError, reply.text);
    assertEquals(alpha.platform.notifications.map((n) => n.message), ["answer from alpha"]);
    // beta's own calls fail with its own reason; alpha's inbox still pops.
    const asBeta = await session.callTool(3, "send_message_to_user", {
      message: "from beta",
      source_workspace_id: beta.ws.id,
    });
    assert(asBeta.isError === true, asBeta.text);
    const popped = await session.callTool(4, "inbox_pop", { activity_id: row.id });
    assertStringIncludes(popped.text, '"removed": true');
    await program.closeStdin();
    const { code } = await program.wait();
    assertEquals(code, 0);
  });
});
