/**
 * The scheduler's seams: the small functions chapter 4's exercises ask a
 * learner to write. The scheduler takes them as options, so `npm run lab 4`
 * runs the learner's versions inside the real scheduling cycle; everywhere
 * else the reference versions are used.
 */
import { leastAllocatedScore } from './plugins/least-allocated.ts';
import { fitsResources } from './plugins/node-resources-fit.ts';
import { findUntoleratedTaint } from './plugins/taint-toleration.ts';

/** Each seam and where the scheduler calls it. */
export interface SchedulerSeams {
  /** Exercise 4.1: why a Pod's requests do not fit on a node ("Insufficient cpu"), or [] if they fit (the NodeResourcesFit filter). */
  fitsResources: typeof fitsResources;
  /** Exercise 4.2: the 0–100 score of a node by how much it would have left (the NodeResourcesLeastAllocated score). */
  leastAllocatedScore: typeof leastAllocatedScore;
  /** Exercise 4.3: the first taint a Pod does not tolerate, if any (the TaintToleration filter). */
  findUntoleratedTaint: typeof findUntoleratedTaint;
}

/** The reference implementations, from lib/scheduler/plugins. */
export const referenceSeams: SchedulerSeams = { fitsResources, leastAllocatedScore, findUntoleratedTaint };
