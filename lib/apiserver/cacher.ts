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
 */
import { prefixEnd } from '../store/revisions.ts';
import type { WatchEvent, WatchResponse } from '../store/types.ts';
import type { Backend, BackendWatch } from './backend.ts';
import type { ResourceInfo } from './resources.ts';

/** One store event as the cache keeps it; `line` is its unfiltered JSON line, made at most once. */
export interface CachedEvent {
  revision: number;
  key: string;
  event: WatchEvent;
  /** undefined: not made yet; null: no event for an unfiltered watcher. */
  line?: string | null;
}

/** A client's watch as the cache sees it. */
export interface CacheWatcher {
  /** Only keys under this prefix (the client's namespace, or the whole resource). */
  prefix: string;
  /** Only events after this revision. */
  after: number;
  deliver(event: CachedEvent): void;
  /** Everything up to `revision` has been delivered (a chance to send a BOOKMARK). */
  progress(revision: number): void;
  /** The cache stopped (its store watch broke, or the server closes): end the stream. */
  end(): void;
}

/** How many events the cache remembers for clients that watch from the past. */
export const CACHE_CAPACITY = 10_000;

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
  stopped = false;

  constructor(backend: Backend, info: ResourceInfo, revision: number, private readonly capacity = CACHE_CAPACITY) {
    this.oldest = revision;
    const prefix = Buffer.from(`${info.storagePrefix}/`);
    this.watch = backend.watch({ key: prefix, rangeEnd: prefixEnd(prefix), startRevision: revision + 1, prevKv: true }, (response) => this.receive(response));
  }

  /** Whether a watch from `revision` can be served from memory. */
  canServe(revision: number): boolean {
    return !this.stopped && revision >= this.oldest;
  }

  /** Start a client's watch: replay what it missed from history, then keep it for new events. */
  add(watcher: CacheWatcher): void {
    for (const cached of this.history) if (cached.revision > watcher.after && cached.key.startsWith(watcher.prefix)) watcher.deliver(cached);
    this.watchers.add(watcher);
  }

  remove(watcher: CacheWatcher): void {
    this.watchers.delete(watcher);
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
    for (const watcher of this.watchers) watcher.end();
    this.watchers.clear();
  }

  /**
   * The store calls this inside its write, before the writer hears back; the
   * events are only queued here and sent on the next turn of the event loop,
   * so a write's answer never waits for a hundred watch streams.
   */
  private receive(response: WatchResponse): void {
    this.pending.push(response);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const response of this.pending.splice(0)) {
      if (response.canceled) {
        this.stop();
        return;
      }
      if (response.events.length === 0) {
        for (const watcher of this.watchers) watcher.progress(response.header.revision);
        continue;
      }
      for (const event of response.events) this.dispatch({ revision: event.kv.modRevision, key: event.kv.key.toString(), event });
    }
  }

  private dispatch(cached: CachedEvent): void {
    this.history.push(cached);
    if (this.history.length > this.capacity) this.oldest = this.history.shift()!.revision;
    for (const watcher of this.watchers) {
      if (cached.revision > watcher.after && cached.key.startsWith(watcher.prefix)) watcher.deliver(cached);
    }
  }
}
// #endregion watch-cache

/** The watch caches of one API server, made on first use. */
export class WatchCaches {
  private readonly caches = new Map<string, Promise<WatchCache>>();

  constructor(private readonly backend: Backend) {}

  /** The cache of a resource, started at the store's current revision the first time it is asked for. */
  async get(info: ResourceInfo): Promise<WatchCache> {
    const existing = this.caches.get(info.resource);
    if (existing) {
      const cache = await existing;
      if (!cache.stopped) return cache;
    }
    const made = this.backend.range({ key: Buffer.from(`${info.storagePrefix}/`), countOnly: true }).then((r) => new WatchCache(this.backend, info, r.header.revision));
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
