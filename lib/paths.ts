/**
 * The few POSIX path helpers the program needs (it ships for Linux and macOS only). Our own,
 * not node:path: loading Node compatibility for four one-line functions cost about 2.5 MB of
 * RSS at start-up (measured), against a budget of 45 MB.
 */

/** Joins path segments with "/", collapsing repeated slashes. */
export function joinPath(...parts: string[]): string {
  return parts.filter((p) => p !== "").join("/").replace(/\/{2,}/g, "/");
}

/** The last segment of `path` (trailing slashes ignored). */
export function baseName(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/** Everything before the last segment of `path`: "." for a bare name, "/" at the root. */
export function dirName(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  const cut = trimmed.lastIndexOf("/");
  if (cut < 0) return ".";
  return cut === 0 ? "/" : trimmed.slice(0, cut);
}

/** Whether `path` is absolute. */
export function isAbsolutePath(path: string): boolean {
  return path.startsWith("/");
}

/**
 * `path` (absolute) with "." and ".." segments and repeated or trailing slashes removed,
 * without touching the file system (links are not resolved: Deno.realPath does that).
 */
export function normalizePath(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return `/${out.join("/")}`;
}
