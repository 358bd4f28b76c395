/**
 * Snapshots: the whole state of the store at one log index, in one file. The
 * store writes one every so many writes so the log can be trimmed; a backup is
 * the same bytes. Like etcd's, a snapshot ends with the SHA-256 of what comes
 * before it, so a damaged or truncated backup is refused on restore.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { decode, encode } from './codec.ts';
import type { CoreState } from './mvcc.ts';

const HEADER = Buffer.from('KBS-SNAPSHOT 1\n');
const HASH_BYTES = 32;

/** A snapshot's content: the core state and the last log index it includes. */
export interface Snapshot {
  index: number;
  state: CoreState;
}

/** Serialises a snapshot, with its checksum at the end. */
export function encodeSnapshot(snapshot: Snapshot): Buffer {
  const body = Buffer.concat([HEADER, encode(snapshot)]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

/** Parses a snapshot; `source` names it in errors. Throws when the bytes are not an intact snapshot. */
export function decodeSnapshot(bytes: Buffer, source: string): Snapshot {
  if (bytes.length < HEADER.length + HASH_BYTES || !bytes.subarray(0, HEADER.length).equals(HEADER)) {
    throw new Error(`${source}: expected a store snapshot (starting with "KBS-SNAPSHOT 1"), got ${bytes.length} bytes of something else`);
  }
  const body = bytes.subarray(0, bytes.length - HASH_BYTES);
  const hash = bytes.subarray(bytes.length - HASH_BYTES);
  if (!createHash('sha256').update(body).digest().equals(hash)) {
    throw new Error(`${source}: the snapshot's SHA-256 does not match its content: the file is damaged or truncated`);
  }
  return decode<Snapshot>(body.subarray(HEADER.length));
}

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

/** Reads a snapshot file. */
export function readSnapshot(path: string): Snapshot {
  return decodeSnapshot(readFileSync(path), path);
}
