/**
 * Benchmark 8, first-start backlog (issue 10 item 5: "a first-start backlog of more than
 * ~512 MB … nothing is ever delivered"): N rows of 100 KB wait on the platform and the program
 * starts with an empty state directory. Measured: spawn → first message served, every row
 * popped once (the inbox fills at its 512 MiB budget and is drained to let the rest in), and
 * the program's peak RSS (VmHWM) over the whole run: the backlog walk holds two pages of
 * rows, not the backlog.
 */
import { McpClient, readMemoryMiB } from "./mcp_client.ts";
import { popAll } from "./bench_inbox.ts";
import { activityIdsOf } from "./session.ts";
import { MESSAGE_BYTES } from "./bench_journal.ts";
import { startSimulator } from "./simulator.ts";

/** Messages listed per inbox_peek: as many 100 KB texts as fit in one tool result. */
const PEEK_PAGE = 4;

/** What the first-start backlog run measured. */
export interface FirstStartBacklogResult {
  rows: number;
  firstMessageMs: number;
  /** Distinct rows popped, and pops that did not remove a message. */
  delivered: number;
  popFailures: number;
  /** spawn → last row popped. */
  allDeliveredMs: number;
  peakRssMiB: number;
}

/** Runs the first-start backlog benchmark with `rows` rows of 100 KB on the platform. */
export async function measureFirstStartBacklog(
  rows: number,
  childEnv: Record<string, string>,
): Promise<FirstStartBacklogResult> {
  const sim = await startSimulator({ workspaceName: "bench", programEnv: childEnv });
  try {
    for (let n = 0; n < rows; n++) {
      const head = `bench backlog ${n}: `;
      sim.platform.sendToInbox(sim.workspace.id, {
        text: head + "x".repeat(MESSAGE_BYTES - head.length),
      });
    }
    const t0 = performance.now();
    const client = McpClient.start({
      env: sim.programEnv({ MOLECULE_MCP_DISABLE_HEARTBEAT: "1" }),
    });
    try {
      await client.initialize();
      const first = await client.callTool("wait_for_message", { timeout_secs: 300 });
      const firstMessageMs = performance.now() - t0;
      if (first.isError || !first.text.includes("bench backlog")) {
        throw new Error(`wait_for_message gave no message: ${first.text.slice(0, 300)}`);
      }
      const seen = new Set<string>();
      let popFailures = 0;
      for (let idle = 0; seen.size < rows && idle < 600;) {
        const page = await client.callTool("inbox_peek", { limit: PEEK_PAGE });
        const ids = activityIdsOf(page.text);
        if (ids.length === 0) {
          // The inbox is empty until the poller has fetched the next part.
          await client.callTool("wait_for_message", { timeout_secs: 1 });
          idle++;
          continue;
        }
        idle = 0;
        for (const id of ids) seen.add(id);
        popFailures += await popAll(client, ids);
      }
      const allDeliveredMs = performance.now() - t0;
      const peakRssMiB = (await readMemoryMiB(client.pid))?.peak ?? Number.NaN;
      return {
        rows,
        firstMessageMs,
        delivered: seen.size,
        popFailures,
        allDeliveredMs,
        peakRssMiB,
      };
    } finally {
      await client.close();
    }
  } finally {
    await sim.close();
  }
}
