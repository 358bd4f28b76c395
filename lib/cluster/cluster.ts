/**
 * An in-process cluster, built up chapter by chapter: chapter 2's store and
 * API server, with one bearer token per identity (the admin, each
 * control-plane component, each kubelet) and a kubeconfig for the admin that
 * the real kubectl reads; on request chapter 3's controller manager,
 * chapter 4's scheduler, and hollow nodes. Each component talks to the API
 * server with its own identity's client, exactly as it would from its own
 * process.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { newToken, TokenAuthenticator, tokenFileLine, type UserInfo } from '../apiserver/auth.ts';
import type { Backend } from '../apiserver/backend.ts';
import { ADMIN, COMPONENTS, kubeletIdentity } from '../apiserver/bootstrap.ts';
import { connectEtcd } from '../apiserver/etcd-client.ts';
import { clusterPki } from '../apiserver/pki.ts';
import type { ApiServerSeams } from '../apiserver/seams.ts';
import { startApiServer, type RequestTrace, type RunningApiServer } from '../apiserver/server.ts';
import { KubeClient } from '../client/client.ts';
import type { RecordedEvent } from '../client/events.ts';
import { writeKubeconfig } from '../client/kubeconfig.ts';
import type { RunningControllerManager } from '../controllers/manager.ts';
import type { ControllerSeams } from '../controllers/seams.ts';
import { startHollowNodes, type HollowNode, type HollowNodeOptions } from '../nodes/hollow-node.ts';
import type { SchedulerSeams } from '../scheduler/seams.ts';
import type { ScenarioKubelet, ScenarioKubeletOptions } from '../kubelet/nodes.ts';
import { openStore, type Store } from '../store/store.ts';

/** A running scheduler, as startScheduler returns it. */
export type RunningScheduler = Awaited<ReturnType<typeof import('../scheduler/scheduler.ts').startScheduler>>;

/** The components whose narration `onComponentTrace` receives. */
export type ClusterComponent = 'controller-manager' | 'scheduler' | 'node';

/** The scenario's laptops: node-1 runs the control plane, node-2 and node-3 are workers. */
export const NODE_NAMES = ['node-1', 'node-2', 'node-3'];

/** How to start a cluster. */
export interface ClusterOptions {
  /** Where the store keeps its data and the cluster its kubeconfig and tokens. */
  dir: string;
  /** Use this etcd (our store process or the real etcd, `host:port`) instead of an in-process store. */
  etcdEndpoint?: string;
  /** The API server's port; 0 picks a free one. */
  port?: number;
  compactionIntervalMs?: number;
  bookmarkIntervalMs?: number;
  /** The learner's versions of chapter 2's functions, for the lab. */
  seams?: Partial<ApiServerSeams>;
  /** The API server's trace of every request. */
  onTrace?: (trace: RequestTrace) => void;
  log?: (line: string) => void;
  /** Run the controller manager in-process: true for every controller, or the names to run (default: none). */
  controllers?: boolean | string[];
  /** The learner's versions of chapter 3's functions, for the lab. */
  controllerSeams?: Partial<ControllerSeams>;
  /** How long a Node may go without renewing its Lease before it is NotReady (upstream: 50 s since 1.32). */
  nodeMonitorGracePeriodMs?: number;
  /** How often the node lifecycle controller looks at the Nodes (upstream 5 s). */
  nodeMonitorPeriodMs?: number;
  /** Run the scheduler in-process (default: no). */
  scheduler?: boolean;
  /** The learner's versions of chapter 4's functions, for the lab. */
  schedulerSeams?: Partial<SchedulerSeams>;
  /** Run node agents: hollow nodes (chapter 4) or real kubelets (chapter 5). Default: none. */
  nodes?: 'hollow' | 'kubelet' | false;
  /** The nodes' names (default NODE_NAMES; the first, node-1, is the tainted control-plane node). */
  nodeNames?: string[];
  /** Settings for every hollow node (capacity, renewIntervalMs, leaseDurationSeconds, ...). */
  nodeOptions?: Partial<Omit<HollowNodeOptions, 'client' | 'name' | 'onTrace'>>;
  /** Settings for every kubelet: its runtime ("sim", or "runc" for the workers), seams, clock, ... */
  kubeletOptions?: Omit<ScenarioKubeletOptions, 'dir' | 'onTrace'>;
  /** Narration of the controller manager, the scheduler and the nodes, one line each. */
  onComponentTrace?: (component: ClusterComponent, line: string) => void;
  /** Every Event the controller manager and the scheduler record. */
  onEvent?: (event: RecordedEvent) => void;
}

/** A running cluster. */
export interface Cluster {
  apiserver: RunningApiServer;
  /** The in-process store, when the cluster runs one. */
  store?: Store;
  backend: Backend;
  /** Absolute path of the admin kubeconfig. */
  kubeconfig: string;
  /** Absolute paths of the kubeconfigs of `kube-controller-manager` (controller-manager.conf), `kube-scheduler` (scheduler.conf) and `kubelet-node-1`.. (kubelet-node-1.conf, ...). */
  componentKubeconfigs: Record<string, string>;
  /** The bearer token of each identity, by user name. */
  tokens: Map<string, string>;
  /** A client that acts as this user (which must be one the cluster knows). */
  clientAs(user: string, userAgent?: string): KubeClient;
  /** The cluster CA (PEM) that clients trust. */
  ca: string;
  /** The admin's client. */
  admin: KubeClient;
  /** The controller manager, when the cluster runs one. */
  controllerManager?: RunningControllerManager;
  /** The scheduler, when the cluster runs one. */
  scheduler?: RunningScheduler;
  /** The hollow nodes, by name, when the cluster runs them. */
  nodes?: Map<string, HollowNode>;
  /** The kubelets, by node name, when the cluster runs them. */
  kubelets?: Map<string, ScenarioKubelet>;
  /** Stops the nodes, the scheduler, the controller manager, then the API server and the store. */
  stop(): Promise<void>;
}

// #region start-cluster
/** Start the store and the API server, and write the admin kubeconfig. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const store = options.etcdEndpoint ? undefined : await openStore({ dataDir: join(dir, 'etcd') });
  const backend: Backend = store ?? (await connectEtcd(options.etcdEndpoint!));

  const nodeNames = options.nodeNames ?? NODE_NAMES;
  const identities: UserInfo[] = [ADMIN, ...Object.values(COMPONENTS), ...[...new Set([...NODE_NAMES, ...nodeNames])].map(kubeletIdentity)];
  const authenticator = new TokenAuthenticator();
  const tokens = new Map<string, string>();
  for (const user of identities) {
    const token = newToken();
    tokens.set(user.name, token);
    authenticator.add(token, user);
  }
  // The same table as a kube-apiserver --token-auth-file, for the curious reader.
  writeFileSync(join(dir, 'tokens.csv'), identities.map((u) => tokenFileLine(tokens.get(u.name)!, u)).join('\n') + '\n', { mode: 0o600 });

  // The cluster CA and the API server's certificate, kept as kubeadm keeps them under pki/.
  const pki = clusterPki();
  mkdirSync(join(dir, 'pki'), { recursive: true });
  writeFileSync(join(dir, 'pki', 'ca.crt'), pki.ca.cert);
  writeFileSync(join(dir, 'pki', 'apiserver.crt'), pki.apiserver.cert);
  writeFileSync(join(dir, 'pki', 'apiserver.key'), pki.apiserver.key, { mode: 0o600 });

  const apiserver = await startApiServer({
    backend,
    authenticator,
    tls: pki.apiserver,
    port: options.port ?? 0,
    compactionIntervalMs: options.compactionIntervalMs,
    bookmarkIntervalMs: options.bookmarkIntervalMs,
    seams: options.seams,
    onTrace: options.onTrace,
    log: options.log,
  });
  const kubeconfig = join(dir, 'kubeconfig');
  writeKubeconfig(kubeconfig, { server: apiserver.url, ca: pki.ca.cert, token: tokens.get(ADMIN.name)!, user: ADMIN.name, cluster: 'workbook', context: 'workbook' });
  // One kubeconfig per control-plane component, named as kubeadm names them, for running each as its own process.
  const componentKubeconfigs: Record<string, string> = {};
  const componentFiles: Array<[string, string, string]> = [
    ['kube-controller-manager', COMPONENTS['kube-controller-manager']!.name, 'controller-manager.conf'],
    ['kube-scheduler', COMPONENTS['kube-scheduler']!.name, 'scheduler.conf'],
    // A kubelet's kubeconfig per scenario node (kubeadm writes kubelet.conf on each node).
    ...NODE_NAMES.map((node): [string, string, string] => [`kubelet-${node}`, kubeletIdentity(node).name, `kubelet-${node}.conf`]),
  ];
  for (const [component, user, file] of componentFiles) {
    componentKubeconfigs[component] = join(dir, file);
    writeKubeconfig(join(dir, file), { server: apiserver.url, ca: pki.ca.cert, token: tokens.get(user)!, user, cluster: 'workbook', context: `${user}@workbook` });
  }

  const clientAs = (user: string, userAgent = 'workbook') => {
    const token = tokens.get(user);
    if (!token) throw new Error(`expected one of the cluster's users (${[...tokens.keys()].join(', ')}), got ${JSON.stringify(user)}`);
    return new KubeClient({ server: apiserver.url, ca: pki.ca.cert, token, userAgent });
  };
  const cluster: Cluster = {
    apiserver,
    store,
    backend,
    kubeconfig,
    componentKubeconfigs,
    tokens,
    ca: pki.ca.cert,
    clientAs,
    admin: clientAs(ADMIN.name, 'kubectl-workbook'),
    stop: async () => {
      await apiserver.close();
      await backend.close();
    },
  };
  try {
    await startComponents(cluster, options, nodeNames);
  } catch (error) {
    // Why stop what started: a half-started cluster would keep the process (and its port) alive.
    await cluster.stop().catch(() => {});
    throw error;
  }
  return cluster;
}
// #endregion start-cluster

// #region start-components
/**
 * Starts the components the options ask for, each with its own identity:
 * the controller manager, then the nodes, then the scheduler (so that its
 * first look finds the nodes), and makes `stop` stop them in the reverse order.
 */
async function startComponents(cluster: Cluster, options: ClusterOptions, nodeNames: string[]): Promise<void> {
  const trace = (component: ClusterComponent) => (options.onComponentTrace ? (line: string) => options.onComponentTrace!(component, line) : undefined);
  const closers: Record<'nodes' | 'scheduler' | 'controllers', Array<() => Promise<void>>> = { nodes: [], scheduler: [], controllers: [] };
  const stopApiServer = cluster.stop;
  cluster.stop = async () => {
    // Why this order: the nodes and the scheduler first, so nothing new happens while the controllers drain; the API server last.
    for (const close of [...closers.nodes, ...closers.scheduler, ...closers.controllers]) await close().catch(() => {});
    await stopApiServer();
  };

  if (options.controllers) {
    // Why a dynamic import: a cluster without controllers (chapter 2) must not load chapter 3's code.
    const { startControllerManager, CONTROLLERS } = await import('../controllers/manager.ts');
    const names = options.controllers === true ? Object.keys(CONTROLLERS) : options.controllers;
    // Why: with the garbage collector running, foreground and orphan deletes get their finalizers, which it removes.
    if (names.includes('garbagecollector')) cluster.apiserver.setGarbageCollection(true);
    const client = cluster.clientAs(COMPONENTS['kube-controller-manager']!.name, 'kube-controller-manager/v1.32.0 (workbook)');
    cluster.controllerManager = await startControllerManager({
      client,
      controllers: names,
      seams: options.controllerSeams,
      nodeMonitorGracePeriodMs: options.nodeMonitorGracePeriodMs,
      nodeMonitorPeriodMs: options.nodeMonitorPeriodMs,
      onTrace: trace('controller-manager'),
      onEvent: options.onEvent,
    });
    const manager = cluster.controllerManager;
    closers.controllers.push(async () => {
      await manager.stop();
      client.close();
    });
  }

  if (options.nodes === 'hollow') {
    const nodeTrace = trace('node');
    cluster.nodes = await startHollowNodes(cluster, nodeNames, { ...options.nodeOptions, onTrace: nodeTrace });
    const nodes = cluster.nodes;
    closers.nodes.push(async () => {
      await Promise.all([...nodes.values()].map((node) => node.stop()));
    });
  }

  if (options.nodes === 'kubelet') {
    // Why a dynamic import: clusters of earlier chapters must not load chapter 5's code.
    const { startKubelets } = await import('../kubelet/nodes.ts');
    const kubelets = await startKubelets(cluster, nodeNames, { ...options.kubeletOptions, dir: join(resolve(options.dir), 'nodes'), onTrace: trace('node') });
    cluster.kubelets = kubelets;
    // Why: `kubectl logs` asks the API server, which asks the kubelet of the Pod's node.
    cluster.apiserver.setLogs((pod, container, logOptions, res) => kubelets.get(pod.spec.nodeName ?? '')?.serveLogs(pod, container, logOptions, res) ?? Promise.resolve(false));
    closers.nodes.push(async () => {
      await Promise.all([...kubelets.values()].map((kubelet) => kubelet.stopAndClean()));
    });
  }

  if (options.scheduler) {
    const { startScheduler } = await import('../scheduler/scheduler.ts');
    const client = cluster.clientAs(COMPONENTS['kube-scheduler']!.name, 'kube-scheduler/v1.32.0 (workbook)');
    cluster.scheduler = await startScheduler({ client, seams: options.schedulerSeams, onTrace: trace('scheduler'), onEvent: options.onEvent });
    const scheduler = cluster.scheduler;
    closers.scheduler.push(async () => {
      await scheduler.stop();
      client.close();
    });
  }
}
// #endregion start-components
