/**
 * `npm run cluster -- up | status | down` as a user runs it: `up` leaves a
 * cluster process running in the background (store, API server, controller
 * manager, scheduler, a kubelet on each of three nodes) and prints its kubeconfig, the
 * real kubectl works with that kubeconfig, and `down` leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { waitUntil } from '../lib/workbook/waiting.ts';
import { projectRoot } from '../lib/workbook/root.ts';
import { requireTool } from '../lib/workbook/realmode.ts';
import type { Deployment, Node, Pod } from '../lib/api/types.ts';
import { findResource } from '../lib/apiserver/resources.ts';
import { startTestCluster, type TestCluster } from './helpers/apiserver.ts';
import { kubectlFor, rows } from './helpers/kubectl.ts';
import { eventually } from './helpers/wait.ts';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node --import tsx lib/cluster/main.ts <args>` from the project root, as `npm run cluster --` does. */
function cluster(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join('lib', 'cluster', 'main.ts'), ...args], { cwd: projectRoot, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

/** Whether a process with this pid exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm run cluster -- up, status and down', () => {
  let tmp: string;
  let dir: string;
  let upResult: CliResult;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'cluster-cli-test-'));
    dir = join(tmp, 'cluster');
    upResult = await cluster(['up', '--dir', dir]);
  });

  after(async () => {
    // Always: a failed test must not leave a cluster process running.
    if (dir) await cluster(['down', '--dir', dir]);
    rmSync(tmp, { recursive: true, force: true });
  });

  /** The KUBECONFIG=<path> line `up` printed. */
  const kubeconfigFromUp = (): string => {
    const match = /^KUBECONFIG=(.+)$/m.exec(upResult.stdout);
    assert.ok(match?.[1], `expected a line KUBECONFIG=<path> from up, got:\n${upResult.stdout}${upResult.stderr}`);
    return match[1];
  };

  test('up returns once the API server answers and prints KUBECONFIG= with the absolute path of a kubeconfig it wrote', () => {
    assert.equal(upResult.code, 0, `expected up to exit 0; stderr:\n${upResult.stderr}`);
    assert.match(upResult.stdout, /^cluster up \(pid \d+\): API server at https:\/\/127\.0\.0\.1:\d+$/m);
    assert.match(upResult.stdout, /^running: store, API server, controller manager, scheduler, kubelets node-1, node-2, node-3 \(sim runtime\)$/m);
    const kubeconfig = kubeconfigFromUp();
    assert.ok(isAbsolute(kubeconfig), `expected an absolute path, got ${kubeconfig}`);
    assert.ok(kubeconfig.startsWith(dir), `expected the kubeconfig inside ${dir}, got ${kubeconfig}`);
    assert.match(readFileSync(kubeconfig, 'utf8'), /certificate-authority-data:/);
  });

  test('status exits 0 and names the URL of the running API server', async () => {
    const status = await cluster(['status', '--dir', dir]);
    assert.equal(status.code, 0, `expected status to exit 0; it printed:\n${status.stdout}${status.stderr}`);
    const url = /API server at (https:\/\/\S+)$/m.exec(upResult.stdout)?.[1];
    assert.ok(url, 'expected up to name the URL');
    assert.match(status.stdout, new RegExp(`^cluster up \\(pid \\d+, since \\S+\\): API server at ${url.replaceAll('.', '\\.')}$`, 'm'));
    assert.match(status.stdout, new RegExp(`^KUBECONFIG=${kubeconfigFromUp()}$`, 'm'));
  });

  test('up while the cluster runs starts no second one and prints the same KUBECONFIG', async () => {
    const again = await cluster(['up', '--dir', dir]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /^a cluster already runs \(pid \d+\)/m);
    assert.match(again.stdout, new RegExp(`^KUBECONFIG=${kubeconfigFromUp()}$`, 'm'));
  });

  test('the real kubectl with the printed kubeconfig lists the four built-in namespaces', requireTool('kubectl'), async () => {
    const kubectl = kubectlFor(kubeconfigFromUp(), tmp);
    const table = rows(await kubectl.ok(['get', 'ns']));
    assert.deepEqual(table[0], ['NAME', 'STATUS', 'AGE']);
    assert.deepEqual(table.slice(1).map((c) => c[0]).sort(), ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
  });

  test('the real kubectl lists three Ready nodes, node-1 with the control-plane role', requireTool('kubectl'), async () => {
    const kubectl = kubectlFor(kubeconfigFromUp(), tmp);
    const table = rows(await kubectl.ok(['get', 'nodes']));
    assert.deepEqual(table[0], ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
    assert.deepEqual(table.slice(1).map((c) => [c[0], c[1], c[2]]), [
      ['node-1', 'Ready', 'control-plane'],
      ['node-2', 'Ready', '<none>'],
      ['node-3', 'Ready', '<none>'],
    ]);
  });

  test('the scenario applied with the real kubectl rolls out: kubectl rollout status says the backend successfully rolled out', requireTool('kubectl'), async () => {
    const kubectl = kubectlFor(kubeconfigFromUp(), tmp);
    await kubectl.ok(['apply', '-f', join(projectRoot, 'lib', 'workbook', 'scenario')]);
    const out = await kubectl.ok(['rollout', 'status', 'deployment/backend', '--timeout=90s'], { timeoutMs: 100_000 });
    assert.match(out, /deployment "backend" successfully rolled out/);
    const pods = rows(await kubectl.ok(['get', 'pods', '-o', 'wide', '-l', 'app=backend']));
    assert.equal(pods.length - 1, 3, `expected 3 backend pods, got:\n${pods.map((r) => r.join(' ')).join('\n')}`);
    for (const pod of pods.slice(1)) {
      assert.equal(pod[2], 'Running');
      assert.ok(pod[6] === 'node-2' || pod[6] === 'node-3', `expected the pod on node-2 or node-3, got ${pod.join(' ')}`);
    }
  });

  test('the real kubectl lists the control plane as mirror Pods of node-1\'s static Pods in kube-system, and shows a static Pod\'s log', requireTool('kubectl'), async () => {
    const kubectl = kubectlFor(kubeconfigFromUp(), tmp);
    let table: string[][] = [];
    await waitUntil('four Running control-plane Pods in kube-system', async () => {
      table = rows(await kubectl.ok(['get', 'pods', '-n', 'kube-system', '-o', 'wide']));
      return table.slice(1).filter((r) => r[2] === 'Running').length === 4;
    }, 60_000);
    assert.deepEqual(table.slice(1).map((r) => [r[0], r[6]]), [
      ['etcd-node-1', 'node-1'],
      ['kube-apiserver-node-1', 'node-1'],
      ['kube-controller-manager-node-1', 'node-1'],
      ['kube-scheduler-node-1', 'node-1'],
    ]);
    const backend = rows(await kubectl.ok(['get', 'pods', '-l', 'app=backend', '-o', 'wide']))[1]!;
    assert.match(backend[5] ?? '', /^10\.244\.[12]\.\d+$/, `expected a Pod IP from node-2's or node-3's range, got ${backend.join(' ')}`);
    assert.match(await kubectl.ok(['logs', '-n', 'kube-system', 'kube-apiserver-node-1']), /^Serving securely on \[::\]:6443$/m);
  });

  test('down stops the cluster process and removes its folder, and status afterwards exits non-zero saying there is no cluster', async () => {
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { pid: number };
    assert.ok(alive(state.pid), `expected the cluster process ${state.pid} to run before down`);

    const down = await cluster(['down', '--dir', dir]);
    assert.equal(down.code, 0, `expected down to exit 0; stderr:\n${down.stderr}`);
    assert.equal(down.stdout.trim(), `cluster down: removed ${dir}`);
    assert.ok(!alive(state.pid), `expected the cluster process ${state.pid} to be gone after down`);
    assert.ok(!existsSync(dir), `expected ${dir} removed`);

    const status = await cluster(['status', '--dir', dir]);
    assert.notEqual(status.code, 0);
    assert.equal(status.stdout.trim(), `no cluster in ${dir}; start one with: npm run cluster -- up`);
  });
});

describe('the controller manager as its own process: tsx lib/controllers/main.ts --kubeconfig FILE', () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await startTestCluster();
  });

  after(async () => {
    await cluster?.stop();
  });

  test('runs the named controllers as system:kube-controller-manager until SIGTERM, then exits 0', async () => {
    const kubeconfig = cluster.componentKubeconfigs['kube-controller-manager'];
    assert.ok(kubeconfig, 'expected the cluster to write controller-manager.conf');
    const child = spawn(process.execPath, ['--import', 'tsx', join('lib', 'controllers', 'main.ts'), '--kubeconfig', kubeconfig, '--controllers', 'deployment,replicaset'], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await eventually('the controller manager running', () => {
        if (/^controller manager running \(pid \d+\) as system:kube-controller-manager/m.test(output)) return true;
        throw new Error(`output so far: ${output}`);
      }, 60_000);
      assert.match(output, /: deployment, replicaset$/m);
      const deployment: Deployment = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'solo', namespace: 'default' },
        spec: { replicas: 2, selector: { matchLabels: { app: 'solo' } }, template: { metadata: { labels: { app: 'solo' } }, spec: { containers: [{ name: 'solo', image: 'solo:1' }] } } },
      };
      await cluster.admin.create(findResource('apps', 'v1', 'deployments')!, deployment);
      await eventually('two solo Pods', async () => (await cluster.admin.list<Pod>(findResource('', 'v1', 'pods')!, { namespace: 'default', labelSelector: 'app=solo' })).items.length === 2);
      await eventually('the ScalingReplicaSet event in its output', () => /event Normal ScalingReplicaSet default\/deployment\/solo/.test(output));
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, output);
    assert.match(output, /^SIGTERM: stopping the controller manager$/m);
  });
});

describe('a hollow node as its own process: tsx lib/nodes/main.ts --kubeconfig FILE --name NODE', () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await startTestCluster();
  });

  after(async () => {
    await cluster?.stop();
  });

  test('registers the Node as system:node:node-2 with the given capacity, and on SIGTERM exits 0', async () => {
    const kubeconfig = cluster.componentKubeconfigs['kubelet-node-2'];
    assert.ok(kubeconfig, 'expected the cluster to write kubelet-node-2.conf');
    const child = spawn(process.execPath, ['--import', 'tsx', join('lib', 'nodes', 'main.ts'), '--kubeconfig', kubeconfig, '--name', 'node-2', '--capacity', 'cpu=4,memory=8Gi,pods=50'], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await eventually('the node running', () => {
        if (/^hollow node node-2 running \(pid \d+\) as system:node:node-2/m.test(output)) return true;
        throw new Error(`output so far: ${output}`);
      }, 60_000);
      const node = await cluster.admin.get<Node>(findResource('', 'v1', 'nodes')!, undefined, 'node-2');
      assert.deepEqual(node.status?.capacity, { cpu: '4', memory: '8Gi', pods: '50' });
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, output);
  });

  test('refuses to act as another node: with kubelet-node-2.conf and --name node-3 it fails with a 403 from NodeRestriction', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('lib', 'nodes', 'main.ts'), '--kubeconfig', cluster.componentKubeconfigs['kubelet-node-2']!, '--name', 'node-3'], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(code, 1, output);
    assert.match(output, /node "node-2" is not allowed to modify node "node-3"/);
  });
});
