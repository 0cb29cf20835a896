/**
 * Staged canvas uploads of the fake platform (contract §16): the bytes a canvas user attached
 * for a poll-mode workspace, fetched with GET …/pending-uploads/:file_id/content and confirmed
 * with POST …/ack (both 404 once acked or unknown), and the public GET /uploads/limits
 * (upstream-latest §2 M).
 */
import type { Ctx } from "./fake_platform_context.ts";
import { errorJson, json } from "./fake_platform_http.ts";
import type { PendingUploadRecord } from "./fake_platform_model.ts";

function findPending({ model, req }: Ctx): PendingUploadRecord | undefined {
  const id = req.params.id ?? "";
  const fileId = req.params.file_id ?? "";
  return model.pendingUploads.find((u) =>
    u.workspace_id === id && u.file_id === fileId && !u.acked
  );
}

/** GET /workspaces/:id/pending-uploads/:file_id/content: the raw bytes. */
export function pendingContent(ctx: Ctx): Response {
  const upload = findPending(ctx);
  if (upload === undefined) return errorJson(404, "upload not found or expired");
  return new Response(upload.bytes.slice(), {
    status: 200,
    headers: {
      "content-type": upload.mimeType,
      "content-length": String(upload.bytes.length),
    },
  });
}

/** POST /workspaces/:id/pending-uploads/:file_id/ack. */
export function pendingAck(ctx: Ctx): Response {
  const upload = findPending(ctx);
  if (upload === undefined) return errorJson(404, "upload not found or expired");
  upload.acked = true;
  return json(200, { acked: true });
}

/** GET /uploads/limits (public). */
export function uploadLimits({ model }: Ctx): Response {
  return json(200, model.uploadLimits);
}
