/**
 * Error classes somebody catches, and the exit-code table. Only main.ts turns these into
 * exit codes; lib/ throws and never exits.
 */

/** Process exit codes, documented in README and --help. */
export const EXIT = {
  OK: 0,
  BUG: 1,
  CONFIG: 2,
  TOKEN_REJECTED: 3,
} as const;

/** Options for a PlatformError: the operator's next step and the underlying cause. */
export interface PlatformErrorOptions {
  next: string;
  cause?: unknown;
  /** Short detail from the platform's body (its `error` field), never a secret. */
  detail?: string;
}

/**
 * A platform call failed. `endpoint` is "METHOD /path", never a full URL (URLs can carry
 * secrets); `status` is the HTTP status, or 0 when no answer arrived (timeout, refused, DNS).
 */
export class PlatformError extends Error {
  override name = "PlatformError";
  readonly next: string;
  readonly detail: string;
  constructor(readonly endpoint: string, readonly status: number, opts: PlatformErrorOptions) {
    const seen = status === 0 ? "no answer" : `platform answered ${status}`;
    const detail = opts.detail ?? "";
    super(
      `Cannot call ${endpoint}: ${seen}${detail === "" ? "" : ` (${detail})`}`,
      { cause: opts.cause },
    );
    this.next = opts.next;
    this.detail = detail;
  }

  /** True when the platform refused the token (401/403): retrying cannot help. */
  get isAuthRejected(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

/**
 * The platform refused us at registration (401/403); main.ts exits 3. The message carries
 * the refusal's own next step, which platform/answer.ts picked from the answer: a new token
 * for a 401, PLATFORM_URL for the empty 403 of the Origin check.
 */
export class AuthRejectedError extends Error {
  override name = "AuthRejectedError";
  readonly status: number;
  constructor(readonly workspaceId: string, refusal: PlatformError) {
    super(
      `The platform refused workspace ${workspaceId} (HTTP ${refusal.status}` +
        `${refusal.detail === "" ? "" : `: ${refusal.detail}`}): ${refusal.next}`,
      { cause: refusal },
    );
    this.status = refusal.status;
  }
}

/** Token refusals in a row logged as warnings before the loud error (upstream: the 3rd). */
export const AUTH_ERROR_AT = 3;
/** After that, the loud error repeats every this many further refusals (upstream: 20). */
export const AUTH_ERROR_EVERY = 20;

/**
 * How loudly to log the `count`-th token refusal in a row (count from 1) of a loop that keeps
 * retrying (heartbeat, event stream): "warn" before AUTH_ERROR_AT, "error" at it and every
 * AUTH_ERROR_EVERY refusals after, "debug" in between, so the operator gets one clear error
 * and the log is not flooded.
 */
export function authRefusalLevel(count: number): "warn" | "error" | "debug" {
  if (count < AUTH_ERROR_AT) return "warn";
  return (count - AUTH_ERROR_AT) % AUTH_ERROR_EVERY === 0 ? "error" : "debug";
}
