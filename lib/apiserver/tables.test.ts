import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerStatus, Deployment, Endpoints, Event, Job, KubeObject, Node, Pod, Service } from '../api/types.ts';
import { findResource, type ResourceInfo } from './resources.ts';
import { ApiError } from './status.ts';
import { columnDefinitionsFor, humanDuration, parseIncludeObject, toTable, watchEventTable } from './tables.ts';

const NOW = Date.parse('2025-03-01T12:00:00Z');
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The ISO timestamp `ms` before NOW. */
const ago = (ms: number) => new Date(NOW - ms).toISOString();

function info(resource: string): ResourceInfo {
  const found = ['', 'apps', 'batch', 'coordination.k8s.io', 'rbac.authorization.k8s.io']
    .map((group) => findResource(group, 'v1', resource))
    .find((r) => r !== undefined);
  assert.ok(found, `no resource ${resource}`);
  return found;
}

/** The cells of one object's row, as the server would render them at NOW. */
function cells(resource: string, object: KubeObject): unknown[] {
  const row = toTable(info(resource), [object], { now: NOW, resourceVersion: '7' }).rows[0];
  assert.ok(row);
  return row.cells;
}

// ---- the scenario's objects -----------------------------------------------

const backendDeployment: Deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'backend', namespace: 'default', labels: { app: 'backend' }, creationTimestamp: ago(5 * MINUTE), resourceVersion: '40' },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'backend' } },
    template: { metadata: { labels: { app: 'backend' } }, spec: { containers: [{ name: 'backend', image: 'backend:v0.0.1' }] } },
  },
  status: { replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 },
};

const backendService: Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'backend', namespace: 'default', creationTimestamp: ago(5 * MINUTE) },
  spec: {
    type: 'ClusterIP',
    selector: { app: 'backend' },
    clusterIP: '10.96.0.20',
    clusterIPs: ['10.96.0.20'],
    ports: [{ protocol: 'TCP', port: 80, targetPort: 8080 }],
  },
};

function backendPod(suffix: string, status: Pod['status'], more: { nodeName?: string; deletionTimestamp?: string } = {}): Pod {
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `backend-6f8d9c7b5-${suffix}`, namespace: 'default', labels: { app: 'backend' }, creationTimestamp: ago(5 * MINUTE) },
    spec: { containers: [{ name: 'backend', image: 'backend:v0.0.1' }] },
  };
  if (status) pod.status = status;
  if (more.nodeName) pod.spec.nodeName = more.nodeName;
  if (more.deletionTimestamp) pod.metadata.deletionTimestamp = more.deletionTimestamp;
  return pod;
}

function containerStatus(state: ContainerStatus['state'], more: Partial<ContainerStatus> = {}): ContainerStatus {
  return { name: 'backend', state, ready: false, restartCount: 0, image: 'backend:v0.0.1', imageID: '', ...more };
}

const running = (more: Partial<ContainerStatus> = {}) => containerStatus({ running: { startedAt: ago(4 * MINUTE) } }, { ready: true, started: true, ...more });
const waiting = (reason: string, more: Partial<ContainerStatus> = {}) => containerStatus({ waiting: { reason } }, more);
const terminated = (exitCode: number, reason?: string, signal?: number) =>
  containerStatus({ terminated: { exitCode, ...(reason ? { reason } : {}), ...(signal ? { signal } : {}) } });

const readyCondition = (status: 'True' | 'False') => [{ type: 'Ready', status }];

const podIPs = (ip: string) => ({ podIP: ip, podIPs: [{ ip }] });

function node(name: string, labels: Record<string, string>, ready: 'True' | 'False' | 'Unknown' | undefined, ip: string): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels }, creationTimestamp: ago(3 * HOUR) },
    spec: {},
    status: {
      conditions: ready ? [{ type: 'Ready', status: ready }] : [],
      addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }],
      nodeInfo: { kubeletVersion: 'v1.32.0', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0-28-amd64', containerRuntimeVersion: 'runc://1.1.12' },
    },
  };
}

const node1 = node('node-1', { 'node-role.kubernetes.io/control-plane': '' }, 'True', '192.168.50.11');
node1.spec = { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] };
const node2 = node('node-2', {}, 'True', '192.168.50.12');
const node3 = node('node-3', {}, 'True', '192.168.50.13');

function event(name: string, fields: Partial<Event>): Event {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: 'default', creationTimestamp: ago(10 * MINUTE) },
    involvedObject: { kind: 'Pod', name: 'backend-6f8d9c7b5-x7k2p', namespace: 'default' },
    ...fields,
  };
}

// ---- durations ------------------------------------------------------------

describe('humanDuration', () => {
  it('prints seconds up to two minutes, then minutes with their seconds up to ten minutes', () => {
    assert.equal(humanDuration(0), '0s');
    assert.equal(humanDuration(45 * SECOND), '45s');
    assert.equal(humanDuration(119 * SECOND + 999), '119s');
    assert.equal(humanDuration(2 * MINUTE), '2m');
    assert.equal(humanDuration(2 * MINUTE + 30 * SECOND), '2m30s');
    assert.equal(humanDuration(9 * MINUTE + 59 * SECOND), '9m59s');
  });

  it('prints whole minutes up to three hours, then hours with their minutes up to eight hours', () => {
    assert.equal(humanDuration(10 * MINUTE + 30 * SECOND), '10m');
    assert.equal(humanDuration(179 * MINUTE), '179m');
    assert.equal(humanDuration(3 * HOUR), '3h');
    assert.equal(humanDuration(3 * HOUR + 5 * MINUTE), '3h5m');
    assert.equal(humanDuration(7 * HOUR + 59 * MINUTE), '7h59m');
  });

  it('prints whole hours up to two days, days with their hours up to eight days, then whole days up to two years', () => {
    assert.equal(humanDuration(8 * HOUR + 30 * MINUTE), '8h');
    assert.equal(humanDuration(47 * HOUR), '47h');
    assert.equal(humanDuration(48 * HOUR), '2d');
    assert.equal(humanDuration(2 * DAY + 3 * HOUR), '2d3h');
    assert.equal(humanDuration(7 * DAY + 23 * HOUR), '7d23h');
    assert.equal(humanDuration(8 * DAY + 5 * HOUR), '8d');
    assert.equal(humanDuration(729 * DAY), '729d');
  });

  it('prints years with their days up to eight years, then whole years', () => {
    assert.equal(humanDuration(730 * DAY), '2y');
    assert.equal(humanDuration(731 * DAY), '2y1d');
    assert.equal(humanDuration(8 * 365 * DAY - DAY), '7y364d');
    assert.equal(humanDuration(8 * 365 * DAY), '8y');
    assert.equal(humanDuration(20 * 365 * DAY + 100 * DAY), '20y');
  });

  it('reads up to a second in the future as now, and anything later as invalid', () => {
    assert.equal(humanDuration(-999), '0s');
    assert.equal(humanDuration(-1999), '0s');
    assert.equal(humanDuration(-2 * SECOND), '<invalid>');
  });
});

// ---- the Table envelope ---------------------------------------------------

describe('toTable', () => {
  it('answers a meta.k8s.io/v1 Table with the list resourceVersion and the continue token', () => {
    const table = toTable(info('deployments'), [backendDeployment], { now: NOW, resourceVersion: '812', continueToken: 'abc' });
    assert.equal(table.kind, 'Table');
    assert.equal(table.apiVersion, 'meta.k8s.io/v1');
    assert.deepEqual(table.metadata, { resourceVersion: '812', continue: 'abc' });
    assert.equal(table.rows.length, 1);
    assert.deepEqual(toTable(info('pods'), [], { now: NOW, resourceVersion: '3' }).rows, []);
  });

  it('puts the full metadata of each object in its row as PartialObjectMetadata by default', () => {
    const [row] = toTable(info('deployments'), [backendDeployment], { now: NOW, resourceVersion: '1' }).rows;
    assert.deepEqual(row?.object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: backendDeployment.metadata });
  });

  it('puts the whole object in each row for includeObject=Object, and null for None', () => {
    const whole = toTable(info('deployments'), [backendDeployment], { now: NOW, resourceVersion: '1', includeObject: 'Object' });
    assert.equal(whole.rows[0]?.object, backendDeployment);
    const none = toTable(info('deployments'), [backendDeployment], { now: NOW, resourceVersion: '1', includeObject: 'None' });
    assert.equal(none.rows[0]?.object, null);
  });

  it('leaves the column definitions out with noHeaders but keeps every cell', () => {
    const table = toTable(info('deployments'), [backendDeployment], { now: NOW, resourceVersion: '1', noHeaders: true });
    assert.deepEqual(table.columnDefinitions, []);
    assert.equal(table.rows[0]?.cells.length, 8);
  });

  it('renders a watch event as a one-row Table at the object resourceVersion, with headers only for the first event', () => {
    const first = watchEventTable(info('deployments'), backendDeployment, { now: NOW, first: true });
    const later = watchEventTable(info('deployments'), backendDeployment, { now: NOW, first: false, includeObject: 'Object' });
    assert.equal(first.metadata.resourceVersion, '40');
    assert.equal(first.columnDefinitions.length, 8);
    assert.deepEqual(later.columnDefinitions, []);
    assert.equal(later.rows[0]?.object, backendDeployment);
  });

  it('reads includeObject as Metadata when absent and refuses an unknown value with a 400', () => {
    assert.equal(parseIncludeObject(undefined), 'Metadata');
    assert.equal(parseIncludeObject(''), 'Metadata');
    assert.equal(parseIncludeObject('Object'), 'Object');
    assert.throws(
      () => parseIncludeObject('Everything'),
      (error: unknown) => error instanceof ApiError && error.code === 400 && error.message === 'unrecognized includeObject value: "Everything"',
    );
  });
});

// ---- columns --------------------------------------------------------------

describe('column definitions', () => {
  /** Each resource's columns as `kubectl get -o wide` prints them; a `*` marks the ones only -o wide shows. */
  const expected: Record<string, string[]> = {
    pods: ['Name', 'Ready', 'Status', 'Restarts', 'Age', '*IP', '*Node', '*Nominated Node', '*Readiness Gates'],
    deployments: ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', '*Containers', '*Images', '*Selector'],
    replicasets: ['Name', 'Desired', 'Current', 'Ready', 'Age', '*Containers', '*Images', '*Selector'],
    services: ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', '*Selector'],
    endpoints: ['Name', 'Endpoints', 'Age'],
    nodes: ['Name', 'Status', 'Roles', 'Age', 'Version', '*Internal-IP', '*External-IP', '*OS-Image', '*Kernel-Version', '*Container-Runtime'],
    namespaces: ['Name', 'Status', 'Age'],
    events: ['Last Seen', 'Type', 'Reason', 'Object', '*Subobject', '*Source', 'Message', '*First Seen', '*Count', '*Name'],
    configmaps: ['Name', 'Data', 'Age'],
    leases: ['Name', 'Holder', 'Age'],
    jobs: ['Name', 'Status', 'Completions', 'Duration', 'Age', '*Containers', '*Images', '*Selector'],
    roles: ['Name', 'Created At'],
    clusterroles: ['Name', 'Created At'],
    rolebindings: ['Name', 'Role', 'Age', '*Users', '*Groups', '*ServiceAccounts'],
    clusterrolebindings: ['Name', 'Role', 'Age', '*Users', '*Groups', '*ServiceAccounts'],
  };

  for (const [resource, names] of Object.entries(expected)) {
    it(`gives ${resource} the real printer's columns, with priority 1 on exactly the wide-only ones`, () => {
      const columns = columnDefinitionsFor(info(resource));
      assert.deepEqual(
        columns.map((c) => (c.priority === 1 ? `*${c.name}` : c.name)),
        names,
      );
      for (const c of columns) {
        assert.deepEqual(Object.keys(c).sort(), ['description', 'format', 'name', 'priority', 'type']);
        assert.ok(c.description.length > 10, `${resource} ${c.name} has a description`);
        assert.equal(c.format, c.name === 'Name' ? 'name' : '');
        assert.ok(c.priority === 0 || c.priority === 1);
      }
    });
  }

  it('types the replica counts of ReplicaSets as integers and the Created At of Roles as a date', () => {
    assert.deepEqual(columnDefinitionsFor(info('replicasets')).map((c) => c.type), ['string', 'integer', 'integer', 'integer', 'string', 'string', 'string', 'string']);
    assert.equal(columnDefinitionsFor(info('roles'))[1]?.type, 'date');
  });

  it('gives a resource without a printer of its own a Name and an Age', () => {
    const widgets: ResourceInfo = { ...info('configmaps'), kind: 'Widget', resource: 'widgets', singular: 'widget' };
    const table = toTable(widgets, [{ apiVersion: 'v1', kind: 'Widget', metadata: { name: 'w', creationTimestamp: ago(90 * SECOND) } }], { now: NOW, resourceVersion: '1' });
    assert.deepEqual(table.columnDefinitions.map((c) => c.name), ['Name', 'Age']);
    assert.deepEqual(table.rows[0]?.cells, ['w', '90s']);
  });
});

// ---- workloads ------------------------------------------------------------

describe('deployments, replicasets and jobs', () => {
  it('prints the Deployment backend with 3 of 3 replicas ready, its container, image and selector', () => {
    assert.deepEqual(cells('deployments', backendDeployment), ['backend', '3/3', 3, 3, '5m', 'backend', 'backend:v0.0.1', 'app=backend']);
  });

  it('prints a Deployment just created, before any pod is ready, as 0/3 and prints an unset replicas as 1', () => {
    const fresh: Deployment = { ...backendDeployment, status: {} };
    assert.deepEqual(cells('deployments', fresh).slice(1, 4), ['0/3', 0, 0]);
    const { replicas: _, ...specWithoutReplicas } = backendDeployment.spec;
    assert.equal(cells('deployments', { ...fresh, spec: specWithoutReplicas })[1], '0/1');
  });

  it('writes match expressions in the selector sorted by key, with sorted values', () => {
    const deployment: Deployment = {
      ...backendDeployment,
      spec: {
        ...backendDeployment.spec,
        selector: {
          matchLabels: { tier: 'api' },
          matchExpressions: [
            { key: 'track', operator: 'In', values: ['stable', 'canary'] },
            { key: 'app', operator: 'Exists' },
            { key: 'legacy', operator: 'DoesNotExist' },
            { key: 'zone', operator: 'NotIn', values: ['b', 'a'] },
          ],
        },
      },
    };
    assert.equal(cells('deployments', deployment)[7], 'app,!legacy,tier=api,track in (canary,stable),zone notin (a,b)');
  });

  it('prints a ReplicaSet with desired, current and ready as numbers', () => {
    const replicaSet: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'backend-6f8d9c7b5', namespace: 'default', creationTimestamp: ago(5 * MINUTE) },
      spec: { replicas: 3, selector: { matchLabels: { app: 'backend', 'pod-template-hash': '6f8d9c7b5' } }, template: backendDeployment.spec.template },
      status: { replicas: 3, readyReplicas: 2 },
    };
    assert.deepEqual(cells('replicasets', replicaSet), ['backend-6f8d9c7b5', 3, 3, 2, '5m', 'backend', 'backend:v0.0.1', 'app=backend,pod-template-hash=6f8d9c7b5']);
  });

  it('prints an empty ReplicaSet selector as <none>, where a Deployment leaves it blank', () => {
    const replicaSet: KubeObject = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'r' }, spec: { selector: {} } };
    assert.deepEqual(cells('replicasets', replicaSet), ['r', 1, 0, 0, '<unknown>', '', '', '<none>']);
    assert.equal(cells('deployments', { ...backendDeployment, spec: { ...backendDeployment.spec, selector: {} } })[7], '');
  });

  function job(spec: Partial<Job['spec']>, status: Job['status'], deletionTimestamp?: string): Job {
    const metadata: Job['metadata'] = { name: 'migrate', namespace: 'default', creationTimestamp: ago(10 * MINUTE) };
    if (deletionTimestamp) metadata.deletionTimestamp = deletionTimestamp;
    return { apiVersion: 'batch/v1', kind: 'Job', metadata, spec: { template: { spec: { containers: [{ name: 'migrate', image: 'busybox' }] } }, ...spec }, status };
  }

  it('prints a finished Job as Complete, 1/1, with how long it ran', () => {
    const done = job({ completions: 1, selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u1' } } }, {
      succeeded: 1,
      startTime: ago(9 * MINUTE),
      completionTime: ago(9 * MINUTE - 12 * SECOND),
      conditions: [{ type: 'Complete', status: 'True' }],
    });
    assert.deepEqual(cells('jobs', done), ['migrate', 'Complete', '1/1', '12s', '10m', 'migrate', 'busybox', 'batch.kubernetes.io/controller-uid=u1']);
  });

  it('prints a Job still going as Running with the time since it started, and one not started with a blank duration', () => {
    assert.deepEqual(cells('jobs', job({ completions: 3 }, { succeeded: 1, startTime: ago(2 * MINUTE + 30 * SECOND) })).slice(1, 4), ['Running', '1/3', '2m30s']);
    assert.deepEqual(cells('jobs', job({}, {})).slice(1, 4), ['Running', '0/1', '']);
    assert.equal(cells('jobs', job({ parallelism: 3 }, {}))[2], '0/1 of 3');
    assert.equal(cells('jobs', job({}, {}))[7], '<none>');
  });

  it('prints Failed, Suspended and Terminating Jobs, Complete and Failed winning over a deletion', () => {
    const status = (type: string) => ({ conditions: [{ type, status: 'True' }] });
    assert.equal(cells('jobs', job({}, status('Failed')))[1], 'Failed');
    assert.equal(cells('jobs', job({ suspend: true }, status('Suspended')))[1], 'Suspended');
    assert.equal(cells('jobs', job({}, status('Suspended'), ago(SECOND)))[1], 'Terminating');
    assert.equal(cells('jobs', job({}, status('Complete'), ago(SECOND)))[1], 'Complete');
    assert.equal(cells('jobs', job({}, { conditions: [{ type: 'Complete', status: 'False' }] }))[1], 'Running');
  });
});

// ---- pods -----------------------------------------------------------------

describe('pods', () => {
  it('prints a Pending pod the scheduler has not placed yet with <none> for IP and node', () => {
    const pod = backendPod('pending', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] });
    assert.deepEqual(cells('pods', pod), ['backend-6f8d9c7b5-pending', '0/1', 'Pending', '0', '5m', '<none>', '<none>', '<none>', '<none>']);
  });

  it('prints a running, ready pod with its IP and node', () => {
    const pod = backendPod('x7k2p', { phase: 'Running', ...podIPs('10.244.1.5'), conditions: readyCondition('True'), containerStatuses: [running()] }, { nodeName: 'node-2' });
    assert.deepEqual(cells('pods', pod), ['backend-6f8d9c7b5-x7k2p', '1/1', 'Running', '0', '5m', '10.244.1.5', 'node-2', '<none>', '<none>']);
  });

  it('prints a crash-looping pod as CrashLoopBackOff with its restarts and when the container last stopped', () => {
    const crashing = waiting('CrashLoopBackOff', {
      restartCount: 4,
      lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(90 * SECOND) } },
    });
    const pod = backendPod('crash', { phase: 'Running', ...podIPs('10.244.2.7'), containerStatuses: [crashing] }, { nodeName: 'node-3' });
    assert.deepEqual(cells('pods', pod), ['backend-6f8d9c7b5-crash', '0/1', 'CrashLoopBackOff', '4 (90s ago)', '5m', '10.244.2.7', 'node-3', '<none>', '<none>']);
  });

  it('prints a pod being deleted as Terminating while its container still runs', () => {
    const pod = backendPod('bye', { phase: 'Running', containerStatuses: [running()] }, { nodeName: 'node-2', deletionTimestamp: ago(5 * SECOND) });
    assert.deepEqual(cells('pods', pod).slice(1, 3), ['1/1', 'Terminating']);
  });

  it("prints a waiting container's reason: ContainerCreating, ErrImagePull, ImagePullBackOff", () => {
    for (const reason of ['ContainerCreating', 'ErrImagePull', 'ImagePullBackOff']) {
      assert.deepEqual(cells('pods', backendPod('w', { phase: 'Pending', containerStatuses: [waiting(reason)] })).slice(1, 3), ['0/1', reason]);
    }
  });

  it('prints a finished pod as Completed or Error and flags its row Completed', () => {
    const succeeded = backendPod('ok', { phase: 'Succeeded', containerStatuses: [terminated(0, 'Completed')] });
    const table = toTable(info('pods'), [succeeded], { now: NOW, resourceVersion: '1' });
    assert.equal(table.rows[0]?.cells[2], 'Completed');
    assert.deepEqual(table.rows[0]?.conditions, [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }]);
    const failed = backendPod('bad', { phase: 'Failed', containerStatuses: [terminated(1, 'Error')] });
    const failedRow = toTable(info('pods'), [failed], { now: NOW, resourceVersion: '1' }).rows[0];
    assert.equal(failedRow?.cells[2], 'Error');
    assert.equal(failedRow?.conditions?.[0]?.reason, 'Failed');
    assert.equal(toTable(info('pods'), [backendPod('r', { phase: 'Running' })], { now: NOW, resourceVersion: '1' }).rows[0]?.conditions, undefined);
  });

  it('prints a container that stopped without a reason as Signal:N or ExitCode:N', () => {
    assert.equal(cells('pods', backendPod('s', { phase: 'Running', containerStatuses: [terminated(137, undefined, 9)] }))[2], 'Signal:9');
    assert.equal(cells('pods', backendPod('e', { phase: 'Running', containerStatuses: [terminated(3)] }))[2], 'ExitCode:3');
  });

  it("lets the first container's state win when several containers have something to say", () => {
    const pod = backendPod('two', { phase: 'Running', containerStatuses: [waiting('ImagePullBackOff'), waiting('CrashLoopBackOff', { name: 'sidecar' })] });
    assert.equal(cells('pods', pod)[2], 'ImagePullBackOff');
  });

  it('prints Running or NotReady, by the Ready condition, when one container completed and another still runs', () => {
    const statuses = [terminated(0, 'Completed'), running({ name: 'sidecar' })];
    const withReady = backendPod('a', { phase: 'Running', conditions: readyCondition('True'), containerStatuses: statuses });
    const withoutReady = backendPod('b', { phase: 'Running', conditions: readyCondition('False'), containerStatuses: statuses });
    withReady.spec.containers.push({ name: 'sidecar', image: 'busybox' });
    assert.deepEqual(cells('pods', withReady).slice(1, 3), ['1/2', 'Running']);
    assert.equal(cells('pods', withoutReady)[2], 'NotReady');
  });

  describe('init containers', () => {
    function initPod(initStatuses: ContainerStatus[], conditions: Array<{ type: string; status: 'True' | 'False' }> = []): Pod {
      const pod = backendPod('init', { phase: 'Pending', conditions, containerStatuses: [waiting('PodInitializing')] });
      pod.spec.initContainers = [{ name: 'wait-db', image: 'busybox' }, { name: 'migrate', image: 'busybox' }];
      Object.assign(pod.status ?? {}, { initContainerStatuses: initStatuses });
      return pod;
    }

    it('prints Init:i/n while an init container runs, counting the ones that succeeded', () => {
      assert.equal(cells('pods', initPod([running({ name: 'wait-db' }), waiting('PodInitializing', { name: 'migrate' })]))[2], 'Init:0/2');
      assert.equal(cells('pods', initPod([terminated(0, 'Completed'), running({ name: 'migrate' })]))[2], 'Init:1/2');
    });

    it("prints an init container's waiting or failure reason after Init:", () => {
      const looping = waiting('CrashLoopBackOff', { restartCount: 2, lastState: { terminated: { exitCode: 1, finishedAt: ago(30 * SECOND) } } });
      assert.deepEqual(cells('pods', initPod([looping])).slice(1, 4), ['0/1', 'Init:CrashLoopBackOff', '2 (30s ago)']);
      assert.equal(cells('pods', initPod([terminated(2)]))[2], 'Init:ExitCode:2');
      assert.equal(cells('pods', initPod([terminated(137, undefined, 9)]))[2], 'Init:Signal:9');
      assert.equal(cells('pods', initPod([terminated(1, 'Error')]))[2], 'Init:Error');
    });

    it('moves on to the app containers once every init container succeeded, forgetting init restarts', () => {
      const done = [terminated(0, 'Completed'), containerStatus({ terminated: { exitCode: 0, reason: 'Completed' } }, { restartCount: 3 })];
      assert.deepEqual(cells('pods', initPod(done)).slice(1, 4), ['0/1', 'PodInitializing', '0']);
    });
  });

  it('prints a pod without any status as Pending with none of its containers ready', () => {
    const pod = backendPod('new', undefined);
    pod.spec.containers.push({ name: 'sidecar', image: 'busybox' });
    assert.deepEqual(cells('pods', pod).slice(1, 4), ['0/2', 'Pending', '0']);
  });

  it("prints the status reason over the phase, as for an Evicted pod", () => {
    assert.equal(cells('pods', backendPod('ev', { phase: 'Failed', reason: 'Evicted' }))[2], 'Evicted');
  });

  it('prints Unknown for a pod being deleted because its node was lost, and keeps the final word of a finished pod being deleted', () => {
    const lost = backendPod('lost', { phase: 'Running', reason: 'NodeLost', containerStatuses: [running()] }, { deletionTimestamp: ago(SECOND) });
    assert.equal(cells('pods', lost)[2], 'Unknown');
    const finished = backendPod('fin', { phase: 'Succeeded', containerStatuses: [terminated(0, 'Completed')] }, { deletionTimestamp: ago(SECOND) });
    assert.equal(cells('pods', finished)[2], 'Completed');
  });

  it('prints SchedulingGated for a pod held by scheduling gates', () => {
    const pod = backendPod('gated', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] });
    assert.equal(cells('pods', pod)[2], 'SchedulingGated');
  });

  it('prints how many readiness gates pass, and the nominated node', () => {
    const pod = backendPod('gates', { phase: 'Running', nominatedNodeName: 'node-3', conditions: [{ type: 'example.com/lb', status: 'True' }] });
    pod.spec.readinessGates = [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/dns' }];
    assert.deepEqual(cells('pods', pod).slice(7), ['node-3', '1/2']);
  });
});

// ---- services and endpoints -----------------------------------------------

describe('services and endpoints', () => {
  it('prints the ClusterIP Service backend with its cluster IP, port 80/TCP and selector', () => {
    assert.deepEqual(cells('services', backendService), ['backend', 'ClusterIP', '10.96.0.20', '<none>', '80/TCP', '5m', 'app=backend']);
  });

  it('prints a NodePort as 80:30080/TCP and defaults an unset type and protocol as the API server does', () => {
    const nodePort: Service = { ...backendService, spec: { type: 'NodePort', clusterIPs: ['10.96.0.30'], ports: [{ port: 80, nodePort: 30080 }, { port: 53, protocol: 'UDP' }] } };
    assert.deepEqual(cells('services', nodePort).slice(1, 5), ['NodePort', '10.96.0.30', '<none>', '80:30080/TCP,53/UDP']);
    const untyped: Service = { ...backendService, spec: { ports: [] } };
    assert.deepEqual(cells('services', untyped), ['backend', 'ClusterIP', '<none>', '<none>', '<none>', '5m', '<none>']);
  });

  it('prints a LoadBalancer as <pending> until it has an address, then its addresses and external IPs', () => {
    const pending: Service = { ...backendService, spec: { ...backendService.spec, type: 'LoadBalancer' } };
    assert.equal(cells('services', pending)[3], '<pending>');
    const ready: Service = {
      ...pending,
      spec: { ...pending.spec, externalIPs: ['192.168.50.100'] },
      status: { loadBalancer: { ingress: [{ ip: '203.0.113.9' }, { hostname: 'lb.example.com' }] } },
    };
    assert.equal(cells('services', ready)[3], '203.0.113.9,lb.example.com,192.168.50.100');
  });

  it('prints the external name of an ExternalName Service and None for a headless one', () => {
    const external: Service = { ...backendService, spec: { type: 'ExternalName', externalName: 'db.example.com' } };
    assert.deepEqual(cells('services', external).slice(1, 4), ['ExternalName', '<none>', 'db.example.com']);
    const headless: Service = { ...backendService, spec: { ...backendService.spec, clusterIP: 'None', clusterIPs: ['None'] } };
    assert.equal(cells('services', headless)[2], 'None');
  });

  function endpoints(subsets: Endpoints['subsets']): Endpoints {
    const object: Endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'backend', namespace: 'default', creationTimestamp: ago(5 * MINUTE) } };
    if (subsets) object.subsets = subsets;
    return object;
  }
  const addresses = (...ips: string[]) => ips.map((ip) => ({ ip }));

  it('prints the backend endpoints as address:port pairs', () => {
    const ep = endpoints([{ addresses: addresses('10.244.1.5', '10.244.2.7'), ports: [{ port: 8080, protocol: 'TCP' }] }]);
    assert.deepEqual(cells('endpoints', ep), ['backend', '10.244.1.5:8080,10.244.2.7:8080', '5m']);
  });

  it('shows only the first three endpoints and counts the rest, across ports and subsets', () => {
    const three = endpoints([{ addresses: addresses('10.0.0.5', '10.0.0.6', '10.0.0.7'), ports: [{ port: 80 }] }]);
    assert.equal(cells('endpoints', three)[1], '10.0.0.5:80,10.0.0.6:80,10.0.0.7:80');
    const four = endpoints([{ addresses: addresses('10.0.0.5', '10.0.0.6'), ports: [{ port: 80 }, { port: 443 }] }]);
    assert.equal(cells('endpoints', four)[1], '10.0.0.5:80,10.0.0.6:80,10.0.0.5:443 + 1 more...');
    const split = endpoints([{ addresses: addresses('10.0.0.5', '10.0.0.6'), ports: [{ port: 80 }] }, { addresses: addresses('10.0.1.5', '10.0.1.6', '10.0.1.7'), ports: [{ port: 80 }] }]);
    assert.equal(cells('endpoints', split)[1], '10.0.0.5:80,10.0.0.6:80,10.0.1.5:80 + 2 more...');
  });

  it('prints <none> without subsets, bare IPs for a headless Service without ports, and brackets around IPv6', () => {
    assert.equal(cells('endpoints', endpoints(undefined))[1], '<none>');
    assert.equal(cells('endpoints', endpoints([]))[1], '<none>');
    assert.equal(cells('endpoints', endpoints([{ addresses: addresses('10.0.0.5', '10.0.0.6') }]))[1], '10.0.0.5,10.0.0.6');
    assert.equal(cells('endpoints', endpoints([{ addresses: addresses('fd00::5'), ports: [{ port: 80 }] }]))[1], '[fd00::5]:80');
    assert.equal(cells('endpoints', endpoints([{ notReadyAddresses: addresses('10.0.0.5'), ports: [{ port: 80 }] }]))[1], '');
  });
});

// ---- nodes and namespaces -------------------------------------------------

describe('nodes and namespaces', () => {
  it('prints the three laptops: node-1 as the control plane, node-2 and node-3 without a role', () => {
    const table = toTable(info('nodes'), [node1, node2, node3], { now: NOW, resourceVersion: '1' });
    assert.deepEqual(
      table.rows.map((r) => r.cells),
      [
        ['node-1', 'Ready', 'control-plane', '3h', 'v1.32.0', '192.168.50.11', '<none>', 'Debian GNU/Linux 12 (bookworm)', '6.1.0-28-amd64', 'runc://1.1.12'],
        ['node-2', 'Ready', '<none>', '3h', 'v1.32.0', '192.168.50.12', '<none>', 'Debian GNU/Linux 12 (bookworm)', '6.1.0-28-amd64', 'runc://1.1.12'],
        ['node-3', 'Ready', '<none>', '3h', 'v1.32.0', '192.168.50.13', '<none>', 'Debian GNU/Linux 12 (bookworm)', '6.1.0-28-amd64', 'runc://1.1.12'],
      ],
    );
  });

  it('prints NotReady for a Ready condition False or Unknown, Unknown without one, and SchedulingDisabled when cordoned', () => {
    assert.equal(cells('nodes', node('n', {}, 'False', '10.0.0.1'))[1], 'NotReady');
    assert.equal(cells('nodes', node('n', {}, 'Unknown', '10.0.0.1'))[1], 'NotReady');
    const cordoned = node('n', {}, undefined, '10.0.0.1');
    cordoned.spec = { unschedulable: true };
    assert.equal(cells('nodes', cordoned)[1], 'Unknown,SchedulingDisabled');
  });

  it('reads roles from both label forms, sorted and without repeats, and <unknown> for missing system info', () => {
    const labelled = node('n', { 'node-role.kubernetes.io/worker': '', 'kubernetes.io/role': 'worker', 'node-role.kubernetes.io/edge': 'true', 'node-role.kubernetes.io/': '' }, 'True', '10.0.0.1');
    assert.equal(cells('nodes', labelled)[2], 'edge,worker');
    const bare: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'bare' } };
    assert.deepEqual(cells('nodes', bare), ['bare', 'Unknown', '<none>', '<unknown>', '', '<none>', '<none>', '<unknown>', '<unknown>', '<unknown>']);
  });

  it('prints a namespace with its phase, Active when the phase is unset', () => {
    const ns = (phase?: 'Active' | 'Terminating'): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', creationTimestamp: ago(3 * HOUR) }, ...(phase ? { status: { phase } } : {}) });
    assert.deepEqual(cells('namespaces', ns('Terminating')), ['default', 'Terminating', '3h']);
    assert.deepEqual(cells('namespaces', ns()), ['default', 'Active', '3h']);
  });
});

// ---- events ---------------------------------------------------------------

describe('events', () => {
  it('prints the scheduler placing a backend pod, as kubectl get events shows it', () => {
    const scheduled = event('backend-6f8d9c7b5-x7k2p.1820a3c1', {
      type: 'Normal',
      reason: 'Scheduled',
      message: 'Successfully assigned default/backend-6f8d9c7b5-x7k2p to node-2',
      source: { component: 'default-scheduler' },
      firstTimestamp: ago(5 * MINUTE),
      lastTimestamp: ago(5 * MINUTE),
      count: 1,
    });
    assert.deepEqual(cells('events', scheduled), [
      '5m', 'Normal', 'Scheduled', 'pod/backend-6f8d9c7b5-x7k2p', '', 'default-scheduler',
      'Successfully assigned default/backend-6f8d9c7b5-x7k2p to node-2', '5m', 1, 'backend-6f8d9c7b5-x7k2p.1820a3c1',
    ]);
  });

  it('prints a repeated kubelet warning with its container, host, count and both times', () => {
    const backOff = event('backend-6f8d9c7b5-crash.1820a3c9', {
      type: 'Warning',
      reason: 'BackOff',
      message: 'Back-off restarting failed container backend in pod backend-6f8d9c7b5-crash_default\n',
      involvedObject: { kind: 'Pod', name: 'backend-6f8d9c7b5-crash', namespace: 'default', fieldPath: 'spec.containers{backend}' },
      source: { component: 'kubelet', host: 'node-3' },
      firstTimestamp: ago(4 * MINUTE),
      lastTimestamp: ago(20 * SECOND),
      count: 6,
    });
    assert.deepEqual(cells('events', backOff), [
      '20s', 'Warning', 'BackOff', 'pod/backend-6f8d9c7b5-crash', 'spec.containers{backend}', 'kubelet, node-3',
      'Back-off restarting failed container backend in pod backend-6f8d9c7b5-crash_default', '4m', 6, 'backend-6f8d9c7b5-crash.1820a3c9',
    ]);
  });

  it('names the object in lowercase kind/name, as deployment/backend', () => {
    const scaled = event('backend.1', { involvedObject: { kind: 'Deployment', name: 'backend' }, reason: 'ScalingReplicaSet', firstTimestamp: ago(MINUTE) });
    assert.equal(cells('events', scaled)[3], 'deployment/backend');
    assert.equal(cells('events', event('x', { involvedObject: { kind: 'Node' } }))[3], 'node');
  });

  it('falls back to eventTime, the reporting controller and a count of 1 for events written by the newer API', () => {
    const pod = 'pod/backend-6f8d9c7b5-x7k2p';
    const newer = event('n', { eventTime: ago(45 * SECOND), reportingComponent: 'deployment-controller', reportingInstance: 'node-1' });
    assert.deepEqual(cells('events', newer), ['45s', '', '', pod, '', 'deployment-controller, node-1', '', '45s', 1, 'n']);
    const series = Object.assign(event('s', { eventTime: ago(HOUR) }), { series: { count: 12, lastObservedTime: ago(2 * MINUTE) } });
    assert.deepEqual(cells('events', series), ['2m', '', '', pod, '', '', '', '60m', 12, 's']);
    assert.deepEqual(cells('events', event('u', {})), ['<unknown>', '', '', pod, '', '', '', '<unknown>', 1, 'u']);
  });
});

// ---- configuration, coordination, RBAC ------------------------------------

describe('configmaps, leases and RBAC', () => {
  it('counts a ConfigMap keys in data and binaryData together', () => {
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', creationTimestamp: ago(3 * HOUR) }, data: { 'ca.crt': '...' }, binaryData: { logo: 'AA==' } };
    assert.deepEqual(cells('configmaps', cm), ['kube-root-ca.crt', 2, '3h']);
    assert.deepEqual(cells('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'empty' } }), ['empty', 0, '<unknown>']);
  });

  it("prints a node Lease with its holder", () => {
    const lease: KubeObject = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'node-2', namespace: 'kube-node-lease', creationTimestamp: ago(3 * HOUR) }, spec: { holderIdentity: 'node-2', leaseDurationSeconds: 40 } };
    assert.deepEqual(cells('leases', lease), ['node-2', 'node-2', '3h']);
  });

  it('prints Roles and ClusterRoles with their creation time in RFC 3339, as the default printer does', () => {
    const role: KubeObject = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'admin', creationTimestamp: '2025-03-01T09:15:30.250Z' }, rules: [] };
    assert.deepEqual(cells('clusterroles', role), ['admin', '2025-03-01T09:15:30Z']);
    assert.deepEqual(cells('roles', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r' } }), ['r', '0001-01-01T00:00:00Z']);
  });

  it('prints a binding with its role as Kind/name and its subjects by kind', () => {
    const binding: KubeObject = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'backend-admins', namespace: 'default', creationTimestamp: ago(HOUR) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
      subjects: [
        { kind: 'User', name: 'jane' },
        { kind: 'User', name: 'bob' },
        { kind: 'Group', name: 'ops' },
        { kind: 'ServiceAccount', name: 'backend', namespace: 'default' },
      ],
    };
    assert.deepEqual(cells('rolebindings', binding), ['backend-admins', 'ClusterRole/admin', '60m', 'jane, bob', 'ops', 'default/backend']);
    const bare = { ...binding, kind: 'ClusterRoleBinding', subjects: undefined };
    assert.deepEqual(cells('clusterrolebindings', bare), ['backend-admins', 'ClusterRole/admin', '60m', '', '', '']);
  });
});

describe('every printer', () => {
  it('gives each row exactly one cell per column definition', () => {
    const samples: Array<[string, KubeObject]> = [
      ['pods', backendPod('a', undefined)],
      ['deployments', backendDeployment],
      ['services', backendService],
      ['nodes', node1],
      ['events', event('e', {})],
    ];
    for (const [resource, object] of samples) {
      const table = toTable(info(resource), [object], { now: NOW, resourceVersion: '1' });
      assert.equal(table.rows[0]?.cells.length, table.columnDefinitions.length, resource);
    }
  });
});
