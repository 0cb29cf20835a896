/**
 * `make demo`: the whole molecule-mcp loop on this machine, with no Molecule account. It starts
 * the local platform simulator (the fake platform on 127.0.0.1), spawns the real program with
 * the shipped permission set, and plays a scripted MCP client session step by step: register,
 * a canvas message pushed as a channel notification, wait_for_message, a reply with
 * send_message_to_user, inbox_pop, and an empty inbox_peek. Then it stops everything and
 * removes the temp state directory.
 */
import { McpClient, type ToolCallResult } from "../bench/lib/mcp_client.ts";
import { activityIdOf, CHANNEL_METHOD, waitFor } from "../bench/lib/session.ts";
import { type Simulator, startSimulator } from "../bench/lib/simulator.ts";

/** The step headings, in the order the demo prints them. */
export const DEMO_STEPS = [
  "Step 1. Start the local platform simulator",
  "Step 2. Start molecule-mcp and open an MCP session",
  "Step 3. Register: what the platform received",
  "Step 4. A canvas message arrives as a push notification",
  "Step 5. wait_for_message: the same message on the poll path",
  "Step 6. Reply with send_message_to_user",
  "Step 7. inbox_pop: acknowledge the message",
  "Step 8. inbox_peek: the inbox is empty",
  "Step 9. Clean up",
] as const;

/** What the canvas user types in the demo. */
export const DEMO_USER_MESSAGE = "Hi! Could you summarise last night's build failures for me?";
/** The agent's reply in the demo. */
export const DEMO_REPLY =
  "Two builds failed: lint (a missing semicolon) and e2e (a flaky timeout). Fixes are on the way.";

/** Poll interval the demo gives the program: the minimum, so the push arrives within ~1 s. */
const DEMO_POLL_INTERVAL_SECS = 1;
/** Longest wait for any one thing the demo expects (registration, a push). */
const STEP_TIMEOUT_MS = 15_000;

/** Options for runDemo. */
export interface DemoOptions {
  /** Where the walkthrough text goes (default: stdout). */
  write?: (text: string) => void;
}

/** How the demo ended. */
export interface DemoResult {
  /** The program's exit code after stdin EOF (0 when it stopped cleanly). */
  exitCode: number;
  /** The temp state directory the program used; removed by the time runDemo returns. */
  stateDir: string;
}

/** Plays the walkthrough. Throws (after cleaning up) when a step does not happen. */
export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const out = new Printer(opts.write ?? writeStdout);
  out.title("molecule-mcp demo: the whole loop on this machine, no Molecule account needed");

  out.step(0);
  const sim = await startSimulator({ workspaceName: "demo-agent" });
  let client: McpClient | null = null;
  let exitCode = -1;
  try {
    const ws = sim.workspace;
    out.say(`An in-memory Molecule platform now listens on ${sim.url}.`);
    out.say(`It has one workspace, "demo-agent" (id ${ws.id}), set to poll delivery,`);
    out.say(`and a workspace token (${ws.token.slice(0, 6)}…) for molecule-mcp to use.`);

    out.step(1);
    const extraEnv = {
      MOLECULE_MCP_POLL_INTERVAL_SECS: String(DEMO_POLL_INTERVAL_SECS),
      MOLECULE_AGENT_NAME: "demo-agent",
      MOLECULE_AGENT_SKILLS: "summarise,triage",
    };
    client = McpClient.start({ env: sim.programEnv(extraEnv) });
    const init = await client.initialize("molecule-demo");
    await showSession(out, { sim, client, init, extraEnv });

    out.step(2);
    await waitFor(() => sim.platform.registrations.length > 0, STEP_TIMEOUT_MS, "registration");
    out.say("molecule-mcp registered the workspace at start-up (and heartbeats every 20 s).");
    out.say("POST /registry/register, body as the platform received it:");
    out.block(JSON.stringify(sim.platform.registrations[0]?.body, null, 2));

    out.step(3);
    const arrived = await showPush(out, sim, client);

    out.step(4);
    out.say("Hosts without push (Cursor, Codex, …) call wait_for_message at each turn instead.");
    const waited = await call(out, client, "wait_for_message", { timeout_secs: 5 });
    out.say("It returned at once because the inbox holds a message, and did not remove it.");
    if (!waited.text.includes(arrived)) {
      throw new Error("wait_for_message returned another message");
    }

    out.step(5);
    out.say("The agent answers the canvas user, as the push's footer told it to:");
    await call(out, client, "send_message_to_user", { message: DEMO_REPLY });
    const notify = sim.platform.notifications.at(-1);
    if (notify?.message !== DEMO_REPLY) throw new Error("the platform did not receive the reply");
    out.say(`POST /workspaces/${ws.id}/notify, as the platform received it:`);
    out.block(JSON.stringify(notify, null, 2));

    out.step(6);
    out.say("Having replied, the agent acknowledges the message so it is never delivered again:");
    await call(out, client, "inbox_pop", { activity_id: arrived });

    out.step(7);
    const peek = await call(out, client, "inbox_peek", {});
    if (peek.text.trim() !== "[]") throw new Error(`the inbox is not empty: ${peek.text}`);
    out.say("Nothing left: the loop is complete.");

    out.step(8);
    exitCode = await client.close();
    client = null;
    out.say(
      `molecule-mcp stopped on stdin EOF, as it does when the host exits (exit ${exitCode}).`,
    );
  } finally {
    await client?.close();
    await sim.close();
  }
  out.say(`Simulator closed; state directory ${sim.stateDir} removed.`);
  out.say("");
  out.say(`Next: connect a real workspace: README.md, "Install" then "Configure your MCP host".`);
  return { exitCode, stateDir: sim.stateDir };
}

async function showSession(
  out: Printer,
  { sim, client, init, extraEnv }: {
    sim: Simulator;
    client: McpClient;
    init: Record<string, unknown>;
    extraEnv: Record<string, string>;
  },
): Promise<void> {
  const shownEnv = {
    ...sim.programEnv(extraEnv),
    MOLECULE_WORKSPACE_TOKEN: "<token>",
    CONFIGS_DIR: "<temp dir>",
  };
  const vars = Object.entries(shownEnv).map(([k, v]) => `${k}=${v}`);
  out.say("The host (here: this script) spawns the server and speaks MCP on its stdin/stdout:");
  out.block("$ " + [...vars, client.commandLine].join(" \\\n    "));
  const listed = await client.request("tools/list");
  const tools = Array.isArray(listed.tools) ? listed.tools : [];
  const names = tools.map((t) => (t as Record<string, unknown>).name).join(", ");
  const server = init.serverInfo as Record<string, unknown> | undefined;
  const caps = init.capabilities as Record<string, unknown> | undefined;
  const experimental = Object.keys((caps?.experimental ?? {}) as Record<string, unknown>);
  out.say(
    `→ initialize  ← server ${server?.name} ${server?.version}, protocol ${init.protocolVersion}, ` +
      `experimental capabilities: ${experimental.join(", ") || "none"} (claude/channel = push)`,
  );
  out.say(`→ tools/list  ← ${tools.length} tools: ${names}`);
}

/** Writes a canvas message at the platform and prints the push; returns its activity id. */
async function showPush(out: Printer, sim: Simulator, client: McpClient): Promise<string> {
  out.say(`The canvas user types: "${DEMO_USER_MESSAGE}"`);
  out.say("The platform stores it as an a2a_receive row; molecule-mcp polls the activity feed");
  out.say(
    `(every ${DEMO_POLL_INTERVAL_SECS} s here, 5 s by default), queues it durably, then pushes:`,
  );
  const pushed = client.nextNotification(CHANNEL_METHOD, STEP_TIMEOUT_MS);
  const t0 = performance.now();
  const row = sim.platform.sendToInbox(sim.workspace.id, { text: DEMO_USER_MESSAGE });
  const push = await pushed;
  if (activityIdOf(push) !== row.id) throw new Error("the push carries another activity id");
  const meta = push.params.meta as Record<string, unknown>;
  const content = typeof push.params.content === "string" ? push.params.content : "";
  out.say(`← ${CHANNEL_METHOD} (${Math.round(push.atMs - t0)} ms after the write)`);
  out.block(
    [
      `meta: ${Object.entries(meta).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ")}`,
      "content:",
      ...content.split("\n").map((line) => `  | ${line}`),
    ].join("\n"),
  );
  out.say('Claude Code shows this to the agent as a <channel source="molecule" …> tag.');
  return row.id;
}

/** Calls a tool, printing the call and its result; throws when the tool reports an error. */
async function call(
  out: Printer,
  client: McpClient,
  name: string,
  args: Record<string, unknown>,
): Promise<ToolCallResult> {
  out.say(`→ tools/call ${name} ${JSON.stringify(args)}`);
  const result = await client.callTool(name, args);
  out.block(`← ${result.text.replaceAll("\n", "\n  ")}`);
  if (result.isError) throw new Error(`${name} failed: ${result.text}`);
  return result;
}

/** Formats the walkthrough: step headings, explanations, indented blocks. */
class Printer {
  #write: (text: string) => void;

  constructor(write: (text: string) => void) {
    this.#write = write;
  }

  title(text: string): void {
    this.#write(`${text}\n${"=".repeat(text.length)}\n`);
  }

  step(index: number): void {
    this.#write(`\n${DEMO_STEPS[index]}\n`);
  }

  say(text: string): void {
    this.#write(text === "" ? "\n" : `  ${text}\n`);
  }

  block(text: string): void {
    this.#write(text.split("\n").map((line) => `      ${line}\n`).join(""));
  }
}

function writeStdout(text: string): void {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}

if (import.meta.main) {
  let code = 0;
  try {
    const result = await runDemo();
    code = result.exitCode === 0 ? 0 : 1;
  } catch (err) {
    const text = `\ndemo failed: ${err instanceof Error ? err.message : String(err)}\n`;
    Deno.stderr.writeSync(new TextEncoder().encode(text));
    code = 1;
  }
  Deno.exit(code);
}
