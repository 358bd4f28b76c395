/**
 * Exercise 1.1: the revision bookkeeping of a put.
 *
 * Every key in etcd carries three numbers besides its value:
 *   createRevision  the revision of the write that created the key
 *   modRevision     the revision of the latest write to the key
 *   version         how many writes the key has had since it was created
 * A delete wipes all three; the next put creates the key anew.
 *
 * Run `npm run grade 1` to check your work, `npm run hint 1.1` when stuck.
 */
import type { Bytes, KeyValue } from '#lib/store/types.ts';
import { todo } from '#lib/workbook/todo.ts';

/**
 * The KeyValue a put writes at `revision`. `prev` is the key's live value
 * before the put, or undefined when the key does not exist (never written, or
 * deleted).
 */
export function nextKeyValue(prev: KeyValue | undefined, key: Bytes, value: Bytes, lease: number, revision: number): KeyValue {
  // TODO: return the new KeyValue: key, value and lease as given, and the
  // three revision numbers computed from `prev` and `revision`.
  return todo('1.1');
}
