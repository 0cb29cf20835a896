/**
 * Whose journal this is: every snapshot of a workspace's journal starts with a
 * `{"op":"workspace","id":…}` record (lib/inbox/journal.ts), so while the journal streams in,
 * the first record tells whether it may be served. A journal naming another workspace, or none,
 * is set aside and nothing of it reaches the agent (issue 10 item 1). lib/inbox/inbox.ts
 * replays; this module only judges and sets aside.
 */
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import { setAsideStateFile } from "../state/safe_file.ts";
import type { JournalRecord } from "./journal.ts";

/** Whose journal is being replayed, as far as its records have shown. */
export interface OwnerCheck {
  /**
   * "empty": no record yet; "ours": the first record named this workspace; "foreign": some
   * record named another; "unverified": records came before any name (older versions).
   */
  readonly verdict: "empty" | "ours" | "foreign" | "unverified";
  /** Other workspace ids named in the journal. */
  readonly others: ReadonlySet<string>;
  /** Notes `record`; true when it may be applied (named ours so far, and not a name itself). */
  admits(record: JournalRecord): boolean;
}

/**
 * Checks, record by record while the journal streams, that it is `workspaceId`'s: every
 * snapshot starts with a `workspace` record and appends follow it, so the first record names
 * the owner. Anything else means the file is not this workspace's (issue 10 item 1).
 */
export function ownerCheck(workspaceId: string): OwnerCheck {
  let verdict: OwnerCheck["verdict"] = "empty";
  const others = new Set<string>();
  return {
    get verdict() {
      return verdict;
    },
    others,
    admits(record) {
      if (record.op === "workspace") {
        if (record.id !== workspaceId) {
          others.add(record.id);
          verdict = "foreign";
        } else if (verdict === "empty") {
          verdict = "ours";
        }
        return false;
      }
      if (verdict === "empty") verdict = "unverified";
      return verdict === "ours";
    },
  };
}

/**
 * Sets a journal that is not this workspace's aside (`.foreign-<time>` when it names another
 * workspace, `.unverified-<time>` when it names none) with a warning naming both files, so a
 * forged or misplaced journal never reaches the agent. Throws when it cannot be moved
 * (continuing would overwrite it).
 */
export async function setAsideForeignJournal(
  path: string,
  owner: OwnerCheck,
  opts: { workspaceId: string; clock: Clock; log: Logger },
): Promise<void> {
  const isForeign = owner.verdict === "foreign";
  const aside = await setAsideStateFile(
    path,
    isForeign ? "foreign" : "unverified",
    opts.clock.wallNow(),
  );
  if (aside instanceof Error) {
    throw new Error(
      `Cannot set aside the inbox journal ${path}, which is not this workspace's: ` +
        `${aside.message}; move it away, then restart`,
      { cause: aside },
    );
  }
  opts.log.warn(
    isForeign
      ? "the inbox journal belongs to another workspace; set it aside, nothing of it is served"
      : "the inbox journal does not say which workspace it belongs to; set it aside, " +
        "nothing of it is served",
    {
      path,
      ...(isForeign ? { journalWorkspace: [...owner.others].join(",") } : {}),
      workspace: opts.workspaceId,
      setAside: aside,
      next: `if ${aside} holds messages you expected, check which workspace wrote it`,
    },
  );
}
