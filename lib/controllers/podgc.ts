/**
 * The Pod garbage collector (upstream's PodGC): cleans up Pods that no
 * kubelet will ever confirm. A Pod bound to a Node that no longer exists is
 * orphaned — its kubelet is gone with the Node, so a graceful delete would
 * wait for ever — and is deleted with a grace period of 0. So that a Node
 * the cache has not seen yet is not mistaken for a deleted one, a Pod is
 * only collected when the Node is missing from the cache and a direct GET
 * says 404 too (upstream also waits out a quarantine first).
 */
import type { Node, Pod } from '../api/types.ts';
import { isNotFound } from '../client/client.ts';
import type { Informer } from '../client/informer.ts';
import { BY_NODE, ensureIndex, podNodeName, RESOURCE } from './informers.ts';
import { Controller, type ControllerContext } from './controller.ts';
import type { ControllerOptions } from './manager.ts';

/** Deletes Pods bound to Nodes that no longer exist. Keys are node names. */
export class PodGarbageCollector extends Controller {
  readonly name = 'podgc';
  private readonly pods: Informer<Pod>;
  private readonly nodes: Informer<Node>;

  constructor(ctx: ControllerContext, _options: ControllerOptions) {
    super(ctx);
    this.pods = ensureIndex(ctx.informers.informerFor<Pod>(RESOURCE.pods), BY_NODE, podNodeName);
    this.nodes = ctx.informers.informerFor<Node>(RESOURCE.nodes);
    // Why key by node: the question is "does this node still exist?", asked once for all its Pods.
    this.pods.on('add', (pod) => this.enqueueNodeOf(pod));
    this.pods.on('update', (_old, pod) => this.enqueueNodeOf(pod));
    this.nodes.on('delete', (node) => this.queue.add(node.metadata.name ?? ''));
  }

  private enqueueNodeOf(pod: Pod): void {
    const node = pod.spec.nodeName;
    if (node && !this.nodes.get(node)) this.queue.add(node);
  }

  // #region podgc-reconcile
  async reconcile(nodeName: string): Promise<void> {
    if (this.nodes.get(nodeName)) return;
    const orphans = this.pods.byIndex(BY_NODE, nodeName);
    if (orphans.length === 0) return;
    try {
      await this.ctx.client.get(RESOURCE.nodes, undefined, nodeName);
      return; // Why: the Node exists, our cache is only behind; its informer event will come.
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    for (const pod of orphans) {
      this.ctx.trace(`podgc: deleting orphaned pod ${pod.metadata.namespace}/${pod.metadata.name} (node ${nodeName} is gone)`);
      try {
        await this.ctx.client.delete(RESOURCE.pods, pod.metadata.namespace, pod.metadata.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
  }
  // #endregion podgc-reconcile
}
