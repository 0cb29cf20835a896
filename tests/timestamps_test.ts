import { assertEquals } from "./assert.ts";
import { compareTimestamps, justAfter } from "../lib/timestamps.ts";

Deno.test("timestamps: Go's trimmed fractions still order by instant", () => {
  assertEquals(compareTimestamps("2026-05-01T10:11:12.1Z", "2026-05-01T10:11:12.099999Z"), 1);
  assertEquals(compareTimestamps("2026-05-01T12:11:12+02:00", "2026-05-01T10:11:12Z"), 0);
});

Deno.test("timestamps: the instant just after a row's time is one microsecond later, in UTC", () => {
  assertEquals(justAfter("2026-05-01T10:11:12.123456Z"), "2026-05-01T10:11:12.123457Z");
  assertEquals(justAfter("2026-05-01T10:11:12.999999Z"), "2026-05-01T10:11:13.000000Z");
  assertEquals(justAfter("2026-05-01T12:11:12+02:00"), "2026-05-01T10:11:12.000001Z");
  assertEquals(justAfter("yesterday"), null);
});
