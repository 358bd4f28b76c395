import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Deployment, KubeObject, OwnerReference, Pod, ReplicaSet } from '../api/types.ts';
import { decideDependent, GarbageCollector, type DependentAction, type OwnerState } from './garbage-collector.ts';
import { RESOURCE } from './informers.ts';
import { getOrUndefined, runController, startControllerTestCluster, testPod, waitFor, type ControllerTestCluster, type RunningTestController } from './test-helpers.ts';

describe('decideDependent', () => {
  const cases: Array<{ name: string; owners: Array<{ uid: string; state: OwnerState }>; finalizers?: string[]; hasDependents?: boolean; expected: DependentAction }> = [
    { name: 'An object whose only owner stands is kept.', owners: [{ uid: 'a', state: 'solid' }], expected: { action: 'keep' } },
    { name: 'An object whose only owner is gone is deleted in the background.', owners: [{ uid: 'a', state: 'dangling' }], expected: { action: 'delete', policy: 'Background' } },
    {
      name: 'An object with one standing owner and one gone keeps only the reference to the standing one.',
      owners: [{ uid: 'a', state: 'solid' }, { uid: 'b', state: 'dangling' }],
      expected: { action: 'removeReferences', uids: ['b'] },
    },
    {
      name: 'An object whose owner waits for it and which has dependents of its own is deleted in the foreground.',
      owners: [{ uid: 'a', state: 'waitingForDependentsDeletion' }],
      hasDependents: true,
      expected: { action: 'delete', policy: 'Foreground' },
    },
    { name: 'An object whose owner waits for it but which has no dependents is deleted in the background.', owners: [{ uid: 'a', state: 'waitingForDependentsDeletion' }], expected: { action: 'delete', policy: 'Background' } },
    { name: 'An object carrying the orphan finalizer is deleted with the Orphan policy.', owners: [{ uid: 'a', state: 'dangling' }], finalizers: ['orphan'], expected: { action: 'delete', policy: 'Orphan' } },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(decideDependent(c.owners, { finalizers: c.finalizers ?? [], hasDependents: c.hasDependents ?? false }), c.expected));
  }
});

describe('GarbageCollector against an API server', () => {
  let cluster: ControllerTestCluster;
  let running: RunningTestController<GarbageCollector>;

  before(async () => {
    cluster = await startControllerTestCluster();
    cluster.apiserver.setGarbageCollection(true);
    running = await runController(cluster, (ctx, options) => new GarbageCollector(ctx, options));
  });
  after(async () => {
    await running?.stop();
    await cluster?.stop();
  });

  function ownerRef(owner: KubeObject): OwnerReference {
    return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name ?? '', uid: owner.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
  }

  async function replicaSetWithPods(name: string, pods: number, podSpec: Partial<Pod['spec']> = {}, owner?: KubeObject): Promise<{ rs: ReplicaSet; pods: string[] }> {
    const labels = { app: name };
    const rs = await cluster.admin.create<ReplicaSet>(RESOURCE.replicasets, {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name, namespace: 'default', ...(owner ? { ownerReferences: [ownerRef(owner)] } : {}) },
      spec: { replicas: pods, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'nginx' }] } } },
    });
    const names: string[] = [];
    for (let i = 0; i < pods; i++) {
      const pod = testPod(`${name}-${i}`, labels, podSpec);
      pod.metadata.ownerReferences = [ownerRef(rs)];
      names.push((await cluster.admin.create(RESOURCE.pods, pod)).metadata.name ?? '');
    }
    return { rs, pods: names };
  }

  const pod = (name: string) => getOrUndefined<Pod>(cluster.admin, RESOURCE.pods, 'default', name);
  const replicaSet = (name: string) => getOrUndefined<ReplicaSet>(cluster.admin, RESOURCE.replicasets, 'default', name);

  it('Background: deleting a ReplicaSet deletes its Pods afterwards.', async () => {
    const { pods } = await replicaSetWithPods('bg', 2);
    await cluster.admin.delete(RESOURCE.replicasets, 'default', 'bg');
    assert.equal(await replicaSet('bg'), undefined, 'expected the ReplicaSet to go at once');
    for (const name of pods) await waitFor(`Pod ${name} deleted`, async () => (await pod(name)) === undefined);
  });

  it('Background: deleting a Deployment deletes its ReplicaSet and then that one\'s Pods.', async () => {
    const deployment = await cluster.admin.create<Deployment>(RESOURCE.deployments, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'chain', namespace: 'default' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'chain' } }, template: { metadata: { labels: { app: 'chain' } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } } },
    });
    const { pods } = await replicaSetWithPods('chain-rs', 1, {}, deployment);
    await cluster.admin.delete(RESOURCE.deployments, 'default', 'chain');
    await waitFor('ReplicaSet chain-rs deleted', async () => (await replicaSet('chain-rs')) === undefined);
    await waitFor('Pod of chain-rs deleted', async () => (await pod(pods[0]!)) === undefined);
  });

  it('Foreground: the ReplicaSet stays, with the foregroundDeletion finalizer, until its Pods are gone.', async () => {
    // Bound Pods: their delete is graceful, so they stay terminating until "their kubelet" (the test) finishes them.
    const { pods } = await replicaSetWithPods('fg', 2, { nodeName: 'node-2' });
    await cluster.admin.delete(RESOURCE.replicasets, 'default', 'fg', { propagationPolicy: 'Foreground' });
    for (const name of pods) await waitFor(`Pod ${name} terminating`, async () => (await pod(name))?.metadata.deletionTimestamp ?? false);
    const waiting = await replicaSet('fg');
    assert.ok(waiting?.metadata.deletionTimestamp, 'expected the ReplicaSet to be terminating');
    assert.deepEqual(waiting?.metadata.finalizers, ['foregroundDeletion']);
    for (const name of pods) await cluster.admin.delete(RESOURCE.pods, 'default', name, { gracePeriodSeconds: 0 });
    await waitFor('ReplicaSet fg deleted once its Pods are gone', async () => (await replicaSet('fg')) === undefined);
  });

  it('Orphan: deleting a ReplicaSet leaves its Pods, without references to it.', async () => {
    const { pods } = await replicaSetWithPods('orph', 2);
    await cluster.admin.delete(RESOURCE.replicasets, 'default', 'orph', { propagationPolicy: 'Orphan' });
    await waitFor('ReplicaSet orph deleted', async () => (await replicaSet('orph')) === undefined);
    for (const name of pods) {
      const left = await pod(name);
      assert.ok(left, `expected Pod ${name} to stay`);
      assert.equal(left.metadata.deletionTimestamp, undefined);
      assert.deepEqual(left.metadata.ownerReferences ?? [], []);
    }
  });

  it('A Pod with two owners, one of them gone, keeps only the reference to the one that stands.', async () => {
    const { rs } = await replicaSetWithPods('stands', 0);
    const pod2 = testPod('two-owners', {});
    pod2.metadata.ownerReferences = [ownerRef(rs), { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'never-was', uid: '00000000-0000-0000-0000-000000000000' }];
    await cluster.admin.create(RESOURCE.pods, pod2);
    const left = await waitFor('the dangling reference removed', async () => {
      const current = await pod('two-owners');
      return current?.metadata.ownerReferences?.length === 1 ? current : undefined;
    });
    assert.equal(left.metadata.ownerReferences?.[0]?.name, 'stands');
  });

  it('A Pod whose owner reference names an object of the same name but another uid is deleted.', async () => {
    const { rs } = await replicaSetWithPods('replaced', 0);
    const stale = testPod('stale-owner', {});
    stale.metadata.ownerReferences = [{ ...ownerRef(rs), uid: '11111111-1111-1111-1111-111111111111' }];
    await cluster.admin.create(RESOURCE.pods, stale);
    await waitFor('Pod stale-owner deleted', async () => (await pod('stale-owner')) === undefined);
    assert.ok(await replicaSet('replaced'), 'expected the ReplicaSet itself to stay');
  });
});
