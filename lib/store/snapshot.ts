/**
 * Snapshots: the whole state of the store at one log index, in one file. The
 * store writes one every so many writes so the log can be trimmed; a backup is
 * the same bytes. It is shaped the way etcd's is, because `etcdctl snapshot
 * save` checks the shape: a body whose size is a multiple of 512 bytes (etcd's
 * database is made of pages), then the SHA-256 of that body. Our body is the
 * header line and the state as JSON, zero padding, and the length of the
 * unpadded part in its last 8 bytes. A damaged or truncated backup is refused.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { decode, encode } from './codec.ts';
import type { CoreState } from './mvcc.ts';

const HEADER = Buffer.from('KBS-SNAPSHOT 1\n');
const HASH_BYTES = 32;
const LENGTH_BYTES = 8;
const ALIGN = 512;

/** A snapshot's content: the core state and the last log index it includes. */
export interface Snapshot {
  index: number;
  state: CoreState;
}

// #region snapshot-format
/** Serialises a snapshot: header and JSON, padding to a multiple of 512 with the length last, then the SHA-256. */
export function encodeSnapshot(snapshot: Snapshot): Buffer {
  const json = encode(snapshot);
  const contentLength = HEADER.length + json.length;
  const padding = (ALIGN - ((contentLength + LENGTH_BYTES) % ALIGN)) % ALIGN;
  const bodyLength = contentLength + padding + LENGTH_BYTES;
  // Why one buffer filled in place: a snapshot is tens of megabytes, and each concatenation copied all of it again.
  const bytes = Buffer.alloc(bodyLength + HASH_BYTES); // zeros: the padding
  HEADER.copy(bytes, 0);
  json.copy(bytes, HEADER.length);
  bytes.writeBigUInt64BE(BigInt(contentLength), bodyLength - LENGTH_BYTES);
  createHash('sha256').update(bytes.subarray(0, bodyLength)).digest().copy(bytes, bodyLength);
  return bytes;
}

/** Parses a snapshot; `source` names it in errors. Throws when the bytes are not an intact snapshot. */
export function decodeSnapshot(bytes: Buffer, source: string): Snapshot {
  if (bytes.length < HEADER.length + LENGTH_BYTES + HASH_BYTES || !bytes.subarray(0, HEADER.length).equals(HEADER)) {
    throw new Error(`${source}: expected a store snapshot (starting with "KBS-SNAPSHOT 1"), got ${bytes.length} bytes of something else`);
  }
  const body = bytes.subarray(0, bytes.length - HASH_BYTES);
  const hash = bytes.subarray(bytes.length - HASH_BYTES);
  if (body.length % ALIGN !== 0 || !createHash('sha256').update(body).digest().equals(hash)) {
    throw new Error(`${source}: the snapshot's SHA-256 does not match its content: the file is damaged or truncated`);
  }
  const length = Number(body.readBigUInt64BE(body.length - LENGTH_BYTES));
  return decode<Snapshot>(body.subarray(HEADER.length, length));
}
// #endregion snapshot-format

/** Writes a file so that after a crash it holds either the old or the new content, never a mix. */
export function writeFileAtomic(path: string, bytes: Buffer): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  // Why sync the directory: the rename itself lives in the directory's data.
  const dirFd = openSync(dirname(path), 'r');
  fsyncSync(dirFd);
  closeSync(dirFd);
}

/**
 * writeFileAtomic without blocking the event loop: the store keeps serving
 * while tens of megabytes are written and synced. Only the store's own
 * snapshots use it; their bytes are made (and the state fixed) before it starts.
 */
export async function writeFileAtomicAsync(path: string, bytes: Buffer): Promise<void> {
  const tmp = `${path}.tmp`;
  const file = await open(tmp, 'w');
  try {
    await file.writeFile(bytes);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Reads a snapshot file. */
export function readSnapshot(path: string): Snapshot {
  return decodeSnapshot(readFileSync(path), path);
}
