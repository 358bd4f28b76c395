/**
 * `kubectl describe`: unlike `get`, the client does the printing here. It
 * GETs the object, GETs the Events about it (a field selector on
 * involvedObject), and lays out the fields people look at first in
 * "Key:  value" lines, nested by indentation, with the events last.
 */
import type { Container, ContainerState, Deployment, Endpoints, Event, KubeObject, Node, Pod, Probe, ReplicaSet, Service, Toleration } from '../../api/types.ts';
import type { ResourceInfo } from '../../apiserver/resources.ts';
import { selectorString, timestampSince } from '../../apiserver/tables.ts';
import { isNotFound } from '../client.ts';
import { LAST_APPLIED } from './apply.ts';
import type { FlagSpec } from './args.ts';
import { parseTargets, resolveType, type Command, type CommandContext } from './common.ts';
import { alignColumns } from './tabwriter.ts';

const FLAGS: FlagSpec[] = [];

/** `describe TYPE [NAME...]`: the important fields of objects, then their events. */
export const describeCommand: Command = {
  name: 'describe',
  summary: 'Show details of a resource or group of resources',
  usage: 'describe TYPE [NAME...] | TYPE/NAME...',
  flags: FLAGS,
  async run(args, ctx) {
    let first = true;
    for (const { info, names } of parseTargets(args.positionals)) {
      const namespace = info.namespaced ? ctx.namespace : undefined;
      // Why list when no name is given: `describe pods` describes every pod of the namespace.
      const objects = names.length > 0 ? await getAll(ctx, info, namespace, names) : (await ctx.client.list(info, { namespace })).items;
      for (const object of objects) {
        if (!first) ctx.out.write('\n\n');
        ctx.out.write(await describeObject(info, object, ctx));
        first = false;
      }
    }
  },
};

async function getAll(ctx: CommandContext, info: ResourceInfo, namespace: string | undefined, names: string[]): Promise<KubeObject[]> {
  const objects: KubeObject[] = [];
  for (const name of names) objects.push(await ctx.client.get(info, namespace, name));
  return objects;
}

// #region describe-object
/** The text of one describe: the object's own section, then its events. */
export async function describeObject(info: ResourceInfo, object: KubeObject, ctx: CommandContext): Promise<string> {
  const now = ctx.now();
  const lines = await describeLines(info, object, ctx);
  lines.push(...eventLines(await searchEvents(ctx, info, object), now));
  // Why padding 2: kubectl's describe lays out with a tabwriter that pads by 2 (get pads by 3).
  return alignColumns(lines, { padding: 2 }).map((line) => `${line}\n`).join('');
}
// #endregion describe-object

async function describeLines(info: ResourceInfo, object: KubeObject, ctx: CommandContext): Promise<string[]> {
  switch (info.resource) {
    case 'pods':
      return describePod(object as Pod);
    case 'deployments':
      return describeDeployment(object as Deployment, await ownedReplicaSets(ctx, object as Deployment));
    case 'services':
      return describeService(object as Service, await endpointsOf(ctx, object));
    case 'nodes':
      return describeNode(object as Node);
    default:
      return describeMetadata(object);
  }
}

// #region search-events
/**
 * The Events about one object, oldest first, found as kubectl finds them:
 * `GET events?fieldSelector=involvedObject.name=...,involvedObject.namespace=...,involvedObject.uid=...`
 */
export async function searchEvents(ctx: CommandContext, info: ResourceInfo, object: KubeObject): Promise<Event[]> {
  const namespace = object.metadata.namespace ?? '';
  const fields: Record<string, string> = {
    'involvedObject.name': object.metadata.name ?? '',
    'involvedObject.namespace': namespace,
    'involvedObject.uid': object.metadata.uid ?? '',
  };
  if (info.kind === 'Node') {
    // Why: the kubelet records a node's events with the node's name as its uid, and kubectl searches that way.
    fields['involvedObject.kind'] = 'Node';
    fields['involvedObject.uid'] = object.metadata.name ?? '';
  }
  const fieldSelector = Object.keys(fields).sort().map((key) => `${key}=${fields[key]}`).join(',');
  // Why all namespaces for cluster-scoped objects: their events may be recorded in any namespace (usually default).
  const events = await ctx.client.list<Event>(resolveType('events'), { namespace: namespace || undefined, fieldSelector });
  return [...events.items].sort((a, b) => eventTime(a).localeCompare(eventTime(b)));
}
// #endregion search-events

function eventTime(event: Event): string {
  return event.lastTimestamp || event.eventTime || event.firstTimestamp || '';
}

/** The Events section: a small table, or `Events:  <none>`. */
export function eventLines(events: Event[], now: number): string[] {
  if (events.length === 0) return ['Events:\t<none>'];
  const lines = ['Events:', '  Type\tReason\tAge\tFrom\tMessage', '  ----\t------\t----\t----\t-------'];
  for (const event of events) {
    let age = timestampSince(eventTime(event), now);
    // Why "(x5 over 10m)": a repeated event is one object with a count, not five objects.
    if ((event.count ?? 1) > 1) age += ` (x${event.count} over ${timestampSince(event.firstTimestamp || eventTime(event), now)})`;
    const from = event.source?.component || event.reportingComponent || '';
    lines.push(`  ${event.type ?? ''}\t${event.reason ?? ''}\t${age}\t${from}\t${(event.message ?? '').trim()}`);
  }
  return lines;
}

// ---- pods ----------------------------------------------------------------------

// #region describe-pod
/** A pod: where it runs, its state, and each container's state. */
export function describePod(pod: Pod): string[] {
  const status = pod.status ?? {};
  const node = pod.spec.nodeName ? `${pod.spec.nodeName}${status.hostIP ? `/${status.hostIP}` : ''}` : '<none>';
  const lines = [
    field(0, 'Name', pod.metadata.name),
    field(0, 'Namespace', pod.metadata.namespace),
    field(0, 'Priority', pod.spec.priority ?? 0),
    field(0, 'Service Account', (pod.spec.serviceAccountName as string | undefined) ?? 'default'),
    field(0, 'Node', node),
  ];
  if (status.startTime) lines.push(field(0, 'Start Time', formatTime(status.startTime)));
  lines.push(...labelLines(0, pod.metadata.labels), ...annotationLines(0, pod.metadata.annotations));
  // Why "Terminating": a pod being deleted keeps its phase until the kubelet has stopped it.
  lines.push(field(0, 'Status', pod.metadata.deletionTimestamp ? 'Terminating' : status.phase ?? 'Pending'));
  if (status.reason) lines.push(field(0, 'Reason', status.reason));
  if (status.message) lines.push(field(0, 'Message', status.message));
  lines.push(field(0, 'IP', status.podIP ?? ''));
  lines.push(...listLines(0, 'IPs', (status.podIPs ?? []).map((ip) => field(1, 'IP', ip.ip))));
  const controller = pod.metadata.ownerReferences?.find((owner) => owner.controller);
  if (controller) lines.push(field(0, 'Controlled By', `${controller.kind}/${controller.name}`));
  if (status.nominatedNodeName) lines.push(field(0, 'NominatedNodeName', status.nominatedNodeName));
  lines.push('Containers:');
  for (const container of pod.spec.containers) {
    lines.push(`  ${container.name}:`, ...containerLines(container, statusOf(pod, container.name)));
  }
  lines.push(...conditionLines(status.conditions ?? []));
  if (status.qosClass) lines.push(field(0, 'QoS Class', status.qosClass));
  lines.push(...mapLines(0, 'Node-Selectors', pod.spec.nodeSelector, '='));
  lines.push(...multiline(0, 'Tolerations', (pod.spec.tolerations ?? []).map(formatToleration)));
  return lines;
}
// #endregion describe-pod

function statusOf(pod: Pod, name: string): NonNullable<NonNullable<Pod['status']>['containerStatuses']>[number] | undefined {
  return pod.status?.containerStatuses?.find((status) => status.name === name);
}

/** One container's lines, at level 2; with a status for a pod, without one for a template. */
function containerLines(container: Container, status: ReturnType<typeof statusOf> | 'template'): string[] {
  const lines: string[] = [];
  if (status !== 'template') lines.push(field(2, 'Container ID', status?.containerID ?? ''));
  lines.push(field(2, 'Image', container.image ?? ''));
  if (status !== 'template') lines.push(field(2, 'Image ID', status?.imageID ?? ''));
  lines.push(...portLines(container));
  lines.push(...wordLines('Command', container.command), ...wordLines('Args', container.args));
  if (status !== 'template') {
    lines.push(...stateLines('State', status?.state));
    if (status?.lastState?.terminated) lines.push(...stateLines('Last State', status.lastState));
    lines.push(field(2, 'Ready', status?.ready ? 'True' : 'False'));
    lines.push(field(2, 'Restart Count', status?.restartCount ?? 0));
  }
  if (container.livenessProbe) lines.push(field(2, 'Liveness', formatProbe(container.livenessProbe)));
  if (container.readinessProbe) lines.push(field(2, 'Readiness', formatProbe(container.readinessProbe)));
  const env = (container.env ?? []).map((variable) => field(3, variable.name, variable.value ?? '(set from a source: valueFrom)'));
  lines.push(...listLines(2, 'Environment', env));
  const mounts = ((container as { volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }> }).volumeMounts ?? []).map(
    (mount) => `${indent(3)}${mount.mountPath} from ${mount.name} (${mount.readOnly ? 'ro' : 'rw'})`,
  );
  lines.push(...listLines(2, 'Mounts', mounts));
  return lines;
}

/** `Port: 80/TCP` and `Host Port: 0/TCP`; `Ports:` when there are several. */
function portLines(container: Container): string[] {
  const ports = container.ports ?? [];
  if (ports.length === 0) return [field(2, 'Port', '<none>'), field(2, 'Host Port', '<none>')];
  const plural = ports.length > 1 ? 's' : '';
  return [
    field(2, `Port${plural}`, ports.map((p) => `${p.containerPort}/${p.protocol ?? 'TCP'}`).join(', ')),
    field(2, `Host Port${plural}`, ports.map((p) => `${p.hostPort ?? 0}/${p.protocol ?? 'TCP'}`).join(', ')),
  ];
}

/** A command or its arguments, one word a line under the heading. */
function wordLines(title: string, words: string[] | undefined): string[] {
  if (!words?.length) return [];
  return [`${indent(2)}${title}:`, ...words.map((word) => `${indent(3)}${word}`)];
}

/** `State: Running` with its details one level in. */
function stateLines(title: string, state: ContainerState | undefined): string[] {
  if (state?.running) return [field(2, title, 'Running'), field(3, 'Started', formatTime(state.running.startedAt))];
  if (state?.terminated) {
    const t = state.terminated;
    const lines = [field(2, title, 'Terminated')];
    if (t.reason) lines.push(field(3, 'Reason', t.reason));
    if (t.message) lines.push(field(3, 'Message', t.message));
    lines.push(field(3, 'Exit Code', t.exitCode));
    if (t.signal) lines.push(field(3, 'Signal', t.signal));
    lines.push(field(3, 'Started', formatTime(t.startedAt)), field(3, 'Finished', formatTime(t.finishedAt)));
    return lines;
  }
  // Why Waiting when there is no state at all: the kubelet has not reported the container yet.
  const lines = [field(2, title, 'Waiting')];
  if (state?.waiting?.reason) lines.push(field(3, 'Reason', state.waiting.reason));
  return lines;
}

/** A probe as kubectl writes it: `http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3`. */
function formatProbe(probe: Probe): string {
  let action = 'unknown';
  if (probe.httpGet) action = `http-get ${(probe.httpGet.scheme ?? 'HTTP').toLowerCase()}://${probe.httpGet.host ?? ''}:${probe.httpGet.port}${probe.httpGet.path ?? ''}`;
  else if (probe.tcpSocket) action = `tcp-socket ${probe.tcpSocket.host ?? ''}:${probe.tcpSocket.port}`;
  else if (probe.exec) action = `exec [${(probe.exec.command ?? []).join(' ')}]`;
  const timing = `delay=${probe.initialDelaySeconds ?? 0}s timeout=${probe.timeoutSeconds ?? 1}s period=${probe.periodSeconds ?? 10}s`;
  return `${action} ${timing} #success=${probe.successThreshold ?? 1} #failure=${probe.failureThreshold ?? 3}`;
}

function formatToleration(toleration: Toleration): string {
  let text = toleration.key ?? '';
  if (toleration.value) text += `=${toleration.value}`;
  if (toleration.effect) text += `:${toleration.effect}`;
  if (toleration.operator === 'Exists') text += text ? ' op=Exists' : 'op=Exists';
  if (toleration.tolerationSeconds !== undefined) text += ` for ${toleration.tolerationSeconds}s`;
  return text;
}

/** `Conditions:` and a Type/Status table, for pods. */
function conditionLines(conditions: Array<{ type: string; status: string }>): string[] {
  if (conditions.length === 0) return [];
  return ['Conditions:', '  Type\tStatus', ...conditions.map((c) => `  ${c.type}\t${c.status}`)];
}

// ---- deployments -----------------------------------------------------------------

async function ownedReplicaSets(ctx: CommandContext, deployment: Deployment): Promise<ReplicaSet[]> {
  const labelSelector = selectorString(deployment.spec.selector);
  const list = await ctx.client.list<ReplicaSet>(resolveType('replicasets'), { namespace: deployment.metadata.namespace, labelSelector });
  // Why check the owner: another Deployment's ReplicaSets may match the same labels.
  return list.items.filter((rs) => rs.metadata.ownerReferences?.some((owner) => owner.controller && owner.uid === deployment.metadata.uid));
}

// #region describe-deployment
/** A Deployment: its replica counts, strategy, pod template, conditions and ReplicaSets. */
export function describeDeployment(deployment: Deployment, replicaSets: ReplicaSet[]): string[] {
  const { spec } = deployment;
  const status = deployment.status ?? {};
  const desired = spec.replicas ?? 1;
  const strategy = spec.strategy?.type ?? 'RollingUpdate';
  const lines = [
    field(0, 'Name', deployment.metadata.name),
    field(0, 'Namespace', deployment.metadata.namespace),
    field(0, 'CreationTimestamp', formatTime(deployment.metadata.creationTimestamp)),
    ...labelLines(0, deployment.metadata.labels),
    ...annotationLines(0, deployment.metadata.annotations),
    field(0, 'Selector', selectorString(spec.selector) || '<none>'),
    field(0, 'Replicas', `${desired} desired | ${status.updatedReplicas ?? 0} updated | ${status.replicas ?? 0} total | ${status.availableReplicas ?? 0} available | ${status.unavailableReplicas ?? 0} unavailable`),
    field(0, 'StrategyType', strategy),
    field(0, 'MinReadySeconds', spec.minReadySeconds ?? 0),
  ];
  if (strategy === 'RollingUpdate') {
    const rolling = spec.strategy?.rollingUpdate ?? {};
    lines.push(field(0, 'RollingUpdateStrategy', `${rolling.maxUnavailable ?? '25%'} max unavailable, ${rolling.maxSurge ?? '25%'} max surge`));
  }
  lines.push('Pod Template:', ...labelLines(1, spec.template.metadata?.labels), `${indent(1)}Containers:`);
  // Why three spaces: kubectl indents a template's container names one space past "Containers:".
  for (const container of spec.template.spec.containers) lines.push(`   ${container.name}:`, ...containerLines(container, 'template'));
  if (status.conditions?.length) {
    lines.push('Conditions:', '  Type\tStatus\tReason', '  ----\t------\t------');
    for (const c of status.conditions) lines.push(`  ${c.type}\t${c.status}\t${c.reason ?? ''}`);
  }
  const [newest, ...older] = [...replicaSets].sort((a, b) => revision(b) - revision(a));
  lines.push(field(0, 'OldReplicaSets', older.map(replicaSetSummary).join(', ') || '<none>'));
  lines.push(field(0, 'NewReplicaSet', newest ? replicaSetSummary(newest) : '<none>'));
  return lines;
}
// #endregion describe-deployment

/** The revision the Deployment controller stamped on a ReplicaSet; the newest is the current template. */
function revision(rs: ReplicaSet): number {
  return Number(rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
}

function replicaSetSummary(rs: ReplicaSet): string {
  return `${rs.metadata.name} (${rs.status?.replicas ?? 0}/${rs.spec.replicas ?? 0} replicas created)`;
}

// ---- services -------------------------------------------------------------------

async function endpointsOf(ctx: CommandContext, service: KubeObject): Promise<Endpoints | undefined> {
  try {
    return await ctx.client.get<Endpoints>(resolveType('endpoints'), service.metadata.namespace, service.metadata.name ?? '');
  } catch (error) {
    // Why not fail: a Service without a selector has no Endpoints object, and that is not an error.
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

// #region describe-service
/** A Service: its virtual IP, each port with its target, and the pod addresses behind it. */
export function describeService(service: Service, endpoints: Endpoints | undefined): string[] {
  const { spec } = service;
  const lines = [
    field(0, 'Name', service.metadata.name),
    field(0, 'Namespace', service.metadata.namespace),
    ...labelLines(0, service.metadata.labels),
    ...annotationLines(0, service.metadata.annotations),
    field(0, 'Selector', formatMap(spec.selector, '=', ',') || '<none>'),
    field(0, 'Type', spec.type ?? 'ClusterIP'),
  ];
  if (spec.clusterIP && spec.clusterIP !== 'None') lines.push(field(0, 'IP', spec.clusterIP));
  if (spec.clusterIPs?.length) lines.push(field(0, 'IPs', spec.clusterIPs.join(',')));
  for (const port of spec.ports ?? []) {
    const protocol = port.protocol ?? 'TCP';
    const name = port.name || '<unset>';
    lines.push(`Port:\t${name}\t${port.port}/${protocol}`);
    lines.push(field(0, 'TargetPort', `${port.targetPort ?? port.port}/${protocol}`));
    if (port.nodePort) lines.push(`NodePort:\t${name}\t${port.nodePort}/${protocol}`);
    lines.push(field(0, 'Endpoints', endpointAddresses(endpoints, port.name ?? '')));
  }
  lines.push(field(0, 'Session Affinity', spec.sessionAffinity ?? 'None'));
  return lines;
}
// #endregion describe-service

/** `10.0.0.5:8080,10.0.0.6:8080`: the ready addresses behind one service port; the first three, as kubectl shows. */
function endpointAddresses(endpoints: Endpoints | undefined, portName: string): string {
  const addresses: string[] = [];
  for (const subset of endpoints?.subsets ?? []) {
    const port = subset.ports?.find((p) => (p.name ?? '') === portName);
    if (!port) continue;
    for (const address of subset.addresses ?? []) addresses.push(`${address.ip}:${port.port}`);
  }
  if (addresses.length === 0) return '<none>';
  const more = addresses.length > 3 ? ` + ${addresses.length - 3} more...` : '';
  return addresses.slice(0, 3).join(',') + more;
}

// ---- nodes ----------------------------------------------------------------------

// #region describe-node
/** A Node: roles, taints, conditions (the kubelet's heartbeat), addresses, capacity and versions. */
export function describeNode(node: Node): string[] {
  const status = node.status ?? {};
  const roles = Object.keys(node.metadata.labels ?? {})
    .filter((key) => key.startsWith('node-role.kubernetes.io/'))
    .map((key) => key.slice('node-role.kubernetes.io/'.length));
  const taints = (node.spec?.taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`);
  const lines = [
    field(0, 'Name', node.metadata.name),
    field(0, 'Roles', roles.join(',') || '<none>'),
    ...labelLines(0, node.metadata.labels),
    ...annotationLines(0, node.metadata.annotations),
    field(0, 'CreationTimestamp', formatTime(node.metadata.creationTimestamp)),
    ...multiline(0, 'Taints', taints),
    field(0, 'Unschedulable', node.spec?.unschedulable ? 'true' : 'false'),
  ];
  if (status.conditions?.length) {
    lines.push('Conditions:', '  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage');
    lines.push('  ----\t------\t-----------------\t------------------\t------\t-------');
    for (const c of status.conditions) {
      lines.push(`  ${c.type}\t${c.status}\t${formatTime(c.lastHeartbeatTime)}\t${formatTime(c.lastTransitionTime)}\t${c.reason ?? ''}\t${c.message ?? ''}`);
    }
  }
  lines.push(...listLines(0, 'Addresses', (status.addresses ?? []).map((a) => field(1, a.type, a.address))));
  lines.push(...mapLines(0, 'Capacity', status.capacity, ':'), ...mapLines(0, 'Allocatable', status.allocatable, ':'));
  lines.push(...listLines(0, 'System Info', systemInfo(node)));
  if (node.spec?.podCIDR) lines.push(field(0, 'PodCIDR', node.spec.podCIDR));
  if (node.spec?.podCIDRs?.length) lines.push(field(0, 'PodCIDRs', node.spec.podCIDRs.join(',')));
  return lines;
}
// #endregion describe-node

function systemInfo(node: Node): string[] {
  const info = node.status?.nodeInfo ?? {};
  const shown: Array<[string, unknown]> = [
    ['Kernel Version', info.kernelVersion],
    ['OS Image', info.osImage],
    ['Operating System', info.operatingSystem],
    ['Architecture', info.architecture],
    ['Container Runtime Version', info.containerRuntimeVersion],
    ['Kubelet Version', info.kubeletVersion],
  ];
  return shown.filter(([, value]) => value !== undefined).map(([key, value]) => field(1, key, value));
}

// ---- any other kind ---------------------------------------------------------------

/** What every object has: its name, namespace, labels and annotations. */
export function describeMetadata(object: KubeObject): string[] {
  const lines = [field(0, 'Name', object.metadata.name)];
  if (object.metadata.namespace) lines.push(field(0, 'Namespace', object.metadata.namespace));
  lines.push(...labelLines(0, object.metadata.labels), ...annotationLines(0, object.metadata.annotations));
  lines.push(field(0, 'CreationTimestamp', formatTime(object.metadata.creationTimestamp)));
  return lines;
}

// ---- layout helpers ------------------------------------------------------------------

/** kubectl indents each level by two spaces. */
function indent(level: number): string {
  return '  '.repeat(level);
}

/** `Key:<tab>value` at an indentation level; the tab is where the columns line up. */
function field(level: number, key: string, value: unknown): string {
  return `${indent(level)}${key}:\t${value ?? ''}`;
}

/**
 * A key with several values: the first beside the key, the others below it
 * in the same column (an empty cell before the tab keeps them aligned).
 */
function multiline(level: number, key: string, values: string[]): string[] {
  if (values.length === 0) return [field(level, key, '<none>')];
  const [first, ...rest] = values;
  return [field(level, key, first), ...rest.map((value) => `${indent(level)}\t${value}`)];
}

/** A heading with lines nested under it, or `Heading:  <none>`. */
function listLines(level: number, title: string, nested: string[]): string[] {
  return nested.length === 0 ? [field(level, title, '<none>')] : [`${indent(level)}${title}:`, ...nested];
}

function labelLines(level: number, labels: Record<string, string> | undefined): string[] {
  return multiline(level, 'Labels', pairs(labels, '='));
}

/** Annotations, except the last-applied record, which is the whole object again and only noise here. */
function annotationLines(level: number, annotations: Record<string, string> | undefined): string[] {
  const shown = Object.fromEntries(Object.entries(annotations ?? {}).filter(([key]) => key !== LAST_APPLIED));
  return multiline(level, 'Annotations', pairs(shown, ': '));
}

/** A map as nested `key:  value` lines (Capacity) or one line per `key=value` (Node-Selectors). */
function mapLines(level: number, title: string, map: Record<string, string> | undefined, separator: ':' | '='): string[] {
  if (separator === '=') return multiline(level, title, pairs(map, '='));
  return listLines(level, title, Object.keys(map ?? {}).sort().map((key) => field(level + 1, key, map![key])));
}

function pairs(map: Record<string, string> | undefined, separator: string): string[] {
  return Object.keys(map ?? {}).sort().map((key) => `${key}${separator}${map![key]}`);
}

function formatMap(map: Record<string, string> | undefined, separator: string, joiner: string): string {
  return pairs(map, separator).join(joiner);
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A timestamp as describe prints it (RFC 1123 with a numeric zone): `Mon, 02 Jan 2006 15:04:05 +0000`, in UTC. */
export function formatTime(timestamp: string | null | undefined): string {
  const time = timestamp ? new Date(timestamp) : undefined;
  if (!time || Number.isNaN(time.getTime())) return '<unknown>';
  const two = (n: number): string => String(n).padStart(2, '0');
  const clock = `${two(time.getUTCHours())}:${two(time.getUTCMinutes())}:${two(time.getUTCSeconds())}`;
  return `${DAYS[time.getUTCDay()]}, ${two(time.getUTCDate())} ${MONTHS[time.getUTCMonth()]} ${time.getUTCFullYear()} ${clock} +0000`;
}
