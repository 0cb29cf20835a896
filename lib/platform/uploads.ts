/**
 * Files a canvas user attached for this poll-mode workspace, staged on the platform (contract
 * §16): GET /workspaces/:self/pending-uploads/:file_id/content streams the bytes, POST …/ack
 * tells the platform they arrived; and the public GET /uploads/limits (upstream-latest §2 M).
 * Where the bytes are stored is the inbox's upload resolver's job.
 */
import { expectObject, isOk, isRouteMissing, refusal } from "./answer.ts";
import type { CallOptions, DownloadSink, PlatformHttp } from "./http.ts";
import { platformRoute } from "./route.ts";
import { PlatformError } from "../errors.ts";
import { cutCodePoints } from "../text.ts";

/** What GET /uploads/limits answers; absent fields stay undefined. */
export interface UploadLimits {
  perFileBytes?: number;
  perRequestBytes?: number;
  maxAttachmentsPerMessage?: number;
}

/** A file id from a `platform-pending:` URI: the platform's own token, kept to a safe shape. */
const FILE_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** A large file may take a while; upstream's fetch gives up after 65 s. */
const DOWNLOAD_TIMEOUT_MS = 65_000;
const ACK_TIMEOUT_MS = 10_000;

/**
 * Streams the staged file `fileId` into `sink`. Resolves the byte count; throws RangeError for
 * a bad id, PlatformError for a refusal (404 once the upload expired or was acked; its `next`
 * says so), for a file over `sink.maxBytes` (status 413) or no answer, and DownloadWriteError
 * when the sink fails.
 */
export async function fetchPendingUpload(
  http: PlatformHttp,
  args: { fileId: string; sink: DownloadSink; opts?: CallOptions | undefined },
): Promise<number> {
  const fileId = requireFileId(args.fileId);
  const route = platformRoute("GET /workspaces/:id/pending-uploads/:file_id/content", {
    id: http.workspaceId,
    file_id: fileId,
  });
  const { endpoint } = route;
  const got = await http.download({
    route,
    timeoutMs: DOWNLOAD_TIMEOUT_MS,
    priority: "background", // the poller's work, like the poll itself
    opts: args.opts,
  }, args.sink);
  if (got.kind === "done") return got.bytes;
  if (got.kind === "too-large") {
    throw new PlatformError(endpoint, 413, {
      next: "ask the user to send a smaller file, or to share it another way",
      detail: `the file is over the ${args.sink.maxBytes}-byte limit for one upload`,
    });
  }
  throw refusal(endpoint, got.answer, {
    404: "the upload expired or was already fetched: ask the user to attach the file again",
  });
}

/**
 * Confirms the staged file arrived, so the platform drops its copy. A 404 (already acked or
 * expired) counts as done. Throws PlatformError for other refusals or no answer.
 */
export async function ackPendingUpload(
  http: PlatformHttp,
  args: { fileId: string; opts?: CallOptions | undefined },
): Promise<void> {
  const fileId = requireFileId(args.fileId);
  const route = platformRoute("POST /workspaces/:id/pending-uploads/:file_id/ack", {
    id: http.workspaceId,
    file_id: fileId,
  });
  const { endpoint } = route;
  const answer = await http.request({
    route,
    json: {},
    timeoutMs: ACK_TIMEOUT_MS,
    priority: "background",
    opts: args.opts,
  });
  if (isOk(answer) || (answer.status === 404 && !isRouteMissing(answer))) return;
  throw refusal(endpoint, answer);
}

/**
 * GET /uploads/limits. Resolves null on a platform that predates it (gin's 404); throws
 * PlatformError for other refusals or no answer.
 */
export async function getUploadLimits(
  http: PlatformHttp,
  opts?: CallOptions,
): Promise<UploadLimits | null> {
  const route = platformRoute("GET /uploads/limits");
  const { endpoint } = route;
  const answer = await http.request({
    route,
    timeoutMs: ACK_TIMEOUT_MS,
    priority: "background",
    opts,
  });
  if (isRouteMissing(answer)) return null;
  if (!isOk(answer)) throw refusal(endpoint, answer);
  const body = expectObject(endpoint, answer);
  const count = (value: unknown) =>
    typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? value : undefined;
  const limits: UploadLimits = {};
  const perFile = count(body.per_file_bytes);
  const perRequest = count(body.per_request_bytes);
  const perMessage = count(body.max_attachments_per_message);
  if (perFile !== undefined) limits.perFileBytes = perFile;
  if (perRequest !== undefined) limits.perRequestBytes = perRequest;
  if (perMessage !== undefined) limits.maxAttachmentsPerMessage = perMessage;
  return limits;
}

/** The file id of a `platform-pending:<workspace>/<file_id>` URI for `workspaceId`, or null. */
export function pendingFileId(uri: string, workspaceId: string): string | null {
  const prefix = `platform-pending:${workspaceId}/`;
  if (!uri.toLowerCase().startsWith(prefix)) return null;
  const id = uri.slice(prefix.length);
  return FILE_ID.test(id) ? id : null;
}

function requireFileId(fileId: string): string {
  if (!FILE_ID.test(fileId)) {
    throw new RangeError(
      `file_id must be letters, digits, - or _: got "${cutCodePoints(fileId, 40)}"`,
    );
  }
  return fileId;
}
