/**
 * Solution 4.2: the least-allocated score.
 */
import type { Resources } from '#lib/scheduler/resources.ts';

export function leastAllocatedScore(requested: Resources, allocatable: Resources): number {
  const cpu = share(requested.milliCPU, allocatable.milliCPU);
  const memory = share(requested.memory, allocatable.memory);
  // Two resources of weight 1 each: a plain average, rounded down as Go's integer division does.
  return Math.floor((cpu + memory) / 2);
}

/** 0–100: the part of `allocatable` still free once `requested` is taken. */
function share(requested: number, allocatable: number): number {
  // Nothing to offer (or already more than offered): the worst score, never a negative one.
  if (allocatable <= 0 || requested > allocatable) return 0;
  return Math.floor(((allocatable - requested) * 100) / allocatable);
}
