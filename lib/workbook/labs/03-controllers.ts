/**
 * Lab 3: the controllers. Starts the store, the API server and the
 * controller manager; applies the scenario and shows the chain Deployment →
 * ReplicaSet → Pods appear; deletes a Pod and shows it replaced; scales;
 * starts a rolling update that cannot finish (nothing makes a Pod available
 * yet) and rolls it back; prints the Events; and ends with what is missing:
 * no Pod has a node, because no scheduler runs.
 */
import { join } from 'node:path';
import type { Deployment, Event, KubeObject, Pod, ReplicaSet } from '../../api/types.ts';
import type { RecordedEvent } from '../../client/events.ts';
import type { KubeClient } from '../../client/client.ts';
import { resourceForKind } from '../../apiserver/resources.ts';
import { loadManifests } from '../../client/manifests.ts';
import { startCluster, type Cluster } from '../../cluster/cluster.ts';
import type { ControllerSeams } from '../../controllers/seams.ts';
import { RESOURCE } from '../../controllers/informers.ts';
import type { Lab, LabContext } from '../lab.ts';
import { scenarioDir } from '../scenario.ts';
import { waitUntil } from '../waiting.ts';

let cluster: Cluster;
let admin: KubeClient;
const recorded: RecordedEvent[] = [];

function seams(ctx: LabContext): Partial<ControllerSeams> {
  return {
    manageReplicas: ctx.impl('3.1'),
    selectorMatches: ctx.impl('3.2'),
    rollingUpdateStep: ctx.impl('3.3'),
  };
}

async function pods(app?: string): Promise<Pod[]> {
  const list = await admin.list<Pod>(RESOURCE.pods, { namespace: 'default', labelSelector: app ? `app=${app}` : undefined });
  return list.items.filter((p) => !p.metadata.deletionTimestamp);
}

async function replicaSets(app: string): Promise<ReplicaSet[]> {
  const list = await admin.list<ReplicaSet>(RESOURCE.replicasets, { namespace: 'default', labelSelector: `app=${app}` });
  return list.items.sort((a, b) => revision(a) - revision(b));
}

function revision(obj: KubeObject): number {
  return Number(obj.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
}

/** Pods as `kubectl get pods -o wide` shows the columns that matter here. */
function podTable(items: Pod[]): string {
  const rows = [['NAME', 'STATUS', 'NODE', 'OWNER'], ...items.map((p) => [p.metadata.name ?? '', p.status?.phase ?? 'Pending', p.spec.nodeName || '<none>', ownerOf(p)])];
  return table(rows);
}

function rsTable(items: ReplicaSet[]): string {
  const rows = [['NAME', 'DESIRED', 'CURRENT', 'REVISION', 'IMAGE'], ...items.map((r) => [r.metadata.name ?? '', String(r.spec.replicas ?? 0), String(r.status?.replicas ?? 0), String(revision(r)), r.spec.template?.spec?.containers[0]?.image ?? ''])];
  return table(rows);
}

function ownerOf(obj: KubeObject): string {
  const owner = obj.metadata.ownerReferences?.find((o) => o.controller);
  return owner ? `${owner.kind}/${owner.name}` : '<none>';
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]! + 3)).join('').trimEnd()).join('\n');
}

/** Events in the order they last happened, as `kubectl get events --sort-by=.lastTimestamp`. */
async function eventTable(filter: (e: Event) => boolean = () => true): Promise<string> {
  const list = await admin.list<Event>(RESOURCE.events, { namespace: 'default' });
  const items = list.items.filter(filter).sort((a, b) => String(a.lastTimestamp).localeCompare(String(b.lastTimestamp)) || Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion));
  const rows = [['TYPE', 'REASON', 'OBJECT', 'MESSAGE'], ...items.map((e) => [e.type ?? '', e.reason ?? '', `${e.involvedObject.kind?.toLowerCase()}/${e.involvedObject.name}`, e.message ?? ''])];
  return table(rows);
}

export const lab: Lab = {
  chapter: 3,
  title: 'The controllers',
  intro:
    'Controllers turn desired state into current state. Each watches objects through the API server and, when what is differs from what should be, writes through the API server to close the gap. ' +
    'This lab starts the controller manager next to chapter 2\'s store and API server, and follows the scenario from a Deployment to its Pods.',
  steps: [
    {
      title: 'Start the store, the API server and the controller manager',
      async run(ctx) {
        recorded.length = 0;
        cluster = await startCluster({ dir: join(ctx.tmpDir, 'cluster'), controllers: true, controllerSeams: seams(ctx), onEvent: (e) => recorded.push(e) });
        ctx.onCleanup(() => cluster.stop());
        admin = cluster.admin;
        const names = [...(cluster.controllerManager?.controllers.keys() ?? [])];
        ctx.say(`The controller manager runs ${names.length} controllers in one process: ${names.join(', ')}.`);
        ctx.say('Each listed and now watches what it needs (Deployments, ReplicaSets, Pods, ...) through shared informers, as the identity system:kube-controller-manager. None of them talks to another.');
      },
    },
    {
      title: 'Apply the scenario: Deployment -> ReplicaSet -> Pods',
      async run(ctx) {
        for (const manifest of await loadManifests(scenarioDir)) {
          const info = resourceForKind(manifest.object.apiVersion, manifest.object.kind)!;
          const created = await admin.create(info, manifest.object);
          ctx.say(`${info.kind.toLowerCase()}/${created.metadata.name} created`);
        }
        await waitUntil('six Pods', async () => (await pods()).length === 6);
        const sets = await waitUntil('both ReplicaSets to report 3 Pods', async () => {
          const now = [...(await replicaSets('backend')), ...(await replicaSets('frontend'))];
          return now.length === 2 && now.every((r) => r.status?.replicas === 3) ? now : undefined;
        });
        ctx.show('replicasets (named <deployment>-<pod-template-hash>)', rsTable(sets));
        ctx.show('pods', podTable(await pods()));
        ctx.say('The Deployment controller created one ReplicaSet per Deployment; the ReplicaSet controller created three Pods for each. Every object names its owner in metadata.ownerReferences.');
        ctx.note('All six Pods are Pending and have no node: nothing assigns Pods to nodes yet.');
      },
    },
    {
      title: 'Self-healing: delete a Pod',
      async run(ctx) {
        const victim = (await pods('backend'))[0]!;
        await admin.delete(RESOURCE.pods, 'default', victim.metadata.name!);
        ctx.say(`Deleted pod ${victim.metadata.name}.`);
        const replacement = await waitUntil('a replacement Pod', async () => {
          const now = await pods('backend');
          return now.length === 3 && !now.some((p) => p.metadata.name === victim.metadata.name) ? now : undefined;
        });
        ctx.show('backend pods a moment later', podTable(replacement));
        ctx.say('The ReplicaSet controller saw the DELETED event, reconciled its ReplicaSet, counted 2 active Pods for 3 desired, and created one. Nobody told it to: the difference was enough.');
      },
    },
    {
      title: 'Scale: 3 -> 5 -> 3',
      async run(ctx) {
        await admin.patchScale(RESOURCE.deployments, 'default', 'backend', 5);
        await waitUntil('five backend Pods', async () => (await pods('backend')).length === 5);
        ctx.show('after kubectl scale deployment/backend --replicas=5', podTable(await pods('backend')));
        const before = new Set((await pods('backend')).map((p) => p.metadata.name));
        await admin.patchScale(RESOURCE.deployments, 'default', 'backend', 3);
        const after = await waitUntil('three backend Pods', async () => {
          const now = await pods('backend');
          return now.length === 3 ? now : undefined;
        });
        const gone = [...before].filter((name) => !after.some((p) => p.metadata.name === name));
        ctx.show('after scaling back to 3, deleted', gone.join('\n'));
        ctx.say('The Deployment only changed its ReplicaSet\'s replicas; the ReplicaSet controller chose which Pods to delete. All are Pending and unscheduled, so age decides: the newest go first - and Pods created within the same second tie, since creationTimestamp counts whole seconds.');
      },
    },
    {
      title: 'A rolling update that cannot finish, and a rollback',
      async run(ctx) {
        const deployment = await admin.get<Deployment>(RESOURCE.deployments, 'default', 'backend');
        const oldTemplate = structuredClone(deployment.spec.template);
        await admin.patch(RESOURCE.deployments, 'default', 'backend', { spec: { template: { spec: { containers: [{ name: 'backend', image: 'backend:v0.0.2' }] } } } }, 'strategic');
        ctx.say('kubectl set image deployment/backend backend=backend:v0.0.2: the Pod template changed, so its hash changes, so a new ReplicaSet is needed.');
        const sets = await waitUntil('a second backend ReplicaSet with one Pod', async () => {
          const now = await replicaSets('backend');
          return now.length === 2 && (now[1]?.status?.replicas ?? 0) === 1 ? now : undefined;
        });
        await new Promise((resolve) => setTimeout(resolve, 500));
        ctx.show('replicasets during the rollout', rsTable(await replicaSets('backend')));
        const status = (await admin.get<Deployment>(RESOURCE.deployments, 'default', 'backend')).status;
        ctx.show('the Deployment\'s status', { replicas: status?.replicas, updatedReplicas: status?.updatedReplicas, availableReplicas: status?.availableReplicas ?? 0 });
        ctx.say(`maxSurge 25% of 3 rounds up to 1 and maxUnavailable 25% rounds down to 0: one extra Pod may exist, and no old Pod may go until a new one is available. The new Pod (${sets[1]!.metadata.name}-...) is never available, because no node runs it, so the rollout waits - as kubectl rollout status would, printing "1 out of 3 new replicas have been updated...".`);
        await admin.patch(RESOURCE.deployments, 'default', 'backend', [{ op: 'replace', path: '/spec/template', value: oldTemplate }], 'json');
        ctx.say('kubectl rollout undo deployment/backend: it copies the previous ReplicaSet\'s template back into the Deployment.');
        const after = await waitUntil('the first ReplicaSet to become revision 3', async () => {
          const now = await replicaSets('backend');
          return now.some((r) => revision(r) === 3) ? now : undefined;
        });
        ctx.show('replicasets after the rollback', rsTable(after));
        ctx.say('The first ReplicaSet is reused (same template, same hash) and becomes revision 3: the Deployment is back on backend:v0.0.1.');
        ctx.say('Yet the v0.0.2 ReplicaSet keeps its Pod. With maxUnavailable 0, a Pod may only be removed while at least 3 are available, and none is: even a rollback waits for Pods to become available. Once a kubelet runs them (chapter 5) - or hollow nodes report them Ready (chapter 4) - it finishes.');
      },
    },
    {
      title: 'The Events: what each controller did',
      async run(ctx) {
        await cluster.controllerManager?.recorder.flush();
        ctx.show('kubectl get events --sort-by=.lastTimestamp (controllers only)', await eventTable((e) => e.source?.component === 'deployment-controller' || e.source?.component === 'replicaset-controller'));
        const counts = new Map<string, number>();
        for (const e of recorded) counts.set(e.reason, (counts.get(e.reason) ?? 0) + 1);
        ctx.say(`In all, the controllers recorded ${[...counts].map(([reason, n]) => `${n} ${reason}`).join(', ')}. An Event is an object too, written through the API server like any other.`);
      },
    },
    {
      title: 'What is still missing',
      async run(ctx) {
        const all = await pods();
        ctx.show('pods', podTable(all));
        ctx.note(`${all.filter((p) => !p.spec.nodeName).length} of ${all.length} Pods have no node: spec.nodeName is empty, and no kubelet will run a Pod that is not bound to its node. Choosing a node is the scheduler's job - chapter 4.`);
      },
    },
  ],
};
