/**
 * One scenario, three stores: the in-process Store (the baseline), our store
 * process reached through connectEtcd, and the real etcd 3.4 reached the same
 * way. Every answer must come back in the same shape from all three.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, startRealEtcd } from '../../test/helpers/etcd.ts';
import { StoreError, type StoreErrorCode } from '../store/errors.ts';
import { startStoreProcess } from '../store/process.ts';
import { openStore } from '../store/store.ts';
import type { KeyValue, WatchOptions, WatchResponse } from '../store/types.ts';
import { requireTool, type SkipOption } from '../workbook/realmode.ts';
import type { Backend } from './backend.ts';
import { connectEtcd, EtcdCallError, parseEndpoint } from './etcd-client.ts';

const b = (text: string): Buffer => Buffer.from(text);
const PODS = '/registry/pods/';
const PODS_END = '/registry/pods0';
const A = `${PODS}default/a`;
const B = `${PODS}default/b`;

/** A store to run the scenario against, and how to crash it and clean up. */
interface Target {
  backend: Backend;
  endpoint?: string;
  /** Ends the server abruptly (remote targets only). */
  kill?: () => Promise<void>;
  cleanup: () => Promise<void>;
}

/** A watch that records what it receives, and a way to wait for a condition on that. */
function recordWatch(backend: Backend, options: WatchOptions) {
  const responses: WatchResponse[] = [];
  const handle = backend.watch(options, (response) => responses.push(response));
  const until = async (done: (seen: WatchResponse[]) => boolean, expected: string, timeoutMs = 3000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!done(responses)) {
      if (Date.now() > deadline) assert.fail(`expected ${expected} within ${timeoutMs} ms, got ${JSON.stringify(responses)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return { responses, handle, until };
}

/** A promise's rejection must be a StoreError with this code. */
async function rejectsWith(promise: Promise<unknown>, code: StoreErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof StoreError, `expected a StoreError ${code}, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

function kv(key: string, value: string, createRevision: number, modRevision: number, version: number, lease = 0): KeyValue {
  return { key: b(key), value: b(value), createRevision, modRevision, version, lease };
}

function describeScenario(title: string, skip: SkipOption, start: () => Promise<Target>, killable = true): void {
  describe(title, skip, () => {
    let t: Target;
    /** Revisions of the writes, for the later steps that look back at them. */
    let created = 0;
    let updated = 0;

    before(async () => {
      t = await start();
    });
    after(async () => {
      await t?.cleanup();
    });

    test('A create-if-absent transaction (compare createRevision = 0) creates the key once, then fails and answers with the range it ran instead.', async () => {
      const createA = () =>
        t.backend.txn({
          compare: [{ key: b(A), target: 'CREATE', result: 'EQUAL', createRevision: 0 }],
          success: [{ requestPut: { key: b(A), value: b('v1') } }],
          failure: [{ requestRange: { key: b(A) } }],
        });
      const first = await createA();
      created = first.header.revision;
      assert.deepEqual(first, { header: { revision: created }, succeeded: true, responses: [{ responsePut: { header: { revision: created } } }] });
      const second = await createA();
      assert.deepEqual(second, {
        header: { revision: created },
        succeeded: false,
        responses: [{ responseRange: { header: { revision: created }, kvs: [kv(A, 'v1', created, created, 1)], more: false, count: 1 } }],
      });
    });

    test('An update conditional on modRevision succeeds with the current one, returning the previous value, and fails with a stale one.', async () => {
      const update = (modRevision: number, value: string) =>
        t.backend.txn({
          compare: [{ key: b(A), target: 'MOD', result: 'EQUAL', modRevision }],
          success: [{ requestPut: { key: b(A), value: b(value), prevKv: true } }],
          failure: [{ requestRange: { key: b(A) } }],
        });
      const fresh = await update(created, 'v2');
      updated = fresh.header.revision;
      assert.equal(updated, created + 1);
      assert.deepEqual(fresh.responses, [{ responsePut: { header: { revision: updated }, prevKv: kv(A, 'v1', created, created, 1) } }]);
      const stale = await update(created, 'v3');
      assert.equal(stale.succeeded, false);
      assert.deepEqual(stale.responses, [{ responseRange: { header: { revision: updated }, kvs: [kv(A, 'v2', created, updated, 2)], more: false, count: 1 } }]);
    });

    test('A prefix range at an older revision sees the store as it was then; without a revision it sees the present.', async () => {
      const put = await t.backend.txn({ compare: [], success: [{ requestPut: { key: b(B), value: b('b1') } }], failure: [] });
      const now = put.header.revision;
      const then = await t.backend.range({ key: b(PODS), rangeEnd: b(PODS_END), revision: created });
      assert.deepEqual(then, { header: { revision: now }, kvs: [kv(A, 'v1', created, created, 1)], more: false, count: 1 });
      const present = await t.backend.range({ key: b(PODS), rangeEnd: b(PODS_END) });
      assert.deepEqual(present.kvs, [kv(A, 'v2', created, updated, 2), kv(B, 'b1', now, now, 1)]);
      assert.equal(present.count, 2);
    });

    test('A watch from a past revision delivers every write since, in order, each with its previous value.', async () => {
      const deleted = await t.backend.txn({ compare: [], success: [{ requestDeleteRange: { key: b(B), prevKv: true } }], failure: [] });
      const gone = deleted.header.revision;
      const putB = gone - 1;
      assert.deepEqual(deleted.responses, [{ responseDeleteRange: { header: { revision: gone }, deleted: 1, prevKvs: [kv(B, 'b1', putB, putB, 1)] } }]);

      const watch = recordWatch(t.backend, { key: b(PODS), rangeEnd: b(PODS_END), startRevision: created, prevKv: true });
      const events = () => watch.responses.flatMap((r) => r.events);
      await watch.until(() => events().length >= 4, 'four events');
      watch.handle.cancel();
      assert.deepEqual(events(), [
        { type: 'PUT', kv: kv(A, 'v1', created, created, 1) },
        { type: 'PUT', kv: kv(A, 'v2', created, updated, 2), prevKv: kv(A, 'v1', created, created, 1) },
        { type: 'PUT', kv: kv(B, 'b1', putB, putB, 1) },
        { type: 'DELETE', kv: { key: b(B), value: b(''), createRevision: 0, modRevision: gone, version: 0, lease: 0 }, prevKv: kv(B, 'b1', putB, putB, 1) },
      ]);
      assert.ok(watch.responses.every((r) => !r.canceled), 'no response may cancel the watch');
    });

    test('requestProgress yields a response without events that carries the current revision.', async () => {
      const { header } = await t.backend.range({ key: b(A) });
      const watch = recordWatch(t.backend, { key: b('/registry/quiet/'), rangeEnd: b('/registry/quiet0') });
      watch.handle.requestProgress();
      await watch.until((seen) => seen.length > 0, 'a progress response');
      watch.handle.cancel();
      const [progress] = watch.responses;
      assert.deepEqual(progress?.events, []);
      assert.equal(progress?.header.revision, header.revision);
      assert.equal(progress?.canceled, undefined);
    });

    test('leaseGrant returns a lease a put can attach to, and the key then shows the lease id.', async () => {
      const lease = await t.backend.leaseGrant(60);
      assert.equal(lease.ttl, 60);
      assert.ok(Number.isSafeInteger(lease.id) && lease.id > 0, `expected a positive lease id, got ${lease.id}`);
      const key = '/registry/leases/x';
      const put = await t.backend.txn({ compare: [], success: [{ requestPut: { key: b(key), value: b('x'), lease: lease.id } }], failure: [] });
      const got = await t.backend.range({ key: b(key) });
      assert.deepEqual(got.kvs, [kv(key, 'x', put.header.revision, put.header.revision, 1, lease.id)]);
    });

    test('After compaction a range at an older revision throws COMPACTED, and a watch from there is canceled with the compact revision.', async () => {
      const { header } = await t.backend.range({ key: b(A) });
      await t.backend.compact({ revision: header.revision });
      await rejectsWith(t.backend.range({ key: b(A), revision: created }), 'COMPACTED');
      const watch = recordWatch(t.backend, { key: b(PODS), rangeEnd: b(PODS_END), startRevision: created });
      await watch.until((seen) => seen.some((r) => r.canceled), 'a canceled response');
      const { header: _, watchId: __, ...last } = watch.responses.at(-1)!;
      assert.deepEqual(last, { events: [], compactRevision: header.revision, canceled: true, cancelReason: 'mvcc: required revision has been compacted' });
      assert.equal(watch.responses.length, 1);
    });

    test("A write over etcd's 1.5 MiB request limit throws REQUEST_TOO_LARGE, also past grpc's own receive limit.", async () => {
      const put = (bytes: number) => t.backend.txn({ compare: [], success: [{ requestPut: { key: b('/registry/big'), value: Buffer.alloc(bytes) } }], failure: [] });
      await rejectsWith(put(1.6 * 1024 * 1024), 'REQUEST_TOO_LARGE');
      await rejectsWith(put(2.5 * 1024 * 1024), 'REQUEST_TOO_LARGE');
    });

    // The in-process store has no server to kill, so its scenario has no such step.
    if (killable) test('Killing the server ends an open watch with a canceled response saying the stream broke, and later calls fail naming the endpoint.', async () => {
      assert.ok(t.kill, 'expected a server this scenario can kill');
      const watch = recordWatch(t.backend, { key: b(PODS), rangeEnd: b(PODS_END) });
      await t.backend.txn({ compare: [], success: [{ requestPut: { key: b(B), value: b('b2') } }], failure: [] });
      await watch.until((seen) => seen.length > 0, 'the event of the put');
      await t.kill();
      await watch.until((seen) => seen.some((r) => r.canceled), 'a canceled response');
      const last = watch.responses.at(-1)!;
      assert.equal(last.canceled, true);
      assert.match(last.cancelReason ?? '', new RegExp(`watch stream to etcd at ${t.endpoint} broke`));

      await assert.rejects(t.backend.range({ key: b(A) }), (err: unknown) => {
        assert.ok(err instanceof EtcdCallError, `expected an EtcdCallError, got ${String(err)}`);
        assert.equal(err.grpcCode, 14);
        assert.match(err.message, new RegExp(`KV.Range to etcd at ${t.endpoint} failed with UNAVAILABLE`));
        return true;
      });
      const late = recordWatch(t.backend, { key: b(PODS), rangeEnd: b(PODS_END) });
      await late.until((seen) => seen.some((r) => r.canceled), 'a new watch on the dead server to be canceled');
    });
  });
}

describeScenario('the in-process store (the baseline the remote stores must match)', { skip: false }, async () => {
  const store = await openStore();
  return { backend: store, cleanup: () => store.close() };
}, false);

describeScenario('connectEtcd to our store process', { skip: false }, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'etcd-client-'));
  const server = await startStoreProcess(dataDir);
  // Why the http:// form here: it is what --etcd-servers takes, and it must work too.
  const backend = await connectEtcd(`http://${server.endpoint}`);
  return {
    backend,
    endpoint: server.endpoint,
    kill: () => server.kill9(),
    cleanup: async () => {
      await backend.close();
      await server.kill9();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});

describeScenario('connectEtcd to the real etcd 3.4', requireTool('etcd'), async () => {
  const real = await startRealEtcd({ name: 'etcd-client' });
  const backend = await connectEtcd(real.endpoint);
  return {
    backend,
    endpoint: real.endpoint,
    kill: () => real.stop(),
    cleanup: async () => {
      await backend.close();
      await real.stop();
    },
  };
});

describe('connectEtcd without a server', () => {
  test('Connecting to an endpoint where nothing listens fails within timeoutMs, naming the endpoint.', async () => {
    const endpoint = `127.0.0.1:${await freePort()}`;
    const started = Date.now();
    await assert.rejects(connectEtcd(endpoint, { timeoutMs: 300 }), new RegExp(`could not connect to etcd at ${endpoint} within 300 ms`));
    assert.ok(Date.now() - started < 1500, `expected to give up after about 300 ms, took ${Date.now() - started} ms`);
  });

  test('An endpoint is host:port or http://host:port; https and other forms are refused with the reason.', () => {
    assert.equal(parseEndpoint('127.0.0.1:2379'), '127.0.0.1:2379');
    assert.equal(parseEndpoint('http://localhost:2379/'), 'localhost:2379');
    assert.equal(parseEndpoint('http://[::1]:2379'), '[::1]:2379');
    assert.throws(() => parseEndpoint('https://127.0.0.1:2379'), /TLS is not supported/);
    assert.throws(() => parseEndpoint('127.0.0.1'), /expected host:port or http:\/\/host:port/);
  });
});
