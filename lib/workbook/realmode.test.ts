import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { requireRealMode, requireTool } from './realmode.ts';

const none = () => null;
const everything = (name: string) => `/usr/sbin/${name}`;

describe('requireTool', () => {
  test('does not skip when the tool is there', () => {
    assert.deepEqual(requireTool('runc', { env: {}, locate: everything }), { skip: false });
  });

  test('skips with the reason and the Debian package when the tool is missing', () => {
    assert.deepEqual(requireTool('runc', { env: {}, locate: none }), {
      skip: 'runc is not installed (install it with `apt-get install -y runc` or `sudo npm run doctor -- --install`)',
    });
    assert.match(String(requireTool('cni-bridge', { env: {}, locate: none }).skip), /apt-get install -y containernetworking-plugins/);
  });

  test('kubectl, which Debian does not package, gets other advice', () => {
    assert.match(String(requireTool('kubectl', { env: {}, locate: none }).skip), /kubectl is not installed \(kubectl is not a Debian package/);
  });

  test('in CI a missing tool is an error, never a skip', () => {
    assert.throws(() => requireTool('iptables', { env: { CI: 'true' }, locate: none }), /real-mode tests must not skip in CI, but iptables is not installed/);
  });

  test('CI set to anything but "true" still skips', () => {
    assert.equal(typeof requireTool('iptables', { env: { CI: '1' }, locate: none }).skip, 'string');
  });
});

describe('requireRealMode', () => {
  test('needs Linux', () => {
    assert.deepEqual(requireRealMode([], { env: {}, platform: 'darwin', uid: 0 }), { skip: 'real mode needs Linux, and this is darwin' });
  });

  test('needs root', () => {
    assert.match(String(requireRealMode([], { env: {}, platform: 'linux', uid: 1000 }).skip), /real mode needs root, and this runs as uid 1000/);
  });

  test('needs each listed tool', () => {
    assert.match(String(requireRealMode(['runc', 'ip'], { env: {}, platform: 'linux', uid: 0, locate: (n) => (n === 'ip' ? null : `/x/${n}`) }).skip), /^ip is not installed/);
  });

  test('runs when everything is there', () => {
    assert.deepEqual(requireRealMode(['runc'], { env: {}, platform: 'linux', uid: 0, locate: everything }), { skip: false });
  });

  test('throws in CI instead of skipping', () => {
    assert.throws(() => requireRealMode([], { env: { CI: 'true' }, platform: 'linux', uid: 1000 }), /must not skip in CI/);
  });
});
