/**
 * The shape of one doctor verdict, shared by the report (cli/doctor.ts) and the checks
 * (cli/doctor_checks.ts, cli/doctor_network.ts, cli/doctor_uploads.ts), so neither imports the
 * other; and how the checks write a file mode.
 */

/** The verdict of one check. `skip` and `ok` pass; `warn` passes with a note; `fail`/`bug` fail. */
export type CheckStatus = "ok" | "warn" | "fail" | "skip" | "bug";

/** One printed check: `[STATUS] label: message`, optional indented details, then `next:`. */
export interface CheckResult {
  status: CheckStatus;
  label: string;
  message: string;
  /** Extra lines shown under the verdict (settings, problems). */
  details?: string[];
  /** What to do about it; omitted when there is nothing to do. */
  next?: string;
}

/** A file mode's permission bits as people write them for chmod: "0755". */
export function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, "0");
}
