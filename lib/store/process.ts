/**
 * Runs the store as its own OS process (`lib/store/main.ts`, what
 * `npm run etcd` starts), for the labs, the crash tests and the benchmark.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const mainFile = fileURLToPath(new URL('./main.ts', import.meta.url));

/** A running store process. */
export interface StoreProcess {
  /** host:port of its gRPC endpoint. */
  endpoint: string;
  port: number;
  child: ChildProcess;
  /** Everything it printed, for narration and failure messages. */
  output: string[];
  /** Kills it with SIGKILL (a crash: no chance to flush or clean up). */
  kill9(): Promise<void>;
  /** Stops it with SIGTERM and waits for it to exit. */
  stop(): Promise<void>;
}

/** Starts `main.ts` on a free loopback port and waits for its ready line. */
export async function startStoreProcess(dataDir: string, extraArgs: string[] = []): Promise<StoreProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', mainFile, '--data-dir', dataDir, '--listen-client-urls', 'http://127.0.0.1:0', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => output.push(line));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the store process did not get ready within 20 s; it printed:\n${output.join('\n')}`)), 20_000);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      output.push(line);
      const match = /serving etcd v3 gRPC on [^:\s]+:(\d+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the store process exited with code ${code} before it was ready; it printed:\n${output.join('\n')}`));
    });
  });
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    await exited;
  };
  return { endpoint: `127.0.0.1:${port}`, port, child, output, kill9: () => signal('SIGKILL'), stop: () => signal('SIGTERM') };
}
