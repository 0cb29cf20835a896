/**
 * JSON-RPC 2.0 as MCP uses it: turns one incoming value (or one line of text) into a request,
 * a notification, a response, or the error reply to send back, and builds the messages we
 * send. It knows nothing about MCP methods (server.ts) or framing (stdio.ts).
 *
 * Rules chosen where JSON-RPC leaves room:
 * - A batch (array) is one -32600 here, id null; the server answers batches itself in sessions
 *   whose protocol revision has them (server.ts).
 * - An id must be a string or a number. Any other id (null, object, array, boolean) gets
 *   -32600 with id null, so a hostile id is never echoed back.
 * - The id of an invalid message is echoed only when the message says `jsonrpc: "2.0"` and
 *   its id is well-formed; otherwise the reply carries id null (JSON-RPC 2.0 §5).
 * - A message with a string `method` and no `id` looks like a notification: if anything else
 *   about it is wrong it is dropped without a reply, because its sender expects none.
 * - Responses (we never send requests) are classified so the caller can ignore them; they
 *   are never answered, which rules out reply ping-pong with a confused peer.
 */
import { cutCodePoints } from "../text.ts";
import { isRecord } from "../json_object.ts";

/** A JSON-RPC request id. MCP forbids null. */
export type RequestId = string | number;

/** JSON-RPC 2.0 error codes we send. */
export const JSONRPC_ERROR = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
} as const;

/** The error member of an error response. */
export type JsonRpcErrorObject = {
  code: number;
  message: string;
  data?: unknown;
};

/** An error reply. `id` is null when the request's id could not be read. */
export type JsonRpcErrorResponse = {
  jsonrpc: "2.0";
  id: RequestId | null;
  error: JsonRpcErrorObject;
};

/** A success reply. MCP results are always objects. */
export type JsonRpcResultResponse = {
  jsonrpc: "2.0";
  id: RequestId;
  result: Record<string, unknown>;
};

/** A notification we send (no id, no reply expected). */
export type JsonRpcNotification = {
  jsonrpc: "2.0";
  method: string;
  params?: Record<string, unknown>;
};

/** Everything a server sends. */
export type OutgoingMessage = JsonRpcResultResponse | JsonRpcErrorResponse | JsonRpcNotification;

/**
 * Any JSON-RPC 2.0 message as a transport carries it: transports only serialise. Kept this
 * broad so the SDK's transports (whose own message type forbids an error's `id: null`, which
 * JSON-RPC 2.0 requires for unreadable ids) fit JsonRpcTransport, and ours fit theirs.
 */
export type WireMessage = { jsonrpc: "2.0"; [member: string]: unknown };

/** Structured params as JSON-RPC allows them: by name or by position. */
export type Params = Readonly<Record<string, unknown>> | readonly unknown[];

/** What one incoming value turned out to be. */
export type IncomingMessage =
  | { kind: "request"; id: RequestId; method: string; params: Params | undefined }
  | { kind: "notification"; method: string; params: Params | undefined }
  | { kind: "response"; id: RequestId | null }
  | {
    kind: "invalid";
    /** Why the message was refused, for the log. */
    problem: string;
    /** The error reply to send, or null when none must be sent (notification-shaped). */
    reply: JsonRpcErrorResponse | null;
  };

/** Result of parsing one line of JSON text. */
export type JsonParseResult =
  | { ok: true; value: unknown }
  | { ok: false; reply: JsonRpcErrorResponse };

/** Parses JSON text; a syntax error becomes the -32700 reply (id null) to send back. */
export function parseJson(text: string): JsonParseResult {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    return {
      ok: false,
      reply: errorResponse(null, {
        code: JSONRPC_ERROR.PARSE_ERROR,
        message: "Parse error: message is not JSON",
      }),
    };
  }
}

/** Parses one line of text into a classified message (a parse error is an `invalid` one). */
export function parseLine(line: string): IncomingMessage {
  const parsed = parseJson(line);
  if (!parsed.ok) return { kind: "invalid", problem: "not JSON", reply: parsed.reply };
  return classifyMessage(parsed.value);
}

/** Classifies one already-parsed value (from any transport) as a JSON-RPC 2.0 message. */
export function classifyMessage(value: unknown): IncomingMessage {
  if (Array.isArray(value)) {
    return invalid(null, "Invalid Request: batches are not supported by MCP", "batch");
  }
  if (!isRecord(value)) {
    return invalid(null, "Invalid Request: expected a JSON object", "not an object");
  }
  const hasId = "id" in value;
  const id = isRequestId(value.id) ? value.id : null;
  const replyId = value.jsonrpc === "2.0" ? id : null;
  const looksLikeNotification = typeof value.method === "string" && !hasId;

  if (value.jsonrpc !== "2.0") {
    if (looksLikeNotification) return dropped('jsonrpc is not "2.0"');
    return invalid(null, 'Invalid Request: jsonrpc must be "2.0"', 'jsonrpc is not "2.0"');
  }
  if (!("method" in value)) {
    if ("result" in value || "error" in value) return { kind: "response", id };
    return invalid(replyId, "Invalid Request: missing method", "no method");
  }
  if (typeof value.method !== "string") {
    return invalid(replyId, "Invalid Request: method must be a string", "method not a string");
  }
  const params = value.params;
  if (params !== undefined && !isRecord(params) && !Array.isArray(params)) {
    if (looksLikeNotification) return dropped("params not an object or array");
    return invalid(
      replyId,
      "Invalid Request: params must be an object or an array",
      "params not structured",
    );
  }
  const structured: Params | undefined = params === undefined ? undefined : params;
  if (!hasId) return { kind: "notification", method: value.method, params: structured };
  if (id === null) {
    return invalid(null, "Invalid Request: id must be a string or a number", "bad id type");
  }
  return { kind: "request", id, method: value.method, params: structured };
}

/** Builds an error reply. */
export function errorResponse(
  id: RequestId | null,
  error: JsonRpcErrorObject,
): JsonRpcErrorResponse {
  return { jsonrpc: "2.0", id, error };
}

/** Builds a success reply. */
export function resultResponse(
  id: RequestId,
  result: Record<string, unknown>,
): JsonRpcResultResponse {
  return { jsonrpc: "2.0", id, result };
}

/** Builds a notification; `params` is left out when not given. */
export function notificationMessage(
  method: string,
  params?: Record<string, unknown>,
): JsonRpcNotification {
  return params === undefined ? { jsonrpc: "2.0", method } : { jsonrpc: "2.0", method, params };
}

/** Whether `value` is usable as a JSON-RPC id under MCP (string, or finite number). */
export function isRequestId(value: unknown): value is RequestId {
  return typeof value === "string" || (typeof value === "number" && Number.isFinite(value));
}

/**
 * The request id a `notifications/cancelled` names (MCP spec, utilities/cancellation), or
 * undefined for any other message, or a cancellation that names no usable id.
 */
export function cancelledRequestId(value: unknown): RequestId | undefined {
  if (!isRecord(value) || value.jsonrpc !== "2.0" || "id" in value) return undefined;
  if (value.method !== "notifications/cancelled") return undefined;
  const requestId = isRecord(value.params) ? value.params.requestId : undefined;
  return isRequestId(requestId) ? requestId : undefined;
}

/** A request id (or progress token) as a map key: 1 and "1" are different ids. */
export function idKey(id: RequestId): string {
  return `${typeof id}:${id}`;
}

function invalid(id: RequestId | null, message: string, problem: string): IncomingMessage {
  return {
    kind: "invalid",
    problem,
    reply: errorResponse(id, { code: JSONRPC_ERROR.INVALID_REQUEST, message }),
  };
}

function dropped(problem: string): IncomingMessage {
  return { kind: "invalid", problem: `malformed notification: ${problem}`, reply: null };
}

/**
 * Receives each incoming message. Typed through a method so that the SDK's transports, whose
 * handler takes a JSONRPCMessage, still fit: TypeScript compares method parameters
 * bivariantly. The server treats the message as unknown either way.
 */
export type MessageHandler = { handle(message: unknown): void }["handle"];

/**
 * The transport contract the server needs: the SDK's `Transport` shape (start, send, close,
 * onmessage, onclose, onerror), so the SDK's InMemoryTransport, our stdio transport and a
 * later Streamable HTTP one all fit. Incoming messages are `unknown` on purpose: the server
 * validates them with classifyMessage whatever the transport did.
 */
export interface JsonRpcTransport {
  /** Begins delivering messages to `onmessage`; called once, after the callbacks are set. */
  start(): Promise<void>;
  /** Sends one message. May reject (closed, broken pipe); the server logs and goes on. */
  send(message: WireMessage | readonly WireMessage[]): Promise<void>;
  /** Stops the transport; `onclose` fires (once) as a result. */
  close(): Promise<void>;
  onmessage?: MessageHandler | undefined;
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
}

/** Longest piece of client-sent text we echo in an error or log line. */
export const MAX_ECHO_CHARS = 100;

/** Cuts client-sent text to MAX_ECHO_CHARS code points (plus "...") for errors and logs. */
export function clip(text: string): string {
  return cutCodePoints(text, MAX_ECHO_CHARS + 3, "...");
}

/** Deepest nesting mapStrings walks; deeper values are filtered as one JSON text. */
const MAX_MAP_DEPTH = 64;

/**
 * Applies `filter` to every string in a message (member names included) and returns the
 * filtered copy, ready for the transport. Used by the server's `outgoingText` (the redaction
 * step): filtering the strings before serialising covers every field, whatever the transport.
 */
export function filterMessage(
  message: OutgoingMessage,
  filter: (text: string) => string,
): WireMessage {
  const out: WireMessage = { jsonrpc: "2.0" };
  for (const [key, value] of Object.entries(message)) {
    if (key !== "jsonrpc") out[key] = mapStrings(value, filter, 0);
  }
  return out;
}

function mapStrings(value: unknown, filter: (text: string) => string, depth: number): unknown {
  if (typeof value === "string") return filter(value);
  if (typeof value !== "object" || value === null) return value;
  if (depth >= MAX_MAP_DEPTH) {
    // Past this depth the subtree is filtered as one JSON text (a mask never adds quotes or
    // backslashes); if the filter broke its syntax anyway, the subtree is dropped whole.
    try {
      return JSON.parse(filter(JSON.stringify(value)));
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      return "[redacted]";
    }
  }
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, filter, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[filter(key)] = mapStrings(item, filter, depth + 1);
  }
  return out;
}
