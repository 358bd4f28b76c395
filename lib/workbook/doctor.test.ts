import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  aptInstallLine,
  busyboxProblem,
  detectEnvironment,
  detectTools,
  elfInterpreter,
  formatEnvironment,
  missingPackages,
  planInstall,
  realModeVerdict,
  readElfHead,
  TOOL_NAMES,
  versionAtLeast,
  type Environment,
  type ToolName,
  type ToolStatus,
} from './doctor.ts';

/** A minimal ELF file: header plus `headers` program headers of the given types; PT_INTERP points at `interp`. */
function elf(options: { is64: boolean; little: boolean; types: number[]; interp?: string }): Buffer {
  const { is64, little, types } = options;
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  const interp = Buffer.from(`${options.interp ?? ''}\0`);
  const interpAt = ehsize + phentsize * types.length;
  const buf = Buffer.alloc(interpAt + interp.length);
  interp.copy(buf, interpAt);
  buf.writeUInt32BE(0x7f454c46, 0);
  buf[4] = is64 ? 2 : 1;
  buf[5] = little ? 1 : 2;
  const w16 = (v: number, at: number) => (little ? buf.writeUInt16LE(v, at) : buf.writeUInt16BE(v, at));
  const w32 = (v: number, at: number) => (little ? buf.writeUInt32LE(v, at) : buf.writeUInt32BE(v, at));
  const w64 = (v: number, at: number) => (little ? buf.writeBigUInt64LE(BigInt(v), at) : buf.writeBigUInt64BE(BigInt(v), at));
  if (is64) {
    w64(ehsize, 0x20);
    w16(phentsize, 0x36);
    w16(types.length, 0x38);
  } else {
    w32(ehsize, 0x1c);
    w16(phentsize, 0x2a);
    w16(types.length, 0x2c);
  }
  types.forEach((type, i) => {
    const at = ehsize + i * phentsize;
    w32(type, at);
    if (type === 3) {
      if (is64) {
        w64(interpAt, at + 8);
        w64(interp.length, at + 32);
      } else {
        w32(interpAt, at + 4);
        w32(interp.length, at + 16);
      }
    }
  });
  return buf;
}

describe('elfInterpreter', () => {
  test('finds the interpreter of a dynamically linked 64-bit little-endian program', () => {
    assert.equal(elfInterpreter(elf({ is64: true, little: true, types: [6, 3, 1], interp: '/lib64/ld-linux-x86-64.so.2' })), '/lib64/ld-linux-x86-64.so.2');
  });

  test('finds it in a 32-bit big-endian program too', () => {
    assert.equal(elfInterpreter(elf({ is64: false, little: false, types: [3], interp: '/lib/ld.so.1' })), '/lib/ld.so.1');
  });

  test('returns null for a static program (no PT_INTERP)', () => {
    assert.equal(elfInterpreter(elf({ is64: true, little: true, types: [1, 1, 4] })), null);
  });

  test('refuses bytes that are not ELF, saying what it expected', () => {
    assert.throws(() => elfInterpreter(Buffer.from('#!/bin/sh\necho hi\n'.padEnd(64, ' '))), /expected an ELF file \(starting 7f 45 4c 46\), got 23212f62/);
  });

  test('refuses a truncated header table', () => {
    const whole = elf({ is64: true, little: true, types: [1, 1, 1] });
    assert.throws(() => elfInterpreter(whole.subarray(0, 100)), /expected 3 program headers, but the file ends at header/);
  });

  test('reads a real dynamically linked program on this machine', { skip: !existsSync('/bin/ls') || process.platform !== 'linux' ? 'needs Linux with /bin/ls' : false }, () => {
    assert.match(elfInterpreter(readElfHead('/bin/ls')) ?? '', /ld/);
  });

  test('busyboxProblem explains a dynamic busybox', () => {
    assert.equal((busyboxProblem('/bin/ls') ?? '').startsWith('dynamically linked (needs'), process.platform === 'linux' && existsSync('/bin/ls'));
  });
});

describe('versions', () => {
  test('versionAtLeast compares numerically, part by part', () => {
    assert.equal(versionAtLeast('20.15.0', '20.15.0'), true);
    assert.equal(versionAtLeast('v20.20.2', '20.15.0'), true);
    assert.equal(versionAtLeast('20.9.0', '20.15.0'), false);
    assert.equal(versionAtLeast('22.0.0', '20.15.0'), true);
    assert.equal(versionAtLeast('18.19.1', '20.15.0'), false);
  });
});

function fakeTools(missing: ToolName[] = [], problems: Partial<Record<ToolName, string>> = {}): Record<ToolName, ToolStatus> {
  const purposes: Record<string, ToolStatus['purpose']> = { etcd: 'store conformance', etcdctl: 'store conformance', kubectl: 'cluster access' };
  const packages: Record<string, string | null> = {
    runc: 'runc', iptables: 'iptables', 'iptables-restore': 'iptables', ip: 'iproute2', 'cni-bridge': 'containernetworking-plugins',
    'cni-host-local': 'containernetworking-plugins', 'cni-loopback': 'containernetworking-plugins', busybox: 'busybox-static',
    etcd: 'etcd-server', etcdctl: 'etcd-client', kubectl: null,
  };
  return Object.fromEntries(
    TOOL_NAMES.map((name) => {
      const present = !missing.includes(name);
      const problem = problems[name] ?? null;
      return [name, { name, purpose: purposes[name] ?? 'real mode', present, usable: present && !problem, path: present ? `/usr/bin/${name}` : null, version: present ? '1.0' : null, problem, debianPackage: packages[name] ?? null }];
    }),
  ) as Record<ToolName, ToolStatus>;
}

describe('verdicts', () => {
  test('real mode is possible on Linux, as root, with every tool', () => {
    assert.deepEqual(realModeVerdict({ platform: 'linux', root: true, uid: 0, tools: fakeTools() }), { possible: true, reasons: [] });
  });

  test('each missing piece is a reason of its own', () => {
    const verdict = realModeVerdict({ platform: 'linux', root: false, uid: 1000, tools: fakeTools(['runc', 'cni-bridge', 'etcd'], { busybox: 'dynamically linked (needs /lib/ld.so)' }) });
    assert.equal(verdict.possible, false);
    assert.deepEqual(verdict.reasons, [
      'it needs root, and this runs as uid 1000 (use sudo)',
      'runc is missing (Debian package runc)',
      'the CNI plugin bridge is missing (Debian package containernetworking-plugins)',
      'busybox is dynamically linked (needs /lib/ld.so)',
    ]);
  });

  test('off Linux, real mode is not possible whatever is installed', () => {
    assert.match(realModeVerdict({ platform: 'darwin', root: true, uid: 0, tools: fakeTools() }).reasons[0] ?? '', /needs Linux .* this is darwin/);
  });

  test('missing packages are listed once each, kubectl never (Debian has no package for it)', () => {
    assert.deepEqual(missingPackages(fakeTools(['iptables', 'iptables-restore', 'kubectl', 'etcdctl'], { busybox: 'dynamic' })), ['iptables', 'busybox-static', 'etcd-client']);
  });

  test('aptInstallLine adds sudo when not root', () => {
    assert.equal(aptInstallLine(['runc', 'iptables'], false), 'sudo apt-get install -y runc iptables');
    assert.equal(aptInstallLine(['runc'], true), 'apt-get install -y runc');
  });
});

describe('planInstall', () => {
  const os = { platform: 'linux' as const, release: '6', distro: 'Debian GNU/Linux 12 (bookworm)' };
  test('as root on Debian: apt-get update, then install the missing packages', () => {
    assert.deepEqual(planInstall({ apt: true, root: true, missingPackages: ['runc', 'busybox-static'], os }), {
      ok: true,
      packages: ['runc', 'busybox-static'],
      commands: [['apt-get', 'update'], ['apt-get', 'install', '-y', 'runc', 'busybox-static']],
    });
  });
  test('refuses without root', () => {
    const plan = planInstall({ apt: true, root: false, missingPackages: ['runc'], os });
    assert.equal(plan.ok, false);
    assert.match(plan.ok ? '' : plan.reason, /needs root: run `sudo npm run doctor -- --install`/);
  });
  test('refuses without apt, naming the packages to install by hand', () => {
    const plan = planInstall({ apt: false, root: true, missingPackages: ['runc'], os: { platform: 'darwin', release: '23', distro: null } });
    assert.equal(plan.ok, false);
    assert.match(plan.ok ? '' : plan.reason, /works only on Debian or Ubuntu \(this is darwin\); install these yourself: runc/);
  });
  test('nothing missing: nothing to run', () => {
    assert.deepEqual(planInstall({ apt: false, root: false, missingPackages: [], os }), { ok: true, packages: [], commands: [] });
  });
});

describe('formatEnvironment', () => {
  test('says why real mode is not possible and prints the exact install line', () => {
    const tools = fakeTools(['runc', 'kubectl']);
    const env: Environment = {
      node: { version: '20.9.0', required: '20.15.0', ok: false },
      os: { platform: 'linux', release: '6.1.0', distro: 'Debian GNU/Linux 12 (bookworm)' },
      root: false,
      uid: 1000,
      apt: true,
      tools,
      realMode: realModeVerdict({ platform: 'linux', root: false, uid: 1000, tools }),
      storeConformance: { possible: true, reasons: [] },
      missingPackages: missingPackages(tools),
    };
    const text = formatEnvironment(env);
    assert.match(text, /Node     v20\.9\.0 \(need >= 20\.15\.0\): TOO OLD/);
    assert.match(text, /root     no \(uid 1000\)/);
    assert.match(text, /  runc\s+missing/);
    assert.match(text, /real mode: not possible because it needs root, and this runs as uid 1000 \(use sudo\); runc is missing \(Debian package runc\)/);
    assert.match(text, /  sudo apt-get install -y runc\n/);
    assert.match(text, /kubectl is not a Debian package/);
  });
});

describe('detectTools on this machine', () => {
  test('reports every known tool with a path when present and a version or a reason', async () => {
    const tools = await detectTools();
    assert.deepEqual(Object.keys(tools).sort(), [...TOOL_NAMES].sort());
    for (const tool of Object.values(tools)) {
      assert.equal(tool.present, tool.path !== null, `${tool.name}: present and path disagree`);
      if (tool.usable) assert.equal(tool.problem, null);
    }
  });

  test('in CI every Debian tool is installed and usable (.ci/run installs them)', { skip: process.env['CI'] === 'true' ? false : 'only CI promises the tools' }, async () => {
    const env = await detectEnvironment();
    assert.deepEqual(env.missingPackages, []);
    assert.equal(env.tools.busybox.usable, true, env.tools.busybox.problem ?? '');
  });

  test('finds a tool on PATH and reads the first line of its version output', { skip: process.platform === 'win32' ? 'needs a POSIX shell script' : false }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'workbook-path-'));
    try {
      writeFileSync(join(dir, 'kubectl'), '#!/bin/sh\necho ""\necho "Client Version: v9.9.9"\necho "Kustomize Version: v5"\n', { mode: 0o755 });
      const tools = await detectTools({ PATH: dir });
      assert.equal(tools.kubectl.path, join(dir, 'kubectl'));
      assert.equal(tools.kubectl.version, 'Client Version: v9.9.9');
      assert.equal(tools.kubectl.usable, true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

});
