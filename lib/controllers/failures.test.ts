/**
 * Chapter 3's failure cases: a controller manager killed in the middle of a
 * rolling update, Pods deleted while a Deployment scales, and specs the API
 * server must refuse. No kubelet or scheduler runs here: a small loop plays
 * the kubelet by marking every new Pod Running and Ready.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Deployment, Pod, ReplicaSet } from '../api/types.ts';
import { KubeApiError, type KubeClient } from '../client/client.ts';
import { RESOURCE } from './informers.ts';
import { startControllerManager, type RunningControllerManager } from './manager.ts';
import { isPodActive } from './pod-control.ts';
import { startControllerTestCluster, startReadyMarker, trackActivePods, waitFor, type ControllerTestCluster } from './test-helpers.ts';

/** The controller manager with chapter 3's two controllers, as `kube-controller-manager --controllers=deployment,replicaset` would run. */
function startManager(client: KubeClient): Promise<RunningControllerManager> {
  return startControllerManager({ client, controllers: ['deployment', 'replicaset'] });
}

function deployment(name: string, replicas: number, image: string, rollingUpdate: { maxSurge: number | string; maxUnavailable: number | string } = { maxSurge: 2, maxUnavailable: 0 }): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: { replicas, selector: { matchLabels: { app: name } }, strategy: { type: 'RollingUpdate', rollingUpdate }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image }] } } },
  };
}

describe('chapter 3 failure cases', () => {
  let cluster: ControllerTestCluster;
  let marker: ReturnType<typeof startReadyMarker>;

  before(async () => {
    cluster = await startControllerTestCluster();
    marker = startReadyMarker(cluster.admin);
  });
  after(async () => {
    await marker?.stop();
    await cluster?.stop();
  });

  const activePods = async (app: string) => (await cluster.admin.list<Pod>(RESOURCE.pods, { namespace: 'default', labelSelector: `app=${app}` })).items.filter(isPodActive);
  const rolledOut = (name: string) =>
    waitFor(`deployment ${name} to finish rolling out`, async () => {
      const d = await cluster.admin.get<Deployment>(RESOURCE.deployments, 'default', name);
      const s = d.status;
      const replicas = d.spec.replicas ?? 1;
      return (s?.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) && s?.updatedReplicas === replicas && s.replicas === replicas && s.availableReplicas === replicas ? d : false;
    }, 60_000);

  it('a controller manager stopped in the middle of a rolling update and started again finishes it with exactly the desired pods, never more than maxSurge above', async () => {
    let manager = await startManager(cluster.controllerClient);
    try {
      await cluster.admin.create(RESOURCE.deployments, deployment('web', 6, 'nginx:1'));
      await rolledOut('web');
      const tracker = await trackActivePods(cluster.admin, 'web');
      // Hold the new pods back (not ready) so the rollout stops after its first steps.
      marker.pause(true);
      await cluster.admin.patch(RESOURCE.deployments, 'default', 'web', { spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:2' }] } } } }, 'strategic');
      const newPods = async () => (await activePods('web')).filter((p) => p.spec.containers[0]?.image === 'nginx:2');
      await waitFor('the first 2 new pods (the surge)', async () => (await newPods()).length === 2);
      marker.pause(false);
      await waitFor('a rollout part-way: some old pods gone, some still there', async () => {
        const pods = await activePods('web');
        const fresh = pods.filter((p) => p.spec.containers[0]?.image === 'nginx:2').length;
        return fresh >= 3 && fresh < 6;
      });
      await manager.stop();
      const frozen = await activePods('web');
      assert.ok(frozen.some((p) => p.spec.containers[0]?.image === 'nginx:1'), 'expected old pods left when the manager stopped');
      await new Promise((resolve) => setTimeout(resolve, 300));
      manager = await startManager(cluster.controllerClient);
      await rolledOut('web');
      await waitFor('exactly 6 active pods, all new', async () => {
        const pods = await activePods('web');
        return pods.length === 6 && pods.every((p) => p.spec.containers[0]?.image === 'nginx:2');
      });
      tracker.stop();
      // Why exactly 8: the surge was used (2 new pods held back while 6 old ones ran), and never exceeded.
      assert.equal(tracker.max(), 8, `expected at most 6 + maxSurge 2 = 8 active pods at any time, and the surge used, got a maximum of ${tracker.max()}`);
      const sets = (await cluster.admin.list<ReplicaSet>(RESOURCE.replicasets, { namespace: 'default', labelSelector: 'app=web' })).items;
      assert.deepEqual(sets.map((rs) => rs.spec.replicas).sort(), [0, 6]);
    } finally {
      await manager.stop();
    }
  });

  it('pods deleted again and again while a Deployment scales up and down converge to the spec', async () => {
    const manager = await startManager(cluster.controllerClient);
    let deleting = true;
    const deleter = (async () => {
      let deleted = 0;
      while (deleting) {
        const pods = await activePods('churn');
        const victim = pods[Math.floor(Math.random() * pods.length)];
        if (victim) {
          await cluster.admin.delete(RESOURCE.pods, 'default', victim.metadata.name ?? '').catch(() => undefined);
          deleted += 1;
        }
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
      return deleted;
    })();
    try {
      await cluster.admin.create(RESOURCE.deployments, deployment('churn', 4, 'nginx:1', { maxSurge: '25%', maxUnavailable: '25%' }));
      for (const replicas of [9, 2, 7, 0, 5]) {
        await cluster.admin.patchScale(RESOURCE.deployments, 'default', 'churn', replicas);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      deleting = false;
      assert.ok((await deleter) > 5, 'expected the test to have deleted pods along the way');
      await rolledOut('churn');
      await waitFor('exactly 5 active pods', async () => (await activePods('churn')).length === 5);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal((await activePods('churn')).length, 5, 'expected the count to stay at the spec');
    } finally {
      deleting = false;
      await deleter;
      await manager.stop();
    }
  });

  const badSpecs: Array<[string, (d: Deployment) => void, RegExp]> = [
    ['negative replicas are refused', (d) => (d.spec.replicas = -1), /spec\.replicas: Invalid value: -1: must be greater than or equal to 0/],
    ['a selector that does not match the template labels is refused', (d) => (d.spec.selector = { matchLabels: { app: 'other' } }), /spec\.template\.metadata\.labels: Invalid value: .*`selector` does not match template `labels`/],
    ['maxUnavailable and maxSurge both 0 are refused', (d) => (d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } }), /spec\.strategy\.rollingUpdate\.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0/],
  ];
  for (const [name, spoil, message] of badSpecs) {
    it(`${name} by the API server with 422 and a clear message`, async () => {
      const d = deployment('bad', 1, 'nginx');
      spoil(d);
      const error = await cluster.admin.create(RESOURCE.deployments, d).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof KubeApiError, `expected the API server to refuse the Deployment, got ${String(error)}`);
      assert.equal(error.status.code, 422);
      assert.equal(error.status.reason, 'Invalid');
      assert.match(error.status.message ?? '', /^Deployment\.apps "bad" is invalid: /);
      assert.match(error.status.message ?? '', message);
    });
  }
});
