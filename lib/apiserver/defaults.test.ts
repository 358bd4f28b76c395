import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Deployment, Job, KubeObject, Namespace, Node, Pod, ReplicaSet, RoleBinding, Service } from '../api/types.ts';
import { applyDefaults, defaultPriority, defaultTolerations } from './defaults.ts';
import { findResource, type ResourceInfo } from './resources.ts';

function info(group: string, resource: string): ResourceInfo {
  const found = findResource(group, 'v1', resource);
  assert.ok(found, `no resource ${group}/${resource}`);
  return found;
}

const POD_SPEC_DEFAULTS = {
  dnsPolicy: 'ClusterFirst',
  restartPolicy: 'Always',
  securityContext: {},
  terminationGracePeriodSeconds: 30,
  schedulerName: 'default-scheduler',
};

const CONTAINER_DEFAULTS = { terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' };

function pod(spec: Pod['spec']): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec };
}

describe('applyDefaults: pods', () => {
  it('fills in the pod spec and container defaults', () => {
    const got = applyDefaults(info('', 'pods'), pod({ containers: [{ name: 'web', image: 'nginx:1.14.2', ports: [{ containerPort: 80 }] }] }));
    assert.deepEqual(got.spec, {
      ...POD_SPEC_DEFAULTS,
      enableServiceLinks: true,
      containers: [{ name: 'web', image: 'nginx:1.14.2', imagePullPolicy: 'IfNotPresent', ...CONTAINER_DEFAULTS, ports: [{ containerPort: 80, protocol: 'TCP' }] }],
    });
  });

  it('never changes the object it was given', () => {
    const input = pod({ containers: [{ name: 'web', image: 'web' }] });
    const before = structuredClone(input);
    applyDefaults(info('', 'pods'), input);
    assert.deepEqual(input, before);
  });

  it('keeps every value the client set', () => {
    const got = applyDefaults(info('', 'pods'), pod({ restartPolicy: 'Never', terminationGracePeriodSeconds: 0, containers: [{ name: 'web', image: 'web', imagePullPolicy: 'Never' }] }));
    assert.equal(got.spec.restartPolicy, 'Never');
    assert.equal(got.spec.terminationGracePeriodSeconds, 0);
    assert.equal(got.spec.containers[0]?.imagePullPolicy, 'Never');
  });

  const pullPolicies: Array<{ name: string; image: string; want: string }> = [
    { name: 'an image with no tag is pulled Always', image: 'busybox', want: 'Always' },
    { name: 'an image tagged latest is pulled Always', image: 'busybox:latest', want: 'Always' },
    { name: 'an image with another tag is pulled IfNotPresent', image: 'backend:v0.0.1', want: 'IfNotPresent' },
    { name: 'a registry port is not mistaken for a tag', image: 'registry:5000/backend', want: 'Always' },
    { name: 'an image pinned by digest is pulled IfNotPresent', image: 'busybox@sha256:abc', want: 'IfNotPresent' },
  ];
  for (const c of pullPolicies) {
    it(c.name, () => {
      const got = applyDefaults(info('', 'pods'), pod({ containers: [{ name: 'c', image: c.image }] }));
      assert.equal(got.spec.containers[0]?.imagePullPolicy, c.want);
    });
  }

  it('fills in probe timing and the httpGet path and scheme', () => {
    const got = applyDefaults(info('', 'pods'), pod({ containers: [{ name: 'c', image: 'c:1', readinessProbe: { httpGet: { port: 8080 } } }] }));
    assert.deepEqual(got.spec.containers[0]?.readinessProbe, {
      httpGet: { port: 8080, path: '/', scheme: 'HTTP' },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
  });

  it('makes a container that states only limits request its limits', () => {
    const got = applyDefaults(info('', 'pods'), pod({ containers: [{ name: 'c', image: 'c:1', resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m' } } }] }));
    assert.deepEqual(got.spec.containers[0]?.resources, { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m', memory: '128Mi' } });
  });
});

describe('applyDefaults: workloads', () => {
  const template = { metadata: { labels: { app: 'frontend' } }, spec: { containers: [{ name: 'frontend', image: 'frontend:v0.0.1' }] } };

  it('gives a Deployment one replica, a 25%/25% rolling update, history and a deadline, and defaults its template', () => {
    const deployment: Deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'frontend', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'frontend' } }, template } };
    const got = applyDefaults(info('apps', 'deployments'), deployment);
    assert.equal(got.spec.replicas, 1);
    assert.deepEqual(got.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
    assert.equal(got.spec.revisionHistoryLimit, 10);
    assert.equal(got.spec.progressDeadlineSeconds, 600);
    assert.equal(got.spec.template.spec.restartPolicy, 'Always');
    assert.equal(got.spec.template.spec.containers[0]?.imagePullPolicy, 'IfNotPresent');
  });

  it('gives a Recreate Deployment no rollingUpdate', () => {
    const deployment: Deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'f', namespace: 'default' }, spec: { selector: {}, template, strategy: { type: 'Recreate' } } };
    assert.deepEqual(applyDefaults(info('apps', 'deployments'), deployment).spec.strategy, { type: 'Recreate' });
  });

  it('does not give a template the Pod-only defaults', () => {
    const deployment: Deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'f', namespace: 'default' }, spec: { selector: {}, template } };
    assert.equal(applyDefaults(info('apps', 'deployments'), deployment).spec.template.spec.enableServiceLinks, undefined);
  });

  it('gives a ReplicaSet one replica and a defaulted template', () => {
    const replicaSet: ReplicaSet = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'f-1', namespace: 'default' }, spec: { selector: {}, template } };
    const got = applyDefaults(info('apps', 'replicasets'), replicaSet);
    assert.equal(got.spec.replicas, 1);
    assert.equal(got.spec.template?.spec.schedulerName, 'default-scheduler');
  });

  it('gives a Job one pod run once, six retries, and a selector on its uid', () => {
    const job: Job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'pi', namespace: 'default', uid: 'b3f1' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl:5.34' }] } } },
    };
    const got = applyDefaults(info('batch', 'jobs'), job);
    const expectedLabels = {
      'batch.kubernetes.io/controller-uid': 'b3f1',
      'batch.kubernetes.io/job-name': 'pi',
      'controller-uid': 'b3f1',
      'job-name': 'pi',
    };
    assert.equal(got.spec.completions, 1);
    assert.equal(got.spec.parallelism, 1);
    assert.equal(got.spec.backoffLimit, 6);
    assert.equal(got.spec.completionMode, 'NonIndexed');
    assert.equal(got.spec.suspend, false);
    assert.deepEqual(got.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': 'b3f1' } });
    assert.deepEqual(got.spec.template.metadata?.labels, expectedLabels);
    assert.deepEqual(got.metadata.labels, expectedLabels);
  });

  it('leaves completions unset for a Job that only sets parallelism (a work queue)', () => {
    const job: Job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'q', namespace: 'default', uid: 'u' }, spec: { parallelism: 3, template } };
    const got = applyDefaults(info('batch', 'jobs'), job);
    assert.equal(got.spec.completions, undefined);
    assert.equal(got.spec.parallelism, 3);
  });

  it('generates no selector for a Job with manualSelector', () => {
    const job: Job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'q', namespace: 'default', uid: 'u' }, spec: { manualSelector: true, selector: { matchLabels: { app: 'frontend' } }, template } };
    const got = applyDefaults(info('batch', 'jobs'), job);
    assert.deepEqual(got.spec.selector, { matchLabels: { app: 'frontend' } });
    assert.deepEqual(got.spec.template.metadata?.labels, { app: 'frontend' });
  });
});

describe('applyDefaults: services and endpoints', () => {
  it('makes a bare Service a single-stack IPv4 ClusterIP with TCP ports that target the same port', () => {
    const service: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'backend', namespace: 'default' }, spec: { selector: { app: 'backend' }, ports: [{ port: 80 }, { name: 'x', port: 81, targetPort: 'metrics' }] } };
    assert.deepEqual(applyDefaults(info('', 'services'), service).spec, {
      selector: { app: 'backend' },
      ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }, { name: 'x', port: 81, targetPort: 'metrics', protocol: 'TCP' }],
      sessionAffinity: 'None',
      type: 'ClusterIP',
      internalTrafficPolicy: 'Cluster',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
    });
  });

  it('gives a NodePort Service an external traffic policy', () => {
    const service: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } };
    assert.equal(applyDefaults(info('', 'services'), service).spec.externalTrafficPolicy, 'Cluster');
  });

  it('gives a ClientIP Service three hours of stickiness', () => {
    const service: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { sessionAffinity: 'ClientIP', ports: [{ port: 80 }] } };
    assert.deepEqual(applyDefaults(info('', 'services'), service).spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
  });

  it('gives an ExternalName Service no IP families', () => {
    const service: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'db.example.com' } };
    assert.equal(applyDefaults(info('', 'services'), service).spec.ipFamilies, undefined);
  });

  it('gives endpoint ports TCP', () => {
    const endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'backend', namespace: 'default' }, subsets: [{ addresses: [{ ip: '10.244.1.2' }], ports: [{ port: 8080 }] }] };
    assert.deepEqual(applyDefaults(info('', 'endpoints'), endpoints as KubeObject).subsets, [{ addresses: [{ ip: '10.244.1.2' }], ports: [{ port: 8080, protocol: 'TCP' }] }]);
  });
});

describe('applyDefaults: cluster objects', () => {
  it('labels a Namespace with its name, makes it Active and gives it the kubernetes finalizer', () => {
    const namespace: Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } };
    const got = applyDefaults(info('', 'namespaces'), namespace);
    assert.deepEqual(got.metadata.labels, { 'kubernetes.io/metadata.name': 'shop' });
    assert.deepEqual(got.spec, { finalizers: ['kubernetes'] });
    assert.deepEqual(got.status, { phase: 'Active' });
  });

  it('leaves an emptied finalizer list empty, so the namespace controller can finish a deletion', () => {
    const namespace: Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' }, spec: { finalizers: [] }, status: { phase: 'Terminating' } };
    const got = applyDefaults(info('', 'namespaces'), namespace);
    assert.deepEqual(got.spec, { finalizers: [] });
    assert.equal(got.status?.phase, 'Terminating');
  });

  it('lets a Node that reports only capacity allocate all of it', () => {
    const node: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-2' }, status: { capacity: { cpu: '2', memory: '4Gi', pods: '110' } } };
    assert.deepEqual(applyDefaults(info('', 'nodes'), node).status?.allocatable, { cpu: '2', memory: '4Gi', pods: '110' });
  });

  it('puts a RoleBinding roleRef and its User subjects in the RBAC group, and ServiceAccounts in the core group', () => {
    const binding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'read', namespace: 'default' },
      roleRef: { kind: 'Role', name: 'reader' },
      subjects: [{ kind: 'User', name: 'alice' }, { kind: 'ServiceAccount', name: 'default', namespace: 'default' }],
    } as unknown as RoleBinding;
    const got = applyDefaults(info('rbac.authorization.k8s.io', 'rolebindings'), binding);
    assert.equal(got.roleRef.apiGroup, 'rbac.authorization.k8s.io');
    assert.deepEqual(got.subjects?.map((s) => s.apiGroup), ['rbac.authorization.k8s.io', '']);
  });

  it('leaves kinds without defaults as they were', () => {
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, data: { a: 'b' } };
    assert.deepEqual(applyDefaults(info('', 'configmaps'), configMap), configMap);
  });
});

describe('admission defaults', () => {
  it('adds the not-ready and unreachable tolerations of 300 seconds', () => {
    const got = defaultTolerations(pod({ containers: [{ name: 'c', image: 'c:1' }] }));
    assert.deepEqual(got.spec.tolerations, [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
  });

  it('keeps a pod own toleration of an unreachable node and adds only the other', () => {
    const own = { key: 'node.kubernetes.io/unreachable', operator: 'Exists' as const, effect: 'NoExecute' as const, tolerationSeconds: 10 };
    const got = defaultTolerations(pod({ containers: [{ name: 'c', image: 'c:1' }], tolerations: [own] }));
    assert.deepEqual(got.spec.tolerations?.map((t) => [t.key, t.tolerationSeconds]), [['node.kubernetes.io/unreachable', 10], ['node.kubernetes.io/not-ready', 300]]);
  });

  it('adds nothing to a pod that tolerates every taint', () => {
    const got = defaultTolerations(pod({ containers: [{ name: 'c', image: 'c:1' }], tolerations: [{ operator: 'Exists' }] }));
    assert.deepEqual(got.spec.tolerations, [{ operator: 'Exists' }]);
  });

  it('gives a pod priority 0 and the PreemptLowerPriority policy', () => {
    const got = defaultPriority(pod({ containers: [{ name: 'c', image: 'c:1' }] }));
    assert.equal(got.spec.priority, 0);
    assert.equal(got.spec.preemptionPolicy, 'PreemptLowerPriority');
  });
});
