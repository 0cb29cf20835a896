/**
 * Who a peer is (registry name and role), for the header of a push and the peer_name /
 * peer_role fields of inbox messages, so the agent knows who is talking without a round trip.
 * Lookups never delay delivery (upstream learnt this the hard way: a slow registry stalled its
 * poller): a hit answers from the cache, a miss answers "unknown" at once and starts one
 * background refresh of the peer list. Failures are remembered for the same TTL so a flaky
 * registry is not asked on every message. Names are display strings a peer chose for itself:
 * callers sanitise them (workspace/channel_push.ts) and the instructions say they are not attested.
 */
import type { Clock } from "../clock.ts";
import type { InboxMessage } from "../inbox/message.ts";
import type { Logger } from "../log.ts";
import type { Peer } from "../platform/rows.ts";
import { parseUuid } from "../uuid.ts";

/** Upstream's cache lifetime for registry lookups: five minutes. */
export const PEER_TTL_MS = 5 * 60_000;
/** Most peers remembered; the least recently used go first. */
export const PEER_CACHE_CAP = 1024;

/** A peer's self-chosen display identity. */
export interface PeerIdentity {
  peerName?: string;
  peerRole?: string;
}

/** What the directory needs from the platform client. */
export interface PeerSource {
  listPeers(query?: string, opts?: { timeoutMs?: number }): Promise<Peer[]>;
}

interface Entry {
  identity: PeerIdentity;
  expiresAtMs: number;
}

/** Registry lookups for one workspace, cached and never blocking. */
export class PeerDirectory {
  #source: PeerSource;
  #clock: Clock;
  #log: Logger;
  #entries = new Map<string, Entry>();
  #refreshing: Promise<void> | null = null;
  #failedUntilMs = 0;
  /** Ids asked for since the last refresh: those the registry does not list are cached empty. */
  #wanted = new Set<string>();

  constructor(deps: { source: PeerSource; clock: Clock; log: Logger }) {
    this.#source = deps.source;
    this.#clock = deps.clock;
    this.#log = deps.log;
  }

  /**
   * The cached identity of `peerId`, or {} when unknown (a miss starts a background refresh,
   * unless one is running or the last one failed less than a TTL ago).
   */
  lookup(peerId: string): PeerIdentity {
    const id = parseUuid(peerId);
    if (id === null) return {};
    const entry = this.#entries.get(id);
    if (entry !== undefined && entry.expiresAtMs > this.#clock.now()) {
      this.#entries.delete(id); // re-insert: most recently used last
      this.#entries.set(id, entry);
      return entry.identity;
    }
    this.#wanted.add(id);
    void this.refresh();
    return entry?.identity ?? {};
  }

  /**
   * Who sent `msg`: for a peer_agent message the name and role the platform joined onto the
   * row (`include=peer_info`, upstream R3) when it did, else the cached registry identity;
   * {} for anything else. A row that names its sender costs no registry lookup.
   */
  senderOf(msg: Pick<InboxMessage, "kind" | "peer_id" | "peer_name" | "peer_role">): PeerIdentity {
    if (msg.kind !== "peer_agent") return {};
    if (msg.peer_name !== undefined) {
      return msg.peer_role === undefined
        ? { peerName: msg.peer_name }
        : { peerName: msg.peer_name, peerRole: msg.peer_role };
    }
    return this.lookup(msg.peer_id);
  }

  /** Records peers seen elsewhere (list_peers results), so later lookups hit. */
  remember(peers: readonly Peer[]): void {
    const expiresAtMs = this.#clock.now() + PEER_TTL_MS;
    // Only the last PEER_CACHE_CAP could stay: remembering 200,000 and trimming them one by one
    // took seconds (the Map's deleted slots are walked again on every oldest-key lookup).
    for (const peer of peers.slice(-PEER_CACHE_CAP)) {
      const id = parseUuid(peer.id);
      if (id === null) continue;
      const identity: PeerIdentity = {};
      if (peer.name !== "") identity.peerName = peer.name;
      if (peer.role !== null && peer.role !== "") identity.peerRole = peer.role;
      this.#entries.delete(id);
      this.#entries.set(id, { identity, expiresAtMs });
    }
    this.#trim();
  }

  #trim(): void {
    while (this.#entries.size > PEER_CACHE_CAP) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  /**
   * Fetches the peer list once (joining a refresh already running). Never rejects: a failure
   * is logged at debug and not retried for a TTL.
   */
  refresh(): Promise<void> {
    if (this.#refreshing !== null) return this.#refreshing;
    if (this.#clock.now() < this.#failedUntilMs) return Promise.resolve();
    const wanted = [...this.#wanted];
    this.#wanted.clear();
    this.#refreshing = this.#source.listPeers(undefined, { timeoutMs: 5_000 })
      .then((peers) => {
        this.remember(peers);
        // Not in the list (an ancestor further up, say): remember that too, for a TTL.
        const expiresAtMs = this.#clock.now() + PEER_TTL_MS;
        for (const id of wanted) {
          const known = this.#entries.get(id);
          if (known === undefined || known.expiresAtMs <= this.#clock.now()) {
            this.#entries.set(id, { identity: {}, expiresAtMs });
          }
        }
        this.#trim();
      })
      .catch((err) => {
        this.#failedUntilMs = this.#clock.now() + PEER_TTL_MS;
        this.#log.debug("peer lookup failed; messages show peer ids only for now", {
          error: err,
        });
      })
      .finally(() => {
        this.#refreshing = null;
      });
    return this.#refreshing;
  }
}
