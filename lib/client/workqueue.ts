/**
 * The work queue between a controller's event handlers and its workers, with
 * client-go's semantics (util/workqueue): handlers add keys (`namespace/name`),
 * workers take them one at a time. Three promises make controllers simple:
 * a key waiting in the queue is held once however often it is added (the
 * dirty set); a key being worked on is never handed to a second worker (the
 * processing set), and if it changes meanwhile it comes back after `done`;
 * a key that failed comes back later and later (per-key exponential backoff).
 */
import { realClock, type Clock } from './client.ts';

// #region rate-limiter
/** Decides how long a failed key waits before its next try. */
export interface RateLimiter {
  /** The wait before the next try of `key`; counts one more failure. */
  when(key: string): number;
  /** Clears `key`'s failures: it worked. */
  forget(key: string): void;
  /** How many failures `key` has had since it last worked. */
  numRequeues(key: string): number;
}

/**
 * Per-key exponential backoff, as client-go's ItemExponentialFailureRateLimiter:
 * the n-th failure in a row waits base × 2ⁿ⁻¹, never more than max. The
 * defaults are client-go's: 5 ms, then 10, 20, 40 ... up to 1000 s.
 */
export class ItemExponentialRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();

  constructor(
    readonly baseMs = 5,
    readonly maxMs = 1000 * 1000,
  ) {}

  when(key: string): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    return Math.min(this.baseMs * 2 ** failures, this.maxMs);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}
// #endregion rate-limiter

/** How a WorkQueue is built; everything has a default. */
export interface WorkQueueOptions {
  clock?: Clock;
  rateLimiter?: RateLimiter;
}

/** A key waiting for its time (addAfter), and the timer that will add it. */
interface Waiting {
  readyAt: number;
  timer: unknown;
}

/** A rate-limited, delaying work queue of keys, as client-go's. */
export class WorkQueue {
  /** Keys ready to be handed out, in order. Each is also in `dirty`. */
  private readonly queue: string[] = [];
  /** Keys that need processing: queued, or added again while being processed. */
  private readonly dirty = new Set<string>();
  /** Keys a worker holds right now (between get and done). */
  private readonly processing = new Set<string>();
  /** Keys added with a delay that has not run out yet. */
  private readonly waiting = new Map<string, Waiting>();
  /** Workers blocked in get(), waiting for a key. */
  private readonly getters: Array<(key: string | undefined) => void> = [];
  private readonly clock: Clock;
  private readonly rateLimiter: RateLimiter;
  private shutdown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.rateLimiter = options.rateLimiter ?? new ItemExponentialRateLimiter();
  }

  // #region add
  /** Marks `key` as needing work; a key already waiting is not queued twice. */
  add(key: string): void {
    if (this.shutdown) return;
    if (this.dirty.has(key)) return; // Why: one pending entry is enough; the worker reads the latest state anyway.
    this.dirty.add(key);
    // Why not queue a key in processing: a second worker would race the first; done() queues it.
    if (this.processing.has(key)) return;
    this.queue.push(key);
    this.handOut();
  }
  // #endregion add

  // #region get-done
  /** The next key to work on; resolves to undefined once the queue is shut down and drained. */
  get(): Promise<string | undefined> {
    const key = this.take();
    if (key !== undefined || this.shutdown) return Promise.resolve(key);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Says the worker has finished `key`; if it was added meanwhile, it is queued again now. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.queue.push(key);
      this.handOut();
    }
  }
  // #endregion get-done

  /** Adds `key` after `ms`; of several delayed adds of one key, the earliest wins. */
  addAfter(key: string, ms: number): void {
    if (this.shutdown) return;
    if (ms <= 0) return this.add(key);
    const readyAt = this.clock.now() + ms;
    const existing = this.waiting.get(key);
    // Why keep the earlier one: the key will be worked on then, and that reads the latest state.
    if (existing && existing.readyAt <= readyAt) return;
    if (existing) this.clock.clearTimeout(existing.timer);
    const timer = this.clock.setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, ms);
    this.waiting.set(key, { readyAt, timer });
  }

  // #region rate-limited
  /** Adds `key` after its backoff: 5 ms after the first failure, doubling with each failure in a row. */
  addRateLimited(key: string): void {
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /** Clears `key`'s failure count, so its next failure starts the backoff afresh; call it when work succeeds. */
  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  /** How many times `key` has been re-added with addRateLimited since it was last forgotten. */
  numRequeues(key: string): number {
    return this.rateLimiter.numRequeues(key);
  }
  // #endregion rate-limited

  /** How many keys are ready to be handed out (not counting those in processing or waiting). */
  len(): number {
    return this.queue.length;
  }

  /** Stops taking keys; workers still get the keys already queued, then undefined. Delayed adds are dropped. */
  shutDown(): void {
    this.shutdown = true;
    for (const { timer } of this.waiting.values()) this.clock.clearTimeout(timer);
    this.waiting.clear();
    // Why only the idle getters: the queue is empty for them, so they may stop now.
    for (const resolve of this.getters.splice(0)) resolve(undefined);
  }

  /** True once shutDown() has been called. */
  get shuttingDown(): boolean {
    return this.shutdown;
  }

  /** Moves the next queued key into processing and returns it, if there is one. */
  private take(): string | undefined {
    const key = this.queue.shift();
    if (key === undefined) return undefined;
    this.processing.add(key);
    this.dirty.delete(key);
    return key;
  }

  /** Gives queued keys to workers blocked in get(), oldest worker first. */
  private handOut(): void {
    while (this.getters.length > 0 && this.queue.length > 0) {
      const resolve = this.getters.shift();
      resolve?.(this.take());
    }
  }
}
