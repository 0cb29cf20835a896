/**
 * Reading attachment files safely: each file is opened once, checked with fstat on the open
 * handle (a regular file within the cap), and read up to the cap and no further, so a file
 * swapped for a link to /dev/zero, or one that grows, between the check and the read cannot
 * make the read unbounded (issue 10 item 10). Which files may be read at all is
 * attachment_policy.ts's job.
 */
import type { FileIdentity, RealPath } from "./attachment_policy.ts";

/** An open file as Deno.FsFile offers it (only what is needed). */
export interface ReadableFile {
  /** fstat: `nlink`, `dev` and `ino` (Deno.FileInfo's) tell a hard link of a secret apart. */
  stat(): Promise<{ isFile: boolean; size: number } & Partial<FileIdentity>>;
  read(buffer: Uint8Array): Promise<number | null>;
  close(): void;
}

/**
 * The file system as attachments see it. main.ts passes Deno.realPath, Deno.stat and
 * `Deno.open(path, { read: true })` (needs --allow-read); tests pass an in-memory one.
 */
export interface AttachmentFs {
  realPath: RealPath;
  /** Follows links; used to refuse FIFOs and devices before opening them (a FIFO blocks open). */
  stat(path: string): Promise<{ isFile: boolean } & Partial<FileIdentity>>;
  open(path: string): Promise<ReadableFile>;
  /**
   * Lists a directory (Deno.readDir): the state directory's files, compared with an
   * attachment that has several hard links. Omitted, only the token files are compared.
   */
  readDir?(path: string): AsyncIterable<{ name: string; isFile: boolean }>;
}

/** What readAtMost found: the bytes, or that the file holds more than `maxBytes`. */
export type BoundedRead = { ok: true; bytes: Uint8Array } | { ok: false; sizeAtLeast: number };

/** Largest single read: 1 MiB keeps each step small whatever the cap. */
const CHUNK_BYTES = 1024 * 1024;

/**
 * Reads `file` from its current position until EOF, but never more than `maxBytes` + 1 bytes:
 * one byte past the cap is enough to know the file is too large. Never closes `file`.
 */
export async function readAtMost(file: ReadableFile, maxBytes: number): Promise<BoundedRead> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (total <= maxBytes) {
    const buffer = new Uint8Array(Math.min(CHUNK_BYTES, maxBytes + 1 - total));
    const n = await file.read(buffer);
    if (n === null || n === 0) break;
    chunks.push(buffer.subarray(0, n));
    total += n;
  }
  if (total > maxBytes) return { ok: false, sizeAtLeast: total };
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return { ok: true, bytes };
}
