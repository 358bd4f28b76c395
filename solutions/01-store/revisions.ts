/**
 * Solution 1.1: the revision bookkeeping of a put.
 */
import type { Bytes, KeyValue } from '#lib/store/types.ts';

export function nextKeyValue(prev: KeyValue | undefined, key: Bytes, value: Bytes, lease: number, revision: number): KeyValue {
  // A key that does not exist now is being created by this put: it is born at
  // this revision and this is its first version. That includes a key that was
  // deleted earlier, because a delete ends the key's "generation".
  if (prev === undefined) {
    return { key, value, lease, createRevision: revision, modRevision: revision, version: 1 };
  }
  // An update keeps the birth revision (controllers use it to tell "the same
  // object, changed" from "a new object with the same name"), moves the
  // modification revision to this write (this is the number Kubernetes hands
  // out as metadata.resourceVersion) and counts one more version.
  return { key, value, lease, createRevision: prev.createRevision, modRevision: revision, version: prev.version + 1 };
}
