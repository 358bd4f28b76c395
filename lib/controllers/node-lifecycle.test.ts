import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Node, Pod, ReplicaSet, Taint, Toleration } from '../api/types.ts';
import { RESOURCE } from './informers.ts';
import { evictionDelaySeconds, NodeLifecycleController, readyCondition, TAINT_NOT_READY, TAINT_UNREACHABLE } from './node-lifecycle.ts';
import { ReplicaSetController } from './replicaset.ts';
import { referenceSeams } from './seams.ts';
import { getOrUndefined, markPodRunning, postNodeReady, registerNode, renewLease, runController, runControllers, startControllerTestCluster, testPod, waitFor, type ControllerTestCluster, type RunningTestController } from './test-helpers.ts';

const shortToleration: Toleration[] = [
  { key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 },
  { key: TAINT_NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 },
];

describe('evictionDelaySeconds', () => {
  const unreachable: Taint = { key: TAINT_UNREACHABLE, effect: 'NoExecute' };
  const notReady: Taint = { key: TAINT_NOT_READY, effect: 'NoExecute' };
  const cases: Array<{ name: string; taints: Taint[]; tolerations: Toleration[]; expected: number }> = [
    { name: 'A taint no toleration matches means eviction at once.', taints: [unreachable], tolerations: [], expected: 0 },
    {
      name: 'A matching toleration with tolerationSeconds gives that many seconds.',
      taints: [unreachable],
      tolerations: [{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
      expected: 300,
    },
    { name: 'A matching toleration without tolerationSeconds means never.', taints: [unreachable], tolerations: [{ operator: 'Exists' }], expected: Infinity },
    {
      name: 'With two taints the shorter of the two tolerations wins.',
      taints: [unreachable, notReady],
      tolerations: [
        { key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: TAINT_NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 },
      ],
      expected: 5,
    },
    {
      name: 'A toleration for another key does not help.',
      taints: [unreachable],
      tolerations: [{ key: TAINT_NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
      expected: 0,
    },
    { name: 'A negative tolerationSeconds counts as zero.', taints: [unreachable], tolerations: [{ key: TAINT_UNREACHABLE, operator: 'Exists', tolerationSeconds: -5 }], expected: 0 },
  ];
  for (const c of cases) it(c.name, () => assert.equal(evictionDelaySeconds(c.taints, c.tolerations), c.expected));
});

describe('NodeLifecycleController against an API server', () => {
  let cluster: ControllerTestCluster;
  let running: RunningTestController<NodeLifecycleController>;
  let heartbeat: ReturnType<typeof setInterval> | undefined;

  const node = (name: string) => cluster.admin.get<Node>(RESOURCE.nodes, undefined, name);
  const taintKeys = (n: Node) => (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort();

  before(async () => {
    cluster = await startControllerTestCluster();
    const admin = cluster.admin;
    await registerNode(admin, 'node-2');
    await registerNode(admin, 'node-3');
    await admin.create(RESOURCE.pods, testPod('short', { app: 'web' }, { nodeName: 'node-2', tolerations: shortToleration }));
    await admin.create(RESOURCE.pods, testPod('patient', { app: 'web' }, { nodeName: 'node-2' }));
    await admin.create(RESOURCE.pods, testPod('elsewhere', { app: 'web' }, { nodeName: 'node-3', tolerations: shortToleration }));
    await markPodRunning(admin, 'default', 'short', '10.244.2.2');
    await markPodRunning(admin, 'default', 'patient', '10.244.2.3');
    await markPodRunning(admin, 'default', 'elsewhere', '10.244.3.2');
    // node-3's kubelet keeps renewing its Lease; node-2's has stopped.
    heartbeat = setInterval(() => void renewLease(admin, 'node-3').catch(() => {}), 250);
    running = await runController(cluster, (ctx, options) => new NodeLifecycleController(ctx, options), { nodeMonitorGracePeriodMs: 1500, nodeMonitorPeriodMs: 200 });
  });
  after(async () => {
    clearInterval(heartbeat);
    await running?.stop();
    await cluster?.stop();
  });

  it('A node that stops renewing its Lease gets Ready=Unknown with the upstream reason and message.', async () => {
    const n = await waitFor('node-2 Ready=Unknown', async () => {
      const current = await node('node-2');
      return readyCondition(current)?.status === 'Unknown' ? current : undefined;
    });
    const ready = readyCondition(n)!;
    assert.equal(ready.reason, 'NodeStatusUnknown');
    assert.equal(ready.message, 'Kubelet stopped posting node status.');
  });

  it('The silent node is tainted unreachable with NoSchedule and NoExecute.', async () => {
    const n = await waitFor('node-2 tainted', async () => {
      const current = await node('node-2');
      return taintKeys(current).length === 2 ? current : undefined;
    });
    assert.deepEqual(taintKeys(n), [`${TAINT_UNREACHABLE}:NoExecute`, `${TAINT_UNREACHABLE}:NoSchedule`]);
    assert.ok(n.spec?.taints?.find((t) => t.effect === 'NoExecute')?.timeAdded, 'expected timeAdded on the NoExecute taint');
  });

  it('A Pod tolerating the taint for 1 s is deleted, one with the default 300 s stays, and its Ready condition turns False.', async () => {
    await waitFor('Pod short marked for deletion', async () => (await getOrUndefined<Pod>(cluster.admin, RESOURCE.pods, 'default', 'short'))?.metadata.deletionTimestamp ?? false);
    const patient = await cluster.admin.get<Pod>(RESOURCE.pods, 'default', 'patient');
    assert.equal(patient.metadata.deletionTimestamp, undefined);
    assert.equal(patient.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
    assert.ok(patient.spec.tolerations?.some((t) => t.key === TAINT_UNREACHABLE && t.tolerationSeconds === 300), 'expected the DefaultTolerationSeconds toleration');
    const reasons = running.events.map((e) => `${e.object} ${e.reason}: ${e.message}`);
    assert.ok(reasons.includes('pod/short TaintManagerEviction: Marking for deletion Pod default/short'), reasons.join('\n'));
    assert.ok(reasons.includes('pod/patient NodeNotReady: Node is not ready'), reasons.join('\n'));
    assert.ok(reasons.includes('node/node-2 NodeNotReady: Node node-2 status is now: NodeNotReady'), reasons.join('\n'));
    assert.ok(reasons.includes('node/node-2 RegisteredNode: Node node-2 event: Registered Node node-2 in Controller'), reasons.join('\n'));
  });

  it('A node that keeps renewing its Lease stays Ready and untainted, and its Pods stay.', async () => {
    const n = await node('node-3');
    assert.equal(readyCondition(n)?.status, 'True');
    assert.deepEqual(taintKeys(n), []);
    const elsewhere = await cluster.admin.get<Pod>(RESOURCE.pods, 'default', 'elsewhere');
    assert.equal(elsewhere.metadata.deletionTimestamp, undefined);
  });

  it('When the kubelet comes back (Lease renewed, Ready posted) the taints are removed.', async () => {
    await renewLease(cluster.admin, 'node-2');
    await postNodeReady(cluster.admin, 'node-2');
    const back = setInterval(() => void renewLease(cluster.admin, 'node-2').catch(() => {}), 250);
    try {
      const n = await waitFor('node-2 untainted', async () => {
        const current = await node('node-2');
        return taintKeys(current).length === 0 ? current : undefined;
      });
      assert.equal(readyCondition(n)?.status, 'True');
    } finally {
      clearInterval(back);
    }
  });

  it('A node whose kubelet reports Ready=False is tainted not-ready.', async () => {
    await registerNode(cluster.admin, 'node-sick');
    const sick = await node('node-sick');
    const ready = readyCondition(sick)!;
    Object.assign(ready, { status: 'False', reason: 'KubeletNotReady', message: 'container runtime is down' });
    await cluster.admin.updateStatus(RESOURCE.nodes, sick);
    const keep = setInterval(() => void renewLease(cluster.admin, 'node-sick').catch(() => {}), 250);
    try {
      const n = await waitFor('node-sick tainted not-ready', async () => {
        const current = await node('node-sick');
        return taintKeys(current).length === 2 ? current : undefined;
      });
      assert.deepEqual(taintKeys(n), [`${TAINT_NOT_READY}:NoExecute`, `${TAINT_NOT_READY}:NoSchedule`]);
      assert.equal(readyCondition(n)?.reason, 'KubeletNotReady', 'expected the kubelet\'s own reason to stay: the node is reporting');
    } finally {
      clearInterval(keep);
    }
  });
});

describe('A node that stops renewing its Lease, with the ReplicaSet controller running', () => {
  let cluster: ControllerTestCluster;
  let running: Awaited<ReturnType<typeof runControllers>>;
  const heartbeats: Array<ReturnType<typeof setInterval>> = [];

  before(async () => {
    cluster = await startControllerTestCluster();
    await registerNode(cluster.admin, 'node-2');
    await registerNode(cluster.admin, 'node-3');
    heartbeats.push(setInterval(() => void renewLease(cluster.admin, 'node-3').catch(() => {}), 250));
    running = await runControllers(cluster, [(ctx, options) => new NodeLifecycleController(ctx, options), (ctx, options) => new ReplicaSetController(ctx, options)], {
      seams: referenceSeams,
      nodeMonitorGracePeriodMs: 1500,
      nodeMonitorPeriodMs: 200,
    });
  });
  after(async () => {
    for (const timer of heartbeats) clearInterval(timer);
    await running?.stop();
    await cluster?.stop();
  });

  it('Its Pods are replaced on the other node, and when it comes back nothing runs twice.', async () => {
    const admin = cluster.admin;
    const labels = { app: 'web' };
    await admin.create<ReplicaSet>(RESOURCE.replicasets, {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web', namespace: 'default' },
      spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'nginx' }], tolerations: shortToleration } } },
    });
    const pods = async () => (await admin.list<Pod>(RESOURCE.pods, { namespace: 'default', labelSelector: 'app=web' })).items;
    const live = (all: Pod[]) => all.filter((p) => !p.metadata.deletionTimestamp);
    let mostLive = 0;
    /** Plays the scheduler and the kubelets: binds unbound Pods to `node`, reports bound ones Running and Ready. */
    const scheduleOnto = async (node: string) => {
      for (const pod of await pods()) {
        if (pod.metadata.deletionTimestamp) continue;
        if (!pod.spec.nodeName) await admin.bind('default', pod.metadata.name ?? '', node);
        if (pod.status?.phase !== 'Running') await markPodRunning(admin, 'default', pod.metadata.name ?? '', `10.244.${node.slice(-1)}.${Math.floor(Math.random() * 200) + 2}`);
      }
      mostLive = Math.max(mostLive, live(await pods()).length);
    };

    const node2Kubelet = setInterval(() => void renewLease(admin, 'node-2').catch(() => {}), 250);
    try {
      await waitFor('2 Pods running on node-2', async () => {
        await scheduleOnto('node-2');
        const all = await pods();
        return all.length === 2 && all.every((p) => p.spec.nodeName === 'node-2' && p.status?.phase === 'Running');
      });
    } finally {
      clearInterval(node2Kubelet);
    }
    // node-2's kubelet goes silent: after the grace period its Pods are evicted and replaced.
    await waitFor('2 live Pods running on node-3', async () => {
      await scheduleOnto('node-3');
      const current = live(await pods());
      return current.length === 2 && current.every((p) => p.spec.nodeName === 'node-3' && p.status?.phase === 'Running');
    });
    const evicted = (await pods()).filter((p) => p.spec.nodeName === 'node-2');
    assert.equal(evicted.length, 2);
    assert.ok(evicted.every((p) => p.metadata.deletionTimestamp), 'expected the Pods on node-2 to be terminating');

    // node-2 comes back: its kubelet renews the Lease, posts Ready, and finishes the Pods it was told to stop.
    await renewLease(admin, 'node-2');
    await postNodeReady(admin, 'node-2');
    heartbeats.push(setInterval(() => void renewLease(admin, 'node-2').catch(() => {}), 250));
    for (const pod of evicted) await admin.delete(RESOURCE.pods, 'default', pod.metadata.name ?? '', { gracePeriodSeconds: 0 });
    await waitFor('node-2 untainted', async () => ((await admin.get<Node>(RESOURCE.nodes, undefined, 'node-2')).spec?.taints ?? []).length === 0);
    const final = await pods();
    assert.equal(final.length, 2, `expected exactly the 2 replacements, got ${final.map((p) => `${p.metadata.name}@${p.spec.nodeName}`).join(', ')}`);
    assert.ok(final.every((p) => p.spec.nodeName === 'node-3' && !p.metadata.deletionTimestamp));
    assert.ok(mostLive <= 2, `expected never more than 2 live Pods, saw ${mostLive}`);
  });
});
