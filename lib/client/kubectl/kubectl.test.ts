import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import type { Status } from '../../api/types.ts';
import type { Table } from '../../apiserver/tables.ts';
import { writeKubeconfig } from '../kubeconfig.ts';
import { LAST_APPLIED, withLastApplied } from './apply.ts';
import { TABLE_ACCEPT } from './get.ts';
import { run } from './main.ts';

// ---- a fake API server: each test says how to answer, and reads what was asked ----

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** An answer: a JSON body with a code, or a function that writes the response itself (a watch). */
type Answer = { code?: number; body: unknown } | ((res: http.ServerResponse) => void);
type Route = (seen: Seen) => Answer;

const dir = mkdtempSync(join(tmpdir(), 'kubectl-'));
const servers: http.Server[] = [];
after(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  rmSync(dir, { recursive: true, force: true });
});

let nextKubeconfig = 0;

/** Starts a fake API server and writes a kubeconfig for it (context namespace: `namespace`). */
async function fake(route: Route, namespace?: string): Promise<{ seen: Seen[]; kubeconfig: string; origin: string }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const request: Seen = { method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body };
      seen.push(request);
      const answer = route(request);
      if (typeof answer === 'function') return answer(res);
      res.writeHead(answer.code ?? 200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfig = join(dir, `kubeconfig-${nextKubeconfig++}`);
  writeKubeconfig(kubeconfig, { server: origin, token: 'secret-token', user: 'admin', cluster: 'workbook', context: 'workbook', ...(namespace ? { namespace } : {}) });
  return { seen, kubeconfig, origin };
}

const NOW = Date.parse('2025-01-01T12:00:00Z');

/** Runs the workbook's kubectl against the fake and collects what it printed. */
async function kubectl(kubeconfig: string, argv: string[], stdin?: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run([...argv, '--kubeconfig', kubeconfig], {
    out: { write: (text: string) => (out += text) },
    err: { write: (text: string) => (err += text) },
    stdin: Readable.from(stdin === undefined ? [] : [stdin]),
    env: {},
    now: () => NOW,
  });
  return { code, out, err };
}

function status(code: number, reason: string, message: string): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code, reason, message };
}

const notFound = (resource: string, name: string): Answer => ({ code: 404, body: status(404, 'NotFound', `${resource} "${name}" not found`) });

// ---- fixtures ----

const POD_COLUMNS: Table['columnDefinitions'] = [
  ['Name', 0, 'name'], ['Ready', 0], ['Status', 0], ['Restarts', 0], ['Age', 0], ['IP', 1], ['Node', 1], ['Nominated Node', 1], ['Readiness Gates', 1],
].map(([name, priority, format]) => ({ name: name as string, type: 'string', format: (format as string) ?? '', description: '', priority: priority as number }));

function podRow(name: string, namespace: string, ready: string, phase: string, ip: string, node: string): Table['rows'][number] {
  return {
    cells: [name, ready, phase, 0, '5m', ip, node, '<none>', '<none>'],
    object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { name, namespace } },
  };
}

function podTable(rows: Table['rows'], resourceVersion = '42', columns = POD_COLUMNS): Table {
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion }, columnDefinitions: columns, rows };
}

const TWO_PODS = podTable([
  podRow('web-1', 'default', '1/1', 'Running', '10.0.0.5', 'node-1'),
  podRow('backend-7d4f9', 'shop', '0/1', 'ContainerCreating', '<none>', 'node-2'),
]);

const DEPLOYMENT_YAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: backend
  labels:
    app: backend
spec:
  replicas: 2
  selector:
    matchLabels:
      app: backend
  template:
    metadata:
      labels:
        app: backend
    spec:
      containers:
      - name: api
        image: shop/api:1.0
`;

function writeManifest(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The Deployment as the server keeps it after `apply` created it: defaults, metadata and status added. */
function liveDeployment(applied: Record<string, unknown>): Record<string, unknown> {
  const object = withLastApplied({ ...(applied as { apiVersion: string; kind: string; metadata: { name: string } }), metadata: { ...(applied.metadata as object), namespace: 'default' } });
  const live = structuredClone(object) as Record<string, any>;
  live.metadata.uid = 'uid-1';
  live.metadata.resourceVersion = '7';
  live.metadata.generation = 1;
  live.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
  live.spec.template.spec.containers[0].imagePullPolicy = 'IfNotPresent';
  live.spec.template.spec.restartPolicy = 'Always';
  live.status = { replicas: 2, readyReplicas: 2 };
  return live;
}

const APPLIED_DEPLOYMENT = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'backend', labels: { app: 'backend' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'backend' } },
    template: { metadata: { labels: { app: 'backend' } }, spec: { containers: [{ name: 'api', image: 'shop/api:1.0' }] } },
  },
};

// ---- apply ----

describe('kubectl apply', () => {
  it('creates an absent object with a POST that carries the last-applied annotation, and prints created', async () => {
    const file = writeManifest('backend.yaml', DEPLOYMENT_YAML);
    const { seen, kubeconfig } = await fake((req) => (req.method === 'GET' ? notFound('deployments.apps', 'backend') : { code: 201, body: JSON.parse(req.body) }));
    const { code, out, err } = await kubectl(kubeconfig, ['apply', '-f', file]);
    assert.equal(err, '');
    assert.equal(code, 0);
    assert.equal(out, 'deployment.apps/backend created\n');
    assert.deepEqual(seen.map((s) => `${s.method} ${s.path}`), [
      'GET /apis/apps/v1/namespaces/default/deployments/backend',
      'POST /apis/apps/v1/namespaces/default/deployments',
    ]);
    const posted = JSON.parse(seen[1]!.body);
    assert.equal(seen[1]!.query.get('fieldManager'), 'kubectl-client-side-apply');
    assert.equal(posted.metadata.namespace, 'default');
    const recorded = JSON.parse(posted.metadata.annotations[LAST_APPLIED]);
    assert.deepEqual(recorded, { ...APPLIED_DEPLOYMENT, metadata: { ...APPLIED_DEPLOYMENT.metadata, namespace: 'default' } });
  });

  it('sends a merge patch of only what changed, with the new annotation, and prints configured', async () => {
    const live = liveDeployment(APPLIED_DEPLOYMENT);
    const file = writeManifest('backend-3.yaml', DEPLOYMENT_YAML.replace('replicas: 2', 'replicas: 3'));
    const { seen, kubeconfig } = await fake(() => ({ body: live }));
    const { code, out } = await kubectl(kubeconfig, ['apply', '-f', file]);
    assert.equal(code, 0);
    assert.equal(out, 'deployment.apps/backend configured\n');
    const patch = seen[1]!;
    assert.equal(patch.method, 'PATCH');
    assert.equal(patch.path, '/apis/apps/v1/namespaces/default/deployments/backend');
    assert.equal(patch.headers['content-type'], 'application/merge-patch+json');
    const body = JSON.parse(patch.body);
    assert.deepEqual(Object.keys(body), ['metadata', 'spec']);
    assert.deepEqual(body.spec, { replicas: 3 });
    assert.equal(JSON.parse(body.metadata.annotations[LAST_APPLIED]).spec.replicas, 3);
  });

  it('sends nothing and prints unchanged when the file is what was applied last time, whatever the server added', async () => {
    const live = liveDeployment(APPLIED_DEPLOYMENT);
    const file = writeManifest('backend-same.yaml', DEPLOYMENT_YAML);
    const { seen, kubeconfig } = await fake(() => ({ body: live }));
    const { code, out } = await kubectl(kubeconfig, ['apply', '-f', file]);
    assert.equal(code, 0);
    assert.equal(out, 'deployment.apps/backend unchanged\n');
    assert.deepEqual(seen.map((s) => s.method), ['GET']);
  });

  it('with --server-side sends one apply patch with the field manager kubectl-workbook, and prints serverside-applied', async () => {
    const file = writeManifest('backend-ssa.yaml', DEPLOYMENT_YAML);
    const { seen, kubeconfig } = await fake((req) => ({ body: JSON.parse(req.body) }));
    const { code, out } = await kubectl(kubeconfig, ['apply', '--server-side', '-f', file]);
    assert.equal(code, 0);
    assert.equal(out, 'deployment.apps/backend serverside-applied\n');
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.method, 'PATCH');
    assert.equal(seen[0]!.headers['content-type'], 'application/apply-patch+yaml');
    assert.equal(seen[0]!.query.get('fieldManager'), 'kubectl-workbook');
    assert.equal(JSON.parse(seen[0]!.body).metadata.namespace, 'default');
  });

  it('reads the manifests from stdin with -f -, into the namespace given with -n', async () => {
    const { seen, kubeconfig } = await fake((req) => (req.method === 'GET' ? notFound('configmaps', 'settings') : { code: 201, body: JSON.parse(req.body) }));
    const { code, out } = await kubectl(kubeconfig, ['apply', '-f', '-', '-n', 'shop'], 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: "1"\n');
    assert.equal(code, 0);
    assert.equal(out, 'configmap/settings created\n');
    assert.equal(seen[1]!.path, '/api/v1/namespaces/shop/configmaps');
  });

  it('refuses malformed YAML, naming the file, and sends nothing', async () => {
    const file = writeManifest('broken.yaml', `${DEPLOYMENT_YAML}---\nspec: [1\nmore: 2\n`);
    const { seen, kubeconfig } = await fake(() => ({ body: {} }));
    const { code, out, err } = await kubectl(kubeconfig, ['apply', '-f', file]);
    assert.equal(code, 1);
    assert.equal(out, '');
    assert.match(err, /^error: expected valid YAML in document 2 of .*broken\.yaml, got: /);
    assert.equal(seen.length, 0);
  });

  it('refuses an alias bomb, naming the file, and sends nothing', async () => {
    const letters = 'abcdefghi';
    let bomb = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\ndata:\n  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    for (let i = 1; i < letters.length; i++) bomb += `  ${letters[i]}: &${letters[i]} [${Array(9).fill(`*${letters[i - 1]}`).join(',')}]\n`;
    const file = writeManifest('lol.yaml', bomb);
    const { seen, kubeconfig } = await fake(() => ({ body: {} }));
    const { code, err } = await kubectl(kubeconfig, ['apply', '-f', file]);
    assert.equal(code, 1);
    assert.match(err, /^error: refusing document 1 of .*lol\.yaml: .*alias bomb/);
    assert.equal(seen.length, 0);
  });

  it('refuses a manifest whose namespace differs from the one given with -n', async () => {
    const file = writeManifest('elsewhere.yaml', DEPLOYMENT_YAML.replace('  name: backend\n', '  name: backend\n  namespace: prod\n'));
    const { seen, kubeconfig } = await fake(() => ({ body: {} }));
    const { code, err } = await kubectl(kubeconfig, ['apply', '-f', file, '-n', 'staging']);
    assert.equal(code, 1);
    assert.match(err, /the namespace from the provided object "prod" does not match the namespace "staging"/);
    assert.equal(seen.length, 0);
  });
});

// ---- get ----

describe('kubectl get', () => {
  it('asks the server for a Table and prints it as kubectl does, without the wide columns', async () => {
    const { seen, kubeconfig } = await fake(() => ({ body: podTable([podRow('web-1', 'default', '1/1', 'Running', '10.0.0.5', 'node-1'), podRow('web-22', 'default', '0/1', 'Pending', '<none>', '<none>')]) }));
    const { code, out } = await kubectl(kubeconfig, ['get', 'pods']);
    assert.equal(code, 0);
    assert.equal(seen[0]!.path, '/api/v1/namespaces/default/pods');
    assert.equal(seen[0]!.query.get('limit'), '500');
    assert.equal(seen[0]!.headers.accept, TABLE_ACCEPT);
    assert.equal(seen[0]!.headers.authorization, 'Bearer secret-token');
    assert.equal(out, [
      'NAME     READY   STATUS    RESTARTS   AGE',
      'web-1    1/1     Running   0          5m',
      'web-22   0/1     Pending   0          5m',
      '',
    ].join('\n'));
  });

  it('shows the priority-1 columns too with -o wide', async () => {
    const { kubeconfig } = await fake(() => ({ body: podTable([podRow('web-1', 'default', '1/1', 'Running', '10.0.0.5', 'node-1')]) }));
    const { out } = await kubectl(kubeconfig, ['get', 'po', '-o', 'wide']);
    assert.equal(out, [
      'NAME    READY   STATUS    RESTARTS   AGE   IP         NODE     NOMINATED NODE   READINESS GATES',
      'web-1   1/1     Running   0          5m    10.0.0.5   node-1   <none>           <none>',
      '',
    ].join('\n'));
  });

  it('lists every namespace with -A, with a NAMESPACE column first', async () => {
    const { seen, kubeconfig } = await fake(() => ({ body: TWO_PODS }));
    const { out } = await kubectl(kubeconfig, ['get', 'pods', '-A']);
    assert.equal(seen[0]!.path, '/api/v1/pods');
    assert.equal(out, [
      'NAMESPACE   NAME            READY   STATUS              RESTARTS   AGE',
      'default     web-1           1/1     Running             0          5m',
      'shop        backend-7d4f9   0/1     ContainerCreating   0          5m',
      '',
    ].join('\n'));
  });

  it('says "No resources found in default namespace." on stderr when the list is empty', async () => {
    const { kubeconfig } = await fake(() => ({ body: podTable([]) }));
    const { code, out, err } = await kubectl(kubeconfig, ['get', 'pods']);
    assert.equal(code, 0);
    assert.equal(out, '');
    assert.equal(err, 'No resources found in default namespace.\n');
  });

  it('takes the namespace from -n first, then from the kubeconfig context', async () => {
    const { seen, kubeconfig } = await fake(() => ({ body: podTable([]) }), 'shop');
    const fromContext = await kubectl(kubeconfig, ['get', 'pods']);
    await kubectl(kubeconfig, ['get', 'pods', '--namespace=web']);
    assert.equal(fromContext.err, 'No resources found in shop namespace.\n');
    assert.deepEqual(seen.map((s) => s.path), ['/api/v1/namespaces/shop/pods', '/api/v1/namespaces/web/pods']);
  });

  it('passes -l as the labelSelector of the list', async () => {
    const { seen, kubeconfig } = await fake(() => ({ body: podTable([]) }));
    await kubectl(kubeconfig, ['get', 'pods', '-l', 'app=web']);
    assert.equal(seen[0]!.query.get('labelSelector'), 'app=web');
  });

  it('understands plural, singular, short names, kinds and TYPE/NAME, and reaches the same URL', async () => {
    const { seen, kubeconfig } = await fake(() => ({ body: podTable([]) }));
    for (const typed of [['deployments', 'web'], ['deployment', 'web'], ['deploy', 'web'], ['Deployment', 'web'], ['deployments.apps', 'web'], ['deploy/web']]) {
      await kubectl(kubeconfig, ['get', ...typed]);
    }
    assert.deepEqual(new Set(seen.map((s) => s.path)), new Set(['/apis/apps/v1/namespaces/default/deployments/web']));
    assert.equal(seen.length, 6);
  });

  it('prints one table per type with names marked by their type, for get deploy,pods', async () => {
    const deployColumns = [{ name: 'Name', type: 'string' as const, format: 'name', description: '', priority: 0 }, { name: 'Ready', type: 'string' as const, format: '', description: '', priority: 0 }];
    const { kubeconfig } = await fake((req) =>
      req.path.includes('deployments')
        ? { body: podTable([{ cells: ['web', '1/1'], object: null }], '5', deployColumns) }
        : { body: podTable([podRow('web-1', 'default', '1/1', 'Running', '10.0.0.5', 'node-1')]) },
    );
    const { out } = await kubectl(kubeconfig, ['get', 'deploy,pods']);
    assert.equal(out, [
      'NAME                  READY',
      'deployment.apps/web   1/1',
      '',
      'NAME        READY   STATUS    RESTARTS   AGE',
      'pod/web-1   1/1     Running   0          5m',
      '',
    ].join('\n'));
  });

  it('prints the full object with -o yaml, asking for plain JSON', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'default' }, spec: { containers: [{ name: 'main', image: 'nginx' }] } };
    const { seen, kubeconfig } = await fake(() => ({ body: pod }));
    const { out } = await kubectl(kubeconfig, ['get', 'pod', 'web-1', '-o', 'yaml']);
    assert.equal(seen[0]!.headers.accept, 'application/json');
    assert.equal(out, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1\n  namespace: default\nspec:\n  containers:\n  - image: nginx\n    name: main\n');
  });

  it('prints a List with -o json for a list, putting back the kind of each item', async () => {
    const list = { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '9' }, items: [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }] };
    const { kubeconfig } = await fake(() => ({ body: list }));
    const { out } = await kubectl(kubeconfig, ['get', 'pods', '-o', 'json']);
    const printed = JSON.parse(out);
    assert.equal(printed.kind, 'List');
    assert.deepEqual(printed.items.map((item: { kind: string; apiVersion: string }) => `${item.apiVersion} ${item.kind}`), ['v1 Pod', 'v1 Pod']);
    assert.match(out, /^{\n {4}"apiVersion"/);
  });

  it('prints kind.group/name with -o name', async () => {
    const list = { apiVersion: 'apps/v1', kind: 'DeploymentList', metadata: { resourceVersion: '9' }, items: [{ metadata: { name: 'web' } }] };
    const { kubeconfig } = await fake(() => ({ body: list }));
    const { out } = await kubectl(kubeconfig, ['get', 'deployments', '-o', 'name']);
    assert.equal(out, 'deployment.apps/web\n');
  });

  it('with -w prints the table, then watches from the list\'s resourceVersion and prints one row per event', async () => {
    const { seen, kubeconfig } = await fake((req) => {
      if (req.query.get('watch') !== 'true') return { body: podTable([podRow('web-1', 'default', '0/1', 'Pending', '<none>', '<none>')], '42') };
      return (res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        const running = { ...podTable([podRow('web-1', 'default', '1/1', 'Running', '10.0.0.5', 'node-1')]), columnDefinitions: [] };
        res.write(`${JSON.stringify({ type: 'MODIFIED', object: running })}\n`);
        res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: '50' } } })}\n`);
        res.end(`${JSON.stringify({ type: 'DELETED', object: running })}\n`);
      };
    });
    const { code, out } = await kubectl(kubeconfig, ['get', 'pods', '-w']);
    assert.equal(code, 0);
    assert.equal(seen[1]!.query.get('resourceVersion'), '42');
    assert.equal(seen[1]!.headers.accept, TABLE_ACCEPT);
    assert.equal(out, [
      'NAME    READY   STATUS    RESTARTS   AGE',
      'web-1   0/1     Pending   0          5m',
      'web-1   1/1     Running   0          5m',
      'web-1   1/1     Running   0          5m',
      '',
    ].join('\n'));
  });

  it('watches events too: get events --watch', async () => {
    const eventColumns = ['Last Seen', 'Type', 'Reason', 'Object', 'Message'].map((name) => ({ name, type: 'string' as const, format: '', description: '', priority: 0 }));
    const row = (reason: string): Table['rows'][number] => ({ cells: ['1s', 'Normal', reason, 'pod/web-1', `${reason} it`], object: null });
    const { seen, kubeconfig } = await fake((req) => {
      if (req.query.get('watch') !== 'true') return { body: podTable([], '3', eventColumns) };
      return (res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(`${JSON.stringify({ type: 'ADDED', object: podTable([row('Scheduled')], '4', eventColumns) })}\n`);
      };
    });
    const { out, err } = await kubectl(kubeconfig, ['get', 'events', '--watch']);
    assert.equal(seen[1]!.path, '/api/v1/namespaces/default/events');
    assert.equal(err, 'No resources found in default namespace.\n');
    assert.equal(out, 'LAST SEEN   TYPE     REASON      OBJECT      MESSAGE\n1s          Normal   Scheduled   pod/web-1   Scheduled it\n');
  });

  it('prints a server Status error as "Error from server (NotFound): ..." and exits with 1', async () => {
    const { kubeconfig } = await fake(() => notFound('pods', 'x'));
    const { code, out, err } = await kubectl(kubeconfig, ['get', 'pod', 'x']);
    assert.equal(code, 1);
    assert.equal(out, '');
    assert.equal(err, 'Error from server (NotFound): pods "x" not found\n');
  });
});

// ---- delete, scale, logs, events ----

describe('kubectl delete', () => {
  it('sends DeleteOptions with propagationPolicy Background by default and prints pod "x" deleted', async () => {
    const { seen, kubeconfig } = await fake(() => ({ body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 } }));
    const { code, out } = await kubectl(kubeconfig, ['delete', 'pod', 'x']);
    assert.equal(code, 0);
    assert.equal(out, 'pod "x" deleted\n');
    assert.equal(seen[0]!.method, 'DELETE');
    assert.equal(seen[0]!.path, '/api/v1/namespaces/default/pods/x');
    assert.deepEqual(JSON.parse(seen[0]!.body), { propagationPolicy: 'Background' });
  });

  it('sends the propagationPolicy that --cascade names', async () => {
    const { seen, kubeconfig } = await fake(() => ({ body: {} }));
    await kubectl(kubeconfig, ['delete', 'deploy/web', '--cascade=foreground']);
    await kubectl(kubeconfig, ['delete', 'deployment', 'web', '--cascade', 'orphan']);
    assert.deepEqual(seen.map((s) => JSON.parse(s.body).propagationPolicy), ['Foreground', 'Orphan']);
    assert.equal(seen[0]!.path, '/apis/apps/v1/namespaces/default/deployments/web');
  });

  it('refuses an unknown --cascade value as a usage error', async () => {
    const { seen, kubeconfig } = await fake(() => ({ body: {} }));
    const { code, err } = await kubectl(kubeconfig, ['delete', 'pod', 'x', '--cascade=sideways']);
    assert.equal(code, 2);
    assert.match(err, /expected --cascade to be "background", "foreground", or "orphan", got "sideways"/);
    assert.equal(seen.length, 0);
  });

  it('deletes the objects a manifest names, with -f', async () => {
    const file = writeManifest('to-delete.yaml', `${DEPLOYMENT_YAML}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: backend\n  namespace: shop\n`);
    const { seen, kubeconfig } = await fake(() => ({ body: {} }));
    const { out } = await kubectl(kubeconfig, ['delete', '-f', file]);
    assert.equal(out, 'deployment.apps "backend" deleted\nservice "backend" deleted\n');
    assert.deepEqual(seen.map((s) => s.path), ['/apis/apps/v1/namespaces/default/deployments/backend', '/api/v1/namespaces/shop/services/backend']);
  });
});

describe('kubectl scale', () => {
  it('sends a merge patch of spec.replicas to the scale subresource and prints scaled', async () => {
    const { seen, kubeconfig } = await fake(() => ({ body: { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web' }, spec: { replicas: 5 }, status: { replicas: 3 } } }));
    const first = await kubectl(kubeconfig, ['scale', 'deploy/web', '--replicas=5']);
    await kubectl(kubeconfig, ['scale', 'deployment', 'web', '--replicas', '0']);
    assert.equal(first.code, 0);
    assert.equal(first.out, 'deployment.apps/web scaled\n');
    assert.equal(seen[0]!.method, 'PATCH');
    assert.equal(seen[0]!.path, '/apis/apps/v1/namespaces/default/deployments/web/scale');
    assert.equal(seen[0]!.headers['content-type'], 'application/merge-patch+json');
    assert.deepEqual(seen.map((s) => JSON.parse(s.body)), [{ spec: { replicas: 5 } }, { spec: { replicas: 0 } }]);
  });

  it('refuses a missing or negative --replicas as a usage error', async () => {
    const { seen, kubeconfig } = await fake(() => ({ body: {} }));
    assert.equal((await kubectl(kubeconfig, ['scale', 'deploy/web'])).code, 2);
    assert.equal((await kubectl(kubeconfig, ['scale', 'deploy/web', '--replicas=-1'])).code, 2);
    assert.equal(seen.length, 0);
  });

  it('refuses a resource without a scale subresource', async () => {
    const { kubeconfig } = await fake(() => ({ body: {} }));
    const { code, err } = await kubectl(kubeconfig, ['scale', 'pod/web-1', '--replicas=2']);
    assert.equal(code, 1);
    assert.match(err, /expected a resource with a scale subresource \(deployments, replicasets\), got pods/);
  });
});

describe('kubectl logs', () => {
  it('asks for pods/NAME/log with the container and the tail, and prints the text', async () => {
    const { seen, kubeconfig } = await fake(() => (res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('line 1\nline 2\n');
    });
    const { code, out } = await kubectl(kubeconfig, ['logs', 'web-1', '-c', 'main', '--tail', '2']);
    assert.equal(code, 0);
    assert.equal(out, 'line 1\nline 2\n');
    assert.equal(seen[0]!.path, '/api/v1/namespaces/default/pods/web-1/log');
    assert.equal(seen[0]!.query.get('container'), 'main');
    assert.equal(seen[0]!.query.get('tailLines'), '2');
  });

  it('with -f prints the log as it streams, until the server ends it', async () => {
    const { seen, kubeconfig } = await fake(() => (res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('first\n');
      setTimeout(() => res.end('second\n'), 20);
    });
    const { out } = await kubectl(kubeconfig, ['logs', 'pod/web-1', '-f']);
    assert.equal(out, 'first\nsecond\n');
    assert.equal(seen[0]!.query.get('follow'), 'true');
  });
});

describe('kubectl events', () => {
  it('lists the events about one object with --for, through an involvedObject field selector', async () => {
    const { seen, kubeconfig } = await fake(() => ({ body: podTable([]) }));
    await kubectl(kubeconfig, ['events', '--for', 'pod/web-1']);
    assert.equal(seen[0]!.path, '/api/v1/namespaces/default/events');
    assert.equal(seen[0]!.query.get('fieldSelector'), 'involvedObject.kind=Pod,involvedObject.name=web-1');
  });
});

// ---- describe ----

describe('kubectl describe', () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web-1', namespace: 'default', uid: 'pod-uid', labels: { app: 'web', tier: 'front' }, creationTimestamp: '2025-01-01T11:55:00Z',
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d8f', uid: 'rs-uid', controller: true }],
    },
    spec: { nodeName: 'node-1', containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] },
    status: {
      phase: 'Running', hostIP: '192.168.1.11', podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }], startTime: '2025-01-01T11:55:00Z',
      conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: 'nginx', ready: true, restartCount: 0, image: 'nginx:1.27', imageID: '', containerID: 'workbook://web-1/nginx', state: { running: { startedAt: '2025-01-01T11:55:03Z' } } }],
    },
  };

  it('prints a pod in Key: value lines, then the events found by involvedObject name, namespace and uid', async () => {
    const event = {
      apiVersion: 'v1', kind: 'Event', metadata: { name: 'web-1.1', namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default', uid: 'pod-uid' },
      type: 'Normal', reason: 'Scheduled', message: 'Successfully assigned default/web-1 to node-1', source: { component: 'default-scheduler' },
      firstTimestamp: '2025-01-01T11:55:00Z', lastTimestamp: '2025-01-01T11:55:00Z', count: 1,
    };
    const { seen, kubeconfig } = await fake((req) => ({ body: req.path.endsWith('/events') ? { apiVersion: 'v1', kind: 'EventList', metadata: { resourceVersion: '1' }, items: [event] } : pod }));
    const { code, out } = await kubectl(kubeconfig, ['describe', 'pod', 'web-1']);
    assert.equal(code, 0);
    assert.equal(seen[1]!.path, '/api/v1/namespaces/default/events');
    assert.equal(seen[1]!.query.get('fieldSelector'), 'involvedObject.name=web-1,involvedObject.namespace=default,involvedObject.uid=pod-uid');
    assert.equal(out, [
      'Name:             web-1',
      'Namespace:        default',
      'Priority:         0',
      'Service Account:  default',
      'Node:             node-1/192.168.1.11',
      'Start Time:       Wed, 01 Jan 2025 11:55:00 +0000',
      'Labels:           app=web',
      '                  tier=front',
      'Annotations:      <none>',
      'Status:           Running',
      'IP:               10.244.1.5',
      'IPs:',
      '  IP:           10.244.1.5',
      'Controlled By:  ReplicaSet/web-5d8f',
      'Containers:',
      '  nginx:',
      '    Container ID:   workbook://web-1/nginx',
      '    Image:          nginx:1.27',
      '    Image ID:       ',
      '    Port:           80/TCP',
      '    Host Port:      0/TCP',
      '    State:          Running',
      '      Started:      Wed, 01 Jan 2025 11:55:03 +0000',
      '    Ready:          True',
      '    Restart Count:  0',
      '    Environment:    <none>',
      '    Mounts:         <none>',
      'Conditions:',
      '  Type           Status',
      '  PodScheduled   True',
      '  Ready          True',
      'Node-Selectors:  <none>',
      'Tolerations:     <none>',
      'Events:',
      '  Type    Reason     Age   From               Message',
      '  ----    ------     ----  ----               -------',
      '  Normal  Scheduled  5m    default-scheduler  Successfully assigned default/web-1 to node-1',
      '',
    ].join('\n'));
  });

  it('prints "Events:  <none>" when no event is about the object', async () => {
    const { kubeconfig } = await fake((req) => ({ body: req.path.endsWith('/events') ? { apiVersion: 'v1', kind: 'EventList', metadata: { resourceVersion: '1' }, items: [] } : pod }));
    const { out } = await kubectl(kubeconfig, ['describe', 'po/web-1']);
    assert.match(out, /\nTolerations: {5}<none>\nEvents: {10}<none>\n$/);
  });

  it('describes a service with its endpoints, and a node with its conditions, searching node events by name', async () => {
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default', uid: 'svc-uid' }, spec: { type: 'ClusterIP', selector: { app: 'web' }, clusterIP: '10.96.0.20', ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] } };
    const endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'default' }, subsets: [{ addresses: [{ ip: '10.244.1.5' }, { ip: '10.244.2.7' }], ports: [{ port: 8080 }] }] };
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', uid: 'node-uid' }, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }] } };
    const empty = { apiVersion: 'v1', kind: 'EventList', metadata: { resourceVersion: '1' }, items: [] };
    const { seen, kubeconfig } = await fake((req) => {
      if (req.path.endsWith('/events')) return { body: empty };
      if (req.path.includes('/endpoints/')) return { body: endpoints };
      return { body: req.path.includes('/nodes/') ? node : service };
    });
    const svc = await kubectl(kubeconfig, ['describe', 'svc', 'web']);
    assert.match(svc.out, /\nSelector: {10}app=web\n/);
    assert.match(svc.out, /\nPort: {14}<unset>  80\/TCP\nTargetPort: {8}8080\/TCP\nEndpoints: {9}10\.244\.1\.5:8080,10\.244\.2\.7:8080\n/);
    const nodeOut = await kubectl(kubeconfig, ['describe', 'node', 'node-1']);
    assert.match(nodeOut.out, /\n {2}Ready {7}True {4}<unknown> {10}<unknown> {11}KubeletReady {2}kubelet is posting ready status\n/);
    const nodeEvents = seen.at(-1)!;
    assert.equal(nodeEvents.path, '/api/v1/events');
    assert.equal(nodeEvents.query.get('fieldSelector'), 'involvedObject.kind=Node,involvedObject.name=node-1,involvedObject.namespace=,involvedObject.uid=node-1');
  });
});

// ---- the command line ----

describe('kubectl command line', () => {
  it('prints the usage and exits with code 2 for an unknown command', async () => {
    const { kubeconfig } = await fake(() => ({ body: {} }));
    const { code, err } = await kubectl(kubeconfig, ['frobnicate']);
    assert.equal(code, 2);
    assert.match(err, /^error: unknown command "frobnicate" for "kubectl"\n\n.*Commands:\n {2}get /s);
  });

  it('prints the command\'s usage and exits with code 2 for an unknown flag', async () => {
    const { seen, kubeconfig } = await fake(() => ({ body: {} }));
    const { code, err } = await kubectl(kubeconfig, ['get', 'pods', '--colour']);
    assert.equal(code, 2);
    assert.match(err, /^error: unknown flag: --colour\n\n.*Usage: kubectl get /s);
    assert.equal(seen.length, 0);
  });

  it('says which resource types it does not know', async () => {
    const { kubeconfig } = await fake(() => ({ body: {} }));
    const { code, err } = await kubectl(kubeconfig, ['get', 'widgets']);
    assert.equal(code, 1);
    assert.equal(err, 'error: the server doesn\'t have a resource type "widgets"\n');
  });

  it('with -v prints each request\'s method, URL and status on stderr', async () => {
    const { kubeconfig, origin } = await fake((req) => (req.method === 'GET' ? notFound('pods', 'x') : { body: {} }));
    const { err } = await kubectl(kubeconfig, ['get', 'pod', 'x', '-v']);
    assert.match(err, new RegExp(`^GET ${origin}/api/v1/namespaces/default/pods/x 404 Not Found in \\d+ milliseconds\\nError from server \\(NotFound\\): pods "x" not found\\n$`));
  });

  it('with -v=8 also prints the request headers and body, with the token masked', async () => {
    const { kubeconfig } = await fake(() => ({ body: {} }));
    const { err } = await kubectl(kubeconfig, ['scale', 'deploy/web', '--replicas=3', '-v=8']);
    assert.match(err, /^Request Body: {"spec":{"replicas":3}}\nPATCH http:\/\/.*\/deployments\/web\/scale\nRequest Headers:\n {4}Accept: application\/json\n {4}Content-Type: application\/merge-patch\+json\n/);
    assert.match(err, /Authorization: Bearer <masked>\nResponse Status: 200 OK in \d+ milliseconds\n/);
    assert.doesNotMatch(err, /secret-token/);
  });
});
