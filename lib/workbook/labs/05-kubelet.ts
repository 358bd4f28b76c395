/**
 * Lab 5: the kubelet and the container runtime. Starts chapter 4's cluster
 * with real kubelets on its three nodes (node-1 runs the control plane as
 * static Pods); follows the scenario's Pods from Pending to Running and
 * Ready; talks to them at their Pod IPs and reads their logs; shows what
 * the runtime runs; then a container that keeps exiting (CrashLoopBackOff),
 * a failing liveness probe, and a graceful deletion. With --real the workers
 * run real containers with runc in CNI-wired network namespaces, and the lab
 * checks that stopping the cluster leaves nothing on the host.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Event, Node, Pod } from '../../api/types.ts';
import { resourceForKind } from '../../apiserver/resources.ts';
import type { KubeClient, WatchHandle } from '../../client/client.ts';
import { loadManifests } from '../../client/manifests.ts';
import { startCluster, type Cluster } from '../../cluster/cluster.ts';
import { RESOURCE } from '../../controllers/informers.ts';
import type { KubeletSeams } from '../../kubelet/seams.ts';
import type { ContainerRuntime } from '../../runtime/cri.ts';
import type { containerArgs } from '../../runtime/runc.ts';
import { IGNORE_SIGTERM_ANNOTATION, SimRuntime } from '../../runtime/sim.ts';
import { locateTool } from '../doctor.ts';
import type { Lab, LabContext } from '../lab.ts';
import { scenarioDir } from '../scenario.ts';
import { waitUntil } from '../waiting.ts';

const run = promisify(execFile);

let cluster: Cluster;
let admin: KubeClient;
let clusterDir = '';
let stopped = false;
/** The frontend's page as step 4 read it, quoted again at the end. */
let frontendPage = '';
/** Every status change of every Pod in default, as a watch saw it (name -> summaries, in order). */
const seen = new Map<string, Array<{ at: number; text: string; pod: Pod }>>();
let watch: WatchHandle | undefined;
/** When the watch started (Date.now()); the histories' times count from it. */
let watchStarted = 0;

function learnerSeams(ctx: LabContext): Partial<KubeletSeams> {
  return { podPhase: ctx.impl('5.1'), crashLoopDelayMs: ctx.impl('5.2'), applyProbeResult: ctx.impl('5.4') };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]! + 3)).join('').trimEnd()).join('\n');
}

/** What kubectl's STATUS column says: the first container's waiting or terminated reason, else the phase. */
function statusColumn(pod: Pod): string {
  if (pod.metadata.deletionTimestamp) return 'Terminating';
  const c = pod.status?.containerStatuses?.[0];
  return c?.state?.waiting?.reason ?? c?.state?.terminated?.reason ?? pod.status?.phase ?? 'Pending';
}

function readyColumn(pod: Pod): string {
  const statuses = pod.status?.containerStatuses ?? [];
  return `${statuses.filter((s) => s.ready).length}/${pod.spec.containers.length}`;
}

function restarts(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((sum, s) => sum + (s.restartCount ?? 0), 0);
}

function podTable(items: Pod[]): string {
  return table([
    ['NAME', 'READY', 'STATUS', 'RESTARTS', 'IP', 'NODE'],
    ...items.map((p) => [p.metadata.name ?? '', readyColumn(p), statusColumn(p), String(restarts(p)), p.status?.podIP ?? '<none>', p.spec.nodeName || '<none>']),
  ]);
}

/** One line per distinct status a Pod went through: STATUS, READY, node and IP. */
function summary(pod: Pod): string {
  return `${statusColumn(pod).padEnd(18)} ready ${readyColumn(pod)}  node ${pod.spec.nodeName || '<none>'}  ip ${pod.status?.podIP ?? '<none>'}`;
}

async function pods(namespace = 'default', selector?: string): Promise<Pod[]> {
  const list = await admin.list<Pod>(RESOURCE.pods, { namespace, labelSelector: selector });
  return list.items.filter((p) => !p.metadata.deletionTimestamp).sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
}

async function eventsOf(name: string): Promise<Event[]> {
  return (await admin.list<Event>(RESOURCE.events, { namespace: 'default', fieldSelector: `involvedObject.name=${name}` })).items;
}

function eventLines(events: Event[]): string {
  return table([['TYPE', 'REASON', 'FROM', 'MESSAGE'], ...events.map((e) => [e.type ?? '', e.reason ?? '', e.source?.component ?? '', `${e.message ?? ''}${(e.count ?? 1) > 1 ? ` (x${e.count})` : ''}`])]);
}

/** Watches the Pods of default from now on and keeps each Pod's distinct summaries. */
async function watchPods(): Promise<void> {
  const list = await admin.list<Pod>(RESOURCE.pods, { namespace: 'default' });
  const started = Date.now();
  watchStarted = started;
  watch = admin.watch<Pod>(RESOURCE.pods, { namespace: 'default', resourceVersion: list.metadata.resourceVersion }, (event) => {
    if (event.type !== 'ADDED' && event.type !== 'MODIFIED' && event.type !== 'DELETED') return;
    const pod = event.object as Pod;
    const name = pod.metadata.name ?? '';
    const history = seen.get(name) ?? [];
    const text = event.type === 'DELETED' ? 'DELETED' : summary(pod);
    if (history.at(-1)?.text !== text) history.push({ at: Date.now() - started, text, pod });
    seen.set(name, history);
  });
}

function historyOf(name: string): Array<{ at: number; text: string; pod: Pod }> {
  return seen.get(name) ?? [];
}

/** An HTTP GET to a Pod IP: over the sim network, or with the host's curl in real mode. */
async function httpGet(runtime: ContainerRuntime, ip: string, port: number): Promise<{ how: string; body: string }> {
  if (runtime instanceof SimRuntime) {
    const reply = await runtime.httpGet(ip, port, '/');
    return { how: `GET http://${ip}:${port}/ over the sim network`, body: reply.body };
  }
  const curl = locateTool('curl');
  if (!curl) throw new Error('expected curl on the PATH (Debian package curl; `npm run doctor` checks it), found none');
  // Why an argument array: nothing here goes through a shell.
  const { stdout } = await run(curl, ['-sS', '--max-time', '10', `http://${ip}:${port}/`]);
  return { how: `curl -sS http://${ip}:${port}/`, body: stdout };
}

function kubeletOf(pod: Pod) {
  const kubelet = cluster.kubelets?.get(pod.spec.nodeName ?? '');
  if (!kubelet) throw new Error(`expected a kubelet on node ${JSON.stringify(pod.spec.nodeName)}, got none`);
  return kubelet;
}

function busyboxPod(name: string, spec: Partial<Pod['spec']>, annotations?: Record<string, string>): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { lab: '5' }, ...(annotations ? { annotations } : {}) },
    spec: { containers: [{ name: 'main', image: 'busybox' }], ...spec },
  };
}

/** What the host holds that the runc runtimes made: network namespaces, links and mounts. */
async function hostLeftovers(): Promise<{ netns: string[]; links: string[]; mounts: string[] }> {
  const netns = (await run('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => /^kbsn\d+-/.test(n));
  const links = (await run('ip', ['-o', 'link', 'show'])).stdout.split('\n').map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '').filter((n) => /^kbs-n\d+$/.test(n));
  const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').filter((l) => clusterDir !== '' && l.split(' ')[1]?.startsWith(`${clusterDir}/`));
  return { netns, links, mounts };
}

async function stopCluster(): Promise<void> {
  if (stopped || !cluster) return;
  stopped = true;
  watch?.stop();
  await cluster.stop();
}

export const lab: Lab = {
  chapter: 5,
  title: 'The kubelet and the container runtime',
  intro:
    'On every node runs the kubelet: it registers its Node, watches for the Pods bound to it, asks the container runtime (through the CRI) to run their sandboxes and containers, ' +
    'reports their status, probes them and restarts what fails. This lab replaces chapter 4\'s hollow nodes by kubelets and follows the scenario\'s Pods until they really run. ' +
    'Without --real the runtime is simulated in this process (any OS); with --real the workers run real containers with runc (Linux, root).',
  steps: [
    {
      title: 'Start the cluster: three kubelets register their Nodes',
      async run(ctx) {
        seen.clear();
        stopped = false;
        frontendPage = '';
        clusterDir = join(ctx.tmpDir, 'cluster');
        cluster = await startCluster({
          dir: clusterDir,
          controllers: true,
          scheduler: true,
          nodes: 'kubelet',
          kubeletOptions: { runtime: ctx.real ? 'runc' : 'sim', seams: learnerSeams(ctx), containerArgs: ctx.impl<typeof containerArgs>('5.3') },
        });
        ctx.onCleanup(stopCluster);
        admin = cluster.admin;
        const nodes = await waitUntil('three Ready nodes', async () => {
          const list = await admin.list<Node>(RESOURCE.nodes);
          return list.items.length === 3 && list.items.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) ? list.items : undefined;
        });
        ctx.show(
          'kubectl get nodes -o wide (with capacity and allocatable memory)',
          table([
            ['NAME', 'STATUS', 'INTERNAL-IP', 'POD-CIDR', 'CONTAINER-RUNTIME', 'CPU', 'MEMORY (capacity / allocatable)'],
            ...nodes.map((n) => [
              n.metadata.name ?? '',
              'Ready',
              n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '',
              n.spec?.podCIDR ?? '',
              n.status?.nodeInfo?.containerRuntimeVersion ?? '',
              String(n.status?.allocatable?.cpu),
              `${n.status?.capacity?.memory} / ${n.status?.allocatable?.memory}`,
            ]),
          ]),
        );
        ctx.say(
          'Each kubelet created its own Node object, as system:node:<name>, and keeps a Lease in kube-node-lease fresh as its heartbeat. Allocatable memory is the capacity minus the 100Mi the kubelet keeps back for the system (the hard eviction threshold).',
        );
        if (ctx.real) ctx.say('node-1 stays on the simulated runtime (it runs the control plane\'s static Pods); node-2 and node-3 report runc: they run real containers.');
      },
    },
    {
      title: 'The control plane runs as static Pods on node-1',
      async run(ctx) {
        const mirrors = await waitUntil('the four control-plane mirror Pods Running', async () => {
          const list = await pods('kube-system');
          return list.length >= 4 && list.every((p) => p.status?.phase === 'Running') ? list : undefined;
        });
        ctx.show('kubectl get pods -n kube-system -o wide', podTable(mirrors));
        const etcd = mirrors.find((p) => p.metadata.name === 'etcd-node-1');
        ctx.show('etcd-node-1: annotations and owner', {
          'kubernetes.io/config.source': etcd?.metadata.annotations?.['kubernetes.io/config.source'],
          'kubernetes.io/config.mirror': etcd?.metadata.annotations?.['kubernetes.io/config.mirror'],
          ownerReferences: etcd?.metadata.ownerReferences?.map((o) => `${o.kind}/${o.name}`),
        });
        ctx.say(
          'node-1\'s kubelet reads Pod manifests from a folder (kubeadm\'s /etc/kubernetes/manifests) and runs them without asking the API server. For each it creates a read-only mirror Pod, named <pod>-<node>, so that kubectl can see it. ' +
            'The Pod IP is the node\'s own: these Pods use the host network. The kubelet itself is not among them: it runs as a plain process (a systemd service), because something has to start the static Pods.',
        );
      },
    },
    {
      title: 'Apply the scenario: Pending, ContainerCreating, Running, Ready',
      async run(ctx) {
        await watchPods();
        for (const manifest of await loadManifests(scenarioDir)) {
          const info = resourceForKind(manifest.object.apiVersion, manifest.object.kind)!;
          await admin.create(info, manifest.object);
        }
        const ready = await waitUntil(
          'six Running and Ready Pods',
          async () => {
            const now = await pods();
            return now.length === 6 && now.every((p) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) ? now : undefined;
          },
          ctx.real ? 60_000 : 20_000,
        );
        await waitUntil('the watch to see the six Pods Ready', async () => ready.every((p) => historyOf(p.metadata.name ?? '').some((h) => h.text.includes('ready 1/1'))));
        const creating = ready.filter((p) => historyOf(p.metadata.name ?? '').some((h) => h.text.startsWith('ContainerCreating')));
        // Why prefer one seen in ContainerCreating: a kubelet may finish a Pod before its first status write, and the watch then goes from Pending to Running.
        const first = creating.find((p) => p.metadata.labels?.['app'] === 'backend') ?? creating[0] ?? ready[0]!;
        ctx.show(
          `what a watch saw of ${first.metadata.name}`,
          historyOf(first.metadata.name ?? '').map((h) => `${`+${(h.at / 1000).toFixed(1)}s`.padStart(7)}  ${h.text}`).join('\n'),
        );
        ctx.say(
          creating.length === ready.length
            ? `The watch saw every Pod in ContainerCreating while its kubelet worked.`
            : `The watch saw ContainerCreating for ${creating.length} of the ${ready.length} Pods; for the others the kubelet had the container running before its first status write.`,
        );
        ctx.show('kubectl get pods -o wide', podTable(ready));
        ctx.show(`kubectl describe pod ${first.metadata.name} (Events)`, eventLines(await eventsOf(first.metadata.name ?? '')));
        const cidrs = (await admin.list<Node>(RESOURCE.nodes)).items.map((n) => `${n.metadata.name} ${n.spec?.podCIDR}`).join(', ');
        ctx.say(
          `The scheduler bound each Pod (Scheduled); the kubelet of that node saw it, made its sandbox (a network namespace with an IP from the node's Pod CIDR: ${cidrs}), pulled the image, created and started the container, and wrote the status back: ContainerCreating while it worked, then Running, then Ready once the container ran (these Pods have no readiness probe).`,
        );
      },
    },
    {
      title: 'Talk to the Pods at their IPs',
      async run(ctx) {
        const backend = (await pods('default', 'app=backend'))[0]!;
        const frontend = (await pods('default', 'app=frontend'))[0]!;
        const b = await httpGet(kubeletOf(backend).runtime, backend.status!.podIP!, 8080);
        if (!b.body.includes(backend.metadata.name ?? '?')) throw new Error(`expected the backend's answer to name its Pod ${backend.metadata.name}, got ${JSON.stringify(b.body.slice(0, 300))}`);
        ctx.show(`${b.how}   (${backend.metadata.name})`, b.body.trim());
        const f = await httpGet(kubeletOf(frontend).runtime, frontend.status!.podIP!, 3000);
        if (!f.body.includes('frontend v0.0.1')) throw new Error(`expected the frontend's page, got ${JSON.stringify(f.body.slice(0, 300))}`);
        frontendPage = f.body.trim();
        ctx.show(`${f.how}   (${frontend.metadata.name})`, frontendPage);
        ctx.say(
          `The backend answers JSON naming the Pod that served it. The frontend's page is served, but its call to $BACKEND_ENDPOINT (http://backend) failed: "backend" is the name of a Service, and nothing in this cluster yet gives a Service an address or resolves its name.`,
        );
        if (ctx.real) ctx.say('These were real HTTP requests from the host: each node\'s bridge (kbs-n2, kbs-n3) routes its Pod CIDR to the veth pairs that CNI wired into the Pods\' network namespaces.');
      },
    },
    {
      title: 'Container logs: kubectl logs',
      async run(ctx) {
        await admin.create(RESOURCE.pods, busyboxPod('hello', { containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'echo hello from a container; echo this is its second line; sleep 3600'] }] }));
        const text = await waitUntil('hello to write its two lines', async () => {
          const log = await admin.logs('default', 'hello').catch(() => '');
          return log.includes('second line') ? log : undefined;
        }, 30_000);
        ctx.show('kubectl logs hello', text.trim());
        const backend = (await pods('default', 'app=backend'))[0]!;
        const backendLog = (await admin.logs('default', backend.metadata.name ?? '')).trim();
        ctx.show(`kubectl logs ${backend.metadata.name}`, backendLog || '(nothing)');
        if (!backendLog) ctx.say('The backend wrote nothing: busybox httpd prints no startup line, and with -v it logs only the answers it makes itself, not those of a CGI script such as the backend\'s page.');
        ctx.say(
          'kubectl asks the API server for pods/<name>/log; the API server asks the kubelet of the Pod\'s node, which reads the log the runtime keeps of the container\'s stdout and stderr. (`kubectl logs -f` keeps that answer open and follows the log as it grows.)',
        );
        await admin.delete(RESOURCE.pods, 'default', 'hello', { gracePeriodSeconds: 0 });
      },
    },
    {
      title: 'What the container runtime runs',
      async run(ctx) {
        for (const node of ['node-2', 'node-3']) {
          const runtime = cluster.kubelets!.get(node)!.runtime;
          const sandboxes = await runtime.listPodSandboxes();
          const containers = await runtime.listContainers();
          ctx.show(
            `${node}: crictl pods`,
            table([['POD ID', 'STATE', 'NAME', 'NAMESPACE', 'ATTEMPT'], ...sandboxes.map((s) => [s.id.slice(0, 13), s.state, s.metadata.name, s.metadata.namespace, String(s.metadata.attempt)])]),
          );
          ctx.show(
            `${node}: crictl ps`,
            table([['CONTAINER', 'IMAGE', 'STATE', 'NAME', 'ATTEMPT', 'POD ID'], ...containers.map((c) => [c.id.slice(0, 13), c.image, c.state, c.metadata.name, String(c.metadata.attempt), c.sandboxId.slice(0, 13)])]),
          );
        }
        if (ctx.real) {
          const netns = (await run('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => /^kbsn\d+-/.test(l));
          ctx.show('ip netns list (this cluster\'s namespaces)', netns.join('\n'));
          const runtime = cluster.kubelets!.get('node-2')!.runtime as ContainerRuntime & { runcRoot?: string };
          if (runtime.runcRoot) {
            const { stdout } = await run('runc', ['--root', runtime.runcRoot, 'list']);
            ctx.show(`runc --root ${runtime.runcRoot} list`, stdout.trim());
          }
          ctx.say('One network namespace per Pod (the sandbox: no pause container is needed, the pinned namespace is what it would hold), and one runc container per container, each on an overlay copy of its image\'s root.');
        } else {
          ctx.say('One sandbox per Pod, one container per container: the same CRI calls a kubelet makes to containerd. The sim keeps them in this process; with --real they are network namespaces and runc containers.');
        }
      },
    },
    {
      title: 'A container that exits at once: CrashLoopBackOff',
      async run(ctx) {
        const created = Date.now();
        await admin.create(RESOURCE.pods, busyboxPod('crasher', {}));
        const backingOff20 = (p: Pod) => /back-off 20s/.test(p.status?.containerStatuses?.[0]?.state?.waiting?.message ?? '');
        await waitUntil('crasher backing off 20 s', async () => historyOf('crasher').some((h) => backingOff20(h.pod)), 45_000);
        const lines = historyOf('crasher').map((h) => {
          const c = h.pod.status?.containerStatuses?.[0];
          const last = c?.lastState?.terminated;
          return [`+${((h.at - (historyOf('crasher')[0]?.at ?? 0)) / 1000).toFixed(1)}s`, statusColumn(h.pod), String(c?.restartCount ?? 0), last ? `exit ${last.exitCode} (${last.reason})` : '', c?.state?.waiting?.message ?? ''];
        });
        // Why drop repeats: a status change the table does not show (the node, the IP) would look like a repeated row.
        const distinct = lines.filter((row, i) => i === 0 || row.slice(1).join('|') !== lines[i - 1]!.slice(1).join('|'));
        ctx.show('what a watch saw of crasher (busybox, no command)', table([['WHEN', 'STATUS', 'RESTARTS', 'LAST STATE', 'MESSAGE'], ...distinct]));
        ctx.show('kubectl describe pod crasher (Events)', eventLines(await eventsOf('crasher')));
        const others = await pods('default');
        const scenario = others.filter((p) => p.metadata.labels?.['app']);
        const touched = scenario.filter((p) => restarts(p) > 0 || statusColumn(p) !== 'Running');
        if (touched.length > 0) throw new Error(`expected the scenario's Pods to run on untouched, got ${touched.map((p) => `${p.metadata.name} ${statusColumn(p)} restarts=${restarts(p)}`).join(', ')}`);
        ctx.show('kubectl get pods', podTable(others));
        ctx.say(
          `busybox's command is sh, which finds no input in a container and exits 0 at once. Under restartPolicy Always the kubelet restarts it: at once the first time, then after 10 s, then 20 s, doubling up to 5 minutes (your crashLoopDelayMs decides). Between restarts the container waits as CrashLoopBackOff, and the Pod stays Running. The other Pods were not touched. (${((Date.now() - created) / 1000).toFixed(0)} s)`,
        );
        await admin.delete(RESOURCE.pods, 'default', 'crasher', { gracePeriodSeconds: 0 });
      },
    },
    {
      title: 'A failing liveness probe restarts its container',
      async run(ctx) {
        await admin.create(
          RESOURCE.pods,
          busyboxPod('sick', {
            terminationGracePeriodSeconds: 3,
            containers: [
              {
                name: 'main',
                image: 'busybox',
                command: ['sh', '-c', 'touch /tmp/healthy; sleep 4; rm /tmp/healthy; sleep 3600'],
                livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 2 },
              },
            ],
          }),
        );
        const restarted = await waitUntil(
          'sick restarted by its liveness probe',
          async () => {
            const pod = await admin.get<Pod>(RESOURCE.pods, 'default', 'sick');
            return restarts(pod) >= 1 && pod.status?.containerStatuses?.[0]?.lastState?.terminated ? pod : undefined;
          },
          30_000,
        );
        const c = restarted.status!.containerStatuses![0]!;
        const exit = c.lastState!.terminated!;
        ctx.show('sick', podTable([restarted]));
        ctx.show('last state of its container', `Terminated: exit code ${exit.exitCode} (${exit.reason})`);
        const events = (await eventsOf('sick')).filter((e) => e.reason === 'Unhealthy' || e.reason === 'Killing' || e.reason === 'Started');
        ctx.show('kubectl describe pod sick (Events, part)', eventLines(events));
        ctx.say(
          'The container made /tmp/healthy, removed it 4 s later, and went on running. The kubelet runs the probe (cat /tmp/healthy, inside the container) every second; after 2 failures in a row your applyProbeResult said "restart", and the kubelet stopped the container and started it again. ' +
            (exit.exitCode === 143
              ? 'It stopped at SIGTERM (exit 143 = 128 + 15).'
              : exit.exitCode === 137
                ? 'It ignored SIGTERM (the container\'s first process is PID 1 in its own PID namespace, and PID 1 gets no signal it has no handler for), so the runtime sent SIGKILL after the 3 s grace period: exit 137 = 128 + 9.'
                : `It exited with ${exit.exitCode}.`),
        );
        await admin.delete(RESOURCE.pods, 'default', 'sick', { gracePeriodSeconds: 0 });
      },
    },
    {
      title: 'Deleting a Pod: SIGTERM, the grace period, SIGKILL',
      async run(ctx) {
        // Why a trap in both: it states in the command itself what the program does with SIGTERM; the annotation tells the sim the same.
        await admin.create(RESOURCE.pods, busyboxPod('polite', { terminationGracePeriodSeconds: 3, containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', "trap 'exit 143' TERM; while true; do sleep 1; done"] }] }));
        await admin.create(
          RESOURCE.pods,
          busyboxPod('stubborn', { terminationGracePeriodSeconds: 3, containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', "trap '' TERM; sleep 3600"] }] }, { [IGNORE_SIGTERM_ANNOTATION]: 'true' }),
        );
        await waitUntil('polite and stubborn Running', async () => {
          const now = await pods('default', 'lab=5');
          return now.filter((p) => ['polite', 'stubborn'].includes(p.metadata.name ?? '') && statusColumn(p) === 'Running').length === 2;
        }, 30_000);
        const deletedAt = Date.now();
        await admin.delete(RESOURCE.pods, 'default', 'polite');
        await admin.delete(RESOURCE.pods, 'default', 'stubborn');
        const rows: string[][] = [];
        for (const name of ['polite', 'stubborn']) {
          await waitUntil(`${name} gone`, async () => historyOf(name).at(-1)?.text === 'DELETED', 30_000);
          const final = [...historyOf(name)].reverse().find((h) => h.pod.status?.containerStatuses?.[0]?.state?.terminated);
          const terminated = final?.pod.status?.containerStatuses?.[0]?.state?.terminated;
          const gone = historyOf(name).at(-1)!;
          rows.push([name, terminated ? `exit ${terminated.exitCode} (${terminated.reason})` : '?', `${((watchStarted + gone.at - deletedAt) / 1000).toFixed(1)} s`]);
        }
        ctx.show('deleted with a 3 s grace period', table([['POD', 'HOW ITS CONTAINER ENDED', 'GONE FROM THE API AFTER'], ...rows]));
        // Why fail here: the narration below says what happened, so it must have happened.
        if (rows[0]![1] !== 'exit 143 (Error)' || rows[1]![1] !== 'exit 137 (Error)') throw new Error(`expected polite to end with exit 143 and stubborn with exit 137, got ${rows.map((r) => `${r[0]}: ${r[1]}`).join(', ')}`);
        ctx.show('kubectl describe pod stubborn (Events, part)', eventLines((await eventsOf('stubborn')).filter((e) => e.reason === 'Killing')));
        ctx.say(
          'A delete only sets deletionTimestamp and the grace period; the Pod shows Terminating. Its kubelet sends SIGTERM to each container: the trap handler of polite exits with 143 (= 128 + SIGTERM 15, what the signal itself would give); stubborn ignores it and is killed with SIGKILL when the 3 s are over (137 = 128 + 9). ' +
            'Then the kubelet removes the sandbox, writes the final status, and confirms with a delete of grace period 0: only then is the Pod gone from the API server.',
        );
      },
    },
    {
      title: 'Stop the cluster',
      async run(ctx) {
        await stopCluster();
        if (!ctx.real) {
          ctx.say('The kubelets, the control plane and the simulated runtimes lived in this process; stopping it ends them all.');
          return;
        }
        const left = await hostLeftovers();
        ctx.show('what is left on the host', { 'kbsn<N>-* network namespaces': left.netns, 'kbs-n<N> bridges': left.links, [`mounts under ${clusterDir}`]: left.mounts });
        if (left.netns.length + left.links.length + left.mounts.length > 0) throw new Error(`expected nothing left on the host, got ${JSON.stringify(left)}`);
        ctx.say('Stopping a kubelet leaves its containers running (as with the real one), so stopping the cluster then cleans each runc runtime: every container, mount, network namespace, veth and bridge it made is gone.');
      },
    },
    {
      title: 'What is still missing',
      async run(ctx) {
        const line = frontendPage.split('\n').filter((l) => /said|<pre/.test(l)).join('\n');
        ctx.show('what the frontend\'s page said about its backend', line || frontendPage);
        ctx.note(
          'The Pods run and answer at their Pod IPs, but the frontend cannot reach its backend: http://backend names a Service, and nothing yet gives that Service a virtual IP that leads to the backend Pods, nor resolves its name. ' +
            'Chapter 6 connects the nodes\' Pod networks and makes Services work (kube-proxy); chapter 7 adds cluster DNS, so that "backend" resolves.',
        );
      },
    },
  ],
};
