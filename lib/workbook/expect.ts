/**
 * Assertions for exercise checks. Each failure says, in plain words, what was
 * expected and what came, because the grader shows it to a learner as is.
 */
import { isDeepStrictEqual, inspect } from 'node:util';

/** Thrown by a failed check; `message` is meant for the learner. */
export class CheckFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckFailure';
  }
}

/** Renders a value compactly for a failure message (Buffers as text when printable). */
export function show(value: unknown): string {
  if (Buffer.isBuffer(value)) return JSON.stringify(value.toString('utf8'));
  return inspect(value, { depth: 4, breakLength: 100, compact: 3, sorted: false });
}

/** Fails unless `actual` deeply equals `expected`; `what` names the thing being checked. */
export function expectEqual<T>(actual: unknown, expected: T, what: string): asserts actual is T {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new CheckFailure(`${what}: expected ${show(expected)}, got ${show(actual)}`);
  }
}

/** Fails unless `condition` holds; `what` says what should have been true. */
export function expectTrue(condition: unknown, what: string): asserts condition {
  if (!condition) throw new CheckFailure(what);
}

/**
 * Fails unless `fn` throws an error whose message contains `messagePart`.
 * Returns the error so a check can look further.
 */
export function expectThrows(fn: () => unknown, messagePart: string, what: string): Error {
  let result: unknown;
  try {
    result = fn();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof Error && err.name === 'TodoError') throw err;
    if (!message.includes(messagePart)) {
      throw new CheckFailure(`${what}: expected an error saying ${show(messagePart)}, got the error ${show(message)}`);
    }
    return err instanceof Error ? err : new Error(message);
  }
  throw new CheckFailure(`${what}: expected an error saying ${show(messagePart)}, but it returned ${show(result)}`);
}
