/**
 * The control loop of one worker, as an XState machine: wait for a key from
 * the work queue, reconcile it (read the desired and the current state from
 * the caches, act through the API server), then tell the queue how it went.
 * Success forgets the key's failures; an error puts it back with a growing
 * delay; a queue shut down ends the loop. This machine really runs every
 * controller's workers: `Controller.run` starts one actor per worker.
 */
import { assign, fromPromise, setup } from 'xstate';

/** What a worker loop needs: the queue's side and the controller's reconcile. */
export interface ReconcileLoopInput {
  controller: string;
}

export interface ReconcileLoopContext {
  controller: string;
  /** The key being reconciled, if any. */
  key: string | undefined;
  /** How many keys this worker finished, and how many failed. */
  reconciled: number;
  failed: number;
  lastError: string | undefined;
}

// #region reconcile-loop
export const reconcileLoop = setup({
  types: {
    context: {} as ReconcileLoopContext,
    input: {} as ReconcileLoopInput,
  },
  actors: {
    // Each is replaced by the controller (or a test) with .provide().
    nextKey: fromPromise<string | undefined>(async () => undefined),
    reconcile: fromPromise<void, { key: string }>(async () => {}),
  },
  actions: {
    // Why forget on success: the next failure of this key starts its backoff from the shortest delay again.
    forget: () => {},
    // Why requeue rate-limited: a failure that repeats at once would hammer the API server; the delay doubles per failure.
    requeue: () => {},
    // Why done: the queue holds a key that changed during reconcile until now, so it is never worked on twice at once.
    done: () => {},
  },
  guards: {
    queueShutDown: ({ event }) => (event as unknown as { output: string | undefined }).output === undefined,
  },
}).createMachine({
  id: 'reconcileLoop',
  context: ({ input }) => ({ controller: input.controller, key: undefined, reconciled: 0, failed: 0, lastError: undefined }),
  initial: 'waitingForKey',
  states: {
    waitingForKey: {
      invoke: {
        src: 'nextKey',
        onDone: [
          { guard: 'queueShutDown', target: 'stopped' },
          { target: 'reconciling', actions: assign({ key: ({ event }) => event.output }) },
        ],
        onError: { target: 'stopped' },
      },
    },
    reconciling: {
      invoke: {
        src: 'reconcile',
        input: ({ context }) => ({ key: context.key ?? '' }),
        onDone: {
          target: 'waitingForKey',
          actions: ['forget', 'done', assign({ reconciled: ({ context }) => context.reconciled + 1, key: undefined, lastError: undefined })],
        },
        onError: {
          target: 'waitingForKey',
          actions: [
            'requeue',
            'done',
            assign({
              failed: ({ context }) => context.failed + 1,
              lastError: ({ event }) => (event.error instanceof Error ? event.error.message : String(event.error)),
              key: undefined,
            }),
          ],
        },
      },
    },
    stopped: { type: 'final' },
  },
});
// #endregion reconcile-loop
