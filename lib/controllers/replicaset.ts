/**
 * The ReplicaSet controller: keeps `spec.replicas` Pods matching a selector
 * alive. It counts the active Pods it controls (adopting orphans that match,
 * releasing Pods that no longer match), creates the missing ones from the
 * template or deletes the surplus, and reports the counts in status. Delete a
 * Pod and the next reconcile sees one too few and makes another: that is all
 * "self-healing" is.
 */
import type { KubeObject, Pod, ReplicaSet } from '../api/types.ts';
import { isNotFound } from '../client/client.ts';
import { keyOf } from '../client/informer.ts';
import type { Informer } from '../client/informer.ts';
import { Controller, type ControllerContext } from './controller.ts';
import { BY_CONTROLLER, BY_NAMESPACE, controllerUid, ensureIndex, namespaceOf, RESOURCE } from './informers.ts';
import type { ControllerOptions } from './manager.ts';
import { controllerOf, controllerRef, ControllerExpectations, isPodActive, isPodAvailable, isPodReady, podFromTemplate, slowStartBatch } from './pod-control.ts';

/** The most Pods one reconcile creates or deletes (upstream's burstReplicas). */
export const BURST_REPLICAS = 500;

// #region manage-replicas
/** What one reconcile must do: how many Pods to create, or which Pods to delete. */
export interface ReplicaDiff {
  create: number;
  remove: Pod[];
}

/**
 * Exercise 3.1: compares the desired count with the active Pods and says how
 * many to create, or which to delete — the cheapest to lose first.
 */
export function manageReplicas(desired: number, pods: readonly Pod[]): ReplicaDiff {
  const diff = pods.length - desired;
  if (diff < 0) return { create: -diff, remove: [] };
  if (diff === 0) return { create: 0, remove: [] };
  return { create: 0, remove: [...pods].sort(comparePodsForDeletion).slice(0, diff) };
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/** Upstream's ActivePods ordering: the Pod that sorts first is the one to delete first. */
export function comparePodsForDeletion(a: Pod, b: Pod): number {
  // Why each rule: lose the Pod that costs least — one not yet placed, not yet started, not yet serving, crashing, or newest.
  const assigned = Number(Boolean(a.spec.nodeName)) - Number(Boolean(b.spec.nodeName));
  if (assigned !== 0) return assigned;
  const phase = (PHASE_RANK[a.status?.phase ?? 'Pending'] ?? 0) - (PHASE_RANK[b.status?.phase ?? 'Pending'] ?? 0);
  if (phase !== 0) return phase;
  const ready = Number(isPodReady(a)) - Number(isPodReady(b));
  if (ready !== 0) return ready;
  const restarts = restartCount(b) - restartCount(a);
  if (restarts !== 0) return restarts;
  return created(b) - created(a);
}
// #endregion manage-replicas

function restartCount(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((sum, c) => sum + c.restartCount, 0);
}

function created(obj: KubeObject): number {
  return Date.parse(obj.metadata.creationTimestamp ?? '') || 0;
}

/** The ReplicaSet controller (kube-controller-manager's `replicaset`). */
export class ReplicaSetController extends Controller {
  readonly name = 'replicaset';
  private readonly replicaSets: Informer<ReplicaSet>;
  private readonly pods: Informer<Pod>;
  readonly expectations: ControllerExpectations;

  constructor(
    ctx: ControllerContext,
    private readonly options: ControllerOptions,
  ) {
    super(ctx);
    this.expectations = new ControllerExpectations(() => ctx.clock.now());
    this.replicaSets = ensureIndex(ctx.informers.informerFor<ReplicaSet>(RESOURCE.replicasets), BY_NAMESPACE, namespaceOf);
    this.pods = ensureIndex(ensureIndex(ctx.informers.informerFor<Pod>(RESOURCE.pods), BY_CONTROLLER, controllerUid), BY_NAMESPACE, namespaceOf);
    this.replicaSets.on('add', (rs) => this.enqueue(rs));
    this.replicaSets.on('update', (_old, rs) => this.enqueue(rs));
    this.replicaSets.on('delete', (rs) => {
      this.expectations.delete(keyOf(rs));
      this.enqueue(rs);
    });
    this.pods.on('add', (pod) => this.podAdded(pod));
    this.pods.on('update', (old, pod) => this.podUpdated(old, pod));
    this.pods.on('delete', (pod) => this.podDeleted(pod));
  }

  // #region handlers
  /** The ReplicaSet that controls a Pod, from the cache (matching uid), if any. */
  private owner(pod: Pod): ReplicaSet | undefined {
    const ref = controllerOf(pod);
    if (ref?.kind !== 'ReplicaSet') return undefined;
    const rs = this.replicaSets.get(`${pod.metadata.namespace}/${ref.name}`);
    return rs?.metadata.uid === ref.uid ? rs : undefined;
  }

  /** An orphan may be adopted: wake every ReplicaSet of its namespace whose selector matches it. */
  private enqueueMatching(pod: Pod): void {
    for (const rs of this.replicaSets.byIndex(BY_NAMESPACE, pod.metadata.namespace ?? '')) {
      if (this.options.seams.selectorMatches(rs.spec.selector, pod.metadata.labels)) this.enqueue(rs);
    }
  }

  private podAdded(pod: Pod): void {
    const rs = this.owner(pod);
    if (rs) {
      // Why: this may be a Pod we created; one fewer creation still to see.
      this.expectations.creationObserved(keyOf(rs));
      this.enqueue(rs);
    } else if (!controllerOf(pod)) this.enqueueMatching(pod);
  }

  private podUpdated(old: Pod, pod: Pod): void {
    if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
    const rs = this.owner(pod);
    if (pod.metadata.deletionTimestamp && rs) this.expectations.deletionObserved(keyOf(rs), pod.metadata.uid ?? '');
    const oldRs = this.owner(old);
    if (oldRs && oldRs !== rs) this.enqueue(oldRs);
    if (rs) this.enqueue(rs);
    else if (!controllerOf(pod)) this.enqueueMatching(pod);
  }

  private podDeleted(pod: Pod): void {
    const rs = this.owner(pod);
    if (!rs) return;
    this.expectations.deletionObserved(keyOf(rs), pod.metadata.uid ?? '');
    this.enqueue(rs);
  }
  // #endregion handlers

  // #region reconcile
  async reconcile(key: string): Promise<void> {
    const cached = this.replicaSets.get(key);
    if (!cached) {
      this.expectations.delete(key);
      return;
    }
    const rs = structuredClone(cached);
    const pods = await this.claimPods(rs);
    const active = pods.filter(isPodActive);
    // Why only when satisfied: until the informer shows our last creations and deletions, the count would be wrong and we would act twice.
    if (this.expectations.satisfied(key) && !rs.metadata.deletionTimestamp) await this.manage(rs, active);
    await this.updateStatus(rs, active);
  }
  // #endregion reconcile

  // #region claim
  /** The Pods this ReplicaSet controls after adopting matching orphans and releasing its Pods that stopped matching. */
  private async claimPods(rs: ReplicaSet): Promise<Pod[]> {
    const uid = rs.metadata.uid ?? '';
    const claimed: Pod[] = [];
    for (const pod of this.pods.byIndex(BY_NAMESPACE, rs.metadata.namespace ?? '')) {
      const matches = this.options.seams.selectorMatches(rs.spec.selector, pod.metadata.labels);
      const ref = controllerOf(pod);
      if (ref?.uid === uid) {
        if (matches) claimed.push(pod);
        else await this.release(rs, pod);
      } else if (!ref && matches && !pod.metadata.deletionTimestamp && !rs.metadata.deletionTimestamp && isPodActive(pod)) {
        const adopted = await this.adopt(rs, pod);
        if (adopted) claimed.push(adopted);
      }
    }
    return claimed;
  }

  /** Adds this ReplicaSet as the Pod's controller; the resourceVersion makes it fail if the Pod changed meanwhile. */
  private async adopt(rs: ReplicaSet, pod: Pod): Promise<Pod | undefined> {
    const refs = [...(pod.metadata.ownerReferences ?? []), controllerRef(rs)];
    try {
      const patched = await this.ctx.client.patch<Pod>(RESOURCE.pods, pod.metadata.namespace, pod.metadata.name ?? '', { metadata: { resourceVersion: pod.metadata.resourceVersion, ownerReferences: refs } }, 'merge');
      this.ctx.trace(`replicaset ${keyOf(rs)}: adopted pod ${pod.metadata.name}`);
      return patched;
    } catch (error) {
      // Why ignore NotFound: the orphan went away; there is nothing to adopt.
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Removes this ReplicaSet's reference from a Pod whose labels no longer match: the Pod lives on, as an orphan. */
  private async release(rs: ReplicaSet, pod: Pod): Promise<void> {
    const refs = (pod.metadata.ownerReferences ?? []).filter((ref) => ref.uid !== rs.metadata.uid);
    try {
      await this.ctx.client.patch(RESOURCE.pods, pod.metadata.namespace, pod.metadata.name ?? '', { metadata: { resourceVersion: pod.metadata.resourceVersion, ownerReferences: refs } }, 'merge');
      this.ctx.trace(`replicaset ${keyOf(rs)}: released pod ${pod.metadata.name}`);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  // #endregion claim

  // #region manage
  /** Creates or deletes Pods so that `active` reaches spec.replicas, at most BURST_REPLICAS per reconcile. */
  private async manage(rs: ReplicaSet, active: Pod[]): Promise<void> {
    const key = keyOf(rs);
    const desired = rs.spec.replicas ?? 1;
    const diff = this.options.seams.manageReplicas(desired, active);
    if (diff.create > 0) {
      const count = Math.min(diff.create, BURST_REPLICAS);
      this.expectations.expect(key, count);
      this.ctx.trace(`replicaset ${key}: ${active.length} of ${desired} pods; creating ${count}`);
      const { succeeded, error } = await slowStartBatch(count, 1, () => this.createPod(rs));
      // Why lower the expectations: pods never created will never show up in the informer.
      for (let i = succeeded; i < count; i++) this.expectations.creationObserved(key);
      if (error) throw error;
    } else if (diff.remove.length > 0) {
      const victims = diff.remove.slice(0, BURST_REPLICAS);
      this.expectations.expect(key, 0, victims.map((p) => p.metadata.uid ?? ''));
      this.ctx.trace(`replicaset ${key}: ${active.length} of ${desired} pods; deleting ${victims.map((p) => p.metadata.name).join(', ')}`);
      const results = await Promise.allSettled(victims.map((pod) => this.deletePod(rs, pod)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
  }

  private async createPod(rs: ReplicaSet): Promise<void> {
    if (!rs.spec.template) throw new Error(`expected ReplicaSet ${keyOf(rs)} to have a template, got none`);
    try {
      const pod = await this.ctx.client.create(RESOURCE.pods, podFromTemplate(rs.spec.template, rs));
      this.ctx.recorder.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
    } catch (error) {
      this.ctx.recorder.event(rs, 'Warning', 'FailedCreate', `Error creating: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    }
  }

  private async deletePod(rs: ReplicaSet, pod: Pod): Promise<void> {
    try {
      await this.ctx.client.delete(RESOURCE.pods, pod.metadata.namespace, pod.metadata.name ?? '');
      this.ctx.recorder.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
    } catch (error) {
      // Why observed on failure: a deletion that did not happen will never show in the informer.
      this.expectations.deletionObserved(keyOf(rs), pod.metadata.uid ?? '');
      if (isNotFound(error)) return;
      this.ctx.recorder.event(rs, 'Warning', 'FailedDelete', `Error deleting: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    }
  }
  // #endregion manage

  // #region status
  /** Writes replicas, fullyLabeledReplicas, readyReplicas, availableReplicas and observedGeneration when they changed. */
  private async updateStatus(rs: ReplicaSet, active: Pod[]): Promise<void> {
    const minReadySeconds = rs.spec.minReadySeconds ?? 0;
    const now = this.ctx.clock.now();
    const templateLabels = rs.spec.template?.metadata?.labels ?? {};
    const status: NonNullable<ReplicaSet['status']> = {
      replicas: active.length,
      fullyLabeledReplicas: active.filter((p) => Object.entries(templateLabels).every(([k, v]) => p.metadata.labels?.[k] === v)).length,
      readyReplicas: active.filter(isPodReady).length,
      availableReplicas: active.filter((p) => isPodAvailable(p, minReadySeconds, now)).length,
      observedGeneration: rs.metadata.generation ?? 0,
    };
    const old = rs.status ?? { replicas: 0 };
    const same = (['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration'] as const).every((f) => (old[f] ?? 0) === status[f]);
    if (!same) {
      try {
        // Why a merge patch without resourceVersion: only this controller writes a ReplicaSet's status, and a conflict with a spec change would only delay the count.
        await this.ctx.client.patch(RESOURCE.replicasets, rs.metadata.namespace, rs.metadata.name ?? '', { status }, 'merge', { subresource: 'status' });
      } catch (error) {
        // Why ignore NotFound: the ReplicaSet was deleted while we counted.
        if (!isNotFound(error)) throw error;
      }
    }
    // Why look again later: a Pod ready but not yet for minReadySeconds becomes available without any event.
    if (minReadySeconds > 0 && status.readyReplicas !== status.availableReplicas) this.queue.addAfter(keyOf(rs), minReadySeconds * 1000);
  }
  // #endregion status
}
