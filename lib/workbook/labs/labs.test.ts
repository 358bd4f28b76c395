import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { runLab } from '../lab.ts';
import { collectingWriter } from '../output.ts';
import { requireRealMode } from '../realmode.ts';

// The real labs, run end to end with the worked solutions (a learner's own
// files in labs/ are never run by the test suite, so their edits cannot fail it).
describe('the labs run end to end with the worked solutions', () => {
  test('lab 2 applies the scenario, watches, and shows 409, 422, 403 and the missing controllers', async () => {
    const out = collectingWriter();
    const result = await runLab(2, { solutions: true }, out.write);
    const text = out.text();
    assert.equal(result.ok, true, `lab 2 failed at step ${result.failedStep}: ${String(result.error)}\n${text}`);
    assert.equal(result.stepsCompleted, 7);
    assert.match(text, /deployment\/backend created at resourceVersion \d+/);
    assert.match(text, /authenticating -> authorizing -> decoding -> admitting -> validating -> storing -> responding/);
    assert.match(text, /\/registry\/services\/specs\/default\/backend/);
    assert.match(text, /MODIFIED\s+backend resourceVersion=\d+ replicas=5/);
    assert.match(text, /DELETED\s+frontend/);
    assert.match(text, /Error from server \(Conflict\): Operation cannot be fulfilled on deployments\.apps "backend"/);
    assert.match(text, /Error from server \(Invalid\): Deployment\.apps "Web_1" is invalid: metadata\.name/);
    assert.match(text, /Error from server \(Forbidden\): deployments\.apps "backend" is forbidden: User "system:kube-proxy" cannot delete/);
    assert.match(text, /replicasets: No resources found in default namespace\./);
    assert.match(text, /pods: No resources found in default namespace\./);
  });
  test('lab 3 builds ReplicaSets and Pending Pods, heals, scales, stalls a rollout and rolls it back', async () => {
    const out = collectingWriter();
    const result = await runLab(3, { solutions: true }, out.write);
    const text = out.text();
    assert.equal(result.ok, true, `lab 3 failed at step ${result.failedStep}: ${String(result.error)}\n${text}`);
    assert.equal(result.stepsCompleted, 7);
    assert.match(text, /backend-[a-z0-9]{8,10}\s+3\s+3\s+1\s+backend:v0\.0\.1/);
    assert.match(text, /backend-[a-z0-9]+-[a-z0-9]{5}\s+Pending\s+<none>\s+ReplicaSet\/backend-/);
    assert.match(text, /"updatedReplicas": 1,\s+"availableReplicas": 0/);
    assert.match(text, /backend-[a-z0-9]+\s+3\s+3\s+3\s+backend:v0\.0\.1/, 'the first ReplicaSet comes back as revision 3');
    assert.match(text, /ScalingReplicaSet\s+deployment\/backend\s+Scaled up replica set backend-[a-z0-9]+ from 3 to 5/);
    assert.match(text, /SuccessfulDelete\s+replicaset\/backend-[a-z0-9]+\s+Deleted pod: backend-/);
    assert.match(text, /7 of 7 Pods have no node/);
  });

  test('lab 4 places the Pods on node-2 and node-3, explains node-1, and completes a rollout', async () => {
    const out = collectingWriter();
    const result = await runLab(4, { solutions: true }, out.write);
    const text = out.text();
    assert.equal(result.ok, true, `lab 4 failed at step ${result.failedStep}: ${String(result.error)}\n${text}`);
    assert.equal(result.stepsCompleted, 7);
    assert.match(text, /pods per node: node-2: 3, node-3: 3/);
    assert.match(text, /node-1\s+node\(s\) had untolerated taint \{node-role\.kubernetes\.io\/control-plane: \}/);
    assert.match(text, /0\/3 nodes are available: 1 node\(s\) had untolerated taint \{node-role\.kubernetes\.io\/control-plane: \}, 2 Insufficient cpu\./);
    assert.match(text, /on-node-1\s+Running\s+1\/1\s+[0-9.]+\s+node-1/);
    assert.match(text, /deployment "backend" successfully rolled out/);
    assert.doesNotMatch(text.slice(text.indexOf('What is still missing')), /node-1\n/);
  });

  test('lab 5 runs the scenario on kubelets: Pods Running and Ready with IPs, logs, CrashLoopBackOff, a liveness restart, and a graceful deletion', async () => {
    const out = collectingWriter();
    const result = await runLab(5, { solutions: true }, out.write);
    const text = out.text();
    assert.equal(result.ok, true, `lab 5 failed at step ${result.failedStep}: ${String(result.error)}\n${text}`);
    assert.equal(result.stepsCompleted, 11);
    assertLab5(text);
    assert.match(text, /node-2\s+Ready\s+172\.18\.0\.3\s+10\.244\.1\.0\/24\s+sim:\/\/0\.1\.0/);
    assert.match(text, /over the sim network\s+\(backend-[a-z0-9]+-[a-z0-9]{5}\): \{"pod":"backend-/);
    assert.match(text, /polite\s+exit 143 \(Error\)/);
    // Why 137: the sick container is sh as PID 1, which has no SIGTERM handler; it is killed when its grace period is over.
    assert.match(text, /last state of its container: Terminated: exit code 137/);
  });
});

/** What lab 5 shows in both modes. */
function assertLab5(text: string): void {
  assert.match(text, /etcd-node-1\s+1\/1\s+Running\s+0\s+172\.18\.0\.2\s+node-1/);
  assert.match(text, /kube-scheduler-node-1\s+1\/1\s+Running/);
  assert.match(text, /\+\d+\.\ds\s+Pending\s+ready 0\/1\s+node <none>/);
  assert.match(text, /Running\s+ready 1\/1\s+node node-[23]\s+ip 10\.244\.[12]\.\d+/);
  const pods = [...text.matchAll(/^\s+((?:backend|frontend)-[a-z0-9]+-[a-z0-9]{5})\s+1\/1\s+Running\s+0\s+(10\.244\.\d+\.\d+)\s+(node-\d)$/gm)];
  assert.ok(pods.length >= 6, `expected the six scenario Pods Running and Ready in a table, got ${pods.length}`);
  for (const [, name, ip, node] of pods) assert.equal(ip!.split('.')[2], String(Number(node!.slice(5)) - 1), `${name}'s IP ${ip} is from ${node}'s range`);
  assert.match(text, /<p>Backend \(http:\/\/backend\) said \(error\):<\/p>/);
  assert.match(text, /kubectl logs hello:\n\s+hello from a container\n\s+this is its second line/);
  assert.match(text, /CrashLoopBackOff\s+1\s+exit 0 \(Completed\)\s+back-off 10s restarting failed container=main pod=crasher_default/);
  assert.match(text, /CrashLoopBackOff\s+2\s+exit 0 \(Completed\)\s+back-off 20s restarting failed container=main pod=crasher_default/);
  assert.match(text, /Warning\s+BackOff\s+kubelet\s+Back-off restarting failed container main in pod crasher_default/);
  assert.match(text, /Warning\s+Unhealthy\s+kubelet\s+Liveness probe failed: cat: can't open '\/tmp\/healthy'/);
  assert.match(text, /Normal\s+Killing\s+kubelet\s+Container main failed liveness probe, will be restarted/);
  assert.match(text, /last state of its container: Terminated: exit code (143|137) \(Error\)/);
  assert.match(text, /stubborn\s+exit 137 \(Error\)/);
  assert.match(text, /Normal\s+Killing\s+kubelet\s+Stopping container main/);
  assert.match(text.slice(text.indexOf('What is still missing')), /frontend cannot reach its backend/);
}

const run = promisify(execFile);
const real = requireRealMode(['runc', 'ip', 'cni-bridge', 'cni-host-local', 'cni-loopback', 'busybox']);

describe('lab 5 in real mode', real, () => {
  test('runs the six scenario Pods as runc containers that curl reaches, and leaves no namespace, bridge or mount behind', async () => {
    const out = collectingWriter();
    const result = await runLab(5, { solutions: true, real: true }, out.write);
    const text = out.text();
    assert.equal(result.ok, true, `lab 5 --real failed at step ${result.failedStep}: ${String(result.error)}\n${text}`);
    assert.equal(result.stepsCompleted, 11);
    assertLab5(text);
    assert.match(text, /node-2\s+Ready\s+172\.18\.0\.3\s+10\.244\.1\.0\/24\s+runc:\/\//);
    assert.match(text, /node-1\s+Ready\s+172\.18\.0\.2\s+10\.244\.0\.0\/24\s+sim:\/\//);
    assert.match(text, /curl -sS http:\/\/10\.244\.\d+\.\d+:8080\/\s+\((backend-[a-z0-9]+-[a-z0-9]{5})\): \{"pod": ?"\1"/);
    assert.match(text, /curl -sS http:\/\/10\.244\.\d+\.\d+:3000\/[\s\S]*<h1>frontend v0\.0\.1<\/h1>/);
    assert.match(text, /ip netns list \(this cluster's namespaces\):\n\s+kbsn[23]-[a-z0-9]+/);
    assert.match(text, /runc --root \S+\/node-2\/runtime\/runc list:\n\s+ID\s+PID\s+STATUS/);
    assert.match(text, /polite\s+exit 143 \(Error\)/);
    // Checked again here, after the lab's own check: nothing of the cluster is left on the host.
    const netns = (await run('ip', ['netns', 'list'])).stdout;
    assert.doesNotMatch(netns, /^kbsn[123]-/m);
    const links = (await run('ip', ['-o', 'link', 'show'])).stdout;
    assert.doesNotMatch(links, /^\d+: kbs-n[123][:@]/m);
    const runcRoot = /runc --root (\S+) list/.exec(text)?.[1] ?? '';
    assert.ok(runcRoot !== '', 'the lab names its runc root');
    const clusterDir = runcRoot.slice(0, runcRoot.indexOf('/cluster/') + '/cluster'.length);
    assert.doesNotMatch(await readFile('/proc/self/mounts', 'utf8'), new RegExp(` ${clusterDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`));
  });
});
