import { assertEquals } from "../assert.ts";
import { checkValue, type ObjectSchema, schemaProblems } from "../../lib/mcp/schema.ts";

const schema: ObjectSchema = {
  type: "object",
  properties: {
    workspace_id: { type: "string", minLength: 1, maxLength: 8 },
    timeout_secs: { type: "integer", minimum: 0, maximum: 300 },
    ratio: { type: "number" },
    kind: { type: "string", enum: ["a2a", "chat"] },
    urgent: { type: "boolean" },
    tags: { type: "array", items: { type: "string" }, maxItems: 2 },
    note: { type: ["string", "null"] },
    filter: {
      type: "object",
      properties: { depth: { type: "integer" } },
      required: ["depth"],
      additionalProperties: false,
    },
  },
  required: ["workspace_id"],
};

Deno.test("schema: conforming arguments have no problems", () => {
  assertEquals(
    checkValue(schema, {
      workspace_id: "ws-1",
      timeout_secs: 300,
      ratio: 0.5,
      kind: "chat",
      urgent: false,
      tags: ["x", "y"],
      note: null,
      filter: { depth: 2 },
      extra: "allowed when additionalProperties is not false",
    }),
    [],
  );
});

Deno.test("schema: each problem names the argument and what was seen", () => {
  assertEquals(checkValue(schema, { timeout_secs: "ten" }), [
    "workspace_id is required",
    'timeout_secs must be an integer: got "ten"',
  ]);
  assertEquals(checkValue(schema, { workspace_id: "ws", timeout_secs: 1.5, ratio: "1" }), [
    "timeout_secs must be an integer: got 1.5",
    'ratio must be a number: got "1"',
  ]);
  assertEquals(checkValue(schema, { workspace_id: 5, urgent: "yes", note: 3 }), [
    "workspace_id must be a string: got 5",
    'urgent must be a boolean: got "yes"',
    "note must be a string or null: got 3",
  ]);
});

Deno.test("schema: enum, bounds and lengths are enforced", () => {
  assertEquals(checkValue(schema, { workspace_id: "", timeout_secs: 301, kind: "email" }), [
    "workspace_id must be at least 1 character long: got 0",
    "timeout_secs must be at most 300: got 301",
    'kind must be one of "a2a", "chat": got "email"',
  ]);
  assertEquals(checkValue(schema, { workspace_id: "123456789", timeout_secs: -1 }), [
    "workspace_id must be at most 8 characters long: got 9",
    "timeout_secs must be at least 0: got -1",
  ]);
});

Deno.test("schema: string length counts characters, not UTF-16 units", () => {
  assertEquals(checkValue(schema, { workspace_id: "😀😀😀😀😀😀😀😀" }), []);
});

Deno.test("schema: array items and nested objects report their path", () => {
  assertEquals(checkValue(schema, { workspace_id: "w", tags: ["ok", 7, {}] }), [
    "tags must have at most 2 items: got 3",
    "tags[1] must be a string: got 7",
    "tags[2] must be a string: got an object",
  ]);
  assertEquals(checkValue(schema, { workspace_id: "w", filter: { deep: true } }), [
    "filter.depth is required",
    "filter.deep is not a known argument",
  ]);
  assertEquals(checkValue(schema, { workspace_id: "w", filter: [] }), [
    "filter must be an object: got an array",
  ]);
});

Deno.test("schema: a long value is shortened in the problem text", () => {
  const [problem] = checkValue(schema, { workspace_id: "w", ratio: "x".repeat(500) });
  assertEquals(problem, `ratio must be a number: got "${"x".repeat(56)}...`);
});

Deno.test("schema: keywords the checker does not enforce are listed", () => {
  assertEquals(schemaProblems(schema), []);
  const loose = JSON.parse(
    '{"type":"object","properties":{"id":{"type":"string","pattern":"^[a-f0-9-]+$"},' +
      '"list":{"type":"array","items":{"format":"uuid"}}},"oneOf":[]}',
  );
  assertEquals(schemaProblems(loose), [
    "inputSchema: unsupported keyword oneOf",
    "inputSchema.properties.id: unsupported keyword pattern",
    "inputSchema.properties.list.items: unsupported keyword format",
  ]);
});
