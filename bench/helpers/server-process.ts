/**
 * The API server in a process of its own for the benchmarks, as
 * kube-apiserver would be: `npm run cluster`'s `run` command (store and API
 * server only) on a fresh folder, waited for until it answers over TLS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadContext } from '../../lib/client/kubeconfig.ts';
import { healthy } from '../../lib/cluster/main.ts';
import { projectRoot } from '../../lib/workbook/root.ts';

/** A running server process: its folder (kubeconfigs under it) and how to stop it. */
export interface ServerProcess {
  dir: string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts the store and API server as one process; `cpuProfDir` runs it under `node --cpu-prof`. */
export async function startServerProcess(prefix: string, cpuProfDir?: string): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const logFile = join(dir, 'cluster.log');
  const out = openSync(logFile, 'a');
  const profile = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', join(projectRoot, 'lib/cluster/main.ts'), 'run', '--dir', dir], { cwd: projectRoot, stdio: ['ignore', out, out] });
  closeSync(out);
  const stop = async () => {
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let waited = 0; ; waited += 100) {
      if (child.exitCode !== null) throw new Error(`expected the cluster process to keep running, got exit code ${child.exitCode}; its log:\n${readFileSync(logFile, 'utf8')}`);
      if (waited > 60_000) throw new Error(`expected the cluster process to answer within 60 s, got no answer; its log:\n${readFileSync(logFile, 'utf8')}`);
      if (existsSync(join(dir, 'state.json'))) {
        const admin = loadContext({ path: join(dir, 'kubeconfig') });
        if (await healthy(admin.server, admin.ca)) return { dir, stop };
      }
      await sleep(100);
    }
  } catch (error) {
    await stop();
    throw error;
  }
}

/** SIGTERM (the cluster closes its store cleanly), SIGKILL after 10 s. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
