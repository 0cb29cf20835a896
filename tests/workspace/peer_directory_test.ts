import { assertEquals } from "../assert.ts";
import { PEER_CACHE_CAP, PEER_TTL_MS, PeerDirectory } from "../../lib/workspace/peer_directory.ts";
import type { Peer } from "../../lib/platform/rows.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { flushMicrotasks, ManualClock } from "../fakes/manual_clock.ts";

const ALICE = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
const BOB = "6fa459ea-ee8a-3ca4-894e-db77e160355e";

function peer(id: string, name: string, role: string | null = null): Peer {
  return {
    id,
    name,
    role,
    tier: 1,
    status: "online",
    parentId: null,
    activeTasks: 0,
    agentCard: null,
  };
}

/** A peer source that counts calls and answers from a list, or fails. */
function source(peers: Peer[], opts: { isFailing?: boolean } = {}) {
  const state = { calls: 0, isFailing: opts.isFailing ?? false, peers };
  return {
    state,
    listPeers(): Promise<Peer[]> {
      state.calls++;
      return state.isFailing
        ? Promise.reject(new Error("registry down"))
        : Promise.resolve(state.peers);
    },
  };
}

Deno.test("peer directory: a first lookup answers at once without a name, later ones name the peer", async () => {
  const clock = new ManualClock();
  const src = source([peer(ALICE, "Alice", "reviewer")]);
  const peers = new PeerDirectory({ source: src, clock, log: captureLog().log });
  assertEquals(peers.lookup(ALICE), {});
  await peers.refresh();
  assertEquals(peers.lookup(ALICE.toUpperCase()), { peerName: "Alice", peerRole: "reviewer" });
  assertEquals(src.state.calls, 1);
});

Deno.test("peer directory: misses while a refresh runs share that one request", async () => {
  const clock = new ManualClock();
  const src = source([peer(ALICE, "Alice")]);
  const peers = new PeerDirectory({ source: src, clock, log: captureLog().log });
  peers.lookup(ALICE);
  peers.lookup(BOB);
  peers.lookup(ALICE);
  await peers.refresh();
  assertEquals(src.state.calls, 1);
});

Deno.test("peer directory: a failing registry is not asked again for five minutes", async () => {
  const clock = new ManualClock();
  const src = source([peer(ALICE, "Alice")], { isFailing: true });
  const peers = new PeerDirectory({ source: src, clock, log: captureLog().log });
  peers.lookup(ALICE);
  await peers.refresh();
  peers.lookup(ALICE);
  await peers.refresh();
  assertEquals(src.state.calls, 1);
  src.state.isFailing = false;
  await clock.advance(PEER_TTL_MS);
  peers.lookup(ALICE);
  await peers.refresh();
  assertEquals(src.state.calls, 2);
  assertEquals(peers.lookup(ALICE), { peerName: "Alice" });
});

Deno.test("peer directory: a sender the registry does not list costs one request per five minutes", async () => {
  const clock = new ManualClock();
  const src = source([peer(ALICE, "Alice")]);
  const peers = new PeerDirectory({ source: src, clock, log: captureLog().log });
  peers.lookup(BOB);
  await peers.refresh();
  for (let i = 0; i < 5; i++) assertEquals(peers.lookup(BOB), {});
  await flushMicrotasks();
  assertEquals(src.state.calls, 1);
  await clock.advance(PEER_TTL_MS);
  peers.lookup(BOB);
  await flushMicrotasks();
  assertEquals(src.state.calls, 2);
});

Deno.test("peer directory: non-UUID ids are never looked up", async () => {
  const clock = new ManualClock();
  const src = source([]);
  const peers = new PeerDirectory({ source: src, clock, log: captureLog().log });
  assertEquals(peers.lookup("../../etc/passwd"), {});
  assertEquals(peers.lookup(""), {});
  await flushMicrotasks();
  assertEquals(src.state.calls, 0);
});

Deno.test("peer directory: the cache keeps at most its cap, dropping the least recently used", () => {
  const clock = new ManualClock();
  const peers = new PeerDirectory({ source: source([]), clock, log: captureLog().log });
  const many = Array.from({ length: PEER_CACHE_CAP + 1 }, (_, i) => {
    const hex = i.toString(16).padStart(12, "0");
    return peer(`00000000-0000-4000-8000-${hex}`, `p${i}`);
  });
  peers.remember(many.slice(0, PEER_CACHE_CAP));
  assertEquals(peers.lookup(many[0]!.id), { peerName: "p0" }); // now most recently used
  peers.remember([many[PEER_CACHE_CAP]!]);
  assertEquals(peers.lookup(many[0]!.id), { peerName: "p0" });
  assertEquals(peers.lookup(many[1]!.id), {}, "the least recently used entry was dropped");
});
