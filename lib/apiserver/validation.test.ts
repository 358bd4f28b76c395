import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Deployment, Job, KubeObject, Pod, RoleBinding, Service, StatusCause } from '../api/types.ts';
import { applyDefaults } from './defaults.ts';
import { findResource, type ResourceInfo } from './resources.ts';
import { invalid } from './status.ts';
import {
  isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue, parseQuantity,
  validateObject, validateQuantity, validateUpdate,
} from './validation.ts';

function info(kind: string): ResourceInfo {
  const found = ['', 'apps', 'batch', 'coordination.k8s.io', 'rbac.authorization.k8s.io']
    .flatMap((group) => ['pods', 'services', 'deployments', 'replicasets', 'jobs', 'namespaces', 'configmaps', 'events', 'nodes', 'endpoints', 'leases', 'roles', 'rolebindings', 'clusterrolebindings'].map((r) => findResource(group, 'v1', r)))
    .find((r) => r?.kind === kind);
  assert.ok(found, `no resource for kind ${kind}`);
  return found;
}

/** The causes for creating `object`, after defaulting as the server would. */
function causes(object: KubeObject): StatusCause[] {
  const resource = info(object.kind);
  return validateObject(resource, applyDefaults(resource, object));
}

const SUBDOMAIN_RULE = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_RULE = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name' or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_RULE = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name' or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

function pod(name: string, containers: Pod['spec']['containers'], more: Partial<Pod['spec']> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers, ...more } };
}

function deployment(selector: Record<string, string>, templateLabels: Record<string, string>): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'frontend', namespace: 'default' },
    spec: {
      replicas: 3,
      selector: { matchLabels: selector },
      template: { metadata: { labels: templateLabels }, spec: { containers: [{ name: 'frontend', image: 'frontend:v0.0.1' }] } },
    },
  };
}

function service(name: string, spec: Service['spec']): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec };
}

describe('name checks', () => {
  const cases: Array<{ name: string; check: (v: string) => string[]; value: string; want: string[] }> = [
    { name: 'a subdomain may contain dots', check: isDNS1123Subdomain, value: 'web.example.com', want: [] },
    { name: 'a subdomain may not contain an underscore', check: isDNS1123Subdomain, value: 'Web_1', want: [SUBDOMAIN_RULE] },
    { name: 'a label may not contain dots, and says so', check: isDNS1123Label, value: 'web.v1', want: ['must not contain dots'] },
    { name: 'a label may not contain capitals', check: isDNS1123Label, value: 'Web', want: [LABEL_RULE] },
    { name: 'a label longer than 63 characters says so', check: isDNS1123Label, value: 'a'.repeat(64), want: ['must be no more than 63 characters'] },
    { name: 'a DNS-1035 label may not start with a digit', check: isDNS1035Label, value: '1backend', want: [DNS1035_RULE] },
    { name: 'a qualified name may have a DNS prefix', check: isQualifiedName, value: 'app.kubernetes.io/name', want: [] },
    { name: 'a qualified name may not have an empty prefix', check: isQualifiedName, value: '/name', want: ['prefix part must be non-empty'] },
    { name: 'a label value may be empty', check: isValidLabelValue, value: '', want: [] },
    {
      name: 'a label value longer than 63 characters says so',
      check: isValidLabelValue,
      value: 'v'.repeat(64),
      want: ['must be no more than 63 characters'],
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(c.check(c.value), c.want));
});

describe('quantities', () => {
  const values: Array<[string, number]> = [['100m', 0.1], ['1Gi', 1073741824], ['0.5', 0.5], ['1e3', 1000], ['2k', 2000], ['128Mi', 134217728], ['+.5', 0.5]];
  for (const [text, want] of values) it(`reads ${text} as ${want}`, () => assert.equal(parseQuantity(text), want));

  it('refuses text that is not a number with the real regular expression', () => {
    assert.deepEqual(validateQuantity('lots'), ["quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"]);
  });

  it('refuses a well-formed number with an unknown suffix', () => {
    assert.deepEqual(validateQuantity('1K'), ["unable to parse quantity's suffix"]);
  });

  it('throws from parseQuantity on bad input', () => {
    assert.throws(() => parseQuantity(''), /cannot parse quantity "": quantities must match/);
  });
});

describe('validateObject: metadata', () => {
  it('refuses a pod name with an underscore and capitals', () => {
    assert.deepEqual(causes(pod('Web_1', [{ name: 'web', image: 'web:v1' }])), [
      { reason: 'FieldValueInvalid', message: `Invalid value: "Web_1": ${SUBDOMAIN_RULE}`, field: 'metadata.name' },
    ]);
  });

  it('refuses an uppercase namespace name with the DNS-1123 label rule', () => {
    const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'Team' } };
    assert.deepEqual(causes(namespace), [{ reason: 'FieldValueInvalid', message: `Invalid value: "Team": ${LABEL_RULE}`, field: 'metadata.name' }]);
  });

  it('refuses a Service name that starts with a digit, since Service names must be DNS-1035 labels', () => {
    const got = causes(service('1backend', { selector: { app: 'backend' }, ports: [{ port: 80 }] }));
    assert.deepEqual(got, [{ reason: 'FieldValueInvalid', message: `Invalid value: "1backend": ${DNS1035_RULE}`, field: 'metadata.name' }]);
  });

  it('requires a name unless generateName is given', () => {
    const object = pod('', [{ name: 'web', image: 'web:v1' }]);
    assert.deepEqual(causes(object), [{ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' }]);
    object.metadata.generateName = 'web-';
    assert.deepEqual(causes(object), []);
  });

  it('requires a namespace on namespaced kinds', () => {
    const object = pod('web', [{ name: 'web', image: 'web:v1' }]);
    delete object.metadata.namespace;
    assert.deepEqual(causes(object), [{ reason: 'FieldValueRequired', message: 'Required value', field: 'metadata.namespace' }]);
  });

  it('refuses a label value longer than 63 characters', () => {
    const object = pod('web', [{ name: 'web', image: 'web:v1' }]);
    const long = 'x'.repeat(64);
    object.metadata.labels = { app: long };
    assert.deepEqual(causes(object), [{ reason: 'FieldValueInvalid', message: `Invalid value: "${long}": must be no more than 63 characters`, field: 'metadata.labels' }]);
  });

  it('refuses annotations over 256 KiB in total', () => {
    const object = pod('web', [{ name: 'web', image: 'web:v1' }]);
    object.metadata.annotations = { big: 'x'.repeat(256 * 1024) };
    assert.deepEqual(causes(object), [{ reason: 'FieldValueTooLong', message: 'Too long: must have at most 262144 bytes', field: 'metadata.annotations' }]);
  });
});

describe('validateObject: pods', () => {
  const cases: Array<{ name: string; pod: Pod; want: StatusCause[] }> = [
    { name: 'a pod with one good container is valid', pod: pod('web', [{ name: 'web', image: 'web:v1', ports: [{ containerPort: 8080 }] }]), want: [] },
    { name: 'a pod needs at least one container', pod: pod('web', []), want: [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers' }] },
    { name: 'a container needs an image', pod: pod('web', [{ name: 'web' }]), want: [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers[0].image' }] },
    {
      name: 'two containers may not share a name',
      pod: pod('web', [{ name: 'web', image: 'a' }, { name: 'web', image: 'b' }]),
      want: [{ reason: 'FieldValueDuplicate', message: 'Duplicate value: "web"', field: 'spec.containers[1].name' }],
    },
    {
      name: 'a container name must be a DNS-1123 label',
      pod: pod('web', [{ name: 'Web', image: 'a' }]),
      want: [{ reason: 'FieldValueInvalid', message: `Invalid value: "Web": ${LABEL_RULE}`, field: 'spec.containers[0].name' }],
    },
    {
      name: 'an unsupported restartPolicy lists the supported ones',
      pod: pod('web', [{ name: 'web', image: 'a' }], { restartPolicy: 'Sometimes' as 'Always' }),
      want: [{ reason: 'FieldValueNotSupported', message: 'Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"', field: 'spec.restartPolicy' }],
    },
    {
      name: 'a container port must be between 1 and 65535',
      pod: pod('web', [{ name: 'web', image: 'a', ports: [{ containerPort: 70000 }] }]),
      want: [{ reason: 'FieldValueInvalid', message: 'Invalid value: 70000: must be between 1 and 65535, inclusive', field: 'spec.containers[0].ports[0].containerPort' }],
    },
    {
      name: 'a port protocol must be TCP, UDP or SCTP',
      pod: pod('web', [{ name: 'web', image: 'a', ports: [{ containerPort: 80, protocol: 'HTTP' as 'TCP' }] }]),
      want: [{ reason: 'FieldValueNotSupported', message: 'Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"', field: 'spec.containers[0].ports[0].protocol' }],
    },
    {
      name: 'a resource quantity must parse',
      pod: pod('web', [{ name: 'web', image: 'a', resources: { requests: { cpu: 'lots' } } }]),
      want: [{ reason: 'FieldValueInvalid', message: `Invalid value: "lots": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`, field: 'spec.containers[0].resources.requests[cpu]' }],
    },
    {
      name: 'a request may not exceed its limit',
      pod: pod('web', [{ name: 'web', image: 'a', resources: { requests: { memory: '2Gi' }, limits: { memory: '1Gi' } } }]),
      want: [{ reason: 'FieldValueInvalid', message: 'Invalid value: "2Gi": must be less than or equal to memory limit of 1Gi', field: 'spec.containers[0].resources.requests' }],
    },
    {
      name: 'a probe needs a handler',
      pod: pod('web', [{ name: 'web', image: 'a', livenessProbe: { periodSeconds: 5 } }]),
      want: [{ reason: 'FieldValueRequired', message: 'Required value: must specify a handler type', field: 'spec.containers[0].livenessProbe' }],
    },
    {
      name: 'a probe may name only one handler',
      pod: pod('web', [{ name: 'web', image: 'a', readinessProbe: { httpGet: { port: 80 }, tcpSocket: { port: 80 } } }]),
      want: [{ reason: 'FieldValueForbidden', message: 'Forbidden: may not specify more than 1 handler type', field: 'spec.containers[0].readinessProbe.tcpSocket' }],
    },
    {
      name: 'a liveness probe must succeed once to count',
      pod: pod('web', [{ name: 'web', image: 'a', livenessProbe: { tcpSocket: { port: 'http' }, successThreshold: 2 } }]),
      want: [{ reason: 'FieldValueInvalid', message: 'Invalid value: 2: must be 1', field: 'spec.containers[0].livenessProbe.successThreshold' }],
    },
    {
      name: 'a toleration with an empty key must use Exists',
      pod: pod('web', [{ name: 'web', image: 'a' }], { tolerations: [{ operator: 'Equal', value: 'x' }] }),
      want: [{ reason: 'FieldValueInvalid', message: 'Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"', field: 'spec.tolerations[0].operator' }],
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(causes(c.pod), c.want));
});

describe('validateObject: deployments, replicasets and jobs', () => {
  it('accepts the scenario frontend Deployment', () => {
    assert.deepEqual(causes(deployment({ app: 'frontend' }, { app: 'frontend', tier: 'web' })), []);
  });

  it('refuses a selector that does not match the template labels, with the real message', () => {
    assert.deepEqual(causes(deployment({ app: 'frontend' }, { app: 'backend' })), [
      { reason: 'FieldValueInvalid', message: 'Invalid value: map[string]string{"app":"backend"}: `selector` does not match template `labels`', field: 'spec.template.metadata.labels' },
    ]);
  });

  it('requires a selector', () => {
    const object = deployment({}, { app: 'frontend' });
    delete (object.spec as Partial<Deployment['spec']>).selector;
    assert.deepEqual(causes(object), [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.selector' }]);
  });

  it('refuses an empty selector', () => {
    assert.deepEqual(causes(deployment({}, { app: 'frontend' })), [
      {
        reason: 'FieldValueInvalid',
        message: 'Invalid value: v1.LabelSelector{MatchLabels:map[string]string{}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment',
        field: 'spec.selector',
      },
    ]);
  });

  it('refuses negative replicas', () => {
    const object = deployment({ app: 'frontend' }, { app: 'frontend' });
    object.spec.replicas = -1;
    assert.deepEqual(causes(object), [{ reason: 'FieldValueInvalid', message: 'Invalid value: -1: must be greater than or equal to 0', field: 'spec.replicas' }]);
  });

  it('refuses a template that would not restart its pods', () => {
    const object = deployment({ app: 'frontend' }, { app: 'frontend' });
    object.spec.template.spec.restartPolicy = 'Never';
    assert.deepEqual(causes(object), [{ reason: 'FieldValueNotSupported', message: 'Unsupported value: "Never": supported values: "Always"', field: 'spec.template.spec.restartPolicy' }]);
  });

  it('refuses maxSurge and maxUnavailable both 0, since a rollout could never move', () => {
    const object = deployment({ app: 'frontend' }, { app: 'frontend' });
    object.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } };
    assert.deepEqual(causes(object), [{ reason: 'FieldValueInvalid', message: 'Invalid value: 0: may not be 0 when `maxSurge` is 0', field: 'spec.strategy.rollingUpdate.maxUnavailable' }]);
  });

  it('refuses an unknown strategy type', () => {
    const object = deployment({ app: 'frontend' }, { app: 'frontend' });
    object.spec.strategy = { type: 'BlueGreen' as 'Recreate' };
    assert.deepEqual(causes(object), [{ reason: 'FieldValueNotSupported', message: 'Unsupported value: "BlueGreen": supported values: "Recreate", "RollingUpdate"', field: 'spec.strategy.type' }]);
  });

  it('checks a ReplicaSet template the same way', () => {
    const replicaSet = { ...deployment({ app: 'a' }, { app: 'b' }), apiVersion: 'apps/v1', kind: 'ReplicaSet' };
    assert.deepEqual(causes(replicaSet).map((c) => c.field), ['spec.template.metadata.labels']);
  });

  it('refuses a Job whose pods would restart Always, the pod default', () => {
    const job: Job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'pi', namespace: 'default', uid: 'u-1' },
      spec: { template: { spec: { containers: [{ name: 'pi', image: 'perl' }] } } },
    };
    assert.deepEqual(causes(job), [{ reason: 'FieldValueNotSupported', message: 'Unsupported value: "Always": supported values: "OnFailure", "Never"', field: 'spec.template.spec.restartPolicy' }]);
    job.spec.template.spec.restartPolicy = 'Never';
    assert.deepEqual(causes(job), []);
  });
});

describe('validateObject: services', () => {
  const cases: Array<{ name: string; spec: Service['spec']; want: StatusCause[] }> = [
    { name: 'the scenario backend Service is valid', spec: { selector: { app: 'backend' }, ports: [{ port: 80, targetPort: 8080 }] }, want: [] },
    { name: 'a ClusterIP Service needs ports', spec: { selector: { app: 'backend' } }, want: [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.ports' }] },
    { name: 'a headless Service may have no ports', spec: { clusterIP: 'None', selector: { app: 'db' } }, want: [] },
    { name: 'an ExternalName Service needs no ports', spec: { type: 'ExternalName', externalName: 'db.example.com.' }, want: [] },
    {
      name: 'an unknown type is refused',
      spec: { type: 'Internal' as 'ClusterIP', ports: [{ port: 80 }] },
      want: [{ reason: 'FieldValueNotSupported', message: 'Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"', field: 'spec.type' }],
    },
    {
      name: 'a port must be between 1 and 65535, and so must the targetPort defaulted from it',
      spec: { ports: [{ port: 0 }] },
      want: [
        { reason: 'FieldValueInvalid', message: 'Invalid value: 0: must be between 1 and 65535, inclusive', field: 'spec.ports[0].port' },
        { reason: 'FieldValueInvalid', message: 'Invalid value: 0: must be between 1 and 65535, inclusive', field: 'spec.ports[0].targetPort' },
      ],
    },
    {
      name: 'a named targetPort must be an IANA service name',
      spec: { ports: [{ port: 80, targetPort: 'web_port' }] },
      want: [{ reason: 'FieldValueInvalid', message: 'Invalid value: "web_port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)', field: 'spec.ports[0].targetPort' }],
    },
    {
      name: 'several ports need names',
      spec: { ports: [{ port: 80 }, { name: 'https', port: 443 }] },
      want: [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.ports[0].name' }],
    },
    {
      name: 'the same port and protocol may not appear twice',
      spec: { ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] },
      want: [{
        reason: 'FieldValueDuplicate',
        message: 'Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
        field: 'spec.ports[1]',
      }],
    },
    {
      name: 'a nodePort is forbidden on a ClusterIP Service',
      spec: { ports: [{ port: 80, nodePort: 30080 }] },
      want: [{ reason: 'FieldValueForbidden', message: "Forbidden: may not be used when `type` is 'ClusterIP'", field: 'spec.ports[0].nodePort' }],
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(causes(service('backend', c.spec)), c.want));
});

describe('validateObject: other kinds', () => {
  it('refuses a ConfigMap key with a slash', () => {
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, data: { 'a/b': 'x' } };
    assert.deepEqual(causes(configMap), [{
      reason: 'FieldValueInvalid',
      message: "Invalid value: \"a/b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name' or 'KEY_NAME' or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
      field: 'data[a/b]',
    }]);
  });

  it('refuses an event in another namespace than its object', () => {
    const event = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'web.1', namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'web', namespace: 'shop' } };
    assert.deepEqual(causes(event), [{ reason: 'FieldValueInvalid', message: 'Invalid value: "shop": does not match event.namespace', field: 'involvedObject.namespace' }]);
  });

  it('lets an event about a node live in default', () => {
    const event = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'node-1.1', namespace: 'default' }, involvedObject: { kind: 'Node', name: 'node-1' } };
    assert.deepEqual(causes(event), []);
  });

  it('refuses a node taint with an unknown effect', () => {
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, spec: { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoWay' }] } };
    assert.deepEqual(causes(node), [{ reason: 'FieldValueNotSupported', message: 'Unsupported value: "NoWay": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"', field: 'spec.taints[0].effect' }]);
  });

  it('refuses a namespace on a cluster-scoped object', () => {
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', namespace: 'default' } };
    assert.deepEqual(causes(node), [{ reason: 'FieldValueForbidden', message: 'Forbidden: not allowed on this type', field: 'metadata.namespace' }]);
  });

  it('refuses a Lease with a zero duration', () => {
    const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'node-1', namespace: 'kube-node-lease' }, spec: { leaseDurationSeconds: 0 } };
    assert.deepEqual(causes(lease), [{ reason: 'FieldValueInvalid', message: 'Invalid value: 0: must be greater than 0', field: 'spec.leaseDurationSeconds' }]);
  });

  it('requires verbs in a Role rule', () => {
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'reader', namespace: 'default' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: [] }] };
    assert.deepEqual(causes(role), [{ reason: 'FieldValueRequired', message: 'Required value: verbs must contain at least one value', field: 'rules[0].verbs' }]);
  });

  it('requires a roleRef name in a RoleBinding and lets RBAC names hold colons', () => {
    const binding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'system:readers', namespace: 'default' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: '' },
      subjects: [{ kind: 'User', name: 'alice' }],
    };
    assert.deepEqual(causes(binding), [{ reason: 'FieldValueRequired', message: 'Required value', field: 'roleRef.name' }]);
  });
});

describe('validateUpdate', () => {
  it('refuses a changed Deployment selector with the real message', () => {
    const old = applyDefaults(info('Deployment'), deployment({ app: 'frontend' }, { app: 'frontend', v: '2' }));
    const next = applyDefaults(info('Deployment'), deployment({ app: 'frontend', v: '2' }, { app: 'frontend', v: '2' }));
    assert.deepEqual(validateUpdate(info('Deployment'), next, old), [{
      reason: 'FieldValueInvalid',
      message: 'Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"frontend", "v":"2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
      field: 'spec.selector',
    }]);
  });

  it('lets a Deployment change its image and replicas', () => {
    const old = applyDefaults(info('Deployment'), deployment({ app: 'frontend' }, { app: 'frontend' }));
    const next = structuredClone(old);
    next.spec.replicas = 5;
    next.spec.template.spec.containers[0]!.image = 'frontend:v0.0.2';
    assert.deepEqual(validateUpdate(info('Deployment'), next, old), []);
  });

  it('lets a running pod change its image', () => {
    const old = applyDefaults(info('Pod'), pod('web', [{ name: 'web', image: 'web:v1' }]));
    const next = structuredClone(old);
    next.spec.containers[0]!.image = 'web:v2';
    assert.deepEqual(validateUpdate(info('Pod'), next, old), []);
  });

  it('refuses any other change to a running pod, naming the fields that may change', () => {
    const old = applyDefaults(info('Pod'), pod('web', [{ name: 'web', image: 'web:v1' }]));
    const next = structuredClone(old);
    next.spec.nodeName = 'node-3';
    const [cause, ...rest] = validateUpdate(info('Pod'), next, old);
    assert.deepEqual(rest, []);
    assert.equal(cause?.field, 'spec');
    assert.equal(cause?.reason, 'FieldValueForbidden');
    assert.ok(cause?.message?.startsWith('Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n'), cause?.message);
    assert.match(cause?.message ?? '', /\+ nodeName: "node-3"/);
  });

  it('lets a pod gain a toleration but not lose one', () => {
    const old = applyDefaults(info('Pod'), pod('web', [{ name: 'web', image: 'web:v1' }], { tolerations: [{ key: 'a', operator: 'Exists' }] }));
    const added = structuredClone(old);
    added.spec.tolerations = [...(old.spec.tolerations ?? []), { key: 'b', operator: 'Exists' }];
    assert.deepEqual(validateUpdate(info('Pod'), added, old), []);
    const removed = structuredClone(old);
    removed.spec.tolerations = [];
    assert.deepEqual(validateUpdate(info('Pod'), removed, old), [{ reason: 'FieldValueForbidden', message: 'Forbidden: existing toleration can not be modified except its tolerationSeconds', field: 'spec.tolerations' }]);
  });

  it('refuses a new cluster IP but lets an update leave it out', () => {
    const old = service('backend', { clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], selector: { app: 'backend' }, ports: [{ port: 80 }] });
    const moved = service('backend', { clusterIP: '10.96.0.99', selector: { app: 'backend' }, ports: [{ port: 80 }] });
    assert.deepEqual(validateUpdate(info('Service'), moved, old), [{ reason: 'FieldValueInvalid', message: 'Invalid value: []string{"10.96.0.99"}: may not change once set', field: 'spec.clusterIPs[0]' }]);
    const omitted = service('backend', { selector: { app: 'backend' }, ports: [{ port: 80 }] });
    assert.deepEqual(validateUpdate(info('Service'), omitted, old), []);
  });

  it('refuses a changed Job template and selector', () => {
    const job: Job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'pi', namespace: 'default', uid: 'u-1' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl' }] } } },
    };
    const old = applyDefaults(info('Job'), job);
    const next = structuredClone(old);
    next.spec.template.spec.containers[0]!.image = 'perl:5';
    assert.deepEqual(validateUpdate(info('Job'), next, old), [{ reason: 'FieldValueInvalid', message: 'Invalid value: core.PodTemplateSpec{...}: field is immutable', field: 'spec.template' }]);
  });

  it('refuses a changed roleRef', () => {
    const old: RoleBinding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'read', namespace: 'default' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
    };
    const next = { ...old, roleRef: { ...old.roleRef, name: 'writer' } };
    assert.deepEqual(validateUpdate(info('RoleBinding'), next, old), [{
      reason: 'FieldValueInvalid',
      message: 'Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"writer"}: cannot change roleRef',
      field: 'roleRef',
    }]);
  });

  it('refuses a renamed object', () => {
    const old = pod('web', [{ name: 'web', image: 'web:v1' }]);
    const next = pod('web-2', [{ name: 'web', image: 'web:v1' }]);
    assert.deepEqual(validateUpdate(info('Pod'), next, old).filter((c) => c.field === 'metadata.name'), [
      { reason: 'FieldValueInvalid', message: 'Invalid value: "web-2": field is immutable', field: 'metadata.name' },
    ]);
  });
});

describe('the causes as a 422', () => {
  it('read as kubectl prints them', () => {
    const error = invalid('Pod', undefined, 'web', causes(pod('web', [{ name: 'web' }])));
    assert.equal(error.message, 'Pod "web" is invalid: spec.containers[0].image: Required value');
  });
});
