/**
 * molecule-mcp entry point: the only place that reads Deno.args and Deno.env, writes outside
 * the logger and picks the exit code. It parses the command line, validates the whole
 * configuration (every problem at once), then serves MCP on stdio while the workspace link
 * registers, heartbeats and polls the inbox.
 */
// Static imports are what start-up needs to validate the configuration and answer the host's
// initialize. The workspace link and the tools (two thirds of the modules: inbox, platform
// client, tools) load behind the MCP session (see serve); help, doctor and install load only
// when run.
import { type InstallRequest, parseCli } from "./lib/cli/args.ts";
import { type HttpListen, parseHttpListen } from "./lib/http_listen.ts";
import type { JsonRpcTransport } from "./lib/mcp/jsonrpc.ts";
import { describeSources, sourcesLine } from "./lib/cli/config_sources.ts";
import { resolveLocalSetup } from "./lib/cli/local_setup.ts";
import { type Clock, createClock, systemClock } from "./lib/clock.ts";
import { type Config, type Env, loadConfig, readEnv, warnIfCleartextRemote } from "./lib/config.ts";
import { AuthRejectedError, EXIT } from "./lib/errors.ts";
import { listVarOf } from "./lib/workspace_list.ts";
import { type Fetch, readRegularTextFileSync } from "./lib/platform/http_client.ts";
import { buildInstructions } from "./lib/instructions.ts";
import { createLogger, type Logger, withLogFields } from "./lib/log.ts";
import { McpServer, type ToolSet } from "./lib/mcp/server.ts";
import { Redactor } from "./lib/redact.ts";
import { StdioTransport } from "./lib/mcp/stdio.ts";
import { UnsafeStateFileError } from "./lib/state/safe_file.ts";
import type { StateDirSource } from "./lib/state/state_dir.ts";
import { checkToken, type TokenSource } from "./lib/state/token.ts";
import type { InboxNotice, ServedWorkspace, ToolDeps, WorkspaceRouter } from "./lib/tools/index.ts";
import { VERSION } from "./lib/version.ts";
import type { WorkspaceLink } from "./lib/workspace/link.ts";
import type { ServedInboxes } from "./lib/workspace/served_inboxes.ts";
import type { AttachPolicy } from "./lib/tools/attachment_policy.ts";
import type { HostProgram } from "./lib/cli/install_program.ts";

/**
 * How long start-up waits for the host's first message before loading the workspace link and
 * the tools anyway. Hosts write initialize as soon as they spawn us, so it is normally there
 * first; 100 ms only delays the links (not the first register) for a host that says nothing.
 */
const LINK_LOAD_GRACE_MS = 100;

/**
 * systemClock with its timers on AbortSignal.timeout, for the requests sent before initialize
 * is answered (the first register's timeout): Deno's first setTimeout costs about 4 MiB of RSS
 * and 30 ms there, AbortSignal.timeout about 0.2 MiB (measured beside make bench's floor). Its
 * timer cannot be cleared: cancelling only stops listening, and the process ends with Deno.exit
 * whatever timers remain.
 */
const startupClock: Clock = createClock({
  monotonicMs: () => performance.now(),
  wallMs: () => Date.now(),
  setTimer(fn, ms) {
    const timer = AbortSignal.timeout(ms);
    timer.addEventListener("abort", fn, { once: true });
    return () => timer.removeEventListener("abort", fn);
  },
});

/** One workspace to serve: its id, URL, agent name and token (a secret). */
interface ServedSettings {
  id: string;
  platformUrl: string;
  agentName: string;
  token: string;
}

/**
 * Longest wait for the first register before the host's initialize is answered anyway
 * (issue 12): a refused token then stops the program before the host shows it as connected;
 * a slower platform gets the normal start (a later refusal still exits 3).
 */
const INITIALIZE_HOLD_MS = 3_000;

/** Everything the server needs once the configuration is valid. */
interface Setup {
  config: Config;
  stateDir: string;
  stateDirSource: StateDirSource;
  /** Every workspace served, in configuration order, with its token (a secret). */
  workspaces: ServedSettings[];
  /** Where the token came from; undefined when MOLECULE_WORKSPACES lists the tokens. */
  tokenSource: TokenSource | undefined;
  log: Logger;
  /** The fetch every platform request uses (custom CA / proxy when configured). */
  http: { fetch: Fetch; close(): void };
  /** Which files send_message_to_user may attach. */
  attachPolicy: AttachPolicy;
  /** Where to serve MCP over HTTP (--http / MOLECULE_MCP_HTTP), or undefined for stdio. */
  listen: HttpListen | undefined;
}

/** Where the MCP sessions come from: stdin/stdout, or HTTP sessions (lib/mcp/http.ts). */
interface Front {
  /** Starts serving; rejects when it cannot (an HTTP port in use). */
  start(): Promise<void>;
  /** Resolves once serving is over (stdin ended, or close()). */
  closed: Promise<void>;
  /** Resolves once serving is ending: stdin ended (replies still being written), or close(). */
  ending: Promise<void>;
  close(): Promise<void>;
  /** Resolves once a host has been heard (or right away for HTTP: nobody to wait for). */
  heard: Promise<void>;
  /** Sends a push to the session (stdio) or to every session (HTTP). Never rejects. */
  notify(method: string, params: Record<string, unknown>): Promise<void>;
}

/** Runs the program and returns its exit code. */
export async function main(args: string[]): Promise<number> {
  const cli = await parseCli(args);
  if ("error" in cli) {
    writeStderr(cli.error);
    return EXIT.CONFIG;
  }
  if (cli.command === "help") {
    const { usageText } = await import("./lib/cli/help.ts");
    writeStdout(usageText(VERSION));
    return EXIT.OK;
  }
  if (cli.command === "version") {
    writeStdout(`molecule-mcp ${VERSION}\n`);
    return EXIT.OK;
  }
  const env = readEnv((name) => Deno.env.get(name));
  if (cli.command === "doctor") return await doctor(env);
  if (cli.command === "install") return await install(cli, env);

  const setup = await prepare(env, cli.command === "serve" ? cli.http : undefined);
  if (!setup.ok) {
    const { usageHint } = await import("./lib/cli/help.ts");
    writeStderr(`molecule-mcp cannot start: ${setup.problems.length} configuration problem(s)`);
    for (const problem of setup.problems) writeStderr(`  - ${problem}`);
    writeStderr(usageHint());
    return EXIT.CONFIG;
  }
  const { config, stateDir, stateDirSource, tokenSource, log } = setup.value;
  log.info("configuration ok", {
    workspace: config.workspaces.map((w) => w.id).join(", "),
    platform: [...new Set(config.workspaces.map((w) => w.platformUrl))].join(", "),
    stateDir,
    credentialsFrom: tokenSource ?? config.workspaceListVar,
    from: sourcesLine(describeSources(env, { tokenSource, stateDirSource })),
  });
  if (config.workspaceListVar !== undefined) {
    const ignored = ["WORKSPACE_ID", "MOLECULE_WORKSPACE_TOKEN", "MOLECULE_WORKSPACE_TOKEN_FILE"]
      .filter((name) => (env[name as keyof Env] ?? "").trim() !== "");
    if (ignored.length > 0) {
      log.warn(`${ignored.join(", ")} ignored: ${config.workspaceListVar} lists the workspaces`, {
        next: `unset ${ignored.join(", ")}, or remove ${config.workspaceListVar}`,
      });
    }
  }
  for (const url of new Set(config.workspaces.map((w) => w.platformUrl))) {
    warnIfCleartextRemote(url, log);
  }
  try {
    return await serve(setup.value);
  } catch (err) {
    // A bug, not an operator fault; the logger's redaction step keeps any secret that the error
    // text may carry (a request, a header) out of stderr.
    log.error("molecule-mcp stopped on an internal error (a bug, please report it)", {
      error: String(err),
    });
    return EXIT.BUG;
  }
}

/**
 * Runs the server until stdin closes or a signal arrives. The MCP session starts first, with
 * only the modules initialize needs. The answer to initialize waits for the first register of
 * every workspace (at most INITIALIZE_HOLD_MS), so a refused token stops us before the host
 * shows a healthy server; that register is sent at once, with the platform modules alone. The links
 * load once it has answered, the tools once initialize is answered, and tools/list or
 * tools/call wait for them. Then each link heartbeats and polls.
 * Each workspace runs on its own: a refused token stops only that one; exit 3 when all are.
 */
async function serve(setup: Setup): Promise<number> {
  const { config, stateDir, log, http } = setup;
  const isMulti = setup.workspaces.length > 1;
  // Only the first register's modules load before initialize is answered, and the links not
  // before the host has been heard (make bench 1 and 2).
  const heard = Promise.withResolvers<void>();
  const stopping = new AbortController();
  const served = setup.workspaces.map((ws) => ({
    settings: {
      ...config,
      workspaceId: ws.id,
      platformUrl: ws.platformUrl,
      agentName: ws.agentName,
      token: ws.token,
      stateDir,
    },
    log: isMulti ? withLogFields(log, { workspace: ws.id }) : log,
  }));
  const registerModules = loadRegisterModules();
  const firstRegisters = served.map(({ settings, log }) =>
    sendFirstRegister(registerModules, settings, {
      fetch: http.fetch,
      log,
      signal: stopping.signal,
    })
  );
  // A refusal is acted on by the link (exit 3). Each one is noted as it comes, so a host that
  // leaves before the links open still learns which tokens were refused (and none is unhandled).
  const refusals: AuthRejectedError[] = [];
  for (const [index, first] of firstRegisters.entries()) {
    first?.catch((err) => {
      if (err instanceof AuthRejectedError) refusals[index] = err;
    });
  }
  // Settled once every first register has answered; true when every token was refused.
  // (After the host is heard: with every heartbeat disabled nothing is sent, and the links
  // must not load before the reply is on its way.)
  const isRefusedByAll = heard.promise.then(() => Promise.allSettled(firstRegisters)).then((
    outcomes,
  ) => outcomes.length > 0 && outcomes.every((o) => o.status === "rejected"));
  const registered = Promise.withResolvers<void>();
  const holdOver = Promise.withResolvers<void>();
  // AbortSignal.timeout, not setTimeout: cheaper before initialize (see LINK_LOAD_GRACE_MS).
  AbortSignal.timeout(INITIALIZE_HOLD_MS).addEventListener("abort", () => holdOver.resolve());
  // The links load once the registers have answered (or the hold is over): before that they
  // would only compete with them, and with the answer to initialize, for the CPU and memory.
  // One event-loop turn later, so the answer released by the same registers is written first:
  // in the release binary (one bundled module) import() runs the modules' code at once.
  const modules = Promise.race([isRefusedByAll, holdOver.promise]).then(nextTurn).then(
    loadLinkModules,
  );
  // Set once the links start opening: before that, a host that leaves has nothing to stop.
  // A failed load is not handled here: it rejects `openings` (openLink awaits the modules).
  let isOpening = false;
  void modules.then(() => isOpening = true, () => {});
  // Several workspaces: each link's upload retention also reads the others' queued messages.
  const inboxes = isMulti ? modules.then((m) => new m.served.ServedInboxes(served.length)) : null;
  const openings = Promise.all(
    served.map(({ settings, log }) =>
      openLink(modules, settings, { fetch: http.fetch, log, stopping: stopping.signal, inboxes })
    ),
  );
  // Every token refused: held until the link flow below closes the session unanswered.
  const initializeGate = Promise.race([
    registered.promise,
    holdOver.promise,
    isRefusedByAll.then((isRefused) => isRefused ? registered.promise : undefined),
  ]);
  // The tools load once the held initialize is released: registering needs neither.
  const tools = Promise.all([modules, initializeGate]).then(() => import("./lib/tools/index.ts"));
  const routing = Promise.all([tools, openings]).then(([tools, links]) => {
    if (links.some((link) => link === null)) return null;
    const open = links.filter((link): link is WorkspaceLink => link !== null);
    const first = open[0];
    if (first === undefined) return null;
    // Hosts that show no pushes learn of arrivals from a line at the end of other results.
    const inboxNotice = config.isInboxNoticeDisabled ? undefined : new tools.InboxNotice();
    return { first, router: new tools.WorkspaceRouter(open.map(servedWorkspace)), inboxNotice };
  });
  const loading = Promise.all([tools, routing]).then(([tools, routed]) => {
    if (routed === null) throw new Error("a workspace link did not open");
    return toolSet(
      routed.router.route(tools.platformTools()),
      routed.first,
      setup,
      routed.inboxNotice,
    );
  });
  // Every session (stdio's one, or each HTTP session) is its own McpServer over the same
  // tools and context: one inbox per workspace, whichever session pops a message.
  const openSession = (transport: JsonRpcTransport) =>
    new McpServer<ToolDeps>({
      transport,
      serverInfo: { name: "molecule", version: VERSION },
      loading,
      log,
      instructions: () =>
        buildInstructions({
          pollTimeoutSecs: config.pollTimeoutSecs,
          workspaceCount: setup.workspaces.length,
        }),
      clock: systemClock,
      // The one redaction step, shared with the logger: results, errors and pushes pass it.
      outgoingText: (text) => log.redactor.redact(text),
      initializeGate,
    });
  const server: Front = setup.listen === undefined
    ? stdioFront(openSession, log)
    : await httpFront(openSession, setup.listen, log);
  void server.heard.then(heard.resolve);
  // A host that stays silent still gets its links (heartbeat, inbox). AbortSignal.timeout, not
  // setTimeout: Deno's first setTimeout costs about 1.8 MiB of RSS before initialize is
  // answered, this about 0.3 MiB (measured with make bench's floor comparison).
  AbortSignal.timeout(LINK_LOAD_GRACE_MS).addEventListener("abort", () => heard.resolve());

  // The listeners stay until the process exits: removing them during shutdown would hand a
  // late signal back to the default action (exit 130/143) while state is being flushed.
  const signalled = Promise.withResolvers<false>();
  const onSignal = () => {
    signalled.resolve(false);
    void server.close();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  let isEveryTokenRefused = false;
  let links: WorkspaceLink[] = [];
  try {
    try {
      await server.start();
    } catch (err) {
      if (
        !(err instanceof Deno.errors.AddrInUse || err instanceof Deno.errors.PermissionDenied ||
          err instanceof Deno.errors.AddrNotAvailable)
      ) throw err;
      writeStderr(`molecule-mcp cannot start: cannot listen for MCP over HTTP: ${err.message}`);
      writeStderr("  next: pick another port with --http or MOLECULE_MCP_HTTP");
      return EXIT.CONFIG;
    }
    // A host that leaves before the links open (stdin EOF, a signal) gets no link opened for
    // it (no inbox, no poll). After a signal it stops at once; after stdin EOF the first
    // registers still decide between exit 3 (every token refused: nothing is answered) and 0
    // (what was read is answered), within the hold; the stop below aborts what is left.
    const hasLeftEarly = await Promise.race([
      openings.then(() => false),
      server.ending.then(() => !isOpening),
    ]);
    if (hasLeftEarly) {
      const isRefused = await Promise.race([
        isRefusedByAll,
        holdOver.promise.then(() => false),
        signalled.promise,
      ]);
      // The links would have said which tokens were refused; they never opened, so it is said
      // here: every refusal known by now (all of them, or some with several workspaces).
      refusals.forEach((refusal, index) => served[index]?.log.error(refusal.message));
      if (isRefused) {
        isEveryTokenRefused = true;
        await server.close();
      } else {
        const refused = refusals.filter(Boolean).length; // holes (not refused) are skipped
        if (refused > 0) log.warn(`${refused} of ${served.length} workspaces refused their token`);
        registered.resolve();
      }
      await server.closed;
      return isRefused ? EXIT.TOKEN_REJECTED : EXIT.OK;
    }
    const opened = await openings;
    if (opened.some((link) => link === null)) return EXIT.CONFIG;
    links = opened.filter((link): link is WorkspaceLink => link !== null);
    const { push } = await modules;
    const names = new Map<string, string>();
    for (const link of links) forwardArrivals(link, { push, routing, server, names, isMulti });
    // Each workspace stops on its own when its token is refused; the others keep serving.
    // Each workspace's own logger: it names the workspace when there are several.
    const starts = links.map((link, index) =>
      startLink(link, firstRegisters[index], {
        stopping: stopping.signal,
        log: served[index]?.log ?? log,
        isMulti,
        names,
      })
    );
    const outcome = Promise.all(starts).then(async (results) => {
      if (results.every((r) => r === "refused")) {
        isEveryTokenRefused = true;
        // Closed before initialize is answered: the host sees the failure, not a server.
        await server.close();
      } else if (results.includes("refused")) {
        log.warn(
          `${results.filter((r) => r === "refused").length} of ${results.length} workspaces ` +
            "refused their token and stay down; the others serve",
        );
      }
    });
    void outcome.finally(() => registered.resolve()).catch(() => {});
    await Promise.race([server.closed, outcome.then(() => server.closed)]);
  } finally {
    stopping.abort();
    registered.resolve();
    await server.close();
    await Promise.all(links.map((link) => link.stop()));
    http.close();
  }
  return isEveryTokenRefused ? EXIT.TOKEN_REJECTED : EXIT.OK;
}

/**
 * Hands one link's arrivals on: the tool router and the inbox notice learn of them (in arrival
 * order, once the tools have loaded), and each message goes to the host as a channel push
 * (with several workspaces, naming the one it arrived on; `names` fills in as they answer).
 */
function forwardArrivals(
  link: WorkspaceLink,
  deps: {
    push: Awaited<ReturnType<typeof loadLinkModules>>["push"];
    routing: Promise<{ router: WorkspaceRouter; inboxNotice: InboxNotice | undefined } | null>;
    server: Front;
    names: ReadonlyMap<string, string>;
    isMulti: boolean;
  },
): void {
  const { push, routing, server, names, isMulti } = deps;
  const id = link.platform.workspaceId;
  link.onArrived((messages) => {
    // In arrival order (then-callbacks run in order), once the tools have loaded.
    void routing.then((routed) => {
      routed?.router.noteArrival(id, messages);
      routed?.inboxNotice?.noteArrivals(messages.length);
    });
    for (const message of messages) {
      const shown = isMulti ? { ...message, arrival_workspace_id: id } : message;
      const name = names.get(id);
      const notification = push.buildChannelNotification(shown, {
        ...link.peers.senderOf(message),
        ...(isMulti ? { workspace: { id, ...(name === undefined ? {} : { name }) } } : {}),
      });
      void server.notify(notification.method, notification.params); // never rejects
    }
  });
}

/**
 * Starts one link on its own signal (ended by `stopping`, or when its token is refused):
 * "refused" (logged on `deps.log`, the workspace's own logger) when the platform refuses the
 * token, and only this workspace stays down. With several workspaces it then looks up the
 * workspace's name for the push header.
 */
async function startLink(
  link: WorkspaceLink,
  firstRegister: Parameters<WorkspaceLink["start"]>[1],
  deps: { stopping: AbortSignal; log: Logger; isMulti: boolean; names: Map<string, string> },
): Promise<"refused" | "serving"> {
  const { log, isMulti, names } = deps;
  const own = new AbortController();
  deps.stopping.addEventListener("abort", () => own.abort(), { once: true });
  const id = link.platform.workspaceId;
  try {
    await link.start(own.signal, firstRegister);
  } catch (err) {
    if (!(err instanceof AuthRejectedError)) throw err;
    own.abort();
    log.error(err.message);
    return "refused";
  }
  if (isMulti && !own.signal.aborted) {
    // The push header names the workspace; its name is shown when the platform says it.
    void link.platform.getWorkspace(undefined, { signal: own.signal }).then((found) => {
      if (found.kind === "found") names.set(id, found.workspace.name);
    }, () => {});
  }
  return "serving";
}

/**
 * Sends one workspace's first register at once, with only the platform modules it needs
 * (issue 12 holds the initialize answer for it), so its round trip overlaps with starting the
 * session and reading the host's initialize (make bench 1: 6 ms sooner than waiting for the
 * host); its timeout runs on startupClock. The link reuses the outcome. Undefined when
 * heartbeats are disabled (nothing is sent); rejects with AuthRejectedError on a refused token.
 */
function sendFirstRegister(
  modules: ReturnType<typeof loadRegisterModules>,
  settings: Config & { token: string },
  deps: { fetch: Fetch; log: Logger; signal: AbortSignal },
): Promise<boolean> | undefined {
  if (settings.isHeartbeatDisabled) return undefined;
  const { fetch, log, signal } = deps;
  return modules.then((m) =>
    m.registration.registerOnce(m.registration.buildAgentCard(settings), {
      platform: {
        workspaceId: settings.workspaceId,
        register: (card, opts) =>
          m.registry.registerWorkspace(
            new m.http.PlatformHttp(settings, { fetch, clock: startupClock, log }),
            card,
            opts,
          ),
      },
      log,
    }, signal)
  );
}

/** What the first register needs: the platform request core, the registry, registerOnce. */
function loadRegisterModules() {
  return Promise.all([
    import("./lib/platform/http.ts"),
    import("./lib/platform/registry.ts"),
    import("./lib/workspace/registration.ts"),
  ]).then(([http, registry, registration]) => ({ http, registry, registration }));
}

/** MCP over stdin/stdout: one session, over when stdin ends. */
function stdioFront(
  openSession: (transport: JsonRpcTransport) => McpServer<ToolDeps>,
  log: Logger,
): Front {
  const server = openSession(
    new StdioTransport({ input: Deno.stdin.readable, output: Deno.stdout, log }),
  );
  return {
    start: () => server.start(),
    closed: server.closed,
    ending: server.ending,
    close: () => server.close(),
    heard: server.heard,
    notify: (method, params) => server.notify(method, params),
  };
}

/**
 * MCP over Streamable HTTP at http://HOST:PORT/mcp: stdin is not read (its end stops nothing);
 * SIGINT/SIGTERM stop it. The HTTP module is loaded only in this mode.
 */
async function httpFront(
  openSession: (transport: JsonRpcTransport) => McpServer<ToolDeps>,
  listen: HttpListen,
  log: Logger,
): Promise<Front> {
  const { McpHttpHandler, MCP_PATH } = await import("./lib/mcp/http.ts");
  const handler = new McpHttpHandler({ ...listen, openSession, log, clock: systemClock });
  const stop = new AbortController();
  const done = Promise.withResolvers<void>();
  let finished: Promise<void> = Promise.resolve();
  let sweeping: Promise<void> = Promise.resolve();
  let isClosing = false;
  return {
    start() {
      const httpServer = Deno.serve({
        hostname: listen.hostname,
        port: listen.port,
        signal: stop.signal,
        onListen: ({ port }) => {
          const host = listen.hostname.includes(":") ? `[${listen.hostname}]` : listen.hostname;
          log.info("serving MCP over HTTP", {
            url: `http://${host}:${port}${MCP_PATH}`,
            auth: listen.token === undefined ? "none (loopback only)" : "bearer token",
          });
        },
      }, (req) => handler.handle(req));
      finished = httpServer.finished;
      sweeping = handler.runIdleSweeper(stop.signal);
      return Promise.resolve();
    },
    closed: done.promise,
    ending: done.promise,
    async close() {
      if (isClosing) return await done.promise;
      isClosing = true;
      await handler.close();
      stop.abort();
      await Promise.all([finished, sweeping]);
      done.resolve();
    },
    heard: Promise.resolve(),
    notify: (method, params) => handler.notifyAll(method, params),
  };
}

/**
 * Resolves on the next turn of the event loop, after every callback queued now (a held
 * initialize answer being written). AbortSignal.timeout, not setTimeout: see startupClock.
 */
function nextTurn(): Promise<void> {
  return new Promise((resolve) =>
    AbortSignal.timeout(0).addEventListener("abort", () => resolve(), { once: true })
  );
}

/** The modules the links need (loaded once the first registers answered): link, channel push. */
function loadLinkModules() {
  return Promise.all([
    import("./lib/workspace/link.ts"),
    import("./lib/workspace/channel_push.ts"),
    import("./lib/workspace/served_inboxes.ts"),
  ]).then(([link, push, served]) => ({ link, push, served }));
}

/**
 * Opens one workspace link (its client and durable inbox; nothing is sent yet), or returns
 * null after saying why on stderr: the state directory passed the start-up probe, so this is
 * rare (a full disk, or files in it that another user owns). A module that fails to load is a
 * bug and rejects.
 */
async function openLink(
  modules: ReturnType<typeof loadLinkModules>,
  settings: Config & { token: string; stateDir: string },
  deps: {
    fetch: Fetch;
    log: Logger;
    stopping: AbortSignal;
    inboxes: Promise<ServedInboxes> | null;
  },
): Promise<WorkspaceLink | null> {
  const { link } = await modules;
  const { stopping, inboxes: inboxesLoading, ...linkDeps } = deps;
  // Stopped before the link opened: serve() has returned already and reads no outcome.
  if (stopping.aborted) return null;
  const inboxes = await inboxesLoading;
  const id = settings.workspaceId;
  try {
    const opened = await link.WorkspaceLink.open(settings, {
      ...linkDeps,
      clock: systemClock,
      ...(inboxes === null ? {} : { otherPending: () => inboxes.othersOf(id) }),
    });
    inboxes?.add(id, opened);
    return opened;
  } catch (err) {
    const next = err instanceof UnsafeStateFileError ? `: ${err.next}` : "";
    const why = `${err instanceof Error ? err.message : err}${next}`;
    writeStderr(`molecule-mcp cannot start: ${deps.log.redactor.redact(why)}`);
    return null;
  }
}

/** One link as the tool router sees it (getters: the inbox opens later). */
function servedWorkspace(link: WorkspaceLink): ServedWorkspace {
  return {
    id: link.platform.workspaceId,
    platform: link.platform,
    peers: link.peers,
    get inbox() {
      return link.inbox;
    },
    get inboxUnavailable() {
      return link.inboxUnavailable;
    },
    firstPoll: link.firstPoll,
  };
}

/** The tools and the deps their handlers get; the first link is the default workspace. */
function toolSet(
  tools: ToolSet<ToolDeps>["tools"],
  link: WorkspaceLink,
  { config, log, attachPolicy }: Setup,
  inboxNotice: InboxNotice | undefined,
): ToolSet<ToolDeps> {
  return {
    tools,
    context: {
      platform: link.platform,
      peers: link.peers,
      // Getters: the server copies the context per call, so each call sees the inbox as it is
      // now (it opens later when another process held it at start-up).
      get inbox() {
        return link.inbox;
      },
      get inboxUnavailable() {
        return link.inboxUnavailable;
      },
      firstPoll: link.firstPoll,
      selfId: config.workspaceId,
      workspaceTier: config.workspaceTier,
      runtimeIdentity: config.runtimeIdentity,
      clock: systemClock,
      log,
      random: Math.random,
      attachmentFs: {
        realPath: (path) => Deno.realPath(path),
        stat: (path) => Deno.stat(path),
        open: (path) => Deno.open(path, { read: true }),
        readDir: (path) => Deno.readDir(path),
      },
      attachPolicy,
      ...(inboxNotice === undefined ? {} : { inboxNotice }),
    },
  };
}

/** Real pieces the platform fetch is built from (CA file, proxy), for serve, doctor and install. */
const HTTP_DEPS = {
  readTextFile: (path: string) => readRegularTextFileSync(path),
  createHttpClient: (options: Deno.CreateHttpClientOptions) => Deno.createHttpClient(options),
  fetch: (req: Request, init?: RequestInit & { client?: Deno.HttpClient }) => fetch(req, init),
};

/** `molecule-mcp doctor`: the report on stdout, exit 0 without a failure, else 1. */
async function doctor(env: Env): Promise<number> {
  const { renderReport, runDoctor } = await import("./lib/cli/doctor.ts");
  const where = Deno.build.standalone ? "compiled binary" : "deno run";
  const report = await runDoctor({
    env,
    version: VERSION,
    runtime: `Deno ${Deno.version.deno}, ${Deno.build.os} ${Deno.build.arch}, ${where}`,
  }, { clock: systemClock, http: HTTP_DEPS });
  // Colour only for a person at a terminal, and never when NO_COLOR is set (no-color.org).
  const colour = Deno.stdout.isTerminal() && (env.NO_COLOR ?? "") === "";
  writeStdout(renderReport(report, { colour }));
  return report.exitCode;
}

/** `molecule-mcp install <host>`: writes (or with --dry-run shows) the host's MCP entry. */
async function install(request: InstallRequest, env: Env): Promise<number> {
  const { runInstall } = await import("./lib/cli/install.ts");
  const result = await runInstall(request, env, {
    clock: systemClock,
    http: HTTP_DEPS,
    cwd: Deno.cwd(),
    program: await hostProgramCommand(),
  });
  if (result.output !== "") writeStdout(result.output);
  for (const line of result.errors) writeStderr(line);
  return result.exitCode;
}

/**
 * How a host should start this program (lib/cli/install_program.ts): the binary itself when
 * compiled, else this runtime with the shipped flags and this checkout's main.ts.
 */
async function hostProgramCommand(): Promise<HostProgram> {
  const { hostProgram } = await import("./lib/cli/install_program.ts");
  const isCompiled = Deno.build.standalone;
  // deno.json holds the V8 flags `make run` passes; only read from a checkout.
  const v8Flags = isCompiled
    ? ""
    : (await import("./deno.json", { with: { type: "json" } })).default.runtime.v8Flags;
  return hostProgram({
    isCompiled,
    execPath: Deno.execPath(),
    mainPath: import.meta.filename ?? decodeURIComponent(new URL(import.meta.url).pathname),
    v8Flags,
  });
}

/** Validates config, state dir and token together, so every problem is reported at once. */
async function prepare(
  env: Env,
  httpFlag: string | undefined,
): Promise<{ ok: true; value: Setup } | { ok: false; problems: string[] }> {
  const loaded = loadConfig(env, { checkToken });
  // MOLECULE_WORKSPACES (or _JSON) carries the tokens and replaces the token variables.
  const isListed = listVarOf(env) !== undefined;
  // --http wins over MOLECULE_MCP_HTTP; blank counts as unset.
  const httpText = httpFlag ?? (env.MOLECULE_MCP_HTTP?.trim() || undefined);
  const listen = httpText === undefined ? undefined : parseHttpListen(httpText, {
    token: env.MOLECULE_MCP_HTTP_TOKEN,
    from: httpFlag === undefined ? "MOLECULE_MCP_HTTP" : "--http",
  });
  const log = createLogger({
    write: writeStderr,
    level: loaded.ok ? loaded.config.logLevel : "warn",
    redactor: new Redactor(),
  });
  const { stateDir, token, http } = await resolveLocalSetup(env, {
    log,
    isListed,
    http: HTTP_DEPS,
  });
  if (
    !loaded.ok || !stateDir.ok || (token !== null && !token.ok) || !http.ok || listen?.ok === false
  ) {
    const problems = loaded.ok ? [] : [...loaded.problems];
    if (listen?.ok === false) problems.push(listen.problem);
    if (!stateDir.ok) problems.push(stateDir.problem);
    if (token !== null && !token.ok) problems.push(token.problem);
    if (!http.ok) problems.push(...http.problems);
    return { ok: false, problems };
  }
  const tokens = loaded.workspaceTokens;
  const workspaces = loaded.config.workspaces.map((ws) => ({
    id: ws.id,
    platformUrl: ws.platformUrl,
    agentName: ws.agentName,
    token: token?.ok ? token.token : tokens?.get(ws.id) ?? "",
  }));
  // Every workspace's token is masked in every outgoing text, whichever workspace it is for.
  for (const ws of workspaces) log.redactor.add(ws.token);
  if (listen?.ok && listen.listen.token !== undefined) log.redactor.add(listen.listen.token);
  for (const secret of http.secrets) log.redactor.add(secret);
  const tokenFile = env.MOLECULE_WORKSPACE_TOKEN_FILE?.trim() ?? "";
  const attachPolicy: AttachPolicy = {
    stateDir: stateDir.dir,
    home: env.HOME?.trim() || undefined,
    allowDirs: loaded.config.attachAllowDirs,
    secretFiles: tokenFile === "" ? [] : [tokenFile],
  };
  return {
    ok: true,
    value: {
      config: loaded.config,
      stateDir: stateDir.dir,
      stateDirSource: stateDir.source,
      workspaces,
      tokenSource: token?.ok ? token.source : undefined,
      log,
      http,
      attachPolicy,
      listen: listen?.ok ? listen.listen : undefined,
    },
  };
}

function writeStdout(text: string): void {
  writeAll(Deno.stdout, text);
}

function writeStderr(line: string): void {
  writeAll(Deno.stderr, `${line}\n`);
}

function writeAll(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (err) {
    writeStderr(`molecule-mcp stopped on an internal error (a bug, please report it): ${err}`);
    code = EXIT.BUG;
  }
  Deno.exit(code);
}
