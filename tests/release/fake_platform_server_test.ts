/**
 * `make fake-platform` as someone trying a real MCP host sees it: the banner names the URL,
 * workspace and token to export, and a message injected from another shell (HTTP control route)
 * or typed on stdin lands in the workspace inbox the program polls.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { banner, CONTROL_PREFIX, serveFakePlatform } from "../../demo/serve_fake_platform.ts";

Deno.test("fake platform server: the banner gives the three values to export", async () => {
  const server = await serveFakePlatform();
  try {
    const text = banner(server.sim);
    assertStringIncludes(text, `export PLATFORM_URL=${server.sim.url}\n`);
    assertStringIncludes(text, `export WORKSPACE_ID=${server.sim.workspace.id}\n`);
    assertStringIncludes(text, `export MOLECULE_WORKSPACE_TOKEN=${server.sim.workspace.token}\n`);
  } finally {
    await server.close();
  }
});

Deno.test("fake platform server: `curl -d text <url>/_fake/say` puts a canvas message in the inbox the program polls", async () => {
  const server = await serveFakePlatform();
  try {
    const { url, workspace } = server.sim;
    const said = await fetch(`${url}${CONTROL_PREFIX}say`, { method: "POST", body: "hi there" });
    assertEquals(said.status, 200);
    assertStringIncludes(await said.text(), "canvas user");
    const feed = await fetch(`${url}/workspaces/${workspace.id}/activity?type=a2a_receive`, {
      headers: { authorization: `Bearer ${workspace.token}` },
    });
    assertEquals(feed.status, 200);
    const body = await feed.text();
    assertStringIncludes(body, "hi there");
    assertStringIncludes(body, '"source_id":null');
  } finally {
    await server.close();
  }
});

Deno.test("fake platform server: stdin commands send from a peer, revoke the token and explain a typo", async () => {
  const server = await serveFakePlatform();
  try {
    const { url, workspace } = server.sim;
    assertStringIncludes(server.command("peer hello from a peer").text, "peer ");
    const rows = server.sim.platform.activity(workspace.id);
    assertEquals(rows.length, 1);
    assert(rows[0]?.source_id !== null, "a peer message names its sender");
    assertStringIncludes(server.command("say").text, "say needs a text");
    assertStringIncludes(server.command("sya hi").text, "unknown command");
    server.command("revoke");
    const refused = await fetch(`${url}/workspaces/${workspace.id}/activity`, {
      headers: { authorization: `Bearer ${workspace.token}` },
    });
    await refused.body?.cancel();
    assertEquals(refused.status, 401);
    assertEquals(server.command("quit").quit, true);
    await server.quitRequested;
  } finally {
    await server.close();
  }
});
