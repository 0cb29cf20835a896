/**
 * Reading an answer's body within a byte cap: the body is read as a stream and decoded as it
 * arrives, and reading stops (the stream is cancelled, the connection freed) as soon as the
 * cap is passed, so a platform that answers 400 MB, or never stops, costs at most the cap
 * (issue 11 item 11). Which cap each endpoint gets is decided in platform/http.ts.
 */

/** The body's text, or how far it got before it passed the cap. */
export type CappedBody =
  | { ok: true; text: string }
  | {
    ok: false;
    /** Bytes read before stopping, or the Content-Length that announced too many. */
    bytes: number;
    /** True when Content-Length alone ruled the body out (nothing was read). */
    isDeclared: boolean;
  };

/**
 * Reads `res`'s body as UTF-8 text (invalid bytes become U+FFFD, as `Response.text()` does)
 * unless it is longer than `capBytes`. Always leaves the body consumed or cancelled.
 */
export async function readCappedBody(res: Response, capBytes: number): Promise<CappedBody> {
  const declared = Number(res.headers.get("content-length") ?? "");
  if (Number.isFinite(declared) && declared > capBytes) {
    await cancelQuietly(res.body);
    return { ok: false, bytes: declared, isDeclared: true };
  }
  if (res.body === null) return { ok: true, text: "" };
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const parts: string[] = [];
  let bytes = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (bytes > capBytes) {
        await reader.cancel().catch(() => undefined); // the stream's own error is moot now
        return { ok: false, bytes, isDeclared: false };
      }
      parts.push(decoder.decode(value, { stream: true }));
    }
  } finally {
    reader.releaseLock();
  }
  parts.push(decoder.decode());
  return { ok: true, text: parts.join("") };
}

/** Cancels a body we will not read; a stream that already failed has nothing left to free. */
async function cancelQuietly(body: ReadableStream<Uint8Array> | null): Promise<void> {
  await body?.cancel().catch(() => undefined);
}
