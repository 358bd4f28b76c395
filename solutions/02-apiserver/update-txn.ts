/**
 * Solution 2.2: the transaction of a conditional update.
 */
import type { TxnRequest } from '#lib/store/types.ts';

export function conditionalPut(key: Buffer, value: Buffer, expectedRevision: number): TxnRequest {
  return {
    // "Nobody wrote this key since revision N": its mod revision is still N.
    compare: [{ key, target: 'MOD', result: 'EQUAL', modRevision: expectedRevision }],
    // Then write. ignoreLease keeps the key on its lease (an Event's expiry).
    success: [{ requestPut: { key, value, ignoreLease: true } }],
    // Else read the key, so the caller can tell "changed" (409) from "gone" (404).
    failure: [{ requestRange: { key } }],
  };
}
