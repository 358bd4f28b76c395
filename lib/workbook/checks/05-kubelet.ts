/**
 * Checks for chapter 5's exercises. Each exercise is checked on its own, in
 * cases that each name the Kubernetes fact they test, then inside the real
 * component that calls it: a real kubelet against a real API server, on a
 * SimRuntime and a fake clock, for every exercise (for 5.3 the runtime itself
 * decides each container's process with the learner's function, and is also
 * checked on its own). So "it passes" means "Pods end Succeeded, crash-loop,
 * get restarted and turn Ready as a real node would show them".
 */
import type { Container, ContainerStatus, Pod, PodSpec, Probe } from '../../api/types.ts';
import { TokenAuthenticator } from '../../apiserver/auth.ts';
import { ADMIN, kubeletIdentity } from '../../apiserver/bootstrap.ts';
import { startApiServer } from '../../apiserver/server.ts';
import { KubeClient } from '../../client/client.ts';
import { RESOURCE } from '../../controllers/informers.ts';
import { startKubelet, type Kubelet } from '../../kubelet/kubelet.ts';
import type { ProbeAction, ProbeTrack } from '../../kubelet/probe-results.ts';
import type { KubeletSeams } from '../../kubelet/seams.ts';
import type { ContainerConfig, PodSandboxConfig } from '../../runtime/cri.ts';
import { FakeClock } from '../../runtime/sim-clock.ts';
import { SimRuntime } from '../../runtime/sim.ts';
import { openStore } from '../../store/store.ts';
import { CheckFailure, expectEqual, expectTrue, show } from '../expect.ts';
import type { Check } from './types.ts';

/** The exercise's function, or a clear failure when the file does not export it. */
function fn<T>(impl: Record<string, unknown>, name: string): T {
  const f = impl[name];
  if (typeof f !== 'function') throw new CheckFailure(`expected the file to export a function named ${name}, got ${show(f)}`);
  return f as T;
}

type PodPhaseFn = (spec: Pick<PodSpec, 'containers' | 'restartPolicy'>, statuses: readonly ContainerStatus[]) => string;
type DelayFn = (exits: number) => number;
type ArgsFn = (image: { Entrypoint?: string[]; Cmd?: string[] }, config: Pick<ContainerConfig, 'command' | 'args' | 'image'>) => string[];
type ProbeFn = (kind: 'liveness' | 'readiness', probe: Probe, track: ProbeTrack, result: 'success' | 'failure') => { track: ProbeTrack; action: ProbeAction };

// ---- 5.1: container states, as the kubelet reports them ------------------------------

type Policy = PodSpec['restartPolicy'];
const spec = (restartPolicy: Policy, ...names: string[]): Pick<PodSpec, 'containers' | 'restartPolicy'> => ({ ...(restartPolicy ? { restartPolicy } : {}), containers: names.map((name) => ({ name, image: 'busybox' })) });
const base = (name: string): ContainerStatus => ({ name, ready: false, restartCount: 0, image: 'busybox:latest', imageID: '' });
const running = (name: string): ContainerStatus => ({ ...base(name), ready: true, state: { running: { startedAt: '2026-01-01T00:00:00Z' } } });
const exited = (name: string, exitCode: number): ContainerStatus => ({ ...base(name), state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error' } } });
const creating = (name: string, reason = 'ContainerCreating'): ContainerStatus => ({ ...base(name), state: { waiting: { reason } } });
const backingOff = (name: string, lastExit: number): ContainerStatus => ({
  ...base(name), restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container' } }, lastState: { terminated: { exitCode: lastExit, reason: lastExit === 0 ? 'Completed' : 'Error' } },
});

type PhaseCase = [string, ReturnType<typeof spec>, ContainerStatus[], string];

function phaseCases(impl: Record<string, unknown>, cases: PhaseCase[]): void {
  const podPhase = fn<PodPhaseFn>(impl, 'podPhase');
  for (const [what, podSpec, statuses, phase] of cases) expectEqual(podPhase(podSpec, statuses), phase, `the phase of ${what}`);
}

// ---- 5.4: runs of probe results ------------------------------------------------------

/** Feeds `results` one by one through a fresh track; the actions, one per result, and the last track. */
function probeRun(applyProbeResult: ProbeFn, kind: 'liveness' | 'readiness', probe: Probe, results: Array<'success' | 'failure'>): { actions: ProbeAction[]; track: ProbeTrack } {
  let track: ProbeTrack = { current: undefined, last: undefined, run: 0 };
  const actions: ProbeAction[] = [];
  for (const result of results) {
    const next = applyProbeResult(kind, probe, track, result);
    if (!next || typeof next !== 'object' || !next.track) throw new CheckFailure(`expected applyProbeResult to return { track, action }, got ${show(next)}`);
    actions.push(next.action);
    track = next.track;
  }
  return { actions, track };
}

const S = 'success' as const;
const F = 'failure' as const;

function expectActions(applyProbeResult: ProbeFn, kind: 'liveness' | 'readiness', probe: Probe, results: Array<'success' | 'failure'>, expected: ProbeAction[], what: string): void {
  expectEqual(probeRun(applyProbeResult, kind, probe, results).actions, expected, `${what} (${kind} results ${results.join(', ')}): the actions`);
}

// ---- 5.3: a sim runtime running the learner's containerArgs ------------------------------

const IMAGE_BUSYBOX = { Cmd: ['sh'] };
const IMAGE_BACKEND = { Entrypoint: ['/bin/pid1', '/bin/httpd', '-f', '-v', '-p', '8080', '-h', '/www'], Cmd: [] as string[] };
const IMAGE_NGINX = { Entrypoint: [] as string[], Cmd: ['/bin/pid1', '/bin/httpd', '-f', '-v', '-p', '80', '-h', '/usr/share/nginx/html'] };
const IMAGE_APP = { Entrypoint: ['/app/server', '--log=json'], Cmd: ['--port', '8080'] };

const args = (command: string[], argList: string[], image = 'app:1'): Pick<ContainerConfig, 'command' | 'args' | 'image'> => ({ command, args: argList, image });

/** A sim node whose runtime decides each container's process with `containerArgs`, on a fake clock. */
function simNode(containerArgs: ArgsFn): { clock: FakeClock; runtime: SimRuntime } {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  // "scratch-app" stands for an image built FROM scratch with neither Entrypoint nor Cmd.
  const runtime = new SimRuntime({ clock, podCIDR: '10.244.1.0/24', containerArgs, extraImages: [{ ref: 'scratch-app:1', config: {} }] });
  return { clock, runtime };
}

/** Does what the kubelet does for a one-container Pod: sandbox, pull, create, start. Returns the ids and the Pod's IP. */
async function runContainer(runtime: SimRuntime, pod: string, image: string, over: Partial<ContainerConfig> = {}): Promise<{ containerId: string; ip: string }> {
  const sandbox: PodSandboxConfig = { metadata: { name: pod, namespace: 'default', uid: `uid-${pod}`, attempt: 0 }, hostname: pod, labels: {}, annotations: {} };
  const sandboxId = await runtime.runPodSandbox(sandbox);
  await runtime.pullImage(image);
  const config: ContainerConfig = { metadata: { name: 'main', attempt: 0 }, image, command: [], args: [], env: [], labels: {}, annotations: {}, logPath: 'main/0.log', memoryLimitBytes: 0, milliCPULimit: 0, ...over };
  const containerId = await runtime.createContainer(sandboxId, config, sandbox);
  await runtime.startContainer(containerId);
  return { containerId, ip: (await runtime.podSandboxStatus(sandboxId)).ip ?? '' };
}

/** What a container's state, exit code and log are now, in one line for messages. */
async function described(runtime: SimRuntime, containerId: string): Promise<{ state: string; exitCode: number; log: string }> {
  const status = await runtime.containerStatus(containerId);
  return { state: status.state, exitCode: status.exitCode, log: await runtime.readLog(containerId) };
}

// ---- a real kubelet running the learner's functions ------------------------------------

const NODE = 'node-1';
const POD_CIDR = '10.244.1.0/24';

/**
 * Keeps the first error the learner's functions throw, so a check reports it
 * (a TODO as "not started", anything else as the learner's error) instead of
 * timing out on a kubelet that quietly stopped making progress.
 */
class LearnerErrors {
  first: unknown;

  /**
   * `f`, remembering what it throws unless the exercise asks for that error
   * (`expected`); with `instead`, the kubelet gets that answer rather than the error.
   */
  wrap<A extends unknown[], R>(f: (...args: A) => R, options: { instead?: (...args: A) => R; expected?: (error: unknown) => boolean } = {}): (...args: A) => R {
    return (...args: A) => {
      try {
        return f(...args);
      } catch (error) {
        if (options.expected?.(error)) throw error;
        this.first ??= error;
        if (options.instead) return options.instead(...args);
        throw error;
      }
    };
  }
}

/** What a check running a kubelet can do. */
interface KubeletWorld {
  admin: KubeClient;
  clock: FakeClock;
  runtime: SimRuntime;
  kubelet: Kubelet;
  /** Creates a Pod bound to the node, as the scheduler would have. */
  run(pod: Pod): Promise<void>;
  /** The Pod as the API server has it now. */
  pod(name: string): Promise<Pod>;
  /**
   * Lets the kubelet catch up, checks, and moves simulated time on by `stepMs`
   * until `check` returns something; fails after `maxMs` of simulated time.
   */
  until<T>(check: () => Promise<T | undefined | false>, what: string, options?: { stepMs?: number; maxMs?: number; seen?: () => Promise<string> }): Promise<T>;
}

/**
 * Runs `body` against a fresh in-memory store and API server, with one
 * kubelet (as system:node:node-1) on a SimRuntime, both on one fake clock, so
 * a 10-second back-off or a probe period passes when the check says so.
 */
async function withKubelet(seams: Partial<KubeletSeams>, errors: LearnerErrors, body: (world: KubeletWorld) => Promise<void>, runtimeOptions: ConstructorParameters<typeof SimRuntime>[0] = {}): Promise<void> {
  const store = await openStore();
  const authenticator = new TokenAuthenticator();
  authenticator.add('admin-token', ADMIN);
  authenticator.add('node-token', kubeletIdentity(NODE));
  const server = await startApiServer({ backend: store, authenticator, compactionIntervalMs: 0 });
  const admin = new KubeClient({ server: server.url, token: 'admin-token' });
  const nodeClient = new KubeClient({ server: server.url, token: 'node-token' });
  // Why a whole second: the kubelet writes times to the second, so the checks can count from them exactly.
  const clock = new FakeClock(Math.floor(Date.now() / 1000) * 1000);
  const runtime = new SimRuntime({ clock, podCIDR: POD_CIDR, ...runtimeOptions });
  let kubelet: Kubelet | undefined;
  const failed = () => {
    if (errors.first !== undefined) throw errors.first;
  };
  try {
    kubelet = await startKubelet({ client: nodeClient, name: NODE, runtime, clock, podCIDR: POD_CIDR, seams });
    const running = kubelet;
    const world: KubeletWorld = {
      admin, clock, runtime, kubelet: running,
      run: async (pod) => void (await admin.create(RESOURCE.pods, pod)),
      pod: (name) => admin.get<Pod>(RESOURCE.pods, 'default', name),
      until: async (check, what, options = {}) => {
        const { stepMs = 1_000, maxMs = 30_000 } = options;
        const start = clock.now();
        const deadline = Date.now() + 8_000;
        for (;;) {
          await running.whenIdle();
          await new Promise((resolve) => setTimeout(resolve, 10));
          failed();
          const value = await check();
          if (value !== undefined && value !== false) return value;
          if (clock.now() - start >= maxMs || Date.now() > deadline) {
            const last = options.seen ? `; last seen: ${await options.seen()}` : '';
            throw new CheckFailure(`expected ${what} within ${maxMs / 1000} s of simulated time, but it did not happen${last}`);
          }
          clock.advance(stepMs);
        }
      },
    };
    await body(world);
    failed();
  } catch (error) {
    failed();
    throw error;
  } finally {
    await kubelet?.stop();
    admin.close();
    nodeClient.close();
    await server.close();
    await store.close();
  }
}

/** A one-container Pod for node-1 (busybox unless said otherwise). */
function kubePod(name: string, container: Partial<Container>, restartPolicy: PodSpec['restartPolicy'] = 'Always'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { check: '5' } },
    spec: { nodeName: NODE, restartPolicy, terminationGracePeriodSeconds: 5, containers: [{ name: 'app', image: 'busybox', ...container }] },
  };
}

const sh = (script: string): Partial<Container> => ({ command: ['sh', '-c', script] });

/** The one container's status of a Pod, if the kubelet wrote one. */
function appStatus(pod: Pod): ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((s) => s.name === 'app');
}

/** A Pod as `kubectl get pod` and `describe` would sum it up, for messages. */
function summary(pod: Pod): string {
  const status = appStatus(pod);
  const state = status?.state?.running ? 'running' : status?.state?.waiting ? `waiting ${status.state.waiting.reason ?? ''}${status.state.waiting.message ? ` (${status.state.waiting.message})` : ''}` : status?.state?.terminated ? `terminated ${status.state.terminated.reason ?? ''} exit ${status.state.terminated.exitCode}` : 'no state';
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'none';
  return `${pod.metadata.name}: phase ${pod.status?.phase ?? 'none'}, container app ${state}, restartCount ${status?.restartCount ?? 0}, Ready ${ready}`;
}

async function summaries(world: KubeletWorld, names: string[]): Promise<string> {
  return (await Promise.all(names.map(async (n) => summary(await world.pod(n))))).join('; ');
}

const isReady = (pod: Pod): boolean => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

// ---- the checks ----------------------------------------------------------------------

export const checks: Record<string, Check[]> = {
  '5.1': [
    {
      name: 'a Pod is Pending until every container has started once',
      run(impl) {
        phaseCases(impl, [
          ['a Pod whose container has no status yet (the kubelet has not got to it)', spec('Always', 'app'), [], 'Pending'],
          ['a Pod whose image is being pulled (waiting: ContainerCreating)', spec('Always', 'app'), [creating('app')], 'Pending'],
          ['a Pod whose image cannot be pulled (waiting: ErrImagePull) under Never', spec('Never', 'app'), [creating('app', 'ErrImagePull')], 'Pending'],
          ['a Pod with one container running and the other still being created', spec('Always', 'app', 'sidecar'), [running('app'), creating('sidecar')], 'Pending'],
          ['a Pod with a running container and one that has no status yet (statuses are matched to containers by name)', spec('Always', 'app', 'sidecar'), [running('app'), running('other')], 'Pending'],
        ]);
      },
    },
    {
      name: 'a Pod is Running while a container runs or is about to be restarted',
      run(impl) {
        phaseCases(impl, [
          ['a Pod whose two containers run', spec('Always', 'app', 'sidecar'), [running('app'), running('sidecar')], 'Running'],
          ['a Pod in CrashLoopBackOff under Always (waiting, but it ran before: it is between restarts)', spec('Always', 'app'), [backingOff('app', 1)], 'Running'],
          ['a Pod whose only container exited 0 under Always (it will be restarted)', spec('Always', 'app'), [exited('app', 0)], 'Running'],
          ['a Pod whose container exited 0 and whose restartPolicy is left out (Always is the default)', spec(undefined, 'app'), [exited('app', 0)], 'Running'],
          ['a Pod whose container exited 1 under OnFailure (a failure is restarted)', spec('OnFailure', 'app'), [exited('app', 1)], 'Running'],
          ['a Pod in CrashLoopBackOff under OnFailure after exit 1', spec('OnFailure', 'app'), [backingOff('app', 1)], 'Running'],
          ['a Pod under Never with one container still running and one that failed', spec('Never', 'app', 'sidecar'), [running('app'), exited('sidecar', 1)], 'Running'],
        ]);
      },
    },
    {
      name: 'a Pod ends Succeeded or Failed only when no container will run again',
      run(impl) {
        phaseCases(impl, [
          ['a Pod whose container exited 0 under Never', spec('Never', 'job'), [exited('job', 0)], 'Succeeded'],
          ['a Pod whose two containers exited 0 under OnFailure', spec('OnFailure', 'a', 'b'), [exited('a', 0), exited('b', 0)], 'Succeeded'],
          ['a Pod under Never whose containers exited 0 and 1', spec('Never', 'a', 'b'), [exited('a', 0), exited('b', 1)], 'Failed'],
          ['a Pod under Never whose container was killed (exit 137)', spec('Never', 'job'), [exited('job', 137)], 'Failed'],
        ]);
      },
    },
    {
      name: 'inside the kubelet: Pods that ran `exit 0` and `exit 1` under restartPolicy Never end Succeeded and Failed, a server is Running',
      async run(impl) {
        const errors = new LearnerErrors();
        const podPhase = errors.wrap(fn<KubeletSeams['podPhase']>(impl, 'podPhase'));
        await withKubelet({ podPhase }, errors, async (world) => {
          await world.run(kubePod('job-ok', sh('echo done && exit 0'), 'Never'));
          await world.run(kubePod('job-fail', sh('echo failing && exit 1'), 'Never'));
          await world.run(kubePod('server', { image: 'backend:v0.0.1' }));
          const names = ['job-ok', 'job-fail', 'server'];
          // Why wait for the containers, not the phases: the kubelet's record of them does not depend on the learner's function.
          await world.until(async () => {
            const [ok, fail, server] = await Promise.all(names.map((n) => world.pod(n)));
            return appStatus(ok!)?.state?.terminated && appStatus(fail!)?.state?.terminated && appStatus(server!)?.state?.running;
          }, 'both jobs\' containers terminated and the server\'s running', { seen: () => summaries(world, names) });
          expectEqual((await world.pod('job-ok')).status?.phase, 'Succeeded', 'the phase of a Pod whose only container exited 0 under restartPolicy Never');
          expectEqual((await world.pod('job-fail')).status?.phase, 'Failed', 'the phase of a Pod whose only container exited 1 under restartPolicy Never');
          expectEqual((await world.pod('server')).status?.phase, 'Running', 'the phase of a Pod whose container runs (the backend, serving)');
        });
      },
    },
    {
      name: 'inside the kubelet: a Pod whose image does not exist is Pending, a Pod in CrashLoopBackOff is Running',
      async run(impl) {
        const errors = new LearnerErrors();
        const podPhase = errors.wrap(fn<KubeletSeams['podPhase']>(impl, 'podPhase'));
        await withKubelet({ podPhase }, errors, async (world) => {
          await world.run(kubePod('typo', { image: 'bakcend:v0.0.1' }));
          // busybox with no command runs its Cmd, `sh`, which has no input in a container and exits 0 at once: the classic crash loop.
          await world.run(kubePod('crash', {}));
          const names = ['typo', 'crash'];
          await world.until(async () => {
            const [typo, crash] = await Promise.all(names.map((n) => world.pod(n)));
            return /ErrImagePull|ImagePullBackOff/.test(appStatus(typo!)?.state?.waiting?.reason ?? '') && appStatus(crash!)?.state?.waiting?.reason === 'CrashLoopBackOff';
          }, 'the Pod "typo" waiting with ErrImagePull and the Pod "crash" in CrashLoopBackOff', { seen: () => summaries(world, names) });
          expectEqual((await world.pod('typo')).status?.phase, 'Pending', 'the phase of a Pod whose container waits for an image that cannot be pulled (it never ran)');
          expectEqual((await world.pod('crash')).status?.phase, 'Running', 'the phase of a Pod in CrashLoopBackOff under restartPolicy Always (its container ran before and is between restarts)');
        });
      },
    },
  ],
  '5.2': [
    {
      name: 'the first exit is restarted at once, the second waits 10 s',
      run(impl) {
        const delay = fn<DelayFn>(impl, 'crashLoopDelayMs');
        expectEqual(delay(1), 0, 'the wait after a container\'s first exit (the kubelet restarts it at once)');
        expectEqual(delay(2), 10_000, 'the wait after the second exit in a row (the initial back-off, 10 s)');
      },
    },
    {
      name: 'each further exit doubles the wait, up to 5 minutes',
      run(impl) {
        const delay = fn<DelayFn>(impl, 'crashLoopDelayMs');
        const cases: Array<[number, number]> = [[3, 20_000], [4, 40_000], [5, 80_000], [6, 160_000], [7, 300_000], [8, 300_000], [12, 300_000]];
        for (const [exits, ms] of cases) expectEqual(delay(exits), ms, `the wait after ${exits} exits in a row (10 s, doubled with each exit after the second, at most 300000 ms)`);
        expectEqual(delay(5000), 300_000, 'the wait after 5000 exits in a row (2 ** 4998 is Infinity in JavaScript; the cap must still hold)');
      },
    },
    {
      name: 'inside the kubelet: a crash-looping container is restarted at once after its first exit, then waits 10 s, then 20 s',
      async run(impl) {
        const errors = new LearnerErrors();
        const crashLoopDelayMs = errors.wrap(fn<KubeletSeams['crashLoopDelayMs']>(impl, 'crashLoopDelayMs'));
        await withKubelet({ crashLoopDelayMs }, errors, async (world) => {
          await world.run(kubePod('crash', sh('echo crashing && exit 1')));
          const seen = () => summaries(world, ['crash']);
          const first = await world.until(async () => {
            const pod = await world.pod('crash');
            return appStatus(pod)?.state?.waiting?.reason === 'CrashLoopBackOff' ? pod : undefined;
          }, 'the Pod "crash" in CrashLoopBackOff', { seen });
          const uid = first.metadata.uid ?? '';
          expectEqual(appStatus(first)?.restartCount, 1, 'the restartCount when the container first waits in CrashLoopBackOff (the first exit is restarted at once, so the back-off starts after the second)');
          expectEqual(appStatus(first)?.state?.waiting?.message, `back-off 10s restarting failed container=app pod=crash_default(${uid})`, 'the CrashLoopBackOff message after the second exit');
          const second = await world.until(async () => {
            const pod = await world.pod('crash');
            return appStatus(pod)?.state?.waiting?.reason === 'CrashLoopBackOff' && (appStatus(pod)?.restartCount ?? 0) >= 2 ? pod : undefined;
          }, 'the container of "crash" restarted after its back-off and back in CrashLoopBackOff', { seen, maxMs: 60_000 });
          expectEqual(appStatus(second)?.restartCount, 2, 'the restartCount after the back-off of 10 s ran out and the container exited again');
          expectEqual(appStatus(second)?.state?.waiting?.message, `back-off 20s restarting failed container=app pod=crash_default(${uid})`, 'the CrashLoopBackOff message after the third exit');
        });
      },
    },
  ],
  '5.3': [
    {
      name: 'the image\'s Entrypoint and Cmd, and how command and args override them',
      run(impl) {
        const containerArgs = fn<ArgsFn>(impl, 'containerArgs');
        const cases: Array<[string, ReturnType<typeof args>, { Entrypoint?: string[]; Cmd?: string[] }, string[]]> = [
          ['neither command nor args: the image\'s Entrypoint then its Cmd', args([], []), IMAGE_APP, ['/app/server', '--log=json', '--port', '8080']],
          ['args only: they replace the image\'s Cmd, the Entrypoint stays', args([], ['--port', '9090']), IMAGE_APP, ['/app/server', '--log=json', '--port', '9090']],
          ['command only: it replaces the Entrypoint, and the image\'s Cmd is dropped too', args(['/bin/sh'], []), IMAGE_APP, ['/bin/sh']],
          ['command and args: both replaced', args(['/bin/sh', '-c'], ['echo hi']), IMAGE_APP, ['/bin/sh', '-c', 'echo hi']],
          ['busybox (Cmd ["sh"], no Entrypoint) with neither: the image\'s Cmd alone', args([], [], 'busybox'), IMAGE_BUSYBOX, ['sh']],
          ['busybox with args ["sleep", "3600"]: with no Entrypoint, args are the whole command', args([], ['sleep', '3600'], 'busybox'), IMAGE_BUSYBOX, ['sleep', '3600']],
          ['the backend (Entrypoint httpd, Cmd []) with neither', args([], [], 'backend:v0.0.1'), IMAGE_BACKEND, IMAGE_BACKEND.Entrypoint],
          ['nginx (Entrypoint [], Cmd httpd) with command ["sleep", "10"]: the image\'s Cmd is dropped', args(['sleep', '10'], [], 'nginx:1.14.2'), IMAGE_NGINX, ['sleep', '10']],
        ];
        for (const [what, config, image, expected] of cases) {
          const imageCopy = structuredClone(image);
          expectEqual(containerArgs(image, config), expected, `the argv for ${what}`);
          expectEqual(image, imageCopy, `the image config after working out the argv for ${what} (it must not be changed)`);
        }
      },
    },
    {
      name: 'nothing to run is refused as CreateContainerError naming the image',
      run(impl) {
        const containerArgs = fn<ArgsFn>(impl, 'containerArgs');
        const images: Array<[string, { Entrypoint?: string[]; Cmd?: string[] }]> = [['an image with no Entrypoint and no Cmd', {}], ['an image with empty Entrypoint and Cmd', { Entrypoint: [], Cmd: [] }]];
        for (const [what, image] of images) {
          let result: unknown;
          try {
            result = containerArgs(image, args([], [], 'scratch-app:1'));
          } catch (error) {
            if (error instanceof Error && error.name === 'TodoError') throw error;
            const reason = (error as { reason?: unknown }).reason;
            expectEqual(reason, 'CreateContainerError', `the reason of the error for ${what} and a container with no command (throw new RuntimeError('CreateContainerError', ...))`);
            const message = error instanceof Error ? error.message : String(error);
            if (!message.includes('scratch-app:1')) throw new CheckFailure(`the error for ${what}: expected a message naming the image "scratch-app:1", got ${show(message)}`);
            continue;
          }
          throw new CheckFailure(`${what} and a container with no command: expected a RuntimeError('CreateContainerError', ...), got the argv ${show(result)}`);
        }
      },
    },
    {
      name: 'inside the container runtime: busybox runs the Pod\'s command, and the backend, given no command, serves on 8080',
      async run(impl) {
        const containerArgs = fn<ArgsFn>(impl, 'containerArgs');
        const { runtime } = simNode(containerArgs);
        const hello = await runContainer(runtime, 'hello', 'busybox', { command: ['sh', '-c', 'echo hi'] });
        expectEqual(await described(runtime, hello.containerId), { state: 'CONTAINER_EXITED', exitCode: 0, log: 'hi\n' }, 'a busybox container with command ["sh", "-c", "echo hi"] (state, exit code, log)');
        const bare = await runContainer(runtime, 'bare', 'busybox');
        expectEqual(await described(runtime, bare.containerId), { state: 'CONTAINER_EXITED', exitCode: 0, log: '' }, 'a busybox container with no command (the image\'s Cmd "sh", which exits at once without stdin)');
        const backend = await runContainer(runtime, 'backend-1', 'backend:v0.0.1');
        const answer = await runtime.httpGet(backend.ip, 8080, '/').catch((error: Error) => ({ statusCode: 0, body: error.message }));
        expectEqual(answer.statusCode, 200, `GET http://${backend.ip}:8080/ from a backend container with no command (its Entrypoint is httpd -p 8080; the answer was ${show(answer.body)})`);
      },
    },
    {
      name: 'inside the container runtime: args move the backend to 9090, a command drops nginx\'s Cmd, and an image with nothing to run is refused',
      async run(impl) {
        const containerArgs = fn<ArgsFn>(impl, 'containerArgs');
        const { clock, runtime } = simNode(containerArgs);
        const moved = await runContainer(runtime, 'backend-2', 'backend:v0.0.1', { args: ['-p', '9090'] });
        const answer = await runtime.httpGet(moved.ip, 9090, '/').catch((error: Error) => ({ statusCode: 0, body: error.message }));
        expectEqual(answer.statusCode, 200, `GET http://${moved.ip}:9090/ from a backend container with args ["-p", "9090"] (the image's Entrypoint httpd, then the args; the answer was ${show(answer.body)})`);
        const sleeper = await runContainer(runtime, 'nginx-1', 'nginx:1.14.2', { command: ['sleep', '10'] });
        clock.advance(10_000);
        expectEqual(await described(runtime, sleeper.containerId), { state: 'CONTAINER_EXITED', exitCode: 0, log: '' }, 'an nginx container with command ["sleep", "10"], 10 s later (it sleeps and exits 0 only if the image\'s Cmd was dropped)');
        let created: string | undefined;
        try {
          created = (await runContainer(runtime, 'scratch', 'scratch-app:1')).containerId;
        } catch (error) {
          if (error instanceof Error && error.name === 'TodoError') throw error;
          expectEqual((error as { reason?: unknown }).reason, 'CreateContainerError', 'the reason the runtime gives for creating a container of an image with neither Entrypoint nor Cmd, and no command');
        }
        if (created !== undefined) throw new CheckFailure(`expected creating a container of an image with neither Entrypoint nor Cmd, and no command, to fail with CreateContainerError, got container ${created.slice(0, 12)} running ${show(await described(runtime, created))}`);
      },
    },
    {
      name: 'inside the kubelet: a Pod\'s containers run what your function chose, and an image with nothing to run shows CreateContainerError',
      async run(impl) {
        const errors = new LearnerErrors();
        // Why expected: refusing an image with nothing to run is what the function must do for the Pod "scratch".
        const containerArgs = errors.wrap(fn<ArgsFn>(impl, 'containerArgs'), { expected: (error) => (error as { reason?: unknown }).reason === 'CreateContainerError' });
        await withKubelet({}, errors, async (world) => {
          await world.run(kubePod('hello', sh('echo hello from the pod'), 'Never'));
          await world.run(kubePod('backend', { image: 'backend:v0.0.1' }));
          await world.run(kubePod('scratch', { image: 'scratch-app:1' }));
          const names = ['hello', 'backend', 'scratch'];
          await world.until(async () => {
            const [hello, backend, scratch] = await Promise.all(names.map((n) => world.pod(n)));
            return appStatus(hello!)?.state?.terminated && appStatus(backend!)?.state?.running && appStatus(scratch!)?.state?.waiting?.reason === 'CreateContainerError';
          }, 'the Pod "hello" done, "backend" running and "scratch" waiting with CreateContainerError', { seen: () => summaries(world, names) });
          const hello = await world.pod('hello');
          const id = (appStatus(hello)?.containerID ?? '').replace(/^sim:\/\//, '');
          expectEqual(await world.runtime.readLog(id), 'hello from the pod\n', 'the log of the Pod "hello" (command ["sh", "-c", "echo hello from the pod"])');
          expectEqual(hello.status?.phase, 'Succeeded', 'the phase of the Pod "hello"');
          const ip = (await world.pod('backend')).status?.podIP ?? '';
          const answer = await world.runtime.httpGet(ip, 8080, '/').catch((error: Error) => ({ statusCode: 0, body: error.message }));
          expectEqual(answer.statusCode, 200, `GET http://${ip}:8080/ from the Pod "backend" (no command: the image's Entrypoint, httpd on 8080; the answer was ${show(answer.body)})`);
          expectTrue(answer.body.includes('"pod":"backend"'), `expected the backend's answer to name its Pod "backend", got ${show(answer.body)}`);
        }, { containerArgs, extraImages: [{ ref: 'scratch-app:1', config: {} }] });
      },
    },
  ],
  '5.4': [
    {
      name: 'liveness: a restart only after failureThreshold failures in a row, and a fresh count after it',
      run(impl) {
        const apply = fn<ProbeFn>(impl, 'applyProbeResult');
        const httpGet = { port: 8080 };
        expectActions(apply, 'liveness', { httpGet }, [F, F, F], ['none', 'none', 'restartContainer'], 'failureThreshold left out (3 is the default)');
        expectActions(apply, 'liveness', { httpGet }, [F, F, S, F, F, F], ['none', 'none', 'none', 'none', 'none', 'restartContainer'], 'a success between failures starts the count again');
        expectActions(apply, 'liveness', { httpGet, failureThreshold: 1 }, [S, F], ['none', 'restartContainer'], 'failureThreshold 1 (one failure is enough)');
        expectActions(apply, 'liveness', { httpGet, failureThreshold: 2 }, [F, F, F, F], ['none', 'restartContainer', 'none', 'restartContainer'], 'failureThreshold 2: the restarted container\'s failures are counted from zero');
        expectActions(apply, 'liveness', { httpGet }, [S, S, S], ['none', 'none', 'none'], 'a healthy container (liveness never marks anything ready)');
      },
    },
    {
      name: 'readiness: ready at successThreshold successes, not ready at failureThreshold failures, an action only when it changes',
      run(impl) {
        const apply = fn<ProbeFn>(impl, 'applyProbeResult');
        const exec = { exec: { command: ['cat', '/tmp/ready'] } };
        expectActions(apply, 'readiness', exec, [S, S, F, F, F, F, S], ['markReady', 'none', 'none', 'none', 'markNotReady', 'none', 'markReady'], 'the defaults (successThreshold 1, failureThreshold 3)');
        expectActions(apply, 'readiness', { ...exec, successThreshold: 2 }, [S, F, S, S, S], ['none', 'none', 'none', 'markReady', 'none'], 'successThreshold 2 (two successes in a row)');
        expectActions(apply, 'readiness', { ...exec, failureThreshold: 1 }, [S, F, F, S], ['markReady', 'markNotReady', 'none', 'markReady'], 'failureThreshold 1');
        const afterTwo = probeRun(apply, 'readiness', exec, [S, F, F]).track;
        expectEqual(afterTwo.current, 'success', 'track.current after a success then two failures (below failureThreshold 3 the result in force stays success)');
        const given: ProbeTrack = { current: 'success', last: 'failure', run: 2 };
        const result = apply('readiness', exec, given, F);
        expectEqual(result.action, 'markNotReady', 'the action for a third failure in a row on a ready container');
        expectEqual(given, { current: 'success', last: 'failure', run: 2 }, 'the track passed in, after the call (return a new one; do not change it)');
      },
    },
    {
      name: 'inside the kubelet: a container whose liveness probe `cat /tmp/healthy` keeps failing is restarted at the third failure, a healthy one never',
      async run(impl) {
        const errors = new LearnerErrors();
        // Why an answer instead of the error: an exception escaping the kubelet's probe worker would end it (unhandled, the whole process); the check reports it instead.
        const applyProbeResult = errors.wrap(fn<KubeletSeams['applyProbeResult']>(impl, 'applyProbeResult'), { instead: (_kind, _probe, track) => ({ track, action: 'none' as const }) });
        await withKubelet({ applyProbeResult }, errors, async (world) => {
          const livenessProbe: Probe = { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 5 };
          await world.run(kubePod('sick', { ...sh('sleep 3600'), livenessProbe }));
          await world.run(kubePod('healthy', { ...sh('touch /tmp/healthy && sleep 3600'), livenessProbe }));
          const names = ['sick', 'healthy'];
          const seen = () => summaries(world, names);
          const restarted = await world.until(async () => {
            const pod = await world.pod('sick');
            return (appStatus(pod)?.restartCount ?? 0) >= 1 ? pod : undefined;
          }, 'the container of "sick" restarted after its liveness probe failed 3 times in a row (every 5 s)', { seen });
          const firstStart = Date.parse(restarted.status?.containerStatuses?.[0]?.lastState?.terminated?.startedAt ?? '');
          const killedAfter = (Date.parse(restarted.status?.containerStatuses?.[0]?.lastState?.terminated?.finishedAt ?? '') - firstStart) / 1000;
          expectEqual(appStatus(restarted)?.restartCount, 1, 'the restartCount of "sick" once it was restarted');
          expectTrue(killedAfter >= 10, `expected the first container of "sick" to be stopped at its third failed probe, 10 s after it started (probes every 5 s, failureThreshold 3 by default), got it stopped after ${killedAfter} s`);
          expectEqual(appStatus(await world.pod('healthy'))?.restartCount, 0, 'the restartCount of "healthy", whose liveness probe always passes');
        });
      },
    },
    {
      name: 'inside the kubelet: a passing readiness probe makes a Pod Ready, a failing one keeps or makes it not Ready, and nothing is restarted',
      async run(impl) {
        const errors = new LearnerErrors();
        const applyProbeResult = errors.wrap(fn<KubeletSeams['applyProbeResult']>(impl, 'applyProbeResult'), { instead: (_kind, _probe, track) => ({ track, action: 'none' as const }) });
        await withKubelet({ applyProbeResult }, errors, async (world) => {
          const readinessProbe: Probe = { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 5 };
          await world.run(kubePod('ready', { ...sh('touch /tmp/ready && sleep 3600'), readinessProbe }));
          await world.run(kubePod('never', { ...sh('sleep 3600'), readinessProbe }));
          await world.run(kubePod('flaky', { ...sh('touch /tmp/ready; sleep 20; rm -f /tmp/ready; sleep 3600'), readinessProbe }));
          const names = ['ready', 'never', 'flaky'];
          const seen = () => summaries(world, names);
          await world.until(async () => isReady(await world.pod('ready')) && isReady(await world.pod('flaky')), 'the Pods "ready" and "flaky" Ready (their file /tmp/ready exists, so the first probe passes)', { seen });
          expectTrue(!isReady(await world.pod('never')), `expected the Pod "never", whose readiness probe fails, not to be Ready, got ${await summaries(world, ['never'])}`);
          await world.until(async () => !isReady(await world.pod('flaky')), 'the Pod "flaky" not Ready once /tmp/ready is gone (after 20 s) and its probe failed 3 times in a row', { seen, maxMs: 45_000 });
          const [ready, never, flaky] = await Promise.all(names.map((n) => world.pod(n)));
          const started = Date.parse(appStatus(flaky!)?.state?.running?.startedAt ?? '');
          const turned = Date.parse(flaky!.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime ?? '');
          expectTrue((turned - started) / 1000 >= 30, `expected "flaky" to turn not Ready no sooner than its third failed probe after /tmp/ready was removed at 20 s (probes every 5 s), got it not Ready ${(turned - started) / 1000} s after it started`);
          expectTrue(isReady(ready!), `expected the Pod "ready" to stay Ready, got ${summary(ready!)}`);
          expectTrue(!isReady(never!) && appStatus(never!)?.ready === false, `expected the Pod "never" still not Ready, got ${summary(never!)}`);
          expectEqual([appStatus(ready!)?.restartCount, appStatus(never!)?.restartCount, appStatus(flaky!)?.restartCount], [0, 0, 0], 'the restartCounts of "ready", "never" and "flaky" (a readiness probe never restarts a container)');
        });
      },
    },
  ],
};
