/**
 * Lab 4: the scheduler. Starts the cluster of chapter 3 plus three hollow
 * nodes (node-1 tainted as a control-plane node) and the scheduler; applies
 * the scenario and shows where each Pod lands and why; shows a Pod that fits
 * nowhere; a Pod that tolerates the taint; a rolling update that now
 * completes, since the hollow nodes report Pods Ready; and ends with what is
 * missing: those Pods run nothing, because no kubelet runs them.
 */
import { join } from 'node:path';
import type { Deployment, Event, Node, Pod, ReplicaSet } from '../../api/types.ts';
import { resourceForKind } from '../../apiserver/resources.ts';
import type { KubeClient } from '../../client/client.ts';
import { loadManifests } from '../../client/manifests.ts';
import { startCluster, type Cluster } from '../../cluster/cluster.ts';
import { RESOURCE } from '../../controllers/informers.ts';
import { runFilters, scoreNodes } from '../../scheduler/framework.ts';
import { referenceSeams, type SchedulerSeams } from '../../scheduler/seams.ts';
import type { Lab, LabContext } from '../lab.ts';
import { scenarioDir } from '../scenario.ts';
import { waitUntil } from '../waiting.ts';

let cluster: Cluster;
let admin: KubeClient;
let seams: SchedulerSeams;

function learnerSeams(ctx: LabContext): SchedulerSeams {
  return {
    fitsResources: ctx.impl('4.1'),
    leastAllocatedScore: ctx.impl('4.2'),
    findUntoleratedTaint: ctx.impl('4.3'),
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]! + 3)).join('').trimEnd()).join('\n');
}

async function pods(selector?: string): Promise<Pod[]> {
  const list = await admin.list<Pod>(RESOURCE.pods, { namespace: 'default', labelSelector: selector });
  return list.items.filter((p) => !p.metadata.deletionTimestamp);
}

function podTable(items: Pod[]): string {
  return table([['NAME', 'STATUS', 'READY', 'IP', 'NODE'], ...items.map((p) => [p.metadata.name ?? '', p.status?.phase ?? 'Pending', p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? '1/1' : '0/1', p.status?.podIP ?? '<none>', p.spec.nodeName || '<none>'])]);
}

/** How many Pods each node has, e.g. "node-2: 3, node-3: 3". */
function perNode(items: Pod[]): string {
  const counts = new Map<string, number>();
  for (const p of items) counts.set(p.spec.nodeName || '<none>', (counts.get(p.spec.nodeName || '<none>') ?? 0) + 1);
  return [...counts].sort().map(([node, n]) => `${node}: ${n}`).join(', ');
}

function schedulerOf(): NonNullable<Cluster['scheduler']> {
  if (!cluster.scheduler) throw new Error('expected the cluster to run a scheduler, got none');
  return cluster.scheduler;
}

export const lab: Lab = {
  chapter: 4,
  title: 'The scheduler',
  intro:
    'The scheduler watches for Pods without a node, and for each one picks a node: first it filters out the nodes that cannot take it, then it scores the rest, then it binds the Pod to the best one through the API server. ' +
    'This lab adds three nodes and the scheduler to chapter 3\'s cluster and follows the scenario\'s six Pods to their nodes.',
  steps: [
    {
      title: 'Start the cluster: controllers, three nodes, the scheduler',
      async run(ctx) {
        seams = { ...referenceSeams, ...learnerSeams(ctx) };
        cluster = await startCluster({ dir: join(ctx.tmpDir, 'cluster'), controllers: true, scheduler: true, schedulerSeams: seams, nodes: 'hollow' });
        ctx.onCleanup(() => cluster.stop());
        admin = cluster.admin;
        const nodes = await waitUntil('three Ready nodes', async () => {
          const list = await admin.list<Node>(RESOURCE.nodes);
          return list.items.length === 3 && list.items.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) ? list.items : undefined;
        });
        ctx.show(
          'kubectl get nodes (with taints and allocatable)',
          table([
            ['NAME', 'STATUS', 'TAINTS', 'CPU', 'MEMORY', 'PODS'],
            ...nodes.map((n) => [n.metadata.name ?? '', 'Ready', (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).join(',') || '<none>', String(n.status?.allocatable?.cpu), String(n.status?.allocatable?.memory), String(n.status?.allocatable?.pods)]),
          ]),
        );
        ctx.say('These nodes are hollow: an agent registers each Node, renews its Lease every 10 s and reports the Pods bound to it as Running, without running anything (as kwok does). The kubelet replaces it in chapter 5.');
      },
    },
    {
      title: 'Apply the scenario: six Pods find nodes',
      async run(ctx) {
        for (const manifest of await loadManifests(scenarioDir)) {
          const info = resourceForKind(manifest.object.apiVersion, manifest.object.kind)!;
          await admin.create(info, manifest.object);
        }
        const placed = await waitUntil('six Running Pods', async () => {
          const now = await pods();
          return now.length === 6 && now.every((p) => p.status?.phase === 'Running') ? now : undefined;
        });
        ctx.show('kubectl get pods -o wide', podTable(placed));
        ctx.show('pods per node', perNode(placed));
        ctx.show('frontend per node', perNode(placed.filter((p) => p.metadata.labels?.app === 'frontend')));
        const scheduled = (await admin.list<Event>(RESOURCE.events, { namespace: 'default' })).items.filter((e) => e.reason === 'Scheduled').slice(0, 2);
        ctx.show('two of the Scheduled events', scheduled.map((e) => `${e.source?.component}  ${e.reason}  ${e.message}`).join('\n'));
        ctx.say('No Pod went to node-1. Among node-2 and node-3, the scores favour the node with more room left and fewer Pods of the same ReplicaSet, so each Deployment spreads over both.');
      },
    },
    {
      title: 'Why not node-1: every filter\'s verdict for one Pod',
      async run(ctx) {
        const pod = (await pods('app=backend'))[0]!;
        const scheduler = schedulerOf();
        const infos = ['node-1', 'node-2', 'node-3'].map((name) => scheduler.cache.nodeInfo(name)!);
        const probe: Pod = { ...pod, spec: { ...pod.spec, nodeName: undefined } };
        const verdicts = infos.map((info) => {
          const reasons = runFilters(probe, info, seams);
          return [info.name, reasons.length === 0 ? 'fits' : reasons.join('; ')];
        });
        ctx.show(`filters for a Pod like ${pod.metadata.name}`, table([['NODE', 'VERDICT'], ...verdicts]));
        const feasible = infos.filter((info) => runFilters(probe, info, seams).length === 0);
        const scores = scoreNodes(probe, feasible, seams);
        ctx.show('scores of the nodes that passed (least allocated + spreading, weighted)', table([['NODE', 'SCORE'], ...feasible.map((info, i) => [info.name, String(scores[i])])]));
        ctx.say('node-1 carries node-role.kubernetes.io/control-plane:NoSchedule, as kubeadm sets it, and the Pod has no toleration for it. The filters use your fitsResources and findUntoleratedTaint, the score your leastAllocatedScore.');
      },
    },
    {
      title: 'A Pod that fits nowhere',
      async run(ctx) {
        await admin.create(RESOURCE.pods, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'big', namespace: 'default' },
          spec: { containers: [{ name: 'big', image: 'busybox', resources: { requests: { cpu: '3' } } }] },
        } as Pod);
        const event = await waitUntil('a FailedScheduling event for big', async () => {
          const list = await admin.list<Event>(RESOURCE.events, { namespace: 'default', fieldSelector: 'involvedObject.name=big' });
          return list.items.find((e) => e.reason === 'FailedScheduling');
        });
        ctx.show('kubectl describe pod big (Events)', `Warning  FailedScheduling  ${event.source?.component}  ${event.message}`);
        ctx.say('Each node said why it refused, and the scheduler counted the reasons. The Pod waits among the unschedulable Pods; a new node, or a freed one, puts it back in the queue.');
        await admin.delete(RESOURCE.pods, 'default', 'big');
      },
    },
    {
      title: 'A Pod that tolerates the control-plane taint',
      async run(ctx) {
        await admin.create(RESOURCE.pods, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'on-node-1', namespace: 'default' },
          spec: {
            containers: [{ name: 'main', image: 'busybox' }],
            nodeSelector: { 'kubernetes.io/hostname': 'node-1' },
            tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
          },
        } as Pod);
        const placed = await waitUntil('on-node-1 to be bound', async () => {
          const pod = await admin.get<Pod>(RESOURCE.pods, 'default', 'on-node-1');
          return pod.spec.nodeName ? pod : undefined;
        });
        ctx.show('on-node-1', podTable([placed]));
        ctx.say('A toleration does not attract a Pod to node-1; it only stops the taint from filtering node-1 out. The nodeSelector is what pins it there. This is how the control-plane\'s own Pods (chapter 5) run on node-1.');
        await admin.delete(RESOURCE.pods, 'default', 'on-node-1');
      },
    },
    {
      title: 'A rolling update that completes',
      async run(ctx) {
        await admin.patch(RESOURCE.deployments, 'default', 'backend', { spec: { template: { spec: { containers: [{ name: 'backend', image: 'backend:v0.0.2' }] } } } }, 'strategic');
        const done = await waitUntil(
          'the backend rollout to complete',
          async () => {
            const d = await admin.get<Deployment>(RESOURCE.deployments, 'default', 'backend');
            const s = d.status;
            const want = d.spec.replicas ?? 1;
            return (d.metadata.generation ?? 0) <= (s?.observedGeneration ?? 0) && s?.updatedReplicas === want && s?.replicas === want && s?.availableReplicas === want ? d : undefined;
          },
          30_000,
        );
        const sets = (await admin.list<ReplicaSet>(RESOURCE.replicasets, { namespace: 'default', labelSelector: 'app=backend' })).items;
        ctx.show('replicasets', table([['NAME', 'DESIRED', 'READY', 'REVISION'], ...sets.map((r) => [r.metadata.name ?? '', String(r.spec.replicas ?? 0), String(r.status?.readyReplicas ?? 0), r.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? ''])]));
        ctx.say(`deployment "backend" successfully rolled out (generation ${done.metadata.generation}, ${done.status?.updatedReplicas} updated, ${done.status?.availableReplicas} available). Each new Pod was scheduled, reported Ready by its node, and only then did an old one go.`);
        ctx.show('backend pods now', podTable(await pods('app=backend')));
      },
    },
    {
      title: 'What is still missing',
      async run(ctx) {
        const all = await pods();
        ctx.show('pods', podTable(all));
        ctx.note('Every Pod is bound and reported Running, but nothing runs: the hollow nodes only pretend. In chapter 5 the kubelet takes their place, asks a container runtime to start the containers, and reports what really happened.');
      },
    },
  ],
};
