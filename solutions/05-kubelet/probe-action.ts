/**
 * Solution 5.4: what a probe result makes the kubelet do.
 */
import type { Probe } from '#lib/api/types.ts';
import { PROBE_DEFAULTS, type ProbeAction, type ProbeTrack } from '#lib/kubelet/probe-results.ts';

export function applyProbeResult(kind: 'liveness' | 'readiness', probe: Probe, track: ProbeTrack, result: 'success' | 'failure'): { track: ProbeTrack; action: ProbeAction } {
  const run = track.last === result ? track.run + 1 : 1;
  const threshold = result === 'success' ? (probe.successThreshold ?? PROBE_DEFAULTS.successThreshold) : (probe.failureThreshold ?? PROBE_DEFAULTS.failureThreshold);
  // Not enough in a row yet: remember the run, keep the result in force.
  if (run < threshold) return { track: { current: track.current, last: result, run }, action: 'none' };
  if (kind === 'liveness') {
    // A restarted container is a new container: its failures are counted from zero.
    if (result === 'failure') return { track: { current: 'failure', last: undefined, run: 0 }, action: 'restartContainer' };
    return { track: { current: 'success', last: result, run }, action: 'none' };
  }
  const action: ProbeAction = track.current === result ? 'none' : result === 'success' ? 'markReady' : 'markNotReady';
  return { track: { current: result, last: result, run }, action };
}
