/**
 * The real container runtime: the CRI-shaped `ContainerRuntime` on Linux, as
 * root, with `runc`. A Pod's sandbox is its network namespace, wired by the
 * real CNI plugins (see netns.ts, cni.ts); there is no pause container,
 * because the namespace itself (pinned by `ip netns add` under
 * /var/run/netns) is what the pause container exists to hold. Each container
 * gets an overlay root over its image's shared, unpacked rootfs (images.ts),
 * an OCI bundle (bundle.ts), and runs under `runc run`.
 *
 * Everything lives under one project-owned `stateDir`:
 *   images/                  the ImageStore
 *   runc/                    runc's own state (`runc --root`; never /run/runc)
 *   cni/                     host-local allocations and cached CNI results
 *   sandboxes/<id>/sandbox.json, logs/<logPath>
 *   containers/<id>/container.json, config.json, rootfs upper work, pid, exitcode
 * The JSON records let a restarted kubelet list and adopt what already runs.
 *
 * How an exit code is kept (the "shim"): runc forgets a container's exit code
 * once its process is reaped, so `startContainer` launches a tiny detached
 * `sh` wrapper, in its own session, that runs `runc run` in the foreground and
 * then writes runc's exit status (the container's, 128+signal when killed) to
 * <container>/exitcode. The wrapper is not Node's child in any way that
 * matters: it survives the kubelet dying (kill -9), which is what adoption
 * needs. Values reach the wrapper only as positional parameters ("$1"...),
 * never inside the script text. Because `runc run` creates and starts in one
 * step, `createContainer` prepares the bundle (state CONTAINER_CREATED, no runc
 * container yet) and `startContainer` runs it.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { realClock, sleep, type Clock } from '../client/client.ts';
import { bundleConfig } from './bundle.ts';
import { PodNetwork } from './cni.ts';
import {
  RuntimeError,
  type ContainerConfig,
  type ContainerRuntime,
  type ContainerStatus,
  type ImageInfo,
  type PodSandboxConfig,
  type PodSandboxStatus,
  type RuntimeVersion,
} from './cri.ts';
import { ImageStore } from './images.ts';
import { NetworkNamespaces, runProgram, type ProgramResult, type RunProgram } from './netns.ts';

/** How to build a RuncRuntime; every name is validated before it is used. */
export interface RuncRuntimeOptions {
  /** An absolute, normalized folder the project owns (e.g. <cluster>/node-1/runtime). */
  stateDir: string;
  /** The node's Pod CIDR, e.g. "10.244.1.0/24". */
  podCIDR: string;
  /** The node's bridge, "kbs" + up to 12 characters (e.g. "kbs0"). */
  bridge: string;
  /** The prefix of every network namespace this runtime makes (e.g. "kbs-"). */
  netnsPrefix: string;
  /** Time source for polling and grace periods. Default: real time. */
  clock?: Clock;
  /** Where runc is; default "runc" from PATH. */
  runcPath?: string;
  /** Where the image recipes are; default the project's images/. */
  recipesDir?: string;
  /** How often a starting container's pid file and exits are polled, in ms. Default 10. */
  pollMs?: number;
  /** Decides the process a container runs from its image and its config (exercise 5.3). Default: `containerArgs`. */
  containerArgs?: typeof containerArgs;
}

/** A sandbox as recorded on disk. */
interface SandboxRecord {
  status: PodSandboxStatus;
  config: PodSandboxConfig;
  netns: string;
}

/** A container as recorded on disk; its state is read from the wrapper's files. */
interface ContainerRecord {
  status: ContainerStatus;
  config: ContainerConfig;
  podName: string;
  /** The wrapper's pid, once started. */
  wrapperPid?: number;
  /** The log file, absolute. */
  logFile: string;
}

/** Checks a runtime id: lowercase hex letters and digits only, so it is safe in paths, netns names and runc. */
export function validateRuntimeId(id: string): string {
  if (!/^[a-z0-9]{1,64}$/.test(id)) throw new RuntimeError('NotFound', `expected an id of 1-64 of a-z and 0-9, got ${JSON.stringify(id.slice(0, 80))}`);
  return id;
}

/** Checks a CRI log path: relative, no "..", no odd characters. */
export function validateLogPath(path: string): string {
  if (path === '' || isAbsolute(path) || !/^[A-Za-z0-9_.\-/]+$/.test(path) || path.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new RuntimeError('CreateContainerError', `expected a relative log path of letters, digits, "_", ".", "-", "/" without "..", got ${JSON.stringify(path.slice(0, 80))}`);
  }
  return path;
}

// #region wrapper
// The shim: run the container in the foreground, then keep runc's exit status.
// Values come in as "$1".."$5" only; nothing from the user is in this text.
const WRAPPER = 'runc_bin="$1"; root="$2"; bundle="$3"; id="$4"; "$runc_bin" --root "$root" run --bundle "$bundle" --pid-file "$bundle/pid" "$id"; echo $? > "$bundle/exitcode.tmp" && mv "$bundle/exitcode.tmp" "$bundle/exitcode"';
// #endregion wrapper

/** The `ContainerRuntime` that runs real containers with runc in CNI-wired network namespaces. */
export class RuncRuntime implements ContainerRuntime {
  readonly stateDir: string;
  readonly images: ImageStore;
  readonly netns: NetworkNamespaces;
  readonly network: PodNetwork;
  readonly runcRoot: string;
  private readonly clock: Clock;
  private readonly runc: string;
  private readonly pollMs: number;
  private readonly argsFor: typeof containerArgs;
  private readonly run: RunProgram = runProgram;

  constructor(options: RuncRuntimeOptions) {
    const dir = options.stateDir;
    // Why: cleanup removes folders below it, so it must be exactly what was meant.
    if (!isAbsolute(dir) || normalize(dir) !== dir || dir.endsWith('/') || dir.split('/').length < 3 || /[,:\n\0\\ ]/.test(dir)) {
      throw new Error(`expected an absolute, normalized state folder at least two levels deep, without spaces, ",", ":" or "\\", got ${JSON.stringify(dir)}`);
    }
    this.stateDir = dir;
    this.clock = options.clock ?? realClock;
    this.runc = options.runcPath ?? 'runc';
    this.pollMs = options.pollMs ?? 10;
    this.argsFor = options.containerArgs ?? containerArgs;
    this.runcRoot = join(dir, 'runc');
    this.images = new ImageStore({ root: join(dir, 'images'), ...(options.recipesDir ? { recipesDir: options.recipesDir } : {}) });
    this.netns = new NetworkNamespaces({ prefix: options.netnsPrefix });
    this.network = new PodNetwork({ netns: this.netns, bridge: options.bridge, subnet: options.podCIDR, stateDir: dir });
  }

  async version(): Promise<RuntimeVersion> {
    const result = await this.runcCmd(['--version']);
    const version = /runc version (\S+)/.exec(result.stdout)?.[1] ?? 'unknown';
    return { runtimeName: 'runc', runtimeVersion: version, runtimeApiVersion: 'v1' };
  }

  // ---- sandboxes ------------------------------------------------------------

  // #region run-pod-sandbox
  /** Creates the Pod's network namespace and wires it (CNI ADD); the namespace is the sandbox. */
  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const name = sandboxName(config);
    const taken = (await this.sandboxRecords()).find((s) => sandboxName(s.config) === name);
    // Why: as containerd, the name (pod, namespace, uid, attempt) is reserved until the sandbox is removed.
    if (taken) throw new RuntimeError('CreatePodSandboxError', `failed to reserve sandbox name "${name}": name is reserved for ${taken.status.id}`);
    const id = newId();
    const netns = this.netns.nameFor(id);
    const record: SandboxRecord = {
      status: { id, metadata: { ...config.metadata }, state: 'SANDBOX_NOTREADY', createdAt: this.clock.now(), labels: { ...config.labels } },
      config: structuredClone(config),
      netns,
    };
    // Why record first: a crash between here and the end leaves a record that cleanup and removePodSandbox can follow.
    await mkdir(join(this.sandboxDir(id), 'logs'), { recursive: true });
    await this.writeSandbox(record);
    try {
      await this.netns.create(netns);
      record.status.ip = await this.network.addPodNetwork(netns, id);
    } catch (error) {
      await this.removePodSandbox(id).catch(() => undefined);
      throw new RuntimeError('CreatePodSandboxError', `failed to set up the network of sandbox "${name}": ${(error as Error).message}`);
    }
    record.status.state = 'SANDBOX_READY';
    await this.writeSandbox(record);
    return id;
  }
  // #endregion run-pod-sandbox

  /** Kills what still runs in it, unwires the network (CNI DEL) and deletes the namespace; idempotent. */
  async stopPodSandbox(sandboxId: string): Promise<void> {
    const record = await this.readSandbox(sandboxId);
    if (!record) return;
    // Why timeout 0: the kubelet stops containers gracefully before this; what still runs is killed at once, as containerd does.
    for (const c of await this.containerRecords(sandboxId)) await this.stopContainer(c.status.id, 0);
    await this.network.removePodNetwork(record.netns, sandboxId);
    await this.netns.delete(record.netns);
    delete record.status.ip;
    record.status.state = 'SANDBOX_NOTREADY';
    await this.writeSandbox(record);
  }

  /** Stops it, removes its containers and its record; idempotent. */
  async removePodSandbox(sandboxId: string): Promise<void> {
    validateRuntimeId(sandboxId);
    if (!(await this.readSandbox(sandboxId))) return;
    await this.stopPodSandbox(sandboxId);
    for (const c of await this.containerRecords(sandboxId)) await this.removeContainer(c.status.id);
    await rm(this.sandboxDir(sandboxId), { recursive: true, force: true });
  }

  async podSandboxStatus(sandboxId: string): Promise<PodSandboxStatus> {
    const record = await this.readSandbox(sandboxId);
    if (!record) throw new RuntimeError('NotFound', `expected a pod sandbox with id ${JSON.stringify(sandboxId)}, got none`);
    return record.status;
  }

  async listPodSandboxes(filter: { labels?: Record<string, string> } = {}): Promise<PodSandboxStatus[]> {
    return (await this.sandboxRecords()).filter((s) => hasLabels(s.status.labels, filter.labels)).map((s) => s.status);
  }

  // ---- containers -----------------------------------------------------------

  // #region create-container
  /** Pulls and unpacks the image, mounts an overlay root and writes the OCI bundle; runs nothing yet. */
  async createContainer(sandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    const sandbox = await this.readSandbox(sandboxId);
    if (!sandbox) throw new RuntimeError('NotFound', `expected a pod sandbox with id ${JSON.stringify(sandboxId)}, got none`);
    if (sandbox.status.state !== 'SANDBOX_READY') {
      throw new RuntimeError('CreateContainerError', `expected sandbox ${sandboxId} to be SANDBOX_READY, got ${sandbox.status.state}`);
    }
    const logPath = validateLogPath(config.logPath);
    const taken = (await this.containerRecords(sandboxId)).find((c) => c.status.metadata.name === config.metadata.name && c.status.metadata.attempt === config.metadata.attempt);
    if (taken) throw new RuntimeError('CreateContainerError', `failed to reserve container name "${config.metadata.name}_${config.metadata.attempt}": name is reserved for ${taken.status.id}`);
    // Why resolve first: an unknown or malformed image is refused (ErrImagePull, InvalidImageName) before anything is made.
    const image = await this.images.resolve(config.image);
    // Why decide the process here too: a Pod and image that name no program are refused (CreateContainerError) before anything is made.
    const args = this.argsFor(image.config.config, config);
    const id = newId();
    const dir = this.containerDir(id);
    const podName = sandboxConfig.hostname || sandboxConfig.metadata.name;
    const record: ContainerRecord = {
      status: {
        id, sandboxId, metadata: { ...config.metadata }, state: 'CONTAINER_CREATED', image: image.ref,
        createdAt: this.clock.now(), startedAt: 0, finishedAt: 0, exitCode: 0, reason: '', message: '',
        labels: { ...config.labels }, logPath: config.logPath,
      },
      config: structuredClone(config),
      podName,
      logFile: join(this.sandboxDir(sandboxId), 'logs', logPath),
    };
    await mkdir(dir, { recursive: true });
    await this.writeContainer(record);
    try {
      await this.images.unpack(config.image);
      await this.images.mountContainerRoot(image.id, dir);
      const bundle = bundleConfig({
        args,
        env: containerEnv(image.config.config.Env ?? [], podName, config.env),
        cwd: config.workingDir || image.config.config.WorkingDir || '/',
        rootfsPath: 'rootfs',
        hostname: podName,
        networkNamespacePath: this.netns.path(sandbox.netns),
        memoryLimitBytes: config.memoryLimitBytes > 0 ? config.memoryLimitBytes : 0,
      });
      await writeFile(join(dir, 'config.json'), JSON.stringify(bundle, null, 2));
      await mkdir(dirname(record.logFile), { recursive: true });
    } catch (error) {
      await this.images.unmountContainerRoot(dir).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
      if (error instanceof RuntimeError) throw error;
      throw new RuntimeError('CreateContainerError', `failed to create container ${config.metadata.name}: ${(error as Error).message}`);
    }
    return id;
  }
  // #endregion create-container

  // #region start-container
  /** Launches the detached wrapper that runs `runc run` with the log file as stdout and stderr. */
  async startContainer(containerId: string): Promise<void> {
    const record = await this.requireContainer(containerId);
    if (record.status.state !== 'CONTAINER_CREATED' || record.wrapperPid !== undefined) {
      throw new RuntimeError('RunContainerError', `expected container ${containerId} to be CONTAINER_CREATED, got ${(await this.containerStatus(containerId)).state}`);
    }
    const sandbox = await this.readSandbox(record.status.sandboxId);
    if (sandbox?.status.state !== 'SANDBOX_READY') {
      throw new RuntimeError('RunContainerError', `expected sandbox ${record.status.sandboxId} to be SANDBOX_READY, got ${sandbox?.status.state ?? 'none'}`);
    }
    const dir = this.containerDir(containerId);
    const log = await open(record.logFile, 'a');
    try {
      // Why detached (a new session) and unref: the container must outlive this process, as with containerd's shim.
      const child = spawn('/bin/sh', ['-c', WRAPPER, 'kbs-shim', this.runc, this.runcRoot, dir, containerId], {
        detached: true,
        stdio: ['ignore', log.fd, log.fd],
      });
      child.unref();
      if (child.pid === undefined) throw new RuntimeError('RunContainerError', `expected the wrapper for ${containerId} to start, got no pid`);
      record.wrapperPid = child.pid;
    } finally {
      await log.close();
    }
    record.status.startedAt = this.clock.now();
    await this.writeContainer(record);
    // Why wait for the pid file or the exit: RUNNING should mean runc has started the process, not merely that we asked.
    await this.waitFor(() => existsSync(join(dir, 'pid')) || existsSync(join(dir, 'exitcode')), 10_000);
    if (!existsSync(join(dir, 'pid')) && existsSync(join(dir, 'exitcode'))) {
      const code = await readExitCode(dir);
      const tail = (await readFile(record.logFile, 'utf8').catch(() => '')).trim().split('\n').slice(-3).join(' | ');
      throw new RuntimeError('RunContainerError', `expected runc to start container ${containerId}, got exit ${code}: ${tail}`);
    }
  }
  // #endregion start-container

  // #region stop-container
  /** SIGTERM, wait up to the timeout, then SIGKILL; resolves once it has exited; idempotent. */
  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    const record = await this.readContainer(containerId);
    // Why: idempotent as CRI asks: a removed, never started or exited container is already stopped.
    if (!record || (await this.liveState(record)).state !== 'CONTAINER_RUNNING') return;
    if (timeoutSeconds > 0) {
      await this.runcCmd(['kill', containerId, 'TERM']);
      if (await this.waitFor(() => this.isExited(record), timeoutSeconds * 1000)) return;
    }
    // Why KILL after the grace period: a process that ignores SIGTERM must still end.
    await this.runcCmd(['kill', containerId, 'KILL']);
    if (!(await this.waitFor(() => this.isExited(record), 10_000))) {
      throw new RuntimeError('StopContainerError', `expected container ${containerId} to exit after SIGKILL, got it still running after 10 s`);
    }
  }
  // #endregion stop-container

  /** Deletes runc's state, unmounts the overlay and removes the folder; refuses a running container. */
  async removeContainer(containerId: string): Promise<void> {
    const record = await this.readContainer(containerId);
    if (!record) return;
    const state = (await this.liveState(record)).state;
    // Why: CRI removes only stopped containers; the kubelet must call StopContainer first.
    if (state === 'CONTAINER_RUNNING') {
      throw new RuntimeError('RemoveContainerError', `expected container ${containerId} (${record.status.metadata.name}) to be stopped before removal (StopContainer first), got CONTAINER_RUNNING`);
    }
    // Why --force and ignore the answer: `runc run` usually deletes its container itself on exit.
    await this.runcCmd(['delete', '--force', containerId]);
    const dir = this.containerDir(containerId);
    await this.images.unmountContainerRoot(dir);
    await rm(dir, { recursive: true, force: true });
    await rm(record.logFile, { force: true });
  }

  async containerStatus(containerId: string): Promise<ContainerStatus> {
    return this.liveState(await this.requireContainer(containerId));
  }

  async listContainers(filter: { sandboxId?: string; labels?: Record<string, string> } = {}): Promise<ContainerStatus[]> {
    const records = (await this.containerRecords(filter.sandboxId)).filter((c) => hasLabels(c.status.labels, filter.labels));
    return Promise.all(records.map((c) => this.liveState(c)));
  }

  /** The log as `kubectl logs` shows it: the container's stdout and stderr as written (this runtime keeps plain lines). */
  async readLog(containerId: string): Promise<string> {
    const record = await this.requireContainer(containerId);
    return readFile(record.logFile, 'utf8').catch(() => '');
  }

  // #region exec
  /** `runc exec <id> <argv...>` with a timeout (exec probes). */
  async exec(containerId: string, command: string[], timeoutSeconds: number): Promise<{ exitCode: number; output: string }> {
    const record = await this.requireContainer(containerId);
    const status = await this.liveState(record);
    if (status.state !== 'CONTAINER_RUNNING') {
      throw new RuntimeError('ExecError', `expected container ${containerId} to be CONTAINER_RUNNING to exec in it, got ${status.state}`);
    }
    // Why refuse a leading "-": runc would read it as one of its own flags rather than the program to run.
    if (command.length === 0 || command[0] === '' || command[0]!.startsWith('-')) {
      throw new RuntimeError('ExecError', `expected a command whose program does not start with "-", got ${JSON.stringify(command)}`);
    }
    const timeoutMs = timeoutSeconds > 0 ? timeoutSeconds * 1000 : 60_000;
    const started = Date.now();
    let result: ProgramResult | undefined;
    try {
      result = await this.run(this.runc, ['--root', this.runcRoot, 'exec', containerId, ...command], { timeoutMs });
    } catch (error) {
      // Why: runProgram rejects only when runc could not run at all or was killed by the timeout.
      if (!(error as Error).message.includes('killed after')) throw new RuntimeError('ExecError', (error as Error).message);
    }
    // Why also check the time: on the timeout runc passes SIGTERM on to the command and exits with its status (143), so no error says so.
    if (result === undefined || Date.now() - started >= timeoutMs) {
      throw new RuntimeError('DeadlineExceeded', `command ${JSON.stringify(command)} timed out after ${timeoutSeconds}s`);
    }
    return { exitCode: result.exitCode, output: result.stdout + result.stderr };
  }
  // #endregion exec

  // ---- images ---------------------------------------------------------------

  async pullImage(ref: string): Promise<ImageInfo> {
    return this.images.pullImage(ref);
  }

  async listImages(): Promise<ImageInfo[]> {
    return this.images.listImages();
  }

  // ---- cleanup --------------------------------------------------------------

  // #region cleanup
  /**
   * Removes everything this runtime made: every container under our runc
   * root (killed, deleted), every overlay mount below containers/, every
   * network namespace with our prefix and the bridge (PodNetwork.cleanup), and
   * the state folder's contents. Best-effort past errors, so it can run after
   * a crash or a failed test.
   */
  async cleanup(): Promise<void> {
    const errors: string[] = [];
    const attempt = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (error) {
        errors.push(`${what}: ${(error as Error).message}`);
      }
    };
    for (const id of await this.runcIds()) {
      await attempt(`kill ${id}`, () => this.runcCmd(['kill', id, 'KILL']));
    }
    for (const record of await this.containerRecords()) {
      await attempt(`wait ${record.status.id}`, () => this.waitFor(() => this.isExited(record), 5_000));
    }
    for (const id of await this.runcIds()) await attempt(`delete ${id}`, () => this.runcCmd(['delete', '--force', id]));
    for (const id of await listIds(join(this.stateDir, 'containers'))) {
      await attempt(`unmount ${id}`, () => this.images.unmountContainerRoot(this.containerDir(id)));
    }
    await attempt('pod network', () => this.network.cleanup());
    for (const sub of ['containers', 'sandboxes', 'runc', 'images']) {
      const path = join(this.stateDir, sub);
      // Why check for mounts first: rm -r through a still-mounted overlay would delete an image's files.
      if ((await readFile('/proc/self/mounts', 'utf8')).includes(` ${path}/`)) {
        errors.push(`${path} still has a mount below it; left in place`);
        continue;
      }
      await attempt(`remove ${path}`, () => rm(path, { recursive: true, force: true }));
    }
    if (errors.length > 0) throw new Error(`expected cleanup to remove everything, got ${errors.length} problem(s): ${errors.join('; ')}`);
  }
  // #endregion cleanup

  /** The ids of the containers runc knows under our root (`runc --root <ours> list`). */
  async runcIds(): Promise<string[]> {
    // Why check first: `runc list` would create the root folder, and after cleanup nothing of ours may reappear.
    if (!existsSync(this.runcRoot)) return [];
    const result = await this.runcCmd(['list', '-q']);
    return result.stdout.split('\n').map((l) => l.trim()).filter((l) => /^[a-z0-9]+$/.test(l));
  }

  // ---- inside the runtime ---------------------------------------------------

  private sandboxDir(id: string): string {
    return join(this.stateDir, 'sandboxes', validateRuntimeId(id));
  }

  private containerDir(id: string): string {
    return join(this.stateDir, 'containers', validateRuntimeId(id));
  }

  private async runcCmd(args: string[]): Promise<ProgramResult> {
    return this.run(this.runc, ['--root', this.runcRoot, ...args], { timeoutMs: 30_000 });
  }

  private async writeSandbox(record: SandboxRecord): Promise<void> {
    await writeJson(join(this.sandboxDir(record.status.id), 'sandbox.json'), record);
  }

  private async readSandbox(id: string): Promise<SandboxRecord | undefined> {
    return readJson<SandboxRecord>(join(this.sandboxDir(id), 'sandbox.json'));
  }

  private async sandboxRecords(): Promise<SandboxRecord[]> {
    const ids = await listIds(join(this.stateDir, 'sandboxes'));
    const records = await Promise.all(ids.map((id) => this.readSandbox(id)));
    return records.filter((r): r is SandboxRecord => r !== undefined).sort((a, b) => a.status.createdAt - b.status.createdAt);
  }

  private async writeContainer(record: ContainerRecord): Promise<void> {
    await writeJson(join(this.containerDir(record.status.id), 'container.json'), record);
  }

  private async readContainer(id: string): Promise<ContainerRecord | undefined> {
    return readJson<ContainerRecord>(join(this.containerDir(id), 'container.json'));
  }

  private async requireContainer(id: string): Promise<ContainerRecord> {
    const record = await this.readContainer(id);
    if (!record) throw new RuntimeError('NotFound', `expected a container with id ${JSON.stringify(id)}, got none`);
    return record;
  }

  private async containerRecords(sandboxId?: string): Promise<ContainerRecord[]> {
    const ids = await listIds(join(this.stateDir, 'containers'));
    const records = await Promise.all(ids.map((id) => this.readContainer(id)));
    return records
      .filter((r): r is ContainerRecord => r !== undefined && (sandboxId === undefined || r.status.sandboxId === sandboxId))
      .sort((a, b) => a.status.createdAt - b.status.createdAt);
  }

  // #region live-state
  /** The record's status with its state read from the world: the exit code file, else whether the wrapper lives. */
  private async liveState(record: ContainerRecord): Promise<ContainerStatus> {
    const status = structuredClone(record.status);
    if (record.wrapperPid === undefined) return status;
    const dir = this.containerDir(status.id);
    const exitFile = join(dir, 'exitcode');
    if (existsSync(exitFile)) {
      status.state = 'CONTAINER_EXITED';
      status.exitCode = await readExitCode(dir);
      status.finishedAt = (await stat(exitFile)).mtimeMs;
      // Why: containerd's reasons: "Completed" for exit 0, "Error" otherwise.
      status.reason = status.exitCode === 0 ? 'Completed' : 'Error';
    } else if (await wrapperAlive(record.wrapperPid, status.id)) {
      status.state = 'CONTAINER_RUNNING';
    } else {
      // Why UNKNOWN-like exit: the wrapper died without writing a code (killed itself, or the machine rebooted).
      status.state = 'CONTAINER_EXITED';
      status.exitCode = 255;
      status.reason = 'Unknown';
      status.message = 'the container ended without its exit code being recorded';
    }
    return status;
  }
  // #endregion live-state

  private async isExited(record: ContainerRecord): Promise<boolean> {
    return (await this.liveState(record)).state !== 'CONTAINER_RUNNING';
  }

  /** Polls `done` on the clock until it holds or `timeoutMs` passes; says which. */
  private async waitFor(done: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
    const deadline = this.clock.now() + timeoutMs;
    for (;;) {
      if (await done()) return true;
      if (this.clock.now() >= deadline) return false;
      await sleep(this.pollMs, this.clock);
    }
  }
}

// #region container-args
/**
 * The process to run, as Kubernetes decides it: `command` replaces the
 * image's Entrypoint (and then the image's Cmd is dropped), `args` replaces its Cmd.
 */
export function containerArgs(image: { Entrypoint?: string[]; Cmd?: string[] }, config: Pick<ContainerConfig, 'command' | 'args' | 'image'>): string[] {
  const entrypoint = config.command.length > 0 ? config.command : (image.Entrypoint ?? []);
  // Why: a Pod that sets command but no args runs only its command, not the image's Cmd.
  const cmd = config.args.length > 0 ? config.args : config.command.length > 0 ? [] : (image.Cmd ?? []);
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0) throw new RuntimeError('CreateContainerError', `expected a command from the Pod or the image ${config.image}, got none`);
  return argv;
}
// #endregion container-args

/** The environment: the image's, then HOSTNAME (the Pod's name), then the container's; later keys win. */
export function containerEnv(imageEnv: string[], podName: string, env: ContainerConfig['env']): string[] {
  const merged = new Map<string, string>();
  for (const entry of imageEnv) {
    const eq = entry.indexOf('=');
    if (eq > 0) merged.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  merged.set('HOSTNAME', podName);
  for (const { key, value } of env) merged.set(key, value);
  return [...merged].map(([key, value]) => `${key}=${value}`);
}

function newId(): string {
  // Why 24 hex characters: unique enough, and the netns name (prefix + id) stays short.
  return randomBytes(12).toString('hex');
}

function sandboxName(config: PodSandboxConfig): string {
  const { name, namespace, uid, attempt } = config.metadata;
  return `${name}_${namespace}_${uid}_${attempt}`;
}

function hasLabels(labels: Record<string, string>, wanted: Record<string, string> = {}): boolean {
  return Object.entries(wanted).every(([key, value]) => labels[key] === value);
}

async function listIds(dir: string): Promise<string[]> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  return entries.filter((e) => /^[a-z0-9]{1,64}$/.test(e)).sort();
}

async function writeJson(path: string, value: unknown): Promise<void> {
  // Why write-and-rename: a crash must never leave half a record.
  const tmp = `${path}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 2));
  await rename(tmp, path);
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function readExitCode(dir: string): Promise<number> {
  const text = (await readFile(join(dir, 'exitcode'), 'utf8')).trim();
  const code = Number(text);
  return Number.isInteger(code) ? code : 255;
}

/** Whether our wrapper still runs: the pid lives and its command line names the container (not a reused pid). */
async function wrapperAlive(pid: number, containerId: string): Promise<boolean> {
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.split('\0').includes(containerId);
  } catch {
    return false;
  }
}
