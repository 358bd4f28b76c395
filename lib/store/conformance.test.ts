/**
 * Conformance: the same cases, through the same etcd3 client, against our
 * server and against a real etcd 3.4 started for the test. Each case returns a
 * normalised result (revisions relative to where the case began, lease ids
 * left out) and the two results must be equal; each case also asserts its key
 * facts directly, so a case can fail on its own even if both were wrong alike.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Etcd3, type IKeyValue, type IResponseOp, type IWatchResponse } from 'etcd3';
import { startRealEtcd, type RealEtcd } from '../../test/helpers/etcd.ts';
import { requireTool } from '../workbook/realmode.ts';
import { startServer, type RunningServer } from './server.ts';
import { openStore, type Store } from './store.ts';

/** One server under test, seen through the etcd3 client. */
interface Target {
  name: 'ours' | 'etcd';
  client: Etcd3;
}

/** A case: runs against one target and returns what must be equal across both. */
interface Case {
  name: string;
  run(t: Target): Promise<unknown>;
}

// #region helpers
const b = (s: string) => Buffer.from(s);

/** The current revision, read with a cheap count-only range. */
async function revisionOf(t: Target): Promise<number> {
  const res = await t.client.kv.range({ key: b('\0'), count_only: true });
  return Number(res.header.revision);
}

/** A key-value with its revisions relative to `base`, and without its lease id (ids differ between servers). */
function kvShape(kv: IKeyValue | null | undefined, base: number) {
  if (!kv) return null;
  return {
    key: kv.key.toString(),
    value: kv.value.toString(),
    create: Number(kv.create_revision) === 0 ? 0 : Number(kv.create_revision) - base,
    mod: Number(kv.mod_revision) - base,
    version: Number(kv.version),
    leased: kv.lease !== '0',
  };
}

/** The class and message an etcd3 call fails with. */
async function failure(promise: Promise<unknown>): Promise<{ error: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    return { error: (err as Error).constructor.name, message: (err as Error).message };
  }
  assert.fail('expected the call to fail');
}

/** Opens a raw watch stream and collects its responses. */
async function openWatch(t: Target) {
  const stream = await t.client.watchClient.watch();
  const responses: IWatchResponse[] = [];
  stream.on('data', (r: IWatchResponse) => responses.push(r));
  stream.on('error', () => {});
  return { stream, responses };
}

/** Polls until `check` holds, failing after `ms`. */
async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves like `promise`, or fails the test after `ms` saying what never came. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A response op's kind and content, revisions relative to `base`. */
function opShape(op: IResponseOp, base: number): unknown {
  if (op.response_range) return { range: op.response_range.kvs.map((kv) => kvShape(kv, base)), count: Number(op.response_range.count) };
  if (op.response_put) return { put: kvShape(op.response_put.prev_kv, base) };
  if (op.response_delete_range) return { deleted: Number(op.response_delete_range.deleted) };
  return { txn: op.response_txn?.succeeded };
}
// #endregion helpers

// #region cases
const cases: Case[] = [
  {
    name: 'revisions: the first put gets 2; each change takes one revision; a delete of nothing takes none',
    async run(t) {
      const revisions: number[] = [];
      const record = (r: { header: { revision: string } }) => revisions.push(Number(r.header.revision));
      record(await t.client.kv.put({ key: b('rev/a'), value: b('1') }));
      record(await t.client.kv.put({ key: b('rev/b'), value: b('1') }));
      record(await t.client.kv.put({ key: b('rev/a'), value: b('2') }));
      record(await t.client.kv.deleteRange({ key: b('rev/b') }));
      record(await t.client.kv.deleteRange({ key: b('rev/missing') }));
      record(await t.client.kv.deleteRange({ key: b('rev/'), range_end: b('rev0') }));
      // This case runs first, on fresh servers: etcd starts at revision 1.
      assert.deepEqual(revisions, [2, 3, 4, 5, 5, 6]);
      return revisions;
    },
  },
  {
    name: 'create and mod revision and version per key, through a delete and a re-create',
    async run(t) {
      const base = await revisionOf(t);
      await t.client.put('kv/x').value('1');
      await t.client.put('kv/x').value('2');
      await t.client.put('kv/y').value('1');
      await t.client.put('kv/x').value('3');
      const before = (await t.client.kv.range({ key: b('kv/x') })).kvs.map((kv) => kvShape(kv, base));
      await t.client.delete().key('kv/x');
      await t.client.put('kv/x').value('again');
      const after = (await t.client.kv.range({ key: b('kv/'), range_end: b('kv0') })).kvs.map((kv) => kvShape(kv, base));
      assert.deepEqual(before[0], { key: 'kv/x', value: '3', create: 1, mod: 4, version: 3, leased: false });
      assert.deepEqual(after[0], { key: 'kv/x', value: 'again', create: 6, mod: 6, version: 1, leased: false });
      return { before, after };
    },
  },
  {
    name: 'range at a past revision, with limit, sorting and count',
    async run(t) {
      const base = await revisionOf(t);
      for (const [k, v] of [['past/a', '1'], ['past/b', '1'], ['past/a', '2'], ['past/c', '1']] as const) await t.client.put(k).value(v);
      await t.client.delete().key('past/b');
      const range = (revision: number, extra: object = {}) =>
        t.client.kv.range({ key: b('past/'), range_end: b('past0'), revision: String(revision), ...extra });
      const shape = (r: Awaited<ReturnType<typeof range>>) => ({
        kvs: r.kvs.map((kv) => kvShape(kv, base)),
        more: r.more,
        count: Number(r.count),
        header: Number(r.header.revision) - base,
      });
      const atTwo = shape(await range(base + 2));
      const atFour = shape(await range(base + 4));
      const now = shape(await range(0));
      const limited = shape(await range(base + 4, { limit: '1', sort_order: 'Descend', sort_target: 'Key' }));
      const byMod = shape(await range(0, { sort_order: 'Ascend', sort_target: 'Mod', keys_only: true }));
      const countOnly = shape(await range(0, { count_only: true }));
      assert.deepEqual(atTwo.kvs.map((kv) => kv?.key), ['past/a', 'past/b']);
      assert.equal(atTwo.header, 5, 'a past read still reports the current revision in its header');
      assert.deepEqual(limited.kvs.map((kv) => kv?.key), ['past/c']);
      assert.equal(limited.more, true);
      assert.equal(limited.count, 3);
      return { atTwo, atFour, now, limited, byMod, countOnly };
    },
  },
  {
    name: 'txn: compares on mod revision, version, create revision and value; both branches',
    async run(t) {
      const base = await revisionOf(t);
      await t.client.put('txn/k').value('v1');
      const modRevision = String(base + 1);
      const txn = async (compare: object[], success: object[], failure: object[]) => {
        const r = await t.client.kv.txn({ compare, success, failure } as never);
        return { succeeded: r.succeeded, header: Number(r.header.revision) - base, responses: r.responses.map((op) => opShape(op, base)) };
      };
      const put = (key: string, value: string) => ({ request_put: { key: b(key), value: b(value), prev_kv: true } });
      const get = (key: string) => ({ request_range: { key: b(key) } });
      const results = {
        modEqual: await txn([{ key: b('txn/k'), target: 'Mod', result: 'Equal', mod_revision: modRevision }], [put('txn/k', 'v2'), get('txn/k')], [get('txn/k')]),
        modStale: await txn([{ key: b('txn/k'), target: 'Mod', result: 'Equal', mod_revision: modRevision }], [put('txn/k', 'v3')], [get('txn/k')]),
        versionGreater: await txn([{ key: b('txn/k'), target: 'Version', result: 'Greater', version: '1' }], [put('txn/other', 'x')], []),
        createIfMissing: await txn([{ key: b('txn/new'), target: 'Create', result: 'Equal', create_revision: '0' }], [put('txn/new', 'created')], [get('txn/new')]),
        createAgain: await txn([{ key: b('txn/new'), target: 'Create', result: 'Equal', create_revision: '0' }], [put('txn/new', 'twice')], [get('txn/new')]),
        valueNotEqual: await txn([{ key: b('txn/k'), target: 'Value', result: 'NotEqual', value: b('v2') }], [], [{ request_delete_range: { key: b('txn/other') } }]),
        valueLess: await txn([{ key: b('txn/k'), target: 'Value', result: 'Less', value: b('zzz') }], [get('txn/k')], []),
        readOnly: await txn([], [get('txn/k'), get('txn/new')], []),
      };
      assert.equal(results.modEqual.succeeded, true);
      assert.equal(results.modStale.succeeded, false);
      assert.equal(results.createIfMissing.succeeded, true);
      assert.equal(results.createAgain.succeeded, false);
      assert.equal(results.valueNotEqual.succeeded, false);
      return results;
    },
  },
  {
    name: 'txn: the nested headers and a read after a write in the same txn',
    async run(t) {
      const base = await revisionOf(t);
      const r = await t.client.kv.txn({
        compare: [],
        success: [{ request_put: { key: b('nest/a'), value: b('1') } }, { request_range: { key: b('nest/a') } }],
        failure: [],
      });
      return {
        header: Number(r.header.revision) - base,
        inner: r.responses.map((op) => Number((op.response_put ?? op.response_range)?.header?.revision ?? -1) - base),
        read: r.responses[1]?.response_range?.kvs.map((kv) => kvShape(kv, base)),
      };
    },
  },
  {
    name: 'watch from a past revision: every event in order, a txn’s events in one response',
    async run(t) {
      const base = await revisionOf(t);
      await t.client.put('w/a').value('1');
      await t.client.put('w/b').value('1');
      await t.client.kv.txn({ compare: [], success: [{ request_put: { key: b('w/a'), value: b('2') } }, { request_delete_range: { key: b('w/b') } }], failure: [] });
      await t.client.put('elsewhere').value('ignored');
      await t.client.put('w/c').value('1');
      const { stream, responses } = await openWatch(t);
      stream.write({ create_request: { key: b('w/'), range_end: b('w0'), start_revision: String(base + 1), prev_kv: true } });
      const events = () => responses.flatMap((r) => r.events);
      await waitFor('5 watch events', () => events().length >= 5);
      await t.client.put('w/d').value('live');
      await waitFor('the live event', () => events().length >= 6);
      stream.end();
      const shaped = events().map((e) => ({ type: e.type, kv: kvShape(e.kv, base), prev: kvShape(e.prev_kv, base) }));
      const txnResponse = responses.find((r) => r.events.some((e) => Number(e.kv.mod_revision) === base + 3));
      assert.equal(txnResponse?.events.filter((e) => Number(e.kv.mod_revision) === base + 3).length, 2, 'the two events of one revision arrive together');
      assert.deepEqual(shaped.map((e) => `${e.type} ${e.kv?.key} @${e.kv?.mod}`), ['Put w/a @1', 'Put w/b @2', 'Put w/a @3', 'Delete w/b @3', 'Put w/c @5', 'Put w/d @6']);
      const created = responses[0];
      assert.equal(created?.created, true);
      return { created: { created: created?.created, watchId: created?.watch_id, header: Number(created?.header.revision) - base }, events: shaped };
    },
  },
  {
    name: 'watch stream bookkeeping: ids from 0, a chosen id, a duplicate, cancel, progress',
    async run(t) {
      const base = await revisionOf(t);
      const { stream, responses } = await openWatch(t);
      const next = async (n: number) => waitFor(`${n} watch responses`, () => responses.length >= n);
      stream.write({ create_request: { key: b('book/a') } });
      stream.write({ create_request: { key: b('book/b') } });
      await next(2);
      stream.write({ create_request: { key: b('book/c'), watch_id: '7' } });
      await next(3);
      stream.write({ create_request: { key: b('book/c'), watch_id: '7' } });
      await next(4);
      stream.write({ cancel_request: { watch_id: '7' } });
      await next(5);
      stream.write({ cancel_request: { watch_id: '99' } });
      await t.client.put('book/other').value('1');
      stream.write({ progress_request: {} });
      await next(6);
      await t.client.put('book/a').value('1');
      await next(7);
      stream.end();
      const shaped = responses.map((r) => ({
        id: r.watch_id,
        created: r.created,
        canceled: r.canceled,
        reason: r.cancel_reason,
        events: r.events.map((e) => e.kv.key.toString()),
        header: Number(r.header.revision) - base,
      }));
      assert.deepEqual(shaped.map((r) => r.id), ['0', '1', '7', '-1', '7', '-1', '0']);
      assert.equal(shaped[5]?.header, 1, 'the progress notice carries the current revision');
      return shaped;
    },
  },
  {
    name: 'watch filters and prev_kv: NOPUT sees only deletes, with the deleted value',
    async run(t) {
      const base = await revisionOf(t);
      const { stream, responses } = await openWatch(t);
      stream.write({ create_request: { key: b('f/'), range_end: b('f0'), filters: ['Noput'], prev_kv: true } });
      await waitFor('created', () => responses.length >= 1);
      await t.client.put('f/a').value('1');
      await t.client.delete().key('f/a');
      await waitFor('the delete', () => responses.some((r) => r.events.length > 0));
      stream.end();
      const events = responses.flatMap((r) => r.events).map((e) => ({ type: e.type, kv: kvShape(e.kv, base), prev: kvShape(e.prev_kv, base) }));
      assert.deepEqual(events.map((e) => e.type), ['Delete']);
      assert.equal(events[0]?.prev?.value, '1');
      return events;
    },
  },
  {
    name: 'compaction: reads and watches before it fail alike; compacting twice or ahead fails',
    async run(t) {
      const base = await revisionOf(t);
      await t.client.put('c/k').value('1');
      await t.client.put('c/k').value('2');
      await t.client.put('c/k').value('3');
      const compactAt = base + 2;
      await t.client.kv.compact({ revision: String(compactAt) });
      const readOld = await failure(t.client.kv.range({ key: b('c/k'), revision: String(base + 1) }));
      const readAt = (await t.client.kv.range({ key: b('c/k'), revision: String(compactAt) })).kvs.map((kv) => kvShape(kv, base));
      const again = await failure(t.client.kv.compact({ revision: String(compactAt) }));
      const ahead = await failure(t.client.kv.compact({ revision: String(base + 100) }));
      const future = await failure(t.client.get('c/k').revision(String(base + 100)).exec());

      const { stream, responses } = await openWatch(t);
      stream.write({ create_request: { key: b('c/k'), start_revision: String(base + 1) } });
      await waitFor('the compaction cancel', () => responses.some((r) => r.canceled));
      stream.end();
      // Deliberate difference: etcd puts revision 0 in the header of this cancel, we put the current one; only the fields clients read are compared.
      const watch = responses.map((r) => ({
        created: r.created,
        canceled: r.canceled,
        compactRevision: Number(r.compact_revision) === 0 ? 0 : Number(r.compact_revision) - base,
        reason: r.cancel_reason,
        events: r.events.length,
      }));
      const highLevel = await within(5000, 'the etcd3 watcher’s compaction error', new Promise<{ error: string; message: string }>((resolve) => {
        void t.client
          .watch()
          .key('c/k')
          .startRevision(String(base + 1))
          .create()
          .then((w) => w.on('error', (err) => resolve({ error: err.constructor.name, message: err.message })));
      }));
      assert.match(readOld.message, /required revision has been compacted/);
      assert.deepEqual(watch[1], { created: false, canceled: true, compactRevision: 2, reason: '', events: 0 });
      return { readOld, readAt, again, ahead, future, watch, highLevel };
    },
  },
  {
    name: 'leases: TTLs as granted and reported, keep-alive, revoke deletes the keys in one revision',
    async run(t) {
      const base = await revisionOf(t);
      const grant = await t.client.leaseClient.leaseGrant({ TTL: '30', ID: '0' });
      await t.client.kv.put({ key: b('l/a'), value: b('1'), lease: grant.ID });
      await t.client.kv.put({ key: b('l/b'), value: b('1'), lease: grant.ID });
      const ttl = await t.client.leaseClient.leaseTimeToLive({ ID: grant.ID, keys: true });
      const stream = await t.client.leaseClient.leaseKeepAlive();
      const renewed = await within(5000, 'the keep-alive response', new Promise<{ TTL: string }>((resolve) => {
        stream.on('data', (r: { TTL: string }) => resolve(r));
        stream.write({ ID: grant.ID });
      }));
      stream.end();
      const leases = await t.client.leaseClient.leaseLeases();
      const revoke = await t.client.leaseClient.leaseRevoke({ ID: grant.ID });
      const afterRevoke = await t.client.leaseClient.leaseTimeToLive({ ID: grant.ID, keys: true });
      const keysLeft = Number((await t.client.kv.range({ key: b('l/'), range_end: b('l0'), count_only: true })).count);
      const putUnknown = await failure(t.client.kv.put({ key: b('l/c'), value: b('1'), lease: '424242' }));
      const short = await t.client.leaseClient.leaseGrant({ TTL: '1', ID: '0' });
      await t.client.leaseClient.leaseRevoke({ ID: short.ID });
      const result = {
        grantTtl: grant.TTL,
        ttlLeft: Number(ttl.TTL) >= 29 && Number(ttl.TTL) <= 30,
        grantedTtl: ttl.grantedTTL,
        // Sorted: etcd collects a lease's keys from a Go map, whose order is random.
        keys: ttl.keys.map(String).sort(),
        renewedTtl: renewed.TTL,
        listed: leases.leases.some((l) => l.ID === grant.ID),
        revokeRevision: Number(revoke.header.revision) - base,
        afterRevoke: { ttl: afterRevoke.TTL, granted: afterRevoke.grantedTTL, keys: afterRevoke.keys.length },
        keysLeft,
        putUnknown,
        shortTtl: short.TTL,
      };
      assert.deepEqual(result.keys, ['l/a', 'l/b']);
      assert.equal(result.revokeRevision, 3, 'two puts, then one revision deleting both keys');
      assert.equal(result.shortTtl, '2', 'etcd raises a TTL below 2 s to its minimum');
      return result;
    },
  },
  {
    name: 'lease expiry: keys vanish in one revision, and watchers see both deletes together',
    async run(t) {
      const base = await revisionOf(t);
      const grant = await t.client.leaseClient.leaseGrant({ TTL: '1', ID: '0' });
      const { stream, responses } = await openWatch(t);
      stream.write({ create_request: { key: b('exp/'), range_end: b('exp0') } });
      await waitFor('created', () => responses.length >= 1);
      await t.client.kv.put({ key: b('exp/a'), value: b('1'), lease: grant.ID });
      await t.client.kv.put({ key: b('exp/b'), value: b('1'), lease: grant.ID });
      const count = async () => Number((await t.client.kv.range({ key: b('exp/'), range_end: b('exp0'), count_only: true })).count);
      await waitFor('the lease to expire', async () => (await count()) === 0, 10_000);
      await waitFor('the delete events', () => responses.flatMap((r) => r.events).length >= 4);
      stream.end();
      const ttl = await t.client.leaseClient.leaseTimeToLive({ ID: grant.ID, keys: true });
      const deletes = responses.filter((r) => r.events.some((e) => e.type === 'Delete'));
      const result = {
        grantedTtl: grant.TTL,
        revisionAfter: (await revisionOf(t)) - base,
        deleteResponses: deletes.map((r) => r.events.map((e) => `${e.type} ${e.kv.key.toString()} @${Number(e.kv.mod_revision) - base}`)),
        ttlAfter: ttl.TTL,
      };
      assert.equal(result.revisionAfter, 3, 'two puts, then one revision for the expiry');
      assert.deepEqual(result.deleteResponses, [['Delete exp/a @3', 'Delete exp/b @3']]);
      return result;
    },
  },
  {
    name: 'errors for requests etcd refuses: empty key, too large, too many ops, duplicate keys',
    async run(t) {
      const ops = (n: number) => Array.from({ length: n }, (_, i) => ({ request_put: { key: b(`many/${i}`), value: b('x') } }));
      const result = {
        emptyKey: await failure(t.client.kv.put({ key: b(''), value: b('v') })),
        emptyRange: await failure(t.client.kv.range({ key: b('') })),
        tooLarge: await failure(t.client.kv.put({ key: b('big'), value: Buffer.alloc(1.6 * 1024 * 1024) })),
        tooManyOps: await failure(t.client.kv.txn({ compare: [], success: ops(129), failure: [] })),
        duplicateKey: await failure(
          t.client.kv.txn({ compare: [], success: [{ request_put: { key: b('dup'), value: b('1') } }, { request_put: { key: b('dup'), value: b('2') } }], failure: [] }),
        ),
        ignoreValueMissing: await failure(t.client.kv.put({ key: b('nope'), ignore_value: true })),
      };
      const maxOps = await t.client.kv.txn({ compare: [], success: ops(128), failure: [] });
      assert.match(result.tooLarge.message, /etcdserver: request is too large/);
      assert.match(result.tooManyOps.message, /etcdserver: too many operations in txn request/);
      return { ...result, maxOpsSucceeded: maxOps.succeeded };
    },
  },
];
// #endregion cases

// #region run
describe('conformance with a real etcd 3.4', requireTool('etcd'), () => {
  let real: RealEtcd | undefined;
  let store: Store | undefined;
  let server: RunningServer | undefined;
  let dataDir: string | undefined;
  const targets: Target[] = [];

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'conformance-ours-'));
    store = await openStore({ dataDir });
    server = await startServer({ store, port: 0, name: 'conformance' });
    real = await startRealEtcd({ name: 'conformance' });
    targets.push({ name: 'ours', client: new Etcd3({ hosts: `127.0.0.1:${server.port}` }) });
    targets.push({ name: 'etcd', client: new Etcd3({ hosts: real.endpoint }) });
  });

  // Why every step guarded: this must clean up even when before() failed halfway.
  after(async () => {
    for (const t of targets) t.client.close();
    await server?.close();
    await store?.close();
    await real?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  for (const c of cases) {
    test(c.name, async () => {
      // Both servers get the same requests in the same order, so even absolute revisions agree.
      const settled = await Promise.allSettled(targets.map((t) => c.run(t)));
      settled.forEach((s, i) => {
        if (s.status === 'rejected') throw new Error(`against ${targets[i]?.name}: ${(s.reason as Error).message}`, { cause: s.reason });
      });
      const [ours, etcd] = settled.map((s) => (s as PromiseFulfilledResult<unknown>).value);
      assert.deepEqual(ours, etcd, `our server and etcd disagree on: ${c.name}`);
    });
  }
});
// #endregion run
