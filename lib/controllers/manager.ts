/**
 * The controller manager: one process running many control loops, as
 * kube-controller-manager does. It shares one set of informers between the
 * controllers, waits until every cache has listed once, and then starts
 * each controller's workers. Controllers never call each other: each only
 * reads the caches and writes through the API server, and the others see
 * the result through their own watches.
 */
import type { Clock, KubeClient } from '../client/client.ts';
import { realClock } from '../client/client.ts';
import { ApiEventRecorder, type EventRecorder, type RecordedEvent } from '../client/events.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { DeploymentController } from './deployment.ts';
import { EndpointsController } from './endpoints.ts';
import { GarbageCollector } from './garbage-collector.ts';
import { InformerFactory } from './informers.ts';
import { JobController } from './job.ts';
import { NamespaceController } from './namespace.ts';
import { NodeLifecycleController } from './node-lifecycle.ts';
import { PodGarbageCollector } from './podgc.ts';
import { ReplicaSetController } from './replicaset.ts';
import { referenceSeams, type ControllerSeams } from './seams.ts';

/** Settings that some controllers read; all have the upstream defaults. */
export interface ControllerOptions {
  seams: ControllerSeams;
  /** How long a Node may go without renewing its Lease before it is marked NotReady/Unknown (upstream: 50 s since 1.32, 40 s before). */
  nodeMonitorGracePeriodMs: number;
  /** How often the node lifecycle controller looks at every Node (upstream: 5 s). */
  nodeMonitorPeriodMs: number;
}

/** The defaults of kube-controller-manager. */
export const DEFAULT_CONTROLLER_OPTIONS: ControllerOptions = {
  seams: referenceSeams,
  nodeMonitorGracePeriodMs: 50_000,
  nodeMonitorPeriodMs: 5_000,
};

// #region controllers
/** Every controller the manager can run, by the name `--controllers` uses. */
export const CONTROLLERS: Record<string, (ctx: ControllerContext, options: ControllerOptions) => Controller> = {
  deployment: (ctx, options) => new DeploymentController(ctx, options),
  replicaset: (ctx, options) => new ReplicaSetController(ctx, options),
  endpoints: (ctx, options) => new EndpointsController(ctx, options),
  'node-lifecycle': (ctx, options) => new NodeLifecycleController(ctx, options),
  namespace: (ctx, options) => new NamespaceController(ctx, options),
  garbagecollector: (ctx, options) => new GarbageCollector(ctx, options),
  job: (ctx, options) => new JobController(ctx, options),
  podgc: (ctx, options) => new PodGarbageCollector(ctx, options),
};
// #endregion controllers

/** The event source each controller records under, as upstream names them (kubectl's SOURCE column). */
export const EVENT_SOURCES: Record<string, string> = {
  deployment: 'deployment-controller',
  replicaset: 'replicaset-controller',
  endpoints: 'endpoint-controller',
  'node-lifecycle': 'node-controller',
  namespace: 'namespace-controller',
  garbagecollector: 'garbage-collector-controller',
  job: 'job-controller',
  podgc: 'pod-garbage-collector',
};

/** How to start a controller manager. */
export interface ControllerManagerOptions {
  /** A client acting as system:kube-controller-manager. */
  client: KubeClient;
  /** Which controllers to run (default: all of CONTROLLERS). */
  controllers?: string[];
  /** Workers per controller (upstream runs 5 for Deployments and ReplicaSets; 2 is plenty here). */
  workers?: number;
  /** The learner's versions of chapter 3's functions, for the lab. */
  seams?: Partial<ControllerSeams>;
  nodeMonitorGracePeriodMs?: number;
  nodeMonitorPeriodMs?: number;
  clock?: Clock;
  /** Narration: informers' and controllers' decisions, one line each. */
  onTrace?: (line: string) => void;
  /** Told about every Event the controllers record. */
  onEvent?: (event: RecordedEvent) => void;
  /** Replaces the recorder (tests). */
  recorder?: EventRecorder;
}

/** A running controller manager. */
export interface RunningControllerManager {
  controllers: Map<string, Controller>;
  informers: InformerFactory;
  /** Flushes every controller's recorder (recording itself goes through each controller's own). */
  recorder: EventRecorder;
  /** Stops every controller, then the informers; waits for the work in hand to finish. */
  stop(): Promise<void>;
}

// #region start
/** Starts the chosen controllers on shared informers; resolves once every cache has synced and the workers run. */
export async function startControllerManager(options: ControllerManagerOptions): Promise<RunningControllerManager> {
  const names = options.controllers ?? Object.keys(CONTROLLERS);
  const unknown = names.filter((name) => !CONTROLLERS[name]);
  if (unknown.length > 0) throw new Error(`expected controllers among ${Object.keys(CONTROLLERS).join(', ')}, got ${unknown.join(', ')}`);

  const clock = options.clock ?? realClock;
  const trace = options.onTrace ?? (() => {});
  const informers = new InformerFactory(options.client, { clock, onTrace: options.onTrace ? (line) => trace(`informer ${line}`) : undefined });
  // Why one recorder per controller: upstream gives each its own event source ("deployment-controller", ...), which kubectl prints.
  const recorders: EventRecorder[] = [];
  const recorderFor = (name: string): EventRecorder => {
    const recorder = options.recorder ?? new ApiEventRecorder(options.client, { component: EVENT_SOURCES[name] ?? `${name}-controller` }, { clock, onEvent: options.onEvent });
    recorders.push(recorder);
    return recorder;
  };
  const recorder: EventRecorder = {
    event: () => {
      throw new Error('expected events to be recorded through a controller\'s own recorder, got a call on the manager\'s');
    },
    flush: async () => {
      await Promise.all(recorders.map((r) => r.flush()));
    },
  };
  const settings: ControllerOptions = {
    seams: { ...referenceSeams, ...options.seams },
    nodeMonitorGracePeriodMs: options.nodeMonitorGracePeriodMs ?? DEFAULT_CONTROLLER_OPTIONS.nodeMonitorGracePeriodMs,
    nodeMonitorPeriodMs: options.nodeMonitorPeriodMs ?? DEFAULT_CONTROLLER_OPTIONS.nodeMonitorPeriodMs,
  };

  // #region sync-then-run
  // Why build every controller before starting the informers: each registers
  // its handlers and indexes first, so none misses the initial list.
  const controllers = new Map<string, Controller>();
  for (const name of names) {
    const ctx: ControllerContext = { client: options.client, informers, recorder: recorderFor(name), clock, trace };
    controllers.set(name, CONTROLLERS[name]!(ctx, settings));
  }
  informers.start();
  await informers.waitForSync();
  // Why wait for the sync: a ReplicaSet controller that ran on an empty Pod cache would create every replica again.
  for (const controller of controllers.values()) controller.run(options.workers ?? 2);
  trace(`controller manager: started ${names.join(', ')}`);
  // #endregion sync-then-run

  return {
    controllers,
    informers,
    recorder,
    stop: async () => {
      await Promise.all([...controllers.values()].map((controller) => controller.stop()));
      await informers.stop();
      await recorder.flush();
    },
  };
}
// #endregion start
