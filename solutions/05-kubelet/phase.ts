/**
 * Solution 5.1: a Pod's phase.
 */
import type { ContainerStatus, PodSpec, PodStatus } from '#lib/api/types.ts';

export function podPhase(spec: Pick<PodSpec, 'containers' | 'restartPolicy'>, statuses: readonly ContainerStatus[]): NonNullable<PodStatus['phase']> {
  let unknown = 0;
  let waiting = 0;
  let running = 0;
  let terminated = 0;
  let succeeded = 0;
  for (const container of spec.containers) {
    const status = statuses.find((s) => s.name === container.name);
    const state = status?.state;
    const ranBefore = status?.lastState?.terminated !== undefined;
    if (state?.running) running++;
    else if (state?.terminated) {
      terminated++;
      if (state.terminated.exitCode === 0) succeeded++;
    } else if (state?.waiting) {
      // Between two runs (CrashLoopBackOff) is not the same as never started.
      if (ranBefore) terminated++;
      else waiting++;
    } else unknown++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && terminated > 0 && unknown === 0) {
    const policy = spec.restartPolicy ?? 'Always';
    // Always restarts whatever stopped; OnFailure restarts what failed; only what will not run again can end the Pod.
    if (policy === 'Always') return 'Running';
    if (succeeded === terminated) return 'Succeeded';
    return policy === 'Never' ? 'Failed' : 'Running';
  }
  return 'Pending';
}
