/**
 * The controller manager's seams: the small functions chapter 3's exercises
 * ask a learner to write. The controllers take them as options, so
 * `npm run lab 3` runs the learner's versions inside the real ReplicaSet and
 * Deployment controllers; everywhere else the reference versions are used.
 */
import { selectorMatches } from '../apiserver/selectors.ts';
import { rollingUpdateStep } from './rollout.ts';
import { manageReplicas } from './replicaset.ts';

/** Each seam and where the controllers call it. */
export interface ControllerSeams {
  /** Exercise 3.1: how many Pods a ReplicaSet must create, or which it must delete (ReplicaSet controller). */
  manageReplicas: typeof manageReplicas;
  /** Exercise 3.2: whether a Pod's labels satisfy a `spec.selector` with matchLabels and matchExpressions (ReplicaSet and Deployment controllers). */
  selectorMatches: typeof selectorMatches;
  /** Exercise 3.3: the sizes of one rolling-update step (Deployment controller). */
  rollingUpdateStep: typeof rollingUpdateStep;
}

/** The reference implementations, from lib/. */
export const referenceSeams: ControllerSeams = { manageReplicas, selectorMatches, rollingUpdateStep };
