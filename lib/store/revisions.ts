/**
 * The small rules at the heart of MVCC, kept apart so a chapter can show them
 * and a learner can write them (exercises 1.1 to 1.4). The store calls these
 * functions; the lab swaps in the learner's versions.
 */
import { StoreError } from './errors.ts';
import type { Bytes, KeyValue, WatchEvent } from './types.ts';

// #region next-key-value
/**
 * The KeyValue a put writes at `revision`, given the key's live value before
 * the put (undefined when the key does not exist, or was deleted).
 * create_revision survives updates; version counts writes since creation.
 */
export function nextKeyValue(
  prev: KeyValue | undefined,
  key: Bytes,
  value: Bytes,
  lease: number,
  revision: number,
): KeyValue {
  return {
    key,
    value,
    createRevision: prev ? prev.createRevision : revision,
    modRevision: revision,
    version: prev ? prev.version + 1 : 1,
    lease,
  };
}
// #endregion next-key-value

// #region check-revision
/**
 * The revision a read at `requested` really reads, or the error etcd answers:
 * 0 means "now"; older than the compaction point is gone (ErrCompacted);
 * newer than the current revision does not exist yet (ErrFutureRev).
 */
export function checkRevision(requested: number, current: number, compacted: number): number {
  if (requested <= 0) return current;
  if (requested < compacted) throw new StoreError('COMPACTED', `revision ${requested} is older than the compaction point ${compacted}`);
  if (requested > current) throw new StoreError('FUTURE_REV', `revision ${requested} is newer than the current revision ${current}`);
  return requested;
}
// #endregion check-revision

/** All the changes one revision made, in the order they were made. */
export interface RevisionEntry {
  revision: number;
  events: WatchEvent[];
}

// #region events-between
/**
 * The events a watcher catching up must receive: those of every revision from
 * `from` to `to` (both included), in revision order, keeping only the events
 * `wanted` accepts. `log` is ordered by revision and may start after `from`
 * (older entries compacted away) or contain revisions past `to`.
 */
export function eventsBetween(
  log: readonly RevisionEntry[],
  from: number,
  to: number,
  wanted: (event: WatchEvent) => boolean,
): WatchEvent[] {
  const events: WatchEvent[] = [];
  for (const entry of log) {
    if (entry.revision < from) continue;
    if (entry.revision > to) break;
    for (const event of entry.events) if (wanted(event)) events.push(event);
  }
  return events;
}
// #endregion events-between

// #region prefix-end
/**
 * The range_end that selects every key starting with `prefix`: the prefix
 * with its last byte incremented, after dropping trailing 0xff bytes (which
 * cannot be incremented). A prefix of only 0xff bytes, or an empty one, has no
 * upper bound: "\0", meaning "to the end of the keyspace".
 */
export function prefixEnd(prefix: Bytes): Bytes {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
// #endregion prefix-end

/** The functions the store takes from outside, so a learner's version can drive it. */
export interface StoreSeams {
  nextKeyValue: typeof nextKeyValue;
  checkRevision: typeof checkRevision;
  eventsBetween: typeof eventsBetween;
}

/** The reference seams. */
export const referenceSeams: StoreSeams = { nextKeyValue, checkRevision, eventsBetween };
