/**
 * Resource arithmetic the scheduler's plugins share: what a Pod requests and
 * what a Node can hold, as plain integers (CPU in millicores, memory in
 * bytes), the units upstream's framework.Resource uses.
 */
import type { Container, Node, Pod } from '../api/types.ts';
import { parseQuantity } from '../apiserver/validation.ts';

/** CPU in millicores and memory in bytes. */
export interface Resources {
  milliCPU: number;
  memory: number;
}

/** What a node offers (its status.allocatable) plus how many Pods it may run. */
export interface Allocatable extends Resources {
  pods: number;
}

/** A node as the NodeResourcesFit filter sees it: what it offers, what its Pods already request, how many Pods it has. */
export interface NodeResources {
  allocatable: Allocatable;
  requested: Resources;
  podCount: number;
}

/** Upstream's defaults for a container without requests, used only for scoring (DefaultMilliCPURequest, DefaultMemoryRequest). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
/** 200Mi, in bytes. */
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/** A CPU quantity ("500m", "2") in millicores, rounded up as Quantity.MilliValue does. */
export function milliCPU(text: string | undefined): number {
  if (text === undefined) return 0;
  // Why subtract a hair: 0.1 * 1000 is 100.00000000000001 in floating point, which must stay 100.
  return Math.ceil(parseQuantity(text) * 1000 - 1e-6);
}

/** A memory quantity ("128Mi", "1G") in bytes, rounded up. */
export function bytes(text: string | undefined): number {
  if (text === undefined) return 0;
  return Math.ceil(parseQuantity(text) - 1e-6);
}

function containerRequests(container: Container): Resources {
  const requests = container.resources?.requests ?? {};
  return { milliCPU: milliCPU(requests.cpu), memory: bytes(requests.memory) };
}

const requestsCache = new WeakMap<Pod, Resources>();

// #region pod-requests
/**
 * What a Pod requests: the sum over its containers, raised to the largest
 * init container's request where that is bigger (init containers run one at
 * a time, before the others), per resource, as upstream's computePodResourceRequest.
 */
export function podRequests(pod: Pod): Resources {
  const cached = requestsCache.get(pod);
  if (cached) return cached;
  const sum: Resources = { milliCPU: 0, memory: 0 };
  for (const container of pod.spec.containers) {
    const r = containerRequests(container);
    sum.milliCPU += r.milliCPU;
    sum.memory += r.memory;
  }
  for (const init of pod.spec.initContainers ?? []) {
    const r = containerRequests(init);
    sum.milliCPU = Math.max(sum.milliCPU, r.milliCPU);
    sum.memory = Math.max(sum.memory, r.memory);
  }
  // Why cache: a Pod from the informer is frozen, and the filter asks about the same Pod once per node.
  if (Object.isFrozen(pod)) requestsCache.set(pod, sum);
  return sum;
}
// #endregion pod-requests

/**
 * What a Pod requests for scoring: a container that requests no CPU (or no
 * memory) counts as 100m (200Mi), so that empty Pods still spread out (upstream's GetNonzeroRequests).
 */
export function podNonZeroRequests(pod: Pod): Resources {
  const sum: Resources = { milliCPU: 0, memory: 0 };
  for (const container of pod.spec.containers) {
    const requests = container.resources?.requests ?? {};
    sum.milliCPU += requests.cpu === undefined ? DEFAULT_MILLI_CPU_REQUEST : milliCPU(requests.cpu);
    sum.memory += requests.memory === undefined ? DEFAULT_MEMORY_REQUEST : bytes(requests.memory);
  }
  for (const init of pod.spec.initContainers ?? []) {
    const requests = init.resources?.requests ?? {};
    sum.milliCPU = Math.max(sum.milliCPU, requests.cpu === undefined ? DEFAULT_MILLI_CPU_REQUEST : milliCPU(requests.cpu));
    sum.memory = Math.max(sum.memory, requests.memory === undefined ? DEFAULT_MEMORY_REQUEST : bytes(requests.memory));
  }
  return sum;
}

/** What a Node offers: status.allocatable (or capacity when allocatable is missing), 0 for what it does not state. */
export function nodeAllocatable(node: Node): Allocatable {
  const offered = node.status?.allocatable ?? node.status?.capacity ?? {};
  return { milliCPU: milliCPU(offered.cpu), memory: bytes(offered.memory), pods: offered.pods === undefined ? 0 : Math.floor(parseQuantity(offered.pods)) };
}
