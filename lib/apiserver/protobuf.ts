/**
 * Reading the protobuf bodies kubectl's typed commands send (`kubectl create
 * deployment`, `create namespace`, `expose`, ...), in two layers:
 *
 * - the protobuf wire format itself: a message is a run of fields, each a
 *   key (field number and wire type) and a value: a varint, 8 bytes, 4
 *   bytes, or a length-prefixed run of bytes (a string, bytes, a nested
 *   message, or a packed list of numbers). The wire format names no fields;
 *   only the numbers travel.
 * - Kubernetes' framing around it: the 4 bytes `k8s\0`, then a
 *   runtime.Unknown envelope holding the apiVersion and kind and, as `raw`,
 *   the object's own message. A table of field numbers (written from the
 *   `generated.proto` files of k8s.io/api) turns that message into the same
 *   JSON-shaped object a JSON body would have given.
 *
 * The table covers the kinds kubectl's typed commands create. Fields it does
 * not list are reported as warnings, never guessed at.
 */
import type { KubeObject } from '../api/types.ts';

/** The content type of a Kubernetes protobuf body. */
export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

/** The 4 bytes every Kubernetes protobuf body starts with: `k8s` and a zero byte. */
export const KUBERNETES_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** A body that is not well-formed protobuf, or not the shape its field table says. */
export class ProtobufError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtobufError';
  }
}

/** A well-formed body of a kind whose fields this server's table does not list. */
export class UnsupportedProtobufKind extends Error {
  constructor(
    readonly apiVersion: string,
    readonly kind: string,
  ) {
    super(`this server does not decode protobuf bodies of kind ${kind} (${apiVersion}); it decodes ${supportedKinds().join(', ')}`);
    this.name = 'UnsupportedProtobufKind';
  }
}

// #region wire-format
/** One field as it travels: its number, its wire type, and the value that wire type carries. */
export type WireField =
  | { number: number; wireType: 0; value: bigint } // varint: int32, int64, bool
  | { number: number; wireType: 1; value: Buffer } // 8 bytes: fixed64, double
  | { number: number; wireType: 2; value: Buffer } // length-delimited: string, bytes, message, packed list
  | { number: number; wireType: 5; value: Buffer }; // 4 bytes: fixed32, float

/** The largest field number protobuf allows (2^29 - 1). */
const MAX_FIELD_NUMBER = 0x1fffffff;

/** A position in a message's bytes, read forward. */
class Reader {
  /** The byte the next read starts at. */
  pos = 0;

  constructor(
    private readonly bytes: Buffer,
    private readonly where: string,
  ) {}

  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  /** A base-128 varint: 7 bits a byte, low bits first, the top bit set on every byte but the last. */
  varint(): bigint {
    const start = this.pos;
    let value = 0n;
    for (let i = 0; i < 10; i++) {
      const byte = this.bytes[this.pos++];
      if (byte === undefined) throw this.error(start, 'a varint that ends before the message does', `the end after ${i} byte(s)`);
      value |= BigInt(byte & 0x7f) << BigInt(7 * i);
      if (byte < 0x80) return value;
    }
    throw this.error(start, 'a varint of at most 10 bytes', 'a longer one');
  }

  /** The next `length` bytes, as a view (no copy). */
  take(length: number | bigint, what: string): Buffer {
    const start = this.pos;
    const left = this.bytes.length - this.pos;
    // Why compare as bigints: a length read off the wire may be far larger than a Number holds exactly.
    if (BigInt(length) > BigInt(left)) throw this.error(start, `${length} bytes of ${what}`, `only ${left} left in the message`);
    this.pos += Number(length);
    return this.bytes.subarray(start, this.pos);
  }

  error(at: number, expected: string, got: string): ProtobufError {
    return new ProtobufError(`malformed protobuf in ${this.where} at byte ${at}: expected ${expected}, got ${got}`);
  }
}

/** Split one message's bytes into its fields, in order; `where` names the message in errors. */
export function readFields(bytes: Buffer, where = 'the message'): WireField[] {
  const reader = new Reader(bytes, where);
  const fields: WireField[] = [];
  while (!reader.done) {
    const keyStart = reader.pos;
    const key = reader.varint();
    const number = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (number < 1 || number > MAX_FIELD_NUMBER) throw reader.error(keyStart, `a field number from 1 to ${MAX_FIELD_NUMBER}`, String(key >> 3n));
    switch (wireType) {
      case 0:
        fields.push({ number, wireType, value: reader.varint() });
        break;
      case 1:
        fields.push({ number, wireType, value: reader.take(8, `field ${number}`) });
        break;
      case 2:
        fields.push({ number, wireType, value: reader.take(reader.varint(), `field ${number}`) });
        break;
      case 5:
        fields.push({ number, wireType, value: reader.take(4, `field ${number}`) });
        break;
      default:
        // 3 and 4 are proto2 groups, which no Kubernetes message uses; 6 and 7 do not exist.
        throw reader.error(keyStart, 'wire type 0, 1, 2 or 5', `wire type ${wireType} on field ${number}`);
    }
  }
  return fields;
}
// #endregion wire-format

// #region field-table
/**
 * A field's type, written as Go writes it in k8s.io/api:
 * - `string`, `bytes` (base64 in JSON), `bool`, `int32`, `int64`;
 * - a message name from MESSAGES, e.g. `ObjectMeta`;
 * - `*T`: a pointer in Go. Protobuf sends it only when it is set, so a zero
 *   that was sent is kept (`replicas: 0`). Without the star, Go sends zero
 *   values too (`generateName: ""`), and they are dropped, as JSON's
 *   `omitempty` drops them;
 * - `[]T`: a list; `map[string]T`: a map, sent as entries with key 1 and value 2.
 */
type GoType = string;

/** A message: each field number with the field's JSON name and Go type. */
type MessageTable = Readonly<Record<number, readonly [name: string, type: GoType]>>;

/**
 * The field numbers of every message this server decodes, from the
 * `generated.proto` files of k8s.io/api and k8s.io/apimachinery. Message
 * names are unique across those packages for the messages listed here.
 */
export const MESSAGES: Readonly<Record<string, MessageTable>> = {
  // ---- meta/v1 and friends (k8s.io/apimachinery) ----
  ObjectMeta: {
    1: ['name', 'string'],
    2: ['generateName', 'string'],
    3: ['namespace', 'string'],
    5: ['uid', 'string'],
    6: ['resourceVersion', 'string'],
    7: ['generation', 'int64'],
    8: ['creationTimestamp', 'Time'],
    9: ['deletionTimestamp', '*Time'],
    10: ['deletionGracePeriodSeconds', '*int64'],
    11: ['labels', 'map[string]string'],
    12: ['annotations', 'map[string]string'],
    13: ['ownerReferences', '[]OwnerReference'],
    14: ['finalizers', '[]string'],
  },
  OwnerReference: {
    1: ['kind', 'string'],
    3: ['name', 'string'],
    4: ['uid', 'string'],
    5: ['apiVersion', 'string'],
    6: ['controller', '*bool'],
    7: ['blockOwnerDeletion', '*bool'],
  },
  LabelSelector: {
    1: ['matchLabels', 'map[string]string'],
    2: ['matchExpressions', '[]LabelSelectorRequirement'],
  },
  LabelSelectorRequirement: {
    1: ['key', 'string'],
    2: ['operator', 'string'],
    3: ['values', '[]string'],
  },
  // The three messages JSON writes as one scalar; see SCALAR_MESSAGES.
  Time: { 1: ['seconds', 'int64'], 2: ['nanos', 'int32'] },
  Quantity: { 1: ['string', 'string'] },
  IntOrString: { 1: ['type', 'int64'], 2: ['intVal', 'int32'], 3: ['strVal', 'string'] },

  // ---- core/v1 ----
  Namespace: { 1: ['metadata', 'ObjectMeta'], 2: ['spec', 'NamespaceSpec'], 3: ['status', 'NamespaceStatus'] },
  NamespaceSpec: { 1: ['finalizers', '[]string'] },
  NamespaceStatus: { 1: ['phase', 'string'] },
  ConfigMap: {
    1: ['metadata', 'ObjectMeta'],
    2: ['data', 'map[string]string'],
    3: ['binaryData', 'map[string]bytes'],
    4: ['immutable', '*bool'],
  },
  Pod: { 1: ['metadata', 'ObjectMeta'], 2: ['spec', 'PodSpec'], 3: ['status', 'PodStatus'] },
  PodStatus: { 1: ['phase', 'string'], 3: ['message', 'string'] },
  PodTemplateSpec: { 1: ['metadata', 'ObjectMeta'], 2: ['spec', 'PodSpec'] },
  PodSpec: {
    2: ['containers', '[]Container'],
    3: ['restartPolicy', 'string'],
    4: ['terminationGracePeriodSeconds', '*int64'],
    5: ['activeDeadlineSeconds', '*int64'],
    6: ['dnsPolicy', 'string'],
    7: ['nodeSelector', 'map[string]string'],
    8: ['serviceAccountName', 'string'],
    9: ['serviceAccount', 'string'],
    10: ['nodeName', 'string'],
    11: ['hostNetwork', 'bool'],
    12: ['hostPID', 'bool'],
    13: ['hostIPC', 'bool'],
    14: ['securityContext', '*PodSecurityContext'],
    15: ['imagePullSecrets', '[]LocalObjectReference'],
    16: ['hostname', 'string'],
    17: ['subdomain', 'string'],
    19: ['schedulerName', 'string'],
    20: ['initContainers', '[]Container'],
    21: ['automountServiceAccountToken', '*bool'],
    22: ['tolerations', '[]Toleration'],
    24: ['priorityClassName', 'string'],
    25: ['priority', '*int32'],
    27: ['shareProcessNamespace', '*bool'],
    29: ['runtimeClassName', '*string'],
    30: ['enableServiceLinks', '*bool'],
    31: ['preemptionPolicy', '*string'],
  },
  Container: {
    1: ['name', 'string'],
    2: ['image', 'string'],
    3: ['command', '[]string'],
    4: ['args', '[]string'],
    5: ['workingDir', 'string'],
    6: ['ports', '[]ContainerPort'],
    7: ['env', '[]EnvVar'],
    8: ['resources', 'ResourceRequirements'],
    13: ['terminationMessagePath', 'string'],
    14: ['imagePullPolicy', 'string'],
    16: ['stdin', 'bool'],
    17: ['stdinOnce', 'bool'],
    18: ['tty', 'bool'],
    20: ['terminationMessagePolicy', 'string'],
  },
  ContainerPort: {
    1: ['name', 'string'],
    2: ['hostPort', 'int32'],
    3: ['containerPort', 'int32'],
    4: ['protocol', 'string'],
    5: ['hostIP', 'string'],
  },
  EnvVar: { 1: ['name', 'string'], 2: ['value', 'string'] },
  ResourceRequirements: { 1: ['limits', 'map[string]Quantity'], 2: ['requests', 'map[string]Quantity'] },
  PodSecurityContext: {
    2: ['runAsUser', '*int64'],
    3: ['runAsNonRoot', '*bool'],
    4: ['supplementalGroups', '[]int64'],
    5: ['fsGroup', '*int64'],
    6: ['runAsGroup', '*int64'],
  },
  LocalObjectReference: { 1: ['name', 'string'] },
  Toleration: {
    1: ['key', 'string'],
    2: ['operator', 'string'],
    3: ['value', 'string'],
    4: ['effect', 'string'],
    5: ['tolerationSeconds', '*int64'],
  },
  Service: { 1: ['metadata', 'ObjectMeta'], 2: ['spec', 'ServiceSpec'], 3: ['status', 'ServiceStatus'] },
  ServiceSpec: {
    1: ['ports', '[]ServicePort'],
    2: ['selector', 'map[string]string'],
    3: ['clusterIP', 'string'],
    4: ['type', 'string'],
    5: ['externalIPs', '[]string'],
    7: ['sessionAffinity', 'string'],
    8: ['loadBalancerIP', 'string'],
    9: ['loadBalancerSourceRanges', '[]string'],
    10: ['externalName', 'string'],
    11: ['externalTrafficPolicy', 'string'],
    12: ['healthCheckNodePort', 'int32'],
    13: ['publishNotReadyAddresses', 'bool'],
    17: ['ipFamilyPolicy', '*string'],
    18: ['clusterIPs', '[]string'],
    19: ['ipFamilies', '[]string'],
    20: ['allocateLoadBalancerNodePorts', '*bool'],
  },
  ServicePort: {
    1: ['name', 'string'],
    2: ['protocol', 'string'],
    3: ['port', 'int32'],
    4: ['targetPort', 'IntOrString'],
    5: ['nodePort', 'int32'],
    6: ['appProtocol', '*string'],
  },
  ServiceStatus: { 1: ['loadBalancer', 'LoadBalancerStatus'] },
  LoadBalancerStatus: { 1: ['ingress', '[]LoadBalancerIngress'] },
  LoadBalancerIngress: { 1: ['ip', 'string'], 2: ['hostname', 'string'] },

  // ---- apps/v1 ----
  Deployment: { 1: ['metadata', 'ObjectMeta'], 2: ['spec', 'DeploymentSpec'], 3: ['status', 'DeploymentStatus'] },
  DeploymentSpec: {
    1: ['replicas', '*int32'],
    2: ['selector', '*LabelSelector'],
    3: ['template', 'PodTemplateSpec'],
    4: ['strategy', 'DeploymentStrategy'],
    5: ['minReadySeconds', 'int32'],
    6: ['revisionHistoryLimit', '*int32'],
    7: ['paused', 'bool'],
    9: ['progressDeadlineSeconds', '*int32'],
  },
  DeploymentStrategy: { 1: ['type', 'string'], 2: ['rollingUpdate', '*RollingUpdateDeployment'] },
  RollingUpdateDeployment: { 1: ['maxUnavailable', '*IntOrString'], 2: ['maxSurge', '*IntOrString'] },
  DeploymentStatus: {
    1: ['observedGeneration', 'int64'],
    2: ['replicas', 'int32'],
    3: ['updatedReplicas', 'int32'],
    4: ['availableReplicas', 'int32'],
    5: ['unavailableReplicas', 'int32'],
    7: ['readyReplicas', 'int32'],
    8: ['collisionCount', '*int32'],
  },
  ReplicaSet: { 1: ['metadata', 'ObjectMeta'], 2: ['spec', 'ReplicaSetSpec'], 3: ['status', 'ReplicaSetStatus'] },
  ReplicaSetSpec: {
    1: ['replicas', '*int32'],
    2: ['selector', '*LabelSelector'],
    3: ['template', 'PodTemplateSpec'],
    4: ['minReadySeconds', 'int32'],
  },
  ReplicaSetStatus: {
    1: ['replicas', 'int32'],
    2: ['fullyLabeledReplicas', 'int32'],
    3: ['observedGeneration', 'int64'],
    4: ['readyReplicas', 'int32'],
    5: ['availableReplicas', 'int32'],
  },

  // ---- batch/v1 ----
  Job: { 1: ['metadata', 'ObjectMeta'], 2: ['spec', 'JobSpec'], 3: ['status', 'JobStatus'] },
  JobSpec: {
    1: ['parallelism', '*int32'],
    2: ['completions', '*int32'],
    3: ['activeDeadlineSeconds', '*int64'],
    4: ['selector', '*LabelSelector'],
    5: ['manualSelector', '*bool'],
    6: ['template', 'PodTemplateSpec'],
    7: ['backoffLimit', '*int32'],
    8: ['ttlSecondsAfterFinished', '*int32'],
    9: ['completionMode', '*string'],
    10: ['suspend', '*bool'],
  },
  JobStatus: {
    2: ['startTime', '*Time'],
    3: ['completionTime', '*Time'],
    4: ['active', 'int32'],
    5: ['succeeded', 'int32'],
    6: ['failed', 'int32'],
    7: ['completedIndexes', 'string'],
    9: ['ready', '*int32'],
  },

  // ---- rbac.authorization.k8s.io/v1 ----
  Role: { 1: ['metadata', 'ObjectMeta'], 2: ['rules', '[]PolicyRule'] },
  ClusterRole: { 1: ['metadata', 'ObjectMeta'], 2: ['rules', '[]PolicyRule'] },
  PolicyRule: {
    1: ['verbs', '[]string'],
    2: ['apiGroups', '[]string'],
    3: ['resources', '[]string'],
    4: ['resourceNames', '[]string'],
    5: ['nonResourceURLs', '[]string'],
  },
  RoleBinding: { 1: ['metadata', 'ObjectMeta'], 2: ['subjects', '[]Subject'], 3: ['roleRef', 'RoleRef'] },
  ClusterRoleBinding: { 1: ['metadata', 'ObjectMeta'], 2: ['subjects', '[]Subject'], 3: ['roleRef', 'RoleRef'] },
  Subject: { 1: ['kind', 'string'], 2: ['apiGroup', 'string'], 3: ['name', 'string'], 4: ['namespace', 'string'] },
  RoleRef: { 1: ['apiGroup', 'string'], 2: ['kind', 'string'], 3: ['name', 'string'] },
};

/** The top-level kinds this server decodes from protobuf, by apiVersion; each is a message of the same name. */
const KINDS: Readonly<Record<string, readonly string[]>> = {
  v1: ['Namespace', 'Pod', 'Service', 'ConfigMap'],
  'apps/v1': ['Deployment', 'ReplicaSet'],
  'batch/v1': ['Job'],
  'rbac.authorization.k8s.io/v1': ['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'],
};

/** Every `apiVersion kind` pair this server decodes from protobuf. */
export function supportedKinds(): string[] {
  return Object.entries(KINDS).flatMap(([apiVersion, kinds]) => kinds.map((kind) => `${apiVersion} ${kind}`));
}

/** Messages whose JSON form is a single value rather than an object. */
const SCALAR_MESSAGES: Readonly<Record<string, (fields: Record<string, unknown>) => unknown>> = {
  Time: rfc3339,
  // A resource.Quantity travels as its canonical string, e.g. "500m".
  Quantity: ({ string = '' }) => string,
  // type 0 is an int (`8080`), type 1 a string (`"http"`, `"25%"`).
  IntOrString: ({ type = 0, intVal = 0, strVal = '' }) => (type === 1 ? strVal : intVal),
};

/** A Time as RFC 3339 to the second, as metav1.Time marshals; all zero is Go's zero time, which JSON writes as null (left out). */
function rfc3339({ seconds = 0, nanos = 0 }: Record<string, unknown>): string | undefined {
  if (seconds === 0 && nanos === 0) return undefined;
  const date = new Date(Number(seconds) * 1000);
  // Why check: a Date holds ±100 million days around 1970; seconds beyond that would throw a RangeError below.
  if (Number.isNaN(date.getTime())) throw new ProtobufError(`expected a Time within the years -271821 to 275760, got ${String(seconds)} seconds since 1970`);
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
// #endregion field-table

// #region decode
/** A field type read from its Go spelling. */
interface ParsedType {
  shape: 'value' | 'pointer' | 'list' | 'map';
  element: string;
}

function parseType(type: GoType): ParsedType {
  if (type.startsWith('*')) return { shape: 'pointer', element: type.slice(1) };
  if (type.startsWith('[]')) return { shape: 'list', element: type.slice(2) };
  if (type.startsWith('map[string]')) return { shape: 'map', element: type.slice('map[string]'.length) };
  return { shape: 'value', element: type };
}

const SCALARS = new Set(['string', 'bytes', 'bool', 'int32', 'int64']);
const NUMERIC = new Set(['bool', 'int32', 'int64']);

/** What one decode collects besides the object: a warning per field the table does not list. */
interface DecodeState {
  warnings: string[];
}

/** Decode one message's bytes by its table; `path` is where it sits in the object, for errors and warnings. */
function decodeMessage(name: string, bytes: Buffer, path: string, state: DecodeState): Record<string, unknown> {
  const table = MESSAGES[name];
  if (!table) throw new Error(`expected a message named in MESSAGES, got ${JSON.stringify(name)}`);
  const where = `${name}${path ? ` (at ${path})` : ''}`;
  const object: Record<string, unknown> = {};
  const repeats = new Map<number, WireField[]>();
  for (const field of readFields(bytes, where)) {
    const list = repeats.get(field.number) ?? [];
    list.push(field);
    repeats.set(field.number, list);
  }
  for (const [number, occurrences] of repeats) {
    const spec = table[number];
    if (!spec) {
      // Why warn only about fields that carry something: Go sends its zero values, and an
      // empty string or a 0 in a field the table leaves out loses nothing.
      if (occurrences.some(carriesData)) {
        state.warnings.push(`protobuf field ${number} of ${where} is not in this server's field table and was ignored`);
      }
      continue;
    }
    const [fieldName, type] = spec;
    const value = decodeField(parseType(type), occurrences, join(path, fieldName), state);
    if (value !== undefined) object[fieldName] = value;
  }
  return object;
}

/** Decode every occurrence of one field as its type says; undefined leaves the field out. */
function decodeField(type: ParsedType, occurrences: WireField[], path: string, state: DecodeState): unknown {
  if (type.shape === 'list') return occurrences.flatMap((field, i) => decodeListItems(type.element, field, `${path}[${i}]`, state));
  // Why fromEntries: it makes every key an own property, even one named `__proto__`, as JSON.parse does.
  if (type.shape === 'map') return Object.fromEntries(occurrences.map((field) => decodeMapEntry(type.element, field, path, state)));
  // A field sent more than once: the last scalar wins, and message parts merge, which is
  // what decoding their bytes one after another gives (the protobuf rule).
  const last = occurrences[occurrences.length - 1]!;
  const merge = isMessage(type.element) && occurrences.length > 1 && occurrences.every((f) => f.wireType === 2);
  const field: WireField = merge ? { number: last.number, wireType: 2, value: Buffer.concat(occurrences.map((f) => f.value as Buffer)) } : last;
  const value = decodeValue(type.element, field, path, state);
  // Why drop zeros unless the Go field is a pointer: protobuf sends Go's zero values for
  // plain fields, which JSON's omitempty would have left out; a pointer is sent only when set.
  if (type.shape === 'value' && isZero(value)) return undefined;
  return value;
}

/** One list field occurrence: one element, or several when numbers come packed in one length-delimited run. */
function decodeListItems(element: string, field: WireField, path: string, state: DecodeState): unknown[] {
  if (NUMERIC.has(element) && field.wireType === 2) {
    const reader = new Reader(field.value, path);
    const values: unknown[] = [];
    while (!reader.done) values.push(decodeValue(element, { number: field.number, wireType: 0, value: reader.varint() }, path, state));
    return values;
  }
  return [decodeValue(element, field, path, state)];
}

/** One map entry: a small message with the key as field 1 and the value as field 2. */
function decodeMapEntry(element: string, field: WireField, path: string, state: DecodeState): [string, unknown] {
  const bytes = expectBytes(field, path, 'a map entry');
  let key = '';
  let value: unknown = zeroOf(element);
  for (const part of readFields(bytes, `a map entry at ${path}`)) {
    if (part.number === 1) key = expectBytes(part, path, 'a map key').toString('utf8');
    else if (part.number === 2) value = decodeValue(element, part, `${path}.${key}`, state);
    else throw new ProtobufError(`malformed protobuf at ${path}: expected a map entry with fields 1 (key) and 2 (value), got field ${part.number}`);
  }
  return [key, value];
}

/** One value of a scalar or message type. */
function decodeValue(element: string, field: WireField, path: string, state: DecodeState): unknown {
  switch (element) {
    case 'string':
      return expectBytes(field, path, 'a string').toString('utf8');
    case 'bytes':
      // JSON carries bytes as base64, as Go's encoding/json does for []byte.
      return expectBytes(field, path, 'bytes').toString('base64');
    case 'bool':
      return expectVarint(field, path, 'a bool') !== 0n;
    case 'int32':
      return Number(BigInt.asIntN(32, expectVarint(field, path, 'an int32')));
    case 'int64': {
      const value = BigInt.asIntN(64, expectVarint(field, path, 'an int64'));
      if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new ProtobufError(`protobuf field ${field.number} at ${path}: expected an int64 JSON can carry exactly (at most 2^53 - 1), got ${value}`);
      }
      return Number(value);
    }
  }
  const message = decodeMessage(element, expectBytes(field, path, `a ${element} message`), path, state);
  const toScalar = SCALAR_MESSAGES[element];
  return toScalar ? toScalar(message) : message;
}

/** The value a map entry without field 2 holds: its type's zero. */
function zeroOf(element: string): unknown {
  switch (element) {
    case 'string':
    case 'bytes':
      return '';
    case 'bool':
      return false;
    case 'int32':
    case 'int64':
      return 0;
  }
  const toScalar = SCALAR_MESSAGES[element];
  return toScalar ? toScalar({}) : {};
}

function isMessage(element: string): boolean {
  return !SCALARS.has(element);
}

function isZero(value: unknown): boolean {
  return value === undefined || value === '' || value === 0 || value === false;
}

/** False for a field holding only a zero: an empty string or message, a 0 or false. */
function carriesData(field: WireField): boolean {
  if (field.wireType === 0) return field.value !== 0n;
  return field.value.some((byte) => byte !== 0);
}

function expectBytes(field: WireField, path: string, what: string): Buffer {
  if (field.wireType !== 2) throw wrongWireType(field, path, what, 2);
  return field.value;
}

function expectVarint(field: WireField, path: string, what: string): bigint {
  if (field.wireType !== 0) throw wrongWireType(field, path, what, 0);
  return field.value;
}

function wrongWireType(field: WireField, path: string, what: string, expected: number): ProtobufError {
  return new ProtobufError(`protobuf field ${field.number} at ${path}: expected ${what} (wire type ${expected}), got wire type ${field.wireType}`);
}

function join(path: string, field: string): string {
  return path ? `${path}.${field}` : field;
}
// #endregion decode

// #region kubernetes
/** The runtime.Unknown envelope around every Kubernetes protobuf object. */
export interface UnknownEnvelope {
  apiVersion: string;
  kind: string;
  /** The object's own message. */
  raw: Buffer;
  contentEncoding: string;
  contentType: string;
}

/** Check the `k8s\0` prefix and read the runtime.Unknown after it (typeMeta 1, raw 2, contentEncoding 3, contentType 4). */
export function decodeEnvelope(body: Buffer): UnknownEnvelope {
  if (body.length < KUBERNETES_MAGIC.length || !body.subarray(0, KUBERNETES_MAGIC.length).equals(KUBERNETES_MAGIC)) {
    throw new ProtobufError(`expected a Kubernetes protobuf body starting with the bytes 6b 38 73 00 ("k8s\\0"), got ${hex(body.subarray(0, 4)) || 'an empty body'}`);
  }
  const envelope: UnknownEnvelope = { apiVersion: '', kind: '', raw: Buffer.alloc(0), contentEncoding: '', contentType: '' };
  for (const field of readFields(body.subarray(KUBERNETES_MAGIC.length), 'the runtime.Unknown envelope')) {
    switch (field.number) {
      case 1: // typeMeta: apiVersion 1, kind 2
        for (const part of readFields(expectBytes(field, 'typeMeta', 'a TypeMeta message'), 'the envelope typeMeta')) {
          if (part.number === 1) envelope.apiVersion = expectBytes(part, 'typeMeta.apiVersion', 'a string').toString('utf8');
          if (part.number === 2) envelope.kind = expectBytes(part, 'typeMeta.kind', 'a string').toString('utf8');
        }
        break;
      case 2:
        envelope.raw = expectBytes(field, 'raw', 'bytes');
        break;
      case 3:
        envelope.contentEncoding = expectBytes(field, 'contentEncoding', 'a string').toString('utf8');
        break;
      case 4:
        envelope.contentType = expectBytes(field, 'contentType', 'a string').toString('utf8');
        break;
    }
  }
  return envelope;
}

/** What decoding a protobuf body gives: the object as JSON would have given it, and the fields left out. */
export interface DecodedBody {
  object: KubeObject;
  warnings: string[];
}

/**
 * Decode a Kubernetes protobuf body into a JSON-shaped object. `defaults`
 * stand in for an envelope without apiVersion or kind, as the real server
 * defaults them from the URL.
 */
export function decodeKubernetesProtobuf(body: Buffer, defaults?: { apiVersion: string; kind: string }): DecodedBody {
  const envelope = decodeEnvelope(body);
  if (envelope.contentEncoding !== '') throw new ProtobufError(`expected no contentEncoding in the runtime.Unknown envelope, got ${JSON.stringify(envelope.contentEncoding)}`);
  if (envelope.contentType !== '' && envelope.contentType !== PROTOBUF_CONTENT_TYPE) {
    throw new ProtobufError(`expected the envelope's raw object in ${PROTOBUF_CONTENT_TYPE}, got contentType ${JSON.stringify(envelope.contentType)}`);
  }
  const apiVersion = envelope.apiVersion || defaults?.apiVersion || '';
  const kind = envelope.kind || defaults?.kind || '';
  if (!kind) throw new ProtobufError('expected a kind in the runtime.Unknown envelope, got none');
  if (!KINDS[apiVersion]?.includes(kind)) throw new UnsupportedProtobufKind(apiVersion, kind);
  const state: DecodeState = { warnings: [] };
  const fields = decodeMessage(kind, envelope.raw, '', state);
  return { object: { apiVersion, kind, ...fields } as KubeObject, warnings: state.warnings };
}

function hex(bytes: Buffer): string {
  return [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join(' ');
}
// #endregion kubernetes
