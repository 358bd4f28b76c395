/**
 * The Endpoints controller: for every Service with a selector, it keeps an
 * Endpoints object of the same name listing the IPs of the Pods the selector
 * matches — the ready ones under `addresses`, the others under
 * `notReadyAddresses` — with the port each Pod really listens on. kube-proxy
 * (chapter 7) reads these lists; a Service is only a name and a selector
 * until this controller fills them in. A Service without a selector is left
 * alone: its Endpoints are whatever the user wrote.
 */
import type { Endpoints, EndpointAddress, EndpointSubset, Pod, Service, ServicePort } from '../api/types.ts';
import { matchesLabels, selectorFromSet } from '../apiserver/selectors.ts';
import { isNotFound, KubeApiError } from '../client/client.ts';
import type { Informer } from '../client/informer.ts';
import { keyOf, splitKey } from '../client/informer.ts';
import { Controller, type ControllerContext } from './controller.ts';
import { BY_NAMESPACE, ensureIndex, namespaceOf, RESOURCE } from './informers.ts';
import type { ControllerOptions } from './manager.ts';
import { isPodReady } from './pod-control.ts';

/** The annotation that says when the change that led to this Endpoints content happened. */
export const LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';

type EndpointPort = NonNullable<EndpointSubset['ports']>[number];

/** Keeps one Endpoints object per Service with a selector. */
export class EndpointsController extends Controller {
  readonly name = 'endpoints';
  private readonly services: Informer<Service>;
  private readonly pods: Informer<Pod>;
  private readonly endpoints: Informer<Endpoints>;
  /** The resourceVersion of our last write per key, until the informer shows it (upstream's staleEndpointsTracker). */
  private readonly written = new Map<string, number>();

  constructor(ctx: ControllerContext, _options: ControllerOptions) {
    super(ctx);
    this.services = ensureIndex(ctx.informers.informerFor<Service>(RESOURCE.services), BY_NAMESPACE, namespaceOf);
    this.pods = ensureIndex(ctx.informers.informerFor<Pod>(RESOURCE.pods), BY_NAMESPACE, namespaceOf);
    this.endpoints = ctx.informers.informerFor<Endpoints>(RESOURCE.endpoints);

    // #region endpoints-handlers
    this.services.on('add', (service) => this.enqueue(service));
    this.services.on('update', (_old, service) => this.enqueue(service));
    this.services.on('delete', (service) => this.enqueue(service));
    this.pods.on('add', (pod) => this.enqueueServicesOf(pod));
    // Why both old and new: a Pod whose labels changed must leave the old Service's list and join the new one's.
    this.pods.on('update', (old, pod) => {
      this.enqueueServicesOf(old);
      this.enqueueServicesOf(pod);
    });
    this.pods.on('delete', (pod) => this.enqueueServicesOf(pod));
    // Why watch Endpoints deletes: someone deleting an Endpoints object of a Service we manage must see it come back.
    this.endpoints.on('delete', (endpoints) => {
      this.written.delete(keyOf(endpoints));
      this.enqueue(endpoints);
    });
    // Why: a key skipped because the cache was behind our own write is looked at again once the write shows.
    this.endpoints.on('update', (_old, endpoints) => {
      if (this.written.has(keyOf(endpoints))) this.enqueue(endpoints);
    });
    this.endpoints.on('add', (endpoints) => {
      if (this.written.has(keyOf(endpoints))) this.enqueue(endpoints);
    });
    // #endregion endpoints-handlers
  }

  /** Enqueues every Service in the Pod's namespace whose selector matches the Pod's labels. */
  private enqueueServicesOf(pod: Pod): void {
    for (const service of this.services.byIndex(BY_NAMESPACE, pod.metadata.namespace ?? '')) {
      const selector = service.spec.selector;
      if (selector && matchesLabels(selectorFromSet(selector), pod.metadata.labels)) this.enqueue(service);
    }
  }

  protected override onStart(): void {
    // Why: an Endpoints object whose Service was deleted while no controller ran must still go (upstream's checkLeftoverEndpoints).
    for (const endpoints of this.endpoints.list()) this.enqueue(endpoints);
  }

  // #region endpoints-reconcile
  async reconcile(key: string): Promise<void> {
    const { namespace = '', name } = splitKey(key);
    const service = this.services.get(key);
    if (!service) return this.deleteEndpoints(namespace, name);
    // Why leave it alone: a Service without a selector has Endpoints its user manages by hand.
    if (!service.spec.selector) return;

    const selector = selectorFromSet(service.spec.selector);
    const pods = this.pods.byIndex(BY_NAMESPACE, namespace).filter((pod) => matchesLabels(selector, pod.metadata.labels));
    const subsets = endpointSubsets(service, pods);
    const current = this.endpoints.get(key);
    // Why wait: the cache does not show our last write yet; writing from it would fail with a conflict.
    if (this.isStale(key, current)) return;
    const labels = { ...(service.metadata.labels ?? {}) };
    // Why this label: kube-proxy skips headless Services (no ClusterIP to program), and finds them by it.
    if (service.spec.clusterIP === 'None') labels['service.kubernetes.io/headless'] = '';
    if (current && sameJson(current.subsets ?? [], subsets) && sameJson(current.metadata.labels ?? {}, labels)) return;

    const now = new Date(this.ctx.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const desired: Endpoints = current ? structuredClone(current) : { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace } };
    desired.metadata.labels = labels;
    desired.metadata.annotations = { ...(desired.metadata.annotations ?? {}), [LAST_CHANGE_TRIGGER_TIME]: now };
    desired.subsets = subsets;
    const ready = subsets.reduce((n, s) => n + (s.addresses?.length ?? 0), 0);
    const notReady = subsets.reduce((n, s) => n + (s.notReadyAddresses?.length ?? 0), 0);
    try {
      const stored = current ? await this.ctx.client.update(RESOURCE.endpoints, desired) : await this.ctx.client.create(RESOURCE.endpoints, desired);
      this.written.set(key, Number(stored.metadata.resourceVersion));
    } catch (error) {
      // Why give up quietly: a namespace being deleted takes no new objects, and the Service is about to go too.
      if (error instanceof KubeApiError && error.code === 403 && error.message.includes('being terminated')) return;
      if (current) this.ctx.recorder.event(service, 'Warning', 'FailedToUpdateEndpoint', `Failed to update endpoint ${key}: ${(error as Error).message}`);
      else this.ctx.recorder.event(service, 'Warning', 'FailedToCreateEndpoint', `Failed to create endpoint for service ${key}: ${(error as Error).message}`);
      throw error;
    }
    this.ctx.trace(`endpoints ${key}: ${ready} ready, ${notReady} not ready address(es)`);
  }
  // #endregion endpoints-reconcile

  /** True while the cached Endpoints are older than the last version this controller wrote. */
  private isStale(key: string, current: Endpoints | undefined): boolean {
    const written = this.written.get(key);
    if (written === undefined) return false;
    if (current && Number(current.metadata.resourceVersion) >= written) {
      this.written.delete(key);
      return false;
    }
    return true;
  }

  /** Deletes the Endpoints of a Service that is gone; already gone is fine. */
  private async deleteEndpoints(namespace: string, name: string): Promise<void> {
    this.written.delete(`${namespace}/${name}`);
    if (!this.endpoints.get(`${namespace}/${name}`)) return;
    try {
      await this.ctx.client.delete(RESOURCE.endpoints, namespace, name);
      this.ctx.trace(`endpoints ${namespace}/${name}: service gone, deleted its endpoints`);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}

// #region endpoint-subsets
/**
 * The subsets of a Service's Endpoints: each Pod with an IP that is not
 * terminating becomes an address (ready or not ready), with the ports it
 * resolves the Service's ports to; Pods that resolve to the same ports share
 * a subset, as upstream's RepackSubsets groups them.
 */
export function endpointSubsets(service: Service, pods: readonly Pod[]): EndpointSubset[] {
  const groups = new Map<string, EndpointSubset>();
  const publishNotReady = service.spec.publishNotReadyAddresses === true;
  for (const pod of pods) {
    if (!shouldBeInEndpoints(pod)) continue;
    const ports = resolvePorts(service.spec.ports ?? [], pod);
    // Why skip: a Pod that serves none of the Service's ports cannot receive its traffic.
    if (ports.length === 0 && (service.spec.ports ?? []).length > 0) continue;
    const portsKey = JSON.stringify(ports);
    const subset = groups.get(portsKey) ?? { ports };
    groups.set(portsKey, subset);
    const address = endpointAddress(pod);
    if (isPodReady(pod) || publishNotReady) (subset.addresses ??= []).push(address);
    else (subset.notReadyAddresses ??= []).push(address);
  }
  const subsets = [...groups.values()];
  for (const subset of subsets) {
    subset.addresses?.sort(byIp);
    subset.notReadyAddresses?.sort(byIp);
    if (subset.ports?.length === 0) delete subset.ports;
  }
  return subsets.sort((a, b) => JSON.stringify(a.ports ?? []).localeCompare(JSON.stringify(b.ports ?? [])));
}
// #endregion endpoint-subsets

/** Whether a Pod belongs in any Endpoints at all: it has an IP, is not finished and not terminating. */
export function shouldBeInEndpoints(pod: Pod): boolean {
  if (!pod.status?.podIP) return false;
  if (pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed') return false;
  // Why: a terminating Pod is shutting down; sending it new connections would fail them.
  return !pod.metadata.deletionTimestamp;
}

/** The address of a Pod in an Endpoints list: its IP, its node and a reference back to it. */
function endpointAddress(pod: Pod): EndpointAddress {
  return {
    ip: pod.status?.podIP ?? '',
    ...(pod.spec.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name ?? '', uid: pod.metadata.uid },
  };
}

// #region find-port
/** The Service's ports as this Pod serves them; a named port the Pod lacks is left out, as upstream does. */
function resolvePorts(servicePorts: readonly ServicePort[], pod: Pod): EndpointPort[] {
  const ports: EndpointPort[] = [];
  for (const servicePort of servicePorts) {
    const port = findPort(pod, servicePort);
    if (port === undefined) continue;
    ports.push({ ...(servicePort.name ? { name: servicePort.name } : {}), port, protocol: servicePort.protocol ?? 'TCP' });
  }
  return ports;
}

/** The container port a Service port's targetPort means on this Pod: a number as it is, a name looked up in the containers' ports. */
export function findPort(pod: Pod, servicePort: ServicePort): number | undefined {
  const target = servicePort.targetPort ?? servicePort.port;
  if (typeof target === 'number') return target;
  const protocol = servicePort.protocol ?? 'TCP';
  for (const container of pod.spec.containers) {
    const match = container.ports?.find((p) => p.name === target && (p.protocol ?? 'TCP') === protocol);
    if (match) return match.containerPort;
  }
  return undefined;
}
// #endregion find-port

function byIp(a: EndpointAddress, b: EndpointAddress): number {
  return a.ip.localeCompare(b.ip, 'en', { numeric: true }) || (a.targetRef?.uid ?? '').localeCompare(b.targetRef?.uid ?? '');
}

/** Equal content, whatever order the keys came in (the server may write them in another order than we did). */
function sameJson(a: unknown, b: unknown): boolean {
  return stableJson(a) === stableJson(b);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
