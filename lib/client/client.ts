/**
 * The client every component uses to talk to the API server: the same REST
 * calls kubectl and client-go make, over plain HTTP with a bearer token. Two
 * layers: `request` speaks HTTP and turns error answers into KubeApiError;
 * the resource methods above it (get, list, create, update, patch, apply,
 * delete, watch, and the pod subresources) build the URL from a ResourceInfo.
 */
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type { Deployment, KubeList, KubeObject, Node, Pod, Scale, Status, WatchEventObject } from '../api/types.ts';
import { groupVersion, resourceForKind, type ResourceInfo } from '../apiserver/resources.ts';

// ---- time, injected so that tests control it --------------------------------

/** The clock and timers the client's retry loops, the informer and the workqueue wait with. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock: Date.now and the global timers. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Resolves after `ms` on the given clock. */
export function sleep(ms: number, clock: Clock = realClock): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

// ---- errors -------------------------------------------------------------------

/** An error answer from the API server, carrying its Status (code, reason, message). */
export class KubeApiError extends Error {
  readonly status: Status;

  constructor(status: Status) {
    super(status.message ?? `${status.reason ?? 'Unknown'} (${status.code})`);
    this.name = 'KubeApiError';
    this.status = status;
  }

  /** The HTTP code: 404, 409, 410, ... */
  get code(): number {
    return this.status.code;
  }

  /** The machine-readable reason: NotFound, Conflict, AlreadyExists, Expired, ... */
  get reason(): string {
    return this.status.reason ?? '';
  }
}

function hasStatus(error: unknown, code: number, reason?: string): boolean {
  return error instanceof KubeApiError && error.code === code && (reason === undefined || error.reason === reason);
}

/** True when the server answered 404 NotFound. */
export function isNotFound(error: unknown): boolean {
  return hasStatus(error, 404);
}

/** True when the server refused a write computed from a stale resourceVersion (409 Conflict). */
export function isConflict(error: unknown): boolean {
  return hasStatus(error, 409, 'Conflict');
}

/** True when a create named an object that already exists (409 AlreadyExists). */
export function isAlreadyExists(error: unknown): boolean {
  return hasStatus(error, 409, 'AlreadyExists');
}

/** True when a list or watch asked for a resourceVersion the server no longer keeps (410 Gone/Expired). */
export function isGone(error: unknown): boolean {
  return hasStatus(error, 410);
}

/** True when a value read off the wire is a meta/v1 Status object. */
export function isStatus(value: unknown): value is Status {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'Status';
}

/** The reason the real API server pairs with an HTTP code, for answers that came without a Status body. */
function reasonForCode(code: number): string {
  const reasons: Record<number, string> = {
    400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed',
    409: 'Conflict', 410: 'Expired', 413: 'RequestEntityTooLarge', 415: 'UnsupportedMediaType',
    422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout',
  };
  return reasons[code] ?? 'Unknown';
}

// ---- the raw layer --------------------------------------------------------------

/** Query parameters; undefined values are left out of the URL. */
export type Query = Record<string, string | number | boolean | undefined>;

/** One HTTP call to the API server. */
export interface RawRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The path, e.g. `/api/v1/namespaces/default/pods`. */
  path: string;
  query?: Query;
  /** Sent as JSON (every patch type, apply included, travels as JSON text). */
  body?: unknown;
  /** Defaults to `application/json` when there is a body. */
  contentType?: string;
  /** Defaults to `application/json`. */
  accept?: string;
  /** Aborts the request (an informer stopping while its list is in flight). */
  signal?: AbortSignal;
}

/** Where the API server is and who the client is. */
export interface KubeClientConfig {
  /** `https://127.0.0.1:6443` (or `http://` for a plain test server) */
  server: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** The cluster CA (PEM) that signed the server's certificate, as the kubeconfig's certificate-authority-data carries it. */
  ca?: string;
  /** Sent as User-Agent, so the server's log names the component. */
  userAgent?: string;
  /** How long a non-watch request may take, in ms (default 30 s). */
  timeoutMs?: number;
}

/** An answer read in full: HTTP code, content type and body text. */
interface RawResponse {
  statusCode: number;
  contentType: string;
  text: string;
}

// ---- watch ----------------------------------------------------------------------

/** What a watch asks for; the server sends every change after `resourceVersion`. */
export interface WatchOptions {
  namespace?: string;
  resourceVersion?: string;
  labelSelector?: string;
  fieldSelector?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
}

/** Why a watch stream ended. */
export type WatchEnd =
  | { reason: 'closed' } // the server ended the response normally (timeoutSeconds ran out, or it shut the stream after an ERROR event)
  | { reason: 'stopped' } // the caller called stop()
  | { reason: 'error'; error: Error }; // connection failure, an HTTP error answer (a KubeApiError), or a malformed line

/** An open watch. */
export interface WatchHandle {
  /** Closes the stream; `done` then settles with reason 'stopped'. */
  stop(): void;
  /** Settles (never rejects) when the stream ends, saying why. */
  readonly done: Promise<WatchEnd>;
}

/** Options for list calls. */
export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Unset means "the latest, read consistently"; `0` means "any version is fine". */
  resourceVersion?: string;
  signal?: AbortSignal;
}

/** The four patch formats the API server reads. */
export type PatchType = 'strategic' | 'merge' | 'json' | 'apply';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  strategic: 'application/strategic-merge-patch+json',
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

/** Options of a delete, sent as a DeleteOptions body. */
export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  gracePeriodSeconds?: number;
  /** Delete only if the object still has this uid (or resourceVersion): 409 otherwise. */
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** Options of a server-side apply. */
export interface ApplyOptions {
  /** Who owns the fields this apply sets (kubectl uses `kubectl`). */
  fieldManager: string;
  /** Take ownership of fields another manager owns instead of failing with a conflict. */
  force?: boolean;
}

/** Options of a log read. */
export interface LogOptions {
  container?: string;
  follow?: boolean;
  tailLines?: number;
  previous?: boolean;
}

// ---- the client -----------------------------------------------------------------

/** A client of one API server, as one user (one bearer token); reuses connections (keep-alive). */
export class KubeClient {
  readonly server: URL;
  private readonly token: string | undefined;
  private readonly userAgent: string;
  private readonly timeoutMs: number;
  private readonly agent: http.Agent;
  private readonly transport: typeof http.request;

  constructor(config: KubeClientConfig) {
    this.server = new URL(config.server);
    if (this.server.protocol === 'https:') {
      // Trust only the cluster's CA, as kubectl does with certificate-authority-data.
      this.agent = new https.Agent({ keepAlive: true, ca: config.ca });
      this.transport = https.request as typeof http.request;
    } else if (this.server.protocol === 'http:') {
      this.agent = new http.Agent({ keepAlive: true });
      this.transport = http.request;
    } else {
      throw new Error(`expected an https:// or http:// server URL, got ${JSON.stringify(config.server)}`);
    }
    this.token = config.token;
    this.userAgent = config.userAgent ?? 'kbs-client';
    this.timeoutMs = config.timeoutMs ?? 30_000;
  }

  /** Closes every connection the client holds, open watches included; call it when done with the client. */
  close(): void {
    this.agent.destroy();
  }

  // #region request
  /** Sends one request and returns the parsed JSON answer, or throws KubeApiError for an error Status. */
  async request<T = unknown>(req: RawRequest): Promise<T> {
    const response = await this.send(req);
    const what = `${req.method} ${req.path}`;
    if (response.statusCode >= 400) throw errorFromResponse(what, response);
    return parseJson<T>(what, response);
  }
  // #endregion request

  /** Sends one request and returns the answer as text (pod logs are text/plain). */
  async requestText(req: RawRequest): Promise<string> {
    const response = await this.send(req);
    if (response.statusCode >= 400) throw errorFromResponse(`${req.method} ${req.path}`, response);
    return response.text;
  }

  /** Sends a request whose answer stays open (a watch, `logs -f`) and returns the response once its headers arrive. */
  requestStream(req: RawRequest): { response: Promise<http.IncomingMessage>; abort: () => void } {
    const request = this.open(req, { stream: true });
    const response = new Promise<http.IncomingMessage>((resolve, reject) => {
      request.once('error', (error) => reject(this.connectionError(req, error)));
      request.once('response', (res) => {
        if ((res.statusCode ?? 0) < 400) return resolve(res);
        // Why read the body first: an error answer carries its Status as JSON, even on a watch.
        readAll(res).then((text) => reject(errorFromResponse(`${req.method} ${req.path}`, toRaw(res, text))), reject);
      });
    });
    // Why a no-op catch: a caller that aborts before headers arrive never awaits `response`.
    response.catch(() => {});
    return { response, abort: () => request.destroy() };
  }

  /** The URL of a request: server + path + query string. */
  url(path: string, query: Query = {}): URL {
    // Why keep the server's own path: a server behind a proxy may live at http://host/k8s, as kubectl allows.
    const url = new URL(this.server.pathname.replace(/\/$/, '') + path, this.server);
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    return url;
  }

  private send(req: RawRequest): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const request = this.open(req, { stream: false });
      request.once('error', (error) => reject(this.connectionError(req, error)));
      request.once('response', (res) => {
        readAll(res).then((text) => resolve(toRaw(res, text)), (error: Error) => reject(this.connectionError(req, error)));
      });
    });
  }

  private open(req: RawRequest, { stream }: { stream: boolean }): http.ClientRequest {
    const url = this.url(req.path, req.query);
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    const headers: http.OutgoingHttpHeaders = { Accept: req.accept ?? 'application/json', 'User-Agent': this.userAgent };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) {
      headers['Content-Type'] = req.contentType ?? 'application/json';
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    const request = this.transport(url, { method: req.method, headers, agent: this.agent, signal: req.signal });
    // Why no timeout on streams: a watch is meant to stay open for minutes; the server ends it (timeoutSeconds).
    if (!stream) {
      request.setTimeout(this.timeoutMs, () => {
        request.destroy(new Error(`expected an answer within ${this.timeoutMs} ms, got none`));
      });
    }
    request.end(body);
    return request;
  }

  private connectionError(req: RawRequest, error: Error): Error {
    return new Error(`${req.method} ${req.path}: could not talk to the API server at ${this.server.origin}: ${error.message}`, { cause: error });
  }

  // ---- the resource layer -------------------------------------------------------

  /** Reads one object. */
  get<T extends KubeObject = KubeObject>(info: ResourceInfo, namespace: string | undefined, name: string): Promise<T> {
    return this.request<T>({ method: 'GET', path: resourcePath(info, namespace, name) });
  }

  /** Lists objects, of one namespace or (namespace unset) of all; the list's resourceVersion is where a watch resumes. */
  list<T extends KubeObject = KubeObject>(info: ResourceInfo, options: ListOptions = {}): Promise<KubeList<T>> {
    const { namespace, labelSelector, fieldSelector, resourceVersion, signal } = options;
    return this.request<KubeList<T>>({
      method: 'GET',
      path: resourcePath(info, namespace),
      query: { labelSelector, fieldSelector, resourceVersion },
      signal,
    });
  }

  /** Creates an object (POST); a namespaced object without metadata.namespace goes to `default`, as with kubectl. */
  async create<T extends KubeObject>(info: ResourceInfo, obj: T): Promise<T> {
    return this.request<T>({ method: 'POST', path: resourcePath(info, namespaceOf(info, obj)), body: obj });
  }

  /**
   * Replaces an object (PUT). The object's metadata.resourceVersion makes the
   * write conditional: if someone wrote in between, the server answers 409
   * Conflict (see retryOnConflict). Status changes are ignored here; use updateStatus.
   */
  async update<T extends KubeObject>(info: ResourceInfo, obj: T): Promise<T> {
    return this.request<T>({ method: 'PUT', path: resourcePath(info, namespaceOf(info, obj), nameOf(obj)), body: obj });
  }

  /** Replaces an object's status (PUT to the `status` subresource); spec changes are ignored there. */
  async updateStatus<T extends KubeObject>(info: ResourceInfo, obj: T): Promise<T> {
    return this.request<T>({ method: 'PUT', path: resourcePath(info, namespaceOf(info, obj), nameOf(obj), 'status'), body: obj });
  }

  /** Patches an object in one of the four patch formats; `subresource` targets e.g. `status`. */
  patch<T extends KubeObject = KubeObject>(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    type: PatchType = 'strategic',
    options: { subresource?: string; fieldManager?: string } = {},
  ): Promise<T> {
    return this.request<T>({
      method: 'PATCH',
      path: resourcePath(info, namespace, name, options.subresource),
      query: { fieldManager: options.fieldManager },
      body: patch,
      contentType: PATCH_CONTENT_TYPES[type],
    });
  }

  /**
   * Server-side apply: sends the caller's intent (a partial object) and lets
   * the server merge it, recording `fieldManager` as the owner of the fields
   * it sets. Creates the object if it does not exist. The body is JSON, which
   * is valid YAML, as kubectl sends it.
   */
  async apply<T extends KubeObject>(info: ResourceInfo, obj: T, options: ApplyOptions): Promise<T> {
    if (!options.fieldManager) throw new Error('expected a fieldManager for server-side apply, got none');
    return this.request<T>({
      method: 'PATCH',
      path: resourcePath(info, namespaceOf(info, obj), nameOf(obj)),
      query: { fieldManager: options.fieldManager, force: options.force },
      body: obj,
      contentType: PATCH_CONTENT_TYPES.apply,
    });
  }

  /** Deletes an object; the answer is the object (graceful delete still in progress) or a Success Status. */
  delete(info: ResourceInfo, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<KubeObject | Status> {
    // Why a body and not query parameters: kubectl sends DeleteOptions as JSON, e.g. {"propagationPolicy":"Background"}.
    return this.request<KubeObject | Status>({ method: 'DELETE', path: resourcePath(info, namespace, name), body: { ...options } });
  }

  /** Reads the `scale` subresource (an autoscaling/v1 Scale). */
  getScale(info: ResourceInfo, namespace: string, name: string): Promise<Scale> {
    return this.request<Scale>({ method: 'GET', path: resourcePath(info, namespace, name, 'scale') });
  }

  /** Sets the replica count through the `scale` subresource, as `kubectl scale` does (a merge patch). */
  patchScale(info: ResourceInfo, namespace: string, name: string, replicas: number): Promise<Scale> {
    return this.patch<Scale>(info, namespace, name, { spec: { replicas } }, 'merge', { subresource: 'scale' });
  }

  // #region bind
  /** Binds a pod to a node, as the scheduler does: POST a v1 Binding to the pod's `binding` subresource. */
  bind(namespace: string, podName: string, nodeName: string): Promise<Status> {
    const binding = {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: podName, namespace },
      target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
    };
    return this.request<Status>({ method: 'POST', path: resourcePath(PODS, namespace, podName, 'binding'), body: binding });
  }
  // #endregion bind

  /** Reads a container's log: the text so far, or (with follow) a stream that stays open as the container writes. */
  logs(namespace: string, name: string, options: LogOptions & { follow: true }): Promise<Readable>;
  logs(namespace: string, name: string, options?: LogOptions & { follow?: false }): Promise<string>;
  async logs(namespace: string, name: string, options: LogOptions = {}): Promise<string | Readable> {
    const req: RawRequest = {
      method: 'GET',
      path: resourcePath(PODS, namespace, name, 'log'),
      query: { container: options.container, tailLines: options.tailLines, previous: options.previous, follow: options.follow },
      accept: 'text/plain, */*',
    };
    if (!options.follow) return this.requestText(req);
    const response = await this.requestStream(req).response;
    response.setEncoding('utf8');
    return response;
  }

  // #region watch
  /**
   * Opens a watch: `onEvent` gets each event, in order, as the server sends
   * it (one JSON object per line). ERROR events are passed on as they come: a
   * Status with code 410 means "re-list". The handle's `done` says why the
   * stream ended; the client never re-opens a watch on its own.
   */
  watch<T extends KubeObject = KubeObject>(
    info: ResourceInfo,
    options: WatchOptions,
    onEvent: (event: WatchEventObject<T | Status>) => void,
  ): WatchHandle {
    const { namespace, resourceVersion, labelSelector, fieldSelector, allowWatchBookmarks, timeoutSeconds } = options;
    const stream = this.requestStream({
      method: 'GET',
      path: resourcePath(info, namespace),
      query: { watch: true, resourceVersion, labelSelector, fieldSelector, allowWatchBookmarks, timeoutSeconds },
    });
    let over = false;
    let settle!: (end: WatchEnd) => void;
    const done = new Promise<WatchEnd>((resolve) => (settle = resolve));
    const finish = (end: WatchEnd): void => {
      if (over) return; // Why: a stream ends once; later close and error events from the socket change nothing.
      over = true;
      settle(end);
      stream.abort(); // Why abort on every ending: it frees the socket; on a finished response it does nothing.
    };
    stream.response.then(
      (response) => readEventLines<T>(response, onEvent, finish, () => over),
      (error: Error) => finish({ reason: 'error', error }),
    );
    return { stop: () => finish({ reason: 'stopped' }), done };
  }
  // #endregion watch

  /** The resource methods bound to one resource type and namespace: `client.resource<Pod>(PODS, 'default').list()`. */
  resource<T extends KubeObject>(info: ResourceInfo, namespace?: string): ResourceClient<T> {
    return new ResourceClient<T>(this, info, namespace);
  }

  /** Pods of one namespace (all namespaces when unset). */
  pods(namespace?: string): ResourceClient<Pod> {
    return this.resource(PODS, namespace);
  }

  /** Nodes (cluster-scoped). */
  nodes(): ResourceClient<Node> {
    return this.resource(NODES);
  }

  /** Deployments of one namespace (all namespaces when unset). */
  deployments(namespace?: string): ResourceClient<Deployment> {
    return this.resource(DEPLOYMENTS, namespace);
  }
}

// #region watch-lines
/**
 * Splits a watch response into lines, one JSON event each, and hands them on
 * until the stream ends. An event handler that throws ends the watch with
 * that error: that is how a caller turns an ERROR event into the end reason.
 */
function readEventLines<T>(
  response: http.IncomingMessage,
  onEvent: (event: WatchEventObject<T | Status>) => void,
  finish: (end: WatchEnd) => void,
  isOver: () => boolean,
): void {
  let buffered = '';
  response.setEncoding('utf8'); // Why: a multi-byte character split across two chunks is decoded whole.
  response.on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while (!isOver() && (newline = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) deliver(line);
    }
  });
  response.once('end', () => {
    // Why: a last event without its trailing newline is still an event.
    if (!isOver() && buffered.trim()) deliver(buffered.trim());
    finish({ reason: 'closed' });
  });
  response.once('error', (error) => finish({ reason: 'error', error }));
  // Why 'close' too: a server that dies mid-stream closes the socket without a proper end.
  response.once('close', () => finish({ reason: 'error', error: new Error('expected the watch stream to end cleanly, got the connection closed mid-stream') }));

  function deliver(line: string): void {
    const event = parseWatchEvent<T>(line);
    if (event instanceof Error) return finish({ reason: 'error', error: event });
    try {
      onEvent(event);
    } catch (error) {
      finish({ reason: 'error', error: error instanceof Error ? error : new Error(String(error)) });
    }
  }
}
// #endregion watch-lines

const WATCH_EVENT_TYPES = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

/** One line of a watch stream as an event, or an Error saying what was wrong with it. */
export function parseWatchEvent<T = KubeObject>(line: string): WatchEventObject<T | Status> | Error {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return new Error(`expected one JSON watch event per line, got ${JSON.stringify(line.slice(0, 200))}`);
  }
  const event = value as Partial<WatchEventObject<T | Status>>;
  if (typeof event.type !== 'string' || !WATCH_EVENT_TYPES.has(event.type) || typeof event.object !== 'object' || event.object === null) {
    return new Error(`expected a watch event {"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object": {...}}, got ${JSON.stringify(line.slice(0, 200))}`);
  }
  return event as WatchEventObject<T | Status>;
}

// ---- paths ---------------------------------------------------------------------

function mustResource(apiVersion: string, kind: string): ResourceInfo {
  const info = resourceForKind(apiVersion, kind);
  if (!info) throw new Error(`expected the resource table to serve ${apiVersion} ${kind}, got nothing`);
  return info;
}

/** The ResourceInfo of pods, which `bind` and `logs` address. */
export const PODS = mustResource('v1', 'Pod');
const NODES = mustResource('v1', 'Node');
const DEPLOYMENTS = mustResource('apps/v1', 'Deployment');

// #region resource-path
/**
 * The REST path of a resource, an object, or a subresource:
 * `/api/v1/namespaces/default/pods/web-1/status`, `/apis/apps/v1/deployments`,
 * `/api/v1/nodes/node-1`. A namespaced resource without a namespace means
 * "across all namespaces" (lists and watches only).
 */
export function resourcePath(info: ResourceInfo, namespace?: string, name?: string, subresource?: string): string {
  const root = info.group ? `/apis/${groupVersion(info)}` : `/api/${info.version}`;
  const scope = info.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  let path = `${root}${scope}/${info.resource}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  if (subresource !== undefined) path += `/${subresource}`;
  return path;
}
// #endregion resource-path

function nameOf(obj: KubeObject): string {
  const name = obj.metadata?.name;
  if (!name) throw new Error(`expected metadata.name on the ${obj.kind ?? 'object'}, got ${JSON.stringify(name)}`);
  return name;
}

function namespaceOf(info: ResourceInfo, obj: KubeObject): string | undefined {
  // Why 'default': kubectl sends objects without a namespace to the context's namespace, `default` unless set.
  return info.namespaced ? obj.metadata?.namespace ?? 'default' : undefined;
}

// ---- reading answers -----------------------------------------------------------

function readAll(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.once('error', reject);
  });
}

function toRaw(res: http.IncomingMessage, text: string): RawResponse {
  return { statusCode: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text };
}

function excerpt(response: RawResponse): string {
  const type = response.contentType || 'no content type';
  return `HTTP ${response.statusCode} (${type}) ${JSON.stringify(response.text.slice(0, 200))}`;
}

function parseJson<T>(what: string, response: RawResponse): T {
  try {
    return JSON.parse(response.text) as T;
  } catch {
    throw new Error(`${what}: expected a JSON answer from the API server, got ${excerpt(response)}`);
  }
}

/** The KubeApiError for an error answer: its own Status if it sent one, else a Status made from the HTTP code. */
function errorFromResponse(what: string, response: RawResponse): KubeApiError {
  let body: unknown;
  try {
    body = JSON.parse(response.text);
  } catch {
    body = undefined;
  }
  if (isStatus(body)) return new KubeApiError({ ...body, code: body.code || response.statusCode });
  // Why make one up: a wrong URL (a proxy, another server) answers HTML or text; callers still get a code to test.
  return new KubeApiError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    code: response.statusCode,
    reason: reasonForCode(response.statusCode),
    message: `${what}: expected a Status object, got ${excerpt(response)}`,
  });
}

// ---- typed convenience ---------------------------------------------------------

/** The resource methods of KubeClient bound to one resource type and namespace. */
export class ResourceClient<T extends KubeObject> {
  constructor(
    readonly client: KubeClient,
    readonly info: ResourceInfo,
    readonly namespace?: string,
  ) {}

  /** Reads one object by name. */
  get(name: string): Promise<T> {
    return this.client.get<T>(this.info, this.namespace, name);
  }

  /** Lists objects, optionally filtered by label and field selectors. */
  list(options: Omit<ListOptions, 'namespace'> = {}): Promise<KubeList<T>> {
    return this.client.list<T>(this.info, { ...options, namespace: this.namespace });
  }

  /** Creates an object in this namespace (unless it names its own). */
  create(obj: T): Promise<T> {
    return this.client.create(this.info, this.withNamespace(obj));
  }

  /** Replaces an object (PUT, conditional on its resourceVersion). */
  update(obj: T): Promise<T> {
    return this.client.update(this.info, this.withNamespace(obj));
  }

  /** Replaces an object's status. */
  updateStatus(obj: T): Promise<T> {
    return this.client.updateStatus(this.info, this.withNamespace(obj));
  }

  /** Patches an object by name. */
  patch(name: string, patch: unknown, type: PatchType = 'strategic'): Promise<T> {
    return this.client.patch<T>(this.info, this.namespace, name, patch, type);
  }

  /** Server-side applies an object. */
  apply(obj: T, options: ApplyOptions): Promise<T> {
    return this.client.apply(this.info, this.withNamespace(obj), options);
  }

  /** Deletes an object by name. */
  delete(name: string, options?: DeleteOptions): Promise<KubeObject | Status> {
    return this.client.delete(this.info, this.namespace, name, options);
  }

  /** Watches this resource in this namespace. */
  watch(options: Omit<WatchOptions, 'namespace'>, onEvent: (event: WatchEventObject<T | Status>) => void): WatchHandle {
    return this.client.watch<T>(this.info, { ...options, namespace: this.namespace }, onEvent);
  }

  private withNamespace(obj: T): T {
    if (!this.info.namespaced || !this.namespace || obj.metadata.namespace) return obj;
    return { ...obj, metadata: { ...obj.metadata, namespace: this.namespace } };
  }
}

// ---- retry -----------------------------------------------------------------------

/** How retryOnConflict waits between attempts. */
export interface RetryOptions {
  /** Attempts in all, the first included (default 5, as client-go's DefaultRetry). */
  attempts?: number;
  /** The first wait, in ms (default 10); each later wait doubles, plus up to 10% jitter. */
  initialDelayMs?: number;
  clock?: Clock;
  random?: () => number;
}

// #region retry-on-conflict
/**
 * Runs `fn` again while it fails with 409 Conflict, waiting a little longer
 * each time, like client-go's retry.RetryOnConflict. `fn` must re-read the
 * object on every attempt: a conflict means its copy was stale. Other errors,
 * and the last conflict once the attempts run out, are thrown.
 */
export async function retryOnConflict<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  const initialDelayMs = options.initialDelayMs ?? 10;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isConflict(error) || attempt >= attempts) throw error;
      const delay = initialDelayMs * 2 ** (attempt - 1);
      await sleep(delay + delay * 0.1 * random(), options.clock);
    }
  }
}
// #endregion retry-on-conflict
