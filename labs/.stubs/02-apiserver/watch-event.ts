/**
 * Exercise 2.4: from a store event to a watch event.
 *
 * A watch (`kubectl get pods -w -l app=backend`) is a store watch on
 * /registry/pods/ seen through the client's selector. The store reports PUT
 * and DELETE with the key's previous value (prevKv); the client expects
 * ADDED, MODIFIED and DELETED, from its point of view:
 *   - a PUT of an object that matches now and matched before: MODIFIED;
 *   - a PUT of an object that matches now but did not before (new, or its
 *     labels changed): ADDED;
 *   - a PUT of an object that matched before but not any more: DELETED
 *     (with the new object: to this client it has gone away);
 *   - a DELETE of an object that matched: DELETED, carrying its last state
 *     with metadata.resourceVersion set to the revision of the delete;
 *   - anything else: undefined (nothing to send).
 * `decodeObject(kv)` turns a stored key-value into the object, with
 * resourceVersion set from the key's mod revision.
 *
 * Run `npm run grade 2` to check your work, `npm run hint 2.4` when stuck.
 */
import type { KubeObject, WatchEventObject } from '#lib/api/types.ts';
import { decodeObject } from '#lib/apiserver/registry.ts';
import type { WatchEvent } from '#lib/store/types.ts';
import { todo } from '#lib/workbook/todo.ts';

/** The watch event a client with filter `matches` gets for one store event, or undefined for none. */
export function toWatchEvent(event: WatchEvent, matches: (object: KubeObject) => boolean): WatchEventObject | undefined {
  // TODO: decode the previous and the new object, ask `matches` about each,
  // and pick the event type as described above.
  void decodeObject;
  return todo('2.4');
}
