/**
 * `npm run bench pods`: pod startup latency as the Kubernetes SLO defines it,
 * from the Pod's creation until a watch observes it Running, for 30 Pods on
 * one kubelet, first on the simulated runtime and then, where possible
 * (Linux, root, runc and the CNI plugins present), on runc. Each runtime is
 * measured twice: `serial`, one Pod at a time (the next is created once the
 * last is seen Running), and `burst`, all Pods created at once.
 *
 * Setup per runtime: an in-process API server (startCluster), one kubelet
 * acting as system:node:bench-node, and Pods with spec.nodeName set to it,
 * so no scheduler is involved; the admin client creates and watches them.
 * One warm-up Pod runs first, so the image is built and unpacked (the SLO
 * leaves image pulls out) and the node's bridge exists.
 *
 * The reference is the SLO itself: p99 at most 5 s. On runc the same run also
 * measures the floor, what starting that container costs with nothing of
 * ours around it, in the same two patterns and measured the same way, with
 * the project's own pieces (netns.ts, cni.ts, images.ts, bundle.ts): the
 * bundle (overlay root, config.json) is made before the clock starts, then
 * `ip netns add` and `runc run -d` (the issue's floor, "bare"), and again with
 * the CNI ADD (bridge, host-local, loopback) between them ("cni"), which our
 * runtime also does. Our goals: p99 under 1 s on runc, and ours no more than
 * twice the floor. Not a test: nothing here passes or fails on a timing.
 * PODS_BENCH_PODS, PODS_BENCH_MODES (sim,runc) and PODS_BENCH_SERVER
 * (in-process, process) change the run. Every CRI call the kubelet makes is
 * timed too, to show the runtime's share of the latency. Everything
 * the runc mode makes lives under its own state folders, netns prefixes and
 * bridges, and is removed (and checked gone) at the end.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Namespace, Pod } from '../lib/api/types.ts';
import { KubeClient } from '../lib/client/client.ts';
import { loadContext } from '../lib/client/kubeconfig.ts';
import { startCluster } from '../lib/cluster/cluster.ts';
import { RESOURCE } from '../lib/controllers/informers.ts';
import { startKubelet as realStartKubelet } from '../lib/kubelet/kubelet.ts';
import { bundleConfig } from '../lib/runtime/bundle.ts';
import type { ContainerRuntime } from '../lib/runtime/cri.ts';
import type { ResolvedImage } from '../lib/runtime/images.ts';
import { runProgram } from '../lib/runtime/netns.ts';
import { containerArgs, containerEnv, RuncRuntime } from '../lib/runtime/runc.ts';
import { SimRuntime } from '../lib/runtime/sim.ts';
import { requireRealMode } from '../lib/workbook/realmode.ts';
import { startServerProcess } from './helpers/server-process.ts';
import { printTable } from './helpers/table.ts';

// ---- options and constants ----------------------------------------------------

/** The runtimes the benchmark knows. */
export type Mode = 'sim' | 'runc';
/** How the Pods (and the floor's containers) are started: one at a time, or all at once. */
export type Pattern = 'serial' | 'burst';
export const PATTERNS: Pattern[] = ['serial', 'burst'];

/** How big a run is and what it runs. */
export interface PodsBenchOptions {
  pods: number;
  modes: Mode[];
  /** `in-process`: the API server in this process, beside the kubelet (default); `process`: in a process of its own, as kube-apiserver runs. */
  server: 'in-process' | 'process';
}

export const DEFAULT_OPTIONS: PodsBenchOptions = { pods: 30, modes: ['sim', 'runc'], server: 'in-process' };

/** The Kubernetes pod startup SLO: p99 at most 5 s (excluding image pulls). */
export const SLO_P99_MS = 5000;
/** Our goal on runc: p99 under 1 s. */
export const GOAL_P99_MS = 1000;
/** Our goal on runc: ours at most twice the floor. */
export const GOAL_OVER_FLOOR = 2;

/** The image every Pod runs: the scenario's backend (busybox httpd on 8080). */
export const IMAGE = 'backend:v0.0.1';
/** The node the kubelet registers (system:node:bench-node); with the API server in its own process, node-1, whose kubeconfig it writes. */
export const NODE_NAME = 'bench-node';

// Why names of our own: real-mode tests may run at the same time with theirs (kbsrt-, kbstest-).
const RUNC_NET = { podCIDR: '10.252.0.0/24', bridge: 'kbsbp0', netnsPrefix: 'kbsbp-' };
const FLOOR_NET = { podCIDR: '10.252.1.0/24', bridge: 'kbsbf0', netnsPrefix: 'kbsbf-' };

/** The run from PODS_BENCH_PODS, PODS_BENCH_MODES (comma-separated: sim, runc) and PODS_BENCH_SERVER; the issue's for what is unset. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): PodsBenchOptions {
  const podsText = env.PODS_BENCH_PODS;
  let pods = DEFAULT_OPTIONS.pods;
  if (podsText !== undefined && podsText !== '') {
    pods = Number(podsText);
    // Why at most 50: a run keeps 2 × N + 1 Pods on the node, whose capacity is 110 Pods (and 253 IPs).
    if (!Number.isInteger(pods) || pods < 1 || pods > 50) throw new Error(`expected PODS_BENCH_PODS to be a whole number from 1 to 50, got ${JSON.stringify(podsText)}`);
  }
  const modesText = env.PODS_BENCH_MODES;
  let modes = DEFAULT_OPTIONS.modes;
  if (modesText !== undefined && modesText !== '') {
    const wanted = modesText.split(',').map((m) => m.trim());
    const unknown = wanted.filter((m) => m !== 'sim' && m !== 'runc');
    if (unknown.length > 0 || wanted.length === 0) throw new Error(`expected PODS_BENCH_MODES to list sim and/or runc, got ${JSON.stringify(modesText)}`);
    modes = (['sim', 'runc'] as const).filter((m) => wanted.includes(m));
  }
  const server = env.PODS_BENCH_SERVER || DEFAULT_OPTIONS.server;
  if (server !== 'process' && server !== 'in-process') throw new Error(`expected PODS_BENCH_SERVER to be in-process or process, got ${JSON.stringify(server)}`);
  return { pods, modes, server };
}

// ---- statistics ---------------------------------------------------------------

/** The p-th percentile (0-100) by nearest rank, as the SLO's percentiles are read; with 30 samples p99 is the largest. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new Error('expected at least one sample, got none');
  if (!(p > 0 && p <= 100)) throw new Error(`expected a percentile in (0, 100], got ${p}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** p50 and p99 of a set of latencies, in ms. */
export interface Summary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** Summarizes latencies (ms). */
export function summarize(samples: readonly number[]): Summary {
  return { count: samples.length, p50: percentile(samples, 50), p99: percentile(samples, 99), max: Math.max(...samples) };
}

/** ours / floor, or null when either is missing or not positive. */
export function overFloor(ours: number, floor: number | null | undefined): number | null {
  if (floor === null || floor === undefined || !(ours > 0) || !(floor > 0)) return null;
  return ours / floor;
}

/** One BENCH figure: a latency in ms against the SLO (or no reference, for the floor's figures). */
export interface Figure {
  name: string;
  ours: number;
  /** The SLO's 5000 ms for startup latencies; null for the floor's own figures. */
  reference: number | null;
  /** Our goal for this figure (1000 ms for the runc p99), or null. */
  goal: number | null;
  /** The floor for the same pattern and percentile (runc only), or null. */
  floor: number | null;
  /** The floor with the CNI ADD, or null. */
  floorWithCni: number | null;
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const ratio3 = (n: number | null) => (n === null ? null : Number(n.toFixed(3)));

/** The machine-readable line: ratio = ours / the SLO; overFloor = ours / floor (goal ≤ 2). */
export function benchLine(f: Figure): string {
  return `BENCH ${JSON.stringify({
    name: f.name,
    ours: round1(f.ours),
    reference: f.reference,
    unit: 'ms',
    ratio: f.reference === null ? null : ratio3(f.ours / f.reference),
    goal: f.goal,
    floor: f.floor === null ? null : round1(f.floor),
    overFloor: ratio3(overFloor(f.ours, f.floor)),
    floorWithCni: f.floorWithCni === null ? null : round1(f.floorWithCni),
    overFloorWithCni: ratio3(overFloor(f.ours, f.floorWithCni)),
  })}`;
}

// ---- real mode ----------------------------------------------------------------

/** Why runc mode cannot run here, or null when it can (Linux, root, runc, ip, the CNI plugins, a static busybox). */
export function runcSkipReason(probe: Parameters<typeof requireRealMode>[1] = {}): string | null {
  // Why drop CI: requireRealMode fails a test under CI=true, but a benchmark only says why it skipped.
  const env = { ...(probe.env ?? process.env), CI: undefined };
  const result = requireRealMode(['runc', 'ip', 'cni-bridge', 'cni-host-local', 'cni-loopback', 'busybox'], { ...probe, env });
  return result.skip === false ? null : result.skip;
}

// ---- the kubelet --------------------------------------------------------------

/** What the benchmark needs of startKubelet (lib/kubelet/kubelet.ts); tests may pass another. */
export type StartKubelet = (options: { client: KubeClient; name: string; runtime: ContainerRuntime; podCIDR?: string }) => Promise<{ stop(): Promise<void> }>;

// ---- our startup latency ------------------------------------------------------

/** A Pod of the benchmark: the backend image, bound to the node directly (no scheduler). */
export function benchPod(name: string, namespace: string, nodeName = NODE_NAME): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: 'bench-pods' } },
    spec: { nodeName, containers: [{ name: 'backend', image: IMAGE }] },
  };
}

/** What a Pod looked like last, for the message when it never ran. */
function describePod(pod: Pod | undefined): string {
  if (!pod) return 'never seen by the watch';
  const waiting = (pod.status?.containerStatuses ?? []).map((c) => `${c.name}: ${JSON.stringify(c.state ?? {})}`).join('; ');
  return `phase ${pod.status?.phase ?? '(none)'}${waiting ? `, ${waiting}` : ''}`;
}

/**
 * Creates `count` Pods in a new namespace, serially or all at once, and
 * returns each one's latency (ms) from just before its create request until
 * the admin's watch sees it Running.
 */
export async function measureStartup(client: KubeClient, namespace: string, count: number, pattern: Pattern, options: { nodeName?: string; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<number[]> {
  const { nodeName = NODE_NAME, timeoutMs = 120_000, signal } = options;
  signal?.throwIfAborted();
  await client.create<Namespace>(RESOURCE.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const list = await client.list<Pod>(RESOURCE.pods, { namespace });
  const createdAt = new Map<string, number>();
  const latency = new Map<string, number>();
  const lastSeen = new Map<string, Pod>();
  const waiters = new Map<string, () => void>();
  let failed: ((error: Error) => void) | undefined;
  const failure = new Promise<never>((_, reject) => (failed = reject));
  failure.catch(() => {});
  const onAbort = () => failed?.(signal?.reason instanceof Error ? signal.reason : new Error('interrupted'));
  signal?.addEventListener('abort', onAbort, { once: true });
  const watch = client.watch(RESOURCE.pods, { namespace, resourceVersion: list.metadata.resourceVersion }, (event) => {
    if (event.type !== 'ADDED' && event.type !== 'MODIFIED') return;
    const pod = event.object as Pod;
    const name = pod.metadata.name ?? '';
    lastSeen.set(name, pod);
    const start = createdAt.get(name);
    // Why check createdAt: the create's time is taken before the request, so it is always known by the time its events come.
    if (pod.status?.phase === 'Running' && start !== undefined && !latency.has(name)) {
      latency.set(name, performance.now() - start);
      waiters.get(name)?.();
    }
  });
  void watch.done.then((end) => {
    if (end.reason !== 'stopped') failed?.(new Error(`expected the watch on ${namespace} to stay open, it ended (${end.reason}${end.reason === 'error' ? `: ${end.error.message}` : ''}) with ${latency.size} of ${count} pods Running`));
  });
  const running = (name: string) => (latency.has(name) ? Promise.resolve() : new Promise<void>((resolve) => waiters.set(name, resolve)));
  const startOne = async (name: string) => {
    const seen = running(name);
    createdAt.set(name, performance.now());
    await client.create(RESOURCE.pods, benchPod(name, namespace, nodeName));
    await seen;
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const missing = [...createdAt.keys()].filter((n) => !latency.has(n));
      const shown = missing.slice(0, 5).map((n) => `${n} (${describePod(lastSeen.get(n))})`).join('; ');
      reject(new Error(`expected ${count} pods in ${namespace} to be Running within ${timeoutMs / 1000} s, got ${latency.size}; not Running: ${shown}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`));
    }, timeoutMs);
  });
  try {
    const names = Array.from({ length: count }, (_, i) => `pod-${i}`);
    const all = pattern === 'serial'
      ? (async () => { for (const name of names) await startOne(name); })()
      : Promise.all(names.map(startOne)).then(() => undefined);
    await Promise.race([all, failure, timeout]);
    return names.map((n) => latency.get(n)!);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    watch.stop();
  }
}

/** Latencies of one runtime, per pattern. */
export type Startup = Record<Pattern, number[]>;

/** How long each runtime call took (ms), by method name. */
export type RuntimeCalls = Record<string, number[]>;

/** The CRI methods a runtime has (ContainerRuntime's). */
const CRI_METHODS = new Set([
  'version', 'runPodSandbox', 'stopPodSandbox', 'removePodSandbox', 'podSandboxStatus', 'listPodSandboxes', 'createContainer',
  'startContainer', 'stopContainer', 'removeContainer', 'containerStatus', 'listContainers', 'readLog', 'exec', 'pullImage', 'listImages',
]);

/**
 * The runtime seen through a Proxy that times every CRI call the kubelet
 * makes, so that a run can tell the runtime's share of the latency from the
 * kubelet's and the API server's. `instanceof` still sees the runtime's class.
 */
export function timedRuntime<T extends ContainerRuntime>(runtime: T): { runtime: T; take: () => RuntimeCalls } {
  let calls: RuntimeCalls = {};
  const proxy = new Proxy(runtime, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof property !== 'string' || !CRI_METHODS.has(property) || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const started = performance.now();
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          (calls[property] ??= []).push(performance.now() - started);
        }
      };
    },
  });
  // Why take-and-reset: each pattern's calls are reported on their own.
  const take = () => {
    const taken = calls;
    calls = {};
    return taken;
  };
  return { runtime: proxy, take };
}

/** The API server the admin and the kubelet talk to, and the node the kubelet may act as. */
interface Target {
  admin: KubeClient;
  kubelet: KubeClient;
  nodeName: string;
  stop(): Promise<void>;
}

/** The API server in this process (startCluster), or in its own (`npm run cluster`'s `run`). */
async function startTarget(server: PodsBenchOptions['server']): Promise<Target> {
  if (server === 'process') {
    const running = await startServerProcess('bench-pods');
    const client = (file: string, userAgent: string) => {
      const context = loadContext({ path: join(running.dir, file) });
      return new KubeClient({ server: context.server, ca: context.ca, token: context.token, userAgent });
    };
    // Why node-1: the cluster process writes kubeconfigs for the scenario's nodes only.
    const admin = client('kubeconfig', 'bench-pods');
    const kubelet = client('kubelet-node-1.conf', 'kubelet/bench-pods');
    return { admin, kubelet, nodeName: 'node-1', stop: async () => { admin.close(); kubelet.close(); await running.stop(); } };
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-pods-'));
  const cluster = await startCluster({ dir, nodeNames: [NODE_NAME], compactionIntervalMs: 0 });
  const kubelet = cluster.clientAs(`system:node:${NODE_NAME}`, 'kubelet/bench-pods');
  return {
    admin: cluster.admin,
    kubelet,
    nodeName: NODE_NAME,
    stop: async () => {
      kubelet.close();
      cluster.admin.close();
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts an API server and a kubelet on `runtime`, runs a warm-up Pod, then
 * measures both patterns; `between` runs after each pattern (the floor's turn).
 */
export async function measureRuntime(
  runtime: ContainerRuntime,
  options: { pods: number; server: PodsBenchOptions['server']; podCIDR: string; startKubelet: StartKubelet; log: (line: string) => void; between?: (pattern: Pattern) => Promise<void>; signal?: AbortSignal },
): Promise<{ startup: Startup; calls: Record<Pattern, RuntimeCalls> }> {
  const timed = timedRuntime(runtime);
  const target = await startTarget(options.server);
  const nodeName = target.nodeName;
  const signal = options.signal;
  let kubelet: { stop(): Promise<void> } | undefined;
  try {
    kubelet = await options.startKubelet({ client: target.kubelet, name: nodeName, runtime: timed.runtime, podCIDR: options.podCIDR });
    options.log('  warm-up pod ...');
    await measureStartup(target.admin, 'warm-up', 1, 'serial', { nodeName, timeoutMs: 300_000, signal });
    const startup = {} as Startup;
    const calls = {} as Record<Pattern, RuntimeCalls>;
    for (const pattern of PATTERNS) {
      options.log(`  ${options.pods} pods, ${pattern} ...`);
      timed.take();
      startup[pattern] = await measureStartup(target.admin, `bench-${pattern}`, options.pods, pattern, { nodeName, signal });
      calls[pattern] = timed.take();
      await options.between?.(pattern);
    }
    return { startup, calls };
  } finally {
    await kubelet?.stop();
    await target.stop();
  }
}

// ---- the floor ----------------------------------------------------------------

/** The floor with or without the Pod network: `bare` is `ip netns add` + `runc run -d` (the issue's floor); `cni` adds the CNI ADD between them. */
export type FloorKind = 'bare' | 'cni';
export const FLOOR_KINDS: FloorKind[] = ['bare', 'cni'];

/** One floor iteration, in ms: each step, and the whole from its start (serial) or the common start (burst). */
export interface FloorSample {
  netns: number;
  /** 0 for the bare floor. */
  cni: number;
  runc: number;
  total: number;
}

/** The floor's samples, per kind. */
export type Floor = Record<FloorKind, FloorSample[]>;

/** `runc run -d`: returns once runc has created and started the container's process. */
async function runcRunDetached(runtime: RuncRuntime, bundle: string, id: string): Promise<void> {
  const log = await open(join(bundle, 'runc.log'), 'a');
  try {
    // Why spawn with a file and not execFile: a detached container inherits runc's stdout, so a pipe would stay open as long as it runs.
    const child = spawn('runc', ['--root', runtime.runcRoot, 'run', '-d', '--bundle', bundle, '--pid-file', join(bundle, 'pid'), id], { stdio: ['ignore', log.fd, log.fd] });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (c) => resolve(c));
    });
    if (code !== 0) throw new Error(`expected \`runc run -d\` of ${id} to exit 0, got ${code}: ${(await readFile(join(bundle, 'runc.log'), 'utf8')).trim().slice(-500)}`);
  } finally {
    await log.close();
  }
}

/**
 * The container's bundle, made before the clock starts (an overlay root over
 * the unpacked image and config.json), laid out under the runtime's state
 * folder so that its cleanup() unmounts and removes it.
 */
async function prepareBundle(runtime: RuncRuntime, image: ResolvedImage, id: string): Promise<string> {
  const bundle = join(runtime.stateDir, 'containers', id);
  await mkdir(bundle, { recursive: true });
  await runtime.images.mountContainerRoot(image.id, bundle);
  const config = bundleConfig({
    args: containerArgs(image.config.config, { command: [], args: [], image: IMAGE }),
    env: containerEnv(image.config.config.Env ?? [], id, []),
    cwd: image.config.config.WorkingDir || '/',
    rootfsPath: 'rootfs',
    hostname: id,
    networkNamespacePath: runtime.netns.path(runtime.netns.nameFor(id)),
  });
  await writeFile(join(bundle, 'config.json'), JSON.stringify(config));
  return bundle;
}

/** What a runtime must do to start the prepared container, and no more: `ip netns add`, (CNI ADD,) `runc run -d`. */
async function floorIteration(runtime: RuncRuntime, kind: FloorKind, bundle: string, id: string, start: number): Promise<FloorSample> {
  const t0 = performance.now();
  const netns = runtime.netns.nameFor(id);
  await runtime.netns.create(netns);
  const t1 = performance.now();
  if (kind === 'cni') await runtime.network.addPodNetwork(netns, id);
  const t2 = performance.now();
  await runcRunDetached(runtime, bundle, id);
  const t3 = performance.now();
  return { netns: t1 - t0, cni: t2 - t1, runc: t3 - t2, total: t3 - start };
}

/** The floor of one kind, `count` containers, serially or all at once; ids are `<idPrefix><i>`. Returns the samples and the preparation's time per container. */
export async function measureFloor(runtime: RuncRuntime, image: ResolvedImage, kind: FloorKind, count: number, pattern: Pattern, idPrefix: string, signal?: AbortSignal): Promise<{ samples: FloorSample[]; prepareMs: number }> {
  const ids = Array.from({ length: count }, (_, i) => `${idPrefix}${i}`);
  const prepared = performance.now();
  const bundles: string[] = [];
  for (const id of ids) {
    signal?.throwIfAborted();
    bundles.push(await prepareBundle(runtime, image, id));
  }
  const prepareMs = (performance.now() - prepared) / count;
  if (pattern === 'serial') {
    const samples: FloorSample[] = [];
    for (const [i, id] of ids.entries()) {
      signal?.throwIfAborted();
      samples.push(await floorIteration(runtime, kind, bundles[i]!, id, performance.now()));
    }
    return { samples, prepareMs };
  }
  const start = performance.now();
  return { samples: await Promise.all(ids.map((id, i) => floorIteration(runtime, kind, bundles[i]!, id, start))), prepareMs };
}

/** What is still there of a runtime after its cleanup: namespaces, the bridge, mounts, runc containers. Empty when clean. */
export async function leftovers(runtime: RuncRuntime, bridge: string): Promise<string[]> {
  const found: string[] = [];
  const netns = await runtime.netns.listOwned();
  if (netns.length > 0) found.push(`network namespaces ${netns.join(', ')}`);
  const link = await runProgram('ip', ['-o', 'link', 'show', 'dev', bridge]);
  if (link.exitCode === 0) found.push(`bridge ${bridge}`);
  const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').filter((l) => l.split(' ')[1]?.startsWith(`${runtime.stateDir}/`));
  if (mounts.length > 0) found.push(`mounts ${mounts.map((l) => l.split(' ')[1]).join(', ')}`);
  const runc = await runtime.runcIds();
  if (runc.length > 0) found.push(`runc containers ${runc.join(', ')}`);
  return found;
}

// ---- the runs -----------------------------------------------------------------

/** Everything one run measured. */
export interface PodsBenchResult {
  startup: Partial<Record<Mode, Startup>>;
  /** The kubelet's runtime calls while each pattern ran. */
  calls: Partial<Record<Mode, Record<Pattern, RuntimeCalls>>>;
  /** The floor's samples per pattern and kind (runc only). */
  floor?: Record<Pattern, Floor>;
  /** The time to make one floor container's bundle (overlay root + config.json), not counted in the floor. */
  floorPrepareMs?: number;
  /** Why runc mode did not run, when it did not. */
  runcSkipped?: string;
  /** Anything left behind after cleanup (must be empty). */
  leftovers: string[];
}

/** Measures the simulated runtime. */
export async function measureSim(options: PodsBenchOptions, startKubelet: StartKubelet, log: (line: string) => void): Promise<{ startup: Startup; calls: Record<Pattern, RuntimeCalls> }> {
  const podCIDR = '10.244.0.0/24';
  return measureRuntime(new SimRuntime({ podCIDR }), { pods: options.pods, server: options.server, podCIDR, startKubelet, log });
}

/** Measures runc and, after each of our patterns, the floor in the same pattern; cleans up everything in the end. */
export async function measureRunc(options: PodsBenchOptions, startKubelet: StartKubelet, log: (line: string) => void): Promise<{ startup: Startup; calls: Record<Pattern, RuntimeCalls>; floor: Record<Pattern, Floor>; floorPrepareMs: number; leftovers: string[] }> {
  const scratch = mkdtempSync(join(tmpdir(), 'kbsbench-'));
  const runtime = new RuncRuntime({ stateDir: join(scratch, 'pods'), ...RUNC_NET });
  const floorRuntime = new RuncRuntime({ stateDir: join(scratch, 'floor'), ...FLOOR_NET });
  // Why once: a Ctrl-C during the final cleanup must not start a second one racing it.
  let cleaning: Promise<string[]> | undefined;
  const cleanupOnce = () => (cleaning ??= cleanUp(scratch, [[runtime, RUNC_NET.bridge], [floorRuntime, FLOOR_NET.bridge]]));
  // Why turn Ctrl-C into an abort: the kubelet must be stopped before the cleanup, or it would make containers while it runs.
  // A second Ctrl-C quits at once (the handlers are `once`).
  const abort = new AbortController();
  const onSignal = (name: string) => {
    log(`  ${name}: stopping the kubelet and cleaning up (again to quit at once) ...`);
    process.exitCode = 130;
    abort.abort(new Error(`interrupted by ${name}`));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // Why first: a crashed earlier run may have left its namespaces or bridges (same benchmark-only names).
    await runtime.network.cleanup();
    await floorRuntime.network.cleanup();
    const [image] = await floorRuntime.images.ensureBuilt(['backend']);
    await floorRuntime.images.unpack(IMAGE);
    log('  floor warm-up (unpacks the image, makes its bridge) ...');
    await measureFloor(floorRuntime, image!, 'cni', 1, 'serial', 'fw', abort.signal);
    const floor = {} as Record<Pattern, Floor>;
    const prepare: number[] = [];
    const pods = options.pods;
    const { startup, calls } = await measureRuntime(runtime, {
      pods,
      server: options.server,
      podCIDR: RUNC_NET.podCIDR,
      startKubelet,
      log,
      signal: abort.signal,
      between: async (pattern) => {
        floor[pattern] = {} as Floor;
        for (const kind of FLOOR_KINDS) {
          log(`  floor: ${pods} × (ip netns add${kind === 'cni' ? ', CNI ADD' : ''}, runc run -d), ${pattern} ...`);
          // Why ids like "sb0", "bc0": one per pattern and kind, valid as runc ids and netns names.
          const measured = await measureFloor(floorRuntime, image!, kind, pods, pattern, `${pattern[0]}${kind[0]}`, abort.signal);
          floor[pattern][kind] = measured.samples;
          prepare.push(measured.prepareMs);
        }
      },
    });
    return { startup, calls, floor, floorPrepareMs: percentile(prepare, 50), leftovers: await cleanupOnce() };
  } catch (error) {
    // Why say it here: the error goes up, and what was left must not go unreported with it.
    const left = await cleanupOnce();
    if (left.length > 0) log(`  cleanup after the failure left: ${left.join('; ')}`);
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanupOnce();
  }
}

/** Cleans up each runtime, checks that nothing of it is left, and removes the scratch folder when all is clean; returns what is left. */
async function cleanUp(scratch: string, runtimes: ReadonlyArray<readonly [RuncRuntime, string]>): Promise<string[]> {
  const found: string[] = [];
  for (const [runtime, bridge] of runtimes) {
    try {
      await runtime.cleanup();
    } catch (error) {
      found.push((error as Error).message);
    }
    found.push(...(await leftovers(runtime, bridge)));
  }
  // Why only when clean: removing the folder through a mount left behind would delete an image's files.
  if (found.length === 0) await rm(scratch, { recursive: true, force: true });
  else found.push(`${scratch} kept for inspection`);
  return found;
}

/** Runs every mode the options ask for; runc only where it can run, saying why not otherwise. */
export async function measurePods(options: PodsBenchOptions, log: (line: string) => void = console.log, startKubelet?: StartKubelet): Promise<PodsBenchResult> {
  const start = startKubelet ?? realStartKubelet;
  const result: PodsBenchResult = { startup: {}, calls: {}, leftovers: [] };
  if (options.modes.includes('sim')) {
    log(`sim runtime: ${options.pods} pods on one kubelet ...`);
    const sim = await measureSim(options, start, log);
    result.startup.sim = sim.startup;
    result.calls.sim = sim.calls;
  }
  if (options.modes.includes('runc')) {
    const skip = runcSkipReason();
    if (skip !== null) {
      result.runcSkipped = skip;
      log(`runc runtime: SKIPPED, ${skip}`);
    } else {
      log(`runc runtime: ${options.pods} pods on one kubelet, and the floor ...`);
      const runc = await measureRunc(options, start, log);
      result.startup.runc = runc.startup;
      result.calls.runc = runc.calls;
      result.floor = runc.floor;
      result.floorPrepareMs = runc.floorPrepareMs;
      result.leftovers = runc.leftovers;
    }
  }
  return result;
}

// ---- the report ---------------------------------------------------------------

/** The floor's figures of one pattern: bare (netns + runc run), with the CNI ADD, and the CNI ADD alone. */
export function floorSummaries(floor: Floor): { bare: Summary; withCni: Summary; cniAdd: Summary } {
  return {
    bare: summarize(floor.bare.map((s) => s.total)),
    withCni: summarize(floor.cni.map((s) => s.total)),
    cniAdd: summarize(floor.cni.map((s) => s.cni)),
  };
}

/** Each runtime and pattern that ran: our startup latencies, and for runc the floor measured beside them. */
function* startupSummaries(result: PodsBenchResult): Generator<{ mode: 'sim' | 'runc'; pattern: Pattern; ours: Summary; floor: ReturnType<typeof floorSummaries> | undefined }> {
  for (const mode of ['sim', 'runc'] as const) {
    const startup = result.startup[mode];
    if (!startup) continue;
    for (const pattern of PATTERNS) {
      const floor = mode === 'runc' && result.floor ? floorSummaries(result.floor[pattern]) : undefined;
      yield { mode, pattern, ours: summarize(startup[pattern]), floor };
    }
  }
}

/** The BENCH figures of a run, in the order they are printed. */
export function figuresOf(result: PodsBenchResult): Figure[] {
  const figures: Figure[] = [];
  for (const { mode, pattern, ours, floor } of startupSummaries(result)) {
    for (const p of ['p50', 'p99'] as const) {
      figures.push({
        name: `pods.startup.${mode}.${pattern}.${p}`,
        ours: ours[p],
        reference: SLO_P99_MS,
        goal: mode === 'runc' && p === 'p99' ? GOAL_P99_MS : null,
        floor: floor ? floor.bare[p] : null,
        floorWithCni: floor ? floor.withCni[p] : null,
      });
    }
  }
  if (result.floor) {
    for (const pattern of PATTERNS) {
      const floor = floorSummaries(result.floor[pattern]);
      for (const [part, summary] of [['bare', floor.bare], ['with_cni', floor.withCni], ['cni_add', floor.cniAdd]] as const) {
        for (const p of ['p50', 'p99'] as const) {
          figures.push({ name: `pods.floor.${pattern}.${part}.${p}`, ours: summary[p], reference: null, goal: null, floor: null, floorWithCni: null });
        }
      }
    }
  }
  return figures;
}

const ms = (n: number) => n.toFixed(0);
const times = (n: number | null) => (n === null ? '-' : `${n.toFixed(2)}x`);

/** The table rows of our startup latencies, one per runtime and pattern. */
function startupRows(result: PodsBenchResult): string[][] {
  const rows: string[][] = [];
  for (const { mode, pattern, ours, floor } of startupSummaries(result)) {
    const pair = (a: string, b: string) => (floor ? `${a} / ${b}` : '-');
    const met = floor ? `${ours.p99 < GOAL_P99_MS ? 'yes' : 'no'} / ${ours.p99 <= GOAL_OVER_FLOOR * floor.bare.p99 ? 'yes' : 'no'}` : '-';
    rows.push([
      `${mode} ${pattern}`, ms(ours.p50), ms(ours.p99), String(SLO_P99_MS),
      floor ? pair(ms(floor.bare.p50), ms(floor.bare.p99)) : '-',
      floor ? pair(times(overFloor(ours.p50, floor.bare.p50)), times(overFloor(ours.p99, floor.bare.p99))) : '-',
      floor ? pair(ms(floor.withCni.p50), ms(floor.withCni.p99)) : '-',
      floor ? pair(times(overFloor(ours.p50, floor.withCni.p50)), times(overFloor(ours.p99, floor.withCni.p99))) : '-',
      met,
    ]);
  }
  return rows;
}

/** The table rows of the floor's steps, per pattern. */
function floorRows(floor: Record<Pattern, Floor>): string[][] {
  const rows: string[][] = [];
  for (const pattern of PATTERNS) {
    const row = (name: string, samples: FloorSample[], pick: (s: FloorSample) => number) => {
      const s = summarize(samples.map(pick));
      rows.push([`${pattern} ${name}`, ms(s.p50), ms(s.p99)]);
    };
    row('bare: ip netns add', floor[pattern].bare, (s) => s.netns);
    row('bare: runc run -d', floor[pattern].bare, (s) => s.runc);
    row(`bare: whole${pattern === 'burst' ? ' (from the common start)' : ''}`, floor[pattern].bare, (s) => s.total);
    row('cni: ip netns add', floor[pattern].cni, (s) => s.netns);
    row('cni: CNI ADD', floor[pattern].cni, (s) => s.cni);
    row('cni: runc run -d', floor[pattern].cni, (s) => s.runc);
    row(`cni: whole${pattern === 'burst' ? ' (from the common start)' : ''}`, floor[pattern].cni, (s) => s.total);
  }
  return rows;
}

/** The table rows of the kubelet's runtime calls, per runtime and pattern, the costliest first. */
function callRows(result: PodsBenchResult): string[][] {
  const rows: string[][] = [];
  for (const mode of ['sim', 'runc'] as const) {
    for (const pattern of PATTERNS) {
      const calls = result.calls[mode]?.[pattern];
      if (!calls) continue;
      const total = (times: number[]) => times.reduce((a, b) => a + b, 0);
      for (const [method, times] of Object.entries(calls).sort((a, b) => total(b[1]) - total(a[1]))) {
        if (total(times) < 1) continue;
        const s = summarize(times);
        rows.push([`${mode} ${pattern} ${method}`, String(s.count), ms(s.p50), ms(s.p99), ms(total(times))]);
      }
    }
  }
  return rows;
}

/** `npm run bench pods`. */
export async function run(): Promise<void> {
  const options = optionsFromEnv();
  const loadBefore = loadavg()[0] ?? 0;
  const result = await measurePods(options);
  printTable(['pod startup (ms)', 'p50', 'p99', 'SLO p99', 'floor p50 / p99', 'ours/floor', 'floor+cni p50 / p99', 'ours/(floor+cni)', 'p99<1s / ≤2x floor'], startupRows(result));
  if (result.floor) printTable(['floor step (ms)', 'p50', 'p99'], floorRows(result.floor));
  printTable(['kubelet → runtime call (ms)', 'calls', 'p50', 'p99', 'sum'], callRows(result));
  console.log(`startup: from just before the Pod's create request until the admin's watch sees phase Running; ${options.pods} pods per pattern, image ${IMAGE}, spec.nodeName set (no scheduler), one kubelet, API server ${options.server === 'process' ? 'in its own process' : 'in this process (PODS_BENCH_SERVER=process: its own)'}, one warm-up pod first (image build and unpack are not counted, as the SLO leaves pulls out).`);
  console.log(`serial: each pod is created once the previous one is seen Running; burst: all are created at once. p99 is by nearest rank, which with ${options.pods} samples is the slowest.`);
  console.log('kubelet → runtime calls: every CRI call the kubelet made while a pattern ran, timed through a proxy (calls totalling under 1 ms left out); what a pod\'s latency holds beyond its own calls is the kubelet and the API server.');
  if (result.floor) {
    console.log(`floor: the same image's container started with nothing of ours around it, in the same pattern and measured the same way: \`ip netns add\` + \`runc run -d\` (the issue's floor); floor+cni adds the CNI ADD (bridge, host-local, loopback) between them. Each bundle (overlay root + config.json, ${ms(result.floorPrepareMs ?? 0)} ms each) is made before the clock starts.`);
    console.log(`ratio in the BENCH lines: ours / the SLO's ${SLO_P99_MS} ms; overFloor: ours / floor. Goals on runc: p99 < ${GOAL_P99_MS} ms, ours ≤ ${GOAL_OVER_FLOOR}x the floor.`);
  }
  if (result.runcSkipped) console.log(`runc mode SKIPPED: ${result.runcSkipped}`);
  else if (!options.modes.includes('runc')) console.log('runc mode not asked for (PODS_BENCH_MODES).');
  console.log(`machine: ${cpus().length} cores; 1-minute load average ${loadBefore.toFixed(1)} before the run, ${(loadavg()[0] ?? 0).toFixed(1)} after`);
  for (const figure of figuresOf(result)) console.log(benchLine(figure));
  if (result.leftovers.length > 0) {
    console.log(`FAILED: cleanup left ${result.leftovers.join('; ')}`);
    process.exitCode = 1;
  } else if (result.startup.runc) {
    console.log('cleanup: no network namespace, bridge, mount or runc container of the benchmark is left.');
  }
}
