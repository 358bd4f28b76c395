/**
 * The real kubectl (1.32) against a cluster whose nodes run real kubelets on
 * the simulated runtime: what chapter 5 promises a reader can do. Pods get
 * a node and an IP from that node's range; `kubectl logs` shows a
 * container's output and `-f` follows it; `kubectl describe pod` shows the
 * kubelet's Events; the control plane appears as node-1's mirror Pods in
 * kube-system; a crash loop shows CrashLoopBackOff and its previous log; a
 * delete waits for the kubelet to stop the containers.
 * One cluster serves the file; the tests run in order.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SimRuntime } from '../lib/runtime/sim.ts';
import { projectRoot } from '../lib/workbook/root.ts';
import { requireTool } from '../lib/workbook/realmode.ts';
import type { TestCluster } from './helpers/apiserver.ts';
import { startFullCluster } from './helpers/full-cluster.ts';
import { kubectlFor, rows, type Kubectl } from './helpers/kubectl.ts';
import { eventually } from './helpers/wait.ts';

const SCENARIO = join(projectRoot, 'lib', 'workbook', 'scenario');

describe('the real kubectl against kubelets', requireTool('kubectl'), () => {
  let tmp: string;
  let cluster: TestCluster;
  let kubectl: Kubectl;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'kubectl-kubelet-'));
    cluster = await startFullCluster({ nodes: 'kubelet' });
    kubectl = kubectlFor(cluster.kubeconfig, tmp);
  });

  after(async () => {
    await cluster?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** The rows of `kubectl get <args>` as objects keyed by column name. */
  const table = async (args: string[]): Promise<Array<Record<string, string>>> => {
    const lines = rows(await kubectl.ok(['get', ...args]));
    const header = lines[0] ?? [];
    return lines.slice(1).map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ''])));
  };

  test('get nodes -o wide shows each node\'s InternalIP and its container runtime', async () => {
    const nodes = await table(['nodes', '-o', 'wide']);
    assert.deepEqual(nodes.map((n) => [n['NAME'], n['STATUS'], n['INTERNAL-IP'], n['CONTAINER-RUNTIME']]), [
      ['node-1', 'Ready', '172.18.0.2', 'sim://0.1.0'],
      ['node-2', 'Ready', '172.18.0.3', 'sim://0.1.0'],
      ['node-3', 'Ready', '172.18.0.4', 'sim://0.1.0'],
    ]);
  });

  test('get pods -n kube-system lists the control plane as node-1\'s mirror Pods', async () => {
    const pods = await eventually('four Running control-plane Pods', async () => {
      const listed = await table(['pods', '-n', 'kube-system', '-o', 'wide']);
      return listed.filter((p) => p['STATUS'] === 'Running').length === 4 ? listed : undefined;
    });
    assert.deepEqual(pods.map((p) => [p['NAME'], p['NODE'], p['IP']]), [
      ['etcd-node-1', 'node-1', '172.18.0.2'],
      ['kube-apiserver-node-1', 'node-1', '172.18.0.2'],
      ['kube-controller-manager-node-1', 'node-1', '172.18.0.2'],
      ['kube-scheduler-node-1', 'node-1', '172.18.0.2'],
    ]);
  });

  test('the scenario\'s Pods run on the workers, each with an IP from its node\'s Pod CIDR', async () => {
    await kubectl.ok(['apply', '-f', SCENARIO]);
    await kubectl.ok(['rollout', 'status', 'deployment/backend', '--timeout=60s'], { timeoutMs: 70_000 });
    await kubectl.ok(['rollout', 'status', 'deployment/frontend', '--timeout=60s'], { timeoutMs: 70_000 });
    const pods = await table(['pods', '-o', 'wide']);
    assert.equal(pods.length, 6);
    for (const pod of pods) {
      assert.equal(pod['STATUS'], 'Running', JSON.stringify(pod));
      assert.equal(pod['READY'], '1/1');
      const range = pod['NODE'] === 'node-2' ? /^10\.244\.1\.\d+$/ : pod['NODE'] === 'node-3' ? /^10\.244\.2\.\d+$/ : /^never$/;
      assert.match(pod['IP'] ?? '', range, `expected ${pod['NAME']} on a worker with an IP from its range, got ${JSON.stringify(pod)}`);
    }
  });

  test('logs shows a container\'s output, and logs -f follows it until the container ends', async () => {
    const [backend] = await table(['pods', '-l', 'app=backend', '-o', 'wide']);
    const runtime = cluster.kubelets!.get(backend!['NODE']!)!.runtime as SimRuntime;
    await runtime.httpGet(backend!['IP']!, 8080, '/');
    assert.equal(await kubectl.ok(['logs', backend!['NAME']!]), `GET /: answered as ${backend!['NAME']}\n`, 'the backend logs each request it answers');
    await kubectl.ok(['run', 'counter', '--image=busybox', '--restart=Never', '--', 'sh', '-c', 'echo one; sleep 1; echo two; sleep 1; echo three']);
    await eventually('the counter to run', async () => ((await table(['pod', 'counter']))[0]?.['STATUS'] === 'Running' ? true : undefined));
    const followed = await kubectl.ok(['logs', '-f', 'counter'], { timeoutMs: 20_000 });
    assert.equal(followed, 'one\ntwo\nthree\n');
  });

  test('describe pod shows the kubelet\'s Events after the scheduler\'s', async () => {
    // Why wait: the kubelet notices the exit at its next relist (every second), after `logs -f` has already seen it.
    await eventually('the counter to have Succeeded', async () => ((await table(['pod', 'counter']))[0]?.['STATUS'] === 'Completed' ? true : undefined));
    const described = await kubectl.ok(['describe', 'pod', 'counter']);
    const reasons = [...described.slice(described.indexOf('Events:')).matchAll(/^\s+Normal\s+(\w+)\s/gm)].map((m) => m[1]);
    assert.deepEqual(reasons.slice(0, 5), ['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started'], described);
    assert.match(described, /Started container counter/);
    assert.match(described, /Status:\s+Succeeded/);
  });

  test('a container that keeps exiting shows CrashLoopBackOff, and logs --previous shows the last run', async () => {
    await kubectl.ok(['run', 'crashy', '--image=busybox', '--', 'sh', '-c', 'echo about to fail; exit 1']);
    const row = await eventually('CrashLoopBackOff', async () => {
      const [pod] = await table(['pod', 'crashy']);
      return pod?.['STATUS'] === 'CrashLoopBackOff' ? pod : undefined;
    });
    assert.equal(row['RESTARTS']?.split(' ')[0], '1');
    assert.equal(await kubectl.ok(['logs', 'crashy', '--previous']), 'about to fail\n');
  });

  test('delete pod returns once the kubelet has stopped the containers and confirmed the deletion', async () => {
    await kubectl.ok(['delete', 'pod', 'crashy', '--timeout=30s'], { timeoutMs: 40_000 });
    const left = await kubectl(['get', 'pod', 'crashy']);
    assert.notEqual(left.code, 0);
    assert.match(left.stderr, /pods "crashy" not found/);
  });
});
