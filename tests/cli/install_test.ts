/**
 * `molecule-mcp install <host>` against temp copies of real-shaped host config files
 * (tests/fixtures/hosts/), with the fake platform served on 127.0.0.1:0 for the workspace
 * name. Every result is parsed again (JSON.parse, smol-toml) and compared with the original:
 * only our entry may change, and the token may appear only in its 0600 file.
 */
import { parse as parseToml } from "smol-toml";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import type { InstallHost, InstallRequest, InstallScope } from "../../lib/cli/args.ts";
import { runInstall } from "../../lib/cli/install.ts";
import { serverNameFor } from "../../lib/cli/install_hosts.ts";
import type { HostProgram } from "../../lib/cli/install_program.ts";
import { systemClock } from "../../lib/clock.ts";
import { readEnv } from "../../lib/config.ts";
import { createFakePlatform } from "../fakes/fake_platform.ts";
import { REPO_ROOT } from "../fakes/spawn.ts";
import { namesIn, withTempDir } from "../fakes/temp_dir.ts";
import { REAL_HTTP } from "../fakes/real_http.ts";
import type { HttpClientDeps } from "../../lib/platform/http_client.ts";

const FIXTURES = `${REPO_ROOT}tests/fixtures/hosts`;
const PROGRAM = { command: "/opt/molecule/bin/molecule-mcp", args: [] };

interface World {
  home: string;
  project: string;
  state: string;
  id: string;
  token: string;
  url: string;
}

/** A served platform with workspace "Acme Agent", and temp home, project and state dirs. */
async function withWorld(fn: (w: World) => Promise<void>): Promise<void> {
  const platform = createFakePlatform();
  const { id, token } = platform.addWorkspace({ name: "Acme Agent" });
  const served = await platform.serve();
  try {
    await withTempDir(async (root) => {
      const w = { home: `${root}/home`, project: `${root}/proj`, state: `${root}/state` };
      for (const dir of Object.values(w)) await Deno.mkdir(dir, { mode: 0o700 });
      await fn({ ...w, id, token, url: served.url });
    });
  } finally {
    await served.close();
  }
}

function install(
  w: World,
  host: InstallHost,
  opts: {
    scope?: InstallScope;
    isForced?: boolean;
    isDryRun?: boolean;
    name?: string;
    env?: Record<string, string>;
    program?: HostProgram;
    http?: HttpClientDeps;
  } = {},
) {
  const request: InstallRequest = {
    command: "install",
    host,
    scope: opts.scope ?? "user",
    isForced: opts.isForced ?? false,
    isDryRun: opts.isDryRun ?? false,
    ...(opts.name === undefined ? {} : { name: opts.name }),
  };
  const values: Record<string, string> = {
    WORKSPACE_ID: w.id,
    PLATFORM_URL: w.url,
    MOLECULE_WORKSPACE_TOKEN: w.token,
    CONFIGS_DIR: w.state,
    HOME: w.home,
    MOLECULE_AGENT_NAME: "laptop agent",
    ...opts.env,
  };
  return runInstall(request, readEnv((name) => values[name]), {
    clock: systemClock,
    http: opts.http ?? REAL_HTTP,
    cwd: w.project,
    program: opts.program ?? PROGRAM,
    containerDir: "/nonexistent-configs",
  });
}

async function copyFixture(name: string, to: string): Promise<string> {
  const text = await Deno.readTextFile(`${FIXTURES}/${name}`);
  await Deno.mkdir(to.slice(0, to.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(to, text, { mode: 0o600 });
  await Deno.chmod(to, 0o600);
  return text;
}

/** smol-toml returns null-prototype objects; compare plain data. */
function plain(value: unknown): Record<string, unknown> {
  return record(JSON.parse(JSON.stringify(value)));
}

function record(value: unknown): Record<string, unknown> {
  assert(typeof value === "object" && value !== null && !Array.isArray(value));
  return Object.fromEntries(Object.entries(value));
}

Deno.test("install: claude-code user scope adds molecule-<slug> to ~/.claude.json, keeping the rest", async () => {
  await withWorld(async (w) => {
    const file = `${w.home}/.claude.json`;
    const before = JSON.parse(await copyFixture("claude.json", file));
    const result = await install(w, "claude-code");
    assertEquals(result.exitCode, 0, result.errors.join("\n"));
    const after = record(JSON.parse(await Deno.readTextFile(file)));

    const servers = record(after.mcpServers);
    assertEquals(Object.keys(servers), ["context7", "molecule-acme-agent"]);
    const tokenFile = `${w.state}/.mcp_workspace_token.${w.id}`;
    assertEquals(servers["molecule-acme-agent"], {
      type: "stdio",
      command: PROGRAM.command,
      args: [],
      env: {
        WORKSPACE_ID: w.id,
        PLATFORM_URL: w.url,
        MOLECULE_WORKSPACE_TOKEN_FILE: tokenFile,
        CONFIGS_DIR: w.state,
        MOLECULE_WORKSPACE_TOKEN: "",
        MOLECULE_AGENT_NAME: "laptop agent",
      },
    });
    // Everything else is exactly as it was, in the same order and layout.
    assertEquals({ ...after, mcpServers: { context7: servers.context7 } }, before);
    assertEquals(Object.keys(after), Object.keys(before));
    assertEquals(await Deno.readTextFile(file), JSON.stringify(after, null, 2) + "\n");
    assertEquals((await Deno.stat(file)).mode! & 0o777, 0o600);

    assertEquals(await Deno.readTextFile(tokenFile), `${w.token}\n`);
    assertEquals((await Deno.stat(tokenFile)).mode! & 0o777, 0o600);
    assert(!(await Deno.readTextFile(file)).includes(w.token), "no token in the host file");
    assert(!result.output.includes(w.token), "no token in the output");
    assertStringIncludes(result.output, "server: molecule-acme-agent");
    assertStringIncludes(result.output, "molecule-mcp doctor");
  });
});

Deno.test("install: an existing entry is shown and kept without --force, replaced with it", async () => {
  await withWorld(async (w) => {
    const file = `${w.home}/.claude.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify(
        {
          mcpServers: {
            "molecule-acme-agent": {
              command: "molecule-mcp",
              env: { MOLECULE_WORKSPACE_TOKEN: "tok_old_plaintext_token_value_123456" },
            },
          },
        },
        null,
        2,
      ) + "\n",
    );
    const original = await Deno.readTextFile(file);
    const refused = await install(w, "claude-code");
    assertEquals(refused.exitCode, 2);
    const error = refused.errors.join("\n");
    assertStringIncludes(error, "already has a server named molecule-acme-agent");
    assertStringIncludes(error, "--force");
    assertStringIncludes(error, '"MOLECULE_WORKSPACE_TOKEN": "(hidden)"');
    assert(!error.includes("tok_old_plaintext"), "an old token in the entry is not shown");
    assertEquals(await Deno.readTextFile(file), original, "untouched without --force");

    const forced = await install(w, "claude-code", { isForced: true });
    assertEquals(forced.exitCode, 0, forced.errors.join("\n"));
    assertStringIncludes(forced.output, "replaces:");
    const env = record(
      record(record(JSON.parse(await Deno.readTextFile(file))).mcpServers)[
        "molecule-acme-agent"
      ],
    ).env;
    assertEquals(record(env).MOLECULE_WORKSPACE_TOKEN, "", "the plaintext token is gone");

    const again = await install(w, "claude-code");
    assertEquals(again.exitCode, 0, "the same entry again is not a conflict");
    assertStringIncludes(again.output, "already there and up to date");
  });
});

Deno.test("install: --dry-run prints the change and writes nothing", async () => {
  await withWorld(async (w) => {
    const file = `${w.home}/.cursor/mcp.json`;
    const original = await copyFixture("cursor_mcp.json", file);
    const result = await install(w, "cursor", { isDryRun: true });
    assertEquals(result.exitCode, 0, result.errors.join("\n"));
    assertStringIncludes(result.output, "dry run: nothing is written");
    assertStringIncludes(result.output, '"molecule-acme-agent"');
    assertStringIncludes(result.output, "would be written");
    assertEquals(await Deno.readTextFile(file), original);
    const names = await namesIn(w.state);
    assertEquals(names, [], "no token file either");
  });
});

Deno.test("install: cursor keeps every other server of a hand-formatted mcp.json", async () => {
  await withWorld(async (w) => {
    const file = `${w.home}/.cursor/mcp.json`;
    const before = record(JSON.parse(await copyFixture("cursor_mcp.json", file)));
    const result = await install(w, "cursor", { name: "molecule-work" });
    assertEquals(result.exitCode, 0, result.errors.join("\n"));
    const after = record(JSON.parse(await Deno.readTextFile(file)));
    const servers = record(after.mcpServers);
    const { ["molecule-work"]: ours, ...rest } = servers;
    assertEquals(rest, before.mcpServers);
    assertEquals(record(ours).command, PROGRAM.command);
    assert(!("type" in record(ours)), "Cursor entries carry no type");
    assertStringIncludes(result.output, "layout was normalised");
  });
});

Deno.test("install: gemini writes mcpServers in ~/.gemini/settings.json, keeping every other setting", async () => {
  await withWorld(async (w) => {
    const file = `${w.home}/.gemini/settings.json`;
    const before = record(JSON.parse(await copyFixture("gemini_settings.json", file)));
    const result = await install(w, "gemini");
    assertEquals(result.exitCode, 0, result.errors.join("\n"));
    const after = record(JSON.parse(await Deno.readTextFile(file)));
    assertEquals(after.security, before.security);
    assertEquals(after.ui, before.ui);
    const { ["molecule-acme-agent"]: ours, ...rest } = record(after.mcpServers);
    assertEquals(rest, before.mcpServers);
    const entry = record(ours);
    assertEquals(entry.command, PROGRAM.command);
    assert(!("type" in entry), "gemini mcp add writes no type for stdio");
    const env = record(entry.env);
    assertEquals(env.WORKSPACE_ID, w.id);
    assert(!JSON.stringify(after).includes(w.token), "no token in the host file");
    assertStringIncludes(result.output, "`gemini mcp list`");
    assertStringIncludes(result.output, "trusted folder");
  });
});

Deno.test("install: claude-code project scope writes .mcp.json and says it is shared", async () => {
  await withWorld(async (w) => {
    const file = `${w.project}/.mcp.json`;
    const before = record(JSON.parse(await copyFixture("claude_project_mcp.json", file)));
    const result = await install(w, "claude-code", { scope: "project" });
    assertEquals(result.exitCode, 0, result.errors.join("\n"));
    const text = await Deno.readTextFile(file);
    assert(!text.endsWith("\n"), "the file's missing final newline stays missing");
    const servers = record(record(JSON.parse(text)).mcpServers);
    assertEquals(servers.other, record(before.mcpServers).other);
    assert("molecule-acme-agent" in servers);
    assertStringIncludes(result.output, "usually committed to version control");
  });
});

Deno.test("install: codex gets one [mcp_servers.<name>] table; every other byte stays", async () => {
  await withWorld(async (w) => {
    const file = `${w.home}/.codex/config.toml`;
    const original = await copyFixture("codex_config.toml", file);
    const result = await install(w, "codex");
    assertEquals(result.exitCode, 0, result.errors.join("\n"));
    const text = await Deno.readTextFile(file);
    assert(text.startsWith(original.trimEnd()), "the original text is kept as it was");

    const before = plain(parseToml(original));
    const after = plain(parseToml(text));
    const servers = record(after.mcp_servers);
    const { ["molecule-acme-agent"]: ours, ...rest } = servers;
    assertEquals({ ...after, mcp_servers: rest }, before);
    assertEquals(ours, {
      command: PROGRAM.command,
      args: [],
      startup_timeout_sec: 30,
      tool_timeout_sec: 330,
      env: {
        WORKSPACE_ID: w.id,
        PLATFORM_URL: w.url,
        MOLECULE_WORKSPACE_TOKEN_FILE: `${w.state}/.mcp_workspace_token.${w.id}`,
        CONFIGS_DIR: w.state,
        MOLECULE_WORKSPACE_TOKEN: "",
        MOLECULE_AGENT_NAME: "laptop agent",
      },
    });

    // Replacing it in place: the tables after it keep their place and bytes.
    const moved = await install(w, "codex", {
      isForced: true,
      env: { MOLECULE_AGENT_NAME: "renamed" },
    });
    assertEquals(moved.exitCode, 0, moved.errors.join("\n"));
    const replaced = await Deno.readTextFile(file);
    assertEquals(replaced.split("[mcp_servers.molecule-acme-agent]").length, 2, "one table");
    const env = record(record(record(parseToml(replaced).mcp_servers)["molecule-acme-agent"]).env);
    assertEquals(env.MOLECULE_AGENT_NAME, "renamed");
    assertEquals(
      replaced.replace(/\n\[mcp_servers\.molecule-acme-agent\][\s\S]*$/, "\n"),
      text
        .replace(/\n\[mcp_servers\.molecule-acme-agent\][\s\S]*$/, "\n"),
    );
  });
});

Deno.test("install: CODEX_HOME and CLAUDE_CONFIG_DIR move the host files as the hosts do", async () => {
  await withWorld(async (w) => {
    const codexHome = `${w.home}/codex-elsewhere`;
    const claudeDir = `${w.home}/claude-elsewhere`;
    const env = { CODEX_HOME: codexHome, CLAUDE_CONFIG_DIR: claudeDir };
    assertEquals((await install(w, "codex", { env })).exitCode, 0);
    assertEquals((await install(w, "claude-code", { env })).exitCode, 0);
    assert((await Deno.stat(`${codexHome}/config.toml`)).isFile);
    assert((await Deno.stat(`${claudeDir}/.claude.json`)).isFile);
  });
});

Deno.test("install: a host file that cannot be parsed is left untouched with the reason", async () => {
  await withWorld(async (w) => {
    const json = `${w.home}/.claude.json`;
    await Deno.writeTextFile(json, '{"mcpServers": {"a": 1},');
    const bad = await install(w, "claude-code");
    assertEquals(bad.exitCode, 2);
    assertStringIncludes(bad.errors.join("\n"), "is not valid JSON");
    assertStringIncludes(bad.errors.join("\n"), "left untouched");
    assertEquals(await Deno.readTextFile(json), '{"mcpServers": {"a": 1},');

    const toml = `${w.home}/.codex/config.toml`;
    await Deno.mkdir(`${w.home}/.codex`);
    const inline = 'model = "x"\nmcp_servers = { other = { command = "y" } }\n';
    await Deno.writeTextFile(toml, inline);
    const refused = await install(w, "codex");
    assertEquals(refused.exitCode, 2);
    assertStringIncludes(refused.errors.join("\n"), "mcp_servers is written as a key/value");
    assertEquals(await Deno.readTextFile(toml), inline);

    await Deno.writeTextFile(toml, '[mcp_servers.a\ncommand = "y"\n');
    const broken = await install(w, "codex");
    assertStringIncludes(broken.errors.join("\n"), "line 1 is not a table header");
  });
});

Deno.test("install: a symlinked host config is edited through the link, which stays", async () => {
  await withWorld(async (w) => {
    const real = `${w.home}/dotfiles-claude.json`;
    await copyFixture("claude.json", real);
    await Deno.symlink(real, `${w.home}/.claude.json`);
    assertEquals((await install(w, "claude-code")).exitCode, 0);
    assert((await Deno.lstat(`${w.home}/.claude.json`)).isSymlink);
    assertStringIncludes(await Deno.readTextFile(real), "molecule-acme-agent");
  });
});

Deno.test("install: a token file the operator set is named as is, and nothing is copied", async () => {
  await withWorld(async (w) => {
    const own = `${w.home}/my-token`;
    await Deno.writeTextFile(own, w.token);
    const result = await install(w, "cursor", {
      env: { MOLECULE_WORKSPACE_TOKEN: "", MOLECULE_WORKSPACE_TOKEN_FILE: own },
    });
    assertEquals(result.exitCode, 0, result.errors.join("\n"));
    const entry = record(
      record(record(JSON.parse(await Deno.readTextFile(`${w.home}/.cursor/mcp.json`))).mcpServers)[
        "molecule-acme-agent"
      ],
    );
    assertEquals(record(entry.env).MOLECULE_WORKSPACE_TOKEN_FILE, own);
    const names: string[] = [];
    for await (const e of Deno.readDir(w.state)) names.push(e.name);
    assert(!names.some((n) => n.startsWith(".mcp_workspace_token")), names.join(", "));
  });
});

Deno.test("install: configuration problems are listed and nothing is written", async () => {
  await withWorld(async (w) => {
    const result = await install(w, "claude-code", {
      env: { WORKSPACE_ID: "nope", MOLECULE_WORKSPACE_TOKEN: "ROTATE_TO_REVEAL_TOKEN" },
      name: "bad name!",
    });
    assertEquals(result.exitCode, 2);
    const text = result.errors.join("\n");
    assertStringIncludes(text, "WORKSPACE_ID is not a workspace UUID");
    assertStringIncludes(text, "placeholder ROTATE_TO_REVEAL_TOKEN");
    assertStringIncludes(text, "--name must be");
    const names: string[] = [];
    for await (const e of Deno.readDir(w.home)) names.push(e.name);
    assertEquals(names, []);
  });
});

Deno.test("install: an unreachable platform only costs the name: the ID names the server", async () => {
  await withWorld(async (w) => {
    const result = await install(w, "cursor", { env: { PLATFORM_URL: "http://127.0.0.1:1" } });
    assertEquals(result.exitCode, 0, result.errors.join("\n"));
    assertStringIncludes(result.output, `server: molecule-${w.id.replace(/-/g, "").slice(0, 8)}`);
    assertStringIncludes(result.output, "could not be read from the platform");
  });
});

Deno.test("install: a token pasted into a copied variable is printed masked (the one redaction step)", async () => {
  await withWorld(async (w) => {
    const result = await install(w, "cursor", {
      isDryRun: true,
      env: { MOLECULE_AGENT_NAME: `agent ${w.token}` },
    });
    assertEquals(result.exitCode, 0, result.errors.join("\n"));
    assertStringIncludes(result.output, "agent [redacted]");
    assert(!result.output.includes(w.token), result.output);
  });
});

Deno.test("install: an --http setting of the shell stays out of the stdio entry, its bearer token unprinted", async () => {
  await withWorld(async (w) => {
    const httpToken = "http-bearer-0123456789abcdef0123456789";
    const result = await install(w, "cursor", {
      env: { MOLECULE_MCP_HTTP: "127.0.0.1:8765", MOLECULE_MCP_HTTP_TOKEN: httpToken },
    });
    assertEquals(result.exitCode, 0, result.errors.join("\n"));
    const text = await Deno.readTextFile(`${w.home}/.cursor/mcp.json`);
    const entry = record(record(record(JSON.parse(text)).mcpServers)["molecule-acme-agent"]);
    const env = record(entry.env);
    assert(!("MOLECULE_MCP_HTTP" in env), "the host starts the entry on stdio");
    assert(!("MOLECULE_MCP_HTTP_TOKEN" in env));
    assert(!text.includes(httpToken) && !result.output.includes(httpToken), result.output);
  });
});

Deno.test("install: a proxy password in MOLECULE_PROXY_URL goes into the entry but is printed masked", async () => {
  await withWorld(async (w) => {
    const proxyUrl = "http://ops:proxy-pass-12345@127.0.0.1:9";
    const result = await install(w, "cursor", { env: { MOLECULE_PROXY_URL: proxyUrl } });
    assertEquals(result.exitCode, 0, result.errors.join("\n"));
    const text = await Deno.readTextFile(`${w.home}/.cursor/mcp.json`);
    const entry = record(
      // The lookup goes through the dead proxy: named by the ID.
      record(record(JSON.parse(text)).mcpServers)[serverNameFor(null, w.id)],
    );
    assertEquals(record(entry.env).MOLECULE_PROXY_URL, proxyUrl, "the server needs it");
    assert(!result.output.includes("proxy-pass-12345"), result.output);
    assertStringIncludes(result.output, "ops:[redacted]@");
  });
});

Deno.test("install: server names follow upstream's molecule-<slug> rule", () => {
  const id = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
  assertEquals(serverNameFor("Acme Agent", id), "molecule-acme-agent");
  assertEquals(serverNameFor("  Ops / Team #2 ", id), "molecule-ops-team-2");
  assertEquals(serverNameFor("a".repeat(30), id), `molecule-${"a".repeat(24)}`);
  assertEquals(serverNameFor("abcdefghijklmnopqrstuvw-x", id), "molecule-abcdefghijklmnopqrstuvw");
  assertEquals(serverNameFor("日本語", id), "molecule-1b4e28ba");
  assertEquals(serverNameFor(null, id), "molecule-1b4e28ba");
  assertEquals(serverNameFor(null, ""), "molecule");
});

Deno.test("install: codex project scope writes .codex/config.toml in the project", async () => {
  await withWorld(async (w) => {
    const result = await install(w, "codex", { scope: "project" });
    assertEquals(result.exitCode, 0, result.errors.join("\n"));
    const parsed = plain(parseToml(await Deno.readTextFile(`${w.project}/.codex/config.toml`)));
    assert("molecule-acme-agent" in record(parsed.mcp_servers));
    assertStringIncludes(result.output, "usually committed to version control");
  });
});

Deno.test("install: an old Codex entry with an inline token is shown with the token hidden", async () => {
  await withWorld(async (w) => {
    const file = `${w.home}/.codex/config.toml`;
    await Deno.mkdir(`${w.home}/.codex`);
    const old = '[mcp_servers.molecule-acme-agent]\ncommand = "molecule-mcp"\n' +
      'env = { WORKSPACE_ID = "x", MOLECULE_WORKSPACE_TOKEN = "tok_inline_old_secret_value_1" }\n';
    await Deno.writeTextFile(file, old);
    const refused = await install(w, "codex");
    assertEquals(refused.exitCode, 2);
    const text = refused.errors.join("\n");
    assertStringIncludes(text, 'MOLECULE_WORKSPACE_TOKEN = "(hidden)"');
    assertStringIncludes(text, 'WORKSPACE_ID = "x"');
    assert(!text.includes("tok_inline_old_secret_value_1"));
    assertEquals(await Deno.readTextFile(file), old);
  });
});

Deno.test("install: with MOLECULE_WORKSPACES, one entry per workspace, each with its own token file and tenant URL", async () => {
  await withWorld(async (w) => {
    const other = createFakePlatform();
    const beta = other.addWorkspace({ name: "Beta Team" });
    const served = await other.serve();
    try {
      const result = await install(w, "claude-code", {
        env: {
          WORKSPACE_ID: "",
          MOLECULE_WORKSPACE_TOKEN: "",
          MOLECULE_WORKSPACES: JSON.stringify([
            { id: w.id, token: w.token },
            { id: beta.id, token: beta.token, platform_url: served.url },
          ]),
        },
      });
      assertEquals(result.exitCode, 0, result.errors.join("\n"));
      const file = `${w.home}/.claude.json`;
      const text = await Deno.readTextFile(file);
      const servers = record(record(JSON.parse(text)).mcpServers);
      assertEquals(Object.keys(servers).sort(), ["molecule-acme-agent", "molecule-beta-team"]);
      const envOfEntry = (name: string) => record(record(servers[name]).env);
      assertEquals(envOfEntry("molecule-beta-team").WORKSPACE_ID, beta.id);
      assertEquals(envOfEntry("molecule-beta-team").PLATFORM_URL, served.url);
      assertEquals(envOfEntry("molecule-acme-agent").PLATFORM_URL, w.url);
      assert(!("MOLECULE_WORKSPACES" in envOfEntry("molecule-beta-team")));
      assertEquals(
        await Deno.readTextFile(`${w.state}/.mcp_workspace_token.${beta.id}`),
        `${beta.token}\n`,
      );
      for (const token of [w.token, beta.token]) {
        assert(!text.includes(token), "no token in the host file");
        assert(!result.output.includes(token), "no token in the output");
      }
      const named = await install(w, "claude-code", {
        name: "molecule-x",
        env: {
          WORKSPACE_ID: "",
          MOLECULE_WORKSPACES: JSON.stringify([
            { id: w.id, token: w.token },
            { id: beta.id, token: beta.token, platform_url: served.url },
          ]),
        },
      });
      assertEquals(named.exitCode, 2);
      assertStringIncludes(named.errors.join("\n"), "--name names one entry");
    } finally {
      await served.close();
    }
  });
});

Deno.test("install: with MOLECULE_WORKSPACES, the CA file is read once for the run, not once per workspace", async () => {
  await withWorld(async (w) => {
    const read: string[] = [];
    const http: HttpClientDeps = {
      ...REAL_HTTP,
      readTextFile: (path) => {
        read.push(path);
        return "-----BEGIN CERTIFICATE-----\n(a stand-in)\n-----END CERTIFICATE-----\n";
      },
      // The fake platform is plain http: the stand-in certificate is never used.
      createHttpClient: () => Deno.createHttpClient({}),
    };
    const result = await install(w, "cursor", {
      isDryRun: true,
      http,
      env: {
        WORKSPACE_ID: "",
        MOLECULE_WORKSPACE_TOKEN: "",
        MOLECULE_CA_FILE: `${w.home}/ca.pem`,
        MOLECULE_WORKSPACES: JSON.stringify([
          { id: w.id, token: w.token },
          { id: "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", token: w.token },
        ]),
      },
    });
    assertEquals(result.exitCode, 0, result.errors.join("\n"));
    assertStringIncludes(result.output, "molecule-acme-agent", "the name lookup used that fetch");
    assertEquals(read, [`${w.home}/ca.pem`]);
  });
});

Deno.test("install: a CA file the server would refuse is a problem: nothing is written, as for one or a list", async () => {
  await withWorld(async (w) => {
    const missing = `${w.home}/missing-ca.pem`;
    const one = await install(w, "cursor", { env: { MOLECULE_CA_FILE: missing } });
    const listed = await install(w, "cursor", {
      env: {
        WORKSPACE_ID: "",
        MOLECULE_WORKSPACE_TOKEN: "",
        MOLECULE_CA_FILE: missing,
        MOLECULE_WORKSPACES: JSON.stringify([{ id: w.id, token: w.token }]),
      },
    });
    for (const result of [one, listed]) {
      assertEquals(result.exitCode, 2, result.output);
      assertStringIncludes(result.errors.join("\n"), "MOLECULE_CA_FILE");
      assertStringIncludes(result.errors[0] ?? "", "nothing was written");
    }
    const wrote = await Deno.stat(`${w.home}/.cursor/mcp.json`).then(() => true, () => false);
    assert(!wrote, "no host file");
  });
});

Deno.test("install: a checkout's note is said once after the entry, and once for all of MOLECULE_WORKSPACES", async () => {
  await withWorld(async (w) => {
    const program = { command: "/usr/bin/deno", args: ["run", "/src/main.ts"], note: "NOTE-X" };
    const one = await install(w, "cursor", { isDryRun: true, program });
    assertEquals(one.exitCode, 0, one.errors.join("\n"));
    assertEquals(one.output.split("note: NOTE-X").length - 1, 1, one.output);
    assert(!one.output.includes('"note"'), "the note is not part of the entry");
    const both = await install(w, "cursor", {
      isDryRun: true,
      program,
      env: {
        WORKSPACE_ID: "",
        MOLECULE_WORKSPACE_TOKEN: "",
        MOLECULE_WORKSPACES: JSON.stringify([
          { id: w.id, token: w.token },
          { id: "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", token: w.token },
        ]),
      },
    });
    assertEquals(both.exitCode, 0, both.errors.join("\n"));
    assertEquals(both.output.split("note: NOTE-X").length - 1, 1, both.output);
    assert(both.output.trimEnd().endsWith("note: NOTE-X"), both.output);
  });
});
