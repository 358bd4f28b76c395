/**
 * Exercise 2.5: does an RBAC rule allow a request?
 *
 * After authentication says who is asking, RBAC looks for a binding of that
 * user (or one of their groups) to a role with a rule covering the request.
 * A rule lists verbs, apiGroups, resources and optionally resourceNames; "*"
 * matches anything in its list. A request for a subresource (pods/log) needs
 * the rule to name "pods/log" (or "*", or "*\/log"): "pods" alone does not
 * cover it. Requests that are not for a resource (GET /healthz, /version)
 * are matched by nonResourceURLs instead, where a trailing "*" matches a
 * prefix.
 *
 * Run `npm run grade 2` to check your work, `npm run hint 2.5` when stuck.
 */
import type { PolicyRule } from '#lib/api/types.ts';
import type { Attributes } from '#lib/apiserver/rbac.ts';
import { todo } from '#lib/workbook/todo.ts';

/** Whether `rule` covers `request`. */
export function ruleAllows(rule: PolicyRule, request: Attributes): boolean {
  // TODO: the verb first; then non-resource paths, or group, resource
  // (with subresource) and name.
  return todo('2.5');
}
