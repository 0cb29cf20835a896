import { assertEquals } from "./assert.ts";
import { parseUuid } from "../lib/uuid.ts";

Deno.test("uuid: ids are trimmed and lowercased, anything else is refused", () => {
  assertEquals(
    parseUuid(" 0B6A43A0-3C1E-4A8E-9F4E-2B1D9C7E5A10 "),
    "0b6a43a0-3c1e-4a8e-9f4e-2b1d9c7e5a10",
  );
  const id = "0b6a43a0-3c1e-4a8e-9f4e-2b1d9c7e5a10";
  for (const raw of ["../../foo", "", `${id}x`, `${id}\n`.repeat(2), `"${id}"`, 5, null]) {
    assertEquals(parseUuid(raw), null, String(raw));
  }
});
