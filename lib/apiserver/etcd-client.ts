/**
 * The API server's store over the network: a Backend that speaks etcd's v3
 * gRPC API, to our store process or to the real etcd. This is the client side
 * of what lib/store/grpc-codec.ts does for the server: store requests go out
 * as etcd's protobuf messages, etcd's answers come back as the store's types,
 * and etcd's errors come back as the store's errors, so the API server cannot
 * tell a remote store from the in-process one.
 */
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { isStoreError, StoreError, type StoreErrorCode } from '../store/errors.ts';
import { loadEtcdServices, type EtcdServices, type Int64, type WireEvent, type WireHeader, type WireKeyValue } from '../store/grpc-codec.ts';
import type {
  CompactRequest,
  CompactResponse,
  Compare,
  CompareResult,
  CompareTarget,
  DeleteRangeRequest,
  DeleteRangeResponse,
  KeyValue,
  LeaseGrantResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseHeader,
  ResponseOp,
  SortOrder,
  SortTarget,
  TxnRequest,
  TxnResponse,
  WatchEvent,
  WatchOptions,
  WatchResponse,
} from '../store/types.ts';
import type { Backend, BackendWatch } from './backend.ts';

/** How to connect. */
export interface ConnectOptions {
  /** How long to wait for the first connection before giving up (default 5000 ms). */
  timeoutMs?: number;
  /** The deadline of each range, txn, compact and leaseGrant (default 60 s, the API server's own request timeout). */
  requestTimeoutMs?: number;
}

/** A failed call that is not one of etcd's own errors: the endpoint is down, a deadline passed, and the like. */
export class EtcdCallError extends Error {
  constructor(
    readonly endpoint: string,
    readonly method: string,
    readonly grpcCode: number,
    readonly details: string,
  ) {
    super(`${method} to etcd at ${endpoint} failed with ${grpc.status[grpcCode] ?? 'status'} (${grpcCode}): ${details}`);
    this.name = 'EtcdCallError';
  }
}

/** The reason the in-process store gives for a watch canceled by compaction; etcd sends only compact_revision. */
const COMPACTED_REASON = 'mvcc: required revision has been compacted';

// #region connect
/**
 * Connects to etcd at `endpoint` ('host:port' or 'http://host:port') and
 * resolves once the connection is up, so a wrong address fails here, within
 * `timeoutMs`, and not at the API server's first request.
 */
export async function connectEtcd(endpoint: string, options: ConnectOptions = {}): Promise<Backend> {
  const target = parseEndpoint(endpoint);
  const timeoutMs = options.timeoutMs ?? 5000;
  const client = new EtcdClient(target, options.requestTimeoutMs ?? 60_000);
  try {
    await client.waitForConnection(timeoutMs);
  } catch (err) {
    await client.close();
    throw new Error(`could not connect to etcd at ${target} within ${timeoutMs} ms: ${(err as Error).message}`);
  }
  return client;
}

/** Reads 'host:port' or 'http://host:port' into the 'host:port' grpc dials. */
export function parseEndpoint(endpoint: string): string {
  const match = /^(?:http:\/\/)?([^/:\s]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})\/?$/.exec(endpoint.trim());
  if (!match) {
    // Why a separate word for https: the form is right, but this client does not speak TLS.
    const why = endpoint.startsWith('https://') ? 'TLS is not supported, use http://' : 'expected host:port or http://host:port';
    throw new Error(`invalid etcd endpoint "${endpoint}": ${why}`);
  }
  return `${match[1]}:${match[2]}`;
}

/** etcd's services, loaded from its .proto files once per process. */
let services: EtcdServices | undefined;
// #endregion connect

type UnaryCallback = (err: grpc.ServiceError | null, response: unknown) => void;
type UnaryMethod = (request: object, metadata: grpc.Metadata, options: grpc.CallOptions, callback: UnaryCallback) => void;

/** The Backend: one gRPC channel to etcd, shared by the KV, Lease and Watch services. */
class EtcdClient implements Backend {
  private readonly channel: grpc.Channel;
  private readonly clients: Record<'KV' | 'Lease' | 'Watch', grpc.Client>;
  private watchStream: WatchStream | undefined;
  private closed = false;

  constructor(
    private readonly endpoint: string,
    private readonly requestTimeoutMs: number,
  ) {
    const loaded = (services ??= loadEtcdServices());
    // Why no receive limit: grpc's default is 4 MiB, and a list of many objects is
    // bigger than that; etcd's own client lifts the limit the same way.
    const channel = new grpc.Channel(endpoint, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 });
    const client = (service: keyof EtcdServices): grpc.Client => {
      const Client = grpc.makeGenericClientConstructor(loaded[service], service);
      return new Client(endpoint, grpc.credentials.createInsecure(), { channelOverride: channel });
    };
    this.channel = channel;
    this.clients = { KV: client('KV'), Lease: client('Lease'), Watch: client('Watch') };
  }

  /** Resolves when the channel is connected; rejects when it is not within `timeoutMs`. */
  waitForConnection(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => this.clients.KV.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(err) : resolve())));
  }

  // #region kv
  async range(request: RangeRequest): Promise<RangeResponse> {
    return rangeResponseFromWire(await this.unary<WireRangeResponse>('KV', 'Range', rangeRequestToWire(request)));
  }

  async txn(request: TxnRequest): Promise<TxnResponse> {
    return txnResponseFromWire(await this.unary<WireTxnResponse>('KV', 'Txn', txnRequestToWire(request)));
  }

  async compact(request: CompactRequest): Promise<CompactResponse> {
    const response = await this.unary<{ header: WireHeader | null }>('KV', 'Compact', { revision: request.revision, physical: request.physical });
    return { header: headerFromWire(response.header) };
  }

  /**
   * Grants a lease under an id this client picks. Why pick: etcd's own ids use
   * all 64 bits and a JavaScript number holds 53 exactly, so an id etcd picked
   * could come back rounded, naming another lease. etcd lets the client name it.
   */
  async leaseGrant(ttl: number): Promise<LeaseGrantResponse> {
    try {
      return await this.grant(ttl, randomLeaseId());
    } catch (err) {
      // Why one retry: two random 53-bit ids practically never collide, but if they do, draw again rather than fail a write.
      if (isStoreError(err, 'LEASE_EXISTS')) return this.grant(ttl, randomLeaseId());
      throw err;
    }
  }

  private async grant(ttl: number, id: number): Promise<LeaseGrantResponse> {
    const response = await this.unary<WireLeaseGrantResponse>('Lease', 'LeaseGrant', { TTL: ttl, ID: id });
    return { header: headerFromWire(response.header), id: int64(response.ID, 'lease ID'), ttl: int64(response.TTL, 'TTL') };
  }

  /** One request, one answer, with a deadline; a failure becomes a StoreError or an EtcdCallError. */
  private unary<T>(service: 'KV' | 'Lease', method: string, request: object): Promise<T> {
    const client = this.clients[service];
    if (this.closed) return Promise.reject(new Error(`${service}.${method} called on the client for etcd at ${this.endpoint} after close()`));
    const call = (client as unknown as Record<string, UnaryMethod>)[method];
    if (!call) return Promise.reject(new Error(`etcd's ${service} service has no method ${method}`));
    return new Promise((resolve, reject) => {
      call.call(client, request, new grpc.Metadata(), { deadline: Date.now() + this.requestTimeoutMs }, (err, response) => {
        if (err) reject(errorFromGrpc(err, `${service}.${method}`, this.endpoint));
        else resolve(response as T);
      });
    });
  }
  // #endregion kv

  // #region watch
  /**
   * Opens a watch on the one Watch stream this client keeps, as etcd's own
   * client does: many watches, one stream, told apart by watch id. After the
   * stream broke, the next watch opens a new one.
   */
  watch(options: WatchOptions, onResponse: (response: WatchResponse) => void): BackendWatch {
    if (this.closed) throw new Error(`watch called on the client for etcd at ${this.endpoint} after close()`);
    if (!this.watchStream) {
      const stream = new WatchStream(this.clients.Watch, this.endpoint, () => {
        // Why compare: only the stream that ended is forgotten, never a newer one.
        if (this.watchStream === stream) this.watchStream = undefined;
      });
      this.watchStream = stream;
    }
    return this.watchStream.open(options, onResponse);
  }
  // #endregion watch

  /** Ends every watch (without a response, as the in-process store does) and closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watchStream?.close();
    this.watchStream = undefined;
    this.channel.close();
  }
}

/** A random lease id that a JavaScript number holds exactly: 53 bits, never 0 (0 asks etcd to choose). */
function randomLeaseId(): number {
  const id = Number(randomBytes(8).readBigUInt64BE() >> 11n);
  return id === 0 ? 1 : id;
}

// #region errors
/** The StoreError code for each of etcd's error messages; a Record so that a new code cannot be forgotten here. */
const STORE_ERROR_CODES: Record<StoreErrorCode, true> = {
  COMPACTED: true,
  FUTURE_REV: true,
  KEY_NOT_FOUND: true,
  EMPTY_KEY: true,
  VALUE_PROVIDED: true,
  LEASE_PROVIDED: true,
  LEASE_NOT_FOUND: true,
  LEASE_EXISTS: true,
  LEASE_TTL_TOO_LARGE: true,
  TOO_MANY_OPS: true,
  DUPLICATE_KEY: true,
  REQUEST_TOO_LARGE: true,
  STOPPED: true,
};

const codeByMessage = new Map<string, StoreErrorCode>(
  (Object.keys(STORE_ERROR_CODES) as StoreErrorCode[]).map((code) => [new StoreError(code).message, code]),
);

/**
 * Turns a failed call into the error the in-process store would have thrown:
 * etcd's message text names the error exactly (clients match on it), so a
 * known message becomes a StoreError with its code.
 */
export function errorFromGrpc(err: grpc.ServiceError, method: string, endpoint: string): Error {
  const details = err.details ?? err.message;
  const code = codeByMessage.get(details);
  if (code) return new StoreError(code, `${method} to etcd at ${endpoint}`);
  // Why RESOURCE_EXHAUSTED counts as too large: a request past etcd's receive limit
  // (max-request-bytes + 512 KiB) is refused by grpc before etcd's own check sees it.
  if (err.code === grpc.status.RESOURCE_EXHAUSTED && /larger than max/i.test(details)) {
    return new StoreError('REQUEST_TOO_LARGE', `${method} to etcd at ${endpoint}: ${details}`);
  }
  return new EtcdCallError(endpoint, method, err.code, details);
}
// #endregion errors

// #region requests
const SORT_ORDERS: Record<SortOrder, string> = { NONE: 'None', ASCEND: 'Ascend', DESCEND: 'Descend' };
const SORT_TARGETS: Record<SortTarget, string> = { KEY: 'Key', VERSION: 'Version', CREATE: 'Create', MOD: 'Mod', VALUE: 'Value' };
const COMPARE_TARGETS: Record<CompareTarget, string> = { VERSION: 'Version', CREATE: 'Create', MOD: 'Mod', VALUE: 'Value', LEASE: 'Lease' };
const COMPARE_RESULTS: Record<CompareResult, string> = { EQUAL: 'Equal', GREATER: 'Greater', LESS: 'Less', NOT_EQUAL: 'NotEqual' };
const WATCH_FILTERS: Record<'NOPUT' | 'NODELETE', string> = { NOPUT: 'Noput', NODELETE: 'Nodelete' };

// Absent fields stay undefined: protobuf leaves them out, which etcd reads as their defaults.

/** RangeRequest to the wire. */
function rangeRequestToWire(r: RangeRequest): object {
  return {
    key: r.key,
    range_end: r.rangeEnd,
    limit: r.limit,
    revision: r.revision,
    sort_order: r.sortOrder && SORT_ORDERS[r.sortOrder],
    sort_target: r.sortTarget && SORT_TARGETS[r.sortTarget],
    keys_only: r.keysOnly,
    count_only: r.countOnly,
    min_mod_revision: r.minModRevision,
    max_mod_revision: r.maxModRevision,
    min_create_revision: r.minCreateRevision,
    max_create_revision: r.maxCreateRevision,
  };
}

function putRequestToWire(r: PutRequest): object {
  return { key: r.key, value: r.value, lease: r.lease, prev_kv: r.prevKv, ignore_value: r.ignoreValue, ignore_lease: r.ignoreLease };
}

function deleteRangeRequestToWire(r: DeleteRangeRequest): object {
  return { key: r.key, range_end: r.rangeEnd, prev_kv: r.prevKv };
}

/** One compare; only the field its target names is sent, because they share protobuf's oneof `target_union`. */
function compareToWire(c: Compare): object {
  const wire = { key: c.key, range_end: c.rangeEnd, target: COMPARE_TARGETS[c.target], result: COMPARE_RESULTS[c.result] };
  switch (c.target) {
    case 'VERSION':
      return { ...wire, version: c.version ?? 0 };
    case 'CREATE':
      return { ...wire, create_revision: c.createRevision ?? 0 };
    case 'MOD':
      return { ...wire, mod_revision: c.modRevision ?? 0 };
    case 'VALUE':
      return { ...wire, value: c.value ?? Buffer.alloc(0) };
    case 'LEASE':
      return { ...wire, lease: c.lease ?? 0 };
  }
}

function requestOpToWire(op: RequestOp): object {
  if ('requestRange' in op) return { request_range: rangeRequestToWire(op.requestRange) };
  if ('requestPut' in op) return { request_put: putRequestToWire(op.requestPut) };
  if ('requestDeleteRange' in op) return { request_delete_range: deleteRangeRequestToWire(op.requestDeleteRange) };
  return { request_txn: txnRequestToWire(op.requestTxn) };
}

/** TxnRequest to the wire, nested transactions included. */
function txnRequestToWire(r: TxnRequest): object {
  return { compare: r.compare.map(compareToWire), success: r.success.map(requestOpToWire), failure: r.failure.map(requestOpToWire) };
}

/** A watch's options as etcd's WatchCreateRequest (watch_id unset: etcd picks the id). */
function watchCreateToWire(o: WatchOptions): object {
  return {
    key: o.key,
    range_end: o.rangeEnd,
    start_revision: o.startRevision,
    progress_notify: o.progressNotify,
    filters: (o.filters ?? []).map((f) => WATCH_FILTERS[f]),
    prev_kv: o.prevKv,
  };
}
// #endregion requests

// #region responses
interface WireRangeResponse {
  header: WireHeader | null;
  kvs: WireKeyValue[];
  more: boolean;
  count: Int64;
}

interface WirePutResponse {
  header: WireHeader | null;
  prev_kv: WireKeyValue | null;
}

interface WireDeleteRangeResponse {
  header: WireHeader | null;
  deleted: Int64;
  prev_kvs: WireKeyValue[];
}

interface WireResponseOp {
  /** Which member of the `response` oneof is set. */
  response?: 'response_range' | 'response_put' | 'response_delete_range' | 'response_txn';
  response_range?: WireRangeResponse;
  response_put?: WirePutResponse;
  response_delete_range?: WireDeleteRangeResponse;
  response_txn?: WireTxnResponse;
}

interface WireTxnResponse {
  header: WireHeader | null;
  succeeded: boolean;
  responses: WireResponseOp[];
}

interface WireLeaseGrantResponse {
  header: WireHeader | null;
  ID: Int64;
  TTL: Int64;
}

interface WireWatchResponse {
  header: WireHeader | null;
  watch_id: Int64;
  created: boolean;
  canceled: boolean;
  compact_revision: Int64;
  cancel_reason: string;
  events: WireEvent[];
}

/**
 * Reads a 64-bit integer as a number, refusing what a number cannot hold
 * exactly: a rounded revision or lease id would silently name another one.
 */
function int64(value: Int64 | null | undefined, field: string): number {
  const n = Number(value ?? 0);
  if (!Number.isSafeInteger(n)) throw new Error(`etcd sent ${field} ${String(value)}: expected an integer within ±(2^53 − 1), which a JavaScript number holds exactly`);
  return n;
}

function headerFromWire(h: WireHeader | null): ResponseHeader {
  return { revision: int64(h?.revision, 'header revision') };
}

function kvFromWire(kv: WireKeyValue): KeyValue {
  return {
    key: kv.key,
    value: kv.value,
    createRevision: int64(kv.create_revision, 'create_revision'),
    modRevision: int64(kv.mod_revision, 'mod_revision'),
    version: int64(kv.version, 'version'),
    lease: int64(kv.lease, 'lease'),
  };
}

/** RangeResponse from the wire. */
function rangeResponseFromWire(r: WireRangeResponse): RangeResponse {
  return { header: headerFromWire(r.header), kvs: r.kvs.map(kvFromWire), more: r.more, count: int64(r.count, 'count') };
}

// Why optional fields are left out rather than set to undefined: the in-process
// store leaves them out, and callers (and deepEqual) should see the same shape.

function putResponseFromWire(r: WirePutResponse): PutResponse {
  return { header: headerFromWire(r.header), ...(r.prev_kv ? { prevKv: kvFromWire(r.prev_kv) } : {}) };
}

function deleteRangeResponseFromWire(r: WireDeleteRangeResponse): DeleteRangeResponse {
  return { header: headerFromWire(r.header), deleted: int64(r.deleted, 'deleted'), prevKvs: r.prev_kvs.map(kvFromWire) };
}

function responseOpFromWire(op: WireResponseOp): ResponseOp {
  if (op.response === 'response_range' && op.response_range) return { responseRange: rangeResponseFromWire(op.response_range) };
  if (op.response === 'response_put' && op.response_put) return { responsePut: putResponseFromWire(op.response_put) };
  if (op.response === 'response_delete_range' && op.response_delete_range) return { responseDeleteRange: deleteRangeResponseFromWire(op.response_delete_range) };
  if (op.response === 'response_txn' && op.response_txn) return { responseTxn: txnResponseFromWire(op.response_txn) };
  throw new Error(`etcd sent a txn response operation of kind ${String(op.response)}: expected response_range, response_put, response_delete_range or response_txn`);
}

/** TxnResponse from the wire, nested responses included. */
function txnResponseFromWire(r: WireTxnResponse): TxnResponse {
  return { header: headerFromWire(r.header), succeeded: r.succeeded, responses: r.responses.map(responseOpFromWire) };
}

function eventFromWire(e: WireEvent): WatchEvent {
  const type = e.type === 'Delete' ? 'DELETE' : 'PUT';
  return e.prev_kv ? { type, kv: kvFromWire(e.kv), prevKv: kvFromWire(e.prev_kv) } : { type, kv: kvFromWire(e.kv) };
}

/** A WatchResponse from the wire, shaped as the in-process store shapes it (cancel fields only when canceled). */
function watchResponseFromWire(w: WireWatchResponse, watchId: number): WatchResponse {
  const response: WatchResponse = { header: headerFromWire(w.header), watchId, events: w.events.map(eventFromWire) };
  const compactRevision = int64(w.compact_revision, 'compact_revision');
  if (compactRevision > 0) response.compactRevision = compactRevision;
  if (w.canceled) {
    response.canceled = true;
    // Why fill in a reason: etcd signals compaction by compact_revision alone; the in-process store also says why.
    response.cancelReason = w.cancel_reason || (compactRevision > 0 ? COMPACTED_REASON : 'canceled by etcd');
  }
  return response;
}
// #endregion responses

// #region watch-stream
/** One watch as its stream knows it. */
interface StreamWatch {
  onResponse: (response: WatchResponse) => void;
  /** etcd's id for it, once etcd answered `created`. */
  id?: number;
  /** Set by cancel() or by a final response: nothing more is delivered. */
  done: boolean;
}

/**
 * One bidirectional Watch stream carrying many watches. etcd answers creates
 * in the order they were sent, and a refused create comes back on watch id -1,
 * so the watches waiting for `created` are kept in that order.
 */
class WatchStream {
  private readonly call: grpc.ClientDuplexStream<object, WireWatchResponse>;
  private readonly waiting: StreamWatch[] = [];
  private readonly active = new Map<number, StreamWatch>();
  /** The latest revision the stream has seen, for the final response when it breaks. */
  private revision = 0;
  /** Why the stream ended, once grpc said so. */
  private status: string | undefined;
  private ended = false;
  /** grpc reported the call's final status: nothing more can be sent. */
  private over = false;

  constructor(
    client: grpc.Client,
    private readonly endpoint: string,
    private readonly onEnd: () => void,
  ) {
    const open = (client as unknown as { Watch: () => grpc.ClientDuplexStream<object, WireWatchResponse> }).Watch;
    this.call = open.call(client);
    this.call.on('data', (message: WireWatchResponse) => this.receive(message));
    this.call.on('error', (err: grpc.ServiceError) => (this.status ??= `${grpc.status[err.code] ?? err.code}: ${err.details}`));
    this.call.on('status', () => (this.over = true));
    // Why 'end' and not 'error' or 'status': 'end' comes after every response already received was handed out.
    this.call.on('end', () => this.end());
  }

  /** Sends a create request; responses go to `onResponse` once etcd has answered `created`. */
  open(options: WatchOptions, onResponse: (response: WatchResponse) => void): BackendWatch {
    const watch: StreamWatch = { onResponse, done: false };
    this.waiting.push(watch);
    this.send({ create_request: watchCreateToWire(options) });
    return {
      cancel: () => this.cancel(watch),
      requestProgress: () => this.send({ progress_request: {} }),
    };
  }

  /** Stops delivering to a watch and tells etcd; a watch still waiting for `created` is canceled when that comes. */
  private cancel(watch: StreamWatch): void {
    if (watch.done) return;
    watch.done = true;
    if (watch.id !== undefined && this.active.delete(watch.id)) this.send({ cancel_request: { watch_id: watch.id } });
  }

  private receive(message: WireWatchResponse): void {
    try {
      this.revision = Math.max(this.revision, headerFromWire(message.header).revision);
      const watchId = int64(message.watch_id, 'watch_id');
      if (message.created) this.created(message, watchId);
      else if (watchId === -1) this.progressForAll(message);
      else this.forward(message, watchId);
    } catch (err) {
      // Why end the stream: a response we cannot read may have been a watch's events; going on would skip them.
      this.status = `could not read a watch response: ${(err as Error).message}`;
      this.call.cancel();
    }
  }

  /** etcd's answer to the oldest create: the watch's id, or the reason it was refused. */
  private created(message: WireWatchResponse, watchId: number): void {
    const watch = this.waiting.shift();
    if (!watch) return;
    if (message.canceled) this.deliver(watch, watchResponseFromWire(message, watchId));
    else if (watch.done) this.send({ cancel_request: { watch_id: watchId } });
    else {
      watch.id = watchId;
      this.active.set(watchId, watch);
    }
  }

  /** The answer to a progress request (watch id -1) speaks for every watch on the stream, so each gets it as its own. */
  private progressForAll(message: WireWatchResponse): void {
    for (const [id, watch] of [...this.active]) this.deliver(watch, { header: headerFromWire(message.header), watchId: id, events: [] });
  }

  private forward(message: WireWatchResponse, watchId: number): void {
    const watch = this.active.get(watchId);
    // Why ignore unknown ids: responses already in flight when the caller canceled, and etcd's acknowledgement of a cancel.
    if (!watch) return;
    const response = watchResponseFromWire(message, watchId);
    if (response.canceled) {
      this.active.delete(watchId);
      // Why tell etcd: etcd 3.4 keeps a watcher canceled by compaction registered on the stream until the client cancels it.
      if (response.compactRevision !== undefined) this.send({ cancel_request: { watch_id: watchId } });
    }
    this.deliver(watch, response);
  }

  private deliver(watch: StreamWatch, response: WatchResponse): void {
    if (watch.done) return;
    if (response.canceled) watch.done = true;
    try {
      watch.onResponse(response);
    } catch {
      // Why swallow: as in the in-process store, one broken consumer must not stop the others; it is canceled instead.
      this.cancel(watch);
    }
  }

  /** The stream is over: every watch still open gets a final canceled response saying why. */
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd();
    const cancelReason = `the watch stream to etcd at ${this.endpoint} broke (${this.status ?? 'the server ended it'})`;
    const open = [...this.waiting, ...this.active.values()];
    this.waiting.length = 0;
    this.active.clear();
    for (const watch of open) this.deliver(watch, { header: { revision: this.revision }, watchId: watch.id ?? -1, events: [], canceled: true, cancelReason });
  }

  private send(request: object): void {
    // Why check `over` too: between the final status and 'end' the stream no longer takes writes.
    if (!this.ended && !this.over) this.call.write(request);
  }

  /** Ends the stream without telling the watches: the caller closed the client. */
  close(): void {
    this.ended = true;
    this.call.cancel();
  }
}
// #endregion watch-stream
