/**
 * Exercise 1.3: refusing a compacted (or future) revision.
 *
 * A read can ask for the store as it was at a past revision. Compaction
 * throws history away up to a revision, so older reads must fail with etcd's
 * ErrCompacted; a revision that has not happened yet fails with ErrFutureRev.
 * Revision 0 means "now".
 *
 * Run `npm run grade 1` to check your work, `npm run hint 1.3` when stuck.
 */
import { StoreError } from '#lib/store/errors.ts';
import { todo } from '#lib/workbook/todo.ts';

/**
 * The revision a read at `requested` really reads, given the store's
 * `current` revision and its `compacted` revision (0 when never compacted).
 * Throws `new StoreError('COMPACTED')` or `new StoreError('FUTURE_REV')`.
 */
export function checkRevision(requested: number, current: number, compacted: number): number {
  // TODO: handle "now" (0), then the two errors, then return the revision.
  return todo('1.3');
}
