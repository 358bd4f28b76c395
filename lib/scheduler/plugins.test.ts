import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod, Taint, Toleration } from '../api/types.ts';
import { leastAllocatedScore } from './plugins/least-allocated.ts';
import { fitsResources } from './plugins/node-resources-fit.ts';
import { matchNodeSelector, NODE_SELECTOR_REASON } from './plugins/node-selector.ts';
import { checkUnschedulable, UNSCHEDULABLE_REASON } from './plugins/node-unschedulable.ts';
import { spreadScores } from './plugins/selector-spread.ts';
import { findUntoleratedTaint, untoleratedTaintReason } from './plugins/taint-toleration.ts';
import { nodeAllocatable, podNonZeroRequests, podRequests, type NodeResources } from './resources.ts';

const GI = 1024 ** 3;
const MI = 1024 ** 2;

function pod(containers: Array<Record<string, string>>, initContainers: Array<Record<string, string>> = []): Pod {
  const c = (requests: Record<string, string>, i: number) => ({ name: `c${i}`, image: 'x', resources: Object.keys(requests).length ? { requests } : {} });
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: containers.map(c), initContainers: initContainers.map(c) } };
}

function node(cpu: number, memory: number, pods: number, requested: [number, number] = [0, 0], podCount = 0): NodeResources {
  return { allocatable: { milliCPU: cpu, memory, pods }, requested: { milliCPU: requested[0], memory: requested[1] }, podCount };
}

describe('pod requests', () => {
  const cases: Array<[string, Pod, { milliCPU: number; memory: number }]> = [
    ['A pod without requests requests nothing.', pod([{}]), { milliCPU: 0, memory: 0 }],
    ['Requests of several containers are summed.', pod([{ cpu: '250m', memory: '64Mi' }, { cpu: '1', memory: '1Gi' }]), { milliCPU: 1250, memory: GI + 64 * MI }],
    ['An init container bigger than the sum raises the request to its own.', pod([{ cpu: '100m' }, { cpu: '100m' }], [{ cpu: '500m' }]), { milliCPU: 500, memory: 0 }],
    ['An init container smaller than the sum changes nothing.', pod([{ cpu: '1', memory: '1Gi' }], [{ cpu: '200m', memory: '2Gi' }]), { milliCPU: 1000, memory: 2 * GI }],
    ['A decimal CPU count is read in millicores without rounding errors.', pod([{ cpu: '0.1' }]), { milliCPU: 100, memory: 0 }],
  ];
  for (const [name, p, expected] of cases) it(name, () => assert.deepEqual(podRequests(p), expected));

  it('A container without requests counts as 100m and 200Mi for scoring.', () => {
    assert.deepEqual(podNonZeroRequests(pod([{}, { cpu: '1' }])), { milliCPU: 1100, memory: 400 * MI });
  });

  it('A node offers its allocatable, in millicores, bytes and a pod count.', () => {
    const n = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, status: { allocatable: { cpu: '2', memory: '4Gi', pods: '110' } } };
    assert.deepEqual(nodeAllocatable(n), { milliCPU: 2000, memory: 4 * GI, pods: 110 });
  });
});

describe('NodeResourcesFit (fitsResources)', () => {
  const cases: Array<[string, Pod, NodeResources, string[]]> = [
    ['A pod that fits in what is left gets no reasons.', pod([{ cpu: '1', memory: '1Gi' }]), node(2000, 4 * GI, 110, [1000, 3 * GI], 3), []],
    ['A pod asking exactly what is left fits.', pod([{ cpu: '1' }]), node(2000, 4 * GI, 110, [1000, 0], 1), []],
    ['A pod asking more CPU than is left gets Insufficient cpu.', pod([{ cpu: '3' }]), node(2000, 4 * GI, 110), ['Insufficient cpu']],
    ['A pod asking more memory than is left gets Insufficient memory.', pod([{ memory: '2Gi' }]), node(2000, 4 * GI, 110, [0, 3 * GI], 2), ['Insufficient memory']],
    ['A pod short of both gets both reasons, cpu first.', pod([{ cpu: '2', memory: '5Gi' }]), node(2000, 4 * GI, 110, [1, 0], 1), ['Insufficient cpu', 'Insufficient memory']],
    ['A node with all its pod slots taken is Too many pods even for an empty pod.', pod([{}]), node(2000, 4 * GI, 110, [0, 0], 110), ['Too many pods']],
    ['An init container counts when it asks more than the app containers.', pod([{ cpu: '100m' }], [{ cpu: '2500m' }]), node(2000, 4 * GI, 110), ['Insufficient cpu']],
    ['A pod asking no cpu fits a node already over-committed on cpu.', pod([{ memory: '1Gi' }]), node(2000, 4 * GI, 110, [2500, 0], 3), []],
    ['A node that states no pods at all takes none.', pod([{}]), node(2000, 4 * GI, 0), ['Too many pods']],
  ];
  for (const [name, p, n, expected] of cases) it(name, () => assert.deepEqual(fitsResources(p, n), expected));
});

describe('LeastAllocated (leastAllocatedScore)', () => {
  const cases: Array<[string, [number, number], [number, number], number]> = [
    ['An empty node scores 100.', [0, 0], [2000, 4 * GI], 100],
    ['A half-used node scores 50.', [1000, 2 * GI], [2000, 4 * GI], 50],
    ['Each resource is rounded down before the average, and the average is rounded down.', [100, 200 * MI], [2000, 4 * GI], 95],
    ['A resource requested beyond allocatable scores 0 for that resource.', [3000, 0], [2000, 4 * GI], 50],
    ['A node with no allocatable memory scores 0 for memory.', [0, 0], [2000, 0], 50],
    ['A full node scores 0.', [2000, 4 * GI], [2000, 4 * GI], 0],
  ];
  for (const [name, requested, allocatable, expected] of cases) {
    it(name, () => assert.equal(leastAllocatedScore({ milliCPU: requested[0], memory: requested[1] }, { milliCPU: allocatable[0], memory: allocatable[1] }), expected));
  }
});

describe('TaintToleration (findUntoleratedTaint)', () => {
  const controlPlane: Taint = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };
  const notReady: Taint = { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' };
  const prefer: Taint = { key: 'spot', value: 'true', effect: 'PreferNoSchedule' };
  const gpu: Taint = { key: 'gpu', value: 'nvidia', effect: 'NoSchedule' };
  const cases: Array<[string, Taint[], Toleration[], Taint | undefined]> = [
    ['A node without taints repels nothing.', [], [], undefined],
    ['The control-plane taint repels a pod without tolerations.', [controlPlane], [], controlPlane],
    ['A PreferNoSchedule taint is never a reason to refuse.', [prefer], [], undefined],
    ['A NoExecute taint repels too.', [notReady], [], notReady],
    ['Exists with the key tolerates whatever the value.', [gpu], [{ key: 'gpu', operator: 'Exists' }], undefined],
    ['Equal needs the same value.', [gpu], [{ key: 'gpu', operator: 'Equal', value: 'amd' }], gpu],
    ['An operator left out means Equal.', [gpu], [{ key: 'gpu', value: 'nvidia' }], undefined],
    ['An empty key with Exists tolerates every taint.', [controlPlane, gpu, notReady], [{ operator: 'Exists' }], undefined],
    ['An empty effect matches every effect.', [notReady], [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists' }], undefined],
    ['A toleration for another effect does not tolerate.', [controlPlane], [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoExecute' }], controlPlane],
    ['The first untolerated taint is the one reported.', [prefer, gpu, controlPlane], [], gpu],
  ];
  for (const [name, taints, tolerations, expected] of cases) it(name, () => assert.deepEqual(findUntoleratedTaint(taints, tolerations), expected));

  it('The reason names the taint as upstream prints it, with an empty value.', () => {
    assert.equal(untoleratedTaintReason(controlPlane), 'node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }');
    assert.equal(untoleratedTaintReason(gpu), 'node(s) had untolerated taint {gpu: nvidia}');
  });
});

describe('NodeAffinity for nodeSelector (matchNodeSelector)', () => {
  const cases: Array<[string, Record<string, string> | undefined, Record<string, string> | undefined, string[]]> = [
    ['A pod without a nodeSelector fits every node.', undefined, { a: 'b' }, []],
    ['A node with every selector label fits.', { disktype: 'ssd' }, { disktype: 'ssd', zone: 'a' }, []],
    ['A node with another value does not fit.', { disktype: 'ssd' }, { disktype: 'hdd' }, [NODE_SELECTOR_REASON]],
    ['A node without labels does not fit a selector.', { disktype: 'ssd' }, undefined, [NODE_SELECTOR_REASON]],
  ];
  for (const [name, selector, labels, expected] of cases) it(name, () => assert.deepEqual(matchNodeSelector(selector, labels), expected));
});

describe('NodeUnschedulable (checkUnschedulable)', () => {
  const cases: Array<[string, boolean | undefined, Toleration[], string[]]> = [
    ['A schedulable node takes pods.', undefined, [], []],
    ['A cordoned node refuses a pod.', true, [], [UNSCHEDULABLE_REASON]],
    ['A pod tolerating the unschedulable taint may still go there.', true, [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }], []],
  ];
  for (const [name, unschedulable, tolerations, expected] of cases) it(name, () => assert.deepEqual(checkUnschedulable(unschedulable, tolerations), expected));
});

describe('spreading (spreadScores)', () => {
  const cases: Array<[string, number[], number[]]> = [
    ['With no sibling anywhere, every node scores 100.', [0, 0, 0], [100, 100, 100]],
    ['The node with the most siblings scores 0 and an empty one 100.', [2, 0, 1], [0, 100, 50]],
    ['Scores are rounded down.', [3, 2, 0], [0, 33, 100]],
  ];
  for (const [name, counts, expected] of cases) it(name, () => assert.deepEqual(spreadScores(counts), expected));
});
