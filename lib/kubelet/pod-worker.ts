/**
 * The pod worker: one XState machine per Pod on the node, which really drives
 * it. It runs the Pod's sandbox, pulls its images, creates and starts its
 * containers, watches them run, restarts those that exit (at once the first
 * time, then after a growing back-off: CrashLoopBackOff), restarts those
 * whose liveness probe fails, and when the Pod is deleted stops its
 * containers gracefully and removes what is left. Every side effect is an
 * actor the kubelet provides (`podWorker.provide({ actors })`), so the
 * machine itself holds only the decisions; the kubelet turns its context
 * into the Pod's status.
 */
import { assign, fromPromise, setup } from 'xstate';
import type { ContainerState, Pod } from '../api/types.ts';
import { formatBackoff, resetsBackoff } from './backoff.ts';
import type { KubeletSeams } from './seams.ts';

/** Image pull back-off: 10 s doubling to 5 min, as the kubelet's image back-off. */
export const IMAGE_BACKOFF_INITIAL_MS = 10_000;
export const IMAGE_BACKOFF_MAX_MS = 300_000;
/** How long a failed pull shows ErrImagePull before the back-off shows ImagePullBackOff. */
export const ERR_IMAGE_PULL_SHOWN_MS = 1_000;
/** The shortest grace period the kubelet gives a container (upstream's minimumGracePeriodInSeconds). */
export const MINIMUM_GRACE_SECONDS = 2;

/** What the worker knows about one of the Pod's containers. */
export interface ContainerRecord {
  name: string;
  image: string;
  /** The runtime's id of the current (or last) container, once created. */
  id?: string;
  /** The id of the container before it, kept for `kubectl logs --previous`. */
  previousId?: string;
  imageID: string;
  /** How many times it was restarted (the next container's attempt number). */
  restartCount: number;
  state: ContainerState;
  lastState?: ContainerState;
  /** Exits in a row, for the back-off; the time of the last one. */
  exits: number;
  lastExitAt?: number;
  /** When the back-off lets it start again (ms); undefined when it need not start. */
  restartAt?: number;
  ready: boolean;
  started: boolean;
}

/** A container that ended, as the PLEG (or a kill) reports it. */
export interface ContainerExit {
  name: string;
  id: string;
  exitCode: number;
  reason: string;
  startedAt: number;
  finishedAt: number;
}

/** A container the start actor started, or failed to. */
export type StartResult = { name: string; id: string; startedAt: number } | { name: string; error: { reason: string; message: string } };

export interface PodWorkerContext {
  pod: Pod;
  uid: string;
  sandboxId?: string;
  podIP?: string;
  containers: Record<string, ContainerRecord>;
  /** Failed pulls in a row, and the last failure (image and message). */
  pullFailures: number;
  pullError?: { image: string; reason: string; message: string };
  /** The grace period of the deletion, once the Pod is being deleted. */
  graceSeconds?: number;
  now: () => number;
  seams: Pick<KubeletSeams, 'crashLoopDelayMs'>;
}

export interface PodWorkerInput {
  pod: Pod;
  now: () => number;
  seams: Pick<KubeletSeams, 'crashLoopDelayMs'>;
  /** What a restarted kubelet found running for this Pod (adoption), if anything. */
  adopted?: { sandboxId: string; podIP?: string; containers: Record<string, ContainerRecord> };
}

export type PodWorkerEvent =
  | { type: 'pod.updated'; pod: Pod }
  | { type: 'pod.deleted'; gracePeriodSeconds: number }
  | { type: 'container.exited'; exit: ContainerExit }
  | { type: 'probe.liveness.failed'; name: string }
  | { type: 'probe.readiness'; name: string; ready: boolean };

/** A new record for a container of the Pod's spec, not yet created. */
export function newContainerRecord(name: string, image: string): ContainerRecord {
  return { name, image, imageID: '', restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } }, exits: 0, ready: false, started: false };
}

function initialContainers(pod: Pod): Record<string, ContainerRecord> {
  return Object.fromEntries(pod.spec.containers.map((c) => [c.name, newContainerRecord(c.name, c.image ?? '')]));
}

// #region due-containers
/** The containers to start now: never started yet, or restartable with their back-off over. */
export function dueContainers(context: PodWorkerContext): string[] {
  const now = context.now();
  return Object.values(context.containers)
    .filter((c) => !c.state.running && (c.id === undefined ? c.restartAt === undefined || c.restartAt <= now : c.restartAt !== undefined && c.restartAt <= now))
    .map((c) => c.name);
}

/** Whether a container that exited with `exitCode` is restarted under the Pod's restart policy. */
export function restartable(pod: Pod, exitCode: number): boolean {
  const policy = pod.spec.restartPolicy ?? 'Always';
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}
// #endregion due-containers

/** The earliest moment a waiting container may start, as a delay from now (ms). */
function untilNextRestart(context: PodWorkerContext): number {
  const times = Object.values(context.containers).map((c) => c.restartAt).filter((t): t is number => t !== undefined);
  return Math.max(0, Math.min(...times) - context.now());
}

// #region record-exit
/** What an exit does to a container's record: its last state, and the back-off before it runs again (or never). */
export function recordExit(context: PodWorkerContext, exit: ContainerExit): ContainerRecord | undefined {
  const record = context.containers[exit.name];
  // Why ignore: an exit of a container this record has already replaced (or never knew) changes nothing.
  if (!record || record.id !== exit.id || !record.state.running) return undefined;
  const terminated: ContainerState = {
    terminated: { exitCode: exit.exitCode, reason: exit.reason, startedAt: iso(exit.startedAt), finishedAt: iso(exit.finishedAt), containerID: exit.id },
  };
  const next: ContainerRecord = { ...record, ready: false, started: false, lastState: terminated, state: terminated, restartAt: undefined };
  if (!restartable(context.pod, exit.exitCode) || context.graceSeconds !== undefined) return next;
  // Why start over: exits far apart are not a crash loop.
  const exits = record.lastExitAt !== undefined && resetsBackoff(record.lastExitAt, exit.finishedAt) ? 1 : record.exits + 1;
  const delay = context.seams.crashLoopDelayMs(exits);
  next.exits = exits;
  next.lastExitAt = exit.finishedAt;
  next.restartAt = exit.finishedAt + delay;
  if (delay > 0) {
    const pod = `${context.pod.metadata.name}_${context.pod.metadata.namespace}(${context.uid})`;
    next.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${formatBackoff(delay)} restarting failed container=${exit.name} pod=${pod}` } };
  }
  return next;
}
// #endregion record-exit

function iso(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** The image pull back-off after `failures` failed pulls in a row. */
export function imagePullDelayMs(failures: number): number {
  return Math.min(IMAGE_BACKOFF_MAX_MS, IMAGE_BACKOFF_INITIAL_MS * 2 ** Math.max(0, Math.min(failures - 1, 30)));
}

function setWaiting(context: PodWorkerContext, names: readonly string[], reason: string, message: string): Record<string, ContainerRecord> {
  const containers = { ...context.containers };
  for (const name of names) {
    const record = containers[name];
    if (record && !record.state.running) containers[name] = { ...record, state: { waiting: { reason, message } } };
  }
  return containers;
}

// #region pod-worker
export const podWorker = setup({
  types: {
    context: {} as PodWorkerContext,
    input: {} as PodWorkerInput,
    events: {} as PodWorkerEvent,
  },
  actors: {
    // Each is provided by the kubelet (or a test) with .provide(): they call the container runtime.
    runSandbox: fromPromise<{ sandboxId: string; podIP?: string }, { pod: Pod }>(async () => ({ sandboxId: '' })),
    pullImages: fromPromise<Record<string, string>, { pod: Pod; names: string[] }>(async () => ({})),
    startContainers: fromPromise<StartResult[], { context: PodWorkerContext; names: string[] }>(async () => []),
    killContainer: fromPromise<ContainerExit | undefined, { context: PodWorkerContext; name: string }>(async () => undefined),
    killPod: fromPromise<ContainerExit[], { context: PodWorkerContext }>(async () => []),
  },
  delays: {
    untilRestart: ({ context }) => untilNextRestart(context),
    errImagePullShown: ERR_IMAGE_PULL_SHOWN_MS,
    pullBackOffLeft: ({ context }) => Math.max(0, imagePullDelayMs(context.pullFailures) - ERR_IMAGE_PULL_SHOWN_MS),
    sandboxRetry: 2_000,
  },
  guards: {
    adopted: ({ context }) => context.sandboxId !== undefined,
    // Why terminal: under Never/OnFailure, a Pod whose containers are all done has finished; nothing will start again.
    finished: ({ context }) => Object.values(context.containers).every((c) => c.state.terminated !== undefined && c.restartAt === undefined),
    hasDue: ({ context }) => dueContainers(context).length > 0,
    waitsForBackOff: ({ context }) => Object.values(context.containers).some((c) => c.restartAt !== undefined && !c.state.running),
  },
  actions: {
    recordExit: assign({
      containers: ({ context, event }) => {
        if (event.type !== 'container.exited') return context.containers;
        const next = recordExit(context, event.exit);
        return next ? { ...context.containers, [next.name]: next } : context.containers;
      },
    }),
    recordReadiness: assign({
      containers: ({ context, event }) => {
        if (event.type !== 'probe.readiness') return context.containers;
        const record = context.containers[event.name];
        if (!record?.state.running) return context.containers;
        return { ...context.containers, [event.name]: { ...record, ready: event.ready } };
      },
    }),
    updatePod: assign({ pod: ({ context, event }) => (event.type === 'pod.updated' ? event.pod : context.pod) }),
    startDeleting: assign({ graceSeconds: ({ event }) => (event.type === 'pod.deleted' ? Math.max(MINIMUM_GRACE_SECONDS, event.gracePeriodSeconds) : MINIMUM_GRACE_SECONDS) }),
  },
}).createMachine({
  id: 'podWorker',
  context: ({ input }) => ({
    pod: input.pod,
    uid: input.pod.metadata.uid ?? '',
    sandboxId: input.adopted?.sandboxId,
    podIP: input.adopted?.podIP,
    containers: { ...initialContainers(input.pod), ...input.adopted?.containers },
    pullFailures: 0,
    now: input.now,
    seams: input.seams,
  }),
  initial: 'starting',
  on: {
    'pod.updated': { actions: 'updatePod' },
    'pod.deleted': { target: '.terminating', actions: 'startDeleting' },
    // Why at the top: an exit can come while the worker is busy starting another container.
    'container.exited': { actions: 'recordExit' },
    'probe.readiness': { actions: 'recordReadiness' },
  },
  states: {
    starting: {
      always: [{ guard: 'adopted', target: 'deciding' }, { target: 'creatingSandbox' }],
    },
    creatingSandbox: {
      invoke: {
        src: 'runSandbox',
        input: ({ context }) => ({ pod: context.pod }),
        onDone: { target: 'pullingImages', actions: assign({ sandboxId: ({ event }) => event.output.sandboxId, podIP: ({ event }) => event.output.podIP }) },
        onError: 'sandboxFailed',
      },
    },
    sandboxFailed: {
      after: { sandboxRetry: 'creatingSandbox' },
    },
    pullingImages: {
      invoke: {
        src: 'pullImages',
        input: ({ context }) => ({ pod: context.pod, names: dueContainers(context) }),
        onDone: {
          target: 'startingContainers',
          actions: assign({
            pullFailures: 0,
            pullError: undefined,
            containers: ({ context, event }) => {
              const containers = { ...context.containers };
              for (const [name, imageID] of Object.entries(event.output)) if (containers[name]) containers[name] = { ...containers[name], imageID };
              return containers;
            },
          }),
        },
        onError: {
          target: 'imagePullFailed',
          actions: assign({
            pullFailures: ({ context }) => context.pullFailures + 1,
            pullError: ({ event }) => pullFailure(event.error),
            containers: ({ context, event }) => {
              const failure = pullFailure(event.error);
              return setWaiting(context, dueContainers(context), failure.reason === 'InvalidImageName' ? 'InvalidImageName' : 'ErrImagePull', failure.message);
            },
          }),
        },
      },
    },
    // #region image-pull-backoff
    imagePullFailed: {
      // Why two states: the first moments after a failed pull show ErrImagePull, the wait before the next try ImagePullBackOff.
      after: { errImagePullShown: 'imagePullBackOff' },
    },
    imagePullBackOff: {
      entry: assign({
        containers: ({ context }) => {
          const failure = context.pullError;
          if (!failure || failure.reason === 'InvalidImageName') return context.containers;
          return setWaiting(context, dueContainers(context), 'ImagePullBackOff', `Back-off pulling image "${failure.image}": ErrImagePull: ${failure.message}`);
        },
      }),
      after: { pullBackOffLeft: 'pullingImages' },
    },
    // #endregion image-pull-backoff
    startingContainers: {
      invoke: {
        src: 'startContainers',
        input: ({ context }) => ({ context, names: dueContainers(context) }),
        onDone: {
          target: 'deciding',
          actions: assign({ containers: ({ context, event }) => applyStarts(context, event.output) }),
        },
        onError: 'deciding',
      },
    },
    deciding: {
      always: [
        { guard: 'finished', target: 'completed' },
        { guard: 'hasDue', target: 'pullingImages' },
        { guard: 'waitsForBackOff', target: 'backingOff' },
        { target: 'running' },
      ],
    },
    running: {
      on: {
        'container.exited': { target: 'deciding', actions: 'recordExit' },
        'probe.liveness.failed': 'killingContainer',
      },
    },
    backingOff: {
      after: { untilRestart: 'deciding' },
      on: {
        'container.exited': { target: 'deciding', actions: 'recordExit', reenter: true },
        'probe.liveness.failed': 'killingContainer',
      },
    },
    killingContainer: {
      invoke: {
        src: 'killContainer',
        input: ({ context, event }) => ({ context, name: event.type === 'probe.liveness.failed' ? event.name : '' }),
        onDone: {
          target: 'deciding',
          actions: assign({
            containers: ({ context, event }) => {
              const next = event.output ? recordExit(context, event.output) : undefined;
              return next ? { ...context.containers, [next.name]: next } : context.containers;
            },
          }),
        },
        onError: 'deciding',
      },
    },
    completed: {
      // Why nothing: a finished Pod keeps its containers (for logs) until it is deleted.
    },
    terminating: {
      invoke: {
        src: 'killPod',
        input: ({ context }) => ({ context }),
        onDone: {
          target: 'terminated',
          actions: assign({ containers: ({ context, event }) => applyKills(context, event.output) }),
        },
        onError: 'terminated',
      },
      on: { 'pod.deleted': {} },
    },
    terminated: { type: 'final' },
  },
});
// #endregion pod-worker

function pullFailure(error: unknown): { image: string; reason: string; message: string } {
  const e = error as { reason?: string; message?: string; image?: string };
  return { image: e.image ?? '', reason: e.reason ?? 'ErrImagePull', message: e.message ?? String(error) };
}

/** The records after a start: running containers, or a failure treated as an exit with back-off. */
function applyStarts(context: PodWorkerContext, results: StartResult[]): Record<string, ContainerRecord> {
  const containers = { ...context.containers };
  for (const result of results) {
    const record = containers[result.name];
    if (!record) continue;
    if ('error' in result) {
      const exits = record.exits + 1;
      containers[result.name] = { ...record, exits, restartAt: context.now() + Math.max(context.seams.crashLoopDelayMs(exits), 1_000), state: { waiting: { reason: result.error.reason, message: result.error.message } } };
      continue;
    }
    const restarted = record.id !== undefined;
    containers[result.name] = {
      ...record,
      previousId: restarted ? record.id : record.previousId,
      id: result.id,
      restartCount: restarted ? record.restartCount + 1 : record.restartCount,
      state: { running: { startedAt: iso(result.startedAt) } },
      restartAt: undefined,
      started: true,
      // Why not ready yet with a readiness probe: the probe decides; without one, running is ready.
      ready: !context.pod.spec.containers.find((c) => c.name === result.name)?.readinessProbe,
    };
  }
  return containers;
}

function applyKills(context: PodWorkerContext, exits: ContainerExit[]): Record<string, ContainerRecord> {
  const containers = { ...context.containers };
  for (const exit of exits) {
    const record = containers[exit.name];
    if (!record) continue;
    const terminated = { exitCode: exit.exitCode, reason: exit.reason, startedAt: iso(exit.startedAt), finishedAt: iso(exit.finishedAt), containerID: exit.id };
    containers[exit.name] = { ...record, ready: false, started: false, restartAt: undefined, state: { terminated } };
  }
  for (const [name, record] of Object.entries(containers)) {
    if (!record.state.terminated && !exits.some((e) => e.name === name)) containers[name] = { ...record, ready: false, restartAt: undefined, state: record.lastState?.terminated ? { terminated: record.lastState.terminated } : { waiting: { reason: 'ContainerCreating' } } };
  }
  return containers;
}
