/**
 * The real `etcdctl` (Debian's etcd-client 3.4) against our server: every
 * command a chapter or an operator uses, checked on etcdctl's own output.
 * Also the `npm run etcd` process (main.ts): its ready line, SIGTERM, and
 * `snapshot restore` of a backup that etcdctl saved.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { requireTool } from '../workbook/realmode.ts';
import { MEMBER_ID } from './grpc-codec.ts';
import { startServer, type RunningServer } from './server.ts';
import { openStore, type Store } from './store.ts';

const ETCDCTL_BINARY = 'etcdctl';
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program with an argument array (never a shell), feeding `input` on stdin. */
function run(program: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Runs `etcdctl --endpoints=ENDPOINT ...args` with the v3 API. */
async function etcdctl(endpoint: string, args: string[], input?: string): Promise<Ran> {
  return run(ETCDCTL_BINARY, [`--endpoints=${endpoint}`, ...args], { input, env: { ETCDCTL_API: '3' } });
}

/** Like etcdctl(), but fails the test unless the command succeeded; returns stdout. */
async function ok(endpoint: string, args: string[], input?: string): Promise<string> {
  const r = await etcdctl(endpoint, args, input);
  assert.equal(r.code, 0, `etcdctl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** A long-running child whose stdout lines a test can wait for. */
class Running {
  private output = '';
  private readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** Resolves with all output so far once it matches `pattern` (fails after `ms`). */
  async waitFor(pattern: RegExp, ms = 10_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const match = this.output.match(pattern);
      if (match) return match;
      if (Date.now() > deadline) assert.fail(`expected output matching ${pattern} within ${ms} ms, got:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  get text(): string {
    return this.output;
  }

  /** Sends a signal (by this child's pid) and waits for the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/** Starts `lib/store/main.ts` as its own process with the given flags. */
function startMain(args: string[]): Running {
  return new Running(spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
}

describe('etcdctl against our server', requireTool('etcdctl'), () => {
  let scratch: string;
  let store: Store;
  let server: RunningServer;
  let endpoint: string;

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'etcdctl-test-'));
    store = await openStore({ dataDir: join(scratch, 'data') });
    server = await startServer({ store, port: 0, name: 'etcdctl-test' });
    endpoint = `127.0.0.1:${server.port}`;
  });

  after(async () => {
    await server?.close();
    await store?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  test('put and get, with --prefix and --rev', async () => {
    assert.equal(await ok(endpoint, ['put', 'app/a', 'one']), 'OK\n');
    const firstRevision = store.revision;
    assert.equal(await ok(endpoint, ['put', 'app/a', 'two']), 'OK\n');
    assert.equal(await ok(endpoint, ['put', 'app/b', 'three']), 'OK\n');
    assert.equal(await ok(endpoint, ['get', 'app/a']), 'app/a\ntwo\n');
    assert.equal(await ok(endpoint, ['get', 'app/', '--prefix']), 'app/a\ntwo\napp/b\nthree\n');
    assert.equal(await ok(endpoint, ['get', 'app/a', `--rev=${firstRevision}`]), 'app/a\none\n');
    assert.equal(await ok(endpoint, ['get', 'app/', '--prefix', '--keys-only']), 'app/a\n\napp/b\n\n');
  });

  test('get -w json: the header revision, and keys and values in base64', async () => {
    const json = JSON.parse(await ok(endpoint, ['get', 'app/', '--prefix', '-w', 'json'])) as {
      header: { revision: number; raft_term: number };
      kvs: Array<{ key: string; value: string; create_revision: number; mod_revision: number; version: number }>;
      count: number;
    };
    assert.equal(json.header.revision, store.revision);
    assert.equal(json.header.raft_term, 2);
    assert.equal(json.count, 2);
    assert.deepEqual(json.kvs.map((kv) => Buffer.from(kv.key, 'base64').toString()), ['app/a', 'app/b']);
    assert.deepEqual(json.kvs.map((kv) => Buffer.from(kv.value, 'base64').toString()), ['two', 'three']);
    assert.equal(json.kvs[0]?.version, 2);
  });

  test('del: one key, then a prefix, printing how many were deleted', async () => {
    await ok(endpoint, ['put', 'del/a', '1']);
    await ok(endpoint, ['put', 'del/b', '1']);
    await ok(endpoint, ['put', 'del/c', '1']);
    assert.equal(await ok(endpoint, ['del', 'del/a']), '1\n');
    assert.equal(await ok(endpoint, ['del', 'del/a']), '0\n');
    assert.equal(await ok(endpoint, ['del', 'del/', '--prefix']), '2\n');
    assert.equal(await ok(endpoint, ['get', 'del/', '--prefix']), '');
  });

  test('watch --prefix --rev replays history, then prints live events until killed', async () => {
    const from = store.revision + 1;
    await ok(endpoint, ['put', 'watch/a', '1']);
    await ok(endpoint, ['del', 'watch/a']);
    const watcher = new Running(spawn(ETCDCTL_BINARY, [`--endpoints=${endpoint}`, 'watch', 'watch/', '--prefix', `--rev=${from}`], { env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['ignore', 'pipe', 'pipe'] }));
    try {
      await watcher.waitFor(/DELETE\nwatch\/a\n/);
      await ok(endpoint, ['put', 'watch/b', 'live']);
      await watcher.waitFor(/PUT\nwatch\/b\nlive\n/);
      assert.equal(watcher.text, 'PUT\nwatch/a\n1\nDELETE\nwatch/a\n\nPUT\nwatch/b\nlive\n');
    } finally {
      await watcher.stop('SIGKILL');
    }
  });

  test('txn from stdin: the success branch when the compare holds, the failure branch when not', async () => {
    await ok(endpoint, ['put', 'txn/k', 'v1']);
    const mod = store.revision;
    const holds = await ok(endpoint, ['txn'], `mod("txn/k") = "${mod}"\n\nput txn/k v2\n\nput txn/k lost\n\n`);
    assert.equal(holds, 'SUCCESS\n\nOK\n');
    assert.equal(await ok(endpoint, ['get', 'txn/k', '--print-value-only']), 'v2\n');
    const stale = await ok(endpoint, ['txn'], `mod("txn/k") = "${mod}"\n\nput txn/k v3\n\nget txn/k\n\n`);
    assert.equal(stale, 'FAILURE\n\ntxn/k\nv2\n');
    const byValue = await ok(endpoint, ['txn'], `value("txn/k") = "v2"\nversion("txn/k") = "2"\n\ndel txn/k\n\n\n`);
    assert.equal(byValue, 'SUCCESS\n\n1\n');
  });

  test('compaction: reads before it fail with etcd’s message', async () => {
    await ok(endpoint, ['put', 'cmp/k', '1']);
    const old = store.revision;
    await ok(endpoint, ['put', 'cmp/k', '2']);
    const at = store.revision;
    assert.equal(await ok(endpoint, ['compaction', String(at)]), `compacted revision ${at}\n`);
    const r = await etcdctl(endpoint, ['get', 'cmp/k', `--rev=${old}`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /etcdserver: mvcc: required revision has been compacted/);
    assert.equal(await ok(endpoint, ['get', 'cmp/k', '--print-value-only']), '2\n');
  });

  test('lease grant, put --lease, timetolive --keys, keep-alive --once, list, revoke', async () => {
    const granted = await ok(endpoint, ['lease', 'grant', '60']);
    const id = granted.match(/^lease ([0-9a-f]+) granted with TTL\(60s\)\n$/)?.[1];
    assert.ok(id, `unexpected grant output: ${granted}`);
    assert.equal(await ok(endpoint, ['put', `--lease=${id}`, 'leased/k', 'v']), 'OK\n');
    assert.match(await ok(endpoint, ['lease', 'timetolive', id, '--keys']), new RegExp(`^lease ${id} granted with TTL\\(60s\\), remaining\\(\\d+s\\), attached keys\\(\\[leased/k\\]\\)\n$`));
    assert.equal(await ok(endpoint, ['lease', 'keep-alive', '--once', id]), `lease ${id} keepalived with TTL(60)\n`);
    assert.match(await ok(endpoint, ['lease', 'list']), new RegExp(`^found \\d+ leases\n(.*\n)*${id}\n`));
    assert.equal(await ok(endpoint, ['lease', 'revoke', id]), `lease ${id} revoked\n`);
    assert.equal(await ok(endpoint, ['get', 'leased/k']), '', 'revoking the lease deleted its key');
    assert.equal(await ok(endpoint, ['lease', 'timetolive', id]), `lease ${id} already expired\n`);
  });

  test('endpoint status and health, member list', async () => {
    const [status] = JSON.parse(await ok(endpoint, ['endpoint', 'status', '-w', 'json'])) as Array<{ Endpoint: string; Status: { header: { revision: number }; leader: number; version: string } }>;
    assert.equal(status?.Endpoint, endpoint);
    assert.equal(status?.Status.header.revision, store.revision);
    // etcdctl prints 64-bit ids as JSON numbers, so compare in hex through `-w table` instead of parsing.
    const table = await ok(endpoint, ['endpoint', 'status', '-w', 'table']);
    assert.match(table, new RegExp(`\\| ${endpoint} \\| ${BigInt(MEMBER_ID).toString(16)} \\|`));
    assert.match(table, /\| +true \| +false \|/, 'we are the leader and not a learner');
    // etcdctl 3.4 prints the health verdict on stderr.
    const health = await etcdctl(endpoint, ['endpoint', 'health']);
    assert.equal(health.code, 0);
    assert.match(health.stderr + health.stdout, new RegExp(`${endpoint} is healthy: successfully committed proposal`));
    assert.equal(await ok(endpoint, ['member', 'list']), `${BigInt(MEMBER_ID).toString(16)}, started, etcdctl-test, , http://${endpoint}, false\n`);
  });

  test('snapshot save, then `npm run etcd -- snapshot restore` into a new dir serves the same data', async () => {
    await ok(endpoint, ['put', 'backup/a', 'alpha']);
    await ok(endpoint, ['put', 'backup/b', Buffer.alloc(50_000, 'b').toString()]);
    const revision = store.revision;
    const before = await ok(endpoint, ['get', '', '--from-key', '-w', 'json']);
    const file = join(scratch, 'backup.db');
    const saved = await etcdctl(endpoint, ['snapshot', 'save', file]);
    assert.equal(saved.code, 0, saved.stderr);
    assert.match(saved.stdout, new RegExp(`Snapshot saved at ${file}`));
    assert.equal((await stat(file)).size % 512, 32);

    const restoredDir = join(scratch, 'restored');
    const restored = await run(process.execPath, ['--import', 'tsx', MAIN, 'snapshot', 'restore', file, '--data-dir', restoredDir]);
    assert.equal(restored.code, 0, restored.stderr);
    assert.equal(restored.stdout, `restored revision ${revision} from ${file} into ${restoredDir}\n`);

    const again = await run(process.execPath, ['--import', 'tsx', MAIN, 'snapshot', 'restore', file, '--data-dir', restoredDir]);
    assert.equal(again.code, 1, 'a non-empty target dir is refused');
    assert.match(again.stderr, /already has files/);

    const main = startMain(['--data-dir', restoredDir, '--listen-client-urls', 'http://127.0.0.1:0', '--name', 'restored']);
    try {
      const [, port, rev] = (await main.waitFor(/ready: serving etcd v3 gRPC on 127\.0\.0\.1:(\d+) \(data dir .*, revision (\d+)\)/)) as RegExpMatchArray;
      assert.equal(Number(rev), revision);
      const after = await ok(`127.0.0.1:${port}`, ['get', '', '--from-key', '-w', 'json']);
      const kvs = (json: string) => (JSON.parse(json) as { kvs: unknown[] }).kvs;
      assert.deepEqual(kvs(after), kvs(before), 'every key, value and revision came back');
    } finally {
      assert.equal(await main.stop('SIGTERM'), 0);
    }
  });
});

describe('npm run etcd (main.ts) as a process', requireTool('etcdctl'), () => {
  let scratch: string;
  before(async () => (scratch = await mkdtemp(join(tmpdir(), 'etcd-main-test-'))));
  after(async () => rm(scratch, { recursive: true, force: true }));

  test('port 0 picks a free port, data survives a SIGTERM and a restart', async () => {
    const dataDir = join(scratch, 'data');
    const first = startMain(['--data-dir', dataDir, '--listen-client-urls', 'http://127.0.0.1:0']);
    let port: string;
    try {
      [, port = ''] = (await first.waitFor(/ready: serving etcd v3 gRPC on 127\.0\.0\.1:(\d+) \(data dir .*, revision 1\)/)) as RegExpMatchArray;
      assert.notEqual(port, '0');
      await ok(`127.0.0.1:${port}`, ['put', 'durable', 'yes']);
    } finally {
      assert.equal(await first.stop('SIGTERM'), 0);
    }
    assert.match(first.text, /stopped on SIGTERM/);

    const second = startMain(['--data-dir', dataDir, '--listen-client-urls=http://127.0.0.1:0']);
    try {
      const [, port2] = (await second.waitFor(/on 127\.0\.0\.1:(\d+) \(data dir .*, revision 2\)/)) as RegExpMatchArray;
      assert.equal(await ok(`127.0.0.1:${port2}`, ['get', 'durable', '--print-value-only']), 'yes\n');
    } finally {
      assert.equal(await second.stop('SIGINT'), 0);
    }
  });

  test('bad flags and https are refused with a usage error naming the flag', async () => {
    const bogus = await run(process.execPath, ['--import', 'tsx', MAIN, '--bogus', 'x']);
    assert.equal(bogus.code, 2);
    assert.match(bogus.stderr, /unknown flag --bogus/);
    const tls = await run(process.execPath, ['--import', 'tsx', MAIN, '--listen-client-urls', 'https://127.0.0.1:2379']);
    assert.equal(tls.code, 2);
    assert.match(tls.stderr, /--listen-client-urls https:\/\/127\.0\.0\.1:2379: https is not supported/);
    const missing = await run(process.execPath, ['--import', 'tsx', MAIN, '--data-dir']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /flag --data-dir needs a value/);
  });

  test('restore refuses a file that is not a backup', async () => {
    const junk = join(scratch, 'junk.db');
    await writeFile(junk, 'not a snapshot');
    const r = await run(process.execPath, ['--import', 'tsx', MAIN, 'snapshot', 'restore', junk, '--data-dir', join(scratch, 'never')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /expected a store snapshot/);
    await assert.rejects(readFile(join(scratch, 'never', 'member', 'snap', 'db')));
  });
});
