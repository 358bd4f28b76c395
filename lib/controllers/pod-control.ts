/**
 * What the ReplicaSet and Deployment controllers share: owner references,
 * Pods made from a template, the questions "is this Pod active / ready /
 * available", and expectations — the controller's memory of writes it made
 * that its informer has not shown it yet (client-go's ControllerExpectations).
 */
import type { KubeObject, OwnerReference, Pod, PodTemplateSpec } from '../api/types.ts';

/** The owner reference a controller puts on what it manages: controller=true, blockOwnerDeletion=true. */
export function controllerRef(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The owner reference marked controller=true, if any. */
export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((ref) => ref.controller);
}

// #region pod-from-template
/** A new Pod from a template: generateName `<owner>-`, the template's labels and annotations, and a controller reference. */
export function podFromTemplate(template: PodTemplateSpec, owner: KubeObject): Pod {
  const copy = structuredClone(template);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${owner.metadata.name}-`,
      namespace: owner.metadata.namespace,
      labels: copy.metadata?.labels ?? {},
      ...(copy.metadata?.annotations ? { annotations: copy.metadata.annotations } : {}),
      ownerReferences: [controllerRef(owner)],
    },
    spec: copy.spec,
  };
}
// #endregion pod-from-template

// #region pod-states
/** Active: not being deleted and not finished (upstream's FilterActivePods). */
export function isPodActive(pod: Pod): boolean {
  return !pod.metadata.deletionTimestamp && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
}

/** Ready: the Pod's Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Available: Ready for at least minReadySeconds (upstream's IsPodAvailable). */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
  if (!ready) return false;
  if (minReadySeconds <= 0) return true;
  // Why a missing lastTransitionTime counts as not yet: we cannot know how long it has been ready.
  const since = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : Number.NaN;
  return Number.isFinite(since) && since + minReadySeconds * 1000 <= now;
}
// #endregion pod-states

// #region expectations
interface Expectation {
  /** Creations not yet seen in the informer. */
  add: number;
  /** Uids of Pods whose deletion is not yet seen (a set, so a Pod seen both as terminating and as gone counts once). */
  del: Set<string>;
  /** When it was set: stale expectations expire, so a lost watch event cannot block a controller for ever. */
  at: number;
}

/** How long an expectation may wait for the informer before it is given up (upstream: 5 minutes). */
export const EXPECTATIONS_TIMEOUT_MS = 5 * 60 * 1000;

/**
 * Per-controller-key counts of creations and deletions still to be seen in
 * the informer. While any are outstanding, the cache is known to be behind
 * the controller's own writes, so it must not count Pods again (it would
 * create the same replicas twice).
 */
export class ControllerExpectations {
  private readonly byKey = new Map<string, Expectation>();

  constructor(private readonly now: () => number) {}

  // #region expectation-counts
  /** Records that `adds` creations and the deletions of `deletedUids` are about to be made for `key`. */
  expect(key: string, adds: number, deletedUids: string[] = []): void {
    this.byKey.set(key, { add: adds, del: new Set(deletedUids), at: this.now() });
  }

  /** The informer showed a Pod this controller created (or a creation failed and will never show). */
  creationObserved(key: string): void {
    const e = this.byKey.get(key);
    if (e) e.add -= 1;
  }

  /** The informer showed a Pod terminating or gone (or its deletion failed and will never show). */
  deletionObserved(key: string, uid: string): void {
    this.byKey.get(key)?.del.delete(uid);
  }

  /** True when nothing is outstanding for `key` (or the expectation expired, or none was ever set). */
  satisfied(key: string): boolean {
    const e = this.byKey.get(key);
    if (!e) return true;
    return (e.add <= 0 && e.del.size === 0) || this.now() - e.at > EXPECTATIONS_TIMEOUT_MS;
  }
  // #endregion expectation-counts

  /** Forgets `key` (its owner was deleted). */
  delete(key: string): void {
    this.byKey.delete(key);
  }
}
// #endregion expectations

/** Runs `fn` `count` times in batches of 1, 2, 4, ... and stops after the first batch with a failure; returns how many succeeded (upstream's slowStartBatch). */
export async function slowStartBatch(count: number, initialBatchSize: number, fn: () => Promise<void>): Promise<{ succeeded: number; error: unknown }> {
  let remaining = count;
  let succeeded = 0;
  // #region slow-start
  for (let batch = Math.min(remaining, initialBatchSize); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    succeeded += results.filter((r) => r.status === 'fulfilled').length;
    // Why stop at the first failing batch: when the API server refuses one Pod (quota, a bad template) it refuses them all; doubling would only multiply the errors.
    if (failed) return { succeeded, error: failed.reason };
    remaining -= batch;
  }
  // #endregion slow-start
  return { succeeded, error: undefined };
}
