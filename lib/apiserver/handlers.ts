/**
 * The stages of a request, one function each, as the request pipeline
 * (pipeline.ts) runs them: authenticate, authorize, decode, admit,
 * validate, store, or, for reads, read and watch. Each stage reads and
 * fills one RequestContext; a stage that refuses the request throws an
 * ApiError, which becomes the Status the client receives.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject, Pod } from '../api/types.ts';
import { parse as parseYaml } from 'yaml';
import { allocateServiceIPs, defaultTolerationSeconds, keepServiceIPs, namespaceLifecycle, nodeRestriction, type AdmissionRequest } from './admission.ts';
import { ANONYMOUS, PUBLIC_PATHS, type TokenAuthenticator, type UserInfo } from './auth.ts';
import { jsonOf, type WatchCaches } from './cacher.ts';
import type { Cidr } from './clusterip.ts';
import type { RequestMetrics } from './metrics.ts';
import { setDefaults } from './defaults.ts';
import { discoveryResponse } from './discovery.ts';
import { jsonPatch, mergePatch, recordUpdate, serverSideApply, strategicMergePatch } from './patch.ts';
import type { RbacAuthorizer } from './rbac.ts';
import type { ApiServerSeams } from './seams.ts';
import { isTrue, type RequestInfo } from './request-info.ts';
import type { Registry } from './registry.ts';
import { decodeKubernetesProtobuf, PROTOBUF_CONTENT_TYPE, ProtobufError, UnsupportedProtobufKind } from './protobuf.ts';
import { findResource, groupVersion, storagePrefixFor, type ResourceInfo } from './resources.ts';
import { decodingProblems } from './schema.ts';
import { checkFieldSelector, fieldsOf, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.ts';
import {
  ApiError,
  badRequest,
  conflict,
  forbidden,
  forbiddenPath,
  invalid,
  MAX_REQUEST_BODY_BYTES,
  methodNotAllowed,
  pathNotFound,
  tooLarge,
  unauthorized,
  unsupportedMediaType,
} from './status.ts';
import { checkIdentity, fromScale, prepareForCreate, prepareForStatusUpdate, prepareForUpdate, timestamp, toScale } from './strategy.ts';
import { parseIncludeObject, toTable } from './tables.ts';
import { validateObject, validateUpdate } from './validation.ts';
import { parseResourceVersion, serveWatch } from './watch.ts';

/** What the server sends back: a JSON body with a status code, or nothing (a stream already answered). */
export interface Reply {
  status: number;
  body?: unknown;
  contentType?: string;
  /** The body already encoded as JSON (a list from the watch cache); sent as it is. */
  json?: Buffer;
}

/** Streams a container's log to the response; false when no kubelet serves that node. */
export type LogProvider = (pod: Pod, container: string, options: { follow: boolean; tailLines?: number; previous?: boolean }, res: ServerResponse) => Promise<boolean>;

/** Everything known about one request as it moves through the pipeline. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  info: RequestInfo;
  resource?: ResourceInfo;
  user?: UserInfo;
  /** The decoded body: an object for create/update, a patch for patch, DeleteOptions for delete. */
  input?: unknown;
  /** The stored object before this write. */
  current?: KubeObject;
  /** The object this write will store. */
  object?: KubeObject;
  /** Set when a server-side apply or a delete ends in a create or an immediate delete. */
  outcome?: 'created' | 'deleted' | 'updated';
  reply?: Reply;
  attempts: number;
  warnings: string[];
}

/** What the stages need from the server that runs them. */
export interface HandlerDeps {
  registry: Registry;
  authenticator: TokenAuthenticator;
  authorizer: RbacAuthorizer;
  serviceCidr: Cidr;
  now: () => number;
  /** When false, delete ignores propagation policies (no garbage collector runs to honour them), as kube-apiserver `--enable-garbage-collector=false`. */
  garbageCollection: () => boolean;
  bookmarkIntervalMs: number;
  /** How long Events live (kube-apiserver `--event-ttl`, 1 h). */
  eventTtlSeconds: number;
  /** Reaches a node's kubelet for `pods/log`; undefined until a kubelet serves logs. */
  logs?: LogProvider;
  /** The lease Events are attached to (renewed once a minute, as the real lease manager reuses leases). */
  eventLease: () => Promise<number>;
  /** Request latencies and counts, served at /metrics. */
  metrics: RequestMetrics;
  /** The shared watch of each resource (cacher.ts). */
  watchCaches: WatchCaches;
  /** The functions chapter 2's exercises replace. */
  seams: ApiServerSeams;
  /** Serializes ClusterIP allocation so two Services never get the same address. */
  serviceLock: <T>(fn: () => Promise<T>) => Promise<T>;
}

const COMMA = Buffer.from(',');
const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];
/** The body types POST and PUT read (protobuf for the kinds protobuf.ts has a table for); the real server also reads CBOR, which this one does not. */
const BODY_TYPES = ['application/json', 'application/yaml', PROTOBUF_CONTENT_TYPE];

/** The pipeline's stages bound to one server's dependencies. */
export class Handlers {
  constructor(private readonly deps: HandlerDeps) {}

  /** Let `pods/log` reach the kubelets (chapter 5 brings them). */
  setLogs(logs: LogProvider): void {
    this.deps.logs = logs;
  }

  // #region authenticate
  /** Who is asking: the bearer token's user, anonymous on a public path, else 401. */
  async authenticate(ctx: RequestContext): Promise<UserInfo> {
    const user = this.deps.authenticator.authenticate(ctx.req.headers.authorization);
    if (user) return user;
    if (!ctx.req.headers.authorization && PUBLIC_PATHS.has(ctx.info.path)) return ANONYMOUS;
    throw unauthorized();
  }
  // #endregion authenticate

  // #region authorize
  /** RBAC decides; then the resource must exist and take the verb. */
  async authorize(ctx: RequestContext): Promise<void> {
    const { info } = ctx;
    const user = ctx.user ?? ANONYMOUS;
    const decision = this.deps.authorizer.authorize({ user, ...info });
    if (!decision.allowed) {
      if (!info.isResourceRequest) throw forbiddenPath(user.name, info.verb, info.path);
      throw forbidden(user.name, info.verb, info.resource, info.apiGroup, info.namespace || undefined, info.name || undefined, info.subresource || undefined);
    }
    if (!info.isResourceRequest) return;
    const resource = findResource(info.apiGroup, info.apiVersion, info.resource);
    if (!resource) throw pathNotFound(ctx.url.pathname);
    const allowed = info.subresource ? resource.subresources.find((s) => s.name === info.subresource)?.verbs : resource.verbs;
    if (!allowed) throw pathNotFound(ctx.url.pathname);
    // get covers list and watch of the same path; the subresource lists say get.
    const verb = info.subresource && ['list', 'watch'].includes(info.verb) ? 'get' : info.verb;
    if (!allowed.includes(verb)) throw methodNotAllowed(ctx.req.method ?? '', info.subresource ? `${info.resource}/${info.subresource}` : info.resource);
    // PUT and PATCH name an object; POST names a collection (or a subresource such as binding).
    const misplaced = ((info.verb === 'update' || info.verb === 'patch') && !info.name) || (info.verb === 'create' && info.name && !info.subresource);
    if (misplaced) throw methodNotAllowed(ctx.req.method ?? '', info.resource);
    if (resource.namespaced && !info.namespace && !['list', 'watch', 'deletecollection'].includes(info.verb)) {
      throw pathNotFound(ctx.url.pathname);
    }
    ctx.resource = resource;
  }
  // #endregion authorize

  // #region decode
  /** Read the body (at most 3 MiB), parse it by its content type, and check it names the right kind. */
  async decode(ctx: RequestContext): Promise<void> {
    const body = await readBody(ctx.req);
    const contentType = (ctx.req.headers['content-type'] ?? 'application/json').split(';')[0]?.trim() ?? '';
    const info = ctx.info;
    if (info.verb === 'patch') {
      if (!PATCH_TYPES.includes(contentType)) throw unsupportedMediaType(contentType, PATCH_TYPES);
      ctx.input = contentType === 'application/apply-patch+yaml' ? parseYamlBody(body) : parseJsonBody(body);
      return;
    }
    // Why protobuf here: kubectl's typed commands (`create namespace`, `create deployment`,
    // `expose`) send it, and client-go does not retry them as JSON after a 415.
    if (contentType === PROTOBUF_CONTENT_TYPE && (info.verb === 'create' || info.verb === 'update')) {
      ctx.input = decodeProtobufBody(ctx, body);
      checkKind(ctx);
      this.checkFields(ctx, ctx.input as KubeObject);
      return;
    }
    // Why refuse the other binary bodies by name: parsing them as JSON would give a baffling error.
    if (contentType === PROTOBUF_CONTENT_TYPE || contentType === 'application/cbor') throw unsupportedMediaType(contentType, BODY_TYPES);
    if (body.length === 0) {
      if (info.verb === 'delete' || info.verb === 'deletecollection') return;
      throw badRequest(`expected a JSON body with the ${ctx.resource?.kind ?? 'object'} to ${info.verb}, got an empty body`);
    }
    ctx.input = contentType === 'application/yaml' ? parseYamlBody(body) : parseJsonBody(body);
    if (info.verb === 'delete' || info.verb === 'deletecollection') return;
    checkKind(ctx);
    this.checkFields(ctx, ctx.input as KubeObject);
  }
  // #endregion decode

  /** Strict field validation: unknown fields are refused (Strict), reported as warnings (Warn), or dropped silently (Ignore). */
  private checkFields(ctx: RequestContext, object: KubeObject): void {
    const problems = decodingProblems(object.apiVersion, object.kind, object);
    // A value of the wrong JSON type cannot be decoded at all, whatever the validation mode.
    const typeError = problems.types[0];
    if (typeError) throw badRequest(`${object.kind} in version "${object.apiVersion.split('/').pop()}" cannot be handled as a ${object.kind}: ${typeError.message}`);
    const mode = ctx.url.searchParams.get('fieldValidation') ?? 'Warn';
    if (mode === 'Ignore') return;
    const unknown = problems.unknown;
    if (unknown.length === 0) return;
    if (mode === 'Strict') {
      const listed = unknown.map((f) => `unknown field "${f}"`).join(', ');
      throw badRequest(`${object.kind} in version "${object.apiVersion.split('/').pop()}" cannot be handled as a ${object.kind}: strict decoding error: ${listed}`);
    }
    for (const f of unknown) ctx.warnings.push(`unknown field "${f}"`);
  }

  // #region admit
  /** Build the object this write will store, then run the admission plugins on it. */
  async admit(ctx: RequestContext): Promise<void> {
    const { info } = ctx;
    const resource = ctx.resource!;
    const now = this.deps.now();
    ctx.current = undefined;
    ctx.outcome = undefined;
    if (info.verb === 'create' && info.subresource === 'binding') {
      ctx.current = await this.deps.registry.get(resource, info.namespace, info.name);
      ctx.object = bindPod(ctx.current as Pod, ctx.input as KubeObject, now);
    } else if (info.verb === 'create') {
      checkIdentity(resource, ctx.input as KubeObject, info.namespace, '');
      const prepared = prepareForCreate(resource, ctx.input as KubeObject, info.namespace, now);
      ctx.object = recordUpdate(setDefaults(resource, prepared), fieldManager(ctx), groupVersion(resource), timestamp(now));
    } else if (info.verb === 'delete' || info.verb === 'deletecollection') {
      if (info.verb === 'delete') ctx.current = await this.deps.registry.get(resource, info.namespace, info.name);
    } else {
      await this.buildUpdate(ctx, now);
    }
    await this.runAdmission(ctx);
  }
  // #endregion admit

  /** The object an update, patch or subresource write will store, computed from the stored one. */
  private async buildUpdate(ctx: RequestContext, now: number): Promise<void> {
    const { info } = ctx;
    const resource = ctx.resource!;
    const manager = fieldManager(ctx);
    let current: KubeObject | undefined;
    try {
      current = await this.deps.registry.get(resource, info.namespace, info.name);
    } catch (error) {
      // Server-side apply to a missing object creates it (an upsert).
      if (!(error instanceof ApiError && error.code === 404 && isApply(ctx) && !info.subresource)) throw error;
    }
    if (!current) {
      const { object } = serverSideApply(undefined, ctx.input as KubeObject, applyOptions(ctx, resource, now));
      checkIdentity(resource, object, info.namespace, info.name);
      this.checkFields(ctx, object);
      ctx.object = setDefaults(resource, prepareForCreate(resource, { ...object, metadata: { ...object.metadata, name: info.name } }, info.namespace, now));
      ctx.outcome = 'created';
      return;
    }
    ctx.current = current;
    if (info.subresource === 'scale') {
      const scale = info.verb === 'update' ? (ctx.input as KubeObject) : (this.patched(ctx, toScale(current), 'autoscaling/v1', 'Scale') as KubeObject);
      // A Scale that carries a resourceVersion is conditional on it, like any other write.
      const sentScale = scale.metadata?.resourceVersion;
      if (sentScale && sentScale !== current.metadata.resourceVersion) throw conflict({ resource: resource.resource, group: resource.group, name: info.name });
      ctx.object = recordUpdate(prepareForUpdate(resource, fromScale(scale, current), current), manager, groupVersion(resource), timestamp(now), 'scale', current);
      return;
    }
    const input = info.verb === 'update' ? (ctx.input as KubeObject) : this.patched(ctx, current, groupVersion(resource), resource.kind);
    checkIdentity(resource, input, info.namespace, info.name);
    if (info.verb === 'patch') this.checkFields(ctx, input);
    const sent = input.metadata.resourceVersion;
    // A write that carries a resourceVersion is conditional on it: the optimistic-concurrency check.
    if (sent && sent !== current.metadata.resourceVersion) throw conflict({ resource: resource.resource, group: resource.group, name: info.name });
    // Why setDefaults, not applyDefaults: prepareForCreate and prepareForUpdate return fresh copies, so a further copy would only cost.
    const prepared = info.subresource === 'status' ? prepareForStatusUpdate(input, current) : setDefaults(resource, prepareForUpdate(resource, input, current));
    ctx.object = isApply(ctx) ? prepared : recordUpdate(prepared, manager, groupVersion(resource), timestamp(now), info.subresource || undefined, current);
  }

  /** The stored object with the request's patch applied, by the patch's content type. */
  private patched(ctx: RequestContext, current: KubeObject, apiVersion: string, kind: string): KubeObject {
    const contentType = (ctx.req.headers['content-type'] ?? '').split(';')[0]?.trim();
    const patch = ctx.input;
    const resource = ctx.resource!;
    switch (contentType) {
      case 'application/json-patch+json':
        return jsonPatch(current, patch as never) as KubeObject;
      case 'application/merge-patch+json':
        return mergePatch(current, patch) as KubeObject;
      case 'application/strategic-merge-patch+json':
        return strategicMergePatch(current, patch as Record<string, unknown>, apiVersion, kind) as KubeObject;
      default:
        return serverSideApply(current, patch as KubeObject, applyOptions(ctx, resource, this.deps.now())).object;
    }
  }

  /** The admission plugins, mutating first, then validating, as kube-apiserver orders them. */
  private async runAdmission(ctx: RequestContext): Promise<void> {
    const request: AdmissionRequest = {
      info: ctx.resource!,
      verb: ctx.outcome === 'created' ? 'create' : ctx.info.verb,
      subresource: ctx.info.subresource,
      namespace: ctx.info.namespace,
      name: ctx.info.name,
      user: ctx.user ?? ANONYMOUS,
      object: ctx.object,
      current: ctx.current,
    };
    defaultTolerationSeconds(request);
    keepServiceIPs(request);
    ctx.object = request.object;
    await namespaceLifecycle(this.deps.registry, request);
    nodeRestriction(request);
  }

  // #region validate
  /** 422 Invalid when the object breaks the kind's rules; the causes name each bad field. */
  async validate(ctx: RequestContext): Promise<void> {
    const resource = ctx.resource!;
    const object = ctx.object;
    if (!object) return;
    // A binding sets the one field a Pod update may never change (spec.nodeName), so it is checked as a whole object.
    const asUpdate = ctx.current && ctx.outcome !== 'created' && ctx.info.subresource !== 'binding';
    const subdomain = this.deps.seams.isDNS1123Subdomain;
    const causes = asUpdate ? validateUpdate(resource, object, ctx.current!, subdomain) : validateObject(resource, object, subdomain);
    if (causes.length > 0) throw invalid(resource.kind, resource.group || undefined, object.metadata.name ?? '', causes);
  }
  // #endregion validate

  // #region store
  /** Write the object (or delete it), then answer with what was stored. */
  async store(ctx: RequestContext): Promise<Reply> {
    const { info } = ctx;
    const resource = ctx.resource!;
    const dryRun = ctx.url.searchParams.get('dryRun') === 'All';
    if (info.verb === 'delete') return this.deleteOne(ctx, dryRun);
    if (info.verb === 'deletecollection') return this.deleteCollection(ctx, dryRun);
    const object = ctx.object!;
    if (dryRun) return { status: ctx.current && ctx.outcome !== 'created' ? 200 : 201, body: object };
    if (info.verb === 'create' && info.subresource === 'binding') {
      await this.deps.registry.update(resource, object, Number(ctx.current!.metadata.resourceVersion));
      // Why no details and code 201: upstream's BindingREST answers a bare Success Status, and the create handler fills in its code.
      return { status: 201, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } };
    }
    if (!ctx.current || ctx.outcome === 'created') {
      const stored = await this.create(resource, object);
      return { status: 201, body: stored };
    }
    const revision = Number(ctx.current.metadata.resourceVersion);
    // Removing the last finalizer of an object being deleted completes the delete.
    if (shouldDeleteDuringUpdate(resource, ctx.current, object)) {
      const deleted = await this.deps.registry.delete(resource, info.namespace || undefined, info.name, revision);
      return { status: 200, body: deleted };
    }
    const stored = await this.deps.registry.update(resource, object, revision);
    this.observe(stored);
    return { status: 200, body: info.subresource === 'scale' ? toScale(stored) : stored };
  }
  // #endregion store

  /** Create, with the extras some kinds need: Events on an expiring lease, Services with allocated IPs. */
  private async create(resource: ResourceInfo, object: KubeObject): Promise<KubeObject> {
    if (resource.resource === 'events') return this.deps.registry.create(resource, object, await this.deps.eventLease());
    if (resource.resource === 'services') {
      return this.deps.serviceLock(async () => {
        await allocateServiceIPs(this.deps.registry, this.deps.serviceCidr, { info: resource, verb: 'create', subresource: '', namespace: object.metadata.namespace ?? '', name: '', user: ANONYMOUS, object });
        return this.deps.registry.create(resource, object);
      });
    }
    const stored = await this.deps.registry.create(resource, object);
    this.observe(stored);
    return stored;
  }

  /** Keep the authorizer's view of roles and bindings current with this server's own writes. */
  private observe(object: KubeObject, removed = false): void {
    if (!object.kind.includes('Role')) return;
    if (removed) this.deps.authorizer.remove(object);
    else this.deps.authorizer.upsert(object);
  }

  // #region delete
  /**
   * Delete one object. It goes at once unless something must happen first:
   * finalizers to run (the object gets a deletionTimestamp and stays until
   * they are removed), or a Pod on a node to stop gracefully (its kubelet
   * deletes it when the containers have stopped).
   */
  private async deleteOne(ctx: RequestContext, dryRun: boolean): Promise<Reply> {
    const resource = ctx.resource!;
    const current = ctx.current!;
    const options = (ctx.input ?? {}) as DeleteOptions;
    checkPreconditions(resource, current, options);
    const finalizers = [...(current.metadata.finalizers ?? [])];
    const policy = options.propagationPolicy ?? (options.orphanDependents ? 'Orphan' : undefined);
    if (this.deps.garbageCollection()) {
      // Orphan and Foreground are carried out by the garbage collector, through these finalizers.
      if (policy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
      if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
    }
    const grace = gracePeriod(resource, current, options);
    const revision = Number(current.metadata.resourceVersion);
    // A Namespace also waits for its spec.finalizers: the namespace controller empties it first.
    if (finalizers.length === 0 && grace === 0 && namespaceFinalizers(resource, current).length === 0) {
      if (dryRun) return { status: 200, body: current };
      const deleted = await this.deps.registry.delete(resource, ctx.info.namespace || undefined, ctx.info.name, revision);
      this.observe(deleted, true);
      ctx.outcome = 'deleted';
      return { status: 200, body: deleted };
    }
    if (current.metadata.deletionTimestamp && sameStrings(finalizers, current.metadata.finalizers ?? []) && grace >= (current.metadata.deletionGracePeriodSeconds ?? 0)) {
      return { status: 200, body: current }; // already being deleted; nothing new to record
    }
    const marked: KubeObject = structuredClone(current);
    marked.metadata.finalizers = finalizers;
    if (finalizers.length === 0) delete marked.metadata.finalizers;
    marked.metadata.deletionTimestamp ??= timestamp(this.deps.now() + grace * 1000);
    marked.metadata.deletionGracePeriodSeconds = grace;
    if (resource.resource === 'namespaces') (marked.status as { phase?: string }).phase = 'Terminating';
    if (dryRun) return { status: 200, body: marked };
    const stored = await this.deps.registry.update(resource, marked, revision);
    return { status: 200, body: stored };
  }
  // #endregion delete

  /** Delete every object the selectors match, one by one; answers the list of what was deleted. */
  private async deleteCollection(ctx: RequestContext, dryRun: boolean): Promise<Reply> {
    const resource = ctx.resource!;
    const list = await this.read(ctx);
    const items = ((list.body as { items: KubeObject[] }).items ?? []);
    const deleted: KubeObject[] = [];
    for (const item of items) {
      const sub: RequestContext = { ...ctx, info: { ...ctx.info, verb: 'delete', name: item.metadata.name ?? '', namespace: item.metadata.namespace ?? '' }, current: item };
      const reply = await this.deleteOne(sub, dryRun);
      deleted.push(reply.body as KubeObject);
    }
    return { status: 200, body: { kind: `${resource.kind}List`, apiVersion: groupVersion(resource), metadata: {}, items: deleted } };
  }

  // #region read
  /** get, list, or a subresource read (`status`, `scale`). */
  async read(ctx: RequestContext): Promise<Reply> {
    const { info, url } = ctx;
    if (!info.isResourceRequest) return this.discovery(ctx);
    const resource = ctx.resource!;
    if (info.subresource === 'log') return this.log(ctx);
    if (info.name && info.verb === 'get') {
      const object = await this.deps.registry.get(resource, info.namespace || undefined, info.name);
      if (info.subresource === 'scale') return { status: 200, body: toScale(object) };
      return this.maybeTable(ctx, [object], object.metadata.resourceVersion ?? '', object);
    }
    const matches = selectorFilter(resource, url.searchParams, this.deps.seams.matchesLabels);
    const revision = listRevision(url.searchParams);
    // Why only a plain list: selectors and tables need the objects themselves, and an Exact resourceVersion needs the store's history.
    if (info.verb === 'list' && !matches && revision === 0 && !wantsTable(ctx.req)) {
      const cached = await this.listFromCache(resource, info.namespace || undefined);
      if (cached) return cached;
    }
    const list = await this.deps.registry.list(resource, info.namespace || undefined, revision);
    const items = matches ? list.items.filter(matches) : list.items;
    const body = { kind: `${resource.kind}List`, apiVersion: groupVersion(resource), metadata: { resourceVersion: String(list.revision) }, items };
    return this.maybeTable(ctx, items, String(list.revision), body);
  }
  // #endregion read

  /**
   * A list answered from the watch cache, as kube-apiserver answers lists:
   * no store read, and each object's JSON made once for all the lists that
   * follow. It is still a consistent read: the cache first catches up with
   * the store's current revision. Undefined when it cannot within 3 seconds
   * (its store watch is lagging); the store answers then.
   */
  private async listFromCache(resource: ResourceInfo, namespace: string | undefined): Promise<Reply | undefined> {
    const cache = await this.deps.watchCaches.get(resource);
    if (!(await cache.waitUntil(await this.deps.registry.currentRevision(), 3000))) return undefined;
    const { objects, revision } = cache.list(storagePrefixFor(resource, namespace));
    const head = JSON.stringify({ kind: `${resource.kind}List`, apiVersion: groupVersion(resource), metadata: { resourceVersion: String(revision) } });
    // The same bytes JSON.stringify would make of the list with its items, without decoding and encoding each one again.
    const parts: Buffer[] = [Buffer.from(`${head.slice(0, -1)},"items":[`)];
    for (const object of objects) {
      if (parts.length > 1) parts.push(COMMA);
      parts.push(jsonOf(object));
    }
    parts.push(Buffer.from(']}'));
    return { status: 200, json: Buffer.concat(parts) };
  }

  /** Answer as a Table when the client asked for one (`Accept: ...;as=Table`), else as is. */
  private maybeTable(ctx: RequestContext, objects: KubeObject[], resourceVersion: string, plain: unknown): Reply {
    if (!wantsTable(ctx.req)) return { status: 200, body: plain };
    const includeObject = parseIncludeObject(ctx.url.searchParams.get('includeObject'));
    return { status: 200, body: toTable(ctx.resource!, objects, { now: this.deps.now(), resourceVersion, includeObject }) };
  }

  /** Discovery, OpenAPI and health: the paths that name no resource. */
  private discovery(ctx: RequestContext): Reply {
    if (ctx.url.pathname === '/metrics') return { status: 200, body: this.deps.metrics.render(), contentType: 'text/plain; version=0.0.4; charset=utf-8' };
    const reply = discoveryResponse(ctx.url.pathname, ctx.req.headers.accept ?? '');
    if (!reply) throw pathNotFound(ctx.url.pathname);
    return reply;
  }

  /** `pods/<name>/log`: asks the Pod's node for the container's output. */
  private async log(ctx: RequestContext): Promise<Reply> {
    const pod = (await this.deps.registry.get(ctx.resource!, ctx.info.namespace, ctx.info.name)) as Pod;
    const containers = pod.spec.containers.map((c) => c.name);
    const container = ctx.url.searchParams.get('container') ?? (containers.length === 1 ? containers[0] : undefined);
    if (!container) throw badRequest(`a container name must be specified for pod ${ctx.info.name}, choose one of: [${containers.join(' ')}]`);
    if (!containers.includes(container)) throw badRequest(`container ${container} is not valid for pod ${ctx.info.name}`);
    if (!pod.spec.nodeName) throw badRequest(`pod ${ctx.info.name} does not have a host assigned`);
    const follow = isTrue(ctx.url.searchParams.get('follow'));
    const tail = ctx.url.searchParams.get('tailLines');
    const previous = isTrue(ctx.url.searchParams.get('previous'));
    const served = this.deps.logs ? await this.deps.logs(pod, container, { follow, previous, tailLines: tail ? Number(tail) : undefined }, ctx.res) : false;
    if (!served) {
      // Why these words: they are the real API server's, for a container that has not started (or, with --previous, never restarted).
      if (previous) throw badRequest(`previous terminated container "${container}" in pod "${ctx.info.name}" not found`);
      const waiting = pod.status?.containerStatuses?.find((s) => s.name === container)?.state?.waiting?.reason ?? 'ContainerCreating';
      throw badRequest(`container "${container}" in pod "${ctx.info.name}" is waiting to start: ${waiting === 'ContainerCreating' ? 'ContainerCreating' : `trying and failing to pull image`}`);
    }
    return { status: 0 };
  }

  // #region watch
  /** Stream changes until the client leaves or `timeoutSeconds` passes. */
  async watch(ctx: RequestContext): Promise<void> {
    const resource = ctx.resource!;
    const query = ctx.url.searchParams;
    const matches = selectorFilter(resource, query, this.deps.seams.matchesLabels);
    const timeout = Number(query.get('timeoutSeconds') ?? '0');
    // Without timeoutSeconds the real server picks 30-60 minutes, so clients re-watch now and then.
    const timeoutMs = timeout > 0 ? timeout * 1000 : (1800 + Math.random() * 1800) * 1000;
    const table = wantsTable(ctx.req);
    await serveWatch(
      this.deps.registry,
      {
        info: resource,
        namespace: ctx.info.namespace || undefined,
        resourceVersion: query.get('resourceVersion') ?? undefined,
        matches,
        allowWatchBookmarks: isTrue(query.get('allowWatchBookmarks')),
        translate: this.deps.seams.toWatchEvent,
        timeoutMs,
        render: table ? (object, first) => toTable(resource, [object], { now: this.deps.now(), resourceVersion: object.metadata.resourceVersion ?? '', noHeaders: !first }) : undefined,
      },
      ctx.res,
      { bookmarkIntervalMs: this.deps.bookmarkIntervalMs },
      this.deps.watchCaches,
    );
  }
  // #endregion watch
}

/** The DeleteOptions body of a DELETE. */
interface DeleteOptions {
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  orphanDependents?: boolean;
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** 409 when the caller's preconditions (uid, resourceVersion) do not hold any more. */
function checkPreconditions(resource: ResourceInfo, current: KubeObject, options: DeleteOptions): void {
  const p = options.preconditions;
  const subject = { resource: resource.resource, group: resource.group, name: current.metadata.name };
  if (p?.uid && p.uid !== current.metadata.uid) throw conflict(subject, `Precondition failed: UID in precondition: ${p.uid}, UID in object meta: ${current.metadata.uid}`);
  if (p?.resourceVersion && p.resourceVersion !== current.metadata.resourceVersion) {
    throw conflict(subject, `Precondition failed: ResourceVersion in precondition: ${p.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`);
  }
}

/** A Namespace's `spec.finalizers` (`kubernetes` until the namespace controller has emptied it); none for other kinds. */
function namespaceFinalizers(resource: ResourceInfo, object: KubeObject): string[] {
  if (resource.resource !== 'namespaces') return [];
  return (object.spec as { finalizers?: string[] } | undefined)?.finalizers ?? [];
}

/**
 * How long a delete waits. Only a Pod bound to a node waits: its kubelet
 * must stop the containers (terminationGracePeriodSeconds, 30 s by default).
 * An unbound Pod has nothing running and goes at once.
 */
function gracePeriod(resource: ResourceInfo, current: KubeObject, options: DeleteOptions): number {
  if (resource.resource !== 'pods') return 0;
  const pod = current as Pod;
  if (!pod.spec.nodeName) return 0;
  if ((pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed')) return 0;
  return options.gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
}

/** The Pod bound to the Binding's target node, with the PodScheduled condition the binding records. */
function bindPod(pod: Pod, binding: KubeObject, now: number): Pod {
  const target = (binding as { target?: { name?: string; kind?: string } }).target;
  if (!target?.name) throw invalid('Binding', undefined, pod.metadata.name ?? '', [{ reason: 'FieldValueRequired', field: 'target.name', message: 'Required value' }]);
  if (pod.metadata.deletionTimestamp) throw conflict({ resource: 'pods/binding', name: pod.metadata.name }, `pod ${pod.metadata.name} is being deleted, cannot be assigned to a host`);
  if (pod.spec.nodeName) throw conflict({ resource: 'pods/binding', name: pod.metadata.name }, `pod ${pod.metadata.name} is already assigned to node "${pod.spec.nodeName}"`);
  // Why copies of only spec and status: those are the parts a binding changes; the stored Pod stays as it was read.
  const conditions = (pod.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
  conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: timestamp(now) });
  return { ...pod, spec: { ...pod.spec, nodeName: target.name }, status: { ...(pod.status ?? {}), conditions } };
}

/** A filter from the request's labelSelector and fieldSelector (400 on a bad one). */
export function selectorFilter(resource: ResourceInfo, query: URLSearchParams, matchLabels = matchesLabels): ((object: KubeObject) => boolean) | undefined {
  // No selector at all: no filter, so lists and watches skip the per-object work.
  if (!query.get('labelSelector') && !query.get('fieldSelector')) return undefined;
  const labels = parseLabelSelector(query.get('labelSelector') ?? '');
  // Check each requirement's field is selectable (400 if not) before any object is seen.
  const fields = checkFieldSelector(resource, parseFieldSelector(query.get('fieldSelector') ?? ''));
  return (object) => matchLabels(labels, object.metadata.labels ?? {}) && matchesFields(fields, fieldsOf(resource, object));
}

/** The revision a list reads at: `resourceVersion` with `resourceVersionMatch=Exact` pins it; otherwise now. */
function listRevision(query: URLSearchParams): number {
  if (query.get('resourceVersionMatch') !== 'Exact') {
    parseResourceVersion(query.get('resourceVersion') ?? undefined); // still refuse garbage
    return 0;
  }
  return parseResourceVersion(query.get('resourceVersion') ?? undefined);
}

function wantsTable(req: IncomingMessage): boolean {
  return /as=Table/.test(req.headers.accept ?? '');
}

/** The field manager a write is recorded under: `fieldManager`, or the client's program name as the real server derives it. */
function fieldManager(ctx: RequestContext): string {
  const explicit = ctx.url.searchParams.get('fieldManager');
  if (explicit) return explicit;
  const agent = ctx.req.headers['user-agent'] ?? 'unknown';
  return agent.split('/')[0] || 'unknown';
}

function isApply(ctx: RequestContext): boolean {
  return ctx.info.verb === 'patch' && (ctx.req.headers['content-type'] ?? '').startsWith('application/apply-patch+yaml');
}

function applyOptions(ctx: RequestContext, resource: ResourceInfo, now: number) {
  const manager = ctx.url.searchParams.get('fieldManager');
  if (!manager) throw badRequest('PATCH of type application/apply-patch+yaml requires the fieldManager parameter (expected ?fieldManager=<name>, got none)');
  return { manager, force: isTrue(ctx.url.searchParams.get('force')), apiVersion: groupVersion(resource), kind: resource.kind, now: timestamp(now) };
}


function sameStrings(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Reads a request body, refusing more than 3 MiB with 413 before it is all in memory. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > MAX_REQUEST_BODY_BYTES) {
    req.resume(); // drain, so the connection can answer
    throw tooLarge();
  }
  // Why events rather than `for await`: an async iterator per request costs more than the body it reads.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BODY_BYTES) return void chunks.push(chunk);
      req.off('data', onData);
      req.resume(); // drain the rest, so the connection can answer
      reject(tooLarge());
    };
    req.on('data', onData);
    let ended = false;
    req.once('end', () => {
      ended = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    req.once('error', reject);
    // Why: a client that goes away mid-body ends the stream with no 'end'.
    req.once('close', () => {
      if (!ended) reject(badRequest('expected a request body, got a connection closed before it ended'));
    });
  });
}

/** JSON.parse with the error a client can act on. */
export function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(error as Error).message} (expected a JSON object)`);
  }
}

/** A protobuf create or update body as the JSON-shaped object it encodes; its ignored fields become warnings. */
function decodeProtobufBody(ctx: RequestContext, body: Buffer): KubeObject {
  const resource = ctx.resource!;
  const subresource = resource.subresources.find((s) => s.name === ctx.info.subresource);
  // Why no default for scale or binding: their bodies are another kind (Scale, Binding), named in the envelope.
  const defaults = subresource && subresource.name !== 'status' ? undefined : { apiVersion: groupVersion(resource), kind: resource.kind };
  try {
    const { object, warnings } = decodeKubernetesProtobuf(body, defaults);
    ctx.warnings.push(...warnings);
    return object;
  } catch (error) {
    if (error instanceof UnsupportedProtobufKind) {
      throw new ApiError(415, 'UnsupportedMediaType', `${error.message}; use kubectl apply -f / create -f, which send JSON`);
    }
    if (error instanceof ProtobufError) throw badRequest(`error decoding the protobuf body: ${error.message}`);
    throw error;
  }
}

/** The body of a server-side apply: YAML (kubectl sends JSON, which is YAML too), with aliases capped. */
function parseYamlBody(body: Buffer): unknown {
  try {
    return parseYaml(body.toString('utf8'), { maxAliasCount: 100 });
  } catch (error) {
    throw badRequest(`error decoding YAML: ${(error as Error).message}`);
  }
}

/** 400 unless the body is an object of the kind and apiVersion the URL names. */
function checkKind(ctx: RequestContext): void {
  const input = ctx.input;
  const resource = ctx.resource!;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw badRequest(`expected a JSON object for a ${resource.kind}, got ${Array.isArray(input) ? 'an array' : input === null ? 'null' : typeof input}`);
  }
  const object = input as Partial<KubeObject>;
  const subresource = resource.subresources.find((s) => s.name === ctx.info.subresource);
  const kind = subresource && subresource.name !== 'status' ? subresource.kind : resource.kind;
  const version = subresource?.group ? `${subresource.group}/${subresource.version}` : groupVersion(resource);
  // Why default rather than refuse: the real server decodes with the URL's kind as the default
  // (gvkWithDefaults), and client-node users commonly send bodies without apiVersion and kind.
  if (!object.kind) object.kind = kind;
  if (object.kind !== kind) throw badRequest(`the kind in the data (${object.kind}) does not match the expected kind (${kind}) for ${ctx.url.pathname}`);
  if (object.apiVersion && object.apiVersion !== version) {
    throw badRequest(`the API version in the data (${object.apiVersion}) does not match the expected API version (${version})`);
  }
  object.apiVersion = version;
  if (typeof object.metadata !== 'object' || object.metadata === null) object.metadata = {};
}

/**
 * Whether an update finishes a pending delete, as upstream's store decides:
 * when it removes the last finalizer of an object being deleted, or when the
 * object was already due with a grace period of 0. Why not on every update of
 * a terminating object: a kubelet still reports the status of a Pod that is
 * shutting down gracefully, and that must not delete it early.
 */
function shouldDeleteDuringUpdate(resource: ResourceInfo, old: KubeObject, updated: KubeObject): boolean {
  if (!updated.metadata.deletionTimestamp) return false;
  const remaining = (updated.metadata.finalizers ?? []).length + namespaceFinalizers(resource, updated).length;
  if (remaining > 0) return false;
  const had = (old.metadata.finalizers ?? []).length + namespaceFinalizers(resource, old).length;
  if (had > 0) return true;
  return old.metadata.deletionGracePeriodSeconds === 0;
}
