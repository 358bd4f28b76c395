/**
 * A compact schema of every kind this API server serves, written in a small
 * schema language of its own. One schema serves three readers:
 *
 * - strict field validation: `unknownFields` names every field the real API
 *   would refuse (`spec.replicass`), and `fieldTypeErrors` every value of the
 *   wrong JSON type (`replicas: "3"`), worded as the real decoder words them;
 * - the patcher (patch.ts): which lists merge, by which key, and which are
 *   replaced whole, exactly as the `patchStrategy` and `patchMergeKey` tags
 *   of the real Go types (k8s.io/api) say;
 * - the OpenAPI v3 documents kubectl downloads before `kubectl apply`.
 *
 * Field names follow the real types. Where a real subtree is large and
 * rarely used (affinity, security contexts, volume sources, lifecycle
 * handlers), the schema says `any`: the subtree is accepted as it comes,
 * so a manifest the real API accepts is never refused here.
 */
import { groupVersion, groupVersions, RESOURCES, type ResourceInfo } from './resources.ts';

// #region schema-language
/** How a list is patched: merged by key, merged and pruned to the keys sent (`retainKeys`), or replaced whole. */
export type PatchStrategy = 'merge' | 'merge,retainKeys' | 'replace';

/** How server-side apply sees a list: one value (`atomic`), a set of scalars, or a map keyed by some of its fields. */
export type ListType = 'atomic' | 'set' | 'map';

/** A string, number or boolean field; `format` refines it as OpenAPI does (`int32`, `date-time`). */
export interface ScalarNode {
  type: 'string' | 'integer' | 'number' | 'boolean';
  format?: 'int32' | 'int64' | 'double' | 'date-time' | 'byte';
}

/** A port or a percentage: an integer or a string (`8080`, `"http"`, `"25%"`). */
export interface IntOrStringNode {
  type: 'intOrString';
}

/** A resource quantity such as `500m` or `128Mi`, also accepted as a plain number. */
export interface QuantityNode {
  type: 'quantity';
}

/** A subtree accepted as it comes: any JSON, never refused, merged as plain maps. */
export interface AnyNode {
  type: 'any';
}

/** A map from free-form keys (label keys, resource names) to values of one schema. */
export interface MapNode {
  type: 'map';
  values: SchemaNode;
  /** Set when the map is one value for server-side apply (`+mapType=atomic`), like `nodeSelector`. */
  atomic?: boolean;
}

/** A list; `patchStrategy` and `mergeKey` are the real patch tags, `listType` and `listMapKeys` the apply ones. */
export interface ListNode {
  type: 'list';
  items: SchemaNode;
  patchStrategy?: PatchStrategy;
  mergeKey?: string;
  /** Only where it differs from what the patch tags imply (see `listTypeOf`). */
  listType?: ListType;
  listMapKeys?: string[];
  /** Values a key field takes when an element leaves it out (`protocol: TCP` on ports). */
  keyDefaults?: Record<string, string | number>;
}

/** A struct with named fields; `name` is its OpenAPI name, e.g. `io.k8s.api.core.v1.PodSpec`. */
export interface ObjectNode {
  type: 'object';
  name: string;
  fields: Record<string, SchemaNode>;
  required?: string[];
  /** Set when the struct is one value for server-side apply (`+structType=atomic`), like a label selector. */
  atomic?: boolean;
  /** `retainKeys` where the real field carries that tag (a Deployment's `strategy`). */
  patchStrategy?: 'retainKeys';
}

/** One node of the schema language. */
export type SchemaNode = ScalarNode | IntOrStringNode | QuantityNode | AnyNode | MapNode | ListNode | ObjectNode;

const string: ScalarNode = { type: 'string' };
const time: ScalarNode = { type: 'string', format: 'date-time' };
const bytes: ScalarNode = { type: 'string', format: 'byte' };
const int32: ScalarNode = { type: 'integer', format: 'int32' };
const int64: ScalarNode = { type: 'integer', format: 'int64' };
const boolean: ScalarNode = { type: 'boolean' };
const intOrString: IntOrStringNode = { type: 'intOrString' };
const quantity: QuantityNode = { type: 'quantity' };
const any: AnyNode = { type: 'any' };

/** A map of strings to `values` (labels, annotations, resource lists). */
function mapOf(values: SchemaNode, options: { atomic?: boolean } = {}): MapNode {
  return { type: 'map', values, ...options };
}

/** A list of `items`; without options it is replaced whole by a patch, as most real lists are. */
function listOf(items: SchemaNode, options: Omit<ListNode, 'type' | 'items'> = {}): ListNode {
  return { type: 'list', items, ...options };
}

/** A struct named `name` with these fields. */
function object(name: string, fields: Record<string, SchemaNode>, options: Omit<ObjectNode, 'type' | 'name' | 'fields'> = {}): ObjectNode {
  return { type: 'object', name, fields, ...options };
}

/** A top-level kind: its own fields plus apiVersion, kind and metadata. */
function kind(name: string, fields: Record<string, SchemaNode>, options: Omit<ObjectNode, 'type' | 'name' | 'fields'> = {}): ObjectNode {
  return object(name, { apiVersion: string, kind: string, metadata: objectMeta, ...fields }, options);
}
// #endregion schema-language

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const CORE = 'io.k8s.api.core.v1.';
const APPS = 'io.k8s.api.apps.v1.';
const BATCH = 'io.k8s.api.batch.v1.';
const COORDINATION = 'io.k8s.api.coordination.v1.';
const RBAC = 'io.k8s.api.rbac.v1.';
const AUTOSCALING = 'io.k8s.api.autoscaling.v1.';

const strings = listOf(string);
const stringMap = mapOf(string);
const resourceList = mapOf(quantity);

// ---- meta/v1 -------------------------------------------------------------

const ownerReference = object(
  `${META}OwnerReference`,
  { apiVersion: string, blockOwnerDeletion: boolean, controller: boolean, kind: string, name: string, uid: string },
  { required: ['apiVersion', 'kind', 'name', 'uid'], atomic: true },
);

const managedFieldsEntry = object(`${META}ManagedFieldsEntry`, {
  apiVersion: string,
  fieldsType: string,
  fieldsV1: any,
  manager: string,
  operation: string,
  subresource: string,
  time,
});

// #region object-meta
const objectMeta: ObjectNode = object(`${META}ObjectMeta`, {
  annotations: stringMap,
  creationTimestamp: time,
  deletionGracePeriodSeconds: int64,
  deletionTimestamp: time,
  finalizers: listOf(string, { patchStrategy: 'merge' }),
  generateName: string,
  generation: int64,
  labels: stringMap,
  managedFields: listOf(managedFieldsEntry),
  name: string,
  namespace: string,
  ownerReferences: listOf(ownerReference, { patchStrategy: 'merge', mergeKey: 'uid' }),
  resourceVersion: string,
  selfLink: string,
  uid: string,
});
// #endregion object-meta

const labelSelector = object(
  `${META}LabelSelector`,
  {
    matchExpressions: listOf(object(`${META}LabelSelectorRequirement`, { key: string, operator: string, values: strings }, { required: ['key', 'operator'] })),
    matchLabels: stringMap,
  },
  { atomic: true },
);

const condition = object(
  `${META}Condition`,
  { lastTransitionTime: time, message: string, observedGeneration: int64, reason: string, status: string, type: string },
  { required: ['lastTransitionTime', 'message', 'reason', 'status', 'type'] },
);

const deleteOptions = object(`${META}DeleteOptions`, {
  apiVersion: string,
  dryRun: strings,
  gracePeriodSeconds: int64,
  ignoreStoreReadErrorWithClusterBreakingPotential: boolean,
  kind: string,
  orphanDependents: boolean,
  preconditions: object(`${META}Preconditions`, { resourceVersion: string, uid: string }),
  propagationPolicy: string,
});

// ---- core/v1: the pieces of a container ---------------------------------

const objectReference = object(
  `${CORE}ObjectReference`,
  { apiVersion: string, fieldPath: string, kind: string, name: string, namespace: string, resourceVersion: string, uid: string },
  { atomic: true },
);

const localObjectReference = object(`${CORE}LocalObjectReference`, { name: string }, { atomic: true });

const keySelector = (name: string) => object(`${CORE}${name}`, { key: string, name: string, optional: boolean }, { required: ['key'], atomic: true });

const envVar = object(
  `${CORE}EnvVar`,
  {
    name: string,
    value: string,
    valueFrom: object(`${CORE}EnvVarSource`, {
      configMapKeyRef: keySelector('ConfigMapKeySelector'),
      fieldRef: object(`${CORE}ObjectFieldSelector`, { apiVersion: string, fieldPath: string }, { required: ['fieldPath'], atomic: true }),
      fileKeyRef: any,
      resourceFieldRef: object(`${CORE}ResourceFieldSelector`, { containerName: string, divisor: quantity, resource: string }, { required: ['resource'], atomic: true }),
      secretKeyRef: keySelector('SecretKeySelector'),
    }),
  },
  { required: ['name'] },
);

const envFromSource = object(`${CORE}EnvFromSource`, {
  configMapRef: object(`${CORE}ConfigMapEnvSource`, { name: string, optional: boolean }),
  prefix: string,
  secretRef: object(`${CORE}SecretEnvSource`, { name: string, optional: boolean }),
});

const resourceRequirements = object(`${CORE}ResourceRequirements`, {
  claims: listOf(object(`${CORE}ResourceClaim`, { name: string, request: string }, { required: ['name'] }), { listType: 'map', listMapKeys: ['name'] }),
  limits: resourceList,
  requests: resourceList,
});

const httpGetAction = object(
  `${CORE}HTTPGetAction`,
  {
    host: string,
    httpHeaders: listOf(object(`${CORE}HTTPHeader`, { name: string, value: string }, { required: ['name', 'value'] })),
    path: string,
    port: intOrString,
    scheme: string,
  },
  { required: ['port'] },
);

const tcpSocketAction = object(`${CORE}TCPSocketAction`, { host: string, port: intOrString }, { required: ['port'] });

const probe = object(`${CORE}Probe`, {
  exec: object(`${CORE}ExecAction`, { command: strings }),
  failureThreshold: int32,
  grpc: object(`${CORE}GRPCAction`, { port: int32, service: string }, { required: ['port'] }),
  httpGet: httpGetAction,
  initialDelaySeconds: int32,
  periodSeconds: int32,
  successThreshold: int32,
  tcpSocket: tcpSocketAction,
  terminationGracePeriodSeconds: int64,
  timeoutSeconds: int32,
});

const containerPort = object(
  `${CORE}ContainerPort`,
  { containerPort: int32, hostIP: string, hostPort: int32, name: string, protocol: string },
  { required: ['containerPort'] },
);

const volumeMount = object(
  `${CORE}VolumeMount`,
  { mountPath: string, mountPropagation: string, name: string, readOnly: boolean, recursiveReadOnly: string, subPath: string, subPathExpr: string },
  { required: ['name', 'mountPath'] },
);

// #region container
const containerFields: Record<string, SchemaNode> = {
  args: strings,
  command: strings,
  env: listOf(envVar, { patchStrategy: 'merge', mergeKey: 'name' }),
  envFrom: listOf(envFromSource),
  image: string,
  imagePullPolicy: string,
  // Why `any` inside: the handlers (exec, httpGet, sleep, tcpSocket) are rarely written by hand.
  lifecycle: object(`${CORE}Lifecycle`, { postStart: any, preStop: any, stopSignal: string }),
  livenessProbe: probe,
  name: string,
  // Why two map keys: the real list is keyed by port *and* protocol for apply; SMP merges by port alone.
  ports: listOf(containerPort, { patchStrategy: 'merge', mergeKey: 'containerPort', listMapKeys: ['containerPort', 'protocol'], keyDefaults: { protocol: 'TCP' } }),
  readinessProbe: probe,
  resizePolicy: listOf(object(`${CORE}ContainerResizePolicy`, { resourceName: string, restartPolicy: string }, { required: ['resourceName', 'restartPolicy'] })),
  resources: resourceRequirements,
  restartPolicy: string,
  restartPolicyRules: listOf(any),
  securityContext: any,
  startupProbe: probe,
  stdin: boolean,
  stdinOnce: boolean,
  terminationMessagePath: string,
  terminationMessagePolicy: string,
  tty: boolean,
  volumeDevices: listOf(object(`${CORE}VolumeDevice`, { devicePath: string, name: string }, { required: ['name', 'devicePath'] }), {
    patchStrategy: 'merge',
    mergeKey: 'devicePath',
  }),
  volumeMounts: listOf(volumeMount, { patchStrategy: 'merge', mergeKey: 'mountPath' }),
  workingDir: string,
};

const container = object(`${CORE}Container`, containerFields, { required: ['name'] });
// #endregion container

const ephemeralContainer = object(`${CORE}EphemeralContainer`, { ...containerFields, targetContainerName: string }, { required: ['name'] });

// ---- core/v1: Pod ---------------------------------------------------------

/** Every volume source a Volume may name; each is accepted as it comes. */
const VOLUME_SOURCES = [
  'awsElasticBlockStore', 'azureDisk', 'azureFile', 'cephfs', 'cinder', 'configMap', 'csi', 'downwardAPI', 'emptyDir',
  'ephemeral', 'fc', 'flexVolume', 'flocker', 'gcePersistentDisk', 'gitRepo', 'glusterfs', 'hostPath', 'image', 'iscsi',
  'nfs', 'persistentVolumeClaim', 'photonPersistentDisk', 'portworxVolume', 'projected', 'quobyte', 'rbd', 'scaleIO',
  'secret', 'storageos', 'vsphereVolume',
];

const volume = object(`${CORE}Volume`, { name: string, ...Object.fromEntries(VOLUME_SOURCES.map((source) => [source, any])) }, { required: ['name'] });

const toleration = object(`${CORE}Toleration`, { effect: string, key: string, operator: string, tolerationSeconds: int64, value: string });

const topologySpreadConstraint = object(
  `${CORE}TopologySpreadConstraint`,
  {
    labelSelector,
    matchLabelKeys: strings,
    maxSkew: int32,
    minDomains: int32,
    nodeAffinityPolicy: string,
    nodeTaintsPolicy: string,
    topologyKey: string,
    whenUnsatisfiable: string,
  },
  { required: ['maxSkew', 'topologyKey', 'whenUnsatisfiable'] },
);

// #region pod-spec
const podSpec = object(
  `${CORE}PodSpec`,
  {
    activeDeadlineSeconds: int64,
    affinity: any,
    automountServiceAccountToken: boolean,
    containers: listOf(container, { patchStrategy: 'merge', mergeKey: 'name' }),
    dnsConfig: object(`${CORE}PodDNSConfig`, {
      nameservers: strings,
      options: listOf(object(`${CORE}PodDNSConfigOption`, { name: string, value: string })),
      searches: strings,
    }),
    dnsPolicy: string,
    enableServiceLinks: boolean,
    ephemeralContainers: listOf(ephemeralContainer, { patchStrategy: 'merge', mergeKey: 'name' }),
    hostAliases: listOf(object(`${CORE}HostAlias`, { hostnames: strings, ip: string }), { patchStrategy: 'merge', mergeKey: 'ip' }),
    hostIPC: boolean,
    hostNetwork: boolean,
    hostPID: boolean,
    hostUsers: boolean,
    hostname: string,
    hostnameOverride: string,
    imagePullSecrets: listOf(localObjectReference, { patchStrategy: 'merge', mergeKey: 'name' }),
    initContainers: listOf(container, { patchStrategy: 'merge', mergeKey: 'name' }),
    nodeName: string,
    nodeSelector: mapOf(string, { atomic: true }),
    os: object(`${CORE}PodOS`, { name: string }, { required: ['name'] }),
    overhead: resourceList,
    preemptionPolicy: string,
    priority: int32,
    priorityClassName: string,
    readinessGates: listOf(object(`${CORE}PodReadinessGate`, { conditionType: string }, { required: ['conditionType'] })),
    resourceClaims: listOf(
      object(`${CORE}PodResourceClaim`, { name: string, resourceClaimName: string, resourceClaimTemplateName: string }, { required: ['name'] }),
      { patchStrategy: 'merge,retainKeys', mergeKey: 'name' },
    ),
    resources: resourceRequirements,
    restartPolicy: string,
    runtimeClassName: string,
    schedulerName: string,
    schedulingGates: listOf(object(`${CORE}PodSchedulingGate`, { name: string }, { required: ['name'] }), { patchStrategy: 'merge', mergeKey: 'name' }),
    securityContext: any,
    serviceAccount: string,
    serviceAccountName: string,
    setHostnameAsFQDN: boolean,
    shareProcessNamespace: boolean,
    subdomain: string,
    terminationGracePeriodSeconds: int64,
    tolerations: listOf(toleration),
    topologySpreadConstraints: listOf(topologySpreadConstraint, {
      patchStrategy: 'merge',
      mergeKey: 'topologyKey',
      listMapKeys: ['topologyKey', 'whenUnsatisfiable'],
    }),
    volumes: listOf(volume, { patchStrategy: 'merge,retainKeys', mergeKey: 'name' }),
  },
  { required: ['containers'] },
);
// #endregion pod-spec

const containerState = object(`${CORE}ContainerState`, {
  running: object(`${CORE}ContainerStateRunning`, { startedAt: time }),
  terminated: object(
    `${CORE}ContainerStateTerminated`,
    { containerID: string, exitCode: int32, finishedAt: time, message: string, reason: string, signal: int32, startedAt: time },
    { required: ['exitCode'] },
  ),
  waiting: object(`${CORE}ContainerStateWaiting`, { message: string, reason: string }),
});

const containerStatus = object(
  `${CORE}ContainerStatus`,
  {
    allocatedResources: resourceList,
    allocatedResourcesStatus: listOf(any),
    containerID: string,
    image: string,
    imageID: string,
    lastState: containerState,
    name: string,
    ready: boolean,
    resources: resourceRequirements,
    restartCount: int32,
    started: boolean,
    state: containerState,
    stopSignal: string,
    user: any,
    volumeMounts: listOf(object(`${CORE}VolumeMountStatus`, { mountPath: string, name: string, readOnly: boolean, recursiveReadOnly: string }, { required: ['name', 'mountPath'] })),
  },
  { required: ['name', 'ready', 'restartCount', 'image', 'imageID'] },
);

const podCondition = object(
  `${CORE}PodCondition`,
  { lastProbeTime: time, lastTransitionTime: time, message: string, observedGeneration: int64, reason: string, status: string, type: string },
  { required: ['type', 'status'] },
);

const podIP = (name: string) => object(`${CORE}${name}`, { ip: string }, { required: ['ip'] });

const podStatus = object(`${CORE}PodStatus`, {
  conditions: listOf(podCondition, { patchStrategy: 'merge', mergeKey: 'type' }),
  containerStatuses: listOf(containerStatus),
  ephemeralContainerStatuses: listOf(containerStatus),
  extendedResourceClaimStatus: any,
  hostIP: string,
  // Why listType atomic: SMP merges hostIPs by ip, but apply treats the list as one value.
  hostIPs: listOf(podIP('HostIP'), { patchStrategy: 'merge', mergeKey: 'ip', listType: 'atomic' }),
  initContainerStatuses: listOf(containerStatus),
  message: string,
  nominatedNodeName: string,
  observedGeneration: int64,
  phase: string,
  podIP: string,
  podIPs: listOf(podIP('PodIP'), { patchStrategy: 'merge', mergeKey: 'ip' }),
  qosClass: string,
  reason: string,
  resize: string,
  resourceClaimStatuses: listOf(object(`${CORE}PodResourceClaimStatus`, { name: string, resourceClaimName: string }, { required: ['name'] }), {
    patchStrategy: 'merge,retainKeys',
    mergeKey: 'name',
  }),
  startTime: time,
});

const podTemplateSpec = object(`${CORE}PodTemplateSpec`, { metadata: objectMeta, spec: podSpec });

const pod = kind(`${CORE}Pod`, { spec: podSpec, status: podStatus });

// ---- core/v1: the other kinds ---------------------------------------------

const taint = object(`${CORE}Taint`, { effect: string, key: string, timeAdded: time, value: string }, { required: ['key', 'effect'] });

const nodeCondition = object(
  `${CORE}NodeCondition`,
  { lastHeartbeatTime: time, lastTransitionTime: time, message: string, reason: string, status: string, type: string },
  { required: ['type', 'status'] },
);

const node = kind(`${CORE}Node`, {
  spec: object(`${CORE}NodeSpec`, {
    configSource: any,
    externalID: string,
    podCIDR: string,
    podCIDRs: listOf(string, { patchStrategy: 'merge' }),
    providerID: string,
    taints: listOf(taint),
    unschedulable: boolean,
  }),
  status: object(`${CORE}NodeStatus`, {
    addresses: listOf(object(`${CORE}NodeAddress`, { address: string, type: string }, { required: ['type', 'address'] }), { patchStrategy: 'merge', mergeKey: 'type' }),
    allocatable: resourceList,
    capacity: resourceList,
    conditions: listOf(nodeCondition, { patchStrategy: 'merge', mergeKey: 'type' }),
    config: any,
    daemonEndpoints: object(`${CORE}NodeDaemonEndpoints`, {
      kubeletEndpoint: object(`${CORE}DaemonEndpoint`, { Port: int32 }, { required: ['Port'] }),
    }),
    features: any,
    images: listOf(object(`${CORE}ContainerImage`, { names: strings, sizeBytes: int64 })),
    nodeInfo: object(`${CORE}NodeSystemInfo`, {
      architecture: string,
      bootID: string,
      containerRuntimeVersion: string,
      kernelVersion: string,
      kubeProxyVersion: string,
      kubeletVersion: string,
      machineID: string,
      operatingSystem: string,
      osImage: string,
      swap: any,
      systemUUID: string,
    }),
    phase: string,
    runtimeHandlers: listOf(any),
    volumesAttached: listOf(object(`${CORE}AttachedVolume`, { devicePath: string, name: string }, { required: ['name', 'devicePath'] })),
    volumesInUse: strings,
  }),
});

const servicePort = object(
  `${CORE}ServicePort`,
  { appProtocol: string, name: string, nodePort: int32, port: int32, protocol: string, targetPort: intOrString },
  { required: ['port'] },
);

const service = kind(`${CORE}Service`, {
  spec: object(`${CORE}ServiceSpec`, {
    allocateLoadBalancerNodePorts: boolean,
    clusterIP: string,
    clusterIPs: strings,
    externalIPs: strings,
    externalName: string,
    externalTrafficPolicy: string,
    healthCheckNodePort: int32,
    internalTrafficPolicy: string,
    ipFamilies: strings,
    ipFamilyPolicy: string,
    loadBalancerClass: string,
    loadBalancerIP: string,
    loadBalancerSourceRanges: strings,
    ports: listOf(servicePort, { patchStrategy: 'merge', mergeKey: 'port', listMapKeys: ['port', 'protocol'], keyDefaults: { protocol: 'TCP' } }),
    publishNotReadyAddresses: boolean,
    selector: mapOf(string, { atomic: true }),
    sessionAffinity: string,
    sessionAffinityConfig: object(`${CORE}SessionAffinityConfig`, {
      clientIP: object(`${CORE}ClientIPConfig`, { timeoutSeconds: int32 }),
    }),
    trafficDistribution: string,
    type: string,
  }),
  status: object(`${CORE}ServiceStatus`, {
    conditions: listOf(condition, { patchStrategy: 'merge', mergeKey: 'type' }),
    loadBalancer: object(`${CORE}LoadBalancerStatus`, {
      ingress: listOf(
        object(`${CORE}LoadBalancerIngress`, {
          hostname: string,
          ip: string,
          ipMode: string,
          ports: listOf(object(`${CORE}PortStatus`, { error: string, port: int32, protocol: string }, { required: ['port', 'protocol'] })),
        }),
      ),
    }),
  }),
});

const endpointAddress = object(
  `${CORE}EndpointAddress`,
  { hostname: string, ip: string, nodeName: string, targetRef: objectReference },
  { required: ['ip'], atomic: true },
);

const endpoints = kind(`${CORE}Endpoints`, {
  subsets: listOf(
    object(`${CORE}EndpointSubset`, {
      addresses: listOf(endpointAddress),
      notReadyAddresses: listOf(endpointAddress),
      ports: listOf(object(`${CORE}EndpointPort`, { appProtocol: string, name: string, port: int32, protocol: string }, { required: ['port'], atomic: true })),
    }),
  ),
});

const event = kind(
  `${CORE}Event`,
  {
    action: string,
    count: int32,
    eventTime: time,
    firstTimestamp: time,
    involvedObject: objectReference,
    lastTimestamp: time,
    message: string,
    reason: string,
    related: objectReference,
    reportingComponent: string,
    reportingInstance: string,
    series: object(`${CORE}EventSeries`, { count: int32, lastObservedTime: time }),
    source: object(`${CORE}EventSource`, { component: string, host: string }),
    type: string,
  },
  { required: ['metadata', 'involvedObject'] },
);

const configMap = kind(`${CORE}ConfigMap`, { binaryData: mapOf(bytes), data: stringMap, immutable: boolean });

const namespace = kind(`${CORE}Namespace`, {
  spec: object(`${CORE}NamespaceSpec`, { finalizers: strings }),
  status: object(`${CORE}NamespaceStatus`, {
    conditions: listOf(
      object(
        `${CORE}NamespaceCondition`,
        { lastTransitionTime: time, message: string, reason: string, status: string, type: string },
        { required: ['type', 'status'] },
      ),
      { patchStrategy: 'merge', mergeKey: 'type' },
    ),
    phase: string,
  }),
});

const binding = kind(`${CORE}Binding`, { target: objectReference }, { required: ['target'] });

// ---- apps/v1, batch/v1, autoscaling/v1 --------------------------------------

const workloadCondition = (name: string, extra: Record<string, SchemaNode> = {}) =>
  object(
    name,
    { lastTransitionTime: time, message: string, reason: string, status: string, type: string, ...extra },
    { required: ['type', 'status'] },
  );

// #region deployment
const deployment = kind(`${APPS}Deployment`, {
  spec: object(
    `${APPS}DeploymentSpec`,
    {
      minReadySeconds: int32,
      paused: boolean,
      progressDeadlineSeconds: int32,
      replicas: int32,
      revisionHistoryLimit: int32,
      selector: labelSelector,
      strategy: object(
        `${APPS}DeploymentStrategy`,
        { rollingUpdate: object(`${APPS}RollingUpdateDeployment`, { maxSurge: intOrString, maxUnavailable: intOrString }), type: string },
        { patchStrategy: 'retainKeys' },
      ),
      template: podTemplateSpec,
    },
    { required: ['selector', 'template'] },
  ),
  status: object(`${APPS}DeploymentStatus`, {
    availableReplicas: int32,
    collisionCount: int32,
    conditions: listOf(workloadCondition(`${APPS}DeploymentCondition`, { lastUpdateTime: time }), { patchStrategy: 'merge', mergeKey: 'type' }),
    observedGeneration: int64,
    readyReplicas: int32,
    replicas: int32,
    terminatingReplicas: int32,
    unavailableReplicas: int32,
    updatedReplicas: int32,
  }),
});
// #endregion deployment

const replicaSet = kind(`${APPS}ReplicaSet`, {
  spec: object(
    `${APPS}ReplicaSetSpec`,
    { minReadySeconds: int32, replicas: int32, selector: labelSelector, template: podTemplateSpec },
    { required: ['selector'] },
  ),
  status: object(
    `${APPS}ReplicaSetStatus`,
    {
      availableReplicas: int32,
      conditions: listOf(workloadCondition(`${APPS}ReplicaSetCondition`), { patchStrategy: 'merge', mergeKey: 'type' }),
      fullyLabeledReplicas: int32,
      observedGeneration: int64,
      readyReplicas: int32,
      replicas: int32,
      terminatingReplicas: int32,
    },
    { required: ['replicas'] },
  ),
});

const job = kind(`${BATCH}Job`, {
  spec: object(
    `${BATCH}JobSpec`,
    {
      activeDeadlineSeconds: int64,
      backoffLimit: int32,
      backoffLimitPerIndex: int32,
      completionMode: string,
      completions: int32,
      managedBy: string,
      manualSelector: boolean,
      maxFailedIndexes: int32,
      parallelism: int32,
      podFailurePolicy: any,
      podReplacementPolicy: string,
      selector: labelSelector,
      successPolicy: any,
      suspend: boolean,
      template: podTemplateSpec,
      ttlSecondsAfterFinished: int32,
    },
    { required: ['template'] },
  ),
  status: object(`${BATCH}JobStatus`, {
    active: int32,
    completedIndexes: string,
    completionTime: time,
    // Why listType atomic: SMP merges Job conditions by type, but apply treats the list as one value.
    conditions: listOf(workloadCondition(`${BATCH}JobCondition`, { lastProbeTime: time }), { patchStrategy: 'merge', mergeKey: 'type', listType: 'atomic' }),
    failed: int32,
    failedIndexes: string,
    ready: int32,
    startTime: time,
    succeeded: int32,
    terminating: int32,
    uncountedTerminatedPods: object(`${BATCH}UncountedTerminatedPods`, { failed: strings, succeeded: strings }),
  }),
});

const scale = kind(`${AUTOSCALING}Scale`, {
  spec: object(`${AUTOSCALING}ScaleSpec`, { replicas: int32 }),
  status: object(`${AUTOSCALING}ScaleStatus`, { replicas: int32, selector: string }, { required: ['replicas'] }),
});

// ---- coordination.k8s.io/v1, rbac.authorization.k8s.io/v1 -------------------

const lease = kind(`${COORDINATION}Lease`, {
  spec: object(`${COORDINATION}LeaseSpec`, {
    acquireTime: time,
    holderIdentity: string,
    leaseDurationSeconds: int32,
    leaseTransitions: int32,
    preferredHolder: string,
    renewTime: time,
    strategy: string,
  }),
});

const policyRule = object(
  `${RBAC}PolicyRule`,
  { apiGroups: strings, nonResourceURLs: strings, resourceNames: strings, resources: strings, verbs: strings },
  { required: ['verbs'] },
);

const role = kind(`${RBAC}Role`, { rules: listOf(policyRule) });

const clusterRole = kind(`${RBAC}ClusterRole`, {
  aggregationRule: object(`${RBAC}AggregationRule`, { clusterRoleSelectors: listOf(labelSelector) }),
  rules: listOf(policyRule),
});

const roleBindingFields = {
  roleRef: object(`${RBAC}RoleRef`, { apiGroup: string, kind: string, name: string }, { required: ['apiGroup', 'kind', 'name'], atomic: true }),
  subjects: listOf(object(`${RBAC}Subject`, { apiGroup: string, kind: string, name: string, namespace: string }, { required: ['kind', 'name'] })),
};

const roleBinding = kind(`${RBAC}RoleBinding`, roleBindingFields, { required: ['roleRef'] });
const clusterRoleBinding = kind(`${RBAC}ClusterRoleBinding`, roleBindingFields, { required: ['roleRef'] });

// ---- the table of kinds -----------------------------------------------------

/** One kind the API server reads or writes, with the group and version it is served at. */
export interface KindSchema {
  group: string;
  version: string;
  kind: string;
  schema: ObjectNode;
}

const SERVED: Record<string, ObjectNode> = {
  Namespace: namespace,
  Pod: pod,
  Node: node,
  Service: service,
  Endpoints: endpoints,
  Event: event,
  ConfigMap: configMap,
  Deployment: deployment,
  ReplicaSet: replicaSet,
  Job: job,
  Lease: lease,
  Role: role,
  RoleBinding: roleBinding,
  ClusterRole: clusterRole,
  ClusterRoleBinding: clusterRoleBinding,
};

// #region kinds
/** Every kind with a schema: the served resources, Binding, Scale, and DeleteOptions in every group version. */
export const KINDS: readonly KindSchema[] = [
  ...RESOURCES.map((r) => ({ group: r.group, version: r.version, kind: r.kind, schema: schemaOfResource(r) })),
  { group: '', version: 'v1', kind: 'Binding', schema: binding },
  { group: 'autoscaling', version: 'v1', kind: 'Scale', schema: scale },
  // Why in every group version: a DELETE body may carry the apiVersion of the resource it deletes.
  ...[{ group: 'meta.k8s.io', version: 'v1' }, ...groupVersions()].map((gv) => ({ ...gv, kind: 'DeleteOptions', schema: deleteOptions })),
];
// #endregion kinds

function schemaOfResource(resource: ResourceInfo): ObjectNode {
  const schema = SERVED[resource.kind];
  if (!schema) throw new Error(`expected a schema for every served kind, found none for ${resource.kind}`);
  return schema;
}

/** KINDS by `apiVersion kind`: every write looks its kind up several times. */
const KIND_SCHEMAS = new Map(KINDS.map((k) => [`${groupVersion(k)} ${k.kind}`, k.schema]));

/** The schema of objects of this apiVersion (`apps/v1`, `v1`) and kind, if the server knows the kind. */
export function schemaForKind(apiVersion: string, kind: string): ObjectNode | undefined {
  return KIND_SCHEMAS.get(`${apiVersion} ${kind}`);
}

// #region navigation
/**
 * The schema of `field` inside a value described by `node`: a struct's
 * named field, a map's values, or `any` again inside `any`. Undefined means
 * the field does not exist there (an unknown field).
 */
export function childSchema(node: SchemaNode, field: string): SchemaNode | undefined {
  switch (node.type) {
    case 'object':
      return Object.hasOwn(node.fields, field) ? node.fields[field] : undefined;
    case 'map':
      return node.values;
    case 'any':
      return any;
    default:
      return undefined;
  }
}

/** What a strategic merge patch does with a list: its strategy and merge key. */
export interface ListStrategy {
  /** `merge` merges elements by `mergeKey` (or, for scalars, as a set); `replace` takes the patch's list whole. */
  strategy: 'merge' | 'replace';
  mergeKey?: string;
  retainKeys: boolean;
}

/** How a strategic merge patch treats the list at `field` of a struct described by `node` (replace, unless tagged). */
export function listStrategyAt(node: SchemaNode | undefined, field: string): ListStrategy {
  const list = node ? childSchema(node, field) : undefined;
  if (list?.type !== 'list' || !list.patchStrategy?.startsWith('merge')) return { strategy: 'replace', retainKeys: false };
  const out: ListStrategy = { strategy: 'merge', retainKeys: list.patchStrategy === 'merge,retainKeys' };
  if (list.mergeKey) out.mergeKey = list.mergeKey;
  return out;
}

/**
 * How server-side apply sees a list, from the real `+listType` markers: a
 * merge-patched list of structs is a map keyed by its merge key, a
 * merge-patched list of scalars is a set, every other list is atomic.
 */
export function listTypeOf(node: ListNode): ListType {
  if (node.listType) return node.listType;
  if (!node.patchStrategy?.startsWith('merge')) return 'atomic';
  return node.mergeKey ? 'map' : 'set';
}

/** The fields that identify an element of a `map` list for server-side apply (`["containerPort","protocol"]`). */
export function listMapKeysOf(node: ListNode): string[] {
  return node.listMapKeys ?? (node.mergeKey ? [node.mergeKey] : []);
}

/** True when server-side apply owns the value at this node as one unit (scalars, atomic lists, maps and structs). */
export function isAtomic(node: SchemaNode): boolean {
  switch (node.type) {
    case 'object':
    case 'map':
      return node.atomic === true;
    case 'list':
      return listTypeOf(node) === 'atomic';
    case 'any':
      return false;
    default:
      return true;
  }
}
// #endregion navigation

// ---- strict decoding --------------------------------------------------------

/** A value whose JSON type is not the one the field takes. */
export interface FieldTypeError {
  /** The field, as the strict decoder writes paths: `spec.template.spec.containers[0].image`. */
  path: string;
  /** The real decoder's words: `json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32`. */
  message: string;
}

interface Problems {
  unknown: string[];
  types: FieldTypeError[];
}

/** Where a walk is: the printed path, the dotted path Go reports (no indices) and the struct that holds the field. */
interface Place {
  path: string;
  goPath: string;
  struct: string;
}

// #region unknown-fields
/**
 * Every field of `object` that its kind does not have, as the strict decoder
 * names them: `spec.replicass`, `spec.template.spec.containers[0].imagee`.
 * The API server answers them with `strict decoding error: unknown field "…"`
 * under `fieldValidation=Strict`, and as warnings under `Warn`.
 */
export function unknownFields(apiVersion: string, kind: string, object: unknown): string[] {
  return problemsOf(apiVersion, kind, object).unknown;
}
// #endregion unknown-fields

/**
 * Every value of `object` whose JSON type does not fit its field (`replicas:
 * "3"`), with the real decoder's message. The real API server refuses such a
 * body with 400 BadRequest whatever the field validation mode: `Deployment in
 * version "v1" cannot be handled as a Deployment: <message>`. Go reports only
 * the first; this lists all, first first.
 */
export function fieldTypeErrors(apiVersion: string, kind: string, object: unknown): FieldTypeError[] {
  return problemsOf(apiVersion, kind, object).types;
}

/**
 * Both of the above from one walk of the object: what the decode stage of a
 * write asks, once per request.
 */
export function decodingProblems(apiVersion: string, kind: string, object: unknown): { unknown: string[]; types: FieldTypeError[] } {
  return problemsOf(apiVersion, kind, object);
}

/** The message of the strict decoder for these unknown fields: `strict decoding error: unknown field "a", unknown field "b"`. */
export function strictDecodingMessage(paths: readonly string[]): string {
  return `strict decoding error: ${paths.map((p) => `unknown field "${p}"`).join(', ')}`;
}

function problemsOf(apiVersion: string, kind: string, object: unknown): Problems {
  const problems: Problems = { unknown: [], types: [] };
  const schema = schemaForKind(apiVersion, kind);
  // Why nothing for an unknown kind: which kinds exist is the router's question, not this one's.
  if (schema) checkValue(object, schema, { path: '', goPath: '', struct: shortName(schema) }, problems);
  return problems;
}

function checkValue(value: unknown, node: SchemaNode, place: Place, problems: Problems): void {
  // Why null passes everywhere: the decoder reads null as "leave the zero value".
  if (value === null || node.type === 'any') return;
  const wrong = typeMismatch(value, node, place);
  if (wrong) {
    problems.types.push(wrong);
    return;
  }
  if (node.type === 'object') checkStruct(value as Record<string, unknown>, node, place, problems);
  else if (node.type === 'map') checkMap(value as Record<string, unknown>, node, place, problems);
  else if (node.type === 'list') (value as unknown[]).forEach((item, i) => checkValue(item, node.items, { ...place, path: `${place.path}[${i}]` }, problems));
}

function checkStruct(value: Record<string, unknown>, node: ObjectNode, place: Place, problems: Problems): void {
  for (const [field, child] of Object.entries(value)) {
    const path = place.path ? `${place.path}.${field}` : field;
    const schema = Object.hasOwn(node.fields, field) ? node.fields[field] : undefined;
    if (!schema) {
      problems.unknown.push(path);
      continue;
    }
    const goPath = place.goPath ? `${place.goPath}.${field}` : field;
    checkValue(child, schema, { path, goPath, struct: shortName(node) }, problems);
  }
}

function checkMap(value: Record<string, unknown>, node: MapNode, place: Place, problems: Problems): void {
  for (const [key, child] of Object.entries(value)) checkValue(child, node.values, { ...place, path: `${place.path}.${key}` }, problems);
}

/** The decoder's complaint when `value` cannot be read as `node`, or undefined when it can. */
function typeMismatch(value: unknown, node: SchemaNode, place: Place): FieldTypeError | undefined {
  const got = jsonTypeName(value);
  switch (node.type) {
    case 'object':
    case 'map':
      return got === 'object' ? undefined : cannotUnmarshal(got, node, place);
    case 'list':
      return got === 'array' ? undefined : cannotUnmarshal(got, node, place);
    case 'quantity':
      return quantityMismatch(value, place);
    case 'intOrString':
      return typeof value === 'string' || isInt32(value) ? undefined : intOrStringMismatch(value, place);
    case 'any':
      return undefined;
  }
  if (node.type === 'integer') return isInteger(value, node.format) ? undefined : cannotUnmarshal(got === 'number' ? `number ${String(value)}` : got, node, place);
  const expected = node.type === 'boolean' ? 'bool' : node.type;
  return got === expected ? undefined : cannotUnmarshal(got, node, place);
}

function cannotUnmarshal(shown: string, node: SchemaNode, place: Place): FieldTypeError {
  return { path: place.path, message: `json: cannot unmarshal ${shown} into Go struct field ${place.struct}.${place.goPath} of type ${goType(node)}` };
}

// Why this pattern: it is the one the real Quantity parser names when it refuses a value.
const QUANTITY_PATTERN = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;

function quantityMismatch(value: unknown, place: Place): FieldTypeError | undefined {
  if (typeof value === 'number' || (typeof value === 'string' && QUANTITY_PATTERN.test(value))) return undefined;
  return { path: place.path, message: `quantities must match the regular expression '${QUANTITY_PATTERN.source}'` };
}

function intOrStringMismatch(value: unknown, place: Place): FieldTypeError {
  const got = jsonTypeName(value);
  const shown = got === 'number' ? `number ${String(value)}` : got;
  return { path: place.path, message: `json: cannot unmarshal ${shown} into Go value of type int32` };
}

function isInteger(value: unknown, format: ScalarNode['format']): boolean {
  if (typeof value !== 'number' || !Number.isInteger(value)) return false;
  return format === 'int32' ? isInt32(value) : Number.isSafeInteger(value);
}

function isInt32(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31;
}

/** The JSON type of a value as Go's decoder names it: string, number, bool, array, object. */
function jsonTypeName(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'object') return 'object';
  return typeof value;
}

/** The Go type a node decodes into, as error messages print it: `int32`, `[]v1.Container`, `map[string]string`. */
function goType(node: SchemaNode): string {
  switch (node.type) {
    case 'object':
      return `v1.${shortName(node)}`;
    case 'list':
      return `[]${goType(node.items)}`;
    case 'map':
      return `map[string]${goType(node.values)}`;
    case 'intOrString':
      return 'intstr.IntOrString';
    case 'quantity':
      return 'resource.Quantity';
    case 'any':
      return 'interface {}';
    case 'integer':
      return node.format ?? 'int64';
    case 'number':
      return 'float64';
    case 'boolean':
      return 'bool';
    default:
      return 'string';
  }
}

/** `PodSpec` for `io.k8s.api.core.v1.PodSpec`. */
function shortName(node: ObjectNode): string {
  return node.name.slice(node.name.lastIndexOf('.') + 1);
}

// ---- OpenAPI v3 ---------------------------------------------------------------

/** An OpenAPI 3.0 document for one group version, as `GET /openapi/v3/apis/<group>/<version>` serves it. */
export interface OpenApiDocument {
  openapi: '3.0.0';
  info: { title: string; version: string };
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, Record<string, unknown>> };
}

type Json = Record<string, unknown>;

const PATCH_TYPES = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];

// #region openapi
/**
 * The OpenAPI v3 document of one group version (`''`/`v1` for the core
 * group), or undefined when the server does not serve it. For each kind the
 * object's path has get, put, patch and delete; the patch operation carries
 * `x-kubernetes-group-version-kind` and the `fieldValidation` parameter,
 * which is how kubectl learns that the server validates fields itself.
 */
export function openApiDocument(group: string, version: string): OpenApiDocument | undefined {
  const resources = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (resources.length === 0) return undefined;
  const doc: OpenApiDocument = {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0-workbook' },
    paths: {},
    components: { schemas: {} },
  };
  for (const resource of resources) addResource(doc, resource);
  addComponent(doc, deleteOptions, [{ group, version, kind: 'DeleteOptions' }]);
  doc.components.schemas[`${META}Status`] = STATUS_SCHEMA;
  doc.components.schemas[`${META}Patch`] = { description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.', type: 'object' };
  doc.components.schemas[`${META}ListMeta`] = LIST_META_SCHEMA;
  return doc;
}
// #endregion openapi

function addResource(doc: OpenApiDocument, resource: ResourceInfo): void {
  const schema = schemaOfResource(resource);
  const gvk = { group: resource.group, version: resource.version, kind: resource.kind };
  addComponent(doc, schema, [gvk]);
  doc.components.schemas[`${schema.name}List`] = listSchema(schema, resource);
  const collection = collectionPath(resource);
  const item = `${collection}/{name}`;
  doc.paths[collection] = collectionOperations(resource, schema.name);
  doc.paths[item] = itemOperations(resource, schema.name, gvk, '');
  for (const sub of resource.subresources) {
    if (sub.name === 'status') doc.paths[`${item}/status`] = itemOperations(resource, schema.name, gvk, 'Status');
    if (sub.name === 'scale') {
      addComponent(doc, scale, [{ group: 'autoscaling', version: 'v1', kind: 'Scale' }]);
      doc.paths[`${item}/scale`] = itemOperations(resource, scale.name, { group: 'autoscaling', version: 'v1', kind: 'Scale' }, 'Scale');
    }
    if (sub.name === 'binding') {
      addComponent(doc, binding, [{ group: '', version: 'v1', kind: 'Binding' }]);
      doc.paths[`${item}/binding`] = bindingOperations(resource);
    }
  }
}

/** `/api/v1/namespaces/{namespace}/pods` or `/apis/rbac.authorization.k8s.io/v1/clusterroles`. */
function collectionPath(resource: ResourceInfo): string {
  const prefix = resource.group ? `/apis/${resource.group}/${resource.version}` : `/api/${resource.version}`;
  return resource.namespaced ? `${prefix}/namespaces/{namespace}/${resource.resource}` : `${prefix}/${resource.resource}`;
}

/** `CoreV1`, `AppsV1`, `RbacAuthorizationV1`: the group version as operation ids spell it. */
function operationGroup(resource: ResourceInfo): string {
  const words = (resource.group || 'core').replace(/\.k8s\.io$/, '').split('.');
  return words.map(capitalize).join('') + capitalize(resource.version);
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function tagOf(resource: ResourceInfo): string {
  const words = (resource.group || 'core').replace(/\.k8s\.io$/, '').split('.');
  return `${words[0]}${words.slice(1).map(capitalize).join('')}_${resource.version}`;
}

function ref(name: string): Json {
  return { $ref: `#/components/schemas/${name}` };
}

function jsonContent(schemaName: string): Json {
  return { 'application/json': { schema: ref(schemaName) }, 'application/yaml': { schema: ref(schemaName) } };
}

function query(name: string, description: string, type = 'string'): Json {
  return { name, in: 'query', description, schema: { type, uniqueItems: true } };
}

const DRY_RUN = query('dryRun', 'When present, indicates that modifications should not be persisted. The only valid value is All.');
const FIELD_MANAGER = query('fieldManager', 'The name of the actor or entity making the change; required for apply patches.');
const FIELD_VALIDATION = query('fieldValidation', 'How to treat unknown or duplicate fields in the body: Ignore, Warn (the default) or Strict.');
const FORCE = query('force', 'Force an apply request: take ownership of conflicting fields. Must be unset for other patch types.', 'boolean');

function pathParameters(resource: ResourceInfo, withName: boolean): Json[] {
  const out: Json[] = [];
  if (withName) out.push({ name: 'name', in: 'path', required: true, description: `name of the ${resource.kind}`, schema: { type: 'string', uniqueItems: true } });
  if (resource.namespaced) out.push({ name: 'namespace', in: 'path', required: true, description: 'object name and auth scope, such as for teams and projects', schema: { type: 'string', uniqueItems: true } });
  out.push(query('pretty', "If 'true', then the output is pretty printed."));
  return out;
}

function operation(action: string, id: string, resource: ResourceInfo, gvk: Json, fields: Json): Json {
  return {
    operationId: id,
    tags: [tagOf(resource)],
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
    responses: { '401': { description: 'Unauthorized' } },
    ...fields,
  };
}

/** get, put, patch and delete of one object, or of one of its subresources (`suffix` is `Status` or `Scale`). */
function itemOperations(resource: ResourceInfo, schemaName: string, gvk: Json, suffix: string): Json {
  const scope = resource.namespaced ? 'Namespaced' : '';
  const id = (verb: string) => `${verb}${operationGroup(resource)}${scope}${resource.kind}${suffix}`;
  const ok = { '200': { description: 'OK', content: jsonContent(schemaName) } };
  const okOrCreated = { '200': ok['200'], '201': { description: 'Created', content: jsonContent(schemaName) } };
  const item: Json = {
    parameters: pathParameters(resource, true),
    get: operation('get', id('read'), resource, gvk, { responses: ok }),
    put: operation('put', id('replace'), resource, gvk, {
      parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION],
      requestBody: { required: true, content: { '*/*': { schema: ref(schemaName) } } },
      responses: okOrCreated,
    }),
    patch: operation('patch', id('patch'), resource, gvk, {
      parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION, FORCE],
      requestBody: { required: true, content: Object.fromEntries(PATCH_TYPES.map((t) => [t, { schema: ref(`${META}Patch`) }])) },
      responses: okOrCreated,
    }),
  };
  // Why only on the object itself: subresources cannot be deleted on their own.
  if (suffix === '') {
    item.delete = operation('delete', id('delete'), resource, gvk, {
      parameters: [DRY_RUN, query('gracePeriodSeconds', 'The duration in seconds before the object should be deleted.', 'integer'), query('propagationPolicy', 'Orphan, Background or Foreground.')],
      requestBody: { content: { '*/*': { schema: ref(`${META}DeleteOptions`) } } },
      responses: { '200': { description: 'OK', content: jsonContent(`${META}Status`) }, '202': { description: 'Accepted', content: jsonContent(`${META}Status`) } },
    });
  }
  return item;
}

/** list and create on the collection. */
function collectionOperations(resource: ResourceInfo, schemaName: string): Json {
  const scope = resource.namespaced ? 'Namespaced' : '';
  const gvk = { group: resource.group, version: resource.version, kind: resource.kind };
  return {
    parameters: pathParameters(resource, false),
    get: operation('list', `list${operationGroup(resource)}${scope}${resource.kind}`, resource, gvk, {
      parameters: [query('labelSelector', 'A selector to restrict the list of returned objects by their labels.'), query('fieldSelector', 'A selector to restrict the list of returned objects by their fields.'), query('watch', 'Watch for changes to the described resources.', 'boolean')],
      responses: { '200': { description: 'OK', content: jsonContent(`${schemaName}List`) } },
    }),
    post: operation('post', `create${operationGroup(resource)}${scope}${resource.kind}`, resource, gvk, {
      parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION],
      requestBody: { required: true, content: { '*/*': { schema: ref(schemaName) } } },
      responses: { '200': { description: 'OK', content: jsonContent(schemaName) }, '201': { description: 'Created', content: jsonContent(schemaName) } },
    }),
  };
}

function bindingOperations(resource: ResourceInfo): Json {
  const gvk = { group: '', version: 'v1', kind: 'Binding' };
  return {
    parameters: pathParameters(resource, true),
    post: operation('post', `create${operationGroup(resource)}Namespaced${resource.kind}Binding`, resource, gvk, {
      parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION],
      requestBody: { required: true, content: { '*/*': { schema: ref(binding.name) } } },
      responses: { '201': { description: 'Created', content: jsonContent(binding.name) } },
    }),
  };
}

function listSchema(schema: ObjectNode, resource: ResourceInfo): Json {
  return {
    description: `${resource.kind}List is a list of ${resource.kind} objects.`,
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: { type: 'string' },
      items: { type: 'array', items: { allOf: [ref(schema.name)], default: {} } },
      kind: { type: 'string' },
      metadata: { allOf: [ref(`${META}ListMeta`)], default: {} },
    },
    'x-kubernetes-group-version-kind': [{ group: resource.group, version: resource.version, kind: `${resource.kind}List` }],
  };
}

/** Register `node` and every struct under it as component schemas; kinds carry their group, version and kind. */
function addComponent(doc: OpenApiDocument, node: ObjectNode, gvks?: Json[]): void {
  toOpenApi(node, doc.components.schemas);
  const component = doc.components.schemas[node.name];
  if (component && gvks) component['x-kubernetes-group-version-kind'] = gvks;
}

/** The OpenAPI schema of one node; structs become components, referenced as the real documents do (`allOf: [$ref]`). */
function toOpenApi(node: SchemaNode, components: Record<string, Json>): Json {
  switch (node.type) {
    case 'object':
      return structReference(node, components);
    case 'list':
      return { type: 'array', items: toOpenApi(node.items, components), ...listExtensions(node) };
    case 'map':
      return { type: 'object', additionalProperties: toOpenApi(node.values, components), ...(node.atomic ? { 'x-kubernetes-map-type': 'atomic' } : {}) };
    case 'intOrString':
      return { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] };
    case 'quantity':
      return { oneOf: [{ type: 'string' }, { type: 'number' }] };
    case 'any':
      return { type: 'object', description: 'Accepted as is: the workbook does not model this subtree.', 'x-kubernetes-preserve-unknown-fields': true };
    default:
      return node.format ? { type: node.type, format: node.format } : { type: node.type };
  }
}

function structReference(node: ObjectNode, components: Record<string, Json>): Json {
  if (!components[node.name]) {
    // Why a placeholder first: it marks the struct as registered before its fields are walked.
    components[node.name] = {};
    const properties = Object.fromEntries(Object.entries(node.fields).map(([field, child]) => [field, toOpenApi(child, components)]));
    const component: Json = { type: 'object', properties };
    if (node.required) component.required = node.required;
    if (node.atomic) component['x-kubernetes-map-type'] = 'atomic';
    components[node.name] = component;
  }
  const reference: Json = { allOf: [ref(node.name)] };
  if (node.patchStrategy) reference['x-kubernetes-patch-strategy'] = node.patchStrategy;
  return reference;
}

function listExtensions(node: ListNode): Json {
  const out: Json = { 'x-kubernetes-list-type': listTypeOf(node) };
  if (listTypeOf(node) === 'map') out['x-kubernetes-list-map-keys'] = listMapKeysOf(node);
  if (node.patchStrategy) out['x-kubernetes-patch-strategy'] = node.patchStrategy;
  if (node.mergeKey) out['x-kubernetes-patch-merge-key'] = node.mergeKey;
  return out;
}

const STATUS_SCHEMA: Json = {
  description: 'Status is a return value for calls that do not return other objects.',
  type: 'object',
  properties: {
    apiVersion: { type: 'string' },
    code: { type: 'integer', format: 'int32' },
    details: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    kind: { type: 'string' },
    message: { type: 'string' },
    metadata: { allOf: [ref(`${META}ListMeta`)], default: {} },
    reason: { type: 'string' },
    status: { type: 'string' },
  },
  'x-kubernetes-group-version-kind': [{ group: '', version: 'v1', kind: 'Status' }],
};

const LIST_META_SCHEMA: Json = {
  description: 'ListMeta describes metadata that synthetic resources must have, including lists.',
  type: 'object',
  properties: {
    continue: { type: 'string' },
    remainingItemCount: { type: 'integer', format: 'int64' },
    resourceVersion: { type: 'string' },
    selfLink: { type: 'string' },
  },
};
