/**
 * The kubelet's seams: the small functions chapter 5's exercises ask a
 * learner to write. The kubelet takes them as options, so `npm run lab 5`
 * runs the learner's versions inside a real kubelet; everywhere else the
 * reference versions are used. (Exercise 5.3, the process a container runs,
 * is the runtime's: SimRuntime and RuncRuntime take `containerArgs`.)
 */
import { applyProbeResult } from './probe-results.ts';
import { crashLoopDelayMs } from './backoff.ts';
import { podPhase } from './phase.ts';

/** Each seam and where the kubelet calls it. */
export interface KubeletSeams {
  /** Exercise 5.1: a Pod's phase from its containers' states (every status the kubelet writes). */
  podPhase: typeof podPhase;
  /** Exercise 5.2: how long to wait before restarting a container that keeps exiting (the pod worker's back-off). */
  crashLoopDelayMs: typeof crashLoopDelayMs;
  /** Exercise 5.4: what one probe result makes the kubelet do (the probe workers). */
  applyProbeResult: typeof applyProbeResult;
}

/** The reference implementations, from lib/. */
export const referenceKubeletSeams: KubeletSeams = { podPhase, crashLoopDelayMs, applyProbeResult };
