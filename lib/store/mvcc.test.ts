import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MvccStore, compactVersions } from './mvcc.ts';
import { prefixEnd } from './revisions.ts';
import type { WatchResponse } from './types.ts';

const b = (s: string) => Buffer.from(s);
const put = (s: MvccStore, key: string, value: string, lease = 0) => s.apply({ op: 'put', request: { key: b(key), value: b(value), lease } }, 0);
const del = (s: MvccStore, key: string, end?: string) => s.apply({ op: 'deleteRange', request: { key: b(key), rangeEnd: end ? b(end) : undefined } }, 0);
const get = (s: MvccStore, key: string, revision = 0) => s.range({ key: b(key), revision }).kvs[0];
const summary = (r: WatchResponse[]) => r.flatMap((x) => x.events.map((e) => `${e.type} ${e.kv.key.toString()}@${e.kv.modRevision}`));

describe('MVCC core', () => {
  it('starts at revision 1 and gives each write the next revision, as etcd does', () => {
    const s = new MvccStore();
    assert.equal(s.currentRevision, 1);
    put(s, '/registry/pods/default/web-1', 'a');
    put(s, '/registry/pods/default/web-2', 'b');
    assert.equal(s.currentRevision, 3);
  });

  it('keeps create_revision across updates, counts versions, and resets both after a delete', () => {
    const s = new MvccStore();
    put(s, 'k', '1');
    put(s, 'k', '2');
    assert.deepEqual([get(s, 'k')?.createRevision, get(s, 'k')?.modRevision, get(s, 'k')?.version], [2, 3, 2]);
    del(s, 'k');
    assert.equal(get(s, 'k'), undefined);
    put(s, 'k', '3');
    assert.deepEqual([get(s, 'k')?.createRevision, get(s, 'k')?.modRevision, get(s, 'k')?.version], [5, 5, 1]);
  });

  it('reads the store as it was at a past revision', () => {
    const s = new MvccStore();
    put(s, 'k', 'old');
    put(s, 'k', 'new');
    del(s, 'k');
    assert.equal(get(s, 'k', 2)?.value.toString(), 'old');
    assert.equal(get(s, 'k', 3)?.value.toString(), 'new');
    assert.equal(get(s, 'k', 4), undefined);
    assert.throws(() => get(s, 'k', 99), /required revision is a future revision/);
  });

  it('ranges over a prefix in byte order with count, limit and more', () => {
    const s = new MvccStore();
    for (const name of ['web-3', 'web-1', 'web-2']) put(s, `/registry/pods/default/${name}`, name);
    put(s, '/registry/services/default/backend', 'svc');
    const prefix = b('/registry/pods/');
    const all = s.range({ key: prefix, rangeEnd: prefixEnd(prefix) });
    assert.deepEqual(all.kvs.map((kv) => kv.value.toString()), ['web-1', 'web-2', 'web-3']);
    const limited = s.range({ key: prefix, rangeEnd: prefixEnd(prefix), limit: 2 });
    assert.deepEqual([limited.kvs.length, limited.count, limited.more], [2, 3, true]);
    const counted = s.range({ key: prefix, rangeEnd: prefixEnd(prefix), countOnly: true });
    assert.deepEqual([counted.kvs.length, counted.count], [0, 3]);
  });

  it('does not take a revision for a delete that deletes nothing', () => {
    const s = new MvccStore();
    del(s, 'missing');
    assert.equal(s.currentRevision, 1);
  });

  it('runs a transaction atomically at one revision, comparing mod_revision', () => {
    const s = new MvccStore();
    put(s, 'a', '1');
    const ok = s.apply(
      { op: 'txn', request: { compare: [{ key: b('a'), target: 'MOD', result: 'EQUAL', modRevision: 2 }], success: [{ requestPut: { key: b('a'), value: b('2') } }, { requestPut: { key: b('b'), value: b('x') } }], failure: [] } },
      0,
    ) as { succeeded: boolean };
    assert.equal(ok.succeeded, true);
    assert.equal(s.currentRevision, 3);
    assert.equal(get(s, 'b')?.modRevision, 3);
    const stale = s.apply(
      { op: 'txn', request: { compare: [{ key: b('a'), target: 'MOD', result: 'EQUAL', modRevision: 2 }], success: [{ requestPut: { key: b('a'), value: b('lost') } }], failure: [{ requestRange: { key: b('a') } }] } },
      0,
    ) as { succeeded: boolean; responses: Array<{ responseRange?: { kvs: Array<{ value: Buffer }> } }> };
    assert.equal(stale.succeeded, false);
    assert.equal(stale.responses[0]?.responseRange?.kvs[0]?.value.toString(), '2');
    assert.equal(s.currentRevision, 3, 'a failed compare with only reads writes nothing');
  });

  it('leaves the state untouched when one op of a transaction fails', () => {
    const s = new MvccStore();
    assert.throws(
      () => s.apply({ op: 'txn', request: { compare: [], success: [{ requestPut: { key: b('a'), value: b('1') } }, { requestPut: { key: b('b'), value: b('2'), lease: 42 } }], failure: [] } }, 0),
      /requested lease not found/,
    );
    assert.equal(s.currentRevision, 1);
    assert.equal(get(s, 'a'), undefined);
  });

  it('refuses a transaction that writes one key twice, before anything is logged', () => {
    const s = new MvccStore();
    assert.throws(
      () => s.validate({ op: 'txn', request: { compare: [], success: [{ requestPut: { key: b('a'), value: b('1') } }, { requestPut: { key: b('a'), value: b('2') } }], failure: [] } }),
      /duplicate key given in txn request/,
    );
  });

  it('compacts history: old reads and watches answer ErrCompacted, current state survives', () => {
    const s = new MvccStore();
    put(s, 'a', '1');
    put(s, 'a', '2');
    put(s, 'gone', 'x');
    del(s, 'gone');
    s.apply({ op: 'compact', request: { revision: 4 } }, 0);
    assert.throws(() => get(s, 'a', 3), /required revision has been compacted/);
    assert.equal(get(s, 'a', 4)?.value.toString(), '2');
    assert.equal(get(s, 'a')?.version, 2);
    assert.throws(() => s.apply({ op: 'compact', request: { revision: 4 } }, 0), /required revision has been compacted/);
    const seen: WatchResponse[] = [];
    s.watch({ key: b('a'), startRevision: 2 }, (r) => seen.push(r));
    s.hub.syncStep();
    assert.equal(seen[0]?.canceled, true);
    assert.equal(seen[0]?.compactRevision, 4);
  });

  it('keeps a key whose newest old version is live, and drops one deleted before the compaction point', () => {
    const live = { kv: { key: b('k'), value: b('v'), createRevision: 2, modRevision: 2, version: 1, lease: 0 }, sub: 0, deleted: false };
    const newer = { ...live, kv: { ...live.kv, modRevision: 6, version: 2 } };
    const tomb = { kv: { key: b('k'), value: b(''), createRevision: 0, modRevision: 3, version: 0, lease: 0 }, sub: 0, deleted: true };
    assert.equal(compactVersions([live, newer], 4).length, 2);
    assert.equal(compactVersions([live, tomb], 4).length, 0);
  });

  it('replays a watch from a past revision, then streams new writes, with no gap or repeat', () => {
    const s = new MvccStore();
    put(s, '/registry/pods/a', '1');
    put(s, '/registry/pods/b', '1');
    put(s, '/registry/other', '1');
    const seen: WatchResponse[] = [];
    const prefix = b('/registry/pods/');
    const handle = s.watch({ key: prefix, rangeEnd: prefixEnd(prefix), startRevision: 2 }, (r) => seen.push(r));
    assert.equal(handle.state(), 'unsynced');
    put(s, '/registry/pods/c', '1'); // written while the watcher is still catching up
    assert.equal(s.hub.syncStep(), false);
    assert.equal(handle.state(), 'synced');
    del(s, '/registry/pods/a');
    assert.deepEqual(summary(seen), ['PUT /registry/pods/a@2', 'PUT /registry/pods/b@3', 'PUT /registry/pods/c@5', 'DELETE /registry/pods/a@6']);
  });

  it('catches up in bounded batches and never splits a revision', () => {
    const s = new MvccStore();
    for (let i = 0; i < 10; i++) put(s, `k${i}`, 'v');
    s.apply({ op: 'txn', request: { compare: [], success: [{ requestPut: { key: b('x1'), value: b('1') } }, { requestPut: { key: b('x2'), value: b('2') } }], failure: [] } }, 0);
    const seen: WatchResponse[] = [];
    s.watch({ key: b('\0'), rangeEnd: b('\0'), startRevision: 1 }, (r) => seen.push(r));
    let steps = 0;
    while (s.hub.syncStep(3)) steps++;
    assert.ok(steps >= 3, `expected several catch-up steps, got ${steps}`);
    const revisions = summary(seen).map((e) => Number(e.split('@')[1]));
    assert.deepEqual(revisions, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 12]);
    const txnResponse = seen.find((r) => r.events.some((e) => e.kv.key.toString() === 'x1'));
    assert.equal(txnResponse?.events.filter((e) => e.kv.modRevision === 12).length, 2, 'both events of revision 12 in one response');
  });

  it('sends prev_kv only when asked and honours NOPUT/NODELETE filters', () => {
    const s = new MvccStore();
    const plain: WatchResponse[] = [];
    const withPrev: WatchResponse[] = [];
    const deletesOnly: WatchResponse[] = [];
    s.watch({ key: b('k') }, (r) => plain.push(r));
    s.watch({ key: b('k'), prevKv: true }, (r) => withPrev.push(r));
    s.watch({ key: b('k'), filters: ['NOPUT'] }, (r) => deletesOnly.push(r));
    put(s, 'k', '1');
    put(s, 'k', '2');
    del(s, 'k');
    assert.equal(plain[1]?.events[0]?.prevKv, undefined);
    assert.equal(withPrev[1]?.events[0]?.prevKv?.value.toString(), '1');
    assert.deepEqual(summary(deletesOnly), ['DELETE k@4']);
  });

  it('expires a lease through its machine and deletes its keys in one revision when revoked', () => {
    const s = new MvccStore();
    s.apply({ op: 'leaseGrant', id: 7, ttl: 5 }, 0);
    put(s, 'node-2', 'heartbeat', 7);
    put(s, 'node-2/extra', 'x', 7);
    assert.deepEqual(s.lessor.tick(4_000), []);
    assert.equal(s.lessor.keepAlive(7, 4_000), 5, 'a keep-alive renews the lease to its full TTL');
    assert.deepEqual(s.lessor.tick(8_999), []);
    assert.deepEqual(s.lessor.tick(9_000), [7]);
    assert.equal(s.lessor.stateOf(7), 'expired');
    assert.equal(s.lessor.keepAlive(7, 9_001), 0, 'an expired lease cannot be renewed');
    const before = s.currentRevision;
    s.apply({ op: 'leaseRevoke', id: 7 }, 9_001);
    assert.equal(s.currentRevision, before + 1);
    assert.equal(s.range({ key: b('node-2'), rangeEnd: b('node-3') }).count, 0);
  });

  it('raises a TTL below the minimum to 2 seconds, as etcd does', () => {
    const s = new MvccStore();
    const granted = s.apply({ op: 'leaseGrant', id: 1, ttl: 1 }, 0) as { ttl: number };
    assert.equal(granted.ttl, 2);
  });

  it('refuses a put on a lease that does not exist', () => {
    const s = new MvccStore();
    assert.throws(() => put(s, 'k', 'v', 99), /requested lease not found/);
    assert.equal(s.currentRevision, 1);
  });

  it('rebuilds the same state and watch history from an exported snapshot', () => {
    const s = new MvccStore();
    put(s, 'a', '1');
    put(s, 'a', '2');
    del(s, 'a');
    put(s, 'b', '1');
    const copy = new MvccStore();
    copy.importState(s.exportState(), 0);
    assert.equal(copy.currentRevision, s.currentRevision);
    assert.deepEqual(copy.range({ key: b('a'), rangeEnd: b('z') }), s.range({ key: b('a'), rangeEnd: b('z') }));
    const seen: WatchResponse[] = [];
    copy.watch({ key: b('a'), rangeEnd: b('z'), startRevision: 1, prevKv: true }, (r) => seen.push(r));
    copy.hub.syncStep();
    assert.deepEqual(summary(seen), ['PUT a@2', 'PUT a@3', 'DELETE a@4', 'PUT b@5']);
    assert.equal(seen[0]?.events[2]?.prevKv?.value.toString(), '2');
  });
});

describe('a watcher whose consumer stops reading', () => {
  it('is sent nothing while blocked, then catches up from history with no gap or repeat', () => {
    const s = new MvccStore();
    const seen: WatchResponse[] = [];
    const handle = s.watch({ key: b('k'), rangeEnd: b('l') }, (r) => seen.push(r));
    put(s, 'k1', 'a');
    handle.pause();
    assert.equal(handle.state(), 'blocked');
    put(s, 'k2', 'b');
    put(s, 'k3', 'c');
    assert.deepEqual(summary(seen), ['PUT k1@2'], 'nothing is queued for a blocked watcher');
    assert.equal(s.hub.syncStep(), false, 'a blocked watcher is not caught up either');
    handle.resume();
    assert.equal(handle.state(), 'unsynced');
    put(s, 'k4', 'd');
    while (s.hub.syncStep(1)) {
      /* one revision per step */
    }
    put(s, 'k5', 'e');
    assert.equal(handle.state(), 'synced');
    assert.deepEqual(summary(seen), ['PUT k1@2', 'PUT k2@3', 'PUT k3@4', 'PUT k4@5', 'PUT k5@6']);
  });

  it('is canceled with ErrCompacted if history it missed was compacted meanwhile', () => {
    const s = new MvccStore();
    const seen: WatchResponse[] = [];
    const handle = s.watch({ key: b('k') }, (r) => seen.push(r));
    handle.pause();
    put(s, 'k', '1');
    put(s, 'k', '2');
    s.apply({ op: 'compact', request: { revision: 3 } }, 0);
    handle.resume();
    s.hub.syncStep();
    assert.equal(seen.at(-1)?.compactRevision, 3);
    assert.equal(handle.state(), 'compacted');
  });
});
