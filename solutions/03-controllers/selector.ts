/**
 * Solution 3.2: matching a set of labels against a LabelSelector.
 */
import type { LabelSelector, LabelSelectorRequirement } from '#lib/api/types.ts';

export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  // No selector at all selects nothing (an empty one, {}, selects everything: both loops below pass trivially).
  if (selector === undefined) return false;
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    // `key in have` alone is not enough: the value must be equal too.
    if (!Object.hasOwn(have, key) || have[key] !== value) return false;
  }
  return (selector.matchExpressions ?? []).every((requirement) => holds(requirement, have));
}

function holds({ key, operator, values = [] }: LabelSelectorRequirement, labels: Record<string, string>): boolean {
  const present = Object.hasOwn(labels, key);
  switch (operator) {
    case 'In':
      return present && values.includes(labels[key]!);
    case 'NotIn':
      // A Pod without the label is "not in" any set: `tier NotIn (db)` keeps unlabelled Pods.
      return !present || !values.includes(labels[key]!);
    case 'Exists':
      return present;
    case 'DoesNotExist':
      return !present;
    default:
      // An unknown operator never matches (the API server refuses such selectors anyway).
      return false;
  }
}
