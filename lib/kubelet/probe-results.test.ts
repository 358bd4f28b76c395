import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Probe } from '../api/types.ts';
import { applyProbeResult, newProbeTrack, type ProbeAction } from './probe-results.ts';

/** Runs a series of raw results through a fresh track; returns the actions, one per result. */
function actions(kind: 'liveness' | 'readiness', probe: Probe, results: Array<'success' | 'failure'>): ProbeAction[] {
  let track = newProbeTrack();
  return results.map((result) => {
    const next = applyProbeResult(kind, probe, track, result);
    track = next.track;
    return next.action;
  });
}

describe('what a probe result makes the kubelet do', () => {
  const httpGet = { port: 8080 };

  it('A liveness probe restarts the container only after 3 failures in a row (the default threshold).', () => {
    assert.deepEqual(actions('liveness', { httpGet }, ['failure', 'failure', 'failure']), ['none', 'none', 'restartContainer']);
  });

  it('A success between failures starts the count again.', () => {
    assert.deepEqual(actions('liveness', { httpGet }, ['failure', 'failure', 'success', 'failure', 'failure', 'failure']), ['none', 'none', 'none', 'none', 'none', 'restartContainer']);
  });

  it('After a restart, the liveness count starts from zero.', () => {
    assert.deepEqual(actions('liveness', { httpGet, failureThreshold: 2 }, ['failure', 'failure', 'failure', 'failure']), ['none', 'restartContainer', 'none', 'restartContainer']);
  });

  it('A readiness probe marks the Pod ready at the first success, and not ready after failureThreshold failures.', () => {
    assert.deepEqual(actions('readiness', { httpGet }, ['success', 'success', 'failure', 'failure', 'failure', 'failure', 'success']), ['markReady', 'none', 'none', 'none', 'markNotReady', 'none', 'markReady']);
  });

  it('With successThreshold 2, readiness needs two successes in a row.', () => {
    assert.deepEqual(actions('readiness', { httpGet, successThreshold: 2 }, ['success', 'failure', 'success', 'success']), ['none', 'none', 'none', 'markReady']);
  });
});
