/**
 * Exercise 2.2: the optimistic-concurrency check of an update.
 *
 * Every object carries metadata.resourceVersion: the store revision of its
 * last write (the key's mod revision). An update must only be stored if
 * nobody wrote the object since the client read it; otherwise the client
 * gets 409 Conflict and must read again. The API server does not lock
 * anything: it asks etcd for one transaction that compares and writes at
 * once (chapter 1's txn).
 *
 * Build that transaction. The API server runs it for every update, patch
 * and scale; when it does not succeed, it looks at the failure branch's
 * answer to tell 409 (the key is there, changed) from 404 (it is gone).
 *
 * Run `npm run grade 2` to check your work, `npm run hint 2.2` when stuck.
 */
import type { TxnRequest } from '#lib/store/types.ts';
import { todo } from '#lib/workbook/todo.ts';

/**
 * The transaction that puts `value` at `key` only if the key's mod revision
 * is still `expectedRevision`, and otherwise reads the key.
 */
export function conditionalPut(key: Buffer, value: Buffer, expectedRevision: number): TxnRequest {
  // TODO: one compare (target MOD, result EQUAL), one put on success
  // (keep the key's lease: ignoreLease true), one range of the key on failure.
  return todo('2.2');
}
