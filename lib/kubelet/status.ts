/**
 * The Pod status the kubelet reports, made from what its pod worker knows:
 * each container's state, the phase that follows from them, the conditions,
 * and the Pod's IP. This is all `kubectl get pods` shows: STATUS is the
 * phase, or a container's waiting or terminated reason when there is one
 * (ContainerCreating, CrashLoopBackOff, ErrImagePull, Completed, Error).
 */
import type { ContainerStatus, Pod, PodStatus } from '../api/types.ts';
import { podConditions, qosClass, time } from '../nodes/node-status.ts';
import type { ContainerRecord } from './pod-worker.ts';
import type { KubeletSeams } from './seams.ts';

/** What the status is made from: the worker's records and where the Pod runs. */
export interface StatusInput {
  pod: Pod;
  containers: Record<string, ContainerRecord>;
  hostIP: string;
  podIP: string | undefined;
  sandboxReady: boolean;
  /** The Pod was stopped for good (deleted): its phase becomes Succeeded or Failed. */
  terminal: boolean;
  /** "sim" or "runc": the scheme of containerID. */
  runtimeName: string;
  now: number;
}

// #region pod-status
/** The status the kubelet writes for a Pod, from its pod worker's records. */
export function podStatusFor(input: StatusInput, podPhase: KubeletSeams['podPhase']): PodStatus {
  const { pod, now } = input;
  const old = pod.status ?? {};
  const containerStatuses = pod.spec.containers.map((c) => containerStatus(c.name, c.image ?? '', input.containers[c.name], input.runtimeName));
  // Why restartPolicy Never when terminal: a deleted Pod's containers will not run again, so it ends Succeeded or Failed.
  const phase = podPhase(input.terminal ? { ...pod.spec, restartPolicy: 'Never' } : pod.spec, containerStatuses);
  const finished = phase === 'Succeeded' || phase === 'Failed';
  const ready = !finished && containerStatuses.every((s) => s.ready);
  const reason = finished ? 'PodCompleted' : ready ? undefined : 'ContainersNotReady';
  const conditions = podConditions(old.conditions ?? [], { sandboxReady: input.sandboxReady && !finished, initialized: true, ready, reason }, now);
  const podIP = pod.spec.hostNetwork ? input.hostIP : input.podIP;
  return {
    ...old,
    phase,
    conditions,
    hostIP: input.hostIP,
    ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
    startTime: old.startTime ?? time(now),
    containerStatuses,
    qosClass: old.qosClass ?? qosClass(pod),
  };
}
// #endregion pod-status

function containerStatus(name: string, image: string, record: ContainerRecord | undefined, runtimeName: string): ContainerStatus {
  if (!record) return { name, image, imageID: '', ready: false, started: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } };
  const lastState = record.state.terminated ? undefined : record.lastState;
  return {
    name,
    state: record.state,
    ...(lastState ? { lastState } : {}),
    ready: record.ready && record.state.running !== undefined,
    started: record.state.running !== undefined,
    restartCount: record.restartCount,
    image: record.image || image,
    imageID: record.imageID,
    ...(record.id ? { containerID: `${runtimeName}://${record.id}` } : {}),
  };
}

/** Whether two statuses say the same thing (the kubelet skips writes that change nothing). */
export function sameStatus(a: PodStatus | undefined, b: PodStatus): boolean {
  return JSON.stringify(a ?? {}) === JSON.stringify(b);
}
