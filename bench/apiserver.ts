/**
 * The API server benchmark: 20 concurrent clients create 1000 Pods, then get,
 * list and update them, while 100 watchers receive every event. Figures: the
 * p50 and p99 latency and the throughput of each verb, and the fan-out delay
 * from a write's response until the last watcher has its event. There is no
 * second API server to race, so the reference is the Kubernetes scalability
 * SLO: p99 ≤ 1 s for a single-object call (mutating or not), p99 ≤ 5 s for a
 * namespaced LIST. The ratio says how many times under the SLO we are; the
 * goal is 50x on a 2-core machine.
 *
 * The API server runs as its own process (`npm run cluster`'s `run`), as
 * kube-apiserver does, so the clients' work (100 watch streams to parse) runs
 * on the other core. Sizes come from the environment (see optionsFromEnv).
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { KubeObject, Namespace, Pod, Status, WatchEventObject } from '../lib/api/types.ts';
import { ADMIN } from '../lib/apiserver/bootstrap.ts';
import { resourceForKind } from '../lib/apiserver/resources.ts';
import { KubeClient, type WatchHandle } from '../lib/client/client.ts';
import { loadContext } from '../lib/client/kubeconfig.ts';
import { startCluster } from '../lib/cluster/cluster.ts';
import { startServerProcess as startSharedServerProcess } from './helpers/server-process.ts';
import { printTable } from './helpers/table.ts';
import { histogramDelta, histogramQuantile, readHistogram, type Histogram } from '../lib/apiserver/metrics.ts';

/** How big a run is. */
export interface ApiServerBenchOptions {
  /** Pods created (then read, updated) per round. */
  pods: number;
  /** Concurrent clients, each with its own connection, doing the creates, gets, lists and updates. */
  clients: number;
  /** Watches open on the namespace's pods, each through its own client. */
  watchers: number;
  /** Lists of the whole namespace per round. */
  lists: number;
  /** Measured rounds (after one warm-up); each figure is the median over them. */
  rounds: number;
  /** `process`: the API server in a child process (the default); `in-process`: startCluster in this process. */
  server: 'process' | 'in-process';
}

/** The issue's sizes. */
export const DEFAULT_OPTIONS: ApiServerBenchOptions = { pods: 1000, clients: 20, watchers: 100, lists: 40, rounds: 3, server: 'process' };

/**
 * The sizes, from APISERVER_BENCH_PODS, _CLIENTS, _WATCHERS, _LISTS, _ROUNDS
 * and _SERVER (process | in-process); the issue's sizes for what is unset.
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): ApiServerBenchOptions {
  const count = (name: string, fallback: number): number => {
    const text = env[`APISERVER_BENCH_${name}`];
    if (text === undefined || text === '') return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`expected APISERVER_BENCH_${name} to be a whole number ≥ 1, got ${JSON.stringify(text)}`);
    return n;
  };
  const server = env.APISERVER_BENCH_SERVER || DEFAULT_OPTIONS.server;
  if (server !== 'process' && server !== 'in-process') throw new Error(`expected APISERVER_BENCH_SERVER to be process or in-process, got ${JSON.stringify(server)}`);
  return {
    pods: count('PODS', DEFAULT_OPTIONS.pods),
    clients: count('CLIENTS', DEFAULT_OPTIONS.clients),
    watchers: count('WATCHERS', DEFAULT_OPTIONS.watchers),
    lists: count('LISTS', DEFAULT_OPTIONS.lists),
    rounds: count('ROUNDS', DEFAULT_OPTIONS.rounds),
    server,
  };
}

/** The Kubernetes API call latency SLOs (p99 per cluster-day), in ms. */
const SLO_MS = { singleObject: 1000, namespacedList: 5000 };
/** How many times under the SLO we want each p99 to be. */
const GOAL = 50;

const NAMESPACES = mustResource('v1', 'Namespace');

function mustResource(apiVersion: string, kind: string) {
  const info = resourceForKind(apiVersion, kind);
  if (!info) throw new Error(`expected the resource table to serve ${apiVersion} ${kind}, got nothing`);
  return info;
}

// #region server
/** An API server under test: where it is, how to talk to it as the admin, how to stop it. */
interface Target {
  server: string;
  token?: string;
  ca?: string;
  stop(): Promise<void>;
}

/** Starts `npm run cluster`'s store and API server process; APISERVER_BENCH_CPU_PROF=<dir> runs it under `node --cpu-prof`. */
async function startServerProcess(): Promise<Target> {
  const server = await startSharedServerProcess('bench-apiserver', process.env.APISERVER_BENCH_CPU_PROF);
  const context = loadContext({ path: join(server.dir, 'kubeconfig') });
  return { server: context.server, token: context.token, ca: context.ca, stop: server.stop };
}

/** startCluster in this process: the API server shares the event loop with the clients. */
async function startInProcess(): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-apiserver-'));
  const cluster = await startCluster({ dir });
  cluster.admin.close(); // Why: the benchmark makes its own clients, from the same token and CA.
  return {
    server: cluster.apiserver.url,
    token: cluster.tokens.get(ADMIN.name),
    ca: cluster.ca,
    stop: async () => {
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
// #endregion server

// #region workload
/** The scenario's backend pod: one container `backend`, image backend:v0.0.1, port 8080, labelled app=backend. */
export function backendPod(namespace: string, name: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: 'backend' } },
    spec: { containers: [{ name: 'backend', image: 'backend:v0.0.1', ports: [{ containerPort: 8080 }] }] },
  };
}

/** Latencies (ms) of `count` calls made by `clients` clients at once, each taking the next call when its last one answers. */
async function timedCalls(clients: KubeClient[], count: number, call: (client: KubeClient, i: number) => Promise<unknown>): Promise<{ samples: number[]; seconds: number }> {
  const samples: number[] = new Array<number>(count).fill(0);
  let next = 0;
  const start = performance.now();
  await Promise.all(
    clients.map(async (client) => {
      for (let i = next++; i < count; i = next++) {
        const t0 = performance.now();
        await call(client, i);
        samples[i] = performance.now() - t0;
      }
    }),
  );
  return { samples, seconds: (performance.now() - start) / 1000 };
}

/** One write the watchers must all see: its event type and when its response came. */
interface Write {
  name: string;
  type: 'ADDED' | 'MODIFIED';
  respondedAt: number;
}

/** How a write reached the watchers so far: how many have it and when the last one got it. */
interface Arrival {
  seen: number;
  lastAt: number;
}

/** What one watcher has had. */
interface WatcherCounts {
  added: number;
  modified: number;
  deleted: number;
  lastRevision: number;
}

/**
 * `watchers` watches on the pods of one namespace, each through its own
 * client, recording for every event (by resourceVersion, which names one
 * write) how many watchers have it and when the last one got it.
 */
class WatchFanOut {
  readonly arrivals = new Map<string, Arrival>();
  /** Per watcher: how many events of each type it had. */
  readonly perWatcher: WatcherCounts[] = [];
  readonly problems: string[] = [];
  private readonly clients: KubeClient[] = [];
  private readonly handles: WatchHandle[] = [];
  private delivered = 0;
  private stopping = false;

  constructor(target: Target, namespace: string, watchers: number) {
    for (let w = 0; w < watchers; w++) {
      const client = newClient(target, `bench-watcher-${w}`);
      const counts: WatcherCounts = { added: 0, modified: 0, deleted: 0, lastRevision: 0 };
      this.clients.push(client);
      this.perWatcher.push(counts);
      // Why timeoutSeconds: without it the server may end a watch after 30 minutes, which a long run could reach.
      const handle = client.pods(namespace).watch({ timeoutSeconds: 3600 }, (event) => this.onEvent(w, counts, event));
      void handle.done.then((end) => {
        if (!this.stopping) this.problem(`watcher ${w} ended before the benchmark stopped it: ${end.reason}${end.reason === 'error' ? ` (${end.error.message})` : ''}`);
      });
      this.handles.push(handle);
    }
  }

  private onEvent(w: number, counts: WatcherCounts, event: WatchEventObject<Pod | Status>): void {
    const now = performance.now();
    this.delivered++;
    if (event.type !== 'ADDED' && event.type !== 'MODIFIED' && event.type !== 'DELETED') {
      this.problem(`watcher ${w} got a ${event.type} event: ${JSON.stringify(event.object).slice(0, 200)}`);
      return;
    }
    const rv = (event.object as KubeObject).metadata.resourceVersion ?? '';
    const revision = Number(rv);
    // Why: a watch delivers changes in the order of the store's revisions; anything else is a bug.
    if (!(revision > counts.lastRevision)) this.problem(`watcher ${w} got resourceVersion ${rv} after ${counts.lastRevision}: expected increasing resourceVersions`);
    counts.lastRevision = revision;
    if (event.type === 'ADDED') counts.added++;
    if (event.type === 'MODIFIED') counts.modified++;
    if (event.type === 'DELETED') counts.deleted++;
    const arrival = this.arrivals.get(rv);
    if (arrival) {
      arrival.seen++;
      arrival.lastAt = now;
    } else {
      this.arrivals.set(rv, { seen: 1, lastAt: now });
    }
  }

  private problem(message: string): void {
    if (this.problems.length < 20) this.problems.push(message);
  }

  /** Whether every watcher has the write with this resourceVersion. */
  allHave(rv: string): boolean {
    return (this.arrivals.get(rv)?.seen ?? 0) >= this.perWatcher.length;
  }

  /**
   * Waits until every watcher has every one of `rvs`, or until no event has
   * come for `quietMs`; says whether they all arrived.
   */
  async waitForAll(rvs: string[], quietMs: number): Promise<boolean> {
    let pending = rvs;
    return this.waitUntil(() => (pending = pending.filter((rv) => !this.allHave(rv))).length === 0, quietMs);
  }

  /** Waits until `done()` holds, polling, or until no event has come for `quietMs`; says whether it came to hold. */
  async waitUntil(done: () => boolean, quietMs: number): Promise<boolean> {
    let lastDelivered = this.delivered;
    let quietSince = performance.now();
    while (!done()) {
      await sleep(5);
      if (this.delivered !== lastDelivered) {
        lastDelivered = this.delivered;
        quietSince = performance.now();
      } else if (performance.now() - quietSince > quietMs) {
        return false;
      }
    }
    return true;
  }

  stop(): void {
    this.stopping = true;
    for (const handle of this.handles) handle.stop();
    for (const client of this.clients) client.close();
  }
}

/** A client of the target as the admin, with its own connections. */
function newClient(target: Target, userAgent: string): KubeClient {
  return new KubeClient({ server: target.server, token: target.token, ca: target.ca, userAgent });
}

/** p50, p99 and calls per second of one verb, as the clients saw them, and the server's own p99. */
interface VerbFigures {
  p50: number;
  p99: number;
  perSecond: number;
  /** p99 of apiserver_request_duration_seconds over the phase: the SLI the Kubernetes SLO is defined on (ms). */
  serverP99: number;
}

/** What one round measured. */
interface RoundFigures {
  create: VerbFigures;
  get: VerbFigures;
  list: VerbFigures;
  update: VerbFigures;
  /** Delay from a write's response to the last watcher having its event, over every create and update. */
  fanOut: { p50: number; p99: number };
}

function verbFigures(timed: { samples: number[]; seconds: number }, server: Histogram): VerbFigures {
  return { p50: percentile(timed.samples, 0.5), p99: percentile(timed.samples, 0.99), perSecond: timed.samples.length / timed.seconds, serverP99: histogramQuantile(0.99, server) * 1000 };
}

/**
 * Runs one phase and reads, from the server's /metrics before and after it,
 * the latency histogram of the phase's requests (metric verb POST, GET, LIST or PUT on pods).
 */
async function phase(admin: KubeClient, metricVerb: string, run: () => Promise<{ samples: number[]; seconds: number }>): Promise<VerbFigures> {
  const scrape = async () => readHistogram(await admin.requestText({ method: 'GET', path: '/metrics' }), 'apiserver_request_duration_seconds', { verb: metricVerb, resource: 'pods' });
  const before = await scrape();
  const timed = await run();
  return verbFigures(timed, histogramDelta(await scrape(), before));
}

/** How long the watchers may stay silent before the round gives up on the events still missing. */
const QUIET_MS = 15_000;

/**
 * One round in a fresh namespace: open the watchers and check they are live
 * (a sentinel pod, created and deleted), then create, get, list and update
 * the pods, then wait for the watchers to have every event.
 */
async function measureRound(target: Target, namespace: string, options: ApiServerBenchOptions, problems: string[]): Promise<RoundFigures> {
  const admin = newClient(target, 'bench-admin');
  const clients = Array.from({ length: options.clients }, (_, i) => newClient(target, `bench-client-${i}`));
  let fanOut: WatchFanOut | undefined;
  try {
    await admin.resource<Namespace>(NAMESPACES).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    fanOut = new WatchFanOut(target, namespace, options.watchers);
    await sentinel(admin, fanOut, namespace);

    const writes = new Map<string, Write>();
    const names = Array.from({ length: options.pods }, (_, i) => `backend-${i}`);
    const create = await phase(admin, 'POST', () => timedCalls(clients, options.pods, async (client, i) => {
      const created = await client.pods(namespace).create(backendPod(namespace, names[i]!));
      writes.set(created.metadata.resourceVersion!, { name: names[i]!, type: 'ADDED', respondedAt: performance.now() });
    }));
    const current: Pod[] = new Array<Pod>(options.pods);
    const get = await phase(admin, 'GET', () => timedCalls(clients, options.pods, async (client, i) => {
      current[i] = await client.pods(namespace).get(names[i]!);
    }));
    const list = await phase(admin, 'LIST', () => timedCalls(clients, options.lists, async (client) => {
      const pods = await client.pods(namespace).list();
      if (pods.items.length !== options.pods) problems.push(`${namespace}: expected a list of ${options.pods} pods, got ${pods.items.length}`);
    }));
    const update = await phase(admin, 'PUT', () => timedCalls(clients, options.pods, async (client, i) => {
      // Why the image: it is the field of a running pod's spec that Kubernetes lets an update change.
      const pod = current[i]!;
      const changed: Pod = { ...pod, spec: { ...pod.spec, containers: pod.spec.containers.map((c) => ({ ...c, image: 'backend:v0.0.2' })) } };
      const updated = await client.pods(namespace).update(changed);
      writes.set(updated.metadata.resourceVersion!, { name: names[i]!, type: 'MODIFIED', respondedAt: performance.now() });
    }));

    const allArrived = await fanOut.waitForAll([...writes.keys()], QUIET_MS);
    problems.push(...fanOutProblems(namespace, fanOut, writes, options, allArrived));
    const delays = [...writes].flatMap(([rv, write]) => {
      const arrival = fanOut!.arrivals.get(rv);
      // Why clamp at 0: the last watcher may have the event before the writer has its response.
      return arrival && arrival.seen >= options.watchers ? [Math.max(0, arrival.lastAt - write.respondedAt)] : [];
    });
    return { create, get, list, update, fanOut: { p50: percentile(delays, 0.5), p99: percentile(delays, 0.99) } };
  } finally {
    fanOut?.stop();
    for (const client of [admin, ...clients]) client.close();
  }
}

/** Creates and deletes a pod and waits until every watcher has both events: the watches are live before the clock starts. */
async function sentinel(admin: KubeClient, fanOut: WatchFanOut, namespace: string): Promise<void> {
  const pods = admin.pods(namespace);
  const created = await pods.create(backendPod(namespace, 'sentinel'));
  if (!(await fanOut.waitForAll([created.metadata.resourceVersion!], QUIET_MS))) {
    throw new Error(`expected all ${fanOut.perWatcher.length} watchers to see the sentinel pod created, got ${fanOut.arrivals.get(created.metadata.resourceVersion!)?.seen ?? 0}; ${fanOut.problems.join('; ')}`);
  }
  await pods.delete('sentinel', { gracePeriodSeconds: 0 });
  if (!(await fanOut.waitUntil(() => fanOut.perWatcher.every((counts) => counts.deleted > 0), QUIET_MS))) {
    throw new Error(`expected all ${fanOut.perWatcher.length} watchers to see the sentinel pod deleted, got ${fanOut.perWatcher.filter((c) => c.deleted > 0).length}`);
  }
  for (const counts of fanOut.perWatcher) counts.added = counts.modified = counts.deleted = 0;
}

/** What the watchers missed: every watcher must have every ADDED and every MODIFIED. */
function fanOutProblems(namespace: string, fanOut: WatchFanOut, writes: Map<string, Write>, options: ApiServerBenchOptions, allArrived: boolean): string[] {
  const problems = fanOut.problems.map((p) => `${namespace}: ${p}`);
  const missing = [...writes].filter(([rv]) => !fanOut.allHave(rv));
  if (!allArrived || missing.length > 0) {
    const examples = missing.slice(0, 3).map(([rv, w]) => `${w.type} ${w.name} (resourceVersion ${rv}) reached ${fanOut.arrivals.get(rv)?.seen ?? 0}/${options.watchers}`);
    problems.push(`${namespace}: ${missing.length} of ${writes.size} writes did not reach every watcher within ${QUIET_MS / 1000} s of silence, e.g. ${examples.join(', ')}`);
  }
  fanOut.perWatcher.forEach((counts, w) => {
    if (counts.added !== options.pods || counts.modified !== options.pods) {
      problems.push(`${namespace}: watcher ${w} saw ${counts.added} ADDED and ${counts.modified} MODIFIED events, expected ${options.pods} of each`);
    }
  });
  return problems.slice(0, 20);
}

/** The value below which `q` of the samples fall. */
function percentile(samples: number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))] ?? NaN;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
// #endregion workload

// #region measure
/** One figure of the report, with the SLO it is held against (null: none, e.g. throughput). */
export interface Figure {
  name: string;
  ours: number;
  reference: number | null;
  unit: string;
  goal: number | null;
}

/** What a run measured: the figures (medians over the rounds) and anything the watchers or lists got wrong. */
export interface ApiServerBenchResult {
  figures: Figure[];
  problems: string[];
}

/**
 * Starts an API server, runs one warm-up round (JIT, page cache, TLS
 * sessions) and `rounds` measured rounds, each in its own namespace, and
 * returns the median of each figure.
 */
export async function measureApiServer(options: ApiServerBenchOptions, log: (line: string) => void = console.log): Promise<ApiServerBenchResult> {
  const target = options.server === 'process' ? await startServerProcess() : await startInProcess();
  const problems: string[] = [];
  const rounds: RoundFigures[] = [];
  try {
    log(`API server (${options.server}) at ${target.server}; ${options.clients} clients, ${options.watchers} watchers, ${options.pods} pods, ${options.lists} lists per round`);
    log('warming up ...');
    await measureRound(target, 'bench-warmup', { ...options, pods: Math.min(options.pods, 200), lists: Math.min(options.lists, 5) }, problems);
    for (let round = 1; round <= options.rounds; round++) {
      log(`round ${round}/${options.rounds} ...`);
      rounds.push(await measureRound(target, `bench-${round}`, options, problems));
    }
  } finally {
    await target.stop();
  }
  return { figures: figuresOf(rounds), problems };
}

function figuresOf(rounds: RoundFigures[]): Figure[] {
  const med = (pick: (r: RoundFigures) => number) => percentile(rounds.map(pick), 0.5);
  const verb = (name: 'create' | 'get' | 'list' | 'update', slo: number): Figure[] => [
    { name: `apiserver.${name}.p50`, ours: med((r) => r[name].p50), reference: slo, unit: 'ms', goal: GOAL },
    { name: `apiserver.${name}.p99`, ours: med((r) => r[name].p99), reference: slo, unit: 'ms', goal: GOAL },
    // The SLI itself: the server's own latency histogram, read as an SLO dashboard reads it.
    { name: `apiserver.${name}.sli.p99`, ours: med((r) => r[name].serverP99), reference: slo, unit: 'ms', goal: GOAL },
    { name: `apiserver.${name}.throughput`, ours: med((r) => r[name].perSecond), reference: null, unit: 'requests/s', goal: null },
  ];
  return [
    ...verb('create', SLO_MS.singleObject),
    ...verb('get', SLO_MS.singleObject),
    ...verb('list', SLO_MS.namespacedList),
    ...verb('update', SLO_MS.singleObject),
    { name: 'apiserver.watch.fanout.p50', ours: med((r) => r.fanOut.p50), reference: SLO_MS.singleObject, unit: 'ms', goal: GOAL },
    { name: 'apiserver.watch.fanout.p99', ours: med((r) => r.fanOut.p99), reference: SLO_MS.singleObject, unit: 'ms', goal: GOAL },
  ];
}

/** Runs the benchmark with the sizes from the environment and prints the table and the BENCH lines. */
export async function run(): Promise<void> {
  const options = optionsFromEnv();
  const loadBefore = loadavg()[0] ?? 0;
  const result = await measureApiServer(options);
  report(result.figures, options);
  // Why print the load: on a shared 2-core machine, other work moves these figures more than any change to the server.
  console.log(`machine: ${cpus().length} cores; 1-minute load average ${loadBefore.toFixed(1)} before the run, ${(loadavg()[0] ?? 0).toFixed(1)} after`);
  if (result.problems.length > 0) {
    console.log('');
    console.log(`FAILED: the API server did not deliver what the benchmark wrote (${result.problems.length} problems; the figures above are not to be trusted):`);
    for (const problem of result.problems) console.log(`  - ${problem}`);
    process.exitCode = 1;
  }
}
// #endregion measure

// #region report
/** SLO/ours: how many times under the SLO a latency is. */
export function ratioOf(f: Figure): number | null {
  if (f.reference === null || !(f.ours > 0)) return null;
  return f.reference / f.ours;
}

function round(n: number): number {
  return n >= 100 ? Math.round(n) : Math.round(n * 1000) / 1000;
}

/** The machine-readable line of one figure, in the same shape as the other benchmarks' (plus the goal). */
export function benchLine(f: Figure): string {
  const ratio = ratioOf(f);
  return `BENCH ${JSON.stringify({ name: f.name, ours: round(f.ours), reference: f.reference, unit: f.unit, ratio: ratio === null ? null : Number(ratio.toFixed(3)), goal: f.goal })}`;
}

/** Prints the table, then one BENCH line per figure. */
function report(figures: Figure[], options: ApiServerBenchOptions): void {
  const rows = figures.map((f) => {
    const ratio = ratioOf(f);
    const met = ratio === null || f.goal === null ? '-' : ratio >= f.goal ? 'yes' : 'no';
    return [f.name, String(round(f.ours)), f.reference === null ? '-' : String(f.reference), f.unit, ratio === null ? '-' : `${ratio.toFixed(1)}x`, f.goal === null ? '-' : `${f.goal}x`, met];
  });
  printTable(['figure', 'ours', 'SLO', 'unit', 'ratio', 'goal', 'met'], rows);
  console.log(`median of ${options.rounds} rounds; ${options.clients} clients, ${options.watchers} watchers, ${options.pods} pods, ${options.lists} lists of all of them per round.`);
  console.log('ratio = SLO/ours: how many times under the Kubernetes SLO the latency is (p99 ≤ 1 s per object, ≤ 5 s per namespaced LIST).');
  console.log('p99 is what the clients saw, queueing in their own event loop included; sli.p99 is the server\'s apiserver_request_duration_seconds histogram, read as histogram_quantile reads it: the SLI the SLO is defined on.');
  console.log('watch.fanout: from a create or update response to the last of the watchers having its event (Kubernetes has no watch SLO; held to the 1 s one).');
  for (const f of figures) console.log(benchLine(f));
}
// #endregion report
