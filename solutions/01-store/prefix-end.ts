/**
 * Solution 1.4: the range end of a prefix.
 */
import type { Bytes } from '#lib/store/types.ts';

export function prefixEnd(prefix: Bytes): Bytes {
  // Work on a copy: the caller's buffer is the start of the range.
  const end = Buffer.from(prefix);
  // "/registry/pods/" ends in "/" (0x2f); "/registry/pods0" (0x30 at the end)
  // is the first key past every "/registry/pods/..." key. A trailing 0xff
  // cannot be incremented, so drop it and carry into the byte before.
  for (let i = end.length - 1; i >= 0; i--) {
    const byte = end[i] as number;
    if (byte < 0xff) {
      end[i] = byte + 1;
      return end.subarray(0, i + 1);
    }
  }
  // Nothing to increment: every key from the prefix on matches.
  return Buffer.from([0]);
}
