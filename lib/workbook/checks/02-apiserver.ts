/**
 * Checks for chapter 2's exercises. Each exercise is checked on its own and
 * then inside a real API server that runs the learner's function, driven
 * through HTTP by a client, so "it passes" means "the API server behaves as
 * Kubernetes does with your code in its request path".
 */
import type { KubeObject, PolicyRule } from '../../api/types.ts';
import { TokenAuthenticator } from '../../apiserver/auth.ts';
import { ADMIN } from '../../apiserver/bootstrap.ts';
import type { Attributes } from '../../apiserver/rbac.ts';
import { encodeObject } from '../../apiserver/registry.ts';
import { findResource } from '../../apiserver/resources.ts';
import type { ApiServerSeams } from '../../apiserver/seams.ts';
import type { LabelRequirement } from '../../apiserver/selectors.ts';
import { startApiServer } from '../../apiserver/server.ts';
import { KubeApiError, KubeClient } from '../../client/client.ts';
import { openStore } from '../../store/store.ts';
import type { KeyValue, TxnRequest, WatchEvent } from '../../store/types.ts';
import { CheckFailure, expectEqual, expectTrue, show } from '../expect.ts';
import { noticeTodos } from '../todo.ts';
import type { Check } from './types.ts';

const PODS = findResource('', 'v1', 'pods')!;
const DEPLOYMENTS = findResource('apps', 'v1', 'deployments')!;
const CONFIGMAPS = findResource('', 'v1', 'configmaps')!;

/** The exercise's function, or a clear failure when the file does not export it. */
function fn<T>(impl: Record<string, unknown>, name: string): T {
  const f = impl[name];
  if (typeof f !== 'function') throw new CheckFailure(`expected the file to export a function named ${name}, got ${show(f)}`);
  return f as T;
}

/**
 * Runs `body` against a fresh in-memory store and API server that use
 * `seams`, as the admin. A stub's TODO thrown inside the server would only
 * show as a 500; it is caught on the way and re-thrown here, so the grader
 * reports the exercise as not started rather than failed.
 */
async function withServer(given: Partial<ApiServerSeams>, body: (client: KubeClient, token: TokenAuthenticator) => Promise<void>): Promise<void> {
  const { wrapped: seams, seen } = noticeTodos(given);
  const store = await openStore();
  const authenticator = new TokenAuthenticator();
  authenticator.add('admin-token', ADMIN);
  const server = await startApiServer({ backend: store, authenticator, seams, compactionIntervalMs: 0 });
  const client = new KubeClient({ server: server.url, token: 'admin-token' });
  try {
    await body(client, authenticator);
  } catch (error) {
    throw seen() ?? error;
  } finally {
    client.close();
    await server.close();
    await store.close();
  }
}

/** The Status a call was refused with, or a failure saying it was not refused. */
async function refusal(call: () => Promise<unknown>, what: string): Promise<KubeApiError> {
  try {
    await call();
  } catch (error) {
    if (error instanceof KubeApiError) return error;
    throw error;
  }
  throw new CheckFailure(`expected ${what} to be refused, but the API server accepted it`);
}

function deployment(name: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.14.2' }] } } },
  };
}

function pod(name: string, labels: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels }, spec: { containers: [{ name: 'main', image: 'busybox' }] } };
}

function kv(object: KubeObject, create: number, mod: number): KeyValue {
  return { key: Buffer.from(`/registry/pods/default/${object.metadata.name}`), value: encodeObject(object), createRevision: create, modRevision: mod, version: 1, lease: 0 };
}

const req = (r: LabelRequirement['operator'], key: string, values: string[] = []): LabelRequirement => ({ key, operator: r, values });

function attrs(partial: Partial<Attributes>): Attributes {
  return { user: { name: 'alice', groups: [] }, verb: 'get', isResourceRequest: true, apiGroup: '', resource: 'pods', subresource: '', namespace: 'default', name: '', path: '/api/v1/namespaces/default/pods', ...partial };
}

export const checks: Record<string, Check[]> = {
  '2.1': [
    {
      name: 'valid names have no problems',
      run(impl) {
        const check = fn<ApiServerSeams['isDNS1123Subdomain']>(impl, 'isDNS1123Subdomain');
        for (const name of ['backend', 'web-1', 'api.example.com', 'a', '0', 'x'.repeat(253)]) expectEqual(check(name), [], `the problems of ${JSON.stringify(name.length > 20 ? `${name.slice(0, 10)}... (${name.length} chars)` : name)}`);
      },
    },
    {
      name: 'invalid names get at least one message each',
      run(impl) {
        const check = fn<ApiServerSeams['isDNS1123Subdomain']>(impl, 'isDNS1123Subdomain');
        for (const name of ['Backend', 'web_1', '-web', 'web-', 'web.', '.web', 'a..b', '', 'x'.repeat(254)]) {
          const problems = check(name);
          expectTrue(Array.isArray(problems) && problems.length > 0 && problems.every((p) => typeof p === 'string' && p.length > 0), `expected messages for ${JSON.stringify(name.length > 20 ? `${name.slice(0, 10)}... (${name.length} chars)` : name)}, got ${show(problems)}`);
        }
      },
    },
    {
      name: 'inside the API server: a Deployment named Web_1 is refused with 422 and your message, backend is stored',
      async run(impl) {
        const check = fn<ApiServerSeams['isDNS1123Subdomain']>(impl, 'isDNS1123Subdomain');
        await withServer({ isDNS1123Subdomain: check }, async (client) => {
          const error = await refusal(() => client.create(DEPLOYMENTS, deployment('Web_1')), 'a Deployment named Web_1');
          expectEqual(error.status.code, 422, 'the HTTP code');
          const causes = error.status.details?.causes ?? [];
          expectTrue(causes.some((c) => c.field === 'metadata.name' && (c.message ?? '').includes(check('Web_1')[0] ?? '\u0000')), `expected a cause on metadata.name quoting your message, got ${show(causes)}`);
          await client.create(DEPLOYMENTS, deployment('backend'));
          const list = await client.list(DEPLOYMENTS, { namespace: 'default' });
          expectEqual(list.items.map((d) => d.metadata.name), ['backend'], 'the Deployments stored');
        });
      },
    },
  ],
  '2.2': [
    {
      name: 'the transaction compares the mod revision, puts on success and reads on failure',
      run(impl) {
        const txn = fn<ApiServerSeams['conditionalPut']>(impl, 'conditionalPut')(Buffer.from('/registry/configmaps/default/c'), Buffer.from('{}'), 7) as TxnRequest;
        expectEqual(txn.compare.length, 1, 'the number of compares');
        const c = txn.compare[0]!;
        expectEqual({ key: c.key.toString(), target: c.target, result: c.result, modRevision: c.modRevision }, { key: '/registry/configmaps/default/c', target: 'MOD', result: 'EQUAL', modRevision: 7 }, 'the compare');
        const put = txn.success[0];
        expectTrue(txn.success.length === 1 && put !== undefined && 'requestPut' in put && put.requestPut.key.toString() === '/registry/configmaps/default/c' && put.requestPut.value.toString() === '{}', `expected success to be one requestPut of the key and value, got ${show(txn.success)}`);
        expectTrue(put !== undefined && 'requestPut' in put && put.requestPut.ignoreLease === true, 'expected the put to keep the key\'s lease (ignoreLease: true)');
        const read = txn.failure[0];
        expectTrue(txn.failure.length === 1 && read !== undefined && 'requestRange' in read && read.requestRange.key.toString() === '/registry/configmaps/default/c', `expected failure to be one requestRange of the key, got ${show(txn.failure)}`);
      },
    },
    {
      name: 'inside the API server: an update from a stale copy is 409 Conflict and changes nothing',
      async run(impl) {
        await withServer({ conditionalPut: fn(impl, 'conditionalPut') }, async (client) => {
          const created: KubeObject = await client.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'counter', namespace: 'default' }, data: { n: '0' } });
          const first = await client.update(CONFIGMAPS, { ...created, data: { n: '1' } });
          expectTrue(first.metadata.resourceVersion !== created.metadata.resourceVersion, 'expected an update to change the resourceVersion');
          const error = await refusal(() => client.update(CONFIGMAPS, { ...created, data: { n: 'stale' } }), 'an update carrying the old resourceVersion');
          expectEqual([error.status.code, error.status.reason], [409, 'Conflict'], 'the code and reason');
          const now = await client.get(CONFIGMAPS, 'default', 'counter');
          expectEqual((now as { data?: Record<string, string> }).data, { n: '1' }, 'the stored data after the refused update');
        });
      },
    },
    {
      name: 'inside the API server: 20 writers adding 1 with retry on 409 reach exactly 20',
      async run(impl) {
        await withServer({ conditionalPut: fn(impl, 'conditionalPut') }, async (client) => {
          await client.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'counter', namespace: 'default' }, data: { n: '0' } });
          const addOne = async () => {
            for (;;) {
              const current = (await client.get(CONFIGMAPS, 'default', 'counter')) as KubeObject & { data: { n: string } };
              try {
                await client.update(CONFIGMAPS, { ...current, data: { n: String(Number(current.data.n) + 1) } });
                return;
              } catch (error) {
                if (!(error instanceof KubeApiError && error.status.code === 409)) throw error;
              }
            }
          };
          await Promise.all(Array.from({ length: 20 }, addOne));
          const final = (await client.get(CONFIGMAPS, 'default', 'counter')) as KubeObject & { data: { n: string } };
          expectEqual(final.data.n, '20', 'the counter after 20 concurrent increments');
        });
      },
    },
  ],
  '2.3': [
    {
      name: 'equality, inequality and set requirements decide as Kubernetes does',
      run(impl) {
        const matches = fn<ApiServerSeams['matchesLabels']>(impl, 'matchesLabels');
        const labels = { app: 'backend', tier: 'api' };
        const cases: Array<[LabelRequirement[], boolean, string]> = [
          [[], true, 'no requirements'],
          [[req('=', 'app', ['backend'])], true, 'app=backend'],
          [[req('==', 'app', ['frontend'])], false, 'app==frontend'],
          [[req('!=', 'app', ['frontend'])], true, 'app!=frontend'],
          [[req('!=', 'zone', ['a'])], true, 'zone!=a on an object without zone'],
          [[req('in', 'tier', ['api', 'db'])], true, 'tier in (api,db)'],
          [[req('notin', 'tier', ['api'])], false, 'tier notin (api)'],
          [[req('notin', 'zone', ['a'])], true, 'zone notin (a) without zone'],
          [[req('exists', 'app')], true, 'app'],
          [[req('exists', 'zone')], false, 'zone'],
          [[req('!', 'zone')], true, '!zone'],
          [[req('!', 'app')], false, '!app'],
          [[req('=', 'app', ['backend']), req('=', 'tier', ['db'])], false, 'app=backend,tier=db (every requirement must hold)'],
        ];
        for (const [requirements, expected, text] of cases) expectEqual(matches(requirements, labels), expected, `whether {app: backend, tier: api} matches ${text}`);
      },
    },
    {
      name: 'gt and lt compare integers, and need the label',
      run(impl) {
        const matches = fn<ApiServerSeams['matchesLabels']>(impl, 'matchesLabels');
        expectEqual(matches([req('gt', 'replicas', ['2'])], { replicas: '3' }), true, 'replicas=3 against replicas gt 2');
        expectEqual(matches([req('lt', 'replicas', ['2'])], { replicas: '3' }), false, 'replicas=3 against replicas lt 2');
        expectEqual(matches([req('gt', 'replicas', ['2'])], {}), false, 'no replicas label against replicas gt 2');
        expectEqual(matches([req('gt', 'replicas', ['2'])], { replicas: 'many' }), false, 'replicas=many against replicas gt 2');
      },
    },
    {
      name: 'inside the API server: a list with -l app=backend,tier!=db returns the right Pods',
      async run(impl) {
        await withServer({ matchesLabels: fn(impl, 'matchesLabels') }, async (client) => {
          await client.create(PODS, pod('backend-1', { app: 'backend', tier: 'api' }));
          await client.create(PODS, pod('backend-2', { app: 'backend' }));
          await client.create(PODS, pod('db-1', { app: 'backend', tier: 'db' }));
          await client.create(PODS, pod('frontend-1', { app: 'frontend' }));
          const list = await client.list(PODS, { namespace: 'default', labelSelector: 'app=backend,tier!=db' });
          expectEqual(list.items.map((p) => p.metadata.name).sort(), ['backend-1', 'backend-2'], 'the Pods listed');
        });
      },
    },
  ],
  '2.4': [
    {
      name: 'a PUT becomes ADDED, MODIFIED or DELETED depending on what matched before and now',
      run(impl) {
        const translate = fn<ApiServerSeams['toWatchEvent']>(impl, 'toWatchEvent');
        const backend = (labels: Record<string, string>) => pod('p', labels);
        const isBackend = (o: KubeObject) => o.metadata.labels?.app === 'backend';
        const put = (before: KubeObject | undefined, after: KubeObject): WatchEvent => ({ type: 'PUT', kv: kv(after, 2, 5), ...(before ? { prevKv: kv(before, 2, 3) } : {}) });
        expectEqual(translate(put(undefined, backend({ app: 'backend' })), isBackend)?.type, 'ADDED', 'a new matching Pod');
        expectEqual(translate(put(backend({ app: 'backend' }), backend({ app: 'backend', v: '2' })), isBackend)?.type, 'MODIFIED', 'a change to a matching Pod');
        expectEqual(translate(put(backend({ app: 'other' }), backend({ app: 'backend' })), isBackend)?.type, 'ADDED', 'a Pod relabelled into the selector');
        const left = translate(put(backend({ app: 'backend' }), backend({ app: 'other' })), isBackend);
        expectEqual([left?.type, left?.object.metadata.labels?.app], ['DELETED', 'other'], 'a Pod relabelled out of the selector (type, and the object it carries)');
        expectEqual(translate(put(backend({ app: 'other' }), backend({ app: 'other2' })), isBackend), undefined, 'a change to a Pod that never matched');
        const added = translate(put(undefined, backend({ app: 'backend' })), isBackend);
        expectEqual(added?.object.metadata.resourceVersion, '5', 'the resourceVersion of an ADDED object (the key\'s mod revision)');
      },
    },
    {
      name: 'a DELETE of a matching object is DELETED with its last state at the delete\'s revision',
      run(impl) {
        const translate = fn<ApiServerSeams['toWatchEvent']>(impl, 'toWatchEvent');
        const last = pod('p', { app: 'backend' });
        const event: WatchEvent = { type: 'DELETE', kv: { key: Buffer.from('/registry/pods/default/p'), value: Buffer.alloc(0), createRevision: 0, modRevision: 9, version: 0, lease: 0 }, prevKv: kv(last, 2, 4) };
        const out = translate(event, (o) => o.metadata.labels?.app === 'backend');
        expectEqual([out?.type, out?.object.metadata.name, out?.object.metadata.resourceVersion], ['DELETED', 'p', '9'], 'type, name and resourceVersion of the event');
        expectEqual(translate(event, () => false), undefined, 'the same delete for a watcher the Pod never matched');
      },
    },
    {
      name: 'inside the API server: a watch with -l app=backend sees a relabelled Pod leave as DELETED',
      async run(impl) {
        await withServer({ toWatchEvent: fn(impl, 'toWatchEvent') }, async (client) => {
          const list = await client.list(PODS, { namespace: 'default' });
          const seen: string[] = [];
          const watch = client.watch(PODS, { namespace: 'default', resourceVersion: list.metadata.resourceVersion, labelSelector: 'app=backend' }, (event) => {
            seen.push(`${event.type} ${(event.object as KubeObject).metadata.name}`);
          });
          const created = await client.create(PODS, pod('backend-1', { app: 'backend' }));
          await client.create(PODS, pod('frontend-1', { app: 'frontend' }));
          await client.update(PODS, { ...created, metadata: { ...created.metadata, labels: { app: 'retired' } } });
          for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
          watch.stop();
          expectEqual(seen, ['ADDED backend-1', 'DELETED backend-1'], 'the events the watcher received');
        });
      },
    },
  ],
  '2.5': [
    {
      name: 'verbs, groups, resources and names are matched, with * as a wildcard',
      run(impl) {
        const allows = fn<ApiServerSeams['ruleAllows']>(impl, 'ruleAllows');
        const readPods: PolicyRule = { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] };
        expectEqual(allows(readPods, attrs({ verb: 'list' })), true, 'list pods under a rule that reads pods');
        expectEqual(allows(readPods, attrs({ verb: 'delete' })), false, 'delete pods under a rule that reads pods');
        expectEqual(allows(readPods, attrs({ apiGroup: 'apps', resource: 'deployments' })), false, 'get deployments under a rule for pods');
        expectEqual(allows({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, attrs({ verb: 'delete', apiGroup: 'apps', resource: 'deployments' })), true, 'anything under cluster-admin\'s rule');
        const oneConfigMap: PolicyRule = { verbs: ['get', 'update'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['settings'] };
        expectEqual(allows(oneConfigMap, attrs({ resource: 'configmaps', name: 'settings' })), true, 'get configmap settings under a rule naming it');
        expectEqual(allows(oneConfigMap, attrs({ resource: 'configmaps', name: 'other' })), false, 'get configmap other under a rule naming settings');
      },
    },
    {
      name: 'subresources must be named, and paths match nonResourceURLs',
      run(impl) {
        const allows = fn<ApiServerSeams['ruleAllows']>(impl, 'ruleAllows');
        expectEqual(allows({ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, attrs({ subresource: 'log', name: 'p' })), false, 'pods/log under a rule for pods');
        expectEqual(allows({ verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }, attrs({ subresource: 'log', name: 'p' })), true, 'pods/log under a rule for pods/log');
        expectEqual(allows({ verbs: ['get'], apiGroups: [''], resources: ['*/log'] }, attrs({ subresource: 'log', name: 'p' })), true, 'pods/log under a rule for */log');
        const health = attrs({ isResourceRequest: false, path: '/healthz', resource: '', namespace: '' });
        expectEqual(allows({ verbs: ['get'], nonResourceURLs: ['/healthz'] }, health), true, 'GET /healthz under a rule for /healthz');
        expectEqual(allows({ verbs: ['get'], nonResourceURLs: ['/api', '/api/*'] }, attrs({ isResourceRequest: false, path: '/api/v1', resource: '', namespace: '' })), true, 'GET /api/v1 under a rule for /api/*');
        expectEqual(allows({ verbs: ['get'], apiGroups: ['*'], resources: ['*'] }, health), false, 'GET /healthz under a rule that only names resources');
      },
    },
    {
      name: 'inside the API server: a user bound to the view role may list pods but not delete them',
      async run(impl) {
        await withServer({ ruleAllows: fn(impl, 'ruleAllows') }, async (admin, authenticator) => {
          authenticator.add('viewer-token', { name: 'viewer', groups: [] });
          const bindings = findResource('rbac.authorization.k8s.io', 'v1', 'rolebindings')!;
          await admin.create(bindings, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'viewer', namespace: 'default' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', name: 'viewer', apiGroup: 'rbac.authorization.k8s.io' }] });
          await admin.create(PODS, pod('web-1', { app: 'web' }));
          const viewer = new KubeClient({ server: admin.server.toString().replace(/\/$/, ''), token: 'viewer-token' });
          try {
            const list = await viewer.list(PODS, { namespace: 'default' });
            expectEqual(list.items.map((p) => p.metadata.name), ['web-1'], 'what the viewer lists');
            const error = await refusal(() => viewer.delete(PODS, 'default', 'web-1'), 'the viewer deleting a pod');
            expectEqual([error.status.code, error.status.reason], [403, 'Forbidden'], 'the code and reason');
            expectTrue((error.status.message ?? '').includes('User "viewer" cannot delete resource "pods"'), `expected the message to name the user and the verb, got ${show(error.status.message)}`);
          } finally {
            viewer.close();
          }
        });
      },
    },
  ],
};
