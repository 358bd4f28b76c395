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
});
