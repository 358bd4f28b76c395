import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerStatus, PodSpec } from '../api/types.ts';
import { crashLoopDelayMs, formatBackoff, resetsBackoff } from './backoff.ts';
import { podPhase } from './phase.ts';

const spec = (restartPolicy: PodSpec['restartPolicy'], ...names: string[]): Pick<PodSpec, 'containers' | 'restartPolicy'> => ({ restartPolicy, containers: names.map((name) => ({ name })) });
const running = (name: string): ContainerStatus => ({ name, ready: true, restartCount: 0, image: 'i', imageID: '', state: { running: {} } });
const exited = (name: string, exitCode: number): ContainerStatus => ({ name, ready: false, restartCount: 0, image: 'i', imageID: '', state: { terminated: { exitCode } } });
const waiting = (name: string, reason: string, ranBefore = false): ContainerStatus => ({ name, ready: false, restartCount: ranBefore ? 1 : 0, image: 'i', imageID: '', state: { waiting: { reason } }, ...(ranBefore ? { lastState: { terminated: { exitCode: 1 } } } : {}) });

describe('the phase of a Pod, from its containers', () => {
  const cases: Array<[string, ReturnType<typeof spec>, ContainerStatus[], string]> = [
    ['A Pod whose containers have no status yet is Pending.', spec('Always', 'a'), [], 'Pending'],
    ['A Pod whose image is still being pulled is Pending.', spec('Always', 'a'), [waiting('a', 'ContainerCreating')], 'Pending'],
    ['A Pod with one container running and one still creating is Pending.', spec('Always', 'a', 'b'), [running('a'), waiting('b', 'ContainerCreating')], 'Pending'],
    ['A Pod whose containers all run is Running.', spec('Always', 'a', 'b'), [running('a'), running('b')], 'Running'],
    ['A Pod in CrashLoopBackOff under Always is Running: its container is between restarts.', spec('Always', 'a'), [waiting('a', 'CrashLoopBackOff', true)], 'Running'],
    ['A Pod whose only container exited 0 under Always is still Running: it will be restarted.', spec('Always', 'a'), [exited('a', 0)], 'Running'],
    ['A Pod whose containers all exited 0 under OnFailure has Succeeded.', spec('OnFailure', 'a', 'b'), [exited('a', 0), exited('b', 0)], 'Succeeded'],
    ['A Pod whose containers all exited 0 under Never has Succeeded.', spec('Never', 'a'), [exited('a', 0)], 'Succeeded'],
    ['A Pod with a container that exited 1 under Never has Failed.', spec('Never', 'a', 'b'), [exited('a', 0), exited('b', 1)], 'Failed'],
    ['A Pod with a container that exited 1 under OnFailure is Running: it will be restarted.', spec('OnFailure', 'a'), [exited('a', 1)], 'Running'],
    ['A Pod with one container running and one exited under Never is Running.', spec('Never', 'a', 'b'), [running('a'), exited('b', 1)], 'Running'],
  ];
  for (const [name, podSpec, statuses, phase] of cases) {
    it(name, () => assert.equal(podPhase(podSpec, statuses), phase));
  }
});

describe('the CrashLoopBackOff delay', () => {
  it('is nothing after the first exit, 10 s after the second, doubles with each exit in a row, and stops at 5 minutes.', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 100].map(crashLoopDelayMs), [0, 0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  });

  it('is written as Go writes a duration.', () => {
    assert.deepEqual([10_000, 20_000, 80_000, 300_000].map(formatBackoff), ['10s', '20s', '1m20s', '5m0s']);
  });

  it('starts over once two exits are 10 minutes apart.', () => {
    assert.equal(resetsBackoff(0, 9 * 60_000), false);
    assert.equal(resetsBackoff(0, 10 * 60_000), true);
  });
});
