/**
 * The fake platform's live events (contract §14.1): a per-workspace broadcaster and the SSE
 * route `GET /workspaces/:id/events/stream`. Faithful to the platform's quirks: the stream
 * opens with `: ping`, each event is one `data: {"type","timestamp","data"}` line and a blank
 * line, there are no `event:`/`id:` lines and no replay, a subscriber's 64-slot buffer drops
 * events when full, and there is no keep-alive besides the workspace's own heartbeat events.
 * Test controls (cut, stall, drop, inject) let tests play proxies and lost events.
 */
import type { Clock } from "../../lib/clock.ts";
import type { Ctx } from "./fake_platform_context.ts";
import { errorJson } from "./fake_platform_http.ts";

/** Events buffered per subscriber before the platform drops new ones (contract §14.1). */
export const SUBSCRIBER_BUFFER = 64;

/** How an open stream is ended by `cut`. */
export type StreamCut =
  /** The server closes the response cleanly. */
  | "end"
  /** The connection breaks mid-stream (a proxy or network cut). */
  | "error"
  /** The stream stays open but nothing more arrives (a proxy that cut an idle stream). */
  | "stall";

interface Subscriber {
  workspaceId: string;
  controller: ReadableStreamDefaultController<Uint8Array>;
  isStalled: boolean;
  close(): void;
}

/** The platform's event broadcaster (in-process only, as the real one). */
export class EventHub {
  #clock: Clock;
  #subscribers = new Set<Subscriber>();
  /** Events still to be lost per workspace (`dropNext`). */
  #toDrop = new Map<string, number>();
  #encoder = new TextEncoder();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Open streams of one workspace (stalled ones included). */
  openCount(workspaceId: string): number {
    return [...this.#subscribers].filter((s) => s.workspaceId === workspaceId).length;
  }

  /** Sends one event to every stream of `workspaceId`, as broadcaster.go does. */
  publish(workspaceId: string, type: string, data: Record<string, unknown>): void {
    const dropping = this.#toDrop.get(workspaceId) ?? 0;
    if (dropping > 0) {
      this.#toDrop.set(workspaceId, dropping - 1);
      return;
    }
    const line = JSON.stringify({ type, timestamp: this.#clock.now(), data });
    this.sendRaw(workspaceId, `data: ${line}\n\n`);
  }

  /** Writes raw SSE text to every live stream of `workspaceId` (tests of odd framing). */
  sendRaw(workspaceId: string, text: string): void {
    const bytes = this.#encoder.encode(text);
    for (const sub of this.#subscribers) {
      if (sub.workspaceId !== workspaceId || sub.isStalled) continue;
      // The 64-slot channel: when the reader is behind, the event is dropped.
      if ((sub.controller.desiredSize ?? 0) <= 0) continue;
      sub.controller.enqueue(bytes);
    }
  }

  /** The next `count` events of a workspace are lost (full buffer, another server process). */
  dropNext(workspaceId: string, count: number): void {
    this.#toDrop.set(workspaceId, (this.#toDrop.get(workspaceId) ?? 0) + count);
  }

  /** Ends every open stream of a workspace the way `how` says. */
  cut(workspaceId: string, how: StreamCut): void {
    for (const sub of [...this.#subscribers]) {
      if (sub.workspaceId !== workspaceId) continue;
      if (how === "stall") {
        sub.isStalled = true;
        continue;
      }
      this.#subscribers.delete(sub);
      if (how === "end") sub.controller.close();
      else sub.controller.error(new Error("connection reset by the fake platform"));
    }
  }

  /** A new subscriber's body: `: ping` first, then events until the request ends. */
  subscribe(workspaceId: string, signal: AbortSignal): ReadableStream<Uint8Array> {
    let sub: Subscriber | null = null;
    const remove = () => {
      if (sub !== null) this.#subscribers.delete(sub);
    };
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        const s: Subscriber = {
          workspaceId,
          controller,
          isStalled: false,
          close: remove,
        };
        sub = s;
        this.#subscribers.add(s);
        controller.enqueue(this.#encoder.encode(": ping\n\n"));
        const onAbort = () => {
          if (!this.#subscribers.has(s)) return;
          remove();
          try {
            controller.close();
          } catch (err) {
            // Already closed or errored by a cut: nothing left to end.
            if (!(err instanceof TypeError)) throw err;
          }
        };
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
      },
      cancel: () => remove(),
    }, new CountQueuingStrategy({ highWaterMark: SUBSCRIBER_BUFFER }));
  }
}

/** GET /workspaces/:id/events/stream (WorkspaceAuth; 404 for an unknown workspace). */
export function eventStream({ model, req }: Ctx): Response {
  const id = req.params.id ?? "";
  const ws = model.workspace(id);
  if (ws === undefined) return errorJson(404, "workspace not found");
  return new Response(model.events.subscribe(id, req.signal), {
    status: 200,
    headers: {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
    },
  });
}
