/**
 * How long fetched canvas uploads stay in a workspace's uploads folder (state/upload_store.ts):
 * the retention sweep. Upstream never removes what it fetched, so the folder only grows; here
 * a file goes when it is older than the retention (age from its mtime, the end of its fetch)
 * or, oldest first, while the folder is over its size cap. Either way a file that a message
 * still in the inbox mentions (not popped: the agent can still be told about it) always stays,
 * as do links, folders, files of other names or owners, and other workspaces' folders (the
 * store lists only its own folder's regular files of ours).
 *
 * The sweep runs between two polls of the poller (InboxPoller's `betweenPolls`), never during
 * one: a message is resolved to a local file and queued in one step, so no message can pick a
 * file while it is being removed. It is skipped while the poller holds messages back (the
 * inbox is full, or an upload fetch is retried): their files are fetched but not yet mentioned
 * by a queued message. Its schedule is the injected Clock's: the first sweep after the first
 * poll, then every SWEEP_INTERVAL_MS.
 */
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import { UnsafeStateFileError } from "../state/safe_file.ts";
import type { StoredUpload, UploadListing, UploadStore } from "../state/upload_store.ts";
import type { InboxMessage } from "./message.ts";

/** Pause between two sweeps: the folder changes slowly, and a sweep lists all of it. */
export const SWEEP_INTERVAL_MS = 60 * 60 * 1000;
/**
 * Age past which a temporary download file is debris of a crash, not a download in progress:
 * a fetch gives up after 65 s (platform/uploads.ts), so a day leaves a wide margin.
 */
export const STALE_PARTIAL_MS = 24 * 60 * 60 * 1000;

/** What the sweep keeps. 0 switches a limit off; both 0 keeps every file forever. */
export interface RetentionPolicy {
  /** Files older than this (ms since their mtime) go, unless mentioned. */
  maxAgeMs: number;
  /** The folder's finished uploads are cut to this many bytes, oldest first, unless mentioned. */
  maxBytes: number;
}

/** One day in ms: the unit of MOLECULE_CHAT_UPLOAD_RETENTION_DAYS. */
const DAY_MS = 24 * 60 * 60 * 1000;

/** The policy for a retention in whole days (0 = no age limit) and a cap in bytes (0 = none). */
export function retentionPolicy(retentionDays: number, maxBytes: number): RetentionPolicy {
  return { maxAgeMs: retentionDays * DAY_MS, maxBytes };
}

/**
 * True when `file` is past its age limit at wall time `nowMs`: STALE_PARTIAL_MS for a temporary
 * download file, else the policy's maxAgeMs (0 = never). A file dated in the future has age 0.
 * The one age rule of the sweep (planRemovals) and of doctor's uploads line.
 */
export function isExpired(
  file: Pick<StoredUpload, "isPartial" | "mtimeMs">,
  nowMs: number,
  policy: RetentionPolicy,
): boolean {
  const limitMs = file.isPartial ? STALE_PARTIAL_MS : policy.maxAgeMs;
  return limitMs > 0 && Math.max(0, nowMs - file.mtimeMs) > limitMs;
}

/** The uploads that queued messages mention (see findUploadReferences). */
export interface UploadReferences {
  /** True when `name` (an entry of the uploads folder) is mentioned. */
  has(name: string): boolean;
}

/** What one sweep decided (see planRemovals). */
export interface RemovalPlan {
  /** Files to remove, in the order chosen (expired first, then oldest first for the cap). */
  remove: StoredUpload[];
  /** Files a limit would have removed that a queued message mentions: kept. */
  keptMentioned: StoredUpload[];
  /** Bytes of finished uploads left once `remove` is done. */
  remainingBytes: number;
}

/**
 * Which of `files` go under `policy` at wall time `nowMs`: finished uploads older than
 * maxAgeMs, then the oldest others while the finished uploads exceed maxBytes; temporary
 * download files older than STALE_PARTIAL_MS (never younger: a fetch may be writing them; they
 * do not count toward the cap). A file `mentioned` says is mentioned is never chosen. A file
 * dated in the future (the wall clock was stepped back) has age 0. Pure.
 */
export function planRemovals(
  files: readonly StoredUpload[],
  opts: { nowMs: number; policy: RetentionPolicy; mentioned: UploadReferences },
): RemovalPlan {
  const { nowMs, policy, mentioned } = opts;
  const plan: RemovalPlan = { remove: [], keptMentioned: [], remainingBytes: 0 };
  const decided = new Set<StoredUpload>();
  const take = (file: StoredUpload) => {
    decided.add(file);
    if (mentioned.has(file.name)) plan.keptMentioned.push(file);
    else plan.remove.push(file);
  };
  for (const file of files) {
    if (isExpired(file, nowMs, policy)) take(file);
  }
  const removing = new Set(plan.remove);
  const finished = files.filter((file) => !file.isPartial && !removing.has(file));
  let total = 0;
  for (const file of finished) total += file.sizeBytes;
  if (policy.maxBytes > 0 && total > policy.maxBytes) {
    const oldestFirst = finished.sort((a, b) =>
      a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
    );
    for (const file of oldestFirst) {
      if (total <= policy.maxBytes) break;
      if (decided.has(file)) continue; // expired but mentioned: already kept
      take(file);
      if (!mentioned.has(file.name)) total -= file.sizeBytes;
    }
  }
  plan.remainingBytes = total;
  return plan;
}

/**
 * The uploads that `messages` mention, in an attachment URI or in the text: by a path to the
 * workspace's folder (`…/<workspaceId>/<stored name>`, what the resolver writes), or by the
 * `platform-pending:<workspaceId>/<file id>` URI the file was fetched for. Only the workspace
 * folder's own name is compared, not the folders above it: people, peers and tools spell those
 * many ways (a `file://localhost/` URI, other percent escapes, NFD, a doubled `/`, `.`
 * segments, a link to the root such as macOS's /tmp), and a name that also stands under
 * another root only keeps a file longer, never removes one early. Percent escapes of path
 * characters are decoded first. Only texts that name the workspace are scanned, so the work
 * and memory stay small however much text is queued.
 */
export function findUploadReferences(
  messages: Iterable<Pick<InboxMessage, "text" | "attachments">>,
  where: { workspaceId: string },
): UploadReferences {
  const names = new Set<string>();
  const fileIds = new Set<string>();
  const id = escapeRegExp(where.workspaceId);
  const byPath = new RegExp(`${id}/+(?:\\./+)*([A-Za-z0-9._-]+)`, "gi");
  const byPending = new RegExp(`platform-pending:${id}/([A-Za-z0-9_-]{1,128})`, "gi");
  const lowerId = where.workspaceId.toLowerCase();
  const scan = (raw: string) => {
    const text = raw.includes("%") ? raw.replace(/%([0-9A-Fa-f]{2})/g, decodePathEscape) : raw;
    if (!text.includes(lowerId) && !text.toLowerCase().includes(lowerId)) return;
    for (const m of text.matchAll(byPath)) {
      const name = m[1] ?? "";
      names.add(name);
      names.add(name.replace(/\.+$/, "")); // a sentence's full stop after the path
    }
    if (/platform-pending:/i.test(text)) {
      for (const m of text.matchAll(byPending)) fileIds.add(m[1] ?? "");
    }
  };
  for (const msg of messages) {
    scan(msg.text);
    for (const attachment of msg.attachments ?? []) scan(attachment.uri);
  }
  return {
    has(name) {
      if (names.has(name)) return true;
      // `<file id>-<name>`: the file id is the part before one of the dashes.
      for (let i = name.indexOf("-"); i > 0; i = name.indexOf("-", i + 1)) {
        if (fileIds.has(name.slice(0, i))) return true;
      }
      return false;
    },
  };
}

/** `%xx` → its character when that is a path character (a name's, or `/`), else unchanged. */
function decodePathEscape(escape: string, hex: string): string {
  const char = String.fromCharCode(parseInt(hex, 16));
  return /^[A-Za-z0-9._\/-]$/.test(char) ? char : escape;
}

/** What one sweep did. */
export interface SweepReport {
  removed: number;
  freedBytes: number;
  /** Files a limit would have removed, kept because a queued message mentions them. */
  keptMentioned: number;
  /** Bytes of finished uploads left in the folder. */
  remainingBytes: number;
  /** True when nothing was decided: the queued messages could not be known (see deps.inbox). */
  isPostponed: boolean;
}

/** What the retention sweep needs. */
export interface UploadRetentionDeps {
  store: Pick<UploadStore, "dir" | "list" | "remove">;
  /**
   * The queued messages whose mentions keep an upload (DurableInbox satisfies it; with several
   * workspaces served, the link adds the others' queues). null while they cannot be known yet
   * (another served workspace's inbox is still opening): the sweep then removes nothing and is
   * due again at the next call.
   */
  inbox: { pendingMessages(): Iterable<Pick<InboxMessage, "text" | "attachments">> | null };
  workspaceId: string;
  clock: Clock;
  log: Logger;
  /** Told the paths removed by a sweep (the upload resolver forgets them). */
  onRemoved?: (paths: string[]) => void;
  /**
   * Our user id: the owner of the state directory (state/state_dir.ts proves it is ours). A
   * workspace folder owned by anyone else is never swept: in a shared MOLECULE_CHAT_UPLOAD_DIR
   * another user's folder may bear this workspace's id, and the store lists the files of the
   * folder's owner. Null or undefined where the OS has no uids: not checked.
   */
  ownerUid?: number | null;
}

/** One workspace's upload retention: `sweep` is the step, `maybeSweep` its schedule. */
export class UploadRetention {
  #policy: RetentionPolicy;
  #deps: UploadRetentionDeps;
  #lastSweepMs: number | null = null;
  #isFailing = false;
  #isForeignReported = false;

  constructor(policy: RetentionPolicy, deps: UploadRetentionDeps) {
    this.#policy = policy;
    this.#deps = deps;
  }

  /** False when both limits are 0: files are kept forever and no sweep ever runs. */
  get isEnabled(): boolean {
    return this.#policy.maxAgeMs > 0 || this.#policy.maxBytes > 0;
  }

  /**
   * Sweeps when one is due: the first call, then once SWEEP_INTERVAL_MS (monotonic) has passed
   * since the last sweep. Not while `isHoldingBack` (the poller holds fetched messages back;
   * see the module comment): the sweep is then due again at the next call. Never throws: a
   * failure is logged when the state changes and the sweep is tried again next interval. Once
   * `signal` aborts (the program stops), it ends at the next file, removing no more.
   */
  async maybeSweep(state: { isHoldingBack: boolean; signal?: AbortSignal }): Promise<void> {
    if (!this.isEnabled || state.signal?.aborted) return;
    const { clock, log } = this.#deps;
    const nowMs = clock.now();
    if (this.#lastSweepMs !== null && nowMs - this.#lastSweepMs < SWEEP_INTERVAL_MS) return;
    if (state.isHoldingBack) {
      log.debug("canvas uploads sweep postponed: messages are held back from the inbox");
      return;
    }
    const previousMs = this.#lastSweepMs;
    this.#lastSweepMs = nowMs;
    try {
      const report = await this.sweep(state.signal === undefined ? {} : { signal: state.signal });
      if (report.isPostponed) this.#lastSweepMs = previousMs; // due again at the next call
      if (this.#isFailing) log.info("canvas uploads sweep works again");
      this.#isFailing = false;
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      if (this.#isFailing) log.debug("canvas uploads sweep still failing", { error });
      else {
        log.warn("cannot sweep the canvas uploads folder; old uploads stay until it works", {
          folder: this.#deps.store.dir,
          error,
          next: err instanceof UnsafeStateFileError
            ? err.next
            : "check the folder's owner and permissions; the sweep is retried every hour",
        });
      }
      this.#isFailing = true;
    }
  }

  /**
   * One sweep: lists the folder, keeps what queued messages mention, removes what the policy
   * says (planRemovals) and reports it. Throws UnsafeStateFileError when the folder is a link
   * or not a folder, or the Deno error when it cannot be listed or a file cannot be removed.
   * Needs --allow-read and --allow-write on the folder.
   */
  async sweep(opts: { signal?: AbortSignal } = {}): Promise<SweepReport> {
    const { signal } = opts;
    const { store, inbox, clock, log, workspaceId } = this.#deps;
    const report: SweepReport = {
      removed: 0,
      freedBytes: 0,
      keptMentioned: 0,
      remainingBytes: 0,
      isPostponed: false,
    };
    const listing = await store.list(opts);
    if (listing === null) return report;
    const { ownerUid } = this.#deps;
    if (ownerUid != null && listing.dirUid !== null && listing.dirUid !== ownerUid) {
      if (!this.#isForeignReported) {
        this.#isForeignReported = true;
        log.warn("canvas uploads not swept: the folder belongs to another user", {
          folder: store.dir,
          owner: listing.dirUid,
          next: "point MOLECULE_CHAT_UPLOAD_DIR at a folder of your own",
        });
      }
      return report;
    }
    // Stopping: the listing may be incomplete, and shutdown must not wait for the folder.
    if (signal?.aborted) return { ...report, isPostponed: true };
    // Mentions are read after the listing, and only when a limit picks a file at all: most
    // sweeps remove nothing and need not decode every queued message.
    const pending = inbox.pendingMessages();
    if (pending === null) {
      log.debug("canvas uploads sweep postponed: a served workspace's inbox is still opening");
      return { ...report, isPostponed: true };
    }
    let found: UploadReferences | undefined;
    const mentioned: UploadReferences = {
      has: (name) => (found ??= findUploadReferences(pending, { workspaceId })).has(name),
    };
    const plan = planRemovals(listing.files, {
      nowMs: clock.wallNow(), // file times are wall times
      policy: this.#policy,
      mentioned,
    });
    report.keptMentioned = plan.keptMentioned.length;
    report.remainingBytes = plan.remainingBytes;
    const { removed, error } = await this.#removeAll(listing, plan.remove, signal);
    for (const file of removed) report.freedBytes += file.sizeBytes;
    report.removed = removed.length;
    if (removed.length > 0) this.#deps.onRemoved?.(removed.map((f) => f.path));
    const fields = {
      folder: store.dir,
      removed: report.removed,
      freedBytes: report.freedBytes,
      keptMentioned: report.keptMentioned,
      remainingBytes: report.remainingBytes,
    };
    // Every removal is named (also when another one failed): an operator looking for a file
    // finds here where it went (with MOLECULE_MCP_VERBOSE, the info level). Each file on its
    // own line, so no list needs cutting.
    for (const file of removed) {
      log.info("removed an old canvas upload", { name: file.name, bytes: file.sizeBytes });
    }
    if (error !== undefined) throw error;
    if (report.removed > 0 || report.keptMentioned > 0) {
      log.info("swept old canvas uploads", fields);
    } else log.debug("swept old canvas uploads", fields);
    return report;
  }

  /**
   * Removes `files`, each checked again by the store; returns those removed, and the first
   * failure (the others are still tried: one file we cannot remove must not keep the rest).
   */
  async #removeAll(
    listing: UploadListing,
    files: StoredUpload[],
    signal: AbortSignal | undefined,
  ): Promise<{ removed: StoredUpload[]; error?: unknown }> {
    const removed: StoredUpload[] = [];
    let error: unknown;
    for (const file of files) {
      if (signal?.aborted) break; // stopping: the rest waits for the next run's sweep
      try {
        if (await this.#deps.store.remove(listing, file)) removed.push(file);
      } catch (err) {
        error ??= err;
      }
    }
    return error === undefined ? { removed } : { removed, error };
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}
