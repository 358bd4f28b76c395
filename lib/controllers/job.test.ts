import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Job, Pod } from '../api/types.ts';
import { RESOURCE } from './informers.ts';
import { countJobPods, JobController, jobOutcome, wantedActive, type JobPodCounts } from './job.ts';
import { runController, setPodStatus, startControllerTestCluster, waitFor, type ControllerTestCluster, type RunningTestController } from './test-helpers.ts';

const template: Job['spec']['template'] = { spec: { containers: [{ name: 'hello', image: 'busybox', command: ['sh', '-c', 'echo "Hello, Kubernetes!"'] }], restartPolicy: 'Never' } };
const counts = (c: Partial<JobPodCounts>): JobPodCounts => ({ active: 0, terminating: 0, succeeded: 0, failed: 0, ready: 0, restarts: 0, ...c });

describe('jobOutcome and wantedActive', () => {
  const cases: Array<{ name: string; spec: Partial<Job['spec']>; counts: Partial<JobPodCounts>; outcome: string | undefined; wanted: number }> = [
    { name: 'A new Job with completions 3 and parallelism 2 wants 2 Pods.', spec: { completions: 3, parallelism: 2 }, counts: {}, outcome: undefined, wanted: 2 },
    { name: 'With 2 of 3 completions done, only 1 more Pod is wanted.', spec: { completions: 3, parallelism: 2 }, counts: { succeeded: 2 }, outcome: undefined, wanted: 1 },
    { name: 'With every completion done, the Job has reached its goal.', spec: { completions: 3, parallelism: 2 }, counts: { succeeded: 3 }, outcome: 'CompletionsReached', wanted: 0 },
    { name: 'Failures up to backoffLimit are retried.', spec: { completions: 1, backoffLimit: 2 }, counts: { failed: 2 }, outcome: undefined, wanted: 1 },
    { name: 'One failure more than backoffLimit ends the Job.', spec: { completions: 1, backoffLimit: 2 }, counts: { failed: 3 }, outcome: 'BackoffLimitExceeded', wanted: 1 },
    { name: 'With restartPolicy OnFailure, container restarts count against backoffLimit.', spec: { completions: 1, backoffLimit: 2, template: { spec: { ...template.spec, restartPolicy: 'OnFailure' } } }, counts: { active: 1, restarts: 2 }, outcome: 'BackoffLimitExceeded', wanted: 1 },
    { name: 'Without completions, the first success ends the Job once nothing else runs.', spec: { parallelism: 2 }, counts: { succeeded: 1 }, outcome: 'CompletionsReached', wanted: 0 },
    { name: 'A suspended Job wants no Pods.', spec: { completions: 2, suspend: true }, counts: {}, outcome: undefined, wanted: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const spec = { template, ...c.spec } as Job['spec'];
      assert.equal(jobOutcome(spec, counts(c.counts), 0)?.reason, c.outcome);
      assert.equal(wantedActive(spec, counts(c.counts)), c.wanted);
    });
  }

  it('countJobPods sorts Pods into active, ready, terminating, succeeded and failed.', () => {
    const pod = (phase: NonNullable<Pod['status']>['phase'], extra: Partial<Pod['metadata']> = {}, ready = false): Pod => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'x', ...extra },
      spec: { containers: [] },
      status: { phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
    });
    const result = countJobPods([pod('Running', {}, true), pod('Pending'), pod('Running', { deletionTimestamp: '2026-01-01T00:00:00Z' }), pod('Succeeded'), pod('Failed')]);
    assert.deepEqual(result, { active: 2, terminating: 1, succeeded: 1, failed: 1, ready: 1, restarts: 0 });
  });
});

describe('JobController against an API server', () => {
  let cluster: ControllerTestCluster;
  let running: RunningTestController<JobController>;

  before(async () => {
    cluster = await startControllerTestCluster();
    running = await runController(cluster, (ctx, options) => new JobController(ctx, options));
  });
  after(async () => {
    await running?.stop();
    await cluster?.stop();
  });

  async function createJob(name: string, spec: Partial<Job['spec']>): Promise<Job> {
    return cluster.admin.create<Job>(RESOURCE.jobs, { apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: 'default' }, spec: { template, ...spec } });
  }
  const podsOf = async (job: Job) => (await cluster.admin.list<Pod>(RESOURCE.pods, { namespace: 'default', labelSelector: `batch.kubernetes.io/controller-uid=${job.metadata.uid}` })).items;
  const jobNamed = (name: string) => cluster.admin.get<Job>(RESOURCE.jobs, 'default', name);

  /** Plays the kubelets: every active Pod of the Job ends in `phase`, until `done` says stop. */
  async function finishPodsUntil(job: Job, phase: 'Succeeded' | 'Failed', done: (job: Job) => boolean, maxActive: { seen: number }): Promise<Job> {
    return waitFor(`Job ${job.metadata.name} to finish`, async () => {
      const current = await jobNamed(job.metadata.name ?? '');
      if (done(current)) return current;
      const active = (await podsOf(job)).filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
      maxActive.seen = Math.max(maxActive.seen, active.length);
      for (const pod of active) await setPodStatus(cluster.admin, 'default', pod.metadata.name ?? '', { phase });
      return undefined;
    }, 30_000, 100);
  }

  it('A Job with completions 3 and parallelism 2 runs 3 Pods, never more than 2 at once, and completes.', async () => {
    const job = await createJob('hello', { completions: 3, parallelism: 2 });
    const first = await waitFor('the first 2 Pods', async () => {
      const pods = await podsOf(job);
      return pods.length >= 2 ? pods : undefined;
    });
    assert.equal(first.length, 2);
    const pod = first[0]!;
    assert.match(pod.metadata.name ?? '', /^hello-[a-z0-9]{5}$/);
    for (const label of ['job-name', 'batch.kubernetes.io/job-name']) assert.equal(pod.metadata.labels?.[label], 'hello');
    for (const label of ['controller-uid', 'batch.kubernetes.io/controller-uid']) assert.equal(pod.metadata.labels?.[label], job.metadata.uid);
    assert.deepEqual(pod.metadata.ownerReferences?.map((r) => `${r.kind}/${r.name}/${r.controller}`), ['Job/hello/true']);

    const maxActive = { seen: 0 };
    const complete = await finishPodsUntil(job, 'Succeeded', (j) => j.status?.conditions?.some((c) => c.type === 'Complete') ?? false, maxActive);
    assert.ok(maxActive.seen <= 2, `expected at most 2 active Pods at once, saw ${maxActive.seen}`);
    assert.equal((await podsOf(job)).length, 3);
    assert.equal(complete.status?.succeeded, 3);
    assert.equal(complete.status?.active, 0);
    assert.ok(complete.status?.startTime && complete.status.completionTime);
    assert.deepEqual(complete.status?.conditions?.map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message}`), [
      'SuccessCriteriaMet=True CompletionsReached: Reached expected number of succeeded pods',
      'Complete=True CompletionsReached: Reached expected number of succeeded pods',
    ]);
    await waitFor('the Completed event', () => running.events.some((e) => e.object === 'job/hello' && e.reason === 'Completed' && e.message === 'Job completed'));
    const created = running.events.filter((e) => e.object === 'job/hello' && e.reason === 'SuccessfulCreate');
    assert.equal(created.length, 3);
    assert.match(created[0]!.message, /^Created pod: hello-[a-z0-9]{5}$/);
  });

  it('A Job whose Pods keep failing stops after backoffLimit with the BackoffLimitExceeded condition.', async () => {
    const job = await createJob('doomed', { completions: 1, backoffLimit: 2 });
    const failed = await finishPodsUntil(job, 'Failed', (j) => j.status?.conditions?.some((c) => c.type === 'Failed') ?? false, { seen: 0 });
    assert.equal(failed.status?.failed, 3);
    assert.equal(failed.status?.active, 0);
    assert.equal((await podsOf(job)).length, 3, 'expected the first try and two retries, no more');
    const condition = failed.status?.conditions?.find((c) => c.type === 'Failed');
    assert.equal(condition?.reason, 'BackoffLimitExceeded');
    assert.equal(condition?.message, 'Job has reached the specified backoff limit');
    assert.ok(failed.status?.conditions?.some((c) => c.type === 'FailureTarget'));
    await waitFor('the BackoffLimitExceeded event', () => running.events.some((e) => e.object === 'job/doomed' && e.type === 'Warning' && e.reason === 'BackoffLimitExceeded'));
  });

  it('A Job without completions creates no Pod after the first success and completes once the others have stopped.', async () => {
    const job = await createJob('surplus', { parallelism: 2 });
    const pods = await waitFor('2 Pods', async () => {
      const p = await podsOf(job);
      return p.length >= 2 ? p : undefined;
    });
    await setPodStatus(cluster.admin, 'default', pods[0]!.metadata.name ?? '', { phase: 'Running', ready: true });
    await setPodStatus(cluster.admin, 'default', pods[1]!.metadata.name ?? '', { phase: 'Succeeded' });
    // Without completions the Job ends when one Pod succeeded and the rest have stopped; the test stops the other.
    await setPodStatus(cluster.admin, 'default', pods[0]!.metadata.name ?? '', { phase: 'Succeeded' });
    const done = await waitFor('Job surplus complete', async () => {
      const j = await jobNamed('surplus');
      return j.status?.conditions?.some((c) => c.type === 'Complete') ? j : undefined;
    });
    assert.equal(done.status?.succeeded, 2);
    assert.equal((await podsOf(job)).length, 2, 'expected no Pod created after the first success');
  });
});
