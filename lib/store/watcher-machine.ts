/**
 * The lifecycle of one watcher, as an XState machine. A watcher that starts at
 * a past revision is `unsynced`: it is fed from history, a batch at a time,
 * until it has seen the current revision; then it is `synced` and receives each
 * new revision as it is written. A watcher whose client stops reading is
 * `blocked`: nothing more is queued for it, and once the client reads again it
 * catches up from history like any unsynced watcher (etcd does the same with
 * its slow "victim" watchers). The hub routes events by asking the machine
 * which state the watcher is in, so a revision is never delivered twice or
 * skipped at a hand-over.
 */
import { assign, setup } from 'xstate';

export interface WatcherContext {
  id: number;
  /**
   * The next revision this watcher must receive (never 0: "from now" is
   * current + 1). Advanced while catching up; once synced, it only matters
   * for a watcher whose start revision is still in the future.
   */
  nextRevision: number;
  /** The store's revision when the watcher was created. */
  revisionAtStart: number;
}

export type WatcherEvent =
  | { type: 'watcher.delivered'; upTo: number }
  | { type: 'watcher.caughtUp' }
  | { type: 'watcher.blocked'; nextRevision: number }
  | { type: 'watcher.resumed' }
  | { type: 'watcher.compacted' }
  | { type: 'watcher.cancel' };

// #region watcher-machine
export const watcherMachine = setup({
  types: {
    context: {} as WatcherContext,
    input: {} as { id: number; startRevision: number; currentRevision: number },
    events: {} as WatcherEvent,
  },
  guards: {
    // A watcher that starts in the future (or "from now") has nothing to catch up on.
    startsAfterCurrent: ({ context }) => context.nextRevision > context.revisionAtStart,
  },
  actions: {
    advance: assign({
      nextRevision: ({ context, event }) => (event.type === 'watcher.delivered' ? event.upTo + 1 : context.nextRevision),
    }),
    // A synced watcher has been sent everything so far, so it resumes after the last revision.
    holdPosition: assign({
      nextRevision: ({ context, event }) => (event.type === 'watcher.blocked' ? Math.max(context.nextRevision, event.nextRevision) : context.nextRevision),
    }),
  },
}).createMachine({
  id: 'watcher',
  context: ({ input }) => ({ id: input.id, nextRevision: input.startRevision, revisionAtStart: input.currentRevision }),
  initial: 'starting',
  states: {
    starting: {
      always: [{ guard: 'startsAfterCurrent', target: 'synced' }, { target: 'unsynced' }],
    },
    unsynced: {
      on: {
        'watcher.delivered': { actions: 'advance' },
        'watcher.caughtUp': { target: 'synced' },
        'watcher.compacted': { target: 'compacted' },
        'watcher.blocked': { target: 'blocked' },
        'watcher.cancel': { target: 'canceled' },
      },
    },
    // Synced: every new revision is delivered as it is written.
    synced: {
      on: {
        'watcher.blocked': { target: 'blocked', actions: 'holdPosition' },
        'watcher.cancel': { target: 'canceled' },
      },
    },
    blocked: {
      on: {
        'watcher.resumed': { target: 'unsynced' },
        'watcher.cancel': { target: 'canceled' },
      },
    },
    compacted: { type: 'final' },
    canceled: { type: 'final' },
  },
});
// #endregion watcher-machine
