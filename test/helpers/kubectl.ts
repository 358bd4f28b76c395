/**
 * Runs the real kubectl against one of our clusters: through execFile with an
 * argument array (never a shell), with KUBECONFIG pointing at the cluster and
 * a fresh --cache-dir, so no test sees discovery cached by another.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { locateTool } from '../../lib/workbook/doctor.ts';

/** What one kubectl run printed and how it ended. */
export interface KubectlResult {
  /** The exit code; -1 when kubectl was killed (by the timeout). */
  code: number;
  stdout: string;
  stderr: string;
}

/** How to run kubectl once. */
export interface KubectlRunOptions {
  /** Written to kubectl's stdin, for `-f -`. */
  input?: string;
  /** Override the kubeconfig (e.g. one with a wrong token). */
  kubeconfig?: string;
  timeoutMs?: number;
}

/** A kubectl bound to one kubeconfig and one fresh cache folder. */
export interface Kubectl {
  (args: string[], options?: KubectlRunOptions): Promise<KubectlResult>;
  /** Run, and fail with kubectl's own stderr unless it exits 0; resolves to stdout. */
  ok(args: string[], options?: KubectlRunOptions): Promise<string>;
  /** Start a long-running kubectl (e.g. `get -w`); the caller kills it. */
  start(args: string[]): ChildProcess;
  cacheDir: string;
}

/** The kubectl binary on the PATH, or 'kubectl' so a missing one fails with ENOENT. */
export const KUBECTL = locateTool('kubectl') ?? 'kubectl';

/** A kubectl for `kubeconfig` whose discovery cache lives in a new folder under `tmp`. */
export function kubectlFor(kubeconfig: string, tmp: string): Kubectl {
  const cacheDir = mkdtempSync(join(tmp, 'kubectl-cache-'));
  const command = (args: string[]) => ['--cache-dir', cacheDir, ...args];
  const env = (config: string) => ({ ...process.env, KUBECONFIG: config });

  const run = (args: string[], options: KubectlRunOptions = {}): Promise<KubectlResult> =>
    new Promise((resolve) => {
      const config = options.kubeconfig ?? kubeconfig;
      const child = execFile(KUBECTL, command(args), { env: env(config), timeout: options.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        // Why read the code off the child: execFile's error carries a string code for spawn failures.
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      });
      child.stdin?.end(options.input ?? '');
    });

  const ok = async (args: string[], options?: KubectlRunOptions): Promise<string> => {
    const result = await run(args, options);
    if (result.code !== 0) {
      throw new Error(`expected \`kubectl ${args.join(' ')}\` to exit 0, got ${result.code}; stderr:\n${result.stderr}\nstdout:\n${result.stdout}`);
    }
    return result.stdout;
  };

  const start = (args: string[]): ChildProcess => execFile(KUBECTL, command(args), { env: env(kubeconfig), maxBuffer: 16 * 1024 * 1024 });

  return Object.assign(run, { ok, start, cacheDir });
}

/** The cells of one line of kubectl's table output (columns are separated by two or more spaces). */
export function cells(line: string): string[] {
  return line.trim().split(/\s{2,}/);
}

/** The lines of kubectl's table output, header first, with empty lines dropped. */
export function rows(stdout: string): string[][] {
  return stdout.split('\n').filter((line) => line.trim() !== '').map(cells);
}
