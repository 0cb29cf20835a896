/**
 * `make fake-platform`: the local platform simulator (the fake platform of tests/fakes, in memory)
 * served on 127.0.0.1 for manual trials with a real MCP host, no Molecule account needed. It
 * prints the PLATFORM_URL, a poll-mode workspace's ID and token, and the lines to export, then
 * takes commands on stdin (`say <text>` writes a canvas message into the inbox, `help` lists the
 * rest) and the same commands over HTTP (`POST <url>/_fake/<command>` with the argument as the
 * body), so a second shell can inject a message while the host runs. Ctrl-C or `quit` stops it.
 */
import { type Simulator, startSimulator } from "../bench/lib/simulator.ts";

/** Path prefix of the HTTP control routes (never a platform route). */
export const CONTROL_PREFIX = "/_fake/";

/** The commands, with their one-line help, in the order `help` prints them. */
export const FAKE_COMMANDS = {
  say: "say <text>      a canvas user message into the workspace inbox",
  peer: "peer <text>     a message from a peer workspace (created on first use)",
  replies: "replies         what the agent sent to the canvas user so far",
  status: "status          registrations, heartbeats, inbox polls and rows so far",
  revoke: "revoke          revoke the workspace token (the next request gets 401)",
  token: "token           mint a new token for the workspace and print it",
  help: "help            this list",
  quit: "quit            stop serving",
} as const;

/** A command name. */
export type FakeCommand = keyof typeof FAKE_COMMANDS;

/** What one command did: the text to show, and whether to stop serving. */
export interface CommandOutcome {
  text: string;
  quit: boolean;
}

/** The peer workspace `peer` sends from, created on first use. */
interface PeerSlot {
  id?: string;
}

/**
 * Runs one command line (`say hello`, `status`, …) against the simulator. Unknown commands and
 * a missing argument answer with the help text, never throw.
 */
export function runCommand(sim: Simulator, peer: PeerSlot, line: string): CommandOutcome {
  const trimmed = line.trim();
  const space = trimmed.indexOf(" ");
  const name = space < 0 ? trimmed : trimmed.slice(0, space);
  const arg = space < 0 ? "" : trimmed.slice(space + 1).trim();
  const ws = sim.workspace;
  const done = (text: string): CommandOutcome => ({ text, quit: false });
  switch (name) {
    case "say":
    case "peer": {
      if (arg === "") return done(`${name} needs a text, e.g. \`${name} hello\``);
      let from: string | null = null;
      if (name === "peer") {
        peer.id ??= sim.platform.addWorkspace({ name: "peer-agent", delivery_mode: "poll" }).id;
        from = peer.id;
      }
      const row = sim.platform.sendToInbox(ws.id, { text: arg, from });
      return done(
        `queued activity row ${row.id} (${from === null ? "canvas user" : "peer " + from})`,
      );
    }
    case "replies": {
      const sent = sim.platform.notifications.filter((n) => n.workspace_id === ws.id);
      return done(
        sent.length === 0
          ? "no reply to the canvas user yet"
          : sent.map((n, i) => `${i + 1}. ${n.message}`).join("\n"),
      );
    }
    case "status":
      return done(
        [
          `registrations ${sim.platform.registrations.length}`,
          `heartbeats ${sim.platform.heartbeats.length}`,
          `inbox polls ${sim.platform.count("GET /workspaces/:id/activity")}`,
          `activity rows ${sim.platform.activity(ws.id).length}`,
        ].join(", "),
      );
    case "revoke":
      sim.platform.revokeToken(ws.id);
      return done("every token of the workspace is revoked; mint one with `token`");
    case "token":
      return done(`new token: ${sim.platform.mintToken(ws.id)}`);
    case "quit":
      return { text: "stopping", quit: true };
    case "help":
    case "":
      return done(helpText());
    default:
      return done(`unknown command ${JSON.stringify(name)}\n${helpText()}`);
  }
}

function helpText(): string {
  return Object.values(FAKE_COMMANDS).join("\n");
}

/** The banner: where the platform listens, the workspace, and the lines to export. */
export function banner(sim: Simulator): string {
  const ws = sim.workspace;
  return [
    `fake platform listening on ${sim.url}`,
    `workspace "local-demo" (poll mode)`,
    "",
    "# in the shell that runs your MCP host, molecule-mcp doctor or molecule-mcp install:",
    `export PLATFORM_URL=${sim.url}`,
    `export WORKSPACE_ID=${ws.id}`,
    `export MOLECULE_WORKSPACE_TOKEN=${ws.token}`,
    "",
    `commands here on stdin, or from another shell: curl -d 'hello' ${sim.url}${CONTROL_PREFIX}say`,
    helpText(),
  ].join("\n");
}

/** Options for serveFakePlatform. */
export interface ServeOptions {
  /** Port to listen on (0 = a free one). */
  port?: number;
}

/** A running fake platform with its command runner. */
export interface FakePlatformServer {
  sim: Simulator;
  /** Runs one command line, as typed on stdin. */
  command(line: string): CommandOutcome;
  /** Settles when a `quit` command (stdin or HTTP) arrived. */
  quitRequested: Promise<void>;
  close(): Promise<void>;
}

/** Starts the simulator with the HTTP control routes. Needs --allow-net=127.0.0.1 and write. */
export async function serveFakePlatform(opts: ServeOptions = {}): Promise<FakePlatformServer> {
  const peer: PeerSlot = {};
  let onQuit = () => {};
  const quitRequested = new Promise<void>((resolve) => (onQuit = resolve));
  let simRef: Simulator | null = null;
  const command = (line: string): CommandOutcome => {
    if (simRef === null) return { text: "not started yet", quit: false };
    const outcome = runCommand(simRef, peer, line);
    if (outcome.quit) onQuit();
    return outcome;
  };
  const sim = await startSimulator({
    port: opts.port ?? 0,
    intercept: async (req) => {
      const path = new URL(req.url).pathname;
      if (!path.startsWith(CONTROL_PREFIX)) return null;
      const name = decodeURIComponent(path.slice(CONTROL_PREFIX.length));
      const arg = req.method === "POST" ? await req.text() : "";
      const outcome = command(`${name} ${arg}`);
      return new Response(`${outcome.text}\n`, {
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    },
  });
  simRef = sim;
  return { sim, command, quitRequested, close: () => sim.close() };
}

function writeTo(out: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) written += out.writeSync(bytes.subarray(written));
}

async function main(): Promise<void> {
  const portText = Deno.args[0] ?? "0";
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    writeTo(Deno.stderr, `port must be a number 0-65535 (0 = any free port), got ${portText}\n`);
    Deno.exit(2);
  }
  const server = await serveFakePlatform({ port });
  writeTo(Deno.stdout, `${banner(server.sim)}\n`);
  const stop = async () => {
    await server.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  server.quitRequested.then(stop);
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let pending = "";
  for await (const chunk of lines) {
    pending += chunk;
    let newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      writeTo(Deno.stdout, `${server.command(line).text}\n`);
    }
  }
  // stdin closed (e.g. started in the background): keep serving until a signal or `quit`.
  await server.quitRequested;
}

if (import.meta.main) await main();
