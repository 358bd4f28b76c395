/**
 * The restart back-off behind CrashLoopBackOff. The first time a container
 * exits, the kubelet restarts it at once; if it exits again, the kubelet
 * waits 10 s before the next restart, then 20 s, 40 s ... up to 5 minutes,
 * its defaults. While it waits, the container's state is `waiting` with the
 * reason CrashLoopBackOff. Once a container has gone 10 minutes between two
 * exits, it has proved itself, and its back-off starts over.
 */

/** The kubelet's defaults. */
export const INITIAL_BACKOFF_MS = 10_000;
export const MAX_BACKOFF_MS = 300_000;
/** Two exits this far apart reset the back-off (twice the maximum, as upstream). */
export const BACKOFF_RESET_MS = 2 * MAX_BACKOFF_MS;

// #region crash-loop-delay
/** How long to wait before restarting a container that has now exited `exits` times in a row (1 → at once, 2 → 10 s, 3 → 20 s, ... capped at 5 min). */
export function crashLoopDelayMs(exits: number): number {
  // Why no wait after the first exit: one crash may be bad luck; the back-off starts with the second.
  if (exits <= 1) return 0;
  return Math.min(MAX_BACKOFF_MS, INITIAL_BACKOFF_MS * 2 ** Math.min(exits - 2, 30));
}
// #endregion crash-loop-delay

/** Whether an exit at `finishedAt` comes long enough after the previous one (`previousExit`, ms) to start the back-off over. */
export function resetsBackoff(previousExit: number, finishedAt: number): boolean {
  return finishedAt - previousExit >= BACKOFF_RESET_MS;
}

/** The delay as the kubelet writes it in its messages: "10s", "20s", "1m20s", "5m0s" (Go's time.Duration). */
export function formatBackoff(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  return `${Math.floor(seconds / 60)}m${seconds % 60}s`;
}
