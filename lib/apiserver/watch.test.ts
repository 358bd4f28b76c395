/**
 * Watches through HTTP: the wire format, resuming from a list without gaps
 * or repeats, selector transitions, bookmarks, 410 after compaction,
 * timeoutSeconds, Table watches, and an informer that lives through an API
 * server restart and through a compaction it slept through.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ConfigMap, KubeObject } from '../api/types.ts';
import { KubeClient } from '../client/client.ts';
import { Informer } from '../client/informer.ts';
import { openStore, type Store } from '../store/store.ts';
import { delay, rawWatch, startTestCluster, within, type TestCluster } from '../../test/helpers/apiserver.ts';
import { newToken, TokenAuthenticator } from './auth.ts';
import { ADMIN } from './bootstrap.ts';
import { clusterPki } from './pki.ts';
import { resourceForKind } from './resources.ts';
import { startApiServer, type RunningApiServer } from './server.ts';

const CONFIGMAPS = resourceForKind('v1', 'ConfigMap')!;
const NAMESPACES = resourceForKind('v1', 'Namespace')!;
const LEASES = resourceForKind('coordination.k8s.io/v1', 'Lease')!;

const cm = (name: string, namespace: string, labels: Record<string, string> = {}, data: Record<string, string> = { v: '1' }): ConfigMap =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels }, data }) as ConfigMap;

/** `TYPE name@rv` for each event, the form the expected sequences are written in. */
const summary = (events: Array<{ type: string; object: KubeObject }>) => events.map((e) => `${e.type} ${e.object.metadata.name ?? ''}@${e.object.metadata.resourceVersion}`);

describe('Watch through HTTP', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startTestCluster({ bookmarkIntervalMs: 100 });
  });
  after(async () => {
    await cluster.stop();
  });

  /** A fresh namespace per test, so each watch sees only its own test's objects. */
  async function namespace(name: string): Promise<string> {
    await cluster.admin.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    return name;
  }

  it('sends each event as one JSON object ending in a newline', async () => {
    const ns = await namespace('lines');
    const watch = rawWatch(cluster, `/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=${cluster.store!.revision}`);
    assert.equal(await watch.code, 200);
    await cluster.admin.create(CONFIGMAPS, cm('a', ns));
    await cluster.admin.create(CONFIGMAPS, cm('b', ns));
    await watch.waitFor(2);
    watch.stop();
    const text = watch.text();
    assert.ok(text.endsWith('\n'), `expected the stream to end with a newline, got ${JSON.stringify(text.slice(-20))}`);
    const lines = text.split('\n').slice(0, -1);
    assert.equal(lines.length, 2, `expected one line per event, got ${JSON.stringify(text)}`);
    for (const line of lines) {
      const event = JSON.parse(line) as { type: string; object: KubeObject };
      assert.deepEqual(Object.keys(event), ['type', 'object']);
      assert.equal(event.type, 'ADDED');
      assert.equal(event.object.kind, 'ConfigMap');
    }
  });

  it('resumes from a list\'s resourceVersion and sees every later change exactly once, in order', async () => {
    const ns = await namespace('resume');
    const admin = cluster.admin;
    const first = await admin.create(CONFIGMAPS, cm('first', ns));
    const list = await admin.list(CONFIGMAPS, { namespace: ns });
    assert.deepEqual(list.items.map((o) => o.metadata.name), ['first']);
    // Changes made after the list but before the watch opens must still arrive.
    const expected: string[] = [];
    const a = await admin.create(CONFIGMAPS, cm('a', ns));
    expected.push(`ADDED a@${a.metadata.resourceVersion}`);
    const firstChanged = await admin.update(CONFIGMAPS, { ...first, data: { v: '2' } });
    expected.push(`MODIFIED first@${firstChanged.metadata.resourceVersion}`);
    // A write elsewhere moves the revision but is not this watch's business.
    await admin.create(CONFIGMAPS, cm('elsewhere', 'default'));

    const watch = rawWatch(cluster, `/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=${list.metadata.resourceVersion}`);
    assert.equal(await watch.code, 200);
    const b = await admin.create(CONFIGMAPS, cm('b', ns));
    expected.push(`ADDED b@${b.metadata.resourceVersion}`);
    const deleted = (await admin.delete(CONFIGMAPS, ns, 'a')) as KubeObject;
    expected.push(`DELETED a@${deleted.metadata.resourceVersion}`);
    const aAgain = await admin.create(CONFIGMAPS, cm('a', ns));
    expected.push(`ADDED a@${aAgain.metadata.resourceVersion}`);

    await watch.waitFor(expected.length);
    await delay(150); // time for a repeated or extra event to show up
    watch.stop();
    assert.deepEqual(summary(watch.events()), expected);
    const rvs = watch.events().map((e) => Number(e.object.metadata.resourceVersion));
    assert.deepEqual(rvs, [...rvs].sort((x, y) => x - y), 'expected resourceVersions to increase');
    assert.ok(rvs.every((rv) => rv > Number(list.metadata.resourceVersion)), 'expected only changes after the list');
  });

  it('starts a watch without resourceVersion with the current objects as ADDED events', async () => {
    const ns = await namespace('initial');
    await cluster.admin.create(CONFIGMAPS, cm('x', ns));
    await cluster.admin.create(CONFIGMAPS, cm('y', ns));
    const watch = rawWatch(cluster, `/api/v1/namespaces/${ns}/configmaps?watch=true`);
    const events = await watch.waitFor(2);
    const z = await cluster.admin.create(CONFIGMAPS, cm('z', ns));
    await watch.waitFor(3);
    watch.stop();
    assert.deepEqual(watch.events().map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED x', 'ADDED y', 'ADDED z']);
    assert.equal(watch.events()[2]?.object.metadata.resourceVersion, z.metadata.resourceVersion);
    assert.equal(events.length, 2);
  });

  it('sends DELETED when an object stops matching a label selector, and ADDED when it matches again', async () => {
    const ns = await namespace('labels');
    const admin = cluster.admin;
    const watch = rawWatch(cluster, `/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=${cluster.store!.revision}&labelSelector=${encodeURIComponent('app=web')}`);
    assert.equal(await watch.code, 200);
    const web = await admin.create(CONFIGMAPS, cm('c', ns, { app: 'web' }));
    await admin.create(CONFIGMAPS, cm('never', ns, { app: 'db' }));
    const db = await admin.update(CONFIGMAPS, { ...web, metadata: { ...web.metadata, labels: { app: 'db' } } });
    const dbChanged = await admin.update(CONFIGMAPS, { ...db, data: { v: 'unseen' } });
    const back = await admin.update(CONFIGMAPS, { ...dbChanged, metadata: { ...dbChanged.metadata, labels: { app: 'web' } } });
    const changed = await admin.update(CONFIGMAPS, { ...back, data: { v: '3' } });
    const gone = (await admin.delete(CONFIGMAPS, ns, 'c')) as KubeObject;
    await watch.waitFor(5);
    await delay(100);
    watch.stop();
    assert.deepEqual(summary(watch.events()), [
      `ADDED c@${web.metadata.resourceVersion}`,
      `DELETED c@${db.metadata.resourceVersion}`,
      `ADDED c@${back.metadata.resourceVersion}`,
      `MODIFIED c@${changed.metadata.resourceVersion}`,
      `DELETED c@${gone.metadata.resourceVersion}`,
    ]);
    // The DELETED of an object that stopped matching carries its new state, as the real watch cache sends it.
    assert.deepEqual(watch.events()[1]?.object.metadata.labels, { app: 'db' });
  });

  it('filters by field selector on metadata.name, with the same transitions', async () => {
    const ns = await namespace('fields');
    const watch = rawWatch(cluster, `/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=${cluster.store!.revision}&fieldSelector=${encodeURIComponent('metadata.name=wanted')}`);
    assert.equal(await watch.code, 200);
    await cluster.admin.create(CONFIGMAPS, cm('unwanted', ns));
    const wanted = await cluster.admin.create(CONFIGMAPS, cm('wanted', ns));
    await cluster.admin.delete(CONFIGMAPS, ns, 'unwanted');
    await watch.waitFor(1);
    await delay(100);
    watch.stop();
    assert.deepEqual(summary(watch.events()), [`ADDED wanted@${wanted.metadata.resourceVersion}`]);
  });

  it('sends BOOKMARK events carrying only a resourceVersion when allowWatchBookmarks=true, and none otherwise', async () => {
    const ns = await namespace('bookmarks');
    const from = cluster.store!.revision;
    const withBookmarks = rawWatch(cluster, `/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=${from}&allowWatchBookmarks=true`);
    const without = rawWatch(cluster, `/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=${from}`);
    assert.equal(await withBookmarks.code, 200);
    assert.equal(await without.code, 200);
    // A write elsewhere moves the store's revision; the bookmark tells the watcher it has seen up to there.
    const lease = await cluster.admin.create(LEASES, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'tick', namespace: 'default' }, spec: {} } as KubeObject);
    const [event] = await withBookmarks.waitFor(1, 3000);
    await delay(300);
    withBookmarks.stop();
    without.stop();
    assert.equal(event?.type, 'BOOKMARK');
    assert.deepEqual(event?.object, { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: lease.metadata.resourceVersion } });
    assert.deepEqual(without.events(), [], 'expected no bookmarks without allowWatchBookmarks');
  });

  it('answers a watch from a compacted resourceVersion with one ERROR event holding a 410 Expired Status, then closes', async () => {
    const ns = await namespace('compacted');
    const admin = cluster.admin;
    const old = await admin.create(CONFIGMAPS, cm('old', ns));
    let current = old;
    for (let i = 0; i < 3; i++) current = await admin.update(CONFIGMAPS, { ...current, data: { v: String(i) } });
    const compactedAt = await cluster.apiserver.compact();
    const requested = Number(old.metadata.resourceVersion);
    const watch = rawWatch(cluster, `/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=${requested}`);
    assert.equal(await watch.code, 200, 'expected the error inside a 200 stream, as the real server sends it');
    await within(watch.ended, 3000, () => `the stream to close after one ERROR event, got ${JSON.stringify(watch.text().slice(0, 300))}`).finally(() => watch.stop());
    assert.deepEqual(watch.events(), [
      {
        type: 'ERROR',
        object: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `too old resource version: ${requested} (${compactedAt})`,
          reason: 'Expired',
          code: 410,
        },
      },
    ]);
    // A watch from the current revision still works after compaction.
    const fresh = rawWatch(cluster, `/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=${current.metadata.resourceVersion}`);
    await admin.delete(CONFIGMAPS, ns, 'old');
    const [deleted] = await fresh.waitFor(1);
    fresh.stop();
    assert.equal(deleted?.type, 'DELETED');
  });

  it('closes the stream when timeoutSeconds passes', async () => {
    const started = Date.now();
    const watch = rawWatch(cluster, `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${cluster.store!.revision}&timeoutSeconds=1`);
    assert.equal(await watch.code, 200);
    await within(watch.ended, 3000, 'the stream to close after timeoutSeconds=1').finally(() => watch.stop());
    const took = Date.now() - started;
    assert.ok(took >= 900 && took < 3000, `expected the stream closed after about 1 s, got ${took} ms`);
  });

  it('sends Table objects on a watch that asks for a Table, with column definitions only in the first', async () => {
    const ns = await namespace('tables');
    const watch = rawWatch(cluster, `/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=${cluster.store!.revision}`, {
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
    });
    assert.equal(await watch.code, 200);
    await cluster.admin.create(CONFIGMAPS, cm('t1', ns, {}, { a: '1', b: '2' }));
    await cluster.admin.create(CONFIGMAPS, cm('t2', ns));
    const events = await watch.waitFor(2);
    watch.stop();
    const [one, two] = events.map((e) => e.object as unknown as { kind: string; apiVersion: string; columnDefinitions?: Array<{ name: string }>; rows: Array<{ cells: unknown[] }> });
    assert.equal(one?.kind, 'Table');
    assert.equal(one?.apiVersion, 'meta.k8s.io/v1');
    assert.deepEqual(one?.columnDefinitions?.map((c) => c.name), ['Name', 'Data', 'Age']);
    assert.deepEqual(one?.rows[0]?.cells.slice(0, 2), ['t1', 2]);
    assert.equal(two?.kind, 'Table');
    assert.ok(!two?.columnDefinitions || two.columnDefinitions.length === 0, 'expected no column definitions after the first event');
    assert.equal(two?.rows[0]?.cells[0], 't2');
  });

  it('answers a list from the watch cache with exactly what the store holds, right after each write', async () => {
    const ns = await namespace('cached-list');
    const admin = cluster.admin;
    const storeList = async () => {
      const list = await cluster.apiserver.registry.list(CONFIGMAPS, ns);
      return { resourceVersion: String(list.revision), items: list.items };
    };
    const apiList = async () => {
      const list = await admin.list(CONFIGMAPS, { namespace: ns });
      return { resourceVersion: list.metadata.resourceVersion, items: list.items };
    };
    await admin.create(CONFIGMAPS, cm('b', ns));
    assert.deepEqual(await apiList(), await storeList());
    const a = await admin.create(CONFIGMAPS, cm('a', ns));
    assert.deepEqual(await apiList(), await storeList(), 'after a create');
    await admin.update(CONFIGMAPS, { ...a, data: { v: '2' } });
    assert.deepEqual(await apiList(), await storeList(), 'after an update');
    await admin.delete(CONFIGMAPS, ns, 'b');
    assert.deepEqual(await apiList(), await storeList(), 'after a delete');
    // A write to another resource moves the store's revision; a consistent list is at least that new.
    const lease = await admin.create<KubeObject>(LEASES, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l', namespace: ns }, spec: {} });
    const after = await apiList();
    assert.ok(Number(after.resourceVersion) >= Number(lease.metadata.resourceVersion), `expected the list at ${lease.metadata.resourceVersion} or later, got ${after.resourceVersion}`);
    assert.deepEqual(after, await storeList(), 'after a write elsewhere');
  });
});

describe('An informer across API server restarts', () => {
  let dir: string;
  let store: Store;
  let apiserver: RunningApiServer;
  const pki = clusterPki();
  const authenticator = new TokenAuthenticator();
  const token = newToken();
  authenticator.add(token, ADMIN);
  let port = 0;

  const start = async (onPort: number) => startApiServer({ backend: store, authenticator, tls: pki.apiserver, port: onPort, compactionIntervalMs: 0 });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apiserver-restart-'));
    store = await openStore({ dataDir: join(dir, 'etcd'), fsync: false });
    apiserver = await start(0);
    port = apiserver.port;
  });
  after(async () => {
    await apiserver.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('resumes after a restart without missing or repeating an event, and re-lists after a compaction it slept through', async () => {
    const client = new KubeClient({ server: apiserver.url, ca: pki.ca.cert, token });
    const admin = new KubeClient({ server: apiserver.url, ca: pki.ca.cert, token });
    const calls: string[] = [];
    const trace: string[] = [];
    const informer = new Informer<ConfigMap>(client, CONFIGMAPS, { namespace: 'default', initialBackoffMs: 20, maxBackoffMs: 100, onTrace: (line) => trace.push(line) });
    informer.on('add', (o) => calls.push(`add ${o.metadata.name}=${o.data?.v}`));
    informer.on('update', (old, o) => calls.push(`update ${o.metadata.name} ${old.data?.v}->${o.data?.v}`));
    informer.on('delete', (o) => calls.push(`delete ${o.metadata.name}`));
    const until = async (what: string, done: () => boolean) => {
      for (let waited = 0; !done(); waited += 10) {
        if (waited > 5000) throw new Error(`expected ${what} within 5 s; handler calls: ${JSON.stringify(calls)}; trace: ${trace.join(' | ')}`);
        await delay(10);
      }
    };

    try {
      await admin.create(CONFIGMAPS, cm('c1', 'default'));
      await admin.create(CONFIGMAPS, cm('c2', 'default'));
      informer.start();
      await informer.waitForSync();
      const c3 = await admin.create(CONFIGMAPS, cm('c3', 'default'));
      const c1 = await admin.get<ConfigMap>(CONFIGMAPS, 'default', 'c1');
      await admin.update(CONFIGMAPS, { ...c1, data: { v: '2' } });
      await until('4 handler calls before the restart', () => calls.length === 4);

      // The API server goes away under the informer's open watch, and comes back on the same port.
      await apiserver.close();
      await delay(150); // the informer fails to reconnect at least once
      apiserver = await start(port);
      const c2 = await admin.get<ConfigMap>(CONFIGMAPS, 'default', 'c2');
      await admin.update(CONFIGMAPS, { ...c2, data: { v: '2' } });
      await admin.create(CONFIGMAPS, cm('c4', 'default'));
      await admin.delete(CONFIGMAPS, 'default', c3.metadata.name!);
      await until('7 handler calls after the restart', () => calls.length >= 7);
      await delay(100);
      assert.deepEqual(calls, ['add c1=1', 'add c2=1', 'add c3=1', 'update c1 1->2', 'update c2 1->2', 'add c4=1', 'delete c3']);
      assert.equal(trace.filter((l) => l.startsWith('listed') || l.startsWith('re-listed')).length, 1, `expected no re-list after a plain restart; trace: ${trace.join(' | ')}`);
      assert.ok(trace.some((l) => l.startsWith('watch failed')), `expected the trace to show the broken watch; trace: ${trace.join(' | ')}`);

      // Down again; meanwhile another API server on the same store (an HA peer) writes, then compacts history.
      const seenAt = informer.resourceVersion;
      await apiserver.close();
      const peer = await start(0);
      const peerClient = new KubeClient({ server: peer.url, ca: pki.ca.cert, token });
      await peerClient.create(CONFIGMAPS, cm('c5', 'default'));
      await peerClient.delete(CONFIGMAPS, 'default', 'c1');
      const c4 = await peerClient.get<ConfigMap>(CONFIGMAPS, 'default', 'c4');
      await peerClient.update(CONFIGMAPS, { ...c4, data: { v: '3' } });
      const compactedAt = await peer.compact();
      assert.ok(compactedAt > Number(seenAt) + 1, 'expected the compaction past the informer\'s resourceVersion');
      peerClient.close();
      await peer.close();
      calls.length = 0;
      apiserver = await start(port);

      await until('the re-list to announce 3 changes', () => calls.length >= 3);
      await delay(100);
      assert.deepEqual([...calls].sort(), ['add c5=1', 'delete c1', 'update c4 1->3']);
      assert.ok(trace.some((l) => /got 410 Expired \(too old resource version: \d+ \(\d+\)\); re-listing/.test(l)), `expected a 410 in the trace; trace: ${trace.join(' | ')}`);
      assert.ok(trace.some((l) => l.startsWith('re-listed 3 configmaps')), `expected a re-list in the trace; trace: ${trace.join(' | ')}`);
      const truth = await admin.list<ConfigMap>(CONFIGMAPS, { namespace: 'default' });
      const cache = informer.list().map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort();
      assert.deepEqual(cache, truth.items.map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort());
    } finally {
      await informer.stop();
      client.close();
      admin.close();
    }
  });
});
