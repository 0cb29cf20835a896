import { assert, assertEquals } from "./assert.ts";
import { createClock } from "../lib/clock.ts";

/** Clock sources the test moves by hand: a monotonic counter and a wall clock that can step. */
function steppableSources() {
  const t = { mono: 5_000, wall: Date.UTC(2026, 10, 30, 12, 0, 0) };
  return {
    t,
    sources: {
      monotonicMs: () => t.mono,
      wallMs: () => t.wall,
      setTimer: () => () => {},
    },
  };
}

Deno.test("clock: when the wall clock steps back an hour, durations keep counting forward", () => {
  const { t, sources } = steppableSources();
  const clock = createClock(sources);
  const started = clock.now();
  t.mono += 30_000;
  t.wall += 30_000;
  t.wall -= 3_600_000; // NTP correction
  assertEquals(clock.now() - started, 30_000);
  assert(clock.wallNow() < started, "wall time stepped back");
  t.mono += 10_000;
  t.wall += 3_600_000 + 10_000; // and forward again
  assertEquals(clock.now() - started, 40_000);
});

Deno.test("clock: now() starts at the wall time in whole milliseconds, so values read as dates", () => {
  const { t, sources } = steppableSources();
  const clock = createClock(sources);
  assertEquals(clock.now(), t.wall);
  assertEquals(clock.wallNow(), t.wall);
  t.mono += 0.75; // performance.now has fractions; Date.now-like integers are expected
  assert(Number.isInteger(clock.now()));
});
