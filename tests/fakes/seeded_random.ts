/**
 * A small seeded PRNG (mulberry32) for the fault and fuzz suites: the same seed replays the same
 * run, so a failure is reproduced by setting the seed the test printed. Not for cryptography.
 */

/** A reproducible source of random choices. */
export class SeededRandom {
  /** The seed this generator started from (print it so a failing run can be replayed). */
  readonly seed: number;
  #state: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
      throw new RangeError(`seed must be an integer in [0, 2^32): got ${seed}`);
    }
    this.seed = seed;
    this.#state = seed;
  }

  /** Uniform in [0, 1) (mulberry32). */
  next(): number {
    this.#state = (this.#state + 0x6d2b_79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [min, max] (both included). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new RangeError("pick needs a non-empty list");
    return item;
  }

  /** A new generator whose seed is drawn from this one (independent streams per part). */
  fork(): SeededRandom {
    return new SeededRandom(Math.floor(this.next() * 4_294_967_296));
  }
}

/**
 * The seed for a suite: the environment variable `name` when set (to replay a failure),
 * else `fallback` (the fixed default that `make test` runs).
 */
export function suiteSeed(name: string, fallback: number): number {
  const raw = Deno.env.get(name);
  if (raw === undefined || raw.trim() === "") return fallback;
  const seed = Number(raw);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new RangeError(`${name} must be an integer in [0, 2^32): got "${raw}"`);
  }
  return seed;
}

/** Whether FAULT_SUITE=full asks for the long versions of the fault and fuzz suites. */
export function isFullSuite(): boolean {
  return Deno.env.get("FAULT_SUITE") === "full";
}
