/**
 * `molecule-mcp doctor`: checks the setup in order and prints one verdict per check, each with
 * a `next:` step, so an operator whose host shows the server as connected while nothing arrives
 * can see which link is broken (upstream f01f3740, reworked: never a register, which would
 * overwrite the agent card). This module owns the report: the order of the checks, turning a
 * check that throws into [BUG], the exit code and the text (colour on a TTY only). The checks
 * themselves live in cli/doctor_checks.ts (local), cli/doctor_network.ts (per workspace) and
 * cli/doctor_uploads.ts (per workspace's fetched uploads folder, read only).
 * Printing is main.ts's job; nothing here opens the MCP transport.
 */
import type { Clock } from "../clock.ts";
import type { Env } from "../config.ts";
import { Redactor } from "../redact.ts";
import type { HttpClientDeps } from "../platform/http_client.ts";
import {
  checkConfiguration,
  checkStateDir,
  checkVersion,
  type LocalFindings,
  type LockProbe,
} from "./doctor_checks.ts";
import type { CheckResult, CheckStatus } from "./doctor_result.ts";
import { checkWorkspace, type DoctorWorkspace, workspaceLabel } from "./doctor_network.ts";
import { checkUploads } from "./doctor_uploads.ts";

/** What doctor reports: every result in order, and the exit code (0 no FAIL, 1 otherwise). */
export interface DoctorReport {
  results: CheckResult[];
  exitCode: 0 | 1;
  /** Secrets the text must never show (the tokens), for renderReport. */
  secrets: string[];
}

/** What doctor reads: the same environment the server reads, plus facts about the program. */
export interface DoctorOptions {
  env: Env;
  version: string;
  /** e.g. "Deno 2.9.6, linux x86_64, compiled binary". */
  runtime: string;
}

/** Effects doctor needs; main.ts passes the real ones, tests a temp dir and a served fake. */
export interface DoctorDeps {
  clock: Clock;
  /** The same pieces the server builds its fetch from (custom CA / proxy honoured). */
  http: HttpClientDeps;
  /** Whether another process holds the inbox lock file; default: a shared flock probe. */
  probeLock?: LockProbe;
  /** Tests point the in-container default elsewhere (see state/state_dir.ts). */
  containerDir?: string;
}

/**
 * Runs every check in order. Never throws: a check that throws becomes a `[BUG]` result that
 * counts as a failure. Network checks run per configured workspace (one today; the list is
 * where several will plug in).
 */
export async function runDoctor(opts: DoctorOptions, deps: DoctorDeps): Promise<DoctorReport> {
  const results: CheckResult[] = [];
  const secrets: string[] = [];
  const guard = async <T>(label: string, run: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await run();
    } catch (err) {
      results.push(bugResult(label, err));
      return undefined;
    }
  };

  await guard("version", () => {
    results.push(checkVersion(opts.version, opts.runtime));
    return Promise.resolve();
  });
  const local: LocalFindings | undefined = await guard("configuration", async () => {
    const found = await checkConfiguration(opts.env, deps);
    results.push(...found.results);
    return found;
  });
  secrets.push(...local?.secrets ?? []);
  await guard("state directory", async () => {
    const ids = (local?.workspaces ?? []).map((w) => w.id);
    results.push(await checkStateDir(local?.stateDir, ids, deps.probeLock));
  });

  const workspaces: DoctorWorkspace[] = local?.workspaces ?? [];
  if (local === undefined || workspaces.length === 0) {
    results.push({
      status: "skip",
      label: "platform checks",
      message: "skipped: the configuration has problems (see above)",
      next: "fix the configuration, then run `molecule-mcp doctor` again",
    });
  }
  const summaries: CheckResult[] = [];
  if (local !== undefined) {
    const network = { clock: deps.clock, fetch: local.fetch };
    // The state directory's owner, read once for every workspace's uploads check. The directory
    // was checked to be ours (state/state_dir.ts): its owner is us.
    let stateDirUid: Promise<number | null> | undefined;
    for (const workspace of workspaces) {
      const before = results.length;
      await guard(workspaceLabel("platform checks", workspace), async () => {
        results.push(...await checkWorkspace(workspace, network));
      });
      await guard(workspaceLabel("fetched uploads", workspace), async () => {
        const verdict = await checkUploads(workspace.id, workspace.uploads, {
          nowMs: deps.clock.wallNow(), // file times are wall times
          ownerUid: await (stateDirUid ??= Deno.lstat(workspace.stateDir).then((i) => i.uid)),
        });
        results.push({ ...verdict, label: workspaceLabel("fetched uploads", workspace) });
      });
      summaries.push(summarise(workspace, results.slice(before)));
    }
    local.closeHttp();
  }
  results.push(...summaries);

  const failed = results.some((r) => r.status === "fail" || r.status === "bug");
  return { results, exitCode: failed ? 1 : 0, secrets };
}

function summarise(workspace: DoctorWorkspace, own: CheckResult[]): CheckResult {
  const failed = own.filter((r) => r.status === "fail" || r.status === "bug");
  const warned = own.filter((r) => r.status === "warn");
  const label = `workspace ${workspace.id.slice(0, 8)}`;
  const where = `on ${workspace.platformUrl}`;
  if (failed.length > 0) {
    return {
      status: "fail",
      label,
      message: `${where}: not working; failed: ${failed.map((r) => r.label).join(", ")}`,
      next: "fix the first failed check above; the ones after it often follow from it",
    };
  }
  if (warned.length > 0) {
    return {
      status: "warn",
      label,
      message: `${where}: working, with ${warned.length} warning(s) (${
        warned.map((r) => r.label).join(", ")
      })`,
    };
  }
  return { status: "ok", label, message: `${where}: ready to receive and answer messages` };
}

function bugResult(label: string, err: unknown): CheckResult {
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return {
    status: "bug",
    label,
    message: `the check itself failed (${what})`,
    next: "this is a bug in molecule-mcp: please report it with this output",
  };
}

const TAGS: Record<CheckStatus, string> = {
  ok: "[OK]",
  warn: "[WARN]",
  fail: "[FAIL]",
  skip: "[SKIP]",
  bug: "[BUG]",
};
/** ANSI SGR colours: green, yellow, red, dim, red. */
const COLOURS: Record<CheckStatus, string> = {
  ok: "32",
  warn: "33",
  fail: "31",
  skip: "2",
  bug: "31",
};

/**
 * The report as text (ends with a newline). `colour` is for a terminal: main.ts sets it only
 * when stdout is a TTY and NO_COLOR is unset or empty (no-color.org). Every line passes the
 * one redaction step, so a token can never show, whatever a platform answer carried.
 */
export function renderReport(report: DoctorReport, opts: { colour: boolean }): string {
  const lines: string[] = [];
  for (const r of report.results) {
    const tag = opts.colour ? `\x1b[${COLOURS[r.status]}m${TAGS[r.status]}\x1b[0m` : TAGS[r.status];
    lines.push(`${tag} ${r.label}: ${r.message}`);
    for (const detail of r.details ?? []) lines.push(`    ${detail}`);
    if (r.next !== undefined) lines.push(`    next: ${r.next}`);
  }
  const count = (s: CheckStatus) => report.results.filter((r) => r.status === s).length;
  const failures = count("fail") + count("bug");
  lines.push(
    failures === 0
      ? `No failures (${count("warn")} warning(s)). Exit code 0.`
      : `${failures} failure(s), ${count("warn")} warning(s). Exit code 1.`,
  );
  return new Redactor(report.secrets).redact(lines.join("\n")) + "\n";
}
