/**
 * Benchmark 8, large journal (issue 10 item 5): a journal holding N pending messages of 100 KB
 * (10,000 in full mode: about 1 GB, past the 512 MiB byte budget, as an older version could
 * leave it). Measured: writing it through DurableInbox.accept and replaying + compacting it in
 * this process; then the real program started on it: spawn → initialize reply, spawn → first
 * message served by wait_for_message, peak RSS (VmHWM) by then, and draining most of it with
 * inbox_pop (which compacts the journal while running) with the peak RSS after that.
 */
import { systemClock } from "../../lib/clock.ts";
import { DurableInbox } from "../../lib/inbox/inbox.ts";
import type { InboxMessage } from "../../lib/inbox/message.ts";
import { createLogger } from "../../lib/log.ts";
import { McpClient, readMemoryMiB } from "./mcp_client.ts";
import { popAll } from "./bench_inbox.ts";
import { activityIdsOf } from "./session.ts";
import { startSimulator } from "./simulator.ts";

/** Bytes of text per message. */
export const MESSAGE_BYTES = 100_000;
/** Messages listed per inbox_peek: as many 100 KB texts as fit in one tool result. */
const PEEK_PAGE = 4;
/** Messages accepted per call while writing the journal. */
const WRITE_BATCH = 100;

/** What benchmark 8 measured. */
export interface LargeJournalResult {
  messages: number;
  journalMiB: number;
  writeMs: number;
  /** DurableInbox.open on the journal in this process: streamed replay. */
  reopenMs: number;
  /** DurableInbox.compact of the whole state in this process (streamed snapshot). */
  compactMs: number;
  initializeMs: number;
  firstMessageMs: number;
  /** VmHWM of the program once the first message was served. */
  peakRssAtFirstMiB: number;
  popped: number;
  popMs: number;
  popFailures: number;
  /** VmHWM of the program after the pops (includes compactions while running). */
  peakRssAfterPopsMiB: number;
}

function message(n: number): InboxMessage {
  const head = `bench message ${n}: `;
  return {
    activity_id: crypto.randomUUID(),
    text: head + "x".repeat(MESSAGE_BYTES - head.length),
    peer_id: "",
    kind: "canvas_user",
    method: "message/send",
    created_at: new Date(Date.now() - 3_600_000 + n).toISOString(),
  };
}

/** Runs benchmark 8 with `messages` pending messages, popping `pops` of them at the end. */
export async function measureLargeJournal(
  { messages, pops }: { messages: number; pops: number },
  childEnv: Record<string, string>,
): Promise<LargeJournalResult> {
  const sim = await startSimulator({ workspaceName: "bench", programEnv: childEnv });
  try {
    const log = createLogger({ write: () => {}, level: "error" });
    const inboxOpts = {
      dir: sim.stateDir,
      log,
      clock: systemClock,
      workspaceId: sim.workspace.id,
      byteBudget: 4 * 1024 ** 3, // the bench writes past the program's budget on purpose
    };
    let t0 = performance.now();
    const writer = await DurableInbox.open(inboxOpts);
    for (let n = 0; n < messages; n += WRITE_BATCH) {
      const batch = Array.from(
        { length: Math.min(WRITE_BATCH, messages - n) },
        (_, i) => message(n + i),
      );
      await writer.accept({ messages: batch, skipped: [] });
    }
    await writer.close();
    const writeMs = performance.now() - t0;
    const journal = `${sim.stateDir}/.mcp_inbox_journal.${sim.workspace.id}`;
    const journalMiB = (await Deno.stat(journal)).size / 1024 ** 2;

    t0 = performance.now();
    const reopened = await DurableInbox.open(inboxOpts);
    const reopenMs = performance.now() - t0;
    t0 = performance.now();
    await reopened.compact();
    const compactMs = performance.now() - t0;
    await reopened.close();

    t0 = performance.now();
    const client = McpClient.start({
      env: sim.programEnv({ MOLECULE_MCP_DISABLE_HEARTBEAT: "1" }),
    });
    try {
      await client.initialize();
      const initializeMs = performance.now() - t0;
      const first = await client.callTool("wait_for_message", { timeout_secs: 120 });
      const firstMessageMs = performance.now() - t0;
      if (first.isError || !first.text.includes("bench message")) {
        throw new Error(`wait_for_message gave no message: ${first.text.slice(0, 300)}`);
      }
      const peakRssAtFirstMiB = (await readMemoryMiB(client.pid))?.peak ?? Number.NaN;
      let popped = 0;
      let popFailures = 0;
      let popMs = 0;
      while (popped < pops) {
        // inbox_peek pages carry 100 KB texts (4 fit in a 512 KiB tool result) and are slow
        // to answer, so only the pops are timed.
        const page = await client.callTool("inbox_peek", { limit: PEEK_PAGE });
        const ids = activityIdsOf(page.text).slice(0, pops - popped);
        if (ids.length === 0) break;
        const t1 = performance.now();
        popFailures += await popAll(client, ids);
        popMs += performance.now() - t1;
        popped += ids.length;
      }
      const peakRssAfterPopsMiB = (await readMemoryMiB(client.pid))?.peak ?? Number.NaN;
      return {
        messages,
        journalMiB,
        writeMs,
        reopenMs,
        compactMs,
        initializeMs,
        firstMessageMs,
        peakRssAtFirstMiB,
        popped,
        popMs,
        popFailures,
        peakRssAfterPopsMiB,
      };
    } finally {
      await client.close();
    }
  } finally {
    await sim.close();
  }
}
