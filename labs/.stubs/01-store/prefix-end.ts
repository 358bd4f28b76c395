/**
 * Exercise 1.4: the range end of a prefix.
 *
 * etcd has no "list by prefix" call: a range is [key, rangeEnd). To list
 * every Pod, the API server asks for key "/registry/pods/" and a rangeEnd that
 * is the smallest key greater than every key starting with that prefix.
 *
 * Run `npm run grade 1` to check your work, `npm run hint 1.4` when stuck.
 */
import type { Bytes } from '#lib/store/types.ts';
import { todo } from '#lib/workbook/todo.ts';

/**
 * The rangeEnd that selects every key starting with `prefix`. When no such
 * key exists (an empty prefix, or one made only of 0xff bytes), return the
 * single byte 0, which etcd reads as "to the end of the keyspace".
 */
export function prefixEnd(prefix: Bytes): Bytes {
  // TODO: copy the prefix, then increment its last byte that is not 0xff and
  // cut off everything after it.
  return todo('1.4');
}
