/**
 * Defaulting: the values the API server fills in for the fields a client left
 * out, so that `kubectl apply` of a ten-line Deployment comes back from
 * `kubectl get -o yaml` with a strategy, a restart policy, a scheduler name
 * and an image pull policy. The values are those of k8s.io/kubernetes
 * pkg/apis/<group>/v1/defaults.go, one function per kind below.
 *
 * Defaults run before validation, on every create and update, and never
 * change a field the client did set.
 */
import type {
  Container, Deployment, Endpoints, Job, KubeObject, Namespace, Node, Pod, PodSpec, PodTemplateSpec, Probe,
  ReplicaSet, RoleBinding, Service, Toleration,
} from '../api/types.ts';
import type { ResourceInfo } from './resources.ts';
import { deepCopy } from './strategy.ts';

/**
 * A copy of the object with the API defaults of its kind filled in; the input
 * is never changed. Kinds without defaults come back as a plain copy.
 * A Job's generated selector needs `metadata.uid` and `metadata.name`, so set
 * both before defaulting a new Job.
 */
export function applyDefaults<T extends KubeObject>(resource: ResourceInfo, obj: T): T {
  return setDefaults(resource, deepCopy(obj));
}

/** Fills in the API defaults of its kind on an object the caller owns (a copy it just made), and returns it. */
export function setDefaults<T extends KubeObject>(resource: ResourceInfo, obj: T): T {
  DEFAULTERS[resource.kind]?.(obj);
  return obj;
}

// #region defaulters
/** Each kind's defaulting, applied to a copy. */
const DEFAULTERS: Record<string, (object: KubeObject) => void> = {
  Pod: (object) => defaultPod(object as Pod),
  Deployment: (object) => defaultDeployment(object as Deployment),
  ReplicaSet: (object) => defaultReplicaSet(object as ReplicaSet),
  Job: (object) => defaultJob(object as Job),
  Service: (object) => defaultService(object as Service),
  Endpoints: (object) => defaultEndpoints(object as Endpoints),
  Namespace: (object) => defaultNamespace(object as Namespace),
  Node: (object) => defaultNode(object as Node),
  RoleBinding: (object) => defaultRoleBinding(object as RoleBinding),
  ClusterRoleBinding: (object) => defaultRoleBinding(object as RoleBinding),
};
// #endregion defaulters

// ---- pods ------------------------------------------------------------------

// #region pod-defaults
/** A Pod: its spec's defaults, plus three that only a Pod (not a template) gets. */
function defaultPod(pod: Pod): void {
  pod.spec ??= { containers: [] };
  defaultPodSpec(pod.spec);
  const containers = [...(pod.spec.initContainers ?? []), ...(pod.spec.containers ?? [])];
  // Why: a container that states only limits is taken to request exactly its limits; the scheduler reads requests.
  for (const container of containers) defaultRequestsFromLimits(container);
  pod.spec.enableServiceLinks ??= true;
  // Why: with the host's network a container port is a host port, so say so.
  if (pod.spec.hostNetwork) {
    for (const port of containers.flatMap((c) => c.ports ?? [])) port.hostPort ||= port.containerPort;
  }
}

/** The defaults of every pod spec, a Pod's or a template's (SetDefaults_PodSpec). */
function defaultPodSpec(spec: PodSpec): void {
  spec.dnsPolicy ||= 'ClusterFirst';
  spec.restartPolicy ||= 'Always';
  spec.securityContext ??= {};
  spec.terminationGracePeriodSeconds ??= 30;
  spec.schedulerName ||= 'default-scheduler';
  for (const container of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) defaultContainer(container);
}

function defaultContainer(container: Container): void {
  container.imagePullPolicy ||= pullPolicyFor(container.image ?? '');
  container.terminationMessagePath ||= '/dev/termination-log';
  container.terminationMessagePolicy ||= 'File';
  for (const port of container.ports ?? []) port.protocol ||= 'TCP';
  const probes = [container.livenessProbe, container.readinessProbe, (container as { startupProbe?: Probe }).startupProbe];
  for (const probe of probes) if (probe) defaultProbe(probe);
}

/**
 * `Always` for an image that names no tag or the tag `latest` (it may have
 * changed since the node last pulled it), `IfNotPresent` for any other tag or
 * a digest (it cannot change).
 */
function pullPolicyFor(image: string): 'Always' | 'IfNotPresent' {
  const [name = '', digest] = image.split('@');
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  // Why after the last slash: in `registry:5000/app` the colon belongs to the registry's port.
  const tag = colon > lastSlash ? name.slice(colon + 1) : '';
  if (tag === '' && digest) return 'IfNotPresent';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** A probe's timing; zero counts as unset, as in the real defaults. */
function defaultProbe(probe: Probe): void {
  probe.timeoutSeconds ||= 1;
  probe.periodSeconds ||= 10;
  probe.successThreshold ||= 1;
  probe.failureThreshold ||= 3;
  if (probe.httpGet) {
    probe.httpGet.path ||= '/';
    probe.httpGet.scheme ||= 'HTTP';
  }
}

function defaultRequestsFromLimits(container: Container): void {
  const limits = container.resources?.limits;
  if (!limits || !container.resources) return;
  container.resources.requests = { ...limits, ...(container.resources.requests ?? {}) };
}

function defaultPodTemplate(template: PodTemplateSpec | undefined): void {
  if (template) {
    template.spec ??= { containers: [] };
    defaultPodSpec(template.spec);
  }
}
// #endregion pod-defaults

// ---- workloads -------------------------------------------------------------

// #region workload-defaults
function defaultDeployment(deployment: Deployment): void {
  const spec = deployment.spec;
  if (!spec) return;
  spec.replicas ??= 1;
  spec.strategy ??= {};
  spec.strategy.type ||= 'RollingUpdate';
  // Why only for RollingUpdate: a Recreate strategy has no surge or unavailability to tune.
  if (spec.strategy.type === 'RollingUpdate') {
    spec.strategy.rollingUpdate ??= {};
    spec.strategy.rollingUpdate.maxUnavailable ??= '25%';
    spec.strategy.rollingUpdate.maxSurge ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  defaultPodTemplate(spec.template);
}

function defaultReplicaSet(replicaSet: ReplicaSet): void {
  if (!replicaSet.spec) return;
  replicaSet.spec.replicas ??= 1;
  defaultPodTemplate(replicaSet.spec.template);
}

/** The labels by which a Job finds its own pods; the `batch.kubernetes.io/` ones are current, the bare ones kept for old clients. */
const JOB_NAME_LABELS = ['job-name', 'batch.kubernetes.io/job-name'];
const CONTROLLER_UID_LABELS = ['controller-uid', 'batch.kubernetes.io/controller-uid'];

function defaultJob(job: Job): void {
  const spec = job.spec;
  if (!spec) return;
  // Why both at once: a Job that says neither is one pod run once.
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  (spec as { podReplacementPolicy?: string }).podReplacementPolicy ??= 'TerminatingOrFailed';
  if (!spec.manualSelector) generateJobSelector(job);
  defaultPodTemplate(spec.template);
  // Why: a Job with no labels of its own wears its pods' labels, so `kubectl get jobs -l` finds it.
  const templateLabels = spec.template?.metadata?.labels;
  if (templateLabels && Object.keys(job.metadata.labels ?? {}).length === 0) job.metadata.labels = { ...templateLabels };
}

/**
 * What the Job registry does unless the user asks for `manualSelector`: label
 * the pod template with the Job's name and uid, and select on the uid, so
 * that no other Job's pods, even one of the same name, can ever match.
 */
function generateJobSelector(job: Job): void {
  const { name, uid } = job.metadata;
  if (!uid || !job.spec.template) return;
  const template = job.spec.template;
  template.metadata ??= {};
  const labels = (template.metadata.labels ??= {});
  // Why keep a label the user set: a conflicting one is left for validation to refuse.
  for (const key of JOB_NAME_LABELS) labels[key] ??= name ?? '';
  for (const key of CONTROLLER_UID_LABELS) labels[key] ??= uid;
  job.spec.selector ??= {};
  const matchLabels = (job.spec.selector.matchLabels ??= {});
  matchLabels['batch.kubernetes.io/controller-uid'] ??= uid;
}
// #endregion workload-defaults

// ---- services and endpoints --------------------------------------------------

// #region service-defaults
type ServiceSpec = Service['spec'] & {
  sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
  externalTrafficPolicy?: string;
  internalTrafficPolicy?: string;
  allocateLoadBalancerNodePorts?: boolean;
  ipFamilies?: string[];
  ipFamilyPolicy?: string;
};

function defaultService(service: Service): void {
  const spec = service.spec as ServiceSpec | undefined;
  if (!spec) return;
  defaultSessionAffinity(spec);
  spec.type ||= 'ClusterIP';
  for (const port of spec.ports ?? []) {
    port.protocol ||= 'TCP';
    // Why: with no targetPort, traffic goes to the same port number on the pod.
    if (port.targetPort === undefined || port.targetPort === 0 || port.targetPort === '') port.targetPort = port.port;
  }
  const external = spec.type === 'NodePort' || spec.type === 'LoadBalancer' || (spec.externalIPs ?? []).length > 0;
  if (external) spec.externalTrafficPolicy ||= 'Cluster';
  if (spec.type !== 'ExternalName') {
    spec.internalTrafficPolicy ??= 'Cluster';
    // Why here: the real registry sets the IP families when it allocates the ClusterIP; this cluster is IPv4 only.
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
  }
  if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
}

function defaultSessionAffinity(spec: ServiceSpec): void {
  spec.sessionAffinity ||= 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  // Why three hours: the real default stickiness of a ClientIP Service.
  else if (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds === undefined) spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
}

function defaultEndpoints(endpoints: Endpoints): void {
  for (const port of (endpoints.subsets ?? []).flatMap((subset) => subset.ports ?? [])) port.protocol ||= 'TCP';
}
// #endregion service-defaults

// ---- cluster objects -------------------------------------------------------

// #region cluster-defaults
/**
 * A Namespace is labelled with its own name (so a selector can pick
 * namespaces by name), starts Active, and carries the `kubernetes` finalizer
 * that makes deletion wait until the namespace controller has emptied it.
 * The finalizer is added only when `spec.finalizers` is absent: the real
 * server adds it on create only, and the namespace controller removes it by
 * writing an empty list, which must stay empty.
 */
function defaultNamespace(namespace: Namespace): void {
  const name = namespace.metadata.name;
  if (name) namespace.metadata.labels = { ...(namespace.metadata.labels ?? {}), 'kubernetes.io/metadata.name': name };
  namespace.spec ??= {};
  namespace.spec.finalizers ??= ['kubernetes'];
  namespace.status ??= {};
  namespace.status.phase ??= 'Active';
}

/** A node that reports its capacity but not what it can give to pods can give all of it. */
function defaultNode(node: Node): void {
  const status = node.status;
  if (status?.capacity && !status.allocatable) status.allocatable = { ...status.capacity };
}

/** Bindings name RBAC roles and users in the RBAC API group unless they say otherwise; ServiceAccounts are in the core group. */
function defaultRoleBinding(binding: RoleBinding): void {
  if (binding.roleRef) binding.roleRef.apiGroup ||= 'rbac.authorization.k8s.io';
  for (const subject of binding.subjects ?? []) {
    if (subject.apiGroup === undefined || subject.apiGroup === '') {
      subject.apiGroup = subject.kind === 'ServiceAccount' ? '' : 'rbac.authorization.k8s.io';
    }
  }
}
// #endregion cluster-defaults

// ---- admission -------------------------------------------------------------

// #region default-tolerations
/** How long a pod stays on a node that stopped reporting before it is evicted (the DefaultTolerationSeconds plugin's 300 s). */
export const DEFAULT_TOLERATION_SECONDS = 300;

const NODE_PROBLEM_TAINTS = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'];

/**
 * The DefaultTolerationSeconds admission plugin (admission, not defaulting: it
 * runs on Pod creation only): a copy of the pod that tolerates a not-ready or
 * unreachable node for 300 seconds, unless it already tolerates that taint.
 * This is why a pod on a dead node is evicted five minutes later, not at once.
 */
export function defaultTolerations(pod: Pod): Pod {
  return addDefaultTolerations(deepCopy(pod));
}

/** The same tolerations added to a pod the caller owns (the admission plugin's own copy), which is returned. */
export function addDefaultTolerations(pod: Pod): Pod {
  pod.spec ??= { containers: [] };
  const tolerations = (pod.spec.tolerations ??= []);
  for (const key of NODE_PROBLEM_TAINTS) {
    if (!tolerations.some((t) => toleratesNoExecute(t, key))) {
      tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: DEFAULT_TOLERATION_SECONDS });
    }
  }
  return pod;
}

/** Whether a toleration already covers this NoExecute taint: same key or no key, NoExecute or any effect. */
function toleratesNoExecute(toleration: Toleration, key: string): boolean {
  return (!toleration.key || toleration.key === key) && (!toleration.effect || toleration.effect === 'NoExecute');
}
// #endregion default-tolerations

/**
 * The Priority admission plugin when no PriorityClass is the cluster default:
 * a copy of the pod with priority 0 and the PreemptLowerPriority policy,
 * unless it already has a priority.
 */
export function defaultPriority(pod: Pod): Pod {
  const copy = structuredClone(pod);
  copy.spec ??= { containers: [] };
  if (copy.spec.priority === undefined) {
    copy.spec.priority = 0;
    copy.spec.preemptionPolicy ??= 'PreemptLowerPriority';
  }
  return copy;
}
