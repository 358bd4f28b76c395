/**
 * Exercise 5.1: a Pod's phase.
 *
 * `status.phase` is one of five words (Pending, Running, Succeeded, Failed,
 * Unknown), and it is not a state the kubelet keeps: every time the kubelet
 * writes a Pod's status, it works the phase out again from what its
 * containers are doing now and from the Pod's `restartPolicy` (Always when
 * it is left out). `kubectl get pods` shows a richer STATUS column
 * (CrashLoopBackOff, Completed...), but that is kubectl's reading of the
 * container states; the phase underneath stays coarse.
 *
 * Look at each container of `spec.containers` and at its status in
 * `statuses` (matched by name). Each one is, as far as the phase cares:
 *   - unknown: it has no status yet, or a status without a state;
 *   - running: `state.running`;
 *   - terminated: `state.terminated`, with or without exit code 0;
 *   - waiting: `state.waiting` (ContainerCreating, ErrImagePull ...) for a
 *     container that never ran yet. A waiting container that did run before
 *     (it has `lastState.terminated`, e.g. in CrashLoopBackOff) is between
 *     two runs: count it as terminated, not as waiting.
 *
 * Then the phase:
 *   - some container waits for its first run           → Pending
 *   - some run, and none is unknown                    → Running
 *   - none runs, none is unknown, some have terminated:
 *       restartPolicy Always                           → Running (they will be restarted)
 *       every terminated one exited 0                  → Succeeded
 *       restartPolicy Never                            → Failed
 *       restartPolicy OnFailure                        → Running (the failed ones will be restarted)
 *   - anything else                                    → Pending
 *
 * The kubelet writes your answer into every Pod it runs: a Job's Pod that
 * ran `exit 0` under restartPolicy Never shows Succeeded because of you.
 *
 * Run `npm run grade 5` to check your work, `npm run hint 5.1` when stuck.
 */
import type { ContainerStatus, PodSpec, PodStatus } from '#lib/api/types.ts';
import { todo } from '#lib/workbook/todo.ts';

/** The phase of a Pod whose containers report `statuses`, under the Pod's restart policy. */
export function podPhase(spec: Pick<PodSpec, 'containers' | 'restartPolicy'>, statuses: readonly ContainerStatus[]): NonNullable<PodStatus['phase']> {
  // TODO: count the containers that are unknown, waiting, running and terminated (and how many exited 0), then decide.
  return todo('5.1');
}
