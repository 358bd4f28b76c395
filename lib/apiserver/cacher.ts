/**
 * The watch cache: one store watch per resource type, shared by every client
 * watching that resource, as kube-apiserver's "cacher" does. Without it, a
 * hundred kubelets watching Pods would be a hundred store watches, and each
 * change would be decoded and encoded a hundred times. With it, the store
 * sees one watcher; each change is decoded once and, for the clients that
 * filter nothing, turned into its JSON line once and written to all of them.
 *
 * The cache remembers recent events, so a client that lists and then
 * watches from the list's resourceVersion is served from memory. A client
 * asking for a revision older than the cache remembers is served by a store
 * watch of its own instead (watch.ts), which is where 410 Expired comes from.
 *
 * It also keeps the current objects, so lists are answered from memory too,
 * each object's JSON made once and reused by every list after it.
 */
import { prefixEnd } from '../store/revisions.ts';
import type { KeyValue, RangeResponse, WatchEvent, WatchResponse } from '../store/types.ts';
import type { Backend, BackendWatch } from './backend.ts';
import { decodeObject } from './registry.ts';
import type { ResourceInfo } from './resources.ts';

/** One store event as the cache keeps it; `line` is its unfiltered JSON line, made at most once. */
export interface CachedEvent {
  revision: number;
  key: string;
  event: WatchEvent;
  /** undefined: not made yet; null: no event for an unfiltered watcher. Bytes, so a hundred sockets do not each encode the text. */
  line?: Buffer | null;
}

/** A client's watch as the cache sees it. */
export interface CacheWatcher {
  /** Only keys under this prefix (the client's namespace, or the whole resource). */
  prefix: string;
  /** Only events after this revision. */
  after: number;
  /** The events it wants from one flush (or from the history), in revision order, in one call: one write to its socket. */
  deliver(events: CachedEvent[]): void;
  /** Everything up to `revision` has been delivered (a chance to send a BOOKMARK). */
  progress(revision: number): void;
  /** The cache stopped (its store watch broke, or the server closes): end the stream. */
  end(): void;
}

/** How many events the cache remembers for clients that watch from the past. */
export const CACHE_CAPACITY = 10_000;

/** An object as the cache keeps it: the stored key-value, and its JSON once a list needed it. */
export interface CachedObject {
  kv: KeyValue;
  json?: Buffer;
}

/** The JSON of a cached object as the API serves it (resourceVersion included), made once; bytes, ready for the socket. */
export function jsonOf(cached: CachedObject): Buffer {
  cached.json ??= Buffer.from(JSON.stringify(decodeObject(cached.kv)));
  return cached.json;
}

// #region watch-cache
/** The shared watch of one resource type. */
export class WatchCache {
  private readonly watchers = new Set<CacheWatcher>();
  private readonly history: CachedEvent[] = [];
  private readonly pending: WatchResponse[] = [];
  private flushScheduled = false;
  private lastProgressRequest = 0;
  private readonly watch: BackendWatch;
  /** Every event after this revision is in the history (or on its way). */
  private oldest: number;
  /** The current objects by key, as of `revision`. */
  private readonly objects = new Map<string, CachedObject>();
  /** The newest revision the cache has seen: every change up to it is in `objects`. */
  private revision: number;
  /** Reads waiting for the cache to reach a revision. */
  private waiters: Array<{ revision: number; done: (fresh: boolean) => void }> = [];
  stopped = false;

  /** Starts from a list of the resource (`initial`), then follows the store from the revision after it. */
  constructor(backend: Backend, info: ResourceInfo, initial: RangeResponse, private readonly capacity = CACHE_CAPACITY) {
    for (const kv of initial.kvs) this.objects.set(kv.key.toString(), { kv });
    this.oldest = this.revision = initial.header.revision;
    const prefix = Buffer.from(`${info.storagePrefix}/`);
    this.watch = backend.watch({ key: prefix, rangeEnd: prefixEnd(prefix), startRevision: this.revision + 1, prevKv: true }, (response) => this.receive(response));
  }

  /** Whether a watch from `revision` can be served from memory. */
  canServe(revision: number): boolean {
    return !this.stopped && revision >= this.oldest;
  }

  /** Start a client's watch: replay what it missed from history, then keep it for new events. */
  add(watcher: CacheWatcher): void {
    const missed = this.history.filter((cached) => wants(watcher, cached));
    if (missed.length > 0) watcher.deliver(missed);
    this.watchers.add(watcher);
  }

  remove(watcher: CacheWatcher): void {
    this.watchers.delete(watcher);
  }

  /**
   * Resolves true once the cache has seen everything up to `revision`, or
   * false after `timeoutMs`. Why ask the store for progress: the last write
   * may have been to another resource, which this cache never hears of; the
   * store's progress notice says nothing of ours is still on its way.
   */
  waitUntil(revision: number, timeoutMs: number): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    if (this.revision >= revision) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      const waiter = {
        revision,
        done: (fresh: boolean) => {
          clearTimeout(timer);
          resolve(fresh);
        },
      };
      this.waiters.push(waiter);
      this.watch.requestProgress();
    });
  }

  /** The objects under `prefix`, in key order, and the revision they are current at. */
  list(prefix: string): { objects: CachedObject[]; revision: number } {
    const keys = [...this.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
    return { objects: keys.map((key) => this.objects.get(key)!), revision: this.revision };
  }

  /** Ask the store where it is, at most once a second, so idle watchers can get bookmarks. */
  requestProgress(): void {
    const now = Date.now();
    if (now - this.lastProgressRequest < 1000) return;
    this.lastProgressRequest = now;
    this.watch.requestProgress();
  }

  /**
   * The store's history up to `revision` is gone: forget the cache's too, so
   * a watch from before it goes to the store and gets 410 Expired, as it would
   * against a real API server.
   */
  compacted(revision: number): void {
    while (this.history.length > 0 && this.history[0]!.revision <= revision) this.history.shift();
    this.oldest = Math.max(this.oldest, revision);
  }

  /** Stop the store watch and end every client's stream. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.watch.cancel();
    for (const waiter of this.waiters.splice(0)) waiter.done(false);
    for (const watcher of this.watchers) watcher.end();
    this.watchers.clear();
  }

  /**
   * The store calls this inside its write, before the writer hears back; the
   * events are only queued here and sent on the next turn of the event loop,
   * so a write's answer never waits for a hundred watch streams.
   */
  private receive(response: WatchResponse): void {
    this.observe(response);
    this.pending.push(response);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /**
   * Brings the objects up to date at once, so a list right after a write
   * sees it without waiting for the flush, and wakes the reads this lets go.
   */
  private observe(response: WatchResponse): void {
    if (response.canceled) return;
    for (const event of response.events) {
      const key = event.kv.key.toString();
      if (event.type === 'DELETE') this.objects.delete(key);
      else this.objects.set(key, { kv: event.kv });
    }
    // Why not the header's revision for events: a watch catching up sends
    // history in batches, each with the store's current revision in its header.
    const last = response.events.at(-1);
    this.revision = Math.max(this.revision, last ? last.kv.modRevision : response.header.revision);
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.revision <= this.revision);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.revision > this.revision);
    for (const waiter of ready) waiter.done(true);
  }

  /**
   * Hands out everything queued since the last flush. The events go out as
   * one batch, so each watcher gets a single write however many writes the
   * store just committed: with a hundred watchers, the cost of a watch event
   * is mostly the hundred socket writes, not the bytes in them.
   */
  private flush(): void {
    this.flushScheduled = false;
    let batch: CachedEvent[] = [];
    for (const response of this.pending.splice(0)) {
      if (response.canceled) {
        this.dispatch(batch);
        this.stop();
        return;
      }
      if (response.events.length === 0) {
        // Why send the batch first: a progress notice promises everything before it was delivered.
        this.dispatch(batch);
        batch = [];
        for (const watcher of this.watchers) watcher.progress(response.header.revision);
        continue;
      }
      for (const event of response.events) batch.push({ revision: event.kv.modRevision, key: event.kv.key.toString(), event });
    }
    this.dispatch(batch);
  }

  private dispatch(batch: CachedEvent[]): void {
    if (batch.length === 0) return;
    for (const cached of batch) {
      this.history.push(cached);
      if (this.history.length > this.capacity) this.oldest = this.history.shift()!.revision;
    }
    for (const watcher of this.watchers) {
      const wanted = batch.filter((cached) => wants(watcher, cached));
      if (wanted.length > 0) watcher.deliver(wanted);
    }
  }
}

/** Whether a watcher is due an event: under its prefix, and newer than where it started. */
function wants(watcher: CacheWatcher, cached: CachedEvent): boolean {
  return cached.revision > watcher.after && cached.key.startsWith(watcher.prefix);
}
// #endregion watch-cache

/** The watch caches of one API server, made on first use. */
export class WatchCaches {
  private readonly caches = new Map<string, Promise<WatchCache>>();

  constructor(private readonly backend: Backend) {}

  /** The cache of a resource, started from a list of it the first time it is asked for. */
  async get(info: ResourceInfo): Promise<WatchCache> {
    const existing = this.caches.get(info.resource);
    if (existing) {
      const cache = await existing;
      if (!cache.stopped) return cache;
    }
    const prefix = Buffer.from(`${info.storagePrefix}/`);
    const made = this.backend.range({ key: prefix, rangeEnd: prefixEnd(prefix) }).then((initial) => new WatchCache(this.backend, info, initial));
    this.caches.set(info.resource, made);
    return made;
  }

  /** Tell every cache the store compacted its history up to `revision`. */
  async compacted(revision: number): Promise<void> {
    for (const cache of this.caches.values()) (await cache).compacted(revision);
  }

  /** Stop every cache (the server is closing). */
  async close(): Promise<void> {
    for (const cache of this.caches.values()) (await cache).stop();
    this.caches.clear();
  }
}
