import { DurableInbox } from "../../lib/inbox/inbox.ts";
import { captureLog } from "./log_capture.ts";
import { ManualClock } from "./manual_clock.ts";

/** The workspace id inbox tests open their inbox for, and the keyed file names it gives. */
export const TEST_WORKSPACE_ID = "0f0e0d0c-0b0a-4909-8807-060504030201";
/** `.mcp_inbox_journal.<id>`: the test inbox's journal file name. */
export const TEST_JOURNAL = `.mcp_inbox_journal.${TEST_WORKSPACE_ID}`;
/** `.mcp_inbox_cursor.<id>`: the test inbox's cursor file name. */
export const TEST_CURSOR = `.mcp_inbox_cursor.${TEST_WORKSPACE_ID}`;
/** `.mcp_inbox.lock.<id>`: the test inbox's lock file name. */
export const TEST_LOCK = `.mcp_inbox.lock.${TEST_WORKSPACE_ID}`;

/**
 * Opens the test inbox (TEST_WORKSPACE_ID) on `dir` with a manual clock and `log` (a fresh
 * capture by default); `uid` plays files owned by someone else (DurableInboxOptions.uid).
 */
export function openTestInbox(
  dir: string,
  log: ReturnType<typeof captureLog> = captureLog(),
  uid?: number,
): Promise<DurableInbox> {
  return DurableInbox.open({
    dir,
    log: log.log,
    clock: new ManualClock(),
    workspaceId: TEST_WORKSPACE_ID,
    ...(uid === undefined ? {} : { uid }),
  });
}
