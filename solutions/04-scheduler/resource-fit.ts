/**
 * Solution 4.1: does a Pod fit on a node?
 */
import type { Container, Pod } from '#lib/api/types.ts';
import type { NodeResources } from '#lib/scheduler/resources.ts';
import { parseQuantity } from '#lib/apiserver/validation.ts';

export function fitsResources(pod: Pod, node: NodeResources): string[] {
  const want = requestsOf(pod);
  const reasons: string[] = [];
  // The Pod itself takes one slot, so a node at its limit refuses even an empty Pod.
  if (node.podCount >= node.allocatable.pods) reasons.push('Too many pods');
  // Compare with what is left, not with the whole node: the Pods already there keep their requests.
  // Asking for nothing always fits, even where the node is already over-committed (left < 0).
  if (want.cpu > 0 && want.cpu > node.allocatable.milliCPU - node.requested.milliCPU) reasons.push('Insufficient cpu');
  if (want.memory > 0 && want.memory > node.allocatable.memory - node.requested.memory) reasons.push('Insufficient memory');
  return reasons;
}

/** Millicores and bytes one container requests; a missing request is 0. */
function containerAsks(container: Container): { cpu: number; memory: number } {
  const requests = container.resources?.requests ?? {};
  // Rounding up like Quantity.MilliValue; the tiny subtraction keeps 0.1 * 1000 at 100.
  const cpu = requests.cpu ? Math.ceil(parseQuantity(requests.cpu) * 1000 - 1e-6) : 0;
  const memory = requests.memory ? Math.ceil(parseQuantity(requests.memory)) : 0;
  return { cpu, memory };
}

/** The Pod's effective request: the app containers together, or the hungriest init container if bigger. */
function requestsOf(pod: Pod): { cpu: number; memory: number } {
  let cpu = 0;
  let memory = 0;
  for (const container of pod.spec.containers) {
    const asks = containerAsks(container);
    cpu += asks.cpu;
    memory += asks.memory;
  }
  // Init containers run alone, one after another: only the largest one matters, and only if it beats the sum.
  for (const init of pod.spec.initContainers ?? []) {
    const asks = containerAsks(init);
    cpu = Math.max(cpu, asks.cpu);
    memory = Math.max(memory, asks.memory);
  }
  return { cpu, memory };
}
