/**
 * The shapes of the cluster store's API: the same requests and responses as
 * etcd's v3 API (rpc.proto), in camelCase, with keys and values as bytes.
 */

/** Keys and values are bytes, as in etcd; Kubernetes happens to store text keys. */
export type Bytes = Buffer;

/** One key's current state, with the revision bookkeeping etcd keeps for every key. */
export interface KeyValue {
  key: Bytes;
  value: Bytes;
  /** Revision of the write that created this key (reset when the key is deleted and created again). */
  createRevision: number;
  /** Revision of the last write to this key. */
  modRevision: number;
  /** Number of writes since the key was created; a delete resets it to 0. */
  version: number;
  /** Id of the lease the key is attached to, 0 for none. */
  lease: number;
}

/** Every response carries the store's revision at the time it was answered. */
export interface ResponseHeader {
  revision: number;
}

export type SortOrder = 'NONE' | 'ASCEND' | 'DESCEND';
export type SortTarget = 'KEY' | 'VERSION' | 'CREATE' | 'MOD' | 'VALUE';

export interface RangeRequest {
  key: Bytes;
  /** Empty: just `key`. "\0": every key >= key. Otherwise the half-open range [key, rangeEnd). */
  rangeEnd?: Bytes;
  /** Read the store as it was at this revision; 0 or absent means now. */
  revision?: number;
  limit?: number;
  keysOnly?: boolean;
  countOnly?: boolean;
  sortOrder?: SortOrder;
  sortTarget?: SortTarget;
  minModRevision?: number;
  maxModRevision?: number;
  minCreateRevision?: number;
  maxCreateRevision?: number;
}

export interface RangeResponse {
  header: ResponseHeader;
  kvs: KeyValue[];
  more: boolean;
  count: number;
}

export interface PutRequest {
  key: Bytes;
  value: Bytes;
  lease?: number;
  prevKv?: boolean;
  ignoreValue?: boolean;
  ignoreLease?: boolean;
}

export interface PutResponse {
  header: ResponseHeader;
  prevKv?: KeyValue;
}

export interface DeleteRangeRequest {
  key: Bytes;
  rangeEnd?: Bytes;
  prevKv?: boolean;
}

export interface DeleteRangeResponse {
  header: ResponseHeader;
  deleted: number;
  prevKvs: KeyValue[];
}

export type CompareTarget = 'VERSION' | 'CREATE' | 'MOD' | 'VALUE' | 'LEASE';
export type CompareResult = 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';

export interface Compare {
  key: Bytes;
  rangeEnd?: Bytes;
  target: CompareTarget;
  result: CompareResult;
  version?: number;
  createRevision?: number;
  modRevision?: number;
  value?: Bytes;
  lease?: number;
}

export type RequestOp =
  | { requestRange: RangeRequest }
  | { requestPut: PutRequest }
  | { requestDeleteRange: DeleteRangeRequest }
  | { requestTxn: TxnRequest };

export type ResponseOp =
  | { responseRange: RangeResponse }
  | { responsePut: PutResponse }
  | { responseDeleteRange: DeleteRangeResponse }
  | { responseTxn: TxnResponse };

export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

export interface TxnResponse {
  header: ResponseHeader;
  succeeded: boolean;
  responses: ResponseOp[];
}

export interface CompactRequest {
  revision: number;
  physical?: boolean;
}

export interface CompactResponse {
  header: ResponseHeader;
}

export type EventType = 'PUT' | 'DELETE';

/** One change seen by a watch. A DELETE's kv has only key and modRevision (the deletion's revision). */
export interface WatchEvent {
  type: EventType;
  kv: KeyValue;
  prevKv?: KeyValue;
}

export interface WatchOptions {
  key: Bytes;
  rangeEnd?: Bytes;
  /** First revision to deliver; 0 or absent means "from the next write". */
  startRevision?: number;
  prevKv?: boolean;
  filters?: Array<'NOPUT' | 'NODELETE'>;
  progressNotify?: boolean;
}

/**
 * What a watcher receives: the events of one or more whole revisions, in order,
 * or a notice that it was canceled (compactRevision set when history was compacted).
 */
export interface WatchResponse {
  header: ResponseHeader;
  watchId: number;
  events: WatchEvent[];
  compactRevision?: number;
  canceled?: boolean;
  cancelReason?: string;
}

export interface LeaseGrantResponse {
  header: ResponseHeader;
  id: number;
  ttl: number;
}

export interface LeaseKeepAliveResponse {
  header: ResponseHeader;
  id: number;
  /** The TTL the lease was renewed to; 0 when the lease does not exist. */
  ttl: number;
}

export interface LeaseTimeToLiveResponse {
  header: ResponseHeader;
  id: number;
  /** Seconds left; -1 when the lease does not exist (expired or revoked). */
  ttl: number;
  grantedTtl: number;
  keys: Bytes[];
}

export interface StatusResponse {
  header: ResponseHeader;
  version: string;
  dbSize: number;
  dbSizeInUse: number;
  raftIndex: number;
  raftAppliedIndex: number;
  raftTerm: number;
  compactRevision: number;
}
