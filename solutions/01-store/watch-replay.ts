/**
 * Solution 1.2: replaying a watch from a revision.
 */
import type { RevisionEntry } from '#lib/store/revisions.ts';
import type { WatchEvent } from '#lib/store/types.ts';

export function eventsBetween(
  log: readonly RevisionEntry[],
  from: number,
  to: number,
  wanted: (event: WatchEvent) => boolean,
): WatchEvent[] {
  const result: WatchEvent[] = [];
  for (const entry of log) {
    // Entries are sorted, so everything before `from` can be skipped and the
    // first entry after `to` ends the walk: the rest is newer still.
    if (entry.revision < from) continue;
    if (entry.revision > to) break;
    // Keep the order inside a revision too: a transaction that deletes a Pod
    // and creates its replacement must be seen in that order.
    for (const event of entry.events) {
      if (wanted(event)) result.push(event);
    }
  }
  return result;
}
