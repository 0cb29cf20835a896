/**
 * The stdio transport when the host stops reading stdout (issue 11 item 13): the output queue
 * stays bounded, pushes past it are dropped (logged once), responses wait, and stdin is not
 * read while the output is full.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { flushMicrotasks } from "../fakes/manual_clock.ts";
import { rig } from "../fakes/stdio_rig.ts";
import { MIN_UNANSWERED } from "../../lib/mcp/unanswered.ts";

const push = (i: number) => ({
  jsonrpc: "2.0" as const,
  method: "notifications/claude/channel",
  params: { content: `message ${i} `.padEnd(1000, "."), meta: {} },
});
const reply = (id: number) => ({ jsonrpc: "2.0" as const, id, result: { ok: true } });

Deno.test("stdio: a stalled stdout keeps the output queue bounded: pushes past it are dropped and logged once", async () => {
  const maxQueuedBytes = 64 * 1024;
  const { stdout, stdin, transport, text } = rig({ maxQueuedBytes });
  await transport.start();
  const sends = Array.from({ length: 10_000 }, (_, i) => transport.send(push(i)));
  await flushMicrotasks();
  const queue = transport.outputQueue;
  assert(queue.bytes <= maxQueuedBytes, `queued ${queue.bytes} bytes`);
  assertEquals(queue.messages + queue.droppedNotifications, 10_000);
  assert(queue.messages <= 64, `queued ${queue.messages} messages`);
  assertEquals(text().split("\n").filter((l) => l.includes("stdout is not being read")).length, 1);
  stdout.resume();
  await Promise.all(sends);
  assertEquals(stdout.lines.length, queue.messages, "every queued push went out, in order");
  assertEquals(JSON.parse(stdout.lines[0] ?? "{}").params.content.startsWith("message 0 "), true);
  assertEquals(transport.outputQueue.bytes, 0);
  assertStringIncludes(text(), "stdout is being read again");
  stdin.end();
  await transport.close();
});

Deno.test("stdio: with stdout stalled, responses wait for room instead of piling up, and all arrive once it drains", async () => {
  const { stdout, stdin, transport } = rig({ maxQueuedBytes: 1024 });
  await transport.start();
  const sends = Array.from({ length: 2_000 }, (_, i) => transport.send(reply(i)));
  await flushMicrotasks();
  const queue = transport.outputQueue;
  assert(queue.bytes <= 1024, `queued ${queue.bytes} bytes`);
  assertEquals(queue.messages + queue.waitingResponses, 2_000);
  assertEquals(queue.droppedNotifications, 0, "responses are never dropped");
  stdout.resume();
  await Promise.all(sends);
  assertEquals(
    stdout.lines.map((l) => JSON.parse(l).id),
    Array.from({ length: 2_000 }, (_, i) => i),
  );
  stdin.end();
  await transport.close();
});

Deno.test("stdio: stdin is not read while the output is full, and reading resumes once it drains", async () => {
  const { stdout, stdin, transport } = rig({ maxQueuedBytes: 1024 });
  const received: unknown[] = [];
  transport.onmessage = (m) => received.push(m);
  await transport.start();
  const big = { jsonrpc: "2.0" as const, id: 1, result: { text: "x".repeat(2048) } };
  const first = transport.send(big); // fills the queue: the write hangs
  await flushMicrotasks();
  for (let i = 0; i < 5; i++) {
    stdin.write(JSON.stringify({ jsonrpc: "2.0", id: i, method: "ping" }));
  }
  await flushMicrotasks();
  // The read already waiting when the queue filled takes one chunk, but its line waits too.
  assertEquals(received.length, 0, "no more requests read while answers cannot be written");
  stdout.resume();
  await first;
  await flushMicrotasks();
  assertEquals(received.length, 5);
  stdin.end();
  await transport.close();
});

Deno.test("stdio: closing the transport releases responses waiting for room", async () => {
  const { stdout, transport } = rig({ maxQueuedBytes: 10 });
  await transport.start();
  const first = transport.send(reply(1));
  const waiting = transport.send(reply(2));
  await flushMicrotasks();
  assertEquals(transport.outputQueue.waitingResponses, 1);
  await transport.close();
  let err: unknown;
  try {
    await waiting;
  } catch (e) {
    err = e;
  }
  assert(err instanceof Error && err.message.includes("closed"), String(err));
  stdout.resume();
  await first;
});

Deno.test("stdio: past the cap of unanswered requests later requests wait their turn; answers and cancellations let them go on", async () => {
  // a host that reads stdout: only the unanswered cap holds requests back
  const { stdin, transport, received } = rig({ maxUnanswered: 3 }, { isReading: true });
  await transport.start();
  for (let i = 0; i < 6; i++) {
    stdin.write(JSON.stringify({ jsonrpc: "2.0", id: i, method: "ping" }));
  }
  stdin.write(
    JSON.stringify({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1 } }),
  );
  stdin.write(JSON.stringify({ jsonrpc: "2.0", id: 6, method: "ping" }));
  await flushMicrotasks();
  // The cancel for 1 (which will get no answer) is read at once and frees a place for 3.
  assertEquals(received, [0, 1, 2, 3], "three requests in flight, the rest wait");
  assertEquals(transport.outputQueue.unanswered, 3);
  assertEquals(transport.outputQueue.waitingRequests, 3, "4, 5 and 6 wait");
  await transport.send(reply(0));
  await flushMicrotasks();
  assertEquals(received, [0, 1, 2, 3, 4]);
  await transport.send(reply(2));
  await transport.send(reply(3));
  await flushMicrotasks();
  assertEquals(received, [0, 1, 2, 3, 4, 5, 6]);
  assertEquals(transport.outputQueue.unanswered, 3, "4, 5 and 6 are in flight");
  assertEquals(transport.outputQueue.waitingRequests, 0);
  stdin.end();
  await transport.close();
});

Deno.test("stdio: the cap of unanswered requests holds inside one chunk of stdin carrying many requests", async () => {
  const { stdin, transport, received } = rig({ maxUnanswered: 3 }, { isReading: true });
  await transport.start();
  // A host that writes faster than we read: one read returns hundreds of requests at once.
  const lines = Array.from(
    { length: 10 },
    (_, id) => JSON.stringify({ jsonrpc: "2.0", id, method: "ping" }),
  );
  stdin.write(lines.join("\n"));
  await flushMicrotasks();
  assertEquals(received, [0, 1, 2], "the rest of the chunk waits");
  assertEquals(transport.outputQueue.unanswered, 3);
  await transport.send(reply(0));
  await flushMicrotasks();
  assertEquals(received, [0, 1, 2, 3]);
  for (const id of [1, 2, 3]) await transport.send(reply(id));
  await flushMicrotasks();
  assertEquals(received, [0, 1, 2, 3, 4, 5, 6]);
  stdin.end();
  await transport.close();
});

/** A response whose result counts how often it was turned into JSON. */
function countedReply(id: number, counter: { serialised: number }, bytes = 100) {
  const text = "x".repeat(bytes);
  return {
    jsonrpc: "2.0" as const,
    id,
    result: {
      toJSON() {
        counter.serialised += 1;
        return { text };
      },
    },
  };
}

Deno.test("stdio: responses waiting for a stalled stdout are encoded only when their turn comes, so they hold no copy of their bytes", async () => {
  const { stdout, stdin, transport } = rig({ maxQueuedBytes: 4_500 });
  await transport.start();
  const counter = { serialised: 0 };
  const sends = Array.from(
    { length: 200 },
    (_, i) => transport.send(countedReply(i, counter, 1000)),
  );
  await flushMicrotasks();
  const queue = transport.outputQueue;
  assertEquals(queue.messages, 4, "four answers of about 1 KB fill the 4,500-byte queue");
  assertEquals(queue.waitingResponses, 196);
  assertEquals(counter.serialised, 5, "the queued answers and the head of the line only");
  assert(queue.waitingBytes <= 1100, `waiting answers hold ${queue.waitingBytes} bytes`);
  assert(queue.bytes + queue.waitingBytes <= 4_500 + 1100, "at most the bound plus one answer");
  stdout.resume();
  await Promise.all(sends);
  assertEquals(counter.serialised, 200, "each answer encoded once");
  assertEquals(stdout.lines.map((l) => JSON.parse(l).id), Array.from({ length: 200 }, (_, i) => i));
  stdin.end();
  await transport.close();
});

Deno.test("stdio: a small response never overtakes a larger one waiting for room", async () => {
  const { stdout, stdin, transport } = rig({ maxQueuedBytes: 1024 });
  await transport.start();
  const counter = { serialised: 0 };
  const sends = [
    transport.send(countedReply(1, counter, 600)), // queued (the write hangs)
    transport.send(countedReply(2, counter, 600)), // no room: waits
    transport.send(countedReply(3, counter, 10)), // would fit, but 2 is waiting
  ];
  await flushMicrotasks();
  assertEquals(transport.outputQueue.waitingResponses, 2);
  stdout.resume();
  await Promise.all(sends);
  assertEquals(stdout.lines.map((l) => JSON.parse(l).id), [1, 2, 3]);
  stdin.end();
  await transport.close();
});

/** A transport over a stdout that reads at once, recording the ids of the requests read. */
async function readingTransport(opts: { maxUnansweredBytes: number }) {
  const { transport, stdin, received } = rig(opts, { isReading: true });
  await transport.start();
  const writeRequests = (ids: number[]) =>
    stdin.write(ids.map((id) => JSON.stringify({ jsonrpc: "2.0", id, method: "ping" })).join("\n"));
  return { transport, stdin, received, writeRequests };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

Deno.test("stdio: after big answers, stdin is read only while the answers in the making stay within the byte budget", async () => {
  const { transport, stdin, received, writeRequests } = await readingTransport({
    maxUnansweredBytes: 40_000,
  });
  writeRequests([0]);
  await flushMicrotasks();
  const counter = { serialised: 0 };
  await transport.send(countedReply(0, counter, 1_000)); // answers are about 1 KB each
  const answerBytes = transport.outputQueue.answerBytes;
  assert(answerBytes > 1_000 && answerBytes < 1_100, `answer size ${answerBytes}`);
  writeRequests(range(1, 201));
  await flushMicrotasks();
  const inMaking = Math.ceil(40_000 / answerBytes); // 37 of 1 KB, far below the count cap
  assertEquals(received.length, 1 + inMaking);
  assertEquals(transport.outputQueue.unanswered, inMaking);
  await transport.send(countedReply(1, counter, 1_000));
  await flushMicrotasks();
  assertEquals(received.length, 2 + inMaking, "one answer out, one more request read");
  stdin.end();
  await transport.close();
});

Deno.test("stdio: the byte budget never holds reading back below 16 unanswered requests", async () => {
  const { transport, stdin, received, writeRequests } = await readingTransport({
    maxUnansweredBytes: 1,
  });
  writeRequests([0]);
  await flushMicrotasks();
  await transport.send(countedReply(0, { serialised: 0 }, 100_000));
  writeRequests(range(1, 51));
  await flushMicrotasks();
  assertEquals(received.length, 1 + MIN_UNANSWERED, "a few long calls never stop the host");
  stdin.end();
  await transport.close();
});
