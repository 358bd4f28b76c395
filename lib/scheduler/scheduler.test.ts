/**
 * The scheduler against a real in-process API server, as system:kube-scheduler:
 * where Pods land, what a Pod that fits nowhere is told, and the races of
 * binding (two schedulers, a delete, a vanished node).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Node, Pod, Taint } from '../api/types.ts';
import type { RecordedEvent } from '../client/events.ts';
import { RESOURCE } from '../controllers/informers.ts';
import { startTestCluster, type TestCluster } from '../../test/helpers/apiserver.ts';
import { startScheduler, type RunningScheduler, type SchedulerOptions } from './scheduler.ts';
import { eventually } from './test-helpers.ts';

const CONTROL_PLANE_TAINT: Taint = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };
const TAINT_AND_CPU = '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu.';

function node(name: string, cpu: string, taints: Taint[] = []): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    spec: { taints },
    status: { capacity: { cpu, memory: '4Gi', pods: '110' }, allocatable: { cpu, memory: '4Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function pod(name: string, cpu?: string, ownerUid?: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      labels: { app: 'backend' },
      ...(ownerUid ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'backend-7d9f8', uid: ownerUid, controller: true }] } : {}),
    },
    spec: { containers: [{ name: 'backend', image: 'backend:v0.0.1', ...(cpu ? { resources: { requests: { cpu } } } : {}) }] },
  };
}

async function podsOn(cluster: TestCluster): Promise<Map<string, string>> {
  const list = await cluster.admin.list<Pod>(RESOURCE.pods, { namespace: 'default' });
  return new Map(list.items.map((p) => [p.metadata.name ?? '', p.spec.nodeName ?? '']));
}

describe('the scheduler against a real API server', () => {
  let cluster: TestCluster;
  const schedulers: RunningScheduler[] = [];

  async function start(options: Partial<SchedulerOptions> = {}): Promise<RunningScheduler> {
    const scheduler = await startScheduler({ client: cluster.clientAs('system:kube-scheduler'), queue: { initialBackoffMs: 100, maxBackoffMs: 500 }, ...options });
    schedulers.push(scheduler);
    return scheduler;
  }

  async function stopAll(): Promise<void> {
    for (const s of schedulers.splice(0)) await s.stop();
  }

  async function freshCluster(nodes: Node[]): Promise<void> {
    await stopAll();
    await cluster?.stop();
    cluster = await startTestCluster();
    for (const n of nodes) await cluster.admin.create(RESOURCE.nodes, n);
  }

  before(async () => {
    cluster = await startTestCluster();
  });
  after(async () => {
    await stopAll();
    await cluster.stop();
  });

  it('Six Pods avoid the tainted control-plane node and spread 3/3 over node-2 and node-3.', async () => {
    await freshCluster([node('node-1', '2', [CONTROL_PLANE_TAINT]), node('node-2', '2'), node('node-3', '2')]);
    const events: RecordedEvent[] = [];
    await start({ onEvent: (e) => events.push(e) });
    for (let i = 0; i < 6; i++) await cluster.admin.create(RESOURCE.pods, pod(`backend-${i}`, undefined, 'rs-uid-1'));
    const placed = await eventually(async () => {
      const where = await podsOn(cluster);
      return [...where.values()].every((n) => n) && where.size === 6 ? where : undefined;
    }, 'all six pods bound');
    const perNode = new Map<string, number>();
    for (const n of placed.values()) perNode.set(n, (perNode.get(n) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries([...perNode].sort()), { 'node-2': 3, 'node-3': 3 });
    const scheduled = events.filter((e) => e.reason === 'Scheduled');
    assert.equal(scheduled.length, 6);
    for (const e of scheduled) {
      const name = e.object.slice('pod/'.length);
      assert.equal(e.message, `Successfully assigned default/${name} to ${placed.get(name)}`);
    }
  });

  it('A Pod asking for 3 cpu stays Pending with the upstream FailedScheduling message, and a node that fits makes it schedule.', async () => {
    await freshCluster([node('node-1', '2', [CONTROL_PLANE_TAINT]), node('node-2', '2'), node('node-3', '2')]);
    const events: RecordedEvent[] = [];
    const scheduler = await start({ onEvent: (e) => events.push(e) });
    await cluster.admin.create(RESOURCE.pods, pod('big', '3'));
    const failed = await eventually(() => events.find((e) => e.reason === 'FailedScheduling'), 'a FailedScheduling event');
    assert.equal(failed.message, TAINT_AND_CPU);
    assert.equal(failed.type, 'Warning');
    const condition = await eventually(async () => {
      const current = await cluster.admin.get<Pod>(RESOURCE.pods, 'default', 'big');
      return current.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    }, 'the PodScheduled=False condition');
    assert.equal(condition.reason, 'Unschedulable');
    assert.equal(condition.message, TAINT_AND_CPU);
    await eventually(() => scheduler.queue.placeOf('default/big') === 'unschedulable', 'the pod parked as unschedulable');
    assert.equal((await podsOn(cluster)).get('big'), '');

    await cluster.admin.create(RESOURCE.nodes, node('node-4', '4'));
    await eventually(async () => (await podsOn(cluster)).get('big') === 'node-4', 'the big pod bound to node-4 once it exists');
    const stored = await cluster.admin.list(RESOURCE.events, { namespace: 'default' });
    assert.ok(stored.items.some((e) => (e as unknown as { reason: string; source: { component: string } }).reason === 'FailedScheduling' && (e as unknown as { source: { component: string } }).source.component === 'default-scheduler'), 'expected the FailedScheduling event stored with source default-scheduler');
  });

  it('Two schedulers racing over the same Pods never bind one Pod twice.', async () => {
    await freshCluster([node('node-1', '2', [CONTROL_PLANE_TAINT]), node('node-2', '8'), node('node-3', '8')]);
    const events: RecordedEvent[] = [];
    const a = await start({ onEvent: (e) => events.push(e) });
    const b = await start({ onEvent: (e) => events.push(e) });
    const count = 30;
    await Promise.all(Array.from({ length: count }, (_, i) => cluster.admin.create(RESOURCE.pods, pod(`race-${i}`, '100m'))));
    await eventually(async () => [...(await podsOn(cluster)).values()].filter(Boolean).length === count, 'every racing pod bound');
    await eventually(() => a.stats.bound + b.stats.bound + a.stats.conflicts + b.stats.conflicts >= count, 'every binding answered');
    assert.equal(a.stats.bound + b.stats.bound, count, `expected exactly ${count} accepted bindings, got ${a.stats.bound} + ${b.stats.bound} (conflicts: ${a.stats.conflicts} + ${b.stats.conflicts})`);
    const scheduled = events.filter((e) => e.reason === 'Scheduled').map((e) => e.object);
    assert.equal(new Set(scheduled).size, scheduled.length, 'expected one Scheduled event per pod');
    // Each scheduler's cache ends up counting each pod once, where the API server says it is.
    const where = await podsOn(cluster);
    for (const s of [a, b]) {
      await eventually(() => [...where].every(([name, n]) => s.cache.nodeOf(`default/${name}`) === n && !s.cache.isAssumed(`default/${name}`)), 'both caches agreeing with the API server');
      const total = ['node-2', 'node-3'].reduce((sum, n) => sum + (s.cache.nodeInfo(n)?.resources.podCount ?? 0), 0);
      assert.equal(total, count);
    }
  });

  it('A binding refused with 409 because another scheduler bound the Pod first is forgotten, and the Pod counted where it really is.', async () => {
    await freshCluster([node('node-2', '2'), node('node-3', '2')]);
    const rival = cluster.clientAs('system:kube-scheduler');
    let chosen = '';
    const scheduler = await start({
      beforeBind: async (p, n) => {
        chosen = n;
        // Another scheduler wins the race: it binds the pod to the other node first.
        await rival.bind('default', p.metadata.name ?? '', n === 'node-2' ? 'node-3' : 'node-2');
      },
    });
    await cluster.admin.create(RESOURCE.pods, pod('contested', '1'));
    await eventually(() => scheduler.stats.conflicts === 1, 'our binding to be refused with 409');
    const really = chosen === 'node-2' ? 'node-3' : 'node-2';
    await eventually(() => scheduler.cache.nodeOf('default/contested') === really && !scheduler.cache.isAssumed('default/contested'), `the cache to count the pod on ${really}`);
    assert.equal(scheduler.cache.nodeInfo(chosen)?.resources.requested.milliCPU, 0, 'expected our assumption on the losing node forgotten');
    assert.equal(scheduler.cache.nodeInfo(really)?.resources.requested.milliCPU, 1000);
    assert.equal(scheduler.stats.bound, 0);
    assert.equal((await podsOn(cluster)).get('contested'), really);
    rival.close();
  });

  it('A binding that races the Pod\'s deletion is dropped, not retried.', async () => {
    await freshCluster([node('node-2', '2')]);
    const scheduler = await start({
      beforeBind: async (p) => {
        await cluster.admin.delete(RESOURCE.pods, 'default', p.metadata.name ?? '', { gracePeriodSeconds: 0 });
      },
    });
    await cluster.admin.create(RESOURCE.pods, pod('doomed', '500m'));
    await eventually(() => scheduler.stats.podGone === 1, 'the binding to answer 404');
    assert.equal(scheduler.stats.bound, 0);
    assert.equal(scheduler.queue.placeOf('default/doomed'), undefined, 'expected the deleted pod not to be queued again');
    assert.equal(scheduler.cache.nodeInfo('node-2')?.resources.requested.milliCPU, 0, 'expected the assumed 500m to be forgotten');
  });

  it('A Pod whose chosen node vanished before the binding is scheduled elsewhere.', async () => {
    await freshCluster([node('node-2', '2'), node('node-3', '2')]);
    let first: string | undefined;
    const scheduler = await start({
      beforeBind: async (_p, chosen) => {
        if (first) return;
        first = chosen;
        await cluster.admin.delete(RESOURCE.nodes, undefined, chosen);
        await eventually(() => !scheduler.cache.hasNode(chosen), 'the scheduler to see the node deleted');
      },
    });
    await cluster.admin.create(RESOURCE.pods, pod('wanderer', '500m'));
    const other = await eventually(async () => (await podsOn(cluster)).get('wanderer'), 'the pod bound somewhere');
    assert.ok(first, 'expected a first choice');
    assert.notEqual(other, first, `expected the pod not to be bound to the deleted ${first}`);
    assert.equal(scheduler.stats.nodeGone, 1);
    assert.equal(scheduler.stats.scheduled, 2, 'expected two scheduling cycles: the first choice, then the other node');
  });

  it('Pods for another scheduler are left alone.', async () => {
    await freshCluster([node('node-2', '2')]);
    const scheduler = await start();
    const other = pod('not-mine');
    other.spec.schedulerName = 'my-scheduler';
    await cluster.admin.create(RESOURCE.pods, other);
    await cluster.admin.create(RESOURCE.pods, pod('mine'));
    await eventually(async () => (await podsOn(cluster)).get('mine') === 'node-2', 'our pod bound');
    assert.equal((await podsOn(cluster)).get('not-mine'), '');
    assert.equal(scheduler.queue.placeOf('default/not-mine'), undefined);
  });
});
