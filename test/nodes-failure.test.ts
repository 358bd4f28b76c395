/**
 * A node that goes away and comes back, with the whole in-process cluster:
 * node-2's hollow agent stops renewing its Lease, the node lifecycle
 * controller marks it NotReady (Ready Unknown) and taints it unreachable,
 * its Pods (tolerating that for 1 s) are evicted and recreated on node-3;
 * when node-2 comes back it is Ready again, the evicted Pods are confirmed
 * deleted, and the Deployment has exactly its replicas running: nothing
 * runs twice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Deployment, Node, Pod } from '../lib/api/types.ts';
import { findResource } from '../lib/apiserver/resources.ts';
import { isNotFound } from '../lib/client/client.ts';
import type { TestCluster } from './helpers/apiserver.ts';
import { startFullCluster } from './helpers/full-cluster.ts';
import { eventually } from './helpers/wait.ts';

const PODS = findResource('', 'v1', 'pods')!;
const NODES = findResource('', 'v1', 'nodes')!;
const DEPLOYMENTS = findResource('apps', 'v1', 'deployments')!;
const REPLICAS = 4;

const web: Deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default' },
  spec: {
    replicas: REPLICAS,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [{ name: 'web', image: 'web:1' }],
        // Why 1 s: the default (300 s, from DefaultTolerationSeconds) would keep the Pods on the lost node for five minutes.
        tolerations: [
          { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 },
          { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 },
        ],
      },
    },
  },
};

describe('a node that stops renewing its Lease and comes back', () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await startFullCluster({
      nodeMonitorGracePeriodMs: 2000,
      nodeMonitorPeriodMs: 250,
      nodeOptions: { renewIntervalMs: 250, leaseDurationSeconds: 2 },
    });
  });

  after(async () => {
    await cluster?.stop();
  });

  const webPods = async () => (await cluster.admin.list<Pod>(PODS, { namespace: 'default', labelSelector: 'app=web' })).items;
  const running = (pod: Pod) => pod.status?.phase === 'Running' && pod.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  const readyStatus = async (name: string) => (await cluster.admin.get<Node>(NODES, undefined, name)).status?.conditions?.find((c) => c.type === 'Ready')?.status;
  const summary = (pods: Pod[]) => JSON.stringify(pods.map((p) => ({ name: p.metadata.name, node: p.spec.nodeName, phase: p.status?.phase, deleting: Boolean(p.metadata.deletionTimestamp) })));

  let evicted: string[] = [];

  test(`the Deployment's ${REPLICAS} Pods run on node-2 and node-3`, async () => {
    await cluster.admin.create(DEPLOYMENTS, web);
    const pods = await eventually(`${REPLICAS} web Pods running`, async () => {
      const list = await webPods();
      if (list.length === REPLICAS && list.every(running)) return list;
      throw new Error(summary(list));
    });
    evicted = pods.filter((p) => p.spec.nodeName === 'node-2').map((p) => p.metadata.name ?? '');
    assert.ok(evicted.length > 0, `expected some Pods on node-2 (spread), got ${summary(pods)}`);
    assert.ok(pods.every((p) => p.spec.nodeName !== 'node-1'));
  });

  test('paused, node-2 becomes NotReady (Ready Unknown) and is tainted unreachable', async () => {
    cluster.nodes!.get('node-2')!.pause();
    // Why one wait for both: the controller writes the condition (status) and the taint (spec) in two writes.
    await eventually('node-2 Ready Unknown and tainted unreachable', async () => {
      const node = await cluster.admin.get<Node>(NODES, undefined, 'node-2');
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
      const tainted = node.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute');
      if (ready === 'Unknown' && tainted) return true;
      throw new Error(`Ready ${ready}, taints ${JSON.stringify(node.spec?.taints)}`);
    });
  });

  test(`its Pods are evicted and recreated on node-3: ${REPLICAS} running there`, async () => {
    await eventually(`${REPLICAS} live web Pods running on node-3`, async () => {
      const live = (await webPods()).filter((p) => !p.metadata.deletionTimestamp);
      if (live.length === REPLICAS && live.every((p) => p.spec.nodeName === 'node-3' && running(p))) return true;
      throw new Error(summary(await webPods()));
    }, 60_000);
  });

  test(`resumed, node-2 is Ready again, the evicted Pods are confirmed deleted, and exactly ${REPLICAS} Pods run`, async () => {
    await cluster.nodes!.get('node-2')!.resume();
    await eventually('node-2 Ready True', async () => {
      const status = await readyStatus('node-2');
      if (status === 'True') return true;
      throw new Error(`Ready ${status}`);
    });
    for (const name of evicted) {
      await eventually(`${name} deleted`, async () => {
        try {
          const pod = await cluster.admin.get<Pod>(PODS, 'default', name);
          throw new Error(`still there: ${summary([pod])}`);
        } catch (error) {
          if (isNotFound(error)) return true;
          throw error;
        }
      });
    }
    const pods = await eventually(`exactly ${REPLICAS} web Pods, all running`, async () => {
      const list = await webPods();
      if (list.length === REPLICAS && list.every(running)) return list;
      throw new Error(summary(list));
    });
    assert.equal(new Set(pods.map((p) => p.metadata.name)).size, REPLICAS);
    const deployment = await eventually('the Deployment reports every replica available', async () => {
      const d = await cluster.admin.get<Deployment>(DEPLOYMENTS, 'default', 'web');
      if (d.status?.availableReplicas === REPLICAS && d.status.replicas === REPLICAS) return d;
      throw new Error(JSON.stringify(d.status));
    });
    assert.equal(deployment.status?.readyReplicas, REPLICAS);
    const node = await cluster.admin.get<Node>(NODES, undefined, 'node-2');
    assert.ok(!node.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable'), `expected the unreachable taint removed, got ${JSON.stringify(node.spec?.taints)}`);
  });
});
