import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { benchLine, DEFAULT_OPTIONS, measureControllers, optionsFromEnv, ratioOf } from './controllers.ts';

describe('the controllers benchmark', () => {
  it('takes its size from the environment, the issue\'s 1000 replicas by default', () => {
    assert.deepEqual(optionsFromEnv({}), DEFAULT_OPTIONS);
    assert.deepEqual(optionsFromEnv({ CONTROLLERS_BENCH_REPLICAS: '10' }), { replicas: 10 });
    assert.throws(() => optionsFromEnv({ CONTROLLERS_BENCH_REPLICAS: 'many' }), /CONTROLLERS_BENCH_REPLICAS to be a whole number/);
  });

  it('prints a BENCH line with the direct creation as the reference and direct/ours as the ratio', () => {
    const line = benchLine({ name: 'controllers.deployment.1000pods', ours: 2000, reference: 1000, unit: 'ms' });
    assert.deepEqual(JSON.parse(line.slice('BENCH '.length)), { name: 'controllers.deployment.1000pods', ours: 2000, reference: 1000, unit: 'ms', ratio: 0.5 });
    assert.equal(ratioOf({ name: 'x', ours: 0, reference: 5, unit: 'ms' }), null);
    assert.equal(ratioOf({ name: 'rate', ours: 300, reference: 600, unit: 'pods/s' }), 0.5);
  });

  it('measures a Deployment of a few replicas and the same pods made directly', { timeout: 120_000 }, async () => {
    const figures = await measureControllers({ replicas: 12 }, () => {});
    assert.deepEqual(figures.map((f) => f.name), ['controllers.deployment.12pods', 'controllers.deployment.pods_per_s']);
    for (const f of figures) {
      assert.ok(Number.isFinite(f.ours) && f.ours > 0, `${f.name}: expected a positive figure, got ${f.ours}`);
      assert.ok(f.reference !== null && Number.isFinite(f.reference) && f.reference > 0, `${f.name}: expected a positive reference, got ${f.reference}`);
    }
  });
});
