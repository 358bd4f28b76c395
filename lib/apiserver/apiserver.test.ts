/**
 * The API server through HTTP, as a client sees it: CRUD of every kind the
 * workbook uses, where objects land in the store, resourceVersions and
 * conflicts, the status and scale subresources, binding, ClusterIPs, Events
 * on a lease, the four patch types, and many writers on one counter.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConfigMap, KubeObject, Pod, Scale, Service, Status } from '../api/types.ts';
import { isConflict, retryOnConflict } from '../client/client.ts';
import { call, startTestCluster, storedKeys, type TestCluster } from '../../test/helpers/apiserver.ts';
import { resourceForKind, type ResourceInfo } from './resources.ts';

function info(apiVersion: string, kind: string): ResourceInfo {
  const found = resourceForKind(apiVersion, kind);
  if (!found) throw new Error(`expected a resource for ${apiVersion} ${kind}`);
  return found;
}

const NAMESPACES = info('v1', 'Namespace');
const PODS = info('v1', 'Pod');
const NODES = info('v1', 'Node');
const SERVICES = info('v1', 'Service');
const ENDPOINTS = info('v1', 'Endpoints');
const EVENTS = info('v1', 'Event');
const CONFIGMAPS = info('v1', 'ConfigMap');
const LEASES = info('coordination.k8s.io/v1', 'Lease');
const DEPLOYMENTS = info('apps/v1', 'Deployment');
const REPLICASETS = info('apps/v1', 'ReplicaSet');
const JOBS = info('batch/v1', 'Job');

const template = (app: string) => ({ metadata: { labels: { app } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } });

/** One valid object of each kind, named `name`, in namespace `ns` where the kind is namespaced. */
function sample(kind: string, name: string, ns = 'default'): KubeObject {
  switch (kind) {
    case 'Namespace':
      return { apiVersion: 'v1', kind, metadata: { name } };
    case 'Pod':
      return { apiVersion: 'v1', kind, metadata: { name, namespace: ns, labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } as KubeObject;
    case 'Node':
      return { apiVersion: 'v1', kind, metadata: { name, labels: { 'kubernetes.io/hostname': name } }, spec: {} } as KubeObject;
    case 'Service':
      return { apiVersion: 'v1', kind, metadata: { name, namespace: ns }, spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] } } as KubeObject;
    case 'Endpoints':
      return { apiVersion: 'v1', kind, metadata: { name, namespace: ns }, subsets: [{ addresses: [{ ip: '10.244.1.5' }], ports: [{ port: 8080 }] }] } as KubeObject;
    case 'Event':
      return {
        apiVersion: 'v1',
        kind,
        metadata: { name, namespace: ns },
        involvedObject: { kind: 'Pod', name: 'web', namespace: ns },
        reason: 'Scheduled',
        message: 'Successfully assigned default/web to node-2',
        type: 'Normal',
      } as KubeObject;
    case 'ConfigMap':
      return { apiVersion: 'v1', kind, metadata: { name, namespace: ns }, data: { greeting: 'hello' } } as KubeObject;
    case 'Lease':
      return { apiVersion: 'coordination.k8s.io/v1', kind, metadata: { name, namespace: ns }, spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40 } } as KubeObject;
    case 'Deployment':
      return { apiVersion: 'apps/v1', kind, metadata: { name, namespace: ns }, spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: template(name) } } as KubeObject;
    case 'ReplicaSet':
      return { apiVersion: 'apps/v1', kind, metadata: { name, namespace: ns }, spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: template(name) } } as KubeObject;
    case 'Job':
      return {
        apiVersion: 'batch/v1',
        kind,
        metadata: { name, namespace: ns },
        spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl:5.34', command: ['perl', '-e', 'print 1'] }] } } },
      } as KubeObject;
    default:
      throw new Error(`expected a kind this test knows, got ${kind}`);
  }
}

/** The change an update makes to each kind: a label, which every kind takes. */
function relabel(object: KubeObject): KubeObject {
  const copy = structuredClone(object);
  copy.metadata.labels = { ...(copy.metadata.labels ?? {}), touched: 'yes' };
  return copy;
}

describe('The API server over HTTPS', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startTestCluster();
  });
  after(async () => {
    await cluster.stop();
  });

  // ---- CRUD and where objects live -----------------------------------------

  const kinds: Array<[ResourceInfo, string]> = [
    [NAMESPACES, '/registry/namespaces/'],
    [PODS, '/registry/pods/default/'],
    [NODES, '/registry/minions/'],
    [SERVICES, '/registry/services/specs/default/'],
    [ENDPOINTS, '/registry/services/endpoints/default/'],
    [EVENTS, '/registry/events/default/'],
    [CONFIGMAPS, '/registry/configmaps/default/'],
    [LEASES, '/registry/leases/default/'],
    [DEPLOYMENTS, '/registry/deployments/default/'],
    [REPLICASETS, '/registry/replicasets/default/'],
    [JOBS, '/registry/jobs/default/'],
  ];
  for (const [resource, prefix] of kinds) {
    it(`creates, reads, lists, updates and deletes ${resource.resource}, keeping each under ${prefix} with the store revision as resourceVersion`, async () => {
      const admin = cluster.admin;
      const name = `crud-${resource.singular}`;
      const created = await admin.create(resource, sample(resource.kind, name));
      const key = `${prefix}${name}`;
      assert.deepEqual(await storedKeys(cluster, key), [key], `expected the ${resource.kind} at ${key}`);
      const kv = (await cluster.store!.range({ key: Buffer.from(key) })).kvs[0]!;
      assert.equal(created.metadata.resourceVersion, String(kv.modRevision), 'expected resourceVersion to be the key mod revision');
      assert.equal(created.metadata.resourceVersion, String(cluster.store!.revision), 'expected a create to be the last store revision');
      assert.ok(created.metadata.uid, 'expected a uid');
      assert.ok(created.metadata.creationTimestamp, 'expected a creationTimestamp');
      // What is stored is the JSON object without its resourceVersion (the revision stands for it).
      const stored = JSON.parse(kv.value.toString()) as KubeObject;
      assert.equal(stored.kind, resource.kind);
      assert.equal(stored.metadata.resourceVersion, undefined, 'expected no resourceVersion inside the stored value');

      const got = await admin.get(resource, created.metadata.namespace, name);
      assert.deepEqual(got, created);
      const list = await admin.list(resource, { namespace: created.metadata.namespace });
      assert.ok(list.items.some((o) => o.metadata.name === name), `expected ${name} in the list`);
      assert.ok(Number(list.metadata.resourceVersion) >= Number(created.metadata.resourceVersion), 'expected the list at or after the create');

      const updated = await admin.update(resource, relabel(got));
      assert.equal(updated.metadata.labels?.touched, 'yes');
      assert.ok(Number(updated.metadata.resourceVersion) > Number(created.metadata.resourceVersion), 'expected a new resourceVersion after an update');
      assert.equal(updated.metadata.uid, created.metadata.uid, 'expected the uid to stay');

      await admin.delete(resource, created.metadata.namespace, name);
      if (resource.kind === 'Namespace') {
        // A Namespace stays, Terminating, until the namespace controller empties spec.finalizers.
        const terminating = await admin.get(resource, undefined, name);
        assert.equal((terminating.status as { phase?: string }).phase, 'Terminating');
        assert.ok(terminating.metadata.deletionTimestamp, 'expected a deletionTimestamp');
        assert.deepEqual(await storedKeys(cluster, key), [key], 'expected the Namespace kept while spec.finalizers is not empty');
        const refused = await call(cluster, { method: 'POST', path: `/api/v1/namespaces/${name}/configmaps`, body: sample('ConfigMap', 'late', name) });
        assert.equal(refused.code, 403, refused.text);
        assert.match(refused.body.message, /because it is being terminated/);
        await admin.update(resource, { ...terminating, spec: { finalizers: [] } });
        assert.deepEqual(await storedKeys(cluster, key), [], 'expected the Namespace gone once its finalizers are empty');
        return;
      }
      assert.deepEqual(await storedKeys(cluster, key), [], `expected ${key} gone after delete`);
      await assert.rejects(admin.get(resource, created.metadata.namespace, name), (e: Error & { code?: number }) => e.code === 404);
    });
  }

  // ---- optimistic concurrency ----------------------------------------------

  it('refuses a PUT carrying a stale resourceVersion with 409 Conflict and the real message, and stores nothing', async () => {
    const admin = cluster.admin;
    const first = await admin.create(DEPLOYMENTS, sample('Deployment', 'stale'));
    await admin.update(DEPLOYMENTS, relabel(first));
    const stale = { ...first, spec: { ...(first.spec as object), replicas: 7 } };
    const answer = await call(cluster, { method: 'PUT', path: '/apis/apps/v1/namespaces/default/deployments/stale', body: stale });
    assert.equal(answer.code, 409);
    assert.equal(answer.body.reason, 'Conflict');
    assert.equal(
      answer.body.message,
      'Operation cannot be fulfilled on deployments.apps "stale": the object has been modified; please apply your changes to the latest version and try again',
    );
    const now = await admin.get(DEPLOYMENTS, 'default', 'stale');
    assert.equal((now.spec as { replicas: number }).replicas, 2, 'expected the stale write not stored');
  });

  it('treats a PUT without resourceVersion as unconditional', async () => {
    const admin = cluster.admin;
    const first = await admin.create(CONFIGMAPS, sample('ConfigMap', 'unconditional'));
    await admin.update(CONFIGMAPS, relabel(first));
    const blind = { ...first, metadata: { ...first.metadata, resourceVersion: undefined }, data: { greeting: 'bye' } };
    const written = await admin.update(CONFIGMAPS, blind as ConfigMap);
    assert.deepEqual((written as ConfigMap).data, { greeting: 'bye' });
  });

  it('fills in the namespace of a PUT body that names none from the URL', async () => {
    const admin = cluster.admin;
    const first = await admin.create(CONFIGMAPS, sample('ConfigMap', 'no-namespace'));
    const { namespace: _ns, ...metadata } = first.metadata;
    const written = (await admin.request({
      method: 'PUT',
      path: `/api/v1/namespaces/default/configmaps/no-namespace`,
      body: { ...first, metadata, data: { greeting: 'hi' } },
    })) as ConfigMap;
    assert.equal(written.metadata.namespace, 'default');
    assert.deepEqual(written.data, { greeting: 'hi' });
  });

  // ---- status, generation ----------------------------------------------------

  it('ignores status on create and PUT and writes it only through /status', async () => {
    const admin = cluster.admin;
    const input = { ...sample('Deployment', 'status-split'), status: { replicas: 99 } } as KubeObject;
    const created = await admin.create(DEPLOYMENTS, input);
    assert.deepEqual(created.status, {}, 'expected a create to reset status');
    const put: KubeObject = await admin.update(DEPLOYMENTS, { ...created, status: { replicas: 5 } });
    assert.deepEqual(put.status, {}, 'expected a PUT to keep the stored status');
    const viaStatus = await admin.updateStatus(DEPLOYMENTS, { ...put, spec: { ...(put.spec as object), replicas: 9 }, status: { replicas: 5, observedGeneration: 1 } });
    assert.deepEqual(viaStatus.status, { replicas: 5, observedGeneration: 1 });
    assert.equal((viaStatus.spec as { replicas: number }).replicas, 2, 'expected /status to ignore spec');
    assert.equal(viaStatus.metadata.generation, 1, 'expected a status write not to bump generation');
  });

  it('bumps generation when spec changes and only then', async () => {
    const admin = cluster.admin;
    const created = await admin.create(DEPLOYMENTS, sample('Deployment', 'generations'));
    assert.equal(created.metadata.generation, 1);
    const labelled = await admin.update(DEPLOYMENTS, relabel(created));
    assert.equal(labelled.metadata.generation, 1, 'expected a metadata change to keep generation');
    const scaled = await admin.update(DEPLOYMENTS, { ...labelled, spec: { ...(labelled.spec as object), replicas: 3 } });
    assert.equal(scaled.metadata.generation, 2, 'expected a spec change to bump generation');
    const patched = await admin.patch(DEPLOYMENTS, 'default', 'generations', { spec: { replicas: 4 } }, 'merge');
    assert.equal(patched.metadata.generation, 3);
    const sameSpec = await admin.patch(DEPLOYMENTS, 'default', 'generations', { spec: { replicas: 4 } }, 'merge');
    assert.equal(sameSpec.metadata.generation, 3, 'expected an unchanged spec to keep generation');
  });

  // ---- scale -----------------------------------------------------------------

  it('serves the scale subresource as an autoscaling/v1 Scale, and a scale patch changes spec.replicas', async () => {
    const admin = cluster.admin;
    const created = await admin.create(DEPLOYMENTS, sample('Deployment', 'scalable'));
    const scale = await admin.getScale(DEPLOYMENTS, 'default', 'scalable');
    assert.equal(scale.apiVersion, 'autoscaling/v1');
    assert.equal(scale.kind, 'Scale');
    assert.deepEqual(scale.spec, { replicas: 2 });
    assert.equal(scale.status?.selector, 'app=scalable');
    assert.equal(scale.metadata.resourceVersion, created.metadata.resourceVersion);
    const patched: Scale = await admin.patchScale(DEPLOYMENTS, 'default', 'scalable', 5);
    assert.equal(patched.kind, 'Scale');
    assert.deepEqual(patched.spec, { replicas: 5 });
    const after = await admin.get(DEPLOYMENTS, 'default', 'scalable');
    assert.equal((after.spec as { replicas: number }).replicas, 5);
    assert.equal(after.metadata.generation, 2);
    // A Scale written with a stale resourceVersion is refused like any stale write.
    const stale = await call(cluster, { method: 'PUT', path: '/apis/apps/v1/namespaces/default/deployments/scalable/scale', body: { ...scale, spec: { replicas: 9 } } });
    assert.equal(stale.code, 409, stale.text);
    assert.equal(stale.body.reason, 'Conflict');
    assert.equal(((await admin.get(DEPLOYMENTS, 'default', 'scalable')).spec as { replicas: number }).replicas, 5, 'expected the stale Scale not stored');
    const rsScale = await call(cluster, { method: 'GET', path: '/apis/apps/v1/namespaces/default/replicasets/crud-missing/scale' });
    assert.equal(rsScale.code, 404);
  });

  // ---- binding -----------------------------------------------------------------

  it('binds a Pod by setting nodeName and PodScheduled, and refuses a second binding with 409', async () => {
    const admin = cluster.admin;
    await admin.create(PODS, sample('Pod', 'to-bind'));
    const scheduler = cluster.clientAs('system:kube-scheduler');
    const status = await scheduler.bind('default', 'to-bind', 'node-2');
    assert.equal((status as Status).status, 'Success');
    assert.equal((status as Status).code, 201, 'a bare Success Status whose code the create handler filled in');
    const bound = (await admin.get(PODS, 'default', 'to-bind')) as Pod;
    assert.equal(bound.spec.nodeName, 'node-2');
    const condition = bound.status?.conditions?.find((c) => c.type === 'PodScheduled');
    assert.equal(condition?.status, 'True');
    const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'to-bind' }, target: { kind: 'Node', name: 'node-3' } };
    const again = await call(cluster, { method: 'POST', path: '/api/v1/namespaces/default/pods/to-bind/binding', body: binding, user: 'system:kube-scheduler' });
    assert.equal(again.code, 409);
    assert.equal(again.body.reason, 'Conflict');
    assert.equal(again.body.message, 'Operation cannot be fulfilled on pods/binding "to-bind": pod to-bind is already assigned to node "node-2"');
    assert.equal(((await admin.get(PODS, 'default', 'to-bind')) as Pod).spec.nodeName, 'node-2', 'expected the first binding to stand');
  });

  // ---- ClusterIP -------------------------------------------------------------

  it('allocates ClusterIPs from 10.96.0.0/12 and never gives one twice, even to 20 Services created at once', async () => {
    const admin = cluster.admin;
    const services = await Promise.all(Array.from({ length: 20 }, (_, i) => admin.create(SERVICES, sample('Service', `svc-${i}`)) as Promise<Service>));
    const ips = services.map((s) => s.spec.clusterIP ?? '');
    const all = (await admin.list<Service>(SERVICES)).items.map((s) => s.spec.clusterIP ?? '');
    assert.equal(new Set(all).size, all.length, `expected distinct ClusterIPs, got ${all.join(' ')}`);
    for (const ip of ips) {
      const [a, b] = ip.split('.').map(Number);
      assert.ok(a === 10 && b !== undefined && b >= 96 && b < 112, `expected ${ip} inside 10.96.0.0/12`);
      assert.notEqual(ip, '10.96.0.1', 'expected 10.96.0.1 kept for the kubernetes Service');
    }
    const kubernetes = await admin.get<Service>(SERVICES, 'default', 'kubernetes');
    assert.equal(kubernetes.spec.clusterIP, '10.96.0.1');
    for (const s of services) assert.deepEqual(s.spec.clusterIPs, [s.spec.clusterIP]);
  });

  it('refuses a Service that asks for a ClusterIP already taken, with 422 naming spec.clusterIP', async () => {
    const answer = await call(cluster, {
      method: 'POST',
      path: '/api/v1/namespaces/default/services',
      body: { ...sample('Service', 'ip-thief'), spec: { clusterIP: '10.96.0.1', ports: [{ port: 80 }] } },
    });
    assert.equal(answer.code, 422);
    assert.equal(answer.body.details.causes[0].field, 'spec.clusterIP');
    assert.match(answer.body.message, /already allocated/);
    assert.deepEqual(await storedKeys(cluster, '/registry/services/specs/default/ip-thief'), []);
  });

  // ---- events ---------------------------------------------------------------

  it('stores Events on a store lease so that they expire', async () => {
    const event = await cluster.admin.create(EVENTS, sample('Event', 'expiring'));
    const kv = (await cluster.store!.range({ key: Buffer.from('/registry/events/default/expiring') })).kvs[0];
    assert.ok(kv, 'expected the Event in the store');
    assert.ok(kv.lease > 0, `expected the Event key on a lease, got lease ${kv.lease}`);
    const ttl = await cluster.store!.leaseTimeToLive(kv.lease);
    assert.ok(ttl.ttl > 3600 - 5 && ttl.grantedTtl >= 3600, `expected about an hour to live, got ${ttl.ttl} of ${ttl.grantedTtl}`);
    // An update keeps the Event on its lease (ignoreLease).
    await cluster.admin.update(EVENTS, relabel(event));
    const after = (await cluster.store!.range({ key: Buffer.from('/registry/events/default/expiring') })).kvs[0];
    assert.equal(after?.lease, kv.lease, 'expected an update to keep the lease');
    const other = (await cluster.store!.range({ key: Buffer.from('/registry/configmaps/default/crud-configmap') })).kvs[0];
    assert.equal(other?.lease ?? 0, 0, 'expected other kinds without a lease');
  });
});

describe('The four patch types through HTTP', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startTestCluster();
  });
  after(async () => {
    await cluster.stop();
  });

  const podPath = '/api/v1/namespaces/default/pods/patched';

  before(async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'patched', labels: { app: 'web', tier: 'front' } },
      spec: {
        containers: [
          { name: 'web', image: 'nginx:1.27', env: [{ name: 'A', value: '1' }] },
          { name: 'sidecar', image: 'busybox:1.36' },
        ],
      },
    };
    await cluster.admin.create(PODS, pod as KubeObject);
  });

  it('applies a strategic merge patch by merge key and orders the list by $setElementOrder', async () => {
    const deployment = sample('Deployment', 'smp') as KubeObject & { spec: { template: { spec: { containers: unknown[] } } } };
    deployment.spec.template.spec.containers = [
      { name: 'web', image: 'nginx:1.27', env: [{ name: 'A', value: '1' }] },
      { name: 'sidecar', image: 'busybox:1.36' },
    ];
    await cluster.admin.create(DEPLOYMENTS, deployment);
    const patch = {
      metadata: { labels: { tier: 'front' } },
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'web' }],
            containers: [{ name: 'web', image: 'nginx:1.28' }],
          },
        },
      },
    };
    const answer = await call(cluster, { method: 'PATCH', path: '/apis/apps/v1/namespaces/default/deployments/smp', body: patch, contentType: 'application/strategic-merge-patch+json' });
    assert.equal(answer.code, 200, answer.text);
    assert.deepEqual(answer.body.metadata.labels, { tier: 'front' });
    const containers = answer.body.spec.template.spec.containers as Array<{ name: string; image: string; env?: unknown }>;
    assert.deepEqual(containers.map((c) => c.name), ['sidecar', 'web'], 'expected $setElementOrder to order the containers');
    const web = containers.find((c) => c.name === 'web');
    assert.equal(web?.image, 'nginx:1.28');
    assert.deepEqual(web?.env, [{ name: 'A', value: '1' }], 'expected the merge by name to keep the other fields of the container');
    assert.equal(containers.find((c) => c.name === 'sidecar')?.image, 'busybox:1.36');
    assert.equal(answer.text.includes('$setElementOrder'), false, 'expected no directive left in the stored object');
    // On a Pod, the same patch deletes a label by null and changes an image in place.
    const onPod = await call(cluster, {
      method: 'PATCH',
      path: podPath,
      body: { metadata: { labels: { tier: null } }, spec: { containers: [{ name: 'web', image: 'nginx:1.28' }] } },
      contentType: 'application/strategic-merge-patch+json',
    });
    assert.equal(onPod.code, 200, onPod.text);
    assert.deepEqual(onPod.body.metadata.labels, { app: 'web' });
    assert.deepEqual((onPod.body as Pod).spec.containers.map((c) => `${c.name}=${c.image}`), ['web=nginx:1.28', 'sidecar=busybox:1.36']);
  });

  it('applies a JSON merge patch, where a list is replaced whole and null deletes', async () => {
    await cluster.admin.create(DEPLOYMENTS, sample('Deployment', 'merged'));
    const answer = await call(cluster, {
      method: 'PATCH',
      path: '/apis/apps/v1/namespaces/default/deployments/merged',
      body: { metadata: { labels: { gone: null, merged: 'yes' } }, spec: { template: { spec: { containers: [{ name: 'api', image: 'httpd:2.4' }] } } } },
      contentType: 'application/merge-patch+json',
    });
    assert.equal(answer.code, 200, answer.text);
    assert.deepEqual(answer.body.metadata.labels, { merged: 'yes' });
    const containers = answer.body.spec.template.spec.containers as Array<{ name: string; image: string }>;
    assert.deepEqual(containers.map((c) => `${c.name}=${c.image}`), ['api=httpd:2.4'], 'expected the merge patch to replace the containers list whole');
    assert.equal(answer.body.metadata.generation, 2);
  });

  it('applies a JSON patch, and a failing test op is refused and changes nothing', async () => {
    const ok = await call(cluster, {
      method: 'PATCH',
      path: podPath,
      body: [
        { op: 'test', path: '/metadata/labels/app', value: 'web' },
        { op: 'add', path: '/metadata/annotations', value: { 'example.com/by': 'json-patch' } },
      ],
      contentType: 'application/json-patch+json',
    });
    assert.equal(ok.code, 200, ok.text);
    assert.deepEqual(ok.body.metadata.annotations, { 'example.com/by': 'json-patch' });
    const before = ok.body.metadata.resourceVersion;

    const failing = await call(cluster, {
      method: 'PATCH',
      path: podPath,
      body: [
        { op: 'add', path: '/metadata/labels/evil', value: 'yes' },
        { op: 'test', path: '/metadata/labels/app', value: 'db' },
      ],
      contentType: 'application/json-patch+json',
    });
    // The real server answers a failed patch operation as a generic 422 whose cause is the patch library's error.
    assert.equal(failing.code, 422, failing.text);
    assert.equal(failing.body.reason, 'Invalid');
    assert.match(failing.body.details.causes[0].message, /testing value \/metadata\/labels\/app failed/, 'expected the cause to name the failed test');
    const pod = await cluster.admin.get(PODS, 'default', 'patched');
    assert.equal(pod.metadata.resourceVersion, before, 'expected nothing written');
    assert.equal(pod.metadata.labels?.evil, undefined);
  });

  it('server-side applies a missing object into existence and merges a second manager into an existing one', async () => {
    const admin = cluster.admin;
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied', namespace: 'default' }, data: { a: '1' } };
    const created = await admin.apply(CONFIGMAPS, cm as ConfigMap, { fieldManager: 'alice' });
    assert.deepEqual(created.data, { a: '1' });
    assert.ok(created.metadata.uid, 'expected apply to create the object');
    const other = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied', namespace: 'default' }, data: { b: '2' } };
    const merged = await admin.apply(CONFIGMAPS, other as ConfigMap, { fieldManager: 'bob' });
    assert.deepEqual(merged.data, { a: '1', b: '2' }, 'expected two managers fields side by side');
    const managers = (merged.metadata.managedFields ?? []).map((m) => m.manager).sort();
    assert.deepEqual(managers, ['alice', 'bob']);
    // alice applies again without `a`: her field goes, bob's stays.
    const dropped = await admin.apply(CONFIGMAPS, { ...cm, data: { c: '3' } } as ConfigMap, { fieldManager: 'alice' });
    assert.deepEqual(dropped.data, { b: '2', c: '3' });
    const conflictAnswer = await call(cluster, {
      method: 'PATCH',
      path: '/api/v1/namespaces/default/configmaps/applied?fieldManager=carol',
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied' }, data: { b: 'mine' } },
      contentType: 'application/apply-patch+yaml',
    });
    assert.equal(conflictAnswer.code, 409, conflictAnswer.text);
    assert.equal(conflictAnswer.body.reason, 'Conflict');
    assert.match(conflictAnswer.body.message, /conflict/i);
  });
});

describe('Many writers on one counter', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startTestCluster();
  });
  after(async () => {
    await cluster.stop();
  });

  it('ends at exactly 1000 when 50 writers each add 1 twenty times with GET, PUT and retry on conflict', async () => {
    const admin = cluster.admin;
    await admin.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'counter', namespace: 'default' }, data: { n: '0' } } as ConfigMap);
    let conflicts = 0;
    const addOne = async () => {
      const current = await admin.get<ConfigMap>(CONFIGMAPS, 'default', 'counter');
      const next = { ...current, data: { n: String(Number(current.data?.n ?? '0') + 1) } };
      try {
        return await admin.update(CONFIGMAPS, next);
      } catch (error) {
        if (isConflict(error)) conflicts++;
        throw error;
      }
    };
    // Why rounds of retryOnConflict: its wait doubles per attempt, and with 50 writers one
    // writer can lose many times in a row; a fresh round starts the wait small again.
    const increment = async () => {
      for (;;) {
        try {
          return await retryOnConflict(addOne, { attempts: 8, initialDelayMs: 5 });
        } catch (error) {
          if (!isConflict(error)) throw error;
        }
      }
    };
    const writer = async () => {
      for (let i = 0; i < 20; i++) await increment();
    };
    await Promise.all(Array.from({ length: 50 }, writer));
    const final = await admin.get<ConfigMap>(CONFIGMAPS, 'default', 'counter');
    assert.equal(final.data?.n, '1000');
    assert.ok(conflicts > 0, 'expected the writers to have collided at least once');
  });
});
