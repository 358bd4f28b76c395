/**
 * Checks for chapter 4's exercises. Each exercise is checked on its own,
 * then inside a real scheduler that calls the learner's function through its
 * seams, against a real API server: "it passes" means "Pods land where
 * Kubernetes would put them, and a Pod that fits nowhere is told why in the
 * words of the real scheduler".
 */
import type { Node, Pod, Taint, Toleration } from '../../api/types.ts';
import { TokenAuthenticator } from '../../apiserver/auth.ts';
import { ADMIN, COMPONENTS } from '../../apiserver/bootstrap.ts';
import { startApiServer } from '../../apiserver/server.ts';
import { KubeClient } from '../../client/client.ts';
import { MemoryEventRecorder } from '../../client/events.ts';
import { RESOURCE } from '../../controllers/informers.ts';
import type { NodeResources, Resources } from '../../scheduler/resources.ts';
import { startScheduler, type RunningScheduler } from '../../scheduler/scheduler.ts';
import type { SchedulerSeams } from '../../scheduler/seams.ts';
import { openStore } from '../../store/store.ts';
import { CheckFailure, expectEqual, expectTrue, show } from '../expect.ts';
import { noticeTodos } from '../todo.ts';
import type { Check } from './types.ts';

const GI = 1024 ** 3;
const MI = 1024 ** 2;
const CONTROL_PLANE: Taint = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };

/** The exercise's function, or a clear failure when the file does not export it. */
function fn<T>(impl: Record<string, unknown>, name: string): T {
  const f = impl[name];
  if (typeof f !== 'function') throw new CheckFailure(`expected the file to export a function named ${name}, got ${show(f)}`);
  return f as T;
}

// ---- the pieces the checks build with ------------------------------------------

function pod(name: string, requests: Record<string, string> = {}, extra: Partial<Pod['spec']> = {}, initRequests?: Record<string, string>): Pod {
  const container = (n: string, r: Record<string, string>) => ({ name: n, image: 'backend:v0.0.1', ...(Object.keys(r).length ? { resources: { requests: r } } : {}) });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: 'backend' } },
    spec: { containers: [container('backend', requests)], ...(initRequests ? { initContainers: [container('init', initRequests)] } : {}), ...extra },
  };
}

function node(name: string, cpu: string, memory = '4Gi', pods = '110', taints: Taint[] = []): Node {
  const offered = { cpu, memory, pods };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    spec: { taints },
    status: { capacity: offered, allocatable: offered, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function resources(cpu: number, memory: number, pods: number, requested: [number, number] = [0, 0], podCount = 0): NodeResources {
  return { allocatable: { milliCPU: cpu, memory, pods }, requested: { milliCPU: requested[0], memory: requested[1] }, podCount };
}

const r = (milliCPU: number, memory: number): Resources => ({ milliCPU, memory });

// ---- a real scheduler running the learner's function --------------------------------

/** What a check running a scheduler can do. */
interface SchedulerWorld {
  admin: KubeClient;
  scheduler: RunningScheduler;
  events: MemoryEventRecorder;
  /** Polls until `check` holds (fails after 15 s, or at once when the learner's function still throws TODO). */
  until<T>(check: () => T | Promise<T>, what: string): Promise<NonNullable<T>>;
  /** Where each Pod of the default namespace is bound ("" when not). */
  placement(): Promise<Map<string, string>>;
}

/**
 * Runs `body` against a fresh in-memory store and API server, with a
 * scheduler (as system:kube-scheduler) that uses `given` as its seams. A
 * stub's TODO thrown inside the scheduler is caught on the way and re-thrown
 * here, so the grader says "not started" rather than "failed".
 */
async function withScheduler(given: Partial<SchedulerSeams>, nodes: Node[], body: (world: SchedulerWorld) => Promise<void>): Promise<void> {
  const { wrapped: seams, seen } = noticeTodos(given);
  const store = await openStore();
  const authenticator = new TokenAuthenticator();
  authenticator.add('admin-token', ADMIN);
  authenticator.add('scheduler-token', COMPONENTS['kube-scheduler']!);
  const server = await startApiServer({ backend: store, authenticator, compactionIntervalMs: 0 });
  const admin = new KubeClient({ server: server.url, token: 'admin-token' });
  const schedulerClient = new KubeClient({ server: server.url, token: 'scheduler-token' });
  const events = new MemoryEventRecorder();
  let scheduler: RunningScheduler | undefined;
  try {
    for (const n of nodes) await admin.create(RESOURCE.nodes, n);
    scheduler = await startScheduler({ client: schedulerClient, seams, recorder: events, queue: { initialBackoffMs: 100, maxBackoffMs: 200 } });
    const until = async <T>(check: () => T | Promise<T>, what: string): Promise<NonNullable<T>> => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const todo = seen();
        if (todo) throw todo;
        const value = await check();
        if (value) return value as NonNullable<T>;
        if (Date.now() > deadline) throw new CheckFailure(`expected ${what} within 15 s, but it did not happen`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    };
    const placement = async () => {
      const list = await admin.list<Pod>(RESOURCE.pods, { namespace: 'default' });
      return new Map(list.items.map((p) => [p.metadata.name ?? '', p.spec.nodeName ?? '']));
    };
    await body({ admin, scheduler, events, until, placement });
  } catch (error) {
    throw seen() ?? error;
  } finally {
    await scheduler?.stop();
    admin.close();
    schedulerClient.close();
    await server.close();
    await store.close();
  }
}

/** The FailedScheduling message the scheduler recorded for a Pod. */
function failedScheduling(world: SchedulerWorld, name: string): string | undefined {
  return world.events.events.find((e) => e.reason === 'FailedScheduling' && e.object === `pod/${name}`)?.message;
}

// ---- the checks -------------------------------------------------------------------

export const checks: Record<string, Check[]> = {
  '4.1': [
    {
      name: 'a Pod that fits gets no reasons; one that asks too much gets the right one',
      run(impl) {
        const fits = fn<SchedulerSeams['fitsResources']>(impl, 'fitsResources');
        expectEqual(fits(pod('small', { cpu: '500m', memory: '256Mi' }), resources(2000, 4 * GI, 110, [1000, GI], 2)), [], 'a 500m/256Mi Pod on a 2-cpu node with 1 cpu requested');
        expectEqual(fits(pod('exact', { cpu: '1' }), resources(2000, 4 * GI, 110, [1000, 0], 1)), [], 'a Pod asking exactly the cpu that is left');
        expectEqual(fits(pod('big', { cpu: '3' }), resources(2000, 4 * GI, 110)), ['Insufficient cpu'], 'a 3-cpu Pod on an empty 2-cpu node');
        expectEqual(fits(pod('fat', { memory: '2Gi' }), resources(2000, 4 * GI, 110, [0, 3 * GI], 1)), ['Insufficient memory'], 'a 2Gi Pod on a 4Gi node with 3Gi requested');
        expectEqual(fits(pod('both', { cpu: '2', memory: '5Gi' }), resources(2000, 4 * GI, 110, [500, 0], 1)), ['Insufficient cpu', 'Insufficient memory'], 'a Pod short of both (cpu first)');
      },
    },
    {
      name: 'the Pod count, empty Pods, several containers and init containers',
      run(impl) {
        const fits = fn<SchedulerSeams['fitsResources']>(impl, 'fitsResources');
        expectEqual(fits(pod('empty'), resources(2000, 4 * GI, 110, [2000, 4 * GI], 110)), ['Too many pods'], 'an empty Pod on a full node with 110 of 110 pods (a Pod without requests fits any cpu and memory)');
        const two: Pod = pod('two', { cpu: '600m', memory: '1Gi' });
        two.spec.containers.push({ name: 'sidecar', image: 'x', resources: { requests: { cpu: '600m' } } });
        expectEqual(fits(two, resources(1000, 4 * GI, 110)), ['Insufficient cpu'], 'two containers of 600m each on a 1-cpu node (requests add up)');
        expectEqual(fits(pod('init', { cpu: '100m' }, {}, { cpu: '1500m' }), resources(1000, 4 * GI, 110)), ['Insufficient cpu'], 'an init container asking 1500m on a 1-cpu node (the largest init container counts when it is bigger)');
        expectEqual(fits(pod('init-small', { cpu: '800m' }, {}, { cpu: '500m' }), resources(1000, 4 * GI, 110)), [], 'an 800m Pod with a 500m init container on a 1-cpu node (init containers do not add up with the others)');
        expectEqual(fits(pod('decimal', { cpu: '0.1' }), resources(100, GI, 110)), [], "a Pod asking cpu '0.1' on a node with 100m left");
        expectEqual(fits(pod('no-cpu', { memory: '1Gi' }), resources(2000, 4 * GI, 110, [2500, 0], 3)), [], 'a Pod asking no cpu on a node whose Pods already request 2500m of 2000m (asking nothing always fits)');
      },
    },
    {
      name: 'inside the scheduler: a 3-cpu Pod gets "0/2 nodes are available: 1 Insufficient cpu, 1 Too many pods." and a 1-cpu Pod is bound',
      async run(impl) {
        const fitsResources = fn<SchedulerSeams['fitsResources']>(impl, 'fitsResources');
        await withScheduler({ fitsResources }, [node('node-2', '2'), node('node-3', '4', '4Gi', '1')], async (world) => {
          // node-3 has room for one Pod only, and gets it now.
          await world.admin.create(RESOURCE.pods, pod('resident', {}, { nodeName: 'node-3' }));
          await world.until(() => world.scheduler.cache.nodeInfo('node-3')?.resources.podCount === 1, 'the scheduler to count the resident Pod on node-3');
          await world.admin.create(RESOURCE.pods, pod('big', { cpu: '3' }));
          // Why also look at the binding: a version that lets everything fit binds the Pod, and the check can say so at once.
          const message = await world.until(async () => failedScheduling(world, 'big') ?? ((await world.placement()).get('big') ? `no FailedScheduling: the Pod was bound to ${(await world.placement()).get('big')}` : undefined), 'a FailedScheduling event for the 3-cpu Pod');
          expectEqual(message, '0/2 nodes are available: 1 Insufficient cpu, 1 Too many pods.', 'the FailedScheduling message');
          await world.admin.create(RESOURCE.pods, pod('small', { cpu: '1' }));
          await world.until(async () => (await world.placement()).get('small') === 'node-2', 'the 1-cpu Pod bound to node-2');
          expectEqual((await world.placement()).get('big'), '', 'where the 3-cpu Pod is bound');
        });
      },
    },
  ],
  '4.2': [
    {
      name: 'empty, half-full and full nodes',
      run(impl) {
        const score = fn<SchedulerSeams['leastAllocatedScore']>(impl, 'leastAllocatedScore');
        expectEqual(score(r(0, 0), r(2000, 4 * GI)), 100, 'the score of an empty node');
        expectEqual(score(r(1000, 2 * GI), r(2000, 4 * GI)), 50, 'the score of a half-used node');
        expectEqual(score(r(2000, 4 * GI), r(2000, 4 * GI)), 0, 'the score of a full node');
        expectEqual(score(r(1000, 0), r(2000, 4 * GI)), 75, 'cpu half used, memory free (the average of 50 and 100)');
      },
    },
    {
      name: 'rounding down, over-commitment and a node without a resource',
      run(impl) {
        const score = fn<SchedulerSeams['leastAllocatedScore']>(impl, 'leastAllocatedScore');
        expectEqual(score(r(100, 200 * MI), r(2000, 4 * GI)), 95, '100m of 2 cpu and 200Mi of 4Gi (95 and 95.1 → 95)');
        expectEqual(score(r(1, 0), r(3, 8)), 83, '1 of 3 cpu, memory free (66 and 100 → 83)');
        expectEqual(score(r(1, 2), r(3, 3)), 49, '1 of 3 cpu and 2 of 3 memory: each resource rounds down before the average (66 and 33 → 49, not 50)');
        expectEqual(score(r(3000, 0), r(2000, 4 * GI)), 50, 'cpu requested beyond allocatable counts 0, never negative');
        expectEqual(score(r(0, 0), r(2000, 0)), 50, 'a node with no memory at all counts 0 for memory');
      },
    },
    {
      name: 'inside the scheduler: Pods go to the node that keeps the most room',
      async run(impl) {
        const leastAllocatedScore = fn<SchedulerSeams['leastAllocatedScore']>(impl, 'leastAllocatedScore');
        await withScheduler({ leastAllocatedScore }, [node('node-2', '2', '4Gi'), node('node-3', '4', '8Gi')], async (world) => {
          // A 1-cpu/1Gi Pod: node-3 would keep 75% cpu and 87% memory (81), node-2 50% and 75% (62).
          await world.admin.create(RESOURCE.pods, pod('first', { cpu: '1', memory: '1Gi' }));
          await world.until(async () => (await world.placement()).get('first'), 'the first Pod bound');
          expectEqual((await world.placement()).get('first'), 'node-3', 'where a 1-cpu/1Gi Pod goes between an empty 2-cpu/4Gi and an empty 4-cpu/8Gi node');
          // Now fill node-3's cpu: a 2-cpu Pod placed there directly.
          await world.admin.create(RESOURCE.pods, pod('filler', { cpu: '2' }, { nodeName: 'node-3' }));
          await world.until(() => world.scheduler.cache.nodeInfo('node-3')?.resources.podCount === 2, 'the scheduler to count the filler Pod');
          // 500m/512Mi: node-3 would have 3500m of 4000m used (12) and 1736Mi of 8Gi (78) → 45; node-2 75 and 87 → 81.
          await world.admin.create(RESOURCE.pods, pod('second', { cpu: '500m', memory: '512Mi' }));
          await world.until(async () => (await world.placement()).get('second'), 'the second Pod bound');
          expectEqual((await world.placement()).get('second'), 'node-2', 'where a 500m/512Mi Pod goes once node-3 has 3 of its 4 cpus requested');
        });
      },
    },
  ],
  '4.3': [
    {
      name: 'the control-plane taint, PreferNoSchedule, and no taints at all',
      run(impl) {
        const find = fn<SchedulerSeams['findUntoleratedTaint']>(impl, 'findUntoleratedTaint');
        expectEqual(find([], []), undefined, 'a node without taints');
        expectEqual(find([CONTROL_PLANE], []), CONTROL_PLANE, 'the control-plane taint and a Pod without tolerations');
        const prefer: Taint = { key: 'spot', value: 'true', effect: 'PreferNoSchedule' };
        expectEqual(find([prefer], []), undefined, 'a PreferNoSchedule taint only (never a reason to refuse)');
        const notReady: Taint = { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' };
        expectEqual(find([prefer, notReady, CONTROL_PLANE], []), notReady, 'three taints, none tolerated (the first that matters)');
      },
    },
    {
      name: 'Exists and Equal, empty keys and empty effects',
      run(impl) {
        const find = fn<SchedulerSeams['findUntoleratedTaint']>(impl, 'findUntoleratedTaint');
        const gpu: Taint = { key: 'gpu', value: 'nvidia', effect: 'NoSchedule' };
        const cases: Array<[string, Toleration[], Taint | undefined]> = [
          ['Exists on the key, whatever the value', [{ key: 'gpu', operator: 'Exists' }], undefined],
          ['Equal with the same value', [{ key: 'gpu', operator: 'Equal', value: 'nvidia' }], undefined],
          ['the operator left out (Equal) with the same value', [{ key: 'gpu', value: 'nvidia' }], undefined],
          ['Equal with another value', [{ key: 'gpu', operator: 'Equal', value: 'amd' }], gpu],
          ['another key', [{ key: 'fpga', operator: 'Exists' }], gpu],
          ['an empty key with Exists (tolerates everything)', [{ operator: 'Exists' }], undefined],
          ['the right key but effect NoExecute', [{ key: 'gpu', operator: 'Exists', effect: 'NoExecute' }], gpu],
          ['the right key and effect NoSchedule', [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }], undefined],
          ['an unrelated toleration, then the right one', [{ key: 'other', operator: 'Exists' }, { key: 'gpu', operator: 'Exists' }], undefined],
        ];
        for (const [what, tolerations, expected] of cases) expectEqual(find([gpu], tolerations), expected, `the gpu=nvidia:NoSchedule taint and a toleration with ${what}`);
      },
    },
    {
      name: 'inside the scheduler: nothing lands on the tainted node-1 unless it tolerates the taint',
      async run(impl) {
        const findUntoleratedTaint = fn<SchedulerSeams['findUntoleratedTaint']>(impl, 'findUntoleratedTaint');
        await withScheduler({ findUntoleratedTaint }, [node('node-1', '2', '4Gi', '110', [CONTROL_PLANE]), node('node-2', '2'), node('node-3', '2')], async (world) => {
          for (let i = 0; i < 4; i++) await world.admin.create(RESOURCE.pods, pod(`backend-${i}`));
          await world.until(async () => [...(await world.placement()).values()].filter(Boolean).length === 4, 'four Pods bound');
          const where = await world.placement();
          expectTrue([...where.values()].every((n) => n === 'node-2' || n === 'node-3'), `expected the four Pods on node-2 and node-3 only, got ${show(Object.fromEntries(where))}`);
          const pinned = { nodeSelector: { 'kubernetes.io/hostname': 'node-1' } };
          await world.admin.create(RESOURCE.pods, pod('pinned', {}, pinned));
          const message = await world.until(async () => failedScheduling(world, 'pinned') ?? ((await world.placement()).get('pinned') ? `no FailedScheduling: the Pod was bound to ${(await world.placement()).get('pinned')}` : undefined), 'a FailedScheduling event for a Pod that must go to node-1 but does not tolerate its taint');
          expectEqual(message, "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node affinity/selector.", 'the FailedScheduling message');
          await world.admin.create(RESOURCE.pods, pod('tolerant', {}, { ...pinned, tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }] }));
          await world.until(async () => (await world.placement()).get('tolerant') === 'node-1', 'the Pod tolerating the control-plane taint bound to node-1');
        });
      },
    },
  ],
};
