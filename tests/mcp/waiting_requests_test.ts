/** The line of requests waiting for a place at the stdio transport's unanswered cap. */
import { assertEquals } from "../assert.ts";
import { WaitingRequests } from "../../lib/mcp/waiting_requests.ts";

const request = (id: number | string, method = "ping") => ({ jsonrpc: "2.0", id, method });
const note = { jsonrpc: "2.0", method: "notifications/unknown" };

function line(value: unknown) {
  const text = JSON.stringify(value);
  return { value, text, bytes: new TextEncoder().encode(text).length };
}

function waitingWith(...values: unknown[]): WaitingRequests {
  const waiting = new WaitingRequests({ maxLines: 64, maxBytes: 1024 * 1024 });
  for (const value of values) {
    const { text, bytes } = line(value);
    waiting.push(value, text, bytes);
  }
  return waiting;
}

function drain(waiting: WaitingRequests): unknown[] {
  const out: unknown[] = [];
  for (let next = waiting.shift(); next !== undefined; next = waiting.shift()) out.push(next.value);
  return out;
}

Deno.test("waiting requests: lines go on in the order read, as they were sent", () => {
  const waiting = waitingWith(request(1), [request(2), note], request("3"));
  assertEquals(waiting.count, 3);
  assertEquals(drain(waiting), [request(1), [request(2), note], request("3")]);
  assertEquals([waiting.count, waiting.bytes], [0, 0]);
});

Deno.test('waiting requests: a cancellation drops every waiting request with that id, 1 and "1" apart', () => {
  const waiting = waitingWith(request(1), request("1"), request(2), request(1, "tools/list"));
  assertEquals(waiting.drop(1), 2);
  assertEquals(waiting.bytes, line(request("1")).bytes + line(request(2)).bytes);
  assertEquals(waiting.drop(1), 0, "nothing left to drop");
  assertEquals(drain(waiting), [request("1"), request(2)]);
});

Deno.test("waiting requests: a cancellation takes a request out of a waiting batch; the rest of the batch still goes on", () => {
  const waiting = waitingWith([request(1), note, request(2), request(1)], request(3));
  assertEquals(waiting.drop(1), 2);
  assertEquals(waiting.drop(1), 0, "a second cancellation finds nothing");
  assertEquals(waiting.count, 2);
  assertEquals(drain(waiting), [[note, request(2)], request(3)]);
});

Deno.test("waiting requests: a batch whose every request was cancelled is dropped whole; one with a notification left is not", () => {
  const waiting = waitingWith([request(1), request(2)], [request(3), note], []);
  assertEquals(waiting.drop(1) + waiting.drop(2) + waiting.drop(3), 3);
  assertEquals(drain(waiting), [[note], []], "an empty batch still waits for its -32600");
});
