/**
 * What a probe's result means for a container, as the kubelet's probe
 * workers decide it. One failed probe proves little (a slow GC pause, a busy
 * moment), so a result only counts once it has repeated: `failureThreshold`
 * failures in a row (default 3) or `successThreshold` successes in a row
 * (default 1). Then a failing liveness probe restarts the container, and a
 * readiness probe takes the Pod out of its Services' endpoints or puts it
 * back.
 */
import type { Probe } from '../api/types.ts';

/** The kubelet's probe defaults. */
export const PROBE_DEFAULTS = { initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 } as const;

/** One probe worker's memory: the result in force, and how many times in a row the last raw result came. */
export interface ProbeTrack {
  /** The result the kubelet acts on; undefined until the first one counts. */
  current: 'success' | 'failure' | undefined;
  last: 'success' | 'failure' | undefined;
  run: number;
}

/** What the kubelet does after one probe. */
export type ProbeAction = 'none' | 'restartContainer' | 'markReady' | 'markNotReady';

// #region probe-action
/** Folds one raw probe result into the track, and says what the kubelet must do now. */
export function applyProbeResult(kind: 'liveness' | 'readiness', probe: Probe, track: ProbeTrack, result: 'success' | 'failure'): { track: ProbeTrack; action: ProbeAction } {
  const run = result === track.last ? track.run + 1 : 1;
  const threshold = result === 'failure' ? probe.failureThreshold ?? PROBE_DEFAULTS.failureThreshold : probe.successThreshold ?? PROBE_DEFAULTS.successThreshold;
  // Why wait for the threshold: until then, the result in force stays as it was.
  if (run < threshold) return { track: { current: track.current, last: result, run }, action: 'none' };
  if (kind === 'liveness') {
    // Why reset the run: the restarted container starts its count afresh, as upstream's worker does.
    if (result === 'failure') return { track: { current: 'failure', last: undefined, run: 0 }, action: 'restartContainer' };
    return { track: { current: 'success', last: result, run }, action: 'none' };
  }
  if (result === track.current) return { track: { current: result, last: result, run }, action: 'none' };
  return { track: { current: result, last: result, run }, action: result === 'success' ? 'markReady' : 'markNotReady' };
}
// #endregion probe-action

/** A new track, before the first probe. */
export function newProbeTrack(): ProbeTrack {
  return { current: undefined, last: undefined, run: 0 };
}
