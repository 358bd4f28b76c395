/**
 * Waiting for the cluster to get somewhere, for labs, checks and tests:
 * controllers and schedulers act asynchronously, so we poll for the state
 * we want, with a generous timeout and never a fixed sleep (the machines are
 * shared and noisy), and say plainly what never came and what was seen last.
 */

/** Polls `probe` until it returns something other than undefined, null or false, and resolves to it; throws naming `what` and the last value seen after `timeoutMs`. */
export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const seen = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`expected ${what} within ${Math.round(timeoutMs / 1000)} s, but it did not happen (last seen: ${seen})`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
