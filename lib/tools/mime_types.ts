/**
 * Picks the MIME type of an attachment from its file extension, the way upstream's client did
 * (a small table, else application/octet-stream). The canvas uses it to choose how to show the
 * chip; it never decides whether a file may be sent.
 */

/** Sent when the extension is missing or unknown. */
export const DEFAULT_MIME_TYPE = "application/octet-stream";

/** Extension (lower case, no dot) → MIME type: what agents commonly attach. */
const BY_EXTENSION: Readonly<Record<string, string>> = {
  txt: "text/plain",
  log: "text/plain",
  md: "text/markdown",
  csv: "text/csv",
  tsv: "text/tab-separated-values",
  html: "text/html",
  htm: "text/html",
  css: "text/css",
  xml: "application/xml",
  json: "application/json",
  yaml: "application/yaml",
  yml: "application/yaml",
  js: "text/javascript",
  ts: "text/plain",
  py: "text/x-python",
  sh: "application/x-sh",
  pdf: "application/pdf",
  zip: "application/zip",
  gz: "application/gzip",
  tar: "application/x-tar",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  svg: "image/svg+xml",
  mp3: "audio/mpeg",
  wav: "audio/wav",
  mp4: "video/mp4",
  webm: "video/webm",
  doc: "application/msword",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  xls: "application/vnd.ms-excel",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  ppt: "application/vnd.ms-powerpoint",
  pptx: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
};

/** The MIME type for `fileName` by its last extension (case-insensitive), else octet-stream. */
export function mimeTypeFor(fileName: string): string {
  const dot = fileName.lastIndexOf(".");
  if (dot <= 0 || dot === fileName.length - 1) return DEFAULT_MIME_TYPE;
  const ext = fileName.slice(dot + 1).toLowerCase();
  return Object.hasOwn(BY_EXTENSION, ext)
    ? BY_EXTENSION[ext] ?? DEFAULT_MIME_TYPE
    : DEFAULT_MIME_TYPE;
}
