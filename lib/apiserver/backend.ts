/**
 * What the API server needs from its store: etcd's v3 API, nothing more.
 * The in-process Store of chapter 1 has exactly this shape; so does a gRPC
 * connection to a store process or to the real etcd (etcd-client.ts), which is
 * how the API server runs against `--etcd-servers` in a multi-process cluster.
 */
import type {
  CompactRequest,
  CompactResponse,
  LeaseGrantResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
  WatchOptions,
  WatchResponse,
} from '../store/types.ts';

/** A running watch on the store. */
export interface BackendWatch {
  cancel(): void;
  /** Ask the store for a progress notification: a response with no events carrying its current revision. */
  requestProgress(): void;
}

/** The etcd v3 calls the API server makes. */
export interface Backend {
  range(request: RangeRequest): Promise<RangeResponse>;
  txn(request: TxnRequest): Promise<TxnResponse>;
  compact(request: CompactRequest): Promise<CompactResponse>;
  leaseGrant(ttl: number): Promise<LeaseGrantResponse>;
  /**
   * Start a watch. Responses arrive in revision order; a response with
   * `canceled` set ends it (with `compactRevision` when the start revision
   * was compacted away).
   */
  watch(options: WatchOptions, onResponse: (response: WatchResponse) => void): BackendWatch;
  close(): Promise<void>;
}
