/**
 * Lab 2: the API server. Starts the store and the API server, applies the
 * scenario's manifests the way kubectl does, shows where the objects land in
 * the store, watches, provokes a 409 and a 422 and a 403, and ends by showing
 * what is still missing: Deployments exist, but no ReplicaSet or Pod appears,
 * because no controller runs yet.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KubeObject } from '../../api/types.ts';
import type { ApiServerSeams } from '../../apiserver/seams.ts';
import type { RequestTrace } from '../../apiserver/server.ts';
import { findResource, resourceForKind } from '../../apiserver/resources.ts';
import { KubeApiError, type KubeClient } from '../../client/client.ts';
import { loadManifests } from '../../client/manifests.ts';
import { startCluster, type Cluster } from '../../cluster/cluster.ts';
import { prefixEnd } from '../../store/revisions.ts';
import { startServer } from '../../store/server.ts';
import { locateTool } from '../doctor.ts';
import type { Lab, LabContext } from '../lab.ts';
import { scenarioDir } from '../scenario.ts';

const run = promisify(execFile);
const DEPLOYMENTS = findResource('apps', 'v1', 'deployments')!;
const REPLICASETS = findResource('apps', 'v1', 'replicasets')!;
const PODS = findResource('', 'v1', 'pods')!;

/** State shared by the steps of one run. */
let cluster: Cluster;
let admin: KubeClient;
const traces: RequestTrace[] = [];

function seams(ctx: LabContext): Partial<ApiServerSeams> {
  return {
    isDNS1123Subdomain: ctx.impl('2.1'),
    conditionalPut: ctx.impl('2.2'),
    matchesLabels: ctx.impl('2.3'),
    toWatchEvent: ctx.impl('2.4'),
    ruleAllows: ctx.impl('2.5'),
  };
}

/** The pipeline path of the last request that matched, as one line. */
function lastPath(match: (t: RequestTrace) => boolean): string {
  const trace = [...traces].reverse().find(match);
  return trace ? `${trace.method} ${trace.path} -> ${trace.code}\n  ${trace.states.join(' -> ')}` : '(no request seen)';
}

/** What the API server answered, as kubectl would print it. */
async function refused(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return 'accepted (expected a refusal)';
  } catch (error) {
    if (error instanceof KubeApiError) return `Error from server (${error.status.reason}): ${error.status.message}`;
    throw error;
  }
}

async function storeKeys(prefix: string): Promise<string[]> {
  const key = Buffer.from(prefix);
  const response = await cluster.backend.range({ key, rangeEnd: prefixEnd(key), keysOnly: true });
  return response.kvs.map((kv) => `${kv.key.toString().padEnd(52)} mod_revision=${kv.modRevision}`);
}

export const lab: Lab = {
  chapter: 2,
  title: 'The API server',
  intro:
    'The API server is the only component that talks to the store; everything else - kubectl, controllers, the scheduler, kubelets - talks to it over HTTP. ' +
    'This lab starts the store and the API server, applies the scenario as kubectl does, and looks at every stage a request goes through.',
  steps: [
    {
      title: 'Start the store and the API server',
      async run(ctx) {
        traces.length = 0;
        cluster = await startCluster({ dir: join(ctx.tmpDir, 'cluster'), seams: seams(ctx), onTrace: (t) => traces.push(t) });
        ctx.onCleanup(() => cluster.stop());
        admin = cluster.admin;
        ctx.say(`The API server listens on ${cluster.apiserver.url}, over TLS with a certificate from the cluster's own CA (kubectl sends a bearer token only over TLS).`);
        ctx.show('the admin kubeconfig (the real kubectl can use it: KUBECONFIG=...)', cluster.kubeconfig);
        ctx.show('what a fresh API server wrote to the store before anyone asked', (await storeKeys('/registry/')).join('\n'));
        ctx.say('The system namespaces, the default RBAC roles and bindings, and the `kubernetes` Service (the first ClusterIP, 10.96.0.1) exist from the start.');
      },
    },
    {
      title: 'Apply the scenario, as kubectl does',
      async run(ctx) {
        const manifests = await loadManifests(scenarioDir);
        const first = manifests[0]!;
        ctx.say(`kubectl reads YAML, but the API speaks JSON. ${first.source} becomes this request body:`);
        ctx.show(`POST /apis/apps/v1/namespaces/default/deployments`, JSON.stringify(first.object));
        for (const manifest of manifests) {
          const info = resourceForKind(manifest.object.apiVersion, manifest.object.kind)!;
          const created = await admin.create(info, manifest.object);
          ctx.say(`${info.kind.toLowerCase()}/${created.metadata.name} created at resourceVersion ${created.metadata.resourceVersion}`);
        }
        ctx.show('the path of that POST through the request pipeline (an XState machine)', lastPath((t) => t.method === 'POST' && t.path.includes('/deployments')));
        ctx.say('authenticate (whose bearer token is this?) -> authorize (may kubernetes-admin create deployments? RBAC says yes) -> decode (JSON, known fields) -> admit (defaults, uid, creationTimestamp) -> validate -> store.');
      },
    },
    {
      title: 'Where the objects are in the store',
      async run(ctx) {
        ctx.show('keys of the scenario', [...(await storeKeys('/registry/deployments/')), ...(await storeKeys('/registry/services/'))].join('\n'));
        const stored = await cluster.backend.range({ key: Buffer.from('/registry/deployments/default/backend') });
        const value = JSON.parse(stored.kvs[0]!.value.toString()) as KubeObject;
        ctx.show('the backend Deployment as stored (defaults filled in)', { spec: { replicas: (value.spec as { replicas: number }).replicas, strategy: (value.spec as { strategy: unknown }).strategy, revisionHistoryLimit: (value.spec as { revisionHistoryLimit: number }).revisionHistoryLimit } });
        ctx.say('A resourceVersion is no more than the key\'s mod revision in the store. Services sit under /registry/services/specs/, as in a real cluster; the backend Service got ClusterIP ' + `${((await admin.get(findResource('', 'v1', 'services')!, 'default', 'backend')).spec as { clusterIP: string }).clusterIP}.`);
        const etcdctl = locateTool('etcdctl');
        if (!cluster.store) return;
        const grpc = await startServer({ store: cluster.store });
        ctx.onCleanup(() => grpc.close());
        if (!etcdctl) {
          ctx.note('etcdctl is not installed (Debian etcd-client): skipping the look through the real etcd client.');
          return;
        }
        const { stdout } = await run(etcdctl, [`--endpoints=127.0.0.1:${grpc.port}`, 'get', '/registry/deployments', '--prefix', '--keys-only'], { env: { ...process.env, ETCDCTL_API: '3' } });
        ctx.show(`etcdctl --endpoints=127.0.0.1:${grpc.port} get /registry/deployments --prefix --keys-only`, stdout.split('\n').filter((line) => line.trim() !== '').join('\n'));
        ctx.say('That is the real etcd client reading our store over etcd\'s own gRPC API: to etcdctl this is an etcd.');
      },
    },
    {
      title: 'Watch instead of polling',
      async run(ctx) {
        const list = await admin.list(DEPLOYMENTS, { namespace: 'default' });
        const events: string[] = [];
        const watch = admin.watch(DEPLOYMENTS, { namespace: 'default', resourceVersion: list.metadata.resourceVersion }, (event) => {
          const object = event.object as KubeObject;
          events.push(`${event.type.padEnd(9)} ${object.metadata.name} resourceVersion=${object.metadata.resourceVersion} replicas=${(object.spec as { replicas?: number } | undefined)?.replicas}`);
        });
        ctx.say(`A controller lists once (resourceVersion ${list.metadata.resourceVersion}) and then watches from there: one long HTTP response, one JSON line per change.`);
        await admin.patchScale(DEPLOYMENTS, 'default', 'backend', 5);
        await admin.patch(DEPLOYMENTS, 'default', 'frontend', { metadata: { labels: { tier: 'web' } } }, 'merge');
        await admin.delete(DEPLOYMENTS, 'default', 'frontend');
        for (let i = 0; i < 50 && events.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
        watch.stop();
        ctx.show('what the watcher received while we scaled backend, labelled frontend and deleted it', events.join('\n'));
        await admin.create(DEPLOYMENTS, (await loadManifests(join(scenarioDir, 'frontend-deployment.yaml')))[0]!.object);
      },
    },
    {
      title: 'Two writers, one object: 409 Conflict',
      async run(ctx) {
        const mine = await admin.get(DEPLOYMENTS, 'default', 'backend');
        const theirs = await admin.get(DEPLOYMENTS, 'default', 'backend');
        await admin.update(DEPLOYMENTS, { ...theirs, spec: { ...(theirs.spec as object), replicas: 4 } });
        ctx.say(`Both read backend at resourceVersion ${mine.metadata.resourceVersion}; the other writer stored replicas=4 first. Now we send ours:`);
        ctx.show('PUT with the old resourceVersion', await refused(() => admin.update(DEPLOYMENTS, { ...mine, spec: { ...(mine.spec as object), replicas: 6 } })));
        ctx.say('The store compared the key\'s mod revision in the same transaction as the write (your conditionalPut), so no update is lost: read again, apply the change, retry.');
      },
    },
    {
      title: 'Validation and authorization: 422 and 403',
      async run(ctx) {
        const bad = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'Web_1', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.14.2' }] } } } };
        ctx.show('a Deployment named Web_1', await refused(() => admin.create(DEPLOYMENTS, bad)));
        const proxy = cluster.clientAs('system:kube-proxy');
        ctx.show('kube-proxy deleting the backend Deployment', await refused(() => proxy.delete(DEPLOYMENTS, 'default', 'backend')));
        ctx.show('its path through the pipeline', lastPath((t) => t.method === 'DELETE'));
        proxy.close();
        ctx.say('Nothing was stored either time: a refused request stops in the stage that refused it.');
      },
    },
    {
      title: 'What is still missing',
      async run(ctx) {
        const deployments = await admin.list(DEPLOYMENTS, { namespace: 'default' });
        const replicaSets = await admin.list(REPLICASETS, { namespace: 'default' });
        const pods = await admin.list(PODS, { namespace: 'default' });
        ctx.show('deployments', deployments.items.map((d) => `${d.metadata.name} replicas=${(d.spec as { replicas: number }).replicas}`).join('\n'));
        ctx.show('replicasets', replicaSets.items.length === 0 ? 'No resources found in default namespace.' : replicaSets.items.map((r) => r.metadata.name).join('\n'));
        ctx.show('pods', pods.items.length === 0 ? 'No resources found in default namespace.' : pods.items.map((p) => p.metadata.name).join('\n'));
        ctx.note('The Deployments are stored, but no ReplicaSet and no Pod exists: the API server only stores and serves desired state. Turning a Deployment into ReplicaSets and Pods is the controllers\' job - chapter 3.');
      },
    },
  ],
};
