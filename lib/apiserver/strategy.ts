/**
 * What the API server does to an object before it is stored, per kind: the
 * fields it sets on create (uid, creationTimestamp, generation, a fresh
 * status), what an update may and may not change (status goes only through
 * the `status` subresource, spec changes bump `generation`), and how the
 * `scale` subresource maps onto a Deployment or ReplicaSet. These are the
 * "strategies" of kube-apiserver's registry, one small function each.
 */
import { randomUUID } from 'node:crypto';
import type { KubeObject, Scale } from '../api/types.ts';
import { formatLabelRequirements, labelSelectorFromSpec } from './selectors.ts';
import type { ResourceInfo } from './resources.ts';
import { badRequest, invalid } from './status.ts';
import type { LabelSelector } from '../api/types.ts';

/** Kinds whose `generation` counts spec changes (what `observedGeneration` in status is compared with). */
const GENERATION_KINDS = new Set(['Deployment', 'ReplicaSet', 'Job']);

/** The status an object starts with, per kind; kinds not listed keep what the client sent (a kubelet registers its Node with status). */
const INITIAL_STATUS: Record<string, () => Record<string, unknown>> = {
  Pod: () => ({ phase: 'Pending' }),
  Deployment: () => ({}),
  ReplicaSet: () => ({ replicas: 0 }),
  Job: () => ({}),
  Service: () => ({ loadBalancer: {} }),
  Namespace: () => ({ phase: 'Active' }),
};

/** Timestamps as the API writes them: RFC 3339, whole seconds, UTC. */
export function timestamp(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** A name from `generateName`: the prefix plus five random characters, as the real name generator makes them. */
export function generateName(prefix: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
  return `${prefix.slice(0, 58)}${suffix}`;
}

/**
 * A copy of a JSON value, which is all an API object holds. Why not
 * structuredClone: it handles types an API object never has (dates, maps,
 * cycles), and that costs several times more on every write.
 */
export function deepCopy<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(deepCopy) as T;
  const copy: Record<string, unknown> = {};
  for (const key in value) if (Object.hasOwn(value, key)) copy[key] = deepCopy((value as Record<string, unknown>)[key]);
  return copy as T;
}

// #region prepare-create
/** The object as it will be created: server-set metadata, a fresh status, generation 1. */
export function prepareForCreate(info: ResourceInfo, input: KubeObject, namespace: string, now: number): KubeObject {
  const object = deepCopy(input);
  const metadata = object.metadata;
  if (!metadata.name && metadata.generateName) metadata.name = generateName(metadata.generateName);
  if (info.namespaced) metadata.namespace = namespace;
  else delete metadata.namespace;
  metadata.uid = randomUUID();
  metadata.creationTimestamp = timestamp(now);
  delete metadata.deletionTimestamp;
  delete metadata.deletionGracePeriodSeconds;
  if (GENERATION_KINDS.has(info.kind)) metadata.generation = 1;
  else delete metadata.generation;
  const initial = INITIAL_STATUS[info.kind];
  // Why reset status: it reports what controllers and kubelets observed, and
  // a client creating an object has observed nothing yet.
  if (initial) object.status = initial();
  return object;
}
// #endregion prepare-create

// #region prepare-update
/**
 * The object as an update of the main resource will store it: the server's
 * metadata kept from the stored copy, status kept too (it changes only
 * through `/status`), and generation bumped when spec changed.
 */
export function prepareForUpdate(info: ResourceInfo, input: KubeObject, current: KubeObject): KubeObject {
  const object = deepCopy(input);
  keepServerMetadata(object, current);
  if ('status' in current || INITIAL_STATUS[info.kind]) object.status = deepCopy(current.status);
  if (object.status === undefined) delete object.status;
  if (GENERATION_KINDS.has(info.kind)) {
    const changed = JSON.stringify(object.spec) !== JSON.stringify(current.spec);
    object.metadata.generation = (current.metadata.generation ?? 1) + (changed ? 1 : 0);
  }
  return object;
}

/** The object as a `/status` update will store it: only status (and annotations) taken from the input. */
export function prepareForStatusUpdate(input: KubeObject, current: KubeObject): KubeObject {
  const object = deepCopy(current);
  object.status = deepCopy(input.status);
  if (input.metadata.annotations) object.metadata.annotations = deepCopy(input.metadata.annotations);
  object.metadata.resourceVersion = input.metadata.resourceVersion ?? current.metadata.resourceVersion;
  return object;
}
// #endregion prepare-update

/** Fields only the server sets: a client's copy cannot change them. */
function keepServerMetadata(object: KubeObject, current: KubeObject): void {
  const m = object.metadata;
  const c = current.metadata;
  m.uid = c.uid;
  m.creationTimestamp = c.creationTimestamp;
  if (c.deletionTimestamp) m.deletionTimestamp = c.deletionTimestamp;
  else delete m.deletionTimestamp;
  if (c.deletionGracePeriodSeconds !== undefined) m.deletionGracePeriodSeconds = c.deletionGracePeriodSeconds;
  else delete m.deletionGracePeriodSeconds;
  if (c.generation !== undefined) m.generation = c.generation;
  if (m.managedFields === undefined && c.managedFields) m.managedFields = c.managedFields;
}

/**
 * 400 when the object in the body names another object than the URL (name
 * or namespace). A namespaced object that names no namespace takes the URL's,
 * as the real server fills it in.
 */
export function checkIdentity(info: ResourceInfo, input: KubeObject, namespace: string, name: string): void {
  const bodyName = input.metadata.name;
  if (name && bodyName && bodyName !== name) {
    throw badRequest(`the name of the object (${bodyName}) does not match the name on the URL (${name})`);
  }
  const bodyNamespace = input.metadata.namespace;
  if (info.namespaced && bodyNamespace && bodyNamespace !== namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  if (info.namespaced && !bodyNamespace) input.metadata.namespace = namespace;
}

// #region scale
/** The autoscaling/v1 Scale of a Deployment or ReplicaSet: its replica count, desired and current. */
export function toScale(object: KubeObject): Scale {
  const spec = (object.spec ?? {}) as { replicas?: number; selector?: LabelSelector };
  const status = (object.status ?? {}) as { replicas?: number };
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: {
      name: object.metadata.name,
      namespace: object.metadata.namespace,
      uid: object.metadata.uid,
      resourceVersion: object.metadata.resourceVersion,
      creationTimestamp: object.metadata.creationTimestamp,
    },
    spec: { replicas: spec.replicas ?? 0 },
    status: { replicas: status.replicas ?? 0, selector: spec.selector ? formatLabelRequirements(labelSelectorFromSpec(spec.selector)) : '' },
  };
}

/** The Deployment or ReplicaSet with the replica count a Scale asks for. */
export function fromScale(scale: KubeObject, current: KubeObject): KubeObject {
  const replicas = (scale.spec as { replicas?: unknown } | undefined)?.replicas;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw invalid('Scale', 'autoscaling', current.metadata.name ?? '', [
      { reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` },
    ]);
  }
  const object = deepCopy(current);
  (object.spec as { replicas?: number }).replicas = replicas;
  object.metadata.resourceVersion = scale.metadata.resourceVersion || current.metadata.resourceVersion;
  return object;
}
// #endregion scale
