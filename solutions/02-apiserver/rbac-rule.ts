/**
 * Solution 2.5: one RBAC rule against one request.
 */
import type { PolicyRule } from '#lib/api/types.ts';
import type { Attributes } from '#lib/apiserver/rbac.ts';

const covers = (list: string[] | undefined, value: string) => (list ?? []).some((x) => x === '*' || x === value);

export function ruleAllows(rule: PolicyRule, request: Attributes): boolean {
  if (!covers(rule.verbs, request.verb)) return false;

  if (!request.isResourceRequest) {
    // Paths: exact, or a prefix when the rule ends in '*'.
    return (rule.nonResourceURLs ?? []).some((url) => url === '*' || url === request.path || (url.endsWith('*') && request.path.startsWith(url.slice(0, -1))));
  }

  if (!covers(rule.apiGroups, request.apiGroup)) return false;
  const wanted = request.subresource ? `${request.resource}/${request.subresource}` : request.resource;
  const resources = rule.resources ?? [];
  // "pods" does not grant "pods/log"; "*" and "*/log" do.
  const resourceOk = resources.includes('*') || resources.includes(wanted) || (request.subresource !== '' && resources.includes(`*/${request.subresource}`));
  if (!resourceOk) return false;
  // No resourceNames: every object of the resource.
  return (rule.resourceNames ?? []).length === 0 || (rule.resourceNames ?? []).includes(request.name);
}
