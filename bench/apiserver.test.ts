import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { benchLine, measureApiServer, optionsFromEnv, ratioOf, DEFAULT_OPTIONS } from './apiserver.ts';

/** Every figure the benchmark reports, in order. */
const NAMES = ['create', 'get', 'list', 'update'].flatMap((verb) => ['p50', 'p99', 'sli.p99', 'throughput'].map((f) => `apiserver.${verb}.${f}`)).concat(['apiserver.watch.fanout.p50', 'apiserver.watch.fanout.p99']);

describe('the API server benchmark', () => {
  it('takes its sizes from the environment, the issue\'s sizes by default', () => {
    assert.deepEqual(optionsFromEnv({}), DEFAULT_OPTIONS);
    assert.deepEqual(optionsFromEnv({ APISERVER_BENCH_PODS: '10', APISERVER_BENCH_WATCHERS: '2', APISERVER_BENCH_SERVER: 'in-process' }), {
      ...DEFAULT_OPTIONS,
      pods: 10,
      watchers: 2,
      server: 'in-process',
    });
    assert.throws(() => optionsFromEnv({ APISERVER_BENCH_CLIENTS: 'many' }), /APISERVER_BENCH_CLIENTS to be a whole number/);
    assert.throws(() => optionsFromEnv({ APISERVER_BENCH_SERVER: 'remote' }), /process or in-process/);
  });

  it('prints a BENCH line with the SLO as the reference and SLO/ours as the ratio', () => {
    const line = benchLine({ name: 'apiserver.create.p99', ours: 8, reference: 1000, unit: 'ms', goal: 50 });
    assert.match(line, /^BENCH \{/);
    assert.deepEqual(JSON.parse(line.slice('BENCH '.length)), { name: 'apiserver.create.p99', ours: 8, reference: 1000, unit: 'ms', ratio: 125, goal: 50 });
    assert.equal(ratioOf({ name: 'x', ours: 5, reference: null, unit: 'requests/s', goal: null }), null);
  });

  for (const server of ['process', 'in-process'] as const) {
    it(`measures every verb and the watch fan-out with tiny sizes (API server ${server})`, { timeout: 120_000 }, async () => {
      const result = await measureApiServer({ pods: 12, clients: 3, watchers: 4, lists: 3, rounds: 1, server }, () => {});
      assert.deepEqual(result.problems, [], 'every watcher should see every ADDED and MODIFIED event');
      assert.deepEqual(result.figures.map((f) => f.name), NAMES);
      for (const f of result.figures) {
        assert.ok(Number.isFinite(f.ours) && f.ours >= 0, `${f.name}: expected a finite figure, got ${f.ours}`);
        const parsed = JSON.parse(benchLine(f).slice('BENCH '.length)) as Record<string, unknown>;
        assert.deepEqual(Object.keys(parsed), ['name', 'ours', 'reference', 'unit', 'ratio', 'goal']);
        if (f.unit === 'ms') assert.equal(parsed.reference, f.name.startsWith('apiserver.list.') ? 5000 : 1000);
        else assert.equal(parsed.reference, null);
      }
    });
  }
});
