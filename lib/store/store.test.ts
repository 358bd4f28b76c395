import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { dataPaths, openStore, restoreSnapshot, type Store } from './store.ts';
import { SEGMENT_BYTES, listSegments } from './wal.ts';

const b = (s: string) => Buffer.from(s);
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kbs-store-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function values(store: Store, prefix = ''): Promise<Record<string, string>> {
  const r = await store.range({ key: b(prefix || '\0'), rangeEnd: b('\0') });
  return Object.fromEntries(r.kvs.map((kv) => [kv.key.toString(), kv.value.toString()]));
}

/** The last segment of the log (where the newest records are). */
function lastSegment(dataDir: string): string {
  const { walDir } = dataPaths(dataDir);
  return join(walDir, listSegments(walDir).filter((name) => statSync(join(walDir, name)).size > 0).at(-1) as string);
}

describe('Store durability', () => {
  it('recovers every acknowledged write and the same revision after a restart', async () => {
    const dataDir = tempDir();
    const store = await openStore({ dataDir, leaseCheckMs: 0 });
    for (let i = 0; i < 30; i++) await store.put({ key: b(`k${i % 7}`), value: b(`v${i}`) });
    await store.deleteRange({ key: b('k3') });
    const before = { revision: store.revision, data: await values(store) };
    // Why no close(): a crash does not close; the records on disk must suffice.
    const reopened = await openStore({ dataDir, leaseCheckMs: 0 });
    assert.equal(reopened.revision, before.revision);
    assert.deepEqual(await values(reopened), before.data);
    await reopened.put({ key: b('next'), value: b('1') });
    assert.equal(reopened.revision, before.revision + 1, 'revisions continue without a gap or a repeat');
    await reopened.close();
    await store.close();
  });

  it('groups concurrent writes into fewer fsyncs (group commit)', async () => {
    const store = await openStore({ dataDir: tempDir(), leaseCheckMs: 0 });
    await Promise.all(Array.from({ length: 200 }, (_, i) => store.put({ key: b(`k${i}`), value: b('v') })));
    const { syncs, records } = store.walStats;
    assert.equal(records, 200);
    assert.ok(syncs < records / 4, `expected far fewer syncs than records, got ${syncs} syncs for ${records} records`);
    await store.close();
  });

  it('snapshots, trims the log, and recovers from snapshot plus log', async () => {
    const dataDir = tempDir();
    const store = await openStore({ dataDir, snapshotEvery: 10, leaseCheckMs: 0 });
    for (let i = 0; i < 35; i++) await store.put({ key: b(`k${i}`), value: b(`v${i}`) });
    await store.close();
    const { snapFile, walDir } = dataPaths(dataDir);
    assert.ok(statSync(snapFile).size > 0, 'a snapshot was written');
    const firstSegment = listSegments(walDir)[0] as string;
    assert.ok(Number(firstSegment.slice(0, 16)) > 1, `old segments were trimmed, first is ${firstSegment}`);
    const reopened = await openStore({ dataDir, leaseCheckMs: 0 });
    assert.equal(reopened.revision, 36);
    assert.equal(Object.keys(await values(reopened)).length, 35);
    await reopened.close();
  });

  it('treats the zeros of a preallocated segment as the end of the log, quietly', async () => {
    const dataDir = tempDir();
    const store = await openStore({ dataDir, leaseCheckMs: 0 });
    for (let i = 0; i < 5; i++) await store.put({ key: b(`k${i}`), value: b('v') });
    const { walDir } = dataPaths(dataDir);
    const active = join(walDir, listSegments(walDir).at(-1) as string);
    assert.equal(statSync(active).size, SEGMENT_BYTES, 'the active segment is preallocated');
    // No close: a crash leaves the preallocated zeros behind.
    const lines: string[] = [];
    const reopened = await openStore({ dataDir, leaseCheckMs: 0, log: (l) => lines.push(l) });
    assert.equal(reopened.revision, 6);
    assert.ok(!lines.some((l) => /torn/.test(l)), `expected no repair message, got ${JSON.stringify(lines)}`);
    assert.ok(statSync(active).size < 1024, 'the old segment was cut to the records it holds');
    await reopened.close();
    await store.close();
  });

  it('cuts off a torn tail with a message and keeps everything before it', async () => {
    const dataDir = tempDir();
    const store = await openStore({ dataDir, leaseCheckMs: 0 });
    for (let i = 0; i < 5; i++) await store.put({ key: b(`k${i}`), value: b('v') });
    await store.close();
    appendFileSync(lastSegment(dataDir), Buffer.from([0x4b, 0x57, 0x41, 0x4c, 0, 0, 0, 99, 1, 2])); // a record cut short
    const lines: string[] = [];
    const reopened = await openStore({ dataDir, leaseCheckMs: 0, log: (l) => lines.push(l) });
    assert.equal(reopened.revision, 6);
    assert.ok(lines.some((l) => /cut off a torn tail of 10 bytes/.test(l)), `expected a torn-tail message, got ${JSON.stringify(lines)}`);
    await reopened.close();
  });

  it('cuts off a last record whose checksum does not match', async () => {
    const dataDir = tempDir();
    const store = await openStore({ dataDir, leaseCheckMs: 0 });
    for (let i = 0; i < 5; i++) await store.put({ key: b(`k${i}`), value: b('value') });
    await store.close();
    const file = lastSegment(dataDir);
    const bytes = readFileSync(file);
    bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 0xff;
    writeFileSync(file, bytes);
    const lines: string[] = [];
    const reopened = await openStore({ dataDir, leaseCheckMs: 0, log: (l) => lines.push(l) });
    assert.equal(reopened.revision, 5, 'the damaged last write is gone, the four before it stay');
    assert.ok(lines.some((l) => /checksum mismatch/.test(l)));
    await reopened.close();
  });

  it('refuses to start when a record in the middle is corrupt', async () => {
    const dataDir = tempDir();
    const store = await openStore({ dataDir, leaseCheckMs: 0 });
    for (let i = 0; i < 5; i++) await store.put({ key: b(`k${i}`), value: b('value') });
    await store.close();
    const file = lastSegment(dataDir);
    const bytes = readFileSync(file);
    bytes[30] = (bytes[30] as number) ^ 0xff; // inside the first record's payload
    writeFileSync(file, bytes);
    await assert.rejects(openStore({ dataDir, leaseCheckMs: 0 }), /corrupt at offset 0 \(checksum mismatch\) but a valid record follows/);
  });

  it('backs up and restores into a fresh data dir with the same keys, values and revision', async () => {
    const store = await openStore({ dataDir: tempDir(), leaseCheckMs: 0 });
    for (let i = 0; i < 12; i++) await store.put({ key: b(`/registry/pods/default/web-${i % 4}`), value: b(`v${i}`) });
    const backup = join(tempDir(), 'backup.db');
    writeFileSync(backup, await store.snapshot());
    const target = join(tempDir(), 'restored');
    const { revision } = await restoreSnapshot(backup, target);
    assert.equal(revision, store.revision);
    const restored = await openStore({ dataDir: target, leaseCheckMs: 0 });
    assert.equal(restored.revision, store.revision);
    assert.deepEqual(await values(restored), await values(store));
    await restored.put({ key: b('after'), value: b('restore') });
    assert.equal(restored.revision, store.revision + 1);
    await restored.close();
    await store.close();
  });

  it('refuses a damaged backup and a non-empty restore target', async () => {
    const store = await openStore({ leaseCheckMs: 0 });
    await store.put({ key: b('k'), value: b('v') });
    const dir = tempDir();
    const backup = join(dir, 'backup.db');
    const bytes = await store.snapshot();
    writeFileSync(backup, bytes.subarray(0, bytes.length - 5));
    await assert.rejects(restoreSnapshot(backup, join(dir, 'new')), /SHA-256 does not match/);
    writeFileSync(backup, bytes);
    await assert.rejects(restoreSnapshot(backup, dir), /expected an empty or new data dir/);
    await store.close();
  });

  it('refuses a value over 1.5 MiB with etcd\'s message and changes nothing', async () => {
    const store = await openStore({ leaseCheckMs: 0 });
    await assert.rejects(store.put({ key: b('big'), value: Buffer.alloc(1.6 * 1024 * 1024) }), /etcdserver: request is too large/);
    assert.equal(store.revision, 1);
    await store.close();
  });

  it('expires leases on its clock and deletes their keys through the log', async () => {
    let clock = 1_000_000;
    const dataDir = tempDir();
    const store = await openStore({ dataDir, now: () => clock, leaseCheckMs: 0 });
    const { id, ttl } = await store.leaseGrant(10);
    assert.equal(ttl, 10);
    await store.put({ key: b('/registry/leases/kube-node-lease/node-2'), value: b('renewed'), lease: id });
    clock += 9_000;
    store.expireLeases();
    assert.equal((await store.leaseTimeToLive(id)).ttl, 1);
    clock += 2_000;
    store.expireLeases();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await store.range({ key: b('/registry/leases/kube-node-lease/node-2') })).count, 0);
    assert.equal((await store.leaseTimeToLive(id)).ttl, -1);
    const reopened = await openStore({ dataDir, now: () => clock, leaseCheckMs: 0 });
    assert.equal((await reopened.range({ key: b('/registry/leases/kube-node-lease/node-2') })).count, 0, 'the revoke was logged');
    await reopened.close();
    await store.close();
  });

  it('refuses a second process on the same data dir but takes over after a crash', async () => {
    const dataDir = tempDir();
    const store = await openStore({ dataDir, leaseCheckMs: 0 });
    writeFileSync(dataPaths(dataDir).lockFile, '999999999'); // a pid that does not run
    const again = await openStore({ dataDir, leaseCheckMs: 0 });
    await again.close();
    writeFileSync(dataPaths(dataDir).lockFile, String(process.ppid)); // a live process that is not us
    await assert.rejects(openStore({ dataDir, leaseCheckMs: 0 }), /data dir is in use by process/);
    await store.close();
  });

  it('delivers a watch from a past revision in the background, then live', async () => {
    const store = await openStore({ leaseCheckMs: 0 });
    for (let i = 0; i < 5; i++) await store.put({ key: b('k'), value: b(`v${i}`) });
    const revisions: number[] = [];
    store.watch({ key: b('k'), startRevision: 2 }, (r) => revisions.push(...r.events.map((e) => e.kv.modRevision)));
    assert.deepEqual(revisions, [], 'catch-up does not run inside watch() itself');
    await new Promise((r) => setImmediate(r));
    await store.put({ key: b('k'), value: b('live') });
    assert.deepEqual(revisions, [2, 3, 4, 5, 6, 7]);
    await store.close();
  });
});
