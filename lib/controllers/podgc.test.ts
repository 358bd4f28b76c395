import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Pod } from '../api/types.ts';
import { RESOURCE } from './informers.ts';
import { PodGarbageCollector } from './podgc.ts';
import { getOrUndefined, registerNode, runController, startControllerTestCluster, testPod, waitFor, type ControllerTestCluster } from './test-helpers.ts';

describe('the Pod garbage collector', () => {
  let cluster: ControllerTestCluster;
  before(async () => {
    cluster = await startControllerTestCluster();
  });
  after(() => cluster.stop());

  it('force-deletes Pods bound to a Node that was deleted, and leaves Pods on live Nodes alone', async () => {
    const admin = cluster.admin;
    await registerNode(admin, 'node-2');
    await registerNode(admin, 'node-3');
    await admin.create(RESOURCE.pods, testPod('on-2'));
    await admin.create(RESOURCE.pods, testPod('on-3'));
    await admin.bind('default', 'on-2', 'node-2');
    await admin.bind('default', 'on-3', 'node-3');
    const running = await runController(cluster, (ctx, options) => new PodGarbageCollector(ctx, options));
    try {
      await admin.delete(RESOURCE.nodes, undefined, 'node-2');
      await waitFor('the orphaned pod to be gone', async () => (await getOrUndefined<Pod>(admin, RESOURCE.pods, 'default', 'on-2')) === undefined);
      assert.ok(await getOrUndefined<Pod>(admin, RESOURCE.pods, 'default', 'on-3'), 'the Pod on a live node stays');
      assert.ok(running.trace.some((line) => line.includes('deleting orphaned pod default/on-2 (node node-2 is gone)')), running.trace.join('\n'));
    } finally {
      await running.stop();
    }
  });
});
