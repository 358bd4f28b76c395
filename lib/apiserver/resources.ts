/**
 * The resource types the API server serves: for each, its group, version and
 * kind, its URL name, whether it lives in a namespace, its short names, the
 * verbs and subresources it takes, and where its objects live in the store.
 * Discovery, routing, RBAC and kubectl's short names all read this one table.
 */

/** A subresource such as `pods/status` or `deployments/scale`. */
export interface SubresourceInfo {
  name: 'status' | 'scale' | 'binding' | 'log';
  kind: string;
  /** Set when the subresource speaks another group's kind (scale is autoscaling/v1 Scale). */
  group?: string;
  version?: string;
  verbs: string[];
}

/** One resource type of the API. */
export interface ResourceInfo {
  group: string;
  version: string;
  kind: string;
  /** The plural URL name: `pods`, `deployments`. */
  resource: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  subresources: SubresourceInfo[];
  /**
   * Where the objects live in the store, without the trailing slash. Objects
   * sit at `<prefix>/<namespace>/<name>` or `<prefix>/<name>`. Most prefixes
   * are `/registry/<resource>`; a few keep historical names, as in the real
   * kube-apiserver: Nodes under `minions`, Services under `services/specs`,
   * Endpoints under `services/endpoints`.
   */
  storagePrefix: string;
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS = (kind: string): SubresourceInfo => ({ name: 'status', kind, verbs: ['get', 'patch', 'update'] });
const SCALE: SubresourceInfo = { name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] };

function define(
  group: string,
  version: string,
  kind: string,
  resource: string,
  options: Partial<Omit<ResourceInfo, 'group' | 'version' | 'kind' | 'resource'>> = {},
): ResourceInfo {
  return {
    group,
    version,
    kind,
    resource,
    singular: options.singular ?? kind.toLowerCase(),
    namespaced: options.namespaced ?? true,
    shortNames: options.shortNames ?? [],
    categories: options.categories ?? [],
    verbs: options.verbs ?? ALL_VERBS,
    subresources: options.subresources ?? [],
    storagePrefix: options.storagePrefix ?? `/registry/${resource}`,
  };
}

// #region resources
/** Every resource type this API server serves. */
export const RESOURCES: readonly ResourceInfo[] = [
  define('', 'v1', 'Namespace', 'namespaces', { namespaced: false, shortNames: ['ns'], subresources: [STATUS('Namespace')], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] }),
  define('', 'v1', 'Pod', 'pods', {
    shortNames: ['po'],
    categories: ['all'],
    subresources: [
      STATUS('Pod'),
      { name: 'binding', kind: 'Binding', verbs: ['create'] },
      { name: 'log', kind: 'Pod', verbs: ['get'] },
    ],
  }),
  define('', 'v1', 'Node', 'nodes', { namespaced: false, shortNames: ['no'], subresources: [STATUS('Node')], storagePrefix: '/registry/minions' }),
  define('', 'v1', 'Service', 'services', {
    shortNames: ['svc'],
    categories: ['all'],
    subresources: [STATUS('Service')],
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    storagePrefix: '/registry/services/specs',
  }),
  define('', 'v1', 'Endpoints', 'endpoints', { singular: 'endpoints', shortNames: ['ep'], storagePrefix: '/registry/services/endpoints' }),
  define('', 'v1', 'Event', 'events', { shortNames: ['ev'] }),
  define('', 'v1', 'ConfigMap', 'configmaps', { shortNames: ['cm'] }),
  define('apps', 'v1', 'Deployment', 'deployments', { shortNames: ['deploy'], categories: ['all'], subresources: [STATUS('Deployment'), SCALE] }),
  define('apps', 'v1', 'ReplicaSet', 'replicasets', { shortNames: ['rs'], categories: ['all'], subresources: [STATUS('ReplicaSet'), SCALE] }),
  define('batch', 'v1', 'Job', 'jobs', { categories: ['all'], subresources: [STATUS('Job')] }),
  define('coordination.k8s.io', 'v1', 'Lease', 'leases'),
  define('rbac.authorization.k8s.io', 'v1', 'Role', 'roles'),
  define('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings'),
  define('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', { namespaced: false }),
  define('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', { namespaced: false }),
];
// #endregion resources

/** `apps/v1` for a grouped resource, `v1` for the core group. */
export function groupVersion(info: { group: string; version: string }): string {
  return info.group ? `${info.group}/${info.version}` : info.version;
}

/** The resource served at group/version under this plural name, if any. */
export function findResource(group: string, version: string, resource: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource);
}

/** The resource whose objects have this apiVersion and kind, if any. */
export function resourceForKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => groupVersion(r) === apiVersion && r.kind === kind);
}

/**
 * The resource a user means by a name as typed on kubectl's command line:
 * plural, singular, kind or short name, case-insensitive, optionally
 * qualified by group (`deployments.apps`).
 */
export function resolveResourceName(typed: string): ResourceInfo | undefined {
  const lower = typed.toLowerCase();
  const dot = lower.indexOf('.');
  const name = dot === -1 ? lower : lower.slice(0, dot);
  const group = dot === -1 ? undefined : lower.slice(dot + 1);
  return RESOURCES.find(
    (r) =>
      (group === undefined || r.group === group) &&
      (r.resource === name || r.singular === name || r.kind.toLowerCase() === name || r.shortNames.includes(name)),
  );
}

/** Every group/version served, core first, in a stable order. */
export function groupVersions(): Array<{ group: string; version: string }> {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of RESOURCES) seen.set(groupVersion(r), { group: r.group, version: r.version });
  return [...seen.values()];
}

/** The store key of one object: `<prefix>/<namespace>/<name>`, or `<prefix>/<name>` for cluster-scoped kinds. */
export function storageKey(info: ResourceInfo, namespace: string | undefined, name: string): string {
  return info.namespaced ? `${info.storagePrefix}/${namespace}/${name}` : `${info.storagePrefix}/${name}`;
}

/** The store prefix a list reads: every object of the resource, or those of one namespace. */
export function storagePrefixFor(info: ResourceInfo, namespace?: string): string {
  return info.namespaced && namespace ? `${info.storagePrefix}/${namespace}/` : `${info.storagePrefix}/`;
}
