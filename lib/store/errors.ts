/**
 * The store's errors, worded exactly as etcd's gRPC API words them, so that a
 * client (etcdctl, the etcd3 package, our API server) cannot tell us apart.
 */

/** gRPC status codes used by etcd's errors (numbers from grpc's codes.proto). */
export const GrpcCode = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  FAILED_PRECONDITION: 9,
  OUT_OF_RANGE: 11,
  UNAVAILABLE: 14,
} as const;

export type StoreErrorCode =
  | 'COMPACTED'
  | 'FUTURE_REV'
  | 'KEY_NOT_FOUND'
  | 'EMPTY_KEY'
  | 'VALUE_PROVIDED'
  | 'LEASE_PROVIDED'
  | 'LEASE_NOT_FOUND'
  | 'LEASE_EXISTS'
  | 'LEASE_TTL_TOO_LARGE'
  | 'TOO_MANY_OPS'
  | 'DUPLICATE_KEY'
  | 'REQUEST_TOO_LARGE'
  | 'STOPPED';

const catalogue: Record<StoreErrorCode, { message: string; grpcCode: number }> = {
  COMPACTED: { message: 'etcdserver: mvcc: required revision has been compacted', grpcCode: GrpcCode.OUT_OF_RANGE },
  FUTURE_REV: { message: 'etcdserver: mvcc: required revision is a future revision', grpcCode: GrpcCode.OUT_OF_RANGE },
  KEY_NOT_FOUND: { message: 'etcdserver: key not found', grpcCode: GrpcCode.INVALID_ARGUMENT },
  EMPTY_KEY: { message: 'etcdserver: key is not provided', grpcCode: GrpcCode.INVALID_ARGUMENT },
  VALUE_PROVIDED: { message: 'etcdserver: value is provided', grpcCode: GrpcCode.INVALID_ARGUMENT },
  LEASE_PROVIDED: { message: 'etcdserver: lease is provided', grpcCode: GrpcCode.INVALID_ARGUMENT },
  LEASE_NOT_FOUND: { message: 'etcdserver: requested lease not found', grpcCode: GrpcCode.NOT_FOUND },
  LEASE_EXISTS: { message: 'etcdserver: lease already exists', grpcCode: GrpcCode.FAILED_PRECONDITION },
  LEASE_TTL_TOO_LARGE: { message: 'etcdserver: too large lease TTL', grpcCode: GrpcCode.OUT_OF_RANGE },
  TOO_MANY_OPS: { message: 'etcdserver: too many operations in txn request', grpcCode: GrpcCode.INVALID_ARGUMENT },
  DUPLICATE_KEY: { message: 'etcdserver: duplicate key given in txn request', grpcCode: GrpcCode.INVALID_ARGUMENT },
  REQUEST_TOO_LARGE: { message: 'etcdserver: request is too large', grpcCode: GrpcCode.INVALID_ARGUMENT },
  STOPPED: { message: 'etcdserver: server stopped', grpcCode: GrpcCode.UNAVAILABLE },
};

/** An error the store answers with; `message` is etcd's own wording, `grpcCode` its gRPC status. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  readonly grpcCode: number;

  constructor(code: StoreErrorCode, detail?: string) {
    const entry = catalogue[code];
    super(entry.message);
    this.name = 'StoreError';
    this.code = code;
    this.grpcCode = entry.grpcCode;
    // Why keep the detail apart: clients match the message text exactly, so the
    // explanation for humans must not change it.
    if (detail) this.detail = detail;
  }

  detail?: string;
}

/** True when `err` is a StoreError with the given code. */
export function isStoreError(err: unknown, code?: StoreErrorCode): err is StoreError {
  return err instanceof StoreError && (code === undefined || err.code === code);
}

/** etcd's --max-request-bytes default: 1.5 MiB, the effective limit on one object. */
export const MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;

/** etcd's limit on the operations in one transaction (--max-txn-ops). */
export const MAX_TXN_OPS = 128;

/** etcd's largest lease TTL in seconds (MaxLeaseTTL, about 9000 years). */
export const MAX_LEASE_TTL = 9_000_000_000;

/** etcd's smallest lease TTL in seconds: 1.5 election timeouts of 1 s, rounded up. */
export const MIN_LEASE_TTL = 2;
