/**
 * The kubelet: the agent on every node. It registers its Node with the API
 * server and keeps its Lease fresh; it watches the Pods bound to its node
 * (and reads static Pods from a folder); for each Pod it runs a pod worker
 * that asks the container runtime, through the CRI, to run the Pod's
 * sandbox and containers; it relists the runtime every second to notice
 * containers that exited (the PLEG), probes the containers that ask for it,
 * and writes each Pod's status back. When it starts, it first looks at what
 * the runtime already runs: containers of Pods it still has are adopted,
 * anything no Pod claims is removed.
 */
import { arch, release } from 'node:os';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createActor, fromPromise, type ActorRefFrom, type SnapshotFrom } from 'xstate';
import type { Node, Pod, Taint } from '../api/types.ts';
import { parseQuantity } from '../apiserver/validation.ts';
import { isConflict, isNotFound, realClock, type Clock, type KubeClient } from '../client/client.ts';
import { ApiEventRecorder, type EventRecorder, type RecordedEvent } from '../client/events.ts';
import { Informer } from '../client/informer.ts';
import { RESOURCE } from '../controllers/informers.ts';
import {
  defaultNodeAddress,
  defaultPodCIDR,
  KUBELET_VERSION,
  NODES,
  nodeIndex,
  nodeObject,
  nodeStatus,
  NodeHeartbeat,
  type NodeInfo,
  type NodeSettings,
} from '../nodes/node-status.ts';
import { RuntimeError, type ContainerRuntime, type ContainerStatus as RuntimeContainerStatus } from '../runtime/cri.ts';
import { SimRuntime } from '../runtime/sim.ts';
import { containerConfig, LABEL_CONTAINER_NAME, LABEL_POD_UID, sandboxConfig } from './cri-configs.ts';
import { podWorker, newContainerRecord, type ContainerExit, type ContainerRecord, type PodWorkerContext, type PodWorkerEvent, type StartResult } from './pod-worker.ts';
import { hostProber, ProbeManager, simProber, type Prober } from './probes.ts';
import { referenceKubeletSeams, type KubeletSeams } from './seams.ts';
import { CONFIG_MIRROR_ANNOTATION, isMirrorPod, mirrorPod, readStaticPods } from './static-pods.ts';
import { podStatusFor, sameStatus } from './status.ts';

/** How often the kubelet relists the runtime to notice exited containers (upstream's PLEG relist period). */
export const RELIST_PERIOD_MS = 1_000;
/** How often the static Pod folder is read again (upstream's fileCheckFrequency). */
export const STATIC_POD_CHECK_MS = 20_000;
/** What the kubelet keeps for the system: allocatable memory is capacity minus the hard eviction threshold. */
export const EVICTION_HARD_MEMORY = '100Mi';

/** How to start a kubelet. */
export interface KubeletOptions {
  /** A client acting as this node (`system:node:<name>`): NodeRestriction lets it touch only its own objects. */
  client: KubeClient;
  name: string;
  runtime: ContainerRuntime;
  /** How probes reach Pod IPs; default: the sim network for a SimRuntime, else the host's network. */
  prober?: Prober;
  podCIDR?: string;
  address?: string;
  /** What the node offers (default cpu 2, memory 4Gi, pods 110). */
  capacity?: Record<string, string>;
  labels?: Record<string, string>;
  taints?: Taint[];
  /** A folder of Pod manifests run as static Pods (kubeadm: /etc/kubernetes/manifests). */
  staticPodPath?: string;
  leaseDurationSeconds?: number;
  renewIntervalMs?: number;
  relistPeriodMs?: number;
  clock?: Clock;
  /** The learner's versions of chapter 5's functions, for the lab. */
  seams?: Partial<KubeletSeams>;
  onTrace?: (line: string) => void;
  onEvent?: (event: RecordedEvent) => void;
}

/** A running kubelet. */
export interface Kubelet {
  readonly name: string;
  readonly runtime: ContainerRuntime;
  /** Resolves when no pod worker is busy with the runtime and no status write waits (a stop waiting out its grace period does not count: only time ends it). */
  whenIdle(): Promise<void>;
  /** The state of a Pod's worker (e.g. "running", "backingOff"), by the Pod's uid (or a static Pod's). */
  workerState(uid: string): string | undefined;
  /** Streams a container's log to `res`, as `kubectl logs` asks the API server for it; false when no container of that Pod runs here. */
  serveLogs(pod: Pod, container: string, options: { follow: boolean; tailLines?: number; previous?: boolean }, res: ServerResponse): Promise<boolean>;
  /** Stops the kubelet; the containers keep running, as when the real kubelet stops. */
  stop(): Promise<void>;
}

type WorkerActor = ActorRefFrom<typeof podWorker>;

interface WorkerEntry {
  actor: WorkerActor;
  /** True for a static Pod (no API object of its own: its status goes to its mirror Pod). */
  isStatic: boolean;
  /** The Pod is gone from the API server: nothing to report or confirm when it ends. */
  removed: boolean;
}

const DEFAULT_CAPACITY = { cpu: '2', memory: '4Gi', pods: '110' };

/** The machine a kubelet runs on, as nodeInfo says it. */
function machineInfo(name: string, runtime: { runtimeName: string; runtimeVersion: string }): NodeInfo {
  const id = (what: string) => createHash('md5').update(`${what}/${name}/${readMachineId()}`).digest('hex');
  return {
    machineID: id('machine'),
    systemUUID: id('system'),
    bootID: id('boot'),
    kernelVersion: release(),
    osImage: osImage(),
    containerRuntimeVersion: `${runtime.runtimeName}://${runtime.runtimeVersion}`,
    kubeletVersion: KUBELET_VERSION,
    kubeProxyVersion: KUBELET_VERSION,
    operatingSystem: process.platform === 'win32' ? 'windows' : 'linux',
    architecture: arch() === 'x64' ? 'amd64' : arch(),
  };
}

function readMachineId(): string {
  try {
    return readFileSync('/etc/machine-id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

function osImage(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? process.platform;
  } catch {
    return process.platform;
  }
}

/** Allocatable: capacity minus what the kubelet keeps back for the system. */
export function allocatable(capacity: Record<string, string>): Record<string, string> {
  const memory = parseQuantity(capacity.memory ?? '0') - parseQuantity(EVICTION_HARD_MEMORY);
  return { ...capacity, memory: `${Math.max(0, Math.floor(memory / 1024))}Ki` };
}

class KubeletAgent implements Kubelet {
  readonly name: string;
  readonly runtime: ContainerRuntime;
  private readonly client: KubeClient;
  private readonly clock: Clock;
  private readonly seams: KubeletSeams;
  private readonly trace: (line: string) => void;
  private readonly recorder: EventRecorder;
  private readonly informer: Informer<Pod>;
  private readonly probes: ProbeManager;
  private readonly workers = new Map<string, WorkerEntry>();
  /** Static Pods by uid, as last read from the folder. */
  private readonly staticPods = new Map<string, Pod>();
  /** Runtime calls in flight per Pod uid: a kill waits for them, so nothing is created behind its back. */
  private readonly inFlight = new Map<string, Set<Promise<unknown>>>();
  /** Containers whose exit was already sent to a worker. */
  private readonly reportedExits = new Set<string>();
  private readonly statusDirty = new Set<string>();
  /** Workers whose Pod is gone, reporting the end: final status, then the deletion's confirmation. */
  private readonly finishing = new Set<Promise<void>>();
  /** The Pod as the last status write returned it, per uid. */
  private readonly lastWritten = new Map<string, Pod>();
  /** The images present on the node (ref → id): listed at start, then kept up to date by the kubelet's own pulls. */
  private readonly images = new Map<string, string>();
  /** Pods whose sandbox the kubelet has tried to create. */
  private readonly sandboxAttempts = new Set<string>();
  private statusWriting: Promise<void> = Promise.resolve();
  private statusLoop = false;
  private readonly settings: NodeSettings;
  private beats!: NodeHeartbeat;
  private runtimeName = 'sim';
  private nodeUid = '';
  private stopped = false;
  /** False until what the runtime runs has been adopted or removed: no Pod starts before. */
  private adopted = false;
  private timers: unknown[] = [];
  private relisting: Promise<void> = Promise.resolve();
  private renewing: Promise<void> = Promise.resolve();

  constructor(private readonly options: KubeletOptions) {
    this.name = options.name;
    this.runtime = options.runtime;
    this.client = options.client;
    this.clock = options.clock ?? realClock;
    this.seams = { ...referenceKubeletSeams, ...options.seams };
    this.trace = options.onTrace ? (line) => options.onTrace!(`${this.name}: ${line}`) : () => {};
    this.recorder = new ApiEventRecorder(this.client, { component: 'kubelet', host: this.name }, { clock: this.clock, onEvent: options.onEvent });
    const index = nodeIndex(options.name);
    const capacity = { ...DEFAULT_CAPACITY, ...options.capacity };
    this.settings = {
      capacity,
      allocatable: allocatable(capacity),
      taints: options.taints ?? [],
      labels: options.labels ?? {},
      podCIDR: options.podCIDR ?? defaultPodCIDR(index),
      address: options.address ?? defaultNodeAddress(index),
      nodeInfo: machineInfo(options.name, { runtimeName: 'unknown', runtimeVersion: '0' }),
    };
    const prober = options.prober ?? (options.runtime instanceof SimRuntime ? simProber(options.runtime) : hostProber);
    this.probes = new ProbeManager({
      clock: this.clock,
      runtime: this.runtime,
      prober,
      seams: this.seams,
      send: (uid, event) => this.send(uid, event),
      unhealthy: (pod, message) => this.event(pod, 'Warning', 'Unhealthy', message),
      trace: (line) => this.trace(line),
    });
    // Why a field selector: a kubelet sees only the Pods bound to it, never the whole cluster.
    // Why the real clock for the watch: its retries are about the network, not the time a test moves by hand.
    this.informer = new Informer<Pod>(this.client, RESOURCE.pods, { fieldSelector: `spec.nodeName=${this.name}` });
    this.informer.on('add', (pod) => this.podChanged(pod));
    this.informer.on('update', (_old, pod) => this.podChanged(pod));
    this.informer.on('delete', (pod) => this.podRemoved(pod));
  }

  // #region kubelet-start
  /** Registers the Node, adopts or removes what the runtime runs, then runs the Pods bound here. */
  async start(): Promise<void> {
    const version = await this.runtime.version();
    this.runtimeName = version.runtimeName;
    for (const image of await this.runtime.listImages()) this.images.set(image.ref, image.id);
    this.settings.nodeInfo = machineInfo(this.name, version);
    this.beats = new NodeHeartbeat({
      client: this.client,
      name: this.name,
      clock: this.clock,
      leaseDurationSeconds: this.options.leaseDurationSeconds ?? 40,
      node: (now) => nodeObject(this.name, this.settings, now),
      status: (now, previous) => nodeStatus(this.name, this.settings, now, previous),
      recorder: this.recorder,
      trace: this.trace,
    });
    await this.beats.registerNode();
    await this.beats.renewLease();
    this.nodeUid = (await this.client.get<Node>(NODES, undefined, this.name)).metadata.uid ?? '';
    this.informer.start();
    await this.informer.waitForSync();
    this.readStaticPods();
    // Why before any new Pod starts: what already runs must be claimed (or removed) first, or it would run twice.
    await this.adoptOrRemove();
    this.adopted = true;
    for (const pod of this.informer.list()) this.podChanged(pod);
    for (const pod of this.staticPods.values()) this.ensureWorker(pod, true);
    void this.syncMirrorPods().catch((error: Error) => this.trace(`mirror Pods: ${error.message}`));
    this.every(this.options.renewIntervalMs ?? 10_000, () => (this.renewing = this.heartbeat()));
    this.every(this.options.relistPeriodMs ?? RELIST_PERIOD_MS, () => (this.relisting = this.relist()));
    if (this.options.staticPodPath) this.every(STATIC_POD_CHECK_MS, () => this.readStaticPods());
    this.trace(`registered (runtime ${version.runtimeName}://${version.runtimeVersion}, pod CIDR ${this.settings.podCIDR})`);
  }
  // #endregion kubelet-start

  private every(ms: number, fn: () => unknown): void {
    const tick = () => {
      if (this.stopped) return;
      const result = fn();
      void Promise.resolve(result).finally(() => {
        if (!this.stopped) this.timers.push(this.clock.setTimeout(tick, ms));
      });
    };
    this.timers.push(this.clock.setTimeout(tick, ms));
  }

  private async heartbeat(): Promise<void> {
    await this.beats.beat();
    await this.syncMirrorPods().catch((error: Error) => this.trace(`mirror Pods: ${error.message}`));
  }

  // ---- adoption ---------------------------------------------------------------

  // #region adopt
  /** After a restart: a sandbox whose Pod is still here is adopted by a new worker; one no Pod claims is an orphan and is removed. */
  private async adoptOrRemove(): Promise<void> {
    const wanted = new Map<string, Pod>();
    for (const pod of this.informer.list()) if (!isMirrorPod(pod)) wanted.set(pod.metadata.uid ?? '', pod);
    for (const pod of this.staticPods.values()) wanted.set(pod.metadata.uid ?? '', pod);
    const sandboxes = await this.runtime.listPodSandboxes();
    const containers = await this.runtime.listContainers();
    for (const sandbox of sandboxes) {
      const uid = sandbox.labels[LABEL_POD_UID] ?? sandbox.metadata.uid;
      const pod = wanted.get(uid);
      const mine = containers.filter((c) => c.sandboxId === sandbox.id);
      if (pod && sandbox.state === 'SANDBOX_READY' && !this.workers.has(uid) && !isFinished(pod)) {
        this.ensureWorker(pod, this.staticPods.has(uid), { sandboxId: sandbox.id, podIP: sandbox.ip, containers: adoptedRecords(pod, mine) });
        this.trace(`adopted ${pod.metadata.namespace}/${pod.metadata.name}: ${mine.filter((c) => c.state === 'CONTAINER_RUNNING').length} running container(s)`);
        continue;
      }
      if (pod && this.workers.has(uid)) continue;
      // Why remove: no Pod claims this sandbox (it was deleted while the kubelet was away), so nothing else ever will.
      await this.removeSandbox(sandbox.id, mine);
      this.trace(`removed the orphaned sandbox of ${sandbox.metadata.namespace}/${sandbox.metadata.name} (uid ${uid}) and its ${mine.length} container(s)`);
    }
  }
  // #endregion adopt

  private async removeSandbox(sandboxId: string, containers: RuntimeContainerStatus[]): Promise<void> {
    for (const c of containers) if (c.state === 'CONTAINER_RUNNING') await this.runtime.stopContainer(c.id, 0);
    await this.runtime.stopPodSandbox(sandboxId);
    await this.runtime.removePodSandbox(sandboxId);
  }

  // ---- Pods from the API server and the folder --------------------------------

  private podChanged(pod: Pod): void {
    if (this.stopped || !this.adopted) return;
    if (isMirrorPod(pod)) return this.mirrorChanged(pod);
    const uid = pod.metadata.uid ?? '';
    const entry = this.workers.get(uid);
    if (entry) {
      entry.actor.send({ type: 'pod.updated', pod });
      if (pod.metadata.deletionTimestamp) entry.actor.send({ type: 'pod.deleted', gracePeriodSeconds: pod.metadata.deletionGracePeriodSeconds ?? 30 });
      return;
    }
    if (isFinished(pod)) {
      // Why confirm at once: a finished Pod has nothing running here; its deletion only needs the kubelet's word.
      if (pod.metadata.deletionTimestamp) void this.confirmDeletion(pod);
      return;
    }
    this.ensureWorker(pod, false);
    if (pod.metadata.deletionTimestamp) this.send(uid, { type: 'pod.deleted', gracePeriodSeconds: pod.metadata.deletionGracePeriodSeconds ?? 30 });
  }

  private podRemoved(pod: Pod): void {
    if (!this.adopted) return;
    if (isMirrorPod(pod)) return void this.syncMirrorPods().catch(() => {});
    const entry = this.workers.get(pod.metadata.uid ?? '');
    if (!entry) return;
    entry.removed = true;
    entry.actor.send({ type: 'pod.deleted', gracePeriodSeconds: pod.metadata.deletionGracePeriodSeconds ?? 0 });
  }

  // #region pod-worker-start
  /** Starts the pod worker of a Pod, unless one runs already. */
  private ensureWorker(pod: Pod, isStatic: boolean, adopted?: { sandboxId: string; podIP?: string; containers: Record<string, ContainerRecord> }): void {
    const uid = pod.metadata.uid ?? '';
    if (this.workers.has(uid) || this.stopped) return;
    const machine = podWorker.provide({
      actors: {
        runSandbox: this.actor(uid, (input: { pod: Pod }) => this.runSandbox(input.pod)),
        pullImages: this.actor(uid, (input: { pod: Pod; names: string[] }) => this.pullImages(input.pod, input.names)),
        startContainers: this.actor(uid, (input: { context: PodWorkerContext; names: string[] }) => this.startContainers(input.context, input.names)),
        // Why the kills are not tracked: they wait out grace periods, and whenIdle means "nothing left that needs no more time".
        killContainer: this.actor(uid, (input: { context: PodWorkerContext; name: string }) => this.killContainer(input.context, input.name), false),
        killPod: this.actor(uid, (input: { context: PodWorkerContext }) => this.killPod(input.context), false),
      },
    });
    const actor = createActor(machine, { input: { pod, now: () => this.clock.now(), seams: this.seams, adopted }, clock: this.clock });
    const entry: WorkerEntry = { actor, isStatic, removed: false };
    this.workers.set(uid, entry);
    let last = '';
    actor.subscribe({
      next: (snapshot) => {
        const state = String(snapshot.value);
        if (state !== last) this.trace(`${pod.metadata.namespace}/${pod.metadata.name}: ${state}`);
        last = state;
        this.workerChanged(uid, snapshot);
      },
      error: (error) => this.trace(`${pod.metadata.namespace}/${pod.metadata.name}: worker failed: ${(error as Error).message}`),
    });
    actor.start();
  }
  // #endregion pod-worker-start

  /** An actor that runs `work` as one tracked runtime call of the Pod. */
  private actor<I, O>(uid: string, work: (input: I) => Promise<O>, tracked = true) {
    // Why fromPromise here: the machine names its actors; the kubelet supplies what they do.
    return fromPromise<O, I>(({ input }) => {
      const promise = work(input);
      if (tracked) this.track(uid, promise);
      return promise;
    });
  }

  private track(uid: string, promise: Promise<unknown>): void {
    let set = this.inFlight.get(uid);
    if (!set) this.inFlight.set(uid, (set = new Set()));
    set.add(promise);
    void promise.catch(() => {}).finally(() => set.delete(promise));
  }

  private send(uid: string, event: PodWorkerEvent): void {
    this.workers.get(uid)?.actor.send(event);
  }

  private workerChanged(uid: string, snapshot: SnapshotFrom<typeof podWorker>): void {
    const entry = this.workers.get(uid);
    if (!entry) return;
    const { context } = snapshot;
    if (snapshot.status === 'done') {
      this.probes.forget(uid);
      // Why tracked: whenIdle must also wait for the final status and the confirmation of the deletion.
      const finishing = this.finish(entry, context);
      this.finishing.add(finishing);
      void finishing.finally(() => this.finishing.delete(finishing));
      return;
    }
    // Why no probes while killing: the container on its way out would only fail them; its successor gets new ones.
    if (snapshot.matches('killingContainer') || snapshot.matches('terminating')) this.probes.forget(uid);
    else this.probes.sync(context.pod, context.containers, context.podIP);
    this.markDirty(uid);
  }

  // ---- what the actors do: the runtime calls -----------------------------------

  // #region run-sandbox
  private async runSandbox(pod: Pod): Promise<{ sandboxId: string; podIP?: string }> {
    const config = sandboxConfig(pod);
    // Why look on a retry only: a failed attempt may have left a sandbox holding the Pod's name in the runtime;
    // before the first attempt there is none, since the kubelet adopted or removed everything at start.
    if (this.sandboxAttempts.has(config.metadata.uid)) {
      for (const old of await this.runtime.listPodSandboxes({ labels: { [LABEL_POD_UID]: config.metadata.uid } })) {
        await this.removeSandbox(old.id, await this.runtime.listContainers({ sandboxId: old.id }));
      }
    }
    this.sandboxAttempts.add(config.metadata.uid);
    try {
      const sandboxId = await this.runtime.runPodSandbox(config);
      const status = await this.runtime.podSandboxStatus(sandboxId);
      return { sandboxId, podIP: status.ip };
    } catch (error) {
      this.event(pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${(error as Error).message}`);
      throw error;
    }
  }
  // #endregion run-sandbox

  // #region pull-images
  /** Makes the images of the containers about to start present, as each one's imagePullPolicy says; resolves to their image IDs. */
  private async pullImages(pod: Pod, names: string[]): Promise<Record<string, string>> {
    const present = this.images;
    const ids: Record<string, string> = {};
    for (const name of names) {
      const container = pod.spec.containers.find((c) => c.name === name);
      if (!container) continue;
      const image = container.image ?? '';
      const policy = container.imagePullPolicy ?? 'IfNotPresent';
      const have = present.get(image) ?? present.get(normalizeRef(image));
      if (have && policy !== 'Always') {
        this.event(pod, 'Normal', 'Pulled', `Container image "${image}" already present on machine`);
        ids[name] = have;
        continue;
      }
      if (policy === 'Never') throw Object.assign(new RuntimeError('ErrImageNeverPull', `Container image "${image}" is not present with pull policy of Never`), { image });
      this.event(pod, 'Normal', 'Pulling', `Pulling image "${image}"`);
      const started = this.clock.now();
      try {
        const info = await this.runtime.pullImage(image);
        const took = `${this.clock.now() - started}ms`;
        this.event(pod, 'Normal', 'Pulled', `Successfully pulled image "${image}" in ${took} (${took} including waiting). Image size: ${info.size} bytes.`);
        present.set(image, info.id);
        ids[name] = info.id;
      } catch (error) {
        const reason = (error as RuntimeError).reason ?? 'ErrImagePull';
        this.event(pod, 'Warning', 'Failed', `Failed to pull image "${image}": ${(error as Error).message}`);
        this.event(pod, 'Warning', 'Failed', `Error: ${reason}`);
        throw Object.assign(new RuntimeError(reason, (error as Error).message), { image });
      }
    }
    return ids;
  }
  // #endregion pull-images

  // #region start-containers
  /** Creates and starts the named containers in the Pod's sandbox. */
  private async startContainers(context: PodWorkerContext, names: string[]): Promise<StartResult[]> {
    const { pod, sandboxId } = context;
    if (!sandboxId) throw new Error(`expected a sandbox for ${pod.metadata.name}, got none`);
    const results: StartResult[] = [];
    for (const name of names) {
      const container = pod.spec.containers.find((c) => c.name === name);
      const record = context.containers[name];
      if (!container || !record) continue;
      const attempt = record.id === undefined ? record.restartCount : record.restartCount + 1;
      try {
        // Why remove only the one before: the last exited container stays for `kubectl logs --previous`.
        if (record.previousId) await this.runtime.removeContainer(record.previousId);
        // Why after the second exit only: the first restart comes at once, with no back-off to report.
        if (record.id !== undefined && record.exits > 1) this.event(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${context.uid})`);
        const id = await this.runtime.createContainer(sandboxId, containerConfig(pod, container, attempt, this.settings.address, context.podIP), sandboxConfig(pod));
        this.event(pod, 'Normal', 'Created', `Created container ${name}`);
        await this.runtime.startContainer(id);
        this.event(pod, 'Normal', 'Started', `Started container ${name}`);
        results.push({ name, id, startedAt: this.clock.now() });
      } catch (error) {
        const reason = (error as RuntimeError).reason ?? 'RunContainerError';
        this.event(pod, 'Warning', 'Failed', `Error: ${(error as Error).message}`);
        results.push({ name, error: { reason, message: (error as Error).message } });
      }
    }
    return results;
  }
  // #endregion start-containers

  /** A failed liveness probe: stop the container gracefully; the worker then restarts it. */
  private async killContainer(context: PodWorkerContext, name: string): Promise<ContainerExit | undefined> {
    const record = context.containers[name];
    if (!record?.id) return undefined;
    this.event(context.pod, 'Normal', 'Killing', `Container ${name} failed liveness probe, will be restarted`);
    await this.runtime.stopContainer(record.id, context.pod.spec.terminationGracePeriodSeconds ?? 30);
    return toExit(await this.runtime.containerStatus(record.id));
  }

  // #region kill-pod
  /** A Pod being deleted: SIGTERM to every container, SIGKILL after the grace period, then the sandbox goes. */
  private async killPod(context: PodWorkerContext): Promise<ContainerExit[]> {
    const uid = context.uid;
    // Why wait: a sandbox or container still being created must exist before it can be removed.
    await Promise.allSettled([...(this.inFlight.get(uid) ?? [])]);
    const grace = context.graceSeconds ?? 30;
    const sandboxes = await this.runtime.listPodSandboxes({ labels: { [LABEL_POD_UID]: uid } });
    const containers = (await this.runtime.listContainers({ labels: { [LABEL_POD_UID]: uid } })).filter((c) => c.state === 'CONTAINER_RUNNING');
    const exits = await Promise.all(
      containers.map(async (c) => {
        this.event(context.pod, 'Normal', 'Killing', `Stopping container ${c.metadata.name}`);
        await this.runtime.stopContainer(c.id, grace);
        return toExit(await this.runtime.containerStatus(c.id));
      }),
    );
    for (const sandbox of sandboxes) {
      await this.runtime.stopPodSandbox(sandbox.id);
      await this.runtime.removePodSandbox(sandbox.id);
    }
    return exits.filter((e): e is ContainerExit => e !== undefined);
  }
  // #endregion kill-pod

  /** A worker ended (its Pod was deleted): report the final status, then confirm the deletion to the API server. */
  private async finish(entry: WorkerEntry, context: PodWorkerContext): Promise<void> {
    const uid = context.uid;
    try {
      if (!entry.removed && !entry.isStatic) {
        await this.writeStatus(uid, context, true);
        await this.confirmDeletion(context.pod);
      }
      if (entry.isStatic) await this.deleteMirror(context.pod);
    } catch (error) {
      this.trace(`finishing ${context.pod.metadata.name}: ${(error as Error).message}`);
    } finally {
      this.workers.delete(uid);
      this.statusDirty.delete(uid);
      this.lastWritten.delete(uid);
      this.sandboxAttempts.delete(uid);
      for (const id of Object.values(context.containers).flatMap((c) => [c.id, c.previousId])) if (id) this.reportedExits.delete(id);
    }
  }

  // #region confirm-deletion
  /** Tells the API server the Pod's containers are gone: a delete with grace period 0, for this very Pod (uid precondition). */
  private async confirmDeletion(pod: Pod): Promise<void> {
    try {
      await this.client.delete(RESOURCE.pods, pod.metadata.namespace, pod.metadata.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
      this.trace(`${pod.metadata.namespace}/${pod.metadata.name}: stopped; deletion confirmed`);
    } catch (error) {
      if (!isNotFound(error) && !isConflict(error)) throw error;
    }
  }
  // #endregion confirm-deletion

  // ---- the PLEG -----------------------------------------------------------------

  // #region relist
  /** The Pod Lifecycle Event Generator: relist the runtime, and tell each worker which of its running containers exited. */
  private async relist(): Promise<void> {
    let statuses: RuntimeContainerStatus[];
    try {
      statuses = await this.runtime.listContainers();
    } catch (error) {
      this.trace(`relist failed: ${(error as Error).message}`);
      return;
    }
    const byId = new Map(statuses.map((s) => [s.id, s]));
    for (const [uid, entry] of this.workers) {
      const { context } = entry.actor.getSnapshot();
      for (const record of Object.values(context.containers)) {
        if (!record.id || !record.state.running || this.reportedExits.has(record.id)) continue;
        const status = byId.get(record.id);
        if (status && status.state !== 'CONTAINER_EXITED') continue;
        this.reportedExits.add(record.id);
        // Why an exit when the runtime lost it: someone removed the container behind the kubelet's back; it no longer runs.
        const exit = status ? toExit(status) : { name: record.name, id: record.id, exitCode: 137, reason: 'ContainerStatusUnknown', startedAt: this.clock.now(), finishedAt: this.clock.now() };
        if (exit) this.send(uid, { type: 'container.exited', exit });
      }
    }
  }
  // #endregion relist

  // ---- status -------------------------------------------------------------------

  private markDirty(uid: string): void {
    this.statusDirty.add(uid);
    if (this.statusLoop) return;
    this.statusLoop = true;
    this.statusWriting = (async () => {
      while (this.statusDirty.size > 0 && !this.stopped) {
        const batch = [...this.statusDirty];
        this.statusDirty.clear();
        await Promise.all(
          batch.map(async (id) => {
            const entry = this.workers.get(id);
            if (!entry || entry.actor.getSnapshot().status === 'done') return;
            await this.writeStatus(id, entry.actor.getSnapshot().context, false).catch((error: Error) => {
              this.trace(`status of ${entry.actor.getSnapshot().context.pod.metadata.name}: ${error.message}`);
            });
          }),
        );
      }
      this.statusLoop = false;
    })();
  }

  // #region write-status
  /** Writes the status made from the worker's records to the Pod (or to a static Pod's mirror), unless it says nothing new. */
  private async writeStatus(uid: string, context: PodWorkerContext, terminal: boolean): Promise<void> {
    const entry = this.workers.get(uid);
    let current = entry?.isStatic ? this.mirrorOf(context.pod) : this.newest(uid, this.informer.get(`${context.pod.metadata.namespace}/${context.pod.metadata.name}`));
    for (let attempt = 0; attempt < 5; attempt++) {
      if (!current || (!entry?.isStatic && current.metadata.uid !== uid)) return;
      const status = podStatusFor(
        { pod: { ...context.pod, status: current.status }, containers: context.containers, hostIP: this.settings.address, podIP: context.podIP, sandboxReady: context.sandboxId !== undefined && !terminal, terminal, runtimeName: this.runtimeName, now: this.clock.now() },
        this.seams.podPhase,
      );
      if (sameStatus(current.status, status)) return;
      try {
        const written = await this.client.updateStatus(RESOURCE.pods, { ...structuredClone(current), status });
        if (!entry?.isStatic) this.lastWritten.set(uid, written);
        return;
      } catch (error) {
        if (isNotFound(error)) return;
        if (!isConflict(error)) throw error;
        // Why read it again: someone else changed the Pod since our copy (a label, a deletion); write on top of theirs.
        current = await this.client.get<Pod>(RESOURCE.pods, context.pod.metadata.namespace, context.pod.metadata.name ?? '').catch(() => undefined);
      }
    }
  }

  /** The newer of the cached Pod and the one the kubelet last wrote: the cache lags behind the kubelet's own writes. */
  private newest(uid: string, cached: Pod | undefined): Pod | undefined {
    const written = this.lastWritten.get(uid);
    if (!written || !cached) return cached ?? written;
    return Number(written.metadata.resourceVersion) > Number(cached.metadata.resourceVersion) ? written : cached;
  }
  // #endregion write-status

  // ---- static Pods and their mirrors --------------------------------------------

  private readStaticPods(): void {
    const dir = this.options.staticPodPath;
    if (!dir) return;
    const pods = readStaticPods(dir, this.name, this.clock.now(), (problem) => this.trace(`static Pod manifest refused: ${problem}`));
    const seen = new Set<string>();
    for (const pod of pods) {
      const uid = pod.metadata.uid ?? '';
      seen.add(uid);
      if (!this.staticPods.has(uid)) this.staticPods.set(uid, pod);
      // Why not before adoption: a static Pod still running from before a restart must be adopted, not started again.
      if (this.adopted) this.ensureWorker(pod, true);
    }
    for (const [uid, pod] of this.staticPods) {
      if (seen.has(uid)) continue;
      // Why delete: the manifest was removed (or changed, which gives a new uid); its Pod must stop.
      this.staticPods.delete(uid);
      this.send(uid, { type: 'pod.deleted', gracePeriodSeconds: pod.spec.terminationGracePeriodSeconds ?? 30 });
    }
    if (this.adopted) void this.syncMirrorPods().catch((error: Error) => this.trace(`mirror Pods: ${error.message}`));
  }

  private mirrorOf(pod: Pod): Pod | undefined {
    const mirror = this.informer.get(`${pod.metadata.namespace}/${pod.metadata.name}`);
    return mirror && isMirrorPod(mirror) ? mirror : undefined;
  }

  private mirrorChanged(mirror: Pod): void {
    // Why: a mirror Pod being deleted (by a user) is gone for good only when the kubelet says so; it is made again.
    if (mirror.metadata.deletionTimestamp) void this.confirmDeletion(mirror).then(() => this.syncMirrorPods()).catch(() => {});
    const pod = [...this.staticPods.values()].find((p) => p.metadata.name === mirror.metadata.name && p.metadata.namespace === mirror.metadata.namespace);
    if (pod && mirror.metadata.annotations?.[CONFIG_MIRROR_ANNOTATION] === pod.metadata.uid) this.markDirty(pod.metadata.uid ?? '');
  }

  // #region mirror-pods
  /** Makes one mirror Pod per static Pod exist in the API server, and removes those of static Pods that are gone. */
  private async syncMirrorPods(): Promise<void> {
    if (this.stopped) return;
    for (const pod of this.staticPods.values()) {
      const mirror = this.informer.get(`${pod.metadata.namespace}/${pod.metadata.name}`);
      if (mirror && !mirror.metadata.deletionTimestamp && mirror.metadata.annotations?.[CONFIG_MIRROR_ANNOTATION] === pod.metadata.uid) continue;
      if (mirror) continue; // Why wait: the old one is on its way out; the next sync makes the new one.
      try {
        await this.client.create(RESOURCE.pods, mirrorPod(pod, { name: this.name, uid: this.nodeUid }));
        this.trace(`created the mirror Pod ${pod.metadata.namespace}/${pod.metadata.name}`);
      } catch (error) {
        this.trace(`mirror Pod ${pod.metadata.name}: ${(error as Error).message}`);
      }
    }
    for (const pod of this.informer.list()) {
      if (!isMirrorPod(pod) || pod.metadata.deletionTimestamp) continue;
      const live = [...this.staticPods.values()].some((p) => p.metadata.uid === pod.metadata.annotations?.[CONFIG_MIRROR_ANNOTATION]);
      if (!live) await this.deleteMirror(pod);
    }
  }
  // #endregion mirror-pods

  private async deleteMirror(pod: Pod): Promise<void> {
    const mirror = this.informer.get(`${pod.metadata.namespace}/${pod.metadata.name}`);
    if (!mirror || !isMirrorPod(mirror)) return;
    await this.confirmDeletion(mirror);
  }

  // ---- logs ---------------------------------------------------------------------

  // #region serve-logs
  async serveLogs(pod: Pod, container: string, options: { follow: boolean; tailLines?: number; previous?: boolean }, res: ServerResponse): Promise<boolean> {
    const entry = this.workerFor(pod);
    const record = entry?.actor.getSnapshot().context.containers[container];
    const id = options.previous ? record?.previousId : record?.id;
    if (!entry || !record || !id) return false;
    res.writeHead(200, { 'content-type': 'text/plain' });
    let sent = 0;
    const send = async (first: boolean) => {
      const text = await this.runtime.readLog(id).catch(() => '');
      if (first && options.tailLines !== undefined) {
        const lines = text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
        res.write(lines.slice(Math.max(0, lines.length - options.tailLines)).map((l) => `${l}\n`).join(''));
      } else res.write(text.slice(sent));
      sent = text.length;
    };
    await send(true);
    // Why poll: the runtime writes the log file; following it is reading what was added since.
    while (options.follow && !res.destroyed && !this.stopped) {
      const status = await this.runtime.containerStatus(id).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await send(false);
      if (!status || status.state === 'CONTAINER_EXITED') break;
    }
    res.end();
    return true;
  }
  // #endregion serve-logs

  private workerFor(pod: Pod): WorkerEntry | undefined {
    if (isMirrorPod(pod)) {
      const hash = pod.metadata.annotations?.[CONFIG_MIRROR_ANNOTATION] ?? '';
      return this.workers.get(hash);
    }
    return this.workers.get(pod.metadata.uid ?? '');
  }

  // ---- events, idleness, stop ------------------------------------------------------

  private event(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void {
    // Why the mirror: a static Pod's events belong to the object kubectl can show.
    const target = this.staticPods.has(pod.metadata.uid ?? '') ? this.mirrorOf(pod) : pod;
    if (target) this.recorder.event(target, type, reason, message);
  }

  private busy(): boolean {
    if (this.statusLoop || this.finishing.size > 0) return true;
    for (const set of this.inFlight.values()) if (set.size > 0) return true;
    return false;
  }

  async whenIdle(): Promise<void> {
    for (;;) {
      const pending = [...this.inFlight.values()].flatMap((s) => [...s]);
      await Promise.allSettled([...pending, this.statusWriting, ...this.finishing]);
      await new Promise((resolve) => setImmediate(resolve));
      if (!this.busy()) return;
    }
  }

  workerState(uid: string): string | undefined {
    const entry = this.workers.get(uid);
    return entry ? String(entry.actor.getSnapshot().value) : undefined;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) this.clock.clearTimeout(timer);
    this.probes.stop();
    await this.informer.stop();
    await Promise.allSettled([this.relisting, this.renewing]);
    await Promise.allSettled([...this.inFlight.values()].flatMap((s) => [...s]));
    for (const entry of this.workers.values()) entry.actor.stop();
    await this.statusWriting;
    await this.recorder.flush();
    this.trace('stopped (its containers keep running)');
  }
}

function isFinished(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** A runtime's status of an exited container, as a worker event; undefined if it still runs. */
function toExit(status: RuntimeContainerStatus): ContainerExit | undefined {
  if (status.state !== 'CONTAINER_EXITED') return undefined;
  const reason = status.reason || (status.exitCode === 0 ? 'Completed' : 'Error');
  return { name: status.labels[LABEL_CONTAINER_NAME] ?? status.metadata.name, id: status.id, exitCode: status.exitCode, reason, startedAt: status.startedAt, finishedAt: status.finishedAt };
}

/** "busybox" and "docker.io/library/busybox:latest" name the same image. */
function normalizeRef(ref: string): string {
  const withTag = /:[^/]+$/.test(ref) || ref.includes('@') ? ref : `${ref}:latest`;
  return withTag.includes('/') ? withTag : `docker.io/library/${withTag}`;
}

// #region adopted-records
/** What a restarted kubelet learns from the runtime about a Pod's containers: the latest of each, running or exited. */
function adoptedRecords(pod: Pod, containers: RuntimeContainerStatus[]): Record<string, ContainerRecord> {
  const records: Record<string, ContainerRecord> = {};
  for (const spec of pod.spec.containers) {
    const mine = containers.filter((c) => (c.labels[LABEL_CONTAINER_NAME] ?? c.metadata.name) === spec.name).sort((a, b) => b.metadata.attempt - a.metadata.attempt);
    const latest = mine[0];
    if (!latest) continue;
    const before = pod.status?.containerStatuses?.find((s) => s.name === spec.name);
    const record: ContainerRecord = { ...newContainerRecord(spec.name, spec.image ?? ''), id: latest.id, previousId: mine[1]?.id, imageID: before?.imageID ?? '', restartCount: latest.metadata.attempt, started: true, exits: before?.restartCount ?? 0 };
    if (before?.lastState) record.lastState = before.lastState;
    // Why running even when it exited: the next relist reports the exit, and the worker restarts it as usual.
    record.state = { running: { startedAt: new Date(latest.startedAt).toISOString().replace(/\.\d{3}Z$/, 'Z') } };
    record.ready = before?.ready ?? !spec.readinessProbe;
    records[spec.name] = record;
  }
  return records;
}
// #endregion adopted-records

/** Starts a kubelet: resolves once its Node exists, what the runtime ran is adopted or removed, and it watches its Pods. */
export async function startKubelet(options: KubeletOptions): Promise<Kubelet> {
  const kubelet = new KubeletAgent(options);
  await kubelet.start();
  return kubelet;
}
