/**
 * The API server: an HTTP server whose every request runs through the
 * request pipeline (pipeline.ts), and the only component that talks to the
 * store. On start it writes the objects a cluster begins with (bootstrap.ts),
 * loads RBAC, and begins compacting the store's history every five minutes,
 * as kube-apiserver does; a watch from before the last compaction gets 410.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createActor, toPromise } from 'xstate';
import type { KubeObject } from '../api/types.ts';
import { prefixEnd } from '../store/revisions.ts';
import { TokenAuthenticator } from './auth.ts';
import type { Backend, BackendWatch } from './backend.ts';
import { bootstrapObjects } from './bootstrap.ts';
import { WatchCaches } from './cacher.ts';
import { metricVerb, RequestMetrics } from './metrics.ts';
import { DEFAULT_SERVICE_CIDR, formatIp, parseCidr } from './clusterip.ts';
import { applyDefaults } from './defaults.ts';
import { Handlers, type LogProvider, type Reply, type RequestContext } from './handlers.ts';
import { pipelineFor } from './pipeline.ts';
import { RbacAuthorizer } from './rbac.ts';
import { referenceSeams, type ApiServerSeams } from './seams.ts';
import { decodeObject, Registry } from './registry.ts';
import { requestInfo } from './request-info.ts';
import { RESOURCES, resourceForKind, type ResourceInfo } from './resources.ts';
import { ApiError, asApiError } from './status.ts';
import { prepareForCreate } from './strategy.ts';

/** How to start an API server. */
export interface ApiServerOptions {
  backend: Backend;
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  authenticator?: TokenAuthenticator;
  /** The serving certificate and key (PEM). Without them the server speaks plain HTTP, which kubectl will not send a token over. */
  tls?: { cert: string; key: string };
  serviceCidr?: string;
  now?: () => number;
  /** Whether a garbage collector runs (kube-apiserver `--enable-garbage-collector`); false until chapter 3's controller manager. */
  garbageCollection?: boolean;
  bookmarkIntervalMs?: number;
  /** How often history is compacted (kube-apiserver `--etcd-compaction-interval`, 5 min); 0 turns it off. */
  compactionIntervalMs?: number;
  eventTtlSeconds?: number;
  /** Replace some of the functions chapter 2's exercises are about (the lab passes the learner's). */
  seams?: Partial<ApiServerSeams>;
  /** Called once per request with its path through the pipeline, for labs and the walkthrough. */
  onTrace?: (trace: RequestTrace) => void;
  log?: (line: string) => void;
}

/** One request as the pipeline handled it. */
export interface RequestTrace {
  method: string;
  path: string;
  user: string;
  verb: string;
  /** The pipeline states it passed through, in order. */
  states: string[];
  code: number;
  ms: number;
}

/** A running API server. */
export interface RunningApiServer {
  url: string;
  port: number;
  registry: Registry;
  authenticator: TokenAuthenticator;
  authorizer: RbacAuthorizer;
  /** Let pods/log reach the kubelets (chapter 5). */
  setLogs(fn: LogProvider): void;
  /** Turn the garbage-collector finalizers on once a controller manager runs. */
  setGarbageCollection(on: boolean): void;
  /** Compact the store's history up to now (what the periodic compaction does). */
  compact(): Promise<number>;
  close(): Promise<void>;
}

// #region start
/** Start an API server on a store backend; resolves once it listens and its bootstrap objects exist. */
export async function startApiServer(options: ApiServerOptions): Promise<RunningApiServer> {
  const now = options.now ?? Date.now;
  const seams: ApiServerSeams = { ...referenceSeams, ...options.seams };
  const registry = new Registry(options.backend, seams.conditionalPut);
  const authenticator = options.authenticator ?? new TokenAuthenticator();
  const authorizer = new RbacAuthorizer(seams.ruleAllows);
  const cidr = parseCidr(options.serviceCidr ?? DEFAULT_SERVICE_CIDR);
  let garbageCollection = options.garbageCollection ?? false;
  let lastCompactable = 0;

  await bootstrap(registry, now, formatIp(cidr.base + 1));
  const rbacWatches = await loadRbac(registry, authorizer);

  const watchCaches = new WatchCaches(options.backend);
  const metrics = new RequestMetrics();
  const handlers = new Handlers({
    registry,
    authenticator,
    authorizer,
    serviceCidr: cidr,
    now,
    garbageCollection: () => garbageCollection,
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
    eventTtlSeconds: options.eventTtlSeconds ?? 3600,
    eventLease: eventLeases(options.backend, options.eventTtlSeconds ?? 3600, now),
    serviceLock: serialized(),
    seams,
    watchCaches,
    metrics,
  });
  const pipeline = pipelineFor(handlers);
  const listener = (req: IncomingMessage, res: ServerResponse) => void handle(pipeline, metrics, req, res, options);
  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, listener) : createHttpServer(listener);
  // Watches are long-lived; node's default 5-minute request timeout would cut them.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  const port = (server.address() as AddressInfo).port;
  const url = `${options.tls ? 'https' : 'http'}://${options.host ?? '127.0.0.1'}:${port}`;
  options.log?.(`ready: serving the Kubernetes API on ${url}`);

  /** The store's current revision (a one-key read is the cheapest way to learn it). */
  const headRevision = async () => (await registry.backend.range({ key: Buffer.from('/registry/'), countOnly: true })).header.revision;
  /** Compact the store's history up to `revision`, and tell the watch caches it is gone. */
  const compactTo = async (revision: number) => {
    await registry.backend.compact({ revision });
    await watchCaches.compacted(revision);
  };
  const compact = async (): Promise<number> => {
    const revision = await headRevision();
    await compactTo(revision);
    return revision;
  };
  // Each tick compacts to the revision seen at the previous tick, so history
  // always reaches back at least one interval.
  const compactor = options.compactionIntervalMs === 0 ? undefined : setInterval(async () => {
    try {
      const head = await headRevision();
      if (lastCompactable > 0) await compactTo(lastCompactable);
      lastCompactable = head;
    } catch (error) {
      options.log?.(`compaction failed: ${(error as Error).message}`);
    }
  }, options.compactionIntervalMs ?? 5 * 60_000);
  compactor?.unref();

  return {
    url,
    port,
    registry,
    authenticator,
    authorizer,
    setLogs: (fn) => handlers.setLogs(fn),
    setGarbageCollection: (on) => {
      garbageCollection = on;
    },
    compact,
    close: async () => {
      if (compactor) clearInterval(compactor);
      for (const w of rbacWatches) w.cancel();
      await watchCaches.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
// #endregion start

// #region handle
/** Run one request through the pipeline and send what it produced. */
async function handle(pipeline: ReturnType<typeof pipelineFor>, metrics: RequestMetrics, req: IncomingMessage, res: ServerResponse, options: ApiServerOptions): Promise<void> {
  const started = performance.now();
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return send(res, new ApiError(400, 'BadRequest', `expected a request path, got ${JSON.stringify(req.url)}`).status.code, new ApiError(400, 'BadRequest', 'malformed URL').status);
  }
  const ctx: RequestContext = { req, res, url, info: requestInfo(req.method ?? 'GET', url), attempts: 0, warnings: [] };
  const actor = createActor(pipeline, { input: ctx });
  const states: string[] = [];
  if (options.onTrace) actor.subscribe((snapshot) => states.push(String(snapshot.value)));
  actor.start();
  let code = 500;
  try {
    const output = await toPromise(actor);
    for (const warning of ctx.warnings) res.appendHeader('Warning', `299 - ${JSON.stringify(warning)}`);
    if (output.error) code = sendError(res, output.error);
    else if (output.reply && output.reply.status !== 0) code = sendReply(res, output.reply);
    else code = 200;
  } catch (error) {
    code = sendError(res, asApiError(error));
  }
  const ms = performance.now() - started;
  observe(metrics, ctx, code, ms);
  options.onTrace?.({ method: req.method ?? '', path: url.pathname + url.search, user: ctx.user?.name ?? '', verb: ctx.info.verb, states: dedupe(states), code, ms });
}

/** Count a finished resource request in apiserver_request_duration_seconds; watches and log streams are left out, as upstream. */
function observe(metrics: RequestMetrics, ctx: RequestContext, code: number, ms: number): void {
  const { info } = ctx;
  if (!info.isResourceRequest || info.verb === 'watch' || info.subresource === 'log') return;
  const scope = info.name ? 'resource' : info.namespace ? 'namespace' : 'cluster';
  const verb = metricVerb(info.verb, ctx.req.method ?? '', ctx.req.headers['content-type'] ?? '');
  metrics.observe({ verb, group: info.apiGroup, version: info.apiVersion, resource: info.resource, subresource: info.subresource, scope }, ms / 1000, code);
}
// #endregion handle

function dedupe(states: string[]): string[] {
  return states.filter((s, i) => s !== states[i - 1]);
}

function sendReply(res: ServerResponse, reply: Reply): number {
  if (reply.json !== undefined) {
    sendJson(res, reply.status, reply.json, reply.contentType);
  } else if (typeof reply.body === 'string') {
    res.writeHead(reply.status, { 'Content-Type': reply.contentType ?? 'text/plain; charset=utf-8' });
    res.end(reply.body);
  } else {
    send(res, reply.status, reply.body, reply.contentType);
  }
  return reply.status;
}

function sendError(res: ServerResponse, error: ApiError): number {
  if (res.headersSent) {
    // A stream already started (a watch or a log): it can only be ended.
    res.end();
    return error.code;
  }
  send(res, error.code, error.status);
  return error.code;
}

function send(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  sendJson(res, status, JSON.stringify(body), contentType);
}

function sendJson(res: ServerResponse, status: number, text: string | Buffer, contentType = 'application/json'): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

// #region bootstrap
/**
 * Write the objects every cluster starts with, unless they exist: the system
 * namespaces, the default roles and bindings, and the `kubernetes` Service
 * (the first ClusterIP of the range) through which Pods reach this server.
 */
async function bootstrap(registry: Registry, now: () => number, apiServiceIP: string): Promise<void> {
  const kubernetesService: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: apiServiceIP, clusterIPs: [apiServiceIP], ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
  };
  for (const object of [...bootstrapObjects(), kubernetesService]) {
    const info = resourceForKind(object.apiVersion, object.kind) as ResourceInfo;
    const prepared = applyDefaults(info, prepareForCreate(info, object, object.metadata.namespace ?? '', now()));
    try {
      await registry.create(info, prepared);
    } catch (error) {
      if (!(error instanceof ApiError && error.reason === 'AlreadyExists')) throw error;
    }
  }
}
// #endregion bootstrap

/** List the RBAC objects into the authorizer, then follow their changes with store watches. */
async function loadRbac(registry: Registry, authorizer: RbacAuthorizer): Promise<BackendWatch[]> {
  const rbac = RESOURCES.filter((r) => r.group === 'rbac.authorization.k8s.io');
  const watches: BackendWatch[] = [];
  for (const info of rbac) {
    const list = await registry.list(info);
    for (const object of list.items) authorizer.upsert(object);
    const prefix = Buffer.from(`${info.storagePrefix}/`);
    watches.push(
      registry.backend.watch({ key: prefix, rangeEnd: prefixEnd(prefix), startRevision: list.revision + 1, prevKv: true }, (response) => {
        for (const event of response.events) {
          if (event.type === 'PUT') authorizer.upsert(decodeObject(event.kv));
          else if (event.prevKv) authorizer.remove(decodeObject(event.prevKv));
        }
      }),
    );
  }
  return watches;
}

/**
 * Events are written with a store lease so they expire after the TTL. One
 * lease serves every Event written within a minute, as kube-apiserver's
 * lease manager reuses leases, instead of one lease per Event.
 */
function eventLeases(backend: Backend, ttlSeconds: number, now: () => number): () => Promise<number> {
  let current: { id: number; grantedAt: number } | undefined;
  let pending: Promise<number> | undefined;
  return async () => {
    if (current && now() - current.grantedAt < 60_000) return current.id;
    pending ??= backend.leaseGrant(ttlSeconds + 60).then((granted) => {
      current = { id: granted.id, grantedAt: now() };
      pending = undefined;
      return granted.id;
    });
    return pending;
  };
}

/** A lock that runs one async function at a time, in call order. */
function serialized(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>) => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

