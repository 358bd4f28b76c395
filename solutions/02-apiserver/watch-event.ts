/**
 * Solution 2.4: a store event seen through a watcher's filter.
 */
import type { KubeObject, WatchEventObject } from '#lib/api/types.ts';
import { decodeObject } from '#lib/apiserver/registry.ts';
import type { WatchEvent } from '#lib/store/types.ts';

export function toWatchEvent(event: WatchEvent, matches: (object: KubeObject) => boolean): WatchEventObject | undefined {
  const before = event.prevKv ? decodeObject(event.prevKv) : undefined;
  const matchedBefore = before !== undefined && matches(before);

  if (event.type === 'DELETE') {
    if (!before || !matchedBefore) return undefined;
    // The store's DELETE kv has only the key and the revision of the delete:
    // that revision becomes the deleted object's last resourceVersion.
    before.metadata.resourceVersion = String(event.kv.modRevision);
    return { type: 'DELETED', object: before };
  }

  const after = decodeObject(event.kv);
  const matchesNow = matches(after);
  if (matchesNow) return { type: matchedBefore ? 'MODIFIED' : 'ADDED', object: after };
  // It left this watcher's view: from the client's side it is gone.
  if (matchedBefore) return { type: 'DELETED', object: after };
  return undefined;
}
