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
 * The platform refused us at start-up; main.ts exits 3. Register itself has no 403 (contract
 * §2): a 403 with an empty body comes from the CORS check on the Origin header, which means
 * PLATFORM_URL is not the tenant's own address, so that case says so instead of blaming the
 * token.
 */
export class AuthRejectedError extends Error {
  override name = "AuthRejectedError";
  constructor(
    readonly workspaceId: string,
    readonly status: number,
    opts: { isOriginRefused?: boolean } = {},
  ) {
    super(
      opts.isOriginRefused
        ? `The platform refused workspace ${workspaceId} (HTTP ${status} with no body): it ` +
          "did not accept the Origin sent from PLATFORM_URL; set PLATFORM_URL to your tenant's " +
          "own address (as the canvas shows it, without a path) and restart; if that is right, " +
          "regenerate the token in the canvas (workspace → Tokens tab)"
        : `The platform rejected the token for workspace ${workspaceId} (HTTP ${status}): ` +
          "regenerate it in the canvas (workspace → Tokens tab), update " +
          "MOLECULE_WORKSPACE_TOKEN in your MCP config and restart",
    );
  }
}
