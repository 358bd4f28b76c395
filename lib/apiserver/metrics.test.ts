import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenAuthenticator } from './auth.ts';
import { ADMIN } from './bootstrap.ts';
import { histogramDelta, histogramQuantile, metricVerb, readHistogram, RequestMetrics } from './metrics.ts';
import { startApiServer } from './server.ts';
import { openStore } from '../store/store.ts';
import { KubeClient, PODS } from '../client/client.ts';

const labels = (verb: string) => ({ verb, group: '', version: 'v1', resource: 'pods', subresource: '', scope: 'namespace' });

describe('request metrics', () => {
  it('counts each observation in every bucket whose bound it does not exceed, as a cumulative histogram', () => {
    const metrics = new RequestMetrics();
    for (const seconds of [0.001, 0.004, 0.02, 0.3]) metrics.observe(labels('POST'), seconds, 201);
    const h = readHistogram(metrics.render(), 'apiserver_request_duration_seconds', { verb: 'POST' });
    assert.equal(h.count, 4);
    assert.deepEqual(h.buckets.slice(0, 5).map((b) => [b.le, b.count]), [[0.005, 2], [0.025, 3], [0.05, 3], [0.1, 3], [0.2, 3]]);
    assert.equal(h.buckets.at(-1)?.count, 4, 'the +Inf bucket holds every observation');
    assert.match(metrics.render(), /apiserver_request_total\{component="apiserver",group="",resource="pods",scope="namespace",subresource="",verb="POST",version="v1",code="201"\} 4/);
  });

  it('estimates a quantile by interpolating inside the bucket that holds it, as histogram_quantile does', () => {
    const h = { buckets: [{ le: 0.005, count: 50 }, { le: 0.025, count: 100 }, { le: Infinity, count: 100 }], count: 100 };
    assert.equal(histogramQuantile(0.5, h), 0.005);
    assert.ok(Math.abs(histogramQuantile(0.99, h) - (0.005 + 0.02 * (49 / 50))) < 1e-12);
    assert.ok(Number.isNaN(histogramQuantile(0.99, { buckets: [], count: 0 })), 'no observations: no quantile');
    const before = { buckets: [{ le: 0.005, count: 10 }, { le: Infinity, count: 12 }], count: 12 };
    const after = { buckets: [{ le: 0.005, count: 15 }, { le: Infinity, count: 20 }], count: 20 };
    assert.deepEqual(histogramDelta(after, before), { buckets: [{ le: 0.005, count: 5 }, { le: Infinity, count: 8 }], count: 8 });
  });

  it('names verbs as the real metric does: LIST for a list, APPLY for server-side apply, else the HTTP method', () => {
    assert.equal(metricVerb('list', 'GET', ''), 'LIST');
    assert.equal(metricVerb('get', 'GET', ''), 'GET');
    assert.equal(metricVerb('patch', 'PATCH', 'application/apply-patch+yaml'), 'APPLY');
    assert.equal(metricVerb('patch', 'PATCH', 'application/merge-patch+json'), 'PATCH');
    assert.equal(metricVerb('create', 'POST', 'application/json'), 'POST');
  });

  it('serves /metrics to the admin, with creates, gets and lists counted and watches left out', async () => {
    const store = await openStore();
    const authenticator = new TokenAuthenticator();
    authenticator.add('admin', ADMIN);
    authenticator.add('nobody', { name: 'nobody', groups: [] });
    const server = await startApiServer({ backend: store, authenticator, compactionIntervalMs: 0 });
    const admin = new KubeClient({ server: server.url, token: 'admin' });
    const nobody = new KubeClient({ server: server.url, token: 'nobody' });
    try {
      await admin.create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
      await admin.get(PODS, 'default', 'p');
      await admin.list(PODS, { namespace: 'default' });
      const watch = admin.watch(PODS, { namespace: 'default', resourceVersion: '1', timeoutSeconds: 1 }, () => {});
      await watch.done;
      const text = await admin.requestText({ method: 'GET', path: '/metrics' });
      for (const verb of ['POST', 'GET', 'LIST']) assert.equal(readHistogram(text, 'apiserver_request_duration_seconds', { verb, resource: 'pods' }).count, 1, `${verb} pods counted once`);
      assert.doesNotMatch(text, /verb="WATCH"/);
      await assert.rejects(nobody.requestText({ method: 'GET', path: '/metrics' }), /cannot get path "\/metrics"/);
    } finally {
      admin.close();
      nobody.close();
      await server.close();
      await store.close();
    }
  });
});
