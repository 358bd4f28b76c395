/**
 * The kubelet's probes. For each running container with a liveness or
 * readiness probe, a probe worker waits initialDelaySeconds, then probes
 * every periodSeconds: an HTTP GET (any status from 200 to 399 passes), a
 * TCP connect, or a command run inside the container (exit code 0 passes).
 * The result goes through `applyProbeResult`, and what it decides goes to
 * the Pod's worker: restart the container, or mark it ready or not ready.
 */
import { get as httpGet } from 'node:http';
import { connect } from 'node:net';
import type { Container, Pod, Probe } from '../api/types.ts';
import type { Clock } from '../client/client.ts';
import type { ContainerRuntime } from '../runtime/cri.ts';
import type { SimRuntime } from '../runtime/sim.ts';
import { newProbeTrack, PROBE_DEFAULTS, type ProbeTrack } from './probe-results.ts';
import type { PodWorkerEvent, ContainerRecord } from './pod-worker.ts';
import type { KubeletSeams } from './seams.ts';

/** How probes reach a Pod's IP: over the sim network, or the host's. */
export interface Prober {
  /** Resolves to the HTTP status code; rejects when nothing answers. */
  httpGet(ip: string, port: number, path: string, timeoutMs: number): Promise<number>;
  tcpConnect(ip: string, port: number, timeoutMs: number): Promise<void>;
}

/** Probes over a SimRuntime's sim network. */
export function simProber(runtime: SimRuntime): Prober {
  return {
    httpGet: async (ip, port, path) => (await runtime.httpGet(ip, port, path)).statusCode,
    tcpConnect: (ip, port) => runtime.tcpConnect(ip, port),
  };
}

/** Probes from the node itself, as the real kubelet does (Pod IPs are routable from the node). */
export const hostProber: Prober = {
  httpGet: (ip, port, path, timeoutMs) =>
    new Promise((resolve, reject) => {
      const req = httpGet({ host: ip, port, path, timeout: timeoutMs, headers: { 'user-agent': 'kube-probe/1.32' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('timeout', () => req.destroy(new Error(`context deadline exceeded (Client.Timeout exceeded while awaiting headers)`)));
      req.on('error', reject);
    }),
  tcpConnect: (ip, port, timeoutMs) =>
    new Promise((resolve, reject) => {
      const socket = connect({ host: ip, port, timeout: timeoutMs });
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('timeout', () => socket.destroy(new Error('i/o timeout')));
      socket.once('error', reject);
    }),
};

/** One probe's outcome and, on failure, the message the Unhealthy event carries. */
export interface ProbeOutcome {
  result: 'success' | 'failure';
  message: string;
}

// #region run-probe
/** Runs one probe of a container once. */
export async function runProbe(probe: Probe, container: Container, target: { podIP: string; containerId: string }, runtime: ContainerRuntime, prober: Prober): Promise<ProbeOutcome> {
  const timeoutMs = (probe.timeoutSeconds ?? PROBE_DEFAULTS.timeoutSeconds) * 1000;
  if (probe.exec) {
    const { exitCode, output } = await runtime.exec(target.containerId, probe.exec.command ?? [], timeoutMs / 1000);
    return exitCode === 0 ? { result: 'success', message: '' } : { result: 'failure', message: output.trim() || `command ${JSON.stringify((probe.exec.command ?? []).join(' '))} exited with ${exitCode}` };
  }
  if (probe.httpGet) {
    const port = portNumber(probe.httpGet.port, container);
    const host = probe.httpGet.host ?? target.podIP;
    const path = probe.httpGet.path ?? '/';
    try {
      const status = await prober.httpGet(host, port, path, timeoutMs);
      // Why 200-399: redirects count as alive, as upstream's HTTP prober decides.
      if (status >= 200 && status < 400) return { result: 'success', message: '' };
      return { result: 'failure', message: `HTTP probe failed with statuscode: ${status}` };
    } catch (error) {
      return { result: 'failure', message: `Get "http://${host}:${port}${path}": ${(error as Error).message}` };
    }
  }
  if (probe.tcpSocket) {
    const port = portNumber(probe.tcpSocket.port, container);
    const host = probe.tcpSocket.host ?? target.podIP;
    try {
      await prober.tcpConnect(host, port, timeoutMs);
      return { result: 'success', message: '' };
    } catch (error) {
      return { result: 'failure', message: `dial tcp ${host}:${port}: ${(error as Error).message}` };
    }
  }
  return { result: 'failure', message: 'expected the probe to have exec, httpGet or tcpSocket, got none' };
}
// #endregion run-probe

/** A probe's port: a number, or the name of one of the container's ports. */
function portNumber(port: number | string, container: Container): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const named = container.ports?.find((p) => p.name === port);
  if (!named) throw new Error(`expected port "${port}" among the container's named ports, got ${JSON.stringify((container.ports ?? []).map((p) => p.name))}`);
  return named.containerPort;
}

/** What the probe manager needs from the kubelet. */
export interface ProbeManagerDeps {
  clock: Clock;
  runtime: ContainerRuntime;
  prober: Prober;
  seams: Pick<KubeletSeams, 'applyProbeResult'>;
  /** Sends a decision to the Pod's worker. */
  send: (uid: string, event: PodWorkerEvent) => void;
  /** Records a Warning Unhealthy event on the Pod. */
  unhealthy: (pod: Pod, message: string) => void;
  trace: (line: string) => void;
}

interface ProbeWorker {
  key: string;
  timer: unknown;
  track: ProbeTrack;
  stopped: boolean;
}

/** Keeps one probe worker per probed container that runs, and none for the others. */
export class ProbeManager {
  private readonly workers = new Map<string, ProbeWorker>();

  constructor(private readonly deps: ProbeManagerDeps) {}

  /** Starts the probe workers a Pod's running containers need, and stops those of containers that no longer run. */
  sync(pod: Pod, containers: Record<string, ContainerRecord>, podIP: string | undefined): void {
    const uid = pod.metadata.uid ?? '';
    const wanted = new Set<string>();
    for (const container of pod.spec.containers) {
      const record = containers[container.name];
      if (!record?.id || !record.state.running || !podIP) continue;
      for (const kind of ['liveness', 'readiness'] as const) {
        const probe = kind === 'liveness' ? container.livenessProbe : container.readinessProbe;
        if (!probe) continue;
        // Why the container id in the key: a restarted container gets a new worker, whose counts start from zero.
        const key = `${uid}/${container.name}/${kind}/${record.id}`;
        wanted.add(key);
        if (!this.workers.has(key)) this.start(key, kind, probe, pod, container, { podIP, containerId: record.id });
      }
    }
    for (const [key, worker] of this.workers) if (key.startsWith(`${uid}/`) && !wanted.has(key)) this.stopWorker(worker);
  }

  /** Stops every probe worker of a Pod. */
  forget(uid: string): void {
    for (const [key, worker] of this.workers) if (key.startsWith(`${uid}/`)) this.stopWorker(worker);
  }

  stop(): void {
    for (const worker of this.workers.values()) this.stopWorker(worker);
  }

  private stopWorker(worker: ProbeWorker): void {
    worker.stopped = true;
    this.deps.clock.clearTimeout(worker.timer);
    this.workers.delete(worker.key);
  }

  // #region probe-worker
  private start(key: string, kind: 'liveness' | 'readiness', probe: Probe, pod: Pod, container: Container, target: { podIP: string; containerId: string }): void {
    const worker: ProbeWorker = { key, timer: undefined, track: newProbeTrack(), stopped: false };
    this.workers.set(key, worker);
    const period = (probe.periodSeconds ?? PROBE_DEFAULTS.periodSeconds) * 1000;
    const tick = async () => {
      try {
        await this.probeOnce(worker, kind, probe, pod, container, target);
      } catch (error) {
        // Why carry on: one probe that throws (a learner's applyProbeResult, say) must not take the kubelet down.
        this.deps.trace(`${kind} probe of ${pod.metadata.name}/${container.name}: ${(error as Error).message}`);
      }
      if (!worker.stopped) worker.timer = this.deps.clock.setTimeout(() => void tick(), period);
    };
    worker.timer = this.deps.clock.setTimeout(() => void tick(), (probe.initialDelaySeconds ?? PROBE_DEFAULTS.initialDelaySeconds) * 1000);
  }
  // #endregion probe-worker

  /** One probe, and what its result makes the kubelet do. */
  private async probeOnce(worker: ProbeWorker, kind: 'liveness' | 'readiness', probe: Probe, pod: Pod, container: Container, target: { podIP: string; containerId: string }): Promise<void> {
    const outcome = await runProbe(probe, container, target, this.deps.runtime, this.deps.prober).catch((error: Error) => ({ result: 'failure' as const, message: error.message }));
    if (worker.stopped) return;
    if (outcome.result === 'failure') this.deps.unhealthy(pod, `${kind === 'liveness' ? 'Liveness' : 'Readiness'} probe failed: ${outcome.message}`);
    const { track, action } = this.deps.seams.applyProbeResult(kind, probe, worker.track, outcome.result);
    worker.track = track;
    const uid = pod.metadata.uid ?? '';
    if (action === 'restartContainer') this.deps.send(uid, { type: 'probe.liveness.failed', name: container.name });
    if (action === 'markReady' || action === 'markNotReady') this.deps.send(uid, { type: 'probe.readiness', name: container.name, ready: action === 'markReady' });
  }
}
