/**
 * The Deployment controller: a Deployment never touches Pods. It owns
 * ReplicaSets, one per version of its Pod template (named by the template's
 * hash), and moves Pods from the old version to the new one by resizing
 * them — the ReplicaSet controller does the creating and deleting. Every
 * reconcile runs the rollout machine (rollout-machine.ts) once: one step,
 * then the status that `kubectl rollout status` reads.
 */
import { createActor, fromPromise, toPromise } from 'xstate';
import type { Deployment, DeploymentCondition, Pod, ReplicaSet } from '../api/types.ts';
import { isAlreadyExists, isNotFound } from '../client/client.ts';
import { keyOf, type Informer } from '../client/informer.ts';
import { Controller, type ControllerContext } from './controller.ts';
import { BY_CONTROLLER, BY_NAMESPACE, controllerUid, ensureIndex, namespaceOf, RESOURCE } from './informers.ts';
import type { ControllerOptions } from './manager.ts';
import { controllerOf, controllerRef, isPodActive, isPodAvailable } from './pod-control.ts';
import { deploymentComplete, maxReplicas, rolloutMachine, type CleanUpInput, type CreateReplicaSetInput, type PodCounts, type ProgressReason, type ScaleInput, type StatusInput, type SyncRevisionInput } from './rollout-machine.ts';
import { canonicalJson, computeHash, DESIRED_REPLICAS, MAX_REPLICAS, POD_TEMPLATE_HASH, resolveFenceposts, REVISION, REVISION_HISTORY, revisionOf, templateMatches } from './rollout.ts';

/** The Deployment controller (kube-controller-manager's `deployment`). */
export class DeploymentController extends Controller {
  readonly name = 'deployment';
  private readonly deployments: Informer<Deployment>;
  private readonly replicaSets: Informer<ReplicaSet>;
  private readonly pods: Informer<Pod>;

  constructor(
    ctx: ControllerContext,
    private readonly options: ControllerOptions,
  ) {
    super(ctx);
    this.deployments = ensureIndex(ctx.informers.informerFor<Deployment>(RESOURCE.deployments), BY_NAMESPACE, namespaceOf);
    this.replicaSets = ensureIndex(ctx.informers.informerFor<ReplicaSet>(RESOURCE.replicasets), BY_NAMESPACE, namespaceOf);
    this.pods = ensureIndex(ctx.informers.informerFor<Pod>(RESOURCE.pods), BY_CONTROLLER, controllerUid);
    this.deployments.on('add', (d) => this.enqueue(d));
    this.deployments.on('update', (_old, d) => this.enqueue(d));
    this.deployments.on('delete', (d) => this.enqueue(d));
    this.replicaSets.on('add', (rs) => this.replicaSetChanged(rs));
    this.replicaSets.on('update', (old, rs) => {
      if (old.metadata.resourceVersion !== rs.metadata.resourceVersion) this.replicaSetChanged(rs);
    });
    this.replicaSets.on('delete', (rs) => this.replicaSetChanged(rs));
    // Why Pod deletions: a Recreate rollout waits until the old Pods are gone, which no ReplicaSet change announces.
    this.pods.on('delete', (pod) => {
      const rs = this.ownerReplicaSet(pod);
      if (rs) this.replicaSetChanged(rs);
    });
  }

  // #region handlers
  /** Wakes the Deployment that controls a ReplicaSet, or for an orphan every Deployment whose selector matches it. */
  private replicaSetChanged(rs: ReplicaSet): void {
    const ref = controllerOf(rs);
    if (ref?.kind === 'Deployment') {
      const d = this.deployments.get(`${rs.metadata.namespace}/${ref.name}`);
      if (d?.metadata.uid === ref.uid) this.enqueue(d);
      return;
    }
    if (ref) return;
    for (const d of this.deployments.byIndex(BY_NAMESPACE, rs.metadata.namespace ?? '')) {
      if (this.options.seams.selectorMatches(d.spec.selector, rs.metadata.labels)) this.enqueue(d);
    }
  }

  private ownerReplicaSet(pod: Pod): ReplicaSet | undefined {
    const ref = controllerOf(pod);
    return ref?.kind === 'ReplicaSet' ? this.replicaSets.get(`${pod.metadata.namespace}/${ref.name}`) : undefined;
  }
  // #endregion handlers

  // #region reconcile
  async reconcile(key: string): Promise<void> {
    const cached = this.deployments.get(key);
    if (!cached) return;
    const deployment = structuredClone(cached);
    const replicaSets = await this.claimReplicaSets(deployment);
    const actor = createActor(rolloutMachine.provide({ actors: this.actors() }), {
      input: { deployment, replicaSets, pods: this.podCounts(deployment, replicaSets), rollingUpdateStep: this.options.seams.rollingUpdateStep },
    });
    actor.start();
    const result = await toPromise(actor);
    if (result.outcome === 'failed') throw result.error;
    this.ctx.trace(`deployment ${key}: ${result.outcome} (${result.status?.updatedReplicas ?? 0} updated, ${result.status?.availableReplicas ?? 0} available of ${deployment.spec.replicas ?? 1})`);
  }
  // #endregion reconcile

  /** The ReplicaSets this Deployment controls, adopting orphans whose labels match its selector. */
  private async claimReplicaSets(d: Deployment): Promise<ReplicaSet[]> {
    const claimed: ReplicaSet[] = [];
    for (const rs of this.replicaSets.byIndex(BY_NAMESPACE, d.metadata.namespace ?? '')) {
      const ref = controllerOf(rs);
      const matches = this.options.seams.selectorMatches(d.spec.selector, rs.metadata.labels);
      if (ref?.uid === d.metadata.uid && matches) claimed.push(structuredClone(rs));
      else if (!ref && matches && !d.metadata.deletionTimestamp && !rs.metadata.deletionTimestamp) {
        try {
          const refs = [...(rs.metadata.ownerReferences ?? []), controllerRef(d)];
          claimed.push(await this.ctx.client.patch<ReplicaSet>(RESOURCE.replicasets, rs.metadata.namespace, rs.metadata.name ?? '', { metadata: { resourceVersion: rs.metadata.resourceVersion, ownerReferences: refs } }, 'merge'));
          this.ctx.trace(`deployment ${keyOf(d)}: adopted replicaset ${rs.metadata.name}`);
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      }
    }
    return claimed;
  }

  /** Active and available Pods per ReplicaSet, from the Pod cache. */
  private podCounts(d: Deployment, replicaSets: ReplicaSet[]): Record<string, PodCounts> {
    const now = this.ctx.clock.now();
    const counts: Record<string, PodCounts> = {};
    for (const rs of replicaSets) {
      const pods = this.pods.byIndex(BY_CONTROLLER, rs.metadata.uid ?? '').filter(isPodActive);
      counts[rs.metadata.name ?? ''] = { active: pods.length, available: pods.filter((p) => isPodAvailable(p, d.spec.minReadySeconds ?? 0, now)).length };
    }
    return counts;
  }

  /** The rollout machine's API writes. */
  private actors() {
    return {
      createReplicaSet: fromPromise<ReplicaSet, CreateReplicaSetInput>(({ input }) => this.createReplicaSet(input.deployment, input.replicas, input.oldRSs)),
      syncRevision: fromPromise<ReplicaSet, SyncRevisionInput>(({ input }) => this.syncRevision(input.deployment, input.newRS, input.oldRSs)),
      scaleReplicaSets: fromPromise<void, ScaleInput>(async ({ input }) => {
        await Promise.all(input.changes.map((change) => this.scaleReplicaSet(input.deployment, change.rs, change.replicas)));
      }),
      cleanUp: fromPromise<void, CleanUpInput>(({ input }) => this.cleanUp(input.deployment, input.oldRSs)),
      updateStatus: fromPromise<Deployment['status'], StatusInput>(({ input }) =>
        this.updateStatus(input.deployment, input.newRS, input.allRSs, input.progress),
      ),
    };
  }

  // #region new-replicaset
  /** Creates the ReplicaSet of the current template: `<deployment>-<hash>`, the hash label on selector, template and itself, and the next revision. */
  private async createReplicaSet(d: Deployment, replicas: number, oldRSs: ReplicaSet[]): Promise<ReplicaSet> {
    const hash = computeHash(d.spec.template, d.status?.collisionCount);
    const template = structuredClone(d.spec.template);
    template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, [POD_TEMPLATE_HASH]: hash } };
    const revision = String(maxRevision(oldRSs) + 1);
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        labels: template.metadata.labels,
        annotations: { [REVISION]: revision, [DESIRED_REPLICAS]: String(d.spec.replicas ?? 1), [MAX_REPLICAS]: String(maxReplicas(d)) },
        ownerReferences: [controllerRef(d)],
      },
      spec: {
        replicas,
        minReadySeconds: d.spec.minReadySeconds ?? 0,
        selector: { ...structuredClone(d.spec.selector), matchLabels: { ...d.spec.selector.matchLabels, [POD_TEMPLATE_HASH]: hash } },
        template,
      },
    };
    let created: ReplicaSet;
    try {
      created = await this.ctx.client.create(RESOURCE.replicasets, rs);
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      const existing = await this.ctx.client.get<ReplicaSet>(RESOURCE.replicasets, d.metadata.namespace, rs.metadata.name ?? '');
      // Why reuse: our cache had not seen a ReplicaSet we made a moment ago.
      if (controllerOf(existing)?.uid === d.metadata.uid && templateMatches(existing, d.spec.template)) return existing;
      // Why a collision count: another template hashed to the same name; counting it in gives the next attempt another name.
      const collisionCount = (d.status?.collisionCount ?? 0) + 1;
      await this.ctx.client.patch(RESOURCE.deployments, d.metadata.namespace, d.metadata.name ?? '', { status: { collisionCount } }, 'merge', { subresource: 'status' });
      throw new Error(`expected ReplicaSet ${rs.metadata.name} to be free or ours, got one with another template; collisionCount is now ${collisionCount}`);
    }
    this.ctx.trace(`deployment ${keyOf(d)}: created replicaset ${created.metadata.name} (revision ${revision})`);
    if (replicas > 0) this.ctx.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} from 0 to ${replicas}`);
    await this.setDeploymentRevision(d, revision);
    return created;
  }

  /**
   * The new ReplicaSet takes the next revision if an old one is higher — as
   * after `kubectl rollout undo`, which puts an old template back: its
   * ReplicaSet becomes the new one again, with the next revision number.
   */
  private async syncRevision(d: Deployment, newRS: ReplicaSet, oldRSs: ReplicaSet[]): Promise<ReplicaSet> {
    const annotations: Record<string, string> = {};
    const current = revisionOf(newRS);
    const next = maxRevision(oldRSs) + 1;
    if (current < next) {
      annotations[REVISION] = String(next);
      const history = newRS.metadata.annotations?.[REVISION_HISTORY];
      if (current > 0) annotations[REVISION_HISTORY] = history ? `${history},${current}` : String(current);
    }
    if (newRS.metadata.annotations?.[DESIRED_REPLICAS] !== String(d.spec.replicas ?? 1)) annotations[DESIRED_REPLICAS] = String(d.spec.replicas ?? 1);
    if (newRS.metadata.annotations?.[MAX_REPLICAS] !== String(maxReplicas(d))) annotations[MAX_REPLICAS] = String(maxReplicas(d));
    let rs = newRS;
    if (Object.keys(annotations).length > 0) {
      rs = await this.ctx.client.patch<ReplicaSet>(RESOURCE.replicasets, newRS.metadata.namespace, newRS.metadata.name ?? '', { metadata: { resourceVersion: newRS.metadata.resourceVersion, annotations } }, 'merge');
      if (annotations[REVISION]) this.ctx.trace(`deployment ${keyOf(d)}: replicaset ${rs.metadata.name} is revision ${annotations[REVISION]}`);
    }
    await this.setDeploymentRevision(d, String(revisionOf(rs)));
    return rs;
  }

  private async setDeploymentRevision(d: Deployment, revision: string): Promise<void> {
    if (d.metadata.annotations?.[REVISION] === revision) return;
    await this.ctx.client.patch(RESOURCE.deployments, d.metadata.namespace, d.metadata.name ?? '', { metadata: { annotations: { [REVISION]: revision } } }, 'merge');
  }
  // #endregion new-replicaset

  // #region scale
  /** Resizes one ReplicaSet (conditional on the version we decided from) and records ScalingReplicaSet as upstream words it. */
  private async scaleReplicaSet(d: Deployment, rs: ReplicaSet, replicas: number): Promise<void> {
    const from = rs.spec.replicas ?? 0;
    const annotations = { [DESIRED_REPLICAS]: String(d.spec.replicas ?? 1), [MAX_REPLICAS]: String(maxReplicas(d)) };
    await this.ctx.client.patch(RESOURCE.replicasets, rs.metadata.namespace, rs.metadata.name ?? '', { metadata: { resourceVersion: rs.metadata.resourceVersion, annotations }, spec: { replicas } }, 'merge');
    if (from === replicas) return;
    this.ctx.trace(`deployment ${keyOf(d)}: scaled replicaset ${rs.metadata.name} from ${from} to ${replicas}`);
    this.ctx.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${replicas > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${replicas}`);
  }
  // #endregion scale

  // #region clean-up
  /** Deletes the oldest empty old ReplicaSets beyond spec.revisionHistoryLimit (default 10): what `kubectl rollout history` can still undo to. */
  private async cleanUp(d: Deployment, oldRSs: ReplicaSet[]): Promise<void> {
    const limit = d.spec.revisionHistoryLimit ?? 10;
    const empty = oldRSs
      .filter((rs) => (rs.spec.replicas ?? 0) === 0 && (rs.status?.replicas ?? 0) === 0 && !rs.metadata.deletionTimestamp)
      .filter((rs) => this.pods.byIndex(BY_CONTROLLER, rs.metadata.uid ?? '').length === 0)
      .sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of empty.slice(0, Math.max(0, empty.length - limit))) {
      try {
        await this.ctx.client.delete(RESOURCE.replicasets, rs.metadata.namespace, rs.metadata.name ?? '', { propagationPolicy: 'Background' });
        this.ctx.trace(`deployment ${keyOf(d)}: deleted replicaset ${rs.metadata.name} (revision ${revisionOf(rs)}, beyond revisionHistoryLimit ${limit})`);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
  }
  // #endregion clean-up

  // #region status
  /** Computes the Deployment's status from its ReplicaSets' and writes it when it changed. */
  private async updateStatus(d: Deployment, newRS: ReplicaSet | undefined, allRSs: ReplicaSet[], progress: ProgressReason): Promise<Deployment['status']> {
    const replicas = d.spec.replicas ?? 1;
    const sum = (f: (rs: ReplicaSet) => number) => allRSs.reduce((total, rs) => total + f(rs), 0);
    const status: NonNullable<Deployment['status']> = {
      observedGeneration: d.metadata.generation ?? 0,
      replicas: sum((rs) => rs.status?.replicas ?? 0),
      updatedReplicas: newRS?.status?.replicas ?? 0,
      readyReplicas: sum((rs) => rs.status?.readyReplicas ?? 0),
      availableReplicas: sum((rs) => rs.status?.availableReplicas ?? 0),
      unavailableReplicas: Math.max(0, sum((rs) => rs.spec.replicas ?? 0) - sum((rs) => rs.status?.availableReplicas ?? 0)),
      conditions: [],
      ...(d.status?.collisionCount !== undefined ? { collisionCount: d.status.collisionCount } : {}),
    };
    // Why wait for the new ReplicaSet's own status: its spec may be right while its Pods are not there yet.
    const rsCaughtUp = !newRS || (newRS.status?.observedGeneration ?? 0) >= (newRS.metadata.generation ?? 0);
    status.conditions = this.conditions(d, newRS, status, progress, rsCaughtUp);
    const before = { ...d.status, conditions: (d.status?.conditions ?? []).map(withoutTimes) };
    const after = { ...status, conditions: status.conditions.map(withoutTimes) };
    if (canonicalJson(before) !== canonicalJson(after)) {
      try {
        await this.ctx.client.patch(RESOURCE.deployments, d.metadata.namespace, d.metadata.name ?? '', { status }, 'merge', { subresource: 'status' });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    return status;
  }

  /** Available and Progressing, with upstream's reasons and messages. */
  private conditions(d: Deployment, newRS: ReplicaSet | undefined, status: NonNullable<Deployment['status']>, progress: ProgressReason, rsCaughtUp: boolean): DeploymentCondition[] {
    const now = new Date(this.ctx.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const old = d.status?.conditions ?? [];
    const replicas = d.spec.replicas ?? 1;
    const rolling = d.spec.strategy?.type !== 'Recreate';
    const maxUnavailable = rolling ? resolveFenceposts(d.spec.strategy?.rollingUpdate?.maxSurge ?? '25%', d.spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%', replicas).unavailable : 0;
    const available =
      (status.availableReplicas ?? 0) >= replicas - maxUnavailable
        ? condition(old, 'Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.', now)
        : condition(old, 'Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.', now);
    const previous = old.find((c) => c.type === 'Progressing');
    const name = newRS?.metadata.name ?? '';
    let progressing: DeploymentCondition | undefined = previous;
    if (d.spec.paused) progressing = condition(old, 'Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused', now);
    else if (newRS && rsCaughtUp && deploymentComplete(d, status)) progressing = condition(old, 'Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${name}" has successfully progressed.`, now);
    else if (progress === 'NewReplicaSetCreated') progressing = condition(old, 'Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${name}"`, now);
    else if (progress === 'ReplicaSetUpdated' || progressed(d.status, status)) progressing = condition(old, 'Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${name}" is progressing.`, now);
    else if (previous?.reason === 'DeploymentPaused') progressing = condition(old, 'Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed', now);
    else if (!previous && newRS) progressing = condition(old, 'Progressing', 'True', 'FoundNewReplicaSet', `Found new replica set "${name}"`, now);
    else if (previous?.status === 'True' && previous.reason !== 'NewReplicaSetAvailable' && this.deadlinePassed(d, previous)) {
      // Why: nothing moved for progressDeadlineSeconds; `kubectl rollout status` stops waiting on this reason.
      progressing = condition(old, 'Progressing', 'False', 'ProgressDeadlineExceeded', `ReplicaSet "${name}" has timed out progressing.`, now);
    }
    return progressing ? [available, progressing] : [available];
  }

  /** Whether the last progress recorded in `condition` is older than spec.progressDeadlineSeconds; if not yet, looks again when it will be. */
  private deadlinePassed(d: Deployment, progressing: DeploymentCondition): boolean {
    const deadline = d.spec.progressDeadlineSeconds;
    const since = Date.parse(progressing.lastUpdateTime ?? '');
    if (deadline === undefined || !Number.isFinite(since)) return false;
    const left = since + deadline * 1000 - this.ctx.clock.now();
    if (left > 0) this.queue.addAfter(keyOf(d), left + 1000);
    return left <= 0;
  }
  // #endregion status
}

/** Upstream's notion of progress: more updated, ready or available Pods, or fewer Pods in all (old ones gone). */
function progressed(before: Deployment['status'], after: NonNullable<Deployment['status']>): boolean {
  if (!before) return false;
  return (after.updatedReplicas ?? 0) > (before.updatedReplicas ?? 0) || (after.readyReplicas ?? 0) > (before.readyReplicas ?? 0) || (after.availableReplicas ?? 0) > (before.availableReplicas ?? 0) || (after.replicas ?? 0) < (before.replicas ?? 0);
}

/** The highest revision among ReplicaSets (0 for none). */
function maxRevision(replicaSets: readonly ReplicaSet[]): number {
  return replicaSets.reduce((max, rs) => Math.max(max, revisionOf(rs)), 0);
}

/** A condition, keeping its lastTransitionTime when its status did not change and its lastUpdateTime when nothing did. */
function condition(old: DeploymentCondition[], type: string, status: DeploymentCondition['status'], reason: string, message: string, now: string): DeploymentCondition {
  const previous = old.find((c) => c.type === type);
  const same = previous?.status === status && previous.reason === reason && previous.message === message;
  return {
    type,
    status,
    lastUpdateTime: same ? previous.lastUpdateTime ?? now : now,
    lastTransitionTime: previous?.status === status ? previous.lastTransitionTime ?? now : now,
    reason,
    message,
  };
}

function withoutTimes(c: DeploymentCondition): DeploymentCondition {
  const { lastUpdateTime: _u, lastTransitionTime: _t, ...rest } = c;
  return rest;
}
