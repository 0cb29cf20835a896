/**
 * The assertions the tests use. JSR's @std/assert cannot be reached from our machines, so
 * tests use node:assert's strict mode through these thin names.
 */
import { strict as nodeAssert } from "node:assert";

export function assert(condition: unknown, msg?: string): asserts condition {
  nodeAssert.ok(condition, msg);
}

export function assertEquals<T>(actual: unknown, expected: T, msg?: string): asserts actual is T {
  nodeAssert.deepStrictEqual(actual, expected, msg);
}

export function assertNotEquals(actual: unknown, expected: unknown, msg?: string): void {
  nodeAssert.notDeepStrictEqual(actual, expected, msg);
}

export function assertStringIncludes(actual: string, expected: string, msg?: string): void {
  nodeAssert.ok(
    actual.includes(expected),
    msg ?? `expected ${JSON.stringify(actual)} to include ${JSON.stringify(expected)}`,
  );
}

export function assertMatch(actual: string, expected: RegExp, msg?: string): void {
  nodeAssert.match(actual, expected, msg);
}

export async function assertRejects<E extends Error = Error>(
  fn: () => Promise<unknown>,
  errorClass?: new (...args: never[]) => E,
): Promise<E> {
  try {
    await fn();
  } catch (err) {
    if (errorClass !== undefined) {
      if (err instanceof errorClass) return err;
      throw new Error(`expected ${errorClass.name}, got ${String(err)}`);
    }
    // Without a class the caller asked for any Error; E is then Error.
    const any: unknown = err instanceof Error ? err : new Error(String(err));
    return any as E;
  }
  throw new Error("expected a rejection, got none");
}

export function assertThrows(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
  throw new Error("expected a throw, got none");
}
