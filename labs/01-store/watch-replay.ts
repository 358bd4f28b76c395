/**
 * Exercise 1.2: replaying a watch from a revision.
 *
 * A controller that restarts asks etcd for every change since the last
 * revision it saw. The store keeps a log: one entry per revision, holding the
 * events that revision made, oldest first. Replaying means walking that log.
 *
 * Run `npm run grade 1` to check your work, `npm run hint 1.2` when stuck.
 */
import type { RevisionEntry } from '#lib/store/revisions.ts';
import type { WatchEvent } from '#lib/store/types.ts';
import { todo } from '#lib/workbook/todo.ts';

/**
 * The events of every revision from `from` to `to` (both included), in
 * revision order and, inside one revision, in the order they happened; only
 * events that `wanted` accepts. `log` is sorted by revision; it may begin
 * after `from` and may go on past `to`.
 */
export function eventsBetween(
  log: readonly RevisionEntry[],
  from: number,
  to: number,
  wanted: (event: WatchEvent) => boolean,
): WatchEvent[] {
  // TODO: collect the wanted events of the entries whose revision is in [from, to].
  return todo('1.2');
}
