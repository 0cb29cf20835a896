/**
 * send_message_to_user: shows a message (and optional local files as chips) to the canvas
 * user. Attachments are all-or-nothing: every path is checked and read, then uploaded in one
 * multipart request, and only then is the message sent; if any step fails, nothing reaches the
 * user (upstream's rule: no half-rendered chips). Upload and notify requests are
 * platform/chat.ts's job.
 */
import { baseName, isAbsolutePath } from "../paths.ts";
import { PlatformError } from "../errors.ts";
import type { ChatFile, UploadedFile } from "../platform/chat.ts";
import { TalkToUserDisabledError } from "../platform/http.ts";
import type { ToolDeps } from "./context.ts";
import { mimeTypeFor } from "./mime_types.ts";
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
    "local files (absolute paths, at most 25 MB each): they appear as download chips. Never " +
    "paste file URLs into the message; attach the files instead. If any attachment cannot be " +
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
        items: { type: "string" },
        description: "Absolute paths of local files to attach, each at most 25 MB (50 MB in " +
          "total). Empty strings are ignored.",
      },
    },
    required: ["message"],
    additionalProperties: false,
  },
  annotations: {
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: false,
    openWorldHint: true,
  },
  async handler(args, ctx) {
    const message = typeof args.message === "string" ? args.message : "";
    if (message.trim() === "") {
      return toolError("message is empty", "write the text the user should read");
    }
    const paths = (Array.isArray(args.attachments) ? args.attachments : [])
      .filter((p): p is string => typeof p === "string" && p.trim() !== "");

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

    try {
      await ctx.platform.notify(message, uploaded, { signal: ctx.signal });
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
      uploaded.length === 0
        ? "Message sent to user"
        : `Message sent to user with ${uploaded.length} attachment(s)`,
    );
  },
};

type Loaded = { ok: true; files: ChatFile[] } | { ok: false; result: ToolResult };

/**
 * Checks every attachment (absolute path, regular file, at most 25 MB, 50 MB together) before
 * reading any, then reads them all before anything is uploaded. Reports every bad path at once.
 */
async function loadAttachments(paths: string[], deps: ToolDeps): Promise<Loaded> {
  const problems: string[] = [];
  const sized: string[] = [];
  let total = 0;
  for (const path of paths) {
    if (!isAbsolutePath(path)) {
      problems.push(`${JSON.stringify(path)} is not an absolute path`);
      continue;
    }
    const checked = await checkFile(path, deps);
    if (typeof checked === "string") problems.push(`${path}: ${checked}`);
    else {
      sized.push(path);
      total += checked;
    }
  }
  // Refused on the sizes stat gave, before a single byte is read into memory.
  if (problems.length === 0 && total > MAX_TOTAL_ATTACHMENT_BYTES) return tooMuch(total);
  const files: ChatFile[] = [];
  total = 0;
  for (const path of sized) {
    let bytes: Uint8Array;
    try {
      bytes = await deps.readFile(path);
    } catch (err) {
      problems.push(`${path}: ${describeFileError(err)}`);
      continue;
    }
    // The file may have grown between stat and read.
    if (bytes.length > MAX_ATTACHMENT_BYTES) {
      problems.push(`${path}: ${tooLarge(bytes.length)}`);
      continue;
    }
    total += bytes.length;
    const name = baseName(path);
    files.push({ name, bytes, mimeType: mimeTypeFor(name) });
  }
  if (problems.length > 0) {
    return {
      ok: false,
      result: toolError(
        `Message not sent: ${problems.length === 1 ? "an attachment is" : "attachments are"} ` +
          `unusable: ${problems.join("; ")}`,
        "fix or drop those attachments and call send_message_to_user again with absolute " +
          "paths of regular files of at most 25 MB",
      ),
    };
  }
  return total > MAX_TOTAL_ATTACHMENT_BYTES ? tooMuch(total) : { ok: true, files };
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

/** Why `path` cannot be attached, or its size when it is a regular file within the limit. */
async function checkFile(path: string, deps: ToolDeps): Promise<string | number> {
  let info: { isFile: boolean; size: number };
  try {
    info = await deps.stat(path);
  } catch (err) {
    return describeFileError(err);
  }
  if (!info.isFile) return "not a regular file (a directory or a device?)";
  if (info.size > MAX_ATTACHMENT_BYTES) return tooLarge(info.size);
  return info.size;
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
  if (err instanceof Deno.errors.PermissionDenied) {
    return "permission denied (the file or this server's read permission)";
  }
  if (err instanceof Deno.errors.IsADirectory) return "not a regular file (a directory)";
  return `cannot read it (${err instanceof Error ? err.message : String(err)})`;
}
