/**
 * The NodeResourcesFit score with the LeastAllocated strategy (the default):
 * prefer the node that would have the most room left after placing the Pod,
 * so Pods spread out over the cluster instead of piling on one node.
 */
import type { Resources } from '../resources.ts';

/** The top of every score plugin's range (upstream's MaxNodeScore). */
export const MAX_NODE_SCORE = 100;

// #region least-allocated
/**
 * The 0–100 score of a node whose Pods (the new one included) would request
 * `requested` of `allocatable`: per resource (allocatable − requested) × 100 /
 * allocatable, rounded down, 0 when over; CPU and memory averaged with weight 1 (exercise 4.2).
 */
export function leastAllocatedScore(requested: Resources, allocatable: Resources): number {
  const cpu = resourceScore(requested.milliCPU, allocatable.milliCPU);
  const memory = resourceScore(requested.memory, allocatable.memory);
  return Math.floor((cpu + memory) / 2);
}

function resourceScore(requested: number, allocatable: number): number {
  // Why 0: a node with none of the resource, or already over-committed, has nothing left to offer.
  if (allocatable === 0 || requested > allocatable) return 0;
  return Math.floor(((allocatable - requested) * MAX_NODE_SCORE) / allocatable);
}
// #endregion least-allocated
