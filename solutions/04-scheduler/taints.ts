/**
 * Solution 4.3: taints and tolerations.
 */
import type { Taint, Toleration } from '#lib/api/types.ts';

export function findUntoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[]): Taint | undefined {
  // Only the two "hard" effects can keep a Pod off a node; PreferNoSchedule merely lowers a score.
  const hard = taints.filter((taint) => taint.effect === 'NoSchedule' || taint.effect === 'NoExecute');
  return hard.find((taint) => !tolerations.some((toleration) => tolerates(toleration, taint)));
}

function tolerates(toleration: Toleration, taint: Taint): boolean {
  // An effect left out covers all effects.
  const effectOk = !toleration.effect || toleration.effect === taint.effect;
  if (!effectOk) return false;
  if (toleration.operator === 'Exists') {
    // Exists ignores the value; with no key it matches every key ("tolerate everything").
    return !toleration.key || toleration.key === taint.key;
  }
  // Equal is the default operator: key and value must both match (absent values are "").
  return toleration.key === taint.key && (toleration.value ?? '') === (taint.value ?? '');
}
