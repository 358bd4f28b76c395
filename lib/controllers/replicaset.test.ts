import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Pod, ReplicaSet } from '../api/types.ts';
import { RESOURCE } from './informers.ts';
import { ControllerExpectations, podFromTemplate, slowStartBatch } from './pod-control.ts';
import { comparePodsForDeletion, manageReplicas, ReplicaSetController } from './replicaset.ts';
import { referenceSeams } from './seams.ts';
import { markPodRunning, podInState as pod, runController, setPodStatus, startControllerTestCluster, testPod, waitFor, type ControllerTestCluster, type RunningTestController } from './test-helpers.ts';


describe('manageReplicas (exercise 3.1)', () => {
  const cases: Array<[string, number, Pod[], { create: number; remove: string[] }]> = [
    ['three wanted and none there means create three', 3, [], { create: 3, remove: [] }],
    ['three wanted and one there means create two', 3, [pod('a')], { create: 2, remove: [] }],
    ['as many as wanted means nothing to do', 2, [pod('a'), pod('b')], { create: 0, remove: [] }],
    ['an unassigned pod goes before an assigned one', 1, [pod('on-node', { node: 'n1', phase: 'Running', ready: true }), pod('nowhere')], { create: 0, remove: ['nowhere'] }],
    ['a pending pod goes before a running one on the same footing', 1, [pod('running', { node: 'n1', phase: 'Running' }), pod('pending', { node: 'n1', phase: 'Pending' })], { create: 0, remove: ['pending'] }],
    ['an unknown pod goes before a running one', 1, [pod('running', { node: 'n1', phase: 'Running' }), pod('unknown', { node: 'n1', phase: 'Unknown' })], { create: 0, remove: ['unknown'] }],
    ['a pod that is not ready goes before a ready one', 1, [pod('ready', { node: 'n1', phase: 'Running', ready: true }), pod('not-ready', { node: 'n1', phase: 'Running' })], { create: 0, remove: ['not-ready'] }],
    ['the pod with more restarts goes first', 1, [pod('calm', { node: 'n1', phase: 'Running', ready: true }), pod('crashy', { node: 'n1', phase: 'Running', ready: true, restarts: 5 })], { create: 0, remove: ['crashy'] }],
    ['the newer pod goes before the older one', 1, [pod('old', { created: '2026-01-01T00:00:00Z' }), pod('new', { created: '2026-01-02T00:00:00Z' })], { create: 0, remove: ['new'] }],
    ['scaling five to zero removes all five', 0, ['a', 'b', 'c', 'd', 'e'].map((n) => pod(n)), { create: 0, remove: ['a', 'b', 'c', 'd', 'e'] }],
  ];
  for (const [name, desired, pods, expected] of cases) {
    it(name, () => {
      const diff = manageReplicas(desired, pods);
      assert.deepEqual({ create: diff.create, remove: diff.remove.map((p) => p.metadata.name).sort() }, { create: expected.create, remove: [...expected.remove].sort() });
    });
  }

  it('sorts a mixed set the way upstream ranks pods for deletion', () => {
    const pods = [
      pod('ready-old', { node: 'n', phase: 'Running', ready: true, created: '2026-01-01T00:00:00Z' }),
      pod('ready-new', { node: 'n', phase: 'Running', ready: true, created: '2026-01-03T00:00:00Z' }),
      pod('running-not-ready', { node: 'n', phase: 'Running' }),
      pod('pending-on-node', { node: 'n' }),
      pod('unscheduled'),
    ];
    assert.deepEqual([...pods].sort(comparePodsForDeletion).map((p) => p.metadata.name), ['unscheduled', 'pending-on-node', 'running-not-ready', 'ready-new', 'ready-old']);
  });

  it('does not change the array it was given', () => {
    const pods = [pod('a', { node: 'n' }), pod('b')];
    manageReplicas(1, pods);
    assert.deepEqual(pods.map((p) => p.metadata.name), ['a', 'b']);
  });
});

describe('the helpers of pod control', () => {
  it('slow start creates in batches of 1, 2, 4 and stops after the first batch that fails', async () => {
    const sizes: number[] = [];
    let calls = 0;
    let inBatch = 0;
    const result = await slowStartBatch(10, 1, async () => {
      calls += 1;
      const call = calls;
      inBatch += 1;
      await new Promise((resolve) => setImmediate(resolve));
      if (inBatch > 0) {
        sizes.push(inBatch);
        inBatch = 0;
      }
      if (call > 5) throw new Error('quota exceeded');
    });
    assert.deepEqual(sizes, [1, 2, 4]);
    assert.equal(result.succeeded, 5);
    assert.match(String(result.error), /quota exceeded/);
  });

  it('expectations are satisfied only after every expected creation and deletion was observed', () => {
    const e = new ControllerExpectations(() => 0);
    assert.equal(e.satisfied('default/rs'), true, 'a key never seen is satisfied');
    e.expect('default/rs', 2, ['uid-1']);
    e.creationObserved('default/rs');
    e.deletionObserved('default/rs', 'uid-1');
    assert.equal(e.satisfied('default/rs'), false);
    e.deletionObserved('default/rs', 'uid-1');
    e.creationObserved('default/rs');
    assert.equal(e.satisfied('default/rs'), true);
  });

  it('expectations expire after five minutes so a lost event cannot block a controller', () => {
    let now = 0;
    const e = new ControllerExpectations(() => now);
    e.expect('default/rs', 1);
    now = 5 * 60 * 1000 + 1;
    assert.equal(e.satisfied('default/rs'), true);
  });

  it('a pod from a template gets generateName, the template labels and a controller reference', () => {
    const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'backend-7d9f8', namespace: 'default', uid: 'u1' } };
    const made = podFromTemplate({ metadata: { labels: { app: 'backend' } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } }, owner);
    assert.equal(made.metadata.generateName, 'backend-7d9f8-');
    assert.deepEqual(made.metadata.labels, { app: 'backend' });
    assert.deepEqual(made.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'backend-7d9f8', uid: 'u1', controller: true, blockOwnerDeletion: true }]);
  });
});

function replicaSet(name: string, replicas: number, labels: Record<string, string> = { app: name }): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default' },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'nginx' }] } } },
  };
}

describe('the ReplicaSet controller against an API server', () => {
  let cluster: ControllerTestCluster;
  let running: RunningTestController<ReplicaSetController>;

  before(async () => {
    cluster = await startControllerTestCluster();
    running = await runController(cluster, (ctx, options) => new ReplicaSetController(ctx, options), { seams: referenceSeams });
  });
  after(async () => {
    await running?.stop();
    await cluster?.stop();
  });

  const podsOf = async (app: string) => (await cluster.admin.list<Pod>(RESOURCE.pods, { namespace: 'default', labelSelector: `app=${app}` })).items.filter((p) => !p.metadata.deletionTimestamp);

  it('a ReplicaSet of 3 gets 3 pods named <rs>-xxxxx, owned by it, with SuccessfulCreate events', async () => {
    await cluster.admin.create(RESOURCE.replicasets, replicaSet('backend', 3));
    const pods = await waitFor('3 backend pods', async () => ((await podsOf('backend')).length === 3 ? podsOf('backend') : false));
    for (const p of pods) {
      assert.match(p.metadata.name ?? '', /^backend-[a-z0-9]{5}$/);
      assert.equal(p.metadata.ownerReferences?.[0]?.kind, 'ReplicaSet');
      assert.equal(p.metadata.ownerReferences?.[0]?.controller, true);
    }
    await waitFor('3 SuccessfulCreate events', () => running.events.filter((e) => e.reason === 'SuccessfulCreate' && e.object === 'replicaset/backend').length === 3);
    assert.ok(running.events.some((e) => e.message === `Created pod: ${pods[0]!.metadata.name}`));
    const rs = await waitFor('status.replicas 3', async () => {
      const got = await cluster.admin.get<ReplicaSet>(RESOURCE.replicasets, 'default', 'backend');
      return got.status?.replicas === 3 ? got : false;
    });
    assert.equal(rs.status?.observedGeneration, rs.metadata.generation);
  });

  it('never creates more pods than asked, even after several reconciles', async () => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await podsOf('backend')).length, 3);
  });

  it('a deleted pod is replaced', async () => {
    const [victim] = await podsOf('backend');
    await cluster.admin.delete(RESOURCE.pods, 'default', victim!.metadata.name ?? '');
    await waitFor('a replacement pod', async () => {
      const pods = await podsOf('backend');
      return pods.length === 3 && !pods.some((p) => p.metadata.name === victim!.metadata.name);
    });
  });

  it('ready pods are counted in readyReplicas and availableReplicas', async () => {
    for (const p of await podsOf('backend')) await markPodRunning(cluster.admin, 'default', p.metadata.name ?? '', '10.0.0.1');
    await waitFor('3 available', async () => (await cluster.admin.get<ReplicaSet>(RESOURCE.replicasets, 'default', 'backend')).status?.availableReplicas === 3);
  });

  it('scaling down deletes a not-ready pod before ready ones, with a SuccessfulDelete event', async () => {
    const pods = await podsOf('backend');
    const notReady = pods[1]!.metadata.name ?? '';
    await setPodStatus(cluster.admin, 'default', notReady, { ready: false });
    await waitFor('the ReplicaSet to see the not-ready pod', async () => (await cluster.admin.get<ReplicaSet>(RESOURCE.replicasets, 'default', 'backend')).status?.readyReplicas === 2);
    await cluster.admin.patch(RESOURCE.replicasets, 'default', 'backend', { spec: { replicas: 2 } }, 'merge');
    await waitFor('2 pods left', async () => (await podsOf('backend')).length === 2);
    assert.ok(!(await podsOf('backend')).some((p) => p.metadata.name === notReady), 'expected the not-ready pod to be the one deleted');
    await waitFor('a SuccessfulDelete event', () => running.events.some((e) => e.reason === 'SuccessfulDelete' && e.message === `Deleted pod: ${notReady}`));
  });

  it('an orphan pod with matching labels is adopted and counted, so one fewer is created', async () => {
    await cluster.admin.create(RESOURCE.pods, testPod('stray', { app: 'adopter' }));
    await cluster.admin.create(RESOURCE.replicasets, replicaSet('adopter', 2));
    await waitFor('2 adopter pods', async () => (await podsOf('adopter')).length === 2);
    const stray = await cluster.admin.get<Pod>(RESOURCE.pods, 'default', 'stray');
    assert.equal(stray.metadata.ownerReferences?.[0]?.name, 'adopter');
    assert.equal(stray.metadata.ownerReferences?.[0]?.blockOwnerDeletion, true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await podsOf('adopter')).length, 2);
  });

  it('a pod relabelled out of the selector is released and replaced', async () => {
    const relabelled = (await podsOf('adopter'))[0]!;
    await cluster.admin.patch(RESOURCE.pods, 'default', relabelled.metadata.name ?? '', { metadata: { labels: { app: 'debugging' } } }, 'merge');
    await waitFor('the pod released', async () => ((await cluster.admin.get<Pod>(RESOURCE.pods, 'default', relabelled.metadata.name ?? '')).metadata.ownerReferences ?? []).length === 0);
    await waitFor('2 adopter pods again', async () => (await podsOf('adopter')).length === 2);
  });

  it('a pod the API server refuses gives a FailedCreate event with the error', async () => {
    const namespaces = RESOURCE.namespaces;
    await cluster.admin.create(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
    await cluster.admin.create(RESOURCE.replicasets, { ...replicaSet('late', 0), metadata: { name: 'late', namespace: 'doomed' } });
    // Why a terminating namespace: the API server refuses new Pods there, as it would refuse them over a quota.
    await cluster.admin.delete(namespaces, undefined, 'doomed');
    await cluster.admin.patch(RESOURCE.replicasets, 'doomed', 'late', { spec: { replicas: 1 } }, 'merge');
    const failed = await waitFor('a FailedCreate event', () => running.events.find((e) => e.reason === 'FailedCreate' && e.object === 'replicaset/late'));
    assert.equal(failed.type, 'Warning');
    assert.match(failed.message, /^Error creating: .*being terminated/);
  });
});
