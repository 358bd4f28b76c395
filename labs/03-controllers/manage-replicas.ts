/**
 * Exercise 3.1: the Pods a ReplicaSet must create or delete.
 *
 * Every time the ReplicaSet controller reconciles a ReplicaSet it counts
 * the ReplicaSet's active Pods (not being deleted, not finished) and
 * compares them with spec.replicas. Too few: it creates the difference
 * from the template. Too many: it deletes the surplus — and it chooses
 * which ones, cheapest to lose first, in this order (upstream's ActivePods
 * ranking):
 *   1. a Pod not yet assigned to a node (spec.nodeName empty) before one that is;
 *   2. by phase: Pending before Unknown before Running;
 *   3. a Pod that is not Ready before one that is (the Ready condition is True);
 *   4. the Pod with more container restarts (status.containerStatuses[].restartCount, summed) first;
 *   5. the newer Pod (later metadata.creationTimestamp) before the older.
 *
 * Return { create, remove }: how many Pods to create, and the Pods to
 * delete (never both). Do not change the array you are given.
 *
 * `npm run lab 3` runs your function inside the real ReplicaSet controller.
 * Run `npm run grade 3` to check your work, `npm run hint 3.1` when stuck.
 */
import type { Pod } from '#lib/api/types.ts';
import { todo } from '#lib/workbook/todo.ts';

/** How many Pods to create, or which Pods to delete, to go from `pods` to `desired`. */
export function manageReplicas(desired: number, pods: readonly Pod[]): { create: number; remove: Pod[] } {
  // TODO: compare pods.length with desired; when there are too many, sort a copy by the ranking above and take the first ones.
  return todo('3.1');
}
