/**
 * Exercise 4.1: does a Pod fit on a node?
 *
 * The scheduler's NodeResourcesFit filter asks this for every Pod and every
 * node it looks at. It never looks at what Pods really use, only at what
 * they *request*: a node "has room" when the requests of the Pods already on
 * it, plus the new Pod's, stay within the node's allocatable resources.
 *
 * What the Pod requests, per resource:
 *   - the sum of `resources.requests` over `pod.spec.containers`
 *     (a container without a request for a resource requests 0 of it);
 *   - raised to the largest request of any one of `pod.spec.initContainers`
 *     if that is bigger (init containers run one at a time, before the others).
 * CPU is counted in millicores ("500m" → 500, "2" → 2000), memory in bytes
 * ("1Gi" → 1073741824). `parseQuantity` turns the text into a number of
 * cores or bytes ("500m" → 0.5); multiply CPU by 1000 and round up.
 *
 * `node` is what the scheduler's cache knows about the node:
 *   node.allocatable  { milliCPU, memory, pods }   what it offers
 *   node.requested    { milliCPU, memory }         what its Pods already request
 *   node.podCount                                  how many Pods it runs
 *
 * Return the reasons it does not fit, in this order, each at most once:
 *   "Too many pods"        the node already runs allocatable.pods Pods
 *   "Insufficient cpu"     the Pod's CPU is more than what is left
 *   "Insufficient memory"  the Pod's memory is more than what is left
 * and [] when it fits. The scheduler counts these reasons over all nodes into
 * "0/3 nodes are available: ..., 2 Insufficient cpu."
 *
 * Run `npm run grade 4` to check your work, `npm run hint 4.1` when stuck.
 */
import type { Pod } from '#lib/api/types.ts';
import type { NodeResources } from '#lib/scheduler/resources.ts';
import { parseQuantity } from '#lib/apiserver/validation.ts';
import { todo } from '#lib/workbook/todo.ts';

/** Why `pod` does not fit on `node`: "Too many pods", "Insufficient cpu", "Insufficient memory"; [] when it fits. */
export function fitsResources(pod: Pod, node: NodeResources): string[] {
  // TODO: add up the Pod's requests (containers, then init containers), then compare with what the node has left.
  void parseQuantity;
  return todo('4.1');
}
