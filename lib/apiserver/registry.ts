/**
 * How objects are kept in the store: one key per object under
 * `/registry/...`, its JSON as the value, and the key's mod revision as the
 * object's resourceVersion. Every write is an etcd transaction whose compare
 * is the optimistic-concurrency check: "create only if absent", "update only
 * if nobody wrote since I read".
 */
import type { KubeObject } from '../api/types.ts';
import { prefixEnd } from '../store/revisions.ts';
import type { KeyValue, TxnRequest, TxnResponse } from '../store/types.ts';
import type { Backend } from './backend.ts';
import type { ResourceInfo } from './resources.ts';
import { storageKey, storagePrefixFor } from './resources.ts';
import { alreadyExists, conflict, notFound } from './status.ts';

const b = (text: string) => Buffer.from(text);

// #region codec
/** The bytes stored for an object: its JSON without resourceVersion, which the store's revision supplies. */
export function encodeObject(object: KubeObject): Buffer {
  const { resourceVersion: _rv, ...metadata } = object.metadata;
  return Buffer.from(JSON.stringify({ ...object, metadata }));
}

/** The object a stored key-value holds, with resourceVersion set from the key's mod revision. */
export function decodeObject(kv: KeyValue): KubeObject {
  const object = JSON.parse(kv.value.toString()) as KubeObject;
  object.metadata.resourceVersion = String(kv.modRevision);
  return object;
}
// #endregion codec

// #region update-txn
/**
 * The etcd transaction of an update: if the key's mod revision is still
 * the one the object was read at, put the new value; otherwise read the key,
 * so the caller can tell "someone else wrote it" (409) from "it is gone" (404).
 */
export function conditionalPut(key: Buffer, value: Buffer, expectedRevision: number): TxnRequest {
  return {
    compare: [{ key, target: 'MOD', result: 'EQUAL', modRevision: expectedRevision }],
    // ignoreLease keeps an Event on the lease that will expire it.
    success: [{ requestPut: { key, value, ignoreLease: true } }],
    failure: [{ requestRange: { key } }],
  };
}
// #endregion update-txn

/** A list read at one revision. */
export interface ListResult {
  items: KubeObject[];
  /** The store revision the list was read at: a watch from here misses nothing. */
  revision: number;
}

/** Store access for the API server's resources. */
export class Registry {
  /** `updateTxn` builds the transaction of every update; the chapter 2 lab swaps in the learner's. */
  constructor(
    readonly backend: Backend,
    private readonly updateTxn: typeof conditionalPut = conditionalPut,
  ) {}

  /** The object at namespace/name, or a 404. */
  async get(info: ResourceInfo, namespace: string | undefined, name: string): Promise<KubeObject> {
    const response = await this.backend.range({ key: b(storageKey(info, namespace, name)) });
    const kv = response.kvs[0];
    if (!kv) throw notFound({ resource: info.resource, group: info.group, name });
    return decodeObject(kv);
  }

  /** The store's current revision, from the header of a read that matches nothing (no object has the bare prefix as its key). */
  async currentRevision(): Promise<number> {
    const response = await this.backend.range({ key: b('/registry') });
    return response.header.revision;
  }

  // #region list
  /** Every object of a resource (in one namespace, or all), read at one revision; `revision` 0 means now. */
  async list(info: ResourceInfo, namespace?: string, revision = 0): Promise<ListResult> {
    const prefix = b(storagePrefixFor(info, namespace));
    const response = await this.backend.range({ key: prefix, rangeEnd: prefixEnd(prefix), revision });
    // Why the header's revision and not the newest item's: a watch must start
    // after every write the list could have seen, including deletes of keys
    // that are no longer there.
    return { items: response.kvs.map(decodeObject), revision: revision || response.header.revision };
  }
  // #endregion list

  // #region create
  /** Store a new object; 409 AlreadyExists if the key is taken. `lease` attaches it to a store lease (Events expire so). */
  async create(info: ResourceInfo, object: KubeObject, lease = 0): Promise<KubeObject> {
    const name = object.metadata.name ?? '';
    const key = b(storageKey(info, object.metadata.namespace, name));
    const response = await this.backend.txn({
      // createRevision 0 means "the key does not exist now".
      compare: [{ key, target: 'CREATE', result: 'EQUAL', createRevision: 0 }],
      success: [{ requestPut: { key, value: encodeObject(object), lease } }],
      failure: [],
    });
    if (!response.succeeded) throw alreadyExists({ resource: info.resource, group: info.group, name });
    return withRevision(object, response.header.revision);
  }
  // #endregion create

  /**
   * Replace an object only if its mod revision is still `expectedRevision`,
   * the revision the caller read it at: the optimistic-concurrency check.
   * A lost race is 409 Conflict; a vanished object is 404.
   */
  async update(info: ResourceInfo, object: KubeObject, expectedRevision: number): Promise<KubeObject> {
    const name = object.metadata.name ?? '';
    const key = b(storageKey(info, object.metadata.namespace, name));
    const response = await this.backend.txn(this.updateTxn(key, encodeObject(object), expectedRevision));
    if (!response.succeeded) throw lostRace(info, name, response);
    return withRevision(object, response.header.revision);
  }

  /** Delete an object only if its mod revision is still `expectedRevision`; returns the deleted object. */
  async delete(info: ResourceInfo, namespace: string | undefined, name: string, expectedRevision: number): Promise<KubeObject> {
    const key = b(storageKey(info, namespace, name));
    const response = await this.backend.txn({
      compare: [{ key, target: 'MOD', result: 'EQUAL', modRevision: expectedRevision }],
      success: [{ requestDeleteRange: { key, prevKv: true } }],
      failure: [{ requestRange: { key } }],
    });
    if (!response.succeeded) throw lostRace(info, name, response);
    const first = response.responses[0];
    const prev = first && 'responseDeleteRange' in first ? first.responseDeleteRange.prevKvs[0] : undefined;
    if (!prev) throw notFound({ resource: info.resource, group: info.group, name });
    const deleted = decodeObject(prev);
    // The object's last resourceVersion is the revision of its deletion, as a watcher sees it.
    deleted.metadata.resourceVersion = String(response.header.revision);
    return deleted;
  }
}

/** The object as stored at `revision`. */
function withRevision(object: KubeObject, revision: number): KubeObject {
  return { ...object, metadata: { ...object.metadata, resourceVersion: String(revision) } };
}

/** A failed compare: 404 if the key is gone, else 409 because someone wrote first. */
function lostRace(info: ResourceInfo, name: string, response: TxnResponse): Error {
  const first = response.responses[0];
  const exists = first && 'responseRange' in first && first.responseRange.kvs.length > 0;
  const subject = { resource: info.resource, group: info.group, name };
  return exists ? conflict(subject) : notFound(subject);
}
