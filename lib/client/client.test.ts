import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import type { KubeObject, Pod, Status, WatchEventObject } from '../api/types.ts';
import { findResource } from '../apiserver/resources.ts';
import {
  isAlreadyExists, isConflict, isGone, isNotFound, KubeApiError, KubeClient, parseWatchEvent, PODS, resourcePath,
  retryOnConflict, type Clock, type WatchEnd,
} from './client.ts';

// ---- a fake API server: each test says how to answer, and reads what was asked ----

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Answer = (seen: Seen, res: http.ServerResponse) => void;

const servers: http.Server[] = [];
const clients: KubeClient[] = [];
after(async () => {
  for (const client of clients) client.close();
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** Starts a server that records each request and answers it with `answer`; returns a client for it. */
async function fake(answer: Answer): Promise<{ client: KubeClient; seen: Seen[]; connections: () => number }> {
  const seen: Seen[] = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const request = { method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body };
      seen.push(request);
      answer(request, res);
    });
  });
  server.on('connection', () => connections++);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new KubeClient({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 'secret-token' });
  clients.push(client);
  return { client, seen, connections: () => connections };
}

function json(res: http.ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Answers every request with the object it was sent (or a small pod for bodiless requests). */
const echo: Answer = (seen, res) => json(res, 200, seen.body ? JSON.parse(seen.body) : pod('web'));

function pod(name: string, rv = '1'): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', resourceVersion: rv }, spec: { containers: [{ name: 'main' }] } };
}

function status(code: number, reason: string, message: string): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code, reason, message };
}

const DEPLOYMENTS = findResource('apps', 'v1', 'deployments')!;
const NODES = findResource('', 'v1', 'nodes')!;

/** A clock whose setTimeout runs the callback at once and remembers the delay. */
function instantClock(): Clock & { delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    now: () => 0,
    setTimeout: (callback, ms) => {
      delays.push(ms);
      setImmediate(callback);
      return 0;
    },
    clearTimeout: () => {},
  };
}

describe('resourcePath', () => {
  const cases: Array<[string, string, string]> = [
    ['a namespaced core object', resourcePath(PODS, 'default', 'web'), '/api/v1/namespaces/default/pods/web'],
    ['a core subresource', resourcePath(PODS, 'default', 'web', 'status'), '/api/v1/namespaces/default/pods/web/status'],
    ['pods across all namespaces', resourcePath(PODS), '/api/v1/pods'],
    ['a grouped resource', resourcePath(DEPLOYMENTS, 'shop', 'frontend', 'scale'), '/apis/apps/v1/namespaces/shop/deployments/frontend/scale'],
    ['a cluster-scoped object, ignoring any namespace', resourcePath(NODES, 'default', 'node-1'), '/api/v1/nodes/node-1'],
  ];
  for (const [name, got, expected] of cases) {
    it(`builds the path of ${name}`, () => assert.equal(got, expected));
  }
});

describe('KubeClient raw layer', () => {
  it('sends the bearer token and Accept header and returns the parsed JSON', async () => {
    const { client, seen } = await fake(echo);
    const got = await client.request<Pod>({ method: 'GET', path: '/api/v1/namespaces/default/pods/web', query: { pretty: undefined, limit: 5 } });
    assert.equal(got.metadata.name, 'web');
    assert.equal(seen[0]?.headers.authorization, 'Bearer secret-token');
    assert.equal(seen[0]?.headers.accept, 'application/json');
    assert.equal(seen[0]?.query.toString(), 'limit=5', 'undefined query values are left out');
  });

  it('keeps a path prefix in the server URL, for a server behind a proxy', async () => {
    const { client, seen } = await fake(echo);
    const prefixed = new KubeClient({ server: `${client.server.origin}/k8s/` });
    clients.push(prefixed);
    await prefixed.get(PODS, 'default', 'web');
    assert.equal(seen[0]?.path, '/k8s/api/v1/namespaces/default/pods/web');
  });

  it('reuses one connection for consecutive requests (keep-alive)', async () => {
    const { client, connections } = await fake(echo);
    for (let i = 0; i < 3; i++) await client.get(PODS, 'default', 'web');
    assert.equal(connections(), 1);
  });

  it('throws a KubeApiError carrying the server\'s Status, with helpers that read its code and reason', async () => {
    const answers: Status[] = [
      status(404, 'NotFound', 'pods "x" not found'),
      status(409, 'Conflict', 'Operation cannot be fulfilled on pods "x": the object has been modified'),
      status(409, 'AlreadyExists', 'pods "x" already exists'),
      status(410, 'Expired', 'too old resource version: 1 (5)'),
    ];
    const { client } = await fake((_, res) => {
      const next = answers.shift()!;
      json(res, next.code, next);
    });
    const errors: unknown[] = [];
    for (let i = 0; i < 4; i++) errors.push(await client.get(PODS, 'default', 'x').catch((e: unknown) => e));
    assert.ok(errors[0] instanceof KubeApiError);
    assert.equal((errors[0] as KubeApiError).message, 'pods "x" not found');
    assert.equal((errors[0] as KubeApiError).reason, 'NotFound');
    assert.deepEqual(errors.map((e) => [isNotFound(e), isConflict(e), isAlreadyExists(e), isGone(e)]), [
      [true, false, false, false],
      [false, true, false, false],
      [false, false, true, false],
      [false, false, false, true],
    ]);
  });

  it('turns an error answer that is not a Status (a wrong URL) into a KubeApiError that says what came', async () => {
    const { client } = await fake((_, res) => {
      res.writeHead(404, { 'Content-Type': 'text/html' });
      res.end('<html>Not Found</html>');
    });
    const error = await client.get(PODS, 'default', 'x').catch((e: unknown) => e);
    assert.ok(isNotFound(error));
    assert.match((error as Error).message, /GET \/api\/v1\/namespaces\/default\/pods\/x: expected a Status object, got HTTP 404 \(text\/html\) "<html>Not Found<\/html>"/);
  });

  it('says what came when a success answer is not JSON', async () => {
    const { client } = await fake((_, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<html>welcome to nginx</html>');
    });
    await assert.rejects(client.get(PODS, 'default', 'x'), /expected a JSON answer from the API server, got HTTP 200 \(text\/html\) "<html>welcome to nginx/);
  });

  it('names the server it could not reach', async () => {
    const client = new KubeClient({ server: 'http://127.0.0.1:1' });
    await assert.rejects(client.get(PODS, 'default', 'x'), /GET \/api\/v1\/namespaces\/default\/pods\/x: could not talk to the API server at http:\/\/127\.0\.0\.1:1: connect ECONNREFUSED/);
  });

  it('refuses a server URL that is neither https:// nor http://', () => {
    assert.throws(() => new KubeClient({ server: 'ftp://10.0.0.1:6443' }), /expected an https:\/\/ or http:\/\/ server URL, got "ftp:\/\/10\.0\.0\.1:6443"/);
  });

  it('gives up on a server that does not answer in time', async () => {
    const { seen } = await fake(() => {}); // never answers
    const server = servers.at(-1)!;
    const client = new KubeClient({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, timeoutMs: 50 });
    await assert.rejects(client.get(PODS, 'default', 'x'), /expected an answer within 50 ms, got none/);
    assert.equal(seen.length, 1);
  });
});

describe('KubeClient resource layer', () => {
  it('lists with selectors and a resourceVersion, across all namespaces when none is given', async () => {
    const { client, seen } = await fake((_, res) => json(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '7' }, items: [pod('a')] }));
    const list = await client.list<Pod>(PODS, { namespace: 'default', labelSelector: 'app=web', fieldSelector: 'spec.nodeName=node-2', resourceVersion: '0' });
    assert.equal(list.metadata.resourceVersion, '7');
    assert.equal(seen[0]?.path, '/api/v1/namespaces/default/pods');
    assert.equal(seen[0]?.query.get('labelSelector'), 'app=web');
    assert.equal(seen[0]?.query.get('fieldSelector'), 'spec.nodeName=node-2');
    assert.equal(seen[0]?.query.get('resourceVersion'), '0');
    await client.list(PODS);
    assert.equal(seen[1]?.path, '/api/v1/pods');
  });

  it('creates into metadata.namespace, or default when the object names none', async () => {
    const { client, seen } = await fake(echo);
    await client.create(PODS, { ...pod('a'), metadata: { name: 'a', namespace: 'shop' } });
    await client.create(PODS, { ...pod('b'), metadata: { name: 'b' } });
    await client.create(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' } });
    assert.deepEqual(seen.map((s) => `${s.method} ${s.path}`), ['POST /api/v1/namespaces/shop/pods', 'POST /api/v1/namespaces/default/pods', 'POST /api/v1/nodes']);
    assert.equal(seen[0]?.headers['content-type'], 'application/json');
  });

  it('updates with PUT carrying metadata.resourceVersion, and writes status through the status subresource', async () => {
    const { client, seen } = await fake(echo);
    await client.update(PODS, pod('web', '41'));
    await client.updateStatus(PODS, { ...pod('web', '42'), status: { phase: 'Running' } });
    assert.deepEqual(seen.map((s) => `${s.method} ${s.path}`), ['PUT /api/v1/namespaces/default/pods/web', 'PUT /api/v1/namespaces/default/pods/web/status']);
    assert.equal((JSON.parse(seen[0]?.body ?? '{}') as Pod).metadata.resourceVersion, '41');
    await assert.rejects(client.update(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: {} }), /expected metadata.name on the Pod, got undefined/);
  });

  it('sends each patch type with its own Content-Type', async () => {
    const { client, seen } = await fake(echo);
    await client.patch(DEPLOYMENTS, 'default', 'web', { spec: { replicas: 3 } });
    await client.patch(DEPLOYMENTS, 'default', 'web', { spec: { replicas: 3 } }, 'merge');
    await client.patch(DEPLOYMENTS, 'default', 'web', [{ op: 'replace', path: '/spec/replicas', value: 3 }], 'json');
    assert.deepEqual(seen.map((s) => s.headers['content-type']), [
      'application/strategic-merge-patch+json',
      'application/merge-patch+json',
      'application/json-patch+json',
    ]);
    assert.equal(seen[0]?.path, '/apis/apps/v1/namespaces/default/deployments/web');
  });

  it('server-side applies as a PATCH of JSON with the apply content type, fieldManager and force', async () => {
    const { client, seen } = await fake(echo);
    const intent: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' }, spec: { replicas: 2 } };
    await client.apply(DEPLOYMENTS, intent, { fieldManager: 'kubectl', force: true });
    assert.equal(seen[0]?.method, 'PATCH');
    assert.equal(seen[0]?.path, '/apis/apps/v1/namespaces/shop/deployments/web');
    assert.equal(seen[0]?.headers['content-type'], 'application/apply-patch+yaml');
    assert.equal(seen[0]?.query.toString(), 'fieldManager=kubectl&force=true');
    assert.deepEqual(JSON.parse(seen[0]?.body ?? ''), intent);
    await assert.rejects(client.apply(DEPLOYMENTS, intent, { fieldManager: '' }), /expected a fieldManager/);
  });

  it('deletes with DeleteOptions in the body', async () => {
    const { client, seen } = await fake((_, res) => json(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 }));
    const answer = await client.delete(PODS, 'default', 'web', { propagationPolicy: 'Foreground', gracePeriodSeconds: 0 });
    assert.equal((answer as Status).status, 'Success');
    assert.equal(seen[0]?.method, 'DELETE');
    assert.deepEqual(JSON.parse(seen[0]?.body ?? ''), { propagationPolicy: 'Foreground', gracePeriodSeconds: 0 });
  });

  it('reads and patches the scale subresource as kubectl scale does', async () => {
    const { client, seen } = await fake((_, res) => json(res, 200, { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web' }, spec: { replicas: 5 }, status: { replicas: 3 } }));
    await client.getScale(DEPLOYMENTS, 'default', 'web');
    const scale = await client.patchScale(DEPLOYMENTS, 'default', 'web', 5);
    assert.equal(scale.spec.replicas, 5);
    assert.equal(seen[1]?.path, '/apis/apps/v1/namespaces/default/deployments/web/scale');
    assert.equal(seen[1]?.headers['content-type'], 'application/merge-patch+json');
    assert.deepEqual(JSON.parse(seen[1]?.body ?? ''), { spec: { replicas: 5 } });
  });

  it('binds a pod by POSTing a v1 Binding to its binding subresource', async () => {
    const { client, seen } = await fake((_, res) => json(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }));
    await client.bind('default', 'web-1', 'node-2');
    assert.equal(seen[0]?.path, '/api/v1/namespaces/default/pods/web-1/binding');
    assert.deepEqual(JSON.parse(seen[0]?.body ?? ''), {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: 'web-1', namespace: 'default' },
      target: { apiVersion: 'v1', kind: 'Node', name: 'node-2' },
    });
  });

  it('reads logs as text, and as a stream that stays open with follow', async () => {
    const { client, seen } = await fake((s, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      if (s.query.get('follow') !== 'true') return res.end('line 1\nline 2\n');
      res.write('line 1\n');
      setTimeout(() => res.end('line 2\n'), 20);
    });
    assert.equal(await client.logs('default', 'web', { container: 'main', tailLines: 2 }), 'line 1\nline 2\n');
    assert.equal(seen[0]?.path, '/api/v1/namespaces/default/pods/web/log');
    assert.equal(seen[0]?.query.toString(), 'container=main&tailLines=2');
    const stream = await client.logs('default', 'web', { follow: true });
    let text = '';
    for await (const chunk of stream) text += chunk;
    assert.equal(text, 'line 1\nline 2\n');
  });

  it('offers a thin typed layer bound to a resource and namespace', async () => {
    const { client, seen } = await fake(echo);
    await client.pods('shop').create({ ...pod('a'), metadata: { name: 'a' } });
    await client.deployments('shop').patch('web', { spec: { replicas: 1 } }, 'merge');
    await client.nodes().get('node-1');
    assert.deepEqual(seen.map((s) => `${s.method} ${s.path}`), [
      'POST /api/v1/namespaces/shop/pods',
      'PATCH /apis/apps/v1/namespaces/shop/deployments/web',
      'GET /api/v1/nodes/node-1',
    ]);
  });
});

describe('KubeClient.watch', () => {
  /** Opens a watch on a server that answers with `write`, collecting the events, and waits for the end. */
  async function watchAll(write: (res: http.ServerResponse) => void): Promise<{ events: WatchEventObject[]; end: WatchEnd; seen: Seen[] }> {
    const { client, seen } = await fake((_, res) => write(res));
    const events: WatchEventObject[] = [];
    const handle = client.watch(PODS, { namespace: 'default', resourceVersion: '5', allowWatchBookmarks: true, timeoutSeconds: 300 }, (e) => events.push(e as WatchEventObject));
    return { events, end: await handle.done, seen };
  }

  it('delivers one event per line, in order, even when lines are split across chunks, then ends as closed', async () => {
    const line = (type: string, name: string) => JSON.stringify({ type, object: pod(name) }) + '\n';
    const { events, end, seen } = await watchAll((res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const text = line('ADDED', 'a') + line('MODIFIED', 'a') + JSON.stringify({ type: 'DELETED', object: pod('a') }); // the last without its newline
      res.write(text.slice(0, 17));
      setTimeout(() => res.end(text.slice(17)), 10);
    });
    assert.deepEqual(events.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);
    assert.deepEqual(end, { reason: 'closed' });
    assert.equal(seen[0]?.query.toString(), 'watch=true&resourceVersion=5&allowWatchBookmarks=true&timeoutSeconds=300');
  });

  it('passes an ERROR event on as it came, with its Status', async () => {
    const { events, end } = await watchAll((res) => {
      res.writeHead(200);
      res.end(JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', 'too old resource version: 5 (9)') }) + '\n');
    });
    assert.equal(events[0]?.type, 'ERROR');
    assert.equal((events[0]?.object as unknown as Status).code, 410);
    assert.equal(end.reason, 'closed');
  });

  it('ends with the KubeApiError when the watch is answered with an HTTP error', async () => {
    const { end } = await watchAll((res) => json(res, 410, status(410, 'Expired', 'too old resource version: 5 (9)')));
    assert.equal(end.reason, 'error');
    assert.ok(end.reason === 'error' && isGone(end.error));
  });

  it('ends with an error that quotes a line that is not a watch event', async () => {
    const { end } = await watchAll((res) => {
      res.writeHead(200);
      res.end('{"kind":"PodList","items":[]}\n');
    });
    assert.ok(end.reason === 'error');
    assert.match(end.error.message, /expected a watch event .*got "\{\\"kind\\":\\"PodList\\"/);
  });

  it('ends as an error when the connection drops mid-stream', async () => {
    const { end } = await watchAll((res) => {
      res.writeHead(200);
      res.write(JSON.stringify({ type: 'ADDED', object: pod('a') }) + '\n');
      setTimeout(() => res.socket?.destroy(), 10);
    });
    assert.equal(end.reason, 'error');
  });

  it('ends as stopped when the caller stops it, and delivers nothing after', async () => {
    const { client } = await fake((_, res) => {
      res.writeHead(200);
      res.write(JSON.stringify({ type: 'ADDED', object: pod('a') }) + '\n');
      setTimeout(() => res.write(JSON.stringify({ type: 'ADDED', object: pod('b') }) + '\n'), 30);
    });
    const events: string[] = [];
    const handle = client.watch(PODS, {}, (e) => {
      events.push(e.type);
      handle.stop();
    });
    assert.deepEqual(await handle.done, { reason: 'stopped' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(events, ['ADDED']);
  });

  it('ends with the error a handler throws', async () => {
    const { client } = await fake((_, res) => {
      res.writeHead(200);
      res.write(JSON.stringify({ type: 'ADDED', object: pod('a') }) + '\n');
    });
    const handle = client.watch(PODS, {}, () => {
      throw new Error('handler failed');
    });
    const end = await handle.done;
    assert.ok(end.reason === 'error' && end.error.message === 'handler failed');
  });

  it('parses a watch line, or says what was wrong with it', () => {
    assert.equal((parseWatchEvent('{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"3"}}}') as WatchEventObject).type, 'BOOKMARK');
    assert.match((parseWatchEvent('not json') as Error).message, /expected one JSON watch event per line, got "not json"/);
    assert.ok(parseWatchEvent('{"type":"CHANGED","object":{}}') instanceof Error);
  });
});

describe('retryOnConflict', () => {
  const conflict = () => new KubeApiError(status(409, 'Conflict', 'the object has been modified'));

  it('runs the function again after each conflict, waiting longer each time, until it succeeds', async () => {
    const clock = instantClock();
    let calls = 0;
    const result = await retryOnConflict(
      async () => {
        calls++;
        if (calls < 4) throw conflict();
        return 'written';
      },
      { clock, random: () => 0 },
    );
    assert.equal(result, 'written');
    assert.equal(calls, 4);
    assert.deepEqual(clock.delays, [10, 20, 40]);
  });

  it('throws the last conflict once the attempts run out', async () => {
    let calls = 0;
    const fail = async () => {
      calls++;
      throw conflict();
    };
    await assert.rejects(retryOnConflict(fail, { attempts: 3, clock: instantClock() }), (e: unknown) => isConflict(e));
    assert.equal(calls, 3);
  });

  it('does not retry an error that is not a conflict', async () => {
    let calls = 0;
    const fail = async () => {
      calls++;
      throw new KubeApiError(status(409, 'AlreadyExists', 'pods "x" already exists'));
    };
    await assert.rejects(retryOnConflict(fail, { clock: instantClock() }), (e: unknown) => isAlreadyExists(e));
    assert.equal(calls, 1);
  });
});
