/**
 * A Pod's phase, derived from its containers' states as the kubelet derives
 * it. The phase is a summary, not a state machine of its own: Pending until
 * every container has started at least once, Running while any runs (or is
 * about to be restarted), and Succeeded or Failed only when every container
 * has terminated for good under the Pod's restart policy.
 */
import type { ContainerStatus, PodSpec, PodStatus } from '../api/types.ts';

/** How the kubelet counts one container's state. */
interface Counts {
  running: number;
  waiting: number;
  stopped: number;
  succeeded: number;
  unknown: number;
}

// #region pod-phase
/** The phase of a Pod whose containers report `statuses`, under the Pod's restart policy. */
export function podPhase(spec: Pick<PodSpec, 'containers' | 'restartPolicy'>, statuses: readonly ContainerStatus[]): NonNullable<PodStatus['phase']> {
  const counts: Counts = { running: 0, waiting: 0, stopped: 0, succeeded: 0, unknown: 0 };
  for (const container of spec.containers) {
    const status = statuses.find((s) => s.name === container.name);
    if (!status?.state) counts.unknown++;
    else if (status.state.running) counts.running++;
    else if (status.state.terminated) {
      counts.stopped++;
      if (status.state.terminated.exitCode === 0) counts.succeeded++;
    } else if (status.state.waiting) {
      // Why a waiting container that ran before counts as stopped: it is between restarts (e.g. CrashLoopBackOff), not new.
      if (status.lastState?.terminated) counts.stopped++;
      else counts.waiting++;
    } else counts.unknown++;
  }
  const policy = spec.restartPolicy ?? 'Always';
  if (counts.waiting > 0) return 'Pending';
  if (counts.running > 0 && counts.unknown === 0) return 'Running';
  if (counts.running === 0 && counts.stopped > 0 && counts.unknown === 0) {
    // Why Running: with Always, every terminated container is about to be restarted.
    if (policy === 'Always') return 'Running';
    if (counts.stopped === counts.succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    // OnFailure: the failed ones are about to be restarted.
    return 'Running';
  }
  return 'Pending';
}
// #endregion pod-phase
