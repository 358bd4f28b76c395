/**
 * Test support for the kubelet: an API server, and kubelets on the sim
 * runtime driven by a fake clock, so that a test decides when back-offs,
 * grace periods and probe periods run out.
 */
import type { Event, Pod } from '../api/types.ts';
import type { KubeClient } from '../client/client.ts';
import { RESOURCE } from '../controllers/informers.ts';
import { FakeClock } from '../runtime/sim-clock.ts';
import { SimRuntime } from '../runtime/sim.ts';
import { waitUntil } from '../workbook/waiting.ts';
import { startKubelet, type Kubelet, type KubeletOptions } from './kubelet.ts';

/** What startCluster-like helpers give: a client per identity. */
export interface KubeletTestCluster {
  admin: KubeClient;
  clientAs(user: string, userAgent?: string): KubeClient;
}

/** A kubelet on a sim runtime with a fake clock, and how to move its time. */
export interface SimNode {
  kubelet: Kubelet;
  runtime: SimRuntime;
  clock: FakeClock;
  /** Moves time by `ms` in relist-sized steps, letting the kubelet finish its work after each. */
  advance(ms: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a kubelet named `name` on a new SimRuntime (or the one given) with a fake clock starting now. */
export async function startSimNode(cluster: KubeletTestCluster, name: string, options: Partial<KubeletOptions> & { runtime?: SimRuntime; clock?: FakeClock } = {}): Promise<SimNode> {
  const clock = options.clock ?? new FakeClock(Date.now());
  const runtime = options.runtime ?? new SimRuntime({ clock, podCIDR: options.podCIDR ?? '10.244.1.0/24' });
  const client = cluster.clientAs(`system:node:${name}`, `kubelet/v1.32.0 ${name}`);
  const kubelet = await startKubelet({ ...options, client, name, runtime, clock });
  const advance = async (ms: number) => {
    for (let left = ms; left > 0; left -= 1000) {
      clock.advance(Math.min(1000, left));
      await kubelet.whenIdle();
    }
  };
  return {
    kubelet,
    runtime,
    clock,
    advance,
    stop: async () => {
      await kubelet.stop();
      client.close();
    },
  };
}

/** A Pod bound to `node` (no scheduler needed), with one container unless `spec` says otherwise. */
export function boundPod(name: string, node: string, spec: Partial<Pod['spec']> = {}, annotations?: Record<string, string>): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', ...(annotations ? { annotations } : {}) },
    spec: { nodeName: node, containers: [{ name: 'app', image: 'backend:v0.0.1' }], ...spec },
  };
}

/** Reads a Pod until `probe` accepts it. */
export async function podWhere(client: KubeClient, name: string, what: string, probe: (pod: Pod) => boolean, timeoutMs = 15_000, namespace = 'default'): Promise<Pod> {
  let last: Pod | undefined;
  try {
    await waitUntil(`${what} (pod ${namespace}/${name})`, async () => {
      last = await client.get<Pod>(RESOURCE.pods, namespace, name).catch(() => undefined);
      return last !== undefined && probe(last);
    }, timeoutMs);
  } catch (error) {
    throw new Error(`${(error as Error).message}; its last status: ${JSON.stringify(last?.status ?? 'none')}`);
  }
  return last!;
}

/** How many times an Event with this reason was recorded about a Pod (repeats are counted in one Event). */
export async function eventCount(client: KubeClient, name: string, reason: string, namespace = 'default'): Promise<number> {
  const list = await client.list<Event>(RESOURCE.events, { namespace, fieldSelector: `involvedObject.name=${name}` });
  return list.items.filter((e) => e.reason === reason).reduce((sum, e) => sum + (e.count ?? 1), 0);
}

/** Waits until the kubelet has a worker for the Pod (it has seen it), and that worker is idle. */
export async function seen(node: SimNode, client: KubeClient, name: string, namespace = 'default'): Promise<void> {
  await waitUntil(`the kubelet to see pod ${namespace}/${name}`, async () => {
    const pod = await client.get<Pod>(RESOURCE.pods, namespace, name).catch(() => undefined);
    return pod !== undefined && node.kubelet.workerState(pod.metadata.uid ?? '') !== undefined;
  });
  await node.kubelet.whenIdle();
}

/** The Events recorded about a Pod, oldest first, as "Reason: message". */
export async function podEvents(client: KubeClient, name: string, namespace = 'default'): Promise<string[]> {
  const list = await client.list<Event>(RESOURCE.events, { namespace, fieldSelector: `involvedObject.name=${name}` });
  return list.items.map((e) => `${e.reason}: ${e.message}`);
}

/** The container status of a Pod's first (or named) container. */
export function containerOf(pod: Pod, name?: string) {
  const status = name ? pod.status?.containerStatuses?.find((s) => s.name === name) : pod.status?.containerStatuses?.[0];
  return status;
}
