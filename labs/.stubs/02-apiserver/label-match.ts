/**
 * Exercise 2.3: does an object match a label selector?
 *
 * `kubectl get pods -l app=backend,tier!=db` sends labelSelector=...; the
 * API server parses it into requirements and keeps only the objects whose
 * labels satisfy every one of them. The same test decides which Pods a
 * Service or a ReplicaSet selects (chapters 3 and 6).
 *
 * A requirement is { key, operator, values }:
 *   '=' / '==' / 'in'   the label is present and its value is one of values
 *   '!=' / 'notin'      the label is absent, or its value is none of values
 *   'exists'            the label is present (values is empty)
 *   '!'                 the label is absent
 *   'gt' / 'lt'         the label is present, is an integer, and is greater /
 *                       less than the single integer in values
 * An empty list of requirements matches everything.
 *
 * Run `npm run grade 2` to check your work, `npm run hint 2.3` when stuck.
 */
import type { LabelRequirement } from '#lib/apiserver/selectors.ts';
import { todo } from '#lib/workbook/todo.ts';

/** Whether `labels` satisfy every requirement. */
export function matchesLabels(requirements: LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  // TODO: every requirement must hold; decide one requirement by its operator.
  return todo('2.3');
}
