/** Hostile state files for the safety tests: FIFOs, links to devices and to other files. */

/** Creates a FIFO (named pipe) at `path` with mkfifo(1); opening it for reading would block. */
export async function makeFifo(path: string): Promise<void> {
  const out = await new Deno.Command("mkfifo", { args: ["-m", "600", path] }).output();
  if (!out.success) {
    throw new Error(`mkfifo ${path} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** The kinds of hostile file every state-file test tries, each made at `path` by `make`. */
export const HOSTILE_FILES: readonly { kind: string; make: (path: string) => Promise<void> }[] = [
  { kind: "a FIFO", make: makeFifo },
  { kind: "a link to /dev/zero", make: (path) => Deno.symlink("/dev/zero", path) },
];
