/**
 * Admission: checks and changes that run after a request is authorized and
 * before the object is validated and stored, each named after the real
 * kube-apiserver plugin it mirrors. Mutating plugins change the object
 * (DefaultTolerationSeconds, the Service IP allocation); validating plugins
 * refuse it (NamespaceLifecycle, NodeRestriction).
 */
import type { KubeObject, Pod, Service } from '../api/types.ts';
import type { UserInfo } from './auth.ts';
import { SYSTEM_NAMESPACES } from './bootstrap.ts';
import { allocateClusterIP, allocateNodePort, inCidr, type Cidr } from './clusterip.ts';
import { addDefaultTolerations } from './defaults.ts';
import type { Registry } from './registry.ts';
import { findResource, type ResourceInfo } from './resources.ts';
import { ApiError, invalid, notFound, qualifiedResource } from './status.ts';

/** One write as admission sees it. */
export interface AdmissionRequest {
  info: ResourceInfo;
  verb: string;
  subresource: string;
  namespace: string;
  name: string;
  user: UserInfo;
  /** The object to be written (undefined for a delete). */
  object?: KubeObject;
  /** The stored object before this write (undefined for a create). */
  current?: KubeObject;
}

const NAMESPACES = findResource('', 'v1', 'namespaces')!;
const SERVICES = findResource('', 'v1', 'services')!;

/** A 403 as admission plugins phrase it: `<resource> "<name>" is forbidden: <why>`. */
function admissionForbidden(request: AdmissionRequest, why: string): ApiError {
  const what = qualifiedResource(request.info.resource, request.info.group);
  const name = request.name || request.object?.metadata.name || '';
  return new ApiError(403, 'Forbidden', `${what} "${name}" is forbidden: ${why}`, { name, kind: request.info.resource, ...(request.info.group ? { group: request.info.group } : {}) });
}

// #region namespace-lifecycle
/**
 * NamespaceLifecycle: nothing is created in a namespace that does not exist
 * or is being deleted, and the system namespaces cannot be deleted.
 */
export async function namespaceLifecycle(registry: Registry, request: AdmissionRequest): Promise<void> {
  if (request.info.resource === 'namespaces') {
    if (request.verb === 'delete' && ['default', 'kube-system', 'kube-public'].includes(request.name)) {
      throw new ApiError(403, 'Forbidden', `namespaces "${request.name}" is forbidden: this namespace may not be deleted`, { name: request.name, kind: 'namespaces' });
    }
    return;
  }
  if (!request.info.namespaced || request.verb !== 'create') return;
  let namespace: KubeObject;
  try {
    namespace = await registry.get(NAMESPACES, undefined, request.namespace);
  } catch (error) {
    if (error instanceof ApiError && error.code === 404) throw notFound({ resource: 'namespaces', name: request.namespace });
    throw error;
  }
  // Events may still be written while a namespace terminates, as in the real plugin.
  if (namespace.metadata.deletionTimestamp && request.info.resource !== 'events') {
    throw admissionForbidden(request, `unable to create new content in namespace ${request.namespace} because it is being terminated`);
  }
}
// #endregion namespace-lifecycle

// #region node-restriction
/**
 * NodeRestriction: a kubelet (user `system:node:<node>`) may change only its
 * own Node, its own Lease, and the Pods bound to its node.
 */
export function nodeRestriction(request: AdmissionRequest): void {
  const node = /^system:node:(.+)$/.exec(request.user.name)?.[1];
  if (!node || !request.user.groups.includes('system:nodes')) return;
  const { info } = request;
  if (info.resource === 'nodes') {
    const target = request.name || request.object?.metadata.name;
    if (target !== node) throw admissionForbidden(request, `node "${node}" is not allowed to modify node "${target}"`);
    return;
  }
  if (info.resource === 'leases' && request.namespace === 'kube-node-lease') {
    const target = request.name || request.object?.metadata.name;
    if (target !== node) throw admissionForbidden(request, `node "${node}" is not allowed to modify lease "${target}"`);
    return;
  }
  if (info.resource === 'pods') {
    const pod = (request.current ?? request.object) as Pod | undefined;
    const boundTo = pod?.spec?.nodeName;
    if (request.verb === 'create') {
      // The only Pods a kubelet creates are mirror Pods of its static Pods, bound to itself.
      const mirror = pod?.metadata.annotations?.['kubernetes.io/config.mirror'] !== undefined;
      if (!mirror || boundTo !== node) throw admissionForbidden(request, `node "${node}" can only create mirror pods bound to itself`);
      return;
    }
    if (boundTo !== node) throw admissionForbidden(request, `node "${node}" can only modify pods with spec.nodeName set to itself`);
  }
}
// #endregion node-restriction

/** A Service update that leaves out clusterIP or nodePorts keeps the ones it was given, as the real Service storage does. */
export function keepServiceIPs(request: AdmissionRequest): void {
  if (request.info.resource !== 'services' || !request.current || !request.object) return;
  const spec = (request.object as Service).spec;
  const old = (request.current as Service).spec;
  if (!spec.clusterIP && old.clusterIP) {
    spec.clusterIP = old.clusterIP;
    spec.clusterIPs = old.clusterIPs ?? [old.clusterIP];
  }
  for (const port of spec.ports ?? []) {
    const before = (old.ports ?? []).find((p) => p.port === port.port && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP'));
    if (port.nodePort === undefined && before?.nodePort !== undefined && (spec.type === 'NodePort' || spec.type === 'LoadBalancer')) port.nodePort = before.nodePort;
  }
}

/** DefaultTolerationSeconds: new Pods tolerate a not-ready or unreachable node for 300 s before eviction. */
export function defaultTolerationSeconds(request: AdmissionRequest): void {
  if (request.info.resource !== 'pods' || request.verb !== 'create' || request.subresource || !request.object) return;
  // Why in place: the object is this request's own, built by the admit stage, so a copy would only cost.
  request.object = addDefaultTolerations(request.object as Pod);
}

// #region service-ips
/**
 * The Service IP allocation (part of the real Service storage): a Service
 * gets a free ClusterIP from the service CIDR, and a free NodePort for each
 * port when its type asks for one. `None` means headless: no IP.
 */
export async function allocateServiceIPs(registry: Registry, cidr: Cidr, request: AdmissionRequest): Promise<void> {
  if (request.info.resource !== 'services' || request.subresource || !request.object) return;
  const service = request.object as Service;
  const spec = service.spec;
  if (spec.type === 'ExternalName') return;
  const others = (await registry.list(SERVICES)).items.filter((s) => s.metadata.uid !== request.current?.metadata.uid) as Service[];
  if (request.verb === 'create' || !spec.clusterIP) {
    const taken = new Set(others.map((s) => s.spec.clusterIP ?? ''));
    if (!spec.clusterIP) {
      spec.clusterIP = allocateClusterIP(cidr, taken);
    } else if (spec.clusterIP !== 'None') {
      if (!inCidr(cidr, spec.clusterIP)) throw fieldInvalid(service, 'spec.clusterIP', spec.clusterIP, 'provided IP is not in the valid range. The range of valid IPs is the service CIDR');
      if (taken.has(spec.clusterIP)) throw fieldInvalid(service, 'spec.clusterIP', spec.clusterIP, 'provided IP is already allocated');
    }
    spec.clusterIPs = [spec.clusterIP];
  }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
    const ports = new Set(others.flatMap((s) => (s.spec.ports ?? []).map((p) => p.nodePort ?? 0)));
    for (const port of spec.ports ?? []) {
      if (port.nodePort === undefined) port.nodePort = allocateNodePort(ports);
      else if (ports.has(port.nodePort)) throw fieldInvalid(service, 'spec.ports[].nodePort', String(port.nodePort), 'provided port is already allocated');
      ports.add(port.nodePort);
    }
  }
}
// #endregion service-ips

function fieldInvalid(service: Service, field: string, value: string, why: string): ApiError {
  return invalid('Service', undefined, service.metadata.name ?? '', [{ reason: 'FieldValueInvalid', field, message: `Invalid value: "${value}": ${why}` }]);
}

/** Whether a namespace is one the API server creates and keeps. */
export function isSystemNamespace(name: string): boolean {
  return SYSTEM_NAMESPACES.includes(name);
}
