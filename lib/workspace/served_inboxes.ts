/**
 * The inboxes of every workspace one process serves (MOLECULE_WORKSPACES), as each link's
 * upload retention needs them: an upload of one workspace stays while a message queued for
 * ANY served workspace names it (one agent may hand a file it got as one workspace to
 * another; inbox/upload_retention.ts). Until every served inbox has finished opening, the
 * queued messages are not known, and no sweep removes anything.
 */
import type { InboxMessage } from "../inbox/message.ts";

/** What a served link shows of its inbox (WorkspaceLink satisfies it). */
export interface ServedInbox {
  /** The open inbox, or null (disabled, held by another process, or not open yet). */
  readonly inbox: { pendingMessages(): Iterable<InboxMessage> } | null;
  /** Settles once the first attempt to open the inbox has. */
  readonly inboxOpened: Promise<unknown>;
}

/** The served workspaces' inboxes, filled as their links open. */
export class ServedInboxes {
  #expected: number;
  #links = new Map<string, ServedInbox>();
  #settled = new Set<string>();

  /** `expected`: how many workspaces are served (each is added once its link opened). */
  constructor(expected: number) {
    this.#expected = expected;
  }

  /** Adds the link of `workspaceId`; it counts once its inbox's first opening settled. */
  add(workspaceId: string, link: ServedInbox): void {
    this.#links.set(workspaceId, link);
    void link.inboxOpened.then(() => this.#settled.add(workspaceId), () => {});
  }

  /**
   * The messages queued for every served workspace but `workspaceId` (each decoded only when
   * reached), or null while a served inbox is not added or still opening. An inbox that could
   * not be opened (disabled, another process's) has no queue here to read.
   */
  othersOf(workspaceId: string): Iterable<Pick<InboxMessage, "text" | "attachments">> | null {
    if (this.#settled.size < this.#expected) return null;
    const others = [...this.#links].filter(([id]) => id !== workspaceId).map(([, link]) => link);
    return (function* () {
      for (const link of others) yield* link.inbox?.pendingMessages() ?? [];
    })();
  }
}
