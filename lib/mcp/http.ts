/**
 * MCP Streamable HTTP (protocol revisions 2025-03-26 to 2025-11-25, basic/transports) at the
 * one endpoint `/mcp`: the request checks (Host/Origin against DNS rebinding, bearer token,
 * body size, content types), the session table (Mcp-Session-Id, one McpServer per session,
 * limits on how many and for how long) and the idle sweep. main.ts serves `handle` with
 * Deno.serve; the sessions' replies are routed by lib/mcp/http_session.ts.
 *
 * Choices where the spec leaves room:
 * - Every session is its own McpServer over the same tools and context: one process, one
 *   inbox, whichever session pops a message.
 * - A POST answers with an SSE stream when its Accept allows it, else with one JSON body.
 * - At most one GET stream per session (a second gets 409). Resumability is not offered.
 * - At the session limit, the session idle longest (no open stream, no call running) is ended
 *   for the new one; when every session is busy the new one gets 503.
 * - A session unused (no request, no open stream) for `idleTimeoutMs` is ended; its client
 *   then gets 404 and starts a new one, as the spec tells clients to.
 * - MCP-Protocol-Version, when sent, must be a revision we speak (400 otherwise); a session
 *   that sends another supported revision than it negotiated is not refused.
 */
import type { Clock } from "../clock.ts";
import { isRecord } from "../json_object.ts";
import type { Logger } from "../log.ts";
import { errorResponse, JSONRPC_ERROR, parseJson } from "./jsonrpc.ts";
import { checkRequest, type GuardSettings } from "./http_guard.ts";
import { HttpSessionTransport, type ReplyMode } from "./http_session.ts";
import { SUPPORTED_PROTOCOL_VERSIONS } from "./server.ts";

/** The endpoint path (the issue's `/mcp`, what hosts expect by default). */
export const MCP_PATH = "/mcp";
/** Largest POST body: 4 MiB, the stdio transport's line limit. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Sessions open at once: 32, far above the agents one machine runs. */
export const DEFAULT_MAX_SESSIONS = 32;
/** A session unused this long ends: 30 minutes (a host that comes back re-initializes). */
export const DEFAULT_IDLE_TIMEOUT_MS = 30 * 60 * 1000;

/** The server side of one session: McpServer fits. */
export interface SessionServer {
  start(): Promise<void>;
  close(): Promise<void>;
  notify(method: string, params?: Record<string, unknown>): Promise<void>;
}

/** What McpHttpHandler needs. */
export interface McpHttpOptions extends GuardSettings {
  /** Builds the server of a new session over its transport (not started yet). */
  openSession(transport: HttpSessionTransport): SessionServer;
  log: Logger;
  clock: Clock;
  /** New session ids (default crypto.randomUUID). */
  newId?: () => string;
  maxBodyBytes?: number;
  maxSessions?: number;
  idleTimeoutMs?: number;
}

interface Session {
  transport: HttpSessionTransport;
  server: SessionServer;
  lastUsedMs: number;
}

/** The `/mcp` endpoint and its sessions. `handle` never throws. */
export class McpHttpHandler {
  #opts: McpHttpOptions;
  #sessions = new Map<string, Session>();
  #isClosed = false;

  constructor(opts: McpHttpOptions) {
    this.#opts = opts;
  }

  /** Sessions open now. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Sends a notification to every session (channel pushes); each holds it until ready. */
  async notifyAll(method: string, params?: Record<string, unknown>): Promise<void> {
    await Promise.all([...this.#sessions.values()].map((s) => s.server.notify(method, params)));
  }

  /** Answers one HTTP request. */
  async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    if (url.pathname !== MCP_PATH) return plain(404, `Not found: the MCP endpoint is ${MCP_PATH}`);
    const refusal = await checkRequest(req, this.#opts);
    if (refusal !== undefined) {
      this.#opts.log.debug("MCP HTTP request refused", { status: refusal.status });
      const headers = refusal.status === 401 ? { "www-authenticate": "Bearer" } : undefined;
      return rpcError(refusal.status, JSONRPC_ERROR.INVALID_REQUEST, refusal.message, headers);
    }
    if (this.#isClosed) return rpcError(503, JSONRPC_ERROR.INTERNAL_ERROR, "Server is stopping");
    const version = req.headers.get("mcp-protocol-version");
    if (version !== null && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
      return rpcError(
        400,
        JSONRPC_ERROR.INVALID_REQUEST,
        `Bad Request: unsupported MCP-Protocol-Version (supported: ${
          SUPPORTED_PROTOCOL_VERSIONS.join(", ")
        })`,
      );
    }
    switch (req.method) {
      case "POST":
        return await this.#post(req);
      case "GET":
        return this.#get(req);
      case "DELETE":
        return await this.#delete(req);
      default:
        return new Response("Method not allowed", {
          status: 405,
          headers: { allow: "GET, POST, DELETE" },
        });
    }
  }

  /** Ends sessions unused for longer than the idle timeout. Returns how many ended. */
  async sweepIdle(): Promise<number> {
    const limit = this.#opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    const now = this.#opts.clock.now();
    const idle = [...this.#sessions.values()].filter((s) =>
      !s.transport.isBusy && now - s.lastUsedMs >= limit
    );
    for (const session of idle) {
      this.#opts.log.info("MCP HTTP session ended: idle", { session: session.transport.id });
      await this.#end(session);
    }
    return idle.length;
  }

  /** Sweeps idle sessions every quarter of the idle timeout until `signal` aborts. */
  async runIdleSweeper(signal: AbortSignal): Promise<void> {
    const every = Math.max(1_000, (this.#opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS) / 4);
    while (!signal.aborted) {
      await this.#opts.clock.sleep(every, signal);
      if (!signal.aborted) await this.sweepIdle();
    }
  }

  /** Ends every session (their streams end) and refuses later requests. */
  async close(): Promise<void> {
    this.#isClosed = true;
    await Promise.all([...this.#sessions.values()].map((s) => this.#end(s)));
  }

  async #post(req: Request): Promise<Response> {
    const type = req.headers.get("content-type") ?? "";
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      return rpcError(
        415,
        JSONRPC_ERROR.INVALID_REQUEST,
        "Unsupported Media Type: send application/json",
      );
    }
    const mode = replyMode(req.headers.get("accept"));
    if (mode === null) {
      return rpcError(
        406,
        JSONRPC_ERROR.INVALID_REQUEST,
        "Not Acceptable: Accept must allow application/json or text/event-stream",
      );
    }
    const text = await this.#readBody(req);
    if (text === null) {
      const max = this.#opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
      return rpcError(413, JSONRPC_ERROR.INVALID_REQUEST, `Payload Too Large: over ${max} bytes`);
    }
    if (text === BODY_UNREADABLE) {
      return rpcError(
        400,
        JSONRPC_ERROR.INVALID_REQUEST,
        "Bad Request: the body could not be read",
      );
    }
    const parsed = parseJson(text);
    if (!parsed.ok) {
      return rpcError(400, JSONRPC_ERROR.PARSE_ERROR, "Parse error: body is not JSON");
    }
    const body = parsed.value;
    const sessionId = req.headers.get("mcp-session-id");
    if (sessionId === null) {
      if (!isInitialize(body)) return noSessionId(" (start with initialize)");
      return await this.#open(body, mode);
    }
    const session = this.#touch(sessionId);
    if (session === undefined) return noSession();
    return await session.transport.post(body, mode, sessionHeaders(sessionId));
  }

  #get(req: Request): Response {
    if (!(req.headers.get("accept") ?? "").includes("text/event-stream")) {
      return rpcError(
        406,
        JSONRPC_ERROR.INVALID_REQUEST,
        "Not Acceptable: Accept must allow text/event-stream",
      );
    }
    const sessionId = req.headers.get("mcp-session-id");
    if (sessionId === null) return noSessionId();
    const session = this.#touch(sessionId);
    if (session === undefined) return noSession();
    return session.transport.openGetStream(sessionHeaders(sessionId)) ??
      rpcError(409, JSONRPC_ERROR.INVALID_REQUEST, "Conflict: this session has a GET stream open");
  }

  async #delete(req: Request): Promise<Response> {
    const sessionId = req.headers.get("mcp-session-id");
    if (sessionId === null) return noSessionId();
    const session = this.#sessions.get(sessionId);
    if (session === undefined) return noSession();
    this.#opts.log.info("MCP HTTP session ended by the client", { session: sessionId });
    await this.#end(session);
    return new Response(null, { status: 200 });
  }

  async #open(body: unknown, mode: ReplyMode): Promise<Response> {
    const max = this.#opts.maxSessions ?? DEFAULT_MAX_SESSIONS;
    if (this.#sessions.size >= max) {
      const idle = [...this.#sessions.values()].filter((s) => !s.transport.isBusy)
        .sort((a, b) => a.lastUsedMs - b.lastUsedMs)[0];
      if (idle === undefined) {
        this.#opts.log.warn("MCP HTTP session refused: too many sessions in use", {
          limit: max,
          next: "end unused sessions (DELETE) or restart hosts that hold many",
        });
        return rpcError(503, JSONRPC_ERROR.INTERNAL_ERROR, `Too many sessions (limit ${max})`, {
          "retry-after": "5",
        });
      }
      this.#opts.log.info("MCP HTTP session ended: session limit reached", {
        session: idle.transport.id,
        limit: max,
      });
      await this.#end(idle);
    }
    const id = (this.#opts.newId ?? (() => crypto.randomUUID()))();
    const transport = new HttpSessionTransport({ id, log: this.#opts.log });
    const server = this.#opts.openSession(transport);
    const session: Session = { transport, server, lastUsedMs: this.#opts.clock.now() };
    this.#sessions.set(id, session);
    await server.start();
    this.#opts.log.info("MCP HTTP session started", { session: id, sessions: this.#sessions.size });
    return await transport.post(body, mode, sessionHeaders(id));
  }

  #touch(id: string): Session | undefined {
    const session = this.#sessions.get(id);
    if (session !== undefined) session.lastUsedMs = this.#opts.clock.now();
    return session;
  }

  async #end(session: Session): Promise<void> {
    this.#sessions.delete(session.transport.id);
    await session.server.close();
  }

  /**
   * The body as text (never reading more than the limit + a chunk); null when it passes the
   * limit; BODY_UNREADABLE when its stream fails (the client went away mid-body): answered,
   * never a rejection Deno.serve prints.
   */
  async #readBody(req: Request): Promise<string | null | typeof BODY_UNREADABLE> {
    const max = this.#opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const declared = Number(req.headers.get("content-length") ?? "0");
    if (declared > max) return null;
    if (req.body === null) return "";
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const chunk of req.body) {
        size += chunk.length;
        if (size > max) return null;
        chunks.push(chunk);
      }
    } catch (err) {
      this.#opts.log.debug("MCP HTTP request body could not be read", { error: err });
      return BODY_UNREADABLE;
    }
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, at);
      at += chunk.length;
    }
    return new TextDecoder().decode(bytes);
  }
}

/** What #readBody gives for a body whose stream failed. */
const BODY_UNREADABLE = Symbol("body unreadable");

/** SSE when Accept allows it, else JSON; null when it allows neither. No Accept → JSON. */
function replyMode(accept: string | null): ReplyMode | null {
  if (accept === null || accept.trim() === "") return "json";
  const types = accept.split(",").map((t) => t.split(";")[0]?.trim().toLowerCase() ?? "");
  if (types.includes("text/event-stream")) return "sse";
  if (types.some((t) => t === "application/json" || t === "application/*" || t === "*/*")) {
    return "json";
  }
  return null;
}

function isInitialize(body: unknown): boolean {
  return isRecord(body) && body.method === "initialize";
}

function sessionHeaders(id: string): Headers {
  return new Headers({ "mcp-session-id": id });
}

/** 400 for a request without the Mcp-Session-Id header; `hint` is appended to the message. */
function noSessionId(hint = ""): Response {
  return rpcError(
    400,
    JSONRPC_ERROR.INVALID_REQUEST,
    `Bad Request: Mcp-Session-Id header is required${hint}`,
  );
}

function noSession(): Response {
  return rpcError(
    404,
    JSONRPC_ERROR.INVALID_REQUEST,
    "Session not found: start a new one with initialize",
  );
}

function plain(status: number, text: string): Response {
  return new Response(text, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

function rpcError(
  status: number,
  code: number,
  message: string,
  headers?: Record<string, string>,
): Response {
  return new Response(JSON.stringify(errorResponse(null, { code, message })), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}
