/**
 * Exercise 5.4: what a probe result makes the kubelet do.
 *
 * For each container with a liveness or readiness probe, the kubelet runs a
 * probe worker: every `periodSeconds` it probes (an HTTP GET, a TCP connect,
 * or a command run in the container) and gets a raw result, success or
 * failure. One result proves little, so the worker acts only on a result
 * that has come enough times in a row:
 *   - failureThreshold failures in a row (default 3),
 *   - successThreshold successes in a row (default 1).
 * Until then, the result in force stays what it was.
 *
 * The worker remembers, in a ProbeTrack:
 *   current  the result in force (undefined before the first one counts)
 *   last     the last raw result (undefined when there is none to count on)
 *   run      how many times in a row `last` has come
 *
 * Fold `result` into `track` and say what to do now:
 *   - the run of `result` is still below its threshold → 'none' (current unchanged);
 *   - liveness, failures reach the threshold → 'restartContainer'. The
 *     container is restarted, and its count starts afresh: the new track is
 *     { current: 'failure', last: undefined, run: 0 };
 *   - liveness, successes reach the threshold → 'none' (current 'success');
 *   - readiness, the threshold is reached → 'markReady' or 'markNotReady'
 *     when the result in force changes with it, 'none' when it already was
 *     that result.
 * The thresholds come from `probe` (failureThreshold, successThreshold), or
 * PROBE_DEFAULTS when they are left out. Return a new track; do not change
 * the one you were given.
 *
 * The kubelet's probe workers call your function after every probe: a failed
 * liveness probe restarts the container because you said so, and a failing
 * readiness probe takes the Pod out of its Service.
 *
 * Run `npm run grade 5` to check your work, `npm run hint 5.4` when stuck.
 */
import type { Probe } from '#lib/api/types.ts';
import { PROBE_DEFAULTS, type ProbeAction, type ProbeTrack } from '#lib/kubelet/probe-results.ts';
import { todo } from '#lib/workbook/todo.ts';

/** Folds one raw probe result into the track, and says what the kubelet must do now. */
export function applyProbeResult(kind: 'liveness' | 'readiness', probe: Probe, track: ProbeTrack, result: 'success' | 'failure'): { track: ProbeTrack; action: ProbeAction } {
  // TODO: count the run of `result`, compare it with its threshold, then decide by kind.
  void PROBE_DEFAULTS;
  return todo('5.4');
}
