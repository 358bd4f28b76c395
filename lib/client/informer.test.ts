import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import type { KubeObject, Pod, Status, WatchEventObject } from '../api/types.ts';
import { PODS, KubeClient, type Clock } from './client.ts';
import { deepFreeze, Informer, keyOf, splitKey, type InformerOptions } from './informer.ts';

// ---- a fake API server the test scripts ---------------------------------------

/** One open watch request, which the test drives event by event. */
class WatchConnection {
  private headersSent = false;
  constructor(
    readonly query: URLSearchParams,
    private readonly res: http.ServerResponse,
  ) {}

  /** Sends one event as one JSON line. */
  send(type: WatchEventObject['type'], object: KubeObject | Status): void {
    if (!this.headersSent) {
      this.res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      this.headersSent = true;
    }
    this.res.write(JSON.stringify({ type, object }) + '\n');
  }

  /** Ends the stream normally, as the server does when timeoutSeconds runs out. */
  close(): void {
    if (!this.headersSent) this.res.writeHead(200, { 'Content-Type': 'application/json' });
    this.res.end();
  }

  /** Answers the watch with an HTTP error and a Status body. */
  fail(status: Status): void {
    this.res.writeHead(status.code, { 'Content-Type': 'application/json' });
    this.res.end(JSON.stringify(status));
  }

  /** Drops the connection mid-stream, as a crashing server does. */
  destroy(): void {
    this.res.socket?.destroy();
  }
}

/**
 * A fake API server for pods: lists answer from `objects` at `resourceVersion`;
 * each watch is handed to the test (nextWatch) to script. Every request is
 * recorded, so tests can assert on what the informer asked for.
 */
class FakeApiServer {
  objects = new Map<string, Pod>();
  resourceVersion = '1';
  /** Lists to answer with a 500 before answering normally again. */
  failingLists = 0;
  readonly requests: string[] = [];
  private server = http.createServer((req, res) => this.handle(req, res));
  private watches: WatchConnection[] = [];
  private watchWaiters: Array<(watch: WatchConnection) => void> = [];
  port = 0;

  async listen(port = 0): Promise<void> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Puts a pod in the server's state (what the next list returns). */
  setPod(name: string, rv: string, extra: Partial<Pod> = {}): Pod {
    const p = pod(name, rv, extra);
    this.objects.set(name, p);
    return p;
  }

  /** The next watch request, as soon as it arrives. */
  nextWatch(): Promise<WatchConnection> {
    const waiting = this.watches.shift();
    if (waiting) return Promise.resolve(waiting);
    return new Promise((resolve) => this.watchWaiters.push(resolve));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (url.searchParams.get('watch') === 'true') {
      const watch = new WatchConnection(url.searchParams, res);
      const waiter = this.watchWaiters.shift();
      if (waiter) waiter(watch);
      else this.watches.push(watch);
      return;
    }
    if (this.failingLists > 0) {
      this.failingLists--;
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(status(500, 'InternalError', 'Internal error occurred: etcd is down')));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    // Why strip apiVersion and kind: the real API server leaves them out of a list's items.
    const items = [...this.objects.values()].map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
    res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: this.resourceVersion }, items }));
  }
}

function pod(name: string, rv: string, extra: Partial<Pod> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', resourceVersion: rv }, spec: { containers: [{ name: 'main', image: 'nginx' }] }, ...extra };
}

function status(code: number, reason: string, message: string): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code, reason, message };
}

/** A clock whose timers run only when the test fires them; it remembers every delay asked for. */
class ManualClock implements Clock {
  readonly delays: number[] = [];
  private timers = new Map<number, () => void>();
  private nextId = 1;
  now(): number {
    return 0;
  }
  setTimeout(callback: () => void, ms: number): unknown {
    this.delays.push(ms);
    const id = this.nextId++;
    this.timers.set(id, callback);
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  /** Runs every pending timer once. */
  fireAll(): void {
    const due = [...this.timers.values()];
    this.timers.clear();
    for (const callback of due) callback();
  }
  get pending(): number {
    return this.timers.size;
  }
}

/** Polls until `condition` holds, failing with `what` after two seconds. */
async function waitFor(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`expected ${what} within 2 s, got a timeout`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

// ---- the harness: a server, a client, an informer and a log of handler calls ---

interface Harness {
  server: FakeApiServer;
  informer: Informer<Pod>;
  clock: ManualClock;
  calls: string[];
  trace: string[];
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function harness(options: InformerOptions<Pod> = {}, setup?: (server: FakeApiServer) => void): Promise<Harness> {
  const server = new FakeApiServer();
  setup?.(server);
  await server.listen();
  const client = new KubeClient({ server: server.url, token: 't' });
  const clock = new ManualClock();
  const calls: string[] = [];
  const trace: string[] = [];
  const informer = new Informer<Pod>(client, PODS, { clock, random: () => 0, onTrace: (line) => trace.push(line), ...options });
  informer
    .on('add', (p) => calls.push(`add ${keyOf(p)}@${p.metadata.resourceVersion}`))
    .on('update', (o, n) => calls.push(`update ${keyOf(n)}@${o.metadata.resourceVersion}->${n.metadata.resourceVersion}`))
    .on('delete', (p) => calls.push(`delete ${keyOf(p)}@${p.metadata.resourceVersion}`));
  cleanups.push(async () => {
    await informer.stop();
    client.close();
    await server.close();
  });
  return { server, informer, clock, calls, trace };
}

const cacheView = (informer: Informer<Pod>) => informer.list().map((p) => `${keyOf(p)}@${p.metadata.resourceVersion}`).sort();

describe('Informer', () => {
  it('lists, tells the add handlers, syncs, then watches from the list\'s resourceVersion', async () => {
    const { server, informer, calls, trace } = await harness({}, (s) => {
      s.setPod('a', '10');
      s.setPod('b', '11');
      s.resourceVersion = '12';
    });
    assert.equal(informer.hasSynced(), false);
    informer.start();
    await informer.waitForSync();
    assert.equal(informer.hasSynced(), true);
    assert.deepEqual(calls, ['add default/a@10', 'add default/b@11']);
    const watch = await server.nextWatch();
    assert.equal(watch.query.get('resourceVersion'), '12');
    assert.equal(watch.query.get('allowWatchBookmarks'), 'true');
    assert.deepEqual(trace, ['listed 2 pods at rv 12', 'watching pods from rv 12']);
    assert.equal(informer.get('default/a')?.kind, 'Pod', 'list items get their apiVersion and kind back');
  });

  it('applies ADDED, MODIFIED and DELETED events to the cache and tells the handlers in order', async () => {
    const { server, informer, calls } = await harness({}, (s) => s.setPod('a', '5'));
    informer.start();
    const watch = await server.nextWatch();
    watch.send('ADDED', pod('b', '6'));
    watch.send('MODIFIED', pod('a', '7'));
    watch.send('DELETED', pod('b', '8'));
    await waitFor('three events handled', () => calls.length === 4);
    assert.deepEqual(calls, ['add default/a@5', 'add default/b@6', 'update default/a@5->7', 'delete default/b@8']);
    assert.deepEqual(cacheView(informer), ['default/a@7']);
    assert.equal(informer.resourceVersion, '8');
  });

  it('re-watches from the last resourceVersion seen, bookmarks included, when the server closes the stream', async () => {
    const { server, informer, calls, trace } = await harness();
    server.resourceVersion = '3';
    informer.start();
    const first = await server.nextWatch();
    first.send('ADDED', pod('a', '4'));
    first.send('BOOKMARK', { apiVersion: 'v1', kind: 'Pod', metadata: { resourceVersion: '9' } });
    first.close();
    const second = await server.nextWatch();
    assert.equal(second.query.get('resourceVersion'), '9');
    second.send('MODIFIED', pod('a', '10'));
    await waitFor('the update', () => calls.length === 2);
    assert.deepEqual(calls, ['add default/a@4', 'update default/a@4->10'], 'nothing missed, nothing repeated');
    assert.equal(server.requests.filter((r) => !r.includes('watch=true')).length, 1, 'no second list');
    assert.ok(trace.includes('watch closed by the server at rv 9; re-watching'));
  });

  it('re-lists on a 410 ERROR event and tells the handlers only what changed: adds, updates and deletes', async () => {
    const { server, informer, calls, trace } = await harness({}, (s) => {
      s.setPod('stays', '1');
      s.setPod('changes', '2');
      s.setPod('vanishes', '3');
      s.resourceVersion = '3';
    });
    informer.start();
    const watch = await server.nextWatch();
    // While the informer was away: one pod changed, one was deleted, one was created; the history is compacted.
    server.objects.delete('vanishes');
    server.setPod('changes', '20');
    server.setPod('arrives', '21');
    server.resourceVersion = '22';
    watch.send('ERROR', status(410, 'Expired', 'too old resource version: 3 (15)'));
    const afterRelist = await server.nextWatch();
    assert.equal(afterRelist.query.get('resourceVersion'), '22');
    assert.deepEqual(calls.slice(3), ['update default/changes@2->20', 'add default/arrives@21', 'delete default/vanishes@3']);
    assert.deepEqual(cacheView(informer), ['default/arrives@21', 'default/changes@20', 'default/stays@1']);
    assert.deepEqual(trace, [
      'listed 3 pods at rv 3',
      'watching pods from rv 3',
      'got 410 Expired (too old resource version: 3 (15)); re-listing',
      're-listed 3 pods at rv 22: 1 added, 1 updated, 1 deleted',
      'watching pods from rv 22',
    ]);
  });

  it('re-lists when the watch itself is answered with HTTP 410', async () => {
    const { server, informer, calls } = await harness({}, (s) => s.setPod('a', '1'));
    informer.start();
    const watch = await server.nextWatch();
    server.setPod('a', '30');
    server.resourceVersion = '30';
    watch.fail(status(410, 'Expired', 'too old resource version: 1 (25)'));
    const next = await server.nextWatch();
    assert.equal(next.query.get('resourceVersion'), '30');
    assert.deepEqual(calls, ['add default/a@1', 'update default/a@1->30']);
  });

  it('backs off exponentially while the server refuses connections, then resumes the watch where it stopped', async () => {
    const { server, informer, clock, calls, trace } = await harness({}, (s) => s.setPod('a', '1'));
    server.resourceVersion = '1';
    informer.start();
    const watch = await server.nextWatch();
    watch.send('MODIFIED', pod('a', '2'));
    await waitFor('the update', () => calls.length === 2);
    const port = server.port;
    await server.close(); // the API server goes away: the open watch breaks, and new connections are refused
    for (const expected of [[100], [100, 200], [100, 200, 400]]) {
      await waitFor(`a backoff timer (${expected.join(', ')})`, () => clock.pending === 1);
      assert.deepEqual(clock.delays, expected);
      if (expected.length < 3) clock.fireAll();
    }
    await server.listen(port);
    clock.fireAll();
    const resumed = await server.nextWatch();
    assert.equal(resumed.query.get('resourceVersion'), '2', 'the watch resumes from the last event seen');
    resumed.send('MODIFIED', pod('a', '3'));
    await waitFor('the next update', () => calls.length === 3);
    assert.deepEqual(calls, ['add default/a@1', 'update default/a@1->2', 'update default/a@2->3']);
    assert.match(trace.find((line) => line.startsWith('watch failed')) ?? '', /re-watching from rv 2 in 100 ms/);
  });

  it('backs off instead of spinning when the server closes each watch at once with nothing in it', async () => {
    const { server, informer, clock, trace } = await harness();
    informer.start();
    (await server.nextWatch()).close();
    await waitFor('a backoff timer', () => clock.pending === 1);
    assert.deepEqual(clock.delays, [100]);
    assert.match(trace.at(-1) ?? '', /^watch failed \(expected the watch to stay open, got it closed after 0 ms with no events\); re-watching from rv 1 in 100 ms$/);
    clock.fireAll();
    (await server.nextWatch()).close();
    await waitFor('a second backoff timer', () => clock.pending === 1);
    assert.deepEqual(clock.delays, [100, 200]);
  });

  it('caps the backoff and adds jitter from the injected random source', async () => {
    const { server, informer, clock } = await harness({ initialBackoffMs: 100, maxBackoffMs: 350, random: () => 0.5 });
    server.failingLists = 4;
    informer.start();
    for (let i = 0; i < 4; i++) {
      await waitFor('a backoff timer', () => clock.pending === 1);
      clock.fireAll();
    }
    await informer.waitForSync();
    assert.deepEqual(clock.delays, [105, 210, 350, 350], 'base × 2ⁿ × (1 + 10% × 0.5), at most 350');
  });

  it('freezes cached objects, so a handler that tries to change one fails and the cache stays right', async () => {
    const errors: unknown[] = [];
    const { server, informer } = await harness({ onHandlerError: (error) => errors.push(error) }, (s) => s.setPod('a', '1'));
    informer.on('add', (p) => {
      p.metadata.labels = { touched: 'yes' };
    });
    informer.start();
    await informer.waitForSync();
    await server.nextWatch();
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof TypeError, 'writing to a frozen object throws in strict mode');
    assert.equal(informer.get('default/a')?.metadata.labels, undefined);
    assert.ok(Object.isFrozen(informer.get('default/a')?.spec.containers[0]), 'frozen all the way down');
  });

  it('tells a handler registered after the sync about every cached object', async () => {
    const { informer } = await harness({}, (s) => {
      s.setPod('a', '1');
      s.setPod('b', '2');
    });
    informer.start();
    await informer.waitForSync();
    const late: string[] = [];
    informer.on('add', (p) => late.push(keyOf(p)));
    assert.deepEqual(late, ['default/a', 'default/b']);
  });

  it('keeps secondary indexes up to date as objects move', async () => {
    const onNode = (name: string) => ({ spec: { containers: [], nodeName: name } });
    const { server, informer, calls } = await harness({ indexers: { nodeName: (p) => (p.spec.nodeName ? [p.spec.nodeName] : []) } }, (s) => {
      s.setPod('a', '1', onNode('node-2'));
      s.setPod('b', '2', onNode('node-2'));
    });
    informer.start();
    const watch = await server.nextWatch();
    assert.deepEqual(informer.byIndex('nodeName', 'node-2').map(keyOf), ['default/a', 'default/b']);
    watch.send('MODIFIED', pod('b', '3', onNode('node-3')));
    watch.send('DELETED', pod('a', '4', onNode('node-2')));
    await waitFor('two events', () => calls.length === 4);
    assert.deepEqual(informer.byIndex('nodeName', 'node-2'), []);
    assert.deepEqual(informer.byIndex('nodeName', 'node-3').map(keyOf), ['default/b']);
    assert.throws(() => informer.byIndex('owner', 'x'), /expected an indexer named "owner", got \["nodeName"\]/);
  });

  it('fills an index added after the sync from the cache, and keeps it up to date', async () => {
    const onNode = (name: string) => ({ spec: { containers: [], nodeName: name } });
    const { server, informer, calls } = await harness({}, (s) => {
      s.setPod('a', '1', onNode('node-2'));
      s.setPod('b', '2', onNode('node-3'));
    });
    informer.start();
    const watch = await server.nextWatch();
    const byNode = (p: Pod) => (p.spec.nodeName ? [p.spec.nodeName] : []);
    informer.addIndexer('nodeName', byNode);
    assert.deepEqual(informer.byIndex('nodeName', 'node-2').map(keyOf), ['default/a']);
    watch.send('MODIFIED', pod('b', '3', onNode('node-2')));
    await waitFor('one event', () => calls.length === 3);
    assert.deepEqual(informer.byIndex('nodeName', 'node-2').map(keyOf), ['default/a', 'default/b']);
    assert.equal(informer.addIndexer('nodeName', byNode), informer, 'the same index again is accepted');
    assert.throws(() => informer.addIndexer('nodeName', () => []), /expected a new indexer name, got "nodeName"/);
  });

  it('replays every cached object to the update handlers on each resync', async () => {
    const { informer, clock, calls } = await harness({ resyncMs: 30_000 }, (s) => s.setPod('a', '1'));
    informer.start();
    await informer.waitForSync();
    assert.deepEqual(clock.delays, [30_000]);
    clock.fireAll();
    assert.deepEqual(calls, ['add default/a@1', 'update default/a@1->1']);
    assert.equal(clock.pending, 1, 'the next resync is scheduled');
  });

  it('retries a failing first list with backoff and syncs once the list works', async () => {
    const { server, informer, clock, trace } = await harness({}, (s) => s.setPod('a', '1'));
    server.failingLists = 1;
    informer.start();
    await waitFor('a backoff timer', () => clock.pending === 1);
    assert.equal(informer.hasSynced(), false);
    assert.match(trace[0] ?? '', /^list failed \(Internal error occurred: etcd is down\); listing again in 100 ms$/);
    clock.fireAll();
    await informer.waitForSync();
    assert.deepEqual(cacheView(informer), ['default/a@1']);
  });

  it('stops: the watch closes, no request follows, and a pending waitForSync is rejected', async () => {
    const { server, informer } = await harness();
    informer.start();
    await server.nextWatch();
    const requests = server.requests.length;
    await informer.stop();
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(server.requests.length, requests);

    const never = new Informer(new KubeClient({ server: 'http://127.0.0.1:1' }), PODS, { clock: new ManualClock() });
    never.start();
    const waiting = never.waitForSync();
    await never.stop();
    await assert.rejects(waiting, /expected the pods informer to sync, got stopped first/);
  });
});

describe('informer helpers', () => {
  it('keys namespaced objects namespace/name and cluster-scoped ones by name, and splits them back', () => {
    assert.equal(keyOf(pod('web', '1')), 'default/web');
    assert.equal(keyOf({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' } }), 'node-1');
    assert.deepEqual(splitKey('default/web'), { namespace: 'default', name: 'web' });
    assert.deepEqual(splitKey('node-1'), { name: 'node-1' });
  });

  it('freezes nested objects and arrays', () => {
    const frozen = deepFreeze({ a: { b: [1, { c: 2 }] } });
    assert.throws(() => {
      (frozen.a.b as unknown[]).push(3);
    }, TypeError);
  });
});
