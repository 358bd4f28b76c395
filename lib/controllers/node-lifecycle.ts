/**
 * The node lifecycle controller: the control plane's only way to notice that
 * a machine died. Every kubelet renews a Lease in `kube-node-lease` every
 * 10 s; every `nodeMonitorPeriodMs` this controller looks at each Node, and a
 * Node that has shown no sign of life (no Lease renewal, no new heartbeat in
 * its Ready condition) for `nodeMonitorGracePeriodMs` gets its conditions set
 * to Unknown ("Kubelet stopped posting node status."), its Pods marked not
 * ready, and the taint `node.kubernetes.io/unreachable` (a node that reports
 * Ready=False gets `node.kubernetes.io/not-ready`): NoSchedule keeps new Pods
 * off it, NoExecute starts their eviction.
 *
 * The eviction itself is the taint eviction controller's job (upstream runs it
 * as its own loop, `taint-eviction-controller`; here it runs inside this one):
 * a Pod on a node with a NoExecute taint it does not tolerate is deleted at
 * once; one that tolerates it for `tolerationSeconds` (every Pod gets 300 s
 * from the DefaultTolerationSeconds admission plugin) is deleted when that
 * time is up. Its ReplicaSet then creates a replacement, which the scheduler
 * puts on a healthy node.
 */
import type { Lease, Node, NodeCondition, Pod, Taint, Toleration } from '../api/types.ts';
import { isNotFound } from '../client/client.ts';
import type { Informer } from '../client/informer.ts';
import { keyOf, splitKey } from '../client/informer.ts';
import { toleratesTaint } from '../scheduler/plugins/taint-toleration.ts';
import { Controller, type ControllerContext } from './controller.ts';
import { BY_NODE, ensureIndex, podNodeName, RESOURCE } from './informers.ts';
import type { ControllerOptions } from './manager.ts';
import { isPodReady } from './pod-control.ts';

/** The namespace where kubelets renew their Leases. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** The taint of a node whose kubelet reports Ready=False. */
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
/** The taint of a node the control plane has not heard from (Ready=Unknown). */
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';

/** The conditions a kubelet posts, which become Unknown when it stops posting them (upstream's list). */
const KUBELET_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

/** What the controller remembers of each Node between looks: when it last saw it alive, by its own clock. */
interface NodeHealth {
  /** Our clock's time when the Lease or the heartbeat last moved. */
  probeTimestamp: number;
  renewTime: string | undefined;
  heartbeat: string | undefined;
  readyStatus: string | undefined;
}

function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Watches Node Leases and conditions; marks silent Nodes Unknown, taints them, and (through TaintEvictionController) evicts their Pods. */
export class NodeLifecycleController extends Controller {
  readonly name = 'node-lifecycle';
  private readonly nodes: Informer<Node>;
  private readonly leases: Informer<Lease>;
  private readonly pods: Informer<Pod>;
  private readonly health = new Map<string, NodeHealth>();
  private readonly eviction: TaintEvictionController;
  private timer: unknown;
  private stopping = false;

  constructor(
    ctx: ControllerContext,
    private readonly options: ControllerOptions,
  ) {
    super(ctx);
    this.nodes = ctx.informers.informerFor<Node>(RESOURCE.nodes);
    this.leases = ctx.informers.informerFor<Lease>(RESOURCE.leases);
    this.pods = ensureIndex(ctx.informers.informerFor<Pod>(RESOURCE.pods), BY_NODE, podNodeName);
    this.nodes.on('add', (node) => this.enqueue(node));
    this.nodes.on('update', (_old, node) => this.enqueue(node));
    this.nodes.on('delete', (node) => this.enqueue(node));
    // Why: a renewed Lease is the news that a silent node is back; no need to wait for the next period.
    const onLease = (lease: Lease) => {
      if (lease.metadata.namespace === NODE_LEASE_NAMESPACE) this.queue.add(lease.metadata.name ?? '');
    };
    this.leases.on('add', onLease);
    this.leases.on('update', (_old, lease) => onLease(lease));
    this.eviction = new TaintEvictionController(ctx);
  }

  // #region monitor-period
  /** Every nodeMonitorPeriodMs, every Node is looked at again: silence is noticed only by looking. */
  protected override onStart(): void {
    const tick = () => {
      if (this.stopping) return;
      for (const node of this.nodes.list()) this.enqueue(node);
      this.timer = this.ctx.clock.setTimeout(tick, this.options.nodeMonitorPeriodMs);
    };
    tick();
  }
  // #endregion monitor-period

  /** Runs the node monitor's workers and the taint eviction controller's. */
  override run(workers = 1): void {
    super.run(workers);
    this.eviction.run(workers);
  }

  override async stop(): Promise<void> {
    this.stopping = true;
    this.ctx.clock.clearTimeout(this.timer);
    await Promise.all([super.stop(), this.eviction.stop()]);
  }

  // #region node-reconcile
  async reconcile(name: string): Promise<void> {
    const cached = this.nodes.get(name);
    if (!cached) {
      this.health.delete(name);
      return;
    }
    const health = this.observe(cached);
    let node = cached;
    const silentFor = this.ctx.clock.now() - health.probeTimestamp;
    if (silentFor > this.options.nodeMonitorGracePeriodMs) node = await this.markUnknown(node, silentFor);

    const ready = readyCondition(node);
    if (ready?.status !== 'True' && health.readyStatus === 'True') {
      this.recordNodeEvent(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    }
    health.readyStatus = ready?.status;
    node = await this.syncTaints(node, ready);
    // Why mark Pods not ready: Services must stop sending traffic to Pods nobody can vouch for.
    if (ready?.status !== 'True') await this.markPodsNotReady(name);
  }
  // #endregion node-reconcile

  // #region observe
  /**
   * Updates what we know of a Node's liveness. The time we record is our own
   * clock's when we saw the Lease's renewTime (or the Ready heartbeat) change,
   * not the time written in it: the kubelet's clock may be wrong, ours is the
   * one we compare against.
   */
  private observe(node: Node): NodeHealth {
    const name = node.metadata.name ?? '';
    const now = this.ctx.clock.now();
    const renewTime = this.leases.get(`${NODE_LEASE_NAMESPACE}/${name}`)?.spec?.renewTime;
    const heartbeat = readyCondition(node)?.lastHeartbeatTime;
    let health = this.health.get(name);
    if (!health) {
      // Why "now" for a node first seen: a controller that just started gives every node a full grace period.
      health = { probeTimestamp: now, renewTime, heartbeat, readyStatus: readyCondition(node)?.status };
      this.health.set(name, health);
      this.recordNodeEvent(node, 'Normal', 'RegisteredNode', `Node ${name} event: Registered Node ${name} in Controller`);
      return health;
    }
    if (renewTime !== health.renewTime || heartbeat !== health.heartbeat) {
      health.probeTimestamp = now;
      health.renewTime = renewTime;
      health.heartbeat = heartbeat;
    }
    return health;
  }
  // #endregion observe

  // #region mark-unknown
  /** Sets the kubelet's conditions to Unknown (the kubelet cannot say them any more); returns the Node as stored. */
  private async markUnknown(node: Node, silentFor: number): Promise<Node> {
    const now = timestamp(this.ctx.clock.now());
    const updated = structuredClone(node);
    const status = (updated.status ??= {});
    const conditions = (status.conditions ??= []);
    let changed = false;
    if (!conditions.some((c) => c.type === 'Ready')) {
      conditions.push({ type: 'Ready', status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastHeartbeatTime: node.metadata.creationTimestamp, lastTransitionTime: now });
      changed = true;
    }
    for (const condition of conditions) {
      if (!KUBELET_CONDITIONS.includes(condition.type) || condition.status === 'Unknown') continue;
      // Why keep lastHeartbeatTime: it records when the kubelet last spoke, which is exactly what is in question.
      Object.assign(condition, { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: now });
      changed = true;
    }
    if (!changed) return node;
    this.ctx.trace(`node-lifecycle ${node.metadata.name}: no lease renewal or heartbeat for ${Math.round(silentFor / 1000)}s; conditions set to Unknown`);
    return this.ctx.client.updateStatus(RESOURCE.nodes, updated);
  }
  // #endregion mark-unknown

  // #region taints
  /** Puts the taints that match the Ready condition on the Node (not-ready for False, unreachable for Unknown) and removes the others. */
  private async syncTaints(node: Node, ready: NodeCondition | undefined): Promise<Node> {
    const existing = node.spec?.taints ?? [];
    const wantedKey = ready?.status === 'True' ? undefined : ready?.status === 'False' ? TAINT_NOT_READY : TAINT_UNREACHABLE;
    const others = existing.filter((t) => t.key !== TAINT_NOT_READY && t.key !== TAINT_UNREACHABLE);
    const wanted: Taint[] = [];
    if (wantedKey) {
      for (const effect of ['NoSchedule', 'NoExecute'] as const) {
        const kept = existing.find((t) => t.key === wantedKey && t.effect === effect);
        // Why timeAdded only on NoExecute: it tells when eviction started; NoSchedule only steers the scheduler.
        wanted.push(kept ?? { key: wantedKey, effect, ...(effect === 'NoExecute' ? { timeAdded: timestamp(this.ctx.clock.now()) } : {}) });
      }
    }
    const taints = [...others, ...wanted];
    const same = taints.length === existing.length && taints.every((t) => existing.includes(t));
    if (same) return node;
    const updated = structuredClone(node);
    updated.spec = { ...(updated.spec ?? {}), taints };
    if (taints.length === 0) delete updated.spec.taints;
    const stored = await this.ctx.client.update(RESOURCE.nodes, updated);
    this.ctx.trace(`node-lifecycle ${node.metadata.name}: taints now ${taints.map((t) => `${t.key}:${t.effect}`).join(', ') || 'none'}`);
    return stored;
  }
  // #endregion taints

  // #region mark-pods-not-ready
  /** Sets the Ready condition of every Pod on the node to False, with a NodeNotReady event on each. */
  private async markPodsNotReady(nodeName: string): Promise<void> {
    const now = timestamp(this.ctx.clock.now());
    for (const pod of this.pods.byIndex(BY_NODE, nodeName)) {
      // Why skip terminating Pods: they are on their way out, and no one will route to them anyway.
      if (!isPodReady(pod) || pod.metadata.deletionTimestamp) continue;
      const updated = structuredClone(pod);
      for (const condition of updated.status?.conditions ?? []) {
        if (condition.type === 'Ready') Object.assign(condition, { status: 'False', lastTransitionTime: now });
      }
      try {
        await this.ctx.client.updateStatus(RESOURCE.pods, updated);
      } catch (error) {
        if (isNotFound(error)) continue; // Why: a Pod deleted meanwhile needs nothing more.
        throw error;
      }
      this.ctx.recorder.event(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
    }
  }
  // #endregion mark-pods-not-ready

  /** Records an event about a Node, as upstream's RecordNodeEvent does (cluster-scoped, so it lands in `default`). */
  private recordNodeEvent(node: Node, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.ctx.recorder.event({ apiVersion: 'v1', kind: 'Node', metadata: { name: node.metadata.name, uid: node.metadata.uid } }, type, reason, message);
  }
}

/** A Node's Ready condition, if it has one. */
export function readyCondition(node: Node): NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === 'Ready');
}

// #region toleration-seconds
/**
 * How long a Pod may stay on a node with these NoExecute taints: 0 when one
 * of them is not tolerated at all, Infinity when the tolerations used set no
 * time limit, otherwise the smallest tolerationSeconds among the first
 * toleration matching each taint (upstream's getMinTolerationTime).
 */
export function evictionDelaySeconds(taints: readonly Taint[], tolerations: readonly Toleration[]): number {
  let delay = Infinity;
  for (const taint of taints) {
    const used = tolerations.find((toleration) => toleratesTaint(toleration, taint));
    if (!used) return 0;
    // Why Infinity without tolerationSeconds: such a toleration means "stay for as long as the taint is there".
    if (used.tolerationSeconds !== undefined) delay = Math.min(delay, Math.max(0, used.tolerationSeconds));
  }
  return delay;
}
// #endregion toleration-seconds

/**
 * The taint eviction controller: deletes Pods from nodes with NoExecute
 * taints they do not tolerate, at once or when their tolerationSeconds run
 * out. Keys are Pod keys; a Pod waiting for its time is put back on the
 * queue with a delay rather than given a timer of its own.
 */
export class TaintEvictionController extends Controller {
  readonly name = 'taint-eviction-controller';
  private readonly nodes: Informer<Node>;
  private readonly pods: Informer<Pod>;
  /** When each Pod (by uid) was first seen on a NoExecute-tainted node, by our clock. */
  private readonly taintedSince = new Map<string, number>();

  constructor(ctx: ControllerContext) {
    super(ctx);
    this.nodes = ctx.informers.informerFor<Node>(RESOURCE.nodes);
    this.pods = ensureIndex(ctx.informers.informerFor<Pod>(RESOURCE.pods), BY_NODE, podNodeName);
    this.nodes.on('add', (node) => this.enqueuePodsOn(node));
    this.nodes.on('update', (old, node) => {
      // Why compare: nodes change every few seconds (heartbeats); only a change of NoExecute taints matters here.
      if (JSON.stringify(noExecuteTaints(old)) !== JSON.stringify(noExecuteTaints(node))) this.enqueuePodsOn(node);
    });
    this.pods.on('add', (pod) => this.enqueue(pod));
    this.pods.on('update', (_old, pod) => this.enqueue(pod));
    this.pods.on('delete', (pod) => this.taintedSince.delete(pod.metadata.uid ?? ''));
  }

  private enqueuePodsOn(node: Node): void {
    for (const pod of this.pods.byIndex(BY_NODE, node.metadata.name ?? '')) this.enqueue(pod);
  }

  // #region eviction-reconcile
  async reconcile(key: string): Promise<void> {
    const pod = this.pods.get(key);
    const node = pod?.spec.nodeName ? this.nodes.get(pod.spec.nodeName) : undefined;
    const taints = node ? noExecuteTaints(node) : [];
    if (!pod || pod.metadata.deletionTimestamp || taints.length === 0) {
      if (pod) this.taintedSince.delete(pod.metadata.uid ?? '');
      return;
    }
    const delaySeconds = evictionDelaySeconds(taints, pod.spec.tolerations ?? []);
    if (delaySeconds === Infinity) return;
    const now = this.ctx.clock.now();
    const uid = pod.metadata.uid ?? '';
    const since = this.taintedSince.get(uid) ?? now;
    this.taintedSince.set(uid, since);
    const due = since + delaySeconds * 1000;
    // Why requeue instead of waiting: the worker is free for other Pods; the key comes back when the time is up.
    if (now < due) return this.queue.addAfter(key, due - now);
    await this.evict(pod);
  }
  // #endregion eviction-reconcile

  private async evict(pod: Pod): Promise<void> {
    const { namespace = '', name } = splitKey(keyOf(pod));
    this.ctx.recorder.event(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${namespace}/${name}`);
    try {
      await this.ctx.client.delete(RESOURCE.pods, namespace, name);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    this.taintedSince.delete(pod.metadata.uid ?? '');
    this.ctx.trace(`taint-eviction ${namespace}/${name}: deleted from node ${pod.spec.nodeName} (NoExecute taint)`);
  }
}

function noExecuteTaints(node: Node): Taint[] {
  return (node.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
}
