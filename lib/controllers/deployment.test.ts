import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createActor, fromPromise, toPromise } from 'xstate';
import type { Deployment, Pod, ReplicaSet } from '../api/types.ts';
import type { KubeClient } from '../client/client.ts';
import { DeploymentController } from './deployment.ts';
import { RESOURCE } from './informers.ts';
import { isPodActive, isPodReady } from './pod-control.ts';
import { ReplicaSetController } from './replicaset.ts';
import { rolloutMachine, type CleanUpInput, type CreateReplicaSetInput, type ScaleInput, type StatusInput, type SyncRevisionInput } from './rollout-machine.ts';
import { computeHash, fnv32a, planScaleDown, proportionalScale, resolveFenceposts, rollingUpdateStep, type RollingUpdateInput } from './rollout.ts';
import { referenceSeams } from './seams.ts';
import { requireTool } from '../workbook/realmode.ts';
import { kubectlFor, rows, type Kubectl } from '../../test/helpers/kubectl.ts';
import { runController, setPodStatus, startControllerTestCluster, waitFor, type ControllerTestCluster, type RunningTestController } from './test-helpers.ts';

describe('the arithmetic of a rolling update', () => {
  const fenceposts: Array<[string, number | string, number | string, number, { surge: number; unavailable: number }]> = [
    ['integers are taken as they are', 1, 0, 4, { surge: 1, unavailable: 0 }],
    ['25% of 10 is a surge of 3 (rounded up) and 2 unavailable (rounded down)', '25%', '25%', 10, { surge: 3, unavailable: 2 }],
    ['25% of 3 is a surge of 1 and 0 unavailable', '25%', '25%', 3, { surge: 1, unavailable: 0 }],
    ['both zero becomes one unavailable, so a step is possible', 0, 0, 5, { surge: 0, unavailable: 1 }],
    ['0% of anything with 0 unavailable also becomes one unavailable', '0%', 0, 5, { surge: 0, unavailable: 1 }],
  ];
  for (const [name, surge, unavailable, replicas, expected] of fenceposts) {
    it(name, () => assert.deepEqual(resolveFenceposts(surge, unavailable, replicas), expected));
  }

  const base: RollingUpdateInput = { replicas: 4, maxSurge: 1, maxUnavailable: 0, newReplicas: 0, newAvailable: 0, oldReplicas: 4, oldAvailable: 4 };
  const steps: Array<[string, Partial<RollingUpdateInput>, { newReplicas: number; scaleDownOld: number }]> = [
    ['a fresh Deployment gets all its replicas at once', { oldReplicas: 0, oldAvailable: 0 }, { newReplicas: 4, scaleDownOld: 0 }],
    ['surge 1 / unavailable 0 starts by adding one new pod and removing none', {}, { newReplicas: 1, scaleDownOld: 0 }],
    ['with the new pod not yet available, nothing old may go', { newReplicas: 1 }, { newReplicas: 1, scaleDownOld: 0 }],
    ['once the new pod is available, one old pod may go', { newReplicas: 1, newAvailable: 1 }, { newReplicas: 1, scaleDownOld: 1 }],
    ['surge 0 / unavailable 1 removes an old pod first', { maxSurge: 0, maxUnavailable: 1 }, { newReplicas: 0, scaleDownOld: 1 }],
    ['surge 0 / unavailable 1 grows the new set into the room the old pod left', { maxSurge: 0, maxUnavailable: 1, oldReplicas: 3, oldAvailable: 3 }, { newReplicas: 1, scaleDownOld: 0 }],
    ['an unavailable old pod may go even when availability is already below the minimum', { newReplicas: 1, newAvailable: 1, oldAvailable: 2 }, { newReplicas: 1, scaleDownOld: 1 }],
    ['25%/25% of 10 surges by 3 and lets 2 go at the start', { replicas: 10, maxSurge: '25%', maxUnavailable: '25%', oldReplicas: 10, oldAvailable: 10 }, { newReplicas: 3, scaleDownOld: 2 }],
    ['a new set larger than the spec (a scale-down) is brought back to it', { replicas: 2, newReplicas: 4, newAvailable: 4, oldReplicas: 0, oldAvailable: 0 }, { newReplicas: 2, scaleDownOld: 0 }],
    ['a finished rollout takes no step', { newReplicas: 4, newAvailable: 4, oldReplicas: 0, oldAvailable: 0 }, { newReplicas: 4, scaleDownOld: 0 }],
  ];
  for (const [name, change, expected] of steps) {
    it(name, () => assert.deepEqual(rollingUpdateStep({ ...base, ...change }), expected));
  }

  it('proportional scaling shares an increase by size, leftovers to the largest', () => {
    const sets = [
      { name: 'old', replicas: 8, created: '2026-01-01' },
      { name: 'new', replicas: 4, created: '2026-01-02' },
    ];
    assert.deepEqual(Object.fromEntries(proportionalScale(sets, 22)), { old: 15, new: 7 });
    assert.deepEqual(Object.fromEntries(proportionalScale(sets, 13)), { old: 9, new: 4 });
    assert.deepEqual(Object.fromEntries(proportionalScale(sets, 6)), { old: 4, new: 2 });
    assert.deepEqual(Object.fromEntries(proportionalScale(sets, 12)), { old: 8, new: 4 });
  });

  it('removals are spread over unavailable pods first, then the oldest ReplicaSets', () => {
    const plan = planScaleDown(
      [
        { name: 'v2', replicas: 2, available: 1, created: '2026-01-02' },
        { name: 'v1', replicas: 3, available: 3, created: '2026-01-01' },
      ],
      3,
    );
    assert.deepEqual(Object.fromEntries(plan), { v2: 1, v1: 1 });
  });
});

describe('the pod-template hash', () => {
  const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.14.2' }] } };

  it('FNV-32a gives the published test vectors', () => {
    assert.equal(fnv32a(new TextEncoder().encode('')), 0x811c9dc5);
    assert.equal(fnv32a(new TextEncoder().encode('a')), 0xe40c292c);
    assert.equal(fnv32a(new TextEncoder().encode('foobar')), 0xbf9cf968);
  });

  it('is made of the safe alphabet, up to ten characters, and the same every time', () => {
    const hash = computeHash(template);
    assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    assert.equal(computeHash(structuredClone(template)), hash);
  });

  it('does not depend on the order fields were written in', () => {
    assert.equal(computeHash({ spec: template.spec, metadata: template.metadata }), computeHash(template));
  });

  it('treats null, {} and [] fields as absent, as Go does (kubectl rollout undo sends creationTimestamp: null and resources: {})', () => {
    const sent = { metadata: { ...template.metadata, creationTimestamp: null as unknown as string }, spec: { containers: [{ ...template.spec.containers[0]!, resources: {}, env: [] }] } };
    assert.equal(computeHash(sent), computeHash(template));
  });

  it('changes with the template and with the collision count', () => {
    const other = { ...template, spec: { containers: [{ name: 'web', image: 'nginx:1.16.1' }] } };
    assert.notEqual(computeHash(other), computeHash(template));
    assert.notEqual(computeHash(template, 1), computeHash(template));
  });
});

function deployment(name: string, replicas: number, image: string, strategy: Deployment['spec']['strategy'] = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, generation: 1 },
    spec: { replicas, selector: { matchLabels: { app: name } }, strategy, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image }] } } },
  };
}

describe('the rollout machine with its writes replaced', () => {
  /** Runs one reconcile against in-memory actors and returns the writes it asked for. */
  async function reconcileOnce(d: Deployment, replicaSets: ReplicaSet[], pods: Record<string, { active: number; available: number }>) {
    const writes: string[] = [];
    const machine = rolloutMachine.provide({
      actors: {
        createReplicaSet: fromPromise<ReplicaSet, CreateReplicaSetInput>(async ({ input }) => {
          writes.push(`create new with ${input.replicas}`);
          return { ...replicaSets[0]!, metadata: { name: 'new' }, spec: { ...replicaSets[0]?.spec, replicas: input.replicas } } as ReplicaSet;
        }),
        syncRevision: fromPromise<ReplicaSet, SyncRevisionInput>(async ({ input }) => input.newRS),
        scaleReplicaSets: fromPromise<void, ScaleInput>(async ({ input }) => {
          for (const c of input.changes) writes.push(`scale ${c.rs.metadata.name} to ${c.replicas}`);
        }),
        cleanUp: fromPromise<void, CleanUpInput>(async () => {
          writes.push('clean up');
        }),
        updateStatus: fromPromise<Deployment['status'], StatusInput>(async () => ({ replicas: 0 })),
      },
    });
    const actor = createActor(machine, { input: { deployment: d, replicaSets, pods } }).start();
    const output = await toPromise(actor);
    return { writes, output };
  }

  function rsFor(d: Deployment, name: string, replicas: number, image?: string): ReplicaSet {
    const template = structuredClone(d.spec.template);
    if (image) template.spec.containers[0]!.image = image;
    const annotations = { 'deployment.kubernetes.io/desired-replicas': String(d.spec.replicas) };
    return { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name, namespace: 'default', annotations, creationTimestamp: `2026-01-0${name.length}T00:00:00Z` }, spec: { replicas, selector: d.spec.selector, template } };
  }

  it('a Deployment without a ReplicaSet of its template creates one', async () => {
    const d = deployment('web', 3, 'nginx:2');
    const { writes } = await reconcileOnce(d, [], {});
    assert.deepEqual(writes, ['create new with 3']);
  });

  it('a rolling update grows the new ReplicaSet by the surge first', async () => {
    const d = deployment('web', 3, 'nginx:2');
    const { writes } = await reconcileOnce(d, [rsFor(d, 'old', 3, 'nginx:1'), rsFor(d, 'new-rs', 0)], { old: { active: 3, available: 3 } });
    assert.deepEqual(writes, ['scale new-rs to 1']);
  });

  it('then shrinks the old one once the new pod is available', async () => {
    const d = deployment('web', 3, 'nginx:2');
    const { writes } = await reconcileOnce(d, [rsFor(d, 'old', 3, 'nginx:1'), rsFor(d, 'new-rs', 1)], { old: { active: 3, available: 3 }, 'new-rs': { active: 1, available: 1 } });
    assert.deepEqual(writes, ['scale old to 2']);
  });

  it('Recreate scales the old ReplicaSets to zero before anything else', async () => {
    const d = deployment('web', 3, 'nginx:2', { type: 'Recreate' });
    const { writes } = await reconcileOnce(d, [rsFor(d, 'old', 3, 'nginx:1')], { old: { active: 3, available: 3 } });
    assert.deepEqual(writes, ['scale old to 0']);
  });

  it('Recreate waits while old pods still run, then creates the new ReplicaSet at full size', async () => {
    const d = deployment('web', 3, 'nginx:2', { type: 'Recreate' });
    assert.deepEqual((await reconcileOnce(d, [rsFor(d, 'old', 0, 'nginx:1')], { old: { active: 1, available: 0 } })).writes, []);
    assert.deepEqual((await reconcileOnce(d, [rsFor(d, 'old', 0, 'nginx:1')], { old: { active: 0, available: 0 } })).writes, ['create new with 3']);
  });

  it('a paused Deployment does not roll out, but a finished one cleans up its history', async () => {
    const d = deployment('web', 3, 'nginx:2');
    d.spec.paused = true;
    assert.deepEqual((await reconcileOnce(d, [rsFor(d, 'old', 3, 'nginx:1')], { old: { active: 3, available: 3 } })).writes, ['clean up']);
  });

  it('kubectl scale in the middle of a rollout shares the new replicas between old and new ReplicaSets', async () => {
    const d = deployment('web', 10, 'nginx:2', { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 0 } });
    const old = rsFor(d, 'old', 8, 'nginx:1');
    const fresh = rsFor(d, 'new-rs', 4);
    d.spec.replicas = 20;
    const { writes } = await reconcileOnce(d, [old, fresh], { old: { active: 8, available: 8 }, 'new-rs': { active: 4, available: 2 } });
    // Allowed: 20 + surge 2 (10% of 20 rounded up) = 22, held: 12, so 10 more: 8/12 of it to old, 4/12 to new.
    assert.deepEqual(writes.sort(), ['scale new-rs to 7', 'scale old to 15']);
  });

  it('a write that fails ends the reconcile as failed, with the error', async () => {
    const machine = rolloutMachine.provide({
      actors: {
        createReplicaSet: fromPromise<ReplicaSet, CreateReplicaSetInput>(async () => {
          throw new Error('quota exceeded');
        }),
      },
    });
    const output = await toPromise(createActor(machine, { input: { deployment: deployment('web', 1, 'nginx'), replicaSets: [], pods: {} } }).start());
    assert.equal(output.outcome, 'failed');
    assert.match(String(output.error), /quota exceeded/);
  });
});

// ---- against a real API server -------------------------------------------------

/** Plays the kubelet for every Pod: marks it Running and Ready as soon as it appears, until stopped or paused. */
function startReadyMarker(client: KubeClient, namespace = 'default'): { pause(value: boolean): void; stop(): Promise<void> } {
  let stopped = false;
  let paused = false;
  const loop = (async () => {
    while (!stopped) {
      if (!paused) {
        const pods = (await client.list<Pod>(RESOURCE.pods, { namespace }).catch(() => ({ items: [] as Pod[] }))).items;
        for (const pod of pods.filter((p) => isPodActive(p) && !isPodReady(p))) {
          await setPodStatus(client, namespace, pod.metadata.name ?? '', { phase: 'Running', ready: true }).catch(() => undefined);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
  })();
  return {
    pause: (value) => (paused = value),
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

describe('the Deployment and ReplicaSet controllers against an API server', () => {
  let cluster: ControllerTestCluster;
  let deployments: RunningTestController<DeploymentController>;
  let replicaSets: RunningTestController<ReplicaSetController>;
  let marker: ReturnType<typeof startReadyMarker>;

  before(async () => {
    cluster = await startControllerTestCluster();
    deployments = await runController(cluster, (ctx, options) => new DeploymentController(ctx, options), { seams: referenceSeams });
    replicaSets = await runController(cluster, (ctx, options) => new ReplicaSetController(ctx, options), { seams: referenceSeams });
    marker = startReadyMarker(cluster.admin);
  });
  after(async () => {
    await marker?.stop();
    await deployments?.stop();
    await replicaSets?.stop();
    await cluster?.stop();
  });

  const getD = (name: string) => cluster.admin.get<Deployment>(RESOURCE.deployments, 'default', name);
  const rsList = async (app: string) => (await cluster.admin.list<ReplicaSet>(RESOURCE.replicasets, { namespace: 'default', labelSelector: `app=${app}` })).items;
  const activePods = async (app: string) => (await cluster.admin.list<Pod>(RESOURCE.pods, { namespace: 'default', labelSelector: `app=${app}` })).items.filter(isPodActive);
  const complete = (name: string) =>
    waitFor(`deployment ${name} to finish rolling out`, async () => {
      const d = await getD(name);
      const s = d.status;
      const replicas = d.spec.replicas ?? 1;
      return (s?.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) && s?.updatedReplicas === replicas && s.replicas === replicas && s.availableReplicas === replicas ? d : false;
    });
  /** Watches the app's active pods and remembers the most seen at once. */
  function trackMax(app: string, images?: (pods: Pod[]) => void) {
    let max = 0;
    let stopped = false;
    const loop = (async () => {
      while (!stopped) {
        const pods = await activePods(app);
        max = Math.max(max, pods.length);
        images?.(pods);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    return { stop: async () => ((stopped = true), await loop, max) };
  }

  it('a Deployment makes a ReplicaSet <name>-<hash> with the hash label, annotations and owner, and its pods', async () => {
    const created = await cluster.admin.create(RESOURCE.deployments, { ...deployment('web', 3, 'nginx:1.14.2'), metadata: { name: 'web', namespace: 'default' } as Deployment['metadata'] });
    const d = await complete('web');
    const [rs] = await rsList('web');
    assert.ok(rs, 'expected one ReplicaSet');
    const hash = rs.metadata.labels?.['pod-template-hash'] ?? '';
    assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    assert.equal(rs.metadata.name, `web-${hash}`);
    assert.equal(rs.spec.selector.matchLabels?.['pod-template-hash'], hash);
    assert.equal(rs.spec.template?.metadata?.labels?.['pod-template-hash'], hash);
    assert.deepEqual(rs.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: created.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    assert.equal(rs.metadata.annotations?.['deployment.kubernetes.io/revision'], '1');
    assert.equal(rs.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'], '3');
    assert.equal(rs.metadata.annotations?.['deployment.kubernetes.io/max-replicas'], '4');
    assert.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '1');
    const pods = await activePods('web');
    assert.equal(pods.length, 3);
    assert.ok(pods.every((p) => p.metadata.labels?.['pod-template-hash'] === hash && p.metadata.name?.startsWith(`web-${hash}-`)));
    assert.ok(deployments.events.some((e) => e.reason === 'ScalingReplicaSet' && e.message === `Scaled up replica set web-${hash} from 0 to 3`));
    const available = d.status?.conditions?.find((c) => c.type === 'Available');
    const progressing = d.status?.conditions?.find((c) => c.type === 'Progressing');
    assert.deepEqual([available?.status, available?.reason], ['True', 'MinimumReplicasAvailable']);
    assert.deepEqual([progressing?.status, progressing?.reason, progressing?.message], ['True', 'NewReplicaSetAvailable', `ReplicaSet "web-${hash}" has successfully progressed.`]);
    assert.equal(d.status?.unavailableReplicas, 0);
  });

  it('a new image rolls out with maxSurge 1 / maxUnavailable 0: never more than 4 pods, ending with 3 new ones at revision 2', async () => {
    const tracker = trackMax('web');
    await cluster.admin.patch(RESOURCE.deployments, 'default', 'web', { spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:1.16.1' }] } } } }, 'strategic');
    const d = await complete('web');
    const max = await tracker.stop();
    assert.ok(max <= 4, `expected at most 4 active pods at once, got ${max}`);
    const pods = await activePods('web');
    assert.deepEqual(pods.map((p) => p.spec.containers[0]?.image), ['nginx:1.16.1', 'nginx:1.16.1', 'nginx:1.16.1']);
    const sets = await rsList('web');
    assert.equal(sets.length, 2);
    const byRevision = Object.fromEntries(sets.map((rs) => [rs.metadata.annotations?.['deployment.kubernetes.io/revision'], rs.spec.replicas]));
    assert.deepEqual(byRevision, { '1': 0, '2': 3 });
    assert.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '2');
    assert.ok(deployments.events.some((e) => /^Scaled down replica set web-\w+ from 1 to 0$/.test(e.message)));
  });

  it('a rollback puts the old template back: its ReplicaSet is reused and becomes revision 3', async () => {
    const before = await rsList('web');
    const old = before.find((rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision'] === '1')!;
    await cluster.admin.patch(RESOURCE.deployments, 'default', 'web', { spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:1.14.2' }] } } } }, 'strategic');
    const d = await complete('web');
    const after = await rsList('web');
    assert.equal(after.length, 2, 'expected no third ReplicaSet');
    const reused = after.find((rs) => rs.metadata.name === old.metadata.name)!;
    assert.equal(reused.metadata.annotations?.['deployment.kubernetes.io/revision'], '3');
    assert.equal(reused.metadata.annotations?.['deployment.kubernetes.io/revision-history'], '1');
    assert.equal(reused.spec.replicas, 3);
    assert.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '3');
  });

  it('scaling the Deployment scales its ReplicaSet, up and down', async () => {
    await cluster.admin.patchScale(RESOURCE.deployments, 'default', 'web', 5);
    await complete('web');
    assert.equal((await activePods('web')).length, 5);
    await cluster.admin.patchScale(RESOURCE.deployments, 'default', 'web', 2);
    await complete('web');
    await waitFor('2 pods', async () => (await activePods('web')).length === 2);
  });

  it('Recreate stops every old pod before the first new one starts', async () => {
    await cluster.admin.create(RESOURCE.deployments, { ...deployment('batch', 2, 'busybox:1', { type: 'Recreate' }), metadata: { name: 'batch', namespace: 'default' } });
    await complete('batch');
    let mixed = false;
    const tracker = trackMax('batch', (pods) => {
      if (new Set(pods.map((p) => p.spec.containers[0]?.image)).size > 1) mixed = true;
    });
    await cluster.admin.patch(RESOURCE.deployments, 'default', 'batch', { spec: { template: { spec: { containers: [{ name: 'app', image: 'busybox:2' }] } } } }, 'strategic');
    await complete('batch');
    await tracker.stop();
    assert.equal(mixed, false, 'expected old and new pods never to be active together');
    assert.deepEqual((await activePods('batch')).map((p) => p.spec.containers[0]?.image), ['busybox:2', 'busybox:2']);
  });

  it('a paused Deployment makes no new ReplicaSet until resumed, and reports DeploymentPaused', async () => {
    await cluster.admin.patch(RESOURCE.deployments, 'default', 'web', { spec: { paused: true } }, 'merge');
    await cluster.admin.patch(RESOURCE.deployments, 'default', 'web', { spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:1.17' }] } } } }, 'strategic');
    const paused = await waitFor('the Progressing condition DeploymentPaused', async () => {
      const d = await getD('web');
      return d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason === 'DeploymentPaused' ? d : false;
    });
    assert.equal(paused.status?.conditions?.find((c) => c.type === 'Progressing')?.status, 'Unknown');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await rsList('web')).length, 2, 'expected no new ReplicaSet while paused');
    await cluster.admin.patch(RESOURCE.deployments, 'default', 'web', { spec: { paused: false } }, 'merge');
    await complete('web');
    assert.equal((await rsList('web')).length, 3);
  });

  it('scaling in the middle of a rollout grows old and new ReplicaSets in proportion, then the rollout finishes', async () => {
    await cluster.admin.create(RESOURCE.deployments, { ...deployment('mid', 4, 'nginx:1'), metadata: { name: 'mid', namespace: 'default' } as Deployment['metadata'] });
    await complete('mid');
    marker.pause(true);
    try {
      await cluster.admin.patch(RESOURCE.deployments, 'default', 'mid', { spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:2' }] } } } }, 'strategic');
      await waitFor('the new ReplicaSet at 1 (the surge), stuck on a pod that is not ready', async () => (await rsList('mid')).some((rs) => rs.spec.template?.spec.containers[0]?.image === 'nginx:2' && rs.spec.replicas === 1));
      await cluster.admin.patchScale(RESOURCE.deployments, 'default', 'mid', 8);
      // Allowed 8 + 1 = 9, held 4 + 1 = 5: the 4 more go 3 to the old ReplicaSet and 1 to the new one.
      await waitFor('old at 7 and new at 2', async () => {
        const sizes = Object.fromEntries((await rsList('mid')).map((rs) => [rs.spec.template?.spec.containers[0]?.image, rs.spec.replicas]));
        return sizes['nginx:1'] === 7 && sizes['nginx:2'] === 2;
      });
    } finally {
      marker.pause(false);
    }
    await complete('mid');
    const pods = await activePods('mid');
    assert.equal(pods.length, 8);
    assert.ok(pods.every((p) => p.spec.containers[0]?.image === 'nginx:2'));
  });

  it('a rollout whose pods never become ready reports ProgressDeadlineExceeded after progressDeadlineSeconds', async () => {
    // Why another namespace: the stand-in kubelet only serves default, so these pods stay Pending.
    await cluster.admin.create(RESOURCE.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'stuck' } });
    const d = deployment('stuck', 2, 'nginx:broken');
    await cluster.admin.create(RESOURCE.deployments, { ...d, metadata: { name: 'stuck', namespace: 'stuck' } as Deployment['metadata'], spec: { ...d.spec, progressDeadlineSeconds: 1 } });
    const stuck = await waitFor('the Progressing condition ProgressDeadlineExceeded', async () => {
      const got = await cluster.admin.get<Deployment>(RESOURCE.deployments, 'stuck', 'stuck');
      const c = got.status?.conditions?.find((x) => x.type === 'Progressing');
      return c?.reason === 'ProgressDeadlineExceeded' ? c : false;
    });
    assert.equal(stuck.status, 'False');
    assert.match(stuck.message ?? '', /^ReplicaSet "stuck-\w+" has timed out progressing\.$/);
  });

  it('old ReplicaSets beyond revisionHistoryLimit are deleted', async () => {
    await cluster.admin.patch(RESOURCE.deployments, 'default', 'web', { spec: { revisionHistoryLimit: 1 } }, 'merge');
    await waitFor('at most 2 ReplicaSets (the new one and one old)', async () => (await rsList('web')).length === 2);
    for (const image of ['nginx:1.18', 'nginx:1.19']) {
      await cluster.admin.patch(RESOURCE.deployments, 'default', 'web', { spec: { template: { spec: { containers: [{ name: 'app', image }] } } } }, 'strategic');
      await complete('web');
    }
    await waitFor('2 ReplicaSets', async () => (await rsList('web')).length === 2);
    const revisions = (await rsList('web')).map((rs) => Number(rs.metadata.annotations?.['deployment.kubernetes.io/revision'])).sort((a, b) => a - b);
    assert.deepEqual(revisions, [5, 6]);
  });
});

describe('the real kubectl against the Deployment and ReplicaSet controllers', requireTool('kubectl'), () => {
  let cluster: ControllerTestCluster;
  let deployments: RunningTestController<DeploymentController>;
  let replicaSets: RunningTestController<ReplicaSetController>;
  let marker: ReturnType<typeof startReadyMarker>;
  let kubectl: Kubectl;

  before(async () => {
    cluster = await startControllerTestCluster();
    deployments = await runController(cluster, (ctx, options) => new DeploymentController(ctx, options), { seams: referenceSeams });
    replicaSets = await runController(cluster, (ctx, options) => new ReplicaSetController(ctx, options), { seams: referenceSeams });
    marker = startReadyMarker(cluster.admin);
    kubectl = kubectlFor(cluster.kubeconfig, cluster.dir);
  });
  after(async () => {
    await marker?.stop();
    await deployments?.stop();
    await replicaSets?.stop();
    await cluster?.stop();
  });

  it('kubectl rollout status waits for a new Deployment and says it successfully rolled out', async () => {
    // Why apply a manifest without resources: kubectl rollout undo later sends the template back with `resources: {}` and `creationTimestamp: null`, which must still match.
    const manifest = ['apiVersion: apps/v1', 'kind: Deployment', 'metadata: {name: web}', 'spec:', '  replicas: 3', '  selector: {matchLabels: {app: web}}', '  template:', '    metadata: {labels: {app: web}}', '    spec: {containers: [{name: nginx, image: "nginx:1.14.2", ports: [{containerPort: 80}]}]}'].join('\n');
    await kubectl.ok(['apply', '-f', '-'], { input: manifest });
    const out = await kubectl.ok(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    assert.match(out, /deployment "web" successfully rolled out/);
  });

  it('kubectl set image, rollout status and rollout undo go back to the first ReplicaSet as revision 3', async () => {
    await kubectl.ok(['set', 'image', 'deployment/web', 'nginx=nginx:1.16.1']);
    assert.match(await kubectl.ok(['rollout', 'status', 'deployment/web', '--timeout=60s']), /successfully rolled out/);
    assert.match(await kubectl.ok(['rollout', 'undo', 'deployment/web']), /deployment\.apps\/web rolled back/);
    assert.match(await kubectl.ok(['rollout', 'status', 'deployment/web', '--timeout=60s']), /successfully rolled out/);
    const history = await kubectl.ok(['rollout', 'history', 'deployment/web']);
    assert.deepEqual(rows(history).filter((r) => /^\d+$/.test(r[0] ?? '')).map((r) => r[0]), ['2', '3']);
    await waitFor('3 pods of nginx:1.14.2', async () => {
      const now = (await cluster.admin.list<Pod>(RESOURCE.pods, { namespace: 'default', labelSelector: 'app=web' })).items.filter(isPodActive).map((p) => p.spec.containers[0]?.image);
      return now.length === 3 && now.every((i) => i === 'nginx:1.14.2') ? now : false;
    });
  });

  it('kubectl scale changes the number of pods and get events shows the chain ScalingReplicaSet, SuccessfulCreate', async () => {
    await kubectl.ok(['scale', 'deployment/web', '--replicas=5']);
    assert.match(await kubectl.ok(['rollout', 'status', 'deployment/web', '--timeout=60s']), /successfully rolled out/);
    const events = await kubectl.ok(['get', 'events', '--sort-by=.lastTimestamp']);
    assert.match(events, /ScalingReplicaSet\s+deployment\/web\s+Scaled up replica set web-\w+ from 3 to 5/);
    assert.match(events, /SuccessfulCreate\s+replicaset\/web-\w+\s+Created pod: web-\w+-\w{5}/);
  });
});
