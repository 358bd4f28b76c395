/**
 * The NodeResourcesFit filter: a Pod fits on a node when the node still has
 * room for its requests (not its actual use: the scheduler only ever looks at
 * what Pods asked for) and a free Pod slot.
 */
import type { Pod } from '../../api/types.ts';
import { podRequests, type NodeResources } from '../resources.ts';

// #region fits-resources
/**
 * Why `pod` does not fit on a node with `node`'s allocatable resources, its
 * Pods' requests and its Pod count: "Too many pods", "Insufficient cpu",
 * "Insufficient memory"; [] when it fits (exercise 4.1).
 */
export function fitsResources(pod: Pod, node: NodeResources): string[] {
  const reasons: string[] = [];
  if (node.podCount + 1 > node.allocatable.pods) reasons.push('Too many pods');
  const wanted = podRequests(pod);
  // Why compare with what is left, not with the total: the node's other Pods already hold their requests.
  // Why `> 0` first: a Pod asking none of a resource fits even a node already over-committed on it.
  if (wanted.milliCPU > 0 && wanted.milliCPU > node.allocatable.milliCPU - node.requested.milliCPU) reasons.push('Insufficient cpu');
  if (wanted.memory > 0 && wanted.memory > node.allocatable.memory - node.requested.memory) reasons.push('Insufficient memory');
  return reasons;
}
// #endregion fits-resources
