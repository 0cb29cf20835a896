/**
 * Everything a tool test needs: a contract-faithful fake platform with this workspace and a
 * peer, a platform client on it, a durable inbox in a temp dir, our McpServer serving the
 * platform tools, and the official SDK Client connected over an in-memory pair.
 */
import { DurableInbox } from "../../lib/inbox/inbox.ts";
import { McpServer } from "../../lib/mcp/server.ts";
import type { PlatformClient } from "../../lib/platform/client.ts";
import type { Fetch } from "../../lib/platform/http_client.ts";
import { platformTools, type ToolDeps } from "../../lib/tools/index.ts";
import { INBOX_DISABLED } from "../../lib/inbox/unavailable.ts";
import { PeerDirectory } from "../../lib/workspace/peer_directory.ts";
import { createFakePlatform, type FakePlatform, type PlatformVersion } from "./fake_platform.ts";
import { readRuntimeIdentity } from "../../lib/runtime_identity.ts";
import { captureLog } from "./log_capture.ts";
import { ManualClock } from "./manual_clock.ts";
import { Client, InMemoryTransport } from "./sdk.ts";
import type { AttachPolicy } from "../../lib/tools/attachment_policy.ts";
import type { AttachmentFs, ReadableFile } from "../../lib/tools/attachment_reader.ts";
import { clientAs } from "./platform_client.ts";

/** The rig a tool test drives. */
export interface ToolRig {
  client: InstanceType<typeof Client>;
  platform: FakePlatform;
  clock: ManualClock;
  me: { id: string; token: string };
  peer: { id: string; token: string };
  deps: ToolDeps & { peers: PeerDirectory; inbox: DurableInbox | null };
  inbox: DurableInbox | null;
  logText(): string;
  /** Calls a tool; returns its text and whether it was an error. */
  call(name: string, args?: Record<string, unknown>): Promise<{ text: string; isError: boolean }>;
}

/** Options for withToolRig. */
export interface ToolRigOptions {
  /** Start with the inbox disabled (MOLECULE_MCP_DISABLE_INBOX). */
  isInboxDisabled?: boolean;
  workspaceTier?: number;
  /** Local files the attachment reader sees (path → bytes); other paths are "not found". */
  files?: Record<string, Uint8Array>;
  /** The attachment file system (default: memoryFs over `files`). */
  attachmentFs?: AttachmentFs;
  /** Attachment policy fields beside the state dir (the rig's temp dir). */
  attachPolicy?: Partial<AttachPolicy>;
  /** Deterministic jitter source (default 0.5: no jitter). */
  random?: () => number;
  /** Wraps the fake platform's fetch (to hold, count or rewrite requests). */
  wrapFetch?: (fetch: Fetch) => Fetch;
  /** Model/runtime variables (default: none set). */
  runtimeEnv?: Partial<Record<string, string>>;
  /** The fake platform's release (default "2026-05"). */
  platformVersion?: PlatformVersion;
  /** Fake platform: MEMORY_PLUGIN_URL set (default true). */
  memoryPluginConfigured?: boolean;
}

/** Builds the rig, runs `fn`, then closes everything and removes the temp dir. */
export async function withToolRig(
  fn: (rig: ToolRig) => Promise<void>,
  opts: ToolRigOptions = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "molecule-mcp-tools-" });
  const clock = new ManualClock();
  const platform = createFakePlatform({
    clock,
    version: opts.platformVersion ?? "2026-05",
    memoryPluginConfigured: opts.memoryPluginConfigured ?? true,
  });
  const me = platform.addWorkspace({ delivery_mode: "poll", name: "me" });
  const peer = platform.addWorkspace({ delivery_mode: "poll", name: "peer-one" });
  // The token is a known secret, as main.ts makes it: logs and results mask it.
  const { log, text } = captureLog("debug", [me.token]);
  const client: PlatformClient = clientAs(me, {
    fetch: opts.wrapFetch?.(platform.fetch) ?? platform.fetch,
    clock,
    log,
  });
  const inbox = opts.isInboxDisabled
    ? null
    : await DurableInbox.open({ dir, log, clock, workspaceId: me.id });
  const files = opts.files ?? {};
  const deps: ToolRig["deps"] = {
    platform: client,
    inbox,
    inboxUnavailable: inbox === null ? INBOX_DISABLED : null,
    peers: new PeerDirectory({ source: client, clock, log }),
    selfId: me.id,
    workspaceTier: opts.workspaceTier ?? 1,
    runtimeIdentity: readRuntimeIdentity((name) => (opts.runtimeEnv ?? {})[name]?.trim() ?? ""),
    clock,
    log,
    random: opts.random ?? (() => 0.5),
    attachmentFs: opts.attachmentFs ?? memoryFs(files),
    attachPolicy: { stateDir: dir, ...opts.attachPolicy },
  };
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const server = new McpServer<ToolDeps>({
    transport: serverSide,
    serverInfo: { name: "molecule", version: "test" },
    tools: platformTools(),
    context: deps,
    log,
    outgoingText: (t) => log.redactor.redact(t),
  });
  const sdkClient = new Client({ name: "tool-test", version: "1.0.0" });
  await server.start();
  await sdkClient.connect(clientSide);
  const rig: ToolRig = {
    client: sdkClient,
    platform,
    clock,
    me,
    peer,
    deps,
    inbox,
    logText: text,
    async call(name, args = {}) {
      const result = await sdkClient.callTool({ name, arguments: args });
      const content = Array.isArray(result.content) ? result.content : [];
      const textOut = content
        .map((c: { type?: string; text?: string }) => (c.type === "text" ? c.text ?? "" : ""))
        .join("");
      return { text: textOut, isError: result.isError === true };
    },
  };
  try {
    await fn(rig);
  } finally {
    await sdkClient.close();
    await server.close();
    await inbox?.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * An in-memory attachment file system: `files` maps absolute paths to their bytes; a path
 * ending in "/" is a directory; anything else is "not found". No links: realPath is identity.
 * `reads` counts bytes handed out, so tests can prove nothing was read.
 */
export function memoryFs(
  files: Record<string, Uint8Array>,
  opts: { sizes?: Record<string, number>; reads?: { bytes: number } } = {},
): AttachmentFs {
  const notFound = (path: string) => new Deno.errors.NotFound(`No such file: ${path}`);
  const has = (path: string) => path in files || path in (opts.sizes ?? {});
  return {
    realPath: (path) => has(path) ? Promise.resolve(path) : Promise.reject(notFound(path)),
    stat: (path) =>
      has(path) ? Promise.resolve({ isFile: !path.endsWith("/") }) : Promise.reject(notFound(path)),
    open: (path) => {
      if (!has(path)) return Promise.reject(notFound(path));
      const bytes = files[path] ?? new Uint8Array(0);
      const size = opts.sizes?.[path] ?? bytes.length;
      let offset = 0;
      const file: ReadableFile = {
        stat: () => Promise.resolve({ isFile: !path.endsWith("/"), size }),
        read: (buffer) => {
          if (offset >= bytes.length) return Promise.resolve(null);
          const n = Math.min(buffer.length, bytes.length - offset);
          buffer.set(bytes.subarray(offset, offset + n));
          offset += n;
          if (opts.reads !== undefined) opts.reads.bytes += n;
          return Promise.resolve(n);
        },
        close: () => {},
      };
      return Promise.resolve(file);
    },
  };
}
