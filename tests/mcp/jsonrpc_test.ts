import { assertEquals } from "../assert.ts";
import {
  classifyMessage,
  type IncomingMessage,
  JSONRPC_ERROR,
  notificationMessage,
  parseLine,
} from "../../lib/mcp/jsonrpc.ts";

function replyOf(message: IncomingMessage): unknown {
  return message.kind === "invalid" ? message.reply : `not invalid: ${message.kind}`;
}

function invalidRequest(id: string | number | null, message: string) {
  return { jsonrpc: "2.0", id, error: { code: JSONRPC_ERROR.INVALID_REQUEST, message } };
}

Deno.test("jsonrpc: a request, a notification and a response are told apart", () => {
  assertEquals(parseLine('{"jsonrpc":"2.0","id":7,"method":"ping"}'), {
    kind: "request",
    id: 7,
    method: "ping",
    params: undefined,
  });
  assertEquals(parseLine('{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"x":1}}'), {
    kind: "request",
    id: "a",
    method: "tools/call",
    params: { x: 1 },
  });
  assertEquals(parseLine('{"jsonrpc":"2.0","method":"notifications/initialized"}'), {
    kind: "notification",
    method: "notifications/initialized",
    params: undefined,
  });
  assertEquals(parseLine('{"jsonrpc":"2.0","id":3,"result":{}}'), { kind: "response", id: 3 });
  assertEquals(parseLine('{"jsonrpc":"2.0","id":null,"error":{"code":1,"message":"x"}}'), {
    kind: "response",
    id: null,
  });
});

Deno.test("jsonrpc: text that is not JSON gets -32700 with id null", () => {
  assertEquals(replyOf(parseLine('{"jsonrpc":"2.0","id":1,')), {
    jsonrpc: "2.0",
    id: null,
    error: { code: -32700, message: "Parse error: message is not JSON" },
  });
});

Deno.test("jsonrpc: a batch gets -32600 with id null", () => {
  assertEquals(
    replyOf(parseLine('[{"jsonrpc":"2.0","id":1,"method":"ping"}]')),
    invalidRequest(null, "Invalid Request: batches are not supported by MCP"),
  );
});

Deno.test("jsonrpc: a hostile id type is never echoed and gets -32600 with id null", () => {
  for (const id of ["{}", '{"x":1}', "[1]", "true", "null"]) {
    assertEquals(
      replyOf(parseLine(`{"jsonrpc":"2.0","id":${id},"method":"ping"}`)),
      invalidRequest(null, "Invalid Request: id must be a string or a number"),
      `id ${id}`,
    );
  }
});

Deno.test("jsonrpc: a wrong jsonrpc version gets -32600 with id null", () => {
  for (const version of ['"1.0"', "2", "null"]) {
    assertEquals(
      replyOf(parseLine(`{"jsonrpc":${version},"id":4,"method":"ping"}`)),
      invalidRequest(null, 'Invalid Request: jsonrpc must be "2.0"'),
    );
  }
  assertEquals(
    replyOf(parseLine('{"id":4,"method":"ping"}')),
    invalidRequest(null, 'Invalid Request: jsonrpc must be "2.0"'),
  );
});

Deno.test("jsonrpc: a bad method or params echoes a well-formed id", () => {
  assertEquals(
    replyOf(parseLine('{"jsonrpc":"2.0","id":5,"method":42}')),
    invalidRequest(5, "Invalid Request: method must be a string"),
  );
  assertEquals(
    replyOf(parseLine('{"jsonrpc":"2.0","id":"q","method":"ping","params":"x"}')),
    invalidRequest("q", "Invalid Request: params must be an object or an array"),
  );
  assertEquals(
    replyOf(parseLine('{"jsonrpc":"2.0","id":6}')),
    invalidRequest(6, "Invalid Request: missing method"),
  );
  assertEquals(
    replyOf(parseLine('{"jsonrpc":"2.0","method":1}')),
    invalidRequest(null, "Invalid Request: method must be a string"),
  );
});

Deno.test("jsonrpc: non-object values get -32600 with id null", () => {
  for (const text of ["1", '"ping"', "null", "true"]) {
    assertEquals(
      replyOf(parseLine(text)),
      invalidRequest(null, "Invalid Request: expected a JSON object"),
    );
  }
});

Deno.test("jsonrpc: a malformed notification is dropped without a reply", () => {
  for (
    const text of [
      '{"jsonrpc":"1.0","method":"notifications/initialized"}',
      '{"jsonrpc":"2.0","method":"notifications/cancelled","params":5}',
    ]
  ) {
    const message = parseLine(text);
    assertEquals(message.kind, "invalid");
    assertEquals(replyOf(message), null);
  }
});

Deno.test("jsonrpc: positional params are kept as given", () => {
  assertEquals(classifyMessage({ jsonrpc: "2.0", id: 1.5, method: "m", params: [1, "a"] }), {
    kind: "request",
    id: 1.5,
    method: "m",
    params: [1, "a"],
  });
});

Deno.test("jsonrpc: a notification we send has no id and leaves out absent params", () => {
  assertEquals(notificationMessage("notifications/x"), {
    jsonrpc: "2.0",
    method: "notifications/x",
  });
  assertEquals(notificationMessage("n", { a: 1 }), {
    jsonrpc: "2.0",
    method: "n",
    params: { a: 1 },
  });
});
