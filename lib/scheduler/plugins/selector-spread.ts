/**
 * The default spreading score (upstream's SelectorSpread, now the default
 * constraints of PodTopologySpread): Pods of one owner (the same ReplicaSet)
 * should not all land on one node, so one node failing does not take them all.
 */
import { MAX_NODE_SCORE } from './least-allocated.ts';

// #region spread
/**
 * The 0–100 scores of nodes that already run `counts[i]` Pods of the
 * incoming Pod's owner: the fewer, the higher, scaled so the emptiest gets
 * MAX_NODE_SCORE × (max − count) / max; all 100 when none runs any.
 */
export function spreadScores(counts: readonly number[]): number[] {
  const max = counts.reduce((a, b) => Math.max(a, b), 0);
  // Why all equal: with no sibling anywhere, spreading has no preference.
  if (max === 0) return counts.map(() => MAX_NODE_SCORE);
  return counts.map((count) => Math.floor((MAX_NODE_SCORE * (max - count)) / max));
}
// #endregion spread
