/**
 * Shared support for the controllers' tests: a real in-process cluster (store
 * and API server) in a temporary directory, one controller run on its own
 * informers as the controller manager would run it, a polling wait for a
 * condition, and the writes a kubelet or an admin would make (a Node with its
 * Lease, a Pod marked Running and Ready, a Pod finished).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject, Lease, Node, Pod } from '../api/types.ts';
import type { ResourceInfo } from '../apiserver/resources.ts';
import { startCluster, type Cluster } from '../cluster/cluster.ts';
import { isAlreadyExists, isConflict, isNotFound, realClock, type KubeClient, type WatchHandle } from '../client/client.ts';
import { keyOf } from '../client/informer.ts';
import { ApiEventRecorder, type RecordedEvent } from '../client/events.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { InformerFactory, RESOURCE } from './informers.ts';
import type { ControllerOptions } from './manager.ts';
import type { ControllerSeams } from './seams.ts';
import { isPodActive, isPodReady } from './pod-control.ts';

/** A cluster for one test file; `stop` also removes its directory. */
export interface ControllerTestCluster extends Cluster {
  dir: string;
  /** A client acting as system:kube-controller-manager. */
  controllerClient: KubeClient;
}

/** Starts the store and the API server in a fresh temporary directory. */
export async function startControllerTestCluster(): Promise<ControllerTestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'controllers-test-'));
  const cluster = await startCluster({ dir, compactionIntervalMs: 0 });
  const controllerClient = cluster.clientAs('system:kube-controller-manager', 'controller-test');
  return {
    ...cluster,
    dir,
    controllerClient,
    stop: async () => {
      controllerClient.close();
      cluster.admin.close();
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A controller running on its own informers, with the Events it recorded. */
export interface RunningTestController<C extends Controller> {
  controller: C;
  informers: InformerFactory;
  events: RecordedEvent[];
  trace: string[];
  stop(): Promise<void>;
}

/** Options of runController; the node monitor settings default to short test values. */
export interface RunControllerOptions {
  nodeMonitorGracePeriodMs?: number;
  nodeMonitorPeriodMs?: number;
  seams?: ControllerSeams;
  workers?: number;
}

// #region run-controller
/** Builds one controller as the manager does (informers made first, synced, then workers started) and runs it. */
export async function runController<C extends Controller>(
  cluster: ControllerTestCluster,
  make: (ctx: ControllerContext, options: ControllerOptions) => C,
  options: RunControllerOptions = {},
): Promise<RunningTestController<C>> {
  const running = await runControllers(cluster, [make], options);
  return { ...running, controller: running.controllers[0] as C };
}

/** Several controllers sharing one set of informers and one recorder, as in one controller manager. */
export async function runControllers(
  cluster: ControllerTestCluster,
  makers: Array<(ctx: ControllerContext, options: ControllerOptions) => Controller>,
  options: RunControllerOptions = {},
): Promise<Omit<RunningTestController<Controller>, 'controller'> & { controllers: Controller[] }> {
  const events: RecordedEvent[] = [];
  const trace: string[] = [];
  const client = cluster.controllerClient;
  const informers = new InformerFactory(client, { clock: realClock });
  const recorder = new ApiEventRecorder(client, { component: 'controller-manager' }, { onEvent: (event) => events.push(event) });
  const ctx: ControllerContext = { client, informers, recorder, clock: realClock, trace: (line) => trace.push(line) };
  const settings: ControllerOptions = {
    // Why an empty object is enough by default: only the ReplicaSet and Deployment controllers call seams; their tests pass referenceSeams.
    seams: options.seams ?? ({} as ControllerSeams),
    nodeMonitorGracePeriodMs: options.nodeMonitorGracePeriodMs ?? 1500,
    nodeMonitorPeriodMs: options.nodeMonitorPeriodMs ?? 200,
  };
  const controllers = makers.map((make) => make(ctx, settings));
  informers.start();
  await informers.waitForSync();
  for (const controller of controllers) controller.run(options.workers ?? 2);
  return {
    controllers,
    informers,
    events,
    trace,
    stop: async () => {
      await Promise.all(controllers.map((controller) => controller.stop()));
      await informers.stop();
      await recorder.flush();
    },
  };
}
// #endregion run-controller

/** Polls until a probe holds (lib/workbook/waiting.ts), under the name these tests use. */
export { waitUntil as waitFor } from '../workbook/waiting.ts';

/** The object, or undefined when the API server answers 404. */
export async function getOrUndefined<T extends KubeObject>(client: KubeClient, info: ResourceInfo, namespace: string | undefined, name: string): Promise<T | undefined> {
  try {
    return await client.get<T>(info, namespace, name);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** A minimal Pod with one container; `extra` is merged into spec. */
export function testPod(name: string, labels: Record<string, string> = {}, spec: Partial<Pod['spec']> = {}, namespace = 'default'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: { containers: [{ name: 'app', image: 'nginx' }], ...spec },
  };
}

/** Changes a Pod's status as its kubelet would: phase, Ready condition, IP. Retries on conflict. */
export async function setPodStatus(client: KubeClient, namespace: string, name: string, change: { phase?: NonNullable<Pod['status']>['phase']; ready?: boolean; podIP?: string; restarts?: number }): Promise<Pod> {
  for (;;) {
    const pod = await client.get<Pod>(RESOURCE.pods, namespace, name);
    const status = (pod.status ??= {});
    if (change.phase) status.phase = change.phase;
    if (change.podIP) {
      status.podIP = change.podIP;
      status.podIPs = [{ ip: change.podIP }];
    }
    if (change.ready !== undefined) {
      const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const conditions = (status.conditions ?? []).filter((c) => c.type !== 'Ready' && c.type !== 'ContainersReady');
      const value = change.ready ? 'True' : 'False';
      conditions.push({ type: 'Ready', status: value, lastTransitionTime: now }, { type: 'ContainersReady', status: value, lastTransitionTime: now });
      status.conditions = conditions;
    }
    if (change.restarts !== undefined) {
      status.containerStatuses = pod.spec.containers.map((c) => ({ name: c.name, ready: false, restartCount: change.restarts ?? 0, image: c.image ?? '', imageID: '' }));
    }
    try {
      return await client.updateStatus(RESOURCE.pods, pod);
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
  }
}

/** Marks a Pod Running and Ready with an IP, as a kubelet reports a started Pod. */
export function markPodRunning(client: KubeClient, namespace: string, name: string, podIP: string, ready = true): Promise<Pod> {
  return setPodStatus(client, namespace, name, { phase: 'Running', ready, podIP });
}

/** Creates a Node with a Ready=True condition and its Lease, as a kubelet registers itself. */
export async function registerNode(client: KubeClient, name: string): Promise<Node> {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const node: Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    spec: {},
    status: {
      capacity: { cpu: '2', memory: '4Gi', pods: '110' },
      allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }],
    },
  };
  let created: Node;
  try {
    created = await client.create(RESOURCE.nodes, node);
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
    created = await client.get<Node>(RESOURCE.nodes, undefined, name);
  }
  await renewLease(client, name);
  return created;
}

/** Renews a node's Lease in kube-node-lease (creating it if needed), as the kubelet does every 10 s. */
export async function renewLease(client: KubeClient, nodeName: string): Promise<Lease> {
  const renewTime = new Date().toISOString().replace(/Z$/, '000Z');
  for (;;) {
    const current = await getOrUndefined<Lease>(client, RESOURCE.leases, 'kube-node-lease', nodeName);
    if (!current) {
      const lease: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: nodeName, namespace: 'kube-node-lease' },
        spec: { holderIdentity: nodeName, leaseDurationSeconds: 40, renewTime },
      };
      try {
        return await client.create(RESOURCE.leases, lease);
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
        continue;
      }
    }
    current.spec = { ...current.spec, renewTime };
    try {
      return await client.update(RESOURCE.leases, current);
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
  }
}

/** Posts Ready=True with a fresh heartbeat, as a kubelet that came back does. */
export async function postNodeReady(client: KubeClient, name: string): Promise<Node> {
  for (;;) {
    const node = await client.get<Node>(RESOURCE.nodes, undefined, name);
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const status = (node.status ??= {});
    const others = (status.conditions ?? []).filter((c) => c.type !== 'Ready');
    const before = (status.conditions ?? []).find((c) => c.type === 'Ready');
    const transition = before?.status === 'True' ? (before.lastTransitionTime ?? now) : now;
    status.conditions = [...others, { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: transition }];
    try {
      return await client.updateStatus(RESOURCE.nodes, node);
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
  }
}

/** Plays the kubelet: marks every active Pod Running and Ready, unless paused. */
export function startReadyMarker(client: KubeClient): { pause(value: boolean): void; stop(): Promise<void> } {
  let stopped = false;
  let paused = false;
  const loop = (async () => {
    while (!stopped) {
      if (!paused) {
        const pods = (await client.list<Pod>(RESOURCE.pods, { namespace: 'default' }).catch(() => ({ items: [] as Pod[] }))).items;
        for (const pod of pods.filter((p) => isPodActive(p) && !isPodReady(p))) {
          await setPodStatus(client, 'default', pod.metadata.name ?? '', { phase: 'Running', ready: true }).catch(() => undefined);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
  })();
  return { pause: (value) => (paused = value), stop: async () => ((stopped = true), await loop) };
}

/** Watches the Pods of an app from a list onward and keeps the largest number active at any revision. */
export async function trackActivePods(client: KubeClient, app: string): Promise<{ max(): number; current(): number; stop(): void }> {
  const list = await client.list<Pod>(RESOURCE.pods, { namespace: 'default', labelSelector: `app=${app}` });
  const active = new Map(list.items.map((p) => [keyOf(p), isPodActive(p)]));
  const count = () => [...active.values()].filter(Boolean).length;
  let max = count();
  const watch: WatchHandle = client.watch(RESOURCE.pods, { namespace: 'default', labelSelector: `app=${app}`, resourceVersion: list.metadata.resourceVersion }, (event) => {
    const pod = event.object as Pod;
    if (event.type === 'DELETED') active.delete(keyOf(pod));
    else if (event.type === 'ADDED' || event.type === 'MODIFIED') active.set(keyOf(pod), isPodActive(pod));
    max = Math.max(max, count());
  });
  return { max: () => max, current: count, stop: () => watch.stop() };
}

/** A Pod in a given state (node, phase, readiness, restarts, age), for the ReplicaSet's deletion ranking. */
export function podInState(name: string, options: { node?: string; phase?: 'Pending' | 'Running' | 'Unknown'; ready?: boolean; restarts?: number; created?: string } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', creationTimestamp: options.created ?? '2026-01-01T00:00:00Z' },
    spec: { containers: [{ name: 'app', image: 'nginx' }], ...(options.node ? { nodeName: options.node } : {}) },
    status: {
      phase: options.phase ?? 'Pending',
      conditions: options.ready ? [{ type: 'Ready', status: 'True' }] : [],
      containerStatuses: [{ name: 'app', ready: Boolean(options.ready), restartCount: options.restarts ?? 0, image: 'nginx', imageID: '' }],
    },
  };
}
