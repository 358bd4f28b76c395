import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Clock } from './client.ts';
import { ItemExponentialRateLimiter, WorkQueue } from './workqueue.ts';

/** A clock that only moves when the test says so. */
class FakeClock implements Clock {
  private time = 0;
  private timers: Array<{ at: number; callback: () => void; id: number }> = [];
  private nextId = 1;

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.time + ms, callback, id });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Moves time forward, running every timer that falls due, in time order. */
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      due.callback();
    }
    this.time = until;
  }

  get pending(): number {
    return this.timers.length;
  }
}

/** Resolves to 'pending' if the promise has not settled after the microtasks already queued. */
async function peek<T>(promise: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([promise, new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))]);
}

describe('WorkQueue', () => {
  it('hands out keys in the order they were added', async () => {
    const queue = new WorkQueue();
    queue.add('default/a');
    queue.add('default/b');
    assert.equal(await queue.get(), 'default/a');
    assert.equal(await queue.get(), 'default/b');
  });

  it('holds a key once however many times it is added while it waits', async () => {
    const queue = new WorkQueue();
    queue.add('default/web');
    queue.add('default/db');
    queue.add('default/web');
    assert.equal(queue.len(), 2);
    assert.equal(await queue.get(), 'default/web');
    assert.equal(await queue.get(), 'default/db');
    assert.equal(queue.len(), 0);
  });

  it('never hands a key being processed to a second worker, and re-queues it after done if it was added meanwhile', async () => {
    const queue = new WorkQueue();
    queue.add('default/web');
    const key = await queue.get();
    assert.equal(key, 'default/web');
    queue.add('default/web'); // the object changed while the worker was busy
    assert.equal(queue.len(), 0, 'the key is not queued while processing');
    const second = queue.get();
    assert.equal(await peek(second), 'pending', 'a second worker does not get the key');
    queue.done('default/web');
    assert.equal(await second, 'default/web', 'after done, the key comes back');
  });

  it('does not re-queue a key after done when nobody added it meanwhile', async () => {
    const queue = new WorkQueue();
    queue.add('default/web');
    queue.done((await queue.get()) ?? '');
    assert.equal(queue.len(), 0);
  });

  it('wakes a waiting worker when a key is added', async () => {
    const queue = new WorkQueue();
    const waiting = queue.get();
    assert.equal(await peek(waiting), 'pending');
    queue.add('default/web');
    assert.equal(await waiting, 'default/web');
  });

  it('gives each of two waiting workers a different key', async () => {
    const queue = new WorkQueue();
    const first = queue.get();
    const second = queue.get();
    queue.add('default/a');
    queue.add('default/b');
    assert.deepEqual(await Promise.all([first, second]), ['default/a', 'default/b']);
  });

  it('answers undefined to waiting workers on shutdown, but first drains what is queued', async () => {
    const queue = new WorkQueue();
    const idle = queue.get();
    queue.shutDown();
    assert.equal(await idle, undefined);
    assert.equal(queue.shuttingDown, true);

    const draining = new WorkQueue();
    draining.add('default/a');
    draining.shutDown();
    draining.add('default/b'); // ignored: the queue is shutting down
    assert.equal(await draining.get(), 'default/a');
    assert.equal(await draining.get(), undefined);
  });

  it('adds a key after a delay, and of two delays for one key keeps the earlier', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock });
    queue.addAfter('default/web', 1000);
    queue.addAfter('default/web', 300);
    queue.addAfter('default/web', 2000);
    assert.equal(clock.pending, 1, 'one timer for one key');
    clock.advance(299);
    assert.equal(queue.len(), 0);
    clock.advance(1);
    assert.equal(queue.len(), 1);
    assert.equal(await queue.get(), 'default/web');
    clock.advance(5000);
    assert.equal(queue.len(), 0, 'the dropped later delays never fire');
  });

  it('adds at once when the delay is zero', () => {
    const queue = new WorkQueue({ clock: new FakeClock() });
    queue.addAfter('default/web', 0);
    assert.equal(queue.len(), 1);
  });

  it('backs a failing key off exponentially from 5 ms, and forget starts it afresh', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock });
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const before = clock.now();
      queue.addRateLimited('default/web');
      while (queue.len() === 0) clock.advance(1);
      waits.push(clock.now() - before);
      queue.done((await queue.get()) ?? '');
    }
    assert.deepEqual(waits, [5, 10, 20, 40]);
    assert.equal(queue.numRequeues('default/web'), 4);
    queue.forget('default/web');
    assert.equal(queue.numRequeues('default/web'), 0);
    queue.addRateLimited('default/web');
    clock.advance(5);
    assert.equal(queue.len(), 1, 'after forget, the first wait is 5 ms again');
  });

  it('keeps each key\'s backoff separate', () => {
    const limiter = new ItemExponentialRateLimiter();
    limiter.when('a');
    limiter.when('a');
    assert.equal(limiter.when('a'), 20);
    assert.equal(limiter.when('b'), 5);
  });

  it('caps the backoff at 1000 seconds', () => {
    const limiter = new ItemExponentialRateLimiter();
    let last = 0;
    for (let i = 0; i < 40; i++) last = limiter.when('default/web');
    assert.equal(last, 1_000_000);
  });

  it('drops delayed adds on shutdown', () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock });
    queue.addAfter('default/web', 100);
    queue.shutDown();
    assert.equal(clock.pending, 0);
    clock.advance(200);
    assert.equal(queue.len(), 0);
  });
});
