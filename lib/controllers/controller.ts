/**
 * What every controller shares, as in kubernetes/sample-controller: event
 * handlers only turn a change into a key (`namespace/name`) on a work queue;
 * workers take keys one at a time and call `reconcile(key)`, which re-reads
 * the current state from the informers' caches and acts through the API
 * server to move it toward the desired state. Because reconcile reads the
 * world afresh each time, it does not matter how many changes were folded
 * into one key, or whether an event was missed: the next reconcile fixes it.
 */
import { createActor, fromPromise, type ActorRefFrom } from 'xstate';
import type { KubeObject } from '../api/types.ts';
import type { Clock, KubeClient } from '../client/client.ts';
import type { EventRecorder } from '../client/events.ts';
import { keyOf } from '../client/informer.ts';
import { WorkQueue } from '../client/workqueue.ts';
import type { InformerFactory } from './informers.ts';
import { reconcileLoop } from './reconcile-machine.ts';

/** What a controller is given by the controller manager. */
export interface ControllerContext {
  client: KubeClient;
  informers: InformerFactory;
  recorder: EventRecorder;
  clock: Clock;
  /** Narration: one line per decision ("replicaset default/backend-7d9f8: creating 3 pods"). */
  trace: (line: string) => void;
}

/** One control loop: a queue of keys and a reconcile function. */
export abstract class Controller {
  /** The name the controller manager knows it by (`--controllers`), e.g. "replicaset". */
  abstract readonly name: string;
  readonly queue: WorkQueue;
  private workers: Array<ActorRefFrom<typeof reconcileLoop>> = [];
  private finished: Promise<void>[] = [];

  constructor(protected readonly ctx: ControllerContext) {
    this.queue = new WorkQueue({ clock: ctx.clock });
  }

  /** Brings the current state of `key` toward its desired state; throws to be retried later. */
  abstract reconcile(key: string): Promise<void>;

  /** Called once before the workers start, after the informers synced (e.g. to enqueue periodic checks). */
  protected onStart(): void {}

  /** Adds an object's key to the queue: all an event handler ever does. */
  enqueue(obj: KubeObject): void {
    this.queue.add(keyOf(obj));
  }

  // #region run
  /** Starts `workers` reconcile loops (each an XState actor) that run until stop(). */
  run(workers = 1): void {
    this.onStart();
    for (let i = 0; i < workers; i++) {
      const worker = createActor(
        reconcileLoop.provide({
          actors: {
            nextKey: fromPromise(() => this.queue.get()),
            reconcile: fromPromise(({ input }: { input: { key: string } }) => this.reconcile(input.key)),
          },
          actions: {
            forget: ({ context }) => this.queue.forget(context.key ?? ''),
            requeue: ({ context, event }) => {
              const error = (event as { error?: unknown }).error;
              this.ctx.trace(`${this.name} ${context.key}: ${error instanceof Error ? error.message : String(error)}; will retry (failure ${this.queue.numRequeues(context.key ?? '') + 1} in a row)`);
              this.queue.addRateLimited(context.key ?? '');
            },
            done: ({ context }) => this.queue.done(context.key ?? ''),
          },
        }),
        { input: { controller: this.name } },
      );
      this.finished.push(
        new Promise<void>((resolve) => {
          worker.subscribe({ complete: () => resolve(), error: () => resolve() });
        }),
      );
      worker.start();
      this.workers.push(worker);
    }
  }
  // #endregion run

  /** Shuts the queue down and waits for the workers to finish their current key. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.finished);
    this.workers = [];
    this.finished = [];
  }
}
