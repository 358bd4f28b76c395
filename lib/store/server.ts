/**
 * The store, served over etcd's own v3 gRPC API: the services and messages of
 * etcd's rpc.proto, so the real `etcdctl`, the `etcd3` package and the API
 * server cannot tell it from etcd. This file only routes calls: grpc-codec.ts
 * converts messages, store.ts does the work.
 */
import * as grpc from '@grpc/grpc-js';
import { MAX_REQUEST_BYTES, StoreError } from './errors.ts';
import {
  DECODE_ERROR,
  ENCODED_BYTES,
  GrpcStatusError,
  MEMBER_ID,
  SNAPSHOT_CHUNK_BYTES,
  deleteRangeFromWire,
  deleteRangeToWire,
  eventToWire,
  fromInt64,
  headerToWire,
  invalidArgument,
  leaseGrantToWire,
  leaseKeepAliveToWire,
  leaseTimeToLiveToWire,
  loadEtcdServices,
  putFromWire,
  putToWire,
  rangeFromWire,
  rangeToWire,
  statusToWire,
  txnFromWire,
  txnToWire,
  watchCreateFromWire,
  type Decoded,
  type WireCompactionRequest,
  type WireDeleteRangeRequest,
  type WireLeaseGrantRequest,
  type WireLeaseIdRequest,
  type WirePutRequest,
  type WireRangeRequest,
  type WireTxnRequest,
  type WireWatchCreateRequest,
  type WireWatchRequest,
} from './grpc-codec.ts';
import type { Store } from './store.ts';
import type { WatchResponse } from './types.ts';

/**
 * gRPC's own limit on one incoming message, as etcd sets it: the request limit
 * plus 512 KiB of headroom, so a request a little too large still arrives and
 * gets etcd's "request is too large" rather than a transport error.
 */
export const MAX_RECEIVE_BYTES = MAX_REQUEST_BYTES + 512 * 1024;

/** etcd sends progress notifications to quiet watchers that asked for them every 10 minutes. */
export const PROGRESS_NOTIFY_INTERVAL_MS = 10 * 60 * 1000;

/** How to serve a store. */
export interface ServerOptions {
  store: Store;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** The member name MemberList reports (etcd's --name, default "default"). */
  name?: string;
  /** The client URLs MemberList reports (etcd's --advertise-client-urls); default the URL we listen on. */
  advertiseClientUrls?: string[];
  /** How often quiet watchers with progress_notify get a progress notification. */
  progressNotifyIntervalMs?: number;
  /** Where unexpected errors are reported. */
  log?: (line: string) => void;
}

/** A server that is listening. */
export interface RunningServer {
  /** The port it listens on (the one picked, when asked for 0). */
  port: number;
  /** Ends open streams and stops listening; the store stays open (its owner closes it). */
  close(): Promise<void>;
}

/** Something open on the server that must end when it closes: a Watch or LeaseKeepAlive stream. */
/**
 * What the two bidirectional streams (Watch and LeaseKeepAlive) share: they
 * end once, either normally (`close`), with an error for the client (`fail`),
 * or because the client went away (`stop`); `done` tells the server when.
 */
abstract class StreamSession {
  protected closed = false;
  private ended!: () => void;
  /** Resolves when the stream is over, whoever ended it. */
  readonly done = new Promise<void>((resolve) => (this.ended = resolve));

  constructor(protected readonly call: grpc.ServerDuplexStream<unknown, unknown>) {
    call.on('cancelled', () => this.stop());
    call.on('error', () => this.stop());
  }

  /** Ends the stream normally (the client closed its side, or the server is closing). */
  close(): void {
    if (this.closed) return;
    this.stop();
    this.call.end();
  }

  /** Ends the stream with an error status for the client. */
  protected fail(status: Partial<grpc.StatusObject>): void {
    if (this.closed) return;
    this.stop();
    this.call.emit('error', status);
  }

  /** Releases what the session holds; runs once. */
  protected stop(): void {
    if (this.closed) return;
    this.closed = true;
    this.release();
    this.ended();
  }

  /** What a session gives back when it ends (its watchers, its timers). */
  protected abstract release(): void;
}

// #region start
/** Starts serving `store` over etcd's v3 gRPC API. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { store } = options;
  const host = options.host ?? '127.0.0.1';
  const rpc = makeRpc(options.log ?? (() => {}));
  const services = loadEtcdServices();
  const server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_RECEIVE_BYTES });
  const streams = new Set<StreamSession>();
  const track = (stream: StreamSession) => {
    streams.add(stream);
    void stream.done.then(() => streams.delete(stream));
  };

  serve(server, 'KV', services.KV, kvService(store, rpc));
  serve(server, 'Watch', services.Watch, {
    Watch: (call: WatchCall) => track(new WatchSession(store, call, rpc, options.progressNotifyIntervalMs ?? PROGRESS_NOTIFY_INTERVAL_MS)),
  });
  serve(server, 'Lease', services.Lease, leaseService(store, rpc, (call) => track(new KeepAliveSession(store, call, rpc))));
  serve(server, 'Maintenance', services.Maintenance, maintenanceService(store, rpc));
  // The member's client URLs name the port, which is only known once bound.
  const member = { name: options.name ?? 'default', clientUrls: options.advertiseClientUrls ?? [] };
  serve(server, 'Cluster', services.Cluster, clusterService(store, member, rpc));
  // Auth: the store has no users or roles, so every method answers UNIMPLEMENTED, saying so.
  serve(server, 'Auth', services.Auth, {});

  const port = await bind(server, host, options.port ?? 0);
  if (member.clientUrls.length === 0) member.clientUrls = [`http://${urlHost(host)}:${port}`];
  return { port, close: () => closeServer(server, streams) };
}

/** Listens on host:port and resolves with the port actually bound. */
function bind(server: grpc.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${urlHost(host)}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
}

/** An IPv6 address must be bracketed in a URL or a host:port pair. */
function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** Ends every open stream, then lets in-flight calls finish (one second at most). */
async function closeServer(server: grpc.Server, streams: Set<StreamSession>): Promise<void> {
  for (const stream of [...streams]) stream.close();
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, 1000);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
// #endregion start

// #region serve
/**
 * Registers a service. Every method of etcd's service that we do not implement
 * answers UNIMPLEMENTED with a message naming it, rather than grpc's generic one.
 */
function serve(server: grpc.Server, name: string, definition: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation): void {
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const [method, def] of Object.entries(definition)) {
    handlers[method] = implementation[method] ?? unimplemented(`${name}.${method}`, def);
  }
  server.addService(definition, handlers);
}

function unimplemented(method: string, def: grpc.MethodDefinition<unknown, unknown>): grpc.UntypedHandleCall {
  const error = {
    code: grpc.status.UNIMPLEMENTED,
    details: `etcdserverpb.${method} is not implemented by the workbook's store: it serves KV, Watch, Lease, Maintenance.Status/Snapshot and Cluster.MemberList`,
  };
  // Why two shapes: a call whose response is a stream reports errors on the stream, the others through the callback.
  if (def.responseStream) return (call: grpc.ServerWritableStream<unknown, unknown>) => call.emit('error', error);
  return (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(error);
}

/** How a unary method is handled: the request in, the response (already in wire form) out. */
type Handler<Req> = (request: Req) => Promise<unknown>;

/** Makes grpc-js handlers out of plain async functions, for one server (whose log gets internal errors). */
interface Rpc {
  /** A unary method: undecodable requests are refused, thrown errors become gRPC statuses. */
  unary<Req extends Decoded>(handle: Handler<Req>): grpc.handleUnaryCall<Req, unknown>;
  /** A unary write: also refuses requests over etcd's 1.5 MiB limit before the store sees them. */
  write<Req extends Decoded>(handle: Handler<Req>): grpc.handleUnaryCall<Req, unknown>;
  /** The gRPC status for an error. */
  status(err: unknown): Partial<grpc.StatusObject>;
}

function makeRpc(log: (line: string) => void): Rpc {
  const status = (err: unknown) => toStatus(err, log);
  const wrap = <Req extends Decoded>(handle: Handler<Req>, limitSize: boolean): grpc.handleUnaryCall<Req, unknown> => (call, callback) => {
    const run = async () => {
      checkRequest(call.request, limitSize);
      return handle(call.request);
    };
    run().then(
      (response) => callback(null, response),
      (err: unknown) => callback(status(err)),
    );
  };
  return { unary: (handle) => wrap(handle, false), write: (handle) => wrap(handle, true), status };
}

/** Throws INVALID_ARGUMENT for a request that was not protobuf, or (when limited) one over MAX_REQUEST_BYTES. */
function checkRequest(request: Decoded, limitSize: boolean): void {
  const problem = request[DECODE_ERROR];
  if (problem !== undefined) throw invalidArgument(`malformed request: expected an etcd protobuf message, could not decode it: ${problem}`);
  if (limitSize && (request[ENCODED_BYTES] ?? 0) > MAX_REQUEST_BYTES) throw new StoreError('REQUEST_TOO_LARGE');
}

/** The gRPC status for an error: the store's own errors keep etcd's code and exact text. */
function toStatus(err: unknown, log: (line: string) => void): Partial<grpc.StatusObject> {
  if (err instanceof StoreError) return { code: err.grpcCode, details: err.message };
  if (err instanceof GrpcStatusError) return { code: err.code, details: err.message };
  // Anything else is a bug on our side: say so, and keep the details for whoever reads the log.
  log(`internal error: ${(err as Error)?.stack ?? String(err)}`);
  return { code: grpc.status.INTERNAL, details: `internal error: ${(err as Error)?.message ?? String(err)}` };
}
// #endregion serve

// #region kv
/** etcdserverpb.KV: reads, writes, transactions and compaction. */
function kvService(store: Store, rpc: Rpc): grpc.UntypedServiceImplementation {
  return {
    Range: rpc.unary(async (r: WireRangeRequest) => {
      // Why here and not in the store: etcd checks this in its gRPC layer too (v3rpc's checkRangeRequest).
      if (r.key.length === 0) throw new StoreError('EMPTY_KEY');
      return rangeToWire(await store.range(rangeFromWire(r)));
    }),
    Put: rpc.write(async (r: WirePutRequest) => putToWire(await store.put(putFromWire(r)))),
    DeleteRange: rpc.write(async (r: WireDeleteRangeRequest) => deleteRangeToWire(await store.deleteRange(deleteRangeFromWire(r)))),
    Txn: rpc.write(async (r: WireTxnRequest) => txnToWire(await store.txn(txnFromWire(r)))),
    Compact: rpc.unary(async (r: WireCompactionRequest) => {
      const response = await store.compact({ revision: fromInt64(r.revision, 'revision'), physical: r.physical });
      return { header: headerToWire(response.header) };
    }),
  };
}
// #endregion kv

// #region watch
type WatchCall = grpc.ServerDuplexStream<WireWatchRequest, unknown>;

/** One open watcher of a stream, as the stream knows it. */
interface StreamWatcher {
  handle: ReturnType<Store['watch']>;
  progressNotify: boolean;
  /** Whether any events went out since the last progress tick (etcd only notifies quiet watchers). */
  sentEvents: boolean;
}

/**
 * One client's Watch stream. A client opens many watchers on one stream and
 * names them by watch id; ids belong to the stream (the first is 0, as in
 * etcd), so the session maps them to the store's watch handles.
 */
class WatchSession extends StreamSession {
  private readonly watchers = new Map<number, StreamWatcher>();
  private nextWatchId = 0;
  /** True while the client is not keeping up (see send). */
  private blocked = false;
  private readonly progressTimer: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    call: WatchCall,
    private readonly rpc: Rpc,
    progressNotifyIntervalMs: number,
  ) {
    super(call as grpc.ServerDuplexStream<unknown, unknown>);
    call.on('data', (request: WireWatchRequest) => {
      try {
        this.onRequest(request);
      } catch (err) {
        // A request we could not handle ends this stream only, with a status saying why.
        this.fail(this.rpc.status(err));
      }
    });
    // Why end on 'end': the client closed its side, so no more requests will come; etcd then finishes the stream.
    call.on('end', () => this.close());
    this.progressTimer = setInterval(() => this.progressTick(), progressNotifyIntervalMs);
    this.progressTimer.unref();
  }

  private onRequest(request: WireWatchRequest): void {
    if (request[DECODE_ERROR] !== undefined) throw invalidArgument(`malformed watch request: could not decode it: ${request[DECODE_ERROR]}`);
    // Why no default: etcd ignores a WatchRequest that sets none of the three.
    if (request.request_union === 'create_request' && request.create_request) this.create(request.create_request);
    if (request.request_union === 'cancel_request' && request.cancel_request) this.cancelWatch(request.cancel_request.watch_id);
    if (request.request_union === 'progress_request') this.progress();
  }

  // #region watch-create
  /**
   * Opens a watcher and answers `created` with its id. The store may already
   * have history to send; the `created` response must go first, so anything
   * the store delivers before that waits in `early`.
   */
  private create(request: WireWatchCreateRequest): void {
    let parsed: ReturnType<typeof watchCreateFromWire>;
    try {
      parsed = watchCreateFromWire(request);
    } catch (err) {
      this.refuseCreate((err as Error).message);
      return;
    }
    const watchId = this.chooseWatchId(parsed.watchId);
    if (watchId === undefined) {
      this.refuseCreate('mvcc: duplicate watch ID provided on the WatchStream');
      return;
    }
    let created = false;
    const early: WatchResponse[] = [];
    const handle = this.store.watch(parsed.options, (response) => (created ? this.deliver(watchId, response) : early.push(response)));
    this.watchers.set(watchId, { handle, progressNotify: parsed.options.progressNotify ?? false, sentEvents: false });
    if (this.blocked) handle.pause();
    this.send({ header: headerToWire({ revision: this.store.revision }), watch_id: watchId, created: true });
    created = true;
    for (const response of early) this.deliver(watchId, response);
  }

  /** The id for a new watcher: the client's choice if free, else the lowest free one from a counter, as etcd picks. */
  private chooseWatchId(requested: number): number | undefined {
    // etcd's AutoWatchID is 0: asking for 0 means "choose for me".
    if (requested !== 0) return this.watchers.has(requested) ? undefined : requested;
    while (this.watchers.has(this.nextWatchId)) this.nextWatchId++;
    return this.nextWatchId++;
  }

  /** etcd answers a create it refuses with created and canceled together, on watch id -1. */
  private refuseCreate(reason: string): void {
    this.send({ header: headerToWire({ revision: this.store.revision }), watch_id: -1, created: true, canceled: true, cancel_reason: reason });
  }
  // #endregion watch-create

  // #region watch-deliver
  /** Sends what the store delivered for one watcher: events, a progress notice, or its cancellation. */
  private deliver(watchId: number, response: WatchResponse): void {
    const watcher = this.watchers.get(watchId);
    if (!watcher) return;
    if (response.canceled) this.watchers.delete(watchId);
    if (response.events.length > 0) watcher.sentEvents = true;
    const compacted = (response.compactRevision ?? 0) > 0;
    this.send({
      header: headerToWire(response.header),
      watch_id: watchId,
      canceled: response.canceled ?? false,
      compact_revision: response.compactRevision ?? 0,
      // Why drop the reason on compaction: etcd signals it by compact_revision alone, and clients match on that.
      cancel_reason: compacted ? '' : (response.cancelReason ?? ''),
      events: response.events.map(eventToWire),
    });
  }
  // #endregion watch-deliver

  /** Closes one watcher at the client's request; etcd says nothing about an id it does not know. */
  private cancelWatch(rawId: string | number): void {
    const watchId = Number(rawId);
    const watcher = this.watchers.get(watchId);
    if (!watcher) return;
    watcher.handle.cancel();
    this.watchers.delete(watchId);
    this.send({ header: headerToWire({ revision: this.store.revision }), watch_id: watchId, canceled: true });
  }

  /**
   * Answers a progress request with the current revision on watch id -1,
   * meaning "every watcher on this stream has seen everything up to here".
   * That is only true when no watcher is still catching up on history, so,
   * like etcd 3.4, the request is dropped otherwise and the client asks again.
   */
  private progress(): void {
    const allSynced = [...this.watchers.values()].every((w) => w.handle.state() === 'synced');
    if (allSynced) this.send({ header: headerToWire({ revision: this.store.revision }), watch_id: -1 });
  }

  /** The periodic progress notification for quiet, caught-up watchers that asked for it. */
  private progressTick(): void {
    for (const watcher of this.watchers.values()) {
      if (watcher.progressNotify && !watcher.sentEvents && watcher.handle.state() === 'synced') watcher.handle.requestProgress();
      watcher.sentEvents = false;
    }
  }

  private send(response: object): void {
    if (this.closed) return;
    // Why watch the return value: write() answers false once the client stops
    // reading and messages pile up in memory. The watchers then pause, and
    // catch up from the store's history when the stream drains.
    if (!this.call.write(response) && !this.blocked) {
      this.blocked = true;
      for (const watcher of this.watchers.values()) watcher.handle.pause();
      this.call.once('drain', () => {
        this.blocked = false;
        for (const watcher of this.watchers.values()) watcher.handle.resume();
      });
    }
  }

  /** Cancels every watcher of the stream. */
  protected release(): void {
    clearInterval(this.progressTimer);
    for (const watcher of this.watchers.values()) watcher.handle.cancel();
    this.watchers.clear();
  }
}
// #endregion watch

// #region lease
type KeepAliveCall = grpc.ServerDuplexStream<WireLeaseIdRequest, unknown>;

/** etcdserverpb.Lease: grant, revoke, keep alive, time to live, list. */
function leaseService(store: Store, rpc: Rpc, keepAlive: (call: KeepAliveCall) => void): grpc.UntypedServiceImplementation {
  return {
    LeaseGrant: rpc.unary(async (r: WireLeaseGrantRequest) => {
      const response = await store.leaseGrant(fromInt64(r.TTL, 'TTL'), fromInt64(r.ID, 'lease ID'));
      return leaseGrantToWire(response);
    }),
    LeaseRevoke: rpc.unary(async (r: WireLeaseIdRequest) => {
      const response = await store.leaseRevoke(fromInt64(r.ID, 'lease ID'));
      return { header: headerToWire(response.header) };
    }),
    LeaseTimeToLive: rpc.unary(async (r: WireLeaseIdRequest) => leaseTimeToLiveToWire(await store.leaseTimeToLive(fromInt64(r.ID, 'lease ID'), r.keys ?? false))),
    LeaseLeases: rpc.unary(async () => {
      const { header, leases } = await store.leaseLeases();
      return { header: headerToWire(header), leases: leases.map((id) => ({ ID: id })) };
    }),
    LeaseKeepAlive: keepAlive,
  };
}

/** One LeaseKeepAlive stream: each request renews a lease and gets one response, in order. */
class KeepAliveSession extends StreamSession {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    call: KeepAliveCall,
    private readonly rpc: Rpc,
  ) {
    super(call as grpc.ServerDuplexStream<unknown, unknown>);
    // Why a queue: renewals are async, and responses must come back in the order the requests came.
    call.on('data', (request: WireLeaseIdRequest) => (this.queue = this.queue.then(() => this.renew(request))));
    call.on('end', () => void this.queue.then(() => this.close()));
  }

  private async renew(request: WireLeaseIdRequest): Promise<void> {
    if (this.closed) return;
    try {
      checkRequest(request, false);
      const response = await this.store.leaseKeepAlive(fromInt64(request.ID, 'lease ID'));
      if (!this.closed) this.call.write(leaseKeepAliveToWire(response));
    } catch (err) {
      this.fail(this.rpc.status(err));
    }
  }

  /** A keep-alive stream holds nothing beyond its queue. */
  protected release(): void {}
}
// #endregion lease

// #region maintenance
/** etcdserverpb.Maintenance: Status, and Snapshot for backups. */
function maintenanceService(store: Store, rpc: Rpc): grpc.UntypedServiceImplementation {
  return {
    Status: rpc.unary(async () => statusToWire(await store.status())),
    Snapshot: (call: grpc.ServerWritableStream<Decoded, unknown>) => {
      sendSnapshot(store, call).catch((err: unknown) => call.emit('error', rpc.status(err)));
    },
  };
}

/**
 * Streams a backup in 32 KiB chunks, each saying how many bytes remain after
 * it; `etcdctl snapshot save` appends the chunks to a file. The whole snapshot
 * is already in memory, so the chunks are queued at once and gRPC's flow
 * control paces them.
 */
async function sendSnapshot(store: Store, call: grpc.ServerWritableStream<Decoded, unknown>): Promise<void> {
  const revision = store.revision;
  const file = await store.snapshot();
  for (let offset = 0; offset < file.length; offset += SNAPSHOT_CHUNK_BYTES) {
    const blob = file.subarray(offset, offset + SNAPSHOT_CHUNK_BYTES);
    call.write({ header: headerToWire({ revision }), remaining_bytes: file.length - offset - blob.length, blob });
  }
  call.end();
}
// #endregion maintenance

// #region cluster
/** etcdserverpb.Cluster: only MemberList, answering with our single member. */
function clusterService(store: Store, member: { name: string; clientUrls: string[] }, rpc: Rpc): grpc.UntypedServiceImplementation {
  return {
    MemberList: rpc.unary(async () => ({
      header: headerToWire({ revision: store.revision }),
      // Why no peer URLs: a single member never talks to peers, so it listens for none.
      members: [{ ID: MEMBER_ID, name: member.name, peerURLs: [], clientURLs: member.clientUrls, isLearner: false }],
    })),
  };
}
// #endregion cluster
