import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  benchLine, benchPod, DEFAULT_OPTIONS, figuresOf, floorSummaries, GOAL_P99_MS, measurePods, optionsFromEnv, overFloor, percentile,
  runcSkipReason, SLO_P99_MS, summarize, type FloorSample, type PodsBenchResult,
} from './pods.ts';

const sample = (netns: number, cni: number, runc: number): FloorSample => ({ netns, cni, runc, total: netns + cni + runc });

describe('the pod startup benchmark', () => {
  it('takes its size and runtimes from the environment, the issue\'s 30 pods on sim and runc by default', () => {
    assert.deepEqual(optionsFromEnv({}), DEFAULT_OPTIONS);
    assert.deepEqual(DEFAULT_OPTIONS, { pods: 30, modes: ['sim', 'runc'], server: 'in-process' });
    assert.deepEqual(optionsFromEnv({ PODS_BENCH_PODS: '3', PODS_BENCH_MODES: 'runc', PODS_BENCH_SERVER: 'process' }), { pods: 3, modes: ['runc'], server: 'process' });
    assert.deepEqual(optionsFromEnv({ PODS_BENCH_MODES: 'runc, sim' }).modes, ['sim', 'runc']);
    assert.throws(() => optionsFromEnv({ PODS_BENCH_PODS: 'lots' }), /PODS_BENCH_PODS to be a whole number/);
    assert.throws(() => optionsFromEnv({ PODS_BENCH_PODS: '51' }), /from 1 to 50/);
    assert.throws(() => optionsFromEnv({ PODS_BENCH_MODES: 'docker' }), /sim and\/or runc/);
    assert.throws(() => optionsFromEnv({ PODS_BENCH_SERVER: 'remote' }), /in-process or process/);
  });

  it('reads percentiles by nearest rank, so that the p99 of 30 samples is the slowest one', () => {
    const thirty = Array.from({ length: 30 }, (_, i) => 30 - i);
    assert.equal(percentile(thirty, 50), 15);
    assert.equal(percentile(thirty, 99), 30);
    assert.equal(percentile([7], 99), 7);
    assert.equal(percentile(Array.from({ length: 200 }, (_, i) => i + 1), 99), 198);
    assert.deepEqual(summarize([3, 1, 2]), { count: 3, p50: 2, p99: 3, max: 3 });
    assert.throws(() => percentile([], 50), /at least one sample/);
    assert.throws(() => percentile([1], 0), /percentile in \(0, 100\]/);
  });

  it('gives ours/floor only when both are positive', () => {
    assert.equal(overFloor(300, 100), 3);
    assert.equal(overFloor(300, null), null);
    assert.equal(overFloor(300, 0), null);
    assert.equal(overFloor(0, 100), null);
  });

  it('prints a BENCH line with the SLO\'s 5 s as the reference, ours/SLO as the ratio, and ours/floor', () => {
    const line = benchLine({ name: 'pods.startup.runc.burst.p99', ours: 812.34, reference: SLO_P99_MS, goal: GOAL_P99_MS, floor: 400, floorWithCni: 500 });
    assert.match(line, /^BENCH \{/);
    assert.deepEqual(JSON.parse(line.slice('BENCH '.length)), {
      name: 'pods.startup.runc.burst.p99', ours: 812.3, reference: 5000, unit: 'ms', ratio: 0.162, goal: 1000,
      floor: 400, overFloor: 2.031, floorWithCni: 500, overFloorWithCni: 1.625,
    });
  });

  it('names a figure per runtime, pattern and percentile, and the floor\'s bare, with-CNI and CNI-ADD figures', () => {
    const floor = { bare: [sample(5, 0, 20), sample(6, 0, 30)], cni: [sample(5, 10, 20), sample(5, 40, 25)] };
    assert.deepEqual(floorSummaries(floor).cniAdd, { count: 2, p50: 10, p99: 40, max: 40 });
    const result: PodsBenchResult = {
      startup: { sim: { serial: [1, 2], burst: [3, 4] }, runc: { serial: [50, 60], burst: [70, 80] } },
      calls: {},
      floor: { serial: floor, burst: floor },
      leftovers: [],
    };
    const figures = figuresOf(result);
    assert.deepEqual(figures.map((f) => f.name), [
      'pods.startup.sim.serial.p50', 'pods.startup.sim.serial.p99', 'pods.startup.sim.burst.p50', 'pods.startup.sim.burst.p99',
      'pods.startup.runc.serial.p50', 'pods.startup.runc.serial.p99', 'pods.startup.runc.burst.p50', 'pods.startup.runc.burst.p99',
      ...['serial', 'burst'].flatMap((p) => ['bare', 'with_cni', 'cni_add'].flatMap((k) => [`pods.floor.${p}.${k}.p50`, `pods.floor.${p}.${k}.p99`])),
    ]);
    const runcP99 = figures.find((f) => f.name === 'pods.startup.runc.serial.p99')!;
    assert.deepEqual({ ours: runcP99.ours, goal: runcP99.goal, floor: runcP99.floor, floorWithCni: runcP99.floorWithCni }, { ours: 60, goal: 1000, floor: 36, floorWithCni: 70 });
    assert.equal(figures.find((f) => f.name === 'pods.startup.sim.burst.p99')!.floor, null);
    assert.equal(figures.find((f) => f.name === 'pods.floor.burst.bare.p50')!.reference, null);
  });

  it('says why runc mode is skipped: not Linux, not root, or a missing tool; never throws under CI', () => {
    assert.match(runcSkipReason({ platform: 'darwin', env: { CI: 'true' } }) ?? '', /needs Linux/);
    assert.match(runcSkipReason({ platform: 'linux', uid: 1000, env: {} }) ?? '', /needs root/);
    assert.match(runcSkipReason({ platform: 'linux', uid: 0, env: {}, locate: () => null }) ?? '', /runc is not installed/);
    assert.equal(runcSkipReason({ platform: 'linux', uid: 0, env: {}, locate: (name) => `/usr/bin/${name}` }), null);
  });

  it('binds its Pods to the benchmark node directly and runs the backend image', () => {
    const pod = benchPod('pod-0', 'bench-serial');
    assert.equal(pod.spec.nodeName, 'bench-node');
    assert.equal(pod.spec.containers[0]?.image, 'backend:v0.0.1');
  });

  it('measures 3 pods on the simulated runtime with the kubelet and prints well-formed BENCH lines', { timeout: 120_000 }, async () => {
    const result = await measurePods({ pods: 3, modes: ['sim'], server: 'in-process' }, () => {});
    assert.deepEqual(result.leftovers, []);
    for (const pattern of ['serial', 'burst'] as const) {
      const latencies = result.startup.sim?.[pattern] ?? [];
      assert.equal(latencies.length, 3, `expected 3 ${pattern} latencies, got ${JSON.stringify(latencies)}`);
      for (const ms of latencies) assert.ok(Number.isFinite(ms) && ms > 0, `expected a positive latency, got ${ms}`);
    }
    const lines = figuresOf(result).map(benchLine);
    assert.equal(lines.length, 4);
    for (const line of lines) {
      const figure = JSON.parse(line.slice('BENCH '.length)) as Record<string, unknown>;
      assert.match(String(figure.name), /^pods\.startup\.sim\.(serial|burst)\.p(50|99)$/);
      assert.equal(figure.reference, 5000);
      assert.equal(figure.unit, 'ms');
      assert.equal(typeof figure.ratio, 'number');
    }
  });
});
