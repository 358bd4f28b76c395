/**
 * The gRPC edge: what a client sees that the store itself cannot show — wire
 * headers, request limits, malformed input, 64-bit ids, watch stream
 * bookkeeping and the snapshot stream. Runs with the etcd3 client against an
 * in-memory store.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { Etcd3, type IWatchResponse } from 'etcd3';
import { CLUSTER_ID, MEMBER_ID, loadEtcdServices } from './grpc-codec.ts';
import { decodeSnapshot, encodeSnapshot } from './snapshot.ts';
import { parseArgs, restore, UsageError } from './main.ts';
import { MAX_RECEIVE_BYTES, startServer, type RunningServer } from './server.ts';
import { openStore, type Store } from './store.ts';

interface Fixture {
  store: Store;
  server: RunningServer;
  client: Etcd3;
  endpoint: string;
}

async function startFixture(): Promise<Fixture> {
  const store = await openStore({ leaseCheckMs: 100 });
  const server = await startServer({ store, port: 0 });
  const endpoint = `127.0.0.1:${server.port}`;
  return { store, server, endpoint, client: new Etcd3({ hosts: endpoint }) };
}

async function stopFixture(f: Fixture): Promise<void> {
  f.client.close();
  await f.server.close();
  await f.store.close();
}

/** The gRPC error a promise rejects with: its status code and message. */
async function grpcError(promise: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { code?: number; details?: string; message: string };
    return { code: e.code ?? -1, details: e.details ?? e.message };
  }
  assert.fail('expected the call to fail');
}

/**
 * Calls one method with a plain grpc-js client built from etcd's protos.
 * Why not the etcd3 client here: it rewrites errors into its own classes and
 * messages, and these tests check the exact status code and text on the wire.
 */
function rawCall(endpoint: string, service: 'KV' | 'Lease' | 'Maintenance', method: string, request: object): Promise<unknown> {
  const Client = grpc.makeGenericClientConstructor(loadEtcdServices()[service], service);
  const client = new Client(endpoint, grpc.credentials.createInsecure()) as unknown as Record<string, (req: object, cb: (err: Error | null, res: unknown) => void) => void>;
  return new Promise((resolve, reject) => {
    const fn = client[method] as (req: object, cb: (err: Error | null, res: unknown) => void) => void;
    fn.call(client, request, (err, res) => {
      (client as unknown as grpc.Client).close();
      if (err) reject(err);
      else resolve(res);
    });
  });
}

/** Sends raw bytes to a unary method, bypassing any client-side encoding. */
function rawUnary(endpoint: string, path: string, bytes: Buffer): Promise<Buffer> {
  const client = new grpc.Client(endpoint, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1 });
  return new Promise<Buffer>((resolve, reject) => {
    client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, bytes, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res as Buffer);
    });
  });
}

/** Encodes a request the way a client would, with etcd's own message definitions. */
function encodeRequest(service: 'KV' | 'Lease', method: string, message: object): Buffer {
  const def = loadEtcdServices()[service][method];
  assert.ok(def, `${service}.${method} exists`);
  return def.requestSerialize(message);
}

/** Collects the messages a stream emits, and lets a test wait for the next ones. */
class Inbox<T> {
  private readonly items: T[] = [];
  private waiters: Array<() => void> = [];

  constructor(stream: { on(event: 'data', fn: (item: T) => void): unknown }) {
    stream.on('data', (item: T) => {
      this.items.push(item);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Resolves with the next message, or fails after `ms`. */
  async next(ms = 5000): Promise<T> {
    const deadline = Date.now() + ms;
    while (this.items.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) assert.fail(`no message within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.items.shift() as T;
  }

  /** Asserts nothing arrives within `ms`. */
  async none(ms = 200): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    assert.deepEqual(this.items, [], 'expected no further message');
  }
}

describe('gRPC edge: headers and limits', () => {
  let f: Fixture;
  before(async () => (f = await startFixture()));
  after(async () => stopFixture(f));

  test('every response carries etcd’s header: cluster and member ids, revision and raft term', async () => {
    const res = await f.client.kv.put({ key: Buffer.from('k'), value: Buffer.from('v') });
    assert.equal(res.header.cluster_id, CLUSTER_ID);
    assert.equal(res.header.member_id, MEMBER_ID);
    assert.notEqual(res.header.cluster_id, '0');
    assert.equal(res.header.revision, '2', 'an empty store is at revision 1, so the first put gets 2');
    assert.equal(res.header.raft_term, '2');
  });

  test('a request over 1.5 MiB gets etcd’s "request is too large" and the store does not change', async () => {
    const before = f.store.revision;
    const err = await grpcError(rawCall(f.endpoint, 'KV', 'Put', { key: Buffer.from('big'), value: Buffer.alloc(1.6 * 1024 * 1024, 1) }));
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /^etcdserver: request is too large$/);
    assert.equal(f.store.revision, before);
    assert.equal(await f.client.get('big').string(), null);
  });

  test('a message over gRPC’s limit (1.5 MiB + 512 KiB) is refused by the transport', async () => {
    const before = f.store.revision;
    const bytes = encodeRequest('KV', 'Put', { key: Buffer.from('huge'), value: Buffer.alloc(MAX_RECEIVE_BYTES + 1024) });
    const err = await grpcError(rawUnary(f.endpoint, '/etcdserverpb.KV/Put', bytes));
    assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(f.store.revision, before);
  });

  test('bytes that are not protobuf get INVALID_ARGUMENT, not an internal error', async () => {
    const before = f.store.revision;
    const err = await grpcError(rawUnary(f.endpoint, '/etcdserverpb.KV/Put', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x0a])));
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /malformed request/);
    assert.equal(f.store.revision, before);
  });

  test('an unknown enum value or an empty txn operation is refused without writing', async () => {
    const before = f.store.revision;
    const sort = await grpcError(rawCall(f.endpoint, 'KV', 'Range', { key: Buffer.from('k'), sort_target: 99 }));
    assert.equal(sort.code, grpc.status.INVALID_ARGUMENT);
    assert.match(sort.details, /invalid sort_target 99: expected one of Key, Version, Create, Mod, Value/);

    const txn = await grpcError(rawCall(f.endpoint, 'KV', 'Txn', { compare: [], success: [{ request_put: { key: Buffer.from('t'), value: Buffer.from('1') } }, {}], failure: [] }));
    assert.equal(txn.code, grpc.status.INVALID_ARGUMENT);
    assert.match(txn.details, /invalid txn operation/);
    assert.equal(f.store.revision, before, 'the valid put before the bad op was not applied either');
  });

  test('store errors keep etcd’s code and exact text', async () => {
    const empty = await grpcError(rawCall(f.endpoint, 'KV', 'Put', { key: Buffer.alloc(0), value: Buffer.from('v') }));
    assert.deepEqual(empty, { code: grpc.status.INVALID_ARGUMENT, details: 'etcdserver: key is not provided' });
    const future = await grpcError(rawCall(f.endpoint, 'KV', 'Range', { key: Buffer.from('k'), revision: '1000' }));
    assert.deepEqual(future, { code: grpc.status.OUT_OF_RANGE, details: 'etcdserver: mvcc: required revision is a future revision' });
  });

  test('methods we do not serve answer UNIMPLEMENTED and say which', async () => {
    const err = await grpcError(rawCall(f.endpoint, 'Maintenance', 'Defragment', {}));
    assert.equal(err.code, grpc.status.UNIMPLEMENTED);
    assert.match(err.details, /etcdserverpb\.Maintenance\.Defragment is not implemented/);
  });

  test('MemberList answers one member with our ids and client URL', async () => {
    const res = await f.client.cluster.memberList({ linearizable: false });
    assert.equal(res.members.length, 1);
    assert.equal(res.members[0]?.ID, MEMBER_ID);
    assert.equal(res.members[0]?.name, 'default');
    assert.deepEqual(res.members[0]?.clientURLs, [`http://${f.endpoint}`]);
  });

  test('Status reports us as the leader, with the store’s revision', async () => {
    const res = await f.client.maintenance.status();
    assert.equal(res.leader, MEMBER_ID);
    assert.equal(res.header.revision, String(f.store.revision));
  });
});

describe('gRPC edge: 64-bit ids', () => {
  let f: Fixture;
  before(async () => (f = await startFixture()));
  after(async () => stopFixture(f));

  test('a lease id up to 2^53 − 1 round-trips exactly', async () => {
    const id = String(Number.MAX_SAFE_INTEGER);
    const grant = await f.client.leaseClient.leaseGrant({ TTL: '60', ID: id });
    assert.equal(grant.ID, id);
    const ttl = await f.client.leaseClient.leaseTimeToLive({ ID: id, keys: false });
    assert.equal(ttl.ID, id);
    assert.equal(ttl.grantedTTL, '60');
  });

  test('ids the store picks are exact integers, and are answered back unchanged', async () => {
    const lease = f.client.lease(60, { autoKeepAlive: false });
    const id = await lease.grant();
    assert.match(id, /^\d+$/);
    assert.ok(Number.isSafeInteger(Number(id)));
    const ttl = await f.client.leaseClient.leaseTimeToLive({ ID: id, keys: false });
    assert.equal(ttl.ID, id);
    await lease.revoke();
  });

  test('an id beyond 2^53 − 1 is refused with INVALID_ARGUMENT rather than rounded', async () => {
    const err = await grpcError(rawCall(f.endpoint, 'Lease', 'LeaseGrant', { TTL: '60', ID: '9007199254740993' }));
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /invalid lease ID 9007199254740993/);
    const rev = await grpcError(rawCall(f.endpoint, 'KV', 'Range', { key: Buffer.from('k'), revision: '9223372036854775807' }));
    assert.equal(rev.code, grpc.status.INVALID_ARGUMENT);
    const leases = await f.client.leaseClient.leaseLeases();
    assert.ok(!leases.leases.some((l) => l.ID === '9007199254740992'), 'no rounded lease was created');
  });
});

describe('gRPC edge: watch streams', () => {
  let f: Fixture;
  before(async () => (f = await startFixture()));
  after(async () => stopFixture(f));

  test('a client that stops reading blocks its watchers, which catch up once it reads again', { timeout: 30_000 }, async () => {
    const stream = await f.client.watchClient.watch();
    const events: Array<{ key: string; revision: number }> = [];
    let created = false;
    stream.on('data', (r: IWatchResponse) => {
      if (r.created) created = true;
      for (const e of r.events) events.push({ key: e.kv.key.toString(), revision: Number(e.kv.mod_revision) });
    });
    stream.write({ create_request: { key: Buffer.from('slow/'), range_end: Buffer.from('slow0') } });
    await waitFor(() => created);
    (stream as unknown as NodeJS.ReadableStream).pause(); // the client stops reading: HTTP/2 flow control soon stops the server's writes
    const first = f.store.revision + 1;
    const value = Buffer.alloc(16 * 1024, 'x');
    for (let i = 0; i < 200; i++) await f.store.put({ key: Buffer.from(`slow/${i}`), value });
    await waitFor(() => (f.store.core.hub.stateCounts().blocked ?? 0) > 0);
    (stream as unknown as NodeJS.ReadableStream).resume();
    await waitFor(() => events.length >= 200, 20_000);
    assert.deepEqual(events.map((e) => e.revision), Array.from({ length: 200 }, (_, i) => first + i), 'every revision once, in order');
    await waitFor(() => (f.store.core.hub.stateCounts().synced ?? 0) > 0);
    stream.end();
  });

  test('created comes first with watch id 0, then events; cancel answers canceled', async () => {
    const stream = await f.client.watchClient.watch();
    const inbox = new Inbox<IWatchResponse>(stream);
    stream.write({ create_request: { key: Buffer.from('w/'), range_end: Buffer.from('w0') } });
    const created = await inbox.next();
    assert.equal(created.created, true);
    assert.equal(created.watch_id, '0');
    assert.equal(created.header.revision, String(f.store.revision));

    await f.client.put('w/a').value('1');
    const put = await inbox.next();
    assert.equal(put.watch_id, '0');
    assert.equal(put.events.length, 1);
    assert.equal(put.events[0]?.type, 'Put');
    assert.equal(put.events[0]?.kv.key.toString(), 'w/a');

    stream.write({ cancel_request: { watch_id: '0' } });
    const canceled = await inbox.next();
    assert.equal(canceled.canceled, true);
    assert.equal(canceled.watch_id, '0');
    await f.client.put('w/b').value('2');
    await inbox.none();
    stream.end();
  });

  test('a second watcher gets id 1; a duplicate requested id is refused on id -1 and the stream stays open', async () => {
    const stream = await f.client.watchClient.watch();
    const inbox = new Inbox<IWatchResponse>(stream);
    stream.write({ create_request: { key: Buffer.from('a') } });
    stream.write({ create_request: { key: Buffer.from('b') } });
    assert.equal((await inbox.next()).watch_id, '0');
    assert.equal((await inbox.next()).watch_id, '1');
    stream.write({ create_request: { key: Buffer.from('c'), watch_id: '7' } });
    assert.equal((await inbox.next()).watch_id, '7');
    stream.write({ create_request: { key: Buffer.from('c'), watch_id: '7' } });
    const dup = await inbox.next();
    assert.equal(dup.watch_id, '-1');
    assert.equal(dup.created, true);
    assert.equal(dup.canceled, true);
    assert.equal(dup.cancel_reason, 'mvcc: duplicate watch ID provided on the WatchStream');
    await f.client.put('c').value('x');
    const event = await inbox.next();
    assert.equal(event.watch_id, '7');
    stream.end();
  });

  test('a progress request answers on watch id -1 with the current revision', async () => {
    const stream = await f.client.watchClient.watch();
    const inbox = new Inbox<IWatchResponse>(stream);
    stream.write({ create_request: { key: Buffer.from('p') } });
    await inbox.next();
    await f.client.put('elsewhere').value('1');
    stream.write({ progress_request: {} });
    const progress = await inbox.next();
    assert.equal(progress.watch_id, '-1');
    assert.equal(progress.events.length, 0);
    assert.equal(progress.header.revision, String(f.store.revision));
    stream.end();
  });

  test('a watch from a past revision replays history in order, then goes live', async () => {
    const start = f.store.revision + 1;
    await f.client.put('h/1').value('a');
    await f.client.put('h/2').value('b');
    await f.client.delete().key('h/1');
    const watcher = await f.client.watch().prefix('h/').startRevision(String(start)).create();
    const seen: string[] = [];
    watcher.on('put', (kv) => seen.push(`put ${kv.key.toString()} @${kv.mod_revision}`));
    watcher.on('delete', (kv) => seen.push(`delete ${kv.key.toString()} @${kv.mod_revision}`));
    await waitFor(() => seen.length === 3);
    await f.client.put('h/3').value('c');
    await waitFor(() => seen.length === 4);
    assert.deepEqual(seen, [`put h/1 @${start}`, `put h/2 @${start + 1}`, `delete h/1 @${start + 2}`, `put h/3 @${start + 3}`]);
    await watcher.cancel();
  });

  test('a watch from a compacted revision is created, then canceled with compact_revision', async () => {
    await f.client.put('cmp').value('1');
    await f.client.put('cmp').value('2');
    const compactAt = f.store.revision;
    await f.client.kv.compact({ revision: String(compactAt) });
    const stream = await f.client.watchClient.watch();
    const inbox = new Inbox<IWatchResponse>(stream);
    stream.write({ create_request: { key: Buffer.from('cmp'), start_revision: '2' } });
    const created = await inbox.next();
    assert.equal(created.created, true);
    const canceled = await inbox.next();
    assert.equal(canceled.watch_id, created.watch_id);
    assert.equal(canceled.canceled, true);
    assert.equal(canceled.compact_revision, String(compactAt));
    assert.equal(canceled.cancel_reason, '', 'etcd signals compaction by compact_revision alone');
    stream.end();
  });

  test('progress_notify: a quiet watcher that asked gets periodic empty responses with the current revision', async () => {
    const store = await openStore({});
    const server = await startServer({ store, port: 0, progressNotifyIntervalMs: 100 });
    const client = new Etcd3({ hosts: `127.0.0.1:${server.port}` });
    try {
      const stream = await client.watchClient.watch();
      const inbox = new Inbox<IWatchResponse>(stream);
      stream.write({ create_request: { key: Buffer.from('quiet'), progress_notify: true } });
      stream.write({ create_request: { key: Buffer.from('silent') } });
      assert.equal((await inbox.next()).watch_id, '0');
      assert.equal((await inbox.next()).watch_id, '1');
      await store.put({ key: Buffer.from('other'), value: Buffer.from('x') });
      // Why up to three: a tick may have fired before the put; a later one must carry the new revision.
      for (let i = 0; ; i++) {
        const notice = await inbox.next();
        assert.equal(notice.watch_id, '0', 'only the watcher that asked for progress notifications gets them');
        assert.equal(notice.events.length, 0);
        if (notice.header.revision === String(store.revision)) break;
        assert.ok(i < 2, `expected a notice at revision ${store.revision}, got ${notice.header.revision}`);
      }
      stream.end();
    } finally {
      client.close();
      await server.close();
      await store.close();
    }
  });

  test('closing the server ends open watch streams', async () => {
    const g = await startFixture();
    const stream = await g.client.watchClient.watch();
    const inbox = new Inbox<IWatchResponse>(stream);
    stream.write({ create_request: { key: Buffer.from('x') } });
    await inbox.next();
    const ended = new Promise<void>((resolve) => {
      stream.on('end', () => resolve());
      stream.on('error', () => resolve());
    });
    await g.server.close();
    await ended;
    g.client.close();
    await g.store.close();
  });
});

describe('gRPC edge: leases', () => {
  let f: Fixture;
  before(async () => (f = await startFixture()));
  after(async () => stopFixture(f));

  test('keep-alive answers each request in order; an unknown lease gets TTL 0', async () => {
    const grant = await f.client.leaseClient.leaseGrant({ TTL: '30', ID: '0' });
    const stream = await f.client.leaseClient.leaseKeepAlive();
    const inbox = new Inbox<{ ID: string; TTL: string }>(stream);
    stream.write({ ID: grant.ID });
    stream.write({ ID: '12345' });
    stream.write({ ID: grant.ID });
    assert.deepEqual(
      [await inbox.next(), await inbox.next(), await inbox.next()].map((r) => [r.ID, r.TTL]),
      [[grant.ID, '30'], ['12345', '0'], [grant.ID, '30']],
    );
    stream.end();
  });

  test('a short TTL is raised to etcd’s minimum of 2 s, and an unknown lease has TTL -1', async () => {
    const grant = await f.client.leaseClient.leaseGrant({ TTL: '1', ID: '0' });
    assert.equal(grant.TTL, '2');
    const missing = await f.client.leaseClient.leaseTimeToLive({ ID: '4242', keys: true });
    assert.equal(missing.TTL, '-1');
    const revoke = await grpcError(rawCall(f.endpoint, 'Lease', 'LeaseRevoke', { ID: '4242' }));
    assert.deepEqual(revoke, { code: grpc.status.NOT_FOUND, details: 'etcdserver: requested lease not found' });
  });
});

describe('gRPC edge: snapshot stream', () => {
  let f: Fixture;
  let scratch: string;
  before(async () => {
    f = await startFixture();
    scratch = await mkdtemp(join(tmpdir(), 'server-test-'));
  });
  after(async () => {
    await stopFixture(f);
    await rm(scratch, { recursive: true, force: true });
  });

  test('the chunks reassemble into a file etcdctl accepts, and restore reads it back', async () => {
    // Enough data for several 32 KiB chunks.
    for (let i = 0; i < 40; i++) await f.client.put(`snap/${i}`).value(Buffer.alloc(4000, i));
    const revision = f.store.revision;
    const stream = await f.client.maintenance.snapshot();
    const chunks: Array<{ remaining_bytes: string; blob: Buffer }> = [];
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (c: { remaining_bytes: string; blob: Buffer }) => chunks.push(c));
      stream.on('end', () => resolve());
      stream.on('error', reject);
    });
    assert.ok(chunks.length > 1, `expected several chunks, got ${chunks.length}`);
    const file = Buffer.concat(chunks.map((c) => c.blob));
    let left = file.length;
    for (const chunk of chunks) {
      left -= chunk.blob.length;
      assert.equal(Number(chunk.remaining_bytes), left, 'remaining_bytes counts what follows each chunk');
    }
    assert.equal(left, 0);
    assert.equal(file.length % 512, 32, 'etcdctl wants a multiple of 512 plus a SHA-256');

    const dataDir = join(scratch, 'restored');
    const file2 = join(scratch, 'backup.db');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file2, file);
    const restored = await restore(file2, dataDir);
    assert.equal(restored.revision, revision);
    const store = await openStore({ dataDir });
    try {
      const got = await store.range({ key: Buffer.from('snap/'), rangeEnd: Buffer.from('snap0') });
      assert.equal(got.count, 40);
      assert.deepEqual(got.kvs.find((kv) => kv.key.toString() === 'snap/7')?.value, Buffer.alloc(4000, 7));
      assert.equal(store.revision, revision);
    } finally {
      await store.close();
    }
  });

  test('a snapshot is shaped as etcdctl expects (512-byte body plus SHA-256) and round-trips', () => {
    for (const n of [0, 1, 400, 5000]) {
      const snapshot = { index: 7, state: { currentRevision: n + 1, compactRevision: 0, versions: [], leases: [{ id: 1, ttl: n }] } };
      const bytes = encodeSnapshot(snapshot);
      assert.equal(bytes.length % 512, 32);
      assert.deepEqual(decodeSnapshot(bytes, 'test'), snapshot);
    }
    const damaged = encodeSnapshot({ index: 1, state: { currentRevision: 1, compactRevision: 0, versions: [], leases: [] } });
    damaged[20] = (damaged[20] as number) ^ 1;
    assert.throws(() => decodeSnapshot(damaged, 'test'), /SHA-256 does not match/);
  });
});

describe('npm run etcd: flags, as etcd names them', () => {
  test('defaults follow etcd: name "default", data dir "default.etcd", port 2379', () => {
    assert.deepEqual(parseArgs([]), { kind: 'serve', flags: { name: 'default', dataDir: 'default.etcd', host: '127.0.0.1', port: 2379 } });
  });

  test('flags take "--flag value" or "--flag=value"; the first http URL of a list is used', () => {
    const parsed = parseArgs(['--name=infra0', '--data-dir', '/var/lib/x', '--listen-client-urls', 'http://0.0.0.0:0,http://10.0.0.1:2379', '--advertise-client-urls', 'http://node-1:2379']);
    assert.deepEqual(parsed, {
      kind: 'serve',
      flags: { name: 'infra0', dataDir: '/var/lib/x', host: '0.0.0.0', port: 0, advertiseClientUrls: ['http://node-1:2379'] },
    });
    assert.deepEqual(parseArgs(['--listen-client-urls', 'http://[::1]:2379']), { kind: 'serve', flags: { name: 'default', dataDir: 'default.etcd', host: '::1', port: 2379 } });
  });

  test('snapshot restore takes a file and a data dir', () => {
    assert.deepEqual(parseArgs(['snapshot', 'restore', 'backup.db', '--data-dir', 'new.etcd']), { kind: 'restore', file: 'backup.db', dataDir: 'new.etcd' });
  });

  test('mistakes are usage errors that name the flag', () => {
    assert.throws(() => parseArgs(['--listen-peer-urls', 'http://x:2380']), (e: unknown) => e instanceof UsageError && /unknown flag --listen-peer-urls/.test(e.message));
    assert.throws(() => parseArgs(['--listen-client-urls', 'https://127.0.0.1:2379']), /https is not supported/);
    assert.throws(() => parseArgs(['--listen-client-urls', 'unix:///tmp/x']), /expected an http:\/\/ URL/);
    assert.throws(() => parseArgs(['--name']), /flag --name needs a value/);
    assert.throws(() => parseArgs(['snapshot', 'status', 'x']), /expected "snapshot save FILE" or "snapshot restore FILE"/);
    assert.throws(() => parseArgs(['serve']), /unexpected argument "serve"/);
  });
});

/** Polls until `check` holds (3 s at most). */
async function waitFor(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
