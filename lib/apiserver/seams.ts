/**
 * The API server's seams: the small functions chapter 2's exercises ask a
 * learner to write. The server takes them as options, so `npm run lab 2`
 * runs the learner's versions inside the real request path; everywhere else
 * the reference versions below are used.
 */
import { ruleAllows } from './rbac.ts';
import { conditionalPut } from './registry.ts';
import { matchesLabels } from './selectors.ts';
import { isDNS1123Subdomain } from './validation.ts';
import { toWatchEvent } from './watch.ts';

/** Each seam and where the server calls it. */
export interface ApiServerSeams {
  /** Exercise 2.1: what is wrong with an object name (validation, for most kinds). */
  isDNS1123Subdomain: typeof isDNS1123Subdomain;
  /** Exercise 2.2: the etcd transaction of an update (the registry's optimistic-concurrency check). */
  conditionalPut: typeof conditionalPut;
  /** Exercise 2.3: whether labels satisfy a parsed label selector (list and watch filtering). */
  matchesLabels: typeof matchesLabels;
  /** Exercise 2.4: the watch event a store event becomes for a filtered watch. */
  toWatchEvent: typeof toWatchEvent;
  /** Exercise 2.5: whether one RBAC rule allows a request. */
  ruleAllows: typeof ruleAllows;
}

/** The reference implementations, from lib/apiserver. */
export const referenceSeams: ApiServerSeams = { isDNS1123Subdomain, conditionalPut, matchesLabels, toWatchEvent, ruleAllows };
