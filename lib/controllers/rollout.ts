/**
 * The arithmetic of a rolling update, apart from any API call: how far the
 * new ReplicaSet may grow (maxSurge above the desired count) and how many
 * old Pods may go (keeping maxUnavailable below it). The Deployment
 * controller calls `rollingUpdateStep` once per reconcile and carries out
 * what it returns; each resulting Pod change wakes it for the next step.
 */
import type { Deployment, PodTemplateSpec, ReplicaSet } from '../api/types.ts';

/** An int-or-percent field such as maxSurge: 1, or "25%". */
export type IntOrPercent = number | string;

// #region int-or-percent
/** The number an int-or-percent stands for out of `total`, rounding a percentage up or down. */
export function resolveIntOrPercent(value: IntOrPercent | undefined, total: number, roundUp: boolean): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  const match = /^(\d+)%$/.exec(value);
  if (!match) {
    // Why accept "3": JSON from some clients carries an int-or-string integer as a string.
    if (/^\d+$/.test(value)) return Number(value);
    throw new Error(`expected an integer or a percentage such as "25%", got ${JSON.stringify(value)}`);
  }
  const exact = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** maxSurge and maxUnavailable as Pod counts: surge rounds up, unavailable down, and both 0 becomes unavailable 1 (upstream's ResolveFenceposts). */
export function resolveFenceposts(maxSurge: IntOrPercent | undefined, maxUnavailable: IntOrPercent | undefined, replicas: number): { surge: number; unavailable: number } {
  const surge = resolveIntOrPercent(maxSurge, replicas, true);
  const unavailable = resolveIntOrPercent(maxUnavailable, replicas, false);
  // Why: with no room above and none below, no step could ever be taken; upstream lets one Pod be unavailable.
  if (surge === 0 && unavailable === 0) return { surge, unavailable: 1 };
  return { surge, unavailable };
}
// #endregion int-or-percent

// #region rolling-update-step
/** What one rolling-update step looks at. */
export interface RollingUpdateInput {
  /** The Deployment's spec.replicas. */
  replicas: number;
  maxSurge: IntOrPercent;
  maxUnavailable: IntOrPercent;
  /** The new ReplicaSet's size now (its spec.replicas), and how many of its Pods are available. */
  newReplicas: number;
  newAvailable: number;
  /** The old ReplicaSets' Pods together, and how many of them are available. */
  oldReplicas: number;
  oldAvailable: number;
}

/** The sizes of one step. */
export interface RollingUpdateStep {
  /** The size the new ReplicaSet should have after this step. */
  newReplicas: number;
  /** How many old Pods may be removed in this step (unavailable ones first). */
  scaleDownOld: number;
}

// #region rolling-update-arithmetic
/**
 * Exercise 3.3: one step of a rolling update. The new ReplicaSet grows while
 * the total stays within replicas + maxSurge; old Pods go while the
 * available Pods stay at or above replicas - maxUnavailable.
 */
export function rollingUpdateStep(input: RollingUpdateInput): RollingUpdateStep {
  const { replicas, newReplicas, newAvailable, oldReplicas, oldAvailable } = input;
  const { surge, unavailable } = resolveFenceposts(input.maxSurge, input.maxUnavailable, replicas);
  const total = newReplicas + oldReplicas;

  // Scale up: room under the ceiling, but never past the desired count (and down to it after a scale-down).
  const maxTotal = replicas + surge;
  const room = Math.max(0, maxTotal - total);
  const grownNew = newReplicas >= replicas ? replicas : newReplicas + Math.min(room, replicas - newReplicas);

  // Scale down: what may go while minAvailable Pods remain, not counting new Pods that are not available yet.
  const minAvailable = replicas - unavailable;
  const newUnavailable = Math.max(0, newReplicas - newAvailable);
  const maxScaledDown = total - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return { newReplicas: grownNew, scaleDownOld: 0 };
  // Why unavailable old Pods first: removing them costs no availability at all.
  const unhealthy = Math.min(oldReplicas - oldAvailable, maxScaledDown);
  const healthy = Math.max(0, Math.min(newAvailable + oldAvailable - minAvailable, maxScaledDown - unhealthy, oldAvailable));
  return { newReplicas: grownNew, scaleDownOld: Math.min(oldReplicas, unhealthy + healthy) };
}
// #endregion rolling-update-arithmetic
// #endregion rolling-update-step

// ---- ReplicaSets of a Deployment ----------------------------------------------

/** The label that ties a ReplicaSet and its Pods to one version of a Deployment's template. */
export const POD_TEMPLATE_HASH = 'pod-template-hash';
/** Annotations the Deployment controller keeps on its ReplicaSets (and the revision on the Deployment too). */
export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';

/**
 * JSON with object keys sorted, so that equal objects give equal text
 * whatever order their fields were written in. Fields that are null, {} or
 * [] are left out, as Go sees no difference between them and a missing
 * field: `kubectl rollout undo` sends back a template with
 * `creationTimestamp: null` and `resources: {}` that the ReplicaSet's copy
 * does not have, and it must still be recognised as the same template.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalize(value) ?? null);
}

/** The value with object keys sorted and empty fields dropped; undefined when nothing is left. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map((item) => normalize(item) ?? null);
    return items.length > 0 ? items : undefined;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const inner = normalize((value as Record<string, unknown>)[key]);
      if (inner !== undefined) out[key] = inner;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return value === null ? undefined : value;
}

// #region template-hash
/** The characters rand.SafeEncodeString maps onto: no vowels (no words by accident) and no look-alikes such as 0/o, 1/l, 3/e. */
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** FNV-32a, the hash upstream's ComputeHash feeds the template into. */
export function fnv32a(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * The pod-template-hash of a template, as upstream's ComputeHash shapes it:
 * FNV-32a over the template (here its canonical JSON, where upstream uses
 * Go's DeepHashObject), plus the collisionCount when there is one; the
 * decimal number is then spelled in SAFE_ALPHABET, e.g. "7d9f8c6b54".
 */
export function computeHash(template: PodTemplateSpec, collisionCount?: number): string {
  const bytes = [...new TextEncoder().encode(canonicalJson(template))];
  // Why the collision count: when a ReplicaSet of the same name but another template exists, a new count gives a new name.
  if (collisionCount !== undefined) for (let i = 0; i < 4; i++) bytes.push((collisionCount >>> (8 * i)) & 0xff);
  return [...String(fnv32a(Uint8Array.from(bytes)))].map((digit) => SAFE_ALPHABET[digit.charCodeAt(0) % SAFE_ALPHABET.length]).join('');
}
// #endregion template-hash

/** A template without the pod-template-hash label, to compare a ReplicaSet's template with its Deployment's. */
function withoutHash(template: PodTemplateSpec | undefined): PodTemplateSpec | undefined {
  if (!template) return undefined;
  const copy = structuredClone(template);
  if (copy.metadata?.labels) {
    delete copy.metadata.labels[POD_TEMPLATE_HASH];
    if (Object.keys(copy.metadata.labels).length === 0) delete copy.metadata.labels;
  }
  return copy;
}

/** Whether a ReplicaSet runs exactly the Deployment's current template (upstream's EqualIgnoreHash). */
export function templateMatches(rs: ReplicaSet, template: PodTemplateSpec): boolean {
  return canonicalJson(withoutHash(rs.spec.template)) === canonicalJson(withoutHash(template));
}

/** The ReplicaSet of the current template — the oldest one if several match — or undefined (upstream's FindNewReplicaSet). */
export function findNewReplicaSet(deployment: Deployment, replicaSets: readonly ReplicaSet[]): ReplicaSet | undefined {
  const matching = replicaSets.filter((rs) => templateMatches(rs, deployment.spec.template));
  return matching.sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''))[0];
}

/** A ReplicaSet's revision number (0 when it has none). */
export function revisionOf(obj: { metadata: { annotations?: Record<string, string> } }): number {
  return Number(obj.metadata.annotations?.[REVISION] ?? 0) || 0;
}

// #region plan-scale-down
/** Spreads `count` removals over the old ReplicaSets: their unavailable Pods first, then the oldest ReplicaSets first. */
export function planScaleDown(old: ReadonlyArray<{ name: string; replicas: number; available: number; created: string }>, count: number): Map<string, number> {
  const target = new Map(old.map((rs) => [rs.name, rs.replicas]));
  let left = count;
  for (const rs of old) {
    const take = Math.min(left, Math.max(0, rs.replicas - rs.available));
    target.set(rs.name, rs.replicas - take);
    left -= take;
  }
  for (const rs of [...old].sort((a, b) => a.created.localeCompare(b.created))) {
    const take = Math.min(left, target.get(rs.name) ?? 0);
    target.set(rs.name, (target.get(rs.name) ?? 0) - take);
    left -= take;
  }
  return target;
}
// #endregion plan-scale-down

// #region proportional-scaling
/**
 * Proportional scaling (upstream's DeploymentController.scale): when
 * spec.replicas changes in the middle of a rollout, the difference between
 * what is allowed (replicas + maxSurge) and what the active ReplicaSets hold
 * is shared among them in proportion to their sizes; what rounding leaves
 * over goes to the largest. Returns the new size of each.
 */
export function proportionalScale(sets: ReadonlyArray<{ name: string; replicas: number; created: string }>, allowed: number): Map<string, number> {
  const sizes = new Map(sets.map((rs) => [rs.name, rs.replicas]));
  const current = sets.reduce((sum, rs) => sum + rs.replicas, 0);
  const toAdd = allowed - current;
  if (toAdd === 0 || current === 0) return sizes;
  // Why larger first: the largest ReplicaSet takes the leftover; among equals, newer ones grow first and older ones shrink first.
  const byAge = (a: { created: string }, b: { created: string }) => (toAdd > 0 ? b.created.localeCompare(a.created) : a.created.localeCompare(b.created));
  const sorted = [...sets].sort((a, b) => b.replicas - a.replicas || byAge(a, b));
  let added = 0;
  for (const rs of sorted) {
    const share = Math.round((rs.replicas * toAdd) / current);
    const bounded = toAdd > 0 ? Math.min(share, toAdd - added) : Math.max(share, toAdd - added);
    sizes.set(rs.name, Math.max(0, rs.replicas + bounded));
    added += bounded;
  }
  const first = sorted[0];
  if (first && added !== toAdd) sizes.set(first.name, Math.max(0, (sizes.get(first.name) ?? 0) + toAdd - added));
  return sizes;
}
// #endregion proportional-scaling
