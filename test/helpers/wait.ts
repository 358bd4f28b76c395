/**
 * Waiting for a condition in tests: poll until the probe returns a value,
 * with a generous timeout, never a fixed sleep (the machine is shared and
 * noisy). On timeout the error says what was awaited and what was seen last.
 */

/** Polls `probe` until it returns something truthy, and resolves to it; rejects after `timeoutMs` with the last value seen. */
export async function eventually<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 30_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const seen = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`expected ${what} within ${timeoutMs} ms, got ${seen}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
