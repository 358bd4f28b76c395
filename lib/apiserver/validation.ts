/**
 * Validation: what the API server checks before it stores an object, worded
 * as the real kube-apiserver words it. Each check returns StatusCauses — one
 * per bad field, with the field path (`spec.template.spec.containers[0].image`),
 * the reason (`FieldValueRequired`, …) and the message (`Required value`) —
 * which the caller wraps in a 422 Invalid (see `invalid` in status.ts).
 *
 * As in the real server, validation runs on a defaulted object (see
 * defaults.ts); where a default matters to a rule, the rule applies it
 * itself, so an undefaulted object gets the same answer.
 */
import { isIP } from 'node:net';
import type {
  ConfigMap, Container, ContainerPort, Endpoints, Event, Job, KubeObject, LabelSelector, LabelSelectorRequirement,
  Lease, Namespace, Node, ObjectMeta, OwnerReference, Pod, PodSpec, PodTemplateSpec, PolicyRule, Probe, ResourceRequirements,
  RoleBinding, Role, Service, ServicePort, StatusCause, Subject, Taint, Toleration,
} from '../api/types.ts';
import type { ResourceInfo } from './resources.ts';
import { labelSelectorFromSpec, matchesLabels } from './selectors.ts';

// ---- names and label values -------------------------------------------------
// The checks of k8s.io/apimachinery/pkg/util/validation: each returns the
// list of what is wrong, empty when the value is fine.

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const DNS1035_LABEL = '[a-z]([-a-z0-9]*[a-z0-9])?';
const QUALIFIED_NAME = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE = `(${QUALIFIED_NAME})?`;

const whole = (pattern: string): RegExp => new RegExp(`^${pattern}$`);

/** `must be no more than 63 characters`. */
function maxLengthError(length: number): string {
  return `must be no more than ${length} characters`;
}

/** A rule's explanation, its examples and the regex itself, as validation.RegexError words it. */
function regexError(message: string, pattern: string, ...examples: string[]): string {
  if (examples.length === 0) return `${message} (regex used for validation is '${pattern}')`;
  return `${message} (e.g. ${examples.map((e) => `'${e}'`).join(' or ')}, regex used for validation is '${pattern}')`;
}

/** Lengths count bytes, as Go's len() does. */
function byteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/** What is wrong with a DNS-1123 label (at most 63 characters, `my-name`): namespace and container names. */
export function isDNS1123Label(value: string): string[] {
  const errors: string[] = [];
  if (byteLength(value) > 63) errors.push(maxLengthError(63));
  if (!whole(DNS1123_LABEL).test(value)) {
    // Why: a valid subdomain that is not a valid label can only be wrong by its dots, so say so.
    if (whole(DNS1123_SUBDOMAIN).test(value)) errors.push('must not contain dots');
    else errors.push(regexError("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character", DNS1123_LABEL, 'my-name', '123-abc'));
  }
  return errors;
}

/** What is wrong with a DNS-1123 subdomain (at most 253 characters, `example.com`): the name of most objects. */
export function isDNS1123Subdomain(value: string): string[] {
  const errors: string[] = [];
  if (byteLength(value) > 253) errors.push(maxLengthError(253));
  if (!whole(DNS1123_SUBDOMAIN).test(value)) {
    errors.push(regexError("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", DNS1123_SUBDOMAIN, 'example.com'));
  }
  return errors;
}

/** What is wrong with a DNS-1035 label (a letter first, at most 63 characters): Service names, so they can be DNS names. */
export function isDNS1035Label(value: string): string[] {
  const errors: string[] = [];
  if (byteLength(value) > 63) errors.push(maxLengthError(63));
  if (!whole(DNS1035_LABEL).test(value)) {
    errors.push(regexError("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character", DNS1035_LABEL, 'my-name', 'abc-123'));
  }
  return errors;
}

const QUALIFIED_NAME_MESSAGE = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/** What is wrong with a qualified name (`app`, `example.com/tier`): label keys, annotation keys, finalizers. */
export function isQualifiedName(value: string): string[] {
  const parts = value.split('/');
  if (parts.length > 2) {
    return [`a qualified name ${regexError(QUALIFIED_NAME_MESSAGE, QUALIFIED_NAME, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  const errors: string[] = [];
  const name = parts.length === 2 ? parts[1] ?? '' : value;
  if (parts.length === 2) errors.push(...prefixErrors(parts[0] ?? ''));
  if (name.length === 0) errors.push('name part must be non-empty');
  else if (byteLength(name) > 63) errors.push(`name part ${maxLengthError(63)}`);
  if (!whole(QUALIFIED_NAME).test(name)) errors.push(`name part ${regexError(QUALIFIED_NAME_MESSAGE, QUALIFIED_NAME, 'MyName', 'my.name', '123-abc')}`);
  return errors;
}

function prefixErrors(prefix: string): string[] {
  if (prefix.length === 0) return ['prefix part must be non-empty'];
  return isDNS1123Subdomain(prefix).map((message) => `prefix part ${message}`);
}

/** What is wrong with a label value: empty, or at most 63 characters of alphanumerics, `-`, `_`, `.`. */
export function isValidLabelValue(value: string): string[] {
  const errors: string[] = [];
  if (byteLength(value) > 63) errors.push(maxLengthError(63));
  if (!whole(LABEL_VALUE).test(value)) {
    errors.push(regexError("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", LABEL_VALUE, 'MyValue', 'my_value', '12345'));
  }
  return errors;
}

function isValidPortNum(port: unknown): string[] {
  return typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : ['must be between 1 and 65535, inclusive'];
}

/** An IANA service name, as a named port must be: `http`, `metrics` (at most 15 characters, a letter somewhere). */
function isValidPortName(name: string): string[] {
  const errors: string[] = [];
  if (name.length > 15) errors.push(maxLengthError(15));
  if (!/^[-a-z0-9]+$/.test(name)) errors.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(name)) errors.push('must contain at least one letter (a-z)');
  if (name.includes('--')) errors.push('must not contain consecutive hyphens');
  if (name.startsWith('-') || name.endsWith('-')) errors.push('must not begin or end with a hyphen');
  return errors;
}

function isConfigMapKey(key: string): string[] {
  const errors: string[] = [];
  if (byteLength(key) > 253) errors.push(maxLengthError(253));
  if (!/^[-._a-zA-Z0-9]+$/.test(key)) errors.push(regexError("a valid config key must consist of alphanumeric characters, '-', '_' or '.'", '[-._a-zA-Z0-9]+', 'key.name', 'KEY_NAME', 'key-name'));
  if (key === '.') errors.push("must not be '.'");
  else if (key === '..') errors.push("must not be '..'");
  else if (key.startsWith('..')) errors.push("must not start with '..'");
  return errors;
}

/** RBAC object names only have to be usable as one URL path segment. */
function isPathSegmentName(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  return ['/', '%'].filter((c) => name.includes(c)).map((c) => `may not contain '${c}'`);
}

// ---- quantities ------------------------------------------------------------

const QUANTITY_FORMAT = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
const QUANTITY_FORMAT_ERROR = `quantities must match the regular expression '${QUANTITY_FORMAT}'`;

/** The multiplier each suffix stands for: binary (Ki = 1024) or decimal (m = 0.001, k = 1000). */
const SUFFIXES: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** Reads a quantity into its number and multiplier, or says what is wrong with it. */
function readQuantity(text: string): { value: number } | { error: string } {
  const number = /^[+-]?(\d+\.?\d*|\.\d+)/.exec(text);
  if (!number) return { error: QUANTITY_FORMAT_ERROR };
  const suffix = text.slice(number[0].length);
  const exponent = /^[eE]([+-]?\d+)$/.exec(suffix);
  const multiplier = exponent ? 10 ** Number(exponent[1]) : SUFFIXES[suffix];
  if (multiplier === undefined) {
    // Why two messages: the real parser tells a malformed string from a well-formed one with an unknown suffix.
    return { error: new RegExp(QUANTITY_FORMAT).test(text) ? "unable to parse quantity's suffix" : QUANTITY_FORMAT_ERROR };
  }
  return { value: Number(number[0]) * multiplier };
}

/** What is wrong with a resource quantity (`100m`, `1Gi`, `0.5`, `1e3`): empty when it parses. */
export function validateQuantity(text: string): string[] {
  const read = readQuantity(text);
  return 'error' in read ? [read.error] : [];
}

/**
 * A quantity as a plain number: CPU in cores (`100m` → 0.1), memory in bytes
 * (`1Gi` → 1073741824). Throws when the text is not a quantity.
 */
export function parseQuantity(text: string): number {
  const read = readQuantity(text);
  if ('error' in read) throw new Error(`cannot parse quantity ${JSON.stringify(text)}: ${read.error}`);
  return read.value;
}

// ---- field errors ----------------------------------------------------------
// One builder per field.ErrorType, worded as field.Error.ErrorBody words them.

/** A value already written the way Go's %#v prints it (e.g. a struct), shown as is. */
class GoText {
  constructor(readonly text: string) {}
}

/** A bad value as the real messages show it: strings quoted, maps as `map[string]string{"app":"web"}`. */
function show(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (value instanceof GoText) return value.text;
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return goStrings(value);
  if (isStringMap(value)) return goMap(value);
  return JSON.stringify(value);
}

function isStringMap(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'string');
}

function goStrings(values: string[]): string {
  return `[]string{${values.map((v) => JSON.stringify(v)).join(', ')}}`;
}

function goMap(map: Record<string, string> | undefined): string {
  if (!map) return 'map[string]string(nil)';
  const entries = Object.keys(map).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(map[k])}`);
  return `map[string]string{${entries.join(', ')}}`;
}

/** A selector as the famous `spec.selector: ... field is immutable` message prints it. */
function goSelector(selector: LabelSelector | undefined): GoText {
  if (!selector) return new GoText('null');
  const expressions = selector.matchExpressions
    ? `[]v1.LabelSelectorRequirement{${selector.matchExpressions.map(goRequirement).join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return new GoText(`v1.LabelSelector{MatchLabels:${goMap(selector.matchLabels)}, MatchExpressions:${expressions}}`);
}

function goRequirement(r: LabelSelectorRequirement): string {
  const values = r.values ? goStrings(r.values) : '[]string(nil)';
  return `v1.LabelSelectorRequirement{Key:${JSON.stringify(r.key)}, Operator:${JSON.stringify(r.operator)}, Values:${values}}`;
}

function invalid(field: string, value: unknown, detail: string): StatusCause {
  return { reason: 'FieldValueInvalid', message: `Invalid value: ${show(value)}: ${detail}`, field };
}

function required(field: string, detail = ''): StatusCause {
  return { reason: 'FieldValueRequired', message: detail ? `Required value: ${detail}` : 'Required value', field };
}

function notSupported(field: string, value: unknown, supported: string[]): StatusCause {
  const list = supported.map((v) => JSON.stringify(v)).join(', ');
  return { reason: 'FieldValueNotSupported', message: `Unsupported value: ${show(value)}: supported values: ${list}`, field };
}

function forbidden(field: string, detail: string): StatusCause {
  return { reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field };
}

function duplicate(field: string, value: unknown): StatusCause {
  return { reason: 'FieldValueDuplicate', message: `Duplicate value: ${show(value)}`, field };
}

function tooLong(field: string, maxBytes: number): StatusCause {
  return { reason: 'FieldValueTooLong', message: `Too long: must have at most ${maxBytes} bytes`, field };
}

/** One Invalid cause per message a name check returned. */
function eachInvalid(field: string, value: unknown, messages: string[]): StatusCause[] {
  return messages.map((message) => invalid(field, value, message));
}

function nonNegative(field: string, value: unknown): StatusCause[] {
  return typeof value === 'number' && value < 0 ? [invalid(field, value, 'must be greater than or equal to 0')] : [];
}

/** The value when it is a list, else an empty list: malformed input must not crash validation. */
function list<T>(value: T[] | undefined): T[] {
  return Array.isArray(value) ? value : [];
}

// ---- metadata --------------------------------------------------------------

/** How a kind's names are checked: `generateName` prefixes may end in `-`, so they are checked with it masked. */
type NameCheck = (name: string, prefix: boolean) => string[];

const subdomainName: NameCheck = (name, prefix) => isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);
const labelName: NameCheck = (name, prefix) => isDNS1123Label(prefix ? maskTrailingDash(name) : name);
const dns1035Name: NameCheck = (name, prefix) => isDNS1035Label(prefix ? maskTrailingDash(name) : name);
const pathSegmentName: NameCheck = (name) => isPathSegmentName(name);

/** Lets `web-` pass as a generateName prefix; the real helper swaps the trailing dash for a letter. */
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? `${name.slice(0, -2)}a` : name;
}

// #region name-rules
/** Which name rule each kind follows; any kind not listed uses DNS-1123 subdomains. */
const NAME_RULES: Record<string, NameCheck> = {
  Namespace: labelName,
  Service: dns1035Name,
  Role: pathSegmentName,
  RoleBinding: pathSegmentName,
  ClusterRole: pathSegmentName,
  ClusterRoleBinding: pathSegmentName,
};
// #endregion name-rules

/** The largest total size of an object's annotations, keys plus values (256 KiB). */
const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/** The finalizers any object may carry without a domain prefix. */
const STANDARD_FINALIZERS = ['kubernetes', 'orphan', 'foregroundDeletion'];

/** The name rule most kinds follow; the chapter 2 lab passes the learner's own isDNS1123Subdomain. */
export type SubdomainCheck = (value: string) => string[];

function validateObjectMeta(resource: ResourceInfo, meta: ObjectMeta, subdomain?: SubdomainCheck): StatusCause[] {
  const fallback: NameCheck = subdomain ? (name, prefix) => subdomain(prefix ? maskTrailingDash(name) : name) : subdomainName;
  const check = NAME_RULES[resource.kind] ?? fallback;
  return [
    ...validateName(meta, check),
    ...validateNamespaceField(resource, meta),
    ...validateLabels(meta.labels, 'metadata.labels'),
    ...validateAnnotations(meta.annotations, 'metadata.annotations'),
    ...validateOwnerReferences(meta.ownerReferences),
    ...list(meta.finalizers).flatMap((finalizer) => validateFinalizerName(finalizer, 'metadata.finalizers')),
  ];
}

function validateName(meta: ObjectMeta, check: NameCheck): StatusCause[] {
  const causes: StatusCause[] = [];
  if (meta.generateName) causes.push(...eachInvalid('metadata.generateName', meta.generateName, check(meta.generateName, true)));
  // Why: the server turns generateName into a name before it validates, so a generateName stands in for the name.
  if (!meta.name) {
    if (!meta.generateName) causes.push(required('metadata.name', 'name or generateName is required'));
  } else {
    causes.push(...eachInvalid('metadata.name', meta.name, check(meta.name, false)));
  }
  return causes;
}

function validateNamespaceField(resource: ResourceInfo, meta: ObjectMeta): StatusCause[] {
  if (!resource.namespaced) return meta.namespace ? [forbidden('metadata.namespace', 'not allowed on this type')] : [];
  if (!meta.namespace) return [required('metadata.namespace')];
  return eachInvalid('metadata.namespace', meta.namespace, isDNS1123Label(meta.namespace));
}

/** Label keys must be qualified names and values label values; the field is the whole map, as in the real errors. */
function validateLabels(labels: Record<string, string> | undefined, field: string): StatusCause[] {
  return Object.entries(labels ?? {}).flatMap(([key, value]) => [
    ...eachInvalid(field, key, isQualifiedName(key)),
    ...eachInvalid(field, value, isValidLabelValue(String(value))),
  ]);
}

function validateAnnotations(annotations: Record<string, string> | undefined, field: string): StatusCause[] {
  const entries = Object.entries(annotations ?? {});
  // Why lowercase: annotation keys follow the qualified-name rule except that case does not matter.
  const causes = entries.flatMap(([key]) => eachInvalid(field, key, isQualifiedName(key.toLowerCase())));
  const size = entries.reduce((total, [key, value]) => total + byteLength(key) + byteLength(String(value)), 0);
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) causes.push(tooLong(field, TOTAL_ANNOTATION_SIZE_LIMIT));
  return causes;
}

function validateOwnerReferences(references: OwnerReference[] | undefined): StatusCause[] {
  const field = 'metadata.ownerReferences';
  const causes = list(references).flatMap((ref) => [
    ...(ref.apiVersion ? [] : [invalid(`${field}.apiVersion`, ref.apiVersion ?? '', 'version must not be empty')]),
    ...(ref.kind ? [] : [invalid(`${field}.kind`, ref.kind ?? '', 'kind must not be empty')]),
    ...(ref.name ? [] : [invalid(`${field}.name`, ref.name ?? '', 'name must not be empty')]),
    ...(ref.uid ? [] : [invalid(`${field}.uid`, ref.uid ?? '', 'uid must not be empty')]),
  ]);
  const controllers = list(references).filter((ref) => ref.controller);
  if (controllers.length > 1) {
    const names = controllers.map((ref) => `${ref.kind}/${ref.name}`).join(' and ');
    causes.push(invalid(field, new GoText('[...]'), `Only one reference can have Controller set to true. Found "true" in references for ${names}`));
  }
  return causes;
}

function validateFinalizerName(name: string, field: string): StatusCause[] {
  const causes = eachInvalid(field, name, isQualifiedName(name));
  // Why: a finalizer without a domain must be one Kubernetes itself knows.
  if (!name.includes('/') && !STANDARD_FINALIZERS.includes(name)) {
    causes.push(invalid(field, name, 'name is neither a standard finalizer name nor is it fully qualified'));
  }
  return causes;
}

// ---- label selectors in specs ----------------------------------------------

function validateLabelSelector(selector: LabelSelector | undefined, field: string): StatusCause[] {
  if (!selector) return [];
  return [
    ...validateLabels(selector.matchLabels, `${field}.matchLabels`),
    ...list(selector.matchExpressions).flatMap((r, i) => validateSelectorRequirement(r, `${field}.matchExpressions[${i}]`)),
  ];
}

function validateSelectorRequirement(requirement: LabelSelectorRequirement, field: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const values = list(requirement.values);
  switch (requirement.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) causes.push(required(`${field}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) causes.push(forbidden(`${field}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    default:
      causes.push(invalid(`${field}.operator`, requirement.operator, 'not a valid selector operator'));
  }
  causes.push(...eachInvalid(`${field}.key`, requirement.key, isQualifiedName(requirement.key ?? '')));
  values.forEach((value, i) => causes.push(...eachInvalid(`${field}.values[${i}]`, value, isValidLabelValue(value))));
  return causes;
}

/** Whether a selector is usable at all; an unusable one makes the template check meaningless. */
function selectorOrUndefined(selector: LabelSelector): ReturnType<typeof labelSelectorFromSpec> | undefined {
  try {
    return labelSelectorFromSpec(selector);
  } catch {
    return undefined;
  }
}

// ---- pods ------------------------------------------------------------------

const RESTART_POLICIES = ['Always', 'Never', 'OnFailure'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const TERMINATION_MESSAGE_POLICIES = ['File', 'FallbackToLogsOnError'];
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const MAX_INT32 = 2147483647;

/** A pod spec, at `path` (`spec` for a Pod, `spec.template.spec` for a Deployment). */
function validatePodSpec(spec: PodSpec | undefined, path: string): StatusCause[] {
  const podSpec = spec ?? ({ containers: [] } as PodSpec);
  return [
    ...validateContainers(podSpec, path),
    ...validateRestartPolicy(podSpec.restartPolicy, `${path}.restartPolicy`),
    ...validateEnum(`${path}.dnsPolicy`, podSpec.dnsPolicy, DNS_POLICIES),
    ...validateLabels(podSpec.nodeSelector, `${path}.nodeSelector`),
    ...list(podSpec.tolerations).flatMap((t, i) => validateToleration(t, `${path}.tolerations[${i}]`)),
    ...validateActiveDeadline(podSpec.activeDeadlineSeconds, `${path}.activeDeadlineSeconds`),
  ];
}

function validateRestartPolicy(policy: string | undefined, field: string): StatusCause[] {
  // Why: an absent policy is defaulted to Always before validation, so only a present one can be wrong.
  if (policy === undefined) return [];
  if (policy === '') return [required(field)];
  return RESTART_POLICIES.includes(policy) ? [] : [notSupported(field, policy, RESTART_POLICIES)];
}

/** An optional enum field: absent is fine (the default fills it), anything else must be one of the values. */
function validateEnum(field: string, value: unknown, supported: string[]): StatusCause[] {
  if (value === undefined) return [];
  return supported.includes(value as string) ? [] : [notSupported(field, value, supported)];
}

function validateActiveDeadline(value: unknown, field: string): StatusCause[] {
  if (value === undefined) return [];
  const ok = typeof value === 'number' && value >= 1 && value <= MAX_INT32;
  return ok ? [] : [invalid(field, value, `must be between 1 and ${MAX_INT32}, inclusive`)];
}

function validateContainers(spec: PodSpec, path: string): StatusCause[] {
  const containers = list(spec.containers);
  if (containers.length === 0) return [required(`${path}.containers`)];
  const seen = new Set<string>();
  const checkAll = (items: Container[], kind: 'initContainers' | 'containers'): StatusCause[] =>
    items.flatMap((container, i) => {
      const field = `${path}.${kind}[${i}]`;
      const causes = validateContainer(container, field);
      // Why across both lists: init containers and app containers share one name space in a pod.
      if (container.name && seen.has(container.name)) causes.push(duplicate(`${field}.name`, container.name));
      seen.add(container.name);
      return causes;
    });
  return [...checkAll(list(spec.initContainers), 'initContainers'), ...checkAll(containers, 'containers')];
}

function validateContainer(container: Container, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!container.name) causes.push(required(`${path}.name`));
  else causes.push(...eachInvalid(`${path}.name`, container.name, isDNS1123Label(container.name)));
  if (!container.image) causes.push(required(`${path}.image`));
  causes.push(
    ...validateProbe(container.livenessProbe, `${path}.livenessProbe`, true),
    ...validateProbe(container.readinessProbe, `${path}.readinessProbe`, false),
    ...validateProbe((container as { startupProbe?: Probe }).startupProbe, `${path}.startupProbe`, true),
    ...validateContainerPorts(list(container.ports), `${path}.ports`),
    ...list(container.env).flatMap((env, i) => (env.name ? [] : [required(`${path}.env[${i}].name`)])),
    ...validateResources(container.resources, `${path}.resources`),
    ...validateEnum(`${path}.imagePullPolicy`, container.imagePullPolicy, PULL_POLICIES),
    ...validateEnum(`${path}.terminationMessagePolicy`, container.terminationMessagePolicy, TERMINATION_MESSAGE_POLICIES),
  );
  return causes;
}

function validateContainerPorts(ports: ContainerPort[], path: string): StatusCause[] {
  const names = new Set<string>();
  return ports.flatMap((port, i) => {
    const field = `${path}[${i}]`;
    const causes: StatusCause[] = [];
    if (port.name) {
      const nameErrors = isValidPortName(port.name);
      causes.push(...eachInvalid(`${field}.name`, port.name, nameErrors));
      if (nameErrors.length === 0 && names.has(port.name)) causes.push(duplicate(`${field}.name`, port.name));
      names.add(port.name);
    }
    if (!port.containerPort) causes.push(required(`${field}.containerPort`));
    else causes.push(...eachInvalid(`${field}.containerPort`, port.containerPort, isValidPortNum(port.containerPort)));
    if (port.hostPort) causes.push(...eachInvalid(`${field}.hostPort`, port.hostPort, isValidPortNum(port.hostPort)));
    causes.push(...validateProtocol(port.protocol, `${field}.protocol`));
    return causes;
  });
}

function validateProtocol(protocol: string | undefined, field: string): StatusCause[] {
  // Why: an absent protocol is defaulted to TCP.
  if (protocol === undefined) return [];
  if (protocol === '') return [required(field)];
  return PROTOCOLS.includes(protocol) ? [] : [notSupported(field, protocol, PROTOCOLS)];
}

/** A port given by number (1–65535) or by name (an IANA service name such as `http`). */
function validatePortNumOrName(port: unknown, field: string): StatusCause[] {
  if (typeof port === 'string') return eachInvalid(field, port, isValidPortName(port));
  return eachInvalid(field, port ?? 0, isValidPortNum(port));
}

const PROBE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc'] as const;

function validateProbe(probe: Probe | undefined, path: string, successMustBeOne: boolean): StatusCause[] {
  if (!probe) return [];
  const causes = [
    ...validateProbeHandler(probe, path),
    ...nonNegative(`${path}.initialDelaySeconds`, probe.initialDelaySeconds),
    ...nonNegative(`${path}.timeoutSeconds`, probe.timeoutSeconds),
    ...nonNegative(`${path}.periodSeconds`, probe.periodSeconds),
    ...nonNegative(`${path}.successThreshold`, probe.successThreshold),
    ...nonNegative(`${path}.failureThreshold`, probe.failureThreshold),
  ];
  // Why: a liveness or startup probe either passes or it does not; "succeed twice to count" only means something for readiness.
  if (successMustBeOne && probe.successThreshold !== undefined && probe.successThreshold !== 1) {
    causes.push(invalid(`${path}.successThreshold`, probe.successThreshold, 'must be 1'));
  }
  return causes;
}

/** A probe names exactly one way to check: exec, httpGet, tcpSocket or grpc. */
function validateProbeHandler(probe: Probe, path: string): StatusCause[] {
  const given = PROBE_HANDLERS.filter((handler) => (probe as Record<string, unknown>)[handler] !== undefined);
  if (given.length === 0) return [required(path, 'must specify a handler type')];
  const causes = given.slice(1).map((handler) => forbidden(`${path}.${handler}`, 'may not specify more than 1 handler type'));
  const first = given[0];
  if (first === 'exec' && list(probe.exec?.command).length === 0) causes.push(required(`${path}.exec.command`));
  if (first === 'httpGet' && probe.httpGet) {
    causes.push(...validatePortNumOrName(probe.httpGet.port, `${path}.httpGet.port`));
    causes.push(...validateEnum(`${path}.httpGet.scheme`, probe.httpGet.scheme, ['HTTP', 'HTTPS']));
  }
  if (first === 'tcpSocket' && probe.tcpSocket) causes.push(...validatePortNumOrName(probe.tcpSocket.port, `${path}.tcpSocket.port`));
  return causes;
}

/** The resources a container may ask for by their plain names; others need a domain (`example.com/gpu`). */
function isStandardContainerResource(name: string): boolean {
  return ['cpu', 'memory', 'ephemeral-storage'].includes(name) || name.startsWith('hugepages-');
}

function validateResources(resources: ResourceRequirements | undefined, path: string): StatusCause[] {
  const limits = resources?.limits ?? {};
  const requests = resources?.requests ?? {};
  const causes = [
    ...Object.entries(limits).flatMap(([name, quantity]) => validateResourceEntry(name, quantity, `${path}.limits[${name}]`)),
    ...Object.entries(requests).flatMap(([name, quantity]) => validateResourceEntry(name, quantity, `${path}.requests[${name}]`)),
  ];
  for (const [name, request] of Object.entries(requests)) {
    const limit = limits[name];
    if (limit === undefined || validateQuantity(request).length > 0 || validateQuantity(limit).length > 0) continue;
    // Why: a container may not be promised more than it is allowed to use.
    if (parseQuantity(request) > parseQuantity(limit)) {
      causes.push(invalid(`${path}.requests`, request, `must be less than or equal to ${name} limit of ${limit}`));
    }
  }
  return causes;
}

function validateResourceEntry(name: string, quantity: unknown, field: string): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!name.includes('/') && !isStandardContainerResource(name)) causes.push(invalid(field, name, 'must be a standard resource for containers'));
  const text = String(quantity);
  const errors = validateQuantity(text);
  if (errors.length > 0) return [...causes, ...eachInvalid(field, text, errors)];
  if (parseQuantity(text) < 0) causes.push(invalid(field, text, 'must be greater than or equal to 0'));
  return causes;
}

function validateToleration(toleration: Toleration, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const { key = '', operator, value = '', effect } = toleration;
  if (key) causes.push(...eachInvalid(`${path}.key`, key, isQualifiedName(key)));
  // Why: an empty key means "every taint", which only makes sense with Exists.
  if (!key && operator !== 'Exists') {
    causes.push(invalid(`${path}.operator`, operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
  }
  if (toleration.tolerationSeconds !== undefined && effect !== 'NoExecute') {
    causes.push(invalid(`${path}.effect`, effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
  }
  if (operator === undefined || operator === 'Equal') {
    const valueErrors = isValidLabelValue(value);
    if (valueErrors.length > 0) causes.push(invalid(`${path}.operator`, value, valueErrors.join(';')));
  } else if (operator === 'Exists') {
    if (value) causes.push(invalid(`${path}.operator`, toleration, "value must be empty when `operator` is 'Exists'"));
  } else {
    causes.push(notSupported(`${path}.operator`, operator, ['Equal', 'Exists']));
  }
  if (effect) causes.push(...validateEnum(`${path}.effect`, effect, TAINT_EFFECTS));
  return causes;
}

function validatePodTemplate(template: PodTemplateSpec | undefined, path: string): StatusCause[] {
  return [
    ...validateLabels(template?.metadata?.labels, `${path}.labels`),
    ...validateAnnotations(template?.metadata?.annotations, `${path}.annotations`),
    ...validatePodSpec(template?.spec, `${path}.spec`),
  ];
}

// ---- workloads: Deployment, ReplicaSet, Job ----------------------------------

/** A workload's selector: required, well-formed, and (for Deployments and ReplicaSets) not empty. */
function validateWorkloadSelector(selector: LabelSelector | undefined, kind: string): StatusCause[] {
  if (!selector) return [required('spec.selector')];
  const causes = validateLabelSelector(selector, 'spec.selector');
  const size = Object.keys(selector.matchLabels ?? {}).length + list(selector.matchExpressions).length;
  // Why "deployment" for ReplicaSets too: the real server shares this message between both kinds.
  if (size === 0 && kind !== 'Job') causes.push(invalid('spec.selector', goSelector(selector), 'empty selector is invalid for deployment'));
  return causes;
}

/**
 * The rule that ties a controller to its pods: the pods it creates carry the
 * template's labels, so the selector must match them, or the controller
 * would never see the pods it made and would make more forever.
 */
function validateSelectorMatchesTemplate(selector: LabelSelector | undefined, template: PodTemplateSpec | undefined): StatusCause[] {
  if (!selector) return [];
  const requirements = selectorOrUndefined(selector);
  if (!requirements) return [invalid('spec.selector', goSelector(selector), 'invalid label selector')];
  if (requirements.length === 0 || matchesLabels(requirements, template?.metadata?.labels)) return [];
  const labels = template?.metadata?.labels;
  return [invalid('spec.template.metadata.labels', new GoText(goMap(labels)), '`selector` does not match template `labels`')];
}

/** Pods of a Deployment or ReplicaSet must run for ever, so their template can only restart Always. */
function validateReplicatedTemplate(template: PodTemplateSpec | undefined): StatusCause[] {
  const policy = template?.spec?.restartPolicy ?? 'Always';
  const causes = policy === 'Always' ? [] : [notSupported('spec.template.spec.restartPolicy', policy, ['Always'])];
  if (template?.spec?.activeDeadlineSeconds !== undefined) {
    causes.push(invalid('spec.template.spec.activeDeadlineSeconds', template.spec.activeDeadlineSeconds, 'activeDeadlineSeconds in ReplicaSet is not Supported'));
  }
  return causes;
}

type Workload = KubeObject & {
  spec?: {
    replicas?: number;
    minReadySeconds?: number;
    selector?: LabelSelector;
    template?: PodTemplateSpec;
    [field: string]: unknown;
  };
};

function validateReplicaSet(object: KubeObject): StatusCause[] {
  const spec = (object as Workload).spec ?? {};
  return [
    ...nonNegative('spec.replicas', spec.replicas),
    ...nonNegative('spec.minReadySeconds', spec.minReadySeconds),
    ...validateWorkloadSelector(spec.selector, object.kind),
    ...validateSelectorMatchesTemplate(spec.selector, spec.template),
    ...validatePodTemplate(spec.template, 'spec.template'),
    ...validateReplicatedTemplate(spec.template),
  ];
}

function validateDeployment(object: KubeObject): StatusCause[] {
  const spec = (object as Workload).spec ?? {};
  const causes = [...validateReplicaSet(object), ...validateStrategy(spec.strategy)];
  causes.push(...nonNegative('spec.revisionHistoryLimit', spec.revisionHistoryLimit));
  const deadline = spec.progressDeadlineSeconds;
  if (typeof deadline === 'number') {
    causes.push(...nonNegative('spec.progressDeadlineSeconds', deadline));
    if (deadline <= (spec.minReadySeconds ?? 0)) causes.push(invalid('spec.progressDeadlineSeconds', deadline, 'must be greater than minReadySeconds'));
  }
  return causes;
}

type Strategy = { type?: string; rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } };

function validateStrategy(value: unknown): StatusCause[] {
  const strategy = (value ?? {}) as Strategy;
  const type = strategy.type ?? 'RollingUpdate';
  if (type === 'Recreate') {
    return strategy.rollingUpdate ? [forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'")] : [];
  }
  if (type !== 'RollingUpdate') return [notSupported('spec.strategy.type', type, ['Recreate', 'RollingUpdate'])];
  return validateRollingUpdate(strategy.rollingUpdate ?? {});
}

function validateRollingUpdate(rollingUpdate: NonNullable<Strategy['rollingUpdate']>): StatusCause[] {
  const path = 'spec.strategy.rollingUpdate';
  // Why 25%: an absent value is defaulted before validation.
  const maxSurge = rollingUpdate.maxSurge ?? '25%';
  const maxUnavailable = rollingUpdate.maxUnavailable ?? '25%';
  const causes = [...validateIntOrPercent(maxUnavailable, `${path}.maxUnavailable`), ...validateIntOrPercent(maxSurge, `${path}.maxSurge`)];
  // Why: with no room above and no room below the desired count, a rollout could never take a step.
  if (intOrPercentValue(maxUnavailable) === 0 && intOrPercentValue(maxSurge) === 0) {
    causes.push(invalid(`${path}.maxUnavailable`, new GoText(String(maxUnavailable)), 'may not be 0 when `maxSurge` is 0'));
  }
  if (typeof maxUnavailable === 'string' && intOrPercentValue(maxUnavailable) > 100) {
    causes.push(invalid(`${path}.maxUnavailable`, new GoText(maxUnavailable), 'must not be greater than 100%'));
  }
  return causes;
}

function validateIntOrPercent(value: number | string, field: string): StatusCause[] {
  if (typeof value === 'number') return nonNegative(field, value);
  if (/^[0-9]+%$/.test(value)) return [];
  return [invalid(field, new GoText(value), regexError("a valid percent string must be a numeric string followed by an ending '%'", '[0-9]+%', '1%', '93%'))];
}

function intOrPercentValue(value: number | string): number {
  return typeof value === 'number' ? value : Number.parseInt(value, 10);
}

function validateJob(object: KubeObject): StatusCause[] {
  const job = object as Job;
  const spec = job.spec ?? ({} as Job['spec']);
  const causes = [
    ...nonNegative('spec.parallelism', spec.parallelism),
    ...nonNegative('spec.completions', spec.completions),
    ...nonNegative('spec.activeDeadlineSeconds', spec.activeDeadlineSeconds),
    ...nonNegative('spec.backoffLimit', spec.backoffLimit),
    ...validateEnum('spec.completionMode', spec.completionMode, ['NonIndexed', 'Indexed']),
    ...validateWorkloadSelector(spec.selector, 'Job'),
    ...validateSelectorMatchesTemplate(spec.selector, spec.template),
    ...validateGeneratedSelector(job),
    ...validatePodTemplate(spec.template, 'spec.template'),
  ];
  if (spec.completionMode === 'Indexed' && spec.completions === undefined) causes.push(required('spec.completions', 'when completion mode is Indexed'));
  // Why: a Job runs to completion, so its pods must not be restarted for ever; Always is the pod default and is refused.
  const policy = spec.template?.spec?.restartPolicy ?? 'Always';
  if (policy !== 'OnFailure' && policy !== 'Never') causes.push(notSupported('spec.template.spec.restartPolicy', policy, ['OnFailure', 'Never']));
  return causes;
}

/** Unless the user chose `manualSelector`, the selector is the server's own: it must select this Job's uid. */
function validateGeneratedSelector(job: Job): StatusCause[] {
  const uid = job.metadata.uid;
  if (job.spec?.manualSelector || !uid || !job.spec?.selector) return [];
  const requirements = selectorOrUndefined(job.spec.selector);
  if (!requirements || matchesLabels(requirements, { 'batch.kubernetes.io/controller-uid': uid })) return [];
  return [invalid('spec.selector', goSelector(job.spec.selector), '`selector` not auto-generated')];
}

// ---- services and endpoints --------------------------------------------------

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const NODE_PORT_RANGE = { low: 30000, high: 32767 };

function validateService(object: KubeObject): StatusCause[] {
  const spec = (object as Service).spec ?? ({} as Service['spec']);
  const type = spec.type ?? 'ClusterIP';
  if (!SERVICE_TYPES.includes(type)) return [notSupported('spec.type', type, SERVICE_TYPES)];
  const ports = list(spec.ports);
  const causes = [
    ...validateServicePorts(ports, type),
    ...validateLabels(spec.selector, 'spec.selector'),
    ...validateClusterIP(spec.clusterIP, type),
    ...validateEnum('spec.sessionAffinity', spec.sessionAffinity, ['ClientIP', 'None']),
    ...validateEnum('spec.internalTrafficPolicy', spec.internalTrafficPolicy, ['Cluster', 'Local']),
  ];
  // Why: a headless Service (clusterIP None) or an ExternalName alias may have no ports; every other needs one to forward.
  if (ports.length === 0 && spec.clusterIP !== 'None' && type !== 'ExternalName') causes.push(required('spec.ports'));
  if (type === 'ExternalName') causes.push(...validateExternalName(spec.externalName));
  return causes;
}

function validateServicePorts(ports: ServicePort[], type: string): StatusCause[] {
  const names = new Set<string>();
  const seen = new Set<string>();
  return ports.flatMap((port, i) => {
    const field = `spec.ports[${i}]`;
    const causes = validateServicePort(port, field, ports.length > 1, names);
    const protocol = port.protocol ?? 'TCP';
    // Why: two entries for the same port and protocol would compete for the same traffic.
    if (seen.has(`${protocol}/${port.port}`)) {
      causes.push(duplicate(field, new GoText(`core.ServicePort{Name:"", Protocol:${JSON.stringify(protocol)}, AppProtocol:(*string)(nil), Port:${port.port}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`)));
    }
    seen.add(`${protocol}/${port.port}`);
    causes.push(...validateNodePort(port.nodePort, type, `${field}.nodePort`));
    return causes;
  });
}

function validateServicePort(port: ServicePort, field: string, nameRequired: boolean, names: Set<string>): StatusCause[] {
  const causes: StatusCause[] = [];
  // Why: with several ports, Endpoints and DNS SRV records tell them apart by name.
  if (nameRequired && !port.name) causes.push(required(`${field}.name`));
  else if (port.name) {
    causes.push(...eachInvalid(`${field}.name`, port.name, isDNS1123Label(port.name)));
    if (names.has(port.name)) causes.push(duplicate(`${field}.name`, port.name));
    names.add(port.name);
  }
  causes.push(...eachInvalid(`${field}.port`, port.port ?? 0, isValidPortNum(port.port)));
  causes.push(...validateProtocol(port.protocol, `${field}.protocol`));
  if (port.targetPort !== undefined) causes.push(...validatePortNumOrName(port.targetPort, `${field}.targetPort`));
  return causes;
}

function validateNodePort(nodePort: number | undefined, type: string, field: string): StatusCause[] {
  if (!nodePort) return [];
  if (type === 'ClusterIP') return [forbidden(field, "may not be used when `type` is 'ClusterIP'")];
  if (nodePort < NODE_PORT_RANGE.low || nodePort > NODE_PORT_RANGE.high) {
    return [invalid(field, nodePort, `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_RANGE.low}-${NODE_PORT_RANGE.high}`)];
  }
  return [];
}

function validateClusterIP(clusterIP: string | undefined, type: string): StatusCause[] {
  if (clusterIP === undefined || clusterIP === '') return [];
  if (type === 'ExternalName') return [forbidden('spec.clusterIP', 'may not be set for ExternalName services')];
  if (clusterIP === 'None') {
    // Why: a node port or load balancer needs a virtual IP to forward to.
    if (type === 'NodePort' || type === 'LoadBalancer') return [invalid('spec.clusterIP', clusterIP, `may not be set to 'None' for ${type} services`)];
    return [];
  }
  return isIP(clusterIP) ? [] : [invalid('spec.clusterIP', clusterIP, "must be empty, 'None', or a valid IP address")];
}

function validateExternalName(externalName: string | undefined): StatusCause[] {
  // Why trim the dot: a CNAME may be written fully qualified, `db.example.com.`.
  const name = (externalName ?? '').replace(/\.$/, '');
  if (!name) return [required('spec.externalName')];
  return eachInvalid('spec.externalName', name, isDNS1123Subdomain(name));
}

function validateEndpoints(object: KubeObject): StatusCause[] {
  return list((object as Endpoints).subsets).flatMap((subset, i) => {
    const path = `subsets[${i}]`;
    const causes: StatusCause[] = [];
    if (list(subset.addresses).length === 0 && list(subset.notReadyAddresses).length === 0) {
      causes.push(required(path, 'must specify `addresses` or `notReadyAddresses`'));
    }
    list(subset.addresses).forEach((a, j) => causes.push(...validateEndpointAddress(a.ip, a.hostname, `${path}.addresses[${j}]`)));
    list(subset.notReadyAddresses).forEach((a, j) => causes.push(...validateEndpointAddress(a.ip, a.hostname, `${path}.notReadyAddresses[${j}]`)));
    const ports = list(subset.ports);
    ports.forEach((port, j) => causes.push(...validateEndpointPort(port, `${path}.ports[${j}]`, ports.length > 1)));
    return causes;
  });
}

function validateEndpointAddress(ip: string, hostname: string | undefined, path: string): StatusCause[] {
  const causes = isIP(ip ?? '') ? [] : [invalid(`${path}.ip`, ip ?? '', 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')];
  if (hostname) causes.push(...eachInvalid(`${path}.hostname`, hostname, isDNS1123Label(hostname)));
  return causes;
}

function validateEndpointPort(port: { name?: string; port: number; protocol?: string }, path: string, nameRequired: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  if (nameRequired && !port.name) causes.push(required(`${path}.name`));
  else if (port.name) causes.push(...eachInvalid(`${path}.name`, port.name, isDNS1123Label(port.name)));
  causes.push(...eachInvalid(`${path}.port`, port.port ?? 0, isValidPortNum(port.port)));
  causes.push(...validateProtocol(port.protocol, `${path}.protocol`));
  return causes;
}

// ---- nodes, namespaces, configmaps, events, leases --------------------------

function validateNode(object: KubeObject): StatusCause[] {
  const seen = new Set<string>();
  return list((object as Node).spec?.taints).flatMap((taint, i) => {
    const causes = validateTaint(taint, `spec.taints[${i}]`);
    // Why: the scheduler and the node lifecycle controller find a taint by its key and effect, so that pair must be unique.
    const id = `${taint.key}/${taint.effect}`;
    if (seen.has(id)) causes.push({ ...duplicate(`spec.taints[${i}]`, taint), message: `Duplicate value: ${show(taint)}: taints must be unique by key and effect pair` });
    seen.add(id);
    return causes;
  });
}

function validateTaint(taint: Taint, path: string): StatusCause[] {
  const causes = eachInvalid(`${path}.key`, taint.key ?? '', isQualifiedName(taint.key ?? ''));
  const valueErrors = isValidLabelValue(taint.value ?? '');
  if (valueErrors.length > 0) causes.push(invalid(`${path}.value`, taint.value, valueErrors.join(';')));
  if (!taint.effect) causes.push(required(`${path}.effect`));
  else causes.push(...validateEnum(`${path}.effect`, taint.effect, TAINT_EFFECTS));
  return causes;
}

function validateNamespace(object: KubeObject): StatusCause[] {
  const finalizers = list((object as Namespace).spec?.finalizers);
  return finalizers.flatMap((finalizer) => validateFinalizerName(finalizer, 'spec.finalizers'));
}

/** The most a ConfigMap may hold, data and binaryData together (1 MiB). */
const MAX_CONFIG_MAP_BYTES = 1024 * 1024;

function validateConfigMap(object: KubeObject): StatusCause[] {
  const configMap = object as ConfigMap;
  const data = configMap.data ?? {};
  const binaryData = configMap.binaryData ?? {};
  const causes = [
    ...Object.keys(data).flatMap((key) => eachInvalid(`data[${key}]`, key, isConfigMapKey(key))),
    ...Object.keys(binaryData).flatMap((key) => eachInvalid(`binaryData[${key}]`, key, isConfigMapKey(key))),
  ];
  // Why: a key in both maps would give a mounted file two contents.
  for (const key of Object.keys(data)) if (Object.hasOwn(binaryData, key)) causes.push(invalid(`data[${key}]`, key, 'duplicate of key present in binaryData'));
  const size = [...Object.values(data), ...Object.values(binaryData)].reduce((total, value) => total + byteLength(String(value)), 0);
  if (size > MAX_CONFIG_MAP_BYTES) causes.push(tooLong('', MAX_CONFIG_MAP_BYTES));
  return causes;
}

function validateEvent(object: KubeObject): StatusCause[] {
  const event = object as Event;
  const namespace = event.metadata.namespace ?? '';
  const involvedNamespace = event.involvedObject?.namespace ?? '';
  const field = 'involvedObject.namespace';
  if (!event.eventTime) {
    // Why: an event about a cluster-scoped object (a Node) lives in `default`; any other must sit beside its object.
    if (involvedNamespace === '' ? namespace !== '' && namespace !== 'default' : namespace !== involvedNamespace) {
      return [invalid(field, involvedNamespace, 'does not match event.namespace')];
    }
    return [];
  }
  const causes: StatusCause[] = [];
  if (involvedNamespace === '' && namespace !== 'default' && namespace !== 'kube-system') causes.push(invalid(field, involvedNamespace, 'does not match event.namespace'));
  if (!event.reportingComponent) causes.push(required('reportingComponent'));
  if (!event.reportingInstance) causes.push(required('reportingInstance'));
  if (!(event as { action?: string }).action) causes.push(required('action'));
  if (!event.reason) causes.push(required('reason'));
  return causes;
}

function validateLease(object: KubeObject): StatusCause[] {
  const spec = (object as Lease).spec ?? {};
  const causes: StatusCause[] = [];
  if (spec.leaseDurationSeconds !== undefined && spec.leaseDurationSeconds <= 0) {
    causes.push(invalid('spec.leaseDurationSeconds', spec.leaseDurationSeconds, 'must be greater than 0'));
  }
  return [...causes, ...nonNegative('spec.leaseTransitions', spec.leaseTransitions)];
}

// ---- RBAC ------------------------------------------------------------------

const RBAC_GROUP = 'rbac.authorization.k8s.io';

function validateRole(object: KubeObject): StatusCause[] {
  const namespaced = object.kind === 'Role';
  return list((object as Role).rules).flatMap((rule, i) => validatePolicyRule(rule, namespaced, `rules[${i}]`));
}

function validatePolicyRule(rule: PolicyRule, namespaced: boolean, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  if (list(rule.verbs).length === 0) causes.push(required(`${path}.verbs`, 'verbs must contain at least one value'));
  const urls = list(rule.nonResourceURLs);
  if (urls.length > 0) {
    // Why: a URL such as /healthz belongs to no namespace, so only a ClusterRole can grant it.
    if (namespaced) causes.push(invalid(`${path}.nonResourceURLs`, urls, 'namespaced rules cannot apply to non-resource URLs'));
    if (list(rule.apiGroups).length > 0 || list(rule.resources).length > 0 || list(rule.resourceNames).length > 0) {
      causes.push(invalid(`${path}.nonResourceURLs`, urls, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return causes;
  }
  if (list(rule.apiGroups).length === 0) causes.push(required(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
  if (list(rule.resources).length === 0) causes.push(required(`${path}.resources`, 'resource rules must supply at least one resource'));
  return causes;
}

function validateRoleBinding(object: KubeObject): StatusCause[] {
  const binding = object as RoleBinding;
  const roleRef = binding.roleRef ?? ({} as RoleBinding['roleRef']);
  const namespaced = object.kind === 'RoleBinding';
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  const causes: StatusCause[] = [];
  // Why the default: an absent roleRef.apiGroup is defaulted to the RBAC group.
  const group = roleRef.apiGroup ?? RBAC_GROUP;
  if (group !== RBAC_GROUP) causes.push(notSupported('roleRef.apiGroup', group, [RBAC_GROUP]));
  if (!kinds.includes(roleRef.kind)) causes.push(notSupported('roleRef.kind', roleRef.kind ?? '', kinds));
  if (!roleRef.name) causes.push(required('roleRef.name'));
  else causes.push(...eachInvalid('roleRef.name', roleRef.name, isPathSegmentName(roleRef.name)));
  list(binding.subjects).forEach((subject, i) => causes.push(...validateSubject(subject, namespaced, `subjects[${i}]`)));
  return causes;
}

function validateSubject(subject: Subject, namespaced: boolean, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!subject.name) causes.push(required(`${path}.name`));
  if (subject.kind === 'ServiceAccount') {
    if (subject.name) causes.push(...eachInvalid(`${path}.name`, subject.name, isDNS1123Subdomain(subject.name)));
    if (subject.apiGroup) causes.push(notSupported(`${path}.apiGroup`, subject.apiGroup, ['']));
    // Why: a ClusterRoleBinding has no namespace of its own to find the ServiceAccount in.
    if (!namespaced && !subject.namespace) causes.push(required(`${path}.namespace`));
  } else if (subject.kind === 'User' || subject.kind === 'Group') {
    const group = subject.apiGroup ?? RBAC_GROUP;
    if (group !== RBAC_GROUP) causes.push(notSupported(`${path}.apiGroup`, group, [RBAC_GROUP]));
  } else {
    causes.push(notSupported(`${path}.kind`, subject.kind ?? '', ['ServiceAccount', 'User', 'Group']));
  }
  return causes;
}

// ---- create ----------------------------------------------------------------

// #region validators
/** Each kind's own checks, run after the metadata checks every object gets. */
const VALIDATORS: Record<string, (object: KubeObject) => StatusCause[]> = {
  Pod: (object) => validatePodSpec((object as Pod).spec, 'spec'),
  Deployment: validateDeployment,
  ReplicaSet: validateReplicaSet,
  Job: validateJob,
  Service: validateService,
  Endpoints: validateEndpoints,
  Node: validateNode,
  Namespace: validateNamespace,
  ConfigMap: validateConfigMap,
  Event: validateEvent,
  Lease: validateLease,
  Role: validateRole,
  ClusterRole: validateRole,
  RoleBinding: validateRoleBinding,
  ClusterRoleBinding: validateRoleBinding,
};
// #endregion validators

/**
 * Everything wrong with an object about to be created, as StatusCauses for a
 * 422 Invalid; an empty list means it may be stored. Expects the namespace
 * to be set from the URL already, as the real server does before validating.
 */
export function validateObject(resource: ResourceInfo, obj: KubeObject, subdomain?: SubdomainCheck): StatusCause[] {
  const meta = obj.metadata ?? {};
  return [...validateObjectMeta(resource, meta, subdomain), ...(VALIDATORS[resource.kind]?.(obj) ?? [])];
}

// ---- update ----------------------------------------------------------------

const IMMUTABLE = 'field is immutable';

/** Compares two values as JSON, so that a field left out and a field set to undefined are the same, and key order does not matter. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  const keys = definedKeys(a);
  return keys.length === definedKeys(b).length && keys.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function definedKeys(value: object): string[] {
  return Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined);
}

/** Identity fields never change; a field left out of an update keeps the stored value, as the server fills it in. */
function validateMetaUpdate(meta: ObjectMeta, old: ObjectMeta): StatusCause[] {
  const fields = ['name', 'namespace', 'uid', 'creationTimestamp'] as const;
  return fields
    .filter((f) => meta[f] !== undefined && meta[f] !== '' && old[f] !== undefined && meta[f] !== old[f])
    .map((f) => invalid(`metadata.${f}`, meta[f], IMMUTABLE));
}

function validateSelectorUnchanged(spec: { selector?: LabelSelector } | undefined, old: { selector?: LabelSelector } | undefined): StatusCause[] {
  // Why: a controller's selector defines which pods it owns; changing it would orphan them or adopt strangers.
  return sameJson(spec?.selector, old?.selector) ? [] : [invalid('spec.selector', goSelector(spec?.selector), IMMUTABLE)];
}

function validateJobUpdate(job: Job, old: Job): StatusCause[] {
  const causes = validateSelectorUnchanged(job.spec, old.spec);
  if (!sameJson(job.spec?.template, old.spec?.template)) causes.push(invalid('spec.template', new GoText('core.PodTemplateSpec{...}'), IMMUTABLE));
  if ((job.spec?.completionMode ?? 'NonIndexed') === 'NonIndexed' && job.spec?.completions !== old.spec?.completions) {
    causes.push(invalid('spec.completions', job.spec?.completions ?? null, IMMUTABLE));
  }
  if (job.spec?.completionMode !== old.spec?.completionMode) causes.push(invalid('spec.completionMode', job.spec?.completionMode ?? null, IMMUTABLE));
  return causes;
}

/**
 * A Service keeps the cluster IP it was given: kube-proxy rules and DNS
 * records point at it. An update that leaves clusterIP out keeps the old one
 * (the registry copies it over); only a different value is refused.
 */
function validateServiceUpdate(service: Service, old: Service): StatusCause[] {
  const ips = primaryClusterIPs(service);
  const oldIPs = primaryClusterIPs(old);
  if (ips.length === 0 || oldIPs.length === 0 || ips[0] === oldIPs[0]) return [];
  return [invalid('spec.clusterIPs[0]', ips, 'may not change once set')];
}

function primaryClusterIPs(service: Service): string[] {
  const ips = list(service.spec?.clusterIPs);
  if (ips.length > 0) return ips;
  return service.spec?.clusterIP ? [service.spec.clusterIP] : [];
}

function validateRoleRefUpdate(binding: RoleBinding, old: RoleBinding): StatusCause[] {
  if (sameJson(binding.roleRef, old.roleRef)) return [];
  const { apiGroup = '', kind = '', name = '' } = binding.roleRef ?? {};
  // Why: a binding's meaning is its role; pointing it at another role is a new binding, so delete and create instead.
  return [invalid('roleRef', new GoText(`rbac.RoleRef{APIGroup:${JSON.stringify(apiGroup)}, Kind:${JSON.stringify(kind)}, Name:${JSON.stringify(name)}}`), 'cannot change roleRef')];
}

/** The fields of a running pod's spec that an update may change, named as the real message names them. */
const UPDATABLE_POD_SPEC_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

/**
 * A pod is a running thing, not a wish: the kubelet has already started its
 * containers from this spec, so almost nothing in it may change. The check
 * copies the old values of the few fields that may change into the new spec,
 * and then demands that what is left is identical.
 */
function validatePodUpdate(spec: PodSpec | undefined, old: PodSpec | undefined): StatusCause[] {
  const next = spec ?? ({ containers: [] } as PodSpec);
  const previous = old ?? ({ containers: [] } as PodSpec);
  if (list(next.containers).length !== list(previous.containers).length) return [forbidden('spec.containers', 'pod updates may not add or remove containers')];
  const causes = [...validateActiveDeadlineUpdate(next, previous), ...validateTolerationsUpdate(next, previous)];
  if (causes.length > 0) return causes;
  const munged = withUpdatableFieldsFrom(next, previous);
  if (sameJson(munged, previous)) return [];
  return [forbidden('spec', `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS.join(',')}\n${describeChanges(previous, munged)}`)];
}

function withUpdatableFieldsFrom(spec: PodSpec, old: PodSpec): PodSpec {
  const copyImages = (containers: Container[] | undefined, oldContainers: Container[] | undefined): Container[] | undefined =>
    containers?.map((c, i) => ({ ...c, image: oldContainers?.[i]?.image ?? c.image }));
  const grace = spec.terminationGracePeriodSeconds;
  const oldGrace = old.terminationGracePeriodSeconds;
  return {
    ...spec,
    containers: copyImages(spec.containers, old.containers) ?? [],
    initContainers: copyImages(spec.initContainers, old.initContainers),
    activeDeadlineSeconds: old.activeDeadlineSeconds,
    tolerations: old.tolerations,
    // Why: a negative grace period was once allowed; the only repair permitted is setting it to 1.
    terminationGracePeriodSeconds: oldGrace !== undefined && oldGrace < 0 && grace === 1 ? oldGrace : grace,
  };
}

/** One `-`/`+` pair of lines per top-level spec field that differs, standing in for the real message's struct diff. */
function describeChanges(old: PodSpec, next: PodSpec): string {
  const keys = [...new Set([...Object.keys(old), ...Object.keys(next)])].sort();
  return keys
    .filter((key) => !sameJson(old[key], next[key]))
    .map((key) => `- ${key}: ${JSON.stringify(old[key]) ?? '<unset>'}\n+ ${key}: ${JSON.stringify(next[key]) ?? '<unset>'}`)
    .join('\n');
}

function validateActiveDeadlineUpdate(spec: PodSpec, old: PodSpec): StatusCause[] {
  const field = 'spec.activeDeadlineSeconds';
  const next = spec.activeDeadlineSeconds as number | undefined;
  const previous = old.activeDeadlineSeconds as number | undefined;
  if (next === undefined) return previous === undefined ? [] : [invalid(field, null, 'must not update from a positive integer to nil value')];
  if (next < 0 || next > MAX_INT32) return [invalid(field, next, `must be between 0 and ${MAX_INT32}, inclusive`)];
  // Why: a deadline may be shortened, never extended.
  if (previous !== undefined && previous < next) return [invalid(field, next, 'must be less than or equal to previous value')];
  return [];
}

function validateTolerationsUpdate(spec: PodSpec, old: PodSpec): StatusCause[] {
  const next = list(spec.tolerations);
  // Why: existing tolerations may only gain new neighbours or change their tolerationSeconds.
  const kept = list(old.tolerations).every((o) => next.some((n) => sameJson({ ...o, tolerationSeconds: n.tolerationSeconds }, n)));
  return kept ? [] : [forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds')];
}

// #region update-rules
/** Each kind's rules about what an update may not change. */
const UPDATE_VALIDATORS: Record<string, (object: KubeObject, old: KubeObject) => StatusCause[]> = {
  Pod: (object, old) => validatePodUpdate((object as Pod).spec, (old as Pod).spec),
  Deployment: (object, old) => validateSelectorUnchanged((object as Workload).spec, (old as Workload).spec),
  ReplicaSet: (object, old) => validateSelectorUnchanged((object as Workload).spec, (old as Workload).spec),
  Job: (object, old) => validateJobUpdate(object as Job, old as Job),
  Service: (object, old) => validateServiceUpdate(object as Service, old as Service),
  RoleBinding: (object, old) => validateRoleRefUpdate(object as RoleBinding, old as RoleBinding),
  ClusterRoleBinding: (object, old) => validateRoleRefUpdate(object as RoleBinding, old as RoleBinding),
};
// #endregion update-rules

/**
 * Everything wrong with an update: the create checks on the new object, the
 * identity fields of metadata, and each kind's immutable fields
 * (`spec.selector` of a Deployment, a running Pod's spec, …).
 */
export function validateUpdate(resource: ResourceInfo, obj: KubeObject, old: KubeObject, subdomain?: SubdomainCheck): StatusCause[] {
  return [
    ...validateObject(resource, obj, subdomain),
    ...validateMetaUpdate(obj.metadata ?? {}, old.metadata ?? {}),
    ...(UPDATE_VALIDATORS[resource.kind]?.(obj, old) ?? []),
  ];
}
