/**
 * Reading a request's URL the way kube-apiserver does: which API group and
 * version, namespace, resource, name and subresource it names, and which
 * verb it is (get, list, watch, create, update, patch, delete,
 * deletecollection). Authorization and routing both start from this.
 */

/** What a request asks for. */
export interface RequestInfo {
  /** True for `/api/...` and `/apis/...` paths that name a resource; false for discovery, /version, /healthz... */
  isResourceRequest: boolean;
  /** The HTTP path without the query string. */
  path: string;
  verb: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
}

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

// #region request-info
/** The RequestInfo of a method and URL, as kube-apiserver's RequestInfoFactory derives it. */
export function requestInfo(method: string, url: URL): RequestInfo {
  const path = url.pathname;
  const info: RequestInfo = { isResourceRequest: false, path, verb: method.toLowerCase(), apiGroup: '', apiVersion: '', namespace: '', resource: '', subresource: '', name: '' };
  let parts = path.split('/').filter((p) => p !== '');
  // /api/v1/... is the core group; /apis/<group>/<version>/... any other.
  if (parts[0] === 'api' && parts.length >= 3) {
    info.apiVersion = parts[1] ?? '';
    parts = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    info.apiGroup = parts[1] ?? '';
    info.apiVersion = parts[2] ?? '';
    parts = parts.slice(3);
  } else {
    return info; // discovery, /version, /openapi, /healthz: not a resource
  }
  info.isResourceRequest = true;

  // namespaces/<ns>/<resource>/... names a resource inside a namespace; but
  // namespaces/<ns> and namespaces/<ns>/status name the Namespace itself.
  if (parts[0] === 'namespaces' && parts.length > 1) {
    info.namespace = parts[1] ?? '';
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2] ?? '')) parts = parts.slice(2);
  }
  info.resource = parts[0] ?? '';
  info.name = parts[1] ?? '';
  info.subresource = parts[2] ?? '';
  // A Namespace is cluster-scoped: its name is the name, not a namespace.
  if (info.resource === 'namespaces') info.namespace = '';
  info.verb = resourceVerb(method, info.name, url.searchParams);
  return info;
}
// #endregion request-info

/** The API verb of an HTTP method on a resource path: GET is get, list or watch; DELETE without a name is deletecollection. */
function resourceVerb(method: string, name: string, query: URLSearchParams): string {
  switch (method.toUpperCase()) {
    case 'GET':
    case 'HEAD':
      if (isTrue(query.get('watch'))) return 'watch';
      return name ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return name ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

/** Query flags are true as `true` or `1`, as Go's strconv.ParseBool reads them. */
export function isTrue(value: string | null): boolean {
  return value === 'true' || value === '1' || value === 'True' || value === 'TRUE' || value === 't';
}
