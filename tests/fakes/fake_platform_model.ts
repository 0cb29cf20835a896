/**
 * The fake platform's in-memory database: workspaces, workspace tokens, activity rows, and the
 * records tests inspect (registrations, heartbeats, notifications, uploads, A2A calls,
 * delegations, memories). It knows the data rules (token liveness, hierarchy, row shape and
 * timestamps) and nothing about HTTP.
 */
import { EventHub } from "./fake_platform_events.ts";
import type { Clock } from "../../lib/clock.ts";
import { formatTimestamp, parseTimestamp, randomId, randomToken } from "./fake_platform_http.ts";

/** `workspaces.delivery_mode`; null means "not set" (see contract §2, effective mode). */
export type DeliveryMode = "push" | "poll";

/** One workspace row. Tests may read it; change it through the fake's helpers. */
export interface WorkspaceRecord {
  id: string;
  name: string;
  role: string | null;
  tier: number;
  /** provisioning, online, offline, degraded, failed, paused, hibernated, awaiting_agent, removed. */
  status: string;
  parent_id: string | null;
  delivery_mode: DeliveryMode | null;
  agent_card: unknown;
  talk_to_user_enabled: boolean;
  broadcast_enabled: boolean;
  url: string;
  /** null for rows created by register alone (GET /workspaces/:id shows "langgraph"). */
  runtime: string | null;
  active_tasks: number;
  uptime_seconds: number;
  last_error_rate: number;
  current_task: string;
  /** Clock milliseconds of the last register or heartbeat, or null. */
  last_heartbeat_ms: number | null;
  /** Microseconds of the last change (shown as `removed_at` on a 410). */
  updated_at_us: number;
  platform_inbound_secret: string | null;
}

/** An activity row exactly as GET /workspaces/:id/activity returns it (contract §5). */
export interface ActivityRow {
  id: string;
  workspace_id: string;
  activity_type: string;
  source_id: string | null;
  target_id: string | null;
  method: string | null;
  summary: string | null;
  duration_ms: number | null;
  status: string;
  error_detail: string | null;
  created_at: string;
  request_body?: unknown;
  response_body?: unknown;
  tool_trace?: unknown;
}

/** A row to insert: only `workspace_id` is required; the rest default like the database. */
export type ActivityRowInput = Partial<ActivityRow> & {
  workspace_id: string;
  /**
   * The live event the write fires on the row's workspace (contract §14.1): ACTIVITY_LOGGED by
   * default (the shared activity logger); /notify fires AGENT_MESSAGE, delegation results
   * DELEGATION_*; null fires none.
   */
  event?: string | null;
};

/** A stored row plus what ordering needs: its microsecond timestamp and insertion number. */
export interface StoredRow {
  row: ActivityRow;
  atUs: number;
  seq: number;
}

export interface RegistrationRecord {
  workspace_id: string;
  body: unknown;
  /** True when this call minted and returned an `auth_token`. */
  minted_token: boolean;
}
export interface HeartbeatRecord {
  workspace_id: string;
  body: unknown;
}
export interface NotificationRecord {
  workspace_id: string;
  message: string;
  attachments: unknown[];
}
export interface UploadRecord {
  workspace_id: string;
  file_id: string;
  uri: string;
  name: string;
  mimeType: string;
  size: number;
  bytes: Uint8Array;
}
export interface A2ACallRecord {
  target_id: string;
  /** The identified caller workspace, or null for a canvas caller. */
  caller_id: string | null;
  /** The normalised JSON-RPC envelope (contract §8). */
  request_body: Record<string, unknown>;
  mode: DeliveryMode;
  /** The HTTP status the proxy answered with. */
  status: number;
}
export type DelegationStatus = "pending" | "dispatched" | "completed" | "failed" | "queued";
export interface DelegationRecord {
  delegation_id: string;
  workspace_id: string;
  target_id: string;
  task: string;
  idempotency_key: string | null;
  status: DelegationStatus;
  response_text: string | null;
  error: string | null;
}
/** A file a canvas user attached for a poll-mode workspace, staged on the platform (§16). */
export interface PendingUploadRecord {
  workspace_id: string;
  file_id: string;
  name: string;
  mimeType: string;
  bytes: Uint8Array;
  /** Set by POST …/ack; the content and ack routes then answer 404. */
  acked: boolean;
}
/** One row of the requests inbox (upstream-latest.md §2 K). */
export interface RequestRecord {
  request_id: string;
  workspace_id: string;
  kind: "task" | "approval";
  recipient_type: "user" | "agent";
  recipient_id: string;
  title: string;
  detail: string;
  priority: number | null;
  status: "pending" | "done" | "rejected" | "approved";
}
export interface MemoryRecord {
  id: string;
  workspace_id: string;
  content: string;
  scope: "LOCAL" | "TEAM" | "GLOBAL";
  namespace: string;
  created_at: string;
  atUs: number;
}

/** Fields `addWorkspace` accepts; every one has a default. */
export type WorkspaceSpec = Partial<Omit<WorkspaceRecord, "updated_at_us">>;

/** The in-memory database behind the fake platform. */
export class PlatformModel {
  readonly clock: Clock;
  readonly registrations: RegistrationRecord[] = [];
  readonly heartbeats: HeartbeatRecord[] = [];
  readonly notifications: NotificationRecord[] = [];
  readonly uploads: UploadRecord[] = [];
  readonly a2aCalls: A2ACallRecord[] = [];
  readonly delegations: DelegationRecord[] = [];
  readonly memories: MemoryRecord[] = [];
  readonly pendingUploads: PendingUploadRecord[] = [];
  readonly requests: RequestRecord[] = [];
  /** Live events (GET /workspaces/:id/events/stream). */
  readonly events: EventHub;
  /** POST /activity/ack: the highest acked seq per workspace (monotonic). */
  readonly lastAckedSeq = new Map<string, number>();
  /** GET /uploads/limits answer ("latest" only). */
  uploadLimits = {
    per_file_bytes: 104_857_600,
    per_request_bytes: 104_857_600,
    max_attachments_per_message: 10,
  };
  #workspaces = new Map<string, WorkspaceRecord>();
  /** token → workspace id. The real platform stores only sha256; a fake may keep plain text. */
  #tokens = new Map<string, string>();
  #rows: StoredRow[] = [];
  #seq = 0;
  #lastUs = 0;

  constructor(clock: Clock) {
    this.clock = clock;
    this.events = new EventHub(clock);
  }

  /**
   * A write timestamp in microseconds: the clock's time, bumped by 1 µs when needed so that
   * separate writes never share a timestamp (Postgres now() has µs precision and separate
   * transactions practically never tie; a manual clock would make every write tie).
   */
  stampUs(): number {
    this.#lastUs = Math.max(this.clock.now() * 1000, this.#lastUs + 1);
    return this.#lastUs;
  }

  workspace(id: string): WorkspaceRecord | undefined {
    return this.#workspaces.get(id);
  }

  allWorkspaces(): WorkspaceRecord[] {
    return [...this.#workspaces.values()];
  }

  createWorkspace(spec: WorkspaceSpec): WorkspaceRecord {
    const id = spec.id ?? randomId();
    if (this.#workspaces.has(id)) throw new Error(`fake platform: workspace ${id} already exists`);
    const ws: WorkspaceRecord = {
      id,
      name: `ws-${id.slice(0, 8)}`,
      role: null,
      tier: 1,
      status: "online",
      parent_id: null,
      delivery_mode: "push",
      agent_card: null,
      talk_to_user_enabled: true,
      broadcast_enabled: false,
      url: "",
      runtime: null,
      active_tasks: 0,
      uptime_seconds: 0,
      last_error_rate: 0,
      current_task: "",
      last_heartbeat_ms: null,
      platform_inbound_secret: randomToken(),
      ...spec,
      updated_at_us: this.clock.now() * 1000,
    };
    this.#workspaces.set(id, ws);
    return ws;
  }

  /** Marks a row changed now (the `updated_at` column). */
  touch(ws: WorkspaceRecord): void {
    ws.updated_at_us = this.clock.now() * 1000;
  }

  mintToken(workspaceId: string): string {
    const token = randomToken();
    this.#tokens.set(token, workspaceId);
    return token;
  }

  /** Revokes every token of the workspace (deleting a workspace does this too). */
  revokeTokens(workspaceId: string): void {
    for (const [token, id] of this.#tokens) if (id === workspaceId) this.#tokens.delete(token);
  }

  /** The newest live token of a workspace, if any. */
  newestToken(workspaceId: string): string | undefined {
    let found: string | undefined;
    for (const [token, id] of this.#tokens) if (id === workspaceId) found = token;
    return found;
  }

  /** Whether the workspace has a token that still authenticates (its row is not removed). */
  hasLiveToken(workspaceId: string): boolean {
    return this.newestToken(workspaceId) !== undefined &&
      this.workspace(workspaceId)?.status !== "removed";
  }

  /** The workspace a token belongs to, if the token is live; lookups exclude removed rows. */
  tokenWorkspace(token: string): string | undefined {
    const id = this.#tokens.get(token);
    if (id === undefined || this.workspace(id)?.status === "removed") return undefined;
    return id;
  }

  /** Inserts an activity row; `created_at` defaults to a fresh write stamp. */
  insertRow(input: ActivityRowInput): ActivityRow {
    let atUs: number;
    if (input.created_at === undefined) {
      atUs = this.stampUs();
    } else {
      const parsed = parseTimestamp(input.created_at);
      if (parsed === null) {
        throw new Error(`fake platform: created_at is not RFC 3339: ${input.created_at}`);
      }
      atUs = parsed;
    }
    const row: ActivityRow = {
      id: input.id ?? randomId(),
      workspace_id: input.workspace_id,
      activity_type: input.activity_type ?? "a2a_receive",
      source_id: input.source_id ?? null,
      target_id: input.target_id ?? null,
      method: input.method ?? null,
      summary: input.summary ?? null,
      duration_ms: input.duration_ms ?? null,
      status: input.status ?? "ok",
      error_detail: input.error_detail ?? null,
      created_at: input.created_at ?? formatTimestamp(atUs),
    };
    // NULL columns are left out of the JSON (contract §5), so only present bodies are set.
    if (input.request_body != null) row.request_body = input.request_body;
    if (input.response_body != null) row.response_body = input.response_body;
    if (input.tool_trace != null) row.tool_trace = input.tool_trace;
    // Postgres identity columns start at 1.
    this.#rows.push({ row, atUs, seq: ++this.#seq });
    // The event fires after the INSERT, so a fetch made on receipt sees the row (§14.1). Its
    // payload has no id, created_at or workspace_id.
    const event = input.event === undefined ? "ACTIVITY_LOGGED" : input.event;
    if (event !== null) {
      const payload: Record<string, unknown> = {
        activity_type: row.activity_type,
        method: row.method,
        summary: row.summary,
        status: row.status,
        source_id: row.source_id,
        target_id: row.target_id,
        duration_ms: row.duration_ms,
      };
      if (row.request_body !== undefined) payload.request_body = row.request_body;
      if (row.response_body !== undefined) payload.response_body = row.response_body;
      this.events.publish(row.workspace_id, event, payload);
    }
    return row;
  }

  /** Rows of one workspace in insertion order. */
  rowsOf(workspaceId: string): StoredRow[] {
    return this.#rows.filter((r) => r.row.workspace_id === workspaceId);
  }

  findRow(id: string): StoredRow | undefined {
    return this.#rows.find((r) => r.row.id === id);
  }

  /** Deletes rows matching the predicate; returns how many went. */
  deleteRows(matches: (row: ActivityRow) => boolean): number {
    const before = this.#rows.length;
    this.#rows = this.#rows.filter((r) => !matches(r.row));
    return before - this.#rows.length;
  }

  /**
   * registry.CanCommunicate: self, siblings (two root workspaces count as siblings), and any
   * ancestor or descendant. Self is checked first; otherwise an unknown workspace can talk
   * to nobody.
   */
  canCommunicate(callerId: string, targetId: string): boolean {
    if (callerId === targetId) return true;
    const caller = this.workspace(callerId);
    const target = this.workspace(targetId);
    if (caller === undefined || target === undefined) return false;
    if (caller.parent_id === target.parent_id) return true;
    return this.#isAncestor(targetId, caller) || this.#isAncestor(callerId, target);
  }

  #isAncestor(ancestorId: string, of: WorkspaceRecord): boolean {
    const seen = new Set<string>();
    let parentId = of.parent_id;
    while (parentId !== null && !seen.has(parentId)) {
      if (parentId === ancestorId) return true;
      seen.add(parentId);
      parentId = this.workspace(parentId)?.parent_id ?? null;
    }
    return false;
  }
}
