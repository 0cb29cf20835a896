/**
 * One workspace's link to the platform: its client, its durable inbox, and the loops that keep
 * it alive (register once, heartbeat, inbox poller). All of it lives in one object, so serving
 * several workspaces later means several links sharing the MCP server. It leaves the MCP
 * surface to lib/mcp and lib/tools, and exit codes to main.ts.
 */
import { removeStaleTemps } from "../state/atomic_write.ts";
import type { Clock } from "../clock.ts";
import { DurableInbox } from "../inbox/inbox.ts";
import { InboxBusyError } from "../inbox/lock.ts";
import { LegacyCheckError, openSettlingLegacy, platformRowProbe } from "../inbox/legacy_state.ts";
import { UnsafeStateFileError } from "../state/safe_file.ts";
import type { InboxMessage } from "../inbox/message.ts";
import {
  INBOX_DISABLED,
  inboxLoading,
  type InboxOpening,
  type InboxUnavailable,
} from "../inbox/unavailable.ts";
import { InboxPoller } from "../inbox/poller.ts";
import { EventWake } from "../inbox/event_wake.ts";
import { UploadResolver } from "../inbox/upload_resolver.ts";
import { retentionPolicy, UploadRetention } from "../inbox/upload_retention.ts";
import { UPLOADS_DIR_NAME, UploadStore } from "../state/upload_store.ts";
import { PeerDirectory } from "./peer_directory.ts";
import type { Logger } from "../log.ts";
import { createPlatformClient, type PlatformClient } from "../platform/client.ts";
import type { Fetch } from "../platform/http_client.ts";
import {
  buildAgentCard,
  checkInboundSecret,
  type HeartbeatDeps,
  HeartbeatState,
  inboundSecretSlot,
  registerOnce,
  runHeartbeat,
} from "./registration.ts";
import { readInboundSecret, saveInboundSecret, workspaceStatePath } from "../state/state_files.ts";

/** The settings of one workspace link (a slice of Config plus what main.ts resolved). */
export interface WorkspaceLinkSettings {
  workspaceId: string;
  platformUrl: string;
  token: string;
  /** State directory (0700) for the inbound secret, inbox journal and cursor. */
  stateDir: string;
  agentName: string;
  agentDescription?: string;
  agentSkills: readonly string[];
  /** Root of the fetched canvas uploads (MOLECULE_CHAT_UPLOAD_DIR); default `<stateDir>/uploads`. */
  chatUploadDir?: string;
  /** Days an upload no queued message mentions is kept (0: no age limit). */
  chatUploadRetentionDays: number;
  /** Size cap of this workspace's uploads folder in bytes (0: none). */
  chatUploadMaxBytes: number;
  isHeartbeatDisabled: boolean;
  isInboxDisabled: boolean;
  pollIntervalMs: number;
  heartbeatIntervalMs: number;
  /** MOLECULE_MCP_EVENT_STREAM=0: no event stream, polling only. */
  isEventStreamDisabled: boolean;
}

/** Real or fake things the link uses. */
export interface WorkspaceLinkDeps {
  fetch: Fetch;
  clock: Clock;
  log: Logger;
  /** Uniform in [0, 1), for reconnect jitter; Math.random when absent. */
  random?: () => number;
  /**
   * With several workspaces served: the messages queued in the OTHER workspaces' inboxes, or
   * null while one of them is still opening. Their mentions keep this workspace's uploads too
   * (one agent may hand a file it got as one workspace to another), see
   * inbox/upload_retention.ts.
   */
  otherPending?: () => Iterable<Pick<InboxMessage, "text" | "attachments">> | null;
}

/** A workspace's client, inbox and background loops. */
export class WorkspaceLink {
  readonly platform: PlatformClient;
  /** Names and roles of this workspace's peers, for pushes and inbox messages. */
  readonly peers: PeerDirectory;
  #settings: WorkspaceLinkSettings;
  #deps: WorkspaceLinkDeps;
  #loops: Promise<void>[] = [];
  #inbox: DurableInbox | null = null;
  #poller: InboxPoller | null = null;
  #firstPoll = Promise.withResolvers<void>();
  #unavailable: InboxUnavailable | null = null;
  /** The first opening of the inbox, started by open() and settled before stop() returns. */
  #opening: Promise<InboxOpening> = Promise.resolve({ inbox: null, unavailable: null });
  #isOpenFailing = false;
  #isBusyReported = false;
  /** Aborted by stop(): ends a platform request the opening is waiting for. */
  #openAbort = new AbortController();
  #arrivalListeners: ((msgs: InboxMessage[]) => void)[] = [];

  private constructor(settings: WorkspaceLinkSettings, deps: WorkspaceLinkDeps) {
    this.#settings = settings;
    this.#deps = deps;
    this.platform = createPlatformClient(
      {
        platformUrl: settings.platformUrl,
        workspaceId: settings.workspaceId,
        token: settings.token,
      },
      deps,
    );
    this.peers = new PeerDirectory({ source: this.platform, clock: deps.clock, log: deps.log });
  }

  /**
   * Builds the client and starts opening the inbox in the background: replaying a large
   * journal takes seconds (about 13 s per GB measured), and the MCP session must not wait for it
   * (issue 10 item 5). Until it is open, `inboxUnavailable.opening` lets the inbox tools wait
   * for it. Nothing is sent yet. When another process holds this inbox, or it cannot be opened,
   * the link runs without it and keeps trying (start()).
   */
  static async open(settings: WorkspaceLinkSettings, deps: WorkspaceLinkDeps) {
    const link = new WorkspaceLink(settings, deps);
    await removeStaleTemps(link.#secretPath(), deps.log);
    // The secret saved by an earlier run is masked from the start, before any heartbeat.
    const stored = await readInboundSecret(link.#secretPath(), deps.log);
    if (stored !== undefined && checkInboundSecret(stored) === undefined) {
      deps.log.redactor.rotate(inboundSecretSlot(settings.workspaceId), stored);
    }
    if (settings.isInboxDisabled) {
      link.#unavailable = INBOX_DISABLED;
      link.#firstPoll.resolve();
    } else {
      const opening = link.#tryOpenInbox().then(() => ({
        inbox: link.#inbox,
        unavailable: link.#unavailable,
      }));
      link.#opening = opening;
      link.#unavailable = inboxLoading(opening);
    }
    return link;
  }

  /**
   * Settles once this run's first inbox poll has finished (any outcome), or once there will be
   * none: the inbox is disabled, was not ours at start-up (another process), or stop() ran.
   * Never rejects. The inbox tools wait on it (bounded) on a fresh start (issue 11 item 9).
   */
  get firstPoll(): Promise<void> {
    return this.#firstPoll.promise;
  }

  /** Settles once the first attempt to open the inbox has (the inbox, or null). */
  get inboxOpened(): Promise<InboxOpening> {
    return this.#opening;
  }

  /** This workspace's inbound secret file (keyed by the workspace id). */
  #secretPath(): string {
    const s = this.#settings;
    return workspaceStatePath(s.stateDir, "inboundSecret", s.workspaceId);
  }

  /** The durable inbox, or null while it is disabled or held by another process. */
  get inbox(): DurableInbox | null {
    return this.#inbox;
  }

  /** Why `inbox` is null (null when it is open). */
  get inboxUnavailable(): InboxUnavailable | null {
    return this.#unavailable;
  }

  /** Calls `listener` with every batch of newly queued messages, whenever the inbox opens. */
  onArrived(listener: (msgs: InboxMessage[]) => void): void {
    this.#arrivalListeners.push(listener);
    this.#inbox?.onArrived(listener);
  }

  /**
   * Tries to open the inbox; never throws. On failure the reason goes to `inboxUnavailable`
   * and the log (once while it keeps failing), and #runInbox tries again.
   */
  async #tryOpenInbox(): Promise<void> {
    const { log, clock } = this.#deps;
    const s = this.#settings;
    try {
      const t0 = clock.now();
      // Files of an older version are settled first (lib/inbox/legacy_state.ts); that may
      // ask the platform, which is why it runs here, in the background opening.
      const inbox = await openSettlingLegacy(
        { dir: s.stateDir, workspaceId: s.workspaceId },
        { log, clock, probeRow: platformRowProbe(this.platform, this.#openAbort.signal) },
        (adoptJournalFrom) =>
          DurableInbox.open({
            dir: s.stateDir,
            log,
            clock,
            // Keyed by the workspace: one state directory holds several workspaces side by side.
            workspaceId: s.workspaceId,
            ...(adoptJournalFrom === undefined ? {} : { adoptJournalFrom }),
          }),
      );
      log.info("inbox journal loaded", {
        pending: inbox.size,
        pendingBytes: inbox.bytes,
        loadMs: Math.round(clock.now() - t0),
      });
      this.#isOpenFailing = false;
      this.#isBusyReported = false;
      this.#inbox = inbox;
      this.#unavailable = null;
      for (const listener of this.#arrivalListeners) inbox.onArrived(listener);
      // Canvas uploads land in a private folder per workspace (inbox/upload_resolver.ts).
      const store = new UploadStore(
        s.chatUploadDir ?? `${s.stateDir}/${UPLOADS_DIR_NAME}`,
        s.workspaceId,
        log,
      );
      const uploads = new UploadResolver({
        platform: this.platform,
        store,
        selfId: s.workspaceId,
        log,
      });
      // Old uploads are removed between polls (inbox/upload_retention.ts), only by the
      // process that owns this inbox: it alone knows which files queued messages mention.
      const retention = new UploadRetention(
        retentionPolicy(s.chatUploadRetentionDays, s.chatUploadMaxBytes),
        {
          store,
          inbox: {
            pendingMessages: () => {
              const { otherPending } = this.#deps;
              if (otherPending === undefined) return inbox.pendingMessages();
              const others = otherPending(); // null: not known yet, so nothing may go
              return others === null ? null : chain(inbox.pendingMessages(), others);
            },
          },
          workspaceId: s.workspaceId,
          clock,
          log,
          onRemoved: (paths) => uploads.forget(paths),
          // The state directory is ours (state/state_dir.ts): an uploads folder owned by anyone
          // else is never swept.
          ownerUid: (await Deno.lstat(s.stateDir)).uid,
        },
      );
      this.#poller = new InboxPoller(
        { selfId: s.workspaceId, intervalMs: s.pollIntervalMs },
        {
          platform: this.platform,
          inbox,
          clock,
          log,
          uploads,
          betweenPolls: (state) => retention.maybeSweep(state),
        },
      );
    } catch (err) {
      if (this.#openAbort.signal.aborted) return; // stopping: nothing to report
      if (!(err instanceof InboxBusyError)) {
        const error = err instanceof Error ? err.message : String(err);
        const next = err instanceof LegacyCheckError || err instanceof UnsafeStateFileError
          ? err.next
          : "check the state directory (free space, permissions); the inbox is " +
            "retried at every poll interval";
        if (this.#isOpenFailing) log.debug("cannot open the inbox; retrying", { error });
        else log.error("cannot open the inbox; retrying", { error, next });
        this.#isOpenFailing = true;
        this.#unavailable = { message: `The inbox cannot be opened: ${error}`, next };
        return;
      }
      if (!this.#isBusyReported) {
        this.#isBusyReported = true;
        log.warn(
          "another molecule-mcp process is receiving this workspace's messages; " +
            "this one serves the tools and takes over the inbox when that process exits",
          {
            pid: err.pid ?? "unknown",
            stateDir: s.stateDir,
          },
        );
      }
      this.#unavailable = {
        message: `The inbox is held by another molecule-mcp process${
          err.pid === null ? "" : ` (pid ${err.pid})`
        } using the same state directory; only one process per workspace receives messages`,
        next: "use the MCP server that owns the inbox, or stop the other process: this one " +
          "takes over within a few seconds",
      };
    }
  }

  /** Waits until the inbox can be opened (another process let go), then polls it. */
  async #runInbox(signal: AbortSignal): Promise<void> {
    await this.#opening;
    if (this.#poller === null) this.#firstPoll.resolve(); // not ours at start-up: no first poll
    else void this.#poller.firstPoll.then(() => this.#firstPoll.resolve());
    while (this.#inbox === null && !signal.aborted) {
      await this.#deps.clock.sleep(this.#settings.pollIntervalMs, signal);
      if (signal.aborted) break;
      await this.#tryOpenInbox();
    }
    if (this.#inbox !== null && !signal.aborted) {
      this.#deps.log.info("inbox open; polling for messages");
    }
    const poller = this.#poller;
    if (poller === null) return;
    await Promise.all([poller.run(signal), this.#runEventStream(poller, signal)]);
  }

  /**
   * Keeps the platform's event stream open so messages arrive without waiting for the next
   * poll (lib/inbox/event_wake.ts), unless MOLECULE_MCP_EVENT_STREAM=0.
   */
  async #runEventStream(poller: InboxPoller, signal: AbortSignal): Promise<void> {
    const s = this.#settings;
    const { clock, log } = this.#deps;
    if (s.isEventStreamDisabled) {
      log.info("event stream disabled by MOLECULE_MCP_EVENT_STREAM=0: polling only");
      return;
    }
    const wake = new EventWake(
      // The workspace's own heartbeat events are the stream's only keep-alive (§14.1).
      { stallMs: 2 * s.heartbeatIntervalMs },
      { platform: this.platform, poller, clock, log, random: this.#deps.random ?? Math.random },
    );
    await wake.run(signal);
  }

  /**
   * Registers (unless disabled), then runs the heartbeat and the poller until `signal` aborts.
   * Resolves once registration is settled; rejects only with AuthRejectedError (the token
   * cannot work: the caller aborts `signal` and calls stop()). Other failures are logged and
   * retried by the heartbeat. `firstRegister`, when given, is a register already sent for this
   * workspace (main.ts sends it before the link modules load, so the host's initialize is
   * answered without them): its outcome stands in for the link's own register.
   */
  async start(signal: AbortSignal, firstRegister?: Promise<boolean>): Promise<void> {
    const { log, clock } = this.#deps;
    const s = this.#settings;
    if (!s.isInboxDisabled) this.#loops.push(this.#runInbox(signal));
    if (s.isHeartbeatDisabled) {
      log.info("register and heartbeat disabled by MOLECULE_MCP_DISABLE_HEARTBEAT");
      return;
    }
    try {
      await (firstRegister ??
        registerOnce(buildAgentCard(s), { platform: this.platform, log }, signal));
    } catch (err) {
      if (signal.aborted) return; // shut down while registering: nothing more to start
      throw err;
    }
    void this.peers.refresh(); // names for the first pushes; never rejects
    const heartbeatDeps: HeartbeatDeps = {
      platform: this.platform,
      clock,
      log,
      saveInboundSecret: (secret) => saveInboundSecret(this.#secretPath(), secret, log),
    };
    const state = new HeartbeatState({ workspaceId: s.workspaceId, startedAtMs: clock.now() });
    this.#loops.push(
      runHeartbeat({ state, intervalMs: s.heartbeatIntervalMs }, heartbeatDeps, signal),
    );
  }

  /** Waits for the loops (after their signal aborted), then flushes and closes the inbox. */
  async stop(): Promise<void> {
    this.#openAbort.abort(); // a platform check of older files must not hold up the exit
    this.#firstPoll.resolve();
    await this.#opening;
    await Promise.allSettled(this.#loops);
    this.#loops = [];
    await this.#inbox?.close();
  }
}

/** The items of `first`, then those of `second`, each read only when reached. */
function* chain<T>(first: Iterable<T>, second: Iterable<T>): Generator<T> {
  yield* first;
  yield* second;
}
