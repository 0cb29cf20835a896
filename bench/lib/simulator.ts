/**
 * The local platform simulator for `make bench` and `make demo`: the fake platform from
 * tests/fakes (contract-faithful, in memory) served on 127.0.0.1 at a free port, one poll-mode
 * workspace with a live token, and a temp state directory for the program. Every request is
 * stamped with performance.now() on arrival, so benchmarks can count requests per window and
 * find the first poll after a write.
 */
import { createFakePlatform, type FakePlatform } from "../../tests/fakes/fake_platform.ts";
import { matchRoute } from "../../tests/fakes/fake_platform_routes.ts";

/** One request the simulator received: its route key and arrival time. */
export interface RequestStamp {
  /** "METHOD /pattern" (e.g. "GET /workspaces/:id/activity"), or "METHOD /path" if unrouted. */
  route: string;
  atMs: number;
}

/** Route key of the inbox poll. */
export const ACTIVITY_ROUTE = "GET /workspaces/:id/activity";

/** Options for `startSimulator`. */
export interface SimulatorOptions {
  /** Display name of the workspace (default "local-demo"). */
  workspaceName?: string;
  /** Variables every program started for this simulator gets (e.g. DENO_V8_FLAGS). */
  programEnv?: Record<string, string>;
  /**
   * Answers a request instead of the platform when it returns a Response (a hostile or broken
   * platform: huge bodies, delays); null lets the platform answer. `route` is as in stamps.
   */
  intercept?: (req: Request, route: string) => Promise<Response | null> | Response | null;
  /** Port to listen on (default 0: a free one). */
  port?: number;
}

/** A served simulator; close() frees the port and removes the state directory. */
export interface Simulator {
  platform: FakePlatform;
  /** Base URL, e.g. "http://127.0.0.1:41234". */
  url: string;
  workspace: { id: string; token: string };
  /** Temp directory the program uses as CONFIGS_DIR (journal, cursor, inbound secret). */
  stateDir: string;
  /** Every request received so far, oldest first. */
  readonly stamps: readonly RequestStamp[];
  /** Requests being answered now, and the most there ever were at once. */
  readonly load: { inFlight: number; peakInFlight: number };
  /** The program's environment for this workspace, plus `extra`. */
  programEnv(extra?: Record<string, string>): Record<string, string>;
  /** Requests with route `route` (all when omitted) received at or after `sinceMs`. */
  requestsSince(sinceMs: number, route?: string): RequestStamp[];
  /** Stops serving and removes the state directory. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * `res` with `onEnd` called once when its body has been sent whole or cancelled (at once when
 * it has none), so a request counts as in flight while its answer is still streaming.
 */
function untilBodyEnds(res: Response, onEnd: () => void): Response {
  let isEnded = false;
  const end = () => {
    if (!isEnded) onEnd();
    isEnded = true;
  };
  if (res.body === null) {
    end();
    return res;
  }
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) {
          end();
          controller.close();
        } else {
          controller.enqueue(value);
        }
      } catch (err) {
        end();
        controller.error(err);
      }
    },
    async cancel(reason) {
      end();
      await reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  return new Response(body, { status: res.status, headers: res.headers });
}

/** Starts a simulator with one poll-mode workspace. Needs --allow-net=127.0.0.1 and write. */
export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const platform = createFakePlatform();
  const workspace = platform.addWorkspace({
    name: opts.workspaceName ?? "local-demo",
    delivery_mode: "poll",
  });
  const stateDir = await Deno.makeTempDir({ prefix: "molecule-mcp-sim-" });
  const stamps: RequestStamp[] = [];
  const load = { inFlight: 0, peakInFlight: 0 };
  const closing = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: opts.port ?? 0, onListen: () => {} },
    async (req) => {
      const atMs = performance.now();
      const path = new URL(req.url).pathname;
      const route = matchRoute(req.method, path)?.route.key ?? `${req.method} ${path}`;
      stamps.push({ route, atMs });
      load.inFlight += 1;
      load.peakInFlight = Math.max(load.peakInFlight, load.inFlight);
      let res: Response;
      try {
        res = await opts.intercept?.(req, route) ?? await answer(req);
      } catch (err) {
        load.inFlight -= 1;
        throw err;
      }
      return untilBodyEnds(res, () => (load.inFlight -= 1));
    },
  );
  async function answer(req: Request): Promise<Response> {
    // A request of our own, body read first: the fake honours its signal, and Deno warns
    // when anything touches the served request's signal (legacy abort semantics).
    const body = req.body === null ? null : new Uint8Array(await req.arrayBuffer());
    const own = new Request(req.url, {
      method: req.method,
      headers: req.headers,
      body,
      signal: closing.signal,
    });
    return await platform.fetch(own);
  }
  const url = `http://127.0.0.1:${server.addr.port}`;
  let closed: Promise<void> | null = null;
  return {
    platform,
    url,
    workspace,
    stateDir,
    stamps,
    load,
    programEnv: (extra = {}) => ({
      ...opts.programEnv,
      WORKSPACE_ID: workspace.id,
      PLATFORM_URL: url,
      MOLECULE_WORKSPACE_TOKEN: workspace.token,
      CONFIGS_DIR: stateDir,
      ...extra,
    }),
    requestsSince: (sinceMs, route) =>
      stamps.filter((s) => s.atMs >= sinceMs && (route === undefined || s.route === route)),
    close: () => {
      closed ??= (async () => {
        closing.abort(new Error("simulator closed"));
        await server.shutdown();
        await Deno.remove(stateDir, { recursive: true });
      })();
      return closed;
    },
  };
}
