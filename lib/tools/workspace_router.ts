/**
 * One MCP surface over several workspaces (MOLECULE_WORKSPACES, issue 12 §1). This module owns
 * which workspace a tool call acts as, and the merged view of their inboxes:
 * - wait_for_message / inbox_peek see every inbox, oldest first; each message shown carries
 *   `arrival_workspace_id`; inbox_pop removes the message from whichever inbox holds it.
 * - Every other tool that acts as a workspace gains an optional `source_workspace_id`
 *   (upstream's name, upstream-features.md §2 1161b97f/700d44ec). Without it: the workspace the
 *   peer named in the call was last seen on (a message arrived from it there, or list_peers
 *   listed it there); for send_message_to_user, the one the last canvas message arrived on;
 *   else the first configured workspace. So a reply goes out as the workspace the message
 *   arrived on.
 * - list_peers without source_workspace_id lists the peers of every workspace, one section each.
 * With one workspace the tools are left exactly as they are.
 */
import type { DurableInbox } from "../inbox/inbox.ts";
import type { InboxMessage } from "../inbox/message.ts";
import type { InboxUnavailable } from "../inbox/unavailable.ts";
import type { PlatformClient } from "../platform/client.ts";
import type { Peer } from "../platform/rows.ts";
import type { PeerDirectory } from "../workspace/peer_directory.ts";
import {
  type ToolContext,
  toolError,
  type ToolResult,
  type ToolSpec,
  toolText,
} from "../mcp/tool_spec.ts";
import { parseUuid } from "../uuid.ts";
import type { InboxView, ToolDeps } from "./context.ts";
import { INBOX_TOOLS } from "./inbox_notice.ts";

/** The argument name upstream uses on every tool that acts as a workspace. */
export const SOURCE_ARG = "source_workspace_id";

/** One served workspace as the tools see it (main.ts passes a WorkspaceLink's parts). */
export interface ServedWorkspace {
  readonly id: string;
  readonly platform: PlatformClient;
  readonly peers: PeerDirectory;
  /** The open inbox, or null (loading, held by another process, disabled). */
  readonly inbox: DurableInbox | null;
  readonly inboxUnavailable: InboxUnavailable | null;
  /**
   * Settles once this workspace's first inbox poll has finished (WorkspaceLink.firstPoll,
   * never rejects); absent: nothing to wait for. The merged inbox tools wait for every one.
   */
  readonly firstPoll?: Promise<void>;
}

/** Tools that neither act as a workspace nor read the inbox. */
const LOCAL_TOOLS: ReadonlySet<string> = new Set(["get_runtime_identity"]);
/** The argument naming the peer a tool talks about, per tool (absent: none). */
const PEER_ARG: Readonly<Record<string, string>> = {
  delegate_task: "workspace_id",
  delegate_task_async: "workspace_id",
  check_task_status: "workspace_id",
  get_workspace_info: "workspace_id",
  chat_history: "peer_id",
};
/** The key under which the canvas user's last workspace is remembered (peer ids are UUIDs). */
const CANVAS_USER = "canvas-user";

/**
 * Routes tool calls over several workspaces. main.ts tells it about arrivals (noteArrival)
 * so replies default to the workspace a message came in on.
 */
export class WorkspaceRouter {
  readonly #workspaces: readonly ServedWorkspace[];
  /** The first configured workspace: the default. */
  readonly #first: ServedWorkspace;
  /** Peer id (or CANVAS_USER) → the workspace it was last seen on. Bounded. */
  readonly #lastSeen = new Map<string, string>();
  static readonly LAST_SEEN_CAP = 4096;

  /** `workspaces` in configuration order; the first is the default. Throws when empty. */
  constructor(workspaces: readonly ServedWorkspace[]) {
    const first = workspaces[0];
    if (first === undefined) throw new RangeError("WorkspaceRouter needs a workspace");
    this.#workspaces = workspaces;
    this.#first = first;
  }

  /** Records where messages arrived: replies to their senders default to that workspace. */
  noteArrival(workspaceId: string, messages: readonly InboxMessage[]): void {
    for (const msg of messages) {
      if (msg.kind === "canvas_user") this.#see(CANVAS_USER, workspaceId);
      else if (msg.peer_id !== "") this.#see(msg.peer_id, workspaceId);
    }
  }

  /** The workspace `peerId` was last seen on, if any. */
  lastSeenOn(peerId: string): string | undefined {
    return this.#lastSeen.get(peerId);
  }

  /** `specs` routed over the workspaces; unchanged with a single workspace. */
  route(specs: readonly ToolSpec<ToolDeps>[]): ToolSpec<ToolDeps>[] {
    if (this.#workspaces.length === 1) return [...specs];
    return specs.map((spec) => {
      // The inbox tools read the merged inbox rather than act as one workspace.
      if (INBOX_TOOLS.has(spec.name)) return this.#mergedInboxTool(spec);
      if (LOCAL_TOOLS.has(spec.name)) return spec;
      if (spec.name === "list_peers") return this.#listPeersTool(spec);
      return this.#actingTool(spec);
    });
  }

  #see(key: string, workspaceId: string): void {
    this.#lastSeen.delete(key);
    this.#lastSeen.set(key, workspaceId);
    if (this.#lastSeen.size > WorkspaceRouter.LAST_SEEN_CAP) {
      const oldest = this.#lastSeen.keys().next().value;
      if (oldest !== undefined) this.#lastSeen.delete(oldest);
    }
  }

  /** The context a call acting as `ws` gets: its client, peers and id (signal kept). */
  #contextFor(ws: ServedWorkspace, ctx: ToolContext<ToolDeps>): ToolContext<ToolDeps> {
    return {
      ...ctx,
      platform: ws.platform,
      selfId: ws.id,
      inbox: ws.inbox,
      inboxUnavailable: ws.inboxUnavailable,
      peers: {
        senderOf: (msg) => ws.peers.senderOf(msg),
        remember: (peers: readonly Peer[]) => {
          ws.peers.remember(peers);
          for (const peer of peers) {
            const id = parseUuid(peer.id);
            if (id !== null) this.#see(id, ws.id);
          }
        },
      },
    };
  }

  /** The workspace named by `source_workspace_id`, or the error result naming the choices. */
  #named(raw: unknown): ServedWorkspace | ToolResult {
    const id = parseUuid(raw);
    const found = id === null ? undefined : this.#workspaces.find((w) => w.id === id);
    if (found !== undefined) return found;
    return toolError(
      `${SOURCE_ARG} is not one of this server's workspaces`,
      `pass one of ${this.#workspaces.map((w) => w.id).join(", ")}, or leave it out`,
    );
  }

  #default(spec: string, args: Record<string, unknown>): ServedWorkspace {
    const peerArg = PEER_ARG[spec];
    const key = spec === "send_message_to_user"
      ? CANVAS_USER
      : peerArg === undefined
      ? null
      : parseUuid(args[peerArg]);
    const seen = key === null ? undefined : this.#lastSeen.get(key);
    return this.#workspaces.find((w) => w.id === seen) ?? this.#first;
  }

  #withSourceArg(spec: ToolSpec<ToolDeps>, what: string): ToolSpec<ToolDeps>["inputSchema"] {
    return {
      ...spec.inputSchema,
      properties: {
        ...spec.inputSchema.properties,
        [SOURCE_ARG]: {
          type: "string",
          description: `Which of this server's workspaces ${what} (its ID; replies: the ` +
            "message's arrival_workspace_id). Default: the workspace the peer was last seen " +
            "on, else the first configured one.",
        },
      },
    };
  }

  #actingTool(spec: ToolSpec<ToolDeps>): ToolSpec<ToolDeps> {
    return {
      ...spec,
      inputSchema: this.#withSourceArg(spec, "acts"),
      handler: (args, ctx) => {
        const { [SOURCE_ARG]: source, ...rest } = args;
        const ws = source === undefined || source === ""
          ? this.#default(spec.name, rest)
          : this.#named(source);
        if (!("id" in ws)) return Promise.resolve(ws);
        return spec.handler(rest, this.#contextFor(ws, ctx));
      },
    };
  }

  #listPeersTool(spec: ToolSpec<ToolDeps>): ToolSpec<ToolDeps> {
    return {
      ...spec,
      description: `${spec.description} With several workspaces, lists each one's peers ` +
        `under its own heading unless ${SOURCE_ARG} names one.`,
      inputSchema: this.#withSourceArg(spec, "lists the peers of"),
      handler: async (args, ctx) => {
        const { [SOURCE_ARG]: source, ...rest } = args;
        if (source !== undefined && source !== "") {
          const ws = this.#named(source);
          if (!("id" in ws)) return ws;
          return await spec.handler(rest, this.#contextFor(ws, ctx));
        }
        const parts: string[] = [];
        let isError = false;
        for (const ws of this.#workspaces) {
          const result = await spec.handler(rest, this.#contextFor(ws, ctx));
          isError ||= result.isError === true;
          const text = result.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
          parts.push(`Peers of workspace ${ws.id} (${SOURCE_ARG}="${ws.id}"):\n${text}`);
        }
        const combined = toolText(parts.join("\n\n"));
        return isError && parts.length > 0 ? { ...combined, isError: true } : combined;
      },
    };
  }

  #mergedInboxTool(spec: ToolSpec<ToolDeps>): ToolSpec<ToolDeps> {
    // Every workspace's first poll, not only the first one's (the context's): a call right
    // after start must not answer "empty" while messages wait on another workspace's platform.
    const polls = this.#workspaces.flatMap((w) => w.firstPoll === undefined ? [] : [w.firstPoll]);
    const firstPoll = Promise.all(polls).then(() => {});
    return {
      ...spec,
      description: `${spec.description} Messages of every configured workspace are merged ` +
        "oldest first; each carries arrival_workspace_id, the workspace it arrived on.",
      handler: (args, ctx) => {
        const open = this.#workspaces.flatMap((w) =>
          w.inbox === null ? [] : [{ id: w.id, inbox: w.inbox }]
        );
        const peers = {
          senderOf: (msg: InboxMessage) => {
            const ws = this.#workspaces.find((w) => w.id === msg.arrival_workspace_id);
            return (ws ?? this.#first).peers.senderOf(msg);
          },
          remember: () => {},
        };
        if (open.length === 0) {
          // None open yet: the first workspace's reason (it waits while that one loads).
          return spec.handler(args, {
            ...ctx,
            inbox: null,
            inboxUnavailable: this.#first.inboxUnavailable,
            peers,
            firstPoll,
          });
        }
        const inbox = new MergedInbox(open);
        return spec.handler(args, { ...ctx, inbox, inboxUnavailable: null, peers, firstPoll });
      },
    };
  }
}

/** Several inboxes seen as one, oldest message first; messages are tagged with their workspace. */
export class MergedInbox implements InboxView {
  readonly #parts: readonly { id: string; inbox: InboxView }[];

  constructor(parts: readonly { id: string; inbox: InboxView }[]) {
    this.#parts = parts;
  }

  /** Messages waiting in all the inboxes together. */
  get size(): number {
    return this.#parts.reduce((sum, p) => sum + p.inbox.size, 0);
  }

  /** The oldest `limit` messages over every inbox (each inbox keeps its own order). */
  peek(limit: number): InboxMessage[] {
    const all = this.#parts.flatMap((p) =>
      p.inbox.peek(limit).map((m, order) => ({ msg: tag(m, p.id), order }))
    );
    // Stable: equal times keep configuration order, then each inbox's own order.
    all.sort((a, b) => timeOf(a.msg) - timeOf(b.msg));
    return all.slice(0, Math.max(0, limit)).map((e) => e.msg);
  }

  /** Removes the message from whichever inbox holds it; false when none does. */
  async pop(activityId: string): Promise<boolean> {
    for (const part of this.#parts) {
      if (await part.inbox.pop(activityId)) return true;
    }
    return false;
  }

  /** The oldest message of any inbox: at once if one is queued, else on the first arrival. */
  async wait(timeoutMs: number, signal?: AbortSignal): Promise<InboxMessage | null> {
    const head = this.peek(1)[0];
    if (head !== undefined) return head;
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const first = await new Promise<InboxMessage | null>((resolve) => {
        let left = this.#parts.length;
        for (const part of this.#parts) {
          void part.inbox.wait(timeoutMs, stop.signal).then((msg) => {
            if (msg !== null) resolve(tag(msg, part.id));
            else if (--left === 0) resolve(null);
          });
        }
      });
      if (first === null) return null;
      // Another inbox may have received an older message meanwhile.
      return this.peek(1)[0] ?? first;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      stop.abort();
    }
  }
}

function tag(msg: InboxMessage, workspaceId: string): InboxMessage {
  return { ...msg, arrival_workspace_id: workspaceId };
}

function timeOf(msg: InboxMessage): number {
  const t = Date.parse(msg.created_at);
  return Number.isNaN(t) ? Number.MAX_SAFE_INTEGER : t;
}
