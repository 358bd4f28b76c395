/**
 * The deterministic core of the cluster store: multi-version key-value state
 * as etcd keeps it. Every write that changes something gets the next revision;
 * every key remembers each of its versions, so the store can be read as it was
 * at any revision since the last compaction, and watchers can replay history.
 * No I/O and no clock here: time comes in as `now` and durability is the job
 * of the edge (store.ts), which writes each request to the log before it
 * reaches `apply`.
 */
import { MAX_LEASE_TTL, MAX_TXN_OPS, MIN_LEASE_TTL, StoreError } from './errors.ts';
import { fromKeyString, inRange, keyRange, lowerBound, toKeyString, type KeyRange, type KeyString } from './keys.ts';
import { Lessor } from './lessor.ts';
import { referenceSeams, type RevisionEntry, type StoreSeams } from './revisions.ts';
import type {
  CompactRequest,
  Compare,
  DeleteRangeRequest,
  DeleteRangeResponse,
  KeyValue,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  TxnRequest,
  TxnResponse,
  WatchEvent,
  WatchOptions,
  WatchResponse,
} from './types.ts';
import { WatchHub, type WatchHandle } from './watch-hub.ts';

/** One version of one key: its value at `kv.modRevision`, or a tombstone marking its deletion. */
export interface Version {
  kv: KeyValue;
  /** Position of this change inside its revision (a transaction makes several). */
  sub: number;
  deleted: boolean;
}

/** A write request as it is logged and applied: the store replays these after a restart. */
export type Proposal =
  | { op: 'put'; request: PutRequest }
  | { op: 'deleteRange'; request: DeleteRangeRequest }
  | { op: 'txn'; request: TxnRequest }
  | { op: 'compact'; request: CompactRequest }
  | { op: 'leaseGrant'; id: number; ttl: number }
  | { op: 'leaseRevoke'; id: number };

/** The whole state of the core, as a snapshot saves it. */
export interface CoreState {
  currentRevision: number;
  compactRevision: number;
  versions: Version[];
  leases: Array<{ id: number; ttl: number }>;
}

export interface MvccOptions {
  /** Replacements for the rules in revisions.ts (the learner's code, in a lab). */
  seams?: Partial<StoreSeams>;
}

/** What a write in progress collects: its revision and the changes made so far. */
interface WriteBatch {
  revision: number;
  events: WatchEvent[];
}

export class MvccStore {
  /** The revision of the last write; an empty store is at revision 1, as etcd is. */
  currentRevision = 1;
  /** Reads and watches older than this revision answer ErrCompacted. */
  compactRevision = 0;
  readonly seams: StoreSeams;
  readonly lessor = new Lessor();
  readonly hub: WatchHub;

  /** Every key that has a version, in byte order, except the ones in `newKeys`. */
  private keys: KeyString[] = [];
  /**
   * Keys created since `keys` was last read in order. Why not insert each in
   * place: that moves half of a large array on every create, and only range
   * reads need the order, so they merge these in first (orderedKeys).
   */
  private newKeys: KeyString[] = [];
  /** Each key's versions, oldest first. */
  private readonly history = new Map<KeyString, Version[]>();
  /** Every revision's changes, oldest first: what watchers replay. */
  private readonly log: RevisionEntry[] = [];
  /** Approximate bytes held in keys and values, for Status. */
  private bytes = 0;

  constructor(options: MvccOptions = {}) {
    this.seams = { ...referenceSeams, ...options.seams };
    const core = this;
    this.hub = new WatchHub({
      get currentRevision() {
        return core.currentRevision;
      },
      get compactRevision() {
        return core.compactRevision;
      },
      logFrom: (from) => core.logFrom(from),
      seams: this.seams,
    });
  }

  /** Approximate size in bytes of everything kept, history included. */
  get size(): number {
    return this.bytes;
  }

  /** Number of keys that exist now. */
  get keyCount(): number {
    let n = 0;
    for (const key of this.orderedKeys()) if (this.liveAt(key, this.currentRevision)) n++;
    return n;
  }

  // #region range
  /** Reads the keys in a range, now or at a past revision. */
  range(request: RangeRequest, atRevision?: number): RangeResponse {
    const revision = atRevision ?? this.seams.checkRevision(request.revision ?? 0, this.currentRevision, this.compactRevision);
    const selected: KeyValue[] = [];
    for (const key of this.keysIn(keyRange(request.key, request.rangeEnd))) {
      const kv = this.liveAt(key, revision);
      if (kv && passesFilters(kv, request)) selected.push(kv);
    }
    sortKvs(selected, request);
    const count = selected.length;
    const limited = request.limit && request.limit > 0 ? selected.slice(0, request.limit) : selected;
    const kvs = request.countOnly ? [] : request.keysOnly ? limited.map((kv) => ({ ...kv, value: Buffer.alloc(0) })) : limited;
    return { header: { revision: this.currentRevision }, kvs, more: limited.length < count, count };
  }
  // #endregion range

  /** Checks a write request for mistakes that do not depend on the state (before it is logged). */
  validate(proposal: Proposal): void {
    if (proposal.op === 'put') validatePut(proposal.request);
    if (proposal.op === 'deleteRange' && proposal.request.key.length === 0) throw new StoreError('EMPTY_KEY');
    if (proposal.op === 'txn') validateTxn(proposal.request);
    if (proposal.op === 'leaseGrant' && proposal.ttl > MAX_LEASE_TTL) throw new StoreError('LEASE_TTL_TOO_LARGE');
  }

  // #region apply
  /**
   * Applies one logged write. Deterministic: the same proposals in the same
   * order always give the same state, which is what makes replaying the log
   * after a crash rebuild exactly what was acknowledged.
   */
  apply(proposal: Proposal, now: number): unknown {
    switch (proposal.op) {
      case 'put':
        return this.write((batch) => this.putIn(batch, proposal.request));
      case 'deleteRange':
        return this.write((batch) => this.deleteIn(batch, proposal.request));
      case 'txn':
        return this.write((batch) => this.txnIn(batch, proposal.request));
      case 'compact':
        return this.compact(proposal.request.revision);
      case 'leaseGrant':
        this.lessor.grant(proposal.id, Math.max(proposal.ttl, MIN_LEASE_TTL), now);
        return { header: { revision: this.currentRevision }, id: proposal.id, ttl: Math.max(proposal.ttl, MIN_LEASE_TTL) };
      case 'leaseRevoke':
        return this.revokeLease(proposal.id);
    }
  }

  /**
   * Runs one write at the next revision. The revision is only taken if the
   * write changed something; its changes then go to the log and to watchers.
   */
  private write<T extends { header: { revision: number } }>(body: (batch: WriteBatch) => T): T {
    const batch: WriteBatch = { revision: this.currentRevision + 1, events: [] };
    const response = body(batch);
    if (batch.events.length > 0) {
      this.currentRevision = batch.revision;
      const entry = { revision: batch.revision, events: batch.events };
      this.log.push(entry);
      this.hub.notify(entry);
    }
    setHeaders(response, this.currentRevision);
    return response;
  }
  // #endregion apply

  // #region put
  private putIn(batch: WriteBatch, request: PutRequest): PutResponse {
    const key = toKeyString(request.key);
    const prev = this.liveAt(key, batch.revision);
    if ((request.ignoreValue || request.ignoreLease) && !prev) throw new StoreError('KEY_NOT_FOUND');
    const value = request.ignoreValue && prev ? prev.value : request.value;
    const lease = request.ignoreLease && prev ? prev.lease : (request.lease ?? 0);
    if (lease !== 0 && !this.lessor.has(lease)) throw new StoreError('LEASE_NOT_FOUND', `lease ${lease} does not exist`);
    const kv = this.seams.nextKeyValue(prev, request.key, value, lease, batch.revision);
    this.record(batch, key, kv, false);
    if (prev && prev.lease !== 0 && prev.lease !== lease) this.lessor.detach(prev.lease, key);
    if (lease !== 0) this.lessor.attach(lease, key);
    batch.events.push(prev ? { type: 'PUT', kv, prevKv: prev } : { type: 'PUT', kv });
    return { header: { revision: batch.revision }, ...(request.prevKv && prev ? { prevKv: prev } : {}) };
  }
  // #endregion put

  // #region delete
  private deleteIn(batch: WriteBatch, request: DeleteRangeRequest): DeleteRangeResponse {
    const prevKvs: KeyValue[] = [];
    for (const key of this.keysIn(keyRange(request.key, request.rangeEnd))) {
      const prev = this.liveAt(key, batch.revision);
      if (!prev) continue;
      const tombstone: KeyValue = { key: prev.key, value: Buffer.alloc(0), createRevision: 0, modRevision: batch.revision, version: 0, lease: 0 };
      this.record(batch, key, tombstone, true);
      if (prev.lease !== 0) this.lessor.detach(prev.lease, key);
      batch.events.push({ type: 'DELETE', kv: tombstone, prevKv: prev });
      prevKvs.push(prev);
    }
    return { header: { revision: batch.revision }, deleted: prevKvs.length, prevKvs: request.prevKv ? prevKvs : [] };
  }
  // #endregion delete

  // #region txn
  private txnIn(batch: WriteBatch, request: TxnRequest): TxnResponse {
    const succeeded = request.compare.every((c) => this.compareHolds(c, batch.revision));
    const ops = succeeded ? request.success : request.failure;
    // Why check first: a transaction is all or nothing, so an op that would
    // fail must fail before any op has changed the state.
    this.checkOps(ops, batch.revision);
    const responses = ops.map((op) => this.opIn(batch, op));
    return { header: { revision: batch.revision }, succeeded, responses };
  }

  private opIn(batch: WriteBatch, op: RequestOp): ResponseOp {
    if ('requestRange' in op) {
      // A read inside a transaction sees the transaction's own earlier writes.
      const revision = op.requestRange.revision ? this.seams.checkRevision(op.requestRange.revision, this.currentRevision, this.compactRevision) : batch.revision;
      return { responseRange: this.range(op.requestRange, revision) };
    }
    if ('requestPut' in op) return { responsePut: this.putIn(batch, op.requestPut) };
    if ('requestDeleteRange' in op) return { responseDeleteRange: this.deleteIn(batch, op.requestDeleteRange) };
    return { responseTxn: this.txnIn(batch, op.requestTxn) };
  }

  /** Throws the error the first failing op of a branch would throw, before anything is written. */
  private checkOps(ops: RequestOp[], revision: number): void {
    for (const op of ops) {
      if ('requestPut' in op) {
        const { lease, ignoreValue, ignoreLease, key } = op.requestPut;
        if ((ignoreValue || ignoreLease) && !this.liveAt(toKeyString(key), revision)) throw new StoreError('KEY_NOT_FOUND');
        if (lease && !this.lessor.has(lease)) throw new StoreError('LEASE_NOT_FOUND', `lease ${lease} does not exist`);
      } else if ('requestRange' in op && op.requestRange.revision) {
        this.seams.checkRevision(op.requestRange.revision, this.currentRevision, this.compactRevision);
      } else if ('requestTxn' in op) {
        const inner = op.requestTxn;
        this.checkOps(inner.compare.every((c) => this.compareHolds(c, revision)) ? inner.success : inner.failure, revision);
      }
    }
  }

  /** Does one compare of a transaction hold? A compare over a range holds when it holds for every key. */
  private compareHolds(compare: Compare, revision: number): boolean {
    const range = keyRange(compare.key, compare.rangeEnd);
    const kvs = [...this.keysIn(range)].map((k) => this.liveAt(k, revision)).filter((kv): kv is KeyValue => kv !== undefined);
    if (range.end === undefined && kvs.length === 0) {
      // A missing key has version, create and mod revision 0 and no lease; it has no value to compare.
      if (compare.target === 'VALUE') return false;
      return compareNumbers(0, targetOf(compare), compare.result);
    }
    return kvs.every((kv) => compareKv(kv, compare));
  }
  // #endregion txn

  // #region compact
  /**
   * Forgets history up to `revision`: each key keeps its newest version at or
   * before it (unless that is a deletion) and everything after. Reads and
   * watches from before `revision` now answer ErrCompacted.
   */
  private compact(revision: number): { header: { revision: number } } {
    if (revision <= this.compactRevision) throw new StoreError('COMPACTED', `already compacted at ${this.compactRevision}`);
    if (revision > this.currentRevision) throw new StoreError('FUTURE_REV', `revision ${revision} is newer than ${this.currentRevision}`);
    this.compactRevision = revision;
    const remaining: KeyString[] = [];
    for (const key of this.orderedKeys()) {
      const versions = this.history.get(key) as Version[];
      const kept = compactVersions(versions, revision);
      for (const dropped of versions.slice(0, versions.length - kept.length)) this.bytes -= sizeOf(dropped.kv);
      if (kept.length === 0) {
        this.history.delete(key);
      } else {
        this.history.set(key, kept);
        remaining.push(key);
      }
    }
    // Why a new array rather than splicing out each dropped key: splicing is a pass over the array per key.
    this.keys = remaining;
    const firstKept = this.logIndex(revision);
    this.log.splice(0, firstKept);
    this.hub.syncStep(0);
    return { header: { revision: this.currentRevision } };
  }
  // #endregion compact

  /** Revokes a lease and deletes its keys in one revision. */
  private revokeLease(id: number): { header: { revision: number } } {
    const keys = this.lessor.revoke(id);
    return this.write((batch) => {
      for (const key of keys) this.deleteIn(batch, { key: fromKeyString(key) });
      return { header: { revision: batch.revision } };
    });
  }

  /** Opens a watch; see WatchHub. */
  watch(options: WatchOptions, onResponse: (response: WatchResponse) => void): WatchHandle {
    return this.hub.open(options, onResponse);
  }

  /** The log entries from the first one at or after revision `from`. */
  logFrom(from: number): readonly RevisionEntry[] {
    return this.log.slice(this.logIndex(from));
  }

  /** A key's live value at a revision, or undefined if it did not exist then. */
  liveAt(key: KeyString, revision: number): KeyValue | undefined {
    const versions = this.history.get(key);
    if (!versions) return undefined;
    for (let i = versions.length - 1; i >= 0; i--) {
      const version = versions[i] as Version;
      if (version.kv.modRevision <= revision) return version.deleted ? undefined : version.kv;
    }
    return undefined;
  }

  /** Everything the core holds, for a snapshot. */
  exportState(): CoreState {
    const versions: Version[] = [];
    for (const key of this.orderedKeys()) versions.push(...(this.history.get(key) as Version[]));
    return { currentRevision: this.currentRevision, compactRevision: this.compactRevision, versions, leases: this.lessor.records() };
  }

  /** Loads a snapshot's state into an empty core; leases restart their full TTL from `now`, as etcd's do. */
  importState(state: CoreState, now: number): void {
    this.currentRevision = state.currentRevision;
    this.compactRevision = state.compactRevision;
    const byRevision = new Map<number, Array<{ sub: number; event: WatchEvent }>>();
    const lastByKey = new Map<KeyString, KeyValue>();
    for (const lease of state.leases) this.lessor.grant(lease.id, lease.ttl, now);
    for (const version of state.versions) {
      const key = toKeyString(version.kv.key);
      let versions = this.history.get(key);
      if (!versions) {
        versions = [];
        this.history.set(key, versions);
        this.keys.push(key);
      }
      versions.push(version);
      this.bytes += sizeOf(version.kv);
      const prev = lastByKey.get(key);
      const event: WatchEvent = version.deleted ? { type: 'DELETE', kv: version.kv } : { type: 'PUT', kv: version.kv };
      if (prev) event.prevKv = prev;
      if (version.deleted) lastByKey.delete(key);
      else lastByKey.set(key, version.kv);
      if (version.kv.modRevision >= this.compactRevision) {
        const list = byRevision.get(version.kv.modRevision) ?? [];
        list.push({ sub: version.sub, event });
        byRevision.set(version.kv.modRevision, list);
      }
    }
    this.keys.sort();
    for (const [key, kv] of lastByKey) if (kv.lease !== 0) this.lessor.attach(kv.lease, key);
    for (const revision of [...byRevision.keys()].sort((a, b) => a - b)) {
      const events = (byRevision.get(revision) ?? []).sort((a, b) => a.sub - b.sub).map((e) => e.event);
      this.log.push({ revision, events });
    }
  }

  /** Stops the lease and watcher machines. */
  close(): void {
    this.hub.closeAll();
    this.lessor.stop();
  }

  /** Adds a version of `key` written by the current batch. */
  private record(batch: WriteBatch, key: KeyString, kv: KeyValue, deleted: boolean): void {
    let versions = this.history.get(key);
    if (!versions) {
      versions = [];
      this.history.set(key, versions);
      this.newKeys.push(key);
    }
    versions.push({ kv, sub: batch.events.length, deleted });
    this.bytes += sizeOf(kv);
  }

  /** The keys with any history inside a range, in byte order. */
  private *keysIn(range: KeyRange): Generator<KeyString> {
    if (range.end === undefined) {
      if (this.history.has(range.start)) yield range.start;
      return;
    }
    const keys = this.orderedKeys();
    for (let i = lowerBound(keys, range.start); i < keys.length; i++) {
      const key = keys[i] as KeyString;
      if (!inRange(key, range)) return;
      yield key;
    }
  }

  /** Every key with a version, in byte order: `keys` with the keys created since merged in. */
  private orderedKeys(): KeyString[] {
    if (this.newKeys.length === 0) return this.keys;
    this.keys = mergeSorted(this.keys, this.newKeys.sort());
    this.newKeys = [];
    return this.keys;
  }

  /** Index in the log of the first entry with revision >= `revision` (binary search). */
  private logIndex(revision: number): number {
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.log[mid] as RevisionEntry).revision < revision) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** One sorted array of the keys of two sorted arrays. */
function mergeSorted(a: readonly KeyString[], b: readonly KeyString[]): KeyString[] {
  const out: KeyString[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = (a[i] as KeyString) <= (b[j] as KeyString) ? (a[i++] as KeyString) : (b[j++] as KeyString);
  while (i < a.length) out[k++] = a[i++] as KeyString;
  while (j < b.length) out[k++] = b[j++] as KeyString;
  return out;
}

/** The versions of one key that survive a compaction at `revision`. */
export function compactVersions(versions: Version[], revision: number): Version[] {
  let newestOld = -1;
  for (let i = 0; i < versions.length; i++) if ((versions[i] as Version).kv.modRevision <= revision) newestOld = i;
  if (newestOld < 0) return versions;
  const keepOld = !(versions[newestOld] as Version).deleted;
  return versions.slice(keepOld ? newestOld : newestOld + 1);
}

function validatePut(request: PutRequest): void {
  if (request.key.length === 0) throw new StoreError('EMPTY_KEY');
  if (request.ignoreValue && request.value.length !== 0) throw new StoreError('VALUE_PROVIDED');
  if (request.ignoreLease && (request.lease ?? 0) !== 0) throw new StoreError('LEASE_PROVIDED');
}

/** Checks a transaction's size and that no branch writes one key twice (etcd refuses both). */
function validateTxn(request: TxnRequest): void {
  const count = (ops: RequestOp[]): number => ops.reduce((n, op) => n + 1 + ('requestTxn' in op ? count(op.requestTxn.success) + count(op.requestTxn.failure) : 0), 0);
  if (request.compare.length + Math.max(count(request.success), count(request.failure)) > MAX_TXN_OPS) throw new StoreError('TOO_MANY_OPS');
  for (const branch of [request.success, request.failure]) {
    const puts = new Set<KeyString>();
    const deletes: KeyRange[] = [];
    for (const op of branch) {
      if ('requestPut' in op) {
        validatePut(op.requestPut);
        const key = toKeyString(op.requestPut.key);
        if (puts.has(key)) throw new StoreError('DUPLICATE_KEY', `the key ${JSON.stringify(key)} is written twice`);
        puts.add(key);
      } else if ('requestDeleteRange' in op) {
        deletes.push(keyRange(op.requestDeleteRange.key, op.requestDeleteRange.rangeEnd));
      } else if ('requestTxn' in op) {
        validateTxn(op.requestTxn);
      }
    }
    for (const key of puts) if (deletes.some((range) => inRange(key, range))) throw new StoreError('DUPLICATE_KEY', `the key ${JSON.stringify(key)} is both written and deleted`);
  }
}

/** Stamps a response, and every response nested in a transaction's, with the revision after the write (as etcd does). */
function setHeaders(response: { header: { revision: number }; responses?: ResponseOp[] }, revision: number): void {
  response.header.revision = revision;
  for (const op of response.responses ?? []) {
    const inner = 'responseRange' in op ? op.responseRange : 'responsePut' in op ? op.responsePut : 'responseDeleteRange' in op ? op.responseDeleteRange : op.responseTxn;
    setHeaders(inner, revision);
  }
}

function passesFilters(kv: KeyValue, r: RangeRequest): boolean {
  if (r.minModRevision && kv.modRevision < r.minModRevision) return false;
  if (r.maxModRevision && kv.modRevision > r.maxModRevision) return false;
  if (r.minCreateRevision && kv.createRevision < r.minCreateRevision) return false;
  if (r.maxCreateRevision && kv.createRevision > r.maxCreateRevision) return false;
  return true;
}

function sortKvs(kvs: KeyValue[], r: RangeRequest): void {
  const order = r.sortOrder ?? 'NONE';
  if (order === 'NONE') return; // already in key order
  const target = r.sortTarget ?? 'KEY';
  const field = (kv: KeyValue): number | string =>
    target === 'VERSION' ? kv.version : target === 'CREATE' ? kv.createRevision : target === 'MOD' ? kv.modRevision : target === 'VALUE' ? kv.value.toString('latin1') : kv.key.toString('latin1');
  kvs.sort((a, b) => {
    const x = field(a);
    const y = field(b);
    const c = x < y ? -1 : x > y ? 1 : 0;
    return order === 'DESCEND' ? -c : c;
  });
}

function targetOf(c: Compare): number {
  switch (c.target) {
    case 'VERSION':
      return c.version ?? 0;
    case 'CREATE':
      return c.createRevision ?? 0;
    case 'MOD':
      return c.modRevision ?? 0;
    case 'LEASE':
      return c.lease ?? 0;
    default:
      return 0;
  }
}

function compareKv(kv: KeyValue, c: Compare): boolean {
  if (c.target === 'VALUE') {
    const order = Buffer.compare(kv.value, c.value ?? Buffer.alloc(0));
    return resultHolds(order, c.result);
  }
  const actual = c.target === 'VERSION' ? kv.version : c.target === 'CREATE' ? kv.createRevision : c.target === 'MOD' ? kv.modRevision : kv.lease;
  return compareNumbers(actual, targetOf(c), c.result);
}

function compareNumbers(actual: number, expected: number, result: Compare['result']): boolean {
  return resultHolds(actual < expected ? -1 : actual > expected ? 1 : 0, result);
}

function resultHolds(order: number, result: Compare['result']): boolean {
  switch (result) {
    case 'EQUAL':
      return order === 0;
    case 'NOT_EQUAL':
      return order !== 0;
    case 'GREATER':
      return order > 0;
    case 'LESS':
      return order < 0;
  }
}

function sizeOf(kv: KeyValue): number {
  return kv.key.length + kv.value.length + 32;
}
