/**
 * The real kubectl (1.32) against our API server: discovery, apply, the
 * server-side Tables behind `get`, watch, delete, scale, describe,
 * server-side apply, and the errors kubectl prints from our Status bodies.
 * One cluster serves the whole file; each test gets a fresh discovery cache.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { startCluster, type Cluster } from '../lib/cluster/cluster.ts';
import { projectRoot } from '../lib/workbook/root.ts';
import { requireTool } from '../lib/workbook/realmode.ts';
import { cells, kubectlFor, rows, type Kubectl } from './helpers/kubectl.ts';

const SCENARIO = join(projectRoot, 'lib', 'workbook', 'scenario');

/** Objects of every kind `get` is tested on, in namespace `tables` (plus a node). */
const TABLE_FIXTURES = `
apiVersion: v1
kind: Namespace
metadata: {name: tables}
---
apiVersion: v1
kind: Pod
metadata: {name: backend-1, namespace: tables, labels: {app: backend}}
spec:
  containers: [{name: backend, image: 'backend:v0.0.1'}]
---
apiVersion: v1
kind: Pod
metadata: {name: frontend-1, namespace: tables, labels: {app: frontend}}
spec:
  containers: [{name: frontend, image: 'frontend:v0.0.1'}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: backend, namespace: tables}
spec:
  replicas: 3
  selector: {matchLabels: {app: backend}}
  template:
    metadata: {labels: {app: backend}}
    spec:
      containers: [{name: backend, image: 'backend:v0.0.1'}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: backend-7d4b9c, namespace: tables}
spec:
  replicas: 3
  selector: {matchLabels: {app: backend}}
  template:
    metadata: {labels: {app: backend}}
    spec:
      containers: [{name: backend, image: 'backend:v0.0.1'}]
---
apiVersion: v1
kind: Service
metadata: {name: backend, namespace: tables}
spec:
  selector: {app: backend}
  ports: [{protocol: TCP, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: backend, namespace: tables}
subsets:
- addresses: [{ip: 10.244.1.5}]
  ports: [{port: 8080}]
---
apiVersion: v1
kind: Event
metadata: {name: backend-1.scheduled, namespace: tables}
involvedObject: {kind: Pod, name: backend-1, namespace: tables}
reason: Scheduled
message: Successfully assigned tables/backend-1 to node-2
type: Normal
source: {component: default-scheduler}
count: 1
---
apiVersion: v1
kind: Node
metadata: {name: node-2}
`;

/** A Deployment named `name` in namespace `namespace`, as YAML. */
function deployment(name: string, namespace: string, replicas = 2): string {
  return stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: 'nginx:1.14.2' }] } },
    },
  });
}

/** A Namespace manifest, as YAML. */
function namespace(name: string): string {
  return stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

/** The output's lines, trimmed, empty ones dropped, sorted. */
function lines(output: string): string[] {
  return output.split('\n').map((line) => line.trim()).filter((line) => line !== '').sort();
}

describe('the real kubectl against the workbook API server', requireTool('kubectl'), () => {
  let tmp: string;
  let cluster: Cluster;
  /** A kubectl with its own, empty discovery cache. */
  const fresh = (): Kubectl => kubectlFor(cluster.kubeconfig, tmp);

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'kubectl-test-'));
    cluster = await startCluster({ dir: join(tmp, 'cluster') });
  });

  after(async () => {
    await cluster?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  describe('discovery', () => {
    test('kubectl version prints the client version and the server version the API server reports', async () => {
      const kubectl = fresh();
      const out = await kubectl.ok(['version']);
      const served = JSON.parse(await kubectl.ok(['get', '--raw', '/version'])) as { gitVersion: string };
      assert.match(out, /^Client Version: v1\.32\./m);
      assert.match(out, new RegExp(`^Server Version: ${served.gitVersion.replaceAll('.', '\\.')}$`, 'm'));
    });

    test('kubectl api-resources lists deployments in apps/v1 with the short name deploy, and pods in v1 with po', async () => {
      const table = rows(await fresh().ok(['api-resources']));
      assert.deepEqual(table[0], ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND']);
      assert.deepEqual(table.find((row) => row[0] === 'deployments'), ['deployments', 'deploy', 'apps/v1', 'true', 'Deployment']);
      assert.deepEqual(table.find((row) => row[0] === 'pods'), ['pods', 'po', 'v1', 'true', 'Pod']);
      assert.deepEqual(table.find((row) => row[0] === 'namespaces'), ['namespaces', 'ns', 'v1', 'false', 'Namespace']);
    });

    test('kubectl get --raw /version returns the version JSON with major 1 and minor 32', async () => {
      const version = JSON.parse(await fresh().ok(['get', '--raw', '/version'])) as { major: string; minor: string; gitVersion: string };
      assert.equal(version.major, '1');
      assert.equal(version.minor, '32');
      assert.match(version.gitVersion, /^v1\.32\./);
    });
  });

  describe('apply -f', () => {
    test('applying the scenario folder creates two deployments and a service, and applying it again changes nothing', async () => {
      const kubectl = fresh();
      const first = await kubectl.ok(['apply', '-f', SCENARIO]);
      assert.deepEqual(lines(first), ['deployment.apps/backend created', 'deployment.apps/frontend created', 'service/backend created']);
      const second = await kubectl.ok(['apply', '-f', SCENARIO]);
      assert.deepEqual(lines(second), ['deployment.apps/backend unchanged', 'deployment.apps/frontend unchanged', 'service/backend unchanged']);
    });

    test('applying a copy of the scenario with more frontend replicas reports only the frontend as configured', async () => {
      const kubectl = fresh();
      await kubectl.ok(['apply', '-f', SCENARIO]);
      const copy = join(tmp, 'scenario-copy');
      cpSync(SCENARIO, copy, { recursive: true });
      const file = join(copy, 'frontend-deployment.yaml');
      const text = readFileSync(file, 'utf8');
      assert.match(text, /replicas: 3/, 'expected the scenario frontend to ask for 3 replicas');
      writeFileSync(file, text.replace('replicas: 3', 'replicas: 4'));

      const out = await kubectl.ok(['apply', '-f', copy]);
      assert.deepEqual(lines(out), ['deployment.apps/backend unchanged', 'deployment.apps/frontend configured', 'service/backend unchanged']);
      assert.equal(await kubectl.ok(['get', 'deploy', 'frontend', '-o', 'jsonpath={.spec.replicas}']), '4');
      // The last-applied annotation now records the copy, so the next apply of the copy is a no-op.
      assert.match(await kubectl.ok(['apply', '-f', file]), /deployment\.apps\/frontend unchanged/);
    });

    test('applying the scenario with -n team-a creates it in that namespace once the namespace exists', async () => {
      const kubectl = fresh();
      const missing = await kubectl(['apply', '-n', 'team-a', '-f', join(SCENARIO, 'backend-service.yaml')]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /Error from server \(NotFound\): error when creating ".*backend-service\.yaml": namespaces "team-a" not found/);

      assert.equal((await kubectl.ok(['create', '-f', '-'], { input: namespace('team-a') })).trim(), 'namespace/team-a created');
      const out = await kubectl.ok(['apply', '-n', 'team-a', '-f', SCENARIO]);
      assert.deepEqual(lines(out), ['deployment.apps/backend created', 'deployment.apps/frontend created', 'service/backend created']);
      const names = rows(await kubectl.ok(['get', 'deploy', '-n', 'team-a'])).slice(1).map((row) => row[0]);
      assert.deepEqual(names, ['backend', 'frontend']);
      assert.equal(await kubectl.ok(['get', 'svc', 'backend', '-n', 'team-a', '-o', 'jsonpath={.metadata.namespace}']), 'team-a');
    });
  });

  describe('the typed create commands, which send protobuf', () => {
    /** The object `kubectl get <what> -n typed -o json` prints. */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const getJson = async (kubectl: Kubectl, what: string[]): Promise<any> => JSON.parse(await kubectl.ok(['get', ...what, '-n', 'typed', '-o', 'json']));

    before(async () => {
      await kubectlFor(cluster.kubeconfig, tmp).ok(['create', '-f', '-'], { input: namespace('typed') });
    });

    test('kubectl create namespace creates an Active namespace', async () => {
      const kubectl = fresh();
      assert.equal((await kubectl.ok(['create', 'namespace', 'typed-ns'])).trim(), 'namespace/typed-ns created');
      const created = JSON.parse(await kubectl.ok(['get', 'namespace', 'typed-ns', '-o', 'json']));
      assert.equal(created.metadata.name, 'typed-ns');
      assert.equal(created.status.phase, 'Active');
    });

    test('kubectl create deployment --replicas=2 creates a Deployment with 2 replicas of the image, selecting app=web', async () => {
      const kubectl = fresh();
      assert.equal((await kubectl.ok(['create', 'deployment', 'web', '--image=nginx:1.14.2', '--replicas=2', '-n', 'typed'])).trim(), 'deployment.apps/web created');
      const created = await getJson(kubectl, ['deployment', 'web']);
      assert.equal(created.spec.replicas, 2);
      assert.deepEqual(created.spec.selector, { matchLabels: { app: 'web' } });
      assert.deepEqual(created.spec.template.metadata.labels, { app: 'web' });
      assert.deepEqual(
        created.spec.template.spec.containers.map((c: { name: string; image: string }) => [c.name, c.image]),
        [['nginx', 'nginx:1.14.2']],
      );
    });

    test('kubectl run creates a Pod running the image, labelled run=<name>', async () => {
      const kubectl = fresh();
      assert.equal((await kubectl.ok(['run', 'p', '--image=busybox', '-n', 'typed'])).trim(), 'pod/p created');
      const created = await getJson(kubectl, ['pod', 'p']);
      assert.deepEqual(created.metadata.labels, { run: 'p' });
      assert.equal(created.spec.containers[0].image, 'busybox');
    });

    test("kubectl expose deployment creates a Service from port 80 to targetPort 8080 with the deployment's selector", async () => {
      const kubectl = fresh();
      await kubectl.ok(['create', 'deployment', 'exposed', '--image=nginx:1.14.2', '-n', 'typed']);
      assert.equal((await kubectl.ok(['expose', 'deployment', 'exposed', '--port=80', '--target-port=8080', '-n', 'typed'])).trim(), 'service/exposed exposed');
      const created = await getJson(kubectl, ['service', 'exposed']);
      assert.deepEqual(created.spec.selector, { app: 'exposed' });
      assert.deepEqual(created.spec.ports, [{ port: 80, protocol: 'TCP', targetPort: 8080 }]);
      assert.match(created.spec.clusterIP, /^10\.96\.0\.\d+$/);
    });

    test('kubectl create service clusterip --tcp=80:8080 creates a ClusterIP Service selecting app=<name>', async () => {
      const kubectl = fresh();
      assert.equal((await kubectl.ok(['create', 'service', 'clusterip', 's', '--tcp=80:8080', '-n', 'typed'])).trim(), 'service/s created');
      const created = await getJson(kubectl, ['service', 's']);
      assert.equal(created.spec.type, 'ClusterIP');
      assert.deepEqual(created.spec.selector, { app: 's' });
      assert.deepEqual(created.spec.ports, [{ name: '80-8080', port: 80, protocol: 'TCP', targetPort: 8080 }]);
    });

    test('kubectl create configmap --from-literal creates a ConfigMap with that key and value', async () => {
      const kubectl = fresh();
      assert.equal((await kubectl.ok(['create', 'configmap', 'c', '--from-literal=a=b', '-n', 'typed'])).trim(), 'configmap/c created');
      assert.deepEqual((await getJson(kubectl, ['configmap', 'c'])).data, { a: 'b' });
    });

    test('kubectl create job creates a Job whose pod template runs the image and never restarts', async () => {
      const kubectl = fresh();
      assert.equal((await kubectl.ok(['create', 'job', 'j', '--image=busybox', '-n', 'typed'])).trim(), 'job.batch/j created');
      const created = await getJson(kubectl, ['job', 'j']);
      assert.equal(created.spec.template.spec.containers[0].image, 'busybox');
      assert.equal(created.spec.template.spec.restartPolicy, 'Never');
    });

    test('kubectl create role and rolebinding create the rule and the binding to it', async () => {
      const kubectl = fresh();
      await kubectl.ok(['create', 'role', 'reader', '--verb=get,list', '--resource=pods', '-n', 'typed']);
      await kubectl.ok(['create', 'rolebinding', 'reader', '--role=reader', '--user=alice', '-n', 'typed']);
      assert.deepEqual((await getJson(kubectl, ['role', 'reader'])).rules, [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }]);
      const binding = await getJson(kubectl, ['rolebinding', 'reader']);
      assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' });
      assert.deepEqual(binding.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }]);
    });
  });

  describe('get prints the server-side Tables', () => {
    before(async () => {
      await kubectlFor(cluster.kubeconfig, tmp).ok(['apply', '-f', '-'], { input: TABLE_FIXTURES });
    });

    const cases: { resource: string; header: string[]; row: (cells: string[]) => void }[] = [
      { resource: 'pods', header: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'], row: (c) => assert.deepEqual(c.slice(0, 4), ['backend-1', '0/1', 'Pending', '0']) },
      { resource: 'deployments', header: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'], row: (c) => assert.deepEqual(c.slice(0, 4), ['backend', '0/3', '0', '0']) },
      { resource: 'replicasets', header: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE'], row: (c) => assert.deepEqual(c.slice(0, 4), ['backend-7d4b9c', '3', '0', '0']) },
      {
        resource: 'services',
        header: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
        row: (c) => {
          assert.deepEqual([c[0], c[1], c[3], c[4]], ['backend', 'ClusterIP', '<none>', '80/TCP']);
          assert.match(c[2] ?? '', /^10\.96\.0\.\d+$/);
        },
      },
      { resource: 'endpoints', header: ['NAME', 'ENDPOINTS', 'AGE'], row: (c) => assert.deepEqual(c.slice(0, 2), ['backend', '10.244.1.5:8080']) },
      { resource: 'events', header: ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'], row: (c) => assert.deepEqual(c.slice(1), ['Normal', 'Scheduled', 'pod/backend-1', 'Successfully assigned tables/backend-1 to node-2']) },
    ];
    for (const { resource, header, row } of cases) {
      test(`kubectl get ${resource} prints the columns ${header.join(', ')}`, async () => {
        const table = rows(await fresh().ok(['get', resource, '-n', 'tables']));
        assert.deepEqual(table[0], header);
        assert.ok(table[1], `expected a row under the header of ${resource}`);
        row(table[1]);
      });
    }

    test('kubectl get nodes prints NAME, STATUS, ROLES, AGE and VERSION for a registered node', async () => {
      const table = rows(await fresh().ok(['get', 'nodes']));
      assert.deepEqual(table[0], ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
      const node = table.find((c) => c[0] === 'node-2');
      assert.ok(node, 'expected a row for node-2');
      assert.deepEqual(node.slice(0, 3), ['node-2', 'Unknown', '<none>']);
    });

    test('kubectl get namespaces lists the four built-in namespaces as Active', async () => {
      const table = rows(await fresh().ok(['get', 'namespaces']));
      assert.deepEqual(table[0], ['NAME', 'STATUS', 'AGE']);
      for (const name of ['default', 'kube-node-lease', 'kube-public', 'kube-system']) {
        assert.deepEqual(table.find((c) => c[0] === name)?.slice(0, 2), [name, 'Active'], `expected ${name} to be listed as Active`);
      }
    });

    test('kubectl get -o wide adds the CONTAINERS, IMAGES and SELECTOR columns to deployments and replicasets', async () => {
      const kubectl = fresh();
      const deploys = rows(await kubectl.ok(['get', 'deploy', '-n', 'tables', '-o', 'wide']));
      assert.deepEqual(deploys[0], ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
      assert.deepEqual(deploys[1]?.slice(5), ['backend', 'backend:v0.0.1', 'app=backend']);
      const sets = rows(await kubectl.ok(['get', 'rs', '-n', 'tables', '-o', 'wide']));
      assert.deepEqual(sets[0], ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    });

    test('kubectl get -o wide adds IP, NODE, NOMINATED NODE and READINESS GATES to pods, and SELECTOR to services', async () => {
      const kubectl = fresh();
      const pods = rows(await kubectl.ok(['get', 'pod', 'backend-1', '-n', 'tables', '-o', 'wide']));
      assert.deepEqual(pods[0], ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
      assert.deepEqual(pods[1]?.slice(5), ['<none>', '<none>', '<none>', '<none>']);
      const services = rows(await kubectl.ok(['get', 'svc', 'backend', '-n', 'tables', '-o', 'wide']));
      assert.deepEqual(services[0], ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR']);
      assert.equal(services[1]?.[6], 'app=backend');
    });

    test('kubectl get -o yaml prints the whole object with its defaults', async () => {
      const object = parse(await fresh().ok(['get', 'deploy', 'backend', '-n', 'tables', '-o', 'yaml'])) as Record<string, any>;
      assert.equal(object['kind'], 'Deployment');
      assert.equal(object['apiVersion'], 'apps/v1');
      assert.equal(object['metadata'].name, 'backend');
      assert.match(object['metadata'].resourceVersion, /^\d+$/);
      assert.equal(object['spec'].replicas, 3);
      assert.equal(object['spec'].strategy.type, 'RollingUpdate', 'expected the server to default the strategy');
    });

    test('kubectl get -o json prints a List whose items are the namespace pods', async () => {
      const list = JSON.parse(await fresh().ok(['get', 'pods', '-n', 'tables', '-o', 'json'])) as { kind: string; items: { metadata: { name: string } }[] };
      assert.equal(list.kind, 'List');
      assert.deepEqual(list.items.map((pod) => pod.metadata.name).sort(), ['backend-1', 'frontend-1']);
    });

    test('kubectl get -l app=backend lists only the pods with that label', async () => {
      const table = rows(await fresh().ok(['get', 'pods', '-n', 'tables', '-l', 'app=backend']));
      assert.deepEqual(table.slice(1).map((c) => c[0]), ['backend-1']);
      const none = await fresh()(['get', 'pods', '-n', 'tables', '-l', 'app=nothing']);
      assert.equal(none.code, 0);
      assert.equal(none.stdout, '');
      assert.match(none.stderr, /No resources found in tables namespace\./);
    });

    test('kubectl get -A adds a NAMESPACE column and lists objects from every namespace', async () => {
      const kubectl = fresh();
      await kubectl.ok(['apply', '-f', '-'], { input: namespace('other') + '---\n' + deployment('web', 'other') });
      const table = rows(await kubectl.ok(['get', 'deploy', '-A']));
      assert.deepEqual(table[0], ['NAMESPACE', 'NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
      assert.ok(table.some((c) => c[0] === 'tables' && c[1] === 'backend'), 'expected tables/backend');
      assert.ok(table.some((c) => c[0] === 'other' && c[1] === 'web'), 'expected other/web');
    });
  });

  test('kubectl get deploy -w prints a new row when a deployment is scaled', async () => {
    const kubectl = fresh();
    await kubectl.ok(['apply', '-f', '-'], { input: namespace('watching') + '---\n' + deployment('web', 'watching') });
    const watcher = kubectl.start(['get', 'deploy', '-n', 'watching', '-w']);
    let output = '';
    watcher.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const seen = (pattern: RegExp, what: string) =>
      new Promise<void>((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`expected ${what} within 10 s; kubectl printed:\n${output}`)), 10_000);
        const check = () => {
          if (!pattern.test(output)) return;
          clearTimeout(deadline);
          watcher.stdout?.off('data', check);
          resolve();
        };
        watcher.stdout?.on('data', check);
        check();
      });
    try {
      await seen(/^web\s+0\/2\s/m, 'the initial row web 0/2');
      await kubectl.ok(['scale', 'deploy', 'web', '-n', 'watching', '--replicas=5']);
      await seen(/^web\s+0\/5\s/m, 'a new row web 0/5 after scaling');
      const table = rows(output);
      assert.deepEqual(table[0], ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
      assert.equal(table.filter((c) => c[0] === 'NAME').length, 1, 'expected the header once');
    } finally {
      watcher.kill();
    }
  });

  describe('delete, scale and describe', () => {
    before(async () => {
      await kubectlFor(cluster.kubeconfig, tmp).ok(['apply', '-f', '-'], {
        input: [namespace('ops'), deployment('fg', 'ops'), deployment('orphan', 'ops'), deployment('backend', 'ops', 3)].join('---\n'),
      });
    });

    for (const cascade of ['foreground', 'orphan', 'background']) {
      const name = cascade === 'orphan' ? 'orphan' : cascade === 'foreground' ? 'fg' : 'bg';
      test(`kubectl delete --cascade=${cascade} removes the deployment at once`, async () => {
        const kubectl = fresh();
        if (name === 'bg') await kubectl.ok(['apply', '-f', '-'], { input: deployment('bg', 'ops') });
        const out = await kubectl.ok(['delete', 'deploy', name, '-n', 'ops', `--cascade=${cascade}`], { timeoutMs: 15_000 });
        assert.equal(out.trim(), `deployment.apps "${name}" deleted`);
        const gone = await kubectl(['get', 'deploy', name, '-n', 'ops']);
        assert.equal(gone.code, 1);
        assert.equal(gone.stderr.trim(), `Error from server (NotFound): deployments.apps "${name}" not found`);
      });
    }

    test('kubectl scale deploy backend --replicas=5 sets spec.replicas to 5', async () => {
      const kubectl = fresh();
      assert.equal((await kubectl.ok(['scale', 'deploy', 'backend', '-n', 'ops', '--replicas=5'])).trim(), 'deployment.apps/backend scaled');
      assert.equal(await kubectl.ok(['get', 'deploy', 'backend', '-n', 'ops', '-o', 'jsonpath={.spec.replicas}']), '5');
      assert.equal(await kubectl.ok(['get', 'deploy', 'backend', '-n', 'ops', '-o', 'jsonpath={.metadata.generation}']), '2');
    });

    test('kubectl describe pod shows a new pod as Pending in its namespace, with no events', async () => {
      const kubectl = fresh();
      assert.equal((await kubectl.ok(['run', 'lonely', '-n', 'ops', '--image=busybox'])).trim(), 'pod/lonely created');
      const out = await kubectl.ok(['describe', 'pod', 'lonely', '-n', 'ops']);
      assert.match(out, /^Name:\s+lonely$/m);
      assert.match(out, /^Namespace:\s+ops$/m);
      assert.match(out, /^Status:\s+Pending$/m);
      assert.match(out, /^Node:\s+<none>$/m);
      assert.match(out, /^\s+Image:\s+busybox$/m);
      assert.match(out, /^Events:\s+<none>$/m);
    });
  });

  describe('server-side apply', () => {
    const manifest = (replicas: number) => deployment('ssa', 'default', replicas);

    test('kubectl apply --server-side creates the object and reports it serverside-applied', async () => {
      const kubectl = fresh();
      assert.equal((await kubectl.ok(['apply', '--server-side', '-f', '-'], { input: manifest(2) })).trim(), 'deployment.apps/ssa serverside-applied');
      const managers = JSON.parse(await kubectl.ok(['get', 'deploy', 'ssa', '-o', 'jsonpath={.metadata.managedFields}'])) as { manager: string; operation: string }[];
      assert.ok(managers.some((m) => m.manager === 'kubectl' && m.operation === 'Apply'), `expected kubectl to manage fields by Apply, got ${JSON.stringify(managers)}`);
    });

    test('a second field manager changing replicas gets a conflict, and takes the field with --force-conflicts', async () => {
      const kubectl = fresh();
      await kubectl.ok(['apply', '--server-side', '-f', '-'], { input: manifest(2) });
      const refused = await kubectl(['apply', '--server-side', '--field-manager=other', '-f', '-'], { input: manifest(4) });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^error: Apply failed with 1 conflict: conflict with "kubectl": \.spec\.replicas$/m);
      assert.match(refused.stderr, /--force-conflicts/);
      assert.equal(await kubectl.ok(['get', 'deploy', 'ssa', '-o', 'jsonpath={.spec.replicas}']), '2');

      const forced = await kubectl.ok(['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', '-'], { input: manifest(4) });
      assert.equal(forced.trim(), 'deployment.apps/ssa serverside-applied');
      assert.equal(await kubectl.ok(['get', 'deploy', 'ssa', '-o', 'jsonpath={.spec.replicas}']), '4');
    });
  });

  describe('errors kubectl prints from the Status the server sends', () => {
    test('kubectl replace with a stale resourceVersion prints Error from server (Conflict)', async () => {
      const kubectl = fresh();
      await kubectl.ok(['apply', '-f', '-'], { input: deployment('stale', 'default') });
      const saved = join(tmp, 'stale.yaml');
      writeFileSync(saved, await kubectl.ok(['get', 'deploy', 'stale', '-o', 'yaml']));
      await kubectl.ok(['scale', 'deploy', 'stale', '--replicas=3']);
      writeFileSync(saved, readFileSync(saved, 'utf8').replace('replicas: 2', 'replicas: 7'));

      const result = await kubectl(['replace', '-f', saved]);
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /^Error from server \(Conflict\): error when replacing ".*stale\.yaml": Operation cannot be fulfilled on deployments\.apps "stale": the object has been modified; please apply your changes to the latest version and try again$/m,
      );
      assert.equal(await kubectl.ok(['get', 'deploy', 'stale', '-o', 'jsonpath={.spec.replicas}']), '3');
    });

    const badPod = (name: string) => stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });

    test('an invalid pod name is refused with the field metadata.name, as kubectl words a single 422', async () => {
      const result = await fresh()(['apply', '-f', '-'], { input: badPod('Bad_Name') });
      assert.equal(result.code, 1);
      // Why not "Error from server": kubectl rewords a lone Invalid status as "The <Kind> <name> is invalid".
      assert.match(result.stderr, /^The Pod "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/m);
    });

    test('two invalid pod names print Error from server (Invalid) for each, naming metadata.name', async () => {
      const result = await fresh()(['create', '-f', '-'], { input: badPod('Bad_One') + '---\n' + badPod('Bad_Two') });
      assert.equal(result.code, 1);
      for (const name of ['Bad_One', 'Bad_Two']) {
        assert.match(result.stderr, new RegExp(`^Error from server \\(Invalid\\): error when creating "STDIN": Pod "${name}" is invalid: metadata\\.name: Invalid value: "${name}"`, 'm'));
      }
    });

    test('an unknown field is refused by strict field validation, naming the field', async () => {
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'strict' }, spec: { bogus: 1, containers: [{ name: 'c', image: 'busybox' }] } };
      const result = await fresh()(['apply', '-f', '-'], { input: stringify(pod) });
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^Error from server \(BadRequest\): error when creating "STDIN": Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec\.bogus"$/m);
      const gone = await fresh()(['get', 'pod', 'strict']);
      assert.match(gone.stderr, /NotFound/);
    });

    test('a kubeconfig with a wrong token makes kubectl say You must be logged in to the server', async () => {
      const config = parse(readFileSync(cluster.kubeconfig, 'utf8')) as { users: { user: { token?: string } }[] };
      assert.ok(config.users[0]?.user.token, 'expected the admin kubeconfig to carry a bearer token');
      config.users[0]!.user.token = 'not-a-token-the-cluster-knows';
      const wrong = join(tmp, 'wrong-token.kubeconfig');
      writeFileSync(wrong, stringify(config));

      const result = await fresh()(['get', 'pods'], { kubeconfig: wrong });
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^error: You must be logged in to the server \(the server has asked for the client to provide credentials\)$/m);
      assert.equal(result.stdout, '');
    });
  });
});

test('cells splits a kubectl table line on runs of two or more spaces', () => {
  assert.deepEqual(cells('NAME   NOMINATED NODE   AGE'), ['NAME', 'NOMINATED NODE', 'AGE']);
});
