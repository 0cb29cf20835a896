/**
 * The platform's per-workspace event stream, `GET /workspaces/:id/events/stream` (contract
 * §14.1): opening it through the request core's long-lived path (same fetch, so the custom CA
 * and proxy apply; no request slot held), and reading it as platform events. It owns what an
 * answer means (404 = a platform without the stream, 401/403 = the token refused) and the
 * event shape `{"type","timestamp","data"}`. What to do with an event is the caller's
 * (inbox/event_wake.ts): events are hints, never data.
 */
import { isRecord } from "../json_object.ts";
import { PlatformError } from "../errors.ts";
import { answerDetail, isOk, isRouteMissing, refusal, truncate } from "./answer.ts";
import type { PlatformHttp } from "./http.ts";
import { platformRoute } from "./route.ts";
import { SseParser } from "./sse.ts";

/** Wait for the stream's status line; the stream itself may then stay open for hours. */
export const EVENT_STREAM_OPEN_TIMEOUT_MS = 15_000;

/** One event as the platform sends it; only what the client uses is kept. */
export interface PlatformEvent {
  /** e.g. "ACTIVITY_LOGGED", "WORKSPACE_HEARTBEAT", "DELEGATION_COMPLETE". */
  type: string;
  /** `data.activity_type` of an ACTIVITY_LOGGED event ("a2a_receive", …), else null. */
  activityType: string | null;
  /** `data.method` when it is a string ("message/send", "delegate_result", …), else null. */
  method: string | null;
}

/** What one read of the stream brought: its events, and events too large to read. */
export interface EventBatch {
  events: PlatformEvent[];
  /** Events dropped for size (each is still a sign that something happened). */
  oversized: number;
  /** `data:` lines that were not a platform event (not JSON, no type). */
  malformed: number;
}

/** An open stream. `next()` resolves with the next batch, or null once the stream ended. */
export interface EventStream {
  /** Rejects when the connection breaks (a PlatformError with status 0). */
  next(): Promise<EventBatch | null>;
  /** Ends the stream; a pending `next()` then resolves null or rejects. Idempotent. */
  close(): void;
}

/** How an attempt to open the stream came out. */
export type EventStreamOpening =
  | { kind: "open"; stream: EventStream }
  /** 404: an older platform without the route, or the workspace is gone. */
  | { kind: "missing"; isRouteMissing: boolean; detail: string }
  /** Any other refusal (401/403 included: see `error.isAuthRejected`). */
  | { kind: "refused"; error: PlatformError };

/**
 * Opens this workspace's event stream. Rejects with a PlatformError with status 0 when there
 * is no answer (unreachable, timeout), and with the signal's reason when it aborts. Aborting
 * `signal` later also ends the open stream. Needs --allow-net for the platform host.
 */
export async function openEventStream(
  http: PlatformHttp,
  opts: { signal: AbortSignal; timeoutMs?: number },
): Promise<EventStreamOpening> {
  const route = platformRoute("GET /workspaces/:id/events/stream", { id: http.workspaceId });
  const opened = await http.openStream({
    route,
    timeoutMs: opts.timeoutMs ?? EVENT_STREAM_OPEN_TIMEOUT_MS,
    signal: opts.signal,
  });
  if ("body" in opened) return { kind: "open", stream: readEvents(opened, route.endpoint) };
  const { answer } = opened;
  if (answer.status === 404) {
    return {
      kind: "missing",
      isRouteMissing: isRouteMissing(answer),
      detail: answerDetail(answer),
    };
  }
  const { endpoint } = route;
  if (isOk(answer)) {
    // A 2xx that is not an event stream: a captive portal or a proxy page, whose header
    // text is cut and sanitised like any other detail.
    const type = answer.headers.get("content-type") ?? "none";
    return {
      kind: "refused",
      error: new PlatformError(endpoint, answer.status, {
        next: "check that PLATFORM_URL points at the platform API and that no proxy " +
          "rewrites its answers",
        detail: truncate(`not an event stream (Content-Type ${type})`),
      }),
    };
  }
  return { kind: "refused", error: refusal(endpoint, answer) };
}

/** Wraps an open body as an EventStream (UTF-8 decoded, SSE parsed, events typed). */
function readEvents(
  opened: { body: ReadableStream<Uint8Array>; close(): void },
  endpoint: string,
): EventStream {
  const reader = opened.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  let isClosed = false;
  const close = () => {
    if (isClosed) return;
    isClosed = true;
    opened.close();
    reader.cancel().catch(() => undefined); // the connection is being dropped on purpose
  };
  return {
    async next() {
      if (isClosed) return null;
      let chunk: ReadableStreamReadResult<string>;
      try {
        chunk = await reader.read();
      } catch (err) {
        close();
        if (err instanceof DOMException && err.name === "AbortError") return null;
        throw new PlatformError(endpoint, 0, {
          next: "the stream is reopened by itself; meanwhile the inbox is polled",
          // Sanitised and cut like every other detail (the error may quote the connection).
          detail: truncate(err instanceof Error ? `${err.name}: ${err.message}` : String(err)),
          cause: err,
        });
      }
      if (chunk.done) {
        parser.end();
        close();
        return null;
      }
      const out = parser.push(chunk.value);
      const batch: EventBatch = { events: [], oversized: out.oversized, malformed: 0 };
      for (const raw of out.events) {
        const event = parsePlatformEvent(raw.data);
        if (event === null) batch.malformed += 1;
        else batch.events.push(event);
      }
      return batch;
    },
    close,
  };
}

/** `{"type":…, "data":{activity_type, method,…}}` → PlatformEvent; null when not that shape. */
export function parsePlatformEvent(data: string): PlatformEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch (err) {
    if (err instanceof SyntaxError) return null;
    throw err;
  }
  if (!isRecord(value) || typeof value.type !== "string" || value.type === "") return null;
  const payload = isRecord(value.data) ? value.data : {};
  return {
    type: value.type,
    activityType: typeof payload.activity_type === "string" ? payload.activity_type : null,
    method: typeof payload.method === "string" ? payload.method : null,
  };
}
