/**
 * Starts and stops a real etcd (Debian's etcd-server) on free loopback ports
 * with a throw-away data directory: the oracle our store is compared with.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The etcd server binary (Debian's etcd-server installs it on the PATH). */
export const ETCD_BINARY = 'etcd';

/** A running real etcd and how to reach and stop it. */
export interface RealEtcd {
  /** "127.0.0.1:PORT", the form the etcd3 client and etcdctl's --endpoints take. */
  endpoint: string;
  port: number;
  dataDir: string;
  /** Everything etcd logged, for failure messages. */
  log(): string;
  /** Kills etcd and removes its data directory; safe to call twice. */
  stop(): Promise<void>;
}

/** Asks the kernel for a free loopback TCP port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a single-member etcd on free loopback ports in a fresh temp dir and
 * waits until its /health endpoint answers; on any failure it cleans up and throws.
 */
export async function startRealEtcd(options: { name?: string; timeoutMs?: number } = {}): Promise<RealEtcd> {
  const dataDir = await mkdtemp(join(tmpdir(), 'real-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const name = options.name ?? 'conformance';
  const args = [
    '--name', name,
    '--data-dir', dataDir,
    '--listen-client-urls', clientUrl,
    '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `${name}=${peerUrl}`,
  ];
  const child = spawn(ETCD_BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async (): Promise<void> => {
    await killAndWait(child, exited);
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await waitHealthy(clientUrl, child, options.timeoutMs ?? 20_000);
  } catch (err) {
    await stop();
    throw new Error(`etcd did not become healthy: ${(err as Error).message}\n--- etcd log ---\n${output.slice(-4000)}`);
  }
  return { endpoint: `127.0.0.1:${clientPort}`, port: clientPort, dataDir, log: () => output, stop };
}

/** Polls etcd's /health until it says healthy, the process dies, or time runs out. */
async function waitHealthy(clientUrl: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`etcd exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`${clientUrl}/health`);
      const body = (await res.json()) as { health?: string };
      if (body.health === 'true') return;
    } catch {
      // Why ignore: until etcd listens, the connection is refused; keep polling.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no healthy answer from ${clientUrl}/health within ${timeoutMs} ms`);
}

/** SIGTERM, then SIGKILL if the process has not exited within two seconds. */
async function killAndWait(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
}
