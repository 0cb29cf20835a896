/**
 * doctor's checks of one workspace against its platform, in order: platform reachable (DNS,
 * TLS with the configured CA/proxy, connection), the workspace known to it, the token accepted
 * (a heartbeat, never a register, which would overwrite the agent card: upstream 2652ea83),
 * the inbox readable (GET activity, limit 1), the event stream, and whether the token crosses
 * the network in clear text. Every request has DOCTOR_STEP_TIMEOUT_MS; once the platform
 * cannot be reached, the checks that need it are skipped rather than each waiting again.
 */
import type { Clock } from "../clock.ts";
import { isCleartextRemote } from "../config.ts";
import { PlatformError } from "../errors.ts";
import { readStoredCursor } from "../inbox/cursor.ts";
import { createLogger, type Logger } from "../log.ts";
import { createPlatformClient, type PlatformClient } from "../platform/client.ts";
import { truncate } from "../platform/answer.ts";
import { CursorGoneError } from "../platform/http.ts";
import { type Fetch, isUntrustedCertificateError } from "../platform/http_client.ts";
import type { WorkspaceLookup } from "../platform/peers.ts";
import { cutCodePoints } from "../text.ts";
import type { CheckResult } from "./doctor_result.ts";
import type { DoctorUploads } from "./doctor_uploads.ts";

/** Each network step's time limit: the whole run stays within a few seconds. */
export const DOCTOR_STEP_TIMEOUT_MS = 3_000;

/** One configured workspace, as the checks need it (a list of one today). */
export interface DoctorWorkspace {
  /** Lowercase UUID. */
  id: string;
  /** Short tag appended to labels when several workspaces are configured; "" for one. */
  tag: string;
  platformUrl: string;
  token: string;
  stateDir: string;
  /** This workspace's inbox cursor file (its id proves which workspace the inbox belongs to). */
  cursorPath: string;
  isHeartbeatDisabled: boolean;
  isInboxDisabled: boolean;
  pollIntervalSecs: number;
  /** MOLECULE_MCP_EVENT_STREAM=0. */
  isEventStreamDisabled: boolean;
  /** Where fetched canvas uploads go and what the retention keeps (cli/doctor_uploads.ts). */
  uploads: DoctorUploads;
}

/** `label` with the workspace's tag appended when several workspaces are configured. */
export function workspaceLabel(label: string, workspace: Pick<DoctorWorkspace, "tag">): string {
  return workspace.tag === "" ? label : `${label} (${workspace.tag})`;
}

/** Runs the checks of one workspace in order. Needs --allow-net for the platform host. */
export async function checkWorkspace(
  ws: DoctorWorkspace,
  deps: { fetch: Fetch; clock: Clock },
): Promise<CheckResult[]> {
  const quiet = createLogger({ write: () => {}, level: "error" });
  const client = createPlatformClient(
    { platformUrl: ws.platformUrl, workspaceId: ws.id, token: ws.token },
    { fetch: deps.fetch, clock: deps.clock, log: quiet },
  );
  const opts = { timeoutMs: DOCTOR_STEP_TIMEOUT_MS };
  const label = (text: string) => workspaceLabel(text, ws);
  const results: CheckResult[] = [];

  const started = deps.clock.now();
  let lookup: WorkspaceLookup | PlatformError;
  try {
    lookup = await client.getWorkspace(undefined, opts);
  } catch (err) {
    if (!(err instanceof PlatformError)) throw err;
    lookup = err;
  }
  const elapsedMs = Math.max(0, Math.round(deps.clock.now() - started));
  const host = new URL(ws.platformUrl).host;
  // Why the event stream check is skipped (undefined: run it).
  let skipStream: string | undefined;
  if (lookup instanceof PlatformError && lookup.status === 0) {
    results.push({ ...unreachable(lookup, host), label: label("platform reachable") });
    skipStream = "skipped: the platform cannot be reached";
    for (const name of ["workspace", "token accepted", "inbox readable"]) {
      results.push({ status: "skip", label: label(name), message: skipStream });
    }
  } else {
    const status = lookup instanceof PlatformError ? lookup.status : 200;
    results.push({
      status: "ok",
      label: label("platform reachable"),
      message: `${host} answered GET /workspaces/:id with HTTP ${status} in ${elapsedMs} ms`,
    });
    const known = workspaceVerdict(ws, lookup);
    results.push({ ...known, label: label("workspace") });
    if (known.status === "fail") {
      const why = "skipped: fix the workspace check first";
      results.push({ status: "skip", label: label("token accepted"), message: why });
      results.push({ status: "skip", label: label("inbox readable"), message: why });
    } else {
      const { isRefused, ...token } = await tokenVerdict(ws, client, opts);
      results.push({ ...token, label: label("token accepted") });
      if (isRefused === true) {
        // A refused token fails the inbox read and the stream too; the inbox's own 401 advice
        // (token of another workspace) would send the operator the wrong way.
        skipStream = "skipped: fix the token first";
        results.push({ status: "skip", label: label("inbox readable"), message: skipStream });
      } else {
        results.push({
          ...await inboxVerdict(ws, client, { ...opts, log: quiet }),
          label: label("inbox readable"),
        });
      }
    }
  }
  results.push({
    ...(skipStream === undefined
      ? await streamVerdict(ws, client, deps.clock)
      : { status: "skip", message: skipStream }),
    label: label("event stream"),
  });
  results.push({ ...transportVerdict(ws.platformUrl), label: label("transport security") });
  return results;
}

type Verdict = Omit<CheckResult, "label">;

/** Names which step of the connection failed: DNS, connection, TLS or time. */
function unreachable(err: PlatformError, host: string): Verdict {
  // fetch says only "fetch failed"; the reason (DNS, refused, TLS) is down its cause chain.
  const detail = causeChain(err);
  if (/no answer within/i.test(detail)) {
    return {
      status: "fail",
      message: `no answer from ${host} within ${DOCTOR_STEP_TIMEOUT_MS / 1000} s`,
      next: "check the network, a firewall or VPN, and the proxy (MOLECULE_PROXY_URL, HTTPS_PROXY)",
    };
  }
  if (/dns error|lookup address|name or service not known|nodename nor servname/i.test(detail)) {
    return {
      status: "fail",
      message: `DNS: cannot resolve the host ${JSON.stringify(host.replace(/:\d+$/, ""))}`,
      next:
        "check the host name in PLATFORM_URL (your tenant's, e.g. https://acme.moleculesai.app) " +
        "and your DNS or VPN",
    };
  }
  if (/InvalidContentType|wrong version number|http request to an https server/i.test(detail)) {
    // rustls/openssl wording when the TLS handshake reaches a plain-HTTP server.
    return {
      status: "fail",
      message: `TLS: ${host} answered in plain HTTP, not TLS`,
      next: "use http:// in PLATFORM_URL for this port (a local platform), or the platform's " +
        "https port",
    };
  }
  if (/connection refused/i.test(detail)) {
    return {
      status: "fail",
      message: `connection refused by ${host}: nothing listens on that port`,
      next: "check the port in PLATFORM_URL (or start the local platform it points at)",
    };
  }
  if (isUntrustedCertificateError(err.cause) || /certificate|tls|handshake/i.test(detail)) {
    return {
      status: "fail",
      message: `TLS: the certificate of ${host} is not trusted here (${detail})`,
      next: "behind a TLS-inspecting proxy, set MOLECULE_CA_FILE to your organisation's CA " +
        "certificate (PEM); if it is set, it does not hold the CA that signed this certificate",
    };
  }
  return { status: "fail", message: `no answer from ${host} (${detail})`, next: err.next };
}

/**
 * The next step when GET /workspaces/:id answers a 404 that is not the platform's "workspace
 * not found": the URL reaches a web server, but not the platform API at that path (a path such
 * as /api or /canvas after the host, or another service on that port).
 */
function notTheApiNext(platformUrl: string): string {
  let path = "";
  try {
    path = new URL(platformUrl).pathname.replace(/\/+$/, "");
  } catch {
    // loadConfig validated the URL; keep the generic advice if it still does not parse.
  }
  const base =
    "PLATFORM_URL must be the tenant's base address, e.g. https://<tenant>.moleculesai.app";
  return path === ""
    ? `${base}; check that this host and port serve the Molecule platform, not another service`
    : `${base}: drop the path ${JSON.stringify(path)} from it`;
}

function workspaceVerdict(ws: DoctorWorkspace, lookup: WorkspaceLookup | PlatformError): Verdict {
  if (lookup instanceof PlatformError) {
    if (lookup.status === 404 && lookup.detail === "workspace not found") {
      return {
        status: "fail",
        message: `the platform does not know workspace ${ws.id}`,
        next: "check WORKSPACE_ID (copy it from the canvas: open the workspace, its details show " +
          "the ID) and that PLATFORM_URL is the tenant that holds it",
      };
    }
    return {
      status: "fail",
      message: `${lookup.message}: this does not look like the Molecule platform API`,
      next: lookup.status === 404 ? notTheApiNext(ws.platformUrl) : lookup.next,
    };
  }
  if (lookup.kind === "removed") {
    return {
      status: "fail",
      message: `workspace ${ws.id} was removed from the platform`,
      next: `${lookup.hint}; then update WORKSPACE_ID and the token`,
    };
  }
  const { status } = lookup.workspace;
  // The name and status are the platform's text, bound for a terminal: the one sanitiser
  // (no control sequences, bidi overrides or line breaks) and a cut, via platform/answer.ts.
  const name = truncate(lookup.workspace.name);
  const shownStatus = truncate(status);
  const stale = status === "awaiting_agent" || status === "offline"
    ? " (no heartbeat reached the platform in the last 90 s)"
    : "";
  if (status === "paused" || status === "hibernated" || status === "failed") {
    return {
      status: "warn",
      message: `${JSON.stringify(name)} is ${shownStatus}`,
      next: "resume the workspace in the canvas; messages to it may not be delivered meanwhile",
    };
  }
  return { status: "ok", message: `${JSON.stringify(name)}, status ${shownStatus}${stale}` };
}

/** The token check's verdict; isRefused = the platform answered 401 to the heartbeat. */
async function tokenVerdict(
  ws: DoctorWorkspace,
  client: PlatformClient,
  opts: { timeoutMs: number },
): Promise<Verdict & { isRefused?: boolean }> {
  if (ws.isHeartbeatDisabled) {
    return {
      status: "skip",
      message: "heartbeats are disabled (MOLECULE_MCP_DISABLE_HEARTBEAT); the inbox check below " +
        "also proves the token",
    };
  }
  try {
    await client.heartbeat({ uptimeSeconds: 0 }, opts);
    return { status: "ok", message: "the platform accepted a heartbeat with this token" };
  } catch (err) {
    if (!(err instanceof PlatformError)) throw err;
    if (err.status === 401) {
      return {
        status: "fail",
        isRefused: true,
        message: `the platform refused the token (HTTP 401${
          err.detail === "" ? "" : `: ${err.detail}`
        })`,
        next:
          "create a new token in the canvas (open the workspace, then the Tokens tab; a token " +
          "is shown once) and put it where the configuration check says the token comes from",
      };
    }
    return { status: "fail", message: err.message, next: err.next };
  }
}

async function inboxVerdict(
  ws: DoctorWorkspace,
  client: PlatformClient,
  opts: { timeoutMs: number; log: Logger },
): Promise<Verdict> {
  // Read-only: the server, not doctor, sets a foreign cursor file aside.
  const stored = await readStoredCursor(ws.cursorPath, { log: opts.log });
  const isForeign = stored !== null && stored.workspace_id !== null &&
    stored.workspace_id !== ws.id;
  const cursor = isForeign ? null : stored;
  try {
    await client.listActivity(
      cursor === null ? { limit: 1 } : { limit: 1, sinceId: cursor.id },
      { timeoutMs: opts.timeoutMs },
    );
  } catch (err) {
    if (err instanceof CursorGoneError) {
      return {
        status: "warn",
        message:
          "readable, but the saved inbox cursor is not in this workspace's feed: its row aged " +
          "out after 7 days, or the file was copied from another workspace",
        next: "nothing to do: the server sets a cursor of another workspace aside and reads " +
          "the backlog again",
      };
    }
    if (!(err instanceof PlatformError)) throw err;
    if (err.status === 401) {
      return {
        status: "fail",
        message: "the platform refused the token for this workspace's inbox (HTTP 401)",
        next:
          "a token is valid only for the workspace it was created in: check that WORKSPACE_ID " +
          "and the token belong to the same workspace",
      };
    }
    return { status: "fail", message: err.message, next: err.next };
  }
  if (ws.isInboxDisabled) {
    return {
      status: "warn",
      message: "readable, but MOLECULE_MCP_DISABLE_INBOX is set: the server does not poll it, so " +
        "no message arrives",
      next: "unset MOLECULE_MCP_DISABLE_INBOX in your MCP host's entry",
    };
  }
  if (isForeign) {
    return {
      status: "warn",
      message: `readable, but the saved inbox cursor belongs to workspace ${
        stored?.workspace_id ?? "?"
      }: this state directory served another workspace under the same file names`,
      next: "nothing to do: the server sets that file aside and reads the backlog again; give " +
        "each workspace its own entry (state files carry the workspace ID)",
    };
  }
  const own = cursor === null ? "" : "; the saved cursor belongs to this workspace";
  return { status: "ok", message: `GET /workspaces/:id/activity answered${own}` };
}

/**
 * Opens the event stream (contract §14.1) and waits for its first bytes (the platform's
 * `: ping`), through the same fetch as the server (CA file, proxy). A proxy that buffers the
 * stream shows as "opened, but nothing arrived". Closes the stream before returning.
 */
async function streamVerdict(
  ws: DoctorWorkspace,
  client: PlatformClient,
  clock: Clock,
): Promise<Verdict> {
  const polling = `messages arrive by polling every ${ws.pollIntervalSecs} s`;
  if (ws.isInboxDisabled) {
    return { status: "skip", message: "skipped: MOLECULE_MCP_DISABLE_INBOX is set" };
  }
  if (ws.isEventStreamDisabled) {
    return { status: "skip", message: `turned off by MOLECULE_MCP_EVENT_STREAM=0: ${polling}` };
  }
  const stop = new AbortController();
  const started = clock.now();
  try {
    const opening = await client.openEventStream({
      signal: stop.signal,
      timeoutMs: DOCTOR_STEP_TIMEOUT_MS,
    });
    if (opening.kind === "missing") {
      return {
        status: "skip",
        message: opening.isRouteMissing
          ? `this platform has no event stream (an older release): ${polling}`
          : `the platform's event stream does not know this workspace: ${polling}`,
      };
    }
    if (opening.kind === "refused") {
      const err = opening.error;
      if (err.isAuthRejected) {
        return {
          status: "fail",
          message: `the platform refused the token on the event stream (HTTP ${err.status})`,
          next: err.next,
        };
      }
      return {
        status: "warn",
        message: `the event stream is not usable (${err.message}): ${polling}`,
        next: err.next,
      };
    }
    const timer = new AbortController();
    const silent = clock.sleep(DOCTOR_STEP_TIMEOUT_MS, timer.signal).then(() => null);
    const first = await Promise.race([opening.stream.next(), silent]);
    timer.abort();
    opening.stream.close();
    if (first === null) {
      return {
        status: "warn",
        message: `opened, but nothing arrived within ${DOCTOR_STEP_TIMEOUT_MS / 1000} s (a ` +
          `proxy that buffers streams?): ${polling}`,
        next: "let the proxy pass text/event-stream answers unbuffered, or set " +
          "MOLECULE_MCP_EVENT_STREAM=0",
      };
    }
    const ms = Math.max(0, Math.round(clock.now() - started));
    return {
      status: "ok",
      message: `open in ${ms} ms: messages are fetched as soon as they are written`,
    };
  } catch (err) {
    if (!(err instanceof PlatformError)) throw err;
    return { status: "warn", message: `cannot open the event stream (${err.message}): ${polling}` };
  } finally {
    stop.abort();
  }
}

/** The messages of `err` and its causes, joined: where fetch keeps the real reason. */
function causeChain(err: PlatformError): string {
  const parts = [err.detail];
  for (let cur: unknown = err.cause, depth = 0; cur instanceof Error && depth < 6; depth++) {
    parts.push(cur.message);
    cur = cur.cause;
  }
  return cutCodePoints(parts.filter((p) => p !== "").join(": "), 400);
}

/** Plain http:// is fine on this machine only; elsewhere the token travels in clear text. */
function transportVerdict(platformUrl: string): Verdict {
  const url = new URL(platformUrl);
  if (url.protocol === "https:") return { status: "ok", message: "https (TLS)" };
  // The one rule for "this machine", shared with the start-up warning (lib/config.ts).
  if (!isCleartextRemote(platformUrl)) {
    return { status: "ok", message: "plain http:// to a loopback address (stays on this machine)" };
  }
  return {
    status: "warn",
    message: `PLATFORM_URL uses plain http:// to ${url.hostname}: the token and every message ` +
      "cross the network unencrypted",
    next: "use the https:// address of your tenant",
  };
}
