/**
 * Errors as the API server answers them: a meta/v1 Status object with a
 * reason and an HTTP code, worded as the real kube-apiserver words them, so
 * that kubectl prints `Error from server (<reason>): <message>` exactly as it
 * would against a real cluster.
 */
import type { Status, StatusCause } from '../api/types.ts';

/** The largest request body the API server reads (kube-apiserver's MaxRequestBodyBytes, 3 MiB). */
export const MAX_REQUEST_BODY_BYTES = 3 * 1024 * 1024;

/** Who an error is about: the resource (plural, e.g. `deployments`), its API group and the object's name. */
export interface Subject {
  resource: string;
  group?: string;
  name?: string;
}

/** An error that leaves the API server as a Status body with `code` as the HTTP status. */
export class ApiError extends Error {
  readonly status: Status;

  constructor(code: number, reason: string, message: string, details?: Status['details']) {
    super(message);
    this.name = 'ApiError';
    this.status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
    if (details) this.status.details = details;
  }

  get code(): number {
    return this.status.code;
  }

  get reason(): string {
    return this.status.reason ?? '';
  }
}

/** `deployments.apps` for a grouped resource, `pods` for the core group, as the real messages name them. */
export function qualifiedResource(resource: string, group?: string): string {
  return group ? `${resource}.${group}` : resource;
}

function details(subject: Subject): NonNullable<Status['details']> {
  const out: NonNullable<Status['details']> = { kind: subject.resource };
  if (subject.name !== undefined) out.name = subject.name;
  if (subject.group) out.group = subject.group;
  return out;
}

/** 404: `pods "x" not found`. */
export function notFound(subject: Subject): ApiError {
  const what = qualifiedResource(subject.resource, subject.group);
  return new ApiError(404, 'NotFound', `${what} "${subject.name ?? ''}" not found`, details(subject));
}

/** 409: `pods "x" already exists`. */
export function alreadyExists(subject: Subject): ApiError {
  const what = qualifiedResource(subject.resource, subject.group);
  return new ApiError(409, 'AlreadyExists', `${what} "${subject.name ?? ''}" already exists`, details(subject));
}

/** 409 for a stale resourceVersion: the update was computed from an older copy of the object. */
export function conflict(subject: Subject, why = 'the object has been modified; please apply your changes to the latest version and try again'): ApiError {
  const what = qualifiedResource(subject.resource, subject.group);
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${what} "${subject.name ?? ''}": ${why}`, details(subject));
}

/** 422: `Deployment.apps "web" is invalid: <field>: <why>`, one cause per bad field. */
export function invalid(kind: string, group: string | undefined, name: string, causes: StatusCause[]): ApiError {
  const what = group ? `${kind}.${group}` : kind;
  const summary = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message ?? '')).join(', ');
  const list = causes.length > 1 ? `[${summary}]` : summary;
  const d: NonNullable<Status['details']> = { name, kind, causes };
  if (group) d.group = group;
  return new ApiError(422, 'Invalid', `${what} "${name}" is invalid: ${list}`, d);
}

/** 400: a request the server cannot read (malformed JSON, an unknown field under Strict validation). */
export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

/** 401: no credentials, or credentials that name nobody. */
export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Unauthorized');
}

/** 403 with the real wording: `pods is forbidden: User "x" cannot list resource "pods" in API group "" in the namespace "default"`. */
export function forbidden(user: string, verb: string, resource: string, group: string, namespace?: string, name?: string, subresource?: string): ApiError {
  const what = qualifiedResource(resource, group);
  const target = subresource ? `${resource}/${subresource}` : resource;
  const where = namespace ? ` in the namespace "${namespace}"` : ' at the cluster scope';
  const named = name ? `${what} "${name}" is forbidden` : `${what} is forbidden`;
  const d: NonNullable<Status['details']> = { kind: resource };
  if (name) d.name = name;
  if (group) d.group = group;
  return new ApiError(403, 'Forbidden', `${named}: User "${user}" cannot ${verb} resource "${target}" in API group "${group}"${where}`, d);
}

/** 403 for a path that is not an API resource (e.g. `/metrics`). */
export function forbiddenPath(user: string, verb: string, path: string): ApiError {
  return new ApiError(403, 'Forbidden', `forbidden: User "${user}" cannot ${verb} path "${path}"`);
}

/** 405: the resource exists but does not take this verb. */
export function methodNotAllowed(verb: string, resource: string): ApiError {
  return new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (${verb} ${resource})`);
}

/** 410: a watch or list from a revision the store has compacted away. */
export function expired(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

/** 413: the body is larger than MAX_REQUEST_BODY_BYTES. */
export function tooLarge(limit = MAX_REQUEST_BODY_BYTES): ApiError {
  return new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
}

/** 415: a patch or body in a content type the server does not read. */
export function unsupportedMediaType(contentType: string, accepted: string[]): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}; got ${JSON.stringify(contentType)}`);
}

/** 500: something failed inside the server; the message says what. */
export function internalError(message: string): ApiError {
  return new ApiError(500, 'InternalError', `Internal error occurred: ${message}`);
}

/** 504: the store did not answer in time. */
export function timeout(message: string): ApiError {
  return new ApiError(504, 'Timeout', message);
}

/** 404 for a path that names no resource at all (an unknown resource type or API group). */
export function pathNotFound(path: string): ApiError {
  return new ApiError(404, 'NotFound', `the server could not find the requested resource (${path})`, {});
}

/** A successful delete answered with a Status instead of the object. */
export function success(subject: Subject & { uid?: string }): Status {
  const d = details(subject);
  if (subject.uid) d.uid = subject.uid;
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: d, code: 200 };
}

/** Any thrown value as an ApiError: ApiErrors pass through, anything else becomes a 500 naming it. */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return internalError(message);
}
