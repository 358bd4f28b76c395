/**
 * What every node agent tells the API server about its node, whether it runs
 * containers (the kubelet, chapter 5) or only pretends to (the hollow node,
 * chapter 4): the Node object it registers, the status it keeps fresh, and
 * the Lease it renews in kube-node-lease so that the node lifecycle
 * controller knows it is alive.
 */
import { createHash } from 'node:crypto';
import type { Lease, Node, NodeCondition, PodCondition, Pod, Taint } from '../api/types.ts';
import { findResource, type ResourceInfo } from '../apiserver/resources.ts';
import { isAlreadyExists, isConflict, isNotFound, type Clock, type KubeClient } from '../client/client.ts';
import type { EventRecorder } from '../client/events.ts';

/** The label kubeadm puts on a control-plane node; kubectl's ROLES column reads `node-role.kubernetes.io/<role>`. */
export const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';
/** The taint kubeadm puts on a control-plane node so that workloads go elsewhere. */
export const CONTROL_PLANE_TAINT: Taint = { key: CONTROL_PLANE_LABEL, effect: 'NoSchedule' };
/** The namespace where node Leases live. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** The kubelet version the workbook's nodes report (kubectl's VERSION column). */
export const KUBELET_VERSION = 'v1.32.0';

export const NODES = mustFind('', 'nodes');
export const PODS = mustFind('', 'pods');
export const LEASES = mustFind('coordination.k8s.io', 'leases');

function mustFind(group: string, resource: string): ResourceInfo {
  const info = findResource(group, 'v1', resource);
  if (!info) throw new Error(`expected the API server to serve ${group || 'core'}/v1 ${resource}, got nothing`);
  return info;
}

/** The index of `node-<n>` (n - 1), or a stable number from the name's hash for other names. */
export function nodeIndex(name: string): number {
  const match = /-(\d+)$/.exec(name);
  if (match) return Math.max(0, Number(match[1]) - 1);
  return createHash('sha256').update(name).digest().readUInt16BE(0);
}

/** The default Pod CIDR of a node: 10.244.<i>.0/24 for the first 256 nodes, then 10.<i/256>.<i%256>.0/24. */
export function defaultPodCIDR(index: number): string {
  // Why two ranges: the benchmark runs 5000 nodes, more than 10.244.0.0/16 has /24s.
  return index < 256 ? `10.244.${index}.0/24` : `10.${(index >> 8) % 244}.${index & 255}.0/24`;
}

/** The default InternalIP of a node: 172.18.x.y counted from 172.18.0.2, as kind numbers its node containers. */
export function defaultNodeAddress(index: number): string {
  const n = index + 2;
  return `172.18.${(n >> 8) & 255}.${n & 255}`;
}

/** A MicroTime as Leases carry it: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** A Time as most fields carry it: RFC 3339, whole seconds. */
export function time(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** What a node says about its machine and software (`kubectl get nodes -o wide` shows some of it). */
export type NodeInfo = NonNullable<NonNullable<Node['status']>['nodeInfo']>;

/** Everything a node agent registers its Node with. */
export interface NodeSettings {
  capacity: Record<string, string>;
  /** What Pods may use: capacity minus what the system keeps (default: all of it). */
  allocatable?: Record<string, string>;
  taints: Taint[];
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  podCIDR: string;
  address: string;
  nodeInfo: NodeInfo;
}

// #region node-object
/** The Node an agent registers: labels, taints, Pod CIDR, and a status that says Ready. */
export function nodeObject(name: string, settings: NodeSettings, now: number): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', ...settings.labels },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', ...settings.annotations },
    },
    spec: { podCIDR: settings.podCIDR, podCIDRs: [settings.podCIDR], ...(settings.taints.length > 0 ? { taints: settings.taints } : {}) },
    status: nodeStatus(name, settings, now, []),
  };
}

/** A Ready node's status; `previous` conditions keep their lastTransitionTime when their status did not change. */
export function nodeStatus(name: string, settings: Pick<NodeSettings, 'capacity' | 'allocatable' | 'address' | 'nodeInfo'>, now: number, previous: readonly NodeCondition[]): NonNullable<Node['status']> {
  const condition = (type: string, status: 'True' | 'False', reason: string, message: string): NodeCondition => {
    const before = previous.find((c) => c.type === type);
    const lastTransitionTime = before && before.status === status && before.lastTransitionTime ? before.lastTransitionTime : time(now);
    return { type, status, reason, message, lastHeartbeatTime: time(now), lastTransitionTime };
  };
  return {
    capacity: { ...settings.capacity },
    allocatable: { ...(settings.allocatable ?? settings.capacity) },
    conditions: [
      condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
    ],
    addresses: [
      { type: 'InternalIP', address: settings.address },
      { type: 'Hostname', address: name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: { ...settings.nodeInfo },
  };
}
// #endregion node-object

/** The Pod conditions a node agent reports, keeping each one's lastTransitionTime while its status stays. */
export function podConditions(old: readonly PodCondition[], states: { sandboxReady: boolean; initialized: boolean; ready: boolean; reason?: string }, now: number): PodCondition[] {
  const make = (type: string, status: boolean, why?: string): PodCondition => {
    const value = status ? 'True' : 'False';
    const before = old.find((c) => c.type === type);
    const lastTransitionTime = before && before.status === value && before.lastTransitionTime ? before.lastTransitionTime : time(now);
    return { type, status: value, lastProbeTime: null, lastTransitionTime, ...(why && !status ? { reason: why } : {}) };
  };
  const scheduled = old.find((c) => c.type === 'PodScheduled') ?? make('PodScheduled', true);
  return [
    make('PodReadyToStartContainers', states.sandboxReady),
    make('Initialized', states.initialized),
    make('Ready', states.ready, states.reason),
    make('ContainersReady', states.ready, states.reason),
    { ...scheduled },
  ];
}

/** The Pod's QoS class: Guaranteed when every container's cpu and memory limits equal its requests, BestEffort when none asks for anything, else Burstable. */
export function qosClass(pod: Pod): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  const asks = containers.some((c) => Object.keys(c.resources?.requests ?? {}).length > 0 || Object.keys(c.resources?.limits ?? {}).length > 0);
  if (!asks) return 'BestEffort';
  // Why limits decide: the API server copies limits into missing requests, so equal limits and requests mean Guaranteed.
  const guaranteed = containers.every((c) => ['cpu', 'memory'].every((r) => c.resources?.limits?.[r] !== undefined && (c.resources.requests?.[r] ?? c.resources.limits[r]) === c.resources.limits[r]));
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** How a node agent keeps its Node and Lease: register, renew, say Ready again. */
export interface HeartbeatOptions {
  client: KubeClient;
  name: string;
  clock: Clock;
  leaseDurationSeconds: number;
  /** The Node to register, built fresh at each call. */
  node: (now: number) => Node;
  /** The status to report, given the conditions the Node has now. */
  status: (now: number, previous: readonly NodeCondition[]) => NonNullable<Node['status']>;
  recorder?: EventRecorder;
  trace: (line: string) => void;
}

/** A node agent's registration and heartbeats: the Node object and its Lease in kube-node-lease. */
export class NodeHeartbeat {
  private lease: Lease | undefined;

  constructor(private readonly options: HeartbeatOptions) {}

  /** Creates the Node, or, when it exists (a restarted agent), reports its status again. */
  async registerNode(): Promise<void> {
    const { client, name, recorder } = this.options;
    try {
      const created = await client.create(NODES, this.options.node(this.options.clock.now()));
      recorder?.event(created, 'Normal', 'Starting', 'Starting kubelet.');
      recorder?.event(created, 'Normal', 'NodeReady', `Node ${name} status is now: NodeReady`);
      this.options.trace('created its Node');
    } catch (error) {
      // Why carry on: a kubelet that restarts finds its Node there and only reports its status again.
      if (!isAlreadyExists(error)) throw error;
      await this.reportReady(true);
    }
  }

  /** Makes the Node say Ready (with a fresh heartbeat) if it does not, or always when `force`. */
  async reportReady(force: boolean): Promise<void> {
    const { client, name, recorder } = this.options;
    for (let attempt = 0; attempt < 5; attempt++) {
      let node: Node;
      try {
        node = await client.get<Node>(NODES, undefined, name);
      } catch (error) {
        // Why register again: an admin may have deleted the Node while this agent was away.
        if (isNotFound(error)) return this.registerNode();
        throw error;
      }
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
      if (!force && ready?.status === 'True') return;
      const updated = structuredClone(node);
      updated.status = { ...updated.status, ...this.options.status(this.options.clock.now(), node.status?.conditions ?? []) };
      try {
        await client.updateStatus(NODES, updated);
        if (ready?.status !== 'True') {
          recorder?.event(updated, 'Normal', 'NodeReady', `Node ${name} status is now: NodeReady`);
          this.options.trace(`reported Ready (was ${ready?.status ?? 'unset'})`);
        }
        return;
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
    }
  }

  // #region renew-lease
  /** Creates or renews the node's Lease: holder = this node, renewTime = now. */
  async renewLease(): Promise<void> {
    const { client, name, leaseDurationSeconds } = this.options;
    const renewTime = microTime(this.options.clock.now());
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        if (!this.lease) this.lease = await this.getOrCreateLease(renewTime);
        const next = structuredClone(this.lease);
        next.spec = { ...next.spec, holderIdentity: name, leaseDurationSeconds, renewTime };
        this.lease = await client.update(LEASES, next);
        return;
      } catch (error) {
        // Why read it again: someone else wrote the Lease (or deleted it); our copy is stale.
        if (!isConflict(error) && !isNotFound(error)) throw error;
        this.lease = undefined;
      }
    }
  }

  private async getOrCreateLease(renewTime: string): Promise<Lease> {
    const { client, name, leaseDurationSeconds } = this.options;
    try {
      return await client.get<Lease>(LEASES, NODE_LEASE_NAMESPACE, name);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    const node = await client.get<Node>(NODES, undefined, name);
    const lease: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name,
        namespace: NODE_LEASE_NAMESPACE,
        // Why an owner: when the Node is deleted, the garbage collector deletes its Lease too.
        ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid ?? '' }],
      },
      spec: { holderIdentity: name, leaseDurationSeconds, renewTime },
    };
    const created = await client.create(LEASES, lease);
    this.options.trace('created its Lease');
    return created;
  }
  // #endregion renew-lease

  /** One beat: renew the Lease, and say Ready again if the node lifecycle controller marked the Node otherwise. */
  async beat(): Promise<void> {
    try {
      await this.renewLease();
      await this.reportReady(false);
    } catch (error) {
      this.options.trace(`heartbeat failed: ${(error as Error).message}`);
    }
  }
}
