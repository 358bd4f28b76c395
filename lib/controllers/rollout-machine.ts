/**
 * One reconcile of a Deployment, as an XState machine. It starts from what
 * the caches show (the Deployment, its ReplicaSets, how many of their Pods
 * are active and available), picks the strategy, takes at most one step —
 * create the new ReplicaSet, grow it, or shrink the old ones — and always
 * ends by writing the Deployment's status. The next step happens on the
 * next reconcile, when the Pods the step caused show up in the caches. The
 * API writes are actors, which the Deployment controller provides (and
 * tests replace with `.provide()`).
 */
import { assign, fromPromise, setup } from 'xstate';
import type { Deployment, ReplicaSet } from '../api/types.ts';
import { DESIRED_REPLICAS, findNewReplicaSet, planScaleDown, proportionalScale, resolveFenceposts, rollingUpdateStep as referenceStep, type RollingUpdateStep } from './rollout.ts';

/** Active and available Pods of one ReplicaSet, as the Pod cache shows them. */
export interface PodCounts {
  active: number;
  available: number;
}

/** What a reconcile starts from. */
export interface RolloutInput {
  deployment: Deployment;
  /** The ReplicaSets the Deployment controls (after adoption). */
  replicaSets: ReplicaSet[];
  /** Pod counts by ReplicaSet name. */
  pods: Record<string, PodCounts>;
  /** Exercise 3.3's function (the learner's, in the lab). */
  rollingUpdateStep?: typeof referenceStep;
}

/** Why the Progressing condition changes, if this reconcile made progress. */
export type ProgressReason = 'NewReplicaSetCreated' | 'ReplicaSetUpdated' | undefined;

export interface RolloutContext {
  deployment: Deployment;
  newRS: ReplicaSet | undefined;
  oldRSs: ReplicaSet[];
  pods: Record<string, PodCounts>;
  stepFn: typeof referenceStep;
  step: RollingUpdateStep | undefined;
  progress: ProgressReason;
  status: Deployment['status'] | undefined;
  error: unknown;
  outcome: RolloutOutput['outcome'];
}

/** How a reconcile ended: `complete` when the rollout is done, else `progressing` (or `failed` with the error). */
export interface RolloutOutput {
  outcome: 'complete' | 'progressing' | 'failed';
  error: unknown;
  status: Deployment['status'] | undefined;
}

/** A change of size for one ReplicaSet. */
export interface ScaleChange {
  rs: ReplicaSet;
  replicas: number;
}

/** The inputs of the machine's actors. */
export interface CreateReplicaSetInput { deployment: Deployment; replicas: number; oldRSs: ReplicaSet[] }
export interface SyncRevisionInput { deployment: Deployment; newRS: ReplicaSet; oldRSs: ReplicaSet[] }
export interface ScaleInput { deployment: Deployment; changes: ScaleChange[] }
export interface CleanUpInput { deployment: Deployment; oldRSs: ReplicaSet[] }
export interface StatusInput { deployment: Deployment; newRS: ReplicaSet | undefined; allRSs: ReplicaSet[]; progress: ProgressReason }

const notProvided = (what: string) => async (): Promise<never> => {
  throw new Error(`expected the Deployment controller to provide the ${what} actor, got the placeholder`);
};

function replicasOf(d: Deployment): number {
  return d.spec.replicas ?? 1;
}

function counted(context: RolloutContext, rs: ReplicaSet): number {
  // Why the larger of spec and Pods: a ReplicaSet just shrunk still has its Pods until they are deleted; counting them keeps the surge honest.
  return Math.max(rs.spec.replicas ?? 0, context.pods[rs.metadata.name ?? '']?.active ?? 0);
}

function available(context: RolloutContext, rs: ReplicaSet | undefined): number {
  return rs ? context.pods[rs.metadata.name ?? '']?.available ?? 0 : 0;
}

/** The input of exercise 3.3's function for this Deployment. */
export function stepInput(context: RolloutContext) {
  const d = context.deployment;
  return {
    replicas: replicasOf(d),
    maxSurge: d.spec.strategy?.rollingUpdate?.maxSurge ?? '25%',
    maxUnavailable: d.spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%',
    newReplicas: context.newRS?.spec.replicas ?? 0,
    newAvailable: available(context, context.newRS),
    oldReplicas: context.oldRSs.reduce((sum, rs) => sum + counted(context, rs), 0),
    oldAvailable: context.oldRSs.reduce((sum, rs) => sum + available(context, rs), 0),
  };
}

/** The old ReplicaSets' new sizes after removing `count` of their Pods. */
function scaleDownChanges(context: RolloutContext, count: number): ScaleChange[] {
  const plan = planScaleDown(
    context.oldRSs.map((rs) => ({ name: rs.metadata.name ?? '', replicas: counted(context, rs), available: available(context, rs), created: rs.metadata.creationTimestamp ?? '' })),
    count,
  );
  return context.oldRSs.flatMap((rs) => {
    const to = plan.get(rs.metadata.name ?? '') ?? 0;
    return to < (rs.spec.replicas ?? 0) ? [{ rs, replicas: to }] : [];
  });
}

/** True when the Deployment's status says the rollout is finished (what `kubectl rollout status` waits for). */
export function deploymentComplete(deployment: Deployment, status: Deployment['status']): boolean {
  const replicas = replicasOf(deployment);
  return (status?.updatedReplicas ?? 0) === replicas && (status?.replicas ?? 0) === replicas && (status?.availableReplicas ?? 0) === replicas && (status?.observedGeneration ?? 0) >= (deployment.metadata.generation ?? 0);
}

// #region rollout-machine
export const rolloutMachine = setup({
  types: {
    context: {} as RolloutContext,
    input: {} as RolloutInput,
    output: {} as RolloutOutput,
  },
  actors: {
    /** Creates the new ReplicaSet with `replicas` Pods (and records ScalingReplicaSet). */
    createReplicaSet: fromPromise<ReplicaSet, CreateReplicaSetInput>(notProvided('createReplicaSet')),
    /** Gives the new ReplicaSet the next revision and the current replica annotations; sets the Deployment's revision. */
    syncRevision: fromPromise<ReplicaSet, SyncRevisionInput>(notProvided('syncRevision')),
    /** Resizes ReplicaSets (and records ScalingReplicaSet for each). */
    scaleReplicaSets: fromPromise<void, ScaleInput>(notProvided('scaleReplicaSets')),
    /** Deletes old, empty ReplicaSets beyond revisionHistoryLimit. */
    cleanUp: fromPromise<void, CleanUpInput>(notProvided('cleanUp')),
    /** Computes and writes the Deployment's status and conditions; returns the status. */
    updateStatus: fromPromise<Deployment['status'], StatusInput>(notProvided('updateStatus')),
  },
  guards: {
    isDeleting: ({ context }) => Boolean(context.deployment.metadata.deletionTimestamp),
    isPaused: ({ context }) => Boolean(context.deployment.spec.paused),
    isRecreate: ({ context }) => context.deployment.spec.strategy?.type === 'Recreate',
    hasNewReplicaSet: ({ context }) => context.newRS !== undefined,
    // Why the annotation: each ReplicaSet remembers the spec.replicas it was last sized for; a different one now means `kubectl scale`, not a rollout.
    isScalingEvent: ({ context }) => activeReplicaSets(context).some((rs) => rs.metadata.annotations?.[DESIRED_REPLICAS] !== String(replicasOf(context.deployment))),
    oldHaveReplicas: ({ context }) => context.oldRSs.some((rs) => (rs.spec.replicas ?? 0) > 0),
    oldPodsRunning: ({ context }) => context.oldRSs.some((rs) => (context.pods[rs.metadata.name ?? '']?.active ?? 0) > 0),
    stepGrowsNew: ({ context }) => context.step !== undefined && context.step.newReplicas !== (context.newRS?.spec.replicas ?? 0),
    stepShrinksOld: ({ context }) => context.step !== undefined && scaleDownChanges(context, context.step.scaleDownOld).length > 0,
    stepFailed: ({ context }) => context.step === undefined,
  },
  actions: {
    // Why keep the error: the reconcile ends as failed with it, and the work queue retries the key later.
    recordError: assign({ error: ({ event }) => (event as { error?: unknown }).error }),
    // Why catch here: an exception thrown inside an action would escape the actor; the error ends the reconcile as failed instead, to be retried.
    planStep: assign(({ context }) => {
      try {
        return { step: context.stepFn(stepInput(context)) };
      } catch (error) {
        return { step: undefined, error };
      }
    }),
  },
}).createMachine({
  id: 'rollout',
  context: ({ input }) => {
    const newRS = findNewReplicaSet(input.deployment, input.replicaSets);
    return {
      deployment: input.deployment,
      newRS,
      oldRSs: input.replicaSets.filter((rs) => rs !== newRS),
      pods: input.pods,
      stepFn: input.rollingUpdateStep ?? referenceStep,
      step: undefined,
      progress: undefined,
      status: undefined,
      error: undefined,
      outcome: 'progressing',
    };
  },
  initial: 'syncing',
  states: {
    // #region strategy-choice
    syncing: {
      always: [
        { guard: 'isDeleting', target: 'reportingStatus' },
        { guard: 'isPaused', target: 'scaling' },
        { guard: 'isScalingEvent', target: 'scaling' },
        { guard: 'isRecreate', target: 'recreating' },
        { target: 'rollingUpdate' },
      ],
    },
    // #endregion strategy-choice
    // Why a paused Deployment still scales: `kubectl scale` must work while a rollout is paused; only the template change waits.
    scaling: {
      invoke: {
        src: 'scaleReplicaSets',
        input: ({ context }) => ({ deployment: context.deployment, changes: scalingChanges(context) }),
        onDone: [{ guard: 'isPaused', target: 'cleaningUp' }, { target: 'reportingStatus' }],
        onError: { target: 'failed', actions: 'recordError' },
      },
    },
    recreating: {
      initial: 'deciding',
      states: {
        // Why old first and wait: Recreate promises that old and new Pods never run at the same time.
        deciding: {
          always: [
            { guard: 'oldHaveReplicas', target: 'scalingDownOld' },
            { guard: 'oldPodsRunning', target: '#rollout.reportingStatus' },
            { guard: 'hasNewReplicaSet', target: 'syncingRevision' },
            { target: 'creatingNew' },
          ],
        },
        scalingDownOld: {
          invoke: {
            src: 'scaleReplicaSets',
            input: ({ context }) => ({ deployment: context.deployment, changes: context.oldRSs.filter((rs) => (rs.spec.replicas ?? 0) > 0).map((rs) => ({ rs, replicas: 0 })) }),
            onDone: '#rollout.reportingStatus',
            onError: { target: '#rollout.failed', actions: 'recordError' },
          },
        },
        creatingNew: {
          invoke: {
            src: 'createReplicaSet',
            input: ({ context }) => ({ deployment: context.deployment, replicas: replicasOf(context.deployment), oldRSs: context.oldRSs }),
            onDone: { target: '#rollout.reportingStatus', actions: assign({ newRS: ({ event }) => event.output, progress: 'NewReplicaSetCreated' }) },
            onError: { target: '#rollout.failed', actions: 'recordError' },
          },
        },
        syncingRevision: {
          invoke: {
            src: 'syncRevision',
            input: ({ context }) => ({ deployment: context.deployment, newRS: context.newRS!, oldRSs: context.oldRSs }),
            onDone: [
              { guard: ({ event, context }) => (event.output.spec.replicas ?? 0) === replicasOf(context.deployment), target: '#rollout.cleaningUp', actions: assign({ newRS: ({ event }) => event.output }) },
              { target: 'scalingUpNew', actions: assign({ newRS: ({ event }) => event.output }) },
            ],
            onError: { target: '#rollout.failed', actions: 'recordError' },
          },
        },
        scalingUpNew: {
          invoke: {
            src: 'scaleReplicaSets',
            input: ({ context }) => ({ deployment: context.deployment, changes: [{ rs: context.newRS!, replicas: replicasOf(context.deployment) }] }),
            onDone: { target: '#rollout.reportingStatus', actions: assign({ progress: 'ReplicaSetUpdated' }) },
            onError: { target: '#rollout.failed', actions: 'recordError' },
          },
        },
      },
    },
    // #region rolling-update-states
    rollingUpdate: {
      initial: 'deciding',
      states: {
        deciding: { always: [{ guard: 'hasNewReplicaSet', target: 'syncingRevision' }, { target: 'planningNew' }] },
        planningNew: {
          entry: 'planStep',
          always: [{ guard: 'stepFailed', target: '#rollout.failed' }, { target: 'creatingNew' }],
        },
        creatingNew: {
          invoke: {
            src: 'createReplicaSet',
            input: ({ context }) => ({ deployment: context.deployment, replicas: context.step?.newReplicas ?? 0, oldRSs: context.oldRSs }),
            onDone: { target: '#rollout.reportingStatus', actions: assign({ newRS: ({ event }) => event.output, progress: 'NewReplicaSetCreated' }) },
            onError: { target: '#rollout.failed', actions: 'recordError' },
          },
        },
        syncingRevision: {
          invoke: {
            src: 'syncRevision',
            input: ({ context }) => ({ deployment: context.deployment, newRS: context.newRS!, oldRSs: context.oldRSs }),
            onDone: { target: 'planning', actions: assign({ newRS: ({ event }) => event.output }) },
            onError: { target: '#rollout.failed', actions: 'recordError' },
          },
        },
        // One step per reconcile, as upstream: grow the new ReplicaSet if it may, else shrink the old ones if they may.
        planning: {
          entry: 'planStep',
          always: [{ guard: 'stepFailed', target: '#rollout.failed' }, { guard: 'stepGrowsNew', target: 'scalingUpNew' }, { guard: 'stepShrinksOld', target: 'scalingDownOld' }, { target: '#rollout.cleaningUp' }],
        },
        scalingUpNew: {
          invoke: {
            src: 'scaleReplicaSets',
            input: ({ context }) => ({ deployment: context.deployment, changes: [{ rs: context.newRS!, replicas: context.step!.newReplicas }] }),
            onDone: { target: '#rollout.reportingStatus', actions: assign({ progress: 'ReplicaSetUpdated' }) },
            onError: { target: '#rollout.failed', actions: 'recordError' },
          },
        },
        scalingDownOld: {
          invoke: {
            src: 'scaleReplicaSets',
            input: ({ context }) => ({ deployment: context.deployment, changes: scaleDownChanges(context, context.step!.scaleDownOld) }),
            onDone: { target: '#rollout.reportingStatus', actions: assign({ progress: 'ReplicaSetUpdated' }) },
            onError: { target: '#rollout.failed', actions: 'recordError' },
          },
        },
      },
    },
    // #endregion rolling-update-states
    cleaningUp: {
      invoke: {
        src: 'cleanUp',
        input: ({ context }) => ({ deployment: context.deployment, oldRSs: context.oldRSs }),
        onDone: 'reportingStatus',
        onError: { target: 'failed', actions: 'recordError' },
      },
    },
    reportingStatus: {
      invoke: {
        src: 'updateStatus',
        input: ({ context }) => ({
          deployment: context.deployment,
          newRS: context.newRS,
          allRSs: context.newRS ? [context.newRS, ...context.oldRSs] : context.oldRSs,
          progress: context.progress,
        }),
        onDone: [
          { guard: ({ context, event }) => deploymentComplete(context.deployment, event.output), target: 'complete', actions: assign({ status: ({ event }) => event.output }) },
          { target: 'progressing', actions: assign({ status: ({ event }) => event.output }) },
        ],
        onError: { target: 'failed', actions: 'recordError' },
      },
    },
    complete: { type: 'final', entry: assign({ outcome: 'complete' as const }) },
    progressing: { type: 'final', entry: assign({ outcome: 'progressing' as const }) },
    failed: { type: 'final', entry: assign({ outcome: 'failed' as const }) },
  },
  output: ({ context }) => ({ outcome: context.outcome, error: context.error, status: context.status }),
});
// #endregion rollout-machine

/** The ReplicaSets that have Pods to run (spec.replicas > 0). */
function activeReplicaSets(context: RolloutContext): ReplicaSet[] {
  return [context.newRS, ...context.oldRSs].filter((rs): rs is ReplicaSet => rs !== undefined && (rs.spec.replicas ?? 0) > 0);
}

/**
 * The sizes after a change of spec.replicas (or while paused): one active
 * ReplicaSet simply takes the new count; a finished new one lets the old
 * ones go; otherwise the change is shared proportionally. Every active
 * ReplicaSet is listed, so its desired-replicas annotation is brought up to
 * date even when its size stays.
 */
function scalingChanges(context: RolloutContext): ScaleChange[] {
  const d = context.deployment;
  const replicas = replicasOf(d);
  const active = activeReplicaSets(context);
  const stale = (rs: ReplicaSet, to: number) => (rs.spec.replicas ?? 0) !== to || rs.metadata.annotations?.[DESIRED_REPLICAS] !== String(replicas);
  const changes = (sizes: Array<[ReplicaSet, number]>) => sizes.filter(([rs, to]) => stale(rs, to)).map(([rs, to]) => ({ rs, replicas: to }));
  if (active.length <= 1) {
    const target = active[0] ?? context.newRS;
    return target ? changes([[target, replicas]]) : [];
  }
  const newRS = context.newRS;
  if (newRS && (newRS.spec.replicas ?? 0) === replicas && available(context, newRS) === replicas) {
    return changes([[newRS, replicas], ...context.oldRSs.map((rs): [ReplicaSet, number] => [rs, 0])]);
  }
  const sizes = proportionalScale(active.map((rs) => ({ name: rs.metadata.name ?? '', replicas: rs.spec.replicas ?? 0, created: rs.metadata.creationTimestamp ?? '' })), maxReplicas(d));
  return changes(active.map((rs) => [rs, sizes.get(rs.metadata.name ?? '') ?? 0]));
}

/** The most Pods a Deployment may have during a rollout (desired + surge), for the max-replicas annotation. */
export function maxReplicas(deployment: Deployment): number {
  const replicas = replicasOf(deployment);
  if (deployment.spec.strategy?.type === 'Recreate') return replicas;
  return replicas + resolveFenceposts(deployment.spec.strategy?.rollingUpdate?.maxSurge ?? '25%', deployment.spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%', replicas).surge;
}
