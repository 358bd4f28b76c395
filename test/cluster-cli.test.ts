/**
 * `npm run cluster -- up | status | down` as a user runs it: `up` leaves a
 * cluster process running in the background and prints its kubeconfig, the
 * real kubectl works with that kubeconfig, and `down` leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { projectRoot } from '../lib/workbook/root.ts';
import { requireTool } from '../lib/workbook/realmode.ts';
import { kubectlFor, rows } from './helpers/kubectl.ts';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node --import tsx lib/cluster/main.ts <args>` from the project root, as `npm run cluster --` does. */
function cluster(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join('lib', 'cluster', 'main.ts'), ...args], { cwd: projectRoot, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

/** Whether a process with this pid exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm run cluster -- up, status and down', () => {
  let tmp: string;
  let dir: string;
  let upResult: CliResult;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'cluster-cli-test-'));
    dir = join(tmp, 'cluster');
    upResult = await cluster(['up', '--dir', dir]);
  });

  after(async () => {
    // Always: a failed test must not leave a cluster process running.
    if (dir) await cluster(['down', '--dir', dir]);
    rmSync(tmp, { recursive: true, force: true });
  });

  /** The KUBECONFIG=<path> line `up` printed. */
  const kubeconfigFromUp = (): string => {
    const match = /^KUBECONFIG=(.+)$/m.exec(upResult.stdout);
    assert.ok(match?.[1], `expected a line KUBECONFIG=<path> from up, got:\n${upResult.stdout}${upResult.stderr}`);
    return match[1];
  };

  test('up returns once the API server answers and prints KUBECONFIG= with the absolute path of a kubeconfig it wrote', () => {
    assert.equal(upResult.code, 0, `expected up to exit 0; stderr:\n${upResult.stderr}`);
    assert.match(upResult.stdout, /^cluster up \(pid \d+\): store \+ API server at https:\/\/127\.0\.0\.1:\d+$/m);
    const kubeconfig = kubeconfigFromUp();
    assert.ok(isAbsolute(kubeconfig), `expected an absolute path, got ${kubeconfig}`);
    assert.ok(kubeconfig.startsWith(dir), `expected the kubeconfig inside ${dir}, got ${kubeconfig}`);
    assert.match(readFileSync(kubeconfig, 'utf8'), /certificate-authority-data:/);
  });

  test('status exits 0 and names the URL of the running API server', async () => {
    const status = await cluster(['status', '--dir', dir]);
    assert.equal(status.code, 0, `expected status to exit 0; it printed:\n${status.stdout}${status.stderr}`);
    const url = /API server at (https:\/\/\S+)$/m.exec(upResult.stdout)?.[1];
    assert.ok(url, 'expected up to name the URL');
    assert.match(status.stdout, new RegExp(`^cluster up \\(pid \\d+, since \\S+\\): API server at ${url.replaceAll('.', '\\.')}$`, 'm'));
    assert.match(status.stdout, new RegExp(`^KUBECONFIG=${kubeconfigFromUp()}$`, 'm'));
  });

  test('up while the cluster runs starts no second one and prints the same KUBECONFIG', async () => {
    const again = await cluster(['up', '--dir', dir]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /^a cluster already runs \(pid \d+\)/m);
    assert.match(again.stdout, new RegExp(`^KUBECONFIG=${kubeconfigFromUp()}$`, 'm'));
  });

  test('the real kubectl with the printed kubeconfig lists the four built-in namespaces', requireTool('kubectl'), async () => {
    const kubectl = kubectlFor(kubeconfigFromUp(), tmp);
    const table = rows(await kubectl.ok(['get', 'ns']));
    assert.deepEqual(table[0], ['NAME', 'STATUS', 'AGE']);
    assert.deepEqual(table.slice(1).map((c) => c[0]).sort(), ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
  });

  test('down stops the cluster process and removes its folder, and status afterwards exits non-zero saying there is no cluster', async () => {
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { pid: number };
    assert.ok(alive(state.pid), `expected the cluster process ${state.pid} to run before down`);

    const down = await cluster(['down', '--dir', dir]);
    assert.equal(down.code, 0, `expected down to exit 0; stderr:\n${down.stderr}`);
    assert.equal(down.stdout.trim(), `cluster down: removed ${dir}`);
    assert.ok(!alive(state.pid), `expected the cluster process ${state.pid} to be gone after down`);
    assert.ok(!existsSync(dir), `expected ${dir} removed`);

    const status = await cluster(['status', '--dir', dir]);
    assert.notEqual(status.code, 0);
    assert.equal(status.stdout.trim(), `no cluster in ${dir}; start one with: npm run cluster -- up`);
  });
});
