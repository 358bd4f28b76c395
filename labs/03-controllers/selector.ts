/**
 * Exercise 3.2: does a Pod's set of labels satisfy a label selector?
 *
 * A ReplicaSet or a Deployment finds its Pods by `spec.selector`, which has
 * two parts, and every item of both must hold:
 *   matchLabels:      { app: 'backend' }  — the label is present with exactly this value
 *   matchExpressions: [{ key, operator, values }] with operator
 *     In            the label is present and its value is one of values
 *     NotIn         the label is absent, or its value is none of values
 *     Exists        the label is present (values is empty)
 *     DoesNotExist  the label is absent
 * An empty selector ({}) matches every set of labels. A missing selector
 * (undefined) matches nothing. Pods without labels have `labels` undefined.
 *
 * `npm run lab 3` runs your function inside the ReplicaSet and Deployment
 * controllers: it decides which Pods they adopt and count.
 * Run `npm run grade 3` to check your work, `npm run hint 3.2` when stuck.
 */
import type { LabelSelector } from '#lib/api/types.ts';
import { todo } from '#lib/workbook/todo.ts';

/** Whether `labels` satisfy `selector` (matchLabels and matchExpressions). */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  // TODO: undefined matches nothing; then every matchLabels entry and every matchExpressions requirement must hold.
  return todo('3.2');
}
