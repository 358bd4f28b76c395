/**
 * The namespace controller: what makes `kubectl delete namespace` delete
 * everything in it. The API server only marks a Namespace Terminating (a
 * deletionTimestamp); its `spec.finalizers` holds `kubernetes`, so it stays
 * until this controller has deleted every namespaced object in it, waited for
 * them to be gone (a Pod on a node goes only when its kubelet has stopped
 * it), and removed that finalizer. Then the API server deletes the Namespace.
 */
import type { KubeObject, Namespace, Pod } from '../api/types.ts';
import { RESOURCES, type ResourceInfo } from '../apiserver/resources.ts';
import { isConflict, isNotFound } from '../client/client.ts';
import type { Informer } from '../client/informer.ts';
import { Controller, type ControllerContext } from './controller.ts';
import { RESOURCE } from './informers.ts';
import type { ControllerOptions } from './manager.ts';

/** The finalizer the API server puts in every Namespace's spec.finalizers. */
export const NAMESPACE_FINALIZER = 'kubernetes';

/** Every namespaced resource type that can be listed and deleted: what a namespace's content is made of. */
export const NAMESPACED_RESOURCES: readonly ResourceInfo[] = RESOURCES.filter((r) => r.namespaced && r.verbs.includes('list') && r.verbs.includes('delete'));

/** What one pass over a namespace's content found. */
export interface ContentReport {
  /** Objects still there, by resource (`pods` → 2). */
  remaining: Map<string, number>;
  /** Finalizers still holding objects there, by finalizer (`foregroundDeletion` → 1). */
  finalizers: Map<string, number>;
  /** Deletes that failed, one line each. */
  failures: string[];
  /** Seconds until the slowest remaining Pod should be gone (its grace period). */
  estimateSeconds: number;
}

type NamespaceCondition = { type: string; status: 'True' | 'False'; reason: string; message: string; lastTransitionTime?: string };

/** Empties Namespaces that are being deleted, then lets the API server finish deleting them. */
export class NamespaceController extends Controller {
  readonly name = 'namespace';
  private readonly namespaces: Informer<Namespace>;

  constructor(ctx: ControllerContext, _options: ControllerOptions) {
    super(ctx);
    this.namespaces = ctx.informers.informerFor<Namespace>(RESOURCE.namespaces);
    const onChange = (namespace: Namespace) => {
      if (namespace.metadata.deletionTimestamp) this.enqueue(namespace);
    };
    this.namespaces.on('add', onChange);
    this.namespaces.on('update', (_old, namespace) => onChange(namespace));
  }

  // #region namespace-reconcile
  async reconcile(name: string): Promise<void> {
    const cached = this.namespaces.get(name);
    if (!cached?.metadata.deletionTimestamp) return;
    // Why read it live: deleting content is drastic; do it only if the server agrees the namespace is terminating.
    const namespace = await this.getLive(name);
    if (!namespace?.metadata.deletionTimestamp || !(namespace.spec?.finalizers ?? []).includes(NAMESPACE_FINALIZER)) return;

    const report = await this.deleteContent(name);
    await this.setConditions(namespace, report);
    if (report.failures.length > 0) throw new Error(`expected every object in namespace ${name} to be deleted, got failures: ${report.failures.join('; ')}`);
    if (report.remaining.size > 0) {
      // Why wait half the estimate (upstream does the same): Pods on nodes go when their kubelets have stopped them, not before.
      const delayMs = (Math.floor(report.estimateSeconds / 2) + 1) * 1000;
      this.ctx.trace(`namespace ${name}: waiting for ${describeCounts(report.remaining, 'resource instances')}; looking again in ${delayMs / 1000}s`);
      this.queue.addAfter(name, delayMs);
      return;
    }
    await this.finalize(name);
  }
  // #endregion namespace-reconcile

  // #region delete-content
  /** Deletes every object in the namespace, of every namespaced type, and reports what is still there. */
  async deleteContent(namespace: string): Promise<ContentReport> {
    const report: ContentReport = { remaining: new Map(), finalizers: new Map(), failures: [], estimateSeconds: 0 };
    const now = this.ctx.clock.now();
    for (const info of NAMESPACED_RESOURCES) {
      const before = await this.ctx.client.list(info, { namespace });
      for (const item of before.items) {
        // Why skip objects already terminating: a second delete would change nothing.
        if (item.metadata.deletionTimestamp) continue;
        try {
          await this.ctx.client.delete(info, namespace, item.metadata.name ?? '');
        } catch (error) {
          if (!isNotFound(error)) report.failures.push(`${info.resource} ${item.metadata.name}: ${(error as Error).message}`);
        }
      }
      const after = await this.ctx.client.list(info, { namespace });
      if (after.items.length === 0) continue;
      report.remaining.set(info.resource, after.items.length);
      for (const item of after.items) this.noteRemaining(report, info, item, now);
    }
    return report;
  }
  // #endregion delete-content

  /** Counts what holds a remaining object back: its finalizers, or a Pod's grace period. */
  private noteRemaining(report: ContentReport, info: ResourceInfo, item: KubeObject, now: number): void {
    for (const finalizer of item.metadata.finalizers ?? []) report.finalizers.set(finalizer, (report.finalizers.get(finalizer) ?? 0) + 1);
    if (info.resource !== 'pods') return;
    const pod = item as Pod;
    const until = pod.metadata.deletionTimestamp ? Math.ceil((Date.parse(pod.metadata.deletionTimestamp) - now) / 1000) : (pod.spec.terminationGracePeriodSeconds ?? 30);
    report.estimateSeconds = Math.max(report.estimateSeconds, until);
  }

  // #region finalize
  /** Removes the `kubernetes` finalizer; with none left, the API server deletes the Namespace. */
  private async finalize(name: string): Promise<void> {
    for (;;) {
      const namespace = await this.getLive(name);
      if (!namespace) return;
      const updated = structuredClone(namespace);
      // Why an explicit empty list: an absent spec.finalizers would be defaulted back to ["kubernetes"].
      updated.spec = { ...(updated.spec ?? {}), finalizers: (namespace.spec?.finalizers ?? []).filter((f) => f !== NAMESPACE_FINALIZER) };
      try {
        // Upstream writes to the `finalize` subresource; this API server takes the change through a plain update.
        await this.ctx.client.update(RESOURCE.namespaces, updated);
        this.ctx.trace(`namespace ${name}: empty; removed the ${NAMESPACE_FINALIZER} finalizer`);
        return;
      } catch (error) {
        if (isNotFound(error)) return;
        if (!isConflict(error)) throw error;
      }
    }
  }
  // #endregion finalize

  /** Writes the deletion conditions upstream reports (`kubectl describe ns` shows them), when they changed. */
  private async setConditions(namespace: Namespace, report: ContentReport): Promise<void> {
    const wanted: NamespaceCondition[] = [
      report.failures.length > 0
        ? { type: 'NamespaceDeletionContentFailure', status: 'True', reason: 'ContentDeletionFailed', message: `Failed to delete all resource types, ${report.failures.length} remaining: ${report.failures.join(', ')}` }
        : { type: 'NamespaceDeletionContentFailure', status: 'False', reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
      report.remaining.size > 0
        ? { type: 'NamespaceContentRemaining', status: 'True', reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${describeCounts(report.remaining, 'resource instances')}` }
        : { type: 'NamespaceContentRemaining', status: 'False', reason: 'ContentRemoved', message: 'All content successfully removed' },
      report.finalizers.size > 0
        ? { type: 'NamespaceFinalizersRemaining', status: 'True', reason: 'SomeFinalizersRemain', message: `Some content in the namespace has finalizers remaining: ${describeCounts(report.finalizers, 'resource instances', 'in')}` }
        : { type: 'NamespaceFinalizersRemaining', status: 'False', reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished' },
    ];
    const current = ((namespace.status ?? {}) as { conditions?: NamespaceCondition[] }).conditions ?? [];
    const now = new Date(this.ctx.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    let changed = false;
    const conditions = wanted.map((c) => {
      const before = current.find((old) => old.type === c.type);
      if (before && before.status === c.status && before.reason === c.reason && before.message === c.message) return before;
      changed = true;
      return { ...c, lastTransitionTime: before?.status === c.status ? before.lastTransitionTime : now };
    });
    if (!changed) return;
    const updated = structuredClone(namespace);
    updated.status = { ...(updated.status ?? {}), conditions } as Namespace['status'];
    try {
      await this.ctx.client.updateStatus(RESOURCE.namespaces, updated);
    } catch (error) {
      // Why ignore a conflict or a 404: the conditions are a report; the next pass writes them again.
      if (!isConflict(error) && !isNotFound(error)) throw error;
    }
  }

  private async getLive(name: string): Promise<Namespace | undefined> {
    try {
      return await this.ctx.client.get<Namespace>(RESOURCE.namespaces, undefined, name);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}

/** "pods has 2 resource instances, configmaps has 1 resource instances", as upstream words it. */
function describeCounts(counts: Map<string, number>, unit: string, verb = 'has'): string {
  return [...counts].map(([what, n]) => `${what} ${verb} ${n} ${unit}`).join(', ');
}
