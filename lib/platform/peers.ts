/**
 * The endpoints about other workspaces: discovery, A2A messages, delegations, the peer list
 * and workspace lookups (contract §8, §10, §12, §13). Each id is checked to be a UUID before
 * it goes into a URL; retry policies belong to the tools.
 */
import { parseUuid } from "../uuid.ts";
import { isRecord } from "../json_object.ts";
import { A2A_MAX_BODY_BYTES, type A2AOutcome, buildMessageSend, classifyA2AAnswer } from "./a2a.ts";
import {
  expectArray,
  expectObject,
  expectOk,
  isOk,
  keepParsed,
  malformed,
  refusal,
} from "./answer.ts";
import { type CallOptions, type PlatformHttp, requireUuid } from "./http.ts";
import { platformRoute } from "./route.ts";
import {
  type DelegationRow,
  parseDelegationRow,
  parsePeer,
  parseWorkspaceInfo,
  type Peer,
  type WorkspaceInfo,
} from "./rows.ts";

/** GET /registry/discover/:id. `url` is often Docker-internal: route through sendA2A instead. */
export interface DiscoveredPeer {
  id: string;
  name: string;
  url: string;
}

/** Accepted by POST /delegate: 202 for a new delegation, 200 for an idempotent hit. */
export interface DelegationReceipt {
  delegationId: string;
  status: string;
  targetId: string;
  isIdempotentHit: boolean;
  warning?: string;
}

/** GET /workspaces/:id: the row, or the 410 of a removed workspace. */
export type WorkspaceLookup =
  | { kind: "found"; workspace: WorkspaceInfo }
  | { kind: "removed"; id: string; hint: string; removedAt: string | null };

/** Lookups: upstream's 10 s. */
const LOOKUP_TIMEOUT_MS = 10_000;
/** A push peer may think for minutes; the platform's own idle timeout is 5 min (§8). */
const A2A_TIMEOUT_MS = 300_000;
/**
 * Body cap for an A2A reply: the platform relays at most 10 MiB of the peer's answer
 * (contract §1.4); 16 MiB leaves room for the envelope and JSON escaping.
 */
const A2A_MAX_BODY_BYTES_IN = 16 * 1024 * 1024;
/**
 * Body cap for the peer list: a bare row is about 200 bytes, so an organisation of 200,000
 * peers is 40 MB (the list_peers tool then shows what fits in one result); 64 MiB admits it,
 * or ten thousand peers with 6 KB agent cards.
 */
const PEERS_MAX_BODY_BYTES = 64 * 1024 * 1024;
/**
 * Body cap for the delegation list: at most 50 rows (contract §10), whose summaries may quote
 * a task of up to 1 MiB (the A2A limit); 16 MiB holds fifteen such rows and any ordinary page.
 */
const DELEGATIONS_MAX_BODY_BYTES = 16 * 1024 * 1024;
const NEXT_LIST_PEERS = "no workspace has that id; call list_peers for the ids you can use";
const NEXT_HIERARCHY = "this workspace may not reach that peer under the hierarchy rules; " +
  "call list_peers for the peers it can reach";

/** GET /registry/discover/:peer with X-Workspace-ID. */
export async function discoverPeer(
  http: PlatformHttp,
  peerId: string,
  opts?: CallOptions,
): Promise<DiscoveredPeer> {
  const peer = requireUuid(peerId, "peerId");
  const route = platformRoute("GET /registry/discover/:id", { id: peer });
  const { endpoint } = route;
  const answer = await http.request({
    route,
    asSelf: true,
    timeoutMs: LOOKUP_TIMEOUT_MS,
    opts,
  });
  const body = expectObject(
    endpoint,
    expectOk(endpoint, answer, { 403: NEXT_HIERARCHY, 404: NEXT_LIST_PEERS }),
  );
  const id = parseUuid(body.id);
  if (id === null) throw malformed(endpoint, answer, "an object with a UUID id");
  return {
    id,
    name: typeof body.name === "string" ? body.name : "",
    url: typeof body.url === "string" ? body.url : "",
  };
}

/**
 * Sends `text` to a peer as JSON-RPC message/send through the platform's A2A proxy, with
 * X-Workspace-ID so the peer sees who sent it. Resolves with the classified answer for any
 * 2xx; throws PlatformError for a refusal or no answer, RangeError for an empty or over-1-MiB
 * text. Not retried here: isTransportError tells the caller whether a retry is sensible.
 */
export async function sendA2A(
  http: PlatformHttp,
  args: { peerId: string; text: string; opts?: CallOptions | undefined },
): Promise<A2AOutcome> {
  const peer = requireUuid(args.peerId, "peerId");
  if (args.text.trim() === "") throw new RangeError("text is empty: nothing to send");
  const json = buildMessageSend(args.text, { rpcId: http.randomId(), messageId: http.randomId() });
  if (new TextEncoder().encode(JSON.stringify(json)).length > A2A_MAX_BODY_BYTES) {
    throw new RangeError("text is over the platform's 1 MiB A2A limit: send a shorter message");
  }
  const route = platformRoute("POST /workspaces/:id/a2a", { id: peer });
  const { endpoint } = route;
  const answer = await http.request({
    route,
    json,
    asSelf: true,
    timeoutMs: A2A_TIMEOUT_MS,
    opts: args.opts,
    maxBodyBytes: A2A_MAX_BODY_BYTES_IN,
    nextWhenTooLarge: "the peer's reply is larger than the platform itself relays; ask the " +
      "peer for a shorter answer (or a file) instead",
  });
  expectOk(endpoint, answer, {
    402: "the peer's budget is used up; ask its owner to raise the limit in the canvas",
    403: NEXT_HIERARCHY,
    404: NEXT_LIST_PEERS,
    // Busy, waking from hibernation or restarting (§8): the body says which, with retry_after.
    503: "the peer cannot take messages right now; wait about 30 s and try again, or use " +
      "delegate_task_async so the platform delivers it later",
  });
  if (answer.bodyKind === "empty") return { kind: "malformed", detail: "the answer is empty" };
  if (answer.bodyKind === "text") return { kind: "malformed", detail: "the answer is not JSON" };
  return classifyA2AAnswer(answer.body);
}

/**
 * POST /workspaces/:self/delegate. A 202 (new) and a 200 (idempotent hit) both succeed.
 * Throws RangeError before any request for a non-UUID or self target (the platform refuses
 * self-delegation anyway), an empty task or an empty key.
 */
export async function delegateTask(
  http: PlatformHttp,
  args: { targetId: string; task: string; idempotencyKey: string; opts?: CallOptions | undefined },
): Promise<DelegationReceipt> {
  const target = requireUuid(args.targetId, "targetId");
  if (target === http.workspaceId) {
    throw new RangeError("targetId is this workspace: delegate to a peer");
  }
  if (args.task.trim() === "") throw new RangeError("task is empty: describe the work to delegate");
  if (args.idempotencyKey === "") throw new RangeError("idempotencyKey is empty");
  const route = platformRoute("POST /workspaces/:id/delegate", { id: http.workspaceId });
  const { endpoint } = route;
  const answer = await http.request({
    route,
    json: { target_id: target, task: args.task, idempotency_key: args.idempotencyKey },
    timeoutMs: LOOKUP_TIMEOUT_MS,
    opts: args.opts,
  });
  const body = expectObject(endpoint, expectOk(endpoint, answer));
  if (typeof body.delegation_id !== "string" || body.delegation_id === "") {
    throw malformed(endpoint, answer, "an object with a delegation_id");
  }
  const receipt: DelegationReceipt = {
    delegationId: body.delegation_id,
    status: typeof body.status === "string" ? body.status : "",
    targetId: typeof body.target_id === "string" ? body.target_id : target,
    isIdempotentHit: body.idempotent_hit === true,
  };
  if (typeof body.warning === "string") receipt.warning = body.warning;
  return receipt;
}

/** GET /workspaces/:self/delegations: up to 50 rows, newest first; rows without an id dropped. */
export async function listDelegations(
  http: PlatformHttp,
  opts?: CallOptions,
): Promise<DelegationRow[]> {
  const route = platformRoute("GET /workspaces/:id/delegations", { id: http.workspaceId });
  const { endpoint } = route;
  const answer = await http.request({
    route,
    timeoutMs: LOOKUP_TIMEOUT_MS,
    opts,
    maxBodyBytes: DELEGATIONS_MAX_BODY_BYTES,
  });
  return keepParsed(expectArray(endpoint, expectOk(endpoint, answer)), parseDelegationRow);
}

/**
 * GET /registry/:self/peers, filtered here by name or role (case-insensitive) rather than with
 * `?q=`, which at c636022d panics with an empty 500 when any peer has a null role (§12).
 */
export async function listPeers(
  http: PlatformHttp,
  query?: string,
  opts?: CallOptions,
): Promise<Peer[]> {
  const route = platformRoute("GET /registry/:id/peers", { id: http.workspaceId });
  const { endpoint } = route;
  const answer = await http.request({
    route,
    timeoutMs: LOOKUP_TIMEOUT_MS,
    opts,
    maxBodyBytes: PEERS_MAX_BODY_BYTES,
  });
  const rows = expectArray(
    endpoint,
    expectOk(endpoint, answer, {
      404: "the platform does not know this workspace: check WORKSPACE_ID",
    }),
  );
  const peers = keepParsed(rows, parsePeer);
  const needle = (query ?? "").trim().toLowerCase();
  if (needle === "") return peers;
  return peers.filter((p) =>
    p.name.toLowerCase().includes(needle) || (p.role ?? "").toLowerCase().includes(needle)
  );
}

/** GET /workspaces/:id (this workspace unless `workspaceId` is given). 410 → "removed". */
export async function getWorkspace(
  http: PlatformHttp,
  workspaceId?: string,
  opts?: CallOptions,
): Promise<WorkspaceLookup> {
  const id = workspaceId === undefined ? http.workspaceId : requireUuid(workspaceId, "workspaceId");
  const route = platformRoute("GET /workspaces/:id", { id });
  const { endpoint } = route;
  const answer = await http.request({
    route,
    timeoutMs: LOOKUP_TIMEOUT_MS,
    opts,
  });
  if (answer.status === 410) {
    const body = isRecord(answer.body) ? answer.body : {};
    return {
      kind: "removed",
      id,
      hint: typeof body.hint === "string"
        ? body.hint
        : "Regenerate workspace + token from the canvas → Tokens tab",
      removedAt: typeof body.removed_at === "string" ? body.removed_at : null,
    };
  }
  if (!isOk(answer)) {
    throw refusal(endpoint, answer, { 404: "no workspace has that id; check WORKSPACE_ID" });
  }
  const workspace = parseWorkspaceInfo(answer.body);
  if (workspace === null) throw malformed(endpoint, answer, "a workspace object");
  return { kind: "found", workspace };
}
