/**
 * `kubectl apply -f`: make the cluster look like the files. For each object:
 * GET it; if it is absent, POST it; if it is there, work out what changed
 * and PATCH only that, or send nothing at all when nothing changed.
 *
 * "What changed" needs three versions of the object: what the user applied
 * last time (kept on the object itself, in the annotation
 * `kubectl.kubernetes.io/last-applied-configuration`), what the user applies
 * now, and what is live on the server (where controllers and the API server
 * have added fields of their own). A field the user removed since last time is
 * deleted; a field someone else added is left alone.
 *
 * `--server-side` hands all of that to the API server instead: one PATCH of
 * type apply-patch+yaml, and the server merges and records who owns each field.
 */
import type { KubeObject, ObjectMeta } from '../../api/types.ts';
import type { ResourceInfo } from '../../apiserver/resources.ts';
import { isNotFound, resourcePath } from '../client.ts';
import { loadManifests, type Manifest } from '../manifests.ts';
import { UsageError, type FlagSpec } from './args.ts';
import { namespaceFor, resourceNoun, resourceOf, type Command, type CommandContext } from './common.ts';

/** Where client-side apply keeps what the user applied last time. */
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** The field manager the API server records for client-side apply's writes, as for the real kubectl. */
export const CLIENT_SIDE_FIELD_MANAGER = 'kubectl-client-side-apply';

/** The field manager of `--server-side`: the owner of every field these applies set. */
export const SERVER_SIDE_FIELD_MANAGER = 'kubectl-workbook';

/** What apply did to one object; printed after its name. */
export type ApplyResult = 'created' | 'configured' | 'unchanged' | 'serverside-applied';

const FLAGS: FlagSpec[] = [
  { name: 'filename', short: 'f', type: 'list', description: 'A manifest file, a folder of them, or - for stdin.' },
  { name: 'server-side', type: 'boolean', description: 'Let the API server merge (server-side apply).' },
  { name: 'force-conflicts', type: 'boolean', description: 'With --server-side: take over fields another manager owns.' },
];

/** `apply -f FILE|DIR|-`: create or update objects so they match the manifests. */
export const applyCommand: Command = {
  name: 'apply',
  summary: 'Apply a configuration to resources from files or stdin',
  usage: 'apply -f FILE|DIR|- [-n NS] [--server-side [--force-conflicts]]',
  flags: FLAGS,
  async run(args, ctx) {
    const paths = args.list('filename');
    if (paths.length === 0) throw new UsageError('expected -f FILE, a folder or - (stdin), got none');
    const manifests: Manifest[] = [];
    for (const path of paths) manifests.push(...(await loadManifests(path, ctx.stdin)));
    for (const manifest of manifests) {
      const { info, name, result } = args.bool('server-side')
        ? await serverSideApply(manifest, ctx, args.bool('force-conflicts'))
        : await clientSideApply(manifest, ctx);
      ctx.out.write(`${resourceNoun(info)}/${name} ${result}\n`);
    }
  },
};

interface Applied {
  info: ResourceInfo;
  name: string;
  result: ApplyResult;
}

// #region client-side-apply
/** GET, then POST if absent, or PATCH only what changed, or nothing. */
export async function clientSideApply(manifest: Manifest, ctx: CommandContext): Promise<Applied> {
  const { info, name, namespace, object } = prepare(manifest, ctx);
  const desired = withLastApplied(object);
  const live = await getIfExists(ctx, info, namespace, name);
  const query = { fieldManager: CLIENT_SIDE_FIELD_MANAGER, fieldValidation: 'Strict' };
  if (!live) {
    await ctx.client.request({ method: 'POST', path: resourcePath(info, namespace), query, body: desired });
    return { info, name, result: 'created' };
  }
  const patch = threeWayMergePatch(lastApplied(live), desired, live);
  if (!patch) return { info, name, result: 'unchanged' };
  // The real kubectl sends a strategic merge patch here, which merges lists
  // such as containers by name. This sends a JSON merge patch (RFC 7386),
  // which replaces a changed list whole: simpler, and the same result for the
  // lists a user writes, because the server fills defaults in again.
  const contentType = 'application/merge-patch+json';
  await ctx.client.request({ method: 'PATCH', path: resourcePath(info, namespace, name), query, body: patch, contentType });
  return { info, name, result: 'configured' };
}
// #endregion client-side-apply

/** `--server-side`: one PATCH of type apply; the server creates or merges, and records field owners. */
export async function serverSideApply(manifest: Manifest, ctx: CommandContext, force: boolean): Promise<Applied> {
  const { info, name, object } = prepare(manifest, ctx);
  await ctx.client.apply(info, object, { fieldManager: SERVER_SIDE_FIELD_MANAGER, force: force || undefined });
  return { info, name, result: 'serverside-applied' };
}

/** The resource, name and namespace of a manifest's object, and the object with its namespace filled in. */
function prepare(manifest: Manifest, ctx: CommandContext): { info: ResourceInfo; name: string; namespace: string | undefined; object: KubeObject } {
  const where = `document ${manifest.document} of ${manifest.source}`;
  const info = resourceOf(manifest.object, where);
  const name = manifest.object.metadata.name;
  // Why: apply finds the object again by name next time; a generated name would make a new object each time.
  if (!name) throw new Error(`expected metadata.name for apply in ${where}, got only generateName (use create for that)`);
  const namespace = namespaceFor(info, manifest.object, ctx);
  const metadata = { ...manifest.object.metadata };
  if (namespace) metadata.namespace = namespace;
  else delete metadata.namespace; // Why: a cluster-scoped kind (a Namespace, a Node) has no namespace to keep.
  return { info, name, namespace, object: { ...manifest.object, metadata } };
}

async function getIfExists(ctx: CommandContext, info: ResourceInfo, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
  try {
    return await ctx.client.get(info, namespace, name);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

// ---- the last-applied annotation ---------------------------------------------

/**
 * The object with the annotation that records it: the object itself (minus
 * that annotation) as JSON, keys sorted, so the same file gives the same text.
 */
export function withLastApplied(object: KubeObject): KubeObject {
  const annotations = { ...object.metadata.annotations };
  delete annotations[LAST_APPLIED];
  const metadata: ObjectMeta = { ...object.metadata };
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  else delete metadata.annotations;
  const record = `${JSON.stringify(sortKeys({ ...object, metadata }))}\n`;
  return { ...object, metadata: { ...object.metadata, annotations: { ...annotations, [LAST_APPLIED]: record } } };
}

/** What the user applied last time, read back from the live object; undefined if never applied. */
export function lastApplied(live: KubeObject): Record<string, unknown> | undefined {
  const text = live.metadata.annotations?.[LAST_APPLIED];
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : undefined;
  } catch {
    // Why not fail: someone edited the annotation by hand; a two-way diff (no deletions) is still safe.
    return undefined;
  }
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys(value[key])]));
}

// ---- the three-way merge -------------------------------------------------------

// #region three-way-merge
/**
 * The merge patch that takes `live` to what the user wants now, or undefined
 * when there is nothing to send. For each field the user wrote:
 *   - a map is compared field by field, recursively;
 *   - anything else is sent when the live value does not hold it.
 * For each field the user wrote last time and has now removed, `null` is sent
 * (in a merge patch, null deletes). Fields only the live object has, such as
 * status, uid or defaults the server filled in, are never touched.
 */
export function threeWayMergePatch(
  last: Record<string, unknown> | undefined,
  desired: Record<string, unknown>,
  live: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const patch: Record<string, unknown> = {};
  for (const [key, want] of Object.entries(desired)) {
    const was = last?.[key];
    const now = live[key];
    if (isObject(want) && isObject(now)) {
      const inner = threeWayMergePatch(isObject(was) ? was : undefined, want, now);
      if (inner) patch[key] = inner;
    } else if (!unchanged(was, want, now)) {
      patch[key] = want;
    }
  }
  for (const key of Object.keys(last ?? {})) {
    if (!(key in desired) && key in live) patch[key] = null;
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}
// #endregion three-way-merge

/**
 * Whether a field the user wrote needs no patch. The live value must hold
 * it: for a list of containers, the server has added defaults to each item,
 * so "holds" means every field the user wrote is there with that value. And
 * for a list, the user must not have changed it since last time: a field
 * removed from an item shows only as a difference from the last apply.
 */
function unchanged(was: unknown, want: unknown, now: unknown): boolean {
  if (!holds(now, want)) return false;
  if (Array.isArray(want) && was !== undefined) return sameJson(was, want);
  return true;
}

/** Whether `live` has every field of `wanted`, with the same values (lists item by item, same length). */
function holds(live: unknown, wanted: unknown): boolean {
  if (Array.isArray(wanted)) {
    return Array.isArray(live) && live.length === wanted.length && wanted.every((item, i) => holds(live[i], item));
  }
  if (isObject(wanted)) return isObject(live) && Object.entries(wanted).every(([key, value]) => holds(live[key], value));
  return live === wanted;
}

/** Equal as JSON, whatever the order of keys (the annotation keeps them sorted, a file may not). */
function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
