/**
 * The scheduling queue, shaped as upstream's PriorityQueue: three places a
 * Pod waiting for a node can be.
 *
 * - activeQ: ready to be tried now, highest priority first, then first come.
 * - backoffQ: tried and failed recently; waits 1 s, 2 s, 4 s ... up to 10 s
 *   (doubling per attempt) before it may go back to activeQ.
 * - unschedulable: no node fits, and trying again will not help until the
 *   cluster changes. A cluster event (a Node added or changed, a Pod deleted)
 *   moves them all out; a periodic flush moves any that waited 5 minutes.
 */
import type { Pod } from '../api/types.ts';
import { realClock, type Clock } from '../client/client.ts';
import { keyOf } from '../client/informer.ts';

/** Upstream's defaults (podInitialBackoffSeconds, podMaxBackoffSeconds, podMaxInUnschedulablePodsDuration). */
export const DEFAULT_QUEUE_OPTIONS = { initialBackoffMs: 1000, maxBackoffMs: 10_000, maxUnschedulableMs: 5 * 60_000, flushBackoffEveryMs: 1000, flushUnschedulableEveryMs: 30_000 };

/** A Pod in the queue, with its scheduling history. */
export interface QueuedPod {
  key: string;
  pod: Pod;
  /** How many times it was tried. */
  attempts: number;
  /** When it was (last) added to activeQ: the FIFO order among equal priorities. */
  timestamp: number;
  /** When it was first added: for the "waited how long" narration. */
  initialTimestamp: number;
  /** When it entered the unschedulable set. */
  unschedulableSince: number;
  /** The cluster event that last moved it out of the unschedulable set (narration). */
  lastMovedBy?: string;
  /** The scheduling cycle (pop count) it was last handed out in. */
  cycle?: number;
}

/** How to build a queue; all optional. */
export interface SchedulingQueueOptions {
  clock?: Clock;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  maxUnschedulableMs?: number;
  flushBackoffEveryMs?: number;
  flushUnschedulableEveryMs?: number;
  onTrace?: (line: string) => void;
}

/** A binary heap ordered by `less`. */
class Heap<T> {
  private readonly items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => boolean) {}
  get size(): number {
    return this.items.length;
  }
  peek(): T | undefined {
    return this.items[0];
  }
  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }
  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < items.length && this.less(items[l]!, items[best]!)) best = l;
        if (r < items.length && this.less(items[r]!, items[best]!)) best = r;
        if (best === i) break;
        [items[i], items[best]] = [items[best]!, items[i]!];
        i = best;
      }
    }
    return top;
  }
}

type Place = 'active' | 'backoff' | 'unschedulable' | 'inFlight';

/** The scheduler's queue of Pods waiting for a node. */
export class SchedulingQueue {
  private readonly clock: Clock;
  private readonly options: typeof DEFAULT_QUEUE_OPTIONS;
  private readonly trace: (line: string) => void;
  private readonly activeQ = new Heap<QueuedPod>((a, b) => priorityOf(a.pod) > priorityOf(b.pod) || (priorityOf(a.pod) === priorityOf(b.pod) && a.timestamp < b.timestamp));
  private readonly backoffQ = new Heap<QueuedPod>((a, b) => this.backoffExpiry(a) < this.backoffExpiry(b));
  private readonly unschedulable = new Map<string, QueuedPod>();
  /** Where each known Pod is; a removed Pod's entry in a heap is dropped lazily. */
  private readonly where = new Map<string, { place: Place; info: QueuedPod }>();
  private waiters: Array<(info: QueuedPod | undefined) => void> = [];
  private closed = false;
  private readonly timers = new Map<string, unknown>();
  /** Counts pops: a move request during a Pod's cycle sends that Pod to backoff, not to unschedulable. */
  private schedulingCycle = 0;
  private moveRequestCycle = -1;

  constructor(options: SchedulingQueueOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.trace = options.onTrace ?? (() => {});
    this.options = {
      initialBackoffMs: options.initialBackoffMs ?? DEFAULT_QUEUE_OPTIONS.initialBackoffMs,
      maxBackoffMs: options.maxBackoffMs ?? DEFAULT_QUEUE_OPTIONS.maxBackoffMs,
      maxUnschedulableMs: options.maxUnschedulableMs ?? DEFAULT_QUEUE_OPTIONS.maxUnschedulableMs,
      flushBackoffEveryMs: options.flushBackoffEveryMs ?? DEFAULT_QUEUE_OPTIONS.flushBackoffEveryMs,
      flushUnschedulableEveryMs: options.flushUnschedulableEveryMs ?? DEFAULT_QUEUE_OPTIONS.flushUnschedulableEveryMs,
    };
  }

  /** Starts the periodic flushes (backoffQ every second, unschedulable every 30 s), as upstream's queue.Run. */
  run(): void {
    this.every('backoff', this.options.flushBackoffEveryMs, () => this.flushBackoffCompleted());
    this.every('unschedulable', this.options.flushUnschedulableEveryMs, () => this.flushUnschedulableLeftover());
  }

  private every(name: string, ms: number, fn: () => void): void {
    const tick = () => {
      if (this.closed) return;
      fn();
      this.timers.set(name, this.clock.setTimeout(tick, ms));
    };
    this.timers.set(name, this.clock.setTimeout(tick, ms));
  }

  /** How many Pods are in each place (for tests and narration). */
  counts(): Record<Place, number> {
    const counts: Record<Place, number> = { active: 0, backoff: 0, unschedulable: 0, inFlight: 0 };
    for (const { place } of this.where.values()) counts[place]++;
    return counts;
  }

  /** Where a Pod is, if the queue knows it. */
  placeOf(key: string): Place | undefined {
    return this.where.get(key)?.place;
  }

  // #region add
  /** A new unscheduled Pod (informer add): straight to activeQ. */
  add(pod: Pod): void {
    const key = keyOf(pod);
    const known = this.where.get(key);
    if (known) {
      // Why only refresh: the Pod is already waiting (or being scheduled); a second copy would be scheduled twice.
      known.info.pod = pod;
      return;
    }
    const now = this.clock.now();
    this.pushActive({ key, pod, attempts: 0, timestamp: now, initialTimestamp: now, unschedulableSince: 0 });
  }
  // #endregion add

  /** An unscheduled Pod changed (informer update): refresh it, and give an unschedulable one another chance if its spec changed. */
  update(oldPod: Pod, newPod: Pod): void {
    const key = keyOf(newPod);
    const known = this.where.get(key);
    if (!known) return this.add(newPod);
    known.info.pod = newPod;
    // Why only on a spec change: a status update (our own PodScheduled=False) must not undo the wait.
    if (known.place === 'unschedulable' && JSON.stringify(oldPod.spec) !== JSON.stringify(newPod.spec)) {
      this.unschedulable.delete(key);
      this.moveOut(known.info, 'PodUpdate');
    }
  }

  /** A Pod deleted, or bound by someone else: forget it wherever it is. */
  delete(pod: Pod): void {
    const key = keyOf(pod);
    const known = this.where.get(key);
    if (!known) return;
    this.where.delete(key);
    if (known.place === 'unschedulable') this.unschedulable.delete(key);
    // Why nothing for the heaps: pop() skips entries that `where` no longer points at.
  }

  // #region pop
  /** The next Pod to schedule, waiting for one if activeQ is empty; undefined once the queue is closed. */
  pop(): Promise<QueuedPod | undefined> {
    // Why check first: a closed queue hands out nothing more, even with Pods still in activeQ.
    if (this.closed) return Promise.resolve(undefined);
    const next = this.tryPop();
    if (next) return Promise.resolve(next);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The next Pod to schedule, or undefined if activeQ is empty. */
  tryPop(): QueuedPod | undefined {
    for (;;) {
      const info = this.activeQ.pop();
      if (!info) return undefined;
      const known = this.where.get(info.key);
      // Why skip: the Pod was deleted (or moved) after it was pushed; this heap entry is stale.
      if (!known || known.info !== info || known.place !== 'active') continue;
      this.where.set(info.key, { place: 'inFlight', info });
      info.attempts++;
      this.schedulingCycle++;
      info.cycle = this.schedulingCycle;
      return info;
    }
  }
  // #endregion pop

  /** The Pod was scheduled (assumed) and is on its way to binding: the queue lets go of it. */
  done(key: string): void {
    if (this.where.get(key)?.place === 'inFlight') this.where.delete(key);
  }

  // #region requeue
  /**
   * A Pod no node fits: into the unschedulable set, to wait for a cluster
   * event, unless one already came while it was being scheduled (then the
   * node it needs may exist already, so only a backoff).
   */
  addUnschedulable(info: QueuedPod): void {
    if (!this.isInFlight(info)) return;
    const cycle = info.cycle ?? 0;
    if (this.moveRequestCycle >= cycle) {
      this.pushBackoff(info);
      this.trace(`queue: ${info.key} unschedulable, but the cluster changed meanwhile: backoff ${this.backoffDuration(info)} ms`);
      return;
    }
    info.unschedulableSince = this.clock.now();
    // Why stamp now: its backoff, should a cluster event move it out soon, counts from this failure.
    info.timestamp = info.unschedulableSince;
    this.unschedulable.set(info.key, info);
    this.where.set(info.key, { place: 'unschedulable', info });
    this.trace(`queue: ${info.key} unschedulable; waits for a cluster event`);
  }

  /** A Pod whose scheduling or binding failed for another reason (an API error): retry after its backoff. */
  addBackoff(info: QueuedPod): void {
    if (!this.isInFlight(info) && this.where.has(info.key)) return;
    this.pushBackoff(info);
  }
  // #endregion requeue

  private isInFlight(info: QueuedPod): boolean {
    const known = this.where.get(info.key);
    return known !== undefined && known.info === info && known.place === 'inFlight';
  }

  // #region cluster-events
  /** A cluster event that may make unschedulable Pods fit (NodeAdd, NodeUpdate, PodDelete): move them all out. */
  moveAllToActiveOrBackoff(event: string): void {
    this.moveRequestCycle = this.schedulingCycle;
    if (this.unschedulable.size === 0) return;
    const moved = [...this.unschedulable.values()];
    this.unschedulable.clear();
    for (const info of moved) this.moveOut(info, event);
    this.trace(`queue: ${event} moved ${moved.length} unschedulable pod(s) out`);
  }
  // #endregion cluster-events

  /** To backoffQ if the Pod's backoff has not run out yet, else to activeQ. */
  private moveOut(info: QueuedPod, event: string): void {
    info.lastMovedBy = event;
    if (this.backoffExpiry(info) > this.clock.now()) this.pushBackoff(info);
    else this.pushActive(info);
  }

  /** Moves every Pod whose backoff ran out from backoffQ to activeQ (every second). */
  flushBackoffCompleted(): void {
    const now = this.clock.now();
    for (;;) {
      const head = this.backoffQ.peek();
      if (!head) return;
      const known = this.where.get(head.key);
      if (!known || known.info !== head || known.place !== 'backoff') {
        this.backoffQ.pop();
        continue;
      }
      if (this.backoffExpiry(head) > now) return;
      this.backoffQ.pop();
      this.pushActive(head);
    }
  }

  /** Moves every Pod that sat in the unschedulable set longer than the limit (5 min) out (every 30 s). */
  flushUnschedulableLeftover(): void {
    const now = this.clock.now();
    for (const info of [...this.unschedulable.values()]) {
      if (now - info.unschedulableSince < this.options.maxUnschedulableMs) continue;
      this.unschedulable.delete(info.key);
      this.moveOut(info, 'UnschedulableTimeout');
    }
  }

  // #region backoff
  /** The Pod's backoff after `attempts` failures: 1 s, doubling, at most 10 s. */
  backoffDuration(info: QueuedPod): number {
    const exponent = Math.max(0, info.attempts - 1);
    return Math.min(this.options.maxBackoffMs, this.options.initialBackoffMs * 2 ** Math.min(exponent, 30));
  }

  private backoffExpiry(info: QueuedPod): number {
    return info.timestamp + this.backoffDuration(info);
  }
  // #endregion backoff

  private pushBackoff(info: QueuedPod): void {
    // Why stamp now: the backoff counts from the last failure.
    info.timestamp = this.clock.now();
    this.where.set(info.key, { place: 'backoff', info });
    this.backoffQ.push(info);
  }

  private pushActive(info: QueuedPod): void {
    this.where.set(info.key, { place: 'active', info });
    const waiter = this.waiters.shift();
    if (waiter) {
      // Why hand it over directly: a scheduler waiting in pop() gets the Pod without a heap round trip.
      this.activeQ.push(info);
      waiter(this.tryPop());
      return;
    }
    this.activeQ.push(info);
  }

  /** Closes the queue: pending and later pops resolve to undefined; the flushes stop. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers.values()) this.clock.clearTimeout(timer);
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }
}

function priorityOf(pod: Pod): number {
  return pod.spec.priority ?? 0;
}
