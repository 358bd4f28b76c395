/**
 * `npm run bench controllers`: the time from creating a Deployment of 1000
 * replicas until its 1000 Pods exist, through an in-process API server
 * (store on disk in a temporary directory) and our Deployment and
 * ReplicaSet controllers. As the reference, the same run creates 1000 Pods
 * straight through the API server with the same concurrency the ReplicaSet
 * controller uses (slow-start batches 1, 2, 4, ... of at most 500 per sync):
 * the ratio reference/ours is the share of the time that is the API server's
 * own work; the rest is the controllers (informers, queue, expectations).
 * CONTROLLERS_BENCH_REPLICAS changes the size. Not a test: nothing here
 * passes or fails on a timing.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Deployment, Namespace, Pod } from '../lib/api/types.ts';
import { realClock, type KubeClient } from '../lib/client/client.ts';
import { MemoryEventRecorder } from '../lib/client/events.ts';
import { startCluster } from '../lib/cluster/cluster.ts';
import type { ControllerContext } from '../lib/controllers/controller.ts';
import { DeploymentController } from '../lib/controllers/deployment.ts';
import { InformerFactory, RESOURCE } from '../lib/controllers/informers.ts';
import { podFromTemplate, slowStartBatch } from '../lib/controllers/pod-control.ts';
import { BURST_REPLICAS, ReplicaSetController } from '../lib/controllers/replicaset.ts';
import { referenceSeams } from '../lib/controllers/seams.ts';
import { printTable } from './helpers/table.ts';

/** The benchmark's size. */
export interface ControllersBenchOptions {
  replicas: number;
}

export const DEFAULT_OPTIONS: ControllersBenchOptions = { replicas: 1000 };

/** The size from CONTROLLERS_BENCH_REPLICAS, or the 1000. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): ControllersBenchOptions {
  const text = env.CONTROLLERS_BENCH_REPLICAS;
  if (text === undefined || text === '') return DEFAULT_OPTIONS;
  const replicas = Number(text);
  if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`expected CONTROLLERS_BENCH_REPLICAS to be a whole number ≥ 1, got ${JSON.stringify(text)}`);
  return { replicas };
}

/** One figure: ours against the reference, both in ms. */
export interface Figure {
  name: string;
  ours: number;
  reference: number | null;
  unit: string;
}

/** How close ours comes to the direct creation, 1 meaning the controllers add nothing: reference/ours for times, ours/reference for rates. */
export function ratioOf(f: Figure): number | null {
  if (f.reference === null || !(f.ours > 0) || !(f.reference > 0)) return null;
  return f.unit === 'ms' ? f.reference / f.ours : f.ours / f.reference;
}

/** The machine-readable line of one figure. */
export function benchLine(f: Figure): string {
  const ratio = ratioOf(f);
  return `BENCH ${JSON.stringify({ name: f.name, ours: Math.round(f.ours * 10) / 10, reference: f.reference === null ? null : Math.round(f.reference * 10) / 10, unit: f.unit, ratio: ratio === null ? null : Number(ratio.toFixed(3)) })}`;
}

function deployment(namespace: string, replicas: number): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'bench', namespace },
    spec: { replicas, selector: { matchLabels: { app: 'bench' } }, template: { metadata: { labels: { app: 'bench' } }, spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] } } },
  };
}

async function createNamespace(client: KubeClient, name: string): Promise<void> {
  await client.create<Namespace>(RESOURCE.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

/** Resolves when `count` Pods exist in `namespace`, watching from the current revision. */
async function podsExist(client: KubeClient, namespace: string, count: number): Promise<void> {
  const list = await client.list<Pod>(RESOURCE.pods, { namespace });
  let seen = list.items.length;
  if (seen >= count) return;
  await new Promise<void>((resolve, reject) => {
    const watch = client.watch(RESOURCE.pods, { namespace, resourceVersion: list.metadata.resourceVersion }, (event) => {
      if (event.type === 'ADDED') seen += 1;
      if (event.type === 'DELETED') seen -= 1;
      if (seen >= count) {
        watch.stop();
        resolve();
      }
    });
    void watch.done.then((end) => {
      if (seen < count) reject(new Error(`expected ${count} pods in ${namespace}, the watch ended (${end.reason}) at ${seen}`));
    });
  });
}

/** Times a Deployment of `replicas` until its Pods exist, then the same number of Pods created directly. */
export async function measureControllers(options: ControllersBenchOptions, log: (line: string) => void = console.log): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-controllers-'));
  const cluster = await startCluster({ dir, compactionIntervalMs: 0 });
  const client = cluster.clientAs('system:kube-controller-manager', 'bench-controllers');
  const informers = new InformerFactory(client, { clock: realClock });
  const ctx: ControllerContext = { client, informers, recorder: new MemoryEventRecorder(), clock: realClock, trace: () => {} };
  const settings = { seams: referenceSeams, nodeMonitorGracePeriodMs: 40_000, nodeMonitorPeriodMs: 5_000 };
  const controllers = [new DeploymentController(ctx, settings), new ReplicaSetController(ctx, settings)];
  try {
    informers.start();
    await informers.waitForSync();
    for (const c of controllers) c.run(5);

    // Warm-up: JIT, connections, the first writes of each kind.
    await createNamespace(cluster.admin, 'warm-up');
    await cluster.admin.create(RESOURCE.deployments, deployment('warm-up', 20));
    await podsExist(cluster.admin, 'warm-up', 20);

    await createNamespace(cluster.admin, 'bench-deployment');
    log(`creating a Deployment of ${options.replicas} replicas...`);
    const started = performance.now();
    const watching = podsExist(cluster.admin, 'bench-deployment', options.replicas);
    await cluster.admin.create(RESOURCE.deployments, deployment('bench-deployment', options.replicas));
    await watching;
    const ours = performance.now() - started;
    log(`  ${options.replicas} pods exist after ${Math.round(ours)} ms`);

    for (const c of controllers) await c.stop();
    await createNamespace(cluster.admin, 'bench-direct');
    const template = deployment('bench-direct', 1).spec.template;
    const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'bench-direct', namespace: 'bench-direct', uid: 'bench' } };
    log(`creating ${options.replicas} pods directly, in the ReplicaSet controller's batches...`);
    const directStart = performance.now();
    const watchingDirect = podsExist(cluster.admin, 'bench-direct', options.replicas);
    for (let left = options.replicas; left > 0; left -= BURST_REPLICAS) {
      const { error } = await slowStartBatch(Math.min(left, BURST_REPLICAS), 1, async () => {
        await client.create(RESOURCE.pods, podFromTemplate(template, owner));
      });
      if (error) throw error;
    }
    await watchingDirect;
    const reference = performance.now() - directStart;
    log(`  ${options.replicas} pods exist after ${Math.round(reference)} ms`);
    return [
      { name: `controllers.deployment.${options.replicas}pods`, ours, reference, unit: 'ms' },
      { name: 'controllers.deployment.pods_per_s', ours: (options.replicas * 1000) / ours, reference: (options.replicas * 1000) / reference, unit: 'pods/s' },
    ];
  } finally {
    await Promise.all(controllers.map((c) => c.stop()));
    await informers.stop();
    client.close();
    cluster.admin.close();
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** `npm run bench controllers`. */
export async function run(): Promise<void> {
  const options = optionsFromEnv();
  const loadBefore = loadavg()[0] ?? 0;
  const figures = await measureControllers(options);
  printTable(
    ['figure', 'ours', 'direct', 'unit', 'direct/ours'],
    figures.map((f) => {
      const ratio = ratioOf(f);
      return [f.name, f.ours.toFixed(1), f.reference === null ? '-' : f.reference.toFixed(1), f.unit, ratio === null ? '-' : ratio.toFixed(2)];
    }),
  );
  console.log(`machine: ${cpus().length} cores; 1-minute load average ${loadBefore.toFixed(1)} before the run, ${(loadavg()[0] ?? 0).toFixed(1)} after`);
  for (const f of figures) console.log(benchLine(f));
}
