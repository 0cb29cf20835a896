/**
 * Turns `platform-pending:` attachments (files a canvas user attached for this poll-mode
 * workspace, staged on the platform: contract §16, upstream R4/R5/R7) into local files the
 * agent can open: fetch the bytes (GET …/pending-uploads/:file_id/content) into the private
 * uploads folder (state/upload_store.ts), ack them (POST …/ack), and point the attachment at
 * the `file://` path. Later messages that mention the same pending URI get the local one too.
 *
 * A fetch that fails is retried with the next poll (the poller holds that one message back,
 * never the others); when it fails again, or the platform says the upload is gone, the
 * message is delivered with the reason on the attachment instead of a path.
 */
import type { Logger } from "../log.ts";
import type { CallOptions, DownloadSink } from "../platform/http.ts";
import { PlatformError } from "../errors.ts";
import { pendingFileId, type UploadLimits } from "../platform/uploads.ts";
import type { UploadStore } from "../state/upload_store.ts";
import type { InboxMessage, MessageAttachment } from "./message.ts";

/** The per-file cap when the platform does not publish one (upstream R5's local cap). */
export const DEFAULT_UPLOAD_CAP_BYTES = 25 * 1024 * 1024;
/** Fetch attempts per file before the message is delivered with the failure. */
export const UPLOAD_ATTEMPTS = 2;
/** Pending URIs remembered with their local path (upstream keeps 1024). */
const LOCAL_URIS_CAP = 1024;

/** What the resolver needs from the platform client. */
export interface UploadPlatform {
  fetchPendingUpload(fileId: string, sink: DownloadSink, opts?: CallOptions): Promise<number>;
  ackPendingUpload(fileId: string, opts?: CallOptions): Promise<void>;
  getUploadLimits(opts?: CallOptions): Promise<UploadLimits | null>;
}

/** A message ready to queue, or the reason to hold it back until the next poll. */
export type Resolution = { ready: InboxMessage } | { retry: string };

/** One workspace's upload resolver (state: the local paths and attempt counts, in memory). */
export class UploadResolver {
  #platform: UploadPlatform;
  #store: UploadStore;
  #selfId: string;
  #log: Logger;
  #local = new Map<string, string>();
  #attempts = new Map<string, number>();
  #capBytes: number | null = null;
  #inFlight = new Map<string, Promise<{ attachment: MessageAttachment } | { retry: string }>>();

  constructor(deps: { platform: UploadPlatform; store: UploadStore; selfId: string; log: Logger }) {
    this.#platform = deps.platform;
    this.#store = deps.store;
    this.#selfId = deps.selfId;
    this.#log = deps.log;
  }

  /**
   * Resolves every pending attachment of `msg` and rewrites known pending URIs in its text.
   * Never throws except for the caller's abort: failures end up in the result.
   */
  async resolve(msg: InboxMessage, opts: CallOptions = {}): Promise<Resolution> {
    const attachments: MessageAttachment[] = [];
    for (const attachment of msg.attachments ?? []) {
      const fileId = pendingFileId(attachment.uri, this.#selfId);
      if (fileId === null) {
        attachments.push(attachment);
        continue;
      }
      const got = await this.#localCopy(attachment, fileId, opts);
      if ("retry" in got) return got;
      attachments.push(got.attachment);
    }
    const text = this.#rewriteText(msg.text);
    if (attachments.length === 0 && text === msg.text) return { ready: msg };
    return { ready: { ...msg, text, ...(attachments.length > 0 ? { attachments } : {}) } };
  }

  /**
   * The local copy of `fileId` for `attachment`. Messages resolved side by side that name the
   * same file share one fetch (and one attempt count): a second fetch after the first one's
   * ack would find the upload gone.
   */
  async #localCopy(
    attachment: MessageAttachment,
    fileId: string,
    opts: CallOptions,
  ): Promise<{ attachment: MessageAttachment } | { retry: string }> {
    let shared = this.#inFlight.get(fileId);
    if (shared === undefined) {
      shared = this.#localCopyOnce(attachment, fileId, opts).finally(() =>
        this.#inFlight.delete(fileId)
      );
      this.#inFlight.set(fileId, shared);
    }
    const got = await shared;
    if ("retry" in got) return got;
    const { uri, size, error } = got.attachment;
    const out: MessageAttachment = { ...attachment, uri };
    if (size !== undefined) out.size = size;
    if (error !== undefined) out.error = error;
    return { attachment: out };
  }

  async #localCopyOnce(
    attachment: MessageAttachment,
    fileId: string,
    opts: CallOptions,
  ): Promise<{ attachment: MessageAttachment } | { retry: string }> {
    try {
      const known = this.#local.get(attachment.uri) ?? await this.#findStored(fileId);
      if (known !== null && known !== undefined) {
        this.#remember(attachment.uri, known);
        return { attachment: { ...attachment, uri: known } };
      }
      const { uri, size } = await this.#fetch(fileId, attachment.name ?? "file", opts);
      this.#remember(attachment.uri, uri);
      this.#attempts.delete(fileId);
      await this.#platform.ackPendingUpload(fileId, opts).catch((err) => {
        if (opts.signal?.aborted) throw err;
        // The bytes are here; the platform drops its copy when it expires anyway.
        this.#log.debug("cannot ack a fetched upload", { fileId, error: err });
      });
      return { attachment: { ...attachment, uri, size } };
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      const reason = err instanceof PlatformError
        ? `${err.message}; ${err.next}`
        : err instanceof Error
        ? err.message
        : String(err);
      const attempts = (this.#attempts.get(fileId) ?? 0) + 1;
      this.#attempts.set(fileId, attempts);
      const isGone = err instanceof PlatformError && (err.status === 404 || err.status === 413);
      if (!isGone && attempts < UPLOAD_ATTEMPTS) {
        this.#log.info("a canvas upload could not be fetched; retrying with the next poll", {
          fileId,
          reason,
        });
        return { retry: reason };
      }
      this.#attempts.delete(fileId);
      this.#log.warn("a canvas upload could not be fetched; delivering the message without it", {
        fileId,
        reason,
      });
      return { attachment: { ...attachment, error: reason } };
    }
  }

  async #fetch(
    fileId: string,
    name: string,
    opts: CallOptions,
  ): Promise<{ uri: string; size: number }> {
    const maxBytes = await this.#cap(opts);
    const writer = await this.#store.create(fileId, name);
    try {
      const size = await this.#platform.fetchPendingUpload(fileId, {
        maxBytes,
        write: (chunk) => writer.write(chunk),
      }, opts);
      return { uri: fileUri(await writer.finish()), size };
    } catch (err) {
      await writer.discard();
      throw err;
    }
  }

  /** The platform's per-file cap (asked once), else DEFAULT_UPLOAD_CAP_BYTES. */
  async #cap(opts: CallOptions): Promise<number> {
    if (this.#capBytes !== null) return this.#capBytes;
    try {
      const limits = await this.#platform.getUploadLimits(opts);
      this.#capBytes = limits?.perFileBytes ?? DEFAULT_UPLOAD_CAP_BYTES;
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      // Asked again next time; this fetch uses the default.
      this.#log.debug("cannot read the platform's upload limits", { error: err });
      return DEFAULT_UPLOAD_CAP_BYTES;
    }
    return this.#capBytes;
  }

  async #findStored(fileId: string): Promise<string | null> {
    const path = await this.#store.find(fileId);
    return path === null ? null : fileUri(path);
  }

  #remember(pendingUri: string, localUri: string): void {
    this.#local.delete(pendingUri);
    this.#local.set(pendingUri, localUri);
    if (this.#local.size > LOCAL_URIS_CAP) {
      const oldest = this.#local.keys().next().value;
      if (oldest !== undefined) this.#local.delete(oldest);
    }
  }

  /**
   * Forgets the local copies at `paths` (removed by the retention sweep), so a later message
   * naming the same upload is not pointed at a file that is gone: it is fetched again, or
   * arrives with the platform's reason (an acked upload is gone from the platform too).
   */
  forget(paths: Iterable<string>): void {
    const gone = new Set<string>();
    for (const path of paths) gone.add(fileUri(path));
    for (const [pending, local] of this.#local) {
      if (gone.has(local)) this.#local.delete(pending);
    }
  }

  #rewriteText(text: string): string {
    if (!text.includes("platform-pending:")) return text;
    let out = text;
    for (const [pending, local] of this.#local) out = out.replaceAll(pending, local);
    return out;
  }
}

/** The `file://` URI of an absolute path, each segment percent-encoded. */
export function fileUri(path: string): string {
  return `file://${path.split("/").map(encodeURIComponent).join("/")}`;
}
