/**
 * The scheduling cycle as an XState machine: take the next Pod from the
 * queue, filter the nodes, score the feasible ones, assume the Pod on the
 * best and hand it to a binding actor, then take the next Pod at once. The
 * binding runs on its own (upstream's binding cycle is a goroutine), so a
 * slow API server does not hold up the decisions; its outcome comes back as
 * an event (`pod.bound`, `pod.bindFailed`). When no node fits, the Pod is
 * recorded as FailedScheduling and parked in the queue. This machine really
 * runs the scheduler: startScheduler provides the actors and actions.
 */
import { assign, fromCallback, fromPromise, not, setup, stopChild } from 'xstate';
import type { QueuedPod } from './queue.ts';

/** What filtering says about one Pod: how many nodes fit, and the FailedScheduling message if none. */
export interface FilterOutcome {
  /** Names of the feasible nodes. */
  feasible: string[];
  /** The FitError message when `feasible` is empty. */
  message: string;
}

/** How a binding ended. */
export type BindOutcome = 'bound' | 'conflict' | 'podGone' | 'nodeGone' | 'error';

/** The event a binding actor sends back. */
export interface BindDoneEvent {
  type: 'pod.bound' | 'pod.bindFailed';
  actorId: string;
  pod: QueuedPod;
  node: string;
  outcome: BindOutcome;
  message: string;
}

/** What the cycle remembers: the Pod in hand, what filtering and scoring found, and counts for narration. */
export interface CycleContext {
  /** The Pod of this cycle. */
  pod: QueuedPod | undefined;
  feasible: string[];
  /** The node chosen for it. */
  node: string | undefined;
  /** Why it fits nowhere (FitError). */
  message: string;
  /** Bindings started and not yet finished. */
  binding: number;
  scheduled: number;
  unschedulable: number;
}

type CycleEvent = BindDoneEvent;

// #region cycle
/**
 * At most this many bindings in flight. Why a bound: each binding is an HTTPS
 * request; without one, a burst of thousands of Pods opens thousands of TLS
 * connections at once (client-go multiplexes them over one HTTP/2 connection
 * instead). A full set of bindings makes the cycle wait for one to finish.
 */
export const MAX_BINDINGS_IN_FLIGHT = 32;

/** The scheduling cycle: waitingForPod → filtering → scoring → binding (spawned) → waitingForPod, or → unschedulable. */
export const schedulingCycle = setup({
  types: {
    context: {} as CycleContext,
    events: {} as CycleEvent,
  },
  actors: {
    // Each is replaced by the scheduler (or a test) with .provide().
    nextPod: fromPromise<QueuedPod | undefined>(async () => undefined),
    filter: fromPromise<FilterOutcome, { pod: QueuedPod }>(async () => ({ feasible: [], message: '' })),
    score: fromPromise<string, { pod: QueuedPod; feasible: string[] }>(async ({ input }) => input.feasible[0] ?? ''),
    bind: fromCallback<CycleEvent, { pod: QueuedPod; node: string; actorId: string }>(() => () => {}),
  },
  actions: {
    // Why assume before binding: the next Pod must see this one's requests on the node already.
    assume: (_, _params: { pod: QueuedPod; node: string }) => {},
    // Why a FailedScheduling event and a wait: nothing will change by trying again until the cluster changes.
    recordUnschedulable: (_, _params: { pod: QueuedPod; message: string }) => {},
    // The binding's outcome: an event Scheduled, or undo the assumption (and retry unless the Pod is gone).
    finishBinding: (_, _params: BindDoneEvent) => {},
  },
  guards: {
    queueClosed: ({ event }) => (event as unknown as { output: QueuedPod | undefined }).output === undefined,
    noFeasibleNode: ({ event }) => (event as unknown as { output: FilterOutcome }).output.feasible.length === 0,
    bindingSlotsFull: ({ context }) => context.binding >= MAX_BINDINGS_IN_FLIGHT,
  },
}).createMachine({
  id: 'schedulingCycle',
  context: { pod: undefined, feasible: [], node: undefined, message: '', binding: 0, scheduled: 0, unschedulable: 0 },
  initial: 'waitingForPod',
  // Why at the root: a binding finishes whenever it finishes, whatever the next cycle is doing.
  on: {
    'pod.bound': {
      actions: [{ type: 'finishBinding', params: ({ event }) => event }, stopChild(({ event }) => event.actorId), assign({ binding: ({ context }) => context.binding - 1 })],
    },
    'pod.bindFailed': {
      actions: [{ type: 'finishBinding', params: ({ event }) => event }, stopChild(({ event }) => event.actorId), assign({ binding: ({ context }) => context.binding - 1 })],
    },
  },
  states: {
    waitingForPod: {
      entry: assign({ pod: undefined, feasible: [], node: undefined, message: '' }),
      invoke: {
        src: 'nextPod',
        onDone: [
          { guard: 'queueClosed', target: 'stopped' },
          { target: 'filtering', actions: assign({ pod: ({ event }) => event.output }) },
        ],
        onError: { target: 'stopped' },
      },
    },
    filtering: {
      invoke: {
        src: 'filter',
        input: ({ context }) => ({ pod: context.pod! }),
        onDone: [
          { guard: 'noFeasibleNode', target: 'unschedulable', actions: assign({ message: ({ event }) => event.output.message }) },
          { target: 'scoring', actions: assign({ feasible: ({ event }) => event.output.feasible }) },
        ],
        onError: { target: 'unschedulable', actions: assign({ message: ({ event }) => `scheduling failed: ${event.error instanceof Error ? event.error.message : String(event.error)}` }) },
      },
    },
    scoring: {
      invoke: {
        src: 'score',
        input: ({ context }) => ({ pod: context.pod!, feasible: context.feasible }),
        onDone: { target: 'binding', actions: assign({ node: ({ event }) => event.output }) },
        onError: { target: 'unschedulable', actions: assign({ message: ({ event }) => `scoring failed: ${event.error instanceof Error ? event.error.message : String(event.error)}` }) },
      },
    },
    // #region binding-state
    binding: {
      entry: [
        { type: 'assume', params: ({ context }) => ({ pod: context.pod!, node: context.node! }) },
        // Why spawn, not invoke: the cycle moves on to the next Pod while this one's binding is in flight.
        assign(({ context, spawn }) => {
          // Why the count in the id: it is unique even for a Pod deleted and re-created under the same name.
          const actorId = `bind-${context.scheduled}:${context.pod!.key}`;
          spawn('bind', { id: actorId, input: { pod: context.pod!, node: context.node!, actorId } });
          return { binding: context.binding + 1, scheduled: context.scheduled + 1 };
        }),
      ],
      always: [{ guard: 'bindingSlotsFull', target: 'waitingForBindingSlot' }, { target: 'waitingForPod' }],
    },
    // Why no invoke: the root's pod.bound / pod.bindFailed free a slot, and `always` looks again after each event.
    waitingForBindingSlot: {
      always: { guard: not('bindingSlotsFull'), target: 'waitingForPod' },
    },
    // #endregion binding-state
    unschedulable: {
      entry: [
        { type: 'recordUnschedulable', params: ({ context }) => ({ pod: context.pod!, message: context.message }) },
        assign({ unschedulable: ({ context }) => context.unschedulable + 1 }),
      ],
      always: { target: 'waitingForPod' },
    },
    stopped: { type: 'final' },
  },
});
// #endregion cycle
