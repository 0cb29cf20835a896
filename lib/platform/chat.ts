/**
 * Talking to the canvas user: POST /workspaces/:self/notify and the multipart
 * POST /workspaces/:self/chat/uploads whose answer becomes notify's attachments (contract §7,
 * §16). Reading files from disk and picking MIME types is the send_message_to_user tool's job.
 */
import { isRecord } from "../json_object.ts";
import { PlatformError } from "../errors.ts";
import {
  expectObject,
  expectOk,
  isOk,
  isRouteMissing,
  malformed,
  refusal,
  truncate,
} from "./answer.ts";
import { type CallOptions, type PlatformHttp, TalkToUserDisabledError } from "./http.ts";
import { platformRoute } from "./route.ts";

/** A file chip on a notify message (usually what uploadChatFiles returned). */
export interface NotifyAttachment {
  uri: string;
  name: string;
  mimeType?: string;
  size?: number;
}

/** One file to upload. `name` is the base name shown to the user. */
export interface ChatFile {
  name: string;
  bytes: Uint8Array;
  mimeType: string;
}

/** One uploaded file as the platform describes it; pass it to notify as an attachment. */
export type UploadedFile = NotifyAttachment;

/** The 403 `broadcast_disabled` (contract §16): an admin has not enabled broadcast. */
export class BroadcastDisabledError extends PlatformError {
  override name = "BroadcastDisabledError";
}

/** Notify may follow a large upload and uploads may be large: upstream's client allows 60 s. */
const CHAT_TIMEOUT_MS = 60_000;

/**
 * Sends `message` (with optional file chips) to the canvas user. Throws RangeError for an
 * empty message, TalkToUserDisabledError when an admin turned the agent's chat off (403
 * talk_to_user_disabled, §16), PlatformError otherwise.
 */
export async function notifyUser(
  http: PlatformHttp,
  args: {
    message: string;
    attachments?: NotifyAttachment[] | undefined;
    opts?: CallOptions | undefined;
  },
): Promise<void> {
  if (args.message.trim() === "") throw new RangeError("message is empty: nothing to send");
  const body: Record<string, unknown> = { message: args.message };
  if (args.attachments !== undefined && args.attachments.length > 0) {
    body.attachments = args.attachments;
  }
  const route = platformRoute("POST /workspaces/:id/notify", { id: http.workspaceId });
  const { endpoint } = route;
  const answer = await http.request({
    route,
    json: body,
    timeoutMs: CHAT_TIMEOUT_MS,
    opts: args.opts,
  });
  if (!isOk(answer) && isRecord(answer.body) && answer.body.error === "talk_to_user_disabled") {
    // The platform's text: through the one sanitiser and cutter, like every error detail.
    const hint = typeof answer.body.hint === "string" ? ` (${truncate(answer.body.hint)})` : "";
    throw new TalkToUserDisabledError(endpoint, answer.status, {
      next: "chat with the user is turned off for this agent; send the update to a parent " +
        `workspace that can reach the user${hint}`,
      detail: "talk_to_user_disabled",
    });
  }
  expectObject(
    endpoint,
    expectOk(endpoint, answer, {
      404: "the platform does not know this workspace (was it removed?): check WORKSPACE_ID",
    }),
  );
}

/**
 * Uploads `files` as multipart parts named `files`. Throws RangeError for an empty list or an
 * empty name, PlatformError for a refusal or an answer that does not list one entry per file.
 */
export async function uploadChatFiles(
  http: PlatformHttp,
  args: { files: ChatFile[]; opts?: CallOptions | undefined },
): Promise<UploadedFile[]> {
  if (args.files.length === 0) throw new RangeError("files is empty: nothing to upload");
  const form = new FormData();
  for (const file of args.files) {
    if (file.name.trim() === "") throw new RangeError("a file name is empty");
    form.append("files", new Blob([file.bytes.slice()], { type: file.mimeType }), file.name);
  }
  const route = platformRoute("POST /workspaces/:id/chat/uploads", { id: http.workspaceId });
  const { endpoint } = route;
  const answer = await http.request({
    route,
    form,
    timeoutMs: CHAT_TIMEOUT_MS,
    opts: args.opts,
  });
  if (!isOk(answer)) {
    throw refusal(endpoint, answer, {
      413: "a file is over 25 MB or all files together are over 50 MB; send smaller files",
      // What a poll-mode workspace gets from a platform without staged uploads (§7, §16).
      503: "this platform cannot take attachments for this workspace now; send the message " +
        "without attachments, or retry in 30 s if it says re-registering",
    });
  }
  const body = answer.body;
  const rows = isRecord(body) && Array.isArray(body.files) ? body.files : null;
  const uploaded = rows?.map(parseUploaded).filter((f): f is UploadedFile => f !== null);
  if (uploaded === undefined || uploaded.length !== args.files.length) {
    throw malformed(endpoint, answer, `{files:[…]} with ${args.files.length} entries`);
  }
  return uploaded;
}

function parseUploaded(raw: unknown): UploadedFile | null {
  if (!isRecord(raw) || typeof raw.uri !== "string" || typeof raw.name !== "string") return null;
  const file: UploadedFile = { uri: raw.uri, name: raw.name };
  if (typeof raw.mimeType === "string") file.mimeType = raw.mimeType;
  if (typeof raw.size === "number") file.size = raw.size;
  return file;
}

/** Broadcasts are one short request; upstream's client allows 30 s. */
const BROADCAST_TIMEOUT_MS = 30_000;

/**
 * POST /workspaces/:self/broadcast {message} (contract §16): every other workspace of the
 * org gets it. Resolves how many received it. Throws RangeError for an empty message,
 * BroadcastDisabledError on 403 broadcast_disabled (its `detail` keeps the platform's hint),
 * PlatformError otherwise (a platform older than broadcast answers gin's 404).
 */
export async function broadcastMessage(
  http: PlatformHttp,
  args: { message: string; opts?: CallOptions | undefined },
): Promise<number> {
  if (args.message.trim() === "") throw new RangeError("message is empty: nothing to send");
  const route = platformRoute("POST /workspaces/:id/broadcast", { id: http.workspaceId });
  const { endpoint } = route;
  const answer = await http.request({
    route,
    json: { message: args.message },
    timeoutMs: BROADCAST_TIMEOUT_MS,
    opts: args.opts,
  });
  if (!isOk(answer) && isRecord(answer.body) && answer.body.error === "broadcast_disabled") {
    const hint = typeof answer.body.hint === "string" ? answer.body.hint : "";
    throw new BroadcastDisabledError(endpoint, answer.status, {
      next: "ask an administrator to enable broadcast for this workspace in the canvas, or " +
        "reach the workspaces one by one with delegate_task",
      detail: hint === "" ? "broadcast_disabled" : `broadcast_disabled: ${truncate(hint)}`,
    });
  }
  if (isRouteMissing(answer)) {
    throw new PlatformError(endpoint, 404, {
      next: "this platform predates broadcast: reach the workspaces one by one with " +
        "delegate_task (list_peers shows them)",
      detail: "the platform does not know this endpoint",
    });
  }
  const body = expectObject(endpoint, expectOk(endpoint, answer));
  if (typeof body.delivered !== "number" || !Number.isInteger(body.delivered)) {
    throw malformed(endpoint, answer, "{status, delivered}");
  }
  return body.delivered;
}
