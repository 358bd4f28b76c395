import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { kubeconfigPaths, loadContext, loadKubeconfig, readKubeconfig, resolveContext, writeKubeconfig } from './kubeconfig.ts';
import { requireTool } from '../workbook/realmode.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kbs-kubeconfig-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const ENTRY = { server: 'http://127.0.0.1:6443', token: 'admin-token', user: 'admin', cluster: 'laptops', context: 'admin@laptops', namespace: 'shop' };


const TWO_CONTEXTS = `
apiVersion: v1
kind: Config
clusters:
- name: laptops
  cluster:
    server: http://10.0.0.1:6443
users:
- name: admin
  user:
    token: secret
- name: viewer
  user:
    tokenFile: tokens/viewer
contexts:
- name: admin
  context: {cluster: laptops, user: admin, namespace: kube-system}
- name: viewer
  context: {cluster: laptops, user: viewer}
current-context: admin
`;

describe('kubeconfig', () => {
  it('writes a file that reads back to the same server, token, namespace and current context', () => {
    const path = join(tempDir(), 'nested', 'config');
    writeKubeconfig(path, ENTRY);
    const context = loadContext({ path });
    assert.deepEqual(context, { context: 'admin@laptops', cluster: 'laptops', user: 'admin', server: ENTRY.server, token: 'admin-token', namespace: 'shop' });
  });

  it('writes the file readable by its owner only, since it holds a token', () => {
    const path = join(tempDir(), 'config');
    writeKubeconfig(path, ENTRY);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  // Skips with the reason without kubectl; fails instead under CI=true.
  it('writes a file the real kubectl accepts', requireTool('kubectl'), () => {
    const path = join(tempDir(), 'config');
    writeKubeconfig(path, ENTRY);
    const current = execFileSync('kubectl', ['config', 'current-context', '--kubeconfig', path], { encoding: 'utf8' }).trim();
    assert.equal(current, 'admin@laptops');
    const view = JSON.parse(
      execFileSync('kubectl', ['config', 'view', '--raw', '-o', 'json', '--kubeconfig', path], { encoding: 'utf8' }),
    ) as { clusters: Array<{ cluster: { server: string } }>; users: Array<{ user: { token: string } }>; contexts: Array<{ context: { namespace: string } }> };
    assert.equal(view.clusters[0]?.cluster.server, ENTRY.server);
    assert.equal(view.users[0]?.user.token, ENTRY.token);
    assert.equal(view.contexts[0]?.context.namespace, 'shop');
  });

  it('resolves a named context, reading a relative tokenFile from beside the kubeconfig', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'config'), TWO_CONTEXTS);
    mkdirSync(join(dir, 'tokens'));
    writeFileSync(join(dir, 'tokens', 'viewer'), 'viewer-token\n');
    const config = readKubeconfig(join(dir, 'config'));
    assert.equal(resolveContext(config).namespace, 'kube-system', 'the current context is the default');
    const viewer = resolveContext(config, 'viewer');
    assert.equal(viewer.token, 'viewer-token', 'the token file is read and trimmed');
    assert.equal(viewer.namespace, 'default', 'a context without a namespace means default');
    assert.equal(viewer.server, 'http://10.0.0.1:6443');
  });

  it('takes the files from $KUBECONFIG, and else from ~/.kube/config', () => {
    assert.deepEqual(kubeconfigPaths({ KUBECONFIG: `/a${delimiter}/b` }), ['/a', '/b']);
    assert.match(kubeconfigPaths({})[0] ?? '', /\.kube[\\/]config$/);
  });

  it('merges several files with the first one winning, and skips files that do not exist', () => {
    const dir = tempDir();
    writeKubeconfig(join(dir, 'first'), { ...ENTRY, server: 'http://first:1' });
    writeKubeconfig(join(dir, 'second'), { ...ENTRY, server: 'http://second:2', context: 'other', cluster: 'other' });
    const merged = loadKubeconfig([join(dir, 'missing'), join(dir, 'first'), join(dir, 'second')]);
    assert.equal(merged['current-context'], 'admin@laptops');
    assert.equal(resolveContext(merged).server, 'http://first:1');
    assert.equal(resolveContext(merged, 'other').server, 'http://second:2');
  });

  it('says which context exists when asked for one that does not', () => {
    const path = join(tempDir(), 'config');
    writeKubeconfig(path, ENTRY);
    assert.throws(() => loadContext({ path, context: 'nope' }), /expected a context named "nope" in the kubeconfig, got "admin@laptops"/);
  });

  it('says what is wrong with a file that is not a kubeconfig', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'list'), '- just\n- a list\n');
    assert.throws(() => readKubeconfig(join(dir, 'list')), /expected a YAML mapping in the kubeconfig/);
    writeFileSync(join(dir, 'noserver'), 'clusters:\n- name: c\n  cluster: {}\n');
    assert.throws(() => readKubeconfig(join(dir, 'noserver')), /expected a server URL for cluster "c"/);
    assert.throws(() => loadKubeconfig([join(dir, 'absent')]), /expected a kubeconfig file at .*absent, got none/);
  });

  it('refuses a YAML alias bomb instead of expanding it', () => {
    const dir = tempDir();
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    writeFileSync(join(dir, 'bomb'), lines.join('\n') + '\n');
    assert.throws(() => readKubeconfig(join(dir, 'bomb')), /alias/i);
    assert.ok(readFileSync(join(dir, 'bomb'), 'utf8').length < 2000);
  });
});
