/**
 * The corporate-network client: a real HTTPS server on 127.0.0.1 whose certificate is signed by
 * a private test CA (tests/fixtures/tls, test-only, valid until 2126), and a real CONNECT proxy.
 */
import { buildFetch, isUntrustedCertificateError } from "../../lib/platform/http_client.ts";
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "../assert.ts";
import { withTempDir } from "../fakes/temp_dir.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { systemClock } from "../../lib/clock.ts";
import { PlatformError } from "../../lib/errors.ts";
import { createPlatformClient } from "../../lib/platform/client.ts";
import { REAL_HTTP } from "../fakes/real_http.ts";

const FIXTURES = new URL("../fixtures/tls/", import.meta.url);
const CA_FILE = new URL("ca.pem", FIXTURES).pathname;

/** An HTTPS server answering "hello from <path>", signed by the test CA. */
async function withTlsServer(fn: (origin: string) => Promise<void>): Promise<void> {
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: Deno.readTextFileSync(new URL("server.pem", FIXTURES)),
    key: Deno.readTextFileSync(new URL("server.key", FIXTURES)),
    onListen() {},
  }, (req) => new Response(`hello from ${new URL(req.url).pathname}`));
  try {
    await fn(`https://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

function closeIfOpen(conn: Deno.TcpConn): void {
  try {
    conn.close();
  } catch (err) {
    // pipeTo already closed it: nothing left to release.
    if (!(err instanceof Deno.errors.BadResource)) throw err;
  }
}

/**
 * A minimal HTTP CONNECT proxy on 127.0.0.1 that records each request head it gets and then
 * tunnels bytes both ways. `stop()` closes it and waits for every tunnel to end.
 */
function startConnectProxy() {
  const heads: string[] = [];
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const tunnels: Promise<void>[] = [];
  const tunnel = async (conn: Deno.TcpConn) => {
    let upstream: Deno.TcpConn | undefined;
    try {
      const buf = new Uint8Array(8192);
      const n = await conn.read(buf);
      const head = new TextDecoder().decode(buf.subarray(0, n ?? 0));
      heads.push(head);
      const target = head.split(" ")[1] ?? "";
      const port = Number(target.slice(target.lastIndexOf(":") + 1));
      upstream = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(new TextEncoder().encode("HTTP/1.1 200 Connection established\r\n\r\n"));
      await Promise.allSettled([
        conn.readable.pipeTo(upstream.writable),
        upstream.readable.pipeTo(conn.writable),
      ]);
    } finally {
      closeIfOpen(conn);
      if (upstream !== undefined) closeIfOpen(upstream);
    }
  };
  const accepting = (async () => {
    for await (const conn of listener) tunnels.push(tunnel(conn));
  })();
  return {
    url: `http://127.0.0.1:${listener.addr.port}`,
    heads,
    async stop() {
      listener.close();
      await accepting;
      await Promise.all(tunnels);
    },
  };
}

Deno.test("http_client: without a CA file, a server signed by a private CA is refused as untrusted", async () => {
  await withTlsServer(async (origin) => {
    const built = buildFetch({}, REAL_HTTP);
    assert(built.ok);
    const err = await assertRejects(() => built.fetch(new Request(`${origin}/x`)));
    assert(isUntrustedCertificateError(err), `expected a certificate error, got ${err}`);
    built.close();
  });
});

Deno.test("http_client: with the CA file, the same server is trusted and answers", async () => {
  await withTlsServer(async (origin) => {
    const built = buildFetch({ caFile: CA_FILE }, REAL_HTTP);
    assert(built.ok, built.ok ? "" : built.problems.join("; "));
    try {
      const res = await built.fetch(new Request(`${origin}/registry/register`));
      assertEquals(res.status, 200);
      assertEquals(await res.text(), "hello from /registry/register");
    } finally {
      built.close();
    }
  });
});

Deno.test("http_client: an explicit proxy URL tunnels the request and sends its credentials", async () => {
  await withTlsServer(async (origin) => {
    const proxy = startConnectProxy();
    const withAuth = proxy.url.replace("http://", "http://ops%40corp:s3cr%3At@");
    const built = buildFetch({ caFile: CA_FILE, proxyUrl: withAuth }, REAL_HTTP);
    try {
      assert(built.ok, built.ok ? "" : built.problems.join("; "));
      const res = await built.fetch(new Request(`${origin}/via-proxy`));
      assertEquals(await res.text(), "hello from /via-proxy");
      built.close();
    } finally {
      await proxy.stop();
    }
    assertEquals(proxy.heads.length, 1);
    const head = proxy.heads[0] ?? "";
    assertMatch(
      head,
      new RegExp(`^CONNECT 127\\.0\\.0\\.1:${new URL(origin).port} HTTP/1\\.1\\r\\n`),
    );
    const auth = new RegExp(`\r\nproxy-authorization: basic ${btoa("ops@corp:s3cr:t")}\r\n`, "i");
    assertMatch(head, auth);
  });
});

Deno.test("http_client: an unreadable CA file is a configuration problem naming the path", () => {
  const built = buildFetch({ caFile: "/nonexistent/corp-ca.pem" }, REAL_HTTP);
  assert(!built.ok);
  assertEquals(built.problems.length, 1);
  assertStringIncludes(built.problems[0] ?? "", 'MOLECULE_CA_FILE "/nonexistent/corp-ca.pem"');
  assertStringIncludes(built.problems[0] ?? "", "cannot be read");
});

Deno.test("http_client: a CA file without a PEM certificate is refused with a conversion hint", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/ca.cer`;
    await Deno.writeFile(path, new Uint8Array([0x30, 0x82, 0x01, 0x0a]));
    const built = buildFetch({ caFile: path }, REAL_HTTP);
    assert(!built.ok);
    assertStringIncludes(built.problems[0] ?? "", "holds no PEM certificate");
    assertStringIncludes(built.problems[0] ?? "", "openssl x509 -inform der");
  });
});

Deno.test("http_client: a PEM block that is not a certificate is refused before any request", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/broken.pem`;
    await Deno.writeTextFile(
      path,
      "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    );
    const built = buildFetch({ caFile: path }, REAL_HTTP);
    assert(!built.ok);
    assertStringIncludes(built.problems[0] ?? "", "was refused by the HTTP client");
  });
});

Deno.test("http_client: bad proxy URLs are problems that never repeat the password", () => {
  const wrongScheme = buildFetch({ proxyUrl: "ftp://ops:hunter2@proxy.corp:21" }, REAL_HTTP);
  assert(!wrongScheme.ok);
  assertStringIncludes(wrongScheme.problems[0] ?? "", "is not a proxy URL");
  assert(!wrongScheme.problems.join("\n").includes("hunter2"));

  const noScheme = buildFetch({ proxyUrl: "ops:hunter2@proxy.corp:3128" }, REAL_HTTP);
  assert(!noScheme.ok);
  assertStringIncludes(noScheme.problems[0] ?? "", "with the scheme");
  assert(!noScheme.problems.join("\n").includes("hunter2"));

  const badEscape = buildFetch({ proxyUrl: "http://ops:hun%ter2@proxy.corp:3128" }, REAL_HTTP);
  assert(!badEscape.ok, "a raw % in the password is a problem, not a crash");
  assertStringIncludes(badEscape.problems[0] ?? "", "percent-encoding");
  assert(!badEscape.problems.join("\n").includes("ter2"));

  const notUrl = buildFetch({ proxyUrl: "http://ops:hunter2@[proxy.corp" }, REAL_HTTP);
  assert(!notUrl.ok);
  assertStringIncludes(notUrl.problems[0] ?? "", "MOLECULE_PROXY_URL is not a URL");
  assert(!notUrl.problems.join("\n").includes("hunter2"));
});

Deno.test("http_client: every problem is reported at once", () => {
  const built = buildFetch({ caFile: " ", proxyUrl: "nope" }, REAL_HTTP);
  assert(!built.ok);
  assertEquals(built.problems.length, 2);
  assertStringIncludes(built.problems[0] ?? "", "MOLECULE_CA_FILE is empty");
  assertStringIncludes(built.problems[1] ?? "", "MOLECULE_PROXY_URL");
});

Deno.test("http_client: the CA file is read once at start-up, not per request", async () => {
  const reads: string[] = [];
  const inits: (RequestInit | undefined)[] = [];
  const clients: Deno.CreateHttpClientOptions[] = [];
  const built = buildFetch({ caFile: "/etc/corp/ca.pem" }, {
    readTextFile(path) {
      reads.push(path);
      return Deno.readTextFileSync(CA_FILE);
    },
    createHttpClient(options) {
      clients.push(options);
      return Deno.createHttpClient(options);
    },
    fetch(_req, init) {
      inits.push(init);
      return Promise.resolve(new Response("ok"));
    },
  });
  assert(built.ok);
  await built.fetch(new Request("https://platform.example/a"));
  await built.fetch(new Request("https://platform.example/b"));
  built.close();
  built.close(); // a second close at shutdown is harmless
  assertEquals(reads, ["/etc/corp/ca.pem"]);
  assertEquals(clients.length, 1);
  assertEquals(inits.length, 2);
  assert(inits.every((init) => init !== undefined && "client" in init));
});

Deno.test("http_client: with nothing configured, requests go to the plain global fetch", async () => {
  const inits: (RequestInit | undefined)[] = [];
  const built = buildFetch({}, {
    readTextFile: () => {
      throw new Error("must not read");
    },
    createHttpClient: () => {
      throw new Error("must not create a client");
    },
    fetch(_req, init) {
      inits.push(init);
      return Promise.resolve(new Response("ok"));
    },
  });
  assert(built.ok);
  assertEquals(await (await built.fetch(new Request("https://platform.example/"))).text(), "ok");
  assertEquals(inits, [undefined]);
  built.close();
});

Deno.test("http_client: a platform behind an untrusted certificate is reported with the MOLECULE_CA_FILE fix", async () => {
  await withTlsServer(async (origin) => {
    const built = buildFetch({}, REAL_HTTP);
    assert(built.ok);
    const platform = createPlatformClient(
      { platformUrl: origin, workspaceId: crypto.randomUUID(), token: "tok-abcdefgh" },
      { fetch: built.fetch, clock: systemClock, log: captureLog().log },
    );
    const err = await assertRejects(() => platform.heartbeat({ uptimeSeconds: 1 }), PlatformError);
    assertStringIncludes((err as PlatformError).next, "MOLECULE_CA_FILE");
    built.close();
  });
});

Deno.test("http_client: the proxy password is handed to the redactor in every form a text shows it", () => {
  const built = buildFetch({ proxyUrl: "http://ops:hun%40ter2x@proxy.corp:3128" }, REAL_HTTP);
  assert(built.ok);
  built.close();
  assertEquals(built.secrets, ["hun@ter2x", "hun%40ter2x", btoa("ops:hun@ter2x")]);
  const none = buildFetch({}, REAL_HTTP);
  assert(none.ok);
  assertEquals(none.secrets, []);
});

Deno.test("http_client: a CA file that is a FIFO or a link to /dev/zero is refused at once, never read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fifo = `${dir}/ca.pem`;
    const mk = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert(mk.success, "mkfifo");
    const zero = `${dir}/zero.pem`;
    await Deno.symlink("/dev/zero", zero);
    for (const path of [fifo, zero]) {
      const built = buildFetch({ caFile: path }, REAL_HTTP);
      assert(!built.ok, `${path} accepted`);
      assertStringIncludes(built.problems.join("\n"), "not a regular file");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
