/**
 * One scheduling decision, as upstream's schedulePod: run the filter plugins
 * on nodes until enough feasible ones are found, score those, pick the
 * highest. The plugins are pure functions (lib/scheduler/plugins); this file
 * only walks the nodes and adds up what they say.
 */
import type { Pod, Toleration } from '../api/types.ts';
import type { NodeInfo, SchedulerCache } from './cache.ts';
import { ownerOf } from './cache.ts';
import { matchNodeSelector } from './plugins/node-selector.ts';
import { checkUnschedulable } from './plugins/node-unschedulable.ts';
import { spreadScores } from './plugins/selector-spread.ts';
import { untoleratedTaintReason } from './plugins/taint-toleration.ts';
import { podNonZeroRequests } from './resources.ts';
import type { SchedulerSeams } from './seams.ts';

/** Upstream's floor: look at no fewer than 100 nodes (or all, if fewer). */
export const MIN_FEASIBLE_NODES_TO_FIND = 100;
/** Upstream's floor for the adaptive percentage. */
export const MIN_FEASIBLE_NODES_PERCENTAGE = 5;
/** Score plugin weights, as upstream's default profile (NodeResourcesFit 1, PodTopologySpread 2). */
export const WEIGHTS = { leastAllocated: 1, spread: 2 };

// #region nodes-to-find
/**
 * How many feasible nodes to find before scoring: all of a small cluster;
 * in a large one a percentage, adaptive by default (50% − nodes/125, at least
 * 5%), never fewer than 100 nodes. For 5000 nodes that is 10%: 500.
 */
export function numFeasibleNodesToFind(numAllNodes: number, percentageOfNodesToScore = 0): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND || percentageOfNodesToScore >= 100) return numAllNodes;
  let percentage = percentageOfNodesToScore;
  if (percentage <= 0) {
    percentage = 50 - Math.floor(numAllNodes / 125);
    if (percentage < MIN_FEASIBLE_NODES_PERCENTAGE) percentage = MIN_FEASIBLE_NODES_PERCENTAGE;
  }
  const count = Math.floor((numAllNodes * percentage) / 100);
  return Math.max(count, MIN_FEASIBLE_NODES_TO_FIND);
}
// #endregion nodes-to-find

// #region filters
const NO_TOLERATIONS: readonly Toleration[] = Object.freeze([]);

/** The reasons a node refuses a Pod, from the first filter that refuses (upstream stops there): [] when it fits. */
export function runFilters(pod: Pod, node: NodeInfo, seams: SchedulerSeams): readonly string[] {
  const tolerations = pod.spec.tolerations ?? NO_TOLERATIONS;
  const unschedulable = checkUnschedulable(node.unschedulable, tolerations);
  if (unschedulable.length > 0) return unschedulable;
  const taint = seams.findUntoleratedTaint(node.taints, tolerations);
  if (taint) return [untoleratedTaintReason(taint)];
  const selector = matchNodeSelector(pod.spec.nodeSelector, node.labels);
  if (selector.length > 0) return selector;
  return seams.fitsResources(pod, node.resources);
}
// #endregion filters

/** What filtering found: the feasible nodes, and how many nodes gave each reason. */
export interface FilterResult {
  feasible: NodeInfo[];
  /** reason → how many nodes gave it. */
  reasons: Map<string, number>;
  /** How many nodes the cluster has (the "0/N" of the message). */
  numAllNodes: number;
}

/** Where the next cycle starts walking the node list: upstream rotates it so every node gets its turn. */
export interface FilterState {
  nextStartNodeIndex: number;
}

// #region find-feasible
/** Runs the filters over the nodes, from where the last cycle stopped, until enough feasible ones are found. */
export function findFeasibleNodes(pod: Pod, cache: SchedulerCache, seams: SchedulerSeams, state: FilterState, percentageOfNodesToScore?: number): FilterResult {
  const nodes = cache.nodeList;
  const numAllNodes = nodes.length;
  const wanted = numFeasibleNodesToFind(numAllNodes, percentageOfNodesToScore);
  const feasible: NodeInfo[] = [];
  const reasons = new Map<string, number>();
  let looked = 0;
  for (; looked < numAllNodes && feasible.length < wanted; looked++) {
    const node = nodes[(state.nextStartNodeIndex + looked) % numAllNodes]!;
    const refused = runFilters(pod, node, seams);
    if (refused.length === 0) feasible.push(node);
    else for (const reason of refused) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  state.nextStartNodeIndex = numAllNodes === 0 ? 0 : (state.nextStartNodeIndex + looked) % numAllNodes;
  return { feasible, reasons, numAllNodes };
}
// #endregion find-feasible

// #region score
/** The total score of each feasible node: least-allocated × 1 + spreading × 2. */
export function scoreNodes(pod: Pod, feasible: readonly NodeInfo[], seams: SchedulerSeams): number[] {
  const wanted = podNonZeroRequests(pod);
  const owner = ownerOf(pod);
  const spread = spreadScores(feasible.map((node) => (owner ? (node.ownerCounts.get(owner) ?? 0) : 0)));
  return feasible.map((node, i) => {
    const requested = { milliCPU: node.nonZeroRequested.milliCPU + wanted.milliCPU, memory: node.nonZeroRequested.memory + wanted.memory };
    const leastAllocated = seams.leastAllocatedScore(requested, node.allocatable);
    return WEIGHTS.leastAllocated * leastAllocated + WEIGHTS.spread * (spread[i] ?? 0);
  });
}
// #endregion score

// #region select-host
/** The highest-scoring node; among equal scores one at random, as upstream's selectHost. */
export function selectHost(feasible: readonly NodeInfo[], scores: readonly number[], random: () => number = Math.random): NodeInfo | undefined {
  let best: NodeInfo | undefined;
  let bestScore = -Infinity;
  let ties = 0;
  feasible.forEach((node, i) => {
    const score = scores[i] ?? 0;
    if (score > bestScore) {
      best = node;
      bestScore = score;
      ties = 1;
    } else if (score === bestScore) {
      // Why reservoir sampling: each of the tied nodes is chosen with equal chance, in one pass.
      ties++;
      if (random() * ties < 1) best = node;
    }
  });
  return best;
}
// #endregion select-host

// #region fit-error
/**
 * The FailedScheduling message, worded as upstream's FitError.Error():
 * "0/3 nodes are available: 1 node(s) had untolerated taint {…}, 2 Insufficient cpu."
 * — each reason with the number of nodes that gave it, sorted as strings.
 */
export function fitErrorMessage(result: Pick<FilterResult, 'numAllNodes' | 'reasons'>): string {
  // Why this wording: it is upstream's ErrNoNodesAvailable, for a cluster with no Node at all.
  if (result.numAllNodes === 0) return 'no nodes available to schedule pods';
  // Why no "preemption: ..." sentence: upstream appends its PostFilter (preemption) verdict; we run no
  // preemption, as upstream does with the DefaultPreemption plugin disabled, so the message ends here.
  const histogram = [...result.reasons].map(([reason, count]) => `${count} ${reason}`).sort();
  return `0/${result.numAllNodes} nodes are available: ${histogram.join(', ')}.`;
}
// #endregion fit-error
