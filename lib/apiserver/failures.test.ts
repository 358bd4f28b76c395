/**
 * The requests the API server must refuse, each checked as a client sees
 * it: the HTTP code, the Status reason, a message that says what was
 * expected, and (read back afterwards) that nothing was stored.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject, Node, Pod } from '../api/types.ts';
import { call, startTestCluster, storedKeys, type RawAnswer, type TestCluster } from '../../test/helpers/apiserver.ts';
import { resourceForKind } from './resources.ts';

const PODS = resourceForKind('v1', 'Pod')!;
const NODES = resourceForKind('v1', 'Node')!;
const CONFIGMAPS = resourceForKind('v1', 'ConfigMap')!;

const configMap = (name: string, data: Record<string, string> = { a: '1' }) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });
const deployment = (name: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } },
});
const pod = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } }) as KubeObject;
const node = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: {} }) as KubeObject;

/** The answer is a Failure Status with this code and reason. */
function assertStatus(answer: RawAnswer, code: number, reason: string): void {
  assert.equal(answer.code, code, `expected HTTP ${code}, got ${answer.code}: ${answer.text.slice(0, 300)}`);
  assert.equal(answer.body?.kind, 'Status', `expected a Status body, got ${answer.text.slice(0, 300)}`);
  assert.equal(answer.body.status, 'Failure');
  assert.equal(answer.body.reason, reason);
  assert.equal(answer.body.code, code, 'expected the Status code to match the HTTP code');
}

describe('Requests the API server refuses', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startTestCluster();
  });
  after(async () => {
    await cluster.stop();
  });

  const names = async (path: string) => ((await call(cluster, { method: 'GET', path })).body.items as KubeObject[]).map((o) => o.metadata.name);

  it('refuses a body over 3 MiB with 413 RequestEntityTooLarge, saying the limit, and stores nothing', async () => {
    const big = configMap('too-big', { blob: 'x'.repeat(3 * 1024 * 1024 + 10) });
    const declared = await call(cluster, { method: 'POST', path: '/api/v1/namespaces/default/configmaps', body: big });
    assertStatus(declared, 413, 'RequestEntityTooLarge');
    assert.match(declared.body.message, /limit is 3145728/);
    // Without Content-Length the server learns the size only while reading; it still stops at 3 MiB.
    const streamed = await call(cluster, { method: 'POST', path: '/api/v1/namespaces/default/configmaps', body: big, chunked: true });
    assertStatus(streamed, 413, 'RequestEntityTooLarge');
    assert.match(streamed.body.message, /limit is 3145728/);
    assert.ok(!(await names('/api/v1/namespaces/default/configmaps')).includes('too-big'), 'expected nothing stored');
    assert.deepEqual(await storedKeys(cluster, '/registry/configmaps/default/too-big'), []);
  });

  it('refuses malformed JSON with 400 BadRequest naming the parse error, and stores nothing', async () => {
    const answer = await call(cluster, { method: 'POST', path: '/api/v1/namespaces/default/configmaps', body: '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"broken"' });
    assertStatus(answer, 400, 'BadRequest');
    assert.match(answer.body.message, /json parse error/);
    assert.match(answer.body.message, /expected/);
    assert.deepEqual(await storedKeys(cluster, '/registry/configmaps/default/broken'), []);
  });

  it('refuses a body of the wrong kind with 400 saying which kind was expected', async () => {
    const answer = await call(cluster, { method: 'POST', path: '/api/v1/namespaces/default/configmaps', body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'wrong-kind' } } });
    assertStatus(answer, 400, 'BadRequest');
    assert.match(answer.body.message, /does not match the expected kind \(ConfigMap\)/);
    assert.deepEqual(await storedKeys(cluster, '/registry/configmaps/default/wrong-kind'), []);
  });

  it('refuses a body that is null, or names another namespace than the URL, with 400 saying what was expected', async () => {
    const empty = await call(cluster, { method: 'POST', path: '/api/v1/namespaces/default/configmaps', body: 'null' });
    assertStatus(empty, 400, 'BadRequest');
    assert.equal(empty.body.message, 'expected a JSON object for a ConfigMap, got null');
    const elsewhere = await call(cluster, { method: 'POST', path: '/api/v1/namespaces/default/configmaps', body: { ...configMap('mismatch'), metadata: { name: 'mismatch', namespace: 'kube-system' } } });
    assertStatus(elsewhere, 400, 'BadRequest');
    assert.equal(elsewhere.body.message, 'the namespace of the provided object does not match the namespace sent on the request');
    assert.deepEqual(await storedKeys(cluster, '/registry/configmaps/default/mismatch'), []);
    assert.deepEqual(await storedKeys(cluster, '/registry/configmaps/kube-system/mismatch'), []);
  });

  it('answers a PUT to a collection or a POST to a named object with 405 MethodNotAllowed, and stores nothing', async () => {
    const put = await call(cluster, { method: 'PUT', path: '/api/v1/namespaces/default/configmaps', body: configMap('put-on-list') });
    assertStatus(put, 405, 'MethodNotAllowed');
    assert.equal(put.body.message, 'the server does not allow this method on the requested resource (PUT configmaps)');
    const post = await call(cluster, { method: 'POST', path: '/api/v1/namespaces/default/configmaps/post-on-name', body: configMap('post-on-name') });
    assertStatus(post, 405, 'MethodNotAllowed');
    assert.deepEqual(await storedKeys(cluster, '/registry/configmaps/default/put-on-list'), []);
    assert.deepEqual(await storedKeys(cluster, '/registry/configmaps/default/post-on-name'), []);
  });

  it('refuses an invalid name with 422 Invalid whose cause names metadata.name and the rule, and stores nothing', async () => {
    const answer = await call(cluster, { method: 'POST', path: '/apis/apps/v1/namespaces/default/deployments', body: deployment('Web_1') });
    assertStatus(answer, 422, 'Invalid');
    const causes = answer.body.details.causes as Array<{ field: string; message: string; reason: string }>;
    const cause = causes.find((c) => c.field === 'metadata.name');
    assert.ok(cause, `expected a cause on metadata.name, got ${JSON.stringify(causes)}`);
    assert.equal(cause.reason, 'FieldValueInvalid');
    assert.match(cause.message, /a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters/);
    assert.match(answer.body.message, /^Deployment\.apps "Web_1" is invalid: metadata\.name: Invalid value: "Web_1"/);
    assert.ok(!(await names('/apis/apps/v1/namespaces/default/deployments')).includes('Web_1'), 'expected nothing stored');
  });

  it('refuses an unknown field under fieldValidation=Strict with 400 naming spec.replicass, and stores nothing', async () => {
    const body = deployment('strict');
    (body.spec as Record<string, unknown>).replicass = 3;
    const answer = await call(cluster, { method: 'POST', path: '/apis/apps/v1/namespaces/default/deployments?fieldValidation=Strict', body });
    assertStatus(answer, 400, 'BadRequest');
    assert.match(answer.body.message, /strict decoding error: unknown field "spec\.replicass"/);
    assert.deepEqual(await storedKeys(cluster, '/registry/deployments/default/strict'), []);
    // Without Strict the same body is stored, with a warning naming the field.
    const warned = await call(cluster, { method: 'POST', path: '/apis/apps/v1/namespaces/default/deployments', body });
    assert.equal(warned.code, 201, warned.text);
    assert.match(String(warned.headers.warning), /unknown field \\?"spec\.replicass\\?"/);
  });

  it('answers an unknown resource with 404 NotFound naming the path', async () => {
    const answer = await call(cluster, { method: 'POST', path: '/api/v1/namespaces/default/widgets', body: { apiVersion: 'v1', kind: 'Widget', metadata: { name: 'w' } } });
    assertStatus(answer, 404, 'NotFound');
    assert.equal(answer.body.message, 'the server could not find the requested resource (/api/v1/namespaces/default/widgets)');
    assertStatus(await call(cluster, { method: 'GET', path: '/apis/example.com/v1/gadgets' }), 404, 'NotFound');
    assert.deepEqual(await storedKeys(cluster, '/registry/widgets/'), []);
  });

  it('answers a request without a token with 401 Unauthorized, and stores nothing', async () => {
    const answer = await call(cluster, { method: 'POST', path: '/api/v1/namespaces/default/configmaps', body: configMap('anonymous'), user: null });
    assertStatus(answer, 401, 'Unauthorized');
    assert.equal(answer.body.message, 'Unauthorized');
    assert.deepEqual(await storedKeys(cluster, '/registry/configmaps/default/anonymous'), []);
    // The public health paths still answer without one.
    assert.equal((await call(cluster, { method: 'GET', path: '/healthz', user: null })).code, 200);
  });

  it('answers a create in a missing namespace with 404 naming the namespace, and stores nothing', async () => {
    const answer = await call(cluster, { method: 'POST', path: '/api/v1/namespaces/nowhere/configmaps', body: configMap('lost') });
    assertStatus(answer, 404, 'NotFound');
    assert.equal(answer.body.message, 'namespaces "nowhere" not found');
    assert.deepEqual(await storedKeys(cluster, '/registry/configmaps/nowhere/'), []);
  });

  it('answers a write of an unknown patch type with 415, and a get of a missing object with 404 naming it', async () => {
    await cluster.admin.create(CONFIGMAPS, { ...configMap('patch-target'), metadata: { name: 'patch-target', namespace: 'default' } } as KubeObject);
    const answer = await call(cluster, { method: 'PATCH', path: '/api/v1/namespaces/default/configmaps/patch-target', body: { data: { a: '2' } }, contentType: 'text/plain' });
    assertStatus(answer, 415, 'UnsupportedMediaType');
    assert.match(answer.body.message, /accepted media types include: application\/json-patch\+json/);
    const missing = await call(cluster, { method: 'GET', path: '/api/v1/namespaces/default/configmaps/ghost' });
    assertStatus(missing, 404, 'NotFound');
    assert.equal(missing.body.message, 'configmaps "ghost" not found');
    assert.deepEqual(missing.body.details, { name: 'ghost', kind: 'configmaps' });
  });
});

describe('Authorization: RBAC and NodeRestriction', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startTestCluster();
    const admin = cluster.admin;
    await admin.create(PODS, pod('on-node-2'));
    await admin.create(PODS, pod('on-node-3'));
    const scheduler = cluster.clientAs('system:kube-scheduler');
    await scheduler.bind('default', 'on-node-2', 'node-2');
    await scheduler.bind('default', 'on-node-3', 'node-3');
    // Each kubelet registers its own Node.
    await cluster.clientAs('system:node:node-2').create(NODES, node('node-2'));
    await cluster.clientAs('system:node:node-3').create(NODES, node('node-3'));
  });
  after(async () => {
    await cluster.stop();
  });

  it('forbids kube-proxy to delete a Pod with 403 in the real wording, and the Pod stays', async () => {
    const answer = await call(cluster, { method: 'DELETE', path: '/api/v1/namespaces/default/pods/on-node-2', user: 'system:kube-proxy' });
    assertStatus(answer, 403, 'Forbidden');
    assert.equal(answer.body.message, 'pods "on-node-2" is forbidden: User "system:kube-proxy" cannot delete resource "pods" in API group "" in the namespace "default"');
    assert.deepEqual(answer.body.details, { name: 'on-node-2', kind: 'pods' });
    assert.deepEqual(await storedKeys(cluster, '/registry/pods/default/on-node-2'), ['/registry/pods/default/on-node-2']);
    // What kube-proxy may do: read Services.
    assert.equal((await call(cluster, { method: 'GET', path: '/api/v1/services', user: 'system:kube-proxy' })).code, 200);
  });

  it('forbids a kubelet to create another node\'s Node, and nothing is stored', async () => {
    const answer = await call(cluster, { method: 'POST', path: '/api/v1/nodes', body: node('node-1'), user: 'system:node:node-2' });
    assertStatus(answer, 403, 'Forbidden');
    assert.equal(answer.body.message, 'nodes "node-1" is forbidden: node "node-2" is not allowed to modify node "node-1"');
    assert.deepEqual(await storedKeys(cluster, '/registry/minions/node-1'), []);
  });

  it('lets a kubelet update its own Node but forbids it to update another node\'s Node, which stays unchanged', async () => {
    const kubelet = cluster.clientAs('system:node:node-2');
    const own = await kubelet.get<Node>(NODES, undefined, 'node-2');
    const updated = await kubelet.update(NODES, { ...own, metadata: { ...own.metadata, labels: { ...own.metadata.labels, mine: 'yes' } } });
    assert.equal(updated.metadata.labels?.mine, 'yes');

    const other = await kubelet.get<Node>(NODES, undefined, 'node-3');
    const before = other.metadata.resourceVersion;
    const answer = await call(cluster, {
      method: 'PUT',
      path: '/api/v1/nodes/node-3',
      body: { ...other, metadata: { ...other.metadata, labels: { hijacked: 'yes' } } },
      user: 'system:node:node-2',
    });
    assertStatus(answer, 403, 'Forbidden');
    assert.equal(answer.body.message, 'nodes "node-3" is forbidden: node "node-2" is not allowed to modify node "node-3"');
    const statusAnswer = await call(cluster, { method: 'PUT', path: '/api/v1/nodes/node-3/status', body: { ...other, status: { phase: 'Lost' } }, user: 'system:node:node-2' });
    assertStatus(statusAnswer, 403, 'Forbidden');
    const after = await cluster.admin.get<Node>(NODES, undefined, 'node-3');
    assert.equal(after.metadata.resourceVersion, before, 'expected node-3 unchanged');
  });

  it('lets a kubelet write the status of a Pod bound to its node but forbids the status of a Pod bound to another node', async () => {
    const kubelet = cluster.clientAs('system:node:node-2');
    const own = await kubelet.get<Pod>(PODS, 'default', 'on-node-2');
    const running = await kubelet.updateStatus(PODS, { ...own, status: { ...own.status, phase: 'Running' } });
    assert.equal(running.status?.phase, 'Running');

    const other = await kubelet.get<Pod>(PODS, 'default', 'on-node-3');
    const answer = await call(cluster, {
      method: 'PUT',
      path: '/api/v1/namespaces/default/pods/on-node-3/status',
      body: { ...other, status: { ...other.status, phase: 'Failed' } },
      user: 'system:node:node-2',
    });
    assertStatus(answer, 403, 'Forbidden');
    assert.equal(answer.body.message, 'pods "on-node-3" is forbidden: node "node-2" can only modify pods with spec.nodeName set to itself');
    const after = await cluster.admin.get<Pod>(PODS, 'default', 'on-node-3');
    assert.equal(after.status?.phase, 'Pending', 'expected the other node\'s Pod unchanged');
    assert.equal(after.metadata.resourceVersion, other.metadata.resourceVersion);
  });

  it('forbids a kubelet to update a Pod\'s spec at all, by RBAC', async () => {
    const own = await cluster.admin.get<Pod>(PODS, 'default', 'on-node-2');
    const answer = await call(cluster, { method: 'PUT', path: '/api/v1/namespaces/default/pods/on-node-2', body: { ...own, metadata: { ...own.metadata, labels: { x: 'y' } } }, user: 'system:node:node-2' });
    assertStatus(answer, 403, 'Forbidden');
    assert.match(answer.body.message, /User "system:node:node-2" cannot update resource "pods" in API group "" in the namespace "default"/);
  });

  it('lets a role binding grant a user access in one namespace only', async () => {
    const admin = cluster.admin;
    const rbac = (kind: string) => resourceForKind('rbac.authorization.k8s.io/v1', kind)!;
    await admin.create(rbac('Role'), {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'cm-reader', namespace: 'default' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
    } as KubeObject);
    const path = '/api/v1/namespaces/default/configmaps';
    const before = await call(cluster, { method: 'GET', path, user: 'system:kube-scheduler' });
    assertStatus(before, 403, 'Forbidden');
    assert.equal(before.body.message, 'configmaps is forbidden: User "system:kube-scheduler" cannot list resource "configmaps" in API group "" in the namespace "default"');
    await admin.create(rbac('RoleBinding'), {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'scheduler-reads-cms', namespace: 'default' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-reader' },
      subjects: [{ kind: 'User', name: 'system:kube-scheduler', apiGroup: 'rbac.authorization.k8s.io' }],
    } as KubeObject);
    assert.equal((await call(cluster, { method: 'GET', path, user: 'system:kube-scheduler' })).code, 200);
    assertStatus(await call(cluster, { method: 'GET', path: '/api/v1/namespaces/kube-system/configmaps', user: 'system:kube-scheduler' }), 403, 'Forbidden');
    assertStatus(await call(cluster, { method: 'POST', path, body: configMap('sneaky'), user: 'system:kube-scheduler' }), 403, 'Forbidden');
    assert.deepEqual(await storedKeys(cluster, '/registry/configmaps/default/sneaky'), []);
  });
});
