/**
 * The HTTP client every platform request goes through, for corporate networks: an extra CA
 * bundle (TLS-inspecting proxies re-sign traffic with a private CA) and an explicit proxy.
 *
 * Why our own option and not only Deno's: `deno run` honours DENO_CERT, HTTPS_PROXY and NO_PROXY,
 * but a compiled binary takes its CA settings from what was baked in at compile time, falling
 * back to DENO_CERT / DENO_TLS_CA_STORE only when nothing was baked in. An explicit
 * `Deno.createHttpClient({ caCerts, proxy })` behaves the same under `deno run` and in the
 * binary, so operators get one documented switch. Deno's own HTTPS_PROXY / HTTP_PROXY /
 * ALL_PROXY / NO_PROXY handling stays active underneath (Deno reads those itself, without
 * --allow-env); an explicit proxy URL takes precedence over them.
 *
 * The CA file is read once, here, at start-up; every problem is returned as text for the
 * configuration problems list rather than thrown. Reading env vars is left to the config.
 */
import { readNamedFileSync, UnsafeStateFileError } from "../state/safe_file.ts";

/** Fetch as lib/ sees it: one Request in, one Response out. */
export type Fetch = (req: Request) => Promise<Response>;

/** What the operator configured; an absent field means "use Deno's defaults". */
export interface HttpClientOptions {
  /** Path of a PEM file with extra CA certificates to trust (added to the built-in roots). */
  caFile?: string;
  /** Proxy for every request: `http(s)://[user:password@]host:port` or `socks5(h)://…`. */
  proxyUrl?: string;
}

/** The real things buildFetch touches; main.ts passes Deno's, tests may pass their own. */
export interface HttpClientDeps {
  /** readRegularTextFileSync (bounded, regular files only); needs read permission. */
  readTextFile(path: string): string;
  /** `Deno.createHttpClient`: needs net permission for the proxy host. */
  createHttpClient(options: Deno.CreateHttpClientOptions): Deno.HttpClient;
  /** The global `fetch`. */
  fetch(req: Request, init?: RequestInit & { client?: Deno.HttpClient }): Promise<Response>;
}

/**
 * A ready fetch plus `close()` to release the custom client at shutdown, and the secrets the
 * options carry (the proxy password as written and decoded, and the Basic credentials a proxy
 * sees) for the redactor; or the problems.
 */
export type HttpClientResult =
  | { ok: true; fetch: Fetch; close(): void; secrets: string[] }
  | { ok: false; problems: string[] };

/** A CA bundle larger than this is refused: system bundles are a few hundred KB. */
export const CA_FILE_MAX_BYTES = 4 * 1024 * 1024;

/**
 * Reads MOLECULE_CA_FILE synchronously, as buildFetch needs it, by state/safe_file.ts's rules
 * for a file the operator names: links are followed (certificate mounts usually are links),
 * but the file must end at a regular file of at most `maxBytes`, so a FIFO or a link to
 * /dev/zero is refused at once instead of hanging start-up or reading without bound. Throws
 * UnsafeStateFileError saying which. Needs read permission.
 */
export function readRegularTextFileSync(path: string, maxBytes = CA_FILE_MAX_BYTES): string {
  return new TextDecoder().decode(readNamedFileSync(path, maxBytes));
}

const PROXY_SCHEMES = new Set(["http:", "https:", "socks5:", "socks5h:"]);
const PEM_CERT_MARKER = "-----BEGIN CERTIFICATE-----";

/**
 * Builds the fetch function for the platform client. With no option set it is the global
 * fetch, untouched. With a CA file and/or a proxy URL it is fetch bound to one
 * `Deno.HttpClient` (stable API, no --unstable flag). Reads the CA file once, now. Never
 * throws for a configuration fault: every fault comes back in `problems`, and none of them
 * repeats a proxy password.
 */
export function buildFetch(opts: HttpClientOptions, deps: HttpClientDeps): HttpClientResult {
  const problems: string[] = [];
  const clientOptions: Deno.CreateHttpClientOptions = {};

  if (opts.caFile !== undefined) {
    const pem = readCaFile(opts.caFile, deps, problems);
    if (pem !== undefined) clientOptions.caCerts = [pem];
  }
  if (opts.proxyUrl !== undefined) {
    const proxy = parseProxyUrl(opts.proxyUrl, problems);
    if (proxy !== undefined) clientOptions.proxy = proxy;
  }
  if (problems.length > 0) return { ok: false, problems };

  const secrets = proxySecrets(opts.proxyUrl, clientOptions.proxy);
  if (clientOptions.caCerts === undefined && clientOptions.proxy === undefined) {
    return { ok: true, fetch: (req) => deps.fetch(req), close: () => {}, secrets };
  }

  let client: Deno.HttpClient;
  try {
    client = deps.createHttpClient(clientOptions);
  } catch (err) {
    // Deno rejects a PEM block whose body is not a certificate, and proxy URLs it cannot use.
    const what = opts.caFile !== undefined
      ? `MOLECULE_CA_FILE "${opts.caFile}" or MOLECULE_PROXY_URL`
      : "MOLECULE_PROXY_URL";
    return {
      ok: false,
      problems: [`${what} was refused by the HTTP client: ${errorText(err)}`],
    };
  }
  let isClosed = false;
  return {
    ok: true,
    secrets,
    fetch: (req) => deps.fetch(req, { client }),
    close: () => {
      if (isClosed) return;
      isClosed = true;
      client.close();
    },
  };
}

/**
 * True when `err` (a fetch rejection) says the server's certificate is not trusted, the
 * usual sign of a TLS-inspecting proxy: the caller can then suggest MOLECULE_CA_FILE.
 */
export function isUntrustedCertificateError(err: unknown): boolean {
  for (let cur: unknown = err, depth = 0; cur instanceof Error && depth < 5; depth++) {
    if (/invalid peer certificate|UnknownIssuer|certificate verify failed/i.test(cur.message)) {
      return true;
    }
    cur = cur.cause;
  }
  return false;
}

function readCaFile(path: string, deps: HttpClientDeps, problems: string[]): string | undefined {
  if (path.trim() === "") {
    problems.push("MOLECULE_CA_FILE is empty: set it to the path of a PEM CA bundle, or unset it");
    return undefined;
  }
  let text: string;
  try {
    text = deps.readTextFile(path);
  } catch (err) {
    // A FIFO, device or oversized file says which, worded to follow "it".
    const why = err instanceof UnsafeStateFileError ? `it ${err.detail}` : errorText(err);
    problems.push(
      `MOLECULE_CA_FILE "${path}" cannot be read: ${why}; ` +
        "point it at a readable PEM file holding your organisation's CA certificate",
    );
    return undefined;
  }
  if (!text.includes(PEM_CERT_MARKER)) {
    problems.push(
      `MOLECULE_CA_FILE "${path}" holds no PEM certificate: expected a "${PEM_CERT_MARKER}" ` +
        "block (convert a DER file with: openssl x509 -inform der -in ca.cer -out ca.pem)",
    );
    return undefined;
  }
  return text;
}

function parseProxyUrl(raw: string, problems: string[]): Deno.Proxy | undefined {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    // URL parsing failed: the text is not echoed, as it may hold a password.
    problems.push(
      "MOLECULE_PROXY_URL is not a URL: expected http://host:port (or https://, socks5://)",
    );
    return undefined;
  }
  if (!PROXY_SCHEMES.has(url.protocol) || url.hostname === "") {
    // Only the scheme is echoed: "proxy.corp:3128" parses with scheme "proxy.corp:", and the
    // rest of a mistyped value may hold a password.
    problems.push(
      `MOLECULE_PROXY_URL is not a proxy URL (scheme "${url.protocol}"): ` +
        "expected http://host:port, with the scheme (or https://, socks5://, socks5h://)",
    );
    return undefined;
  }
  // Credentials travel as basicAuth, not inside the URL Deno keeps.
  const proxyUrl = `${url.protocol}//${url.host}`;
  if (url.username === "" && url.password === "") return { url: proxyUrl };
  try {
    return {
      url: proxyUrl,
      basicAuth: {
        username: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
      },
    };
  } catch (err) {
    if (!(err instanceof URIError)) throw err;
    problems.push(
      "MOLECULE_PROXY_URL user name or password is not valid percent-encoding: " +
        "write a literal % as %25 (and @ as %40, : as %3A)",
    );
    return undefined;
  }
}

/** The proxy password in every form a text may show it: as written, decoded, and as Basic. */
function proxySecrets(raw: string | undefined, proxy: Deno.Proxy | undefined): string[] {
  const auth = proxy !== undefined && "basicAuth" in proxy ? proxy.basicAuth : undefined;
  if (raw === undefined || auth === undefined || auth.password === "") return [];
  const written = URL.canParse(raw.trim()) ? new URL(raw.trim()).password : "";
  const basic = btoa(
    String.fromCodePoint(...new TextEncoder().encode(`${auth.username}:${auth.password}`)),
  );
  return [...new Set([auth.password, written, basic])].filter((s) => s !== "");
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
