/**
 * Solution 5.2: the CrashLoopBackOff delay.
 */
const INITIAL_MS = 10_000;
const MAX_MS = 300_000;

export function crashLoopDelayMs(exits: number): number {
  // The first exit is restarted at once; the back-off only starts with the second.
  if (exits <= 1) return 0;
  // Doubling stops at the cap: the loop ends long before the number could overflow.
  let delay = INITIAL_MS;
  for (let n = 2; n < exits && delay < MAX_MS; n++) delay *= 2;
  return Math.min(delay, MAX_MS);
}
