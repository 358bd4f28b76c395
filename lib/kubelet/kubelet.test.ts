import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Lease, Node, Pod } from '../api/types.ts';
import { RESOURCE } from '../controllers/informers.ts';
import { IGNORE_SIGTERM_ANNOTATION } from '../runtime/sim.ts';
import { startTestCluster, type TestCluster } from '../../test/helpers/apiserver.ts';
import { waitUntil } from '../workbook/waiting.ts';
import { boundPod, containerOf, eventCount, podEvents, podWhere, seen, startSimNode, type SimNode } from './test-helpers.ts';

let cluster: TestCluster;
const nodes: SimNode[] = [];

before(async () => {
  cluster = await startTestCluster({ nodeNames: ['adopt-1','away-1','bad-image-1','crash-1','del-1','finish-1','grace-1','live-1','orphan-1','pull-1','ready-1','reg-1','run-1','static-1','static-2'] });
});

after(async () => {
  for (const node of nodes) await node.stop().catch(() => {});
  await cluster.stop();
});

async function node(name: string, options: Parameters<typeof startSimNode>[2] = {}): Promise<SimNode> {
  const started = await startSimNode(cluster, name, options);
  nodes.push(started);
  return started;
}

const running = (pod: Pod) => pod.status?.phase === 'Running' && containerOf(pod)?.state?.running !== undefined;
const waitingReason = (pod: Pod) => containerOf(pod)?.state?.waiting?.reason;

describe('the kubelet registers its node', () => {
  it('creates a Ready Node with capacity, allocatable, addresses and the runtime it uses, and a Lease it holds.', async () => {
    await node('reg-1', { capacity: { cpu: '4', memory: '8Gi', pods: '110' }, address: '172.18.0.9' });
    const registered = await cluster.admin.get<Node>(RESOURCE.nodes, undefined, 'reg-1');
    assert.equal(registered.status?.capacity?.memory, '8Gi');
    assert.equal(registered.status?.allocatable?.memory, `${8 * 1024 * 1024 - 100 * 1024}Ki`, 'allocatable keeps the 100Mi eviction threshold back');
    assert.equal(registered.status?.allocatable?.cpu, '4');
    assert.deepEqual(registered.status?.addresses, [{ type: 'InternalIP', address: '172.18.0.9' }, { type: 'Hostname', address: 'reg-1' }]);
    assert.equal(registered.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal(registered.status?.nodeInfo?.containerRuntimeVersion, 'sim://0.1.0');
    assert.equal(registered.status?.nodeInfo?.kubeletVersion, 'v1.32.0');
    const lease = await cluster.admin.get<Lease>(RESOURCE.leases, 'kube-node-lease', 'reg-1');
    assert.equal(lease.spec?.holderIdentity, 'reg-1');
  });
});

describe('the kubelet runs the Pods bound to it', () => {
  it('takes a Pod from ContainerCreating to Running and Ready, with a Pod IP from the node\'s range and the events kubectl describe shows.', async () => {
    const n = await node('run-1', { podCIDR: '10.244.5.0/24' });
    await cluster.admin.create(RESOURCE.pods, boundPod('web-1', 'run-1'));
    const pod = await podWhere(cluster.admin, 'web-1', 'Running and Ready', (p) => running(p) && p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True');
    assert.match(pod.status?.podIP ?? '', /^10\.244\.5\.\d+$/);
    assert.match(containerOf(pod)?.containerID ?? '', /^sim:\/\//);
    assert.equal(containerOf(pod)?.restartCount, 0);
    const reply = await n.runtime.httpGet(pod.status!.podIP!, 8080, '/');
    assert.match(reply.body, /"pod":\s*"web-1"/, 'the backend answers, naming its Pod');
    await n.kubelet.whenIdle();
    const events = await podEvents(cluster.admin, 'web-1');
    assert.deepEqual(events.map((e) => e.split(':')[0]), ['Pulling', 'Pulled', 'Created', 'Started']);
    assert.ok(events.includes('Started: Started container app'), events.join('\n'));
  });

  it('restarts a container that exits: at once the first time, then after 10 s, then 20 s (CrashLoopBackOff), while the other Pods of the node run on.', async () => {
    const n = await node('crash-1');
    await cluster.admin.create(RESOURCE.pods, boundPod('steady', 'crash-1'));
    await cluster.admin.create(RESOURCE.pods, boundPod('crashy', 'crash-1', { containers: [{ name: 'app', image: 'busybox', command: ['sh', '-c', 'echo starting; exit 1'] }] }));
    await seen(n, cluster.admin, 'crashy');
    await n.advance(2000);
    let pod = await podWhere(cluster.admin, 'crashy', 'in CrashLoopBackOff after its second exit', (p) => waitingReason(p) === 'CrashLoopBackOff');
    assert.equal(containerOf(pod)?.restartCount, 1, 'the first exit is restarted at once');
    assert.match(containerOf(pod)?.state?.waiting?.message ?? '', /^back-off 10s restarting failed container=app pod=crashy_default\(/);
    assert.equal(containerOf(pod)?.lastState?.terminated?.exitCode, 1);
    assert.equal(pod.status?.phase, 'Running', 'a Pod between restarts under Always is Running');
    // Why 8 s: the second exit came 1 s into the test (noticed by the relist at 2 s); its 10 s run from the exit.
    await n.advance(8000);
    assert.equal(containerOf(await cluster.admin.get<Pod>(RESOURCE.pods, 'default', 'crashy'))?.restartCount, 1, 'no restart before the 10 s are over');
    await n.advance(2000);
    pod = await podWhere(cluster.admin, 'crashy', 'restarted a second time, now backing off 20 s', (p) => containerOf(p)?.restartCount === 2 && /back-off 20s/.test(containerOf(p)?.state?.waiting?.message ?? ''));
    const steady = await cluster.admin.get<Pod>(RESOURCE.pods, 'default', 'steady');
    assert.equal(containerOf(steady)?.restartCount, 0);
    assert.ok(running(steady), 'the other Pod is untouched');
    const events = await podEvents(cluster.admin, 'crashy');
    assert.ok(events.some((e) => /^BackOff: Back-off restarting failed container app in pod crashy_default/.test(e)), events.join('\n'));
  });

  it('reports ErrImagePull, then ImagePullBackOff, naming the image, and tries again after the back-off.', async () => {
    const n = await node('pull-1');
    await cluster.admin.create(RESOURCE.pods, boundPod('nope', 'pull-1', { containers: [{ name: 'app', image: 'registry.example/nosuch:v9' }] }));
    await seen(n, cluster.admin, 'nope');
    let pod = await podWhere(cluster.admin, 'nope', 'ErrImagePull', (p) => waitingReason(p) === 'ErrImagePull');
    assert.match(containerOf(pod)?.state?.waiting?.message ?? '', /registry\.example\/nosuch:v9/);
    assert.equal(pod.status?.phase, 'Pending');
    await n.advance(1000);
    pod = await podWhere(cluster.admin, 'nope', 'ImagePullBackOff', (p) => waitingReason(p) === 'ImagePullBackOff');
    assert.match(containerOf(pod)?.state?.waiting?.message ?? '', /^Back-off pulling image "registry\.example\/nosuch:v9"/);
    assert.equal(await eventCount(cluster.admin, 'nope', 'Pulling'), 1);
    await n.advance(10_000);
    await waitUntil('a second pull', async () => (await eventCount(cluster.admin, 'nope', 'Pulling')) === 2);
  });

  it('refuses an image name that tries to leave the image store, with InvalidImageName.', async () => {
    const n = await node('bad-image-1');
    await cluster.admin.create(RESOURCE.pods, boundPod('escape', 'bad-image-1', { containers: [{ name: 'app', image: '../../etc/passwd' }] }));
    await n.advance(0);
    const pod = await podWhere(cluster.admin, 'escape', 'InvalidImageName', (p) => waitingReason(p) === 'InvalidImageName');
    assert.match(containerOf(pod)?.state?.waiting?.message ?? '', /\.\.\/\.\.\/etc\/passwd/);
  });

  it('ends a Pod under restartPolicy Never as Succeeded or Failed by its exit codes, and OnFailure restarts only a failure.', async () => {
    const n = await node('finish-1');
    const once = (name: string, script: string, restartPolicy: 'Never' | 'OnFailure') => cluster.admin.create(RESOURCE.pods, boundPod(name, 'finish-1', { restartPolicy, containers: [{ name: 'app', image: 'busybox', command: ['sh', '-c', script] }] }));
    await once('ok-never', 'echo done', 'Never');
    await once('bad-never', 'exit 3', 'Never');
    await once('ok-onfailure', 'true', 'OnFailure');
    await once('bad-onfailure', 'exit 2', 'OnFailure');
    for (const name of ['ok-never', 'bad-never', 'ok-onfailure', 'bad-onfailure']) await seen(n, cluster.admin, name);
    await n.advance(3000);
    const okNever = await podWhere(cluster.admin, 'ok-never', 'Succeeded', (p) => p.status?.phase === 'Succeeded');
    assert.equal(containerOf(okNever)?.state?.terminated?.reason, 'Completed');
    const badNever = await podWhere(cluster.admin, 'bad-never', 'Failed', (p) => p.status?.phase === 'Failed');
    assert.equal(containerOf(badNever)?.state?.terminated?.exitCode, 3);
    assert.equal(containerOf(badNever)?.state?.terminated?.reason, 'Error');
    await podWhere(cluster.admin, 'ok-onfailure', 'Succeeded', (p) => p.status?.phase === 'Succeeded');
    const badOnFailure = await podWhere(cluster.admin, 'bad-onfailure', 'restarted', (p) => (containerOf(p)?.restartCount ?? 0) >= 1);
    assert.equal(badOnFailure.status?.phase, 'Running');
  });
});

describe('probes', () => {
  it('restarts a container whose exec liveness probe fails three times in a row, with Unhealthy and Killing events; sh as PID 1 ignores SIGTERM, so it is killed after the grace period.', async () => {
    const n = await node('live-1');
    await cluster.admin.create(
      RESOURCE.pods,
      boundPod('sick', 'live-1', {
        terminationGracePeriodSeconds: 2,
        containers: [{ name: 'app', image: 'busybox', command: ['sh', '-c', 'touch /tmp/healthy; sleep 5; rm /tmp/healthy; sleep 3600'], livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 5 } }],
      }),
    );
    await seen(n, cluster.admin, 'sick');
    await podWhere(cluster.admin, 'sick', 'running', running);
    await n.advance(30_000);
    const pod = await podWhere(cluster.admin, 'sick', 'restarted by its liveness probe', (p) => (containerOf(p)?.restartCount ?? 0) >= 1);
    assert.equal(containerOf(pod)?.lastState?.terminated?.exitCode, 137, 'killed with SIGKILL when the 2 s were over');
    const events = await podEvents(cluster.admin, 'sick');
    assert.ok(events.some((e) => /^Unhealthy: Liveness probe failed/.test(e)), events.join('\n'));
    assert.ok(events.includes('Killing: Container app failed liveness probe, will be restarted'), events.join('\n'));
  });

  it('keeps a running container out of Ready until its readiness probe passes, and never when it cannot.', async () => {
    const n = await node('ready-1');
    const pod = (name: string, port: number) => boundPod(name, 'ready-1', { containers: [{ name: 'app', image: 'backend:v0.0.1', readinessProbe: { httpGet: { path: '/', port }, periodSeconds: 2 } }] });
    await cluster.admin.create(RESOURCE.pods, pod('ready-ok', 8080));
    await cluster.admin.create(RESOURCE.pods, pod('ready-never', 9999));
    await seen(n, cluster.admin, 'ready-ok');
    await seen(n, cluster.admin, 'ready-never');
    const before = await podWhere(cluster.admin, 'ready-ok', 'running', running);
    assert.equal(containerOf(before)?.ready, false, 'not ready before the first probe');
    await n.advance(4000);
    await podWhere(cluster.admin, 'ready-ok', 'Ready', (p) => containerOf(p)?.ready === true && p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True');
    await n.advance(10_000);
    const never = await podWhere(cluster.admin, 'ready-never', 'running but not ready', (p) => running(p));
    assert.equal(containerOf(never)?.ready, false);
    assert.equal(never.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'ContainersNotReady');
  });
});

describe('deleting a Pod', () => {
  it('stops its containers with SIGTERM, confirms the deletion, and leaves nothing in the runtime.', async () => {
    const n = await node('del-1');
    await cluster.admin.create(RESOURCE.pods, boundPod('gone', 'del-1'));
    await n.advance(0);
    await podWhere(cluster.admin, 'gone', 'running', running);
    await cluster.admin.delete(RESOURCE.pods, 'default', 'gone', {});
    await waitUntil('the Pod is gone from the API server', async () => !(await cluster.admin.get(RESOURCE.pods, 'default', 'gone').catch(() => undefined)));
    assert.deepEqual(await n.runtime.listPodSandboxes(), []);
    assert.deepEqual(await n.runtime.listContainers(), []);
    assert.ok((await podEvents(cluster.admin, 'gone')).includes('Killing: Stopping container app'));
  });

  it('kills a container that ignores SIGTERM only when the grace period is over (exit 137).', async () => {
    const n = await node('grace-1');
    await cluster.admin.create(RESOURCE.pods, boundPod('stubborn', 'grace-1', { terminationGracePeriodSeconds: 20 }, { [IGNORE_SIGTERM_ANNOTATION]: 'true' }));
    await n.advance(0);
    await podWhere(cluster.admin, 'stubborn', 'running', running);
    const [container] = await n.runtime.listContainers();
    await cluster.admin.delete(RESOURCE.pods, 'default', 'stubborn', {});
    await waitUntil('the kubelet to start terminating', async () => n.kubelet.workerState(container!.labels['io.kubernetes.pod.uid']!) === 'terminating');
    await n.advance(15_000);
    assert.ok(await cluster.admin.get(RESOURCE.pods, 'default', 'stubborn'), 'still there 15 s into a 20 s grace period');
    assert.equal((await n.runtime.containerStatus(container!.id)).state, 'CONTAINER_RUNNING');
    await n.advance(6000);
    await waitUntil('the Pod is gone', async () => !(await cluster.admin.get(RESOURCE.pods, 'default', 'stubborn').catch(() => undefined)));
  });
});

describe('a kubelet that restarts', () => {
  it('adopts the containers it was running: no restart, the same container, nothing started twice.', async () => {
    const first = await node('adopt-1');
    await cluster.admin.create(RESOURCE.pods, boundPod('kept', 'adopt-1'));
    await first.advance(0);
    const before = await podWhere(cluster.admin, 'kept', 'running', running);
    await first.stop();
    const second = await node('adopt-1', { runtime: first.runtime, clock: first.clock });
    await second.advance(3000);
    const after = await cluster.admin.get<Pod>(RESOURCE.pods, 'default', 'kept');
    assert.equal(containerOf(after)?.containerID, containerOf(before)?.containerID);
    assert.equal(containerOf(after)?.restartCount, 0);
    assert.equal((await second.runtime.listContainers()).length, 1, 'one container, not two');
    assert.equal((await podEvents(cluster.admin, 'kept')).filter((e) => e.startsWith('Started')).length, 1);
  });

  it('removes the sandbox and containers of a Pod deleted while it was away (the orphan).', async () => {
    const first = await node('orphan-1');
    await cluster.admin.create(RESOURCE.pods, boundPod('left', 'orphan-1'));
    await cluster.admin.create(RESOURCE.pods, boundPod('stays', 'orphan-1'));
    await first.advance(0);
    await podWhere(cluster.admin, 'left', 'running', running);
    await podWhere(cluster.admin, 'stays', 'running', running);
    await first.stop();
    await cluster.admin.delete(RESOURCE.pods, 'default', 'left', { gracePeriodSeconds: 0 });
    const second = await node('orphan-1', { runtime: first.runtime, clock: first.clock });
    await second.advance(1000);
    const sandboxes = await second.runtime.listPodSandboxes();
    assert.deepEqual(sandboxes.map((s) => s.metadata.name), ['stays']);
    assert.deepEqual((await second.runtime.listContainers()).map((c) => c.labels['io.kubernetes.pod.name']), ['stays']);
  });

  it('finishes the graceful deletion of a Pod deleted while it was away.', async () => {
    const first = await node('away-1');
    await cluster.admin.create(RESOURCE.pods, boundPod('while-away', 'away-1'));
    await first.advance(0);
    await podWhere(cluster.admin, 'while-away', 'running', running);
    await first.stop();
    await cluster.admin.delete(RESOURCE.pods, 'default', 'while-away', {});
    assert.ok(await cluster.admin.get(RESOURCE.pods, 'default', 'while-away'), 'no kubelet confirms the deletion meanwhile');
    const second = await node('away-1', { runtime: first.runtime, clock: first.clock });
    await second.advance(0);
    await waitUntil('the Pod is gone', async () => !(await cluster.admin.get(RESOURCE.pods, 'default', 'while-away').catch(() => undefined)));
    assert.deepEqual(await second.runtime.listPodSandboxes(), []);
  });
});

describe('static Pods', () => {
  it('are adopted, not started twice, by a kubelet that restarts.', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'static-pods-'));
    try {
      writeFileSync(join(dir, 'web.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: backend:v0.0.1\n');
      const first = await node('static-2', { staticPodPath: dir });
      await first.advance(0);
      const before = await podWhere(cluster.admin, 'web-static-2', 'mirrored and Running', running);
      await first.stop();
      const second = await node('static-2', { staticPodPath: dir, runtime: first.runtime, clock: first.clock });
      await second.advance(3000);
      assert.equal((await second.runtime.listPodSandboxes()).length, 1, 'one sandbox, not two');
      assert.equal((await second.runtime.listContainers()).length, 1, 'one container, not two');
      const after = await cluster.admin.get<Pod>(RESOURCE.pods, 'default', 'web-static-2');
      assert.equal(containerOf(after)?.containerID, containerOf(before)?.containerID);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs the Pods in its manifest folder and mirrors each in the API server as <name>-<node>, owned by the Node.', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'static-pods-'));
    try {
      writeFileSync(join(dir, 'etcd.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd\n  namespace: kube-system\n  labels: {component: etcd, tier: control-plane}\nspec:\n  hostNetwork: true\n  containers:\n  - name: etcd\n    image: busybox\n    command: [sh, -c, "echo etcd starting; sleep 86400"]\n');
      writeFileSync(join(dir, 'broken.yaml'), 'kind: Pod\nmetadata: [oops\n');
      const n = await node('static-1', { staticPodPath: dir, address: '172.18.0.7' });
      await n.advance(0);
      const mirror = await podWhere(cluster.admin, 'etcd-static-1', 'mirrored and Running', running, 15_000, 'kube-system');
      assert.ok(mirror.metadata.annotations?.['kubernetes.io/config.mirror']);
      assert.equal(mirror.metadata.annotations?.['kubernetes.io/config.source'], 'file');
      assert.equal(mirror.metadata.ownerReferences?.[0]?.kind, 'Node');
      assert.equal(mirror.metadata.ownerReferences?.[0]?.name, 'static-1');
      assert.equal(mirror.spec.nodeName, 'static-1');
      assert.equal(mirror.status?.podIP, '172.18.0.7', 'a hostNetwork Pod has the node\'s IP');
      // Deleting the mirror does not stop the static Pod: the kubelet makes the mirror again.
      await cluster.admin.delete(RESOURCE.pods, 'kube-system', 'etcd-static-1', {});
      await n.advance(11_000);
      const again = await podWhere(cluster.admin, 'etcd-static-1', 'mirrored again', (p) => p.metadata.uid !== mirror.metadata.uid && !p.metadata.deletionTimestamp, 15_000, 'kube-system');
      assert.ok(again);
      assert.equal((await n.runtime.listContainers()).filter((c) => c.state === 'CONTAINER_RUNNING').length, 1, 'the static Pod kept running');
      // Removing the manifest stops the Pod and removes its mirror.
      unlinkSync(join(dir, 'etcd.yaml'));
      // Why 21 s and then 31 s: the folder is read every 20 s, and sh as PID 1 ignores SIGTERM, so its 30 s grace period runs out.
      await n.advance(21_000);
      await n.advance(31_000);
      await waitUntil('the mirror Pod is gone', async () => !(await cluster.admin.get(RESOURCE.pods, 'kube-system', 'etcd-static-1').catch(() => undefined)));
      await waitUntil('its sandbox is gone', async () => (await n.runtime.listPodSandboxes()).length === 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
