/**
 * Exercise 4.2: the least-allocated score.
 *
 * After filtering, the scheduler scores every feasible node from 0 to 100
 * with several plugins and picks the highest total. The NodeResourcesFit
 * plugin's default strategy, LeastAllocated, prefers the node that would
 * have the most room left once the Pod is placed there, so Pods spread out
 * instead of piling up on one node.
 *
 * `requested` is what the node's Pods would request with the new Pod
 * included; `allocatable` is what the node offers. Both are
 * { milliCPU, memory } (millicores and bytes). (For scoring, the scheduler
 * counts a container without requests as 100m and 200Mi, so that even empty
 * Pods spread; that is already done in `requested`.)
 *
 * Per resource, the score is
 *     (allocatable − requested) × 100 / allocatable, rounded down,
 * and 0 when requested is more than allocatable or allocatable is 0.
 * The node's score is the average of the cpu and memory scores (each has
 * weight 1), rounded down. Example: 2000m cpu with 100m requested and 4Gi
 * memory with 200Mi requested → cpu 95, memory 95 → 95.
 *
 * Run `npm run grade 4` to check your work, `npm run hint 4.2` when stuck.
 */
import type { Resources } from '#lib/scheduler/resources.ts';
import { todo } from '#lib/workbook/todo.ts';

/** The 0–100 score of a node whose Pods would request `requested` of `allocatable`. */
export function leastAllocatedScore(requested: Resources, allocatable: Resources): number {
  // TODO: score cpu and memory separately, then average them.
  return todo('4.2');
}
