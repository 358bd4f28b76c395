import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCluster, type Cluster } from '../../cluster/cluster.ts';
import { run } from './main.ts';

const dir = mkdtempSync(join(tmpdir(), 'kubectl-e2e-'));
let cluster: Cluster;

before(async () => {
  cluster = await startCluster({ dir: join(dir, 'cluster') });
});
after(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the workbook's kubectl against the cluster, with the kubeconfig the cluster wrote. */
async function kubectl(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(argv, {
    out: { write: (text: string) => (out += text) },
    err: { write: (text: string) => (err += text) },
    env: { KUBECONFIG: cluster.kubeconfig },
  });
  return { code, out, err };
}

function deploymentYaml(replicas: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: backend
  labels:
    app: backend
spec:
  replicas: ${replicas}
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
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: backend
spec:
  selector:
    app: backend
  ports:
  - port: 80
    targetPort: 8080
`;
}

describe('the workbook kubectl against the workbook API server', () => {
  it('applies manifests: created, then unchanged, then configured when the file changes', async () => {
    const file = join(dir, 'backend.yaml');
    writeFileSync(file, deploymentYaml(2));
    assert.deepEqual(await kubectl('apply', '-f', file), { code: 0, out: 'deployment.apps/backend created\nservice/backend created\n', err: '' });
    assert.deepEqual(await kubectl('apply', '-f', file), { code: 0, out: 'deployment.apps/backend unchanged\nservice/backend unchanged\n', err: '' });
    writeFileSync(file, deploymentYaml(3));
    assert.deepEqual(await kubectl('apply', '-f', file), { code: 0, out: 'deployment.apps/backend configured\nservice/backend unchanged\n', err: '' });
  });

  it('prints the server\'s Table for get, with the wide columns only with -o wide', async () => {
    const plain = await kubectl('get', 'deploy', 'backend');
    assert.match(plain.out, /^NAME {6}READY {3}UP-TO-DATE {3}AVAILABLE {3}AGE\nbackend {3}0\/3 /);
    const wide = await kubectl('get', 'deployments', '-o', 'wide');
    assert.match(wide.out, /CONTAINERS {3}IMAGES {9}SELECTOR\n/);
    assert.match(wide.out, / api {10}shop\/api:1\.0 {3}app=backend\n$/);
  });

  it('scales through the scale subresource, and describe shows the new count', async () => {
    assert.equal((await kubectl('scale', 'deploy/backend', '--replicas=5')).out, 'deployment.apps/backend scaled\n');
    const json = JSON.parse((await kubectl('get', 'deployment', 'backend', '-o', 'json')).out);
    assert.equal(json.spec.replicas, 5);
    const described = await kubectl('describe', 'deployment', 'backend');
    assert.match(described.out, /\nReplicas: +5 desired \| /);
    assert.match(described.out, /\nEvents: +<none>\n$/);
  });

  it('server-side applies with its own field manager, taking replicas back from scale only with --force-conflicts', async () => {
    const refused = await kubectl('apply', '--server-side', '-f', join(dir, 'backend.yaml'));
    assert.equal(refused.code, 1);
    assert.match(refused.err, /^Error from server \(Conflict\): .*"kubectl" with subresource "scale".*\.spec\.replicas/);
    const result = await kubectl('apply', '--server-side', '--force-conflicts', '-f', join(dir, 'backend.yaml'));
    assert.equal(result.out, 'deployment.apps/backend serverside-applied\nservice/backend serverside-applied\n');
    const json = JSON.parse((await kubectl('get', 'deploy', 'backend', '-o', 'json')).out);
    assert.ok(json.metadata.managedFields.some((entry: { manager: string }) => entry.manager === 'kubectl-workbook'));
  });

  it('deletes, and then a get prints the NotFound Status as kubectl does', async () => {
    assert.equal((await kubectl('delete', 'deploy', 'backend', '--cascade=foreground')).out, 'deployment.apps "backend" deleted\n');
    const service = await kubectl('delete', 'svc/backend');
    assert.equal(service.out, 'service "backend" deleted\n');
    const missing = await kubectl('get', 'svc', 'backend');
    assert.equal(missing.code, 1);
    assert.equal(missing.err, 'Error from server (NotFound): services "backend" not found\n');
  });
});
