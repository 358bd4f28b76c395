/**
 * The garbage collector: what makes deleting a Deployment delete its
 * ReplicaSets, and theirs their Pods. No controller deletes what it made when
 * it is itself deleted; instead every dependent names its owner in
 * `metadata.ownerReferences` (by uid), and this controller deletes the
 * dependents whose owners are gone.
 *
 * `kubectl delete` chooses how (the DeleteOptions' propagationPolicy):
 * - Background (the default): the owner goes at once; its dependents follow,
 *   deleted here when their owner is found missing.
 * - Foreground: the API server keeps the owner, with the `foregroundDeletion`
 *   finalizer, while this controller deletes its dependents; once none that
 *   block it (`blockOwnerDeletion: true`) remain, the finalizer is removed and
 *   the owner goes last.
 * - Orphan: the owner carries the `orphan` finalizer; this controller removes
 *   the owner's references from its dependents, which stay, and then the
 *   finalizer.
 *
 * The graph is built from the informers of the kinds it covers; an owner not
 * in a cache is looked up on the API server before a dependent is deleted for
 * its absence, because a cache may simply not show it yet.
 */
import type { KubeObject, OwnerReference } from '../api/types.ts';
import { resourceForKind, type ResourceInfo } from '../apiserver/resources.ts';
import { isConflict, isNotFound, type DeleteOptions } from '../client/client.ts';
import type { Informer } from '../client/informer.ts';
import { keyOf, splitKey } from '../client/informer.ts';
import { Controller, type ControllerContext } from './controller.ts';
import { ensureIndex, RESOURCE } from './informers.ts';
import type { ControllerOptions } from './manager.ts';

/** The finalizer that makes an owner wait for its dependents to be deleted first. */
export const FOREGROUND_FINALIZER = 'foregroundDeletion';
/** The finalizer that makes an owner leave its dependents behind, without references to it. */
export const ORPHAN_FINALIZER = 'orphan';

/** The kinds whose objects the collector watches, as owners and as dependents. */
const GRAPH_RESOURCES: readonly ResourceInfo[] = [RESOURCE.pods, RESOURCE.replicasets, RESOURCE.deployments, RESOURCE.jobs, RESOURCE.endpoints];

/** Index names: objects by their own uid, and by the uid of each of their owners. */
const BY_UID = 'gcByUid';
const BY_OWNER_UID = 'gcByOwnerUid';

/** How an owner stands, seen from one of its dependents (upstream's three lists). */
export type OwnerState = 'solid' | 'dangling' | 'waitingForDependentsDeletion';

/** The verdict on a dependent from the states of its owners: keep it, drop some references, or delete it. */
export type DependentAction = { action: 'keep' } | { action: 'removeReferences'; uids: string[] } | { action: 'delete'; policy: 'Background' | 'Foreground' | 'Orphan' };

// #region decide
/**
 * What to do with an object whose owners are in these states: with a solid
 * owner left it stays (references to owners that are gone or going are
 * dropped); with none it is deleted — in Foreground if an owner waits for it
 * and it has dependents of its own, so the owner waits for the whole tree.
 */
export function decideDependent(owners: ReadonlyArray<{ uid: string; state: OwnerState }>, item: { finalizers: readonly string[]; hasDependents: boolean }): DependentAction {
  const solid = owners.filter((o) => o.state === 'solid');
  const notSolid = owners.filter((o) => o.state !== 'solid');
  if (solid.length > 0) return notSolid.length === 0 ? { action: 'keep' } : { action: 'removeReferences', uids: notSolid.map((o) => o.uid) };
  if (item.finalizers.includes(ORPHAN_FINALIZER)) return { action: 'delete', policy: 'Orphan' };
  const waitedFor = owners.some((o) => o.state === 'waitingForDependentsDeletion');
  if ((waitedFor && item.hasDependents) || item.finalizers.includes(FOREGROUND_FINALIZER)) return { action: 'delete', policy: 'Foreground' };
  return { action: 'delete', policy: 'Background' };
}
// #endregion decide

/** Deletes dependents whose owners are gone, and carries out Foreground and Orphan deletion. */
export class GarbageCollector extends Controller {
  readonly name = 'garbagecollector';
  private readonly graph = new Map<string, { info: ResourceInfo; informer: Informer<KubeObject> }>();

  constructor(ctx: ControllerContext, _options: ControllerOptions) {
    super(ctx);
    for (const info of GRAPH_RESOURCES) {
      const informer = ctx.informers.informerFor<KubeObject>(info);
      ensureIndex(informer, BY_UID, (obj) => (obj.metadata.uid ? [obj.metadata.uid] : []));
      ensureIndex(informer, BY_OWNER_UID, (obj) => (obj.metadata.ownerReferences ?? []).map((ref) => ref.uid));
      this.graph.set(info.kind, { info, informer });
      this.watch(info.kind, informer);
    }
  }

  // #region gc-handlers
  private watch(kind: string, informer: Informer<KubeObject>): void {
    informer.on('add', (obj) => this.enqueueItem(kind, obj));
    informer.on('update', (old, obj) => {
      // Why compare: only owners, finalizers and deletion change what the collector decides; status updates are noise here.
      if (JSON.stringify(gcFields(old)) !== JSON.stringify(gcFields(obj))) this.enqueueItem(kind, obj);
    });
    informer.on('delete', (obj) => {
      // Why: the dependents of a deleted object have just lost an owner.
      for (const dependent of this.dependentsOf(obj.metadata.uid ?? '')) this.enqueueItem(dependent.kind, dependent);
      // Why: an owner deleting in Foreground waits for this object to be gone.
      for (const ref of obj.metadata.ownerReferences ?? []) {
        const owner = this.cachedOwner(ref);
        if (owner) this.enqueueItem(ref.kind, owner);
      }
    });
  }
  // #endregion gc-handlers

  private enqueueItem(kind: string, obj: KubeObject): void {
    this.queue.add(`${kind}|${keyOf(obj)}`);
  }

  // #region collect
  async reconcile(itemKey: string): Promise<void> {
    const bar = itemKey.indexOf('|');
    const kind = itemKey.slice(0, bar);
    const node = this.graph.get(kind);
    const item = node?.informer.get(itemKey.slice(bar + 1));
    if (!node || !item) return;
    const finalizers = item.metadata.finalizers ?? [];
    if (item.metadata.deletionTimestamp) {
      if (finalizers.includes(ORPHAN_FINALIZER)) return this.orphanDependents(node.info, item);
      if (finalizers.includes(FOREGROUND_FINALIZER)) return this.deleteDependentsFirst(node.info, item);
      return; // Why: already going, and nothing waits on the collector.
    }
    if ((item.metadata.ownerReferences ?? []).length > 0) await this.attemptToDelete(node.info, item);
  }
  // #endregion collect

  // #region attempt-to-delete
  /** Looks at each owner of `item`; deletes `item` if none is left standing. */
  private async attemptToDelete(info: ResourceInfo, item: KubeObject): Promise<void> {
    const refs = item.metadata.ownerReferences ?? [];
    const owners = await Promise.all(refs.map(async (ref) => ({ uid: ref.uid, state: await this.ownerState(ref, item.metadata.namespace) })));
    const decision = decideDependent(owners, { finalizers: item.metadata.finalizers ?? [], hasDependents: this.dependentsOf(item.metadata.uid ?? '').length > 0 });
    const what = `${info.resource} ${keyOf(item)}`;
    if (decision.action === 'keep') return;
    if (decision.action === 'removeReferences') {
      await this.patchOwnerReferences(info, item, refs.filter((ref) => !decision.uids.includes(ref.uid)));
      this.ctx.trace(`garbagecollector ${what}: removed references to owners that are gone or going (${decision.uids.join(', ')})`);
      return;
    }
    const { namespace, name } = splitKey(keyOf(item));
    // Why the uid precondition: if the object was replaced by a new one of the same name meanwhile, the new one must not be deleted.
    const options: DeleteOptions = { propagationPolicy: decision.policy, preconditions: { uid: item.metadata.uid } };
    try {
      await this.ctx.client.delete(info, namespace, name, options);
    } catch (error) {
      if (isNotFound(error) || isConflict(error)) return;
      throw error;
    }
    this.ctx.trace(`garbagecollector ${what}: every owner is gone (${refs.map((r) => `${r.kind}/${r.name}`).join(', ')}); deleted it (${decision.policy})`);
  }
  // #endregion attempt-to-delete

  // #region owner-state
  /** Whether an owner still stands, is gone (or replaced: another uid), or is being deleted in Foreground. */
  private async ownerState(ref: OwnerReference, namespace: string | undefined): Promise<OwnerState> {
    const owner = this.cachedOwner(ref) ?? (await this.liveOwner(ref, namespace));
    if (owner === 'unknown') return 'solid'; // Why: an owner of a kind we cannot look up must not get its dependents deleted.
    if (!owner) return 'dangling';
    const deletingDependents = owner.metadata.deletionTimestamp && (owner.metadata.finalizers ?? []).includes(FOREGROUND_FINALIZER);
    return deletingDependents ? 'waitingForDependentsDeletion' : 'solid';
  }

  /** The owner as the API server has it now, if it exists with the same uid; 'unknown' for a kind the server does not serve. */
  private async liveOwner(ref: OwnerReference, namespace: string | undefined): Promise<KubeObject | undefined | 'unknown'> {
    const info = resourceForKind(ref.apiVersion, ref.kind);
    if (!info) return 'unknown';
    try {
      const owner = await this.ctx.client.get(info, info.namespaced ? namespace : undefined, ref.name);
      return owner.metadata.uid === ref.uid ? owner : undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
  // #endregion owner-state

  // #region foreground
  /** Foreground: deletes the owner's dependents; once none that block it remain, removes the finalizer so the owner goes. */
  private async deleteDependentsFirst(info: ResourceInfo, owner: KubeObject): Promise<void> {
    const uid = owner.metadata.uid ?? '';
    const dependents = this.dependentsOf(uid);
    // Why through the queue: each dependent decides for itself (it may have another owner that still stands).
    for (const dependent of dependents) if (!dependent.metadata.deletionTimestamp) this.enqueueItem(dependent.kind, dependent);
    const blocking = dependents.filter((d) => d.metadata.ownerReferences?.some((ref) => ref.uid === uid && ref.blockOwnerDeletion));
    if (blocking.length > 0) {
      this.ctx.trace(`garbagecollector ${info.resource} ${keyOf(owner)}: waiting for ${blocking.length} dependent(s) to be deleted`);
      return;
    }
    await this.removeFinalizer(info, owner, FOREGROUND_FINALIZER);
    this.ctx.trace(`garbagecollector ${info.resource} ${keyOf(owner)}: no blocking dependents left; removed ${FOREGROUND_FINALIZER}`);
  }
  // #endregion foreground

  // #region orphan
  /** Orphan: removes the references to the owner from its dependents, then the owner's finalizer. */
  private async orphanDependents(info: ResourceInfo, owner: KubeObject): Promise<void> {
    const uid = owner.metadata.uid ?? '';
    for (const dependent of this.dependentsOf(uid)) {
      const node = this.graph.get(dependent.kind);
      if (!node) continue;
      await this.patchOwnerReferences(node.info, dependent, (dependent.metadata.ownerReferences ?? []).filter((ref) => ref.uid !== uid));
    }
    await this.removeFinalizer(info, owner, ORPHAN_FINALIZER);
    this.ctx.trace(`garbagecollector ${info.resource} ${keyOf(owner)}: orphaned its dependents; removed ${ORPHAN_FINALIZER}`);
  }
  // #endregion orphan

  /** Writes a new ownerReferences list (a merge patch made conditional by the resourceVersion it was computed from). */
  private async patchOwnerReferences(info: ResourceInfo, item: KubeObject, refs: OwnerReference[]): Promise<void> {
    const { namespace, name } = splitKey(keyOf(item));
    const patch = { metadata: { resourceVersion: item.metadata.resourceVersion, ownerReferences: refs.length > 0 ? refs : null } };
    try {
      await this.ctx.client.patch(info, namespace, name, patch, 'merge');
    } catch (error) {
      if (!isNotFound(error)) throw error; // Why rethrow a conflict: the item changed; the retry reads it afresh.
    }
  }

  /** Removes one finalizer; the last one gone lets the API server finish the delete. */
  private async removeFinalizer(info: ResourceInfo, item: KubeObject, finalizer: string): Promise<void> {
    const { namespace, name } = splitKey(keyOf(item));
    const finalizers = (item.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    try {
      await this.ctx.client.patch(info, namespace, name, { metadata: { resourceVersion: item.metadata.resourceVersion, finalizers } }, 'merge');
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /** Every cached object that names `uid` among its owners. */
  private dependentsOf(uid: string): KubeObject[] {
    if (!uid) return [];
    return [...this.graph.values()].flatMap(({ informer }) => informer.byIndex(BY_OWNER_UID, uid));
  }

  /** The owner a reference names, if a cache of its kind holds an object with that uid. */
  private cachedOwner(ref: OwnerReference): KubeObject | undefined {
    return this.graph.get(ref.kind)?.informer.byIndex(BY_UID, ref.uid)[0];
  }
}

/** The fields the collector decides on. */
function gcFields(obj: KubeObject): unknown {
  return [obj.metadata.ownerReferences, obj.metadata.finalizers, obj.metadata.deletionTimestamp];
}
