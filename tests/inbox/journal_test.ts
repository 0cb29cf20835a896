import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { DurableInbox } from "../../lib/inbox/inbox.ts";
import type { InboxMessage } from "../../lib/inbox/message.ts";
import { encodeRecord, parseRecord } from "../../lib/inbox/journal.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { withTempDir } from "../fakes/temp_dir.ts";
import { openTestInbox, TEST_JOURNAL, TEST_LOCK, TEST_WORKSPACE_ID } from "../fakes/inbox_files.ts";

const T0 = Date.UTC(2026, 4, 1, 10, 0, 0);

function msg(n: number, text = `hello ${n}`): InboxMessage {
  return {
    activity_id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    text,
    peer_id: "11111111-2222-4333-8444-555555555555",
    kind: "peer_agent",
    method: "message/send",
    created_at: new Date(T0 + n * 1000).toISOString(),
  };
}

function texts(inbox: DurableInbox): string[] {
  return inbox.peek(100_000).map((m) => m.text);
}

async function journalLines(dir: string): Promise<string[]> {
  const text = await Deno.readTextFile(`${dir}/${TEST_JOURNAL}`);
  assert(text === "" || text.endsWith("\n"), "the journal ends with a complete line");
  return text.split("\n").filter((l) => l !== "");
}

async function fileMode(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o777;
}

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

Deno.test("inbox journal: records are JSON lines in a 0600 file", async () => {
  await withTempDir(async (dir) => {
    const inbox = await openTestInbox(dir);
    await inbox.accept({
      messages: [msg(1)],
      skipped: [{ id: msg(9).activity_id, created_at: msg(9).created_at }],
    });
    await inbox.pop(msg(1).activity_id);
    assertEquals(await fileMode(`${dir}/${TEST_JOURNAL}`), 0o600);
    const records = (await journalLines(dir)).map((l) => JSON.parse(l));
    assertEquals(records, [
      { op: "workspace", id: TEST_WORKSPACE_ID },
      {
        op: "add",
        msgs: [msg(1)],
        seen: [{ id: msg(9).activity_id, created_at: msg(9).created_at }],
      },
      { op: "pop", id: msg(1).activity_id },
    ]);
    await inbox.close();
  });
});

Deno.test("inbox journal: a record torn by a kill is ignored quietly and the rest is kept", async () => {
  await withTempDir(async (dir) => {
    const first = await openTestInbox(dir);
    await first.accept({ messages: [msg(1), msg(2)], skipped: [] });
    await first.close();
    const torn = encodeRecord({ op: "add", msgs: [msg(3)], seen: [] });
    await Deno.writeTextFile(`${dir}/${TEST_JOURNAL}`, torn.slice(0, torn.length / 2), {
      append: true,
    });

    const captured = captureLog("debug");
    const second = await openTestInbox(dir, captured);
    assertEquals(texts(second), ["hello 1", "hello 2"]);
    assertEquals(captured.lines.filter((l) => / (warn|error) /.test(l)), []);
    assertStringIncludes(captured.text(), "torn");
    // New records must not be glued onto the torn bytes: they survive one more restart.
    await second.accept({ messages: [msg(4)], skipped: [] });
    await second.close();
    const third = await openTestInbox(dir);
    assertEquals(texts(third), ["hello 1", "hello 2", "hello 4"]);
    await third.close();
    assertEquals((await journalLines(dir)).every((l) => parseRecord(l) !== null), true);
  });
});

Deno.test("inbox journal: a pop torn by a kill leaves the message pending", async () => {
  await withTempDir(async (dir) => {
    const first = await openTestInbox(dir);
    await first.accept({ messages: [msg(1)], skipped: [] });
    await first.close();
    const torn = encodeRecord({ op: "pop", id: msg(1).activity_id });
    await Deno.writeTextFile(`${dir}/${TEST_JOURNAL}`, torn.slice(0, -2), { append: true });
    const second = await openTestInbox(dir);
    assertEquals(texts(second), ["hello 1"]);
    await second.close();
  });
});

Deno.test("inbox journal: a damaged middle line is reported, set aside, and the rest is kept", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/${TEST_JOURNAL}`;
    const original = encodeRecord({ op: "workspace", id: TEST_WORKSPACE_ID }) +
      encodeRecord({ op: "add", msgs: [msg(1)], seen: [] }) +
      '{"op":"add","msgs":[{"activity_id":5}],"seen":[]}\n' +
      "not json at all\n" +
      encodeRecord({ op: "add", msgs: [msg(2)], seen: [] });
    await Deno.writeTextFile(path, original);

    const captured = captureLog("warn");
    const inbox = await openTestInbox(dir, captured);
    assertEquals(texts(inbox), ["hello 1", "hello 2"]);
    const warning = captured.text();
    assertStringIncludes(warning, path);
    assertStringIncludes(warning, "damaged lines");
    assertStringIncludes(warning, 'lines="3,4"');
    assertStringIncludes(warning, "next=");
    const aside = (await listDir(dir)).filter((n) => n.startsWith(`${TEST_JOURNAL}.corrupt-`));
    assertEquals(aside.length, 1);
    assertEquals(await Deno.readTextFile(`${dir}/${aside[0]}`), original);
    assertEquals(await fileMode(`${dir}/${aside[0]}`), 0o600);

    await inbox.accept({ messages: [msg(3)], skipped: [] });
    await inbox.close();
    const again = await openTestInbox(dir, captured);
    assertEquals(texts(again), ["hello 1", "hello 2", "hello 3"]);
    assertEquals(await fileMode(path), 0o600);
    await again.close();
  });
});

Deno.test("inbox journal: a garbage file is reported and set aside, and the inbox works", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/${TEST_JOURNAL}`;
    await Deno.writeFile(path, new Uint8Array([0xff, 0xfe, 0x00, 0x0a, 0x80, 0x81, 0x0a, 0x41]));
    const captured = captureLog("warn");
    const inbox = await openTestInbox(dir, captured);
    assertEquals(inbox.size, 0);
    assertStringIncludes(captured.text(), "damaged lines");
    assertStringIncludes(captured.text(), 'lines="1,2,3"');
    await inbox.accept({ messages: [msg(1)], skipped: [] });
    await inbox.close();
    const again = await openTestInbox(dir);
    assertEquals(texts(again), ["hello 1"]);
    await again.close();
  });
});

Deno.test("inbox journal: an unreadable journal is moved aside with a warning, not fatal", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/${TEST_JOURNAL}`;
    await Deno.mkdir(path); // reading a directory fails on every platform, even as root
    const captured = captureLog("warn");
    const inbox = await openTestInbox(dir, captured);
    assertStringIncludes(captured.text(), "the inbox journal; set it aside");
    assertStringIncludes(captured.text(), `${path} is a directory`);
    assert((await listDir(dir)).some((n) => n.startsWith(`${TEST_JOURNAL}.corrupt-`)));
    await inbox.accept({ messages: [msg(1)], skipped: [] });
    await inbox.close();
    const again = await openTestInbox(dir);
    assertEquals(texts(again), ["hello 1"]);
    await again.close();
  });
});

Deno.test("inbox journal: reopening compacts to the live state and keeps the file 0600", async () => {
  await withTempDir(async (dir) => {
    const first = await openTestInbox(dir);
    for (let n = 1; n <= 40; n++) await first.accept({ messages: [msg(n)], skipped: [] });
    for (let n = 1; n <= 30; n++) await first.pop(msg(n).activity_id);
    await first.close();
    assertEquals((await journalLines(dir)).length, 71, "the workspace line, then 70 records");

    const second = await openTestInbox(dir);
    const lines = await journalLines(dir);
    assert(lines.length <= 3, `expected a compact snapshot, got ${lines.length} lines`);
    assertEquals(parseRecord(lines[0]!), { op: "workspace", id: TEST_WORKSPACE_ID });
    assert(lines.slice(1).every((l) => parseRecord(l)?.op === "add"));
    assertEquals(texts(second), Array.from({ length: 10 }, (_, i) => `hello ${31 + i}`));
    assert(second.hasSeen(msg(1).activity_id), "popped ids stay known after compaction");
    assertEquals(await fileMode(`${dir}/${TEST_JOURNAL}`), 0o600);
    await second.close();
  });
});

Deno.test("inbox journal: temp files left by a killed snapshot are removed at open", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/${TEST_JOURNAL}.0a1b2c3d.tmp`, "half a snapshot");
    await Deno.writeTextFile(`${dir}/unrelated.tmp`, "keep me");
    const inbox = await openTestInbox(dir);
    await inbox.close();
    assertEquals(await listDir(dir), [TEST_LOCK, TEST_JOURNAL, "unrelated.tmp"].sort());
  });
});

Deno.test("inbox journal: 10_000 messages accepted and popped leave a small journal", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/${TEST_JOURNAL}`;
    const inbox = await openTestInbox(dir);
    const body = "x".repeat(400);
    let largest = 0;
    for (let page = 0; page < 100; page++) {
      const messages = Array.from({ length: 100 }, (_, i) => msg(page * 100 + i + 1, body));
      assertEquals((await inbox.accept({ messages, skipped: [] })).taken, 100);
      for (const m of messages) assert(await inbox.pop(m.activity_id));
      largest = Math.max(largest, (await Deno.stat(path)).size);
    }
    // ~6 MB of records went through; compaction kept the file near its 4 MiB threshold.
    assert(largest < 5 * 1024 * 1024, `journal grew to ${largest} bytes`);
    assertEquals(inbox.size, 0);
    await inbox.close();

    const reopened = await openTestInbox(dir);
    const size = (await Deno.stat(path)).size;
    // Only the seen ids of the last 30 minutes of row time (1 row per second) remain.
    assert(size < 256 * 1024, `journal is ${size} bytes after compaction`);
    assert(reopened.hasSeen(msg(10_000).activity_id));
    assert(!reopened.hasSeen(msg(1).activity_id));
    assertEquals(await fileMode(path), 0o600);
    await reopened.close();
  });
});

/** Runs in a child process: accepts message n, then pops it when n is odd, reporting each ack. */
const CHILD_SCRIPT = `
import { DurableInbox } from ${JSON.stringify(import.meta.resolve("../../lib/inbox/inbox.ts"))};
import { systemClock } from ${JSON.stringify(import.meta.resolve("../../lib/clock.ts"))};
import { createLogger } from ${JSON.stringify(import.meta.resolve("../../lib/log.ts"))};
const inbox = await DurableInbox.open({
  dir: Deno.args[0], clock: systemClock, log: createLogger({ write: () => {}, level: "error" }),
  workspaceId: ${JSON.stringify(TEST_WORKSPACE_ID)},
});
const out = (line) => Deno.stdout.writeSync(new TextEncoder().encode(line + "\\n"));
for (let n = 1; ; n++) {
  const id = "00000000-0000-4000-8000-" + String(n).padStart(12, "0");
  await inbox.accept({ messages: [{ activity_id: id, text: "m" + n, peer_id: "", kind: "canvas_user",
    method: "message/send", created_at: new Date(Date.UTC(2026, 4, 1) + n).toISOString() }], skipped: [] });
  out("A " + n);
  if (n % 2 === 1) { await inbox.pop(id); out("P " + n); }
}
`;

Deno.test("inbox journal: kill -9 mid-stream loses no accepted message and revives no pop", async () => {
  await withTempDir(async (dir) => {
    const script = `${dir}/child.mjs`;
    await Deno.writeTextFile(script, CHILD_SCRIPT);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-q", "--no-config", "-A", script, dir],
      cwd: dir,
      stdout: "piped",
      stderr: "null",
      stdin: "null",
    }).spawn();
    const acked = { accepted: new Set<number>(), popped: new Set<number>() };
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = "";
    while (acked.accepted.size < 400) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += value;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        const [op, n] = line.split(" ");
        (op === "A" ? acked.accepted : acked.popped).add(Number(n));
      }
    }
    child.kill("SIGKILL");
    await reader.cancel();
    assertEquals((await child.status).signal, "SIGKILL");
    await Deno.remove(script);

    const inbox = await openTestInbox(dir);
    const pending = inbox.peek(100_000).map((m) => Number(m.text.slice(1)));
    const lastAccepted = Math.max(...acked.accepted);
    assert(acked.accepted.size >= 400, "the child ran");
    assertEquals(pending, [...pending].sort((a, b) => a - b), "arrival order is kept");
    for (const n of acked.accepted) {
      const inFlightPop = n % 2 === 1 && n === lastAccepted;
      if (!acked.popped.has(n) && !inFlightPop) {
        assert(pending.includes(n), `accepted message ${n} was lost`);
      }
    }
    for (const n of acked.popped) assert(!pending.includes(n), `popped message ${n} came back`);
    // The child runs on between our last read and the kill, so messages past the last ack may
    // be stored; below it, only acknowledged ones may be (nothing is invented or misnumbered).
    assert(
      pending.every((n) => n > lastAccepted || acked.accepted.has(n)),
      "only acknowledged writes, or writes after the last ack we read",
    );
    await inbox.accept({ messages: [msg(100_000)], skipped: [] });
    await inbox.close();
  });
});
