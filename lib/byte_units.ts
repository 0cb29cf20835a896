/** Byte counts as people read them, for limits named in errors, logs and the README. */

/** `bytes` in the largest whole binary unit: "4 MiB", "512 KiB", "900 B" (rounded down). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.floor(bytes / (1024 * 1024))} MiB`;
  if (bytes >= 1024) return `${Math.floor(bytes / 1024)} KiB`;
  return `${bytes} B`;
}
