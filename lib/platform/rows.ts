/**
 * Parsers for the rows the platform returns in lists and lookups (peers, delegations,
 * memories, the workspace itself). Each takes `unknown` and returns a named type or null;
 * the endpoint functions in platform/client.ts drop rows that come back null.
 */
import { parseUuid } from "../uuid.ts";
import { isRecord } from "../json_object.ts";

/** A peer this workspace may talk to (GET /registry/:id/peers, contract §12). */
export interface Peer {
  id: string;
  name: string;
  role: string | null;
  tier: number | null;
  status: string;
  parentId: string | null;
  activeTasks: number;
  /** The peer's agent card as stored (any JSON), or null. */
  agentCard: unknown;
}

/** One row of GET /workspaces/:id/delegations (contract §10). */
export interface DelegationRow {
  id: string;
  /** "" on rows that carry none. */
  delegationId: string;
  sourceId: string;
  targetId: string;
  summary: string;
  /** pending, dispatched, queued, completed, failed, … as the platform wrote it. */
  status: string;
  createdAt: string;
  error?: string;
  /** At most 300 characters of the peer's reply. */
  responsePreview?: string;
}

/** A memory scope (contract §11). */
export type MemoryScope = "LOCAL" | "TEAM" | "GLOBAL";

/** One row of GET /workspaces/:id/memories. GLOBAL content arrives wrapped by the platform. */
export interface MemoryRow {
  id: string;
  workspaceId: string;
  content: string;
  scope: string;
  namespace: string;
  createdAt: string;
}

/** The fields of GET /workspaces/:id a caller needs by name, plus the whole row. */
export interface WorkspaceInfo {
  id: string;
  name: string;
  status: string;
  role: string | null;
  /** The full row as the platform sent it (contract §13), for display. */
  row: Record<string, unknown>;
}

function text(row: Record<string, unknown>, key: string): string {
  const value = row[key];
  return typeof value === "string" ? value : "";
}

function textOrNull(row: Record<string, unknown>, key: string): string | null {
  const value = row[key];
  return typeof value === "string" ? value : null;
}

function count(row: Record<string, unknown>, key: string): number | null {
  const value = row[key];
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** A peer row, or null when it has no UUID id. */
export function parsePeer(raw: unknown): Peer | null {
  if (!isRecord(raw)) return null;
  const id = parseUuid(raw.id);
  if (id === null) return null;
  return {
    id,
    name: text(raw, "name"),
    role: textOrNull(raw, "role"),
    tier: count(raw, "tier"),
    status: text(raw, "status"),
    parentId: parseUuid(raw.parent_id),
    activeTasks: count(raw, "active_tasks") ?? 0,
    agentCard: raw.agent_card ?? null,
  };
}

/** A delegation row, or null when it has no id. */
export function parseDelegationRow(raw: unknown): DelegationRow | null {
  if (!isRecord(raw) || typeof raw.id !== "string") return null;
  const row: DelegationRow = {
    id: raw.id,
    delegationId: text(raw, "delegation_id"),
    sourceId: text(raw, "source_id"),
    targetId: text(raw, "target_id"),
    summary: text(raw, "summary"),
    status: text(raw, "status"),
    createdAt: text(raw, "created_at"),
  };
  if (typeof raw.error === "string") row.error = raw.error;
  if (typeof raw.response_preview === "string") row.responsePreview = raw.response_preview;
  return row;
}

/** A memory row, or null when it has no id or no content. */
export function parseMemoryRow(raw: unknown): MemoryRow | null {
  if (!isRecord(raw) || typeof raw.id !== "string" || typeof raw.content !== "string") {
    return null;
  }
  return {
    id: raw.id,
    workspaceId: text(raw, "workspace_id"),
    content: raw.content,
    scope: text(raw, "scope"),
    namespace: text(raw, "namespace"),
    createdAt: text(raw, "created_at"),
  };
}

/** The workspace row, or null when it lacks a UUID id or a status. */
export function parseWorkspaceInfo(raw: unknown): WorkspaceInfo | null {
  if (!isRecord(raw)) return null;
  const id = parseUuid(raw.id);
  if (id === null || typeof raw.status !== "string") return null;
  return {
    id,
    name: text(raw, "name"),
    status: raw.status,
    role: textOrNull(raw, "role"),
    row: raw,
  };
}
