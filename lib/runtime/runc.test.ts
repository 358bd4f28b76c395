import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { requireRealMode } from '../workbook/realmode.ts';
import { waitUntil } from '../workbook/waiting.ts';
import { ipInSubnet } from './cni.ts';
import { RuntimeError, type ContainerConfig, type PodSandboxConfig } from './cri.ts';
import { containerArgs, containerEnv, RuncRuntime, validateLogPath, validateRuntimeId } from './runc.ts';
import { httpGet } from '../../test/helpers/http.ts';

const PREFIX = 'kbsrt-';
const BRIDGE = 'kbsrt0';
const CIDR = '10.251.0.0/24';

function sandboxConfig(name: string): PodSandboxConfig {
  return { metadata: { name, namespace: 'default', uid: `uid-${name}`, attempt: 0 }, hostname: name, labels: { app: name }, annotations: {} };
}

function containerConfig(name: string, image: string, over: Partial<ContainerConfig> = {}): ContainerConfig {
  return {
    metadata: { name, attempt: 0 }, image, command: [], args: [], env: [], labels: { container: name }, annotations: {},
    logPath: `${name}/0.log`, memoryLimitBytes: 0, milliCPULimit: 0, ...over,
  };
}

describe('how a container\'s process and environment are chosen (any OS)', () => {
  const image = { Entrypoint: ['/bin/httpd', '-f'], Cmd: ['-p', '8080'] };
  const cases: Array<{ name: string; command: string[]; args: string[]; want: string[] }> = [
    { name: 'with neither command nor args the image\'s Entrypoint and Cmd run', command: [], args: [], want: ['/bin/httpd', '-f', '-p', '8080'] },
    { name: 'args replace the image\'s Cmd and keep its Entrypoint', command: [], args: ['-p', '9090'], want: ['/bin/httpd', '-f', '-p', '9090'] },
    { name: 'command replaces the Entrypoint and drops the image\'s Cmd', command: ['/bin/sh'], args: [], want: ['/bin/sh'] },
    { name: 'command and args together replace both', command: ['/bin/sh', '-c'], args: ['echo hi'], want: ['/bin/sh', '-c', 'echo hi'] },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(containerArgs(image, { command: c.command, args: c.args, image: 'x' }), c.want));
  }

  test('an image with no Entrypoint or Cmd and a Pod with no command is refused as CreateContainerError', () => {
    assert.throws(() => containerArgs({}, { command: [], args: [], image: 'empty:1' }), (e: unknown) => e instanceof RuntimeError && e.reason === 'CreateContainerError');
  });

  test('the environment is the image\'s, then HOSTNAME, then the container\'s, later keys winning', () => {
    const env = containerEnv(['PATH=/bin', 'HOSTNAME=image'], 'backend-1', [{ key: 'A', value: 'b=c' }, { key: 'PATH', value: '/usr/bin' }]);
    assert.deepEqual(env, ['PATH=/usr/bin', 'HOSTNAME=backend-1', 'A=b=c']);
  });

  test('ids and log paths that could escape their folder are refused', () => {
    for (const id of ['../x', 'ABC', '', 'a/b', 'a-b']) assert.throws(() => validateRuntimeId(id), RuntimeError, id);
    for (const path of ['../x.log', '/etc/passwd', 'a/../../b', 'a//b', 'a b']) assert.throws(() => validateLogPath(path), RuntimeError, path);
    assert.equal(validateLogPath('backend/0.log'), 'backend/0.log');
  });

  test('a relative or unnormalized state folder is refused before anything is made', () => {
    for (const stateDir of ['relative/dir', '/tmp/../etc', '/', '/tmp/']) {
      assert.throws(() => new RuncRuntime({ stateDir, podCIDR: CIDR, bridge: BRIDGE, netnsPrefix: PREFIX }), /state folder/, stateDir);
    }
  });
});

const real = requireRealMode(['runc', 'ip', 'cni-bridge', 'cni-host-local', 'cni-loopback', 'busybox']);

describe('the runc runtime runs real containers in CNI-wired sandboxes', real, () => {
  let scratch = '';
  let runtime: RuncRuntime;

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'kbsrt-'));
    runtime = new RuncRuntime({ stateDir: join(scratch, 'state'), podCIDR: CIDR, bridge: BRIDGE, netnsPrefix: PREFIX, pollMs: 20 });
    // Why: a crashed earlier run may have left its namespaces or bridge behind (same test-only prefix and bridge).
    await runtime.network.cleanup();
    await runtime.images.ensureBuilt(['busybox', 'backend']);
  });

  after(async () => {
    // Runs even when a test failed: no container, mount, namespace, bridge or record may be left.
    try {
      await runtime.cleanup();
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  let sandboxId = '';
  let backendId = '';
  let podIp = '';

  test('a sandbox and the backend container start: RUNNING, with a Pod IP in the CIDR', async (t) => {
    const started = performance.now();
    sandboxId = await runtime.runPodSandbox(sandboxConfig('backend-1'));
    const sandboxMs = performance.now() - started;
    backendId = await runtime.createContainer(sandboxId, containerConfig('backend', 'backend:v0.0.1'), sandboxConfig('backend-1'));
    const createMs = performance.now() - started - sandboxMs;
    await runtime.startContainer(backendId);
    const totalMs = performance.now() - started;
    t.diagnostic(`sandbox (netns + CNI ADD) ${sandboxMs.toFixed(0)} ms, create (unpack + overlay + bundle) ${createMs.toFixed(0)} ms, total to RUNNING ${totalMs.toFixed(0)} ms`);
    const status = await runtime.containerStatus(backendId);
    assert.equal(status.state, 'CONTAINER_RUNNING');
    assert.ok(status.startedAt > 0);
    const sandbox = await runtime.podSandboxStatus(sandboxId);
    assert.equal(sandbox.state, 'SANDBOX_READY');
    podIp = sandbox.ip ?? '';
    assert.ok(ipInSubnet(podIp, CIDR), `expected a Pod IP in ${CIDR}, got ${JSON.stringify(podIp)}`);
    assert.deepEqual((await runtime.listPodSandboxes({ labels: { app: 'backend-1' } })).map((s) => s.id), [sandboxId]);
    assert.deepEqual((await runtime.listContainers({ sandboxId })).map((c) => c.id), [backendId]);
  });

  test('an HTTP GET from the host to the Pod IP on 8080 answers JSON naming the Pod', async () => {
    let answer = { status: 0, body: '' };
    // Why wait: httpd binds its port a moment after runc reports the process started.
    await waitUntil(`http://${podIp}:8080/ to answer`, async () => {
      answer = await httpGet(`http://${podIp}:8080/`).catch(() => ({ status: 0, body: '' }));
      return answer.status === 200;
    });
    assert.deepEqual(JSON.parse(answer.body), { pod: 'backend-1', app: 'backend', version: 'v0.0.1' });
  });

  test('exec runs a command inside the running container and returns its exit code and output', async () => {
    const result = await runtime.exec(backendId, ['/bin/sh', '-c', 'echo $HOSTNAME; hostname; exit 4'], 10);
    assert.equal(result.exitCode, 4);
    assert.equal(result.output, 'backend-1\nbackend-1\n');
    await assert.rejects(runtime.exec(backendId, ['/bin/sleep', '30'], 1), (e: unknown) => e instanceof RuntimeError && e.reason === 'DeadlineExceeded');
    await assert.rejects(runtime.exec(backendId, ['--help'], 1), (e: unknown) => e instanceof RuntimeError && e.reason === 'ExecError');
  });

  test('a busybox container in the same Pod that prints "hi" and exits 3 is EXITED with 3, and its log has "hi"', async () => {
    const id = await runtime.createContainer(sandboxId, containerConfig('once', 'busybox', { command: ['/bin/sh', '-c', 'echo hi; exit 3'] }), sandboxConfig('backend-1'));
    assert.equal((await runtime.containerStatus(id)).state, 'CONTAINER_CREATED');
    await runtime.startContainer(id);
    await waitUntil('the busybox container to exit', async () => (await runtime.containerStatus(id)).state === 'CONTAINER_EXITED');
    const status = await runtime.containerStatus(id);
    assert.equal(status.exitCode, 3);
    assert.equal(status.reason, 'Error');
    assert.ok(status.finishedAt >= status.startedAt, `expected finishedAt ${status.finishedAt} >= startedAt ${status.startedAt}`);
    assert.equal(await runtime.readLog(id), 'hi\n');
    await runtime.removeContainer(id);
    await runtime.removeContainer(id); // idempotent
  });

  test('a running container cannot be removed before it is stopped', async () => {
    await assert.rejects(runtime.removeContainer(backendId), (e: unknown) => e instanceof RuntimeError && e.reason === 'RemoveContainerError');
  });

  test('stopContainer of the backend ends it with 143 before the grace period is over, thanks to the image\'s /bin/pid1; a second stop is a no-op', async (t) => {
    // Why it needs /bin/pid1: the kernel drops a signal sent to a namespace's PID 1 unless the process installed a handler,
    // and busybox httpd installs none; run as PID 1 itself, it would be killed at the deadline (137).
    const started = performance.now();
    await runtime.stopContainer(backendId, 10);
    const took = performance.now() - started;
    t.diagnostic(`stop with a 10 s grace period took ${took.toFixed(0)} ms`);
    const status = await runtime.containerStatus(backendId);
    assert.equal(status.state, 'CONTAINER_EXITED');
    // Why the exit code suffices: SIGKILL at the deadline would have given 137.
    assert.equal(status.exitCode, 143, `expected 143 (ended by SIGTERM), got ${status.exitCode}`);
    await runtime.stopContainer(backendId, 1);
  });

  test('the backend\'s httpd run as PID 1 without /bin/pid1 ignores SIGTERM and is killed after the timeout (137)', async () => {
    const id = await runtime.createContainer(sandboxId, containerConfig('bare-httpd', 'backend:v0.0.1', { command: ['/bin/httpd', '-f', '-p', '8081', '-h', '/www'] }), sandboxConfig('backend-1'));
    await runtime.startContainer(id);
    await runtime.stopContainer(id, 1);
    assert.equal((await runtime.containerStatus(id)).exitCode, 137);
    await runtime.removeContainer(id);
  });

  test('a container that handles SIGTERM exits with 143 as soon as it is stopped', async () => {
    const id = await runtime.createContainer(sandboxId, containerConfig('polite', 'busybox', { command: ['/bin/sh', '-c', 'trap "exit 143" TERM; while true; do sleep 0.1; done'] }), sandboxConfig('backend-1'));
    await runtime.startContainer(id);
    await runtime.stopContainer(id, 30);
    const status = await runtime.containerStatus(id);
    assert.equal(status.exitCode, 143);
    await runtime.removeContainer(id);
  });

  test('a process that ignores SIGTERM is killed after the timeout with 137', async () => {
    const id = await runtime.createContainer(sandboxId, containerConfig('stubborn', 'busybox', { command: ['/bin/sh', '-c', 'trap "" TERM; while true; do sleep 1; done'] }), sandboxConfig('backend-1'));
    await runtime.startContainer(id);
    await runtime.stopContainer(id, 1);
    assert.equal((await runtime.containerStatus(id)).exitCode, 137);
    await runtime.removeContainer(id);
  });

  test('a memory limit reaches the container\'s cgroup (memory.limit_in_bytes on v1, memory.max on v2)', async () => {
    const limit = 64 * 1024 * 1024;
    const id = await runtime.createContainer(sandboxId, containerConfig('limited', 'busybox', { command: ['/bin/sh', '-c', 'trap "exit 143" TERM; while true; do sleep 0.1; done'], memoryLimitBytes: limit }), sandboxConfig('backend-1'));
    await runtime.startContainer(id);
    const pid = Number((await readFile(join(runtime.stateDir, 'containers', id, 'pid'), 'utf8')).trim());
    const lines = (await readFile(`/proc/${pid}/cgroup`, 'utf8')).trim().split('\n');
    // Why both: cgroup v1 (a "memory" hierarchy, memory.limit_in_bytes) and v2 (one hierarchy, memory.max) are both still found on Linux machines.
    const v1 = lines.find((l) => l.split(':')[1]?.split(',').includes('memory'))?.split(':')[2];
    const file = v1 !== undefined
      ? join('/sys/fs/cgroup/memory', v1, 'memory.limit_in_bytes')
      : join('/sys/fs/cgroup', lines.find((l) => l.startsWith('0::'))?.slice(3) ?? '', 'memory.max');
    assert.equal((await readFile(file, 'utf8')).trim(), String(limit), `expected ${file} to hold the limit`);
    await runtime.stopContainer(id, 10);
    await runtime.removeContainer(id);
  });

  test('an unknown image is ErrImagePull naming it, and nothing is created for it', async () => {
    const before = (await runtime.listContainers()).length;
    await assert.rejects(runtime.pullImage('nosuch:v1'), (e: unknown) => e instanceof RuntimeError && e.reason === 'ErrImagePull' && e.message.includes('nosuch:v1'));
    await assert.rejects(
      runtime.createContainer(sandboxId, containerConfig('ghost', 'nosuch:v1'), sandboxConfig('backend-1')),
      (e: unknown) => e instanceof RuntimeError && e.reason === 'ErrImagePull' && e.message.includes('nosuch:v1'),
    );
    assert.equal((await runtime.listContainers()).length, before);
  });

  test('a container started by a process that is then killed with SIGKILL keeps running, and a new runtime on the same state adopts it', async () => {
    // The "kubelet" here is a child Node process: it starts a sandbox and a container, prints the ids, and is killed -9.
    const script = `
      import { RuncRuntime } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, 'runc.ts')).href)};
      const rt = new RuncRuntime({ stateDir: process.argv[1], podCIDR: '${CIDR}', bridge: '${BRIDGE}', netnsPrefix: '${PREFIX}' });
      const sc = { metadata: { name: 'adopted-1', namespace: 'default', uid: 'uid-adopted', attempt: 0 }, hostname: 'adopted-1', labels: { app: 'adopted' }, annotations: {} };
      const s = await rt.runPodSandbox(sc);
      const c = await rt.createContainer(s, { metadata: { name: 'backend', attempt: 0 }, image: 'backend:v0.0.1', command: [], args: [], env: [], labels: {}, annotations: {}, logPath: 'backend/0.log', memoryLimitBytes: 0, milliCPULimit: 0 }, sc);
      await rt.startContainer(c);
      console.log(JSON.stringify({ s, c }));
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, runtime.stateDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const ids = await new Promise<{ s: string; c: string }>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(JSON.parse(out) as { s: string; c: string });
      });
      child.on('exit', (code) => reject(new Error(`expected the child to print ids, got exit ${code}: ${out}`)));
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const adopter = new RuncRuntime({ stateDir: runtime.stateDir, podCIDR: CIDR, bridge: BRIDGE, netnsPrefix: PREFIX });
    assert.deepEqual((await adopter.listPodSandboxes({ labels: { app: 'adopted' } })).map((s) => s.id), [ids.s]);
    const status = await adopter.containerStatus(ids.c);
    assert.equal(status.state, 'CONTAINER_RUNNING', 'expected the container to outlive the process that started it');
    const ip = (await adopter.podSandboxStatus(ids.s)).ip ?? '';
    await waitUntil(`http://${ip}:8080/ to answer`, async () => (await httpGet(`http://${ip}:8080/`).catch(() => ({ status: 0, body: '' }))).status === 200);
    await adopter.stopContainer(ids.c, 0);
    assert.equal((await adopter.containerStatus(ids.c)).exitCode, 137, 'expected the adopter to read the exit code the wrapper kept');
    await adopter.removePodSandbox(ids.s);
  });

  test('removePodSandbox leaves nothing: no runc container, no overlay mount, no namespace, no IP allocation', async () => {
    await runtime.removePodSandbox(sandboxId);
    await runtime.removePodSandbox(sandboxId); // idempotent
    assert.deepEqual(await runtime.runcIds(), []);
    const mounts = await readFile('/proc/self/mounts', 'utf8');
    assert.ok(!mounts.includes(runtime.stateDir), `expected no mount under ${runtime.stateDir}, got:\n${mounts.split('\n').filter((l) => l.includes(runtime.stateDir)).join('\n')}`);
    assert.deepEqual(await runtime.netns.listOwned(), []);
    assert.deepEqual(await runtime.network.allocatedIps(), []);
    assert.deepEqual(await runtime.listPodSandboxes(), []);
    assert.deepEqual(await runtime.listContainers(), []);
  });

  test('cleanup removes a sandbox left running: its container, mount, namespace, bridge, allocation and state folders', async () => {
    const id = await runtime.runPodSandbox(sandboxConfig('left-1'));
    const c = await runtime.createContainer(id, containerConfig('backend', 'backend:v0.0.1'), sandboxConfig('left-1'));
    await runtime.startContainer(c);
    assert.equal((await runtime.runcIds()).length, 1);
    await runtime.cleanup();
    assert.deepEqual(await runtime.runcIds(), []);
    const mounts = await readFile('/proc/self/mounts', 'utf8');
    assert.ok(!mounts.includes(runtime.stateDir), `expected no mount under ${runtime.stateDir}`);
    assert.deepEqual(await runtime.netns.listOwned(), []);
    assert.deepEqual(await runtime.network.allocatedIps(), []);
    const links = await new Promise<string>((resolve) => {
      const ip = spawn('ip', ['-o', 'link', 'show'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      ip.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      ip.on('exit', () => resolve(out));
    });
    assert.ok(!links.includes(`${BRIDGE}:`), `expected bridge ${BRIDGE} gone`);
    for (const sub of ['containers', 'sandboxes', 'runc', 'images', 'cni']) {
      await assert.rejects(readFile(join(runtime.stateDir, sub)), { code: 'ENOENT' }, `expected ${sub}/ removed`);
    }
  });
});
