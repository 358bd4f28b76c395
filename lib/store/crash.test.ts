/**
 * The store process is killed with SIGKILL in the middle of a write load from
 * several clients, again and again; after each restart every acknowledged
 * write must be there and revisions must go on without a gap or a repeat.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { startStoreProcess, type StoreProcess } from './process.ts';

const ROUNDS = 8;
const CLIENTS = 4;

/** Revisions taken by the probe writes of `verify`, which are not configmaps. */
const probeRevisions: number[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'kbs-crash-'));
let current: StoreProcess | undefined;
after(async () => {
  await current?.kill9();
  rmSync(dataDir, { recursive: true, force: true });
});

it(`keeps every acknowledged write through ${ROUNDS} kill -9s under load from ${CLIENTS} clients`, { timeout: 180_000 }, async () => {
  const acked = new Map<string, { value: string; revision: number }>();
  for (let round = 1; round <= ROUNDS; round++) {
    current = await startStoreProcess(dataDir);
    const client = new Etcd3({ hosts: current.endpoint });
    await verify(client, acked, round);
    let killed = false;
    const writers = Array.from({ length: CLIENTS }, async (_, c) => {
      for (let i = 0; !killed; i++) {
        const key = `/registry/configmaps/round-${round}/client-${c}-${i}`;
        const value = `r${round}c${c}i${i}`;
        try {
          const response = await client.put(key).value(value).exec();
          // Only writes whose answer arrived before the kill count as acknowledged.
          if (!killed) acked.set(key, { value, revision: Number(response.header.revision) });
        } catch {
          return;
        }
      }
    });
    await new Promise((r) => setTimeout(r, 150 + ((round * 37) % 200)));
    killed = true;
    await current.kill9();
    client.close();
    await Promise.race([Promise.allSettled(writers), new Promise((r) => setTimeout(r, 2000))]);
  }
  current = await startStoreProcess(dataDir);
  const client = new Etcd3({ hosts: current.endpoint });
  await verify(client, acked, ROUNDS + 1);
  client.close();
  console.log(`acknowledged writes: ${acked.size}`);
  assert.ok(acked.size > ROUNDS * CLIENTS, `expected a real write load, got only ${acked.size} acknowledged writes`);
});

/** Every acknowledged write is there; each revision from 2 to the current one belongs to exactly one key; the next write takes the next revision. */
async function verify(client: Etcd3, acked: Map<string, { value: string; revision: number }>, round: number): Promise<void> {
  const all = await client.getAll().prefix('/registry/configmaps/').exec();
  const found = new Map(all.kvs.map((kv) => [kv.key.toString(), { value: kv.value.toString(), revision: Number(kv.mod_revision) }]));
  for (const [key, expected] of acked) {
    assert.deepEqual(found.get(key), expected, `round ${round}: acknowledged write ${key} is missing or changed after the restart`);
  }
  const current = Number(all.header.revision);
  const revisions = [...found.values()].map((v) => v.revision).concat(probeRevisions).sort((a, b) => a - b);
  assert.deepEqual(revisions, Array.from({ length: current - 1 }, (_, i) => i + 2), `round ${round}: revisions 2..${current} each used exactly once`);
  const probe = await client.put('/probe').value(String(round)).exec();
  assert.equal(Number(probe.header.revision), current + 1, `round ${round}: the next write continues at ${current + 1}`);
  const removed = await client.delete().key('/probe').exec();
  probeRevisions.push(current + 1, Number(removed.header.revision));
}
