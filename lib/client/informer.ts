/**
 * The informer: how every controller sees the cluster without asking the API
 * server on each decision. Like client-go's reflector + indexer + shared
 * informer in one small class, it lists a resource once, then watches from
 * the list's resourceVersion, keeping a local cache (keyed `namespace/name`)
 * up to date and telling handlers what changed: add, update, delete.
 *
 * What keeps it correct when things go wrong:
 * - a watch that ends normally is re-opened from the last resourceVersion
 *   seen, so no change is missed and none is repeated;
 * - a 410 Expired (history compacted away) means the gap cannot be replayed,
 *   so it lists again and announces the differences from its cache;
 * - a broken connection is retried with exponential backoff and jitter.
 *
 * Objects in the cache are frozen: handlers and readers share them, so a
 * handler that changed one would change every other reader's view, and the
 * cache would no longer match the server (client-go: "NEVER modify objects
 * from the store"). To change an object, copy it (structuredClone) first.
 */
import type { KubeObject, Status, WatchEventObject } from '../api/types.ts';
import { groupVersion, type ResourceInfo } from '../apiserver/resources.ts';
import { isGone, isStatus, KubeApiError, realClock, type Clock, type KubeClient, type WatchHandle } from './client.ts';

/** What handlers are told, per event name. */
export interface InformerHandlers<T> {
  /** A new object (or one first seen). */
  add: (obj: T) => void;
  /** A changed object: the cached copy before, and after. On a periodic resync both are the same object. */
  update: (oldObj: T, newObj: T) => void;
  /** A deleted object: its final state from the watch, or, if it vanished during a re-list, the last state this cache knew. */
  delete: (obj: T) => void;
}

/** Options of an informer; all are optional. */
export interface InformerOptions<T> {
  /** Watch one namespace only (default: all). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Every `resyncMs`, tell the update handlers about every cached object again (0 or unset: never). */
  resyncMs?: number;
  /** Secondary indexes: name → the index values of an object (e.g. `nodeName` → [pod.spec.nodeName]). */
  indexers?: Record<string, (obj: T) => string[]>;
  /** Narration: one plain line per thing the informer does ("listed 3 pods at rv 12"). */
  onTrace?: (line: string) => void;
  /** Where a throwing handler is reported (default: console.error). The informer goes on. */
  onHandlerError?: (error: unknown, event: keyof InformerHandlers<T>) => void;
  /** The first wait after a failure, in ms (default 100), doubling up to `maxBackoffMs` (default 30 000). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** The watch's timeoutSeconds (default: a random 300–600 s, as client-go's reflector). */
  watchTimeoutSeconds?: number;
  clock?: Clock;
  random?: () => number;
}

// #region keys
/** The cache key of an object: `namespace/name`, or `name` for cluster-scoped objects (client-go's MetaNamespaceKeyFunc). */
export function keyOf(obj: KubeObject): string {
  const { namespace, name } = obj.metadata;
  return namespace ? `${namespace}/${name ?? ''}` : name ?? '';
}

/** The namespace and name in a key made by keyOf. */
export function splitKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf('/');
  return slash === -1 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
// #endregion keys

/** Freezes an object and everything inside it, so a handler cannot change the cache by accident. */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const inner of Object.values(value)) deepFreeze(inner);
  return value;
}

/** A shared informer for one resource type: list, watch, a read-only local cache, and event handlers. */
export class Informer<T extends KubeObject = KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly indices = new Map<string, Map<string, Set<string>>>();
  private readonly indexers = new Map<string, (obj: T) => string[]>();
  private readonly handlers: { [E in keyof InformerHandlers<T>]: Array<InformerHandlers<T>[E]> } = { add: [], update: [], delete: [] };
  private readonly clock: Clock;
  private readonly random: () => number;
  private lastResourceVersion = '';
  private synced = false;
  private syncWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private stopped = false;
  private loop: Promise<void> | undefined;
  private watchHandle: WatchHandle | undefined;
  private listAbort: AbortController | undefined;
  private wakeFromSleep: (() => void) | undefined;
  private resyncTimer: unknown;
  private failures = 0;
  private eventsInWatch = 0;

  constructor(
    private readonly client: KubeClient,
    readonly info: ResourceInfo,
    private readonly options: InformerOptions<T> = {},
  ) {
    this.clock = options.clock ?? realClock;
    this.random = options.random ?? Math.random;
    for (const [name, indexFunc] of Object.entries(options.indexers ?? {})) {
      this.indexers.set(name, indexFunc);
      this.indices.set(name, new Map());
    }
  }

  /** Registers a handler; one registered after the informer has synced is told about every cached object as an add. */
  on<E extends keyof InformerHandlers<T>>(event: E, handler: InformerHandlers<T>[E]): this {
    this.handlers[event].push(handler);
    // Why replay: a late handler must still see the world, as client-go's AddEventHandler does.
    if (event === 'add' && this.synced) {
      for (const obj of this.cache.values()) this.call('add', () => (handler as InformerHandlers<T>['add'])(obj));
    }
    return this;
  }

  /** Starts listing and watching in the background; call waitForSync() to know when the cache is filled. */
  start(): void {
    if (this.loop || this.stopped) return;
    this.loop = this.run();
    this.scheduleResync();
  }

  /** Stops the watch, the retries and the resyncs; resolves when the informer has fully stopped. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.watchHandle?.stop();
    this.listAbort?.abort();
    this.wakeFromSleep?.();
    this.clock.clearTimeout(this.resyncTimer);
    for (const waiter of this.syncWaiters.splice(0)) waiter.reject(new Error(`expected the ${this.info.resource} informer to sync, got stopped first`));
    await this.loop;
  }

  /** True once the first list has been put in the cache and announced to the handlers. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves when the informer has synced; rejects if it is stopped first. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (this.stopped) return Promise.reject(new Error(`expected the ${this.info.resource} informer to sync, got stopped first`));
    return new Promise((resolve, reject) => this.syncWaiters.push({ resolve, reject }));
  }

  /** The resourceVersion the cache is at: the last one seen in a list, an event or a bookmark. */
  get resourceVersion(): string {
    return this.lastResourceVersion;
  }

  /** The cached object under `namespace/name` (or `name`); frozen — copy it before changing it. */
  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  /** Every cached object (frozen). */
  list(): T[] {
    return [...this.cache.values()];
  }

  /** Every cached key. */
  keys(): string[] {
    return [...this.cache.keys()];
  }

  /** Adds a secondary index (e.g. pods by node name) and fills it from what the cache already holds. */
  addIndexer(name: string, indexFunc: (obj: T) => string[]): this {
    const existing = this.indexers.get(name);
    if (existing === indexFunc) return this;
    if (existing) throw new Error(`expected a new indexer name, got ${JSON.stringify(name)} which is already taken`);
    this.indexers.set(name, indexFunc);
    const index = new Map<string, Set<string>>();
    this.indices.set(name, index);
    for (const [key, obj] of this.cache) {
      for (const value of indexFunc(obj)) index.set(value, (index.get(value) ?? new Set<string>()).add(key));
    }
    return this;
  }

  /** The cached objects whose index `name` has the value `value` (e.g. pods by node name). */
  byIndex(name: string, value: string): T[] {
    const index = this.indices.get(name);
    if (!index) throw new Error(`expected an indexer named ${JSON.stringify(name)}, got ${JSON.stringify([...this.indices.keys()])}`);
    return [...(index.get(value) ?? [])].flatMap((key) => this.cache.get(key) ?? []);
  }

  // #region list-and-watch
  /** The reflector loop: list once, then watch; re-watch, re-list or back off according to how each watch ended. */
  private async run(): Promise<void> {
    let mustList = true;
    while (!this.stopped) {
      try {
        if (mustList) {
          await this.listAndReplace();
          mustList = false;
        }
        await this.watchFromLastResourceVersion();
      } catch (error) {
        if (this.stopped) return;
        if (isGone(error)) {
          // Why re-list: the server no longer has the changes since our resourceVersion, so only a full list can catch up.
          this.trace(`got 410 Expired (${(error as Error).message}); re-listing`);
          mustList = true;
          continue;
        }
        await this.backOff(mustList ? 'list' : 'watch', error);
      }
    }
  }

  /** Lists, puts the result in the cache, and tells handlers what differs from what the cache held. */
  private async listAndReplace(): Promise<void> {
    const { namespace, labelSelector, fieldSelector } = this.options;
    this.listAbort = new AbortController();
    const list = await this.client.list<T>(this.info, { namespace, labelSelector, fieldSelector, signal: this.listAbort.signal });
    if (this.stopped) return;
    this.failures = 0;
    const counts = this.replace(list.items.map((item) => this.withTypeMeta(item)));
    this.lastResourceVersion = list.metadata.resourceVersion;
    if (this.synced) {
      this.trace(`re-listed ${list.items.length} ${this.info.resource} at rv ${this.lastResourceVersion}: ${counts.added} added, ${counts.updated} updated, ${counts.deleted} deleted`);
    } else {
      this.trace(`listed ${list.items.length} ${this.info.resource} at rv ${this.lastResourceVersion}`);
      this.markSynced();
    }
  }

  /** Opens one watch from the last resourceVersion and waits for it to end; throws if it ended in an error. */
  private async watchFromLastResourceVersion(): Promise<void> {
    const from = this.lastResourceVersion;
    this.trace(`watching ${this.info.resource} from rv ${from}`);
    const { namespace, labelSelector, fieldSelector } = this.options;
    const timeoutSeconds = this.options.watchTimeoutSeconds ?? 300 + Math.floor(this.random() * 300);
    const startedAt = this.clock.now();
    this.eventsInWatch = 0;
    this.watchHandle = this.client.watch<T>(
      this.info,
      { namespace, labelSelector, fieldSelector, resourceVersion: from, allowWatchBookmarks: true, timeoutSeconds },
      (event) => this.handleWatchEvent(event),
    );
    const end = await this.watchHandle.done;
    this.watchHandle = undefined;
    if (end.reason === 'error') throw end.error;
    if (end.reason === 'stopped') return;
    const lasted = this.clock.now() - startedAt;
    // Why: a watch closed at once with nothing in it means the server is unwell; re-watching at once would spin.
    if (this.eventsInWatch === 0 && lasted < 1000) {
      throw new Error(`expected the watch to stay open, got it closed after ${lasted} ms with no events`);
    }
    // Why no backoff: a server closing a watch (timeoutSeconds ran out) is normal, and the connection worked.
    this.failures = 0;
    this.trace(`watch closed by the server at rv ${this.lastResourceVersion}; re-watching`);
  }
  // #endregion list-and-watch

  // #region watch-event
  /** Applies one watch event to the cache and tells the handlers; an ERROR event ends the watch with its Status. */
  private handleWatchEvent(event: WatchEventObject<T | Status>): void {
    if (this.stopped) return;
    if (event.type === 'ERROR') {
      const status = event.object;
      throw isStatus(status) ? new KubeApiError(status) : new Error(`expected a Status in the ERROR event, got ${JSON.stringify(status)}`);
    }
    const obj = event.object as T;
    this.eventsInWatch++;
    this.failures = 0; // Why: an event proves the connection works, so the next failure starts the backoff afresh.
    this.lastResourceVersion = obj.metadata.resourceVersion ?? this.lastResourceVersion;
    if (event.type === 'BOOKMARK') return; // Why: a bookmark only moves the resourceVersion forward; no object changed.
    const key = keyOf(obj);
    if (event.type === 'DELETED') {
      this.remove(key);
      const gone = deepFreeze(this.withTypeMeta(obj));
      this.emit('delete', (h) => h(gone));
      return;
    }
    const old = this.cache.get(key);
    const current = this.put(key, obj);
    // Why a MODIFIED may be an add: the first event about an object the cache never had is news to the handlers.
    if (old) this.emit('update', (h) => h(old, current));
    else this.emit('add', (h) => h(current));
  }
  // #endregion watch-event

  // #region replace
  /** Makes the cache hold exactly `items`, telling handlers of each add, change (new resourceVersion) and vanished object. */
  private replace(items: T[]): { added: number; updated: number; deleted: number } {
    const counts = { added: 0, updated: 0, deleted: 0 };
    const listed = new Set<string>();
    for (const item of items) {
      const key = keyOf(item);
      listed.add(key);
      const old = this.cache.get(key);
      // Why skip unchanged objects: a re-list announces changes, not the whole world (a resync does that).
      if (old && old.metadata.resourceVersion === item.metadata.resourceVersion) continue;
      const current = this.put(key, item);
      if (old) {
        counts.updated++;
        this.emit('update', (h) => h(old, current));
      } else {
        counts.added++;
        this.emit('add', (h) => h(current));
      }
    }
    // Why: an object missing from the list was deleted while we were not watching; the last state we knew is all there is.
    const vanished = [...this.cache.entries()].filter(([key]) => !listed.has(key));
    for (const [key, last] of vanished) {
      this.remove(key);
      counts.deleted++;
      this.emit('delete', (h) => h(last));
    }
    return counts;
  }
  // #endregion replace

  /** Waits before the next attempt after a failure: 100 ms, doubling per failure in a row, at most 30 s, plus up to 10% jitter. */
  private async backOff(what: 'list' | 'watch', error: unknown): Promise<void> {
    const initial = this.options.initialBackoffMs ?? 100;
    const max = this.options.maxBackoffMs ?? 30_000;
    // Why jitter: after an API server restart, every informer in the cluster would otherwise retry at the same instant.
    const delay = Math.round(Math.min(max, initial * 2 ** this.failures * (1 + 0.1 * this.random())));
    this.failures++;
    const next = what === 'list' ? 'listing again' : `re-watching from rv ${this.lastResourceVersion}`;
    this.trace(`${what} failed (${error instanceof Error ? error.message : String(error)}); ${next} in ${delay} ms`);
    await new Promise<void>((resolve) => {
      const timer = this.clock.setTimeout(resolve, delay);
      this.wakeFromSleep = () => {
        this.clock.clearTimeout(timer);
        resolve();
      };
    });
    this.wakeFromSleep = undefined;
  }

  private scheduleResync(): void {
    const every = this.options.resyncMs;
    if (!every || every <= 0) return;
    this.resyncTimer = this.clock.setTimeout(() => {
      if (this.stopped) return;
      // Why only once synced: a resync replays the cache, and before the first list the cache is not the world yet.
      if (this.synced) {
        this.trace(`resync: ${this.cache.size} ${this.info.resource}`);
        for (const obj of this.cache.values()) this.emit('update', (h) => h(obj, obj));
      }
      this.scheduleResync();
    }, every);
  }

  private markSynced(): void {
    this.synced = true;
    for (const waiter of this.syncWaiters.splice(0)) waiter.resolve();
  }

  /** Stores a frozen object and indexes it; returns the stored object. */
  private put(key: string, obj: T): T {
    this.remove(key);
    const frozen = deepFreeze(this.withTypeMeta(obj));
    this.cache.set(key, frozen);
    this.updateIndices(frozen, (keys) => keys.add(key));
    return frozen;
  }

  /** Drops an object from the cache and from every index. */
  private remove(key: string): void {
    const old = this.cache.get(key);
    if (!old) return;
    this.cache.delete(key);
    this.updateIndices(old, (keys) => keys.delete(key));
  }

  /** Runs `change` on the key set of every index value of `obj`, dropping sets left empty. */
  private updateIndices(obj: T, change: (keys: Set<string>) => void): void {
    for (const [name, indexFunc] of this.indexers) {
      const index = this.indices.get(name) ?? new Map<string, Set<string>>();
      this.indices.set(name, index);
      for (const value of indexFunc(obj)) {
        const keys = index.get(value) ?? new Set<string>();
        change(keys);
        if (keys.size > 0) index.set(value, keys);
        else index.delete(value);
      }
    }
  }

  /** The object with apiVersion and kind filled in: a real API server leaves them out of a list's items. */
  private withTypeMeta(obj: T): T {
    if (obj.apiVersion && obj.kind) return obj;
    return { ...obj, apiVersion: groupVersion(this.info), kind: this.info.kind };
  }

  private emit<E extends keyof InformerHandlers<T>>(event: E, call: (handler: InformerHandlers<T>[E]) => void): void {
    for (const handler of this.handlers[event]) this.call(event, () => call(handler));
  }

  private call(event: keyof InformerHandlers<T>, run: () => void): void {
    try {
      run();
    } catch (error) {
      // Why go on: one faulty handler must not stop the cache, or every other handler, from following the cluster.
      (this.options.onHandlerError ?? ((e) => console.error(`${this.info.resource} informer: ${event} handler threw:`, e)))(error, event);
    }
  }

  private trace(line: string): void {
    this.options.onTrace?.(line);
  }
}
