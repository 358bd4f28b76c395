import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Lease, Node, Pod, Taint } from '../api/types.ts';
import { findResource } from '../apiserver/resources.ts';
import { isNotFound, KubeApiError } from '../client/client.ts';
import { startTestCluster, type TestCluster } from '../../test/helpers/apiserver.ts';
import { eventually } from '../../test/helpers/wait.ts';
import { parsePairs, parseTaints } from './main.ts';
import { CONTROL_PLANE_LABEL, EXIT_AFTER_ANNOTATION, EXIT_CODE_ANNOTATION, microTime, qosClass, startHollowNode, startHollowNodes, type HollowNode } from './hollow-node.ts';

const PODS = findResource('', 'v1', 'pods')!;
const NODES = findResource('', 'v1', 'nodes')!;
const LEASES = findResource('coordination.k8s.io', 'v1', 'leases')!;

/** A Pod already bound to `node` (as if the scheduler had placed it). */
function boundPod(name: string, node: string, extra: Partial<Pod['spec']> = {}, annotations: Record<string, string> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', annotations },
    spec: { nodeName: node, containers: [{ name: 'app', image: 'backend:v0.0.1' }], ...extra },
  };
}

describe('a hollow node', () => {
  let cluster: TestCluster;
  let node: HollowNode;

  before(async () => {
    cluster = await startTestCluster();
    node = await startHollowNode({ client: cluster.clientAs('system:node:node-2'), name: 'node-2', renewIntervalMs: 200 });
  });

  after(async () => {
    await node?.stop();
    await cluster?.stop();
  });

  const getPod = (name: string) => cluster.admin.get<Pod>(PODS, 'default', name);

  test('registers its Node with hostname and os labels, capacity, addresses, a Ready condition and a hollow runtime', async () => {
    const registered = await cluster.admin.get<Node>(NODES, undefined, 'node-2');
    assert.equal(registered.metadata.labels?.['kubernetes.io/hostname'], 'node-2');
    assert.equal(registered.metadata.labels?.['kubernetes.io/os'], 'linux');
    assert.deepEqual(registered.status?.capacity, { cpu: '2', memory: '4Gi', pods: '110' });
    assert.deepEqual(registered.status?.allocatable, registered.status?.capacity);
    assert.equal(registered.spec?.podCIDR, '10.244.1.0/24');
    assert.equal(registered.status?.addresses?.find((a) => a.type === 'InternalIP')?.address, '172.18.0.3');
    const conditions = Object.fromEntries((registered.status?.conditions ?? []).map((c) => [c.type, c]));
    assert.equal(conditions.Ready?.status, 'True');
    assert.equal(conditions.Ready?.message, 'kubelet is posting ready status');
    for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) assert.equal(conditions[type]?.status, 'False', type);
    assert.equal(registered.status?.nodeInfo?.containerRuntimeVersion, 'hollow://0.1');
    assert.match(registered.status?.nodeInfo?.kubeletVersion ?? '', /^v1\.\d+\.\d+$/);
  });

  test('holds a Lease in kube-node-lease named after the node, and renews it', async () => {
    const first = await cluster.admin.get<Lease>(LEASES, 'kube-node-lease', 'node-2');
    assert.equal(first.spec?.holderIdentity, 'node-2');
    assert.equal(first.spec?.leaseDurationSeconds, 40);
    assert.match(first.spec?.renewTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(first.metadata.ownerReferences?.[0]?.kind, 'Node');
    await eventually('the Lease renewed', async () => {
      const now = await cluster.admin.get<Lease>(LEASES, 'kube-node-lease', 'node-2');
      return now.spec?.renewTime !== first.spec?.renewTime;
    });
  });

  test('reports a Pod bound to it as Running and Ready, with an IP from its pod CIDR and a hollow container ID', async () => {
    await cluster.admin.create(PODS, boundPod('web', 'node-2'));
    const pod = await eventually('web Running', async () => {
      const p = await getPod('web');
      return p.status?.phase === 'Running' ? p : undefined;
    });
    assert.match(pod.status?.podIP ?? '', /^10\.244\.1\.\d+$/);
    assert.equal(pod.status?.hostIP, '172.18.0.3');
    assert.ok(pod.status?.startTime);
    const conditions = Object.fromEntries((pod.status?.conditions ?? []).map((c) => [c.type, c.status]));
    assert.deepEqual([conditions.Initialized, conditions.ContainersReady, conditions.Ready], ['True', 'True', 'True']);
    const container = pod.status?.containerStatuses?.[0];
    assert.equal(container?.ready, true);
    assert.ok(container?.state?.running?.startedAt);
    assert.equal(container?.image, 'backend:v0.0.1');
    assert.match(container?.containerID ?? '', /^hollow:\/\/[0-9a-f]{64}$/);
  });

  test('gives two Pods two different IPs', async () => {
    await cluster.admin.create(PODS, boundPod('web-b', 'node-2'));
    const ips = await eventually('two IPs', async () => {
      const [a, b] = await Promise.all([getPod('web'), getPod('web-b')]);
      return a.status?.podIP && b.status?.podIP ? [a.status.podIP, b.status.podIP] : undefined;
    });
    assert.notEqual(ips[0], ips[1]);
  });

  test('leaves alone a Pod bound to another node (it cannot even see it)', async () => {
    await cluster.admin.create(PODS, boundPod('elsewhere', 'node-3'));
    await cluster.admin.create(PODS, boundPod('marker', 'node-2'));
    await eventually('marker Running', async () => (await getPod('marker')).status?.phase === 'Running');
    assert.equal((await getPod('elsewhere')).status?.phase, 'Pending');
  });

  test('confirms a graceful delete at once: the Pod is gone instead of Terminating for 30 s', async () => {
    await cluster.admin.delete(PODS, 'default', 'web-b');
    await eventually('web-b deleted', async () => {
      try {
        await getPod('web-b');
        return false;
      } catch (error) {
        return isNotFound(error);
      }
    });
  });

  test('completes a Pod with restartPolicy Never after the exit-after-seconds annotation: exit code 0 Succeeded, 3 Failed', async () => {
    await cluster.admin.create(PODS, boundPod('job-ok', 'node-2', { restartPolicy: 'Never' }, { [EXIT_AFTER_ANNOTATION]: '0' }));
    await cluster.admin.create(PODS, boundPod('job-bad', 'node-2', { restartPolicy: 'Never' }, { [EXIT_AFTER_ANNOTATION]: '0', [EXIT_CODE_ANNOTATION]: '3' }));
    const ok = await eventually('job-ok Succeeded', async () => {
      const p = await getPod('job-ok');
      return p.status?.phase === 'Succeeded' ? p : undefined;
    });
    assert.equal(ok.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 0);
    assert.equal(ok.status?.containerStatuses?.[0]?.state?.terminated?.reason, 'Completed');
    const bad = await eventually('job-bad Failed', async () => {
      const p = await getPod('job-bad');
      return p.status?.phase === 'Failed' ? p : undefined;
    });
    assert.equal(bad.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 3);
  });

  test('keeps a Pod with restartPolicy Always running even with the exit annotation', async () => {
    await cluster.admin.create(PODS, boundPod('server', 'node-2', {}, { [EXIT_AFTER_ANNOTATION]: '0' }));
    await eventually('server Running', async () => (await getPod('server')).status?.phase === 'Running');
    await cluster.admin.create(PODS, boundPod('server-marker', 'node-2', { restartPolicy: 'Never' }, { [EXIT_AFTER_ANNOTATION]: '0' }));
    await eventually('server-marker Succeeded', async () => (await getPod('server-marker')).status?.phase === 'Succeeded');
    assert.equal((await getPod('server')).status?.phase, 'Running');
  });

  test('acts as its own identity: as system:node:node-2 it may not report on a Pod bound to node-3', async () => {
    const client = cluster.clientAs('system:node:node-2');
    try {
      const other = await client.get<Pod>(PODS, 'default', 'elsewhere');
      await assert.rejects(client.updateStatus(PODS, { ...other, status: { phase: 'Running' } }), (error: unknown) => error instanceof KubeApiError && error.code === 403);
    } finally {
      client.close();
    }
  });

  test('paused, it stops renewing and confirming; resumed, it says Ready again, confirms the deletes, and reports Pods ready again', async () => {
    node.pause();
    const paused = await cluster.admin.get<Lease>(LEASES, 'kube-node-lease', 'node-2');
    // Mark the Node and the Pod as the node lifecycle controller would, and delete a Pod.
    const stale = await cluster.admin.get<Node>(NODES, undefined, 'node-2');
    stale.status!.conditions = stale.status!.conditions!.map((c) => (c.type === 'Ready' ? { ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' } : c));
    await cluster.admin.updateStatus(NODES, stale);
    const web = await getPod('web');
    web.status!.conditions = web.status!.conditions!.map((c) => (c.type === 'Ready' ? { ...c, status: 'False' } : c));
    await cluster.admin.updateStatus(PODS, web);
    await cluster.admin.delete(PODS, 'default', 'marker');

    // A renewal would take 200 ms; wait for several, seen through a Pod that stays Terminating.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.ok((await getPod('marker')).metadata.deletionTimestamp, 'expected marker to stay Terminating while the node is paused');
    assert.equal((await cluster.admin.get<Lease>(LEASES, 'kube-node-lease', 'node-2')).spec?.renewTime, paused.spec?.renewTime);

    await node.resume();
    await eventually('marker confirmed deleted', async () => {
      try {
        await getPod('marker');
        return false;
      } catch (error) {
        return isNotFound(error);
      }
    });
    const ready = await cluster.admin.get<Node>(NODES, undefined, 'node-2');
    assert.equal(ready.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    const again = await eventually('web Ready again', async () => {
      const p = await getPod('web');
      return p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? p : undefined;
    });
    assert.equal(again.status?.podIP, web.status?.podIP, 'expected the Pod to keep its IP');
    assert.equal(again.status?.containerStatuses?.[0]?.containerID, web.status?.containerStatuses?.[0]?.containerID, 'expected the same container, not a second one');
    assert.ok(Date.parse((await cluster.admin.get<Lease>(LEASES, 'kube-node-lease', 'node-2')).spec?.renewTime ?? '') > Date.parse(paused.spec?.renewTime ?? ''));
  });
});

describe('a hollow node that restarts', () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await startTestCluster();
  });

  after(async () => {
    await cluster?.stop();
  });

  test('finds its Node and Lease again, keeps running Pods as they were, and confirms a delete made while it was down', async () => {
    const client = cluster.clientAs('system:node:node-3');
    const first = await startHollowNode({ client, name: 'node-3', renewIntervalMs: 200 });
    await cluster.admin.create(PODS, boundPod('keep', 'node-3'));
    await cluster.admin.create(PODS, boundPod('drop', 'node-3'));
    const before = await eventually('both Running', async () => {
      const [keep, drop] = await Promise.all([cluster.admin.get<Pod>(PODS, 'default', 'keep'), cluster.admin.get<Pod>(PODS, 'default', 'drop')]);
      return keep.status?.phase === 'Running' && drop.status?.phase === 'Running' ? keep : undefined;
    });
    const node = await cluster.admin.get<Node>(NODES, undefined, 'node-3');
    await first.stop();

    await cluster.admin.delete(PODS, 'default', 'drop');
    const second = await startHollowNode({ client, name: 'node-3', renewIntervalMs: 200 });
    try {
      await eventually('drop confirmed deleted', async () => {
        try {
          await cluster.admin.get<Pod>(PODS, 'default', 'drop');
          return false;
        } catch (error) {
          return isNotFound(error);
        }
      });
      await second.whenIdle();
      const after = await cluster.admin.get<Pod>(PODS, 'default', 'keep');
      assert.equal(after.status?.podIP, before.status?.podIP);
      assert.equal(after.status?.containerStatuses?.[0]?.containerID, before.status?.containerStatuses?.[0]?.containerID);
      assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion, 'expected no write to a Pod already reported running');
      assert.equal((await cluster.admin.get<Node>(NODES, undefined, 'node-3')).metadata.uid, node.metadata.uid, 'expected the same Node, not a new one');
    } finally {
      await second.stop();
      client.close();
    }
  });
});

describe('the scenario nodes', () => {
  let cluster: TestCluster;
  let nodes: Map<string, HollowNode>;

  before(async () => {
    cluster = await startTestCluster();
    nodes = await startHollowNodes(cluster, ['node-1', 'node-2', 'node-3']);
  });

  after(async () => {
    for (const node of nodes?.values() ?? []) await node.stop();
    await cluster?.stop();
  });

  test('node-1 is the control plane: labelled and tainted NoSchedule; node-2 and node-3 are untainted workers', async () => {
    const list = await cluster.admin.list<Node>(NODES);
    const byName = new Map(list.items.map((n) => [n.metadata.name, n]));
    assert.deepEqual([...byName.keys()].sort(), ['node-1', 'node-2', 'node-3']);
    assert.equal(byName.get('node-1')?.metadata.labels?.[CONTROL_PLANE_LABEL], '');
    assert.deepEqual(byName.get('node-1')?.spec?.taints, [{ key: CONTROL_PLANE_LABEL, effect: 'NoSchedule' }]);
    for (const worker of ['node-2', 'node-3']) {
      assert.equal(byName.get(worker)?.metadata.labels?.[CONTROL_PLANE_LABEL], undefined);
      assert.equal(byName.get(worker)?.spec?.taints, undefined);
    }
    assert.deepEqual(list.items.map((n) => n.spec?.podCIDR).sort(), ['10.244.0.0/24', '10.244.1.0/24', '10.244.2.0/24']);
  });
});

describe('microTime', () => {
  test('writes microseconds, as a Lease renewTime carries them', () => {
    assert.equal(microTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678)), '2026-01-02T03:04:05.678000Z');
  });
});

describe('the hollow node command line', () => {
  const taintCases: Array<[string, string, Taint[]]> = [
    ['a key with a value and an effect is one taint', 'dedicated=gpu:NoSchedule', [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]],
    ['a key without a value is a taint without one, as kubeadm writes the control-plane taint', 'node-role.kubernetes.io/control-plane:NoSchedule', [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]],
    ['commas separate several taints', 'a=1:NoExecute,b:PreferNoSchedule', [{ key: 'a', value: '1', effect: 'NoExecute' }, { key: 'b', effect: 'PreferNoSchedule' }]],
    ['nothing given means no taints', '', []],
  ];
  for (const [name, text, expected] of taintCases) {
    test(name, () => assert.deepEqual(parseTaints(text), expected));
  }

  test('a taint without an effect is refused, saying what was expected', () => {
    assert.throws(() => parseTaints('dedicated=gpu'), /expected key\[=value\]:NoSchedule\|PreferNoSchedule\|NoExecute, got "dedicated=gpu"/);
  });

  test('labels and capacities are key=value pairs separated by commas', () => {
    assert.deepEqual(parsePairs('cpu=4,memory=8Gi'), { cpu: '4', memory: '8Gi' });
    assert.throws(() => parsePairs('cpu'), /expected key=value, got "cpu"/);
  });
});

describe('qosClass', () => {
  const pod = (resources?: { requests?: Record<string, string>; limits?: Record<string, string> }): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', ...(resources ? { resources } : {}) }] } });
  const cases: Array<[string, Pod, string]> = [
    ['a Pod that asks for nothing is BestEffort', pod(), 'BestEffort'],
    ['a Pod with requests but no limits is Burstable', pod({ requests: { cpu: '100m' } }), 'Burstable'],
    ['a Pod whose cpu and memory limits equal its requests is Guaranteed', pod({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } }), 'Guaranteed'],
    ['a Pod with limits only is Guaranteed (requests default to limits)', pod({ limits: { cpu: '1', memory: '1Gi' } }), 'Guaranteed'],
    ['a Pod with a cpu limit but no memory limit is Burstable', pod({ limits: { cpu: '1' } }), 'Burstable'],
  ];
  for (const [name, input, expected] of cases) test(name, () => assert.equal(qosClass(input), expected));
});
