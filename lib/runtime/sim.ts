/**
 * The simulated container runtime: the CRI-shaped `ContainerRuntime` in
 * process, deterministic and on any OS. Time comes from an injected clock, so
 * a test with a fake clock decides when sleeps end and grace periods run out;
 * no real timer is set then. What a container "runs" is decided from its argv,
 * which `containerArgs` chooses from the image's Entrypoint and Cmd (those of
 * its real recipe) and the container's command and args, exactly as runc's is
 * (see sim-program.ts); servers answer on the sim network (see
 * sim-network.ts) at their Pod's IP, which comes from the node's Pod CIDR as
 * the host-local IPAM plugin would hand it out (see sim-ipam.ts).
 *
 * Annotations, read from the container's config and then from the sandbox's
 * (that is, the Pod's):
 * - `sim.workbook/ignore-sigterm: "true"`: the program ignores SIGTERM, so
 *   `stopContainer` kills it after the timeout (exit 137).
 * - `sim.workbook/memory-usage: "<quantity>"`: how much memory the program
 *   uses; above the container's memory limit it is OOMKilled (exit 137) as
 *   soon as it starts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { realClock, type Clock } from '../client/client.ts';
import { parseQuantity } from '../apiserver/validation.ts';
import { projectRoot } from '../workbook/root.ts';
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
import { containerArgs } from './runc.ts';
import { DEFAULT_SIM_IMAGES, parseImageRef, pullNotFound, simImage, type SimImage, type SimImageConfig } from './sim-catalogue.ts';
import { HostLocalIpam } from './sim-ipam.ts';
import { SimNetwork, type SimHttpHandler, type SimHttpResponse } from './sim-network.ts';
import { execProgram, handlesSigterm, programFor, SimProcess, type SimImageProfile } from './sim-program.ts';

/** The annotation that makes a simulated program ignore SIGTERM. */
export const IGNORE_SIGTERM_ANNOTATION = 'sim.workbook/ignore-sigterm';
/** The annotation that says how much memory a simulated program uses (a quantity such as "200Mi"). */
export const MEMORY_USAGE_ANNOTATION = 'sim.workbook/memory-usage';

/** How to build a SimRuntime. */
export interface SimRuntimeOptions {
  /** Time source; a fake clock makes the runtime fully deterministic. Default: real time. */
  clock?: Clock;
  /** The node's Pod CIDR, e.g. "10.244.1.0/24" (.1 is the gateway). Default "10.244.0.0/24". */
  podCIDR?: string;
  /** The network the containers listen on; share one between the runtimes of several nodes. Default: a new one. */
  network?: SimNetwork;
  /**
   * More images to know besides the scenario's (e.g. control-plane images for
   * static Pods), with a server port if any, and their Entrypoint and Cmd
   * (default: Entrypoint `/usr/local/bin/<name>`).
   */
  extraImages?: Array<{ ref: string; server?: SimImageProfile['server']; config?: SimImageConfig }>;
  /** Decides the process a container runs from its image and its config (exercise 5.3). Default: `containerArgs`, as runc uses. */
  containerArgs?: typeof containerArgs;
}

/** A log line as the runtime keeps it (one line of a CRI log file). */
interface LogEntry {
  time: number;
  stream: 'stdout' | 'stderr';
  line: string;
}

interface SimSandbox {
  status: PodSandboxStatus;
  config: PodSandboxConfig;
}

interface SimContainer {
  status: ContainerStatus;
  config: ContainerConfig;
  sandboxConfig: PodSandboxConfig;
  image: SimImage;
  /** The process it runs, as `containerArgs` decided it at creation. */
  argv: string[];
  files: Set<string>;
  log: LogEntry[];
  process?: SimProcess;
  listening: number[];
  execs: Set<SimProcess>;
  /** Set while a stop is in progress: when SIGKILL comes, and who waits for the exit. */
  stop?: { deadline: number; timer: unknown; waiters: Array<() => void> };
}

/** The in-process, deterministic `ContainerRuntime`, with a sim network for probes and labs. */
export class SimRuntime implements ContainerRuntime {
  readonly network: SimNetwork;
  readonly ipam: HostLocalIpam;
  private readonly clock: Clock;
  private readonly argsFor: typeof containerArgs;
  private readonly catalogue = new Map<string, SimImage>();
  private readonly present = new Map<string, ImageInfo>();
  private readonly sandboxes = new Map<string, SimSandbox>();
  private readonly containers = new Map<string, SimContainer>();
  private serial = 0;

  constructor(options: SimRuntimeOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.argsFor = options.containerArgs ?? containerArgs;
    this.network = options.network ?? new SimNetwork();
    this.ipam = new HostLocalIpam(options.podCIDR ?? '10.244.0.0/24');
    for (const ref of DEFAULT_SIM_IMAGES) this.addImage(simImage(ref));
    for (const extra of options.extraImages ?? []) this.addImage(simImage(extra.ref, extra.server, extra.config));
  }

  async version(): Promise<RuntimeVersion> {
    return { runtimeName: 'sim', runtimeVersion: '0.1.0', runtimeApiVersion: 'v1' };
  }

  // ---- sandboxes ------------------------------------------------------------

  // #region run-pod-sandbox
  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const name = sandboxName(config);
    const taken = [...this.sandboxes.values()].find((s) => sandboxName(s.config) === name);
    // Why: containerd reserves the name (pod, namespace, uid, attempt) until the sandbox is removed; a retry must use a new attempt.
    if (taken) throw new RuntimeError('CreatePodSandboxError', `failed to reserve sandbox name "${name}": name is reserved for ${taken.status.id}`);
    const id = this.newId('sandbox', name);
    const ip = this.ipam.allocate();
    const status: PodSandboxStatus = { id, metadata: { ...config.metadata }, state: 'SANDBOX_READY', createdAt: this.clock.now(), ip, labels: { ...config.labels } };
    this.sandboxes.set(id, { status, config: structuredClone(config) });
    return id;
  }
  // #endregion run-pod-sandbox

  async stopPodSandbox(sandboxId: string): Promise<void> {
    const sandbox = this.sandboxes.get(sandboxId);
    if (!sandbox) return;
    // Why: the kubelet stops containers gracefully before this; what still runs now is killed at once, as containerd does.
    await Promise.all(this.containersOf(sandboxId).map((c) => this.stopContainer(c.status.id, 0)));
    if (sandbox.status.ip) this.ipam.release(sandbox.status.ip);
    delete sandbox.status.ip;
    sandbox.status.state = 'SANDBOX_NOTREADY';
  }

  async removePodSandbox(sandboxId: string): Promise<void> {
    if (!this.sandboxes.has(sandboxId)) return;
    await this.stopPodSandbox(sandboxId);
    for (const container of this.containersOf(sandboxId)) this.containers.delete(container.status.id);
    this.sandboxes.delete(sandboxId);
  }

  async podSandboxStatus(sandboxId: string): Promise<PodSandboxStatus> {
    return structuredClone(this.sandbox(sandboxId).status);
  }

  async listPodSandboxes(filter: { labels?: Record<string, string> } = {}): Promise<PodSandboxStatus[]> {
    return [...this.sandboxes.values()].filter((s) => hasLabels(s.status.labels, filter.labels)).map((s) => structuredClone(s.status));
  }

  // ---- containers -----------------------------------------------------------

  async createContainer(sandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    const ref = parseImageRef(config.image);
    const sandbox = this.sandbox(sandboxId);
    if (sandbox.status.state !== 'SANDBOX_READY') {
      throw new RuntimeError('CreateContainerError', `expected sandbox ${sandboxId} to be SANDBOX_READY, got ${sandbox.status.state}`);
    }
    const image = this.catalogue.get(ref.familiar);
    if (!image || !this.present.has(image.info.id)) {
      throw new RuntimeError('CreateContainerError', `expected image "${ref.full}" to be present on the node (pull it first), got none`);
    }
    // Why here, as runc does: a Pod and image that name no program are refused (CreateContainerError) before anything is made.
    const argv = this.argsFor(structuredClone(image.config), config);
    const name = `${config.metadata.name}_${sandboxName(sandboxConfig)}`;
    const taken = this.containersOf(sandboxId).find((c) => c.status.metadata.name === config.metadata.name && c.status.metadata.attempt === config.metadata.attempt);
    if (taken) throw new RuntimeError('CreateContainerError', `failed to reserve container name "${name}_${config.metadata.attempt}": name is reserved for ${taken.status.id}`);
    const id = this.newId('container', name);
    const status: ContainerStatus = {
      id, sandboxId, metadata: { ...config.metadata }, state: 'CONTAINER_CREATED', image: image.info.ref,
      createdAt: this.clock.now(), startedAt: 0, finishedAt: 0, exitCode: 0, reason: '', message: '',
      labels: { ...config.labels }, logPath: config.logPath,
    };
    const copy = structuredClone(config);
    this.containers.set(id, { status, config: copy, sandboxConfig: structuredClone(sandboxConfig), image, argv: [...argv], files: new Set(), log: [], listening: [], execs: new Set() });
    return id;
  }

  // #region start-container
  async startContainer(containerId: string): Promise<void> {
    const container = this.container(containerId);
    const { status } = container;
    if (status.state !== 'CONTAINER_CREATED') {
      throw new RuntimeError('RunContainerError', `expected container ${containerId} to be CONTAINER_CREATED, got ${status.state}`);
    }
    const sandbox = this.sandbox(status.sandboxId);
    if (sandbox.status.state !== 'SANDBOX_READY') {
      throw new RuntimeError('RunContainerError', `expected sandbox ${status.sandboxId} to be SANDBOX_READY, got ${sandbox.status.state}`);
    }
    status.state = 'CONTAINER_RUNNING';
    status.startedAt = this.clock.now();
    const process = new SimProcess(programFor(container.image, container.argv), {
      clock: this.clock,
      files: container.files,
      write: (line, stream) => container.log.push({ time: this.clock.now(), stream: stream ?? 'stdout', line }),
      listen: (port) => this.listen(container, port),
    }, (exitCode) => this.exited(container, exitCode));
    container.process = process;
    process.start();
    // Why: a program that needs more than its limit is killed by the kernel's OOM killer, which the runtime reports as OOMKilled.
    if (!process.exited && this.overMemoryLimit(container)) this.kill(container, 137, 'OOMKilled');
  }
  // #endregion start-container

  // #region stop-container
  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    const container = this.containers.get(containerId);
    // Why: idempotent as CRI asks: a removed, never started or exited container is already stopped.
    if (!container || container.status.state !== 'CONTAINER_RUNNING') return;
    const exited = new Promise<void>((resolve) => {
      container.stop ??= { deadline: Infinity, timer: undefined, waiters: [] };
      container.stop.waiters.push(resolve);
    });
    const stop = container.stop!;
    const deadline = this.clock.now() + Math.max(0, timeoutSeconds) * 1000;
    if (timeoutSeconds <= 0) {
      // Why: with no grace period the runtime sends SIGKILL straight away.
      this.kill(container, 137);
    } else if (annotation(container, IGNORE_SIGTERM_ANNOTATION) === 'true' || !handlesSigterm(container.image, container.argv)) {
      // Why: SIGTERM is ignored (PID 1 without a handler), so only SIGKILL at the deadline ends it; a second stop with a shorter timeout brings the deadline forward.
      if (deadline < stop.deadline) {
        if (stop.timer !== undefined) this.clock.clearTimeout(stop.timer);
        stop.deadline = deadline;
        stop.timer = this.clock.setTimeout(() => this.kill(container, 137), deadline - this.clock.now());
      }
    } else {
      this.kill(container, 143);
    }
    return exited;
  }
  // #endregion stop-container

  async removeContainer(containerId: string): Promise<void> {
    const container = this.containers.get(containerId);
    if (!container) return;
    // Why: CRI removes only stopped containers; the kubelet must call StopContainer first.
    if (container.status.state === 'CONTAINER_RUNNING') {
      throw new RuntimeError('RemoveContainerError', `expected container ${containerId} (${container.status.metadata.name}) to be stopped before removal (StopContainer first), got CONTAINER_RUNNING`);
    }
    this.containers.delete(containerId);
  }

  async containerStatus(containerId: string): Promise<ContainerStatus> {
    return structuredClone(this.container(containerId).status);
  }

  async listContainers(filter: { sandboxId?: string; labels?: Record<string, string> } = {}): Promise<ContainerStatus[]> {
    return [...this.containers.values()]
      .filter((c) => (filter.sandboxId === undefined || c.status.sandboxId === filter.sandboxId) && hasLabels(c.status.labels, filter.labels))
      .map((c) => structuredClone(c.status));
  }

  /**
   * The container's log as `kubectl logs` shows it: the plain lines, each ending
   * in a newline, stdout and stderr interleaved in the order written. (The CRI
   * log file's own format, with time and stream on every line, is `criLog`.)
   */
  async readLog(containerId: string): Promise<string> {
    return this.container(containerId).log.map((e) => `${e.line}\n`).join('');
  }

  /** The container's log as a CRI log file holds it: `<RFC3339Nano time> <stream> F <line>` per line. */
  async criLog(containerId: string): Promise<string> {
    return this.container(containerId).log.map((e) => `${new Date(e.time).toISOString()} ${e.stream} F ${e.line}\n`).join('');
  }

  // #region exec
  async exec(containerId: string, command: string[], timeoutSeconds: number): Promise<{ exitCode: number; output: string }> {
    const container = this.container(containerId);
    if (container.status.state !== 'CONTAINER_RUNNING') {
      throw new RuntimeError('ExecError', `expected container ${containerId} to be CONTAINER_RUNNING to exec in it, got ${container.status.state}`);
    }
    const output: string[] = [];
    return new Promise((resolve, reject) => {
      let timer: unknown;
      const process = new SimProcess(execProgram(command), {
        clock: this.clock,
        files: container.files,
        write: (line) => output.push(line),
        listen: () => undefined,
      }, (exitCode) => {
        container.execs.delete(process);
        if (timer !== undefined) this.clock.clearTimeout(timer);
        resolve({ exitCode, output: output.map((line) => `${line}\n`).join('') });
      });
      container.execs.add(process);
      if (timeoutSeconds > 0) {
        timer = this.clock.setTimeout(() => {
          timer = undefined;
          container.execs.delete(process);
          reject(new RuntimeError('DeadlineExceeded', `command ${JSON.stringify(command)} timed out after ${timeoutSeconds}s`));
          process.kill(137);
        }, timeoutSeconds * 1000);
      }
      process.start();
    });
  }
  // #endregion exec

  // ---- images ---------------------------------------------------------------

  async pullImage(ref: string): Promise<ImageInfo> {
    const parsed = parseImageRef(ref);
    const image = parsed.digest
      ? [...this.catalogue.values()].find((i) => i.info.id === parsed.digest && parseImageRef(i.info.ref).repository === parsed.repository)
      : this.catalogue.get(parsed.familiar);
    if (!image) throw pullNotFound(parsed);
    this.present.set(image.info.id, image.info);
    return { ...image.info };
  }

  async listImages(): Promise<ImageInfo[]> {
    return [...this.present.values()].map((info) => ({ ...info }));
  }

  // ---- the sim network ------------------------------------------------------

  /** An HTTP GET over the sim network (HTTP probes, labs); rejects with "connection refused" when nothing listens. */
  httpGet(ip: string, port: number, path = '/'): Promise<SimHttpResponse> {
    return this.network.httpGet(ip, port, path);
  }

  /** A TCP connection over the sim network (TCP probes); rejects with "connection refused" when nothing listens. */
  tcpConnect(ip: string, port: number): Promise<void> {
    return this.network.tcpConnect(ip, port);
  }

  // ---- inside the runtime ---------------------------------------------------

  private addImage(image: SimImage): void {
    this.catalogue.set(image.info.ref, image);
  }

  private sandbox(id: string): SimSandbox {
    const sandbox = this.sandboxes.get(id);
    if (!sandbox) throw new RuntimeError('NotFound', `expected a pod sandbox with id ${JSON.stringify(id)}, got none (${this.sandboxes.size} sandboxes on this node)`);
    return sandbox;
  }

  private container(id: string): SimContainer {
    const container = this.containers.get(id);
    if (!container) throw new RuntimeError('NotFound', `expected a container with id ${JSON.stringify(id)}, got none (${this.containers.size} containers on this node)`);
    return container;
  }

  private containersOf(sandboxId: string): SimContainer[] {
    return [...this.containers.values()].filter((c) => c.status.sandboxId === sandboxId);
  }

  /** A 64-hex id like containerd's, deterministic: from a serial number and the name. */
  private newId(kind: string, name: string): string {
    return createHash('sha256').update(`${kind} ${++this.serial} ${name}`).digest('hex');
  }

  private listen(container: SimContainer, port: number): void {
    const ip = this.sandboxes.get(container.status.sandboxId)?.status.ip;
    if (!ip) return;
    try {
      this.network.listen(ip, port, this.handlerFor(container));
      container.listening.push(port);
    } catch (err) {
      // Why: two containers of one Pod share its IP, so the second one on a port fails as a real server would.
      container.log.push({ time: this.clock.now(), stream: 'stderr', line: (err as Error).message });
      container.process?.kill(1);
    }
  }

  private kill(container: SimContainer, exitCode: number, reason?: string): void {
    if (reason) container.status.reason = reason;
    container.process?.kill(exitCode);
  }

  /** Records a container's exit: state, time, code, reason; closes its ports and wakes whoever stops it. */
  private exited(container: SimContainer, exitCode: number): void {
    const { status } = container;
    const ip = this.sandboxes.get(status.sandboxId)?.status.ip;
    for (const port of container.listening) if (ip) this.network.close(ip, port);
    container.listening = [];
    for (const exec of [...container.execs]) exec.kill(137);
    status.state = 'CONTAINER_EXITED';
    status.finishedAt = this.clock.now();
    status.exitCode = exitCode;
    // Why: containerd's reasons: "Completed" for exit 0, "Error" for anything else, unless the OOM killer was the cause.
    if (status.reason !== 'OOMKilled') status.reason = exitCode === 0 ? 'Completed' : 'Error';
    const stop = container.stop;
    delete container.stop;
    if (stop?.timer !== undefined) this.clock.clearTimeout(stop.timer);
    for (const wake of stop?.waiters ?? []) wake();
  }

  private overMemoryLimit(container: SimContainer): boolean {
    const usage = annotation(container, MEMORY_USAGE_ANNOTATION);
    const limit = container.config.memoryLimitBytes;
    return usage !== undefined && limit > 0 && parseQuantity(usage) > limit;
  }

  private logLine(container: SimContainer, line: string, stream: 'stdout' | 'stderr'): void {
    container.log.push({ time: this.clock.now(), stream, line });
  }

  private handlerFor(container: SimContainer): SimHttpHandler {
    const pod = env(container, 'HOSTNAME') || container.sandboxConfig.hostname || container.sandboxConfig.metadata.name;
    switch (container.image.name) {
      case 'backend':
        return () => {
          // Why a log line: the real image's CGI script writes this to stderr for every request.
          this.logLine(container, `GET /: answered as ${pod}`, 'stderr');
          return respond(200, 'application/json', `${JSON.stringify({ pod, app: 'backend', version: 'v0.0.1' })}\n`);
        };
      case 'frontend':
        return (path) => {
          if (path !== '/') return respond(404, 'text/plain', '404 Not Found\n');
          this.logLine(container, `GET /: answered as ${pod}, asking ${env(container, 'BACKEND_ENDPOINT') ?? 'http://backend'}`, 'stderr');
          return this.frontendPage(container, pod);
        };
      case 'nginx':
        return (path) => (path === '/' || path === '/index.html' ? respond(200, 'text/html', NGINX_WELCOME) : respond(404, 'text/html', NGINX_404));
      default:
        return () => respond(200, 'text/plain', 'ok\n');
    }
  }

  /** The frontend's page: it fetches $BACKEND_ENDPOINT over the sim network and embeds the answer or the error. */
  private async frontendPage(container: SimContainer, pod: string): Promise<SimHttpResponse> {
    const endpoint = env(container, 'BACKEND_ENDPOINT') ?? 'http://backend';
    let status = 'ok';
    let answer: string;
    try {
      const url = new URL(endpoint);
      answer = (await this.network.httpGet(url.hostname, Number(url.port || 80), url.pathname || '/')).body;
    } catch (err) {
      status = 'error';
      answer = (err as Error).message;
    }
    const page = [
      '<!DOCTYPE html>', '<html>', '<head><title>frontend v0.0.1</title></head>', '<body>', '<h1>frontend v0.0.1</h1>',
      `<p>Served by Pod <b>${escapeHtml(pod)}</b>.</p>`, `<p>Backend (${escapeHtml(endpoint)}) said (${status}):</p>`,
      `<pre id="backend">${escapeHtml(answer.trimEnd())}</pre>`, '</body>', '</html>', '',
    ].join('\n');
    return respond(200, 'text/html', page);
  }
}

/** The nginx stand-in's page, read from its image recipe so the sim answers exactly as the real image does. */
const NGINX_WELCOME = readFileSync(join(projectRoot, 'images', 'nginx', 'index.html'), 'utf8');

const NGINX_404 = '<html>\n<head><title>404 Not Found</title></head>\n<body>\n<center><h1>404 Not Found</h1></center>\n<hr><center>nginx/1.14.2</center>\n</body>\n</html>\n';

function respond(statusCode: number, contentType: string, body: string): SimHttpResponse {
  return { statusCode, headers: { 'content-type': contentType }, body };
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The name containerd reserves for a sandbox: name, namespace, uid and attempt. */
function sandboxName(config: PodSandboxConfig): string {
  const { name, namespace, uid, attempt } = config.metadata;
  return `${name}_${namespace}_${uid}_${attempt}`;
}

function hasLabels(labels: Record<string, string>, wanted: Record<string, string> = {}): boolean {
  return Object.entries(wanted).every(([key, value]) => labels[key] === value);
}

/** A sim annotation, from the container's config first and then from its Pod's (the sandbox's). */
function annotation(container: SimContainer, key: string): string | undefined {
  return container.config.annotations[key] ?? container.sandboxConfig.annotations[key];
}

function env(container: SimContainer, key: string): string | undefined {
  return container.config.env.find((e) => e.key === key)?.value;
}
