/**
 * Solution 2.3: matching labels against a selector's requirements.
 */
import type { LabelRequirement } from '#lib/apiserver/selectors.ts';

export function matchesLabels(requirements: LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  // AND over the requirements; `every` of an empty list is true, so no requirements match everything.
  return requirements.every((r) => matchesOne(r, labels ?? {}));
}

function matchesOne(requirement: LabelRequirement, labels: Record<string, string>): boolean {
  const { key, operator, values } = requirement;
  const has = Object.hasOwn(labels, key);
  const value = labels[key];
  switch (operator) {
    case '=':
    case '==':
    case 'in':
      return has && values.includes(value ?? '');
    case '!=':
    case 'notin':
      // An object without the label is "not equal" too: `tier!=db` keeps unlabelled Pods.
      return !has || !values.includes(value ?? '');
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || !/^-?\d+$/.test(value ?? '')) return false;
      const n = Number(value);
      const bound = Number(values[0]);
      return operator === 'gt' ? n > bound : n < bound;
    }
    default:
      return false;
  }
}
