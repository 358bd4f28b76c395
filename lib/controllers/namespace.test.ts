import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConfigMap, Namespace, Pod, Service } from '../api/types.ts';
import { RESOURCE } from './informers.ts';
import { NAMESPACED_RESOURCES, NamespaceController } from './namespace.ts';
import { getOrUndefined, runController, startControllerTestCluster, testPod, waitFor, type ControllerTestCluster, type RunningTestController } from './test-helpers.ts';

describe('NAMESPACED_RESOURCES', () => {
  it('Lists the namespaced kinds a namespace can hold and none of the cluster-scoped ones.', () => {
    const names = NAMESPACED_RESOURCES.map((r) => r.resource);
    for (const expected of ['pods', 'services', 'endpoints', 'configmaps', 'events', 'leases', 'deployments', 'replicasets', 'jobs', 'roles', 'rolebindings']) {
      assert.ok(names.includes(expected), `expected ${expected} among ${names.join(', ')}`);
    }
    for (const unexpected of ['nodes', 'namespaces', 'clusterroles']) assert.ok(!names.includes(unexpected), `expected no ${unexpected}`);
  });
});

describe('NamespaceController against an API server', () => {
  let cluster: ControllerTestCluster;
  let running: RunningTestController<NamespaceController>;

  before(async () => {
    cluster = await startControllerTestCluster();
    running = await runController(cluster, (ctx, options) => new NamespaceController(ctx, options));
  });
  after(async () => {
    await running?.stop();
    await cluster?.stop();
  });

  const namespace = (name: string): Namespace => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

  it('Deleting a namespace deletes its contents and then the namespace itself.', async () => {
    const admin = cluster.admin;
    await admin.create(RESOURCE.namespaces, namespace('team-a'));
    await admin.create(RESOURCE.pods, testPod('web-1', { app: 'web' }, {}, 'team-a'));
    await admin.create(RESOURCE.pods, testPod('web-2', { app: 'web' }, {}, 'team-a'));
    await admin.create<ConfigMap>(RESOURCE.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'team-a' }, data: { a: '1' } });
    await admin.create<Service>(RESOURCE.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'team-a' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } });
    // Something in another namespace must survive.
    await admin.create<ConfigMap>(RESOURCE.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keep-me', namespace: 'default' } });

    await admin.delete(RESOURCE.namespaces, undefined, 'team-a');
    await waitFor('namespace team-a gone', async () => (await getOrUndefined(admin, RESOURCE.namespaces, undefined, 'team-a')) === undefined);
    for (const info of [RESOURCE.pods, RESOURCE.configmaps, RESOURCE.services]) {
      const left = await admin.list(info, { namespace: 'team-a' });
      assert.equal(left.items.length, 0, `expected no ${info.resource} left in team-a, got ${left.items.map((i) => i.metadata.name).join(', ')}`);
    }
    assert.ok(await getOrUndefined(admin, RESOURCE.configmaps, 'default', 'keep-me'), 'expected the ConfigMap in default to stay');
  });

  it('A Pod that terminates gracefully holds the namespace, reported in its conditions, until it is gone.', async () => {
    const admin = cluster.admin;
    await admin.create(RESOURCE.namespaces, namespace('team-b'));
    await admin.create(RESOURCE.pods, testPod('slow', { app: 'slow' }, { nodeName: 'node-2', terminationGracePeriodSeconds: 2 }, 'team-b'));
    await admin.delete(RESOURCE.namespaces, undefined, 'team-b');

    const terminating = await waitFor('Pod slow terminating', async () => (await getOrUndefined<Pod>(admin, RESOURCE.pods, 'team-b', 'slow'))?.metadata.deletionTimestamp ?? false);
    assert.ok(terminating);
    const ns = await waitFor('team-b reporting remaining content', async () => {
      const current = await admin.get<Namespace>(RESOURCE.namespaces, undefined, 'team-b');
      const conditions = (current.status as { conditions?: Array<{ type: string; status: string; message: string }> }).conditions ?? [];
      return conditions.some((c) => c.type === 'NamespaceContentRemaining' && c.status === 'True') ? conditions : undefined;
    });
    assert.equal(ns.find((c) => c.type === 'NamespaceContentRemaining')?.message, 'Some resources are remaining: pods has 1 resource instances');
    assert.equal((await admin.get<Namespace>(RESOURCE.namespaces, undefined, 'team-b')).status?.phase, 'Terminating');

    // The kubelet has stopped the containers: it deletes the Pod for good.
    await admin.delete(RESOURCE.pods, 'team-b', 'slow', { gracePeriodSeconds: 0 });
    await waitFor('namespace team-b gone', async () => (await getOrUndefined(admin, RESOURCE.namespaces, undefined, 'team-b')) === undefined);
  });

  it('Nothing new can be created in a terminating namespace while it empties.', async () => {
    const admin = cluster.admin;
    await admin.create(RESOURCE.namespaces, namespace('team-c'));
    await admin.create(RESOURCE.pods, testPod('slow', {}, { nodeName: 'node-2', terminationGracePeriodSeconds: 4 }, 'team-c'));
    await admin.delete(RESOURCE.namespaces, undefined, 'team-c');
    await assert.rejects(admin.create(RESOURCE.pods, testPod('late', {}, {}, 'team-c')), /being terminated/);
    await admin.delete(RESOURCE.pods, 'team-c', 'slow', { gracePeriodSeconds: 0 });
    await waitFor('namespace team-c gone', async () => (await getOrUndefined(admin, RESOURCE.namespaces, undefined, 'team-c')) === undefined, 40_000);
  });
});
