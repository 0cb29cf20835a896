/** The SSE parser on the platform's stream format and on hostile or broken streams. */
import { type SseEvent, SseParser } from "../../lib/platform/sse.ts";
import { assertEquals } from "../assert.ts";

/** Feeds `chunks` and returns every event's data, plus how many were dropped for size. */
function feed(chunks: string[], maxEventChars?: number): { data: string[]; oversized: number } {
  const parser = new SseParser(maxEventChars === undefined ? {} : { maxEventChars });
  const events: SseEvent[] = [];
  let oversized = 0;
  for (const chunk of chunks) {
    const out = parser.push(chunk);
    events.push(...out.events);
    oversized += out.oversized;
  }
  parser.end();
  return { data: events.map((e) => e.data), oversized };
}

const PLATFORM_STREAM = ': ping\n\ndata: {"type":"ACTIVITY_LOGGED","timestamp":1}\n\n' +
  'data: {"type":"WORKSPACE_HEARTBEAT","timestamp":2}\n\n';

Deno.test("sse: the platform's ping comment and two events give two events", () => {
  const { data } = feed([PLATFORM_STREAM]);
  assertEquals(data, [
    '{"type":"ACTIVITY_LOGGED","timestamp":1}',
    '{"type":"WORKSPACE_HEARTBEAT","timestamp":2}',
  ]);
});

Deno.test("sse: a stream cut into chunks at every position gives the same events", () => {
  const whole = feed([PLATFORM_STREAM]).data;
  for (let cut = 1; cut < PLATFORM_STREAM.length; cut++) {
    const split = feed([PLATFORM_STREAM.slice(0, cut), PLATFORM_STREAM.slice(cut)]).data;
    assertEquals(split, whole, `cut at ${cut}`);
  }
  assertEquals(feed([...PLATFORM_STREAM]).data, whole, "one character per chunk");
});

Deno.test("sse: CRLF and lone CR line ends work, also when a CRLF is split between chunks", () => {
  assertEquals(feed(["data: a\r\n\r\ndata: b\r\rdata: c\n\n"]).data, ["a", "b", "c"]);
  assertEquals(feed(["data: a\r", "\n\r", "\ndata: b\r\n", "\r\n"]).data, ["a", "b"]);
  // The LF after a chunk-ending CR is the same line end, not a blank line ending the event.
  assertEquals(feed(["data: a\r", "\ndata: b\n\n"]).data, ["a\nb"]);
});

Deno.test("sse: comments are skipped and several data lines join with newlines", () => {
  const { data } = feed([": ping\ndata: one\n: mid-event comment\ndata:two\ndata\n\n"]);
  assertEquals(data, ["one\ntwo\n"]);
});

Deno.test("sse: event names and ids are kept; events without data are not dispatched", () => {
  const parser = new SseParser();
  const out = parser.push("event: custom\nid: 7\ndata: x\n\nevent: empty\n\ndata: y\n\n");
  assertEquals(out.events, [
    { type: "custom", data: "x", id: "7" },
    { type: "message", data: "y", id: "7" },
  ]);
});

Deno.test("sse: an event cut off by the end of the stream is never dispatched", () => {
  assertEquals(feed(["data: whole\n\ndata: half"]).data, ["whole"]);
});

Deno.test("sse: an oversized event is dropped and counted, and the stream goes on after it", () => {
  const big = "x".repeat(1000);
  const { data, oversized } = feed(
    ["data: small\n\n", `data: ${big.slice(0, 300)}`, `${big.slice(300)}\n`, "data: more\n\n"]
      .concat(["data: after\n\n"]),
    100,
  );
  assertEquals(data, ["small", "after"]);
  assertEquals(oversized, 1);
});

Deno.test("sse: many data lines that add up past the bound are dropped as one event", () => {
  const lines = Array.from({ length: 50 }, (_, i) => `data: line ${i}\n`).join("");
  const { data, oversized } = feed([lines, "\n", "data: next\n\n"], 200);
  assertEquals(data, ["next"]);
  assertEquals(oversized, 1);
});

Deno.test("sse: a long line without any line break never grows past the bound", () => {
  const parser = new SseParser({ maxEventChars: 64 });
  let oversized = 0;
  for (let i = 0; i < 1000; i++) oversized += parser.push("y".repeat(100)).oversized;
  assertEquals(oversized, 1);
  assertEquals(parser.push("\n\ndata: ok\n\n").events.map((e) => e.data), ["ok"]);
});
