/** The real HTTP deps (Deno's fetch, HTTP clients and file reads), as main.ts passes them. */
import { type HttpClientDeps, readRegularTextFileSync } from "../../lib/platform/http_client.ts";

/** For tests that talk to a server on loopback for real (the fake platform, a TLS server). */
export const REAL_HTTP: HttpClientDeps = {
  readTextFile: (path) => readRegularTextFileSync(path),
  createHttpClient: (options) => Deno.createHttpClient(options),
  fetch: (req, init) => fetch(req, init),
};
