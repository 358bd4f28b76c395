/**
 * Solution 1.3: refusing a compacted (or future) revision.
 */
import { StoreError } from '#lib/store/errors.ts';

export function checkRevision(requested: number, current: number, compacted: number): number {
  // 0 (and, defensively, anything below) means "the latest state".
  if (requested <= 0) return current;
  // The compaction point itself is still readable: compaction keeps, for each
  // key, its newest version at or before that revision. Only older is gone.
  if (requested < compacted) throw new StoreError('COMPACTED');
  // A revision no write has produced yet cannot be read.
  if (requested > current) throw new StoreError('FUTURE_REV');
  return requested;
}
