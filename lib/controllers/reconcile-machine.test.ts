import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActor, fromPromise } from 'xstate';
import type { KubeObject } from '../api/types.ts';
import { realClock, type KubeClient } from '../client/client.ts';
import { MemoryEventRecorder } from '../client/events.ts';
import { Controller, type ControllerContext } from './controller.ts';
import type { InformerFactory } from './informers.ts';
import { reconcileLoop } from './reconcile-machine.ts';

/** Polls until `done` holds; the timeout is generous because the machines are shared and slow. */
async function waitFor(what: string, done: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`expected ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('the reconcile loop machine', () => {
  it('takes a key, reconciles it, forgets it on success and goes back to waiting', async () => {
    const keys = ['default/web', undefined];
    const calls: string[] = [];
    const actor = createActor(
      reconcileLoop.provide({
        actors: {
          nextKey: fromPromise(async () => keys.shift()),
          reconcile: fromPromise(async ({ input }: { input: { key: string } }) => {
            calls.push(`reconcile ${input.key}`);
          }),
        },
        actions: {
          forget: ({ context }) => calls.push(`forget ${context.key}`),
          requeue: ({ context }) => calls.push(`requeue ${context.key}`),
          done: ({ context }) => calls.push(`done ${context.key}`),
        },
      }),
      { input: { controller: 'test' } },
    );
    actor.start();
    await waitFor('the loop to stop', () => actor.getSnapshot().status === 'done');
    assert.deepEqual(calls, ['reconcile default/web', 'forget default/web', 'done default/web']);
    assert.equal(actor.getSnapshot().context.reconciled, 1);
    assert.ok(actor.getSnapshot().matches('stopped'));
  });

  it('requeues a key whose reconcile failed, with the error kept in context', async () => {
    const keys = ['default/web', undefined];
    const calls: string[] = [];
    const actor = createActor(
      reconcileLoop.provide({
        actors: {
          nextKey: fromPromise(async () => keys.shift()),
          reconcile: fromPromise<void, { key: string }>(async () => {
            throw new Error('the API server said 409');
          }),
        },
        actions: {
          forget: ({ context }) => calls.push(`forget ${context.key}`),
          requeue: ({ context }) => calls.push(`requeue ${context.key}`),
          done: ({ context }) => calls.push(`done ${context.key}`),
        },
      }),
      { input: { controller: 'test' } },
    );
    actor.start();
    await waitFor('the loop to stop', () => actor.getSnapshot().status === 'done');
    assert.deepEqual(calls, ['requeue default/web', 'done default/web']);
    assert.equal(actor.getSnapshot().context.failed, 1);
    assert.equal(actor.getSnapshot().context.lastError, 'the API server said 409');
  });
});

/** A controller whose reconcile fails the first time for each key, then records it. */
class FlakyController extends Controller {
  readonly name = 'flaky';
  readonly seen: string[] = [];
  private readonly failedOnce = new Set<string>();
  inFlight = 0;
  maxInFlightPerKey = 0;
  private readonly inFlightKeys = new Map<string, number>();

  async reconcile(key: string): Promise<void> {
    const now = (this.inFlightKeys.get(key) ?? 0) + 1;
    this.inFlightKeys.set(key, now);
    this.maxInFlightPerKey = Math.max(this.maxInFlightPerKey, now);
    await new Promise((r) => setTimeout(r, 2));
    this.inFlightKeys.set(key, now - 1);
    if (!this.failedOnce.has(key)) {
      this.failedOnce.add(key);
      throw new Error(`first try of ${key} fails`);
    }
    this.seen.push(key);
  }
}

function context(trace: string[]): ControllerContext {
  return {
    client: {} as KubeClient,
    informers: {} as InformerFactory,
    recorder: new MemoryEventRecorder(),
    clock: realClock,
    trace: (line) => trace.push(line),
  };
}

describe('a controller driven by reconcile-loop workers', () => {
  it('retries a failed key after a backoff, never works one key on two workers at once, and stops cleanly', async () => {
    const trace: string[] = [];
    const controller = new FlakyController(context(trace));
    controller.run(3);
    const pod = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'default', name } });
    for (let i = 0; i < 5; i++) {
      controller.enqueue(pod('a'));
      controller.enqueue(pod('b'));
    }
    await waitFor('both keys to succeed', () => controller.seen.includes('default/a') && controller.seen.includes('default/b'));
    await controller.stop();
    assert.equal(controller.maxInFlightPerKey, 1, 'one key is never reconciled by two workers at once');
    assert.ok(trace.some((line) => /flaky default\/a: first try of default\/a fails; will retry/.test(line)), trace.join('\n'));
    assert.equal(controller.queue.numRequeues('default/a'), 0, 'success forgot the failures');
  });
});
