/**
 * Solution 3.3: the sizes of one rolling-update step.
 */
import type { RollingUpdateInput, RollingUpdateStep } from '#lib/controllers/rollout.ts';

/** A number, or a percentage of `of` rounded the way the field asks. */
function toCount(value: number | string, of: number, round: (x: number) => number): number {
  if (typeof value === 'number') return value;
  if (value.endsWith('%')) return round((Number.parseInt(value, 10) * of) / 100);
  return Number.parseInt(value, 10);
}

export function rollingUpdateStep(input: RollingUpdateInput): RollingUpdateStep {
  const { replicas, newReplicas, newAvailable, oldReplicas, oldAvailable } = input;
  const surge = toCount(input.maxSurge, replicas, Math.ceil);
  let maxUnavailable = toCount(input.maxUnavailable, replicas, Math.floor);
  // Both zero would freeze the rollout; Kubernetes lets one Pod be unavailable instead.
  if (surge === 0 && maxUnavailable === 0) maxUnavailable = 1;

  // Grow the new ReplicaSet into the room under the ceiling, never past the desired count.
  let grown: number;
  if (newReplicas >= replicas) grown = replicas;
  else {
    const room = replicas + surge - (newReplicas + oldReplicas);
    grown = newReplicas + Math.max(0, Math.min(room, replicas - newReplicas));
  }

  // Shrink the old ones while enough Pods stay available. New Pods that are not available yet
  // count against the budget: they may never become available.
  const minAvailable = replicas - maxUnavailable;
  const budget = newReplicas + oldReplicas - minAvailable - (newReplicas - newAvailable);
  if (budget <= 0) return { newReplicas: grown, scaleDownOld: 0 };
  const unhealthyOld = Math.min(oldReplicas - oldAvailable, budget);
  // Available old Pods may go only down to minAvailable (counting new and old available Pods).
  const healthyOld = Math.max(0, Math.min(newAvailable + oldAvailable - minAvailable, budget - unhealthyOld, oldAvailable));
  return { newReplicas: grown, scaleDownOld: Math.min(oldReplicas, unhealthyOld + healthyOld) };
}
