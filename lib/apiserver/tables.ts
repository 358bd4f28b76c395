/**
 * Server-side printing: the Table the real kube-apiserver answers when a
 * client asks for `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.
 * kubectl does not know how to print a Pod or a Deployment; it asks the server
 * for rows and columns and lays them out. So the columns, the cells and their
 * wording here follow kube-apiserver's printers (pkg/printers/internalversion)
 * and its durations (k8s.io/apimachinery/pkg/util/duration) exactly.
 *
 * The server always renders every column, the wide ones too (priority 1);
 * kubectl hides priority-1 columns unless it was given `-o wide`.
 */
import type {
  ContainerStatus,
  ConfigMap,
  Deployment,
  Endpoints,
  Event,
  Job,
  KubeObject,
  LabelSelector,
  Lease,
  Namespace,
  Node,
  ObjectMeta,
  Pod,
  PodStatus,
  PodTemplateSpec,
  ReplicaSet,
  RoleBinding,
  Service,
  ServicePort,
} from '../api/types.ts';
import type { ResourceInfo } from './resources.ts';
import { badRequest } from './status.ts';

// ---- the Table shape (meta.k8s.io/v1) -------------------------------------

/** One column of a Table: its header, the type of its cells and whether only `-o wide` shows it (priority 1). */
export interface TableColumnDefinition {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  /** `name` marks the column that holds the object's name; empty for the others. */
  format: string;
  description: string;
  priority: number;
}

/** A cell is a string or a number, as the real printers put it in the JSON. */
export type Cell = string | number | boolean;

/** A flag on a row; the pod printer marks finished pods `Completed`. */
export interface TableRowCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}

/** The metadata-only view of an object that a row carries by default. */
export interface PartialObjectMetadata {
  kind: 'PartialObjectMetadata';
  apiVersion: 'meta.k8s.io/v1';
  metadata: ObjectMeta;
}

/** One row: the cells, and the object (or its metadata) kubectl reads namespace and labels from. */
export interface TableRow {
  cells: Cell[];
  conditions?: TableRowCondition[];
  object: KubeObject | PartialObjectMetadata | null;
}

/** A meta.k8s.io/v1 Table, as kubectl reads it. */
export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: { resourceVersion: string; continue?: string };
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

/** What each row's `object` holds, as the `includeObject` query parameter asks. */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** How to render: the clock to measure ages against, and what the request asked for. */
export interface TableOptions {
  /** The current time in milliseconds since the epoch; ages are measured from it. */
  now: number;
  /** The resourceVersion the objects were read at. */
  resourceVersion: string;
  /** Defaults to `Metadata`, as on the real server. */
  includeObject?: IncludeObject;
  /** Leave out the column definitions, as the real server does for every watch event after the first. */
  noHeaders?: boolean;
  /** The `continue` token of a paged list. */
  continueToken?: string;
}

/** How one resource prints: its columns and, for one object, the cells under them. */
export interface Printer {
  columns: TableColumnDefinition[];
  cells(object: KubeObject, now: number): Cell[];
  conditions?(object: KubeObject): TableRowCondition[] | undefined;
}

// ---- rendering ------------------------------------------------------------

// #region to-table
/** Render a list of objects of one resource as the Table kube-apiserver would send. */
export function toTable(info: ResourceInfo, objects: KubeObject[], options: TableOptions): Table {
  const printer = printerFor(info);
  const metadata: Table['metadata'] = { resourceVersion: options.resourceVersion };
  if (options.continueToken) metadata.continue = options.continueToken;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: options.noHeaders ? [] : printer.columns,
    rows: objects.map((object) => toRow(printer, object, options.now, options.includeObject ?? 'Metadata')),
  };
}

function toRow(printer: Printer, object: KubeObject, now: number, includeObject: IncludeObject): TableRow {
  const row: TableRow = { cells: printer.cells(object, now), object: rowObject(object, includeObject) };
  const conditions = printer.conditions?.(object);
  if (conditions) row.conditions = conditions;
  return row;
}

function rowObject(object: KubeObject, includeObject: IncludeObject): TableRow['object'] {
  switch (includeObject) {
    case 'Object':
      return object;
    case 'None':
      return null;
    case 'Metadata':
      // Why the whole metadata: kubectl reads the namespace (for -A) and the labels (for --show-labels) from it.
      return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata };
  }
}
// #endregion to-table

/**
 * One watch event's object as a Table, which is what a Table watch sends in
 * place of the object: the column definitions come only with the first event.
 */
export function watchEventTable(
  info: ResourceInfo,
  object: KubeObject,
  options: { now: number; first: boolean; includeObject?: IncludeObject },
): Table {
  const tableOptions: TableOptions = { now: options.now, resourceVersion: object.metadata.resourceVersion ?? '', noHeaders: !options.first };
  if (options.includeObject) tableOptions.includeObject = options.includeObject;
  return toTable(info, [object], tableOptions);
}

/** Read the `includeObject` query parameter; an unknown value is a 400, worded as the real server words it. */
export function parseIncludeObject(value: string | null | undefined): IncludeObject {
  if (value === null || value === undefined || value === '') return 'Metadata';
  if (value === 'None' || value === 'Metadata' || value === 'Object') return value;
  throw badRequest(`unrecognized includeObject value: "${value}"`);
}

/** The printer of a resource; a resource without its own printer gets Name and Age. */
export function printerFor(info: ResourceInfo): Printer {
  return PRINTERS[info.resource] ?? DEFAULT_PRINTER;
}

/** The columns `kubectl get` shows for a resource, wide ones (priority 1) included. */
export function columnDefinitionsFor(info: ResourceInfo): TableColumnDefinition[] {
  return printerFor(info).columns;
}

// ---- durations ------------------------------------------------------------

// #region human-duration
/**
 * A duration as kubectl prints ages: about two significant figures, finer for
 * short spans (`45s`, `2m30s`, `3h5m`, `2d3h`) and coarser for long ones
 * (`15m`, `20h`, `9d`). This is apimachinery's HumanDuration.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  // Why: two machines' clocks never agree exactly; up to a second in the future still reads as "now".
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 2 * 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return withRemainder(minutes, 'm', seconds % 60, 's');
  if (minutes < 3 * 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return withRemainder(hours, 'h', minutes % 60, 'm');
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (days < 8) return withRemainder(days, 'd', hours % 24, 'h');
  if (days < 2 * 365) return `${days}d`;
  const years = Math.floor(days / 365);
  if (years < 8) return withRemainder(years, 'y', days % 365, 'd');
  return `${years}y`;
}

/** `2m30s`, or just `2m` when the smaller unit is zero. */
function withRemainder(big: number, bigUnit: string, small: number, smallUnit: string): string {
  return small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit}${small}${smallUnit}`;
}
// #endregion human-duration

/** How long ago a timestamp was, as kubectl prints it; `<unknown>` when there is none. */
export function timestampSince(timestamp: string | null | undefined, now: number): string {
  const time = parseTime(timestamp);
  return time === undefined ? '<unknown>' : humanDuration(now - time);
}

function parseTime(timestamp: string | null | undefined): number | undefined {
  if (!timestamp) return undefined;
  const time = Date.parse(timestamp);
  return Number.isNaN(time) ? undefined : time;
}

// ---- columns shared by many printers --------------------------------------

function column(name: string, description: string, more: Partial<TableColumnDefinition> = {}): TableColumnDefinition {
  return { name, type: 'string', format: '', description, priority: 0, ...more };
}

/** Only `-o wide` shows a priority-1 column. */
function wide(definition: TableColumnDefinition): TableColumnDefinition {
  return { ...definition, priority: 1 };
}

const NAME = column('Name', 'Name must be unique within a namespace. Cannot be updated.', { format: 'name' });
const AGE = column('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created.');
const CONTAINERS = wide(column('Containers', 'Names of each container in the template.'));
const IMAGES = wide(column('Images', 'Images referenced by each container in the template.'));

function name(object: KubeObject): string {
  return object.metadata.name ?? '';
}

function age(object: KubeObject, now: number): string {
  return timestampSince(object.metadata.creationTimestamp, now);
}

/** The Containers and Images cells of a pod template: `web,sidecar` and `nginx:1.26,busybox`. */
function templateCells(template: PodTemplateSpec | undefined): [string, string] {
  const containers = template?.spec.containers ?? [];
  return [containers.map((c) => c.name).join(','), containers.map((c) => c.image ?? '').join(',')];
}

/** A label map as `a=1,b=2` (sorted), or `<none>`. */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const pairs = Object.entries(labels ?? {}).map(([key, value]) => `${key}=${value}`);
  return pairs.sort().join(',') || '<none>';
}

/** A label selector as kubectl writes one: `app=web,tier in (api,db),!canary`, sorted by key; empty matches everything. */
export function selectorString(selector: LabelSelector | undefined): string {
  const requirements: Array<[key: string, text: string]> = [];
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) requirements.push([key, `${key}=${value}`]);
  for (const expression of selector?.matchExpressions ?? []) {
    const values = [...(expression.values ?? [])].sort().join(',');
    const text = {
      In: `${expression.key} in (${values})`,
      NotIn: `${expression.key} notin (${values})`,
      Exists: expression.key,
      DoesNotExist: `!${expression.key}`,
    }[expression.operator];
    requirements.push([expression.key, text]);
  }
  requirements.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return requirements.map(([, text]) => text).join(',');
}

/** The Selector cell of ReplicaSets and Jobs: like `selectorString`, but `<none>` when empty. */
function formatLabelSelector(selector: LabelSelector | undefined): string {
  return selectorString(selector) || '<none>';
}

// ---- pods -----------------------------------------------------------------

/** Pod status fields the printer reads that lib/api/types.ts does not declare. */
type PodStatusWithInit = PodStatus & { initContainerStatuses?: ContainerStatus[] };

const POD_COLUMNS = [
  NAME,
  column('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
  column('Status', 'The aggregate status of the containers in this pod.'),
  column('Restarts', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
  AGE,
  wide(column('IP', 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.')),
  wide(column('Node', 'NodeName indicates in which node this pod is scheduled.')),
  wide(column('Nominated Node', 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away.')),
  wide(column('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness.')),
];

function podCells(pod: Pod, now: number): Cell[] {
  const summary = summarizePod(pod);
  return [
    name(pod),
    `${summary.ready}/${pod.spec.containers.length}`,
    summary.reason,
    restartsCell(summary, now),
    age(pod, now),
    podIP(pod),
    pod.spec.nodeName || '<none>',
    pod.status?.nominatedNodeName || '<none>',
    readinessGatesCell(pod),
  ];
}

/** What the Ready, Status and Restarts columns of a pod are made of. */
interface PodSummary {
  ready: number;
  reason: string;
  restarts: number;
  /** When a container last stopped before being restarted, in ms since the epoch; 0 if never. */
  lastRestart: number;
}

// #region pod-status
/** The pod's Status column and counts: the phase, overridden by what its init containers and containers are doing. */
function summarizePod(pod: Pod): PodSummary {
  const status: PodStatusWithInit = pod.status ?? {};
  // Why 'Pending': the API server sets that phase on every new pod, so a pod without one has not started.
  let reason = status.reason || status.phase || 'Pending';
  if (status.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) reason = 'SchedulingGated';
  const init = summarizeInitContainers(pod, reason);
  // Why: while init containers still run the app containers have not started, so their statuses say nothing yet.
  const summary = init.initializing && !hasTrueCondition(status, 'Initialized') ? init : summarizeContainers(status, init.reason);
  return { ...summary, reason: reasonWhileDeleting(pod, summary.reason) };
}

/** Walk the init containers in order; the first that has not succeeded gives the Status (`Init:1/2`, `Init:CrashLoopBackOff`). */
function summarizeInitContainers(pod: Pod, reason: string): PodSummary & { initializing: boolean } {
  const statuses = (pod.status as PodStatusWithInit | undefined)?.initContainerStatuses ?? [];
  const total = pod.spec.initContainers?.length ?? 0;
  let restarts = 0;
  let lastRestart = 0;
  for (const [index, container] of statuses.entries()) {
    restarts += container.restartCount;
    lastRestart = Math.max(lastRestart, lastTermination(container));
    if (container.state?.terminated?.exitCode === 0) continue;
    return { ready: 0, reason: `Init:${initContainerReason(container, index, total)}`, restarts, lastRestart, initializing: true };
  }
  return { ready: 0, reason, restarts, lastRestart, initializing: false };
}

/** What holds the pod up in an init container: its failure, its waiting reason, or just its place in line (`1/2`). */
function initContainerReason(container: ContainerStatus, index: number, total: number): string {
  const { waiting, terminated } = container.state ?? {};
  if (terminated) return terminatedReason(terminated);
  // Why not PodInitializing: that is the normal wait of a container whose turn has not come yet.
  if (waiting?.reason && waiting.reason !== 'PodInitializing') return waiting.reason;
  return `${index}/${total}`;
}

/** Walk the app containers: a waiting or terminated one names the Status, a ready running one counts as ready. */
function summarizeContainers(status: PodStatus, startReason: string): PodSummary {
  let reason = startReason;
  let ready = 0;
  let restarts = 0;
  let lastRestart = 0;
  let hasRunning = false;
  // Why backwards: kubectl walks the list from the end, so the first container's state is the one that shows.
  for (const container of [...(status.containerStatuses ?? [])].reverse()) {
    restarts += container.restartCount;
    lastRestart = Math.max(lastRestart, lastTermination(container));
    const { waiting, terminated, running } = container.state ?? {};
    if (waiting?.reason) reason = waiting.reason;
    else if (terminated) reason = terminatedReason(terminated);
    else if (container.ready && running) {
      hasRunning = true;
      ready++;
    }
  }
  // Why: one container completed while another still runs, so the pod as a whole has not completed.
  if (reason === 'Completed' && hasRunning) reason = hasTrueCondition(status, 'Ready') ? 'Running' : 'NotReady';
  return { ready, reason, restarts, lastRestart };
}

/** `Completed`, `Error`, `OOMKilled`, or, when the runtime gave no reason, `Signal:9` or `ExitCode:1`. */
function terminatedReason(terminated: { reason?: string; signal?: number; exitCode: number }): string {
  if (terminated.reason) return terminated.reason;
  return terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode}`;
}

/** A pod being deleted shows `Terminating`, unless it had already finished or its node was lost. */
function reasonWhileDeleting(pod: Pod, reason: string): string {
  if (!pod.metadata.deletionTimestamp) return reason;
  // Why: the node controller deletes pods of a node it lost touch with; nobody knows whether they still run.
  if (pod.status?.reason === 'NodeLost') return 'Unknown';
  // Why: a pod that has already finished keeps its final word while it is being deleted.
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return reason;
  return 'Terminating';
}
// #endregion pod-status

function hasTrueCondition(status: PodStatus, type: string): boolean {
  return status.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
}

function lastTermination(container: ContainerStatus): number {
  return parseTime(container.lastState?.terminated?.finishedAt) ?? 0;
}

/** `0`, or `3 (5m ago)` once a container has restarted. */
function restartsCell(summary: PodSummary, now: number): string {
  if (summary.restarts === 0 || summary.lastRestart === 0) return String(summary.restarts);
  return `${summary.restarts} (${humanDuration(now - summary.lastRestart)} ago)`;
}

function podIP(pod: Pod): string {
  // Why the fallback: podIPs[0] is what the real printer reads; a writer may have set only the older podIP.
  return pod.status?.podIPs?.[0]?.ip || pod.status?.podIP || '<none>';
}

/** `1/2`: how many of the pod's readiness gates have their condition True; `<none>` without gates. */
function readinessGatesCell(pod: Pod): string {
  const gates = (pod.spec.readinessGates ?? []) as Array<{ conditionType: string }>;
  if (gates.length === 0) return '<none>';
  const conditions = pod.status?.conditions ?? [];
  const passed = gates.filter((gate) => conditions.find((c) => c.type === gate.conditionType)?.status === 'True');
  return `${passed.length}/${gates.length}`;
}

/** A finished pod's row is flagged Completed, so clients can tell it from running ones. */
function podRowConditions(pod: Pod): TableRowCondition[] | undefined {
  switch (pod.status?.phase) {
    case 'Succeeded':
      return [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
    case 'Failed':
      return [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];
    default:
      return undefined;
  }
}

// ---- workloads ------------------------------------------------------------

const DEPLOYMENT_COLUMNS = [
  NAME,
  column('Ready', 'Number of the pod with ready state'),
  column('Up-to-date', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
  column('Available', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
  AGE,
  CONTAINERS,
  IMAGES,
  wide(column('Selector', 'Label selector for pods.')),
];

function deploymentCells(deployment: Deployment, now: number): Cell[] {
  const status = deployment.status ?? {};
  // Why 1: the API server defaults spec.replicas to 1.
  const desired = deployment.spec.replicas ?? 1;
  return [
    name(deployment),
    `${status.readyReplicas ?? 0}/${desired}`,
    status.updatedReplicas ?? 0,
    status.availableReplicas ?? 0,
    age(deployment, now),
    ...templateCells(deployment.spec.template),
    // Why not formatLabelSelector: the Deployment printer leaves an empty selector blank, not `<none>`.
    selectorString(deployment.spec.selector),
  ];
}

const REPLICASET_COLUMNS = [
  NAME,
  column('Desired', 'Replicas is the number of desired replicas.', { type: 'integer' }),
  column('Current', 'Replicas is the most recently observed number of replicas.', { type: 'integer' }),
  column('Ready', 'The number of ready replicas for this replica set.', { type: 'integer' }),
  AGE,
  CONTAINERS,
  IMAGES,
  wide(column('Selector', 'Selector is a label query over pods that should match the replica count.')),
];

function replicaSetCells(replicaSet: ReplicaSet, now: number): Cell[] {
  return [
    name(replicaSet),
    replicaSet.spec.replicas ?? 1,
    replicaSet.status?.replicas ?? 0,
    replicaSet.status?.readyReplicas ?? 0,
    age(replicaSet, now),
    ...templateCells(replicaSet.spec.template),
    formatLabelSelector(replicaSet.spec.selector),
  ];
}

const JOB_COLUMNS = [
  NAME,
  column('Status', 'Status of the job.'),
  column('Completions', 'The number of pods which reached phase Succeeded.'),
  column('Duration', 'Time required to complete the job.'),
  AGE,
  CONTAINERS,
  IMAGES,
  wide(column('Selector', 'A label query over pods that should match the pod count.')),
];

function jobCells(job: Job, now: number): Cell[] {
  return [
    name(job),
    jobStatus(job),
    jobCompletions(job),
    jobDuration(job, now),
    age(job, now),
    ...templateCells(job.spec.template),
    formatLabelSelector(job.spec.selector),
  ];
}

/** The first of Complete, Failed, Terminating, Suspended, FailureTarget that holds, else Running. */
function jobStatus(job: Job): string {
  const has = (type: string) => job.status?.conditions?.find((c) => c.type === type)?.status === 'True';
  if (has('Complete')) return 'Complete';
  if (has('Failed')) return 'Failed';
  if (job.metadata.deletionTimestamp) return 'Terminating';
  if (has('Suspended')) return 'Suspended';
  if (has('FailureTarget')) return 'FailureTarget';
  return 'Running';
}

/** `1/3` succeeded of the completions wanted; a work-queue job (no completions) shows `0/1 of 3` for its parallelism. */
function jobCompletions(job: Job): string {
  const succeeded = job.status?.succeeded ?? 0;
  if (job.spec.completions !== undefined) return `${succeeded}/${job.spec.completions}`;
  const parallelism = job.spec.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

/** How long the job ran, or has been running; blank before it starts. */
function jobDuration(job: Job, now: number): string {
  const start = parseTime(job.status?.startTime);
  if (start === undefined) return '';
  return humanDuration((parseTime(job.status?.completionTime) ?? now) - start);
}

// ---- services and endpoints -----------------------------------------------

const SERVICE_COLUMNS = [
  NAME,
  column('Type', 'type determines how the Service is exposed.'),
  column('Cluster-IP', 'clusterIP is the IP address of the service and is usually assigned randomly.'),
  column('External-IP', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
  column('Port(s)', 'The list of ports that are exposed by this service.'),
  AGE,
  wide(column('Selector', 'Route service traffic to pods with label keys and values matching this selector.')),
];

function serviceCells(service: Service, now: number): Cell[] {
  // Why the default: the API server sets type ClusterIP on a Service that names none.
  const type = service.spec.type ?? 'ClusterIP';
  const clusterIP = service.spec.clusterIPs?.[0] || service.spec.clusterIP || '<none>';
  const ports = (service.spec.ports ?? []).map(portString).join(',') || '<none>';
  return [name(service), type, clusterIP, externalIP(service, type), ports, age(service, now), formatLabels(service.spec.selector)];
}

/** `80/TCP`, or `80:30080/TCP` when the port is also opened on every node. */
function portString(port: ServicePort): string {
  const protocol = port.protocol ?? 'TCP';
  return port.nodePort ? `${port.port}:${port.nodePort}/${protocol}` : `${port.port}/${protocol}`;
}

/** The External-IP cell: the external IPs, a load balancer's address (`<pending>` until it has one), or the external name. */
function externalIP(service: Service, type: string): string {
  const externalIPs = service.spec.externalIPs ?? [];
  switch (type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.join(',') || '<none>';
    case 'LoadBalancer': {
      const ingress = service.status?.loadBalancer?.ingress ?? [];
      const balancers = new Set(ingress.map((i) => i.ip || i.hostname || '').filter((address) => address !== ''));
      return [...[...balancers].sort(), ...externalIPs].join(',') || '<pending>';
    }
    case 'ExternalName':
      return service.spec.externalName ?? '';
    default:
      return '<unknown>';
  }
}

const ENDPOINTS_COLUMNS = [NAME, column('Endpoints', 'The set of all endpoints is the union of all subsets.'), AGE];

/** How many endpoints the Endpoints column lists before it says `+ N more...`. */
const ENDPOINTS_SHOWN = 3;

function endpointsCells(endpoints: Endpoints, now: number): Cell[] {
  return [name(endpoints), endpointsCell(endpoints), age(endpoints, now)];
}

/** `10.0.0.5:80,10.0.0.6:80,10.0.0.7:80 + 2 more...`: ready addresses times ports, the first three shown. */
function endpointsCell(endpoints: Endpoints): string {
  const subsets = endpoints.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const shown: string[] = [];
  let count = 0;
  for (const subset of subsets) {
    const addresses = subset.addresses ?? [];
    // Why: a headless Service may have no ports; its endpoints are then bare IPs.
    const ports: Array<number | undefined> = subset.ports?.length ? subset.ports.map((p) => p.port) : [undefined];
    for (const port of ports) {
      count += addresses.length;
      for (const address of addresses.slice(0, ENDPOINTS_SHOWN - shown.length)) {
        shown.push(port === undefined ? address.ip : joinHostPort(address.ip, port));
      }
    }
  }
  const list = shown.join(',');
  return count > ENDPOINTS_SHOWN ? `${list} + ${count - ENDPOINTS_SHOWN} more...` : list;
}

/** `10.0.0.5:80`, or `[fd00::5]:80` for an IPv6 address. */
function joinHostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

// ---- nodes and namespaces -------------------------------------------------

const NODE_COLUMNS = [
  NAME,
  column('Status', 'The status of the node'),
  column('Roles', 'The roles of the node'),
  AGE,
  column('Version', 'Kubelet Version reported by the node.'),
  wide(column('Internal-IP', 'List of addresses reachable to the node.')),
  wide(column('External-IP', 'List of addresses reachable to the node.')),
  wide(column('OS-Image', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).')),
  wide(column('Kernel-Version', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).")),
  wide(column('Container-Runtime', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).')),
];

function nodeCells(node: Node, now: number): Cell[] {
  const info = node.status?.nodeInfo;
  return [
    name(node),
    nodeStatus(node),
    nodeRoles(node),
    age(node, now),
    info?.kubeletVersion ?? '',
    nodeAddress(node, 'InternalIP'),
    nodeAddress(node, 'ExternalIP'),
    info?.osImage || '<unknown>',
    info?.kernelVersion || '<unknown>',
    info?.containerRuntimeVersion || '<unknown>',
  ];
}

/** `Ready`, `NotReady` (condition False or Unknown) or `Unknown` (no Ready condition yet), plus `,SchedulingDisabled` when cordoned. */
function nodeStatus(node: Node): string {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  const status = [ready === undefined ? 'Unknown' : ready.status === 'True' ? 'Ready' : 'NotReady'];
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  return status.join(',');
}

const NODE_ROLE_PREFIX = 'node-role.kubernetes.io/';

/** The roles named by `node-role.kubernetes.io/<role>` labels and the older `kubernetes.io/role=<role>`, sorted; `<none>` without any. */
function nodeRoles(node: Node): string {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(node.metadata.labels ?? {})) {
    if (key.startsWith(NODE_ROLE_PREFIX) && key.length > NODE_ROLE_PREFIX.length) roles.add(key.slice(NODE_ROLE_PREFIX.length));
    else if (key === 'kubernetes.io/role' && value !== '') roles.add(value);
  }
  return [...roles].sort().join(',') || '<none>';
}

function nodeAddress(node: Node, type: 'InternalIP' | 'ExternalIP'): string {
  return node.status?.addresses?.find((a) => a.type === type)?.address ?? '<none>';
}

const NAMESPACE_COLUMNS = [NAME, column('Status', 'The status of the namespace'), AGE];

function namespaceCells(namespace: Namespace, now: number): Cell[] {
  // Why the default: the API server sets phase Active on every new namespace.
  return [name(namespace), namespace.status?.phase ?? 'Active', age(namespace, now)];
}

// ---- events ---------------------------------------------------------------

/** Event fields of events.k8s.io-style recorders that lib/api/types.ts does not declare. */
type EventWithSeries = Event & { series?: { count?: number; lastObservedTime?: string } };

const EVENT_COLUMNS = [
  column('Last Seen', 'The time at which the most recent occurrence of this event was recorded.'),
  column('Type', 'Type of this event (Normal, Warning), new types could be added in the future'),
  column('Reason', "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
  column('Object', 'The object that this event is about.'),
  wide(column('Subobject', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.')),
  wide(column('Source', 'The component reporting this event. Should be a short machine understandable string.')),
  column('Message', 'A human-readable description of the status of this operation.'),
  wide(column('First Seen', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)')),
  wide(column('Count', 'The number of times this event has occurred.')),
  wide(NAME),
];

function eventCells(event: EventWithSeries, now: number): Cell[] {
  const { kind = '', name: objectName, fieldPath = '' } = event.involvedObject;
  const firstSeen = timestampSince(event.firstTimestamp || event.eventTime, now);
  return [
    eventLastSeen(event, firstSeen, now),
    event.type ?? '',
    event.reason ?? '',
    objectName ? `${kind.toLowerCase()}/${objectName}` : kind.toLowerCase(),
    fieldPath,
    eventSource(event),
    (event.message ?? '').trim(),
    firstSeen,
    eventCount(event),
    name(event),
  ];
}

/** A series' last observation, else lastTimestamp, else the same as First Seen. */
function eventLastSeen(event: EventWithSeries, firstSeen: string, now: number): string {
  if (event.series) return timestampSince(event.series.lastObservedTime, now);
  return event.lastTimestamp ? timestampSince(event.lastTimestamp, now) : firstSeen;
}

function eventCount(event: EventWithSeries): number {
  if (event.series) return event.series.count ?? 0;
  // Why 1: events written by the newer events API leave count unset when they happened once.
  return event.count || 1;
}

/** `kubelet, node-2`: who reported the event, and on which host if known. */
function eventSource(event: Event): string {
  const component = event.source?.component || event.reportingComponent || '';
  const instance = event.source?.host || event.reportingInstance || '';
  return instance ? `${component}, ${instance}` : component;
}

// ---- configuration, coordination, RBAC ------------------------------------

const CONFIGMAP_COLUMNS = [NAME, column('Data', 'Data contains the configuration data.'), AGE];

function configMapCells(configMap: ConfigMap, now: number): Cell[] {
  const keys = Object.keys(configMap.data ?? {}).length + Object.keys(configMap.binaryData ?? {}).length;
  return [name(configMap), keys, age(configMap, now)];
}

const LEASE_COLUMNS = [NAME, column('Holder', 'holderIdentity contains the identity of the holder of a current lease.'), AGE];

function leaseCells(lease: Lease, now: number): Cell[] {
  return [name(lease), lease.spec?.holderIdentity ?? '', age(lease, now)];
}

/** Roles and ClusterRoles have no printer in kube-apiserver; its default Table shows the creation time itself. */
const CREATED_AT_COLUMNS = [
  NAME,
  column('Created At', 'CreationTimestamp is a timestamp representing the server time when this object was created.', { type: 'date' }),
];

function createdAtCells(object: KubeObject): Cell[] {
  const created = parseTime(object.metadata.creationTimestamp);
  // Why the year 1: the default printer formats Go's zero time when there is no timestamp.
  const rfc3339 = created === undefined ? '0001-01-01T00:00:00Z' : new Date(created).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return [name(object), rfc3339];
}

function bindingColumns(kind: 'roleBinding' | 'clusterRoleBinding'): TableColumnDefinition[] {
  return [
    NAME,
    column('Role', 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.'),
    AGE,
    wide(column('Users', `Users in the ${kind}`)),
    wide(column('Groups', `Groups in the ${kind}`)),
    wide(column('ServiceAccounts', `ServiceAccounts in the ${kind}`)),
  ];
}

function bindingCells(binding: RoleBinding, now: number): Cell[] {
  const subjects = binding.subjects ?? [];
  const named = (kind: string) => subjects.filter((s) => s.kind === kind);
  return [
    name(binding),
    `${binding.roleRef.kind}/${binding.roleRef.name}`,
    age(binding, now),
    named('User').map((s) => s.name).join(', '),
    named('Group').map((s) => s.name).join(', '),
    named('ServiceAccount').map((s) => `${s.namespace ?? ''}/${s.name}`).join(', '),
  ];
}

// ---- the printers, by resource --------------------------------------------

/** Pair columns with a cell function written for one kind of object. */
function printer<T extends KubeObject>(
  columns: TableColumnDefinition[],
  cells: (object: T, now: number) => Cell[],
  conditions?: (object: T) => TableRowCondition[] | undefined,
): Printer {
  // Why the casts: the table below picks the printer by resource, so the objects are of its kind.
  const typed: Printer = { columns, cells: (object, now) => cells(object as T, now) };
  if (conditions) typed.conditions = (object) => conditions(object as T);
  return typed;
}

const DEFAULT_PRINTER = printer([NAME, AGE], (object, now) => [name(object), age(object, now)]);

// #region printers
/** Every resource's printer, by its plural name. */
const PRINTERS: Record<string, Printer> = {
  pods: printer(POD_COLUMNS, podCells, podRowConditions),
  deployments: printer(DEPLOYMENT_COLUMNS, deploymentCells),
  replicasets: printer(REPLICASET_COLUMNS, replicaSetCells),
  jobs: printer(JOB_COLUMNS, jobCells),
  services: printer(SERVICE_COLUMNS, serviceCells),
  endpoints: printer(ENDPOINTS_COLUMNS, endpointsCells),
  nodes: printer(NODE_COLUMNS, nodeCells),
  namespaces: printer(NAMESPACE_COLUMNS, namespaceCells),
  events: printer(EVENT_COLUMNS, eventCells),
  configmaps: printer(CONFIGMAP_COLUMNS, configMapCells),
  leases: printer(LEASE_COLUMNS, leaseCells),
  roles: printer(CREATED_AT_COLUMNS, createdAtCells),
  clusterroles: printer(CREATED_AT_COLUMNS, createdAtCells),
  rolebindings: printer(bindingColumns('roleBinding'), bindingCells),
  clusterrolebindings: printer(bindingColumns('clusterRoleBinding'), bindingCells),
};
// #endregion printers
