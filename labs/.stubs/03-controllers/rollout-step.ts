/**
 * Exercise 3.3: the sizes of one rolling-update step.
 *
 * During a rolling update the Deployment controller has a new ReplicaSet
 * (the new template) and old ones. Each reconcile it takes one step: it
 * grows the new ReplicaSet, or shrinks the old ones, within two limits:
 *   maxSurge        how many Pods may exist above `replicas`
 *   maxUnavailable  how many Pods may be unavailable below `replicas`
 * Each is a number (1) or a percentage of replicas ("25%"): a surge
 * percentage rounds UP, an unavailable percentage rounds DOWN, and if both
 * come out 0, maxUnavailable counts as 1 (or no step could ever be taken).
 *
 * newReplicas (the new ReplicaSet's size after this step):
 *   if it is already >= replicas, it is replicas (a scale-down);
 *   else it grows by the room left under replicas + maxSurge (counting new
 *   and old Pods together), but not beyond replicas.
 * scaleDownOld (how many old Pods may go now):
 *   minAvailable = replicas - maxUnavailable;
 *   maxScaledDown = (newReplicas + oldReplicas) - minAvailable - (new Pods not yet available);
 *   if maxScaledDown <= 0, nothing may go; otherwise the unavailable old
 *   Pods may go first (up to maxScaledDown), then available old Pods as long
 *   as the available Pods (new + old) stay >= minAvailable and the total
 *   stays within maxScaledDown; never more than oldReplicas.
 * Use the input's current newReplicas for scaleDownOld, not the grown one.
 *
 * `npm run lab 3` runs your function inside the real Deployment controller.
 * Run `npm run grade 3` to check your work, `npm run hint 3.3` when stuck.
 */
import type { RollingUpdateInput, RollingUpdateStep } from '#lib/controllers/rollout.ts';
import { todo } from '#lib/workbook/todo.ts';

/** One step of a rolling update: the new ReplicaSet's size, and how many old Pods may go. */
export function rollingUpdateStep(input: RollingUpdateInput): RollingUpdateStep {
  // TODO: resolve maxSurge and maxUnavailable to Pod counts, then compute newReplicas and scaleDownOld as described above.
  return todo('3.3');
}
