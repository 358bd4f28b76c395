import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Pod } from '../api/types.ts';
import { RESOURCE } from '../controllers/informers.ts';
import { projectRoot } from '../workbook/root.ts';
import { startTestCluster } from '../../test/helpers/apiserver.ts';
import { eventually } from './test-helpers.ts';

describe('the scheduler process', () => {
  it('Schedules with the identity of scheduler.conf and stops cleanly on SIGTERM.', { timeout: 60_000 }, async () => {
    const cluster = await startTestCluster();
    const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'lib/scheduler/main.ts'), '--kubeconfig', join(cluster.dir, 'scheduler.conf')], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await eventually(() => output.includes('scheduler running as system:kube-scheduler'), () => `the scheduler to start; its output: ${output}`);
      const offered = { cpu: '2', memory: '4Gi', pods: '110' };
      await cluster.admin.create(RESOURCE.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-2' }, status: { capacity: offered, allocatable: offered } });
      await cluster.admin.create(RESOURCE.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { containers: [{ name: 'web', image: 'nginx' }] } });
      await eventually(async () => (await cluster.admin.get<Pod>(RESOURCE.pods, 'default', 'web')).spec.nodeName === 'node-2', 'the pod bound to node-2');
      await eventually(() => output.includes('Successfully assigned default/web to node-2'), () => `the Scheduled event in the output: ${output}`);
      child.kill('SIGTERM');
      assert.equal(await exited, 0, `expected exit code 0; output: ${output}`);
      assert.match(output, /SIGTERM: stopping the scheduler/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await cluster.stop();
    }
  });

  it('Refuses to start without a kubeconfig.', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'lib/scheduler/main.ts')], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBECONFIG: '' } });
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(code, 2);
    assert.match(output, /expected --kubeconfig FILE/);
  });
});
