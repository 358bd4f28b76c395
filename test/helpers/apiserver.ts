/**
 * Test support for the API server's tests: a cluster in a fresh temporary
 * directory, and raw HTTPS calls that keep the exact status code, headers and
 * body the server sent (KubeClient turns errors into exceptions, which is
 * right for components but hides what tests want to see).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../lib/api/types.ts';
import { startCluster, type Cluster, type ClusterOptions } from '../../lib/cluster/cluster.ts';

/** A cluster whose data lives in its own temporary directory; `stop` also removes the directory. */
export interface TestCluster extends Cluster {
  dir: string;
}

/** Starts a cluster (in-process store, HTTPS API server) in a new temporary directory. */
export async function startTestCluster(options: Partial<ClusterOptions> = {}): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'apiserver-test-'));
  const cluster = await startCluster({ compactionIntervalMs: 0, ...options, dir });
  return {
    ...cluster,
    dir,
    stop: async () => {
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** One raw request: who sends it and what. `body` is sent as is when a string or Buffer, else as JSON. */
export interface RawCall {
  method: string;
  path: string;
  /** The user whose token is sent; `null` sends no Authorization header. Defaults to the admin. */
  user?: string | null;
  body?: unknown;
  contentType?: string;
  accept?: string;
  /** Send the body chunked, without Content-Length, so the server finds its size only while reading. */
  chunked?: boolean;
}

/** What the server answered, with the body parsed as JSON when it is JSON. */
export interface RawAnswer {
  code: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** Sends one request over HTTPS, trusting only the cluster CA, and reads the whole answer. */
export function call(cluster: Cluster, request: RawCall): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const url = new URL(request.path, cluster.apiserver.url);
    const user = request.user === undefined ? 'kubernetes-admin' : request.user;
    const headers: Record<string, string | number> = { Accept: request.accept ?? 'application/json', 'User-Agent': 'apiserver-test' };
    if (user !== null) headers.Authorization = `Bearer ${cluster.tokens.get(user) ?? `expected a known user, got ${user}`}`;
    let payload: Buffer | undefined;
    if (request.body !== undefined) {
      payload = Buffer.isBuffer(request.body) ? request.body : Buffer.from(typeof request.body === 'string' ? request.body : JSON.stringify(request.body));
      headers['Content-Type'] = request.contentType ?? 'application/json';
      if (!request.chunked) headers['Content-Length'] = payload.length;
    }
    const req = https.request(url, { method: request.method, headers, ca: cluster.ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ code: res.statusCode ?? 0, headers: res.headers, text, body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (request.chunked && payload) {
      // Several writes, so the body really arrives in pieces.
      const piece = 256 * 1024;
      for (let at = 0; at < payload.length; at += piece) req.write(payload.subarray(at, at + piece));
      req.end();
    } else {
      req.end(payload);
    }
  });
}

/** An open raw watch: every chunk as it came, and the parsed events so far. */
export interface RawWatch {
  code: Promise<number>;
  /** The body text received so far. */
  text(): string;
  /** The events received so far (complete lines only). */
  events(): Array<{ type: string; object: KubeObject & Record<string, unknown> }>;
  /** Resolves when at least `n` events have arrived (rejects after `ms`). */
  waitFor(n: number, ms?: number): Promise<Array<{ type: string; object: KubeObject & Record<string, unknown> }>>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  stop(): void;
}

/** Opens a watch as a plain GET and records the stream byte for byte. */
export function rawWatch(cluster: Cluster, path: string, options: { user?: string; accept?: string } = {}): RawWatch {
  let received = '';
  let resolveCode!: (code: number) => void;
  let resolveEnded!: () => void;
  const code = new Promise<number>((resolve) => (resolveCode = resolve));
  const ended = new Promise<void>((resolve) => (resolveEnded = resolve));
  const waiters: Array<() => void> = [];
  const url = new URL(path, cluster.apiserver.url);
  const token = cluster.tokens.get(options.user ?? 'kubernetes-admin');
  const req = https.get(url, { headers: { Authorization: `Bearer ${token}`, Accept: options.accept ?? 'application/json' }, ca: cluster.ca, agent: false }, (res) => {
    resolveCode(res.statusCode ?? 0);
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      received += chunk;
      for (const waiter of waiters.splice(0)) waiter();
    });
    res.on('end', () => resolveEnded());
    res.on('close', () => resolveEnded());
  });
  req.on('error', () => resolveEnded());
  const events = () =>
    received
      .split('\n')
      .slice(0, -1)
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { type: string; object: KubeObject & Record<string, unknown> });
  const waitFor = (n: number, ms = 5000) =>
    new Promise<ReturnType<typeof events>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`expected ${n} watch events within ${ms} ms, got ${events().length}: ${received}`)), ms);
      const check = () => {
        if (events().length >= n) {
          clearTimeout(timer);
          resolve(events());
        } else waiters.push(check);
      };
      check();
    });
  return { code, text: () => received, events, waitFor, ended, stop: () => req.destroy() };
}

/** Every key under a prefix in the cluster's in-process store. */
export async function storedKeys(cluster: Cluster, prefix: string): Promise<string[]> {
  const store = cluster.store;
  if (!store) throw new Error('expected a cluster with an in-process store, got one on an external etcd');
  const key = Buffer.from(prefix);
  const end = Buffer.from(prefix);
  end[end.length - 1] = (end[end.length - 1] ?? 0) + 1;
  const response = await store.range({ key, rangeEnd: end });
  return response.kvs.map((kv) => kv.key.toString());
}

/** `promise`, or a rejection naming `what` if it takes longer than `ms`: a test fails instead of hanging. */
export async function within<T>(promise: Promise<T>, ms: number, what: string | (() => string)): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`expected ${typeof what === 'string' ? what : what()} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
