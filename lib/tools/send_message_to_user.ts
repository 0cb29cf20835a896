/**
 * send_message_to_user: shows a message (and optional local files as chips) to the canvas
 * user. Attachments are all-or-nothing: every path is checked and read, then uploaded in one
 * multipart request, and only then is the message sent; if any step fails, nothing reaches the
 * user (upstream's rule: no half-rendered chips). Attachments that are already uploaded
 * (objects with a uri, upstream R9) go to notify by reference, in the order given, and are not
 * uploaded again. Which local files may be attached is attachment_policy.ts's rule; reading
 * them boundedly is attachment_reader.ts's. Upload and notify requests are platform/chat.ts's
 * job.
 */
import { isRecord } from "../json_object.ts";
import { baseName, isAbsolutePath, normalizePath } from "../paths.ts";
import { PlatformError } from "../errors.ts";
import type { ChatFile, NotifyAttachment, UploadedFile } from "../platform/chat.ts";
import { TalkToUserDisabledError } from "../platform/http.ts";
import type { ToolDeps } from "./context.ts";
import { POSTS_TO_PLATFORM, readRequiredText } from "./tool_args.ts";
import { mimeTypeFor } from "./mime_types.ts";
import {
  refuseAttachment,
  refuseHardLink,
  resolveAttachPolicy,
  type ResolvedAttachPolicy,
} from "./attachment_policy.ts";
import { type BoundedRead, type ReadableFile, readAtMost } from "./attachment_reader.ts";
import { toolError, type ToolResult, type ToolSpec, toolText } from "../mcp/tool_spec.ts";

/** The platform's per-file limit (contract §7: 413 above 25 MB per file). */
export const MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024;
/** The platform's limit for one upload request (contract §7: 50 MB in total). */
export const MAX_TOTAL_ATTACHMENT_BYTES = 50 * 1024 * 1024;

const MB = 1024 * 1024;

/** The send_message_to_user tool. */
export const sendMessageToUser: ToolSpec<ToolDeps> = {
  name: "send_message_to_user",
  title: "Send a message to the user",
  description: "Send a message to the user on the Molecule canvas chat. Use it to reply to a " +
    "canvas_user message, or to report progress or results proactively. Optionally attach " +
    "local files (absolute paths, at most 25 MB each): they appear as download chips. A file " +
    "that is already uploaded (an attachment of a received message) can be passed as its " +
    "{uri, name, mimeType, size} object and is not uploaded again. This server refuses its " +
    "own state files, well-known secret locations (~/.ssh, ~/.aws, .env files…) and, when the " +
    "operator set MOLECULE_MCP_ATTACH_ALLOW, files outside those directories. Never paste " +
    "file URLs into the message; attach the files instead. If any attachment cannot be " +
    'read or uploaded, nothing is sent. Returns "Message sent to user" (with the attachment ' +
    "count) on success.",
  inputSchema: {
    type: "object",
    properties: {
      message: {
        type: "string",
        minLength: 1,
        description: "The text to show the user (Markdown is rendered).",
      },
      attachments: {
        type: "array",
        items: {
          type: ["string", "object"],
          description: "An absolute path (or file:// URI) of a local file, or an already " +
            "uploaded file as {uri, name, mimeType (or mime_type), size}",
          properties: {
            uri: { type: "string", description: "The uploaded file's URI" },
            name: { type: "string", description: "File name shown on the chip" },
            mimeType: { type: "string" },
            mime_type: { type: "string" },
            size: { type: "integer", minimum: 0 },
            path: { type: "string", description: "Instead of uri: a local file to upload" },
            file_path: { type: "string", description: "Same as path" },
          },
        },
        description: "Files to attach: absolute paths of local files, each at most 25 MB " +
          "(50 MB in total), or already uploaded files by reference. Empty strings are ignored.",
      },
    },
    required: ["message"],
    additionalProperties: false,
  },
  annotations: POSTS_TO_PLATFORM,
  async handler(args, ctx) {
    const given = readRequiredText(args.message, "message", "write the text the user should read");
    if (!given.ok) return given.result;
    const message = given.text;
    const split = splitAttachments(Array.isArray(args.attachments) ? args.attachments : []);
    if (split.problems.length > 0) {
      return toolError(
        `Message not sent: ${split.problems.join("; ")}`,
        "give each attachment as an absolute path, or as {uri, name} of an uploaded file",
      );
    }
    const paths = split.items.flatMap((item) => item.kind === "path" ? [item.path] : []);

    const loaded = await loadAttachments(paths, ctx);
    if (!loaded.ok) return loaded.result;

    let uploaded: UploadedFile[] = [];
    if (loaded.files.length > 0) {
      try {
        uploaded = await ctx.platform.uploadChatFiles(loaded.files, { signal: ctx.signal });
      } catch (err) {
        if (!(err instanceof PlatformError)) throw err;
        return toolError(
          `Message not sent: uploading the attachments failed: ${err.message}`,
          err.next,
        );
      }
    }

    // The chips keep the order the agent gave: uploads fill the path slots in turn.
    let next = 0;
    const attachments: NotifyAttachment[] = [];
    for (const item of split.items) {
      const file = item.kind === "ref" ? item.ref : uploaded[next++];
      if (file !== undefined) attachments.push(file);
    }

    try {
      await ctx.platform.notify(message, attachments, { signal: ctx.signal });
    } catch (err) {
      if (!(err instanceof TalkToUserDisabledError)) throw err;
      return toolError(
        "Message not sent: an administrator turned off this agent's chat with the user " +
          "(talk_to_user_disabled)",
        "do not retry; send the update to your parent workspace with delegate_task (or " +
          "delegate_task_async) and ask it to pass the message on to the user",
      );
    }
    return toolText(
      attachments.length === 0
        ? "Message sent to user"
        : `Message sent to user with ${attachments.length} attachment(s)`,
    );
  },
};

/** One attachment argument: a local file to upload, or an uploaded file sent by reference. */
type AttachmentItem = { kind: "path"; path: string } | { kind: "ref"; ref: NotifyAttachment };

/**
 * Sorts the `attachments` argument into paths and references, in order. Strings are paths
 * (a `file://` URI counts as its path; empty strings are ignored); objects are references
 * when they carry `uri` and `name` (a `file://` uri is a local file to upload), or paths when
 * they carry `path`/`file_path`. Anything else is a problem, reported by position.
 */
function splitAttachments(raw: unknown[]): { items: AttachmentItem[]; problems: string[] } {
  const items: AttachmentItem[] = [];
  const problems: string[] = [];
  raw.forEach((entry, i) => {
    if (typeof entry === "string") {
      if (entry.trim() !== "") items.push({ kind: "path", path: localPath(entry) });
      return;
    }
    if (!isRecord(entry)) {
      problems.push(`attachments[${i}] is neither a path nor an object`);
      return;
    }
    const uri = typeof entry.uri === "string" ? entry.uri.trim() : "";
    const path = [entry.path, entry.file_path].find((p) => typeof p === "string" && p !== "");
    if (uri.startsWith("file://")) items.push({ kind: "path", path: localPath(uri) });
    else if (uri !== "") {
      const name = typeof entry.name === "string" ? entry.name.trim() : "";
      if (name === "") {
        problems.push(`attachments[${i}] has a uri but no name`);
        return;
      }
      const ref: NotifyAttachment = { uri, name };
      const mime = [entry.mimeType, entry.mime_type].find((m) => typeof m === "string");
      if (typeof mime === "string" && mime !== "") ref.mimeType = mime;
      if (typeof entry.size === "number" && Number.isInteger(entry.size) && entry.size >= 0) {
        ref.size = entry.size;
      }
      items.push({ kind: "ref", ref });
    } else if (typeof path === "string") items.push({ kind: "path", path: localPath(path) });
    else problems.push(`attachments[${i}] has neither a uri nor a path`);
  });
  return { items, problems };
}

/** A path as given, or the path of a `file://` URI (percent-decoded when it can be). */
function localPath(text: string): string {
  if (!text.startsWith("file://")) return text;
  try {
    return decodeURIComponent(new URL(text).pathname);
  } catch (err) {
    if (!(err instanceof TypeError) && !(err instanceof URIError)) throw err;
    return text; // left as is: the absolute-path check reports it
  }
}

type Loaded = { ok: true; files: ChatFile[] } | { ok: false; result: ToolResult };

/** An attachment opened and checked on its handle, not yet read. */
interface OpenedAttachment {
  path: string;
  file: ReadableFile;
  size: number;
}

const NOT_REGULAR = "not a regular file (a directory or a device?)";

/**
 * Checks and opens every attachment (absolute path, allowed by the policy after resolving
 * links, regular file of at most 25 MB, 50 MB together) before reading any, then reads each
 * open file up to the cap before anything is uploaded. Reports every bad path at once. Every
 * file opened here is closed before it returns.
 */
async function loadAttachments(paths: string[], deps: ToolDeps): Promise<Loaded> {
  const problems: string[] = [];
  let isRefused = false;
  const opened: OpenedAttachment[] = [];
  try {
    let total = 0;
    // The policy's own paths are resolved once for all the files of this call.
    let policy: ResolvedAttachPolicy | undefined;
    for (const path of paths) {
      if (!isAbsolutePath(path)) {
        problems.push(`${JSON.stringify(path)} is not an absolute path`);
        continue;
      }
      policy ??= await resolveAttachPolicy(deps.attachPolicy, deps.attachmentFs.realPath);
      const got = await openAttachment(path, { policy, deps });
      if (typeof got === "string") problems.push(`${path}: ${got}`);
      else if ("refused" in got) {
        isRefused = true;
        problems.push(`${path}: ${got.refused}`);
      } else {
        opened.push(got);
        total += got.size;
      }
    }
    // Refused on the sizes fstat gave, before a single byte is read into memory.
    if (problems.length === 0 && total > MAX_TOTAL_ATTACHMENT_BYTES) return tooMuch(total);
    const files: ChatFile[] = [];
    total = 0;
    for (const { path, file } of opened) {
      let read: BoundedRead;
      try {
        read = await readAtMost(file, MAX_ATTACHMENT_BYTES);
      } catch (err) {
        problems.push(`${path}: ${describeFileError(err)}`);
        continue;
      }
      // The file grew (or was not what fstat said) between the check and the read.
      if (!read.ok) {
        problems.push(`${path}: ${tooLarge(read.sizeAtLeast)}`);
        continue;
      }
      total += read.bytes.length;
      const name = baseName(path);
      files.push({ name, bytes: read.bytes, mimeType: mimeTypeFor(name) });
    }
    if (problems.length > 0) {
      return {
        ok: false,
        result: toolError(
          `Message not sent: ${problems.length === 1 ? "an attachment is" : "attachments are"} ` +
            `unusable: ${problems.join("; ")}`,
          isRefused
            ? "attach only files meant for the user: this server refuses its own state, " +
              "well-known secret locations and files outside MOLECULE_MCP_ATTACH_ALLOW (an " +
              "operator setting); send the message without those attachments"
            : "fix or drop those attachments and call send_message_to_user again with " +
              "absolute paths of regular files of at most 25 MB",
        ),
      };
    }
    return total > MAX_TOTAL_ATTACHMENT_BYTES ? tooMuch(total) : { ok: true, files };
  } finally {
    for (const { file } of opened) closeQuietly(file);
  }
}

/**
 * Resolves `path`'s links, applies the policy to where it leads, then opens it once and checks
 * the open handle (fstat): a regular file within the cap. Returns the open file, a refusal, or
 * why it cannot be used.
 */
async function openAttachment(
  path: string,
  { policy, deps }: { policy: ResolvedAttachPolicy; deps: ToolDeps },
): Promise<OpenedAttachment | { refused: string } | string> {
  const fs = deps.attachmentFs;
  // The path as written is judged first (a secret location stays refused even when it cannot
  // be resolved, like /proc/self/environ), then where its links lead.
  const written = normalizePath(path);
  const early = refuseAttachment(written, policy);
  if (early !== undefined) {
    deps.log.warn("send_message_to_user refused an attachment", { path });
    return { refused: `refused: ${early}` };
  }
  let real: string;
  try {
    real = await fs.realPath(path);
  } catch (err) {
    return describeFileError(err);
  }
  const refusal = refuseAttachment(real, policy);
  if (refusal !== undefined) {
    deps.log.warn("send_message_to_user refused an attachment", { path, real });
    const via = real === written ? "" : ` (it leads to ${real})`;
    return { refused: `refused${via}: ${refusal}` };
  }
  try {
    // Opening a FIFO would block until a writer comes: refuse anything but a regular file first.
    if (!(await fs.stat(real)).isFile) return NOT_REGULAR;
  } catch (err) {
    return describeFileError(err);
  }
  let file: ReadableFile;
  try {
    file = await fs.open(real);
  } catch (err) {
    return describeFileError(err);
  }
  try {
    const info = await file.stat();
    if (!info.isFile) {
      closeQuietly(file);
      return NOT_REGULAR;
    }
    if (info.size > MAX_ATTACHMENT_BYTES) {
      closeQuietly(file);
      return tooLarge(info.size);
    }
    const linked = await refuseHardLink(info, deps.attachPolicy, fs);
    if (linked !== undefined) {
      closeQuietly(file);
      deps.log.warn("send_message_to_user refused an attachment", { path, real });
      return { refused: `refused: ${linked}` };
    }
    return { path, file, size: info.size };
  } catch (err) {
    closeQuietly(file);
    return describeFileError(err);
  }
}

function closeQuietly(file: ReadableFile): void {
  try {
    file.close();
  } catch (err) {
    // Already closed (BadResource): nothing is left to release.
    if (!(err instanceof Deno.errors.BadResource)) throw err;
  }
}

function tooMuch(total: number): Loaded {
  return {
    ok: false,
    result: toolError(
      `Message not sent: the attachments total ${megabytes(total)} MB, over the ` +
        "platform's 50 MB limit per message",
      "send the files in several messages, or compress them",
    ),
  };
}

function tooLarge(bytes: number): string {
  return `${megabytes(bytes)} MB, over the 25 MB limit per file`;
}

/** Rounded up to 0.1 MB, so a size just over a limit never prints as the limit itself. */
function megabytes(bytes: number): string {
  return (Math.ceil((bytes / MB) * 10) / 10).toFixed(1);
}

/** A short reason for a failed stat or read; unexpected errors keep their own message. */
function describeFileError(err: unknown): string {
  if (err instanceof Deno.errors.NotFound) return "no such file";
  if (err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotCapable) {
    return "permission denied (the file or this server's read permission)";
  }
  if (err instanceof Deno.errors.IsADirectory) return "not a regular file (a directory)";
  return `cannot read it (${err instanceof Error ? err.message : String(err)})`;
}
