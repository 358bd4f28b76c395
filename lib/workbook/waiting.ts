/**
 * Waiting for the cluster to get somewhere, for labs and checks: controllers
 * and schedulers act asynchronously, so a lab polls for the state it wants
 * to show, and says plainly what it waited for if it never came.
 */

/** Polls `probe` until it returns a value other than undefined/false; throws naming `what` after `timeoutMs`. */
export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`expected ${what} within ${Math.round(timeoutMs / 1000)} s, but it did not happen${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
