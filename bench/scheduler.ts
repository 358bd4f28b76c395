/**
 * The scheduler benchmark, shaped as upstream's scheduler_perf
 * SchedulingBasic workload: 5000 nodes (4 cpu, 32Gi, 110 pods each), then
 * 10,000 Pods (100m cpu, 500Mi each), created by 20 concurrent clients while
 * our scheduler runs. The figure is scheduling throughput: Pods bound per
 * second, from the first Pod created until the last binding is accepted.
 * The reference is upstream's threshold for this workload (680 pods/s, the
 * 5000-node SchedulingBasic case); our goal is 1000 pods/s on a 2-core machine.
 *
 * The API server runs as its own process (`npm run cluster`'s `run`, with no
 * controllers, scheduler or nodes), as kube-apiserver does, so it has a core
 * of its own; the scheduler and the clients creating Pods run here, in this
 * process. SCHEDULER_BENCH_SERVER=in-process puts the API server here too.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Event, Node, Pod } from '../lib/api/types.ts';
import { KubeClient } from '../lib/client/client.ts';
import { MemoryEventRecorder } from '../lib/client/events.ts';
import { loadContext, type ResolvedContext } from '../lib/client/kubeconfig.ts';
import { startCluster } from '../lib/cluster/cluster.ts';
import { RESOURCE } from '../lib/controllers/informers.ts';
import { deepFreeze } from '../lib/client/informer.ts';
import { SchedulerCache } from '../lib/scheduler/cache.ts';
import { SchedulingQueue } from '../lib/scheduler/queue.ts';
import { cycleFor, startScheduler } from '../lib/scheduler/scheduler.ts';
import { referenceSeams } from '../lib/scheduler/seams.ts';
import { createActor } from 'xstate';
import { startServerProcess as startSharedServerProcess } from './helpers/server-process.ts';
import { printTable } from './helpers/table.ts';

/** How big a run is. */
export interface SchedulerBenchOptions {
  nodes: number;
  pods: number;
  /** Concurrent clients creating the Pods. */
  clients: number;
  /** `process`: the API server in a child process (default); `in-process`: in this process. */
  server: 'process' | 'in-process';
  /** Whether the scheduler writes its Scheduled events to the API server (default yes, as upstream). */
  events: boolean;
}

/** The sizes (upstream's SchedulingBasic 5000Nodes_10000Pods). */
export const DEFAULT_OPTIONS: SchedulerBenchOptions = { nodes: 5000, pods: 10_000, clients: 20, server: 'process', events: true };

/** Upstream's threshold for SchedulingBasic with 5000 nodes, in pods/s (scheduler_perf performance-config.yaml). */
export const UPSTREAM_THRESHOLD = 680;
/** Our goal on this machine, in pods/s. */
export const GOAL = 1000;

/** The sizes, from SCHEDULER_BENCH_NODES, _PODS, _CLIENTS, _SERVER and _EVENTS (0: keep Events in memory); the sizes for what is unset. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): SchedulerBenchOptions {
  const count = (name: string, fallback: number): number => {
    const text = env[`SCHEDULER_BENCH_${name}`];
    if (text === undefined || text === '') return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`expected SCHEDULER_BENCH_${name} to be a whole number ≥ 1, got ${JSON.stringify(text)}`);
    return n;
  };
  const server = env.SCHEDULER_BENCH_SERVER || DEFAULT_OPTIONS.server;
  if (server !== 'process' && server !== 'in-process') throw new Error(`expected SCHEDULER_BENCH_SERVER to be process or in-process, got ${JSON.stringify(server)}`);
  const events = env.SCHEDULER_BENCH_EVENTS;
  if (events !== undefined && events !== '' && events !== '0' && events !== '1') throw new Error(`expected SCHEDULER_BENCH_EVENTS to be 0 or 1, got ${JSON.stringify(events)}`);
  return { nodes: count('NODES', DEFAULT_OPTIONS.nodes), pods: count('PODS', DEFAULT_OPTIONS.pods), clients: count('CLIENTS', DEFAULT_OPTIONS.clients), server, events: events !== '0' };
}

// #region server
/** Where the API server is, the identities the benchmark acts as, and how to stop it. */
interface Target {
  admin: ResolvedContext;
  scheduler: ResolvedContext;
  stop(): Promise<void>;
}

/** `npm run cluster`'s process with the API server alone; SCHEDULER_BENCH_SERVER_CPU_PROF=<dir> profiles it. */
async function startServerProcess(): Promise<Target> {
  const server = await startSharedServerProcess('bench-scheduler', process.env.SCHEDULER_BENCH_SERVER_CPU_PROF);
  return { admin: loadContext({ path: join(server.dir, 'kubeconfig') }), scheduler: loadContext({ path: join(server.dir, 'scheduler.conf') }), stop: server.stop };
}

async function startInProcess(): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-scheduler-'));
  const cluster = await startCluster({ dir });
  cluster.admin.close();
  const context = (user: string): ResolvedContext => ({ server: cluster.apiserver.url, ca: cluster.ca, token: cluster.tokens.get(user) }) as ResolvedContext;
  return {
    admin: context('kubernetes-admin'),
    scheduler: context('system:kube-scheduler'),
    stop: async () => {
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function clientOf(context: ResolvedContext, userAgent: string): KubeClient {
  return new KubeClient({ server: context.server, ca: context.ca, token: context.token, userAgent });
}
// #endregion server

// #region workload
/** scheduler_perf's node-default.yaml: 4 cpu, 32Gi, 110 pods, Ready. */
export function benchNode(name: string): Node {
  const resources = { cpu: '4', memory: '32Gi', pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    spec: {},
    status: { capacity: resources, allocatable: resources, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] },
  };
}

/** scheduler_perf's pod-default.yaml: one pause container requesting 100m and 500Mi. */
export function benchPod(name: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: 'bench' } },
    spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m', memory: '500Mi' } } }] },
  };
}

/** Runs `count` calls over `clients`, each client taking the next call when its last one answered. */
async function spread(clients: KubeClient[], count: number, call: (client: KubeClient, i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    clients.map(async (client) => {
      for (let i = next++; i < count; i = next++) await call(client, i);
    }),
  );
}

/** What a run measured. */
export interface SchedulerBenchResult {
  podsPerSecond: number;
  seconds: number;
  bound: number;
  /** Seconds to create the nodes and for the scheduler to sync (not measured). */
  setupSeconds: number;
  /**
   * The same number of Pods created again with the scheduler stopped: the
   * API server's create rate alone, a ceiling on `podsPerSecond` (each
   * scheduled Pod also costs a binding and an Event write).
   */
  createsPerSecond: number;
  /** Those Pods then bound (each with its Scheduled Event) by the clients: the API server's binding rate alone. */
  bindsPerSecond: number;
  problems: string[];
}

/** Creates the nodes, starts the scheduler, then creates the Pods and waits until all are bound. */
export async function measureScheduler(options: SchedulerBenchOptions, log: (line: string) => void = console.log): Promise<SchedulerBenchResult> {
  const target = options.server === 'process' ? await startServerProcess() : await startInProcess();
  const clients = Array.from({ length: options.clients }, (_, i) => clientOf(target.admin, `bench-client-${i}`));
  const schedulerClient = clientOf(target.scheduler, 'kube-scheduler/bench');
  const problems: string[] = [];
  let scheduler: Awaited<ReturnType<typeof startScheduler>> | undefined;
  try {
    const setupStart = performance.now();
    log(`creating ${options.nodes} nodes ...`);
    await spread(clients, options.nodes, (client, i) => client.create(RESOURCE.nodes, benchNode(`node-${i}`)));
    // Why an option to keep Events in memory: it shows how much of the API server's time the Scheduled events take.
    scheduler = await startScheduler({ client: schedulerClient, ...(options.events ? {} : { recorder: new MemoryEventRecorder() }) });
    const setupSeconds = (performance.now() - setupStart) / 1000;
    log(`scheduler synced on ${scheduler.cache.nodeList.length} nodes; creating ${options.pods} pods ...`);
    const s = scheduler;
    const start = performance.now();
    let createdSeconds = 0;
    const created = spread(clients, options.pods, (client, i) => client.create(RESOURCE.pods, benchPod(`pod-${i}`))).then(() => {
      createdSeconds = (performance.now() - start) / 1000;
    });
    let lastLog = start;
    while (s.stats.bound < options.pods) {
      await sleep(20);
      const now = performance.now();
      if (now - lastLog > 2000) {
        lastLog = now;
        log(`  ${((now - start) / 1000).toFixed(1)} s: ${s.stats.bound} bound, queue ${JSON.stringify(s.queue.counts())}`);
      }
      if (s.stats.unschedulable > 0 || s.stats.errors > 0) {
        problems.push(`expected every pod to fit, got ${s.stats.unschedulable} unschedulable cycles and ${s.stats.errors} binding errors`);
        break;
      }
      if (now - start > 600_000) {
        problems.push(`expected all ${options.pods} pods bound within 10 minutes, got ${s.stats.bound}`);
        break;
      }
    }
    const seconds = (performance.now() - start) / 1000;
    await created;
    log(`  all pods created after ${createdSeconds.toFixed(2)} s; all bound after ${seconds.toFixed(2)} s`);
    await s.stop();
    scheduler = undefined;
    log(`scheduler stopped; creating ${options.pods} more pods to measure the API server's create rate alone ...`);
    const ceilingStart = performance.now();
    await spread(clients, options.pods, (client, i) => client.create(RESOURCE.pods, benchPod(`ceiling-${i}`)));
    const createsPerSecond = options.pods / ((performance.now() - ceilingStart) / 1000);
    const bindsPerSecond = await measureBinding(options, clients, log);
    return { podsPerSecond: s.stats.bound / seconds, seconds, bound: s.stats.bound, setupSeconds, createsPerSecond, bindsPerSecond, problems };
  } finally {
    await scheduler?.stop();
    for (const client of [...clients, schedulerClient]) client.close();
    await target.stop();
  }
}
/**
 * The API server's binding rate alone: the bench clients bind the Pods created
 * while no scheduler ran (round-robin over the nodes) and write each one's
 * Scheduled Event, the two writes the scheduler makes per Pod, with no creates
 * competing. Why not a scheduler: with thousands of Pods queued at once its own
 * cycle, not the API server, sets the pace.
 */
async function measureBinding(options: SchedulerBenchOptions, clients: KubeClient[], log: (line: string) => void): Promise<number> {
  log(`binding those ${options.pods} pods from the ${clients.length} clients${options.events ? ', each with its Scheduled event' : ''} ...`);
  const start = performance.now();
  await spread(clients, options.pods, async (client, i) => {
    const name = `ceiling-${i}`;
    const node = `node-${i % options.nodes}`;
    await client.bind('default', name, node);
    if (options.events) await client.create(RESOURCE.events, scheduledEvent(name, node));
  });
  return options.pods / ((performance.now() - start) / 1000);
}

/** The Event the scheduler writes for a bound Pod (lib/client/events.ts's shape). */
function scheduledEvent(pod: string, node: string): Event {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${pod}.bench`, namespace: 'default' },
    involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: pod },
    reason: 'Scheduled',
    message: `Successfully assigned default/${pod} to ${node}`,
    type: 'Normal',
    source: { component: 'default-scheduler' },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    eventTime: null,
    reportingComponent: 'default-scheduler',
    reportingInstance: '',
  };
}

/**
 * The scheduler alone: the same nodes and Pods, with no API server. The
 * cache is filled directly, the queue gets every Pod at once, and a binding
 * "succeeds" at once; the cycle machine, filters and scores are the real
 * ones. This is the ceiling the scheduler itself puts on throughput.
 */
export async function measureCycles(options: Pick<SchedulerBenchOptions, 'nodes' | 'pods'>): Promise<{ podsPerSecond: number; seconds: number; bound: number; problems: string[] }> {
  const cache = new SchedulerCache();
  for (let i = 0; i < options.nodes; i++) cache.setNode(deepFreeze(benchNode(`node-${i}`)));
  const queue = new SchedulingQueue();
  const problems: string[] = [];
  let bound = 0;
  let allBound!: () => void;
  const finished = new Promise<void>((resolve) => (allBound = resolve));
  const machine = cycleFor({
    queue,
    cache,
    seams: referenceSeams,
    filterState: { nextStartNodeIndex: 0 },
    random: Math.random,
    bind: async () => ({ outcome: 'bound', message: '' }),
    recordUnschedulable: (info, message) => {
      problems.push(`${info.key}: ${message}`);
      allBound();
    },
    finishBinding: (done) => {
      if (done.outcome === 'bound' && ++bound === options.pods) allBound();
    },
  });
  const pods = Array.from({ length: options.pods }, (_, i) => deepFreeze({ ...benchPod(`pod-${i}`), metadata: { ...benchPod(`pod-${i}`).metadata, uid: `uid-${i}` } }));
  const start = performance.now();
  for (const pod of pods) queue.add(pod);
  const actor = createActor(machine);
  actor.start();
  await finished;
  const seconds = (performance.now() - start) / 1000;
  queue.close();
  actor.stop();
  return { podsPerSecond: bound / seconds, seconds, bound, problems };
}
// #endregion workload

// #region report
/** The machine-readable line, in the same shape as the other benchmarks': ratio = ours / upstream's threshold. */
export function benchLine(podsPerSecond: number, name = 'scheduler.throughput'): string {
  const ours = Math.round(podsPerSecond);
  return `BENCH ${JSON.stringify({ name, ours, reference: UPSTREAM_THRESHOLD, unit: 'pods/s', ratio: Number((podsPerSecond / UPSTREAM_THRESHOLD).toFixed(3)), goal: GOAL })}`;
}

/** Runs the benchmark with the sizes from the environment and prints the table and the BENCH line. */
export async function run(): Promise<void> {
  const options = optionsFromEnv();
  const loadBefore = loadavg()[0] ?? 0;
  const result = await measureScheduler(options);
  console.log(`the scheduler alone (no API server) on ${options.nodes} nodes ...`);
  const alone = await measureCycles(options);
  const row = (name: string, podsPerSecond: number) => [name, String(Math.round(podsPerSecond)), String(UPSTREAM_THRESHOLD), 'pods/s', `${(podsPerSecond / UPSTREAM_THRESHOLD).toFixed(2)}x`, String(GOAL), podsPerSecond >= GOAL ? 'yes' : 'no'];
  printTable(['figure', 'ours', 'upstream', 'unit', 'ratio', 'goal', 'met'], [
    row('scheduler.throughput', result.podsPerSecond),
    row('scheduler.alone', alone.podsPerSecond),
    ['apiserver.creates (ceiling)', String(Math.round(result.createsPerSecond)), '-', 'pods/s', '-', '-', '-'],
    ['apiserver.binding (pods pre-created)', String(Math.round(result.bindsPerSecond)), '-', 'pods/s', '-', '-', '-'],
  ]);
  console.log(`${result.bound} pods bound on ${options.nodes} nodes in ${result.seconds.toFixed(2)} s (from the first pod created to the last binding accepted; ${options.clients} clients creating); setup ${result.setupSeconds.toFixed(1)} s.`);
  console.log(`API server: ${options.server === 'process' ? 'its own process' : 'in this process'}; scheduler in this process; adaptive percentageOfNodesToScore (${options.nodes >= 100 ? 'upstream: 10% of 5000 nodes' : 'all nodes'}).`);
  console.log(`apiserver.creates: ${options.pods} more pods created with the scheduler stopped: the API server's create rate alone, a ceiling on scheduler.throughput, where each pod also costs a binding and an Event.`);
  console.log(`apiserver.binding: those ${options.pods} pods then bound by the ${options.clients} clients, each with the Scheduled Event the scheduler would write: the API server's rate for the two writes the scheduler makes per pod, with no creates competing.`);
  console.log(`scheduler.alone: the same ${options.pods} pods through the real cycle machine, filters and scores, with the cache filled directly and bindings that succeed at once (${alone.seconds.toFixed(2)} s): the ceiling the scheduler itself sets.`);
  console.log(`Events ${options.events ? 'written to the API server, as upstream' : 'kept in memory (SCHEDULER_BENCH_EVENTS=0)'}. ratio = ours / upstream's SchedulingBasic threshold (${UPSTREAM_THRESHOLD} pods/s); goal ${GOAL} pods/s.`);
  console.log(`machine: ${cpus().length} cores; 1-minute load average ${loadBefore.toFixed(1)} before the run, ${(loadavg()[0] ?? 0).toFixed(1)} after`);
  console.log(benchLine(result.podsPerSecond));
  console.log(benchLine(alone.podsPerSecond, 'scheduler.alone'));
  console.log(`BENCH ${JSON.stringify({ name: 'scheduler.apiserver.bindings', ours: Math.round(result.bindsPerSecond), reference: null, unit: 'pods/s', ratio: null, goal: null })}`);
  console.log(`BENCH ${JSON.stringify({ name: 'scheduler.apiserver.creates', ours: Math.round(result.createsPerSecond), reference: null, unit: 'pods/s', ratio: null, goal: null })}`);
  const problems = [...result.problems, ...alone.problems.slice(0, 3)];
  if (problems.length > 0) {
    console.log(`FAILED: ${problems.join('; ')}`);
    process.exitCode = 1;
  }
}
// #endregion report

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
