/**
 * A hollow node: a node agent that does everything a kubelet tells the API
 * server, and runs nothing, as kwok does. It registers its Node, renews its
 * Lease in kube-node-lease, watches the Pods bound to it and reports each as
 * Running and Ready; a Pod being deleted is "stopped" and confirmed deleted
 * (the delete with grace period 0 a kubelet sends when its containers are
 * gone). Until chapter 5 brings the real kubelet, these are the nodes the
 * scheduler places Pods on; they also let the scheduler benchmark run
 * thousands of nodes in one process.
 *
 * A hollow Pod whose restartPolicy is Never or OnFailure can finish: give it
 * the annotation `hollow.workbook.dev/exit-after-seconds: "5"` and it is
 * reported Succeeded five seconds after it started, or Failed when it also
 * carries `hollow.workbook.dev/exit-code: "1"` (any code but 0). That is how
 * a Job completes on hollow nodes.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ContainerStatus, Node, Pod, PodStatus, Taint } from '../api/types.ts';
import { isConflict, isNotFound, realClock, type Clock, type KubeClient } from '../client/client.ts';
import { ApiEventRecorder, type EventRecorder } from '../client/events.ts';
import { Informer, keyOf } from '../client/informer.ts';
import {
  CONTROL_PLANE_LABEL,
  CONTROL_PLANE_TAINT,
  defaultNodeAddress,
  defaultPodCIDR,
  KUBELET_VERSION,
  nodeIndex,
  nodeObject,
  nodeStatus,
  NodeHeartbeat,
  podConditions,
  PODS,
  qosClass,
  time,
  type NodeInfo,
} from './node-status.ts';

export { CONTROL_PLANE_LABEL, CONTROL_PLANE_TAINT, defaultNodeAddress, defaultPodCIDR, microTime, nodeIndex, NODE_LEASE_NAMESPACE, qosClass } from './node-status.ts';

/** Annotation: seconds after the Pod started at which its containers exit (restartPolicy Never/OnFailure only). */
export const EXIT_AFTER_ANNOTATION = 'hollow.workbook.dev/exit-after-seconds';
/** Annotation: the exit code the containers exit with (default 0: Succeeded; anything else: Failed). */
export const EXIT_CODE_ANNOTATION = 'hollow.workbook.dev/exit-code';
/** What `kubectl get nodes -o wide` shows as CONTAINER-RUNTIME. */
export const HOLLOW_RUNTIME_VERSION = 'hollow://0.1';
/** The kubelet version a hollow node reports (kubectl's VERSION column). */
export const HOLLOW_KUBELET_VERSION = KUBELET_VERSION;
/** How to start a hollow node. */
export interface HollowNodeOptions {
  /** A client acting as this node (`system:node:<name>`): NodeRestriction lets it touch only its own objects. */
  client: KubeClient;
  name: string;
  /** What the node offers (default cpu 2, memory 4Gi, pods 110); allocatable is the same. */
  capacity?: Record<string, string>;
  /** Taints the Node is registered with (kubelet's --register-with-taints). */
  taints?: Taint[];
  /** Labels besides kubernetes.io/hostname and kubernetes.io/os. */
  labels?: Record<string, string>;
  /** The Pod IP range (default 10.244.<n-1>.0/24 for node-<n>). */
  podCIDR?: string;
  /** The node's InternalIP (default 172.18.0.<n+1> for node-<n>). */
  address?: string;
  /** How long the Lease says the node may go unrenewed (default 40 s). */
  leaseDurationSeconds?: number;
  /** How often the Lease is renewed and the Node's Ready condition checked (default 10 s). */
  renewIntervalMs?: number;
  /** Record the kubelet's Pod events (Scheduled is the scheduler's; these are Pulled, Created, Started, Killing). Default true. */
  recordEvents?: boolean;
  clock?: Clock;
  /** Narration: one line per thing the agent does. */
  onTrace?: (line: string) => void;
}

/** A running hollow node. */
export interface HollowNode {
  readonly name: string;
  /** True between pause() and resume(). */
  readonly paused: boolean;
  /** Stops renewing the Lease and reporting Pods, as a node that lost its network. */
  pause(): void;
  /** Comes back: renews the Lease, reports Ready again and catches up with every Pod bound to it. */
  resume(): Promise<void>;
  /** Resolves when no Pod sync is running or waiting (tests wait on it). */
  whenIdle(): Promise<void>;
  /** Stops the agent (the Node object stays, as when a kubelet stops). */
  stop(): Promise<void>;
}

/** The default capacity of a hollow node: a small laptop. */
export const DEFAULT_CAPACITY: Readonly<Record<string, string>> = { cpu: '2', memory: '4Gi', pods: '110' };

/** The Node a hollow node registers: labels, taints, Pod CIDR, and a status that says Ready. */
export function hollowNodeObject(name: string, settings: { capacity: Record<string, string>; taints: Taint[]; labels: Record<string, string>; podCIDR: string; address: string }, now: number): Node {
  return nodeObject(name, { ...settings, annotations: { 'kwok.x-k8s.io/node': 'fake' }, nodeInfo: hollowNodeInfo(name) }, now);
}

/** What a hollow node says about its machine: nothing real. */
function hollowNodeInfo(name: string): NodeInfo {
  return {
    machineID: createHash('md5').update(`machine/${name}`).digest('hex'),
    systemUUID: createHash('md5').update(`system/${name}`).digest('hex'),
    bootID: createHash('md5').update(`boot/${name}`).digest('hex'),
    kernelVersion: 'hollow',
    osImage: 'Hollow Node (no containers run here)',
    containerRuntimeVersion: HOLLOW_RUNTIME_VERSION,
    kubeletVersion: HOLLOW_KUBELET_VERSION,
    kubeProxyVersion: HOLLOW_KUBELET_VERSION,
    operatingSystem: 'linux',
    architecture: 'amd64',
  };
}

// #region pod-status
/** Where a hollow Pod runs: the node's address and the IP given to the Pod. */
interface Placement {
  hostIP: string;
  podIP: string;
}

/** The status of a Pod whose containers all run and are ready; what it had already (start time, IDs) is kept. */
export function runningPodStatus(pod: Pod, placement: Placement, now: number): PodStatus {
  const old = pod.status ?? {};
  const startTime = old.startTime ?? time(now);
  const containerStatuses: ContainerStatus[] = pod.spec.containers.map((container) => {
    const before = old.containerStatuses?.find((s) => s.name === container.name);
    return {
      name: container.name,
      state: { running: { startedAt: before?.state?.running?.startedAt ?? startTime } },
      ready: true,
      started: true,
      restartCount: before?.restartCount ?? 0,
      image: container.image ?? '',
      imageID: imageID(container.image ?? ''),
      containerID: before?.containerID ?? `hollow://${randomBytes(32).toString('hex')}`,
    };
  });
  const ready = podConditions(old.conditions ?? [], { sandboxReady: true, initialized: true, ready: true }, now);
  return { ...old, phase: 'Running', conditions: ready, hostIP: placement.hostIP, podIP: placement.podIP, podIPs: [{ ip: placement.podIP }], startTime, containerStatuses, qosClass: old.qosClass ?? qosClass(pod) };
}

/** The status of a Pod whose containers have exited with `exitCode`: Succeeded for 0, Failed otherwise. */
export function finishedPodStatus(pod: Pod, placement: Placement, exitCode: number, now: number): PodStatus {
  const running = runningPodStatus(pod, placement, now);
  const containerStatuses = (running.containerStatuses ?? []).map((s): ContainerStatus => ({
    ...s,
    ready: false,
    started: false,
    state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: s.state?.running?.startedAt, finishedAt: time(now), ...(s.containerID ? { containerID: s.containerID } : {}) } },
  }));
  const conditions = podConditions(pod.status?.conditions ?? [], { sandboxReady: false, initialized: true, ready: false, reason: 'PodCompleted' }, now);
  return { ...running, phase: exitCode === 0 ? 'Succeeded' : 'Failed', conditions, containerStatuses };
}

function imageID(image: string): string {
  const digest = createHash('sha256').update(image).digest('hex');
  const name = image.includes('/') ? image : `docker.io/library/${image}`;
  return `${name.replace(/:[^/:]*$/, '')}@sha256:${digest}`;
}

/** True when the Pod's status already says what a hollow node would report as running. */
export function reportsRunning(pod: Pod): boolean {
  const status = pod.status;
  if (status?.phase !== 'Running' || !status.podIP) return false;
  const ready = status.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') return false;
  const byName = new Map((status.containerStatuses ?? []).map((s) => [s.name, s]));
  return pod.spec.containers.every((c) => {
    const s = byName.get(c.name);
    return s?.ready === true && s.state?.running !== undefined && s.image === (c.image ?? '');
  });
}

/** When (ms) a finishing Pod's containers exit, or undefined if it runs until deleted. */
export function exitTime(pod: Pod): number | undefined {
  if ((pod.spec.restartPolicy ?? 'Always') === 'Always') return undefined;
  const seconds = Number(pod.metadata.annotations?.[EXIT_AFTER_ANNOTATION]);
  const started = Date.parse(pod.status?.startTime ?? '');
  if (!Number.isFinite(seconds) || seconds < 0 || Number.isNaN(started)) return undefined;
  return started + seconds * 1000;
}

/** The exit code a finishing Pod exits with (the annotation, default 0). */
export function exitCode(pod: Pod): number {
  const code = Number(pod.metadata.annotations?.[EXIT_CODE_ANNOTATION] ?? '0');
  return Number.isInteger(code) ? code : 1;
}
// #endregion pod-status

/** Hands out Pod IPs from a /24: .2 upward (.1 is the bridge's), reusing the IPs of Pods that are gone. */
class PodIPs {
  private readonly prefix: string;
  private readonly byUid = new Map<string, string>();

  constructor(cidr: string) {
    const match = /^(\d+\.\d+\.\d+)\.\d+\/\d+$/.exec(cidr);
    if (!match?.[1]) throw new Error(`expected a pod CIDR like 10.244.1.0/24, got ${JSON.stringify(cidr)}`);
    this.prefix = match[1];
  }

  /** The Pod's IP: the one it already reports, or the lowest free one. */
  assign(uid: string, reported: string | undefined): string {
    const known = this.byUid.get(uid);
    if (known) return known;
    const taken = new Set(this.byUid.values());
    // Why keep a reported IP: after a restart of the agent, a running Pod keeps its address.
    let ip = reported && reported.startsWith(`${this.prefix}.`) && !taken.has(reported) ? reported : undefined;
    for (let host = 2; !ip && host < 255; host++) if (!taken.has(`${this.prefix}.${host}`)) ip = `${this.prefix}.${host}`;
    if (!ip) throw new Error(`expected a free IP in ${this.prefix}.0/24, got none (253 Pods run here)`);
    this.byUid.set(uid, ip);
    return ip;
  }

  release(uid: string): void {
    this.byUid.delete(uid);
  }
}

// #region agent
class HollowNodeAgent implements HollowNode {
  readonly name: string;
  paused = false;
  private stopped = false;
  /** False until the Pod cache has listed once: no Pod is synced before the agent knows them all. */
  private synced = false;
  private readonly client: KubeClient;
  private readonly clock: Clock;
  private readonly capacity: Record<string, string>;
  private readonly address: string;
  private readonly podCIDR: string;
  private readonly leaseDurationSeconds: number;
  private readonly renewIntervalMs: number;
  private readonly ips: PodIPs;
  private readonly informer: Informer<Pod>;
  private readonly recorder: EventRecorder | undefined;
  private readonly trace: (line: string) => void;
  private readonly beats: NodeHeartbeat;
  private renewTimer: unknown;
  private renewing: Promise<void> = Promise.resolve();
  /** Pod keys waiting to be synced, and those being synced now (one sync per key at a time). */
  private readonly pending = new Set<string>();
  private readonly inFlight = new Set<string>();
  private readonly exitTimers = new Map<string, unknown>();
  private idle: Array<() => void> = [];

  constructor(private readonly options: HollowNodeOptions) {
    this.name = options.name;
    this.client = options.client;
    this.clock = options.clock ?? realClock;
    const index = nodeIndex(options.name);
    this.capacity = { ...DEFAULT_CAPACITY, ...options.capacity };
    this.address = options.address ?? defaultNodeAddress(index);
    this.podCIDR = options.podCIDR ?? defaultPodCIDR(index);
    this.leaseDurationSeconds = options.leaseDurationSeconds ?? 40;
    this.renewIntervalMs = options.renewIntervalMs ?? 10_000;
    this.ips = new PodIPs(this.podCIDR);
    this.trace = options.onTrace ? (line) => options.onTrace!(`${this.name}: ${line}`) : () => {};
    this.recorder = options.recordEvents === false ? undefined : new ApiEventRecorder(this.client, { component: 'kubelet', host: this.name }, { clock: this.clock });
    const settings = { capacity: this.capacity, taints: options.taints ?? [], labels: options.labels ?? {}, podCIDR: this.podCIDR, address: this.address };
    this.beats = new NodeHeartbeat({
      client: this.client,
      name: this.name,
      clock: this.clock,
      leaseDurationSeconds: this.leaseDurationSeconds,
      node: (now) => hollowNodeObject(this.name, settings, now),
      status: (now, previous) => nodeStatus(this.name, { ...settings, nodeInfo: hollowNodeInfo(this.name) }, now, previous),
      recorder: this.recorder,
      trace: this.trace,
    });
    // Why a field selector: a kubelet sees only the Pods bound to it, never the whole cluster.
    this.informer = new Informer<Pod>(this.client, PODS, { fieldSelector: `spec.nodeName=${this.name}`, clock: this.clock });
    this.informer.on('add', (pod) => this.enqueue(keyOf(pod)));
    this.informer.on('update', (_old, pod) => this.enqueue(keyOf(pod)));
    this.informer.on('delete', (pod) => this.forget(pod));
  }

  /** Registers the Node, takes the Lease, and starts reporting the Pods bound here. */
  async start(): Promise<void> {
    await this.beats.registerNode();
    await this.beats.renewLease();
    this.informer.start();
    await this.informer.waitForSync();
    // Why reserve before syncing any Pod: after a restart, a new Pod must not be given the IP of a running one not yet looked at.
    for (const pod of this.informer.list()) {
      if (pod.status?.podIP && !pod.metadata.deletionTimestamp) this.ips.assign(pod.metadata.uid ?? keyOf(pod), pod.status.podIP);
    }
    this.synced = true;
    this.pump();
    this.scheduleRenew();
    this.trace(`registered (pod CIDR ${this.podCIDR}, ${this.capacity.cpu} cpu, ${this.capacity.memory} memory)`);
  }

  private scheduleRenew(): void {
    if (this.stopped) return;
    this.renewTimer = this.clock.setTimeout(() => {
      this.renewing = this.heartbeat().finally(() => this.scheduleRenew());
    }, this.renewIntervalMs);
  }

  private async heartbeat(): Promise<void> {
    if (this.paused || this.stopped) return;
    await this.beats.beat();
  }

  // ---- the Pods ---------------------------------------------------------------

  private enqueue(key: string): void {
    this.pending.add(key);
    this.pump();
  }

  private pump(): void {
    if (this.paused || this.stopped || !this.synced) return;
    for (const key of this.pending) {
      if (this.inFlight.size >= 8) break;
      if (this.inFlight.has(key)) continue; // Why wait: two syncs of one Pod at once would race each other's writes.
      this.pending.delete(key);
      this.inFlight.add(key);
      void this.syncPod(key)
        .catch((error: unknown) => {
          this.trace(`sync of ${key} failed: ${(error as Error).message}; retrying`);
          this.clock.setTimeout(() => this.enqueue(key), 500);
        })
        .finally(() => {
          this.inFlight.delete(key);
          this.pump();
          if (this.inFlight.size === 0 && (this.pending.size === 0 || this.paused || this.stopped)) for (const done of this.idle.splice(0)) done();
        });
    }
  }

  // #region sync-pod
  /** Brings one Pod's reported state in line with the hollow node's: stop it, finish it, or report it running. */
  private async syncPod(key: string): Promise<void> {
    const pod = this.informer.get(key);
    if (!pod || pod.spec.nodeName !== this.name) return;
    if (pod.metadata.deletionTimestamp) return this.killPod(pod);
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    const placement = { hostIP: this.address, podIP: this.ips.assign(pod.metadata.uid ?? key, pod.status?.podIP) };
    const exitAt = exitTime(pod);
    if (exitAt !== undefined && this.clock.now() >= exitAt) {
      const code = exitCode(pod);
      await this.writeStatus(pod, (fresh) => finishedPodStatus(fresh, placement, code, this.clock.now()));
      this.trace(`${key} exited with code ${code}`);
      return;
    }
    if (!reportsRunning(pod)) {
      const first = !pod.status?.startTime;
      await this.writeStatus(pod, (fresh) => runningPodStatus(fresh, placement, this.clock.now()));
      if (first) this.recordStarted(pod);
      this.trace(`${key} reported Running and Ready at ${placement.podIP}`);
    }
    if (exitAt !== undefined) this.wakeAt(key, exitAt);
  }
  // #endregion sync-pod

  /** Writes a Pod's status through the status subresource, reading it again after a conflict. */
  private async writeStatus(cached: Pod, status: (pod: Pod) => PodStatus): Promise<void> {
    let pod: Pod = structuredClone(cached);
    for (let attempt = 0; ; attempt++) {
      pod.status = status(pod);
      try {
        await this.client.updateStatus(PODS, pod);
        return;
      } catch (error) {
        if (isNotFound(error)) return; // Why: it was deleted meanwhile; nothing to report.
        if (!isConflict(error) || attempt >= 4) throw error;
      }
      const fresh = await this.client.get<Pod>(PODS, cached.metadata.namespace, cached.metadata.name ?? '');
      // Why stop: a new Pod with the same name is not the one this sync was about.
      if (fresh.metadata.uid !== cached.metadata.uid || fresh.metadata.deletionTimestamp || fresh.spec.nodeName !== this.name) return;
      pod = fresh;
    }
  }

  // #region kill-pod
  /** A Pod being deleted: nothing runs, so it is stopped at once and its deletion confirmed with grace period 0. */
  private async killPod(pod: Pod): Promise<void> {
    const { namespace, name } = pod.metadata;
    this.recorder?.event(pod, 'Normal', 'Killing', `Stopping container ${pod.spec.containers.map((c) => c.name).join(', ')}`);
    try {
      await this.client.delete(PODS, namespace, name ?? '', { gracePeriodSeconds: 0 });
      this.trace(`${namespace}/${name} stopped; deletion confirmed`);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  // #endregion kill-pod

  private recordStarted(pod: Pod): void {
    if (!this.recorder) return;
    for (const container of pod.spec.containers) {
      this.recorder.event(pod, 'Normal', 'Pulled', `Container image "${container.image ?? ''}" already present on machine`);
      this.recorder.event(pod, 'Normal', 'Created', `Created container ${container.name}`);
      this.recorder.event(pod, 'Normal', 'Started', `Started container ${container.name}`);
    }
  }

  private wakeAt(key: string, at: number): void {
    if (this.exitTimers.has(key)) return;
    const handle = this.clock.setTimeout(() => {
      this.exitTimers.delete(key);
      this.enqueue(key);
    }, Math.max(0, at - this.clock.now()));
    this.exitTimers.set(key, handle);
  }

  private forget(pod: Pod): void {
    const key = keyOf(pod);
    this.ips.release(pod.metadata.uid ?? key);
    const timer = this.exitTimers.get(key);
    if (timer !== undefined) this.clock.clearTimeout(timer);
    this.exitTimers.delete(key);
  }

  // ---- pause, resume, stop ----------------------------------------------------

  pause(): void {
    this.paused = true;
    this.trace('paused: no more Lease renewals or Pod reports');
  }

  async resume(): Promise<void> {
    if (!this.paused) return;
    this.paused = false;
    this.trace('resumed');
    await this.renewing;
    await this.beats.renewLease();
    await this.beats.reportReady(false);
    // Why every Pod: while away, Pods were deleted (to be confirmed), and the
    // node lifecycle controller marked the running ones not ready.
    for (const key of this.informer.keys()) this.pending.add(key);
    this.pump();
  }

  /** Resolves when no Pod sync is running or waiting (tests). */
  whenIdle(): Promise<void> {
    // Why paused and stopped count as idle: waiting Pods are not synced then, so nothing more will happen.
    if (this.inFlight.size === 0 && (this.pending.size === 0 || this.paused || this.stopped)) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.renewTimer !== undefined) this.clock.clearTimeout(this.renewTimer);
    for (const timer of this.exitTimers.values()) this.clock.clearTimeout(timer);
    this.exitTimers.clear();
    await this.informer.stop();
    await this.renewing;
    await this.whenIdle();
    await this.recorder?.flush();
  }
}
// #endregion agent

/** Starts a hollow node: resolves once its Node and Lease exist and it watches the Pods bound to it. */
export async function startHollowNode(options: HollowNodeOptions): Promise<HollowNode> {
  const agent = new HollowNodeAgent(options);
  await agent.start();
  return agent;
}

/** What startHollowNodes needs from a cluster: a client per identity. */
export interface NodeClients {
  clientAs(user: string, userAgent?: string): KubeClient;
}

/** The node, whose stop() also closes the client made for it. */
function withClosedClient(node: HollowNode, client: KubeClient): HollowNode {
  const stop = node.stop.bind(node);
  node.stop = async () => {
    await stop();
    client.close();
  };
  return node;
}

// #region scenario-nodes
/**
 * The scenario's nodes: node-1 is the control plane (labelled and tainted
 * NoSchedule, as kubeadm does), the others are workers. Each acts as its
 * own identity, `system:node:<name>`.
 */
export async function startHollowNodes(cluster: NodeClients, names: readonly string[], options: Partial<Omit<HollowNodeOptions, 'client' | 'name'>> = {}): Promise<Map<string, HollowNode>> {
  const nodes = new Map<string, HollowNode>();
  const started = await Promise.all(
    names.map((name, i) => {
      const controlPlane = i === 0 && names.length > 1 && name === 'node-1';
      const client = cluster.clientAs(`system:node:${name}`, `kubelet/${HOLLOW_KUBELET_VERSION} (hollow) ${name}`);
      return startHollowNode({
        ...options,
        client,
        name,
        labels: { ...options.labels, ...(controlPlane ? { [CONTROL_PLANE_LABEL]: '' } : {}) },
        taints: [...(options.taints ?? []), ...(controlPlane ? [CONTROL_PLANE_TAINT] : [])],
      }).then((node) => withClosedClient(node, client));
    }),
  );
  for (const node of started) nodes.set(node.name, node);
  return nodes;
}
// #endregion scenario-nodes
