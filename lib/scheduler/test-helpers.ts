/**
 * What the scheduler's tests share: waiting for a condition by polling, with
 * a generous deadline, instead of timed assertions (the machine is shared and noisy).
 */

/** Polls `check` until it returns something truthy; fails naming `what` after `ms`. */
export async function eventually<T>(check: () => T | Promise<T>, what: string | (() => string), ms = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`expected ${typeof what === 'string' ? what : what()} within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
