/**
 * @kubernetes/client-node 1.4 (the official JavaScript client) against our
 * API server: typed CRUD, label selectors, the three patch types it sends,
 * an informer fed by list + watch, and the ApiException a 404 becomes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
  type V1Pod,
} from '@kubernetes/client-node';
import { startCluster, type Cluster } from '../lib/cluster/cluster.ts';

/** A one-container Pod named `name` with the label app=`app`. */
function pod(name: string, app: string): V1Pod {
  return { metadata: { name, labels: { app } }, spec: { containers: [{ name: 'main', image: 'busybox' }] } };
}

/** A Deployment named `name` with two replicas of nginx. */
function deployment(name: string): V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'nginx:1.14.2' }, { name: 'sidecar', image: 'busybox' }] } },
    },
  };
}

/** Resolves once `check` passes, or rejects after `ms` with what was expected. */
async function eventually(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`expected ${what} within ${ms} ms, but it did not happen`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('@kubernetes/client-node 1.4 against the workbook API server', () => {
  let tmp: string;
  let cluster: Cluster;
  let core: CoreV1Api;
  let apps: AppsV1Api;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'client-node-test-'));
    cluster = await startCluster({ dir: join(tmp, 'cluster') });
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
  });

  after(async () => {
    await cluster?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('a pod created through CoreV1Api without apiVersion or kind reads back as a v1 Pod with a uid and defaulted fields', async () => {
    const created = await core.createNamespacedPod({ namespace: 'default', body: pod('reader', 'crud') });
    assert.equal(created.metadata?.name, 'reader');
    assert.deepEqual([created.apiVersion, created.kind], ['v1', 'Pod'], 'expected the server to take the kind from the URL');
    assert.match(created.metadata?.uid ?? '', /^[0-9a-f-]{36}$/);
    const read = await core.readNamespacedPod({ namespace: 'default', name: 'reader' });
    assert.equal(read.metadata?.resourceVersion, created.metadata?.resourceVersion);
    assert.equal(read.spec?.restartPolicy, 'Always');
    assert.equal(read.status?.phase, 'Pending');
  });

  test('listing pods with a label selector returns only the pods carrying that label', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: pod('blue-1', 'blue') });
    await core.createNamespacedPod({ namespace: 'default', body: pod('blue-2', 'blue') });
    await core.createNamespacedPod({ namespace: 'default', body: pod('green-1', 'green') });
    const list = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=blue' });
    assert.deepEqual(list.items.map((p) => p.metadata?.name).sort(), ['blue-1', 'blue-2']);
    assert.match(list.metadata?.resourceVersion ?? '', /^\d+$/);
    const notBlue = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app in (green)' });
    assert.deepEqual(notBlue.items.map((p) => p.metadata?.name), ['green-1']);
  });

  test('patching a deployment uses a JSON patch by default and changes only the patched field', async () => {
    await apps.createNamespacedDeployment({ namespace: 'default', body: deployment('json-patched') });
    const patched = await apps.patchNamespacedDeployment({
      namespace: 'default',
      name: 'json-patched',
      body: [{ op: 'replace', path: '/spec/replicas', value: 4 }],
    });
    assert.equal(patched.spec?.replicas, 4);
    assert.equal(patched.metadata?.generation, 2);
    assert.deepEqual(patched.spec?.template.spec?.containers.map((c) => c.name), ['web', 'sidecar']);
  });

  test('a strategic merge patch set through setHeaderOptions merges containers by name', async () => {
    await apps.createNamespacedDeployment({ namespace: 'default', body: deployment('smp-patched') });
    const patched = await apps.patchNamespacedDeployment(
      { namespace: 'default', name: 'smp-patched', body: { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.26' }] } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    // Why both containers survive: containers merge by name, so the patch touches web and keeps sidecar.
    assert.deepEqual(
      patched.spec?.template.spec?.containers.map((c) => [c.name, c.image]),
      [['web', 'nginx:1.26'], ['sidecar', 'busybox']],
    );
  });

  test('a merge patch set through setHeaderOptions replaces the containers list whole', async () => {
    await apps.createNamespacedDeployment({ namespace: 'default', body: deployment('merge-patched') });
    const patched = await apps.patchNamespacedDeployment(
      { namespace: 'default', name: 'merge-patched', body: { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.26' }] } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    // Why only one container is left: RFC 7386 replaces lists, unlike a strategic merge patch.
    assert.deepEqual(patched.spec?.template.spec?.containers.map((c) => [c.name, c.image]), [['web', 'nginx:1.26']]);
  });

  test('a deleted pod can no longer be read: the read fails with an ApiException carrying code 404', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: pod('doomed', 'crud') });
    await core.deleteNamespacedPod({ namespace: 'default', name: 'doomed' });
    await assert.rejects(core.readNamespacedPod({ namespace: 'default', name: 'doomed' }), (error: unknown) => {
      assert.ok(error instanceof ApiException, `expected an ApiException, got ${String(error)}`);
      assert.equal(error.code, 404);
      const status = (typeof error.body === 'string' ? JSON.parse(error.body) : error.body) as { reason?: string; message?: string };
      assert.equal(status.reason, 'NotFound');
      assert.equal(status.message, 'pods "doomed" not found');
      return true;
    });
  });

  test('reading a deployment that never existed fails with an ApiException carrying code 404', async () => {
    await assert.rejects(apps.readNamespacedDeployment({ namespace: 'default', name: 'never-was' }), (error: unknown) => {
      assert.ok(error instanceof ApiException, `expected an ApiException, got ${String(error)}`);
      assert.equal(error.code, 404);
      return true;
    });
  });

  test('an informer on default pods sees the add, the update and the delete of a pod', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    const informer = makeInformer(kc, '/api/v1/namespaces/default/pods', () =>
      core.listNamespacedPod({ namespace: 'default' }),
    );
    const events: string[] = [];
    const errors: unknown[] = [];
    informer.on('add', (p) => events.push(`add ${p.metadata?.name}`));
    informer.on('update', (p) => events.push(`update ${p.metadata?.name} ${p.metadata?.labels?.['stage'] ?? ''}`.trim()));
    informer.on('delete', (p) => events.push(`delete ${p.metadata?.name}`));
    informer.on('error', (error) => errors.push(error));
    await informer.start();
    try {
      // The initial list reports the pods that already exist as adds.
      await eventually('an add for the existing pod reader', () => events.includes('add reader'));
      assert.ok(informer.list('default').some((p) => p.metadata?.name === 'reader'), 'expected reader in the informer cache');

      await core.createNamespacedPod({ namespace: 'default', body: pod('watched', 'informer') });
      await eventually('an add for watched', () => events.includes('add watched'));
      await core.patchNamespacedPod(
        { namespace: 'default', name: 'watched', body: { metadata: { labels: { stage: 'two' } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await eventually('an update for watched with stage=two', () => events.includes('update watched two'));
      await core.deleteNamespacedPod({ namespace: 'default', name: 'watched' });
      await eventually('a delete for watched', () => events.includes('delete watched'));

      assert.deepEqual(events.filter((e) => e.includes('watched')), ['add watched', 'update watched two', 'delete watched']);
      assert.ok(!informer.list('default').some((p) => p.metadata?.name === 'watched'), 'expected watched gone from the cache');
      assert.deepEqual(errors, []);
    } finally {
      await informer.stop();
    }
  });
});
