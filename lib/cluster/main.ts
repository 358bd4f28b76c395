/**
 * `npm run cluster -- up | status | down`: a long-running cluster in the
 * background, for the real kubectl. `up` starts it as its own process (the
 * store, the API server, the controller manager, the scheduler and a
 * kubelet on each of three nodes, node-1 being the tainted control-plane
 * node that runs the control plane's static Pods), returns once
 * all of it runs, and prints `KUBECONFIG=<path>` on a line of its own;
 * `status` says whether it runs; `down` stops it and removes everything it
 * wrote (data, tokens, kubeconfigs, log).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag } from '../client/component-process.ts';
import { projectRoot } from '../workbook/root.ts';
import { NODE_NAMES, startCluster, type ClusterOptions } from './cluster.ts';

/** What `up` records so that `status` and `down` find the cluster. */
export interface ClusterState {
  pid: number;
  url: string;
  kubeconfig: string;
  startedAt: string;
  /** What runs in the cluster process, e.g. ["store", "API server", "controller manager", ...]. */
  components?: string[];
}

const USAGE = `usage: npm run cluster -- <up|status|down> [--dir DIR] [--port N] [--etcd HOST:PORT]
                                    [--without controllers,scheduler,nodes] [--nodes kubelet|hollow]
                                    [--node-monitor-grace-period 40s]

  up      start the cluster in the background; prints KUBECONFIG=<path> when ready
          (store, API server, controller manager, scheduler, kubelets on ${NODE_NAMES.join(', ')})
  status  say whether the cluster runs, and where
  down    stop the cluster and remove its data, tokens and kubeconfig

  --without  leave components out, e.g. --without scheduler,nodes (chapter 3's cluster),
             or --without controllers to run lib/controllers/main.ts as its own process
             (lib/nodes/main.ts runs a hollow node as its own process)
  --nodes    kubelet (default: real kubelets on the simulated runtime) or hollow (chapter 4's agents)`;

/** What a cluster process can run besides the store and the API server. */
const COMPONENTS = ['controllers', 'scheduler', 'nodes'];

/** The default cluster folder: .workbook/cluster in the project. */
export const DEFAULT_DIR = join(projectRoot, '.workbook', 'cluster');


/** The cluster's state file, if a cluster was started there. */
export function readState(dir: string): ClusterState | undefined {
  const file = join(dir, 'state.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether the API server at `url` answers /healthz, trusting `ca` (PEM). */
export function healthy(url: string, ca: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpsGet(`${url}/healthz`, { ca, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

/** The cluster CA written under `dir`/pki, if there is one. */
function clusterCa(dir: string): string | undefined {
  const caFile = join(dir, 'pki', 'ca.crt');
  return existsSync(caFile) ? readFileSync(caFile, 'utf8') : undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// #region up
/** Start the cluster process in the background and wait until its API server answers. */
async function up(dir: string, args: string[]): Promise<number> {
  const state = readState(dir);
  if (state && alive(state.pid) && (await healthy(state.url, clusterCa(dir)))) {
    console.log(`a cluster already runs (pid ${state.pid}) at ${state.url}`);
    console.log(`KUBECONFIG=${state.kubeconfig}`);
    return 0;
  }
  mkdirSync(dir, { recursive: true });
  rmSync(join(dir, 'state.json'), { force: true });
  const logFile = join(dir, 'cluster.log');
  const out = openSync(logFile, 'a');
  const self = fileURLToPath(import.meta.url);
  // Why detached: the cluster must outlive this command, which returns as soon as it is ready.
  // Why --with first: `up` runs the whole cluster; a --without among args then leaves parts out.
  const child = spawn(process.execPath, ['--import', 'tsx', self, 'run', '--dir', dir, '--with', COMPONENTS.join(','), ...args], { detached: true, stdio: ['ignore', out, out], cwd: projectRoot });
  child.unref();
  for (let waited = 0; waited < 60_000; waited += 100) {
    const ready = readState(dir);
    if (ready && (await healthy(ready.url, clusterCa(dir)))) {
      console.log(`cluster up (pid ${ready.pid}): API server at ${ready.url}`);
      console.log(`running: ${(ready.components ?? ['store', 'API server']).join(', ')}`);
      console.log(`log: ${logFile}`);
      console.log(`KUBECONFIG=${ready.kubeconfig}`);
      return 0;
    }
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n') : '';
  console.error(`expected the cluster to answer within 60 s, but it did not; its log ends with:\n${log}`);
  return 1;
}
// #endregion up

async function status(dir: string): Promise<number> {
  const state = readState(dir);
  if (!state) {
    console.log(`no cluster in ${dir}; start one with: npm run cluster -- up`);
    return 1;
  }
  if (!alive(state.pid)) {
    console.log(`the cluster process (pid ${state.pid}) is gone; clean up with: npm run cluster -- down`);
    return 1;
  }
  const ok = await healthy(state.url, clusterCa(dir));
  console.log(`cluster ${ok ? 'up' : 'not answering'} (pid ${state.pid}, since ${state.startedAt}): API server at ${state.url}`);
  if (state.components) console.log(`running: ${state.components.join(', ')}`);
  console.log(`KUBECONFIG=${state.kubeconfig}`);
  return ok ? 0 : 1;
}

// #region down
/** Stop the cluster process (SIGTERM, then SIGKILL after 10 s) and remove its folder. */
async function down(dir: string): Promise<number> {
  const state = readState(dir);
  if (state && alive(state.pid)) {
    process.kill(state.pid, 'SIGTERM');
    for (let waited = 0; waited < 10_000 && alive(state.pid); waited += 100) await sleep(100);
    if (alive(state.pid)) process.kill(state.pid, 'SIGKILL');
  }
  if (!existsSync(dir)) {
    console.log(`no cluster in ${dir}`);
    return 0;
  }
  // Only the folder this command created: never a path a state file could point elsewhere.
  rmSync(dir, { recursive: true, force: true });
  console.log(`cluster down: removed ${dir}`);
  return 0;
}
// #endregion down

function componentList(args: string[], name: '--with' | '--without'): string[] {
  const list = (flag(args, name) ?? '').split(',').filter((item) => item !== '');
  const unknown = list.filter((item) => !COMPONENTS.includes(item));
  if (unknown.length > 0) throw new Error(`expected ${name} to name ${COMPONENTS.join(', ')}, got ${unknown.join(', ')}`);
  return list;
}

/**
 * The components a cluster process starts besides the store and the API
 * server: those named by `--with` (none when absent: the bare chapter 2
 * cluster that benchmarks start with `run`), less those named by `--without`.
 * `up` passes `--with controllers,scheduler,nodes`.
 */
export function componentOptions(args: string[]): Pick<ClusterOptions, 'controllers' | 'scheduler' | 'nodes' | 'nodeMonitorGracePeriodMs'> {
  const kind = flag(args, '--nodes') ?? 'kubelet';
  if (kind !== 'kubelet' && kind !== 'hollow') throw new Error(`expected --nodes kubelet or --nodes hollow, got ${JSON.stringify(kind)}`);
  const without = new Set(componentList(args, '--without'));
  const chosen = new Set(componentList(args, '--with').filter((item) => !without.has(item)));
  const grace = flag(args, '--node-monitor-grace-period');
  const graceMs = grace === undefined ? undefined : Number(/^(\d+)s$/.exec(grace)?.[1] ?? NaN) * 1000;
  if (graceMs !== undefined && !Number.isFinite(graceMs)) throw new Error(`expected --node-monitor-grace-period like 40s, got ${JSON.stringify(grace)}`);
  return {
    controllers: chosen.has('controllers'),
    scheduler: chosen.has('scheduler'),
    // Why kubelets by default: since chapter 5 the nodes run containers; --nodes hollow gives chapter 4's agents.
    nodes: chosen.has('nodes') ? kind : false,
    ...(graceMs !== undefined ? { nodeMonitorGracePeriodMs: graceMs } : {}),
  };
}

/** The names of what runs, for `up` and `status` to print. */
function componentNames(options: ReturnType<typeof componentOptions>): string[] {
  const names = ['store', 'API server'];
  if (options.controllers) names.push('controller manager');
  if (options.scheduler) names.push('scheduler');
  if (options.nodes === 'hollow') names.push(`hollow nodes ${NODE_NAMES.join(', ')}`);
  if (options.nodes === 'kubelet') names.push(`kubelets ${NODE_NAMES.join(', ')} (sim runtime)`);
  return names;
}

// #region run
/** The cluster process itself: start, record the state, and stop cleanly on SIGTERM/SIGINT. */
async function run(dir: string, args: string[]): Promise<number> {
  const port = Number(flag(args, '--port') ?? '0');
  const components = componentOptions(args);
  const cluster = await startCluster({
    dir,
    port,
    etcdEndpoint: flag(args, '--etcd'),
    ...components,
    log: (line) => console.log(line),
    // Why log the Events: the cluster's log then tells the same story as `kubectl get events`.
    onEvent: (e) => console.log(`event ${e.type} ${e.reason} ${e.namespace ? `${e.namespace}/` : ''}${e.object}: ${e.message}`),
  });
  const state: ClusterState = { pid: process.pid, url: cluster.apiserver.url, kubeconfig: cluster.kubeconfig, startedAt: new Date().toISOString(), components: componentNames(components) };
  writeFileSync(join(dir, 'state.json'), JSON.stringify(state, null, 2));
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('stopping the cluster');
    await cluster.stop();
    rmSync(join(dir, 'state.json'), { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  return new Promise<number>(() => {}); // runs until a signal
}
// #endregion run

/** Entry point: dispatch the subcommand. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const dir = resolve(flag(rest, '--dir') ?? DEFAULT_DIR);
  switch (command) {
    case 'up':
      return up(dir, rest.filter((a, i) => a !== '--dir' && rest[i - 1] !== '--dir'));
    case 'status':
      return status(dir);
    case 'down':
      return down(dir);
    case 'run':
      return run(dir, rest);
    default:
      console.error(command ? `unknown command ${JSON.stringify(command)}\n${USAGE}` : USAGE);
      return 2;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main(process.argv.slice(2)).then((code) => {
    if (code !== undefined) process.exitCode = code;
  });
}
