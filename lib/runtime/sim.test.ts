import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RuntimeError, type ContainerConfig, type PodSandboxConfig } from './cri.ts';
import { FakeClock } from './sim-clock.ts';
import { IGNORE_SIGTERM_ANNOTATION, MEMORY_USAGE_ANNOTATION, SimRuntime } from './sim.ts';
import { parseScript } from './sim-program.ts';
import { parseImageRef, recipeRunConfig, simImage } from './sim-catalogue.ts';

function podConfig(name: string, extra: Partial<PodSandboxConfig> = {}): PodSandboxConfig {
  return { metadata: { name, namespace: 'default', uid: `uid-${name}`, attempt: 0 }, hostname: name, labels: { 'io.kubernetes.pod.name': name }, annotations: {}, ...extra };
}

function containerConfig(name: string, image: string, extra: Partial<ContainerConfig> = {}): ContainerConfig {
  return { metadata: { name, attempt: 0 }, image, command: [], args: [], env: [], labels: { 'io.kubernetes.container.name': name }, annotations: {}, logPath: `${name}/0.log`, memoryLimitBytes: 0, milliCPULimit: 0, ...extra };
}

/** A runtime on a fake clock with one Pod running one container; returns the ids. */
async function runOne(image: string, extra: Partial<ContainerConfig> = {}, pod: Partial<PodSandboxConfig> = {}) {
  const clock = new FakeClock(1_000_000);
  const runtime = new SimRuntime({ clock, podCIDR: '10.244.1.0/24' });
  const sandbox = podConfig('web-1', pod);
  const sandboxId = await runtime.runPodSandbox(sandbox);
  await runtime.pullImage(image);
  const containerId = await runtime.createContainer(sandboxId, containerConfig('main', image, extra), sandbox);
  await runtime.startContainer(containerId);
  return { clock, runtime, sandboxId, containerId, sandbox };
}

/** Resolves whether the promise settled in the current turn of microtasks (fake time does not move). */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true), () => (done = true));
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return done;
}

async function rejection(promise: Promise<unknown>): Promise<RuntimeError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof RuntimeError, `expected a RuntimeError, got ${String(err)}`);
  return err;
}

describe('the simulated runtime: sandboxes and their IPs', () => {
  it('Sandboxes get addresses from the Pod CIDR after the gateway, and a stopped sandbox gives its address back.', async () => {
    const runtime = new SimRuntime({ clock: new FakeClock(), podCIDR: '10.244.1.0/24' });
    const a = await runtime.runPodSandbox(podConfig('a'));
    const b = await runtime.runPodSandbox(podConfig('b'));
    assert.equal(runtime.ipam.gateway, '10.244.1.1');
    assert.equal((await runtime.podSandboxStatus(a)).ip, '10.244.1.2');
    assert.equal((await runtime.podSandboxStatus(b)).ip, '10.244.1.3');
    await runtime.stopPodSandbox(a);
    const stopped = await runtime.podSandboxStatus(a);
    assert.equal(stopped.state, 'SANDBOX_NOTREADY');
    assert.equal(stopped.ip, undefined);
    assert.deepEqual(runtime.ipam.inUse(), ['10.244.1.3']);
    await runtime.stopPodSandbox(a);
    await runtime.removePodSandbox(a);
    await runtime.removePodSandbox(a);
    assert.deepEqual((await runtime.listPodSandboxes()).map((s) => s.id), [b]);
  });

  it('Like host-local, a released address is reused only after the rest of the range, and a full range is refused.', async () => {
    const runtime = new SimRuntime({ clock: new FakeClock(), podCIDR: '10.244.1.0/29' });
    const ids = [];
    for (const name of ['a', 'b', 'c', 'd', 'e']) ids.push(await runtime.runPodSandbox(podConfig(name)));
    const err = await rejection(runtime.runPodSandbox(podConfig('f')));
    assert.equal(err.reason, 'CreatePodSandboxError');
    assert.match(err.message, /no IP addresses available in range set: 10\.244\.1\.2-10\.244\.1\.6/);
    await runtime.removePodSandbox(ids[1]!);
    const again = await runtime.runPodSandbox(podConfig('f'));
    assert.equal((await runtime.podSandboxStatus(again)).ip, '10.244.1.3');
  });

  it('The same Pod attempt cannot get two sandboxes, and an unknown sandbox id is named in the error.', async () => {
    const runtime = new SimRuntime({ clock: new FakeClock() });
    await runtime.runPodSandbox(podConfig('a'));
    assert.match((await rejection(runtime.runPodSandbox(podConfig('a')))).message, /failed to reserve sandbox name "a_default_uid-a_0"/);
    const err = await rejection(runtime.podSandboxStatus('nope'));
    assert.equal(err.reason, 'NotFound');
    assert.match(err.message, /expected a pod sandbox with id "nope", got none/);
  });

  it('Listing filters sandboxes and containers by labels and by sandbox.', async () => {
    const { runtime, sandboxId } = await runOne('nginx:1.14.2');
    const other = await runtime.runPodSandbox(podConfig('other'));
    assert.deepEqual((await runtime.listPodSandboxes({ labels: { 'io.kubernetes.pod.name': 'other' } })).map((s) => s.id), [other]);
    assert.equal((await runtime.listPodSandboxes({ labels: { 'io.kubernetes.pod.name': 'none' } })).length, 0);
    assert.equal((await runtime.listPodSandboxes()).length, 2);
    assert.equal((await runtime.listContainers({ sandboxId })).length, 1);
    assert.equal((await runtime.listContainers({ sandboxId: other })).length, 0);
    assert.equal((await runtime.listContainers({ labels: { 'io.kubernetes.container.name': 'main' } })).length, 1);
    assert.equal((await runtime.listContainers({ labels: { 'io.kubernetes.container.name': 'side' } })).length, 0);
  });
});

describe('the simulated runtime: images', () => {
  it('An unknown image fails with ErrImagePull naming the image as containerd does.', async () => {
    const runtime = new SimRuntime({ clock: new FakeClock() });
    const err = await rejection(runtime.pullImage('nope:1'));
    assert.equal(err.reason, 'ErrImagePull');
    assert.match(err.message, /failed to pull and unpack image "docker\.io\/library\/nope:1": failed to resolve reference "docker\.io\/library\/nope:1": docker\.io\/library\/nope:1: not found/);
  });

  const escapes = ['../etc/passwd', '/etc/passwd', 'busybox/../../x', 'busy\0box', 'a\\..\\b', 'busybox:..'];
  for (const ref of escapes) {
    it(`The reference ${JSON.stringify(ref)} is refused as escaping the image store, before any pull or create.`, async () => {
      const { runtime, sandboxId, sandbox } = await runOne('busybox');
      const pulled = await rejection(runtime.pullImage(ref));
      assert.equal(pulled.reason, 'InvalidImageName');
      assert.match(pulled.message, /would escape the image store/);
      const created = await rejection(runtime.createContainer(sandboxId, containerConfig('x', ref), sandbox));
      assert.equal(created.reason, 'InvalidImageName');
    });
  }

  it('Known images pull under their short and long names, with a sha256 id computed from the name.', async () => {
    const runtime = new SimRuntime({ clock: new FakeClock() });
    const short = await runtime.pullImage('busybox');
    const long = await runtime.pullImage('docker.io/library/busybox:latest');
    assert.equal(short.ref, 'busybox:latest');
    assert.equal(short.id, long.id);
    assert.match(short.id, /^sha256:[0-9a-f]{64}$/);
    const backend = await runtime.pullImage('backend:v0.0.1');
    assert.notEqual(backend.id, short.id);
    assert.deepEqual((await runtime.listImages()).map((i) => i.ref).sort(), ['backend:v0.0.1', 'busybox:latest']);
  });

  it('A container cannot be created from an image that was not pulled.', async () => {
    const runtime = new SimRuntime({ clock: new FakeClock() });
    const sandbox = podConfig('a');
    const id = await runtime.runPodSandbox(sandbox);
    const err = await rejection(runtime.createContainer(id, containerConfig('c', 'nginx:1.14.2'), sandbox));
    assert.equal(err.reason, 'CreateContainerError');
    assert.match(err.message, /expected image "docker\.io\/library\/nginx:1\.14\.2" to be present/);
  });
});

describe('the simulated runtime: programs', () => {
  it('busybox `echo hi && sleep 5 && exit 3` logs "hi" and exits 3 with reason Error after 5 s of fake time.', async () => {
    const { clock, runtime, containerId } = await runOne('busybox', { command: ['sh', '-c'], args: ['echo hi && sleep 5 && exit 3'] });
    assert.equal(await runtime.readLog(containerId), 'hi\n');
    clock.advance(4999);
    assert.equal((await runtime.containerStatus(containerId)).state, 'CONTAINER_RUNNING');
    clock.advance(1);
    const status = await runtime.containerStatus(containerId);
    assert.equal(status.state, 'CONTAINER_EXITED');
    assert.equal(status.exitCode, 3);
    assert.equal(status.reason, 'Error');
    assert.equal(status.finishedAt - status.startedAt, 5000);
    assert.match(await runtime.criLog(containerId), /^\d{4}-\d\d-\d\dT[\d:.]+Z stdout F hi\n$/);
    assert.equal(clock.pending, 0);
  });

  const scripts: Array<[string, string, number, string]> = [
    ['a script that ends normally exits 0 with reason Completed', 'echo "a b";echo c', 0, 'a b\nc\n'],
    ['`&&` skips what follows a failure and `;` does not', 'false && echo no; echo yes', 0, 'yes\n'],
    ['the last status is the exit code', 'echo x; false', 1, 'x\n'],
    ['`cat` of a missing file fails and `touch` makes it', 'cat /tmp/a; touch /tmp/a && cat /tmp/a && echo ok', 0, "cat: can't open '/tmp/a': No such file or directory\nok\n"],
  ];
  for (const [name, script, exitCode, log] of scripts) {
    it(`In the sh subset, ${name}.`, async () => {
      const { runtime, containerId } = await runOne('busybox', { command: ['sh', '-c', script] });
      const status = await runtime.containerStatus(containerId);
      assert.deepEqual([status.state, status.exitCode, status.reason], ['CONTAINER_EXITED', exitCode, exitCode === 0 ? 'Completed' : 'Error']);
      assert.equal(await runtime.readLog(containerId), log);
    });
  }

  it('A script outside the subset runs forever, and busybox with no command exits 0 at once.', async () => {
    assert.equal(parseScript('while true; do sleep 1; done'), undefined);
    const forever = await runOne('busybox', { command: ['sh', '-c', 'while true; do sleep 1; done'] });
    forever.clock.advance(3_600_000);
    assert.equal((await forever.runtime.containerStatus(forever.containerId)).state, 'CONTAINER_RUNNING');
    const bare = await runOne('busybox');
    const status = await bare.runtime.containerStatus(bare.containerId);
    assert.deepEqual([status.state, status.exitCode, status.reason], ['CONTAINER_EXITED', 0, 'Completed']);
  });

  it('A container over its memory limit is OOMKilled with 137.', async () => {
    const { runtime, containerId } = await runOne('backend:v0.0.1', { memoryLimitBytes: 64 * 1024 * 1024 }, { annotations: { [MEMORY_USAGE_ANNOTATION]: '100Mi' } });
    const status = await runtime.containerStatus(containerId);
    assert.deepEqual([status.state, status.exitCode, status.reason], ['CONTAINER_EXITED', 137, 'OOMKilled']);
  });

  it('exec runs `cat` against the container’s files, which its own script changes over time.', async () => {
    const { clock, runtime, containerId } = await runOne('busybox', { args: ['sh', '-c', 'touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600'] });
    assert.equal((await runtime.exec(containerId, ['cat', '/tmp/healthy'], 1)).exitCode, 0);
    clock.advance(30_000);
    const failed = await runtime.exec(containerId, ['cat', '/tmp/healthy'], 1);
    assert.deepEqual(failed, { exitCode: 1, output: "cat: can't open '/tmp/healthy': No such file or directory\n" });
    assert.equal((await runtime.exec(containerId, ['false'], 1)).exitCode, 1);
    assert.equal((await runtime.exec(containerId, ['/bin/check-something'], 1)).exitCode, 0);
  });

  it('An exec that outlives its timeout is refused with DeadlineExceeded.', async () => {
    const { clock, runtime, containerId } = await runOne('nginx:1.14.2');
    const running = runtime.exec(containerId, ['sh', '-c', 'sleep 10'], 1);
    clock.advance(1000);
    assert.equal((await rejection(running)).reason, 'DeadlineExceeded');
  });
});

describe('the simulated runtime: the process a container runs', () => {
  it('Each scenario image has the Entrypoint and Cmd of its recipe in images/, the base recipe\'s first.', () => {
    assert.deepEqual(simImage('busybox').config, { Cmd: ['sh'] });
    assert.deepEqual(simImage('backend:v0.0.1').config, { Entrypoint: ['/bin/pid1', '/bin/httpd', '-f', '-v', '-p', '8080', '-h', '/www'], Cmd: [] });
    assert.deepEqual(simImage('nginx:1.14.2').config, { Entrypoint: [], Cmd: ['/bin/pid1', '/bin/httpd', '-f', '-v', '-p', '80', '-h', '/usr/share/nginx/html'] });
    assert.deepEqual(simImage('frontend:v0.0.1').config, recipeRunConfig('frontend'));
    assert.equal(recipeRunConfig('../etc'), undefined);
  });

  it('args replace the image\'s Cmd: the backend started with args "-p 9090" serves on 9090 (and, as busybox httpd, prints nothing at start).', async () => {
    const { runtime, containerId } = await runOne('backend:v0.0.1', { args: ['-p', '9090'] });
    assert.equal(await runtime.readLog(containerId), '');
    assert.equal((await runtime.httpGet('10.244.1.2', 9090)).statusCode, 200);
    await assert.rejects(runtime.tcpConnect('10.244.1.2', 8080), /connection refused/);
  });

  it('command replaces the Entrypoint and drops the image\'s Cmd: nginx with command ["sleep", "10"] sleeps and exits 0.', async () => {
    const { clock, runtime, containerId } = await runOne('nginx:1.14.2', { command: ['sleep', '10'] });
    await assert.rejects(runtime.tcpConnect('10.244.1.2', 80), /connection refused/);
    clock.advance(10_000);
    const status = await runtime.containerStatus(containerId);
    assert.deepEqual([status.state, status.exitCode], ['CONTAINER_EXITED', 0]);
  });

  it('The containerArgs option decides the process: a runtime given another function runs what it returns.', async () => {
    const runtime = new SimRuntime({ clock: new FakeClock(), containerArgs: (image, config) => ['sh', '-c', `echo ${config.image} ${image.Cmd?.join(' ')}`] });
    const sandbox = podConfig('a');
    const id = await runtime.runPodSandbox(sandbox);
    await runtime.pullImage('busybox');
    const containerId = await runtime.createContainer(id, containerConfig('c', 'busybox'), sandbox);
    await runtime.startContainer(containerId);
    assert.equal(await runtime.readLog(containerId), 'busybox sh\n');
  });

  it('An image with neither Entrypoint nor Cmd and a container with no command is refused as CreateContainerError, and nothing is created.', async () => {
    const runtime = new SimRuntime({ clock: new FakeClock(), extraImages: [{ ref: 'scratch-app:1', config: {} }] });
    const sandbox = podConfig('a');
    const id = await runtime.runPodSandbox(sandbox);
    await runtime.pullImage('scratch-app:1');
    const err = await rejection(runtime.createContainer(id, containerConfig('c', 'scratch-app:1'), sandbox));
    assert.equal(err.reason, 'CreateContainerError');
    assert.match(err.message, /expected a command from the Pod or the image scratch-app:1, got none/);
    assert.equal((await runtime.listContainers()).length, 0);
  });

  it('An extra image without a recipe runs its own program, which serves the port it was given.', async () => {
    const runtime = new SimRuntime({ clock: new FakeClock(), podCIDR: '10.244.1.0/24', extraImages: [{ ref: 'registry.k8s.io/kube-apiserver:v1.30.0', server: { port: 6443, startupLine: 'serving on :6443' } }] });
    const sandbox = podConfig('kube-apiserver');
    const id = await runtime.runPodSandbox(sandbox);
    await runtime.pullImage('registry.k8s.io/kube-apiserver:v1.30.0');
    const containerId = await runtime.createContainer(id, containerConfig('c', 'registry.k8s.io/kube-apiserver:v1.30.0'), sandbox);
    await runtime.startContainer(containerId);
    assert.equal(await runtime.readLog(containerId), 'serving on :6443\n');
    await runtime.tcpConnect('10.244.1.2', 6443);
  });
});

describe('the simulated runtime: stopping and removing', () => {
  it('A server exits on SIGTERM at once with 143 and reason Error.', async () => {
    const { clock, runtime, containerId } = await runOne('backend:v0.0.1');
    clock.advance(2000);
    await runtime.stopContainer(containerId, 30);
    const status = await runtime.containerStatus(containerId);
    assert.deepEqual([status.state, status.exitCode, status.reason, status.finishedAt - status.startedAt], ['CONTAINER_EXITED', 143, 'Error', 2000]);
    await runtime.stopContainer(containerId, 30);
  });

  it('A server that ignores SIGTERM is killed with 137 when the timeout runs out, not before.', async () => {
    const { clock, runtime, containerId } = await runOne('backend:v0.0.1', { annotations: { [IGNORE_SIGTERM_ANNOTATION]: 'true' } });
    const stopping = runtime.stopContainer(containerId, 10);
    clock.advance(9999);
    assert.equal(await settled(stopping), false);
    assert.equal((await runtime.containerStatus(containerId)).state, 'CONTAINER_RUNNING');
    clock.advance(1);
    await stopping;
    const status = await runtime.containerStatus(containerId);
    assert.deepEqual([status.state, status.exitCode, status.reason], ['CONTAINER_EXITED', 137, 'Error']);
    assert.equal(clock.pending, 0);
  });

  it('A second stop with a shorter timeout brings the SIGKILL forward.', async () => {
    const { clock, runtime, containerId } = await runOne('nginx:1.14.2', {}, { annotations: { [IGNORE_SIGTERM_ANNOTATION]: 'true' } });
    const first = runtime.stopContainer(containerId, 30);
    clock.advance(1000);
    const second = runtime.stopContainer(containerId, 2);
    clock.advance(2000);
    await Promise.all([first, second]);
    const status = await runtime.containerStatus(containerId);
    assert.equal(status.finishedAt - status.startedAt, 3000);
  });

  it('Removing a running container is refused (CRI requires a stop first), and works once it is stopped.', async () => {
    const { runtime, containerId } = await runOne('frontend:v0.0.1');
    const err = await rejection(runtime.removeContainer(containerId));
    assert.equal(err.reason, 'RemoveContainerError');
    assert.match(err.message, /expected container [0-9a-f]{64} \(main\) to be stopped before removal \(StopContainer first\), got CONTAINER_RUNNING/);
    await runtime.stopContainer(containerId, 0);
    await runtime.removeContainer(containerId);
    await runtime.removeContainer(containerId);
    assert.match((await rejection(runtime.containerStatus(containerId))).message, /expected a container with id "[0-9a-f]{64}", got none/);
  });

  it('Stopping a sandbox kills its containers with 137, even those that ignore SIGTERM, and closes their ports.', async () => {
    const { runtime, sandboxId, containerId } = await runOne('backend:v0.0.1', {}, { annotations: { [IGNORE_SIGTERM_ANNOTATION]: 'true' } });
    await runtime.httpGet('10.244.1.2', 8080);
    await runtime.stopPodSandbox(sandboxId);
    const status = await runtime.containerStatus(containerId);
    assert.deepEqual([status.state, status.exitCode], ['CONTAINER_EXITED', 137]);
    await assert.rejects(runtime.tcpConnect('10.244.1.2', 8080), /dial tcp 10\.244\.1\.2:8080: connect: connection refused/);
    const err = await rejection(runtime.startContainer(containerId));
    assert.equal(err.reason, 'RunContainerError');
    await runtime.removePodSandbox(sandboxId);
    assert.equal((await runtime.listContainers()).length, 0);
  });
});

describe('the sim network', () => {
  it('A running backend answers JSON naming its Pod at the Pod IP on 8080, logs each request as its CGI script does, and nothing answers on other ports.', async () => {
    const { runtime, containerId } = await runOne('backend:v0.0.1');
    assert.equal(await runtime.readLog(containerId), '');
    const answer = await runtime.httpGet('10.244.1.2', 8080, '/');
    assert.equal(answer.statusCode, 200);
    assert.deepEqual(JSON.parse(answer.body), { pod: 'web-1', app: 'backend', version: 'v0.0.1' });
    assert.equal(await runtime.readLog(containerId), 'GET /: answered as web-1\n');
    await runtime.tcpConnect('10.244.1.2', 8080);
    await assert.rejects(runtime.tcpConnect('10.244.1.2', 3000), /connection refused/);
  });

  it('The frontend embeds what the backend at $BACKEND_ENDPOINT said, and nginx serves its welcome page.', async () => {
    const { clock, runtime } = await runOne('backend:v0.0.1');
    const frontendPod = podConfig('frontend-1');
    const id = await runtime.runPodSandbox(frontendPod);
    await runtime.pullImage('frontend:v0.0.1');
    await runtime.pullImage('nginx:1.14.2');
    const front = await runtime.createContainer(id, containerConfig('front', 'frontend:v0.0.1', { env: [{ key: 'BACKEND_ENDPOINT', value: 'http://10.244.1.2:8080' }] }), frontendPod);
    await runtime.startContainer(front);
    const page = await runtime.httpGet('10.244.1.3', 3000);
    assert.match(page.body, /Served by Pod <b>frontend-1<\/b>/);
    assert.match(page.body, /Backend \(http:\/\/10\.244\.1\.2:8080\) said \(ok\):<\/p>\n<pre id="backend">\{"pod":"web-1","app":"backend"/);
    const nginxPod = podConfig('nginx-1');
    const nid = await runtime.runPodSandbox(nginxPod);
    await runtime.startContainer(await runtime.createContainer(nid, containerConfig('nginx', 'nginx:1.14.2'), nginxPod));
    assert.match((await runtime.httpGet('10.244.1.4', 80)).body, /Welcome to nginx!/);
    assert.equal(clock.pending, 0);
  });

  it('A frontend whose backend name nobody resolves says so in its page.', async () => {
    const { runtime } = await runOne('frontend:v0.0.1');
    const page = await runtime.httpGet('10.244.1.2', 3000);
    assert.match(page.body, /Backend \(http:\/\/backend\) said \(error\):<\/p>\n<pre id="backend">dial tcp: lookup backend: no such host<\/pre>/);
    const backendPod = podConfig('backend-1');
    const id = await runtime.runPodSandbox(backendPod);
    await runtime.pullImage('backend:v0.0.1');
    await runtime.startContainer(await runtime.createContainer(id, containerConfig('backend', 'backend:v0.0.1'), backendPod));
    // A router, as a simulated DNS plus kube-proxy would install, sends the name "backend" on port 80 to that Pod.
    runtime.network.setRouter((host, port) => (host === 'backend' && port === 80 ? { ip: '10.244.1.3', port: 8080 } : undefined));
    assert.match((await runtime.httpGet('10.244.1.2', 3000)).body, /said \(ok\):<\/p>\n<pre id="backend">\{"pod":"backend-1"/);
  });

  it('A frontend whose endpoint leads back to itself reports a request loop instead of hanging.', async () => {
    const { runtime } = await runOne('frontend:v0.0.1', { env: [{ key: 'BACKEND_ENDPOINT', value: 'http://10.244.1.2:3000' }] });
    assert.match((await runtime.httpGet('10.244.1.2', 3000)).body, /said \(error\)[\s\S]*request loop/);
  });
});

describe('image references', () => {
  const cases: Array<[string, string, string]> = [
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['library/busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['registry.k8s.io/pause:3.9', 'registry.k8s.io/pause:3.9', 'registry.k8s.io/pause:3.9'],
    ['localhost:5000/team/app', 'localhost:5000/team/app:latest', 'localhost:5000/team/app:latest'],
  ];
  for (const [ref, full, familiar] of cases) {
    it(`${JSON.stringify(ref)} is ${full}, written ${familiar}.`, () => {
      const parsed = parseImageRef(ref);
      assert.deepEqual([parsed.full, parsed.familiar], [full, familiar]);
    });
  }

  it('A reference outside the grammar is refused as InvalidImageName.', () => {
    assert.throws(() => parseImageRef('BusyBox'), (err: unknown) => err instanceof RuntimeError && err.reason === 'InvalidImageName' && /invalid reference format/.test(err.message));
  });
});
