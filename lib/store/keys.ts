/**
 * Keys are bytes, and etcd orders them byte by byte. Inside the store we keep
 * each key as a "binary string" (one character per byte, latin1), because
 * JavaScript compares such strings code unit by code unit, which is exactly
 * byte order, and because strings make good Map keys.
 */
import type { Bytes } from './types.ts';

/** The store's internal form of a key: one character per byte. */
export type KeyString = string;

/** Converts key bytes to the store's internal string form. */
export function toKeyString(key: Bytes): KeyString {
  return key.toString('latin1');
}

/** Converts the internal string form back to key bytes. */
export function fromKeyString(key: KeyString): Bytes {
  return Buffer.from(key, 'latin1');
}

/** A key range as etcd defines it: one key, every key from `start`, or [start, end). */
export interface KeyRange {
  start: KeyString;
  /** undefined: only `start`; '' (from "\0"): no upper bound; otherwise exclusive end. */
  end: KeyString | undefined;
}

// #region key-range
/**
 * Turns a request's key and range_end into a KeyRange, following etcd:
 * no range_end means the single key, range_end "\0" means "every key >= key",
 * anything else is the half-open interval [key, range_end).
 */
export function keyRange(key: Bytes, rangeEnd?: Bytes): KeyRange {
  const start = toKeyString(key);
  if (!rangeEnd || rangeEnd.length === 0) return { start, end: undefined };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { start, end: '' };
  return { start, end: toKeyString(rangeEnd) };
}

/** True when `key` falls inside `range`. */
export function inRange(key: KeyString, range: KeyRange): boolean {
  if (range.end === undefined) return key === range.start;
  if (key < range.start) return false;
  return range.end === '' || key < range.end;
}
// #endregion key-range

/** Index of the first element of the sorted array `keys` that is >= `key` (binary search). */
export function lowerBound(keys: readonly KeyString[], key: KeyString): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as KeyString) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
