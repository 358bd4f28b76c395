/**
 * The scheduler: kube-scheduler in one file's worth of wiring. It watches
 * Pods and Nodes, keeps every Node's requested resources in a cache, queues
 * the Pods that have no node and name it as their scheduler, and runs the
 * scheduling cycle machine over the queue: filter, score, assume, bind
 * (POST pods/{name}/binding). It writes nothing else but Events and the
 * PodScheduled condition of Pods that fit nowhere.
 */
import { createActor, fromCallback, fromPromise, type ActorRefFrom } from 'xstate';
import type { Node, Pod } from '../api/types.ts';
import { isConflict, isNotFound, realClock, type Clock, type KubeClient } from '../client/client.ts';
import { ApiEventRecorder, type EventRecorder, type RecordedEvent } from '../client/events.ts';
import { keyOf } from '../client/informer.ts';
import { InformerFactory, RESOURCE } from '../controllers/informers.ts';
import { SchedulerCache, type NodeInfo } from './cache.ts';
import { schedulingCycle, type BindDoneEvent, type BindOutcome, type FilterOutcome } from './cycle-machine.ts';
import { findFeasibleNodes, fitErrorMessage, scoreNodes, selectHost, type FilterState } from './framework.ts';
import { SchedulingQueue, type QueuedPod, type SchedulingQueueOptions } from './queue.ts';
import { referenceSeams, type SchedulerSeams } from './seams.ts';

/** The name Pods get by default (spec.schedulerName) and the component of our Events. */
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

/** How to start a scheduler. */
export interface SchedulerOptions {
  /** A client acting as system:kube-scheduler. */
  client: KubeClient;
  /** The learner's versions of chapter 4's functions, for the lab (the rest are the reference ones). */
  seams?: Partial<SchedulerSeams>;
  clock?: Clock;
  /** Narration: one line per decision ("default/backend-x: 2/3 nodes feasible; node-2 scores 295; assumed"). */
  onTrace?: (line: string) => void;
  /** Told about every Event the scheduler records. */
  onEvent?: (event: RecordedEvent) => void;
  /** Replaces the recorder (tests). */
  recorder?: EventRecorder;
  /** Which Pods are ours: those whose spec.schedulerName is this (default "default-scheduler"). */
  schedulerName?: string;
  /** Percentage of nodes to find feasible before scoring; 0 or unset: upstream's adaptive default. */
  percentageOfNodesToScore?: number;
  /** Queue timings (backoff, flushes); upstream's defaults when unset. */
  queue?: Omit<SchedulingQueueOptions, 'clock' | 'onTrace'>;
  /** Tie-breaking among nodes with the same score (default Math.random). */
  random?: () => number;
  /** Called just before each binding request (tests use it to race a delete against a bind). */
  beforeBind?: (pod: Pod, node: string) => Promise<void> | void;
}

/** What the scheduler has done so far. */
export interface SchedulerStats {
  /** Scheduling cycles that chose a node. */
  scheduled: number;
  /** Scheduling cycles that found no node. */
  unschedulable: number;
  /** Bindings the API server accepted. */
  bound: number;
  /** Bindings refused with 409: the Pod was already bound (by another scheduler). */
  conflicts: number;
  /** Bindings of Pods deleted meanwhile (404). */
  podGone: number;
  /** Bindings abandoned because the chosen node was deleted meanwhile. */
  nodeGone: number;
  /** Other binding failures. */
  errors: number;
}

/** A running scheduler. */
export interface RunningScheduler {
  queue: SchedulingQueue;
  cache: SchedulerCache;
  informers: InformerFactory;
  recorder: EventRecorder;
  stats: SchedulerStats;
  /** The scheduling-cycle actor (its snapshot says which state the cycle is in). */
  cycle: ActorRefFrom<typeof schedulingCycle>;
  /** Stops the cycle, waits for bindings in flight, stops the informers and flushes the Events. */
  stop(): Promise<void>;
}

/** Whether a Pod is bound to a node. */
function isAssigned(pod: Pod): boolean {
  return Boolean(pod.spec.nodeName);
}

/** A Pod that finished: it holds no resources any more (upstream's informer leaves them out). */
function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** Whether a Node change can make an unschedulable Pod fit (upstream skips heartbeat-only updates). */
function nodeChangedForScheduling(oldNode: Node, newNode: Node): boolean {
  const view = (n: Node) => JSON.stringify([n.status?.allocatable, n.metadata.labels, n.spec?.taints, n.spec?.unschedulable]);
  return view(oldNode) !== view(newNode);
}

/** What the scheduling cycle machine is wired to. */
export interface CycleDependencies {
  queue: SchedulingQueue;
  cache: SchedulerCache;
  seams: SchedulerSeams;
  filterState: FilterState;
  percentageOfNodesToScore?: number;
  random: () => number;
  trace?: (line: string) => void;
  /** The binding cycle of one Pod. */
  bind(pod: Pod, node: string): Promise<{ outcome: BindOutcome; message: string }>;
  recordUnschedulable(info: QueuedPod, message: string): void;
  finishBinding(done: BindDoneEvent): void;
  /** Told when a Pod is assumed on a node (counts, narration). */
  onAssumed?(info: QueuedPod, node: string): void;
}

// #region machine
/** The scheduling-cycle machine with its actors and actions: the queue, the filters and scores over the cache, the binding. */
export function cycleFor(deps: CycleDependencies) {
  const { queue, cache, seams, filterState, trace } = deps;
  // Why a side table: the machine's context carries node names; the filter's NodeInfos wait here for the score step.
  const feasibleNodes = new Map<string, NodeInfo[]>();
  return schedulingCycle.provide({
    // #region cycle-actors
    actors: {
      nextPod: fromPromise(() => queue.pop()),
      filter: fromPromise<FilterOutcome, { pod: QueuedPod }>(async ({ input }) => {
        const result = findFeasibleNodes(input.pod.pod, cache, seams, filterState, deps.percentageOfNodesToScore);
        if (result.feasible.length === 0) return { feasible: [], message: fitErrorMessage(result) };
        feasibleNodes.set(input.pod.key, result.feasible);
        return { feasible: result.feasible.map((n) => n.name), message: '' };
      }),
      score: fromPromise<string, { pod: QueuedPod; feasible: string[] }>(async ({ input }) => {
        const feasible = feasibleNodes.get(input.pod.key) ?? [];
        feasibleNodes.delete(input.pod.key);
        // Why skip scoring a single node: there is nothing to compare (upstream does the same).
        if (feasible.length === 1) return feasible[0]!.name;
        const scores = scoreNodes(input.pod.pod, feasible, seams);
        const chosen = selectHost(feasible, scores, deps.random);
        if (trace) trace(`${input.pod.key}: ${feasible.length} feasible; ${feasible.slice(0, 5).map((n, i) => `${n.name}=${scores[i]}`).join(' ')}${feasible.length > 5 ? ' ...' : ''} → ${chosen?.name}`);
        return chosen?.name ?? '';
      }),
      bind: fromCallback<BindDoneEvent, { pod: QueuedPod; node: string; actorId: string }>(({ input, sendBack }) => {
        void deps.bind(input.pod.pod, input.node).then(({ outcome, message }) => {
          sendBack({ type: outcome === 'bound' ? 'pod.bound' : 'pod.bindFailed', actorId: input.actorId, pod: input.pod, node: input.node, outcome, message });
        });
      }),
    },
    // #endregion cycle-actors
    actions: {
      assume: (_, { pod, node }) => {
        cache.assumePod(pod.pod, node);
        queue.done(pod.key);
        deps.onAssumed?.(pod, node);
      },
      recordUnschedulable: (_, { pod, message }) => deps.recordUnschedulable(pod, message),
      finishBinding: (_, done) => deps.finishBinding(done),
    },
  });
}
// #endregion machine

// #region start
/** Starts a scheduler; resolves once its caches have synced and the cycle runs. */
export async function startScheduler(options: SchedulerOptions): Promise<RunningScheduler> {
  const clock = options.clock ?? realClock;
  const schedulerName = options.schedulerName ?? DEFAULT_SCHEDULER_NAME;
  const seams: SchedulerSeams = { ...referenceSeams, ...options.seams };
  const onTrace = options.onTrace;
  const trace = onTrace ? (line: string) => onTrace(`scheduler: ${line}`) : undefined;
  const client = options.client;
  const recorder = options.recorder ?? new ApiEventRecorder(client, { component: DEFAULT_SCHEDULER_NAME }, { clock, onEvent: options.onEvent });
  const informers = new InformerFactory(client, { clock, onTrace: trace ? (line) => trace(`informer ${line}`) : undefined });
  const queue = new SchedulingQueue({ clock, onTrace: trace, ...options.queue });
  const cache = new SchedulerCache();
  const stats: SchedulerStats = { scheduled: 0, unschedulable: 0, bound: 0, conflicts: 0, podGone: 0, nodeGone: 0, errors: 0 };
  const filterState: FilterState = { nextStartNodeIndex: 0 };
  const random = options.random ?? Math.random;
  const podInformer = informers.informerFor<Pod>(RESOURCE.pods);
  const nodeInformer = informers.informerFor<Node>(RESOURCE.nodes);

  const responsibleFor = (pod: Pod) => (pod.spec.schedulerName ?? DEFAULT_SCHEDULER_NAME) === schedulerName && !pod.metadata.deletionTimestamp;

  // #region event-handlers
  // #region pod-add
  podInformer.on('add', (pod) => {
    if (isAssigned(pod)) {
      // Why the cache: a bound Pod is what fills its node; a finished one holds nothing any more.
      if (!isTerminal(pod)) cache.addPod(pod);
    } else if (responsibleFor(pod)) {
      // Why only ours: a Pod naming another schedulerName is that scheduler's to place.
      queue.add(pod);
    }
  });
  // #endregion pod-add
  podInformer.on('update', (oldPod, pod) => {
    const key = keyOf(pod);
    if (isAssigned(pod)) {
      if (isTerminal(pod)) {
        cache.removePod(key);
        queue.moveAllToActiveOrBackoff('AssignedPodFinished');
      } else cache.addPod(pod);
      // Why: bound, by us or by someone else; no longer the queue's business.
      queue.delete(pod);
    } else if (!responsibleFor(pod)) {
      queue.delete(pod);
    } else if (!cache.isAssumed(key)) {
      // Why skip assumed Pods: we already decided; the watch just has not shown the binding yet.
      queue.update(oldPod, pod);
    }
  });
  podInformer.on('delete', (pod) => {
    const key = keyOf(pod);
    queue.delete(pod);
    if (cache.nodeOf(key) !== undefined) {
      // Why also an assumed Pod: it is gone either way; its binding will answer 404 (or already succeeded), and forgetting twice is harmless.
      cache.removePod(key);
      // Why move the queue: a deleted Pod freed room that a waiting Pod may fit in.
      queue.moveAllToActiveOrBackoff('AssignedPodDelete');
    }
  });
  nodeInformer.on('add', (node) => {
    cache.setNode(node);
    queue.moveAllToActiveOrBackoff('NodeAdd');
  });
  nodeInformer.on('update', (oldNode, node) => {
    cache.setNode(node);
    if (nodeChangedForScheduling(oldNode, node)) queue.moveAllToActiveOrBackoff('NodeUpdate');
  });
  nodeInformer.on('delete', (node) => cache.removeNode(node.metadata.name ?? ''));
  // #endregion event-handlers

  // #region bind
  const inFlight = new Set<Promise<unknown>>();
  // #region bind-request
  /** The binding cycle of one Pod: check the node is still there, then POST the Binding. */
  async function bind(pod: Pod, node: string): Promise<{ outcome: BindOutcome; message: string }> {
    await options.beforeBind?.(pod, node);
    // Why check: the node may have been deleted since we chose it; binding there would strand the Pod.
    if (!cache.hasNode(node)) return { outcome: 'nodeGone', message: `node ${node} was deleted before the binding` };
    try {
      await client.bind(pod.metadata.namespace ?? 'default', pod.metadata.name ?? '', node);
      return { outcome: 'bound', message: '' };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (isConflict(error)) return { outcome: 'conflict', message };
      if (isNotFound(error)) return { outcome: 'podGone', message };
      return { outcome: 'error', message };
    }
  }
  // #endregion bind-request

  /** What happens after a binding: an Event, or undoing the assumption and maybe trying again. */
  function finishBinding(done: BindDoneEvent): void {
    const { pod: info, node, outcome } = done;
    const pod = info.pod;
    switch (outcome) {
      case 'bound':
        stats.bound++;
        recorder.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${node}`);
        trace?.(`${info.key}: bound to ${node}`);
        return;
      case 'conflict':
        // Why no retry: someone else bound it first; the watch will show where, and the cache will count it there.
        stats.conflicts++;
        cache.forgetPod(info.key);
        trace?.(`${info.key}: already bound (409): ${done.message}`);
        return;
      case 'podGone':
        // Why no retry: the Pod was deleted; there is nothing left to schedule.
        stats.podGone++;
        cache.forgetPod(info.key);
        queue.delete(pod);
        trace?.(`${info.key}: deleted before it could be bound`);
        return;
      case 'nodeGone':
      case 'error': {
        if (outcome === 'nodeGone') stats.nodeGone++;
        else stats.errors++;
        cache.forgetPod(info.key);
        const current = podInformer.get(info.key);
        // Why look again: only a Pod that still exists and is still unbound is worth another cycle.
        if (current && !isAssigned(current) && responsibleFor(current)) {
          info.pod = current;
          queue.addBackoff(info);
          recorder.event(pod, 'Warning', 'FailedScheduling', `Binding rejected: ${done.message}`);
        }
        trace?.(`${info.key}: binding to ${node} failed (${done.message}); retrying after backoff`);
        return;
      }
    }
  }
  // #endregion bind

  // #region unschedulable
  /** A Pod no node fits: FailedScheduling, PodScheduled=False (as `kubectl describe` shows), and a wait in the queue. */
  function recordUnschedulable(info: QueuedPod, message: string): void {
    stats.unschedulable++;
    const pod = info.pod;
    recorder.event(pod, 'Warning', 'FailedScheduling', message);
    trace?.(`${info.key}: ${message}`);
    queue.addUnschedulable(info);
    const condition = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (condition?.status === 'False' && condition.message === message) return;
    const patch = { status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: new Date(clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z') }] } };
    // Why not wait: the condition is for humans; the next cycle must not hang on it.
    client.patch(RESOURCE.pods, pod.metadata.namespace, pod.metadata.name ?? '', patch, 'strategic', { subresource: 'status' }).catch((error: unknown) => {
      trace?.(`${info.key}: could not set PodScheduled=False: ${error instanceof Error ? error.message : String(error)}`);
    });
  }
  // #endregion unschedulable

  const machine = cycleFor({
    queue,
    cache,
    seams,
    filterState,
    percentageOfNodesToScore: options.percentageOfNodesToScore,
    random,
    trace,
    bind: (pod, node) => {
      const running = bind(pod, node);
      inFlight.add(running);
      void running.finally(() => inFlight.delete(running));
      return running;
    },
    recordUnschedulable,
    finishBinding,
    onAssumed: () => stats.scheduled++,
  });

  informers.start();
  await informers.waitForSync();
  // Why wait for the sync: scheduling on a half-filled cache would put Pods on nodes that are already full.
  const cycle = createActor(machine);
  const finished = new Promise<void>((resolve) => cycle.subscribe({ complete: () => resolve(), error: () => resolve() }));
  cycle.start();
  queue.run();
  trace?.(`started as ${schedulerName}; ${cache.nodeList.length} nodes, ${queue.counts().active} pods waiting`);

  return {
    queue,
    cache,
    informers,
    recorder,
    stats,
    cycle,
    stop: async () => {
      queue.close();
      await finished;
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      await informers.stop();
      await recorder.flush();
    },
  };
}
// #endregion start
