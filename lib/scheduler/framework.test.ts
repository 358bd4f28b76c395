import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Node, Pod } from '../api/types.ts';
import { deepFreeze } from '../client/informer.ts';
import { SchedulerCache } from './cache.ts';
import { findFeasibleNodes, fitErrorMessage, numFeasibleNodesToFind, runFilters, scoreNodes, selectHost } from './framework.ts';
import { referenceSeams } from './seams.ts';

function node(name: string, cpu = '2', extra: Partial<NonNullable<Node['spec']>> = {}, labels: Record<string, string> = {}): Node {
  const offered = { cpu, memory: '4Gi', pods: '110' };
  return deepFreeze({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, spec: { ...extra }, status: { allocatable: offered } });
}

function pod(name: string, cpu?: string, nodeName?: string, owner?: string): Pod {
  return deepFreeze({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: owner, controller: true }] } : {}) },
    spec: { containers: [{ name: 'c', ...(cpu ? { resources: { requests: { cpu } } } : {}) }], ...(nodeName ? { nodeName } : {}) },
  });
}

describe('how many nodes to look at (numFeasibleNodesToFind)', () => {
  const cases: Array<[string, number, number | undefined, number]> = [
    ['A cluster under 100 nodes is looked at whole.', 50, undefined, 50],
    ['100 nodes: 49% would be 49, but never fewer than 100.', 100, undefined, 100],
    ['5000 nodes: 50 − 5000/125 = 10%, so 500.', 5000, undefined, 500],
    ['6000 nodes: the adaptive percentage bottoms out at 5%, so 300.', 6000, undefined, 300],
    ['An explicit 20% of 1000 nodes is 200.', 1000, 20, 200],
    ['An explicit 100% means every node.', 5000, 100, 5000],
  ];
  for (const [name, nodes, percentage, expected] of cases) it(name, () => assert.equal(numFeasibleNodesToFind(nodes, percentage), expected));
});

describe('the FailedScheduling message (fitErrorMessage)', () => {
  const cases: Array<[string, number, Array<[string, number]>, string]> = [
    ['Reasons are counted and sorted as strings, as upstream\'s FitError.', 3, [['Insufficient cpu', 2], ['node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }', 1]], '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu.'],
    ['One reason on every node.', 2, [['Too many pods', 2]], '0/2 nodes are available: 2 Too many pods.'],
    ['No node at all says so.', 0, [], 'no nodes available to schedule pods'],
  ];
  for (const [name, numAllNodes, reasons, expected] of cases) it(name, () => assert.equal(fitErrorMessage({ numAllNodes, reasons: new Map(reasons) }), expected));
});

describe('the scheduler cache', () => {
  it('An assumed Pod counts on its node at once, and the watch confirms it without counting it twice.', () => {
    const cache = new SchedulerCache();
    cache.setNode(node('node-2'));
    cache.assumePod(pod('a', '500m'), 'node-2');
    assert.equal(cache.nodeInfo('node-2')?.resources.requested.milliCPU, 500);
    assert.ok(cache.isAssumed('default/a'));
    cache.addPod(pod('a', '500m', 'node-2'));
    assert.equal(cache.nodeInfo('node-2')?.resources.requested.milliCPU, 500);
    assert.equal(cache.nodeInfo('node-2')?.resources.podCount, 1);
    assert.ok(!cache.isAssumed('default/a'));
    cache.forgetPod('default/a');
    assert.equal(cache.nodeInfo('node-2')?.resources.requested.milliCPU, 500, 'a confirmed pod is not forgotten');
  });

  it('A Pod another scheduler bound elsewhere moves from our assumption to where it really is.', () => {
    const cache = new SchedulerCache();
    cache.setNode(node('node-2'));
    cache.setNode(node('node-3'));
    cache.assumePod(pod('a', '1', undefined, 'rs-1'), 'node-2');
    cache.addPod(pod('a', '1', 'node-3', 'rs-1'));
    assert.equal(cache.nodeInfo('node-2')?.resources.requested.milliCPU, 0);
    assert.equal(cache.nodeInfo('node-2')?.ownerCounts.size, 0);
    assert.equal(cache.nodeInfo('node-3')?.resources.requested.milliCPU, 1000);
    assert.equal(cache.nodeInfo('node-3')?.ownerCounts.get('rs-1'), 1);
  });

  it('A failed binding forgets the assumption and frees the room.', () => {
    const cache = new SchedulerCache();
    cache.setNode(node('node-2'));
    cache.assumePod(pod('a', '2'), 'node-2');
    cache.forgetPod('default/a');
    assert.equal(cache.nodeInfo('node-2')?.resources.requested.milliCPU, 0);
    assert.equal(cache.nodeOf('default/a'), undefined);
  });

  it('A deleted Node leaves the node list; its Pods stay counted until they are deleted, and come back with it.', () => {
    const cache = new SchedulerCache();
    cache.setNode(node('node-2'));
    cache.addPod(pod('a', '1', 'node-2'));
    cache.removeNode('node-2');
    assert.equal(cache.nodeList.length, 0);
    assert.ok(!cache.hasNode('node-2'));
    cache.setNode(node('node-2'));
    assert.equal(cache.nodeInfo('node-2')?.resources.requested.milliCPU, 1000);
  });
});

describe('filtering and scoring over the cache', () => {
  it('Filters stop at the first that refuses: a cordoned, tainted node is only "unschedulable".', () => {
    const cache = new SchedulerCache();
    cache.setNode(node('node-1', '2', { unschedulable: true, taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }));
    assert.deepEqual(runFilters(pod('a', '3'), cache.nodeInfo('node-1')!, referenceSeams), ['node(s) were unschedulable']);
  });

  it('A NotReady node (tainted not-ready:NoSchedule by the node lifecycle controller) is refused, though every Pod tolerates not-ready:NoExecute for 300 s.', () => {
    const cache = new SchedulerCache();
    cache.setNode(node('node-2', '2', { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] }));
    const tolerating: Pod = deepFreeze({
      ...pod('a'),
      spec: { containers: [{ name: 'c' }], tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }] },
    });
    assert.deepEqual(runFilters(tolerating, cache.nodeInfo('node-2')!, referenceSeams), ['node(s) had untolerated taint {node.kubernetes.io/not-ready: }']);
  });

  it('The walk over the nodes resumes where the last one stopped.', () => {
    const cache = new SchedulerCache();
    for (let i = 0; i < 250; i++) cache.setNode(node(`node-${i}`));
    const state = { nextStartNodeIndex: 0 };
    const first = findFeasibleNodes(pod('a'), cache, referenceSeams, state);
    assert.equal(first.feasible.length, 120, 'expected 48% of 250 nodes (50 − 250/125) to be enough');
    assert.equal(first.feasible[0]?.name, 'node-0');
    assert.equal(state.nextStartNodeIndex, 120);
    const second = findFeasibleNodes(pod('b'), cache, referenceSeams, state);
    assert.equal(second.feasible[0]?.name, 'node-120');
  });

  it('A Pod whose siblings fill one node scores the other higher, and selectHost takes it.', () => {
    const cache = new SchedulerCache();
    cache.setNode(node('node-2'));
    cache.setNode(node('node-3'));
    cache.addPod(pod('sibling', undefined, 'node-2', 'rs-1'));
    const feasible = [cache.nodeInfo('node-2')!, cache.nodeInfo('node-3')!];
    const scores = scoreNodes(pod('new', undefined, undefined, 'rs-1'), feasible, referenceSeams);
    assert.ok(scores[1]! > scores[0]!, `expected node-3 to score higher, got ${scores}`);
    assert.equal(selectHost(feasible, scores)?.name, 'node-3');
  });
});
