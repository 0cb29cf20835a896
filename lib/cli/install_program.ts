/**
 * The command a host entry written by `install` starts: the compiled binary itself, or, when
 * this program runs from a checkout (`make run`, `deno run main.ts`), the Deno runtime running
 * it now with the shipped flags and the absolute main.ts path — the same line `make install`
 * writes into its wrapper (Makefile `install`). Never `make`: make reports every failure as its
 * own exit code 2 (a refused token, 3, would look like a configuration problem), and it looks
 * the runtime up on the host's PATH. Pure: main.ts passes what it knows about the running
 * process.
 */
import type { ProgramCommand } from "./install_hosts.ts";
import { dirName, joinPath } from "../paths.ts";

/** How this process runs, as main.ts sees it. */
export interface RunningProgram {
  /** Deno.build.standalone: true in a `deno compile` binary. */
  isCompiled: boolean;
  /** Deno.execPath(): the binary itself, or the `deno` runtime that runs main.ts (absolute). */
  execPath: string;
  /** Absolute path of the running main.ts (its checkout holds deno.json); unused when compiled. */
  mainPath: string;
  /** deno.json `runtime.v8Flags` (what `make run` and `make install` pass); unused when compiled. */
  v8Flags: string;
}

/** A host entry's program, with what the user should know about it when it runs a checkout. */
export interface HostProgram extends ProgramCommand {
  /** Said after the entry (install's notes), or undefined for the compiled binary. */
  note?: string;
}

/**
 * The program an entry starts. Compiled: the binary with no arguments. From a checkout:
 * `<runtime> run -q --no-lock --config <checkout>/deno.json -P=shipped --v8-flags=<flags>
 * <checkout>/main.ts`, every path absolute, so the entry depends neither on the host's working
 * directory nor on its PATH, and the host sees the program's own exit codes.
 */
export function hostProgram(running: RunningProgram): HostProgram {
  if (running.isCompiled) return { command: running.execPath, args: [] };
  const checkout = dirName(running.mainPath);
  return {
    command: running.execPath,
    args: [
      "run",
      "-q",
      "--no-lock",
      "--config",
      joinPath(checkout, "deno.json"),
      "-P=shipped",
      ...(running.v8Flags === "" ? [] : [`--v8-flags=${running.v8Flags}`]),
      running.mainPath,
    ],
    note: `run from the checkout ${checkout}: the entry starts its main.ts with the Deno ` +
      `at ${running.execPath}; run install again if either moves (or use a release binary)`,
  };
}
