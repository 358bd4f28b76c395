/**
 * What a fresh API server writes before anyone asks: the built-in
 * namespaces, the default RBAC roles and bindings (named as the real
 * kube-apiserver names them), and the identities of the cluster's users and
 * components. Objects that already exist are left alone, so a restart keeps
 * whatever an admin changed.
 */
import type { KubeObject, PolicyRule, Subject } from '../api/types.ts';
import type { UserInfo } from './auth.ts';

/** The namespaces every cluster has. */
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

// #region identities
/** The admin the kubeconfig names: in system:masters, which cluster-admin is bound to. */
export const ADMIN: UserInfo = { name: 'kubernetes-admin', groups: ['system:masters'] };

/** One identity per control-plane component, as kubeadm's kubeconfigs name them. */
export const COMPONENTS: Record<string, UserInfo> = {
  'kube-controller-manager': { name: 'system:kube-controller-manager', groups: [] },
  'kube-scheduler': { name: 'system:kube-scheduler', groups: [] },
  'kube-proxy': { name: 'system:kube-proxy', groups: [] },
};

/** A kubelet's identity: `system:node:<node>` in the group `system:nodes`. */
export function kubeletIdentity(nodeName: string): UserInfo {
  return { name: `system:node:${nodeName}`, groups: ['system:nodes'] };
}
// #endregion identities

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete'];
const rule = (apiGroups: string[], resources: string[], verbs: string[]): PolicyRule => ({ apiGroups, resources, verbs });

// #region cluster-roles
/** The default ClusterRoles, by name, with the rules the workbook's components need. */
export const CLUSTER_ROLES: Record<string, PolicyRule[]> = {
  'cluster-admin': [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, { nonResourceURLs: ['*'], verbs: ['*'] }],
  'system:discovery': [{ nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/openapi', '/openapi/*', '/version', '/version/'], verbs: ['get'] }],
  'system:public-info-viewer': [{ nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'], verbs: ['get'] }],
  view: [
    rule([''], ['pods', 'pods/log', 'pods/status', 'services', 'endpoints', 'events', 'configmaps', 'namespaces', 'nodes'], READ),
    rule(['apps'], ['deployments', 'deployments/scale', 'replicasets', 'replicasets/scale'], READ),
    rule(['batch'], ['jobs'], READ),
  ],
  edit: [
    rule([''], ['pods', 'services', 'endpoints', 'configmaps', 'events'], [...READ, ...WRITE]),
    rule([''], ['pods/log', 'pods/status', 'namespaces'], READ),
    rule(['apps'], ['deployments', 'deployments/scale', 'replicasets', 'replicasets/scale'], [...READ, ...WRITE]),
    rule(['batch'], ['jobs'], [...READ, ...WRITE]),
  ],
  'system:kube-scheduler': [
    rule([''], ['pods', 'nodes', 'namespaces', 'services', 'persistentvolumeclaims'], READ),
    rule([''], ['pods'], ['delete']),
    rule([''], ['pods/binding', 'bindings'], ['create']),
    rule([''], ['pods/status'], ['patch', 'update']),
    rule(['', 'events.k8s.io'], ['events'], ['create', 'patch', 'update']),
    rule(['apps'], ['replicasets', 'statefulsets'], READ),
    rule(['coordination.k8s.io'], ['leases'], ['create', 'get', 'update']),
  ],
  'system:kube-controller-manager': [
    rule([''], ['pods', 'services', 'endpoints', 'events', 'configmaps', 'namespaces', 'nodes'], [...READ, ...WRITE, 'deletecollection']),
    rule([''], ['pods/status', 'nodes/status', 'namespaces/status', 'namespaces/finalize', 'services/status'], ['get', 'update', 'patch']),
    rule(['apps'], ['deployments', 'replicasets', 'deployments/status', 'replicasets/status', 'deployments/scale', 'replicasets/scale'], [...READ, ...WRITE]),
    rule(['batch'], ['jobs', 'jobs/status'], [...READ, ...WRITE]),
    rule(['coordination.k8s.io'], ['leases'], [...READ, ...WRITE]),
    rule(['*'], ['*'], ['list', 'watch', 'get', 'delete', 'deletecollection']),
  ],
  'system:node': [
    rule([''], ['nodes', 'nodes/status'], [...READ, 'create', 'update', 'patch']),
    rule([''], ['pods'], [...READ, 'create', 'delete']),
    rule([''], ['pods/status'], ['update', 'patch']),
    rule([''], ['services', 'endpoints', 'configmaps'], READ),
    rule(['', 'events.k8s.io'], ['events'], ['create', 'patch', 'update']),
    rule(['coordination.k8s.io'], ['leases'], ['get', 'create', 'update', 'patch', 'delete']),
  ],
  'system:node-proxier': [
    rule([''], ['services', 'endpoints', 'nodes'], READ),
    rule(['', 'events.k8s.io'], ['events'], ['create', 'patch', 'update']),
  ],
};

/** Who each default ClusterRole is bound to. */
export const CLUSTER_ROLE_BINDINGS: Record<string, Subject[]> = {
  'cluster-admin': [{ kind: 'Group', name: 'system:masters', apiGroup: 'rbac.authorization.k8s.io' }],
  'system:discovery': [{ kind: 'Group', name: 'system:authenticated', apiGroup: 'rbac.authorization.k8s.io' }],
  'system:public-info-viewer': [
    { kind: 'Group', name: 'system:authenticated', apiGroup: 'rbac.authorization.k8s.io' },
    { kind: 'Group', name: 'system:unauthenticated', apiGroup: 'rbac.authorization.k8s.io' },
  ],
  'system:kube-scheduler': [{ kind: 'User', name: 'system:kube-scheduler', apiGroup: 'rbac.authorization.k8s.io' }],
  'system:kube-controller-manager': [{ kind: 'User', name: 'system:kube-controller-manager', apiGroup: 'rbac.authorization.k8s.io' }],
  // Why bind system:node to a group: the real cluster uses the Node authorizer
  // for kubelets instead; here RBAC grants the kinds of access and the
  // NodeRestriction admission check (admission.ts) narrows it to the node's own objects.
  'system:node': [{ kind: 'Group', name: 'system:nodes', apiGroup: 'rbac.authorization.k8s.io' }],
  'system:node-proxier': [{ kind: 'User', name: 'system:kube-proxy', apiGroup: 'rbac.authorization.k8s.io' }],
};
// #endregion cluster-roles

/** The objects a new cluster starts with, in the order they are written. */
export function bootstrapObjects(): KubeObject[] {
  const labels = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
  const namespaces: KubeObject[] = SYSTEM_NAMESPACES.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
  const roles: KubeObject[] = Object.entries(CLUSTER_ROLES).map(([name, rules]) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name, labels },
    rules,
  }));
  const bindings: KubeObject[] = Object.entries(CLUSTER_ROLE_BINDINGS).map(([name, subjects]) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
    subjects,
  }));
  return [...namespaces, ...roles, ...bindings];
}
