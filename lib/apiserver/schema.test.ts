import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { RESOURCES, groupVersion, groupVersions } from './resources.ts';
import {
  KINDS,
  childSchema,
  fieldTypeErrors,
  listMapKeysOf,
  listStrategyAt,
  listTypeOf,
  openApiDocument,
  schemaForKind,
  strictDecodingMessage,
  unknownFields,
  type ListNode,
  type ObjectNode,
  type SchemaNode,
} from './schema.ts';

/** The node at a dotted path of struct fields, list items written as `[]`: `spec.template.spec.containers[].ports`. */
function at(apiVersion: string, kind: string, path: string): SchemaNode {
  let node: SchemaNode | undefined = schemaForKind(apiVersion, kind);
  for (const step of path.split('.')) {
    const field = step.replace('[]', '');
    node = node && childSchema(node, field);
    if (node && step.endsWith('[]')) node = node.type === 'list' ? node.items : undefined;
  }
  assert.ok(node, `expected a schema at ${kind} ${path}`);
  return node;
}

/** The struct that holds the last field of `path`, and that field's name. */
function holder(apiVersion: string, kind: string, path: string): [SchemaNode, string] {
  const steps = path.split('.');
  const field = steps.pop() as string;
  return [steps.length ? at(apiVersion, kind, steps.join('.')) : (schemaForKind(apiVersion, kind) as SchemaNode), field];
}

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          {
            name: 'nginx',
            image: 'nginx:1.14.2',
            ports: [{ containerPort: 80, name: 'http' }],
            env: [{ name: 'MODE', value: 'prod' }, { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
            resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: 1 } },
            readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 5 },
            livenessProbe: { tcpSocket: { port: 80 } },
            lifecycle: { preStop: { exec: { command: ['sleep', '5'] } } },
            securityContext: { runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
            volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
          },
        ],
        volumes: [{ name: 'cache', emptyDir: { sizeLimit: '1Gi' } }, { name: 'cfg', configMap: { name: 'web', items: [{ key: 'a', path: 'a' }] } }],
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] } } },
        tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
        nodeSelector: { 'kubernetes.io/os': 'linux' },
        securityContext: { fsGroup: 2000 },
      },
    },
  },
});

describe('the schema of every served kind', () => {
  it('has a schema for every resource the server serves, and for Binding, Scale and DeleteOptions', () => {
    for (const r of RESOURCES) assert.ok(schemaForKind(groupVersion(r), r.kind), `expected a schema for ${groupVersion(r)} ${r.kind}`);
    assert.ok(schemaForKind('v1', 'Binding'));
    assert.ok(schemaForKind('autoscaling/v1', 'Scale'));
    for (const gv of ['v1', 'apps/v1', 'meta.k8s.io/v1', 'rbac.authorization.k8s.io/v1']) assert.ok(schemaForKind(gv, 'DeleteOptions'), gv);
    assert.equal(schemaForKind('apps/v1', 'Pod'), undefined, 'a kind is found only at its own group version');
  });

  it('names the fields of the real types, and accepts every field they have, down to where it says any', () => {
    const problems: string[] = [];
    for (const { group, version, kind, schema } of KINDS) {
      const model = kind === 'Event' ? 'CoreV1Event' : `V1${kind}`;
      compareWithModel(model, schema, `${group || 'core'}/${version} ${kind}`, problems);
    }
    assert.deepEqual(problems, []);
  });
});

describe('strict field validation', () => {
  it('accepts a real Deployment manifest with probes, resources, volumes, affinity and security contexts', () => {
    assert.deepEqual(unknownFields('apps/v1', 'Deployment', deployment()), []);
    assert.deepEqual(fieldTypeErrors('apps/v1', 'Deployment', deployment()), []);
  });

  it('names unknown fields as the strict decoder does, with list indices', () => {
    const d = deployment() as Record<string, any>;
    d.spec.replicass = 3;
    d.spec.template.spec.containers[0].imagee = 'nginx';
    d.metadata.labelz = {};
    d.spec.template.spec.volumes[0].emptyDirr = {};
    assert.deepEqual(unknownFields('apps/v1', 'Deployment', d), [
      'metadata.labelz',
      'spec.template.spec.containers[0].imagee',
      'spec.template.spec.volumes[0].emptyDirr',
      'spec.replicass',
    ]);
  });

  it('accepts any field inside a subtree the schema leaves open, and any key in a map', () => {
    const d = deployment() as Record<string, any>;
    d.spec.template.spec.affinity.podAntiAffinity = { anything: { goes: [1, 2] } };
    d.spec.template.spec.volumes[0].emptyDir.whatever = true;
    d.metadata.annotations = { 'example.com/any-key': 'x' };
    assert.deepEqual(unknownFields('apps/v1', 'Deployment', d), []);
  });

  it('refuses status on a kind that has none, and a field of another kind', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'b' }, status: {}, spec: {} };
    assert.deepEqual(unknownFields('v1', 'ConfigMap', cm), ['status', 'spec']);
  });

  it('writes the strict decoding error as the real server words it', () => {
    assert.equal(strictDecodingMessage(['spec.replicass', 'spec.template.spec.containers[0].imagee']), 'strict decoding error: unknown field "spec.replicass", unknown field "spec.template.spec.containers[0].imagee"');
  });

  const typeCases: Array<[string, (d: Record<string, any>) => void, string, string]> = [
    ['a string where an int32 goes', (d) => (d.spec.replicas = '3'), 'spec.replicas', 'json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32'],
    ['a fraction where an int32 goes', (d) => (d.spec.replicas = 1.5), 'spec.replicas', 'json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32'],
    ['a number too big for int32', (d) => (d.spec.replicas = 2 ** 31), 'spec.replicas', `json: cannot unmarshal number ${2 ** 31} into Go struct field DeploymentSpec.spec.replicas of type int32`],
    ['a number as a label value', (d) => (d.metadata.labels.app = 1), 'metadata.labels.app', 'json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string'],
    ['an object where the containers list goes', (d) => (d.spec.template.spec.containers = {}), 'spec.template.spec.containers', 'json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container'],
    ['a string where a container goes', (d) => (d.spec.template.spec.containers = ['nginx']), 'spec.template.spec.containers[0]', 'json: cannot unmarshal string into Go struct field PodSpec.spec.template.spec.containers of type v1.Container'],
    ['a bool where a port name or number goes', (d) => (d.spec.template.spec.containers[0].readinessProbe.httpGet.port = true), 'spec.template.spec.containers[0].readinessProbe.httpGet.port', 'json: cannot unmarshal bool into Go value of type int32'],
    ['a quantity that is not one', (d) => (d.spec.template.spec.containers[0].resources.requests.cpu = 'lots'), 'spec.template.spec.containers[0].resources.requests.cpu', "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
  ];
  for (const [what, change, path, message] of typeCases) {
    it(`reports ${what}, worded as the real decoder words it`, () => {
      const d = deployment() as Record<string, any>;
      change(d);
      assert.deepEqual(fieldTypeErrors('apps/v1', 'Deployment', d), [{ path, message }]);
    });
  }

  it('lets null stand for any field, as the decoder reads it as the zero value', () => {
    const d = deployment() as Record<string, any>;
    d.spec.replicas = null;
    d.metadata.labels = null;
    assert.deepEqual(fieldTypeErrors('apps/v1', 'Deployment', d), []);
  });
});

describe('patch strategies, as the real types tag them', () => {
  const cases: Array<[string, string, string, ReturnType<typeof listStrategyAt>]> = [
    ['apps/v1', 'Deployment', 'spec.template.spec.containers', { strategy: 'merge', mergeKey: 'name', retainKeys: false }],
    ['v1', 'Pod', 'spec.initContainers', { strategy: 'merge', mergeKey: 'name', retainKeys: false }],
    ['v1', 'Pod', 'spec.ephemeralContainers', { strategy: 'merge', mergeKey: 'name', retainKeys: false }],
    ['v1', 'Pod', 'spec.imagePullSecrets', { strategy: 'merge', mergeKey: 'name', retainKeys: false }],
    ['v1', 'Pod', 'spec.volumes', { strategy: 'merge', mergeKey: 'name', retainKeys: true }],
    ['v1', 'Pod', 'spec.hostAliases', { strategy: 'merge', mergeKey: 'ip', retainKeys: false }],
    ['v1', 'Pod', 'spec.topologySpreadConstraints', { strategy: 'merge', mergeKey: 'topologyKey', retainKeys: false }],
    ['v1', 'Pod', 'spec.containers[].ports', { strategy: 'merge', mergeKey: 'containerPort', retainKeys: false }],
    ['v1', 'Pod', 'spec.containers[].env', { strategy: 'merge', mergeKey: 'name', retainKeys: false }],
    ['v1', 'Pod', 'spec.containers[].volumeMounts', { strategy: 'merge', mergeKey: 'mountPath', retainKeys: false }],
    ['v1', 'Pod', 'spec.containers[].envFrom', { strategy: 'replace', retainKeys: false }],
    ['v1', 'Pod', 'spec.containers[].args', { strategy: 'replace', retainKeys: false }],
    ['v1', 'Pod', 'spec.tolerations', { strategy: 'replace', retainKeys: false }],
    ['v1', 'Pod', 'status.conditions', { strategy: 'merge', mergeKey: 'type', retainKeys: false }],
    ['v1', 'Pod', 'status.podIPs', { strategy: 'merge', mergeKey: 'ip', retainKeys: false }],
    ['v1', 'Pod', 'status.containerStatuses', { strategy: 'replace', retainKeys: false }],
    ['v1', 'Pod', 'metadata.ownerReferences', { strategy: 'merge', mergeKey: 'uid', retainKeys: false }],
    ['v1', 'Pod', 'metadata.finalizers', { strategy: 'merge', retainKeys: false }],
    ['v1', 'Pod', 'metadata.managedFields', { strategy: 'replace', retainKeys: false }],
    ['v1', 'Node', 'spec.taints', { strategy: 'replace', retainKeys: false }],
    ['v1', 'Node', 'spec.podCIDRs', { strategy: 'merge', retainKeys: false }],
    ['v1', 'Node', 'status.conditions', { strategy: 'merge', mergeKey: 'type', retainKeys: false }],
    ['v1', 'Node', 'status.addresses', { strategy: 'merge', mergeKey: 'type', retainKeys: false }],
    ['v1', 'Service', 'spec.ports', { strategy: 'merge', mergeKey: 'port', retainKeys: false }],
    ['v1', 'Endpoints', 'subsets', { strategy: 'replace', retainKeys: false }],
    ['apps/v1', 'Deployment', 'status.conditions', { strategy: 'merge', mergeKey: 'type', retainKeys: false }],
    ['batch/v1', 'Job', 'status.conditions', { strategy: 'merge', mergeKey: 'type', retainKeys: false }],
    ['rbac.authorization.k8s.io/v1', 'Role', 'rules', { strategy: 'replace', retainKeys: false }],
  ];
  for (const [apiVersion, kind, path, expected] of cases) {
    it(`${expected.strategy === 'merge' ? `merges ${kind} ${path}${expected.mergeKey ? ` by ${expected.mergeKey}` : ' as a set'}` : `replaces ${kind} ${path} whole`}`, () => {
      const [node, field] = holder(apiVersion, kind, path);
      assert.deepEqual(listStrategyAt(node, field), expected);
    });
  }

  it('tags a Deployment strategy retainKeys, so a switch to Recreate can drop rollingUpdate', () => {
    assert.equal((at('apps/v1', 'Deployment', 'spec.strategy') as ObjectNode).patchStrategy, 'retainKeys');
  });

  it('gives server-side apply the real list types: keyed maps, sets, and atomic lists', () => {
    const list = (apiVersion: string, kind: string, path: string) => at(apiVersion, kind, path) as ListNode;
    const ports = list('v1', 'Pod', 'spec.containers[].ports');
    assert.deepEqual([listTypeOf(ports), listMapKeysOf(ports)], ['map', ['containerPort', 'protocol']]);
    const servicePorts = list('v1', 'Service', 'spec.ports');
    assert.deepEqual([listTypeOf(servicePorts), listMapKeysOf(servicePorts)], ['map', ['port', 'protocol']]);
    assert.equal(listTypeOf(list('v1', 'Pod', 'metadata.finalizers')), 'set');
    assert.equal(listTypeOf(list('v1', 'Pod', 'spec.tolerations')), 'atomic');
    assert.equal(listTypeOf(list('v1', 'Pod', 'status.hostIPs')), 'atomic', 'SMP merges hostIPs by ip, apply treats them as one value');
    assert.equal(listTypeOf(list('batch/v1', 'Job', 'status.conditions')), 'atomic');
  });
});

describe('the OpenAPI v3 documents kubectl downloads', () => {
  it('gives each kind a patch operation with its group, version and kind and the fieldValidation parameter', () => {
    for (const gv of groupVersions()) {
      const doc = openApiDocument(gv.group, gv.version);
      assert.ok(doc, `expected a document for ${gv.group}/${gv.version}`);
      for (const r of RESOURCES.filter((x) => x.group === gv.group && x.version === gv.version)) {
        const prefix = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
        const path = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.resource}/{name}` : `${prefix}/${r.resource}/{name}`;
        const item = doc.paths[path] as Record<string, any>;
        assert.ok(item, `expected the path ${path}`);
        assert.deepEqual(item.patch['x-kubernetes-group-version-kind'], { group: r.group, version: r.version, kind: r.kind });
        const names = item.patch.parameters.map((p: { name: string }) => p.name);
        for (const name of ['fieldValidation', 'fieldManager', 'dryRun', 'force']) assert.ok(names.includes(name), `${path} patch lacks ${name}`);
        assert.ok(item.patch.requestBody.content['application/strategic-merge-patch+json']);
        for (const verb of ['get', 'put', 'delete']) assert.ok(item[verb], `${path} lacks ${verb}`);
      }
    }
  });

  it('serves the core group at /api/v1 and cluster-scoped kinds without a namespace', () => {
    const core = openApiDocument('', 'v1');
    assert.ok(core?.paths['/api/v1/namespaces/{namespace}/pods/{name}']);
    assert.ok(core?.paths['/api/v1/nodes/{name}']);
    assert.ok(core?.paths['/api/v1/namespaces/{namespace}/pods/{name}/binding']);
    const rbac = openApiDocument('rbac.authorization.k8s.io', 'v1');
    assert.ok(rbac?.paths['/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}']);
    assert.equal(rbac?.paths['/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}']?.patch && (rbac.paths['/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}'] as any).patch.operationId, 'patchRbacAuthorizationV1ClusterRole');
    assert.equal(openApiDocument('example.com', 'v1'), undefined);
  });

  it('describes the schemas with the real patch extensions, and every reference resolves', () => {
    const doc = openApiDocument('apps', 'v1');
    assert.ok(doc);
    const schemas = doc.components.schemas;
    assert.deepEqual(schemas['io.k8s.api.apps.v1.Deployment']?.['x-kubernetes-group-version-kind'], [{ group: 'apps', version: 'v1', kind: 'Deployment' }]);
    const podSpec = schemas['io.k8s.api.core.v1.PodSpec'] as Record<string, any>;
    assert.deepEqual(
      pick(podSpec.properties.containers, ['x-kubernetes-patch-merge-key', 'x-kubernetes-patch-strategy', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys']),
      { 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
    );
    assert.equal(podSpec.properties.volumes['x-kubernetes-patch-strategy'], 'merge,retainKeys');
    assert.equal(podSpec.properties.tolerations['x-kubernetes-list-type'], 'atomic');
    assert.equal((schemas['io.k8s.api.apps.v1.DeploymentSpec'] as any).properties.strategy['x-kubernetes-patch-strategy'], 'retainKeys');
    assert.equal((schemas['io.k8s.api.apps.v1.RollingUpdateDeployment'] as any).properties.maxSurge['x-kubernetes-int-or-string'], true);
    assert.ok(schemas['io.k8s.api.autoscaling.v1.Scale'], 'the scale subresource brings the Scale schema');
    const refs = JSON.stringify(doc).match(/#\/components\/schemas\/[^"]+/g) ?? [];
    for (const ref of refs) assert.ok(schemas[ref.slice('#/components/schemas/'.length)], `dangling ${ref}`);
  });
});

function pick(value: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, value[k]]));
}

// ---- the oracle: @kubernetes/client-node's models, generated from the real OpenAPI ----

type Attribute = { baseName: string; type: string; format: string };
type Model = { getAttributeTypeMap(): Attribute[] };

function model(name: string): Model | undefined {
  const found = (k8s as Record<string, unknown>)[name] as Partial<Model> | undefined;
  return typeof found?.getAttributeTypeMap === 'function' ? (found as Model) : undefined;
}

/** Walk a real model and the schema together, noting every field one has and the other lacks. */
function compareWithModel(name: string, node: SchemaNode, where: string, problems: string[]): void {
  if (node.type === 'any') return;
  const real = model(name);
  if (!real || node.type !== 'object') {
    problems.push(`${where}: expected ${name} to be a struct on both sides, got ${node.type}`);
    return;
  }
  const attributes = real.getAttributeTypeMap();
  for (const attribute of attributes) {
    const child = childSchema(node, attribute.baseName);
    if (!child) problems.push(`${where}.${attribute.baseName}: the real type has it, the schema does not`);
    else compareType(attribute.type, attribute.format, child, `${where}.${attribute.baseName}`, problems);
  }
  for (const field of Object.keys(node.fields)) {
    if (!attributes.some((a) => a.baseName === field)) problems.push(`${where}.${field}: the schema has it, the real type does not`);
  }
}

function compareType(type: string, format: string, node: SchemaNode, where: string, problems: string[]): void {
  if (node.type === 'any') return;
  const list = /^Array<(.+)>$/.exec(type);
  if (list) {
    if (node.type !== 'list') problems.push(`${where}: expected a list, the schema has ${node.type}`);
    else compareType(list[1] as string, format, node.items, `${where}[]`, problems);
    return;
  }
  if (type.startsWith('{ [key: string]')) {
    if (node.type !== 'map') problems.push(`${where}: expected a map, the schema has ${node.type}`);
    return;
  }
  const scalars: Record<string, string[]> = {
    string: ['string', 'quantity'],
    number: ['integer', 'number'],
    boolean: ['boolean'],
    Date: ['string'],
    V1MicroTime: ['string'],
    IntOrString: ['intOrString'],
    any: ['any'],
  };
  const allowed = scalars[type];
  if (allowed) {
    if (!allowed.includes(node.type)) problems.push(`${where}: expected ${type}, the schema has ${node.type}`);
    else if ((format === 'int32' || format === 'int64') && 'format' in node && node.format !== format) problems.push(`${where}: expected ${format}, the schema has ${String(node.format)}`);
    return;
  }
  compareWithModel(type, node, where, problems);
}
