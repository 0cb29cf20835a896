/**
 * A fake Molecule platform faithful to /work/shared/platform-contract.md: the whole platform
 * as a `fetch` function over an in-memory model, servable on 127.0.0.1 for end-to-end tests and
 * `make demo`. It owns routing, the request log and test controls (scripted faults, inbox
 * writes, raw rows); the routes live in fake_platform_{registry,activity,a2a,delegation,
 * memories}.ts and the data in fake_platform_model.ts. Free of test-framework imports.
 */
import { type Clock, systemClock } from "../../lib/clock.ts";
import { checkOrigin, workspaceAuth } from "./fake_platform_auth.ts";
import type { A2AScript, Ctx, PlatformSettings, PlatformVersion } from "./fake_platform_context.ts";
import { type Fault, FaultBook, faultResponse } from "./fake_platform_faults.ts";
import {
  canonicalUuid,
  type Incoming,
  pageNotFound,
  randomId,
  readJson,
} from "./fake_platform_http.ts";
import {
  type A2ACallRecord,
  type ActivityRow,
  type ActivityRowInput,
  type DelegationRecord,
  type HeartbeatRecord,
  type MemoryRecord,
  type NotificationRecord,
  type PendingUploadRecord,
  PlatformModel,
  type RegistrationRecord,
  type RequestRecord,
  type UploadRecord,
  type WorkspaceRecord,
  type WorkspaceSpec,
} from "./fake_platform_model.ts";
import { matchRoute, ROUTE_KEYS } from "./fake_platform_routes.ts";
import type { StreamCut } from "./fake_platform_events.ts";

export type { A2ACall, A2AReply, A2AScript, PlatformVersion } from "./fake_platform_context.ts";
export type { Fault } from "./fake_platform_faults.ts";
export type { StreamCut } from "./fake_platform_events.ts";
export { ROUTE_KEYS } from "./fake_platform_routes.ts";
export type {
  A2ACallRecord,
  ActivityRow,
  ActivityRowInput,
  DelegationRecord,
  HeartbeatRecord,
  MemoryRecord,
  NotificationRecord,
  PendingUploadRecord,
  RegistrationRecord,
  RequestRecord,
  UploadRecord,
  WorkspaceRecord,
  WorkspaceSpec,
} from "./fake_platform_model.ts";

/** Options for `createFakePlatform`; every one has a default. */
export interface FakePlatformOptions {
  /** Time source for row timestamps and `since_secs` (default: the real clock). */
  clock?: Clock;
  /** Whether heartbeats return `platform_inbound_secret` (default true). */
  heartbeatIncludesSecret?: boolean;
  /** DELEGATION_RESULT_INBOX_PUSH=1: delegation results also reach the caller's inbox. */
  delegationResultInboxPush?: boolean;
  /** ADMIN_TOKEN: a bearer accepted by WorkspaceAuth for every workspace. */
  adminToken?: string;
  /** CORS_ORIGINS (default `http://localhost:3000`, `http://localhost:3001`). */
  corsOrigins?: readonly string[];
  /** The platform release to play (default "2026-05"; see PlatformVersion). */
  version?: PlatformVersion;
  /** MEMORY_PLUGIN_URL set (default true; matters on "latest" only). */
  memoryPluginConfigured?: boolean;
}

/** One request as the platform received it. Header names are lowercase. */
export interface RecordedRequest {
  method: string;
  /** scheme://host[:port] the request was sent to (a client must never leave the platform's). */
  origin: string;
  path: string;
  /** "METHOD /pattern" of the matched route (e.g. "GET /workspaces/:id/activity"), or null. */
  route: string | null;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** The body parsed as JSON; the raw text when it is not JSON; null when empty. */
  body: unknown;
}

/** Hooks of a served fake; `route` is the route key ("GET /workspaces/:id/activity") or null. */
export interface ServeHooks {
  /** Runs before the platform answers (may script a fault, or kill the client). */
  beforeAnswer?: (req: Request, route: string | null) => void;
  /** Runs after it answered; returns the response to send (read the body, rebuild it). */
  afterAnswer?: (route: string | null, res: Response) => Promise<Response> | Response;
}

/** A served fake: its base URL (no trailing slash) and a close that frees the port. */
export interface ServedPlatform {
  url: string;
  close(): Promise<void>;
}

/** What `sendToInbox` writes. */
export interface InboxSend {
  text: string;
  /** The sending workspace, or null/absent for the canvas user. */
  from?: string | null;
  /** JSON-RPC method (default "message/send"). */
  method?: string;
  /** RFC 3339 created_at (default: now from the clock). */
  createdAt?: string;
}

/** Creates an empty fake platform. */
export function createFakePlatform(opts: FakePlatformOptions = {}): FakePlatform {
  return new FakePlatform(opts);
}

/** The fake platform: a fetch function, test controls and what it observed. */
export class FakePlatform {
  readonly clock: Clock;
  /** Every request received, oldest first (faulted and rejected ones included). */
  readonly requests: readonly RecordedRequest[];
  #requests: RecordedRequest[] = [];
  #model: PlatformModel;
  #settings: PlatformSettings;
  #scripts = new Map<string, A2AScript>();
  #faults = new FaultBook();

  constructor(opts: FakePlatformOptions) {
    this.clock = opts.clock ?? systemClock;
    this.#model = new PlatformModel(this.clock);
    this.#settings = {
      heartbeatIncludesSecret: opts.heartbeatIncludesSecret ?? true,
      delegationResultInboxPush: opts.delegationResultInboxPush ?? false,
      adminToken: opts.adminToken ?? null,
      corsOrigins: opts.corsOrigins ?? ["http://localhost:3000", "http://localhost:3001"],
      version: opts.version ?? "2026-05",
      memoryPluginConfigured: opts.memoryPluginConfigured ?? true,
    };
    this.requests = this.#requests;
  }

  /** The whole platform as a fetch function (no network). Honours `req.signal`. */
  readonly fetch = (req: Request): Promise<Response> => this.#handle(req, req.signal);

  /**
   * Serves the same platform on 127.0.0.1 at a free port. `close()` ends hung ("timeout")
   * requests and shuts the listener down. Needs --allow-net. In served mode a "refused" fault
   * cannot refuse a live connection; it answers 502 with an empty body instead. `hooks` (read
   * at each request, so a test may swap them) see every request before the platform answers
   * and may replace the answer after.
   */
  serve(hooks: ServeHooks = {}): Promise<ServedPlatform> {
    const closing = new AbortController();
    const server = Deno.serve(
      {
        hostname: "127.0.0.1",
        port: 0,
        onListen: () => {},
        onError: (err) => new Response(null, { status: err instanceof TypeError ? 502 : 500 }),
      },
      async (req) => {
        const route =
          matchRoute(req.method, new URL(req.url).pathname, this.#settings.version)?.route.key ??
            null;
        hooks.beforeAnswer?.(req, route);
        const res = await this.#handle(req, AbortSignal.any([req.signal, closing.signal]));
        return hooks.afterAnswer === undefined ? res : await hooks.afterAnswer(route, res);
      },
    );
    let closed: Promise<void> | null = null;
    return Promise.resolve({
      url: `http://127.0.0.1:${server.addr.port}`,
      close: () => {
        closed ??= (async () => {
          closing.abort(new Error("fake platform closed"));
          await server.shutdown();
        })();
        return closed;
      },
    });
  }

  // ---- workspaces and tokens -------------------------------------------------------------

  /** Adds a workspace (defaults: online, push, root, talk-to-user on) with one live token. */
  addWorkspace(spec: WorkspaceSpec = {}): { id: string; token: string } {
    if (spec.id !== undefined && canonicalUuid(spec.id) !== spec.id) {
      throw new Error(`fake platform: workspace id must be a lowercase UUID, got ${spec.id}`);
    }
    const ws = this.#model.createWorkspace(spec);
    return { id: ws.id, token: this.#model.mintToken(ws.id) };
  }

  /** The live workspace row (mutations show up in later responses), or undefined. */
  workspace(id: string): WorkspaceRecord | undefined {
    return this.#model.workspace(id);
  }

  /** Changes fields of a workspace row. */
  updateWorkspace(id: string, patch: WorkspaceSpec): void {
    Object.assign(this.#mustGet(id), patch, { id });
  }

  /** Deletes a workspace as the canvas does: status `removed` and every token revoked. */
  removeWorkspace(id: string): void {
    const ws = this.#mustGet(id);
    ws.status = "removed";
    this.#model.touch(ws);
    this.#model.revokeTokens(id);
  }

  /** The newest live token of a workspace; throws when it has none. */
  tokenFor(id: string): string {
    const token = this.#model.newestToken(id);
    if (token === undefined) throw new Error(`fake platform: workspace ${id} has no live token`);
    return token;
  }

  /** Mints one more token for a workspace (as a token rotation would) and returns it. */
  mintToken(id: string): string {
    this.#mustGet(id);
    return this.#model.mintToken(id);
  }

  /** Revokes every token of a workspace; it then passes the grandfathered checks bare. */
  revokeToken(id: string): void {
    this.#model.revokeTokens(id);
  }

  // ---- activity ----------------------------------------------------------------------------

  /**
   * Writes the `a2a_receive` row the A2A proxy writes for a poll-mode target: source_id is
   * the sender (null for the canvas), request_body the normalised message/send envelope.
   */
  sendToInbox(targetId: string, msg: InboxSend): ActivityRow {
    const target = this.#mustGet(targetId);
    const method = msg.method ?? "message/send";
    const input: ActivityRowInput = {
      workspace_id: targetId,
      activity_type: "a2a_receive",
      source_id: msg.from ?? null,
      target_id: targetId,
      method,
      summary: `${method} → ${target.name} (queued for poll)`,
      request_body: {
        jsonrpc: "2.0",
        id: randomId(),
        method,
        params: {
          message: {
            role: "user",
            messageId: randomId(),
            parts: [{ kind: "text", text: msg.text }],
          },
        },
      },
    };
    if (msg.createdAt !== undefined) input.created_at = msg.createdAt;
    return this.#model.insertRow(input);
  }

  /**
   * A canvas user attaches a file for a poll-mode workspace (contract §16): the bytes are
   * staged and a `chat_upload_receive` row carries the manifest {file_id, name, mimeType, size,
   * uri} with `uri` = `platform-pending:<ws>/<file_id>`.
   */
  uploadFromCanvas(
    workspaceId: string,
    file: { name: string; mimeType: string; bytes: Uint8Array },
  ): { row: ActivityRow; fileId: string; uri: string } {
    this.#mustGet(workspaceId);
    const fileId = randomId();
    const uri = `platform-pending:${workspaceId}/${fileId}`;
    this.#model.pendingUploads.push({
      workspace_id: workspaceId,
      file_id: fileId,
      name: file.name,
      mimeType: file.mimeType,
      bytes: file.bytes,
      acked: false,
    });
    const row = this.#model.insertRow({
      workspace_id: workspaceId,
      activity_type: "a2a_receive",
      method: "chat_upload_receive",
      source_id: null,
      target_id: workspaceId,
      summary: `chat_upload_receive → ${file.name}`,
      request_body: {
        file_id: fileId,
        name: file.name,
        mimeType: file.mimeType,
        size: file.bytes.length,
        uri,
      },
    });
    return { row, fileId, uri };
  }

  /** Staged canvas uploads (acked ones included). */
  get pendingUploads(): readonly PendingUploadRecord[] {
    return this.#model.pendingUploads;
  }

  /** A row's `seq` (what the "latest" release shows), or undefined for an unknown row. */
  seqOf(rowId: string): number | undefined {
    return this.#model.findRow(rowId)?.seq;
  }

  /** The workspace's ack floor (POST /activity/ack), or undefined before any ack. */
  lastAckedSeq(workspaceId: string): number | undefined {
    return this.#model.lastAckedSeq.get(workspaceId);
  }

  /** Changes the GET /uploads/limits answer. */
  setUploadLimits(limits: Partial<PlatformModel["uploadLimits"]>): void {
    Object.assign(this.#model.uploadLimits, limits);
  }

  /** Requests raised through POST /requests. */
  get userRequests(): readonly RequestRecord[] {
    return this.#model.requests;
  }

  /**
   * The canvas user answers a request: its status changes and the platform enqueues a
   * message/send to the requesting agent (upstream-latest §2 K), which lands in its inbox.
   */
  respondToRequest(requestId: string, action: "done" | "rejected" | "approved"): ActivityRow {
    const request = this.#model.requests.find((r) => r.request_id === requestId);
    if (request === undefined) throw new Error(`fake platform: no request ${requestId}`);
    request.status = action;
    return this.sendToInbox(request.workspace_id, {
      text: `Your ${request.kind} request "${request.title}" (id ${request.request_id}) was ` +
        `${action} by the user.`,
    });
  }

  /** Inserts any row; unset columns default like the database (NULL, status "ok", now). */
  addActivityRow(row: ActivityRowInput): ActivityRow {
    return this.#model.insertRow(row);
  }

  /** Deletes one activity row, as retention would; a cursor on it then gets 410. */
  pruneActivity(rowId: string): boolean {
    return this.#model.deleteRows((r) => r.id === rowId) > 0;
  }

  /** All activity rows of a workspace in insertion order. */
  activity(workspaceId: string): ActivityRow[] {
    return this.#model.rowsOf(workspaceId).map((r) => r.row);
  }

  // ---- live events (contract §14.1) --------------------------------------------------------

  /** Event streams of a workspace open now (stalled ones included). */
  eventStreams(workspaceId: string): number {
    return this.#model.events.openCount(workspaceId);
  }

  /** Ends a workspace's open event streams: cleanly, abruptly, or by going silent. */
  cutEventStreams(workspaceId: string, how: StreamCut): void {
    this.#model.events.cut(workspaceId, how);
  }

  /** The next `count` events of a workspace are lost (full buffer, another server process). */
  dropEvents(workspaceId: string, count = 1): void {
    this.#model.events.dropNext(workspaceId, count);
  }

  /** Sends an event no write caused (duplicates, stale or odd events in tests). */
  emitEvent(workspaceId: string, type: string, data: Record<string, unknown> = {}): void {
    this.#model.events.publish(workspaceId, type, data);
  }

  /** Writes raw SSE text to a workspace's open streams (framing tests). */
  emitRawEvent(workspaceId: string, text: string): void {
    this.#model.events.sendRaw(workspaceId, text);
  }

  // ---- scripting ---------------------------------------------------------------------------

  /** How a push-mode target answers proxied A2A calls from now on (default `{kind:"echo"}`). */
  setA2AReply(targetId: string, script: A2AScript): void {
    this.#scripts.set(targetId, script);
  }

  /**
   * Makes the next `times` requests on `route` fail with `fault`. `route` is a route key
   * ("GET /workspaces/:id/activity", see ROUTE_KEYS) or a concrete "METHOD /path". Faults fire
   * before the Origin and auth checks, and the request never reaches the model.
   */
  failNext(route: string, fault: Fault, times = 1): void {
    if (!/^[A-Z]+ \//.test(route) || (route.includes("/:") && !ROUTE_KEYS.includes(route))) {
      throw new Error(
        `fake platform: unknown route "${route}"; use "METHOD /path" or one of: ${
          ROUTE_KEYS.join(", ")
        }`,
      );
    }
    this.#faults.add(route, fault, times);
  }

  /** Faults scripted with failNext that have not fired yet. */
  get pendingFaults(): number {
    return this.#faults.pendingCount;
  }

  // ---- observations ------------------------------------------------------------------------

  /** How many requests hit a route key ("GET /workspaces/:id/activity") or concrete path. */
  count(route: string): number {
    return this.#requests.filter((r) => r.route === route || `${r.method} ${r.path}` === route)
      .length;
  }

  get registrations(): readonly RegistrationRecord[] {
    return this.#model.registrations;
  }
  get heartbeats(): readonly HeartbeatRecord[] {
    return this.#model.heartbeats;
  }
  get notifications(): readonly NotificationRecord[] {
    return this.#model.notifications;
  }
  get uploads(): readonly UploadRecord[] {
    return this.#model.uploads;
  }
  get a2aCalls(): readonly A2ACallRecord[] {
    return this.#model.a2aCalls;
  }
  get delegations(): readonly DelegationRecord[] {
    return this.#model.delegations;
  }
  get memories(): readonly MemoryRecord[] {
    return this.#model.memories;
  }

  // ---- request handling --------------------------------------------------------------------

  #mustGet(id: string): WorkspaceRecord {
    const ws = this.#model.workspace(id);
    if (ws === undefined) throw new Error(`fake platform: no workspace ${id}`);
    return ws;
  }

  async #handle(request: Request, signal: AbortSignal): Promise<Response> {
    const url = new URL(request.url);
    const raw = new Uint8Array(await request.arrayBuffer());
    const matched = matchRoute(request.method, url.pathname, this.#settings.version);
    this.#record(request, url, raw, matched?.route.key ?? null);
    const params = matched?.params ?? {};
    const fault = this.#faults.take(
      matched?.route.key ?? `${request.method} ${url.pathname}`,
      `${request.method} ${url.pathname}`,
    );
    if (fault !== undefined) return faultResponse(fault, matched?.route.key ?? "", params, signal);

    const req: Incoming = {
      method: request.method,
      url,
      params,
      headers: request.headers,
      raw,
      signal,
    };
    const rejected = checkOrigin(req, this.#settings.corsOrigins);
    if (rejected !== null) return rejected;
    if (matched === null) return pageNotFound();
    if (matched.route.workspaceAuth) {
      const denied = workspaceAuth(this.#model, req, this.#settings.adminToken);
      if (denied !== null) return denied;
    }
    const ctx: Ctx = {
      model: this.#model,
      settings: this.#settings,
      a2aScripts: this.#scripts,
      req,
    };
    return await matched.route.handler(ctx);
  }

  #record(request: Request, url: URL, raw: Uint8Array, route: string | null): void {
    const parsed = readJson(raw);
    let body: unknown = null;
    if (parsed.ok) body = parsed.value;
    else if (raw.length > 0) body = new TextDecoder().decode(raw);
    this.#requests.push({
      method: request.method,
      origin: url.origin,
      path: url.pathname,
      route,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(request.headers),
      body,
    });
  }
}
