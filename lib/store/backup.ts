/**
 * Backups over the wire: streams a snapshot from a running store (ours or a
 * real etcd) through etcd's Maintenance.Snapshot call, as
 * `etcdctl snapshot save` does, and writes it to a file.
 */
import { createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { Etcd3 } from 'etcd3';

/** Saves a snapshot of the store at `endpoint` (host:port) to `file`; returns its size in bytes. */
export async function saveSnapshot(endpoint: string, file: string): Promise<number> {
  const client = new Etcd3({ hosts: endpoint });
  const partial = `${file}.part`;
  try {
    const stream = await client.maintenance.snapshot();
    const out = createWriteStream(partial);
    let bytes = 0;
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (chunk: { blob: Buffer }) => {
        bytes += chunk.blob.length;
        out.write(chunk.blob);
      });
      stream.on('error', reject);
      stream.on('end', () => out.end(resolve));
    });
    // Why write to a partial file first: a backup cut off halfway must never look complete.
    await rename(partial, file);
    return bytes;
  } finally {
    client.close();
  }
}
