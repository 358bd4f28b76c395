/**
 * Graceful deletion of a bound Pod: DELETE only marks it (deletionTimestamp,
 * deletionGracePeriodSeconds); its kubelet may go on reporting status while
 * the containers stop; the delete completes when the kubelet confirms it
 * with a grace period of 0.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCluster, type TestCluster } from '../../test/helpers/apiserver.ts';
import type { Pod } from '../api/types.ts';
import { isNotFound } from '../client/client.ts';
import { resourceForKind } from './resources.ts';

const PODS = resourceForKind('v1', 'Pod')!;

describe('graceful deletion of a bound Pod', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startTestCluster();
  });
  after(() => cluster.stop());

  it('keeps a terminating Pod through its kubelet\'s status updates, and removes it on the kubelet\'s delete with grace 0', async () => {
    const admin = cluster.admin;
    await admin.create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { containers: [{ name: 'web', image: 'nginx:1.14.2' }] } } as Pod);
    await admin.bind('default', 'web', 'node-2');
    const marked = (await admin.delete(PODS, 'default', 'web')) as Pod;
    assert.ok(marked.metadata.deletionTimestamp, 'a bound Pod is only marked for deletion');
    assert.equal(marked.metadata.deletionGracePeriodSeconds, 30);

    const kubelet = cluster.clientAs('system:node:node-2');
    const current = await kubelet.get<Pod>(PODS, 'default', 'web');
    const updated = await kubelet.updateStatus(PODS, { ...current, status: { ...current.status, phase: 'Running' } });
    assert.equal(updated.status?.phase, 'Running', 'the status update of a terminating Pod is stored, not turned into a delete');
    assert.ok((await admin.get<Pod>(PODS, 'default', 'web')).metadata.deletionTimestamp, 'the Pod is still there, terminating');

    await kubelet.delete(PODS, 'default', 'web', { gracePeriodSeconds: 0 });
    await assert.rejects(() => admin.get(PODS, 'default', 'web'), (error) => isNotFound(error));
    kubelet.close();
  });
});

describe('binding while others write the Pod', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startTestCluster();
  });
  after(() => cluster.stop());

  it('binds an unbound Pod even when other writers change it at the same moment, as upstream re-reads and retries', async () => {
    const admin = cluster.admin;
    const scheduler = cluster.clientAs('system:kube-scheduler');
    for (let round = 0; round < 5; round++) {
      const name = `busy-${round}`;
      await admin.create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'web', image: 'nginx:1.14.2' }] } } as Pod);
      const writers = Array.from({ length: 10 }, (_, i) => admin.patch(PODS, 'default', name, { metadata: { labels: { [`w${i}`]: 'x' } } }, 'merge'));
      const [bind] = await Promise.allSettled([scheduler.bind('default', name, 'node-2'), ...writers]);
      assert.equal(bind.status, 'fulfilled', `round ${round}: the binding was refused: ${bind.status === 'rejected' ? String(bind.reason) : ''}`);
      assert.equal((await admin.get<Pod>(PODS, 'default', name)).spec.nodeName, 'node-2');
    }
    scheduler.close();
  });
});
