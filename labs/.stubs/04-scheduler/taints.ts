/**
 * Exercise 4.3: taints and tolerations.
 *
 * A taint on a node repels Pods: kubeadm taints the control-plane node
 * `node-role.kubernetes.io/control-plane:NoSchedule`, so workloads never land
 * there; the node lifecycle controller taints a node that stopped reporting
 * `node.kubernetes.io/not-ready`. A Pod goes to a tainted node only if it
 * *tolerates* every taint that matters.
 *
 * Which taints matter: only those with effect NoSchedule or NoExecute.
 * PreferNoSchedule is a wish for the scoring phase, never a reason to refuse.
 *
 * When a toleration tolerates a taint:
 *   - effect: the toleration's effect is empty (it matches every effect) or
 *     equal to the taint's;
 *   - key: the toleration's key is empty (only allowed with operator Exists:
 *     it then tolerates every taint) or equal to the taint's;
 *   - value: with operator "Exists" the value does not matter; with "Equal"
 *     (also when the operator is left out) the values must be equal (a
 *     missing value counts as "").
 *
 * Return the first taint (in the node's order) that matters and that no
 * toleration tolerates, or undefined when the Pod may go there. The scheduler
 * turns it into "node(s) had untolerated taint {key: value}".
 *
 * Run `npm run grade 4` to check your work, `npm run hint 4.3` when stuck.
 */
import type { Taint, Toleration } from '#lib/api/types.ts';
import { todo } from '#lib/workbook/todo.ts';

/** The first NoSchedule or NoExecute taint that none of `tolerations` tolerates, or undefined. */
export function findUntoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[]): Taint | undefined {
  // TODO: skip PreferNoSchedule taints; for the others, look for a toleration that tolerates them.
  return todo('4.3');
}
