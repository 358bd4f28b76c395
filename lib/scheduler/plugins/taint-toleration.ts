/**
 * The TaintToleration filter: a taint on a node repels every Pod that does
 * not tolerate it. This is why the control-plane node takes no workloads
 * (kubeadm taints it node-role.kubernetes.io/control-plane:NoSchedule), and
 * how a NotReady node stops receiving Pods: the node lifecycle controller
 * taints it node.kubernetes.io/not-ready, and this filter does the rest.
 */
import type { Taint, Toleration } from '../../api/types.ts';

// #region tolerates
/** Whether one toleration tolerates one taint: same effect (or any), same key (or any, with Exists), and Exists or an equal value. */
export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
  // Why an empty effect matches: a toleration without an effect tolerates the key with every effect.
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  // Why an empty key matches: `{operator: Exists}` alone tolerates every taint (DaemonSets use it).
  if (toleration.key && toleration.key !== taint.key) return false;
  const operator = toleration.operator ?? 'Equal';
  if (operator === 'Exists') return true;
  return (toleration.value ?? '') === (taint.value ?? '');
}
// #endregion tolerates

// #region find-untolerated
/** The first NoSchedule or NoExecute taint that no toleration tolerates, or undefined (exercise 4.3). */
export function findUntoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[]): Taint | undefined {
  for (const taint of taints) {
    // Why skip PreferNoSchedule: it is a wish the scoring phase weighs, never a reason to refuse a node.
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (!tolerations.some((toleration) => toleratesTaint(toleration, taint))) return taint;
  }
  return undefined;
}
// #endregion find-untolerated

/** The reason upstream gives for a node with an untolerated taint: `node(s) had untolerated taint {key: value}`. */
export function untoleratedTaintReason(taint: Taint): string {
  return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
}
