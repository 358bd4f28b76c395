import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { locateTool } from '../workbook/doctor.ts';
import { requireRealMode } from '../workbook/realmode.ts';
import { waitUntil } from '../workbook/waiting.ts';
import { CniError, ipInSubnet, parsePluginOutput, podIpFromResult, PodNetwork, validateSubnet, type CniResult } from './cni.ts';
import { ipCommand, NetworkNamespaces, runProgram, type RunProgram } from './netns.ts';

// Tests only ever touch names with this prefix, this bridge and this CIDR.
const PREFIX = 'kbstest-';
const BRIDGE = 'kbstest0';
const SUBNET = '10.250.0.0/24';

/** A RunProgram that records calls, to prove a refused name never reached a command. */
function spyRunner(): { run: RunProgram; calls: string[][] } {
  const calls: string[][] = [];
  const run: RunProgram = async (file, args) => {
    calls.push([file, ...args]);
    return { exitCode: 0, stdout: '{}', stderr: '' };
  };
  return { run, calls };
}

describe('names are refused before any command runs', () => {
  const badNames: Array<[string, string]> = [
    ['a path that climbs out of /var/run/netns is refused', '../x'],
    ['a name with the prefix and a path separator is refused', 'kbstest-a/../../etc'],
    ['uppercase letters are refused', 'kbstest-UPPER'],
    ['a name with another prefix is refused', 'kbs-abc'],
    ['the prefix alone is refused', 'kbstest-'],
    ['an id that starts with "-" is refused', 'kbstest--f'],
    ['a name of 300 characters is refused', 'kbstest-' + 'a'.repeat(292)],
    ['an empty name is refused', ''],
  ];
  for (const [name, bad] of badNames) {
    test(name, async () => {
      const spy = spyRunner();
      const netns = new NetworkNamespaces({ prefix: PREFIX, run: spy.run });
      const net = new PodNetwork({ netns, bridge: BRIDGE, subnet: SUBNET, stateDir: '/nonexistent/kbstest', run: spy.run });
      await assert.rejects(netns.create(bad), /expected a network namespace name/);
      await assert.rejects(netns.delete(bad), /expected a network namespace name/);
      await assert.rejects(netns.exec(bad, ['true']), /expected a network namespace name/);
      await assert.rejects(net.addPodNetwork(bad, 'c1'), /expected a network namespace name/);
      await assert.rejects(net.removePodNetwork(bad, 'c1'), /expected a network namespace name/);
      assert.deepEqual(spy.calls, []);
    });
  }

  test('a container id with a slash or a leading dot is refused before any plugin runs', async () => {
    const spy = spyRunner();
    const net = new PodNetwork({ netns: new NetworkNamespaces({ prefix: PREFIX, run: spy.run }), bridge: BRIDGE, subnet: SUBNET, stateDir: '/nonexistent/kbstest', run: spy.run });
    await assert.rejects(net.addPodNetwork('kbstest-a', '../c1'), /expected a container id/);
    await assert.rejects(net.addPodNetwork('kbstest-a', '.hidden'), /expected a container id/);
    assert.deepEqual(spy.calls, []);
  });

  const badOptions: Array<[string, { bridge?: string; subnet?: string; stateDir?: string; prefix?: string }, RegExp]> = [
    ['a bridge that is not the project\'s (docker0) is refused', { bridge: 'docker0' }, /expected a bridge name/],
    ['a bridge name longer than Linux allows is refused', { bridge: 'kbs' + 'a'.repeat(13) }, /expected a bridge name/],
    ['a subnet that is not a CIDR is refused', { subnet: '10.250.0.0' }, /expected an IPv4 CIDR/],
    ['a subnet with an octet over 255 is refused', { subnet: '10.256.0.0/24' }, /expected an IPv4 CIDR/],
    ['a relative state folder is refused', { stateDir: 'tmp/cni' }, /expected an absolute, normalized state folder/],
    ['the root folder as state folder is refused', { stateDir: '/' }, /expected an absolute, normalized state folder/],
    ['a state folder with ".." is refused', { stateDir: '/tmp/../etc' }, /expected an absolute, normalized state folder/],
    ['a prefix with a slash is refused', { prefix: 'kbs/' }, /expected a namespace prefix/],
  ];
  for (const [name, options, expected] of badOptions) {
    test(name, () => {
      assert.throws(() => {
        const netns = new NetworkNamespaces({ prefix: options.prefix ?? PREFIX });
        return new PodNetwork({ netns, bridge: options.bridge ?? BRIDGE, subnet: options.subnet ?? SUBNET, stateDir: options.stateDir ?? '/tmp/kbstest' });
      }, expected);
    });
  }
});

describe('plugin output is read as the CNI spec says', () => {
  test('a JSON error becomes a CniError with its code, message and details', () => {
    const error = (() => {
      try {
        parsePluginOutput('bridge', 'ADD', 1, '{"cniVersion":"1.0.0","code":7,"msg":"invalid config","details":"no bridge"}', '');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(error instanceof CniError, `expected a CniError, got ${String(error)}`);
    assert.equal(error.code, 7);
    assert.equal(error.msg, 'invalid config');
    assert.match(error.message, /CNI plugin bridge ADD failed with code 7: invalid config \(no bridge\)/);
  });

  test('a plugin that fails without JSON is reported with its exit code and output', () => {
    assert.throws(() => parsePluginOutput('bridge', 'DEL', 2, 'panic: boom', ''), /CNI plugin bridge DEL failed with code -1: exit 2: panic: boom/);
  });

  test('the Pod IP is the address of eth0 in the sandbox, not the bridge\'s', () => {
    const result: CniResult = {
      cniVersion: '1.0.0',
      interfaces: [{ name: 'kbs0' }, { name: 'veth1' }, { name: 'eth0', sandbox: '/var/run/netns/kbs-a' }],
      ips: [{ address: '10.244.1.7/24', gateway: '10.244.1.1', interface: 2 }],
    };
    assert.equal(podIpFromResult(result), '10.244.1.7');
  });

  test('an address is inside its CIDR and one next to it is not', () => {
    validateSubnet(SUBNET);
    assert.equal(ipInSubnet('10.250.0.9', SUBNET), true);
    assert.equal(ipInSubnet('10.250.1.9', SUBNET), false);
  });
});

const real = requireRealMode(['ip', 'cni-bridge', 'cni-host-local', 'cni-loopback', 'busybox']);

describe('the pod network on real CNI plugins', real, () => {
  const netns = new NetworkNamespaces({ prefix: PREFIX });
  let stateDir = '';
  let net: PodNetwork;
  let ipForwardBefore = '';
  const pods = { a: { ns: 'kbstest-a', id: 'kbstest-sandbox-a', ip: '', veth: '' }, b: { ns: 'kbstest-b', id: 'kbstest-sandbox-b', ip: '', veth: '' } };
  const busybox = locateTool('busybox') ?? '/bin/busybox';

  async function linkExists(name: string): Promise<boolean> {
    return (await runProgram(ipCommand(), ['link', 'show', 'dev', name])).exitCode === 0;
  }

  before(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'kbstest-cni-'));
    ipForwardBefore = (await readFile('/proc/sys/net/ipv4/ip_forward', 'utf8')).trim();
    net = new PodNetwork({ netns, bridge: BRIDGE, subnet: SUBNET, stateDir, networkName: 'kbstest-net' });
    // Why: a crashed earlier run may have left its namespaces or bridge behind.
    await net.cleanup();
  });

  after(async () => {
    // Runs even when a test failed: remove every namespace, the bridge and the records.
    await net.cleanup();
    await rm(stateDir, { recursive: true, force: true });
  });

  test('ADD gives two pods two distinct IPs inside the node\'s CIDR', async (t) => {
    for (const pod of [pods.a, pods.b]) {
      let started = performance.now();
      await netns.create(pod.ns);
      const createMs = performance.now() - started;
      started = performance.now();
      pod.ip = await net.addPodNetwork(pod.ns, pod.id);
      t.diagnostic(`${pod.ns}: ip netns add ${createMs.toFixed(1)} ms, CNI ADD (loopback + bridge/host-local) ${(performance.now() - started).toFixed(1)} ms -> ${pod.ip}`);
      assert.ok(ipInSubnet(pod.ip, SUBNET), `expected an IP in ${SUBNET}, got ${pod.ip}`);
    }
    assert.notEqual(pods.a.ip, pods.b.ip);
    assert.deepEqual(await net.allocatedIps(), [pods.a.ip, pods.b.ip].sort());
    assert.deepEqual(await netns.listOwned(), [pods.a.ns, pods.b.ns]);
  });

  test('each pod has one veth on the node\'s bridge', async () => {
    const shown = await runProgram(ipCommand(), ['-j', 'link', 'show', 'master', BRIDGE]);
    const ports = (JSON.parse(shown.stdout) as Array<{ ifname: string }>).map((l) => l.ifname);
    assert.equal(ports.length, 2, `expected 2 veths on ${BRIDGE}, got ${ports.join(', ')}`);
    [pods.a.veth, pods.b.veth] = ports as [string, string];
  });

  test('pod A reaches pod B\'s IP over the bridge', async () => {
    const ping = await netns.exec(pods.a.ns, [busybox, 'ping', '-c1', '-W2', pods.b.ip]);
    assert.equal(ping.exitCode, 0, `expected ping ${pods.b.ip} from ${pods.a.ns} to answer, got: ${ping.stdout}${ping.stderr}`);
  });

  test('lo is up inside a pod and 127.0.0.1 answers', async () => {
    const link = await netns.exec(pods.a.ns, [ipCommand(), '-j', 'link', 'show', 'dev', 'lo']);
    const flags = (JSON.parse(link.stdout) as Array<{ flags: string[] }>)[0]?.flags ?? [];
    assert.ok(flags.includes('UP'), `expected lo to be UP, got flags ${flags.join(',')}`);
    const ping = await netns.exec(pods.a.ns, [busybox, 'ping', '-c1', '-W2', '127.0.0.1']);
    assert.equal(ping.exitCode, 0, `expected 127.0.0.1 to answer, got: ${ping.stdout}${ping.stderr}`);
  });

  test('CHECK finds the network as ADD left it, and the recorded IP can be read back', async () => {
    await net.checkPodNetwork(pods.a.ns, pods.a.id);
    assert.equal(await net.recordedPodIp(pods.a.id), pods.a.ip);
  });

  test('DEL releases the IP and the veth, and a second DEL succeeds', async (t) => {
    const started = performance.now();
    await net.removePodNetwork(pods.a.ns, pods.a.id);
    t.diagnostic(`CNI DEL (bridge/host-local + loopback) ${(performance.now() - started).toFixed(1)} ms`);
    await net.removePodNetwork(pods.a.ns, pods.a.id);
    assert.deepEqual(await net.allocatedIps(), [pods.b.ip]);
    assert.equal(await linkExists(pods.a.veth), false, `expected veth ${pods.a.veth} to be gone`);
    assert.equal(await net.recordedPodIp(pods.a.id), undefined);
    await netns.delete(pods.a.ns);
    await netns.delete(pods.a.ns);
  });

  test('DEL after the namespace is already gone still releases the IP (the orphan case)', async () => {
    await netns.delete(pods.b.ns);
    await net.removePodNetwork(pods.b.ns, pods.b.id);
    await net.removePodNetwork(pods.b.ns, pods.b.id);
    assert.deepEqual(await net.allocatedIps(), []);
    // Why wait: the kernel frees a deleted namespace (and the veth whose peer
    // lived in it) asynchronously, a moment after `ip netns delete` returns.
    await waitUntil(`veth ${pods.b.veth} to be gone`, async () => !(await linkExists(pods.b.veth)), 10_000);
  });

  test('cleanup leaves nothing: no namespace with the prefix, no veth, no bridge, no allocation folder, forwarding as it was', async () => {
    // A pod left wired on purpose: cleanup must remove it too.
    await netns.create('kbstest-c');
    const ip = await net.addPodNetwork('kbstest-c', 'kbstest-sandbox-c');
    assert.deepEqual(await net.allocatedIps(), [ip]);
    const portsOfC = (JSON.parse((await runProgram(ipCommand(), ['-j', 'link', 'show', 'master', BRIDGE])).stdout) as Array<{ ifname: string }>).map((l) => l.ifname);
    assert.equal(portsOfC.length, 1);
    await net.cleanup();
    assert.deepEqual(await netns.listOwned(), []);
    assert.equal(await linkExists(BRIDGE), false, `expected bridge ${BRIDGE} to be gone`);
    assert.deepEqual(await net.allocatedIps(), []);
    const leftVeths = (JSON.parse((await runProgram(ipCommand(), ['-j', 'link', 'show', 'type', 'veth'])).stdout || '[]') as Array<{ ifname: string }>).map((l) => l.ifname);
    for (const veth of [pods.a.veth, pods.b.veth, ...portsOfC]) assert.ok(!leftVeths.includes(veth), `expected ${veth} gone, got veths ${leftVeths.join(', ')}`);
    assert.equal(existsSync(net.cniDir), false, `expected ${net.cniDir} removed`);
    // The bridge plugin (isGateway) turns host forwarding on; cleanup puts back what it found.
    assert.equal((await readFile('/proc/sys/net/ipv4/ip_forward', 'utf8')).trim(), ipForwardBefore);
  });
});
