/**
 * Checks for chapter 3's exercises. Each exercise is checked on its own and
 * then inside the real ReplicaSet and Deployment controllers, which run the
 * learner's function against an in-process API server: "it passes" means
 * "the controllers keep the cluster as Kubernetes would with your code in
 * their reconcile". No kubelet runs here, so the checks play it, marking
 * Pods Running and Ready as an admin.
 */
import type { Deployment, LabelSelector, Pod, ReplicaSet } from '../../api/types.ts';
import { TokenAuthenticator } from '../../apiserver/auth.ts';
import { ADMIN } from '../../apiserver/bootstrap.ts';
import { startApiServer } from '../../apiserver/server.ts';
import { isConflict, KubeClient, realClock } from '../../client/client.ts';
import { MemoryEventRecorder } from '../../client/events.ts';
import type { ControllerContext } from '../../controllers/controller.ts';
import { DeploymentController } from '../../controllers/deployment.ts';
import { InformerFactory, RESOURCE } from '../../controllers/informers.ts';
import { ReplicaSetController } from '../../controllers/replicaset.ts';
import type { RollingUpdateInput, RollingUpdateStep } from '../../controllers/rollout.ts';
import { referenceSeams, type ControllerSeams } from '../../controllers/seams.ts';
import { podInState as pod } from '../../controllers/test-helpers.ts';
import { openStore } from '../../store/store.ts';
import { CheckFailure, expectEqual, expectTrue, show } from '../expect.ts';
import { noticeTodos } from '../todo.ts';
import type { Check } from './types.ts';

type ManageReplicas = (desired: number, pods: readonly Pod[]) => { create: number; remove: Pod[] };
type SelectorMatches = (selector: LabelSelector | undefined, labels: Record<string, string> | undefined) => boolean;
type RollingUpdateStepFn = (input: RollingUpdateInput) => RollingUpdateStep;

/** The exercise's function, or a clear failure when the file does not export it. */
function fn<T>(impl: Record<string, unknown>, name: string): T {
  const f = impl[name];
  if (typeof f !== 'function') throw new CheckFailure(`expected the file to export a function named ${name}, got ${show(f)}`);
  return f as T;
}

/** What a check running the controllers gets. */
interface Controllers {
  client: KubeClient;
  /** Polls until `probe` returns something truthy; fails with `what` after a generous timeout, or at once with the TODO of an untouched stub. */
  until<T>(what: string, probe: () => Promise<T | undefined | false>): Promise<T>;
  /** Active (not terminating) Pods with label app=`app`. */
  pods(app: string): Promise<Pod[]>;
  /** Plays the kubelet: from now on every Pod is marked Running and Ready (or no longer, with false). */
  markReady(on: boolean): void;
}

/**
 * Runs `body` against a fresh in-memory store and API server with the
 * ReplicaSet and Deployment controllers running the given seams. A stub's
 * TODO thrown inside a reconcile would only be retried for ever; it is
 * caught on the way and re-thrown here, so the grader reports the exercise
 * as not started rather than timed out.
 */
async function withControllers(given: Partial<ControllerSeams>, body: (c: Controllers) => Promise<void>): Promise<void> {
  const { wrapped, seen } = noticeTodos(given);
  const seams: ControllerSeams = { ...referenceSeams, ...wrapped };
  const store = await openStore();
  const authenticator = new TokenAuthenticator();
  authenticator.add('admin-token', ADMIN);
  const server = await startApiServer({ backend: store, authenticator, compactionIntervalMs: 0 });
  const client = new KubeClient({ server: server.url, token: 'admin-token' });
  const informers = new InformerFactory(client, { clock: realClock });
  const ctx: ControllerContext = { client, informers, recorder: new MemoryEventRecorder(), clock: realClock, trace: () => {} };
  const options = { seams, nodeMonitorGracePeriodMs: 40_000, nodeMonitorPeriodMs: 5_000 };
  const controllers = [new ReplicaSetController(ctx, options), new DeploymentController(ctx, options)];
  informers.start();
  await informers.waitForSync();
  for (const c of controllers) c.run(2);
  let ready = false;
  let stopped = false;
  const kubelet = (async () => {
    while (!stopped) {
      if (ready) await markAllReady(client);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  const pods = async (app: string) => (await client.list<Pod>(RESOURCE.pods, { namespace: 'default', labelSelector: `app=${app}` })).items.filter((p) => !p.metadata.deletionTimestamp);
  const until = async <T>(what: string, probe: () => Promise<T | undefined | false>): Promise<T> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const todo = seen();
        if (todo) throw todo;
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline) throw new CheckFailure(`expected ${what} within 20 s, but it did not happen`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  try {
    await body({ client, until, pods, markReady: (on) => (ready = on) });
  } catch (error) {
    throw seen() ?? error;
  } finally {
    stopped = true;
    await kubelet;
    await Promise.all(controllers.map((c) => c.stop()));
    await informers.stop();
    client.close();
    await server.close();
    await store.close();
  }
}

/** Marks every Pod that is not yet Ready as Running and Ready, as a kubelet would once its containers start. */
async function markAllReady(client: KubeClient): Promise<void> {
  const list = await client.list<Pod>(RESOURCE.pods, { namespace: 'default' }).catch(() => ({ items: [] as Pod[] }));
  for (const pod of list.items) {
    if (pod.metadata.deletionTimestamp || pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const status = { ...pod.status, phase: 'Running' as const, conditions: [{ type: 'Ready', status: 'True' as const, lastTransitionTime: now }] };
    await client.updateStatus(RESOURCE.pods, { ...pod, status }).catch((error: unknown) => {
      // Why ignore conflicts and deletions: the next round sees the Pod as it is now.
      if (!isConflict(error) && !(error instanceof Error && /not found/i.test(error.message))) throw error;
    });
  }
}


function replicaSet(name: string, replicas: number): ReplicaSet {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default' },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'nginx' }] } } },
  };
}

function deletedFirst(manage: ManageReplicas, pods: Pod[]): string | undefined {
  return manage(pods.length - 1, pods).remove.map((p) => p.metadata.name)[0];
}

const step = (change: Partial<RollingUpdateInput>): RollingUpdateInput => ({ replicas: 4, maxSurge: 1, maxUnavailable: 0, newReplicas: 0, newAvailable: 0, oldReplicas: 4, oldAvailable: 4, ...change });

export const checks: Record<string, Check[]> = {
  '3.1': [
    {
      name: 'too few pods means create the difference and delete nothing',
      run(impl) {
        const manage = fn<ManageReplicas>(impl, 'manageReplicas');
        expectEqual(manage(3, []), { create: 3, remove: [] }, 'the diff for 3 wanted and none there');
        expectEqual(manage(3, [pod('a')]), { create: 2, remove: [] }, 'the diff for 3 wanted and 1 there');
        expectEqual(manage(2, [pod('a'), pod('b')]), { create: 0, remove: [] }, 'the diff for 2 wanted and 2 there');
      },
    },
    {
      name: 'too many pods: the unassigned, pending, not-ready, restarting and newest go first',
      run(impl) {
        const manage = fn<ManageReplicas>(impl, 'manageReplicas');
        expectEqual(deletedFirst(manage, [pod('on-node', { node: 'n' }), pod('nowhere')]), 'nowhere', 'the pod deleted between one on a node and one on none');
        expectEqual(deletedFirst(manage, [pod('running', { node: 'n', phase: 'Running' }), pod('pending', { node: 'n' })]), 'pending', 'the pod deleted between a Running and a Pending one');
        expectEqual(deletedFirst(manage, [pod('running', { node: 'n', phase: 'Running' }), pod('unknown', { node: 'n', phase: 'Unknown' })]), 'unknown', 'the pod deleted between a Running and an Unknown one');
        expectEqual(deletedFirst(manage, [pod('ready', { node: 'n', phase: 'Running', ready: true }), pod('not-ready', { node: 'n', phase: 'Running' })]), 'not-ready', 'the pod deleted between a ready and a not-ready one');
        expectEqual(deletedFirst(manage, [pod('calm', { node: 'n', phase: 'Running', ready: true }), pod('crashy', { node: 'n', phase: 'Running', ready: true, restarts: 4 })]), 'crashy', 'the pod deleted between 0 and 4 restarts');
        expectEqual(deletedFirst(manage, [pod('old', { created: '2026-01-01T00:00:00Z' }), pod('new', { created: '2026-02-01T00:00:00Z' })]), 'new', 'the pod deleted between an old and a new one');
        const five = ['a', 'b', 'c', 'd', 'e'].map((n) => pod(n));
        const diff = manage(2, five);
        expectEqual([diff.create, diff.remove.length], [0, 3], 'create and the number removed for 2 wanted and 5 there');
      },
    },
    {
      name: 'the array passed in is left as it was',
      run(impl) {
        const manage = fn<ManageReplicas>(impl, 'manageReplicas');
        const pods = [pod('a', { node: 'n' }), pod('b')];
        manage(1, Object.freeze([...pods]));
        expectEqual(pods.map((p) => p.metadata.name), ['a', 'b'], 'the order of the pods given');
      },
    },
    {
      name: 'inside the ReplicaSet controller: 3 replicas get 3 pods, a deleted pod is replaced, scaling down deletes the pending pod first',
      async run(impl) {
        await withControllers({ manageReplicas: fn<ManageReplicas>(impl, 'manageReplicas') }, async ({ client, until, pods }) => {
          await client.create(RESOURCE.replicasets, replicaSet('backend', 3));
          const first = await until('3 pods for the ReplicaSet backend', async () => ((await pods('backend')).length === 3 ? pods('backend') : false));
          expectTrue(first.every((p) => p.metadata.ownerReferences?.[0]?.name === 'backend'), `expected every pod to be owned by backend, got ${show(first.map((p) => p.metadata.ownerReferences))}`);
          await client.delete(RESOURCE.pods, 'default', first[0]!.metadata.name ?? '');
          await until('the deleted pod to be replaced', async () => {
            const now = await pods('backend');
            return now.length === 3 && !now.some((p) => p.metadata.name === first[0]!.metadata.name);
          });
          await new Promise((resolve) => setTimeout(resolve, 200));
          const three = await pods('backend');
          expectEqual(three.length, 3, 'the number of pods a moment later (never more than asked)');
          // Two pods become Running and Ready, and the last one to change stays Pending and not ready: it is the one to go.
          const pending = three.find((p) => p.metadata.name !== first[0]!.metadata.name && first.some((f) => f.metadata.name === p.metadata.name))!;
          for (const p of three.filter((p) => p !== pending)) {
            await client.updateStatus(RESOURCE.pods, { ...p, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
          }
          await client.updateStatus(RESOURCE.pods, { ...pending, status: { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }] } });
          await until('the ReplicaSet to count 2 ready pods', async () => (await client.get<ReplicaSet>(RESOURCE.replicasets, 'default', 'backend')).status?.readyReplicas === 2);
          await client.patch(RESOURCE.replicasets, 'default', 'backend', { spec: { replicas: 2 } }, 'merge');
          const left = await until('2 pods left after scaling to 2', async () => ((await pods('backend')).length === 2 ? pods('backend') : false));
          expectTrue(!left.some((p) => p.metadata.name === pending.metadata.name), `expected the Pending pod ${pending.metadata.name} to be deleted, got ${show(left.map((p) => p.metadata.name))} left`);
        });
      },
    },
  ],
  '3.2': [
    {
      name: 'matchLabels needs every label, with the same value',
      run(impl) {
        const matches = fn<SelectorMatches>(impl, 'selectorMatches');
        const labels = { app: 'backend', tier: 'api' };
        expectEqual(matches({ matchLabels: { app: 'backend' } }, labels), true, 'app=backend against {app: backend, tier: api}');
        expectEqual(matches({ matchLabels: { app: 'backend', tier: 'api' } }, labels), true, 'app=backend,tier=api');
        expectEqual(matches({ matchLabels: { app: 'backend', tier: 'db' } }, labels), false, 'app=backend,tier=db');
        expectEqual(matches({ matchLabels: { zone: 'a' } }, labels), false, 'zone=a on pods without zone');
        expectEqual(matches({ matchLabels: { app: 'backend' } }, undefined), false, 'app=backend on a pod without labels');
      },
    },
    {
      name: 'In, NotIn, Exists and DoesNotExist decide as Kubernetes does',
      run(impl) {
        const matches = fn<SelectorMatches>(impl, 'selectorMatches');
        const labels = { app: 'backend', tier: 'api' };
        const cases: Array<[LabelSelector, boolean, string]> = [
          [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['api', 'web'] }] }, true, 'tier In (api, web)'],
          [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['db'] }] }, false, 'tier In (db)'],
          [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, false, 'zone In (a) without zone'],
          [{ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] }, true, 'tier NotIn (db)'],
          [{ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['api'] }] }, false, 'tier NotIn (api)'],
          [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, true, 'zone NotIn (a) without zone'],
          [{ matchExpressions: [{ key: 'app', operator: 'Exists' }] }, true, 'app Exists'],
          [{ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, false, 'zone Exists'],
          [{ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, true, 'zone DoesNotExist'],
          [{ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false, 'app DoesNotExist'],
          [{ matchLabels: { app: 'backend' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['db'] }] }, false, 'app=backend and tier In (db) (both parts must hold)'],
        ];
        for (const [selector, expected, text] of cases) expectEqual(matches(selector, labels), expected, `whether {app: backend, tier: api} matches ${text}`);
      },
    },
    {
      name: 'an empty selector matches everything and a missing one matches nothing',
      run(impl) {
        const matches = fn<SelectorMatches>(impl, 'selectorMatches');
        expectEqual(matches({}, { app: 'x' }), true, 'the empty selector {} against {app: x}');
        expectEqual(matches({}, undefined), true, 'the empty selector {} against a pod without labels');
        expectEqual(matches(undefined, { app: 'x' }), false, 'a missing selector against {app: x}');
      },
    },
    {
      name: 'inside the ReplicaSet controller: a pod with matching labels is adopted and counted, pods with other labels are left alone',
      async run(impl) {
        await withControllers({ selectorMatches: fn<SelectorMatches>(impl, 'selectorMatches') }, async ({ client, until, pods }) => {
          const stray = (name: string, labels: Record<string, string>): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels }, spec: { containers: [{ name: 'app', image: 'nginx' }] } });
          await client.create(RESOURCE.pods, stray('stray', { app: 'backend', tier: 'api' }));
          await client.create(RESOURCE.pods, stray('stranger', { app: 'frontend' }));
          await client.create(RESOURCE.pods, stray('database', { app: 'backend', tier: 'db' }));
          const rs = replicaSet('backend', 2);
          rs.spec.selector = { matchLabels: { app: 'backend' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['api'] }] };
          rs.spec.template!.metadata!.labels = { app: 'backend', tier: 'api' };
          await client.create(RESOURCE.replicasets, rs);
          await until('the ReplicaSet to report 2 replicas', async () => (await client.get<ReplicaSet>(RESOURCE.replicasets, 'default', 'backend')).status?.replicas === 2);
          const adopted = await client.get<Pod>(RESOURCE.pods, 'default', 'stray');
          expectEqual(adopted.metadata.ownerReferences?.map((r) => [r.kind, r.name, r.controller]), [['ReplicaSet', 'backend', true]], 'the owner references of the matching orphan');
          expectEqual((await pods('backend')).filter((p) => p.metadata.labels?.tier === 'api').length, 2, 'the pods labelled app=backend, tier=api (the adopted one and one created)');
          const stranger = await client.get<Pod>(RESOURCE.pods, 'default', 'stranger');
          expectEqual(stranger.metadata.ownerReferences ?? [], [], 'the owner references of the pod labelled app=frontend');
          const database = await client.get<Pod>(RESOURCE.pods, 'default', 'database');
          expectEqual(database.metadata.ownerReferences ?? [], [], 'the owner references of the pod labelled app=backend, tier=db (tier In (api) does not hold)');
        });
      },
    },
  ],
  '3.3': [
    {
      name: 'percentages: surge rounds up, unavailable rounds down, both zero means one unavailable',
      run(impl) {
        const stepFn = fn<RollingUpdateStepFn>(impl, 'rollingUpdateStep');
        expectEqual(stepFn(step({ replicas: 10, maxSurge: '25%', maxUnavailable: '25%', oldReplicas: 10, oldAvailable: 10 })), { newReplicas: 3, scaleDownOld: 2 }, 'the first step of 10 replicas with 25%/25% (surge 3, unavailable 2)');
        expectEqual(stepFn(step({ replicas: 3, maxSurge: '25%', maxUnavailable: '25%', oldReplicas: 3, oldAvailable: 3 })), { newReplicas: 1, scaleDownOld: 0 }, 'the first step of 3 replicas with 25%/25% (surge 1, unavailable 0)');
        expectEqual(stepFn(step({ maxSurge: 0, maxUnavailable: 0 })), { newReplicas: 0, scaleDownOld: 1 }, 'the first step of 4 replicas with maxSurge 0 and maxUnavailable 0');
      },
    },
    {
      name: 'a step grows the new ReplicaSet by the surge and removes old pods only while enough stay available',
      run(impl) {
        const stepFn = fn<RollingUpdateStepFn>(impl, 'rollingUpdateStep');
        const cases: Array<[Partial<RollingUpdateInput>, RollingUpdateStep, string]> = [
          [{ oldReplicas: 0, oldAvailable: 0 }, { newReplicas: 4, scaleDownOld: 0 }, 'a new Deployment of 4'],
          [{}, { newReplicas: 1, scaleDownOld: 0 }, 'the start of a rollout of 4 with surge 1, unavailable 0'],
          [{ newReplicas: 1 }, { newReplicas: 1, scaleDownOld: 0 }, 'one new pod, not yet available'],
          [{ newReplicas: 1, newAvailable: 1 }, { newReplicas: 1, scaleDownOld: 1 }, 'one new pod, available'],
          [{ newReplicas: 1, newAvailable: 1, oldReplicas: 3, oldAvailable: 3 }, { newReplicas: 2, scaleDownOld: 0 }, 'one new available pod and 3 old (grow again; none may go yet)'],
          [{ maxSurge: 0, maxUnavailable: 1 }, { newReplicas: 0, scaleDownOld: 1 }, 'the start of a rollout with surge 0, unavailable 1'],
          [{ newReplicas: 1, newAvailable: 1, oldAvailable: 2 }, { newReplicas: 1, scaleDownOld: 1 }, 'two old pods unavailable: one may go'],
          [{ replicas: 2, newReplicas: 4, newAvailable: 4, oldReplicas: 0, oldAvailable: 0 }, { newReplicas: 2, scaleDownOld: 0 }, 'a Deployment scaled from 4 to 2'],
          [{ newReplicas: 4, newAvailable: 4, oldReplicas: 0, oldAvailable: 0 }, { newReplicas: 4, scaleDownOld: 0 }, 'a finished rollout'],
        ];
        for (const [change, expected, text] of cases) expectEqual(stepFn(step(change)), expected, `the step for ${text}`);
      },
    },
    {
      name: 'inside the Deployment controller: a rolling update of 4 with maxSurge 1 / maxUnavailable 0 never has more than 5 pods and ends with 4 new ones',
      async run(impl) {
        await withControllers({ rollingUpdateStep: fn<RollingUpdateStepFn>(impl, 'rollingUpdateStep') }, async ({ client, until, pods, markReady }) => {
          markReady(true);
          const d: Deployment = {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: 'web', namespace: 'default' },
            spec: { replicas: 4, selector: { matchLabels: { app: 'web' } }, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.14.2' }] } } },
          };
          await client.create(RESOURCE.deployments, d);
          const finished = (image: string) => async () => {
            const now = await pods('web');
            const got = await client.get<Deployment>(RESOURCE.deployments, 'default', 'web');
            return now.length === 4 && now.every((p) => p.spec.containers[0]?.image === image) && got.status?.availableReplicas === 4 && got.status.updatedReplicas === 4;
          };
          await until('4 available pods of nginx:1.14.2', finished('nginx:1.14.2'));
          let most = 0;
          let watching = true;
          const watcher = (async () => {
            while (watching) {
              most = Math.max(most, (await pods('web')).length);
              await new Promise((resolve) => setTimeout(resolve, 5));
            }
          })();
          try {
            await client.patch(RESOURCE.deployments, 'default', 'web', { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.16.1' }] } } } }, 'strategic');
            await until('4 available pods of nginx:1.16.1 and no old ones', finished('nginx:1.16.1'));
          } finally {
            watching = false;
            await watcher;
          }
          expectTrue(most <= 5, `expected at most 4 + maxSurge 1 = 5 pods at any time, got ${most}`);
          expectTrue(most >= 4, `expected the rollout to have been watched (at least 4 pods seen), got ${most}`);
        });
      },
    },
  ],
};
