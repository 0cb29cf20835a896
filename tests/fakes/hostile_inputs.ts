/**
 * Seeded generators of malformed and hostile MCP input for the fuzz suite: lines that are not
 * JSON or not UTF-8, envelopes with ids, methods and params of every JSON type, batches,
 * notifications, responses, deep nesting, huge strings, and tools/call arguments with wrong
 * types, path-traversal ids, control characters and lone surrogates.
 *
 * What the server must answer is not taken from the generator's intent but computed from the
 * bytes by `expectedReply`, an oracle written from JSON-RPC 2.0 and MCP's rules, so a wrong
 * guess in a generator cannot hide a wrong answer.
 */
import type { SeededRandom } from "./seeded_random.ts";

/** What the server must send back for one line. */
export type Expectation =
  /** Exactly one response carrying this id (result or error). */
  | { reply: "id"; id: string | number }
  /** Exactly one error response with id null (unparsable or unreadable message). */
  | { reply: "null" }
  /** Nothing (a notification, a response, a blank line). */
  | { reply: "none" };

/** One generated input line (without its newline) and what it is about. */
export interface HostileCase {
  /** Short description for failure messages. */
  label: string;
  /** The line's bytes; never contains a newline byte. */
  bytes: Uint8Array;
  /**
   * True when the platform must not be contacted for this line: a tools/call whose arguments
   * break the tool's schema types or name an invalid id, or anything that is not a tools/call.
   */
  isPlatformSilent: boolean;
}

/** A tool as tools/list describes it (the part the generators use). */
export interface ToolShape {
  name: string;
  inputSchema: {
    properties?: Readonly<Record<string, PropertyShape>>;
    required?: readonly string[];
    additionalProperties?: boolean;
  };
}

/** One argument's schema: its JSON type(s), and its items' for a list. */
export interface PropertyShape {
  type?: string | readonly string[];
  items?: { type?: string | readonly string[] };
}

/** Options for hostileCases. */
export interface HostileOptions {
  count: number;
  tools: readonly ToolShape[];
  /** This workspace's id and a reachable peer's: the only UUIDs a valid call may name. */
  selfId: string;
  peerId: string;
  /** Include huge (≥ 1 MiB) strings and an over-limit line now and then. */
  withHuge: boolean;
  /** Include bytes that are not UTF-8 (a spawned program is written text, so it cannot). */
  withInvalidUtf8: boolean;
  /** The transport's line limit in bytes (the over-limit line is just above it). */
  maxLineBytes: number;
}

/** Tools whose id arguments are checked before any request (the no-request promise). */
const ID_ARGUMENTS: Readonly<Record<string, readonly string[]>> = {
  delegate_task: ["workspace_id"],
  delegate_task_async: ["workspace_id"],
  check_task_status: ["workspace_id", "task_id"],
  get_workspace_info: ["workspace_id"],
  inbox_pop: ["activity_id"],
};
/** Tools that never reach the platform whatever their arguments. */
const LOCAL_TOOLS: ReadonlySet<string> = new Set(["inbox_peek", "inbox_pop", "wait_for_message"]);

/** One MiB and a quarter: the "huge string" size. */
export const HUGE_CHARS = 1_310_720;
/** Nesting depth of the deep cases. */
export const DEEP_LEVELS = 10_000;

const ENCODER = new TextEncoder();

/**
 * The reply JSON-RPC 2.0 (as MCP narrows it) requires for one line of bytes:
 * - over the line limit, not UTF-8, or not JSON: one error with id null (-32700);
 * - blank (whitespace only, a lone CR): nothing;
 * - a batch (MCP has none) or a non-object: one error with id null;
 * - jsonrpc not "2.0": nothing if it looks like a notification (string method, no id),
 *   else one error with id null (the id of a non-2.0 message is not trusted);
 * - no method: nothing for a response (result/error present), else an error with the id;
 * - with an id: a string or finite number gets exactly one response with it (even when
 *   method or params are malformed), any other id (null, bool, object, array) an id-null one;
 * - no id: a notification, never answered.
 */
export function expectedReply(bytes: Uint8Array, maxLineBytes: number): Expectation {
  if (bytes.length > maxLineBytes) return { reply: "null" };
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { reply: "null" };
  }
  if (text.endsWith("\r")) text = text.slice(0, -1);
  if (text.trim() === "") return { reply: "none" };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { reply: "null" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { reply: "null" };
  const msg = value as Record<string, unknown>;
  const hasId = "id" in msg;
  const id = msg.id;
  const isGoodId = typeof id === "string" || (typeof id === "number" && Number.isFinite(id));
  if (msg.jsonrpc !== "2.0") {
    return typeof msg.method === "string" && !hasId ? { reply: "none" } : { reply: "null" };
  }
  if (!("method" in msg) && ("result" in msg || "error" in msg)) return { reply: "none" };
  if (!hasId) {
    // A notification, or a malformed message that has no id to answer: only the latter
    // (no method, or a method that is not a string) deserves an id-null error.
    return typeof msg.method === "string" ? { reply: "none" } : { reply: "null" };
  }
  return isGoodId ? { reply: "id", id: id as string | number } : { reply: "null" };
}

/** Generates `count` hostile lines. Deterministic for a given generator state. */
export function hostileCases(rng: SeededRandom, opts: HostileOptions): HostileCase[] {
  const gen = new Generator(rng, opts);
  const cases: HostileCase[] = [];
  // The heavy shapes once each up front, so every run has them whatever the seed.
  cases.push(...gen.fixedCases());
  while (cases.length < opts.count) cases.push(gen.randomCase());
  return cases.slice(0, Math.max(opts.count, cases.length));
}

class Generator {
  #rng: SeededRandom;
  #opts: HostileOptions;
  #serial = 0;

  constructor(rng: SeededRandom, opts: HostileOptions) {
    this.#rng = rng;
    this.#opts = opts;
  }

  /** Deep nesting, huge strings, the over-limit line, invalid UTF-8: once each. */
  fixedCases(): HostileCase[] {
    const o = this.#opts;
    const deepArray = "[".repeat(DEEP_LEVELS) + "]".repeat(DEEP_LEVELS);
    const deepObject = '{"a":'.repeat(DEEP_LEVELS) + "1" + "}".repeat(DEEP_LEVELS);
    const out: HostileCase[] = [
      this.#text("deep array line", deepArray),
      this.#text("deep object line", deepObject),
      this.#text(
        "deep params",
        `{"jsonrpc":"2.0","id":${this.#numberId()},"method":"ping","params":${deepObject}}`,
      ),
      this.#text(
        "deep id",
        `{"jsonrpc":"2.0","id":${deepArray},"method":"ping"}`,
      ),
      this.#text(
        "deep tool argument",
        `{"jsonrpc":"2.0","id":${this.#numberId()},"method":"tools/call","params":` +
          `{"name":"inbox_peek","arguments":{"limit":${deepArray}}}}`,
        true,
      ),
      this.#text(
        "deep notification params",
        `{"jsonrpc":"2.0","method":"notifications/cancelled","params":${deepObject}}`,
      ),
    ];
    for (const tool of o.tools) {
      for (const name of ID_ARGUMENTS[tool.name] ?? []) {
        for (const bad of this.#traversalIds()) {
          out.push(this.#toolCall(`${tool.name} ${name}=${JSON.stringify(bad)}`, tool.name, {
            ...this.#validArgs(tool),
            [name]: bad,
          }, true));
        }
      }
    }
    if (o.withHuge) {
      const huge = this.#hugeString();
      out.push(
        this.#rpc("huge method", { jsonrpc: "2.0", id: this.#numberId(), method: huge }),
        this.#rpc("huge string id", {
          jsonrpc: "2.0",
          id: `${huge}${this.#serial++}`,
          method: "ping",
        }),
        this.#toolCall("huge tool name", huge, {}, true),
        this.#toolCall("huge workspace_id", "delegate_task", {
          workspace_id: huge,
          task: "x",
        }, true),
        this.#toolCall("huge activity_id", "inbox_pop", { activity_id: huge }, true),
        this.#toolCall("huge limit type", "inbox_peek", { limit: huge }, true),
        this.#text("over-limit line", `"${"x".repeat(o.maxLineBytes + 16)}"`),
      );
    }
    if (o.withInvalidUtf8) {
      out.push(
        this.#raw("lone 0xff", [0xff]),
        this.#raw("overlong NUL", [0xc0, 0x80]),
        this.#raw("CESU surrogate", [0xed, 0xa0, 0x80]),
        this.#raw("cut multibyte in a request", [
          ...ENCODER.encode('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"'),
          0xe2,
          0x82,
          ...ENCODER.encode('"}}'),
        ]),
      );
    }
    return out;
  }

  randomCase(): HostileCase {
    switch (this.#rng.int(0, 9)) {
      case 0:
        return this.#garbage();
      case 1:
      case 2:
        return this.#envelope();
      case 3:
        return this.#batch();
      case 4:
        return this.#notification();
      case 5:
        return this.#response();
      default:
        return this.#toolCase();
    }
  }

  // ---- whole lines -----------------------------------------------------------------------

  #garbage(): HostileCase {
    const r = this.#rng;
    const pieces = [
      "not json",
      "{",
      "}",
      "[",
      '{"jsonrpc":"2.0","id":1,"method":"ping"',
      '{"jsonrpc":"2.0",,}',
      "null",
      "true",
      "0",
      "-1e999",
      '""',
      "[]",
      "{}",
      "   ",
      "\r",
      "\t\t",
      "\u00a0",
      "\ufeff{}",
      "\u2028",
      "\u0000",
      "\u0007\u001b[31m",
      "{'single':'quotes'}",
      '{"jsonrpc":"2.0","id":1,"method":"ping"} trailing',
      "NaN",
      "Infinity",
      '{"a":1}{"b":2}',
      "\ud800",
      "\udfff\ud800",
      "日本語のテキスト",
      "🙂".repeat(r.int(1, 50)),
    ];
    const count = r.int(1, 3);
    let line = "";
    for (let i = 0; i < count; i++) line += r.pick(pieces);
    return this.#text(`garbage ${JSON.stringify(line).slice(0, 60)}`, line);
  }

  #envelope(): HostileCase {
    const r = this.#rng;
    const msg: Record<string, unknown> = {};
    if (!r.chance(0.15)) msg.jsonrpc = r.chance(0.8) ? "2.0" : r.pick(["1.0", 2, null, "2.0 ", ""]);
    if (!r.chance(0.15)) msg.id = this.#anyId();
    if (!r.chance(0.1)) {
      msg.method = r.chance(0.7)
        ? r.pick([
          "ping",
          "initialize",
          "tools/list",
          "tools/call",
          "resources/list",
          "prompts/get",
          "logging/setLevel",
          "",
          "../../etc/passwd",
          "tools/call\u0000",
          "PING",
          "rpc.discover",
          "__proto__",
          "constructor",
          this.#weirdString(),
        ])
        : this.#anyJson(2);
    }
    if (r.chance(0.7)) msg.params = this.#anyParams();
    if (r.chance(0.1)) msg.result = this.#anyJson(2);
    if (r.chance(0.1)) msg.error = this.#anyJson(2);
    if (r.chance(0.1)) setOwn(msg, this.#weirdKey(), this.#anyJson(1));
    return this.#rpc("envelope", msg);
  }

  #batch(): HostileCase {
    const r = this.#rng;
    const items = Array.from(
      { length: r.int(0, 4) },
      () =>
        r.chance(0.5)
          ? { jsonrpc: "2.0", id: this.#numberId(), method: "ping" }
          : r.chance(0.5)
          ? { jsonrpc: "2.0", method: "notifications/initialized" }
          : this.#anyJson(1),
    );
    return this.#rpc(`batch of ${items.length}`, items);
  }

  #notification(): HostileCase {
    const r = this.#rng;
    const method = r.pick([
      "notifications/initialized",
      "notifications/cancelled",
      "notifications/progress",
      "notifications/roots/list_changed",
      "notifications/unknown",
      "",
      this.#weirdString(),
    ]);
    const msg: Record<string, unknown> = { jsonrpc: "2.0", method };
    if (r.chance(0.7)) {
      msg.params = method === "notifications/cancelled" && r.chance(0.6)
        ? { requestId: this.#anyId(), reason: this.#weirdString() }
        : this.#anyJson(2);
    }
    return this.#rpc(`notification ${method.slice(0, 40)}`, msg);
  }

  #response(): HostileCase {
    const r = this.#rng;
    const msg: Record<string, unknown> = { jsonrpc: "2.0", id: this.#anyId() };
    if (r.chance(0.5)) msg.result = this.#anyJson(2);
    else {msg.error = r.chance(0.5)
        ? { code: -32000, message: this.#weirdString() }
        : this.#anyJson(1);}
    return this.#rpc("response", msg);
  }

  // ---- tools/call ------------------------------------------------------------------------

  #toolCase(): HostileCase {
    const r = this.#rng;
    const tools = this.#opts.tools;
    if (tools.length === 0 || r.chance(0.08)) {
      // Malformed tools/call params: no name, a name of the wrong type, an unknown tool.
      const params = r.pick<unknown>([
        {},
        { name: this.#anyJson(1) },
        {
          name: r.pick(["", "no_such_tool", "../../etc/passwd", "INBOX_PEEK", this.#weirdString()]),
        },
        { arguments: {} },
        this.#anyParams(),
      ]);
      return this.#rpc("tools/call bad params", {
        jsonrpc: "2.0",
        id: this.#anyGoodId(),
        method: "tools/call",
        params,
      }, true);
    }
    const tool = r.pick(tools);
    const shape = r.int(0, 4);
    if (shape === 0) {
      // arguments that are not an object; null is read as "no arguments" (as if left out)
      const args = r.pick<unknown>([null, [], "x", 0, true, [{}], this.#weirdString()]);
      const isSilent = args !== null || LOCAL_TOOLS.has(tool.name) || breaksTypes(tool, {});
      return this.#rpc(`${tool.name} arguments=${JSON.stringify(args)}`, {
        jsonrpc: "2.0",
        id: this.#anyGoodId(),
        method: "tools/call",
        params: { name: tool.name, arguments: args },
      }, isSilent);
    }
    const args: Record<string, unknown> = r.chance(0.5) ? this.#validArgs(tool) : {};
    const props = Object.keys(tool.inputSchema.properties ?? {});
    const mutations = r.int(1, 3);
    const idArgs = ID_ARGUMENTS[tool.name] ?? [];
    const badIds = this.#traversalIds();
    for (let i = 0; i < mutations; i++) {
      const name = props.length > 0 && r.chance(0.85) ? r.pick(props) : this.#weirdKey();
      if (idArgs.includes(name) && r.chance(0.6)) {
        setOwn(args, name, r.pick(badIds));
      } else {
        setOwn(args, name, r.chance(0.5) ? this.#weirdString() : this.#anyJson(2));
      }
    }
    if (r.chance(0.1)) delete args[r.pick(props.length > 0 ? props : ["x"])];
    const hasBadId = idArgs.some((n) => {
      const value = args[n];
      return typeof value === "string" && badIds.includes(value);
    });
    const silent = hasBadId || LOCAL_TOOLS.has(tool.name) || breaksTypes(tool, args);
    return this.#toolCall(
      `${tool.name} ${JSON.stringify(args).slice(0, 80)}`,
      tool.name,
      args,
      silent,
    );
  }

  /** Arguments that pass the schema and name only ids the test platform knows. */
  #validArgs(tool: ToolShape): Record<string, unknown> {
    const o = this.#opts;
    switch (tool.name) {
      case "delegate_task":
      case "delegate_task_async":
        return { workspace_id: o.peerId, task: "fuzz task" };
      case "send_message_to_user":
        return { message: "fuzz message" };
      case "commit_memory":
        return { content: "fuzz memory" };
      case "inbox_pop":
        return { activity_id: "00000000-0000-4000-8000-000000000000" };
      case "wait_for_message":
        return { timeout_secs: 0 };
      case "inbox_peek":
        return { limit: 1 };
      default:
        return {};
    }
  }

  /** Ids that must never turn into a request: traversal, injection, near-UUIDs, weird text. */
  #traversalIds(): string[] {
    const { selfId, peerId } = this.#opts;
    return [
      "../../etc/passwd",
      "..%2f..%2fetc%2fpasswd",
      "/etc/passwd",
      "..",
      `${selfId}/../${peerId}`,
      `${peerId}/../../registry/register`,
      `${peerId}?include_removed=true`,
      `${peerId}#x`,
      `${peerId.slice(0, -1)}g`,
      `${peerId}0`,
      `${peerId}\u0000`,
      "\u0000",
      "\ud800",
      "ｐｅｅｒ",
      "\u202e" + peerId,
      `${peerId.toUpperCase()}\u200b`,
    ];
  }

  // ---- values ----------------------------------------------------------------------------

  /** Ids of every JSON type; the good ones (string, finite number) are unique per case. */
  #anyId(): unknown {
    const r = this.#rng;
    switch (r.int(0, 6)) {
      case 0:
        return null;
      case 1:
        return r.chance(0.5);
      case 2:
        return r.chance(0.5) ? {} : { id: this.#numberId() };
      case 3:
        return r.chance(0.5) ? [] : [this.#numberId()];
      default:
        return this.#anyGoodId();
    }
  }

  #anyGoodId(): string | number {
    const r = this.#rng;
    const n = ++this.#serial;
    switch (r.int(0, 5)) {
      case 0:
        return n;
      case 1:
        return -n;
      case 2:
        return n + 0.5;
      case 3:
        return n * 1e12;
      default:
        return `${this.#weirdString()}#${n}`;
    }
  }

  #numberId(): number {
    return 1_000_000 + ++this.#serial;
  }

  #anyParams(): unknown {
    const r = this.#rng;
    return r.pick<unknown>([
      null,
      0,
      -1.5,
      "params",
      true,
      [],
      [1, 2, 3],
      {},
      { name: "x" },
      this.#anyJson(3),
    ]);
  }

  /** A random JSON value up to `depth` levels deep. */
  #anyJson(depth: number): unknown {
    const r = this.#rng;
    const kind = r.int(0, depth > 0 ? 7 : 4);
    switch (kind) {
      case 0:
        return null;
      case 1:
        return r.chance(0.5);
      case 2:
        return r.pick([0, -0, 1, -1, 0.1, 1e308, -1e308, 2 ** 53 + 1, 5e-324]);
      case 3:
      case 4:
        return this.#weirdString();
      case 5:
      case 6:
        return Array.from({ length: r.int(0, 3) }, () => this.#anyJson(depth - 1));
      default: {
        const obj: Record<string, unknown> = {};
        for (let i = r.int(0, 3); i > 0; i--) {
          setOwn(obj, this.#weirdKey(), this.#anyJson(depth - 1));
        }
        return obj;
      }
    }
  }

  #weirdKey(): string {
    return this.#rng.pick([
      "__proto__",
      "constructor",
      "prototype",
      "",
      "x",
      "limit",
      "workspace_id",
      "\u0000",
      "ключ",
      this.#weirdString(),
    ]);
  }

  /** Strings with control characters, lone surrogates, bidi marks, unicode, traversal. */
  #weirdString(): string {
    const r = this.#rng;
    return r.pick([
      "",
      " ",
      "plain",
      "../../etc/passwd",
      "C:\\Windows\\System32",
      "line\nbreak",
      "tab\there",
      "nul\u0000byte",
      "bell\u0007esc\u001b[2J",
      "\u0085\u2028\u2029",
      "\ud800",
      "\udc00",
      "a\ud83dz",
      "🙂🚀",
      "Ω≈ç√∫",
      "\u202eevil",
      "\u200b\u200c\u200d\ufeff",
      "<script>alert(1)</script>",
      "${jndi:ldap://x}",
      "%s%n%x",
      "' OR 1=1 --",
      "x".repeat(r.int(100, 5000)),
    ]);
  }

  #hugeString(): string {
    return "h".repeat(HUGE_CHARS - 3) + "\u00e9\ud800z";
  }

  // ---- case builders ---------------------------------------------------------------------

  #toolCall(label: string, name: string, args: unknown, isSilent: boolean): HostileCase {
    return this.#rpc(label, {
      jsonrpc: "2.0",
      id: this.#anyGoodId(),
      method: "tools/call",
      params: { name, arguments: args },
    }, isSilent);
  }

  #rpc(label: string, value: unknown, isSilent = true): HostileCase {
    return this.#text(label, JSON.stringify(value), isSilent);
  }

  #text(label: string, text: string, isSilent = true): HostileCase {
    // A raw newline would make two lines; such text is generated only inside JSON strings.
    const line = text.replaceAll("\n", " ");
    return { label, bytes: ENCODER.encode(line), isPlatformSilent: isSilent };
  }

  #raw(label: string, bytes: number[]): HostileCase {
    return { label, bytes: new Uint8Array(bytes), isPlatformSilent: true };
  }
}

/** Sets an own property, even one named `__proto__` (plain assignment would set the prototype). */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Whether `args` breaks the JSON types its tool's schema asks for (so no handler runs). */
function breaksTypes(tool: ToolShape, args: Record<string, unknown>): boolean {
  const schema = tool.inputSchema;
  const props = schema.properties ?? {};
  for (const name of schema.required ?? []) if (!Object.hasOwn(args, name)) return true;
  for (const [name, value] of Object.entries(args)) {
    const prop = Object.hasOwn(props, name) ? props[name] : undefined;
    if (prop === undefined) {
      if (schema.additionalProperties === false) return true;
      continue;
    }
    if (!matchesTypes(value, prop.type)) return true;
    const itemType = prop.items?.type;
    if (Array.isArray(value) && !value.every((v) => matchesTypes(v, itemType))) return true;
  }
  return false;
}

function matchesTypes(value: unknown, type: string | readonly string[] | undefined): boolean {
  if (type === undefined) return true;
  const types: readonly string[] = typeof type === "string" ? [type] : type;
  return types.some((t) => jsonTypeOf(value, t));
}

function jsonTypeOf(value: unknown, type: string): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "boolean":
      return typeof value === "boolean";
    case "array":
      return Array.isArray(value);
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    case "null":
      return value === null;
    default:
      return true;
  }
}
