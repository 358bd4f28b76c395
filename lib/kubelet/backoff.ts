/**
 * The restart back-off behind CrashLoopBackOff: a container that keeps
 * exiting is restarted after 10 s, then 20 s, 40 s ... up to 5 minutes,
 * the kubelet's defaults. A container that ran for 10 minutes without
 * exiting has proved itself, and its back-off starts from 10 s again.
 */

/** The kubelet's defaults. */
export const INITIAL_BACKOFF_MS = 10_000;
export const MAX_BACKOFF_MS = 300_000;
/** Running this long without exiting resets the back-off (twice the maximum, as upstream). */
export const BACKOFF_RESET_MS = 2 * MAX_BACKOFF_MS;

// #region crash-loop-delay
/** How long to wait before the restart that follows the `restarts`-th exit in a row (1 → 10 s, 2 → 20 s, ... capped at 5 min). */
export function crashLoopDelayMs(restarts: number): number {
  if (restarts <= 0) return 0;
  // Why a cap on the exponent: 2 ** 1000 is Infinity, and the cap is reached long before.
  return Math.min(MAX_BACKOFF_MS, INITIAL_BACKOFF_MS * 2 ** Math.min(restarts - 1, 30));
}
// #endregion crash-loop-delay

/** Whether a container that ran from `startedAt` to `finishedAt` (ms) ran long enough to reset its back-off. */
export function resetsBackoff(startedAt: number, finishedAt: number): boolean {
  return finishedAt - startedAt >= BACKOFF_RESET_MS;
}
