/**
 * Keeping the workspace online: one register at start-up, then a heartbeat every 20 s that
 * persists the platform's inbound secret and tells the operator, once and clearly, when the
 * token stops working. State is per workspace (HeartbeatState) so one process can serve
 * several. The HTTP calls are platform/client.ts's; writing the secret file is state/state_files.ts's.
 */
import type { Clock } from "../clock.ts";
import { AUTH_ERROR_AT, authRefusalLevel, AuthRejectedError, PlatformError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { MIN_SECRET_LENGTH } from "../redact.ts";
import type { PlatformClient } from "../platform/client.ts";
import type { AgentCard } from "../platform/registry.ts";

/** The agent-card settings of Config (MOLECULE_AGENT_NAME, _DESCRIPTION, _SKILLS). */
export interface AgentCardSettings {
  agentName: string;
  agentDescription?: string;
  agentSkills: readonly string[];
}

/** Upstream heartbeats every 20 s; the platform marks a silent workspace stale after 90 s. */
const DEFAULT_HEARTBEAT_INTERVAL_MS = 20_000;
/**
 * Longest inbound secret accepted, in characters. The platform mints 32 random bytes (43-64
 * characters encoded); 1 KiB leaves room for other encodings while a platform bug that
 * answers megabytes is refused (issue 10 item 9: a 20 MB secret on every beat).
 */
export const MAX_INBOUND_SECRET_CHARS = 1024;
/** The redactor slot of the inbound secret: its current and previous value stay masked. */
export const INBOUND_SECRET_SLOT = "platform_inbound_secret";

/**
 * The redactor slot of one workspace's inbound secret: keyed, so several workspaces in one
 * process each keep their current and previous secret masked (lib/redact.ts rotate).
 */
export function inboundSecretSlot(workspaceId: string): string {
  return `${INBOUND_SECRET_SLOT}.${workspaceId}`;
}

/**
 * Why `secret` cannot be an inbound secret (too short to be masked, too long, or not printable
 * ASCII without spaces: it travels as a bearer header), or undefined when it is usable. Never
 * quotes the value.
 */
export function checkInboundSecret(secret: string): string | undefined {
  if (secret.length < MIN_SECRET_LENGTH) {
    // The redactor cannot mask a value this short (lib/redact.ts): a secret kept unmasked
    // would show in every log line and tool result that quoted it.
    return `it is ${secret.length} characters long, under the ${MIN_SECRET_LENGTH} a secret ` +
      "needs (the platform mints 43 or more)";
  }
  if (secret.length > MAX_INBOUND_SECRET_CHARS) {
    return `it is ${secret.length} characters long, over the ${MAX_INBOUND_SECRET_CHARS} ` +
      "accepted";
  }
  const bad = /[^\x21-\x7e]/.exec(secret);
  if (bad !== null) {
    return `character ${bad.index + 1} is not printable ASCII (U+${
      (bad[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")
    })`;
  }
  return undefined;
}

/** The card sent on register: name, skills as `{name}`, description only when set. */
export function buildAgentCard(settings: AgentCardSettings): AgentCard {
  const skills = settings.agentSkills
    .map((name) => name.trim())
    .filter((name) => name !== "")
    .map((name) => ({ name }));
  const card: AgentCard = { name: settings.agentName, skills };
  const description = settings.agentDescription?.trim() ?? "";
  if (description !== "") card.description = description;
  return card;
}

/** What registerOnce needs. */
export interface RegisterDeps {
  platform: Pick<PlatformClient, "workspaceId" | "register">;
  log: Logger;
}

/**
 * Registers the workspace as poll mode. Resolves true when registered, false after a warning
 * for any failure the heartbeat can outlive (5xx, no answer, a malformed answer). Throws
 * AuthRejectedError on 401/403: the token cannot work, so main.ts exits 3 with its message.
 */
export async function registerOnce(
  card: AgentCard,
  deps: RegisterDeps,
  signal?: AbortSignal,
): Promise<boolean> {
  const workspace = deps.platform.workspaceId;
  try {
    await deps.platform.register(card, signal === undefined ? {} : { signal });
    deps.log.info("registered with the platform", { workspace, mode: "poll" });
    return true;
  } catch (err) {
    if (!(err instanceof PlatformError)) throw err;
    if (err.isAuthRejected) throw new AuthRejectedError(workspace, err);
    deps.log.warn("cannot register the workspace; the heartbeat keeps it online meanwhile", {
      workspace,
      status: err.status,
      error: err.message,
      next: `${err.next}; \`molecule-mcp doctor\` with the same environment pinpoints it`,
    });
    return false;
  }
}

type Phase = "starting" | "working" | "failing";

/**
 * One workspace's heartbeat bookkeeping: uptime origin, consecutive auth failures, whether
 * the last beat failed, and the inbound secret last saved. Create one per workspace.
 */
export class HeartbeatState {
  readonly workspaceId: string;
  readonly startedAtMs: number;
  #phase: Phase = "starting";
  #authFailures = 0;
  #failedBeats = 0;
  #savedSecret: string | undefined;
  #isSecretFailing = false;
  #isSecretRefused = false;

  constructor(opts: { workspaceId: string; startedAtMs: number }) {
    this.workspaceId = opts.workspaceId;
    this.startedAtMs = opts.startedAtMs;
  }

  /** Records a 2xx; returns the phase before it and how many beats had failed in a row. */
  noteSuccess(): { was: Phase; failedBeats: number } {
    const before = { was: this.#phase, failedBeats: this.#failedBeats };
    this.#phase = "working";
    this.#authFailures = 0;
    this.#failedBeats = 0;
    return before;
  }

  /** Records a 401/403; returns the consecutive count including this one. */
  noteAuthFailure(): number {
    this.#phase = "failing";
    this.#failedBeats++;
    return ++this.#authFailures;
  }

  /** Records any other failure; returns true when the beat before it had not failed this way. */
  noteOtherFailure(): boolean {
    const isNew = this.#phase !== "failing" || this.#authFailures > 0;
    this.#phase = "failing";
    this.#failedBeats++;
    this.#authFailures = 0;
    return isNew;
  }

  /** Records a refused secret; returns true when the one before was not refused. */
  noteSecretRefused(): boolean {
    const isNew = !this.#isSecretRefused;
    this.#isSecretRefused = true;
    return isNew;
  }

  /** Records a usable secret (refusals are warned about again after it). */
  noteSecretUsable(): void {
    this.#isSecretRefused = false;
  }

  /** True when `secret` differs from the one last saved successfully. */
  needsSaving(secret: string): boolean {
    return secret !== this.#savedSecret;
  }

  /** Records the outcome of a save; returns true when this changes success ↔ failure. */
  noteSecretSave(secret: string, isSaved: boolean): boolean {
    if (isSaved) this.#savedSecret = secret;
    const changed = this.#isSecretFailing === isSaved;
    this.#isSecretFailing = !isSaved;
    return changed;
  }
}

/** What heartbeatOnce and runHeartbeat need. */
export interface HeartbeatDeps {
  platform: Pick<PlatformClient, "heartbeat">;
  clock: Clock;
  log: Logger;
  /**
   * Persists the inbound secret (atomic, 0600). Resolves whether it wrote; rejects when it
   * could not, and is then retried on the next beat.
   */
  saveInboundSecret(secret: string): Promise<boolean>;
}

/** How one beat went. "cancelled" means `signal` aborted it. */
export type BeatOutcome = "ok" | "auth_rejected" | "failed" | "cancelled";

/**
 * Sends one heartbeat and logs only what the operator needs: auth failures 1 and 2 as
 * warnings, the 3rd (and every 20th after) as one actionable error, other failures and
 * recoveries once per change. Never throws.
 */
export async function heartbeatOnce(
  state: HeartbeatState,
  deps: HeartbeatDeps,
  signal?: AbortSignal,
): Promise<BeatOutcome> {
  const { log } = deps;
  const workspace = state.workspaceId;
  let secret: string | undefined;
  try {
    const uptimeSeconds = Math.floor((deps.clock.now() - state.startedAtMs) / 1000);
    const answer = await deps.platform.heartbeat(
      { uptimeSeconds },
      signal === undefined ? undefined : { signal },
    );
    secret = answer.platformInboundSecret;
  } catch (err) {
    if (signal?.aborted) return "cancelled";
    return noteFailure(state, log, err);
  }
  const before = state.noteSuccess();
  if (before.was === "failing") {
    log.warn("heartbeat recovered", { workspace, failedBeats: before.failedBeats });
  } else if (before.was === "starting") {
    log.info("heartbeat ok", { workspace });
  }
  if (secret !== undefined) await keepSecret(state, deps, secret);
  return "ok";
}

function noteFailure(state: HeartbeatState, log: Logger, err: unknown): BeatOutcome {
  const workspace = state.workspaceId;
  if (err instanceof PlatformError && err.isAuthRejected) {
    const count = state.noteAuthFailure();
    const level = authRefusalLevel(count);
    if (level === "warn") {
      log.warn(
        `heartbeat auth failure ${count}/${AUTH_ERROR_AT}: the platform answered HTTP ` +
          `${err.status}; the token may be revoked`,
        { workspace, next: err.next },
      );
    } else if (level === "error") {
      log.error(
        `The platform has rejected the token for workspace ${workspace} ${count} times in a ` +
          "row: it was probably revoked, or the workspace was deleted",
        { status: err.status, next: err.next },
      );
    } else {
      log.debug("heartbeat auth failure", { workspace, count, status: err.status });
    }
    return "auth_rejected";
  }
  const isNew = state.noteOtherFailure();
  const fields = err instanceof PlatformError
    ? { workspace, status: err.status, error: err.message, next: err.next }
    : { workspace, error: err };
  if (isNew) log.warn("heartbeat failing; retrying on every beat", fields);
  else log.debug("heartbeat still failing", fields);
  return "failed";
}

async function keepSecret(state: HeartbeatState, deps: HeartbeatDeps, secret: string) {
  const workspace = state.workspaceId;
  const refusal = checkInboundSecret(secret);
  if (refusal !== undefined) {
    // Neither saved nor masked (it is not kept anywhere): one warning until a usable one comes.
    const fields = {
      workspace,
      next: "the platform answered a malformed platform_inbound_secret; report it to the " +
        "platform operator (the stored secret is kept)",
    };
    if (state.noteSecretRefused()) {
      deps.log.warn(`ignoring the platform inbound secret: ${refusal}`, fields);
    } else deps.log.debug(`still ignoring the platform inbound secret: ${refusal}`, fields);
    return;
  }
  state.noteSecretUsable();
  // Masked before anything could print it, including the save's own errors. Only the
  // current and the previous value stay in the mask set.
  deps.log.redactor.rotate(inboundSecretSlot(workspace), secret);
  if (!state.needsSaving(secret)) return;
  try {
    const wrote = await deps.saveInboundSecret(secret);
    const changed = state.noteSecretSave(secret, true);
    if (changed) deps.log.warn("saved the platform inbound secret again", { workspace });
    else if (wrote) deps.log.info("saved the platform inbound secret", { workspace });
  } catch (err) {
    const changed = state.noteSecretSave(secret, false);
    const fields = {
      workspace,
      error: err,
      next: "check that the state directory is writable; retrying on the next heartbeat",
    };
    if (changed) deps.log.warn("cannot save the platform inbound secret", fields);
    else deps.log.debug("still cannot save the platform inbound secret", fields);
  }
}

/** Options for runHeartbeat. */
export interface HeartbeatConfig {
  state: HeartbeatState;
  /** Time between beats; defaults to 20 s. */
  intervalMs?: number;
}

/**
 * Beats at once, then every `intervalMs` until `signal` aborts. After the machine slept (the
 * clock jumped past the next due time) it beats once and resumes the cadence, never a burst
 * of catch-up beats. Never throws; an aborted signal ends it within one await.
 */
export async function runHeartbeat(
  cfg: HeartbeatConfig,
  deps: HeartbeatDeps,
  signal: AbortSignal,
): Promise<void> {
  const intervalMs = cfg.intervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  let dueAtMs = deps.clock.now();
  while (!signal.aborted) {
    try {
      await heartbeatOnce(cfg.state, deps, signal);
    } catch (err) {
      // heartbeatOnce never throws; if a bug makes it, the loop must still live on.
      deps.log.error("heartbeat step failed unexpectedly", { error: err });
    }
    dueAtMs += intervalMs;
    const nowMs = deps.clock.now();
    if (dueAtMs <= nowMs) dueAtMs = nowMs + intervalMs;
    await deps.clock.sleep(dueAtMs - nowMs, signal);
  }
}
