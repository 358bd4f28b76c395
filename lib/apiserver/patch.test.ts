import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../api/types.ts';
import { decodeFieldsV1, encodeFieldsV1, jsonPatch, mergePatch, recordUpdate, serverSideApply, strategicMergePatch, type ApplyOptions } from './patch.ts';
import { ApiError } from './status.ts';

/** Freeze a value all the way down, so that any change to a function's input throws. */
function frozen<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) frozen(child);
    Object.freeze(value);
  }
  return value;
}

/** Run `fn`, expecting an ApiError; return its Status for the test to check. */
function statusOf(fn: () => unknown): ApiError['status'] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ApiError, `expected an ApiError, got ${String(error)}`);
    return error.status;
  }
  assert.fail('expected an ApiError, got none');
}

// ---- JSON merge patch ---------------------------------------------------------

describe('JSON merge patch (RFC 7386)', () => {
  // Appendix A of RFC 7386, row by row.
  const rfc7386: Array<[unknown, unknown, unknown]> = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [original, patch, result] of rfc7386) {
    it(`merges ${JSON.stringify(patch)} into ${JSON.stringify(original)} to give ${JSON.stringify(result)}`, () => {
      assert.deepEqual(mergePatch(frozen(original), frozen(patch)), result);
    });
  }

  it('scales a Deployment as kubectl scale does, leaving the rest of the object alone', () => {
    const live = frozen({ spec: { replicas: 1, template: { spec: { containers: [{ name: 'web' }] } } } });
    assert.deepEqual(mergePatch(live, { spec: { replicas: 5 } }), { spec: { replicas: 5, template: { spec: { containers: [{ name: 'web' }] } } } });
  });
});

// ---- JSON patch -------------------------------------------------------------------

describe('JSON patch (RFC 6902)', () => {
  // Appendix A of RFC 6902: the examples that succeed.
  const succeed: Array<[string, unknown, unknown[], unknown]> = [
    ['A.1 adds an object member', { foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }], { baz: 'qux', foo: 'bar' }],
    ['A.2 adds an array element', { foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }], { foo: ['bar', 'qux', 'baz'] }],
    ['A.3 removes an object member', { baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }], { foo: 'bar' }],
    ['A.4 removes an array element', { foo: ['bar', 'qux', 'baz'] }, [{ op: 'remove', path: '/foo/1' }], { foo: ['bar', 'baz'] }],
    ['A.5 replaces a value', { baz: 'qux', foo: 'bar' }, [{ op: 'replace', path: '/baz', value: 'boo' }], { baz: 'boo', foo: 'bar' }],
    [
      'A.6 moves a value',
      { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } },
      [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }],
      { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } },
    ],
    ['A.7 moves an array element', { foo: ['all', 'grass', 'cows', 'eat'] }, [{ op: 'move', from: '/foo/1', path: '/foo/3' }], { foo: ['all', 'cows', 'eat', 'grass'] }],
    [
      'A.8 passes a test',
      { baz: 'qux', foo: ['a', 2, 'c'] },
      [{ op: 'test', path: '/baz', value: 'qux' }, { op: 'test', path: '/foo/1', value: 2 }],
      { baz: 'qux', foo: ['a', 2, 'c'] },
    ],
    ['A.10 adds a nested member object', { foo: 'bar' }, [{ op: 'add', path: '/child', value: { grandchild: {} } }], { foo: 'bar', child: { grandchild: {} } }],
    ['A.11 ignores unrecognized members of an operation', { foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux', xyz: 123 }], { foo: 'bar', baz: 'qux' }],
    ['A.14 unescapes ~01 to ~1, not to /', { '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: 10 }], { '/': 9, '~1': 10 }],
    ['A.16 adds an array value at the end with -', { foo: ['bar'] }, [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }], { foo: ['bar', ['abc', 'def']] }],
    ['copies a value', { a: { b: 1 } }, [{ op: 'copy', from: '/a', path: '/c' }], { a: { b: 1 }, c: { b: 1 } }],
    ['replaces the whole document at the empty path', { a: 1 }, [{ op: 'replace', path: '', value: { b: 2 } }], { b: 2 }],
  ];
  for (const [name, original, operations, result] of succeed) {
    it(name, () => assert.deepEqual(jsonPatch(frozen(original), frozen(operations)), result));
  }

  // Appendix A of RFC 6902: the examples that fail, and a few more; each is the real 422.
  const fail: Array<[string, unknown, unknown[], string]> = [
    ['A.9 fails a test', { baz: 'qux' }, [{ op: 'test', path: '/baz', value: 'bar' }], 'testing value /baz failed: test failed'],
    ['A.12 refuses to add to a missing parent', { foo: 'bar' }, [{ op: 'add', path: '/baz/bat', value: 'qux' }], 'add operation does not apply: doc is missing path: "/baz/bat": missing value'],
    ['A.15 tells a string from a number', { '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: '10' }], 'testing value /~01 failed: test failed'],
    ['refuses to remove a missing member', { a: 1 }, [{ op: 'remove', path: '/b' }], 'remove operation does not apply: doc is missing path: "/b": missing value'],
    ['refuses to replace a missing member', { a: 1 }, [{ op: 'replace', path: '/b', value: 2 }], 'replace operation does not apply: doc is missing key: /b: missing value'],
    ['refuses an index past the end', { a: [1] }, [{ op: 'add', path: '/a/5', value: 2 }], 'add operation does not apply: index 5 is out of range for a list of 1'],
    ['refuses to move a value into its own child', { a: { b: 1 } }, [{ op: 'move', from: '/a', path: '/a/b/c' }], 'move operation does not apply: the from path /a is a prefix of the path /a/b/c'],
    ['refuses an unknown operation', { a: 1 }, [{ op: 'frobnicate', path: '/a' }], 'Unexpected kind: frobnicate'],
  ];
  for (const [name, original, operations, cause] of fail) {
    it(`${name}, as a 422 that carries the reason as its cause`, () => {
      const status = statusOf(() => jsonPatch(frozen(original), frozen(operations)));
      assert.equal(status.code, 422);
      assert.equal(status.reason, 'Invalid');
      assert.equal(status.message, 'the server rejected our request due to an error in our request');
      assert.deepEqual(status.details?.causes, [{ reason: 'UnexpectedServerResponse', message: cause }]);
    });
  }

  it('applies operations in order and all or nothing: a later failure leaves the input untouched', () => {
    const original = frozen({ a: 1 });
    assert.equal(statusOf(() => jsonPatch(original, [{ op: 'add', path: '/b', value: 2 }, { op: 'test', path: '/a', value: 9 }])).code, 422);
    assert.deepEqual(original, { a: 1 });
  });

  it('answers a body that is not a list of operations with 400 BadRequest', () => {
    const status = statusOf(() => jsonPatch({}, { op: 'add', path: '/a', value: 1 }));
    assert.deepEqual([status.code, status.reason], [400, 'BadRequest']);
  });

  it('refuses copies that would add more than 3 MiB, as JSONPatchMaxCopyBytes does', () => {
    const big = 'x'.repeat(1024 * 1024);
    const copies = Array.from({ length: 4 }, (_, i) => ({ op: 'copy', from: '/big', path: `/copy${i}` }));
    const status = statusOf(() => jsonPatch({ big }, copies));
    assert.equal(status.code, 422);
    assert.match(status.details?.causes?.[0]?.message ?? '', /^Unable to complete the copy, the accumulated size increase of copy is \d+, exceeding the limit 3145728$/);
  });

  it('rolls a Deployment back as kubectl rollout undo does', () => {
    const live = frozen({ metadata: { annotations: { 'deployment.kubernetes.io/revision': '2' } }, spec: { template: { spec: { containers: [{ name: 'web', image: 'web:2' }] } } } });
    const undo = [
      { op: 'replace', path: '/spec/template', value: { spec: { containers: [{ name: 'web', image: 'web:1' }] } } },
      { op: 'replace', path: '/metadata/annotations', value: { 'deployment.kubernetes.io/revision': '1' } },
    ];
    assert.deepEqual(jsonPatch(live, undo), { metadata: { annotations: { 'deployment.kubernetes.io/revision': '1' } }, spec: { template: { spec: { containers: [{ name: 'web', image: 'web:1' }] } } } });
  });
});

// ---- strategic merge patch ------------------------------------------------------------

function liveDeployment(): Record<string, any> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web', tier: 'front' }, finalizers: ['a', 'b'] },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'nginx',
              image: 'nginx:1.14.2',
              args: ['-g', 'daemon off;'],
              ports: [{ containerPort: 80, name: 'http' }],
              env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }],
            },
            { name: 'sidecar', image: 'busybox' },
          ],
          tolerations: [{ key: 'x', operator: 'Exists' }],
          affinity: { nodeAffinity: { preferred: [{ weight: 1 }] } },
        },
      },
    },
  };
}

/** Apply a strategic merge patch to a fresh live Deployment, checking that neither input changes. */
function smp(patch: unknown, live: Record<string, any> = liveDeployment()): Record<string, any> {
  return strategicMergePatch(frozen(live), frozen(patch), 'apps/v1', 'Deployment') as Record<string, any>;
}

const containersOf = (d: Record<string, any>) => d.spec.template.spec.containers as Array<Record<string, any>>;

describe('strategic merge patch', () => {
  it('applies the exact patch kubectl apply sends: replicas set, the image changed, the directive gone', () => {
    const patch = {
      metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"kind":"Deployment"}' } },
      spec: { replicas: 3, template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'sidecar' }], containers: [{ image: 'nginx:1.26', name: 'nginx' }] } } },
    };
    const result = smp(patch);
    assert.equal(result.spec.replicas, 3);
    assert.deepEqual(containersOf(result).map((c) => [c.name, c.image]), [['nginx', 'nginx:1.26'], ['sidecar', 'busybox']]);
    assert.deepEqual(containersOf(result)[0]?.ports, [{ containerPort: 80, name: 'http' }], 'fields the patch does not name stay');
    assert.equal(result.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], '{"kind":"Deployment"}');
    assert.ok(!JSON.stringify(result).includes('$'), 'no directive reaches the result');
  });

  it('applies the patch from the brief with only $setElementOrder and the one container', () => {
    const live = liveDeployment();
    live.spec.template.spec.containers = [{ name: 'nginx', image: 'nginx:1.14.2' }];
    const result = smp({ spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ image: 'nginx:1.26', name: 'nginx' }] } } } }, live);
    assert.deepEqual(containersOf(result), [{ name: 'nginx', image: 'nginx:1.26' }]);
  });

  it('deletes a container with {"$patch":"delete","name":...}', () => {
    const result = smp({ spec: { template: { spec: { containers: [{ $patch: 'delete', name: 'sidecar' }] } } } });
    assert.deepEqual(containersOf(result).map((c) => c.name), ['nginx']);
  });

  it('merges env by name: a changed variable updates in place, a new one follows it', () => {
    const result = smp({ spec: { template: { spec: { containers: [{ name: 'nginx', env: [{ name: 'B', value: '3' }, { name: 'C', value: '4' }] }] } } } });
    assert.deepEqual(containersOf(result)[0]?.env, [{ name: 'A', value: '1' }, { name: 'B', value: '3' }, { name: 'C', value: '4' }]);
  });

  it('merges container ports by containerPort', () => {
    const result = smp({ spec: { template: { spec: { containers: [{ name: 'nginx', ports: [{ containerPort: 80, name: 'web' }, { containerPort: 443 }] }] } } } });
    assert.deepEqual(containersOf(result)[0]?.ports, [{ containerPort: 80, name: 'web' }, { containerPort: 443 }]);
  });

  it('replaces lists without a patch strategy whole: tolerations and args', () => {
    const result = smp({ spec: { template: { spec: { tolerations: [{ key: 'y', operator: 'Exists' }], containers: [{ name: 'nginx', args: ['-v'] }] } } } });
    assert.deepEqual(result.spec.template.spec.tolerations, [{ key: 'y', operator: 'Exists' }]);
    assert.deepEqual(containersOf(result)[0]?.args, ['-v']);
  });

  it('deletes a label with null', () => {
    assert.deepEqual(smp({ metadata: { labels: { tier: null } } }).metadata.labels, { app: 'web' });
  });

  it('puts a new container first when the patch gives no order, as the real server does', () => {
    const result = smp({ spec: { template: { spec: { containers: [{ name: 'logger', image: 'fluentd' }] } } } });
    assert.deepEqual(containersOf(result).map((c) => c.name), ['logger', 'nginx', 'sidecar']);
  });

  it('reorders a list with $setElementOrder alone', () => {
    const result = smp({ spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'nginx' }] } } } });
    assert.deepEqual(containersOf(result).map((c) => c.name), ['sidecar', 'nginx']);
  });

  it('refuses a patch list out of the order its $setElementOrder gives', () => {
    const patch = { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'sidecar' }], containers: [{ name: 'sidecar' }, { name: 'nginx' }] } } } };
    assert.equal(statusOf(() => smp(patch)).code, 400);
  });

  it('unions finalizers, a merge list of scalars, and deletes from it with $deleteFromPrimitiveList', () => {
    assert.deepEqual(smp({ metadata: { finalizers: ['b', 'c'] } }).metadata.finalizers, ['a', 'b', 'c']);
    assert.deepEqual(smp({ metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }).metadata.finalizers, ['b']);
  });

  it('replaces a map with $patch: replace, and a merging list with a $patch: replace element', () => {
    assert.deepEqual(smp({ metadata: { labels: { $patch: 'replace', only: 'this' } } }).metadata.labels, { only: 'this' });
    const result = smp({ spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'solo', image: 'solo:1' }] } } } });
    assert.deepEqual(containersOf(result), [{ name: 'solo', image: 'solo:1' }]);
  });

  it('empties a map with $patch: delete', () => {
    assert.deepEqual(smp({ spec: { template: { metadata: { labels: { $patch: 'delete' } } } } }).spec.template.metadata.labels, {});
  });

  it('drops rollingUpdate when kubectl switches a Deployment to Recreate with $retainKeys', () => {
    const result = smp({ spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } } });
    assert.deepEqual(result.spec.strategy, { type: 'Recreate' });
  });

  it('switches a volume from emptyDir to configMap with the $retainKeys kubectl sends in a merge,retainKeys list', () => {
    const live = liveDeployment();
    live.spec.template.spec.volumes = [{ name: 'cache', emptyDir: {} }, { name: 'keep', emptyDir: {} }];
    const result = smp({ spec: { template: { spec: { volumes: [{ $retainKeys: ['configMap', 'name'], name: 'cache', configMap: { name: 'web' } }] } } } }, live);
    assert.deepEqual(result.spec.template.spec.volumes, [{ name: 'cache', configMap: { name: 'web' } }, { name: 'keep', emptyDir: {} }]);
  });

  it('merges a subtree the schema leaves open as plain maps, and replaces its lists', () => {
    const result = smp({ spec: { template: { spec: { affinity: { nodeAffinity: { preferred: [{ weight: 5 }] }, podAffinity: { x: 1 } } } } } });
    assert.deepEqual(result.spec.template.spec.affinity, { nodeAffinity: { preferred: [{ weight: 5 }] }, podAffinity: { x: 1 } });
  });

  it('adds a whole new subtree without the patch directives or nulls inside it', () => {
    const live = liveDeployment();
    delete live.spec.template.spec.containers;
    const result = smp({ spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'a' }], containers: [{ name: 'a', image: 'a', env: [{ name: 'X', value: null }] }] } } } }, live);
    assert.deepEqual(containersOf(result), [{ name: 'a', image: 'a', env: [{ name: 'X' }] }]);
  });

  it('answers a merging list element without its merge key with 400, in the real words', () => {
    const status = statusOf(() => smp({ spec: { template: { spec: { containers: [{ image: 'nginx' }] } } } }));
    assert.deepEqual([status.code, status.message], [400, 'map: {"image":"nginx"} does not contain declared merge key: name']);
  });

  it('answers an unknown $patch directive with 400', () => {
    assert.equal(statusOf(() => smp({ metadata: { labels: { $patch: 'merge' } } })).code, 400);
  });
});

// ---- server-side apply -----------------------------------------------------------------

const NOW = '2024-05-01T10:00:00Z';
const LATER = '2024-05-01T10:05:00Z';

function options(manager: string, extra: Partial<ApplyOptions> = {}): ApplyOptions {
  return { manager, force: false, apiVersion: 'apps/v1', kind: 'Deployment', now: NOW, ...extra };
}

/** What `kubectl apply --server-side` sends for a small Deployment. */
function applied(replicas = 3, labels: Record<string, string> = { app: 'web' }): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.26', ports: [{ containerPort: 80 }] }] } },
    },
  };
}

const managersOf = (o: KubeObject) => (o.metadata.managedFields ?? []).map((m) => `${m.manager}/${m.operation}${m.subresource ? `/${m.subresource}` : ''}`);
const fieldsOfManager = (o: KubeObject, manager: string) => o.metadata.managedFields?.find((m) => m.manager === manager)?.fieldsV1;

describe('server-side apply', () => {
  it('creates the object and records the applier as owner of exactly what it sent, in the real fieldsV1 form', () => {
    const { object, created } = serverSideApply(undefined, frozen(applied()), options('kubectl'));
    assert.equal(created, true);
    assert.equal((object.spec as Record<string, any>).replicas, 3);
    assert.deepEqual(object.metadata.managedFields, [
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        time: NOW,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { 'f:app': {} } },
              'f:spec': {
                'f:containers': {
                  'k:{"name":"nginx"}': {
                    '.': {},
                    'f:image': {},
                    'f:name': {},
                    'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
                  },
                },
              },
            },
          },
        },
      },
    ]);
  });

  it('merges a new apply into the live object, keeping what other writers set', () => {
    const created = serverSideApply(undefined, applied(), options('kubectl')).object;
    const withStatus = recordUpdate({ ...created, status: { replicas: 3 } }, 'kube-controller-manager', 'apps/v1', NOW, 'status', created);
    const { object, created: wasCreated } = serverSideApply(frozen(withStatus), applied(5), options('kubectl', { now: LATER }));
    assert.equal(wasCreated, false);
    assert.equal((object.spec as Record<string, any>).replicas, 5);
    assert.deepEqual(object.status, { replicas: 3 });
    assert.deepEqual(managersOf(object), ['kubectl/Apply', 'kube-controller-manager/Update/status']);
    assert.equal(object.metadata.managedFields?.[0]?.time, LATER);
  });

  it('adds a container the live object lacks after the ones it has', () => {
    const live = serverSideApply(undefined, applied(), options('kubectl')).object;
    const next = applied();
    (next.spec as Record<string, any>).template.spec.containers.push({ name: 'sidecar', image: 'busybox' });
    const { object } = serverSideApply(live, next, options('kubectl'));
    assert.deepEqual((object.spec as Record<string, any>).template.spec.containers.map((c: { name: string }) => c.name), ['nginx', 'sidecar']);
  });

  it('removes a field the same manager applied before and leaves out now', () => {
    const live = serverSideApply(undefined, applied(3, { app: 'web', tier: 'front' }), options('kubectl')).object;
    const { object } = serverSideApply(live, applied(3, { app: 'web' }), options('kubectl'));
    assert.deepEqual(object.metadata.labels, { app: 'web' });
  });

  it('removes a container the manager applied before and leaves out now', () => {
    const two = applied();
    (two.spec as Record<string, any>).template.spec.containers.push({ name: 'sidecar', image: 'busybox' });
    const live = serverSideApply(undefined, two, options('kubectl')).object;
    const { object } = serverSideApply(live, applied(), options('kubectl'));
    assert.deepEqual((object.spec as Record<string, any>).template.spec.containers.map((c: { name: string }) => c.name), ['nginx']);
  });

  it('keys Service ports by port and protocol, taking TCP when the protocol is left out', () => {
    const service = (ports: unknown[]): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'backend' }, spec: { selector: { app: 'backend' }, ports } });
    const svc = { ...options('kubectl'), apiVersion: 'v1', kind: 'Service' };
    const live = serverSideApply(undefined, service([{ port: 80, targetPort: 8080 }]), svc).object;
    assert.deepEqual((live.metadata.managedFields?.[0]?.fieldsV1 as Record<string, any>)['f:spec']['f:ports'], { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {}, 'f:targetPort': {} } });
    const { object } = serverSideApply(live, service([{ port: 80, protocol: 'TCP', targetPort: 9090 }, { port: 53, protocol: 'UDP' }]), svc);
    assert.deepEqual((object.spec as Record<string, any>).ports, [{ port: 80, targetPort: 9090, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }]);
  });

  it('keeps a field the manager leaves out when another manager owns it too', () => {
    const first = serverSideApply(undefined, applied(3, { app: 'web', tier: 'front' }), options('kubectl')).object;
    const shared = serverSideApply(first, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { tier: 'front' } } }, options('labeler')).object;
    const { object } = serverSideApply(shared, applied(3, { app: 'web' }), options('kubectl'));
    assert.deepEqual(object.metadata.labels, { app: 'web', tier: 'front' });
  });

  it('refuses to change a field another applier owns: the real 409 names the field and the manager', () => {
    const live = serverSideApply(undefined, applied(3), options('other-manager')).object;
    const status = statusOf(() => serverSideApply(live, applied(5), options('kubectl')));
    assert.equal(status.code, 409);
    assert.equal(status.reason, 'Conflict');
    assert.equal(status.message, 'Apply failed with 1 conflict: conflict with "other-manager": .spec.replicas');
    assert.deepEqual(status.details?.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "other-manager"', field: '.spec.replicas' }]);
  });

  it('lets two appliers share a field they set to the same value', () => {
    const live = serverSideApply(undefined, applied(3), options('a')).object;
    const { object } = serverSideApply(live, applied(3), options('b'));
    assert.deepEqual(fieldsOfManager(object, 'a'), fieldsOfManager(object, 'b'));
  });

  it('moves a conflicting field to the applier with force', () => {
    const live = serverSideApply(undefined, applied(3), options('other-manager')).object;
    const { object } = serverSideApply(live, applied(5), options('kubectl', { force: true }));
    assert.equal((object.spec as Record<string, any>).replicas, 5);
    assert.ok(!('f:replicas' in ((fieldsOfManager(object, 'other-manager') as Record<string, any>)['f:spec'] ?? {})), 'the other manager lost .spec.replicas');
    assert.ok('f:replicas' in (fieldsOfManager(object, 'kubectl') as Record<string, any>)['f:spec']);
  });

  it('names an Update manager with its apiVersion and subresource, as after kubectl scale', () => {
    const live = serverSideApply(undefined, applied(3), options('kubectl')).object;
    const scaled = recordUpdate({ ...live, spec: { ...(live.spec as object), replicas: 7 } }, 'kubectl', 'apps/v1', LATER, 'scale', live);
    assert.deepEqual(scaled.metadata.managedFields?.find((m) => m.subresource === 'scale')?.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
    assert.ok(!('f:replicas' in (fieldsOfManager(scaled, 'kubectl') as Record<string, any>)['f:spec']), 'the applier lost .spec.replicas to the scale');
    const status = statusOf(() => serverSideApply(scaled, applied(3), options('kubectl')));
    assert.equal(status.message, 'Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas');
  });

  it('lists several conflicts by manager, one line per field', () => {
    const live = serverSideApply(undefined, applied(3, { app: 'web', tier: 'x' }), options('other')).object;
    const status = statusOf(() => serverSideApply(live, applied(5, { app: 'web', tier: 'y' }), options('kubectl')));
    assert.equal(status.message, 'Apply failed with 2 conflicts: conflicts with "other":\n- .metadata.labels.tier\n- .spec.replicas');
    assert.equal(status.details?.causes?.length, 2);
  });

  it('ignores status in an applied Deployment, which only /status may write', () => {
    const { object } = serverSideApply(undefined, { ...applied(), status: { replicas: 99 } }, options('kubectl'));
    assert.equal(object.status, undefined);
  });

  it('answers a keyed list element without its key with 400, as the real typed patch check does', () => {
    const bad = applied();
    (bad.spec as Record<string, any>).template.spec.containers = [{ image: 'nginx' }];
    const status = statusOf(() => serverSideApply(undefined, bad, options('kubectl')));
    assert.equal(status.code, 400);
    assert.equal(status.message, 'failed to create typed patch object (apps/v1, Kind=Deployment): .spec.template.spec.containers: element 0: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)');
  });

  it('answers an applied configuration that carries managedFields with 400', () => {
    const bad = applied();
    bad.metadata.managedFields = [{ manager: 'x', operation: 'Apply', apiVersion: 'apps/v1' }];
    assert.equal(statusOf(() => serverSideApply(undefined, bad, options('kubectl'))).message, 'metadata.managedFields must be nil');
  });
});

describe('recording ordinary writes in managedFields', () => {
  it('gives a creating manager every field the object has, except those no one owns (name, uid, resourceVersion...)', () => {
    const object = recordUpdate(frozen({ ...applied(), metadata: { ...applied().metadata, uid: 'u1', resourceVersion: '5' } }), 'kubectl-create', 'apps/v1', NOW);
    const [entry] = object.metadata.managedFields ?? [];
    assert.deepEqual({ ...entry, fieldsV1: undefined }, { manager: 'kubectl-create', operation: 'Update', apiVersion: 'apps/v1', time: NOW, fieldsType: 'FieldsV1', fieldsV1: undefined });
    assert.deepEqual(entry?.fieldsV1?.['f:metadata'], { 'f:labels': { 'f:app': {} } });
    assert.ok(!('f:apiVersion' in (entry?.fieldsV1 ?? {})));
  });

  it('moves a changed field from its old owner to the writer, who then conflicts with the next apply', () => {
    const created = recordUpdate(applied(3), 'kubectl-create', 'apps/v1', NOW);
    const status = statusOf(() => serverSideApply(created, applied(4), options('kubectl')));
    assert.equal(status.message, 'Apply failed with 1 conflict: conflict with "kubectl-create" using apps/v1: .spec.replicas');
  });

  it('without the stored object, gives the writer only the fields no other manager owns', () => {
    const live = serverSideApply(undefined, applied(3), options('kubectl')).object;
    const withNote = { ...live, metadata: { ...live.metadata, annotations: { note: 'hi' } } };
    const recorded = recordUpdate(withNote, 'kubectl-annotate', 'apps/v1', LATER);
    assert.deepEqual(fieldsOfManager(recorded, 'kubectl-annotate'), { 'f:metadata': { 'f:annotations': { 'f:note': {} } } });
    assert.deepEqual(fieldsOfManager(recorded, 'kubectl'), fieldsOfManager(live, 'kubectl'));
  });

  it('records nothing new for a write that changes nothing', () => {
    const created = recordUpdate(applied(3), 'kubectl-create', 'apps/v1', NOW);
    const again = recordUpdate(created, 'someone-else', 'apps/v1', LATER, undefined, created);
    assert.deepEqual(again.metadata.managedFields, created.metadata.managedFields);
  });
});

describe('the fieldsV1 encoding', () => {
  it('marks an owned element that has owned fields inside it with ".", and decodes back to the same set', () => {
    const set = new Set([JSON.stringify(['f:spec', 'f:containers', 'k:{"name":"a"}']), JSON.stringify(['f:spec', 'f:containers', 'k:{"name":"a"}', 'f:image']), JSON.stringify(['f:metadata', 'f:finalizers', 'v:"x"'])]);
    const encoded = encodeFieldsV1(set);
    assert.deepEqual(encoded, { 'f:metadata': { 'f:finalizers': { 'v:"x"': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"a"}': { '.': {}, 'f:image': {} } } } });
    assert.deepEqual(decodeFieldsV1(encoded), set);
  });
});
