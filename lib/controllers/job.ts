/**
 * The Job controller: runs Pods until `completions` of them have succeeded,
 * at most `parallelism` at a time, and gives up once more than
 * `backoffLimit` have failed. Unlike a ReplicaSet's, a Job's Pods are meant
 * to finish: a Pod that exits 0 (phase Succeeded) is counted, not replaced;
 * one that fails is counted and replaced, until the limit.
 *
 * Its Pods carry the labels the API server put in the Job's template
 * (`batch.kubernetes.io/controller-uid`, `batch.kubernetes.io/job-name` and
 * the older `controller-uid`, `job-name`) and an owner reference to the Job.
 * As in 1.32, a Job that has reached its goal first gets SuccessCriteriaMet
 * (or FailureTarget); the terminal Complete (or Failed) follows once none of
 * its Pods is still running or terminating.
 *
 * Simplified: the real controller puts a `batch.kubernetes.io/job-tracking`
 * finalizer on each Pod so that it counts a Pod exactly once even if the Pod
 * is deleted; here finished Pods are kept, counted from the cache, and the
 * counts in status never go down. Failed Pods are replaced at once, without
 * upstream's growing delay (10 s, 20 s, ...).
 */
import type { Job, Pod } from '../api/types.ts';
import { isNotFound } from '../client/client.ts';
import type { Informer } from '../client/informer.ts';
import { keyOf } from '../client/informer.ts';
import { Controller, type ControllerContext } from './controller.ts';
import { BY_CONTROLLER, controllerUid, ensureIndex, RESOURCE } from './informers.ts';
import type { ControllerOptions } from './manager.ts';
import { controllerOf, ControllerExpectations, isPodReady, podFromTemplate } from './pod-control.ts';

type JobStatus = NonNullable<Job['status']>;
type JobCondition = NonNullable<JobStatus['conditions']>[number];

/** Why a Job stops, with the reason and message upstream writes in its conditions. */
export interface JobOutcome {
  success: boolean;
  reason: string;
  message: string;
}

/** The counts of a Job's Pods by state. */
export interface JobPodCounts {
  /** Running or pending, not being deleted. */
  active: number;
  /** Being deleted but not yet finished. */
  terminating: number;
  succeeded: number;
  failed: number;
  /** Active and Ready. */
  ready: number;
  /** Container restarts of the active Pods (they count against backoffLimit when restartPolicy is OnFailure). */
  restarts: number;
}

// #region count-pods
/** Counts a Job's Pods: active, terminating, succeeded, failed, ready. */
export function countJobPods(pods: readonly Pod[]): JobPodCounts {
  const counts: JobPodCounts = { active: 0, terminating: 0, succeeded: 0, failed: 0, ready: 0, restarts: 0 };
  for (const pod of pods) {
    const phase = pod.status?.phase;
    if (phase === 'Succeeded') counts.succeeded++;
    else if (phase === 'Failed') counts.failed++;
    else if (pod.metadata.deletionTimestamp) counts.terminating++;
    else {
      counts.active++;
      if (isPodReady(pod)) counts.ready++;
      counts.restarts += (pod.status?.containerStatuses ?? []).reduce((sum, c) => sum + c.restartCount, 0);
    }
  }
  return counts;
}
// #endregion count-pods

// #region job-outcome
/**
 * Whether the Job has reached its goal or its limit, from its spec and the
 * counts (succeeded and failed include those already recorded in status).
 */
export function jobOutcome(spec: Job['spec'], counts: JobPodCounts, activeForMs: number): JobOutcome | undefined {
  const backoffLimit = spec.backoffLimit ?? 6;
  if (counts.failed > backoffLimit) return { success: false, reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
  // Why restarts count with OnFailure: the kubelet restarts the container in place, so no Pod ever fails.
  if (spec.template.spec.restartPolicy === 'OnFailure' && (backoffLimit === 0 ? counts.restarts > 0 : counts.restarts >= backoffLimit)) {
    return { success: false, reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
  }
  if (spec.activeDeadlineSeconds !== undefined && activeForMs >= spec.activeDeadlineSeconds * 1000) {
    return { success: false, reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
  }
  // Why two rules: without `completions`, the first success ends the Job once the others have stopped (a work queue).
  const done = spec.completions === undefined ? counts.succeeded > 0 && counts.active === 0 : counts.succeeded >= spec.completions;
  if (done) return { success: true, reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' };
  return undefined;
}

/** How many Pods should be running now: at most parallelism, and no more than the completions still missing. */
export function wantedActive(spec: Job['spec'], counts: JobPodCounts): number {
  if (spec.suspend) return 0;
  const parallelism = spec.parallelism ?? 1;
  // Why keep the active ones without completions: once one Pod succeeded, no new one starts, but the others may finish.
  if (spec.completions === undefined) return counts.succeeded > 0 ? Math.min(counts.active, parallelism) : parallelism;
  return Math.max(0, Math.min(parallelism, spec.completions - counts.succeeded));
}
// #endregion job-outcome

/** Runs each Job's Pods to completion, or until its backoff limit. */
export class JobController extends Controller {
  readonly name = 'job';
  private readonly jobs: Informer<Job>;
  private readonly pods: Informer<Pod>;
  private readonly expectations: ControllerExpectations;

  constructor(ctx: ControllerContext, _options: ControllerOptions) {
    super(ctx);
    this.expectations = new ControllerExpectations(() => ctx.clock.now());
    this.jobs = ctx.informers.informerFor<Job>(RESOURCE.jobs);
    this.pods = ensureIndex(ctx.informers.informerFor<Pod>(RESOURCE.pods), BY_CONTROLLER, controllerUid);
    this.jobs.on('add', (job) => this.enqueue(job));
    this.jobs.on('update', (_old, job) => this.enqueue(job));
    this.jobs.on('delete', (job) => this.expectations.delete(keyOf(job)));

    // #region job-pod-handlers
    this.pods.on('add', (pod) => {
      const key = jobKeyOf(pod);
      if (!key) return;
      this.expectations.creationObserved(key);
      this.queue.add(key);
    });
    this.pods.on('update', (old, pod) => {
      const key = jobKeyOf(pod);
      if (!key) return;
      if (pod.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) this.expectations.deletionObserved(key, pod.metadata.uid ?? '');
      this.queue.add(key);
    });
    this.pods.on('delete', (pod) => {
      const key = jobKeyOf(pod);
      if (!key) return;
      this.expectations.deletionObserved(key, pod.metadata.uid ?? '');
      this.queue.add(key);
    });
    // #endregion job-pod-handlers
  }

  // #region job-reconcile
  async reconcile(key: string): Promise<void> {
    const job = this.jobs.get(key);
    if (!job || isFinished(job)) return;
    const pods = this.pods.byIndex(BY_CONTROLLER, job.metadata.uid ?? '');
    const counts = countJobPods(pods);
    // Why the maximum: a finished Pod someone deleted must not be counted out again.
    counts.succeeded = Math.max(counts.succeeded, job.status?.succeeded ?? 0);
    counts.failed = Math.max(counts.failed, job.status?.failed ?? 0);
    const now = this.ctx.clock.now();
    const startTime = job.status?.startTime ?? timestamp(now);
    const outcome = jobOutcome(job.spec, counts, now - Date.parse(startTime));

    if (outcome) {
      await this.deletePods(job, pods.filter((p) => isActive(p)));
      counts.terminating += counts.active;
      counts.active = 0;
      counts.ready = 0;
    } else if (this.expectations.satisfied(key)) {
      const diff = wantedActive(job.spec, counts) - counts.active;
      if (diff > 0) counts.active += await this.createPods(job, diff);
      if (diff < 0) {
        const surplus = pods.filter((p) => isActive(p)).sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b))).slice(0, -diff);
        await this.deletePods(job, surplus);
        counts.active -= surplus.length;
      }
    }
    await this.writeStatus(job, counts, startTime, outcome);
    this.requeueForDeadline(job, key, startTime, outcome);
  }
  // #endregion job-reconcile

  /** Creates `count` Pods from the Job's template; returns how many were created. */
  private async createPods(job: Job, count: number): Promise<number> {
    const key = keyOf(job);
    this.expectations.expect(key, count);
    let created = 0;
    for (let i = 0; i < count; i++) {
      try {
        const pod = await this.ctx.client.create(RESOURCE.pods, podFromTemplate(job.spec.template, job));
        created++;
        this.ctx.recorder.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
      } catch (error) {
        this.expectations.creationObserved(key); // Why: a Pod that was never made will never show in the informer.
        this.ctx.recorder.event(job, 'Warning', 'FailedCreate', `Error creating: ${(error as Error).message}`);
        throw error;
      }
    }
    this.ctx.trace(`job ${key}: created ${created} pod(s)`);
    return created;
  }

  /** Deletes the given Pods of the Job. */
  private async deletePods(job: Job, pods: readonly Pod[]): Promise<void> {
    if (pods.length === 0) return;
    const key = keyOf(job);
    this.expectations.expect(key, 0, pods.map((p) => p.metadata.uid ?? ''));
    for (const pod of pods) {
      try {
        await this.ctx.client.delete(RESOURCE.pods, pod.metadata.namespace, pod.metadata.name ?? '');
        this.ctx.recorder.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
      } catch (error) {
        this.expectations.deletionObserved(key, pod.metadata.uid ?? '');
        if (!isNotFound(error)) throw error;
      }
    }
    this.ctx.trace(`job ${key}: deleted ${pods.length} pod(s)`);
  }

  // #region job-status
  /** Writes counts and conditions; the terminal condition only once no Pod is left running or terminating. */
  private async writeStatus(job: Job, counts: JobPodCounts, startTime: string, outcome: JobOutcome | undefined): Promise<void> {
    const now = timestamp(this.ctx.clock.now());
    const status: JobStatus = structuredClone(job.status ?? {});
    Object.assign(status, { active: counts.active, succeeded: counts.succeeded, failed: counts.failed, ready: counts.ready, startTime });
    (status as { terminating?: number }).terminating = counts.terminating;
    const conditions = (status.conditions ??= []);
    let finished: JobCondition | undefined;
    if (outcome) {
      const interim = outcome.success ? 'SuccessCriteriaMet' : 'FailureTarget';
      addCondition(conditions, { type: interim, status: 'True', reason: outcome.reason, message: outcome.message, lastProbeTime: now, lastTransitionTime: now });
      // Why wait for the Pods: a Job is only over when nothing of it runs any more.
      if (counts.active === 0 && counts.terminating === 0) {
        finished = { type: outcome.success ? 'Complete' : 'Failed', status: 'True', reason: outcome.reason, message: outcome.message, lastProbeTime: now, lastTransitionTime: now };
        addCondition(conditions, finished);
        if (outcome.success) status.completionTime = now;
      }
    }
    if (conditions.length === 0) delete status.conditions;
    if (JSON.stringify(status) === JSON.stringify(job.status ?? {})) return;
    const updated = structuredClone(job);
    updated.status = status;
    await this.ctx.client.updateStatus(RESOURCE.jobs, updated);
    if (finished?.type === 'Complete') this.ctx.recorder.event(job, 'Normal', 'Completed', 'Job completed');
    if (finished?.type === 'Failed') this.ctx.recorder.event(job, 'Warning', finished.reason ?? 'Failed', finished.message ?? '');
    this.ctx.trace(`job ${keyOf(job)}: active ${counts.active}, succeeded ${counts.succeeded}, failed ${counts.failed}${finished ? `; ${finished.type} (${finished.reason})` : ''}`);
  }
  // #endregion job-status

  /** A Job with activeDeadlineSeconds is looked at again when the deadline passes, even if nothing else changes. */
  private requeueForDeadline(job: Job, key: string, startTime: string, outcome: JobOutcome | undefined): void {
    if (outcome || job.spec.activeDeadlineSeconds === undefined) return;
    const due = Date.parse(startTime) + job.spec.activeDeadlineSeconds * 1000;
    this.queue.addAfter(key, Math.max(0, due - this.ctx.clock.now()));
  }
}

/** The key of the Job that controls a Pod, if a Job does. */
function jobKeyOf(pod: Pod): string | undefined {
  const owner = controllerOf(pod);
  return owner?.kind === 'Job' ? `${pod.metadata.namespace}/${owner.name}` : undefined;
}

/** A Job with a Complete or Failed condition is finished: nothing more is done for it. */
export function isFinished(job: Job): boolean {
  return (job.status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

function isActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}

/** Adds a condition unless one of that type is already True (its first transition time is kept). */
function addCondition(conditions: JobCondition[], condition: JobCondition): void {
  if (conditions.some((c) => c.type === condition.type && c.status === 'True')) return;
  conditions.push(condition);
}

function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
