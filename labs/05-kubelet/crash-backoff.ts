/**
 * Exercise 5.2: the CrashLoopBackOff delay.
 *
 * When a container of a Pod with restartPolicy Always (or OnFailure, after a
 * failure) exits, the kubelet starts it again. If it keeps exiting, the
 * kubelet does not restart it in a tight loop: it waits longer and longer
 * between restarts, and while it waits the container's state is `waiting`
 * with the reason CrashLoopBackOff, and the message "back-off 10s restarting
 * failed container=...".
 *
 * The kubelet's defaults:
 *   - after the first exit it restarts the container at once (0 ms);
 *   - after the second exit in a row it waits 10 s;
 *   - each further exit doubles the wait: 20 s, 40 s, 80 s, 160 s ...
 *   - never more than 5 minutes (300 000 ms).
 *
 * `exits` is how many times in a row the container has now exited (1 the
 * first time). Return the wait in milliseconds. Take care with very large
 * numbers: 2 ** 2000 is Infinity, and the answer must still be 300 000.
 *
 * The kubelet's pod workers call your function each time a container exits,
 * and `kubectl describe pod` shows your delay in the container's message.
 *
 * Run `npm run grade 5` to check your work, `npm run hint 5.2` when stuck.
 */
import { todo } from '#lib/workbook/todo.ts';

/** How long to wait, in ms, before restarting a container that has now exited `exits` times in a row. */
export function crashLoopDelayMs(exits: number): number {
  // TODO: 0 after the first exit, 10 s after the second, doubling with each exit, at most 5 minutes.
  return todo('5.2');
}
