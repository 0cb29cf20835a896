/**
 * The typed platform client: one method per endpoint of platform-contract.md, bound to one
 * workspace. Each method checks its inputs before any request (ids must be UUIDs, texts must
 * not be empty) and the answer after (status, shape). The request core is platform/http.ts;
 * the endpoints live in platform/registry.ts, platform/peers.ts, platform/chat.ts and
 * platform/memory.ts. Nothing here retries or logs above debug: callers own those policies.
 */
import type { A2AOutcome } from "./a2a.ts";
import {
  broadcastMessage,
  type ChatFile,
  type NotifyAttachment,
  notifyUser,
  uploadChatFiles,
  type UploadedFile,
} from "./chat.ts";
import {
  type CallOptions,
  type DownloadSink,
  type PlatformConfig,
  type PlatformDeps,
  PlatformHttp,
} from "./http.ts";
import { type EventStreamOpening, openEventStream } from "./event_stream.ts";
import { type HistoryQuery, listPeerHistory } from "./history.ts";
import { commitMemory, searchMemory, type StoredMemory } from "./memory.ts";
import { recallMemories } from "./memory_v2.ts";
import { createUserRequest, type RequestReceipt, type UserRequest } from "./requests.ts";
import {
  ackPendingUpload,
  fetchPendingUpload,
  getUploadLimits,
  type UploadLimits,
} from "./uploads.ts";
import {
  delegateTask,
  type DelegationReceipt,
  type DiscoveredPeer,
  discoverPeer,
  getWorkspace,
  listDelegations,
  listPeers,
  sendA2A,
  type WorkspaceLookup,
} from "./peers.ts";
import {
  ackActivity,
  type ActivityQuery,
  type ActivityReport,
  type AgentCard,
  type HeartbeatReport,
  listActivity,
  registerWorkspace,
  type RegistryAnswer,
  reportActivity,
  sendHeartbeat,
  updateAgentCard,
} from "./registry.ts";
import type { DelegationRow, MemoryRow, MemoryScope, Peer } from "./rows.ts";

/**
 * Every endpoint, bound to one workspace. All methods reject with PlatformError on a refusal
 * (status = HTTP status) or no answer (status 0), with RangeError/TypeError on bad input
 * before any request, and with the signal's reason when `opts.signal` aborts.
 */
export interface PlatformClient {
  /** This workspace's id, lower-cased. */
  readonly workspaceId: string;
  /** scheme://host[:port] of PLATFORM_URL, as sent in Origin. */
  readonly origin: string;
  /** POST /registry/register as poll mode with `url:""`. */
  register(card: AgentCard, opts?: CallOptions): Promise<RegistryAnswer>;
  /** POST /registry/heartbeat. */
  heartbeat(report: HeartbeatReport, opts?: CallOptions): Promise<RegistryAnswer>;
  /** GET the a2a_receive feed; rows unparsed. CursorGoneError on 410. */
  listActivity(query: ActivityQuery, opts?: CallOptions): Promise<unknown[]>;
  /** POST /activity/ack {acked_seq}; AckUnsupportedError on a platform without it. */
  ackActivity(ackedSeq: number, opts?: CallOptions): Promise<number>;
  /** POST a self-reported activity row (best-effort, 5 s default timeout). */
  reportActivity(report: ActivityReport, opts?: CallOptions): Promise<void>;
  /** GET /registry/discover/:peer with X-Workspace-ID. */
  discover(peerId: string, opts?: CallOptions): Promise<DiscoveredPeer>;
  /** JSON-RPC message/send through /workspaces/:peer/a2a; 300 s default timeout. */
  sendA2A(peerId: string, text: string, opts?: CallOptions): Promise<A2AOutcome>;
  /** POST /delegate; 202 and idempotent 200 both resolve. Self target → RangeError. */
  delegate(
    targetId: string,
    task: string,
    idempotencyKey: string,
    opts?: CallOptions,
  ): Promise<DelegationReceipt>;
  /** GET /delegations (≤ 50 rows, newest first). */
  listDelegations(opts?: CallOptions): Promise<DelegationRow[]>;
  /** GET /registry/:self/peers, filtered locally by name/role when `query` is non-empty. */
  listPeers(query?: string, opts?: CallOptions): Promise<Peer[]>;
  /** GET /workspaces/:id (self by default); a removed workspace resolves as `removed`. */
  getWorkspace(workspaceId?: string, opts?: CallOptions): Promise<WorkspaceLookup>;
  /** POST /notify. TalkToUserDisabledError when the admin muted the agent. */
  notify(message: string, attachments?: NotifyAttachment[], opts?: CallOptions): Promise<void>;
  /** Multipart POST /chat/uploads (field `files`), one result per file, in order. */
  uploadChatFiles(files: ChatFile[], opts?: CallOptions): Promise<UploadedFile[]>;
  /** POST /memories. */
  commitMemory(content: string, scope: MemoryScope, opts?: CallOptions): Promise<StoredMemory>;
  /** GET /memories?q=&scope=. */
  searchMemory(query?: string, scope?: MemoryScope, opts?: CallOptions): Promise<MemoryRow[]>;
  /** Memory v2 search when the platform has it (/v2/namespaces, /v2/memories), else v1. */
  recallMemories(
    query: string,
    scope?: MemoryScope,
    opts?: CallOptions,
  ): Promise<{ rows: MemoryRow[]; source: "v2" | "v1" }>;
  /** GET /activity?peer_id=&limit=&before_ts= (raw rows, newest first, only the peer's). */
  listPeerHistory(query: HistoryQuery, opts?: CallOptions): Promise<unknown[]>;
  /** POST /broadcast; resolves how many workspaces got it. BroadcastDisabledError on 403. */
  broadcast(message: string, opts?: CallOptions): Promise<number>;
  /** POST /registry/update-card; resolves the platform's status. */
  updateAgentCard(card: Record<string, unknown>, opts?: CallOptions): Promise<string>;
  /** POST /requests: a task or approval for the canvas user. */
  createUserRequest(request: UserRequest, opts?: CallOptions): Promise<RequestReceipt>;
  /** GET /workspaces/:id/events/stream (SSE, contract §14.1), outside the request limits. */
  openEventStream(opts: { signal: AbortSignal; timeoutMs?: number }): Promise<EventStreamOpening>;
  /** GET /pending-uploads/:file_id/content streamed into `sink`; resolves the byte count. */
  fetchPendingUpload(fileId: string, sink: DownloadSink, opts?: CallOptions): Promise<number>;
  /** POST /pending-uploads/:file_id/ack (404 counts as done). */
  ackPendingUpload(fileId: string, opts?: CallOptions): Promise<void>;
  /** GET /uploads/limits, or null on a platform without it. */
  getUploadLimits(opts?: CallOptions): Promise<UploadLimits | null>;
}

/**
 * Builds the client for one workspace; several can live in one process. Throws TypeError for
 * a bad platformUrl and RangeError for a non-UUID workspaceId. Needs --allow-net for the
 * platform host (through deps.fetch).
 */
export function createPlatformClient(cfg: PlatformConfig, deps: PlatformDeps): PlatformClient {
  const http = new PlatformHttp(cfg, deps);
  return {
    workspaceId: http.workspaceId,
    origin: http.origin,
    register: (card, opts) => registerWorkspace(http, card, opts),
    heartbeat: (report, opts) => sendHeartbeat(http, report, opts),
    listActivity: (query, opts) => listActivity(http, query, opts),
    ackActivity: (ackedSeq, opts) => ackActivity(http, ackedSeq, opts),
    reportActivity: (report, opts) => reportActivity(http, report, opts),
    discover: (peerId, opts) => discoverPeer(http, peerId, opts),
    sendA2A: (peerId, text, opts) => sendA2A(http, { peerId, text, opts }),
    delegate: (targetId, task, idempotencyKey, opts) =>
      delegateTask(http, { targetId, task, idempotencyKey, opts }),
    listDelegations: (opts) => listDelegations(http, opts),
    listPeers: (query, opts) => listPeers(http, query, opts),
    getWorkspace: (workspaceId, opts) => getWorkspace(http, workspaceId, opts),
    notify: (message, attachments, opts) => notifyUser(http, { message, attachments, opts }),
    uploadChatFiles: (files, opts) => uploadChatFiles(http, { files, opts }),
    commitMemory: (content, scope, opts) => commitMemory(http, { content, scope, opts }),
    searchMemory: (query, scope, opts) => searchMemory(http, { query, scope, opts }),
    recallMemories: (query, scope, opts) => recallMemories(http, { query, scope, opts }),
    listPeerHistory: (query, opts) => listPeerHistory(http, query, opts),
    broadcast: (message, opts) => broadcastMessage(http, { message, opts }),
    updateAgentCard: (card, opts) => updateAgentCard(http, card, opts),
    createUserRequest: (request, opts) => createUserRequest(http, request, opts),
    openEventStream: (opts) => openEventStream(http, opts),
    fetchPendingUpload: (fileId, sink, opts) => fetchPendingUpload(http, { fileId, sink, opts }),
    ackPendingUpload: (fileId, opts) => ackPendingUpload(http, { fileId, opts }),
    getUploadLimits: (opts) => getUploadLimits(http, opts),
  };
}
