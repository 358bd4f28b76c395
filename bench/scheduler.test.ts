import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { benchLine, benchNode, benchPod, DEFAULT_OPTIONS, GOAL, measureCycles, measureScheduler, optionsFromEnv, UPSTREAM_THRESHOLD } from './scheduler.ts';

describe('the scheduler benchmark', () => {
  it('takes its sizes from the environment, the issue\'s sizes by default', () => {
    assert.deepEqual(optionsFromEnv({}), DEFAULT_OPTIONS);
    assert.deepEqual(DEFAULT_OPTIONS, { nodes: 5000, pods: 10_000, clients: 20, server: 'process', events: true });
    assert.equal(optionsFromEnv({ SCHEDULER_BENCH_EVENTS: '0' }).events, false);
    assert.throws(() => optionsFromEnv({ SCHEDULER_BENCH_EVENTS: 'no' }), /0 or 1/);
    assert.deepEqual(optionsFromEnv({ SCHEDULER_BENCH_NODES: '50', SCHEDULER_BENCH_PODS: '100', SCHEDULER_BENCH_SERVER: 'in-process' }), { ...DEFAULT_OPTIONS, nodes: 50, pods: 100, server: 'in-process' });
    assert.throws(() => optionsFromEnv({ SCHEDULER_BENCH_PODS: 'lots' }), /SCHEDULER_BENCH_PODS to be a whole number/);
    assert.throws(() => optionsFromEnv({ SCHEDULER_BENCH_SERVER: 'remote' }), /process or in-process/);
  });

  it('prints a BENCH line with upstream\'s 680 pods/s as the reference and ours/680 as the ratio', () => {
    const line = benchLine(1360.4);
    assert.match(line, /^BENCH \{/);
    assert.deepEqual(JSON.parse(line.slice('BENCH '.length)), { name: 'scheduler.throughput', ours: 1360, reference: UPSTREAM_THRESHOLD, unit: 'pods/s', ratio: 2.001, goal: GOAL });
  });

  it('uses scheduler_perf\'s node and pod shapes', () => {
    assert.deepEqual(benchNode('node-0').status?.allocatable, { cpu: '4', memory: '32Gi', pods: '110' });
    assert.deepEqual(benchPod('pod-0').spec.containers[0]?.resources?.requests, { cpu: '100m', memory: '500Mi' });
  });

  it('measures the scheduler alone on a tiny cluster: every pod bound, none unschedulable', async () => {
    const result = await measureCycles({ nodes: 50, pods: 100 });
    assert.deepEqual(result.problems, []);
    assert.equal(result.bound, 100);
    assert.ok(result.podsPerSecond > 0);
    assert.equal(JSON.parse(benchLine(result.podsPerSecond, 'scheduler.alone').slice('BENCH '.length)).name, 'scheduler.alone');
  });

  for (const server of ['process', 'in-process'] as const) {
    it(`binds every pod of a tiny run (50 nodes, 100 pods, API server ${server})`, { timeout: 120_000 }, async () => {
      const result = await measureScheduler({ nodes: 50, pods: 100, clients: 4, server, events: true }, () => {});
      assert.deepEqual(result.problems, []);
      assert.equal(result.bound, 100);
      assert.ok(Number.isFinite(result.podsPerSecond) && result.podsPerSecond > 0, `expected a positive throughput, got ${result.podsPerSecond}`);
      assert.ok(Number.isFinite(result.createsPerSecond) && result.createsPerSecond > 0, `expected a positive create rate, got ${result.createsPerSecond}`);
    });
  }
});
