/**
 * The small JSON Schema subset our tools' inputSchemas use, and a checker for it. The
 * dispatcher runs it on every tools/call before a handler sees the arguments; handlers then
 * check meaning (UUID shape, non-empty text), not types.
 *
 * Supported keywords: type (one name or a list), properties, required, additionalProperties
 * (only `false` restricts), enum, minimum, maximum, minLength, maxLength (in code points, as
 * JSON Schema counts), items, minItems, maxItems; and the annotations description, title,
 * default, examples. Any other keyword would be silently unchecked, so `schemaProblems`
 * lists it and the server refuses such a tool at construction.
 */
import { codePointLength, cutCodePoints } from "../text.ts";
import { isRecord } from "../json_object.ts";

/** JSON Schema type names. */
export type JsonType = "object" | "array" | "string" | "number" | "integer" | "boolean" | "null";

/** A schema in the supported subset. */
export interface JsonSchema {
  type?: JsonType | readonly JsonType[];
  description?: string;
  title?: string;
  default?: unknown;
  examples?: readonly unknown[];
  properties?: Readonly<Record<string, JsonSchema>>;
  required?: readonly string[];
  additionalProperties?: boolean;
  enum?: readonly unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
}

/** The root of a tool's inputSchema: MCP requires an object schema. */
export interface ObjectSchema extends JsonSchema {
  type: "object";
}

const SUPPORTED_KEYWORDS: ReadonlySet<string> = new Set([
  "type",
  "description",
  "title",
  "default",
  "examples",
  "properties",
  "required",
  "additionalProperties",
  "enum",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "items",
  "minItems",
  "maxItems",
]);

/**
 * Checks `value` against `schema` and returns every problem found, empty when it conforms.
 * Each problem names where it is (`task`, `filters.kind`, `ids[2]`; `path` is the prefix,
 * empty for the arguments object itself) and what was seen, e.g.
 * `timeout_secs must be at most 300: got 500`.
 */
export function checkValue(schema: JsonSchema, value: unknown, path = ""): string[] {
  const where = path === "" ? "arguments" : path;
  const types = schema.type === undefined
    ? undefined
    : typeof schema.type === "string"
    ? [schema.type]
    : schema.type;
  if (types !== undefined && !types.some((t) => hasType(value, t))) {
    return [`${where} must be ${types.map(article).join(" or ")}: got ${describe(value)}`];
  }
  if (schema.enum !== undefined && !schema.enum.some((option) => sameJson(option, value))) {
    const options = schema.enum.map((o) => JSON.stringify(o)).join(", ");
    return [`${where} must be one of ${options}: got ${describe(value)}`];
  }
  if (typeof value === "number") return checkNumber(schema, value, where);
  if (typeof value === "string") return checkString(schema, value, where);
  if (Array.isArray(value)) return checkArray(schema, value, path);
  if (isRecord(value)) return checkObject(schema, value, path);
  return [];
}

/**
 * Lists keywords in `schema` (at any depth) that checkValue does not enforce, as
 * `<path>: <keyword>`. A tool whose schema has any is a bug caught at start-up, not a
 * constraint silently skipped at call time.
 */
export function schemaProblems(schema: JsonSchema, path = "inputSchema"): string[] {
  const problems = Object.keys(schema)
    .filter((key) => !SUPPORTED_KEYWORDS.has(key))
    .map((key) => `${path}: unsupported keyword ${key}`);
  for (const [name, sub] of Object.entries(schema.properties ?? {})) {
    problems.push(...schemaProblems(sub, `${path}.properties.${name}`));
  }
  if (schema.items !== undefined) problems.push(...schemaProblems(schema.items, `${path}.items`));
  return problems;
}

function checkNumber(schema: JsonSchema, value: number, where: string): string[] {
  const problems: string[] = [];
  if (schema.minimum !== undefined && value < schema.minimum) {
    problems.push(`${where} must be at least ${schema.minimum}: got ${value}`);
  }
  if (schema.maximum !== undefined && value > schema.maximum) {
    problems.push(`${where} must be at most ${schema.maximum}: got ${value}`);
  }
  return problems;
}

function checkString(schema: JsonSchema, value: string, where: string): string[] {
  const problems: string[] = [];
  const length = codePointLength(value);
  if (schema.minLength !== undefined && length < schema.minLength) {
    problems.push(
      `${where} must be at least ${plural(schema.minLength, "character")} long: got ${length}`,
    );
  }
  if (schema.maxLength !== undefined && length > schema.maxLength) {
    problems.push(
      `${where} must be at most ${plural(schema.maxLength, "character")} long: got ${length}`,
    );
  }
  return problems;
}

function checkArray(schema: JsonSchema, value: readonly unknown[], path: string): string[] {
  const where = path === "" ? "arguments" : path;
  const problems: string[] = [];
  if (schema.minItems !== undefined && value.length < schema.minItems) {
    problems.push(
      `${where} must have at least ${plural(schema.minItems, "item")}: got ${value.length}`,
    );
  }
  if (schema.maxItems !== undefined && value.length > schema.maxItems) {
    problems.push(
      `${where} must have at most ${plural(schema.maxItems, "item")}: got ${value.length}`,
    );
  }
  const items = schema.items;
  if (items !== undefined) {
    value.forEach((item, i) => problems.push(...checkValue(items, item, `${where}[${i}]`)));
  }
  return problems;
}

function checkObject(
  schema: JsonSchema,
  value: Readonly<Record<string, unknown>>,
  path: string,
): string[] {
  const problems: string[] = [];
  const properties = schema.properties ?? {};
  const prefix = path === "" ? "" : `${path}.`;
  for (const name of schema.required ?? []) {
    if (!Object.hasOwn(value, name)) problems.push(`${prefix}${name} is required`);
  }
  for (const [name, item] of Object.entries(value)) {
    const sub = Object.hasOwn(properties, name) ? properties[name] : undefined;
    if (sub !== undefined) {
      problems.push(...checkValue(sub, item, `${prefix}${name}`));
    } else if (schema.additionalProperties === false) {
      problems.push(`${prefix}${name} is not a known argument`);
    }
  }
  return problems;
}

function hasType(value: unknown, type: JsonType): boolean {
  switch (type) {
    case "object":
      return isRecord(value);
    case "array":
      return Array.isArray(value);
    case "string":
      return typeof value === "string";
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "boolean":
      return typeof value === "boolean";
    case "null":
      return value === null;
  }
}

function article(type: JsonType): string {
  return type === "null"
    ? "null"
    : type === "integer" || type === "object" || type === "array"
    ? `an ${type}`
    : `a ${type}`;
}

/** A short rendering of what the caller sent, for problem texts (at most ~60 characters). */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  const text = JSON.stringify(value) ?? String(value);
  return cutCodePoints(text, 60, "...");
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Deep equality over JSON values, for enum. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}
