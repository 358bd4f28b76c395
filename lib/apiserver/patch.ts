/**
 * The ways a client changes an object without sending all of it, as the API
 * server applies them: JSON merge patch (RFC 7386), JSON patch (RFC 6902),
 * strategic merge patch (what `kubectl apply` and `kubectl patch` send), and
 * server-side apply with field ownership recorded in `metadata.managedFields`.
 *
 * Every function here is pure: it never changes its inputs and does no I/O.
 * The schema (schema.ts) says which lists merge and by which key.
 */
import type { KubeObject, ManagedFieldsEntry, StatusCause } from '../api/types.ts';
import { resourceForKind } from './resources.ts';
import { childSchema, isAtomic, listMapKeysOf, listStrategyAt, listTypeOf, schemaForKind, type ListNode, type ListStrategy, type SchemaNode } from './schema.ts';
import { ApiError, badRequest } from './status.ts';
import { deepCopy } from './strategy.ts';

type JsonObject = Record<string, unknown>;

const ANY: SchemaNode = { type: 'any' };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Equality of two JSON values: same type, same members, key order ignored. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
}

function copy<T>(value: T): T {
  return deepCopy(value);
}

// ---- JSON merge patch (RFC 7386) -------------------------------------------

// #region merge-patch
/**
 * RFC 7386 JSON merge patch: an object in the patch merges into the
 * original key by key, `null` deletes a key, and anything else (a string, a
 * number, a whole list) replaces what was there. `kubectl scale` sends one.
 */
export function mergePatch(original: unknown, patch: unknown): unknown {
  return mergeInto(copy(original), patch);
}

/** RFC 7386's MergePatch(Target, Patch), changing `target`, which the caller owns. */
function mergeInto(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return copy(patch);
  const result: JsonObject = isObject(target) ? target : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergeInto(result[key], value);
  }
  return result;
}
// #endregion merge-patch

// ---- JSON patch (RFC 6902) ---------------------------------------------------

/** One operation of a JSON patch: `{"op":"replace","path":"/spec/replicas","value":3}`. */
export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

/** The most operations one JSON patch may hold (kube-apiserver's maxJSONPatchOperations). */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

/** The most bytes the copy operations of one JSON patch may add (kube-apiserver's JSONPatchMaxCopyBytes, 3 MiB). */
export const JSON_PATCH_MAX_COPY_BYTES = 3 * 1024 * 1024;

/**
 * 422 for a JSON patch that cannot apply, worded as kube-apiserver answers
 * it: a generic Invalid status whose one cause carries the patch library's
 * own message (`testing value /spec/replicas failed: test failed`).
 */
function patchDoesNotApply(message: string): ApiError {
  const causes: StatusCause[] = [{ reason: 'UnexpectedServerResponse', message }];
  return new ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request', { causes });
}

// #region json-patch
/**
 * RFC 6902 JSON patch: the operations run in order on a copy of the
 * document, and the first that cannot apply fails the whole patch (422).
 * A body that is not a list of operations is a 400; more than 10000
 * operations a 413; copies adding more than 3 MiB a 422.
 */
export function jsonPatch(original: unknown, operations: unknown): unknown {
  const ops = readOperations(operations);
  let document = copy(original);
  let copiedBytes = 0;
  for (const op of ops) {
    if (op.op === 'copy') {
      copiedBytes += Buffer.byteLength(JSON.stringify(valueAt(document, op.from ?? '', 'copy', 'from path')));
      // Why counted across the patch: many small copies can grow a document as much as one big one.
      if (copiedBytes > JSON_PATCH_MAX_COPY_BYTES) {
        throw patchDoesNotApply(`Unable to complete the copy, the accumulated size increase of copy is ${copiedBytes}, exceeding the limit ${JSON_PATCH_MAX_COPY_BYTES}`);
      }
    }
    document = applyOperation(document, op);
  }
  return document;
}
// #endregion json-patch

function readOperations(operations: unknown): JsonPatchOperation[] {
  if (!Array.isArray(operations)) throw badRequest(`json: cannot unmarshal ${operations === null ? 'null' : typeof operations} into Go value of type jsonpatch.Patch (expected a list of operations)`);
  if (operations.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${operations.length}`);
  }
  return operations.map((op, i) => {
    if (!isObject(op)) throw badRequest(`expected each JSON patch operation to be an object, operation ${i} is ${JSON.stringify(op)}`);
    if (typeof op.path !== 'string') throw patchDoesNotApply(`operation ${i} (${String(op.op)}) is missing its path: expected "path" to be a JSON pointer string`);
    if ((op.op === 'move' || op.op === 'copy') && typeof op.from !== 'string') {
      throw patchDoesNotApply(`${op.op} operation does not apply: expected "from" to be a JSON pointer string, got ${JSON.stringify(op.from)}`);
    }
    return op as unknown as JsonPatchOperation;
  });
}

function applyOperation(document: unknown, op: JsonPatchOperation): unknown {
  switch (op.op) {
    case 'add':
      return add(document, parsePointer(op.path), valueOf(op), 'add');
    case 'remove':
      return remove(document, parsePointer(op.path));
    case 'replace':
      return replace(document, parsePointer(op.path), valueOf(op));
    case 'move':
      return move(document, op);
    case 'copy':
      return add(document, parsePointer(op.path), copy(valueAt(document, op.from ?? '', 'copy', 'from path')), 'copy');
    case 'test':
      if (!jsonEqual(valueAt(document, op.path, 'test', 'path'), op.value)) throw patchDoesNotApply(`testing value ${op.path} failed: test failed`);
      return document;
    default:
      throw patchDoesNotApply(`Unexpected kind: ${String((op as { op: unknown }).op)}`);
  }
}

function valueOf(op: JsonPatchOperation): unknown {
  if (!Object.hasOwn(op, 'value')) throw patchDoesNotApply(`${op.op} operation does not apply: expected a "value" for ${op.path}, found none`);
  return copy(op.value);
}

/** The reference tokens of a JSON pointer (RFC 6901): `/a~1b/0` is `["a/b", "0"]`. */
function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw patchDoesNotApply(`expected a JSON pointer starting with "/", got ${JSON.stringify(pointer)}`);
  // Why ~1 before ~0: "~01" must decode to "~1", not "/".
  return pointer.slice(1).split('/').map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** The value a pointer names, or a 422 naming the operation and the missing path. */
function valueAt(document: unknown, pointer: string, op: string, what: string): unknown {
  let current = document;
  for (const token of parsePointer(pointer)) {
    const next = childAt(current, token);
    if (next === undefined) throw patchDoesNotApply(`${op} operation does not apply: doc is missing ${what}: ${pointer}: missing value`);
    current = next;
  }
  return current;
}

function childAt(container: unknown, token: string): unknown {
  if (Array.isArray(container)) {
    const index = arrayIndex(token, container.length - 1);
    return index === undefined ? undefined : container[index];
  }
  return isObject(container) && Object.hasOwn(container, token) ? container[token] : undefined;
}

/** A list index token: decimal without leading zeros, at most `max`; undefined when it is not one. */
function arrayIndex(token: string, max: number): number | undefined {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
  const index = Number(token);
  return index <= max ? index : undefined;
}

/** The container that holds the last token of `tokens`, which must exist. */
function parentOf(document: unknown, tokens: string[], op: string): { parent: unknown; last: string } {
  const path = `/${tokens.join('/')}`;
  let parent = document;
  for (const token of tokens.slice(0, -1)) {
    parent = childAt(parent, token);
    if (parent === undefined) throw patchDoesNotApply(`${op} operation does not apply: doc is missing path: ${JSON.stringify(path)}: missing value`);
  }
  return { parent, last: tokens[tokens.length - 1] ?? '' };
}

function add(document: unknown, tokens: string[], value: unknown, op: string): unknown {
  if (tokens.length === 0) return value;
  const { parent, last } = parentOf(document, tokens, op);
  if (Array.isArray(parent)) {
    // Why `-`: RFC 6902 uses it to name the position after the last element.
    const index = last === '-' ? parent.length : arrayIndex(last, parent.length);
    if (index === undefined) throw patchDoesNotApply(`${op} operation does not apply: index ${last} is out of range for a list of ${parent.length}`);
    parent.splice(index, 0, value);
  } else if (isObject(parent)) {
    parent[last] = value;
  } else {
    throw patchDoesNotApply(`${op} operation does not apply: expected an object or a list at the parent of /${tokens.join('/')}, found ${JSON.stringify(parent)}`);
  }
  return document;
}

function remove(document: unknown, tokens: string[]): unknown {
  const path = `/${tokens.join('/')}`;
  if (tokens.length === 0) throw patchDoesNotApply('remove operation does not apply: expected a path below the document root, got ""');
  const { parent, last } = parentOf(document, tokens, 'remove');
  const index = Array.isArray(parent) ? arrayIndex(last, parent.length - 1) : undefined;
  if (Array.isArray(parent) && index !== undefined) parent.splice(index, 1);
  else if (isObject(parent) && Object.hasOwn(parent, last)) delete parent[last];
  else throw patchDoesNotApply(`remove operation does not apply: doc is missing path: ${JSON.stringify(path)}: missing value`);
  return document;
}

function replace(document: unknown, tokens: string[], value: unknown): unknown {
  if (tokens.length === 0) return value;
  const { parent, last } = parentOf(document, tokens, 'replace');
  const index = Array.isArray(parent) ? arrayIndex(last, parent.length - 1) : undefined;
  if (Array.isArray(parent) && index !== undefined) parent[index] = value;
  else if (isObject(parent) && Object.hasOwn(parent, last)) parent[last] = value;
  else throw patchDoesNotApply(`replace operation does not apply: doc is missing key: /${tokens.join('/')}: missing value`);
  return document;
}

function move(document: unknown, op: JsonPatchOperation): unknown {
  const from = op.from ?? '';
  if (from === op.path) return document;
  // Why refused: moving a value into its own child would leave it nowhere.
  if (op.path.startsWith(`${from}/`)) throw patchDoesNotApply(`move operation does not apply: the from path ${from} is a prefix of the path ${op.path}`);
  const value = valueAt(document, from, 'move', 'from path');
  return add(remove(document, parsePointer(from)), parsePointer(op.path), value, 'move');
}

// ---- strategic merge patch -----------------------------------------------------

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ELEMENT_ORDER = '$setElementOrder/';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList/';

function isDirectiveKey(key: string): boolean {
  return key === DIRECTIVE || key === RETAIN_KEYS || key.startsWith(SET_ELEMENT_ORDER) || key.startsWith(DELETE_FROM_PRIMITIVE_LIST);
}

// #region strategic-merge-patch
/**
 * Strategic merge patch, as kube-apiserver applies it: maps merge and `null`
 * deletes a key, as in a JSON merge patch; lists the schema tags `merge`
 * merge element by element on their merge key (containers by `name`, ports
 * by `containerPort`), lists of scalars tagged `merge` (finalizers) are
 * unioned, and every other list is replaced whole. The directives `$patch`,
 * `$retainKeys`, `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`
 * steer the merge and never reach the result. A malformed patch is a 400.
 */
export function strategicMergePatch(original: unknown, patch: unknown, apiVersion: string, kind: string): unknown {
  if (!isObject(patch)) throw badRequest(`expected a strategic merge patch to be a JSON object, got ${JSON.stringify(patch)}`);
  // Why `any` for an unknown kind: the patch then merges as plain maps, lists replaced.
  const schema = schemaForKind(apiVersion, kind) ?? ANY;
  return mergeMap(isObject(original) ? copy(original) : {}, patch, schema);
}

/** Merge `patch` into `original`, which this function owns and changes. */
function mergeMap(original: JsonObject, patch: JsonObject, node: SchemaNode): JsonObject {
  if (Object.hasOwn(patch, DIRECTIVE)) return mapDirective(patch, node);
  if (Object.hasOwn(patch, RETAIN_KEYS)) retainKeys(original, patch);
  const ordered = new Set<string>();
  for (const key of Object.keys(patch)) {
    const field = key.slice(SET_ELEMENT_ORDER.length);
    if (key.startsWith(SET_ELEMENT_ORDER) && setElementOrder(original, patch, field, node)) ordered.add(field);
  }
  for (const [key, value] of Object.entries(patch)) {
    if (isDirectiveKey(key) || ordered.has(key)) continue;
    if (value === null) delete original[key];
    else original[key] = mergeField(original[key], value, node, key);
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) deleteFromPrimitiveList(original, key.slice(DELETE_FROM_PRIMITIVE_LIST.length), value);
  }
  return original;
}

/** The merged value of field `key` of a struct described by `parent`. */
function mergeField(current: unknown, patch: unknown, parent: SchemaNode, key: string): unknown {
  const node = childSchema(parent, key) ?? ANY;
  if (isObject(current) && isObject(patch)) return mergeMap(current, patch, node);
  if (Array.isArray(current) && Array.isArray(patch)) return mergeList(current, patch, listStrategyAt(parent, key), itemsOf(node));
  // Why the patch wins here: the field is new, a scalar, or changes type.
  return fromPatch(patch, node, listStrategyAt(parent, key));
}
// #endregion strategic-merge-patch

function itemsOf(node: SchemaNode): SchemaNode {
  return node.type === 'list' ? node.items : ANY;
}

/** A value taken from the patch as the result, with its nulls and directives resolved against nothing. */
function fromPatch(value: unknown, node: SchemaNode, strategy: ListStrategy): unknown {
  if (isObject(value)) return mergeMap({}, value, node);
  if (Array.isArray(value)) return mergeList([], value, strategy, itemsOf(node));
  return value;
}

/** `$patch` on a map: `replace` takes the patch as the whole new map, `delete` empties it. */
function mapDirective(patch: JsonObject, node: SchemaNode): JsonObject {
  const { [DIRECTIVE]: directive, ...rest } = patch;
  if (directive === 'replace') return mergeMap({}, rest, node);
  if (directive === 'delete') return {};
  throw badRequest(`unknown patch type: ${JSON.stringify(directive)} in map: ${JSON.stringify(patch)} (expected "replace" or "delete")`);
}

/** `$retainKeys`: drop every key of the original the list does not name (how a Deployment's strategy loses `rollingUpdate`). */
function retainKeys(original: JsonObject, patch: JsonObject): void {
  const keys = patch[RETAIN_KEYS];
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) throw badRequest('invalid patch format of retainKeys: expected a list of field names');
  for (const [key, value] of Object.entries(patch)) {
    // Why refused: a patch that sets a field it does not retain contradicts itself.
    if (value !== null && !isDirectiveKey(key) && !keys.includes(key)) throw badRequest(`invalid patch format of retainKeys: the patch sets "${key}", which $retainKeys does not list`);
  }
  for (const key of Object.keys(original)) if (!keys.includes(key)) delete original[key];
}

function deleteFromPrimitiveList(original: JsonObject, field: string, values: unknown): void {
  if (!Array.isArray(values)) throw badRequest(`invalid patch format of primitive list: expected $deleteFromPrimitiveList/${field} to be a list`);
  const list = original[field];
  if (Array.isArray(list)) original[field] = list.filter((item) => !values.some((v) => jsonEqual(v, item)));
}

// #region merge-list
/**
 * Merge two lists by the strategy the schema gives: `replace` takes the
 * patch's list; `merge` unions scalars, or matches structs on the merge key,
 * merging a match and adding the rest. The order is the real server's:
 * elements named in the patch keep the patch's order, and elements only on
 * the server slot in where they stood relative to them (so a new element
 * sent alone lands first, as the real `kubectl patch` shows).
 */
function mergeList(original: unknown[], patch: unknown[], strategy: ListStrategy, items: SchemaNode): unknown[] {
  if (strategy.strategy === 'replace') return patch.map((item) => fromPatch(item, items, NO_STRATEGY));
  if (original.length === 0 && patch.length === 0) return original;
  if (![...original, ...patch].some(isObject)) {
    const merged = unique([...original, ...patch]);
    return orderLikeServer(merged, patch, original, (x) => x);
  }
  const mergeKey = strategy.mergeKey;
  if (!mergeKey) throw badRequest(`cannot merge lists without merge key: ${JSON.stringify(patch)}`);
  const special = specialElements(original, patch, mergeKey);
  if (special.replace) return special.patch.map((item) => fromPatch(item, items, NO_STRATEGY));
  const merged = mergeByKey(special.original, special.patch, mergeKey, items);
  return orderLikeServer(merged, special.patch, special.original, (x) => (isObject(x) ? x[mergeKey] : undefined));
}
// #endregion merge-list

const NO_STRATEGY: ListStrategy = { strategy: 'replace', retainKeys: false };

function unique(values: unknown[]): unknown[] {
  return values.filter((v, i) => values.findIndex((w) => jsonEqual(v, w)) === i);
}

/** Apply the `{"$patch": ...}` elements of a merging list: delete elements by key, or mark the list for replacement. */
function specialElements(original: unknown[], patch: unknown[], mergeKey: string): { original: unknown[]; patch: unknown[]; replace: boolean } {
  let kept = original;
  const rest: unknown[] = [];
  let replace = false;
  for (const element of patch) {
    if (!isObject(element)) throw badRequest(`list element types are not identical: expected objects with the merge key "${mergeKey}", got ${JSON.stringify(element)}`);
    const directive = element[DIRECTIVE];
    if (directive === undefined) rest.push(element);
    else if (directive === 'replace') replace = true;
    else if (directive === 'delete') kept = kept.filter((item) => !sameKey(item, element, mergeKey));
    else throw badRequest(`unknown patch type: ${JSON.stringify(directive)} in map: ${JSON.stringify(element)} (expected "replace" or "delete")`);
  }
  return { original: kept, patch: rest, replace };
}

function sameKey(item: unknown, element: JsonObject, mergeKey: string): boolean {
  if (!Object.hasOwn(element, mergeKey)) throw noMergeKey(element, mergeKey);
  return isObject(item) && jsonEqual(item[mergeKey], element[mergeKey]);
}

function noMergeKey(element: JsonObject, mergeKey: string): ApiError {
  return badRequest(`map: ${JSON.stringify(element)} does not contain declared merge key: ${mergeKey}`);
}

/** Merge each patch element into the original element with the same merge key, or append it. */
function mergeByKey(original: unknown[], patch: unknown[], mergeKey: string, items: SchemaNode): unknown[] {
  const merged = [...original];
  for (const element of patch as JsonObject[]) {
    const at = merged.findIndex((item) => sameKey(item, element, mergeKey));
    if (at === -1) merged.push(fromPatch(element, items, NO_STRATEGY));
    else merged[at] = mergeMap(merged[at] as JsonObject, element, items);
  }
  return merged;
}

// #region element-order
/**
 * The order the real server gives a merged list: the elements named in
 * `patchOrder` in that order, with the server-only elements woven in by
 * their places in `serverOrder`. A server-only element goes before a patch
 * element only when the server's list had it earlier; elements the server
 * never had come first among equals.
 */
function orderLikeServer(merged: unknown[], patchOrder: unknown[], serverOrder: unknown[], id: (x: unknown) => unknown): unknown[] {
  const indexIn = (list: unknown[], x: unknown) => list.findIndex((y) => jsonEqual(id(y), id(x)));
  const byPlace = (order: unknown[]) => (a: unknown, b: unknown) => indexIn(order, a) - indexIn(order, b);
  const named = merged.filter((x) => indexIn(patchOrder, x) !== -1).sort(byPlace(patchOrder));
  const serverOnly = merged.filter((x) => indexIn(patchOrder, x) === -1).sort(byPlace(serverOrder));
  const out: unknown[] = [];
  while (named.length > 0 && serverOnly.length > 0) {
    const server = indexIn(serverOrder, serverOnly[0]);
    const next = indexIn(serverOrder, named[0]);
    // Why a new element wins a tie: it has no place on the server to keep.
    out.push(next !== -1 && server < next ? serverOnly.shift() : named.shift());
  }
  return [...out, ...named, ...serverOnly];
}

/** `$setElementOrder/<field>`: merge the field's list, then order it as the directive says (what `kubectl apply` sends). True when it set the field. */
function setElementOrder(original: JsonObject, patch: JsonObject, field: string, node: SchemaNode): boolean {
  const order = patch[`${SET_ELEMENT_ORDER}${field}`];
  if (!Array.isArray(order)) throw badRequest(`invalid patch format of setElementOrder list: expected $setElementOrder/${field} to be a list`);
  const current = original[field];
  const sent = patch[field];
  // Why other shapes go to the ordinary merge: only lists have an order to set.
  if ((sent !== undefined && !Array.isArray(sent)) || (current !== undefined && !Array.isArray(current))) return false;
  if (current === undefined && sent === undefined) return false;
  const mergeKey = listStrategyAt(node, field).mergeKey;
  const id = mergeKey ? (x: unknown) => (isObject(x) ? x[mergeKey] : undefined) : (x: unknown) => x;
  checkOrderCovers(sent ?? [], order, id, field);
  const merged = sent === undefined ? (current as unknown[]) : (mergeField(current, sent, node, field) as unknown[]);
  original[field] = orderLikeServer(merged, order, current ?? [], id);
  return true;
}
// #endregion element-order

/** The real check: every element the patch sends must appear in `$setElementOrder`, in the same relative order. */
function checkOrderCovers(sent: unknown[], order: unknown[], id: (x: unknown) => unknown, field: string): void {
  let at = 0;
  for (const element of sent) {
    if (isObject(element) && Object.hasOwn(element, DIRECTIVE)) continue;
    while (at < order.length && !jsonEqual(id(order[at]), id(element))) at++;
    if (at === order.length) throw badRequest(`The order in patch list:\n${JSON.stringify(sent)}\n doesn't match $setElementOrder/${field} list:\n${JSON.stringify(order)}`);
    at++;
  }
}

// ---- field sets: what server-side apply tracks --------------------------------

/**
 * One step of a field path, as managedFields writes it: `f:replicas` (a
 * field), `k:{"name":"nginx"}` (the element of a keyed list), `v:"x"` (a
 * value of a set), `i:0` (a list position, only where no key exists).
 */
type PathElement = string;
type FieldPath = PathElement[];

/** A field found in an object: its path, its value, and whether it is a leaf (a value owned as one unit). */
interface Field {
  path: FieldPath;
  value: unknown;
  leaf: boolean;
}

/** The fields of an object, keyed by the JSON of their paths. */
type Fields = Map<string, Field>;

/** A set of field paths, each held as the JSON of its path. */
type FieldSet = Set<string>;

const pathKey = (path: FieldPath): string => JSON.stringify(path);
const parsePath = (key: string): FieldPath => JSON.parse(key) as FieldPath;

/**
 * The key of a path one element longer: `pathKey([...path, element])`, made
 * from the parent's key. Why: an object has hundreds of fields, and encoding
 * every path from its root again was most of the cost of recording a write.
 */
function childKey(parentKey: string, element: PathElement): string {
  return parentKey === '[]' ? `[${JSON.stringify(element)}]` : `${parentKey.slice(0, -1)},${JSON.stringify(element)}]`;
}

// #region fields-of
/**
 * The fields an object sets, as server-side apply counts them: every scalar,
 * every atomic value (a label selector, a list without keys), every element
 * of a keyed list or set, and every empty map or null. `strict` is for an
 * applied configuration: a keyed element without its key is then a 400.
 */
function fieldsOf(value: unknown, node: SchemaNode, strict: boolean, path: FieldPath = [], out: Fields = new Map(), key = pathKey(path)): Fields {
  if (value === null || isAtomic(node) || (!isObject(value) && !Array.isArray(value))) {
    if (path.length > 0) out.set(key, { path, value, leaf: true });
  } else if (Array.isArray(value)) {
    if (node.type === 'list') listFields(value, node, strict, path, key, out);
    else if (path.length > 0) out.set(key, { path, value, leaf: true }); // Why a leaf: a list inside `any` is one value, as apply treats lists it has no schema for.
  } else {
    for (const [name, child] of Object.entries(value)) {
      const childPath = [...path, `f:${name}`];
      const childPathKey = childKey(key, `f:${name}`);
      if (isObject(child) && Object.keys(child).length === 0) out.set(childPathKey, { path: childPath, value: child, leaf: true });
      else fieldsOf(child, childSchema(node, name) ?? ANY, strict, childPath, out, childPathKey);
    }
  }
  return out;
}

function listFields(list: unknown[], node: ListNode, strict: boolean, path: FieldPath, key: string, out: Fields): void {
  const seen = new Set<string>();
  for (const [index, item] of list.entries()) {
    const element = elementOf(item, node, index, strict, path);
    if (strict && seen.has(element)) throw new TypedPatchError(`${printPath(path)}: duplicate entries for key ${printPath([element])}`);
    seen.add(element);
    const elementPath = [...path, element];
    const elementKey = childKey(key, element);
    fieldsOf(item, node.items, strict, elementPath, out, elementKey);
    out.set(elementKey, { path: elementPath, value: item, leaf: !isObject(item) });
  }
}
// #endregion fields-of

/** The path element of one list item: `k:{"containerPort":80,"protocol":"TCP"}` for keyed lists, `v:"x"` for sets. */
function elementOf(item: unknown, node: ListNode, index: number, strict: boolean, path: FieldPath): PathElement {
  if (listTypeOf(node) === 'set' || !isObject(item)) return `v:${JSON.stringify(item)}`;
  const key: JsonObject = {};
  for (const name of [...listMapKeysOf(node)].sort()) {
    const value = item[name] ?? node.keyDefaults?.[name];
    if (value !== undefined) {
      key[name] = value;
      continue;
    }
    if (strict) throw new TypedPatchError(`${printPath(path)}: element ${index}: associative list with keys has an element that omits key field "${name}" (and doesn't have default value)`);
    // Why a position: a stored object may lack a key the schema wants; it still needs a name.
    return `i:${index}`;
  }
  return `k:${JSON.stringify(key)}`;
}

/** An applied configuration that cannot be read as its type: a keyed element without its key, or a key twice. */
class TypedPatchError extends Error {}

/** A path as conflicts print it: `.spec.template.spec.containers[name="nginx"].image`. */
function printPath(path: FieldPath): string {
  return path
    .map((element) => {
      const body = element.slice(2);
      if (element.startsWith('f:')) return `.${body}`;
      if (element.startsWith('v:')) return `[=${body}]`;
      if (element.startsWith('i:')) return `[${body}]`;
      const key = JSON.parse(body) as JsonObject;
      return `[${Object.entries(key).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
    })
    .join('');
}

/** What changed between two versions of an object: fields set anew or to another value, and fields removed. */
interface Changes {
  changed: FieldSet;
  removed: FieldSet;
}

function compareFields(before: Fields, after: Fields): Changes {
  const changed: FieldSet = new Set();
  const removed: FieldSet = new Set();
  for (const [key, field] of after) {
    const old = before.get(key);
    if (!old) changed.add(key);
    // Why only leaves: a keyed element whose insides changed is not itself a changed value.
    else if ((old.leaf || field.leaf) && !jsonEqual(old.value, field.value)) changed.add(key);
  }
  for (const key of before.keys()) if (!after.has(key)) removed.add(key);
  return { changed, removed };
}

// ---- managedFields: reading, writing, encoding -----------------------------------

/** One manager's record while it is being worked on: the entry as stored, and its fields as a set. */
interface Manager {
  entry: ManagedFieldsEntry;
  fields: FieldSet;
}

/** Fields no manager owns, as the real field manager strips them before recording. */
const UNTRACKED: FieldPath[] = [
  ['f:apiVersion'],
  ['f:kind'],
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'generation', 'managedFields', 'resourceVersion'].map((f) => ['f:metadata', `f:${f}`]),
];

/** UNTRACKED as the starts of keys: `["f:metadata","f:uid"` is that field, followed by `]`, or by `,` and a field inside it. */
const UNTRACKED_KEYS = UNTRACKED.map((path) => pathKey(path).slice(0, -1));

function untracked(key: string): boolean {
  return UNTRACKED_KEYS.some((start) => key.startsWith(start) && (key[start.length] === ']' || key[start.length] === ','));
}

function tracked(fields: Iterable<string>): FieldSet {
  return new Set([...fields].filter((key) => !untracked(key)));
}

// #region fields-v1
/**
 * The `fieldsV1` form of a field set, as managedFields stores it: a tree of
 * path elements, `{}` at each owned leaf, and `".": {}` where an owned
 * element (a container, say) also has owned fields inside it.
 */
export function encodeFieldsV1(fields: Iterable<string>): Record<string, unknown> {
  const root: JsonObject = {};
  const owned = [...fields].map(parsePath);
  for (const path of owned) {
    let node = root;
    for (const element of path) node = (node[element] ??= {}) as JsonObject;
  }
  for (const path of owned) {
    const node = path.reduce<JsonObject>((n, element) => n[element] as JsonObject, root);
    if (Object.keys(node).length > 0) node['.'] = {};
  }
  return sortedTree(root);
}

/** The field set a `fieldsV1` tree describes (the inverse of `encodeFieldsV1`). */
export function decodeFieldsV1(tree: unknown, prefix: FieldPath = [], out: FieldSet = new Set()): FieldSet {
  return decodeTree(tree, pathKey(prefix), out);
}

function decodeTree(tree: unknown, key: string, out: FieldSet): FieldSet {
  if (!isObject(tree)) return out;
  for (const [element, child] of Object.entries(tree)) {
    if (element === '.') out.add(key);
    else if (isObject(child) && Object.keys(child).length > 0) decodeTree(child, childKey(key, element), out);
    else out.add(childKey(key, element));
  }
  return out;
}
// #endregion fields-v1

/** The tree with its keys in the order the real server writes them: `.` first, then sorted. */
function sortedTree(tree: JsonObject): JsonObject {
  const sorted: JsonObject = {};
  for (const key of Object.keys(tree).sort(fieldsV1Order)) sorted[key] = sortedTree(tree[key] as JsonObject);
  return sorted;
}

function fieldsV1Order(a: string, b: string): number {
  return a === '.' ? -1 : b === '.' ? 1 : compare(a, b);
}

function readManagers(object: KubeObject | undefined): Manager[] {
  return (object?.metadata.managedFields ?? []).map((entry) => ({ entry, fields: decodeFieldsV1(entry.fieldsV1) }));
}

/** Whether two entries are the same manager: the same name, operation and subresource, and for Update the same apiVersion. */
function sameManager(a: ManagedFieldsEntry, b: ManagedFieldsEntry): boolean {
  const apiVersionMatters = a.operation === 'Update';
  return a.manager === b.manager && a.operation === b.operation && (a.subresource ?? '') === (b.subresource ?? '') && (!apiVersionMatters || a.apiVersion === b.apiVersion);
}

/** The managedFields list to store: managers that still own something, sorted as the real server sorts them. */
function writeManagers(managers: Manager[]): ManagedFieldsEntry[] {
  return managers
    .filter((m) => m.fields.size > 0)
    .map((m) => ({ ...m.entry, fieldsType: 'FieldsV1' as const, fieldsV1: encodeFieldsV1(m.fields) }))
    .sort(
      (a, b) =>
        compare(a.operation, b.operation) || compare(a.time ?? '', b.time ?? '') || compare(a.manager, b.manager) || compare(a.apiVersion, b.apiVersion) || compare(a.subresource ?? '', b.subresource ?? ''),
    );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function setManagedFields(object: KubeObject, entries: ManagedFieldsEntry[]): void {
  if (entries.length > 0) object.metadata.managedFields = entries;
  else delete object.metadata.managedFields;
}

function withoutManagedFields(object: KubeObject): KubeObject {
  const { managedFields: _dropped, ...metadata } = object.metadata;
  return { ...object, metadata };
}

function schemaOf(apiVersion: string, kind: string): SchemaNode {
  return schemaForKind(apiVersion, kind) ?? ANY;
}

// ---- recording ordinary writes -------------------------------------------------------

// #region record-update
/**
 * Record an ordinary write (create, update, patch, a subresource) in
 * `metadata.managedFields`, as the real server does: `manager` takes the
 * fields the write set or changed, and those fields leave every other
 * manager (an update never conflicts; it just takes over). Pass `previous`
 * (the stored object) for an update; without it the write is a create, and
 * the manager takes the fields no other manager owns. Returns a new object
 * with new metadata; the rest (spec, status) is shared with `object`, which
 * the request path has always just made (copying it again was a tenth of
 * the cost of recording a write).
 */
export function recordUpdate(object: KubeObject, manager: string, apiVersion: string, now: string, subresource?: string, previous?: KubeObject): KubeObject {
  const schema = schemaOf(object.apiVersion, object.kind);
  const after = fieldsOf(withoutManagedFields(object), schema, false);
  const before = previous ? fieldsOf(withoutManagedFields(previous), schema, false) : new Map<string, Field>();
  const { changed, removed } = compareFields(before, after);
  // Why unchanged: a write that changes nothing is not recorded, as the real server skips it.
  if (previous && tracked(changed).size === 0 && tracked(removed).size === 0) return { ...object, metadata: { ...object.metadata } };
  const managers = readManagers(object);
  const entry: ManagedFieldsEntry = { manager, operation: 'Update', apiVersion, time: now, fieldsType: 'FieldsV1' };
  if (subresource) entry.subresource = subresource;
  const mine = managers.find((m) => sameManager(m.entry, entry));
  const others = managers.filter((m) => m !== mine);
  // Why without `previous` the manager takes only unowned fields: it cannot tell what this write changed.
  const taken = previous ? changed : new Set([...changed].filter((key) => !others.some((m) => m.fields.has(key))));
  for (const other of others) other.fields = difference(other.fields, union(taken, removed));
  const fields = tracked(union(difference(mine?.fields ?? new Set(), removed), taken));
  const result = { ...object, metadata: { ...object.metadata } };
  setManagedFields(result, writeManagers([...others, { entry, fields }]));
  return result;
}
// #endregion record-update

function union(a: FieldSet, b: FieldSet): FieldSet {
  return new Set([...a, ...b]);
}

function difference(a: FieldSet, b: FieldSet): FieldSet {
  return new Set([...a].filter((key) => !b.has(key)));
}

// ---- server-side apply ----------------------------------------------------------------

/** How an apply request is made: who applies, whether to take over conflicting fields, the object's type, and the time. */
export interface ApplyOptions {
  manager: string;
  force: boolean;
  apiVersion: string;
  kind: string;
  /** The time to record, e.g. `2024-05-01T10:00:00Z`. */
  now: string;
}

/** The object an apply produced, and whether it did not exist before. */
export interface ApplyResult {
  object: KubeObject;
  created: boolean;
}

// #region server-side-apply
/**
 * Server-side apply: merge the applied configuration into the live object
 * (undefined: create it) and record that `manager` now owns exactly the
 * fields it applied. A field this manager applied last time and leaves out
 * now is removed, unless another manager owns it too. Changing a field
 * another manager owns is a 409 conflict naming the field and the manager,
 * unless `force`, which moves the field to this manager.
 */
export function serverSideApply(live: KubeObject | undefined, applied: KubeObject, options: ApplyOptions): ApplyResult {
  const schema = schemaOf(options.apiVersion, options.kind);
  const config = appliedConfiguration(applied, options);
  const appliedFields = appliedFieldsOf(config, schema, options);
  const entry: ManagedFieldsEntry = { manager: options.manager, operation: 'Apply', apiVersion: options.apiVersion, time: options.now, fieldsType: 'FieldsV1' };
  const managers = readManagers(live);
  const previous = managers.find((m) => sameManager(m.entry, entry));
  const others = managers.filter((m) => m !== previous);
  const base = live ? withoutManagedFields(live) : {};
  const merged = applyMerge(copy(base), config, schema) as KubeObject;
  prune(merged, previous?.fields ?? new Set(), union(appliedFields, allFields(others)), schema);
  const changes = compareFields(fieldsOf(base, schema, false), fieldsOf(merged, schema, false));
  takeOwnership(others, changes, options);
  setManagedFields(merged, writeManagers([...others, { entry, fields: tracked(appliedFields) }]));
  return { object: merged, created: live === undefined };
}
// #endregion server-side-apply

/** The fields the configuration applies; 400 when it cannot be read as its type (the real `failed to create typed patch object`). */
function appliedFieldsOf(config: KubeObject, schema: SchemaNode, options: ApplyOptions): FieldSet {
  try {
    return new Set(fieldsOf(config, schema, true).keys());
  } catch (error) {
    if (!(error instanceof TypedPatchError)) throw error;
    const group = options.apiVersion.includes('/') ? options.apiVersion : `/${options.apiVersion}`;
    throw badRequest(`failed to create typed patch object (${group}, Kind=${options.kind}): ${error.message}`);
  }
}

/** The configuration as apply uses it: without status (written only through /status) and checked for managedFields. */
function appliedConfiguration(applied: KubeObject, options: ApplyOptions): KubeObject {
  if (!isObject(applied) || !isObject(applied.metadata)) throw badRequest(`expected an applied configuration with metadata, got ${JSON.stringify(applied)}`);
  const managedFields: unknown = applied.metadata.managedFields;
  if (Array.isArray(managedFields) && managedFields.length > 0) throw badRequest('metadata.managedFields must be nil');
  const config = copy(applied);
  delete config.metadata.managedFields;
  // Why status is dropped: a kind with a status subresource takes status only through /status.
  if (resourceForKind(options.apiVersion, options.kind)?.subresources.some((s) => s.name === 'status')) delete config.status;
  return config;
}

function allFields(managers: Manager[]): FieldSet {
  return managers.reduce<FieldSet>((all, m) => union(all, m.fields), new Set());
}

// #region take-ownership
/**
 * Settle ownership after an apply changed `changes`: a changed field another
 * manager owns is a conflict (409) unless forced, when it leaves that
 * manager; a removed field leaves every manager.
 */
function takeOwnership(others: Manager[], changes: Changes, options: ApplyOptions): void {
  const conflicts = others.flatMap((m) => [...m.fields].filter((key) => changes.changed.has(key)).map((key) => ({ manager: m.entry, path: parsePath(key) })));
  if (conflicts.length > 0 && !options.force) throw applyConflict(conflicts);
  for (const other of others) other.fields = difference(other.fields, union(changes.changed, changes.removed));
}
// #endregion take-ownership

/** How a conflict names a manager: `"kubectl"`, or `"kubectl-edit" using apps/v1` for an Update manager. */
function printManager(entry: ManagedFieldsEntry): string {
  let out = JSON.stringify(entry.manager);
  if (entry.subresource) out += ` with subresource ${JSON.stringify(entry.subresource)}`;
  if (entry.operation === 'Update') out += ` using ${entry.apiVersion}`;
  return out;
}

/** 409 with the real wording: `Apply failed with 1 conflict: conflict with "other": .spec.replicas`, one cause per field. */
function applyConflict(conflicts: Array<{ manager: ManagedFieldsEntry; path: FieldPath }>): ApiError {
  const causes: StatusCause[] = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.manager)}`, field: printPath(c.path) }));
  const [first] = conflicts;
  if (conflicts.length === 1 && first) return new ApiError(409, 'Conflict', `Apply failed with 1 conflict: conflict with ${printManager(first.manager)}: ${printPath(first.path)}`, { causes });
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) byManager.set(printManager(c.manager), [...(byManager.get(printManager(c.manager)) ?? []), printPath(c.path)]);
  const lines = [...byManager.keys()].sort().flatMap((m) => [`conflicts with ${m}:`, ...(byManager.get(m) ?? []).map((p) => `- ${p}`)]);
  return new ApiError(409, 'Conflict', `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`, { causes });
}

// #region apply-merge
/**
 * Merge an applied configuration into a live value (which this function owns
 * and changes): structs and maps key by key, keyed lists and sets element by
 * element (the live elements keep their places, the applied ones their
 * order), and atomic values replaced whole. A `null` removes the field.
 */
function applyMerge(live: unknown, config: unknown, node: SchemaNode): unknown {
  if (isAtomic(node) || config === null || typeof config !== 'object') return withoutNulls(config);
  if (Array.isArray(config)) {
    if (node.type !== 'list' || !Array.isArray(live)) return withoutNulls(config);
    return mergeElements(live, config, node);
  }
  const out: JsonObject = isObject(live) ? live : {};
  for (const [key, value] of Object.entries(config)) {
    if (value === null) delete out[key];
    else out[key] = applyMerge(out[key], value, childSchema(node, key) ?? ANY);
  }
  return out;
}
// #endregion apply-merge

function mergeElements(live: unknown[], config: unknown[], node: ListNode): unknown[] {
  const id = (item: unknown, i: number) => elementOf(item, node, i, false, []);
  const configIds = config.map(id);
  const liveById = new Map(live.map((item, i) => [id(item, i), item]));
  const out: unknown[] = [];
  const emitted = new Set<string>();
  let next = 0;
  // Why emit "through" a shared element: applied elements before it, new or moved, keep the applied order.
  const emitThrough = (stop?: string) => {
    while (next < config.length) {
      const key = configIds[next] as string;
      const item = config[next++];
      if (!emitted.has(key)) out.push(applyMerge(liveById.get(key), item, node.items));
      emitted.add(key);
      if (key === stop) return;
    }
  };
  live.forEach((item, i) => {
    const key = id(item, i);
    if (!configIds.includes(key)) out.push(item);
    else if (!emitted.has(key)) emitThrough(key);
  });
  emitThrough();
  return out;
}

function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]));
}

// #region prune
/**
 * Remove from `merged` what the applier owned last time (`last`) and no
 * longer applies, unless someone still owns it (`kept`). As in the real
 * field manager, owning a field inside a struct counts as owning the struct
 * field that holds it, so a struct nobody owns anything in goes too.
 */
function prune(merged: KubeObject, last: FieldSet, kept: FieldSet, schema: SchemaNode): void {
  if (last.size === 0) return;
  const keep = withNamedParents(kept, schema);
  const present = new Set(fieldsOf(merged, schema, false).keys());
  const candidates = [...withNamedParents(last, schema)].filter((key) => !keep.has(key) && (present.has(key) || hasChildIn(key, present)));
  const paths = candidates.map(parsePath).sort((a, b) => a.length - b.length);
  const removed: FieldPath[] = [];
  for (const path of paths) {
    if (removed.some((r) => r.every((element, i) => path[i] === element))) continue;
    removeAt(merged, path, schema);
    removed.push(path);
  }
}
// #endregion prune

function hasChildIn(key: string, set: FieldSet): boolean {
  const prefix = key.slice(0, -1);
  return [...set].some((other) => other.startsWith(`${prefix},`));
}

/** The set plus, for each path, every enclosing struct field (`spec`, `spec.strategy`), but not map keys. */
function withNamedParents(set: FieldSet, schema: SchemaNode): FieldSet {
  const out = new Set(set);
  for (const key of set) {
    const path = parsePath(key);
    let node = schema;
    for (let i = 0; i < path.length - 1; i++) {
      const element = path[i] as string;
      const named = element.startsWith('f:') && (node.type === 'object' || node.type === 'any');
      node = element.startsWith('f:') ? (childSchema(node, element.slice(2)) ?? ANY) : itemsOf(node);
      if (named) out.add(pathKey(path.slice(0, i + 1)));
    }
  }
  return out;
}

/** Delete the value at `path` from `root` (a struct field, a map key, or a list element). */
function removeAt(root: unknown, path: FieldPath, schema: SchemaNode): void {
  let container = root;
  let node = schema;
  for (const [i, element] of path.entries()) {
    const last = i === path.length - 1;
    if (element.startsWith('f:')) {
      if (!isObject(container)) return;
      const field = element.slice(2);
      if (last) delete container[field];
      container = container[field];
      node = childSchema(node, field) ?? ANY;
      continue;
    }
    if (!Array.isArray(container) || node.type !== 'list') return;
    const list: ListNode = node;
    const at = container.findIndex((item, index) => elementOf(item, list, index, false, []) === element);
    if (at === -1) return;
    if (last) container.splice(at, 1);
    container = container[at];
    node = list.items;
  }
}
