/**
 * Solution 3.1: the Pods a ReplicaSet must create or delete.
 */
import type { Pod } from '#lib/api/types.ts';

export function manageReplicas(desired: number, pods: readonly Pod[]): { create: number; remove: Pod[] } {
  const surplus = pods.length - desired;
  // Too few (or exactly enough): create the difference; Math.max keeps "exactly enough" at 0.
  if (surplus <= 0) return { create: Math.max(0, -surplus), remove: [] };
  // Too many: rank a copy (sort would reorder the caller's array) and delete the first `surplus`.
  const ranked = [...pods].sort(deleteFirst);
  return { create: 0, remove: ranked.slice(0, surplus) };
}

/** Negative when `a` should be deleted before `b`. Each rule only decides when the ones before it tie. */
function deleteFirst(a: Pod, b: Pod): number {
  return (
    // 1. Unassigned first: nothing runs yet, so nothing is lost.
    rank(Boolean(a.spec.nodeName), Boolean(b.spec.nodeName)) ||
    // 2. Earlier phases first.
    phaseRank(a) - phaseRank(b) ||
    // 3. Not ready first: it serves no traffic.
    rank(ready(a), ready(b)) ||
    // 4. More restarts first: it is likely the sick one.
    restarts(b) - restarts(a) ||
    // 5. Newer first: the older one has proven itself longer.
    createdAt(b) - createdAt(a)
  );
}

/** false sorts before true. */
function rank(a: boolean, b: boolean): number {
  return Number(a) - Number(b);
}

function phaseRank(pod: Pod): number {
  const phase = pod.status?.phase ?? 'Pending';
  return phase === 'Pending' ? 0 : phase === 'Unknown' ? 1 : phase === 'Running' ? 2 : 0;
}

function ready(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function restarts(pod: Pod): number {
  let total = 0;
  for (const status of pod.status?.containerStatuses ?? []) total += status.restartCount;
  return total;
}

function createdAt(pod: Pod): number {
  const time = Date.parse(pod.metadata.creationTimestamp ?? '');
  return Number.isNaN(time) ? 0 : time;
}
