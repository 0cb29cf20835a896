/**
 * The requests inbox: POST /workspaces/:self/requests raises a task or an approval for the
 * canvas user (upstream-latest §2 K). The user's answer comes back later as an ordinary
 * inbound message; nothing here waits for it.
 */
import { expectObject, expectOk, isRouteMissing, malformed } from "./answer.ts";
import { PlatformError } from "../errors.ts";
import type { CallOptions, PlatformHttp } from "./http.ts";
import { platformRoute } from "./route.ts";

/** What the agent asks the user. */
export interface UserRequest {
  kind: "task" | "approval";
  title: string;
  detail?: string | undefined;
  priority?: number | undefined;
}

/** The platform's receipt: the id the answer will quote, and "pending". */
export interface RequestReceipt {
  requestId: string;
  status: string;
}

/** Upstream's client allows 20 s. */
const REQUESTS_TIMEOUT_MS = 20_000;

/**
 * Raises `request` for the workspace's user (recipient_type "user", recipient_id "").
 * Throws RangeError for an empty title; PlatformError on a refusal, with a next step that
 * says so when the platform predates the requests inbox (gin's 404).
 */
export async function createUserRequest(
  http: PlatformHttp,
  request: UserRequest,
  opts?: CallOptions,
): Promise<RequestReceipt> {
  if (request.title.trim() === "") throw new RangeError("title is empty: say what you ask for");
  const body: Record<string, unknown> = {
    kind: request.kind,
    recipient_type: "user",
    recipient_id: "",
    title: request.title,
    detail: request.detail ?? "",
  };
  if (request.priority !== undefined) body.priority = request.priority;
  const route = platformRoute("POST /workspaces/:id/requests", { id: http.workspaceId });
  const { endpoint } = route;
  const answer = await http.request({
    route,
    json: body,
    timeoutMs: REQUESTS_TIMEOUT_MS,
    opts,
  });
  if (isRouteMissing(answer)) {
    throw new PlatformError(endpoint, 404, {
      next: "this platform has no requests inbox yet (an older release): ask the user with " +
        "send_message_to_user instead, and wait for the reply in your inbox",
      detail: "the platform does not know this endpoint",
    });
  }
  const receipt = expectObject(endpoint, expectOk(endpoint, answer));
  if (typeof receipt.request_id !== "string" || receipt.request_id === "") {
    throw malformed(endpoint, answer, "an object with a request_id");
  }
  return {
    requestId: receipt.request_id,
    status: typeof receipt.status === "string" ? receipt.status : "pending",
  };
}
