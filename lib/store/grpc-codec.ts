/**
 * The edge between etcd's wire format and the store's types. gRPC messages
 * arrive as protobuf objects with etcd's snake_case field names and 64-bit
 * integers as decimal strings; the store speaks camelCase, Buffers and plain
 * numbers. Everything that crosses that line is converted (and checked) here,
 * so server.ts only routes calls.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { GrpcCode } from './errors.ts';
import type {
  Compare,
  CompareResult,
  CompareTarget,
  DeleteRangeRequest,
  DeleteRangeResponse,
  KeyValue,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseTimeToLiveResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseHeader,
  ResponseOp,
  SortOrder,
  SortTarget,
  StatusResponse,
  TxnRequest,
  TxnResponse,
  WatchEvent,
  WatchOptions,
} from './types.ts';

// #region identity
/** The cluster id every response reports: the one an out-of-the-box etcd reports (cdf818194e3a8c32). */
export const CLUSTER_ID = '14841639068965178418';
/** Our one member's id: again an out-of-the-box etcd's (8e9e05c52164694d). */
export const MEMBER_ID = '10276657743932975437';
/** The raft term: a fresh single-member etcd elects itself once and stays in term 2, as the store's Status says. */
export const RAFT_TERM = 2;
// #endregion identity

/** A 64-bit integer as protobuf hands it over with `longs: String`, or as we hand it back. */
export type Int64 = string | number;

/** An error to answer with a gRPC status: `code` from grpc's codes, `details` the message clients see. */
export class GrpcStatusError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = 'GrpcStatusError';
  }
}

/** A request that cannot be understood: INVALID_ARGUMENT, and the store is not touched. */
export function invalidArgument(message: string): GrpcStatusError {
  return new GrpcStatusError(GrpcCode.INVALID_ARGUMENT, message);
}

// #region load
/** Each decoded request carries the size it had on the wire, for etcd's request-size limit. */
export const ENCODED_BYTES = Symbol('encodedBytes');
/** Set instead of fields when the request's bytes were not valid protobuf. */
export const DECODE_ERROR = Symbol('decodeError');

/** What every decoded request carries besides its fields. */
export interface Decoded {
  [ENCODED_BYTES]?: number;
  [DECODE_ERROR]?: string;
}

/** The services of etcd's v3 API, as grpc-js service definitions. */
export interface EtcdServices {
  KV: grpc.ServiceDefinition;
  Watch: grpc.ServiceDefinition;
  Lease: grpc.ServiceDefinition;
  Cluster: grpc.ServiceDefinition;
  Maintenance: grpc.ServiceDefinition;
  Auth: grpc.ServiceDefinition;
}

/** Where the etcd3 package keeps etcd's own .proto files (rpc.proto imports kv.proto and auth.proto). */
export function etcdProtoFile(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('etcd3/package.json')), 'proto', 'rpc.proto');
}

/**
 * Loads etcd's rpc.proto. `keepCase` keeps etcd's field names; `longs: String`
 * because ids such as etcd's lease ids do not fit in a JavaScript number;
 * `enums: String` so code reads 'Mod' rather than 2.
 */
export function loadEtcdServices(): EtcdServices {
  const definition = protoLoader.loadSync(etcdProtoFile(), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    etcdserverpb: Record<keyof EtcdServices, grpc.ServiceClientConstructor>;
  };
  const services = {} as EtcdServices;
  for (const name of ['KV', 'Watch', 'Lease', 'Cluster', 'Maintenance', 'Auth'] as const) {
    services[name] = measureRequests(pkg.etcdserverpb[name].service);
  }
  return services;
}

/**
 * Wraps each method's decoder so the request remembers its encoded size, and
 * so bytes that are not protobuf become a request marked with DECODE_ERROR
 * (answered INVALID_ARGUMENT) instead of grpc-js's generic INTERNAL error.
 */
function measureRequests(service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const measured: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(service)) {
    const decode = method.requestDeserialize;
    measured[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): Decoded => {
        try {
          const message = decode(bytes) as Decoded;
          Object.defineProperty(message, ENCODED_BYTES, { value: bytes.length });
          return message;
        } catch (err) {
          return { [ENCODED_BYTES]: bytes.length, [DECODE_ERROR]: (err as Error).message };
        }
      },
    };
  }
  return measured;
}
// #endregion load

// #region int64
/**
 * Reads a 64-bit integer field as a number. Refuses values beyond ±(2^53 − 1):
 * past that a JavaScript number silently rounds, and a rounded lease id or
 * revision would name a different lease or revision.
 */
export function fromInt64(value: Int64 | undefined | null, field: string): number {
  const text = String(value ?? '0');
  const n = Number(text);
  if (!Number.isSafeInteger(n)) {
    throw invalidArgument(`invalid ${field} ${text}: expected an integer between ${-Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}, the range this store holds exactly`);
  }
  return n;
}
// #endregion int64

// #region enums
const SORT_ORDERS: Record<string, SortOrder> = { None: 'NONE', Ascend: 'ASCEND', Descend: 'DESCEND' };
const SORT_TARGETS: Record<string, SortTarget> = { Key: 'KEY', Version: 'VERSION', Create: 'CREATE', Mod: 'MOD', Value: 'VALUE' };
const COMPARE_TARGETS: Record<string, CompareTarget> = { Version: 'VERSION', Create: 'CREATE', Mod: 'MOD', Value: 'VALUE', Lease: 'LEASE' };
const COMPARE_RESULTS: Record<string, CompareResult> = { Equal: 'EQUAL', Greater: 'GREATER', Less: 'LESS', NotEqual: 'NOT_EQUAL' };
const WATCH_FILTERS: Record<string, 'NOPUT' | 'NODELETE'> = { Noput: 'NOPUT', Nodelete: 'NODELETE' };

/** Maps a protobuf enum name to the store's; an unknown value (protobuf hands over its number) is refused. */
function fromEnum<T>(table: Record<string, T>, value: string | number, field: string): T {
  const mapped = typeof value === 'string' ? table[value] : undefined;
  if (mapped === undefined) throw invalidArgument(`invalid ${field} ${String(value)}: expected one of ${Object.keys(table).join(', ')}`);
  return mapped;
}
// #endregion enums

// #region requests
/** etcd's RangeRequest as it arrives. */
export interface WireRangeRequest extends Decoded {
  key: Buffer;
  range_end: Buffer;
  limit: Int64;
  revision: Int64;
  sort_order: string | number;
  sort_target: string | number;
  serializable: boolean;
  keys_only: boolean;
  count_only: boolean;
  min_mod_revision: Int64;
  max_mod_revision: Int64;
  min_create_revision: Int64;
  max_create_revision: Int64;
}

export interface WirePutRequest extends Decoded {
  key: Buffer;
  value: Buffer;
  lease: Int64;
  prev_kv: boolean;
  ignore_value: boolean;
  ignore_lease: boolean;
}

export interface WireDeleteRangeRequest extends Decoded {
  key: Buffer;
  range_end: Buffer;
  prev_kv: boolean;
}

export interface WireCompare {
  result: string | number;
  target: string | number;
  key: Buffer;
  range_end: Buffer;
  version?: Int64;
  create_revision?: Int64;
  mod_revision?: Int64;
  value?: Buffer;
  lease?: Int64;
}

export interface WireRequestOp {
  /** Which member of the `request` oneof is set (proto-loader's `oneofs: true`). */
  request?: 'request_range' | 'request_put' | 'request_delete_range' | 'request_txn';
  request_range?: WireRangeRequest;
  request_put?: WirePutRequest;
  request_delete_range?: WireDeleteRangeRequest;
  request_txn?: WireTxnRequest;
}

export interface WireTxnRequest extends Decoded {
  compare: WireCompare[];
  success: WireRequestOp[];
  failure: WireRequestOp[];
}

export interface WireCompactionRequest extends Decoded {
  revision: Int64;
  physical: boolean;
}

export interface WireWatchCreateRequest {
  key: Buffer;
  range_end: Buffer;
  start_revision: Int64;
  progress_notify: boolean;
  filters: Array<string | number>;
  prev_kv: boolean;
  watch_id: Int64;
  fragment: boolean;
}

export interface WireWatchRequest extends Decoded {
  request_union?: 'create_request' | 'cancel_request' | 'progress_request';
  create_request?: WireWatchCreateRequest;
  cancel_request?: { watch_id: Int64 };
  progress_request?: Record<string, never>;
}

export interface WireLeaseGrantRequest extends Decoded {
  TTL: Int64;
  ID: Int64;
}

/** LeaseRevoke, LeaseKeepAlive and LeaseTimeToLive requests: a lease id (and for TimeToLive, `keys`). */
export interface WireLeaseIdRequest extends Decoded {
  ID: Int64;
  keys?: boolean;
}

/** A key range's optional end: protobuf's empty bytes mean "no end", which the store spells undefined. */
function optionalEnd(rangeEnd: Buffer | undefined): Buffer | undefined {
  return rangeEnd && rangeEnd.length > 0 ? rangeEnd : undefined;
}

/** RangeRequest from the wire. */
export function rangeFromWire(w: WireRangeRequest): RangeRequest {
  return {
    key: w.key,
    rangeEnd: optionalEnd(w.range_end),
    revision: fromInt64(w.revision, 'revision'),
    limit: fromInt64(w.limit, 'limit'),
    keysOnly: w.keys_only,
    countOnly: w.count_only,
    sortOrder: fromEnum(SORT_ORDERS, w.sort_order, 'sort_order'),
    sortTarget: fromEnum(SORT_TARGETS, w.sort_target, 'sort_target'),
    minModRevision: fromInt64(w.min_mod_revision, 'min_mod_revision'),
    maxModRevision: fromInt64(w.max_mod_revision, 'max_mod_revision'),
    minCreateRevision: fromInt64(w.min_create_revision, 'min_create_revision'),
    maxCreateRevision: fromInt64(w.max_create_revision, 'max_create_revision'),
  };
}

/** PutRequest from the wire. */
export function putFromWire(w: WirePutRequest): PutRequest {
  return {
    key: w.key,
    value: w.value,
    lease: fromInt64(w.lease, 'lease'),
    prevKv: w.prev_kv,
    ignoreValue: w.ignore_value,
    ignoreLease: w.ignore_lease,
  };
}

/** DeleteRangeRequest from the wire. */
export function deleteRangeFromWire(w: WireDeleteRangeRequest): DeleteRangeRequest {
  return { key: w.key, rangeEnd: optionalEnd(w.range_end), prevKv: w.prev_kv };
}

/** One compare of a transaction; only the field its target names is read, as etcd does. */
function compareFromWire(w: WireCompare): Compare {
  const target = fromEnum(COMPARE_TARGETS, w.target, 'compare target');
  const compare: Compare = { key: w.key, rangeEnd: optionalEnd(w.range_end), target, result: fromEnum(COMPARE_RESULTS, w.result, 'compare result') };
  if (target === 'VERSION') compare.version = fromInt64(w.version, 'compare version');
  if (target === 'CREATE') compare.createRevision = fromInt64(w.create_revision, 'compare create_revision');
  if (target === 'MOD') compare.modRevision = fromInt64(w.mod_revision, 'compare mod_revision');
  if (target === 'VALUE') compare.value = w.value ?? Buffer.alloc(0);
  if (target === 'LEASE') compare.lease = fromInt64(w.lease, 'compare lease');
  return compare;
}

/** One operation of a transaction branch; exactly one of its four kinds must be set. */
function requestOpFromWire(w: WireRequestOp): RequestOp {
  if (w.request === 'request_range' && w.request_range) return { requestRange: rangeFromWire(w.request_range) };
  if (w.request === 'request_put' && w.request_put) return { requestPut: putFromWire(w.request_put) };
  if (w.request === 'request_delete_range' && w.request_delete_range) return { requestDeleteRange: deleteRangeFromWire(w.request_delete_range) };
  if (w.request === 'request_txn' && w.request_txn) return { requestTxn: txnFromWire(w.request_txn) };
  throw invalidArgument('invalid txn operation: expected one of request_range, request_put, request_delete_range or request_txn to be set, got none');
}

/** TxnRequest from the wire, nested transactions included. */
export function txnFromWire(w: WireTxnRequest): TxnRequest {
  return {
    compare: w.compare.map(compareFromWire),
    success: w.success.map(requestOpFromWire),
    failure: w.failure.map(requestOpFromWire),
  };
}

/** A watch's options and the watch id the client asked for (0: let the server choose). */
export function watchCreateFromWire(w: WireWatchCreateRequest): { options: WatchOptions; watchId: number } {
  const options: WatchOptions = {
    key: w.key,
    rangeEnd: optionalEnd(w.range_end),
    startRevision: fromInt64(w.start_revision, 'start_revision'),
    prevKv: w.prev_kv,
    filters: w.filters.map((f) => fromEnum(WATCH_FILTERS, f, 'watch filter')),
    progressNotify: w.progress_notify,
  };
  return { options, watchId: fromInt64(w.watch_id, 'watch_id') };
}
// #endregion requests

// #region responses
export interface WireHeader {
  cluster_id: string;
  member_id: string;
  revision: Int64;
  raft_term: Int64;
}

export interface WireKeyValue {
  key: Buffer;
  create_revision: Int64;
  mod_revision: Int64;
  version: Int64;
  value: Buffer;
  lease: Int64;
}

export interface WireEvent {
  type: 'Put' | 'Delete';
  kv: WireKeyValue;
  prev_kv: WireKeyValue | null;
}

/** The header etcd puts on every response: who answered, at which revision, in which raft term. */
export function headerToWire(header: ResponseHeader): WireHeader {
  return { cluster_id: CLUSTER_ID, member_id: MEMBER_ID, revision: header.revision, raft_term: RAFT_TERM };
}

/** One key-value as etcd's mvccpb.KeyValue. */
export function kvToWire(kv: KeyValue): WireKeyValue {
  return {
    key: kv.key,
    create_revision: kv.createRevision,
    mod_revision: kv.modRevision,
    version: kv.version,
    value: kv.value,
    lease: kv.lease,
  };
}

/** RangeResponse to the wire. */
export function rangeToWire(r: RangeResponse) {
  return { header: headerToWire(r.header), kvs: r.kvs.map(kvToWire), more: r.more, count: r.count };
}

/** PutResponse to the wire. */
export function putToWire(r: PutResponse) {
  return { header: headerToWire(r.header), prev_kv: r.prevKv ? kvToWire(r.prevKv) : null };
}

/** DeleteRangeResponse to the wire. */
export function deleteRangeToWire(r: DeleteRangeResponse) {
  return { header: headerToWire(r.header), deleted: r.deleted, prev_kvs: r.prevKvs.map(kvToWire) };
}

function responseOpToWire(op: ResponseOp) {
  if ('responseRange' in op) return { response_range: rangeToWire(op.responseRange) };
  if ('responsePut' in op) return { response_put: putToWire(op.responsePut) };
  if ('responseDeleteRange' in op) return { response_delete_range: deleteRangeToWire(op.responseDeleteRange) };
  return { response_txn: txnToWire(op.responseTxn) };
}

/** TxnResponse to the wire, nested responses included. */
export function txnToWire(r: TxnResponse): { header: WireHeader; succeeded: boolean; responses: unknown[] } {
  return { header: headerToWire(r.header), succeeded: r.succeeded, responses: r.responses.map(responseOpToWire) };
}

/** One watch event as etcd's mvccpb.Event. */
export function eventToWire(e: WatchEvent): WireEvent {
  return { type: e.type === 'PUT' ? 'Put' : 'Delete', kv: kvToWire(e.kv), prev_kv: e.prevKv ? kvToWire(e.prevKv) : null };
}

/** LeaseGrantResponse to the wire (`error` is a field etcd never fills). */
export function leaseGrantToWire(r: LeaseGrantResponse) {
  return { header: headerToWire(r.header), ID: r.id, TTL: r.ttl, error: '' };
}

/** LeaseKeepAliveResponse to the wire. */
export function leaseKeepAliveToWire(r: LeaseKeepAliveResponse) {
  return { header: headerToWire(r.header), ID: r.id, TTL: r.ttl };
}

/** LeaseTimeToLiveResponse to the wire. */
export function leaseTimeToLiveToWire(r: LeaseTimeToLiveResponse) {
  return { header: headerToWire(r.header), ID: r.id, TTL: r.ttl, grantedTTL: r.grantedTtl, keys: r.keys };
}

/** StatusResponse to the wire: we are always the leader of our one-member cluster. */
export function statusToWire(r: StatusResponse) {
  return {
    header: headerToWire(r.header),
    version: r.version,
    dbSize: r.dbSize,
    leader: MEMBER_ID,
    raftIndex: r.raftIndex,
    raftTerm: r.raftTerm,
    raftAppliedIndex: r.raftAppliedIndex,
    errors: [],
    dbSizeInUse: r.dbSizeInUse,
    isLearner: false,
  };
}
// #endregion responses

/** etcd sends a snapshot in chunks of 32 KiB. */
export const SNAPSHOT_CHUNK_BYTES = 32 * 1024;
