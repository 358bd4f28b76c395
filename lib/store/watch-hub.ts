/**
 * The watch hub: every open watcher, each driven by a watcher machine. New
 * revisions go straight to `synced` watchers; `unsynced` ones are fed from the
 * revision log by `syncStep`, a bounded batch at a time, until they reach the
 * present. Delivery is ordered, unique and gap-free because each watcher's
 * machine holds the one "next revision" it still needs, and the events of one
 * revision always travel in one response.
 */
import { createActor, type ActorRefFrom } from 'xstate';
import { inRange, keyRange, type KeyRange } from './keys.ts';
import type { RevisionEntry, StoreSeams } from './revisions.ts';
import type { WatchEvent, WatchOptions, WatchResponse } from './types.ts';
import { watcherMachine } from './watcher-machine.ts';

/** What the hub needs to know about the store it serves. */
export interface HistorySource {
  readonly currentRevision: number;
  readonly compactRevision: number;
  /** The revision log from the first entry with revision >= `from`. */
  logFrom(from: number): readonly RevisionEntry[];
  readonly seams: StoreSeams;
}

interface Watcher {
  id: number;
  range: KeyRange;
  options: WatchOptions;
  actor: ActorRefFrom<typeof watcherMachine>;
  onResponse: (response: WatchResponse) => void;
}

/** A handle on one watcher. */
export interface WatchHandle {
  id: number;
  cancel(): void;
  /** Asks for a progress notification: an empty response carrying the current revision. */
  requestProgress(): void;
  /** The watcher machine's state: 'unsynced' | 'synced' | 'blocked' | 'compacted' | 'canceled'. */
  state(): string;
  /** The consumer cannot take more for now: queue nothing until `resume`. */
  pause(): void;
  /** The consumer reads again: catch up from where it stopped (run syncStep). */
  resume(): void;
}

/** How many revisions one catch-up step sends to one watcher at most. */
export const CATCH_UP_BATCH = 1000;

export class WatchHub {
  private readonly watchers = new Map<number, Watcher>();
  private nextId = 1;

  constructor(private readonly source: HistorySource) {}

  /** Opens a watcher; it starts unsynced when its start revision is in the past. */
  open(options: WatchOptions, onResponse: (response: WatchResponse) => void): WatchHandle {
    const id = this.nextId++;
    const current = this.source.currentRevision;
    const startRevision = options.startRevision && options.startRevision > 0 ? options.startRevision : current + 1;
    const actor = createActor(watcherMachine, { input: { id, startRevision, currentRevision: current } });
    actor.start();
    const watcher: Watcher = { id, range: keyRange(options.key, options.rangeEnd), options, actor, onResponse };
    this.watchers.set(id, watcher);
    return {
      id,
      cancel: () => this.cancel(id),
      // Why only when synced: a progress notice promises "nothing before this revision is still coming".
      requestProgress: () => {
        if (actor.getSnapshot().matches('synced')) this.send(watcher, []);
      },
      state: () => String(actor.getSnapshot().value),
      pause: () => actor.send({ type: 'watcher.blocked', nextRevision: this.source.currentRevision + 1 }),
      resume: () => actor.send({ type: 'watcher.resumed' }),
    };
  }

  /** Closes a watcher; further revisions are not sent to it. */
  cancel(id: number): void {
    const watcher = this.watchers.get(id);
    if (!watcher) return;
    watcher.actor.send({ type: 'watcher.cancel' });
    watcher.actor.stop();
    this.watchers.delete(id);
  }

  /** Number of open watchers. */
  get size(): number {
    return this.watchers.size;
  }

  /** How many watchers are in each state, e.g. { synced: 3, blocked: 1 }. */
  stateCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const w of this.watchers.values()) {
      const state = String(w.actor.getSnapshot().value);
      counts[state] = (counts[state] ?? 0) + 1;
    }
    return counts;
  }

  /** True when some watcher still has history to catch up on. */
  get hasUnsynced(): boolean {
    for (const w of this.watchers.values()) if (w.actor.getSnapshot().matches('unsynced')) return true;
    return false;
  }

  // #region notify
  /** Delivers a newly written revision to every synced watcher that wants some of it. */
  notify(entry: RevisionEntry): void {
    const keys = entry.events.map((event) => event.kv.key.toString('latin1'));
    for (const watcher of this.watchers.values()) {
      const snapshot = watcher.actor.getSnapshot();
      // Unsynced watchers will read this revision from the log when they get there;
      // a watcher that starts at a later revision is not due yet.
      if (!snapshot.matches('synced') || snapshot.context.nextRevision > entry.revision) continue;
      // Why no event to the machine here: a synced watcher receives every
      // revision as it is written, so there is no position to keep (and a
      // write must not cost one machine step per watcher).
      const events = entry.events.filter((event, i) => this.wants(watcher, event, keys[i] as string));
      if (events.length > 0) this.send(watcher, events);
    }
  }
  // #endregion notify

  // #region sync-step
  /**
   * Feeds each unsynced watcher one batch of history; a watcher that reaches
   * the current revision becomes synced in the same step, so no new revision
   * can slip between its history and its live events. Returns true while
   * some watcher still lags behind.
   */
  syncStep(batch = CATCH_UP_BATCH): boolean {
    const current = this.source.currentRevision;
    for (const watcher of [...this.watchers.values()]) {
      const snapshot = watcher.actor.getSnapshot();
      if (!snapshot.matches('unsynced')) continue;
      const from = snapshot.context.nextRevision;
      if (from < this.source.compactRevision) {
        this.compacted(watcher);
        continue;
      }
      const to = Math.min(current, from + batch - 1);
      const events = this.source.seams.eventsBetween(this.source.logFrom(from), from, to, (e) => this.wants(watcher, e, e.kv.key.toString('latin1')));
      watcher.actor.send({ type: 'watcher.delivered', upTo: to });
      if (events.length > 0) this.send(watcher, events);
      if (to >= current) watcher.actor.send({ type: 'watcher.caughtUp' });
    }
    return this.hasUnsynced;
  }
  // #endregion sync-step

  /** Stops every watcher (the store is closing). */
  closeAll(): void {
    for (const id of [...this.watchers.keys()]) this.cancel(id);
  }

  private wants(watcher: Watcher, event: WatchEvent, key: string): boolean {
    if (!inRange(key, watcher.range)) return false;
    const filters = watcher.options.filters ?? [];
    if (event.type === 'PUT' && filters.includes('NOPUT')) return false;
    if (event.type === 'DELETE' && filters.includes('NODELETE')) return false;
    return true;
  }

  private send(watcher: Watcher, events: WatchEvent[]): void {
    const shaped = watcher.options.prevKv ? events : events.map(({ type, kv }) => ({ type, kv }));
    this.deliver(watcher, { header: { revision: this.source.currentRevision }, watchId: watcher.id, events: shaped });
  }

  private compacted(watcher: Watcher): void {
    watcher.actor.send({ type: 'watcher.compacted' });
    this.deliver(watcher, {
      header: { revision: this.source.currentRevision },
      watchId: watcher.id,
      events: [],
      compactRevision: this.source.compactRevision,
      canceled: true,
      cancelReason: 'mvcc: required revision has been compacted',
    });
    watcher.actor.stop();
    this.watchers.delete(watcher.id);
  }

  private deliver(watcher: Watcher, response: WatchResponse): void {
    try {
      watcher.onResponse(response);
    } catch {
      // Why swallow: one broken consumer must not stop the write that notified it
      // or the other watchers; it is canceled instead.
      this.cancel(watcher.id);
    }
  }
}
