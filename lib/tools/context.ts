/**
 * What every tool handler receives (besides its arguments and the call's signal). main.ts
 * builds one per workspace; tests build it from fakes. Keep it a plain object: the server
 * copies it per call to add `signal`.
 */
import type { Clock } from "../clock.ts";
import type { DurableInbox } from "../inbox/inbox.ts";
import type { InboxUnavailable } from "../inbox/unavailable.ts";
import type { Logger } from "../log.ts";
import type { PeerDirectory } from "../workspace/peer_directory.ts";
import type { PlatformClient } from "../platform/client.ts";
import type { AttachPolicy } from "./attachment_policy.ts";
import type { InboxNotice } from "./inbox_notice.ts";
import type { AttachmentFs } from "./attachment_reader.ts";
import type { RuntimeIdentity } from "../runtime_identity.ts";

/**
 * What the inbox tools use of an inbox: one workspace's DurableInbox, or several merged
 * (workspace_router.ts MergedInbox).
 */
export type InboxView = Pick<DurableInbox, "size" | "peek" | "pop" | "wait">;

/** What the tools use of a peer directory (one workspace's, or routed per message). */
export type PeerNames = Pick<PeerDirectory, "senderOf" | "remember">;

/** Dependencies of the platform tools. */
export interface ToolDeps {
  /** The platform client bound to this workspace. */
  platform: PlatformClient;
  /** The durable inbox, or null while it is disabled or held by another process. */
  inbox: InboxView | null;
  /** Why `inbox` is null: shown to the agent by the inbox tools. Null when it is open. */
  inboxUnavailable: InboxUnavailable | null;
  /**
   * Settles once the first inbox poll of this run has finished (WorkspaceLink.firstPoll): the
   * inbox tools wait for it, at most FIRST_POLL_WAIT_MS, so a call right after start does not
   * answer "empty" while messages wait on the platform. Absent: nothing to wait for.
   */
  firstPoll?: Promise<void>;
  /** Cached peer names and roles (non-blocking lookups) for inbox messages. */
  peers: PeerNames;
  /** This workspace's id, lowercase. */
  selfId: string;
  /** WORKSPACE_TIER: only tier 0 (root) may write GLOBAL memories. */
  workspaceTier: number;
  /** The model/runtime variables, read once at start-up (get_runtime_identity). */
  runtimeIdentity: RuntimeIdentity;
  clock: Clock;
  log: Logger;
  /** Uniform [0, 1): retry jitter. */
  random: () => number;
  /** The file system attachments are read through (main.ts passes Deno's; --allow-read). */
  attachmentFs: AttachmentFs;
  /** Which files may be attached (state dir, HOME, MOLECULE_MCP_ATTACH_ALLOW). */
  attachPolicy: AttachPolicy;
  /**
   * Arrivals not yet shown to the agent, for the one-line notice at the end of other tools'
   * results (hosts without push). Absent when MOLECULE_MCP_INBOX_NOTICE=0.
   */
  inboxNotice?: InboxNotice;
}
