/**
 * The cluster store as a service: the deterministic MVCC core (mvcc.ts) with
 * its I/O around it. A write is validated, appended to the write-ahead log and
 * synced, then applied and acknowledged, in log order; reads are answered from
 * memory. Time comes from an injected clock: a timer ticks the leases and
 * writes a revoke for each one that expires, as etcd's leader does. Without a
 * data dir the store lives in memory only (the embedded default).
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { decode, encode } from './codec.ts';
import { MAX_REQUEST_BYTES, StoreError } from './errors.ts';
import { MvccStore, type Proposal } from './mvcc.ts';
import type { StoreSeams } from './revisions.ts';
import { decodeSnapshot, encodeSnapshot, readSnapshot, writeFileAtomic, writeFileAtomicAsync } from './snapshot.ts';
import type {
  CompactRequest,
  CompactResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseTimeToLiveResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  ResponseHeader,
  StatusResponse,
  TxnRequest,
  TxnResponse,
  WatchOptions,
  WatchResponse,
} from './types.ts';
import { Wal, readLog } from './wal.ts';
import type { WatchHandle } from './watch-hub.ts';

/** The version this store reports in Status (the etcd API it speaks, and who we are). */
export const STORE_VERSION = '3.4.0-workbook';

export interface StoreOptions {
  /** Where the log and snapshots live; absent means in memory only. */
  dataDir?: string;
  /** The clock, in milliseconds; tests inject their own. */
  now?: () => number;
  /** Sync the log before acknowledging (default true). Off only for throwaway stores. */
  fsync?: boolean;
  /** Write a snapshot and trim the log after this many writes (default 10,000). */
  snapshotEvery?: number;
  /** How often to look for expired leases, in ms (default 500, as etcd); 0 disables the timer. */
  leaseCheckMs?: number;
  /** Replacement rules for the core (a learner's code). */
  seams?: Partial<StoreSeams>;
  /** Where to say what happened during recovery. */
  log?: (line: string) => void;
}

/** The layout of a data dir, modelled on etcd's `member/snap` and `member/wal`. */
export function dataPaths(dataDir: string): { member: string; snapDir: string; snapFile: string; walDir: string; lockFile: string } {
  const member = join(dataDir, 'member');
  return { member, snapDir: join(member, 'snap'), snapFile: join(member, 'snap', 'db'), walDir: join(member, 'wal'), lockFile: join(member, 'LOCK') };
}

/** Opens a store: in memory, or from a data dir, recovering what was there. */
export async function openStore(options: StoreOptions = {}): Promise<Store> {
  const store = new Store(options);
  await store.start();
  return store;
}

export class Store {
  readonly core: MvccStore;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private wal: Wal | undefined;
  /** Index of the last record appended to the log, and of the last one applied. */
  private lastIndex = 0;
  private appliedIndex = 0;
  private snapshotIndex = 0;
  private readonly waiting = new Map<number, { proposal: Proposal; done: (result: unknown, error?: unknown) => void }>();
  private nextLeaseId = 0;
  private leaseTimer: NodeJS.Timeout | undefined;
  private syncScheduled = false;
  private snapshotting = false;
  private closed = false;

  constructor(private readonly options: StoreOptions) {
    this.core = new MvccStore({ seams: options.seams });
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => {});
  }

  /** The revision of the last write. */
  get revision(): number {
    return this.core.currentRevision;
  }

  /** Log statistics: fsyncs and records (group commit makes records > syncs under load). */
  get walStats(): { syncs: number; records: number } {
    return this.wal ? { ...this.wal.stats } : { syncs: 0, records: 0 };
  }

  // #region recover
  /** Recovers from the data dir (snapshot, then the log after it) and starts the timers. */
  async start(): Promise<void> {
    const dir = this.options.dataDir;
    if (dir) {
      const paths = dataPaths(dir);
      mkdirSync(paths.snapDir, { recursive: true });
      mkdirSync(paths.walDir, { recursive: true });
      takeLock(paths.lockFile);
      if (existsSync(paths.snapFile)) {
        const snapshot = readSnapshot(paths.snapFile);
        this.core.importState(snapshot.state, this.now());
        this.snapshotIndex = this.appliedIndex = this.lastIndex = snapshot.index;
      }
      const records = readLog(paths.walDir, this.log);
      for (const record of records) {
        if (record.index <= this.snapshotIndex) continue;
        if (record.index !== this.appliedIndex + 1) {
          throw new Error(`wal: expected record ${this.appliedIndex + 1} after the snapshot, found ${record.index}: the log has a gap; refusing to start`);
        }
        // Errors replay too: a write that failed the first time fails again, changing nothing.
        this.applySafely(decode<Proposal>(record.payload));
        this.appliedIndex = this.lastIndex = record.index;
      }
      this.log(`recovered revision ${this.core.currentRevision} from ${dir} (snapshot at index ${this.snapshotIndex}, ${records.length} log records)`);
      this.wal = await Wal.open(paths.walDir, this.lastIndex + 1, this.options.fsync ?? true);
    }
    const maxLease = Math.max(0, ...this.core.lessor.ids());
    this.nextLeaseId = Math.max(this.now() * 1000, maxLease + 1);
    const every = this.options.leaseCheckMs ?? 500;
    if (every > 0) {
      this.leaseTimer = setInterval(() => this.expireLeases(), every);
      this.leaseTimer.unref();
    }
  }
  // #endregion recover

  // #region propose
  /**
   * Sends a write through the log: validate, assign the next index, append
   * and sync, then apply every record up to it in index order. Resolves with
   * the write's response, or rejects with its error.
   */
  private async propose<T>(proposal: Proposal, requestBytes = 0): Promise<T> {
    if (this.closed) throw new StoreError('STOPPED');
    if (requestBytes > MAX_REQUEST_BYTES) throw new StoreError('REQUEST_TOO_LARGE', `${requestBytes} bytes is over the ${MAX_REQUEST_BYTES}-byte limit`);
    this.core.validate(proposal);
    if (!this.wal) return this.applyNow<T>(proposal);
    const index = ++this.lastIndex;
    const result = new Promise<T>((resolve, reject) => {
      this.waiting.set(index, { proposal, done: (value, error) => (error === undefined ? resolve(value as T) : reject(error)) });
    });
    await this.wal.append({ index, payload: encode(proposal) });
    this.applyUpTo(index);
    return result;
  }

  /** Applies, in order, every logged record up to `index` that is not applied yet. */
  private applyUpTo(index: number): void {
    while (this.appliedIndex < index) {
      const next = this.appliedIndex + 1;
      const entry = this.waiting.get(next);
      if (!entry) return;
      this.waiting.delete(next);
      this.appliedIndex = next;
      const { result, error } = this.applySafely(entry.proposal);
      entry.done(result, error);
    }
    this.afterWrite();
  }
  // #endregion propose

  private applyNow<T>(proposal: Proposal): T {
    const { result, error } = this.applySafely(proposal);
    this.afterWrite();
    if (error !== undefined) throw error;
    return result as T;
  }

  private applySafely(proposal: Proposal): { result?: unknown; error?: unknown } {
    try {
      return { result: this.core.apply(proposal, this.now()) };
    } catch (error) {
      return { error };
    }
  }

  /** After a write: keep unsynced watchers moving, and snapshot when the log grows long. */
  private afterWrite(): void {
    this.scheduleWatchSync();
    const every = this.options.snapshotEvery ?? 10_000;
    if (this.wal && !this.snapshotting && this.appliedIndex - this.snapshotIndex >= every) void this.snapshotToDisk();
  }

  /** Reads keys (served from memory, no log write). */
  async range(request: RangeRequest): Promise<RangeResponse> {
    return this.core.range(request);
  }

  /** Writes one key. */
  put(request: PutRequest): Promise<PutResponse> {
    return this.propose({ op: 'put', request }, request.key.length + request.value.length);
  }

  /** Deletes one key or a range. */
  deleteRange(request: DeleteRangeRequest): Promise<DeleteRangeResponse> {
    return this.propose({ op: 'deleteRange', request });
  }

  /** Runs a transaction; one with only reads skips the log. */
  txn(request: TxnRequest): Promise<TxnResponse> {
    if (isReadOnly(request)) return Promise.resolve(this.applyNow<TxnResponse>({ op: 'txn', request }));
    return this.propose({ op: 'txn', request }, txnBytes(request));
  }

  /** Compacts history up to a revision. */
  compact(request: CompactRequest): Promise<CompactResponse> {
    return this.propose({ op: 'compact', request });
  }

  /** Opens a watch; catch-up from a past revision runs in the background. */
  watch(options: WatchOptions, onResponse: (response: WatchResponse) => void): WatchHandle {
    const handle = this.core.watch(options, onResponse);
    this.scheduleWatchSync();
    return {
      ...handle,
      resume: () => {
        handle.resume();
        this.scheduleWatchSync();
      },
    };
  }

  /** Grants a lease (id 0: the store picks one). */
  leaseGrant(ttl: number, id = 0): Promise<LeaseGrantResponse> {
    if (id === 0) {
      while (this.core.lessor.has(this.nextLeaseId)) this.nextLeaseId++;
      id = this.nextLeaseId++;
    }
    return this.propose({ op: 'leaseGrant', id, ttl });
  }

  /** Revokes a lease, deleting its keys. */
  leaseRevoke(id: number): Promise<{ header: ResponseHeader }> {
    if (!this.core.lessor.has(id)) return Promise.reject(new StoreError('LEASE_NOT_FOUND', `lease ${id} does not exist`));
    return this.propose({ op: 'leaseRevoke', id });
  }

  /** Renews a lease (not logged: after a restart every lease gets its full TTL again, as in etcd). */
  async leaseKeepAlive(id: number): Promise<LeaseKeepAliveResponse> {
    return { header: this.header(), id, ttl: this.core.lessor.keepAlive(id, this.now()) };
  }

  /** How long a lease has left. */
  async leaseTimeToLive(id: number, keys = false): Promise<LeaseTimeToLiveResponse> {
    const info = this.core.lessor.timeToLive(id, this.now());
    if (!info) return { header: this.header(), id, ttl: -1, grantedTtl: 0, keys: [] };
    return { header: this.header(), id, ttl: info.ttl, grantedTtl: info.grantedTtl, keys: keys ? info.keys.map((k) => Buffer.from(k, 'latin1')) : [] };
  }

  /** Every lease's id. */
  async leaseLeases(): Promise<{ header: ResponseHeader; leases: number[] }> {
    return { header: this.header(), leases: this.core.lessor.ids() };
  }

  /** The store's vital signs, as etcd's Maintenance.Status reports them. */
  async status(): Promise<StatusResponse> {
    return {
      header: this.header(),
      version: STORE_VERSION,
      dbSize: this.core.size,
      dbSizeInUse: this.core.size,
      raftIndex: this.lastIndex,
      raftAppliedIndex: this.appliedIndex,
      raftTerm: 2,
      compactRevision: this.core.compactRevision,
    };
  }

  // #region backup
  /** A backup: the whole state as snapshot bytes (what `etcdctl snapshot save` receives). */
  async snapshot(): Promise<Buffer> {
    return encodeSnapshot({ index: this.appliedIndex, state: this.core.exportState() });
  }
  // #endregion backup

  /** Stops timers, watchers and the log. Pending writes finish first. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    await this.wal?.close();
    while (this.snapshotting) await new Promise((r) => setTimeout(r, 5));
    this.core.close();
    if (this.options.dataDir) rmSync(dataPaths(this.options.dataDir).lockFile, { force: true });
  }

  /** Ticks the lessor and writes a revoke for each lease that just expired. */
  expireLeases(): void {
    for (const id of this.core.lessor.tick(this.now())) {
      this.propose({ op: 'leaseRevoke', id }).catch((err) => this.log(`lease ${id}: revoke after expiry failed: ${(err as Error).message}`));
    }
  }

  /** Runs watcher catch-up a batch at a time, yielding between batches so writes keep flowing. */
  private scheduleWatchSync(): void {
    if (this.syncScheduled || !this.core.hub.hasUnsynced) return;
    this.syncScheduled = true;
    setImmediate(() => {
      this.syncScheduled = false;
      if (!this.closed && this.core.hub.syncStep()) this.scheduleWatchSync();
    });
  }

  // #region snapshot-to-disk
  /** Writes a snapshot to the data dir and deletes the log segments it covers. */
  private async snapshotToDisk(): Promise<void> {
    if (!this.wal || !this.options.dataDir) return;
    this.snapshotting = true;
    try {
      const firstOfNewSegment = await this.wal.rotate();
      // Every record before the new segment must be applied before the snapshot can stand for it.
      while (this.appliedIndex < firstOfNewSegment - 1) await new Promise((r) => setImmediate(r));
      const index = this.appliedIndex;
      // Why encode now but write in the background: the bytes fix the state at `index`; writing and syncing them must not stall writes.
      await writeFileAtomicAsync(dataPaths(this.options.dataDir).snapFile, encodeSnapshot({ index, state: this.core.exportState() }));
      this.snapshotIndex = index;
      this.wal.removeBefore(firstOfNewSegment);
    } catch (err) {
      this.log(`snapshot failed: ${(err as Error).message}`);
    } finally {
      this.snapshotting = false;
    }
  }
  // #endregion snapshot-to-disk

  private header(): ResponseHeader {
    return { revision: this.core.currentRevision };
  }
}

/**
 * Restores a backup into a new data dir (like `etcdutl snapshot restore`).
 * Refuses a dir that already holds data, so nothing is overwritten.
 */
export async function restoreSnapshot(snapshotFile: string, dataDir: string): Promise<{ revision: number }> {
  const snapshot = decodeSnapshot(readFileSync(snapshotFile), snapshotFile);
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    throw new Error(`restore: expected an empty or new data dir, but ${dataDir} already has files; choose a new directory`);
  }
  const paths = dataPaths(dataDir);
  mkdirSync(paths.snapDir, { recursive: true });
  mkdirSync(paths.walDir, { recursive: true });
  // The restored store starts a fresh log, so the snapshot becomes index 0.
  writeFileAtomic(paths.snapFile, encodeSnapshot({ index: 0, state: snapshot.state }));
  return { revision: snapshot.state.currentRevision };
}

/** Records this process as the data dir's owner; refuses if another live process owns it. */
function takeLock(lockFile: string): void {
  if (existsSync(lockFile)) {
    const pid = Number(readFileSync(lockFile, 'utf8').trim());
    if (pid && pid !== process.pid && isAlive(pid)) {
      throw new Error(`the data dir is in use by process ${pid} (lock file ${lockFile}); stop it first`);
    }
  }
  const fd = openSync(lockFile, 'w');
  writeSync(fd, String(process.pid));
  closeSync(fd);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function isReadOnly(request: TxnRequest): boolean {
  return [...request.success, ...request.failure].every((op) => 'requestRange' in op || ('requestTxn' in op && isReadOnly(op.requestTxn)));
}

function txnBytes(request: TxnRequest): number {
  let n = 0;
  for (const op of [...request.success, ...request.failure]) {
    if ('requestPut' in op) n += op.requestPut.key.length + op.requestPut.value.length;
    if ('requestTxn' in op) n += txnBytes(op.requestTxn);
  }
  return n;
}
