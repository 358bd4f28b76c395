/**
 * The scheduler's cache: every Node with the Pods assigned to it and the sum
 * of their requests, kept from the informers' events. It also holds
 * "assumed" Pods: the scheduler counts a Pod on its node the moment it
 * decides, before the binding reaches the API server and long before the
 * watch reports it, so the next Pod in the queue cannot take the same last
 * CPU. The watch later confirms the assumption; a failed binding forgets it.
 */
import type { Node, Pod, Taint } from '../api/types.ts';
import { keyOf } from '../client/informer.ts';
import { nodeAllocatable, podNonZeroRequests, podRequests, type Allocatable, type NodeResources, type Resources } from './resources.ts';

/** One Pod counted on a node. */
interface PodEntry {
  key: string;
  nodeName: string;
  requests: Resources;
  nonZero: Resources;
  /** The uid of its controlling owner (a ReplicaSet), for spreading. */
  owner: string | undefined;
  /** Counted by our decision, not yet seen bound by the watch. */
  assumed: boolean;
}

/** A node as the filters and scores see it. */
export interface NodeInfo {
  name: string;
  node: Node | undefined;
  allocatable: Allocatable;
  taints: readonly Taint[];
  unschedulable: boolean;
  labels: Readonly<Record<string, string>> | undefined;
  /** What NodeResourcesFit is given: allocatable, the sum of its Pods' requests and their count. */
  resources: NodeResources;
  /** The same sum with upstream's non-zero defaults, for scoring. */
  nonZeroRequested: Resources;
  /** Pods per controlling owner uid, for spreading. */
  ownerCounts: Map<string, number>;
  pods: Map<string, PodEntry>;
}

/** The uid of the Pod's controlling owner, if any. */
export function ownerOf(pod: Pod): string | undefined {
  return pod.metadata.ownerReferences?.find((ref) => ref.controller)?.uid;
}

/** Nodes and the Pods on them, assumed ones included. */
export class SchedulerCache {
  private readonly infos = new Map<string, NodeInfo>();
  private readonly podIndex = new Map<string, PodEntry>();
  /** The nodes Pods may go to, in a stable order (the scheduler walks it round-robin). */
  readonly nodeList: NodeInfo[] = [];

  /** The node's info, if the cache has the Node. */
  nodeInfo(name: string): NodeInfo | undefined {
    const info = this.infos.get(name);
    return info?.node ? info : undefined;
  }

  hasNode(name: string): boolean {
    return this.infos.get(name)?.node !== undefined;
  }

  /** A new or changed Node. */
  setNode(node: Node): void {
    const name = node.metadata.name ?? '';
    const info = this.infoFor(name);
    const wasListed = info.node !== undefined;
    info.node = node;
    info.allocatable = nodeAllocatable(node);
    info.resources.allocatable = info.allocatable;
    info.taints = node.spec?.taints ?? [];
    info.unschedulable = node.spec?.unschedulable === true;
    info.labels = node.metadata.labels;
    if (!wasListed) this.nodeList.push(info);
  }

  /** A deleted Node: no Pod may go there any more (its Pods stay counted until they are deleted). */
  removeNode(name: string): void {
    const info = this.infos.get(name);
    if (!info?.node) return;
    info.node = undefined;
    const at = this.nodeList.indexOf(info);
    if (at >= 0) this.nodeList.splice(at, 1);
    if (info.pods.size === 0) this.infos.delete(name);
  }

  // #region assume
  /** Counts `pod` on `nodeName` before the binding is confirmed. */
  assumePod(pod: Pod, nodeName: string): void {
    this.removePod(keyOf(pod));
    this.addEntry(pod, nodeName, true);
  }

  /** Undoes an assumption after a failed binding; a Pod the watch already saw bound stays. */
  forgetPod(key: string): void {
    if (this.podIndex.get(key)?.assumed) this.removePod(key);
  }

  isAssumed(key: string): boolean {
    return this.podIndex.get(key)?.assumed === true;
  }
  // #endregion assume

  /** A Pod the watch shows bound to a node: confirms an assumption, or counts it (bound by someone else, or before we started). */
  addPod(pod: Pod): void {
    const key = keyOf(pod);
    const nodeName = pod.spec.nodeName ?? '';
    const known = this.podIndex.get(key);
    if (known && known.nodeName === nodeName) {
      known.assumed = false;
      return;
    }
    // Why remove first: an assumption on another node (another scheduler won the race) must not be counted twice.
    if (known) this.removePod(key);
    this.addEntry(pod, nodeName, false);
  }

  /** A deleted (or finished) Pod: its requests are free again. */
  removePod(key: string): void {
    const entry = this.podIndex.get(key);
    if (!entry) return;
    this.podIndex.delete(key);
    const info = this.infos.get(entry.nodeName);
    if (!info) return;
    info.pods.delete(key);
    info.resources.requested.milliCPU -= entry.requests.milliCPU;
    info.resources.requested.memory -= entry.requests.memory;
    info.resources.podCount--;
    info.nonZeroRequested.milliCPU -= entry.nonZero.milliCPU;
    info.nonZeroRequested.memory -= entry.nonZero.memory;
    if (entry.owner) {
      const left = (info.ownerCounts.get(entry.owner) ?? 1) - 1;
      if (left > 0) info.ownerCounts.set(entry.owner, left);
      else info.ownerCounts.delete(entry.owner);
    }
    // Why drop a ghost: the Node was deleted earlier and was only kept for the Pods still counted on it.
    if (!info.node && info.pods.size === 0) this.infos.delete(entry.nodeName);
  }

  /** The node a Pod is counted on, if any. */
  nodeOf(key: string): string | undefined {
    return this.podIndex.get(key)?.nodeName;
  }

  private addEntry(pod: Pod, nodeName: string, assumed: boolean): void {
    const key = keyOf(pod);
    const entry: PodEntry = { key, nodeName, requests: podRequests(pod), nonZero: podNonZeroRequests(pod), owner: ownerOf(pod), assumed };
    this.podIndex.set(key, entry);
    const info = this.infoFor(nodeName);
    info.pods.set(key, entry);
    info.resources.requested.milliCPU += entry.requests.milliCPU;
    info.resources.requested.memory += entry.requests.memory;
    info.resources.podCount++;
    info.nonZeroRequested.milliCPU += entry.nonZero.milliCPU;
    info.nonZeroRequested.memory += entry.nonZero.memory;
    if (entry.owner) info.ownerCounts.set(entry.owner, (info.ownerCounts.get(entry.owner) ?? 0) + 1);
  }

  private infoFor(name: string): NodeInfo {
    let info = this.infos.get(name);
    if (!info) {
      const allocatable: Allocatable = { milliCPU: 0, memory: 0, pods: 0 };
      info = {
        name,
        node: undefined,
        allocatable,
        taints: [],
        unschedulable: false,
        labels: undefined,
        resources: { allocatable, requested: { milliCPU: 0, memory: 0 }, podCount: 0 },
        nonZeroRequested: { milliCPU: 0, memory: 0 },
        ownerCounts: new Map(),
        pods: new Map(),
      };
      this.infos.set(name, info);
    }
    return info;
  }
}
