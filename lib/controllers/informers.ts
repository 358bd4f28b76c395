/**
 * Shared informers: one list+watch per resource for the whole controller
 * manager (or scheduler), however many controllers read that resource. The
 * ReplicaSet, Deployment, Endpoints, Job, garbage-collector and node
 * controllers all look at Pods; with a factory they share one cache and one
 * watch instead of opening six, as client-go's SharedInformerFactory does.
 */
import type { KubeObject } from '../api/types.ts';
import { findResource, type ResourceInfo } from '../apiserver/resources.ts';
import type { Clock, KubeClient } from '../client/client.ts';
import { Informer } from '../client/informer.ts';

/** The resources controllers and the scheduler watch, by their plural name. */
export const RESOURCE = {
  pods: mustFind('', 'pods'),
  nodes: mustFind('', 'nodes'),
  services: mustFind('', 'services'),
  endpoints: mustFind('', 'endpoints'),
  namespaces: mustFind('', 'namespaces'),
  events: mustFind('', 'events'),
  configmaps: mustFind('', 'configmaps'),
  leases: mustFind('coordination.k8s.io', 'leases'),
  deployments: mustFind('apps', 'deployments'),
  replicasets: mustFind('apps', 'replicasets'),
  jobs: mustFind('batch', 'jobs'),
} as const;

function mustFind(group: string, resource: string): ResourceInfo {
  const version = 'v1';
  const info = findResource(group, version, resource);
  if (!info) throw new Error(`expected the API server to serve ${group || 'core'}/${version} ${resource}, got nothing`);
  return info;
}

/** Options shared by every informer a factory makes. */
export interface InformerFactoryOptions {
  /** Narration from every informer, prefixed with the resource. */
  onTrace?: (line: string) => void;
  clock?: Clock;
  /** Every `resyncMs`, replay the cache to the update handlers (0: never). */
  resyncMs?: number;
}

/** Makes at most one informer per resource, starts them together and waits for all to sync. */
export class InformerFactory {
  private readonly informers = new Map<string, Informer<KubeObject>>();
  private started = false;

  constructor(
    readonly client: KubeClient,
    private readonly options: InformerFactoryOptions = {},
  ) {}

  /** The shared informer of a resource, made on first use (and started at once if the factory already runs). */
  informerFor<T extends KubeObject>(info: ResourceInfo): Informer<T> {
    const key = `${info.group}/${info.resource}`;
    let informer = this.informers.get(key);
    if (!informer) {
      const trace = this.options.onTrace;
      informer = new Informer<KubeObject>(this.client, info, {
        clock: this.options.clock,
        resyncMs: this.options.resyncMs,
        onTrace: trace ? (line) => trace(`${info.resource}: ${line}`) : undefined,
      });
      this.informers.set(key, informer);
      if (this.started) informer.start();
    }
    return informer as unknown as Informer<T>;
  }

  /** Starts every informer made so far; later ones start as they are made. */
  start(): void {
    this.started = true;
    for (const informer of this.informers.values()) informer.start();
  }

  /** Resolves when every informer has listed once (client-go's WaitForCacheSync). */
  async waitForSync(): Promise<void> {
    await Promise.all([...this.informers.values()].map((informer) => informer.waitForSync()));
  }

  /** Stops every informer. */
  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((informer) => informer.stop()));
  }
}

// #region indexers
/** Index name: Pods by the node they are bound to ("" for unscheduled Pods). */
export const BY_NODE = 'byNode';
/** Index name: objects by the uid of their controlling owner. */
export const BY_CONTROLLER = 'byController';
/** Index name: namespaced objects by namespace. */
export const BY_NAMESPACE = 'byNamespace';

/** Index function for BY_NODE. */
export function podNodeName(pod: KubeObject): string[] {
  return [String((pod as { spec?: { nodeName?: string } }).spec?.nodeName ?? '')];
}

/** Index function for BY_CONTROLLER: the owner reference marked controller=true, if any. */
export function controllerUid(obj: KubeObject): string[] {
  const owner = obj.metadata.ownerReferences?.find((ref) => ref.controller);
  return owner ? [owner.uid] : [];
}

/** Index function for BY_NAMESPACE. */
export function namespaceOf(obj: KubeObject): string[] {
  return obj.metadata.namespace ? [obj.metadata.namespace] : [];
}
// #endregion indexers

/** Adds an index to an informer unless it already has it under that name. */
export function ensureIndex<T extends KubeObject>(informer: Informer<T>, name: string, indexFunc: (obj: T) => string[]): Informer<T> {
  try {
    informer.addIndexer(name, indexFunc);
  } catch {
    // Why ignore: another controller added the same index first; the shared one serves both.
  }
  return informer;
}
