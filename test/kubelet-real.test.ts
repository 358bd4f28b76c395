/**
 * The kubelet as its own process on the runc runtime (Linux, root): real
 * containers in CNI-wired network namespaces. The failure cases the chapter
 * promises: a kubelet killed with SIGKILL and started again adopts its
 * running containers (no restart, none twice); a Pod deleted while it was
 * down has its containers, mounts and network namespace removed when it
 * comes back; after the Pods are deleted nothing is left; an unknown image
 * gives ErrImagePull then ImagePullBackOff; an image name that tries to
 * escape the image store is refused; a crash loop backs off while the rest
 * of the node runs on.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Pod } from '../lib/api/types.ts';
import { RESOURCE } from '../lib/controllers/informers.ts';
import { boundPod, containerOf, podWhere } from '../lib/kubelet/test-helpers.ts';
import { RuncRuntime } from '../lib/runtime/runc.ts';
import { projectRoot } from '../lib/workbook/root.ts';
import { requireRealMode } from '../lib/workbook/realmode.ts';
import { waitUntil } from '../lib/workbook/waiting.ts';
import { startTestCluster, type TestCluster } from './helpers/apiserver.ts';
import { httpGet } from './helpers/http.ts';

const NODE = 'node-2';
const BRIDGE = 'kbskt0';
const PREFIX = 'kbskt-';
const CIDR = '10.253.0.0/24';

let cluster: TestCluster;
let root: string;
let kubelet: ChildProcess | undefined;
let output = '';
let runtime: RuncRuntime;

function startKubeletProcess(): Promise<void> {
  output = '';
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(projectRoot, 'lib/kubelet/main.ts'), '--kubeconfig', cluster.componentKubeconfigs[`kubelet-${NODE}`]!, '--name', NODE, '--runtime', 'runc', '--root-dir', root, '--pod-cidr', CIDR, '--bridge', BRIDGE, '--netns-prefix', PREFIX, '--trace'],
    { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  kubelet = child;
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return waitUntil('the kubelet process to say it runs', async () => /^kubelet node-2 running/m.test(output), 30_000).then(() => {}, (error: Error) => {
    throw new Error(`${error.message}; it printed:\n${output}`);
  });
}

function killKubelet(): Promise<void> {
  const child = kubelet;
  kubelet = undefined;
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(file, args, (error, stdout) => (error ? reject(error) : resolve(stdout))));
}

/** The network namespaces of this test's runtime. */
async function ourNamespaces(): Promise<string[]> {
  return (await run('ip', ['netns', 'list'])).split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(PREFIX));
}

/** Links enslaved to our bridge (the Pods' veths). */
async function ourVeths(): Promise<string[]> {
  if (!(await run('ip', ['-o', 'link', 'show'])).includes(`${BRIDGE}:`)) return [];
  return (await run('ip', ['-o', 'link', 'show', 'master', BRIDGE])).split('\n').filter((l) => l.trim() !== '');
}

function ourMounts(): string[] {
  return readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.includes(` ${root}/`));
}

/** host-local's allocations: one file per IP handed out. */
function allocatedIps(): string[] {
  const dir = join(root, 'cni', 'networks');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true }).map(String).filter((f) => /\d+\.\d+\.\d+\.\d+$/.test(f));
}

const real = requireRealMode(['runc', 'ip', 'cni-bridge', 'cni-host-local', 'cni-loopback', 'busybox']);

describe('the kubelet on runc, as its own process', real, () => {
  before(async () => {
    cluster = await startTestCluster({ nodeNames: [NODE] });
    root = mkdtempSync('/tmp/kubelet-real-');
    runtime = new RuncRuntime({ stateDir: root, podCIDR: CIDR, bridge: BRIDGE, netnsPrefix: PREFIX });
    await startKubeletProcess();
  });

  after(async () => {
    await killKubelet();
    await runtime?.cleanup().catch(() => {});
    await cluster?.stop();
    if (root && ourMounts().length === 0) rmSync(root, { recursive: true, force: true });
  });

  test('runs a backend Pod that answers on its Pod IP naming itself, and reports the failures in the words of the real kubelet', async () => {
    await cluster.admin.create(RESOURCE.pods, boundPod('web', NODE));
    await cluster.admin.create(RESOURCE.pods, boundPod('crashy', NODE, { containers: [{ name: 'app', image: 'busybox', command: ['sh', '-c', 'echo crashing; exit 1'] }] }));
    await cluster.admin.create(RESOURCE.pods, boundPod('nope', NODE, { containers: [{ name: 'app', image: 'registry.example/nosuch:v9' }] }));
    await cluster.admin.create(RESOURCE.pods, boundPod('escape', NODE, { containers: [{ name: 'app', image: '../../../etc/passwd' }] }));
    const web = await podWhere(cluster.admin, 'web', 'Running and Ready', (p) => containerOf(p)?.ready === true, 30_000);
    assert.match(web.status?.podIP ?? '', /^10\.253\.0\.\d+$/);
    assert.match(containerOf(web)?.containerID ?? '', /^runc:\/\//);
    const reply = await httpGet(`http://${web.status!.podIP}:8080/`);
    assert.equal(reply.status, 200);
    assert.equal((JSON.parse(reply.body) as { pod: string }).pod, 'web');

    const nope = await podWhere(cluster.admin, 'nope', 'ImagePullBackOff', (p) => containerOf(p)?.state?.waiting?.reason === 'ImagePullBackOff', 30_000);
    assert.match(containerOf(nope)?.state?.waiting?.message ?? '', /registry\.example\/nosuch:v9/);
    const escape = await podWhere(cluster.admin, 'escape', 'InvalidImageName', (p) => containerOf(p)?.state?.waiting?.reason === 'InvalidImageName', 30_000);
    assert.match(containerOf(escape)?.state?.waiting?.message ?? '', /etc\/passwd/);
    assert.ok(!(await runtime.listImages()).some((i) => i.ref.includes('..') || i.ref.includes('passwd')), 'the escaping name never reached the image store');

    const crashy = await podWhere(cluster.admin, 'crashy', 'CrashLoopBackOff', (p) => containerOf(p)?.state?.waiting?.reason === 'CrashLoopBackOff', 30_000);
    assert.match(containerOf(crashy)?.state?.waiting?.message ?? '', /^back-off 10s restarting failed container=app pod=crashy_default/);
    assert.equal(containerOf(crashy)?.lastState?.terminated?.exitCode, 1);
    const webNow = await cluster.admin.get<Pod>(RESOURCE.pods, 'default', 'web');
    assert.equal(containerOf(webNow)?.restartCount, 0, 'the crash loop next door does not touch the backend');
  });

  test('killed with SIGKILL and started again, it adopts the running containers: same container, no restart, nothing twice', async () => {
    const before = await cluster.admin.get<Pod>(RESOURCE.pods, 'default', 'web');
    const idsBefore = await runtime.runcIds();
    await killKubelet();
    assert.deepEqual((await runtime.runcIds()).sort(), idsBefore.sort(), 'the containers outlive the kubelet');
    await startKubeletProcess();
    assert.match(output, /adopted default\/web: 1 running container/);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const after = await cluster.admin.get<Pod>(RESOURCE.pods, 'default', 'web');
    assert.equal(containerOf(after)?.containerID, containerOf(before)?.containerID);
    assert.equal(containerOf(after)?.restartCount, 0);
    const webContainers = (await runtime.listContainers({ labels: { 'io.kubernetes.pod.name': 'web' } })).filter((c) => c.state === 'CONTAINER_RUNNING');
    assert.equal(webContainers.length, 1, 'one backend container runs, not two');
    assert.equal((await httpGet(`http://${after.status!.podIP}:8080/`)).status, 200);
  });

  test('a Pod deleted while the kubelet is down has its containers, mounts and network namespace removed when it comes back', async () => {
    const web = await cluster.admin.get<Pod>(RESOURCE.pods, 'default', 'web');
    const [sandbox] = await runtime.listPodSandboxes({ labels: { 'io.kubernetes.pod.uid': web.metadata.uid! } });
    assert.ok(sandbox, 'the backend has a sandbox');
    const mountsBefore = ourMounts().length;
    await killKubelet();
    await cluster.admin.delete(RESOURCE.pods, 'default', 'web', { gracePeriodSeconds: 0 });
    await startKubeletProcess();
    assert.match(output, /removed the orphaned sandbox of default\/web/);
    assert.deepEqual(await runtime.listPodSandboxes({ labels: { 'io.kubernetes.pod.uid': web.metadata.uid! } }), []);
    assert.deepEqual(await runtime.listContainers({ labels: { 'io.kubernetes.pod.uid': web.metadata.uid! } }), []);
    assert.ok(!(await ourNamespaces()).some((n) => n.includes(sandbox.id.slice(0, 8))), 'its network namespace is gone');
    assert.equal(ourMounts().length, mountsBefore - 1, 'its overlay root is unmounted');
  });

  test('two containers of one Pod share its network namespace: the sidecar reaches the backend on localhost', async () => {
    await cluster.admin.create(RESOURCE.pods, boundPod('pair', NODE, {
      containers: [
        { name: 'backend', image: 'backend:v0.0.1' },
        { name: 'sidecar', image: 'busybox', command: ['sh', '-c', 'while ! wget -q -O- http://127.0.0.1:8080/; do sleep 0.2; done; echo; sleep 3600'] },
      ],
    }));
    const pod = await podWhere(cluster.admin, 'pair', 'both containers running', (p) => (p.status?.containerStatuses ?? []).filter((c) => c.state?.running).length === 2, 30_000);
    const sidecar = (await runtime.listContainers({ labels: { 'io.kubernetes.pod.uid': pod.metadata.uid!, 'io.kubernetes.container.name': 'sidecar' } }))[0];
    assert.ok(sidecar, 'the sidecar container exists');
    const log = await waitUntil('the sidecar to log the backend\'s answer', async () => {
      const text = await runtime.readLog(sidecar.id);
      return /"pod":\s*"pair"/.test(text) ? text : undefined;
    }, 20_000);
    assert.match(log, /"app":\s*"backend"/);
  });

  test('after every Pod is deleted, nothing is left: no runc container, mount, network namespace, veth or IP allocation', async () => {
    for (const name of ['crashy', 'nope', 'escape', 'pair']) await cluster.admin.delete(RESOURCE.pods, 'default', name, { gracePeriodSeconds: 1 });
    await waitUntil('every Pod gone from the API server', async () => (await cluster.admin.list<Pod>(RESOURCE.pods, { namespace: 'default' })).items.length === 0, 30_000);
    assert.deepEqual(await runtime.runcIds(), []);
    assert.deepEqual(ourMounts(), []);
    assert.deepEqual(await ourNamespaces(), []);
    assert.deepEqual(await ourVeths(), []);
    assert.deepEqual(allocatedIps(), []);
  });
});
