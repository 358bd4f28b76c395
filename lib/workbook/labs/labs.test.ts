import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runLab } from '../lab.ts';
import { collectingWriter } from '../output.ts';

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
});
