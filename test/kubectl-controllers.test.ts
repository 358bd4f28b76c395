/**
 * The real kubectl (1.32) against a whole in-process cluster: controller
 * manager, scheduler and hollow nodes. What chapters 3 and 4 promise a reader
 * can do with kubectl: apply the scenario and see six Pods Running on the
 * workers, follow a rollout, roll back, scale, read the Events in causal
 * order, and see why a Pod that fits nowhere stays Pending.
 * One cluster serves the file; the tests run in order and build on each other.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EXIT_AFTER_ANNOTATION } from '../lib/nodes/hollow-node.ts';
import { projectRoot } from '../lib/workbook/root.ts';
import { requireTool } from '../lib/workbook/realmode.ts';
import type { TestCluster } from './helpers/apiserver.ts';
import { startFullCluster } from './helpers/full-cluster.ts';
import { kubectlFor, rows, type Kubectl } from './helpers/kubectl.ts';
import { eventually } from './helpers/wait.ts';

const SCENARIO = join(projectRoot, 'lib', 'workbook', 'scenario');

/** One row of `kubectl get pods -o wide`. */
interface PodRow {
  name: string;
  ready: string;
  status: string;
  ip: string;
  node: string;
}

describe('the real kubectl against the controller manager, the scheduler and hollow nodes', requireTool('kubectl'), () => {
  let tmp: string;
  let cluster: TestCluster;
  let kubectl: Kubectl;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'kubectl-controllers-'));
    cluster = await startFullCluster();
    kubectl = kubectlFor(cluster.kubeconfig, tmp);
  });

  after(async () => {
    await cluster?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** The pods `kubectl get pods -o wide` lists, optionally by label. */
  const pods = async (selector?: string): Promise<PodRow[]> => {
    const table = rows(await kubectl.ok(['get', 'pods', '-o', 'wide', ...(selector ? ['-l', selector] : [])]));
    if (table.length === 0) return [];
    const header = table[0]!;
    const at = (name: string) => header.indexOf(name);
    return table.slice(1).map((c) => ({ name: c[at('NAME')] ?? '', ready: c[at('READY')] ?? '', status: c[at('STATUS')] ?? '', ip: c[at('IP')] ?? '', node: c[at('NODE')] ?? '' }));
  };

  /** Waits until exactly `n` pods with the selector are Running and ready; returns them. */
  const runningPods = (selector: string, n: number) =>
    eventually(`${n} pods ${selector} Running 1/1`, async () => {
      const list = await pods(selector);
      const running = list.filter((p) => p.status === 'Running' && p.ready === '1/1');
      if (running.length === n && list.length === n) return running;
      throw new Error(`pods ${selector}: ${JSON.stringify(list)}`);
    }, 60_000, 250);

  /** The ReplicaSets of a Deployment: name, desired count, image, revision. */
  const replicaSets = async (app: string) => {
    const out = await kubectl.ok(['get', 'rs', '-l', `app=${app}`, '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.replicas} {.spec.template.spec.containers[0].image} {.metadata.annotations.deployment\\.kubernetes\\.io/revision}{"\\n"}{end}']);
    return out.split('\n').filter((l) => l.trim() !== '').map((l) => {
      const [name = '', replicas = '', image = '', revision = ''] = l.split(' ');
      return { name, replicas: Number(replicas), image, revision };
    });
  };

  test('kubectl apply -f the scenario: six Pods Running, on node-2 and node-3 only, each with an IP', async () => {
    const out = await kubectl.ok(['apply', '-f', SCENARIO]);
    assert.match(out, /deployment.apps\/backend created/);
    const backend = await runningPods('app=backend', 3);
    const frontend = await runningPods('app=frontend', 3);
    for (const pod of [...backend, ...frontend]) {
      assert.ok(pod.node === 'node-2' || pod.node === 'node-3', `expected ${pod.name} on node-2 or node-3, got ${pod.node}`);
      assert.match(pod.ip, /^10\.244\.[12]\.\d+$/);
    }
    const used = new Set([...backend, ...frontend].map((p) => p.node));
    assert.deepEqual([...used].sort(), ['node-2', 'node-3'], 'expected the Pods spread across both workers');
  });

  test('kubectl rollout status deployment/backend says it successfully rolled out', async () => {
    const out = await kubectl.ok(['rollout', 'status', 'deployment/backend', '--timeout=60s'], { timeoutMs: 70_000 });
    assert.match(out, /deployment "backend" successfully rolled out/);
  });

  test('kubectl set image starts a rollout that rollout status follows to the end, leaving a second ReplicaSet', async () => {
    await kubectl.ok(['set', 'image', 'deployment/backend', 'backend=backend:v0.0.2']);
    const out = await kubectl.ok(['rollout', 'status', 'deployment/backend', '--timeout=90s'], { timeoutMs: 100_000 });
    assert.match(out, /deployment "backend" successfully rolled out/);
    const sets = await replicaSets('backend');
    assert.equal(sets.length, 2, `expected two ReplicaSets, got ${JSON.stringify(sets)}`);
    assert.deepEqual(sets.find((s) => s.image === 'backend:v0.0.2'), { ...sets.find((s) => s.image === 'backend:v0.0.2')!, replicas: 3, revision: '2' });
    assert.equal(sets.find((s) => s.image === 'backend:v0.0.1')?.replicas, 0);
    const running = await runningPods('app=backend', 3);
    const images = await kubectl.ok(['get', 'pods', '-l', 'app=backend', '-o', 'jsonpath={.items[*].spec.containers[0].image}']);
    assert.deepEqual(images.split(' ').sort(), ['backend:v0.0.2', 'backend:v0.0.2', 'backend:v0.0.2'], `pods: ${JSON.stringify(running)}`);
  });

  test('kubectl rollout undo goes back: the first ReplicaSet is scaled up again, as revision 3', async () => {
    const undo = await kubectl.ok(['rollout', 'undo', 'deployment/backend']);
    assert.match(undo, /deployment.apps\/backend rolled back/);
    const out = await kubectl.ok(['rollout', 'status', 'deployment/backend', '--timeout=90s'], { timeoutMs: 100_000 });
    assert.match(out, /successfully rolled out/);
    const sets = await replicaSets('backend');
    assert.equal(sets.length, 2, `expected the old ReplicaSet reused, not a third, got ${JSON.stringify(sets)}`);
    const first = sets.find((s) => s.image === 'backend:v0.0.1');
    assert.equal(first?.replicas, 3);
    assert.equal(first?.revision, '3');
    assert.equal(sets.find((s) => s.image === 'backend:v0.0.2')?.replicas, 0);
  });

  test('kubectl rollout history lists revisions 2 and 3 (revision 1 became 3)', async () => {
    const out = await kubectl.ok(['rollout', 'history', 'deployment/backend']);
    assert.match(out, /deployment.apps\/backend/);
    const revisions = rows(out).slice(1).map((c) => c[0]).filter((c) => /^\d+$/.test(c ?? ''));
    assert.deepEqual(revisions, ['2', '3'], out);
    const detail = await kubectl.ok(['rollout', 'history', 'deployment/backend', '--revision=2']);
    assert.match(detail, /backend:v0\.0\.2/);
  });

  test('kubectl scale deployment/frontend --replicas=5 gives five frontend Pods Running', async () => {
    const out = await kubectl.ok(['scale', 'deployment/frontend', '--replicas=5']);
    assert.match(out, /deployment.apps\/frontend scaled/);
    const running = await runningPods('app=frontend', 5);
    for (const pod of running) assert.notEqual(pod.node, 'node-1');
  });

  test('kubectl get events --sort-by=.lastTimestamp shows ScalingReplicaSet, then SuccessfulCreate, then Scheduled for the frontend', async () => {
    const table = rows(await kubectl.ok(['get', 'events', '--sort-by=.lastTimestamp']));
    const header = table[0]!;
    const reasonAt = header.indexOf('REASON');
    const objectAt = header.indexOf('OBJECT');
    assert.ok(reasonAt >= 0 && objectAt >= 0, `expected REASON and OBJECT columns, got ${header.join(' | ')}`);
    const listing = table.map((c) => c.join(' | ')).join('\n');
    for (const [reason, object] of [['ScalingReplicaSet', 'deployment/frontend'], ['SuccessfulCreate', 'replicaset/frontend-'], ['Scheduled', 'pod/frontend-']] as const) {
      assert.ok(table.some((c) => c[reasonAt] === reason && c[objectAt]?.startsWith(object)), `expected ${reason} on ${object} in:\n${listing}`);
    }
    // Why compare times, not rows: lastTimestamp has whole seconds, and kubectl
    // orders events of the same second arbitrarily (as against a real cluster);
    // what must hold is that each step of the chain is never later than the next.
    const sorted = JSON.parse(await kubectl.ok(['get', 'events', '--sort-by=.lastTimestamp', '-o', 'json'])) as { items: Array<{ reason: string; involvedObject: { kind: string; name: string }; firstTimestamp: string; lastTimestamp: string }> };
    const times = sorted.items.map((e) => Date.parse(e.lastTimestamp));
    assert.deepEqual(times, [...times].sort((a, b) => a - b), 'expected kubectl to list the events by lastTimestamp');
    const first = (reason: string, kind: string) => Math.min(...sorted.items.filter((e) => e.reason === reason && e.involvedObject.kind === kind && e.involvedObject.name.startsWith('frontend')).map((e) => Date.parse(e.firstTimestamp)));
    const [scaling, created, scheduled] = [first('ScalingReplicaSet', 'Deployment'), first('SuccessfulCreate', 'ReplicaSet'), first('Scheduled', 'Pod')];
    assert.ok(scaling <= created && created <= scheduled, `expected ScalingReplicaSet (${scaling}) <= SuccessfulCreate (${created}) <= Scheduled (${scheduled}):\n${listing}`);
  });

  test('kubectl describe pod shows the Scheduled event: assigned to a worker by the default scheduler', async () => {
    const [pod] = await pods('app=backend');
    assert.ok(pod, 'expected a backend pod');
    const out = await kubectl.ok(['describe', 'pod', pod.name]);
    assert.match(out, new RegExp(`Normal\\s+Scheduled\\s+\\S+\\s+default-scheduler\\s+Successfully assigned default/${pod.name} to ${pod.node}`));
    assert.match(out, /^Node:\s+node-[23]\/172\.18\.0\.\d+$/m);
    assert.match(out, /^Status:\s+Running$/m);
  });

  test('kubectl get endpoints backend lists the IPs the hollow nodes gave the three backend Pods, on port 8080', async () => {
    const out = await eventually('three backend endpoints', async () => {
      const text = await kubectl.ok(['get', 'endpoints', 'backend', '-o', 'jsonpath={range .subsets[*].addresses[*]}{.ip}{" "}{end}{.subsets[0].ports[0].port}']);
      const ips = text.trim().split(' ');
      if (ips.length === 4) return ips;
      throw new Error(text);
    });
    const podIPs = (await pods('app=backend')).map((p) => p.ip).sort();
    assert.deepEqual(out.slice(0, 3).sort(), podIPs);
    assert.equal(out[3], '8080');
  });

  test('kubectl delete pod returns once the hollow node confirms the deletion, and the ReplicaSet replaces the Pod', async () => {
    const [victim] = await pods('app=frontend');
    assert.ok(victim, 'expected a frontend pod');
    // Why this shows the node at work: kubectl delete waits until the Pod is gone, which takes the kubelet's confirmation (else 30 s).
    const out = await kubectl.ok(['delete', 'pod', victim.name, '--timeout=20s'], { timeoutMs: 30_000 });
    assert.match(out, new RegExp(`pod "${victim.name}" deleted`));
    const running = await runningPods('app=frontend', 5);
    assert.ok(!running.some((p) => p.name === victim.name));
  });

  test('a Job whose hollow Pods exit 0 after a second completes: kubectl wait --for=condition=complete', async () => {
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'report' },
      spec: {
        completions: 3,
        parallelism: 2,
        template: { metadata: { annotations: { [EXIT_AFTER_ANNOTATION]: '1' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'report', image: 'report:1' }] } },
      },
    };
    await kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(job) });
    const out = await kubectl.ok(['wait', '--for=condition=complete', 'job/report', '--timeout=60s'], { timeoutMs: 70_000 });
    assert.match(out, /job.batch\/report condition met/);
    const table = rows(await kubectl.ok(['get', 'pods', '-l', 'job-name=report']));
    assert.equal(table.length - 1, 3, table.map((c) => c.join(' ')).join('\n'));
    for (const row of table.slice(1)) assert.equal(row[2], 'Completed', row.join(' '));
  });

  test('kubectl get nodes: node-1 has the control-plane role and every node is Ready', async () => {
    const table = rows(await kubectl.ok(['get', 'nodes']));
    assert.deepEqual(table[0], ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
    assert.deepEqual(table.slice(1).map((c) => [c[0], c[1], c[2]]), [
      ['node-1', 'Ready', 'control-plane'],
      ['node-2', 'Ready', '<none>'],
      ['node-3', 'Ready', '<none>'],
    ]);
  });

  test('a Pod asking for more cpu than any node has stays Pending, and describe shows FailedScheduling with the reasons per node', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'too-big' },
      spec: { containers: [{ name: 'big', image: 'backend:v0.0.1', resources: { requests: { cpu: '16' } } }] },
    };
    await kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(pod) });
    const out = await eventually('FailedScheduling in describe', async () => {
      const text = await kubectl.ok(['describe', 'pod', 'too-big']);
      if (/FailedScheduling/.test(text)) return text;
      throw new Error(text);
    }, 60_000, 250);
    assert.match(out, /^Status:\s+Pending$/m);
    assert.match(out, /Warning\s+FailedScheduling\s+\S+\s+default-scheduler\s+0\/3 nodes are available: /);
    assert.match(out, /1 node\(s\) had untolerated taint \{node-role\.kubernetes\.io\/control-plane: \}/);
    assert.match(out, /2 Insufficient cpu/);
  });
});
