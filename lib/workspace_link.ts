/**
 * One workspace's link to the platform: its client, its durable inbox, and the loops that keep
 * it alive (register once, heartbeat, inbox poller). All of it lives in one object, so serving
 * several workspaces later means several links sharing the MCP server. It leaves the MCP
 * surface to lib/mcp and lib/tools, and exit codes to main.ts.
 */
import type { Clock } from "./clock.ts";
import { DurableInbox } from "./inbox.ts";
import { InboxPoller } from "./inbox_poller.ts";
import type { Logger } from "./log.ts";
import { createPlatformClient, type PlatformClient } from "./platform.ts";
import type { Fetch } from "./http_client.ts";
import {
  buildAgentCard,
  type HeartbeatDeps,
  HeartbeatState,
  registerOnce,
  runHeartbeat,
} from "./registration.ts";
import { saveInboundSecret } from "./state_files.ts";

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
  isHeartbeatDisabled: boolean;
  isInboxDisabled: boolean;
  pollIntervalMs: number;
  heartbeatIntervalMs: number;
}

/** Real or fake things the link uses. */
export interface WorkspaceLinkDeps {
  fetch: Fetch;
  clock: Clock;
  log: Logger;
}

/** A workspace's client, inbox and background loops. */
export class WorkspaceLink {
  readonly platform: PlatformClient;
  /** Null when MOLECULE_MCP_DISABLE_INBOX is set. */
  readonly inbox: DurableInbox | null;
  readonly poller: InboxPoller | null;
  #settings: WorkspaceLinkSettings;
  #deps: WorkspaceLinkDeps;
  #loops: Promise<void>[] = [];

  private constructor(
    settings: WorkspaceLinkSettings,
    deps: WorkspaceLinkDeps,
    platform: PlatformClient,
    inbox: DurableInbox | null,
  ) {
    this.#settings = settings;
    this.#deps = deps;
    this.platform = platform;
    this.inbox = inbox;
    this.poller = inbox === null ? null : new InboxPoller(
      { selfId: settings.workspaceId, intervalMs: settings.pollIntervalMs },
      { platform, inbox, clock: deps.clock, log: deps.log },
    );
  }

  /** Builds the client and opens the inbox (replaying its journal). Nothing is sent yet. */
  static async open(settings: WorkspaceLinkSettings, deps: WorkspaceLinkDeps) {
    const platform = createPlatformClient(
      {
        platformUrl: settings.platformUrl,
        workspaceId: settings.workspaceId,
        token: settings.token,
      },
      deps,
    );
    const inbox = settings.isInboxDisabled
      ? null
      : await DurableInbox.open({ dir: settings.stateDir, log: deps.log, clock: deps.clock });
    return new WorkspaceLink(settings, deps, platform, inbox);
  }

  /**
   * Registers (unless disabled), then runs the heartbeat and the poller until `signal` aborts.
   * Resolves once registration is settled; rejects only with AuthRejectedError (the token
   * cannot work: the caller aborts `signal` and calls stop()). Other failures are logged and
   * retried by the heartbeat.
   */
  async start(signal: AbortSignal): Promise<void> {
    const { log, clock } = this.#deps;
    const s = this.#settings;
    if (this.poller !== null) this.#loops.push(this.poller.run(signal));
    if (s.isHeartbeatDisabled) {
      log.info("register and heartbeat disabled by MOLECULE_MCP_DISABLE_HEARTBEAT");
      return;
    }
    const card = buildAgentCard({
      agentName: s.agentName,
      agentSkills: s.agentSkills,
      ...(s.agentDescription === undefined ? {} : { agentDescription: s.agentDescription }),
    });
    await registerOnce(card, { platform: this.platform, log });
    const heartbeatDeps: HeartbeatDeps = {
      platform: this.platform,
      clock,
      log,
      saveInboundSecret: (secret) => saveInboundSecret(s.stateDir, secret),
    };
    const state = new HeartbeatState({ workspaceId: s.workspaceId, startedAtMs: clock.now() });
    this.#loops.push(
      runHeartbeat({ state, intervalMs: s.heartbeatIntervalMs }, heartbeatDeps, signal),
    );
  }

  /** Waits for the loops (after their signal aborted), then flushes and closes the inbox. */
  async stop(): Promise<void> {
    await Promise.allSettled(this.#loops);
    this.#loops = [];
    await this.inbox?.close();
  }
}
