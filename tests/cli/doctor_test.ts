/**
 * `molecule-mcp doctor` in process, against the fake platform served on 127.0.0.1:0 with the
 * real fetch and a temp state directory: each broken link is pinpointed by the check that
 * names it, and the rest of the report stays honest.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { type DoctorDeps, renderReport, runDoctor } from "../../lib/cli/doctor.ts";
import { checkConfiguration } from "../../lib/cli/doctor_checks.ts";
import type { CheckResult } from "../../lib/cli/doctor_result.ts";
import { type Env, readEnv } from "../../lib/config.ts";
import { systemClock } from "../../lib/clock.ts";
import { createLogger } from "../../lib/log.ts";
import { acquireInboxLock } from "../../lib/inbox/lock.ts";
import { workspaceStatePath } from "../../lib/state/state_files.ts";
import type { HttpClientDeps } from "../../lib/platform/http_client.ts";
import {
  createFakePlatform,
  type FakePlatform,
  type PlatformVersion,
} from "../fakes/fake_platform.ts";
import { withTempDir } from "../fakes/temp_dir.ts";
import { makeFifo } from "../fakes/special_files.ts";
import { REAL_HTTP } from "../fakes/real_http.ts";

function envOf(values: Record<string, string>): Env {
  return readEnv((name) => values[name]);
}

interface Setup {
  platform: FakePlatform;
  url: string;
  id: string;
  token: string;
  dir: string;
}

/** A served fake platform with one workspace, and a temp state directory. */
async function withPlatform(
  fn: (s: Setup) => Promise<void>,
  opts: { version?: PlatformVersion } = {},
): Promise<void> {
  const platform = createFakePlatform(opts.version === undefined ? {} : { version: opts.version });
  const { id, token } = platform.addWorkspace({ name: "Acme Agent" });
  const served = await platform.serve();
  try {
    await withTempDir((dir) => fn({ platform, url: served.url, id, token, dir }));
  } finally {
    await served.close();
  }
}

async function doctorWith(
  values: Record<string, string>,
  opts: { http?: HttpClientDeps; containerDir?: string; probeLock?: DoctorDeps["probeLock"] } = {},
) {
  const report = await runDoctor(
    { env: envOf(values), version: "9.9.9", runtime: "test" },
    {
      clock: systemClock,
      http: opts.http ?? REAL_HTTP,
      containerDir: opts.containerDir ?? "/nonexistent-configs",
      ...(opts.probeLock === undefined ? {} : { probeLock: opts.probeLock }),
    },
  );
  const text = renderReport(report, { colour: false });
  return { report, text, status: statusOf(report.results) };
}

/** label → status, for asserting the verdicts a user reads. */
function statusOf(results: CheckResult[]): Record<string, string> {
  return Object.fromEntries(results.map((r) => [r.label, r.status]));
}

function baseEnv(s: Setup): Record<string, string> {
  return {
    WORKSPACE_ID: s.id,
    PLATFORM_URL: s.url,
    MOLECULE_WORKSPACE_TOKEN: s.token,
    CONFIGS_DIR: s.dir,
  };
}

Deno.test("doctor: a working setup passes every check in order and exits 0", async () => {
  await withPlatform(async (s) => {
    const { report, text, status } = await doctorWith(baseEnv(s));
    assertEquals(report.exitCode, 0, text);
    assertEquals(report.results.map((r) => r.label), [
      "version",
      "configuration",
      "state directory",
      "platform reachable",
      "workspace",
      "token accepted",
      "inbox readable",
      "event stream",
      "transport security",
      "fetched uploads",
      `workspace ${s.id.slice(0, 8)}`,
    ]);
    for (const [label, verdict] of Object.entries(status)) {
      assert(verdict === "ok" || verdict === "skip", `${label}: ${verdict}\n${text}`);
    }
    assertStringIncludes(text, '"Acme Agent"');
    assertStringIncludes(text, "[OK] version: molecule-mcp 9.9.9");
    assertStringIncludes(text, "(from env WORKSPACE_ID)");
    assertStringIncludes(text, "token: from env MOLECULE_WORKSPACE_TOKEN (value not shown)");
    assertStringIncludes(text, `state directory: ${s.dir} (from env CONFIGS_DIR)`);
    assertStringIncludes(
      text,
      `[OK] fetched uploads: ${s.dir}/uploads/${s.id} (in the state directory): none fetched yet`,
    );
    assert(!text.includes(s.token), "the token never shows");
    assertStringIncludes(text, "No failures");
  });
});

Deno.test("doctor: a heartbeat proves the token; it never registers (the agent card stays)", async () => {
  await withPlatform(async (s) => {
    await doctorWith(baseEnv(s));
    const routes = s.platform.requests.map((r) => r.route);
    assert(routes.includes("POST /registry/heartbeat"));
    assert(!routes.includes("POST /registry/register"), routes.join(", "));
    const inbox = s.platform.requests.find((r) => r.route === "GET /workspaces/:id/activity");
    assertEquals(inbox?.query.limit, "1");
  });
});

Deno.test("doctor: a wrong token is pinpointed by 'token accepted', exit 1", async () => {
  await withPlatform(async (s) => {
    const wrong = "tok_wrong_abcdefghijklmnopqrstuvwxyz012345";
    const { report, text, status } = await doctorWith({
      ...baseEnv(s),
      MOLECULE_WORKSPACE_TOKEN: wrong,
    });
    assertEquals(report.exitCode, 1);
    assertEquals(status["platform reachable"], "ok");
    assertEquals(status["workspace"], "ok");
    assertEquals(status["token accepted"], "fail");
    assertStringIncludes(text, "[FAIL] token accepted: the platform refused the token (HTTP 401");
    assertStringIncludes(text, "Tokens tab");
    assert(!text.includes(wrong), "not even a wrong token shows");
    // Found by hand: the inbox check's own 401 advice ("a token of another workspace?") sent
    // the operator the wrong way, and the summary read "(token accepted, … failed)".
    assertEquals(status["inbox readable"], "skip");
    assertStringIncludes(text, "[SKIP] inbox readable: skipped: fix the token first");
    assertEquals(status["event stream"], "skip");
    assertStringIncludes(text, "not working; failed: token accepted\n");
  });
});

Deno.test("doctor: a URL that is not the platform API is pinpointed by 'workspace'", async () => {
  await withPlatform(async (s) => {
    const { report, text, status } = await doctorWith({
      ...baseEnv(s),
      PLATFORM_URL: `${s.url}/canvas`,
    });
    assertEquals(report.exitCode, 1);
    assertEquals(status["platform reachable"], "ok");
    assertEquals(status["workspace"], "fail");
    assertEquals(status["token accepted"], "skip");
    assertStringIncludes(text, "does not look like the Molecule platform API");
    // Found by hand: the next step said "check WORKSPACE_ID"; the path is what is wrong.
    const next = text.split("[FAIL] workspace:")[1]?.split("\n")[1] ?? "";
    assertStringIncludes(next, "next: PLATFORM_URL must be the tenant's base address");
    assertStringIncludes(next, 'drop the path "/canvas"');
  });
});

Deno.test("doctor: another web server on the platform's port is named, not the workspace ID", async () => {
  const other = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("404 page not found", { status: 404 }),
  );
  try {
    await withTempDir(async (dir) => {
      const { text, status } = await doctorWith({
        WORKSPACE_ID: "7a9c2c1e-1111-4222-8333-444455556666",
        PLATFORM_URL: `http://127.0.0.1:${other.addr.port}`,
        MOLECULE_WORKSPACE_TOKEN: "tok_abcdefghijklmnopqrstuvwxyz0123456789",
        CONFIGS_DIR: dir,
      });
      assertEquals(status["workspace"], "fail");
      const next = text.split("[FAIL] workspace:")[1]?.split("\n")[1] ?? "";
      assertStringIncludes(next, "not another service");
      assert(!next.includes("WORKSPACE_ID"), next);
    });
  } finally {
    await other.shutdown();
  }
});

Deno.test("doctor: https:// to a plain-HTTP port says to use http://", async () => {
  // Found by hand: the message was rustls' "received corrupt message of type InvalidContentType".
  await withPlatform(async (s) => {
    const { text, status } = await doctorWith({
      ...baseEnv(s),
      PLATFORM_URL: s.url.replace("http://", "https://"),
    });
    assertEquals(status["platform reachable"], "fail");
    assertStringIncludes(text, "answered in plain HTTP, not TLS");
    assertStringIncludes(text, "next: use http:// in PLATFORM_URL");
  });
});

Deno.test("doctor: a closed port is pinpointed by 'platform reachable'", async () => {
  const platform = createFakePlatform();
  const { id, token } = platform.addWorkspace();
  const served = await platform.serve();
  await served.close(); // nothing listens on that port any more
  await withTempDir(async (dir) => {
    const { report, text, status } = await doctorWith({
      WORKSPACE_ID: id,
      PLATFORM_URL: served.url,
      MOLECULE_WORKSPACE_TOKEN: token,
      CONFIGS_DIR: dir,
    });
    assertEquals(report.exitCode, 1);
    assertEquals(status["platform reachable"], "fail");
    assertEquals(status["token accepted"], "skip");
    assertStringIncludes(text, "connection refused");
    assertStringIncludes(text, "check the port in PLATFORM_URL");
  });
});

Deno.test("doctor: a workspace ID the platform does not know is named as such", async () => {
  await withPlatform(async (s) => {
    const unknown = "0b4e28ba-2fa1-11d2-883f-0016d3cca427";
    const { text, status } = await doctorWith({ ...baseEnv(s), WORKSPACE_ID: unknown });
    assertEquals(status["workspace"], "fail");
    assertStringIncludes(text, `the platform does not know workspace ${unknown}`);
  });
});

Deno.test("doctor: configuration problems are all listed and the network is not touched", async () => {
  await withTempDir(async (dir) => {
    const { report, text, status } = await doctorWith({
      WORKSPACE_ID: "not-a-uuid",
      CONFIGS_DIR: dir,
    });
    assertEquals(report.exitCode, 1);
    assertEquals(status["configuration"], "fail");
    assertEquals(status["platform checks"], "skip");
    assertStringIncludes(text, "problem: WORKSPACE_ID is not a workspace UUID");
    assertStringIncludes(text, "problem: PLATFORM_URL is not set");
    assertStringIncludes(text, "problem: No workspace token found");
  });
});

Deno.test("doctor: the token file is named as the source, and a canvas placeholder refused", async () => {
  await withPlatform(async (s) => {
    const file = `${s.dir}/token`;
    await Deno.writeTextFile(file, `${s.token}\n`);
    const env = {
      ...baseEnv(s),
      MOLECULE_WORKSPACE_TOKEN: "",
      MOLECULE_WORKSPACE_TOKEN_FILE: file,
    };
    const ok = await doctorWith(env);
    assertStringIncludes(ok.text, `token: from file "${file}" named by env`);
    assertEquals(ok.report.exitCode, 0, ok.text);

    await Deno.writeTextFile(file, "ROTATE_TO_REVEAL_TOKEN\n");
    const bad = await doctorWith(env);
    assertEquals(bad.status["configuration"], "fail");
    assertStringIncludes(bad.text, "placeholder ROTATE_TO_REVEAL_TOKEN");
  });
});

Deno.test("doctor: a check that throws prints [BUG] and counts as a failure", async () => {
  await withPlatform(async (s) => {
    const { report, text, status } = await doctorWith(baseEnv(s), {
      probeLock: () => Promise.reject(new Error("probe exploded")),
    });
    assertEquals(report.exitCode, 1);
    assertStringIncludes(text, "[BUG] state directory: the check itself failed");
    assertStringIncludes(text, "probe exploded");
    assertEquals(status["token accepted"], "ok", "later checks still run");
  });
});

Deno.test("doctor: a token inside any check's text is printed masked (the one redaction step)", async () => {
  await withPlatform(async (s) => {
    const { text } = await doctorWith(baseEnv(s), {
      probeLock: () => Promise.reject(new Error(`probe echoed Bearer ${s.token}`)),
    });
    assertStringIncludes(text, "probe echoed Bearer [redacted]");
    assert(!text.includes(s.token), text);
  });
});

Deno.test("doctor: the platform's workspace name reaches the terminal sanitised and cut", async () => {
  const platform = createFakePlatform();
  const hostile = `Acme\u009b31m\u202eAgent\n${"x".repeat(5_000)}`;
  const { id, token } = platform.addWorkspace({ name: hostile });
  const served = await platform.serve();
  try {
    await withTempDir(async (dir) => {
      const { text, status } = await doctorWith(
        baseEnv({ platform, url: served.url, id, token, dir }),
      );
      assertEquals(status["workspace"], "ok", text);
      assertStringIncludes(text, '"AcmeAgent xxx');
      assert(!/[\u0080-\u009f\u202e]/.test(text), "no C1 control or bidi override");
      assert(!text.includes("x".repeat(300)), "the name is cut");
    });
  } finally {
    await served.close();
  }
});

Deno.test("doctor: a running server is seen through its inbox lock", async () => {
  await withPlatform(async (s) => {
    const lock = await acquireInboxLock(s.dir, {
      pid: 4242,
      fileSuffix: `.${s.id}`,
      log: createLogger({ write: () => {}, level: "error" }),
    });
    try {
      const { text } = await doctorWith(baseEnv(s));
      assertStringIncludes(text, "a molecule-mcp server (pid 4242) is using its inbox now");
    } finally {
      lock.release();
    }
    const { text } = await doctorWith(baseEnv(s));
    assertStringIncludes(text, "no molecule-mcp server is using its inbox right now");
  });
});

Deno.test("doctor: an inbox cursor from another workspace warns that it is not in this feed", async () => {
  await withPlatform(async (s) => {
    const other = s.platform.addWorkspace();
    const row = s.platform.sendToInbox(other.id, { text: "hello" });
    await Deno.writeTextFile(
      workspaceStatePath(s.dir, "cursor", s.id),
      JSON.stringify({ id: row.id, created_at: row.created_at }),
    );
    const { report, text, status } = await doctorWith(baseEnv(s));
    assertEquals(status["inbox readable"], "warn", text);
    assertStringIncludes(text, "copied from another workspace");
    assertEquals(report.exitCode, 0, "a warning alone does not fail the run");
  });
});

Deno.test("doctor: an open state directory is a warning with the chmod to run", async () => {
  await withPlatform(async (s) => {
    await Deno.chmod(s.dir, 0o755);
    const { text, status } = await doctorWith(baseEnv(s));
    assertEquals(status["state directory"], "warn");
    assertStringIncludes(text, `chmod 700 ${s.dir}`);
  });
});

Deno.test("doctor: an uploads folder over MOLECULE_CHAT_UPLOAD_MAX_MB warns, per workspace, without failing", async () => {
  await withPlatform(async (s) => {
    const root = `${s.dir}/attached`;
    await Deno.mkdir(`${root}/${s.id}`, { recursive: true, mode: 0o700 });
    await Deno.chmod(`${root}/${s.id}`, 0o700);
    await Deno.writeFile(`${root}/${s.id}/f1-scan.pdf`, new Uint8Array(1536 * 1024));
    const { report, text, status } = await doctorWith({
      ...baseEnv(s),
      MOLECULE_CHAT_UPLOAD_DIR: root,
      MOLECULE_CHAT_UPLOAD_MAX_MB: "1",
      MOLECULE_CHAT_UPLOAD_RETENTION_DAYS: "3",
    });
    assertEquals(report.exitCode, 0, text);
    assertEquals(status["fetched uploads"], "warn", text);
    assertEquals(status[`workspace ${s.id.slice(0, 8)}`], "warn", text);
    assertStringIncludes(
      text,
      `[WARN] fetched uploads: ${root}/${s.id} (from MOLECULE_CHAT_UPLOAD_DIR): 1 file(s), ` +
        "1.5 MiB of the 1 MiB cap; kept 3 day(s) once no queued message mentions them",
    );
    assertStringIncludes(text, "over the cap by 0.5 MiB");
  });
});

Deno.test("doctor: plain http:// to another machine warns; loopback and https do not", async () => {
  const platform = createFakePlatform();
  const { id, token } = platform.addWorkspace();
  await withTempDir(async (dir) => {
    const http: HttpClientDeps = { ...REAL_HTTP, fetch: (req) => platform.fetch(req) };
    const { text, status } = await doctorWith({
      WORKSPACE_ID: id,
      PLATFORM_URL: "http://platform.example.com",
      MOLECULE_WORKSPACE_TOKEN: token,
      CONFIGS_DIR: dir,
    }, { http });
    assertEquals(status["transport security"], "warn", text);
    assertStringIncludes(text, "cross the network unencrypted");
    const secure = await doctorWith({
      WORKSPACE_ID: id,
      PLATFORM_URL: "https://platform.example.com",
      MOLECULE_WORKSPACE_TOKEN: token,
      CONFIGS_DIR: dir,
    }, { http });
    assertEquals(secure.status["transport security"], "ok");
  });
});

Deno.test("doctor: colour codes appear only when asked for", async () => {
  await withPlatform(async (s) => {
    const { report } = await doctorWith(baseEnv(s));
    assert(renderReport(report, { colour: true }).includes("\x1b[32m[OK]\x1b[0m"));
    assert(!renderReport(report, { colour: false }).includes("\x1b["));
  });
});

Deno.test("doctor: a cursor file written for another workspace is named, and left in place", async () => {
  await withPlatform(async (s) => {
    const other = "0b4e28ba-2fa1-11d2-883f-0016d3cca427";
    const path = workspaceStatePath(s.dir, "cursor", s.id);
    const text = JSON.stringify({
      id: "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
      created_at: "2026-05-01T10:11:12.123456Z",
      workspace_id: other,
    });
    await Deno.writeTextFile(path, text, { mode: 0o600 });
    const { text: out, status } = await doctorWith(baseEnv(s));
    assertEquals(status["inbox readable"], "warn", out);
    assertStringIncludes(out, `belongs to workspace ${other}`);
    assertEquals(await Deno.readTextFile(path), text, "doctor changes no state file");
  });
});

Deno.test("doctor: the event stream is opened through the same client and its first bytes awaited", async () => {
  await withPlatform(async (s) => {
    const { text, status } = await doctorWith(baseEnv(s));
    assertEquals(status["event stream"], "ok", text);
    assertStringIncludes(text, "messages are fetched as soon as they are written");
  });
});

Deno.test("doctor: a platform without the event stream is a skip that names the poll interval", async () => {
  await withPlatform(async (s) => {
    const { report, text, status } = await doctorWith(baseEnv(s));
    assertEquals(status["event stream"], "skip", text);
    assertStringIncludes(
      text,
      "no event stream (an older release): messages arrive by polling every 5 s",
    );
    assertEquals(report.exitCode, 0, text);
  }, { version: "seed" });
});

Deno.test("doctor: a token refused on the event stream fails; MOLECULE_MCP_EVENT_STREAM=0 skips it", async () => {
  await withPlatform(async (s) => {
    s.platform.failNext("GET /workspaces/:id/events/stream", 401);
    const refused = await doctorWith(baseEnv(s));
    assertEquals(refused.status["event stream"], "fail", refused.text);
    assertStringIncludes(refused.text, "refused the token on the event stream (HTTP 401)");
    const off = await doctorWith({ ...baseEnv(s), MOLECULE_MCP_EVENT_STREAM: "0" });
    assertEquals(off.status["event stream"], "skip", off.text);
    assertStringIncludes(off.text, "turned off by MOLECULE_MCP_EVENT_STREAM=0");
  });
});

Deno.test("doctor: an untrusted TLS certificate is pinpointed; MOLECULE_CA_FILE fixes it", async () => {
  const tls = new URL("../fixtures/tls/", import.meta.url);
  const platform = createFakePlatform();
  const { id, token } = platform.addWorkspace({ name: "TLS" });
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: Deno.readTextFileSync(new URL("server.pem", tls)),
    key: Deno.readTextFileSync(new URL("server.key", tls)),
    onListen() {},
  }, (req) => platform.fetch(req));
  try {
    await withTempDir(async (dir) => {
      const env = {
        WORKSPACE_ID: id,
        PLATFORM_URL: `https://127.0.0.1:${server.addr.port}`,
        MOLECULE_WORKSPACE_TOKEN: token,
        CONFIGS_DIR: dir,
      };
      const untrusted = await doctorWith(env);
      assertEquals(untrusted.status["platform reachable"], "fail", untrusted.text);
      assertStringIncludes(untrusted.text, "TLS: the certificate of 127.0.0.1");
      assertStringIncludes(untrusted.text, "MOLECULE_CA_FILE");

      const trusted = await doctorWith({
        ...env,
        MOLECULE_CA_FILE: new URL("ca.pem", tls).pathname,
      });
      assertEquals(trusted.report.exitCode, 0, trusted.text);
      assertStringIncludes(trusted.text, "[OK] transport security: https (TLS)");
    });
  } finally {
    await server.shutdown();
  }
});

Deno.test("doctor: a lock file that is a FIFO is warned about and never opened (no hang)", async () => {
  await withPlatform(async (s) => {
    const lock = workspaceStatePath(s.dir, "lock", s.id);
    await makeFifo(lock);
    const { text, status } = await doctorWith(baseEnv(s));
    assertEquals(status["state directory"], "warn", text);
    assertStringIncludes(text, `${lock} is not a regular file`);
  });
});

Deno.test("doctor: with MOLECULE_WORKSPACES every workspace gets its own checks on its own tenant; a wrong token is pinned to its workspace", async () => {
  await withPlatform(async (s) => {
    const other = createFakePlatform();
    const beta = other.addWorkspace({ name: "Beta" });
    const served = await other.serve();
    try {
      const wrong = "tok_wrong_for_beta_abcdefghijklmnopqrstuvwxyz";
      const { report, text, status } = await doctorWith({
        PLATFORM_URL: s.url,
        MOLECULE_WORKSPACES: JSON.stringify([
          { id: s.id, token: s.token },
          { id: beta.id, token: wrong, platform_url: served.url },
        ]),
        CONFIGS_DIR: s.dir,
      });
      assertEquals(report.exitCode, 1, text);
      const alphaTag = s.id.slice(0, 8);
      const betaTag = beta.id.slice(0, 8);
      assertEquals(status[`token accepted (${alphaTag})`], "ok", text);
      assertEquals(status[`token accepted (${betaTag})`], "fail", text);
      assertEquals(status[`platform reachable (${betaTag})`], "ok", text);
      assertStringIncludes(text, "MOLECULE_WORKSPACES = (set; tokens not shown): 2 workspace(s)");
      assertStringIncludes(text, `[1] ${beta.id} on ${served.url}`);
      // Each heartbeat went to its own tenant.
      assert(other.requests.some((r) => r.route === "POST /registry/heartbeat"));
      for (const token of [s.token, wrong]) assert(!text.includes(token), "no token shows");
    } finally {
      await served.close();
    }
  });
});

Deno.test("doctor: a long variable value is cut between characters, never inside an emoji", async () => {
  await withTempDir(async (dir) => {
    const name = `${"a".repeat(96)}😀${"b".repeat(20)}`;
    const findings = await checkConfiguration(
      envOf({ HOME: dir, MOLECULE_AGENT_NAME: name }),
      { http: REAL_HTTP },
    );
    findings.closeHttp();
    const lines = findings.results.flatMap((r) => [r.message, ...(r.details ?? [])]).join("\n");
    assertStringIncludes(lines, `"${"a".repeat(96)}😀..."`);
    assert(!lines.includes("\\ud83d"), "no half of a surrogate pair in the report");
  });
});

Deno.test("doctor: the --http bearer token (MOLECULE_MCP_HTTP_TOKEN) is shown as set, never printed", async () => {
  await withTempDir(async (dir) => {
    const secret = "http-bearer-7f3a9c1e5b2d4f60";
    const findings = await checkConfiguration(
      envOf({ HOME: dir, MOLECULE_MCP_HTTP_TOKEN: secret }),
      { http: REAL_HTTP },
    );
    findings.closeHttp();
    const lines = findings.results.flatMap((r) => [r.message, ...(r.details ?? [])]).join("\n");
    assertStringIncludes(lines, "MOLECULE_MCP_HTTP_TOKEN = (set; value not shown)");
    assert(!lines.includes(secret), "the token is not in the report");
  });
});
