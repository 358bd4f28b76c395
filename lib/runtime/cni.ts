/**
 * The Pod network, wired the way containerd wires it: by running the standard
 * CNI plugins (`bridge`, `host-local`, `loopback` from containernetworking-
 * plugins) as the CNI specification says. A plugin is a plain program: the
 * runtime sets CNI_COMMAND (ADD, DEL, CHECK, VERSION), CNI_CONTAINERID,
 * CNI_NETNS, CNI_IFNAME and CNI_PATH in its environment, writes the network
 * configuration as JSON on its stdin, and reads a JSON result (or a JSON
 * error) from its stdout.
 *
 * On this node: a Linux bridge (e.g. `kbs0`) is the node's switch; each Pod
 * gets a veth pair, one end `eth0` in the Pod's namespace, the other on the
 * bridge; `host-local` hands out IPs from the node's Pod CIDR and records each
 * allocation as a file in a folder the project owns; `loopback` brings `lo`
 * up so the Pod's containers reach each other on localhost.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join, normalize } from 'node:path';
import { CNI_DIRS } from '../workbook/doctor.ts';
import { ipCommand, runProgram, validateNetnsName, type NetworkNamespaces, type RunProgram } from './netns.ts';

/** The CNI specification version we speak (Debian's plugins 1.1 support 0.1.0 to 1.0.0). */
export const CNI_VERSION = '1.0.0';

/** The CNI commands (spec section "Parameters"). */
export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION';

/** One plugin's configuration inside a network configuration list. */
export interface CniPluginConf {
  type: string;
  [key: string]: unknown;
}

/** A network configuration list, as containerd reads from /etc/cni/net.d/*.conflist. */
export interface CniConfList {
  cniVersion: string;
  name: string;
  plugins: CniPluginConf[];
}

/** A plugin's success result (spec "Success"): the interfaces it made and the IPs it gave them. */
export interface CniResult {
  cniVersion: string;
  interfaces?: Array<{ name: string; mac?: string; sandbox?: string }>;
  ips?: Array<{ address: string; gateway?: string; interface?: number }>;
  routes?: Array<{ dst: string; gw?: string }>;
  dns?: Record<string, unknown>;
}

/** A plugin's failure (spec "Error"), with the well-known code, message and details. */
export class CniError extends Error {
  constructor(
    readonly plugin: string,
    readonly command: CniCommand,
    /** Spec codes: 1 incompatible version, 2 unsupported field, 3 container unknown, 4 invalid env, 5 I/O, 6 decode, 7 invalid config, 11 try later; 100+ plugin-specific. */
    readonly code: number,
    readonly msg: string,
    readonly details: string,
  ) {
    super(`CNI plugin ${plugin} ${command} failed with code ${code}: ${msg}${details ? ` (${details})` : ''}`);
    this.name = 'CniError';
  }
}

/** How this node's Pod network is laid out; every name is validated by `PodNetwork`. */
export interface PodNetworkOptions {
  /** The namespaces the Pods live in (its prefix marks what the project owns). */
  netns: NetworkNamespaces;
  /** The node's bridge, e.g. "kbs0": must start with "kbs" so cleanup can never remove someone else's. */
  bridge: string;
  /** The node's Pod CIDR, e.g. "10.244.1.0/24". */
  subnet: string;
  /** A folder the project owns; host-local's allocations and the cached results go under <stateDir>/cni. */
  stateDir: string;
  /** The network's name (host-local keys its allocations by it), e.g. "kbs-pod-network". */
  networkName?: string;
  /** Masquerade traffic leaving the node (off by default, as the lab needs no outside access). */
  ipMasq?: boolean;
  /** Where the plugins are; default: $CNI_PATH, /usr/lib/cni or /opt/cni/bin, whichever holds `bridge`. */
  cniPath?: string;
  run?: RunProgram;
}

/** Checks a bridge name: starts with "kbs", then [a-z0-9-], 15 characters at most (Linux's IFNAMSIZ). */
export function validateBridgeName(name: string): string {
  // Why the fixed "kbs" start: cleanup deletes this bridge, and it must never
  // be able to delete docker0, cni0 or a bridge the learner made.
  if (!/^kbs[a-z0-9-]{1,12}$/.test(name)) {
    throw new Error(`expected a bridge name "kbs" + 1-12 of a-z, 0-9 or "-" (like "kbs0"), got ${JSON.stringify(name)}`);
  }
  return name;
}

/** Checks a container id as the CNI spec allows it (alphanumerics, "_", ".", "-"; starts alphanumeric). */
export function validateContainerId(id: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(id)) {
    throw new Error(`expected a container id of letters, digits, "_", "." or "-" (at most 128, starting with a letter or digit), got ${JSON.stringify(id.slice(0, 80))}`);
  }
  return id;
}

/** Checks an IPv4 CIDR such as "10.244.1.0/24" (prefix 8 to 30) and returns it. */
export function validateSubnet(cidr: string): string {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = match ? match.slice(1, 5).map(Number) : [];
  const bits = match ? Number(match[5]) : -1;
  if (!match || octets.some((o) => o > 255) || bits < 8 || bits > 30) {
    throw new Error(`expected an IPv4 CIDR like "10.244.1.0/24" (prefix 8-30), got ${JSON.stringify(cidr)}`);
  }
  return cidr;
}

/** True when the IPv4 address lies inside the CIDR. */
export function ipInSubnet(ip: string, cidr: string): boolean {
  const toInt = (a: string) => a.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
  const [base = '', bitsText = '32'] = cidr.split('/');
  const bits = Number(bitsText);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (toInt(ip) & mask) >>> 0 === (toInt(base) & mask) >>> 0;
}

/** Finds the folder holding the CNI plugins: $CNI_PATH's entries, then /usr/lib/cni, then /opt/cni/bin. */
export function locateCniPath(env: NodeJS.ProcessEnv = process.env): string {
  const dirs = [...(env['CNI_PATH'] ? env['CNI_PATH'].split(':') : []), ...CNI_DIRS];
  const found = dirs.find((dir) => dir !== '' && existsSync(join(dir, 'bridge')));
  if (!found) throw new Error(`expected the CNI plugins (Debian package containernetworking-plugins) in ${dirs.join(' or ')}, found none`);
  return found;
}

/** Reads a plugin's stdout: the result on exit 0, else a CniError from its JSON error (or its raw output). */
export function parsePluginOutput(plugin: string, command: CniCommand, exitCode: number, stdout: string, stderr: string): CniResult {
  let parsed: unknown = undefined;
  try {
    parsed = stdout.trim() === '' ? {} : JSON.parse(stdout);
  } catch {
    // Why: a plugin that crashed prints a Go panic, not JSON; say what came.
    parsed = undefined;
  }
  const body = (parsed ?? {}) as Record<string, unknown>;
  if (exitCode !== 0 || typeof body['code'] === 'number') {
    const code = typeof body['code'] === 'number' ? body['code'] : -1;
    const msg = typeof body['msg'] === 'string' ? body['msg'] : `exit ${exitCode}: ${(stderr || stdout).trim().slice(0, 500)}`;
    throw new CniError(plugin, command, code, msg, typeof body['details'] === 'string' ? body['details'] : '');
  }
  if (parsed === undefined) throw new CniError(plugin, command, 6, `expected a JSON result, got ${JSON.stringify(stdout.slice(0, 200))}`, '');
  return body as unknown as CniResult;
}

/** The IPv4 address the result gave the interface named `ifName` in a sandbox (or the first IP). */
export function podIpFromResult(result: CniResult, ifName = 'eth0'): string {
  const index = (result.interfaces ?? []).findIndex((i) => i.name === ifName && i.sandbox);
  const ip = (result.ips ?? []).find((entry) => entry.interface === index) ?? result.ips?.[0];
  if (!ip) throw new Error(`expected the CNI result to hold an IP for ${ifName}, got ${JSON.stringify(result)}`);
  return ip.address.split('/')[0] ?? ip.address;
}

const OWNED_MARK = '.kubernetes-behind-the-scenes';
const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

/** One node's Pod network: a bridge, host-local IPAM over the node's Pod CIDR, and loopback. */
export class PodNetwork {
  readonly bridge: string;
  readonly subnet: string;
  readonly networkName: string;
  /** <stateDir>/cni: everything this network records on disk lives below it. */
  readonly cniDir: string;
  private readonly netns: NetworkNamespaces;
  private readonly ipMasq: boolean;
  private readonly cniPathOption: string | undefined;
  private readonly run: RunProgram;

  constructor(options: PodNetworkOptions) {
    this.netns = options.netns;
    this.bridge = validateBridgeName(options.bridge);
    this.subnet = validateSubnet(options.subnet);
    this.networkName = options.networkName ?? 'kbs-pod-network';
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(this.networkName)) {
      throw new Error(`expected a network name of a-z, 0-9 and "-", got ${JSON.stringify(this.networkName)}`);
    }
    // Why: cleanup removes <stateDir>/cni, so the folder must be exactly what was meant.
    if (!isAbsolute(options.stateDir) || normalize(options.stateDir) !== options.stateDir || options.stateDir.endsWith('/')) {
      throw new Error(`expected an absolute, normalized state folder other than /, got ${JSON.stringify(options.stateDir)}`);
    }
    this.cniDir = join(options.stateDir, 'cni');
    this.ipMasq = options.ipMasq ?? false;
    this.cniPathOption = options.cniPath;
    this.run = options.run ?? runProgram;
  }

  // #region conflist
  /** The network configuration list, as containerd would read it from /etc/cni/net.d. */
  confList(): CniConfList {
    return {
      cniVersion: CNI_VERSION,
      name: this.networkName,
      plugins: [
        {
          type: 'bridge',
          bridge: this.bridge,
          // Why isGateway: the bridge gets the subnet's first IP and each Pod a
          // default route through it, so Pods reach the node (and, in chapter 6, other nodes).
          isGateway: true,
          ipMasq: this.ipMasq,
          // Why hairpin: a Pod that calls its own Service IP may be load-balanced
          // back to itself; the bridge must send the packet back out the same port.
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: this.subnet }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: join(this.cniDir, 'networks'),
          },
        },
      ],
    };
  }

  /** The loopback network containerd adds to every Pod, so `lo` is up. */
  loopbackConf(): CniConfList {
    return { cniVersion: CNI_VERSION, name: 'cni-loopback', plugins: [{ type: 'loopback' }] };
  }
  // #endregion conflist

  // #region add-pod-network
  /** Wires a Pod's namespace (loopback, then bridge + host-local on eth0) and returns the Pod's IP. */
  async addPodNetwork(netnsName: string, containerId: string): Promise<string> {
    const netnsPath = this.netns.path(netnsName);
    validateContainerId(containerId);
    await this.markOwned();
    await this.recordIpForward();
    await this.invokeList('ADD', this.loopbackConf(), containerId, netnsPath, 'lo');
    try {
      const result = await this.invokeList('ADD', this.confList(), containerId, netnsPath, 'eth0');
      // Why cache it: DEL and CHECK hand the plugins the ADD result, and a
      // restarted runtime reads the Pod IP back from here (libcni does the same).
      await writeFile(this.resultPath(containerId), JSON.stringify(result));
      return podIpFromResult(result);
    } catch (error) {
      // Why undo: a half-wired Pod would keep its IP allocated forever.
      await this.invokeList('DEL', this.confList(), containerId, netnsPath, 'eth0').catch(() => {});
      await this.invokeList('DEL', this.loopbackConf(), containerId, netnsPath, 'lo').catch(() => {});
      throw error;
    }
  }

  /** Unwires a Pod (DEL in reverse order); idempotent, as the spec requires: DEL of what is gone succeeds. */
  async removePodNetwork(netnsName: string, containerId: string): Promise<void> {
    const netnsPath = this.netns.path(netnsName);
    validateContainerId(containerId);
    // Why an empty CNI_NETNS when the namespace is gone: the spec lets DEL run
    // without one, and the plugins then only release what they recorded (the IP).
    const path = existsSync(netnsPath) ? netnsPath : '';
    await this.invokeList('DEL', this.confList(), containerId, path, 'eth0');
    await this.invokeList('DEL', this.loopbackConf(), containerId, path, 'lo');
    await rm(this.resultPath(containerId), { force: true });
  }
  // #endregion add-pod-network

  /** Asks the plugins whether the Pod's network is still as ADD left it (CNI CHECK); throws CniError if not. */
  async checkPodNetwork(netnsName: string, containerId: string): Promise<void> {
    const netnsPath = this.netns.path(netnsName);
    validateContainerId(containerId);
    await this.invokeList('CHECK', this.confList(), containerId, netnsPath, 'eth0');
  }

  /** The Pod IP recorded for a container by an earlier ADD, or undefined (used when a runtime restarts). */
  async recordedPodIp(containerId: string): Promise<string | undefined> {
    const cached = await this.cachedResult(validateContainerId(containerId));
    return cached ? podIpFromResult(cached) : undefined;
  }

  /** Asks a plugin which CNI versions it supports (CNI_COMMAND=VERSION). */
  async pluginVersions(type: string): Promise<string[]> {
    const result = (await this.invoke('VERSION', type, { cniVersion: CNI_VERSION }, '', '', '')) as unknown as { supportedVersions?: string[] };
    return result.supportedVersions ?? [];
  }

  // #region cleanup
  /**
   * Removes everything this network made: the Pods it still records (DEL),
   * the namespaces with our prefix, the bridge, host IP forwarding if it
   * turned it on, and <stateDir>/cni.
   */
  async cleanup(): Promise<void> {
    for (const containerId of await this.recordedContainers()) {
      const cached = await this.cachedResult(containerId);
      const sandbox = cached?.interfaces?.find((i) => i.sandbox)?.sandbox ?? '';
      const name = sandbox.startsWith(this.netns.dir + '/') ? sandbox.slice(this.netns.dir.length + 1) : '';
      // Why best-effort: cleanup must go on past a Pod that is half gone.
      if (name && isNetnsName(name, this.netns.prefix)) await this.removePodNetwork(name, containerId).catch(() => {});
    }
    for (const name of await this.netns.listOwned()) await this.netns.delete(name);
    await this.deleteBridge();
    await this.restoreIpForward();
    // Why the mark: only a folder this class created is removed, never one that merely has the same path.
    if (existsSync(join(this.cniDir, OWNED_MARK))) await rm(this.cniDir, { recursive: true, force: true });
  }

  /** Deletes the bridge if it exists and is a bridge; the name was validated to start with "kbs". */
  async deleteBridge(): Promise<void> {
    const ip = ipCommand();
    const shown = await this.run(ip, ['-j', '-d', 'link', 'show', 'dev', this.bridge]);
    if (shown.exitCode !== 0) return; // Why: no such device, nothing to remove.
    const kind = (JSON.parse(shown.stdout) as Array<{ linkinfo?: { info_kind?: string } }>)[0]?.linkinfo?.info_kind;
    if (kind !== 'bridge') throw new Error(`expected ${this.bridge} to be a bridge before deleting it, got a ${kind ?? 'device of unknown kind'}`);
    const deleted = await this.run(ip, ['link', 'delete', 'dev', this.bridge]);
    if (deleted.exitCode !== 0) throw new Error(`expected to delete bridge ${this.bridge}, got: ${deleted.stderr.trim()}`);
  }
  // #endregion cleanup

  /** The IP allocations host-local has recorded (one file per IP), e.g. ["10.244.1.2"]. */
  async allocatedIps(): Promise<string[]> {
    try {
      const files = await readdir(join(this.cniDir, 'networks', this.networkName));
      return files.filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  // #region invoke
  /** Runs every plugin of a list for one command, chaining prevResult as libcni does (DEL in reverse). */
  private async invokeList(command: CniCommand, list: CniConfList, containerId: string, netnsPath: string, ifName: string): Promise<CniResult> {
    const cached = command === 'ADD' ? undefined : await this.cachedResult(containerId);
    let prevResult: CniResult | undefined = cached;
    const plugins = command === 'DEL' ? [...list.plugins].reverse() : list.plugins;
    for (const plugin of plugins) {
      const conf = { ...plugin, cniVersion: list.cniVersion, name: list.name, ...(prevResult ? { prevResult } : {}) };
      const result = await this.invoke(command, plugin.type, conf, containerId, netnsPath, ifName);
      // Why: ADD passes each plugin's result to the next; DEL and CHECK pass the cached ADD result to all.
      if (command === 'ADD') prevResult = result;
    }
    return prevResult ?? { cniVersion: list.cniVersion };
  }

  /** Runs one plugin: the CNI_* environment, the config on stdin, the result or error on stdout. */
  private async invoke(command: CniCommand, type: string, conf: object, containerId: string, netnsPath: string, ifName: string): Promise<CniResult> {
    if (!/^[a-z0-9-]+$/.test(type)) throw new Error(`expected a plugin type of a-z, 0-9 and "-", got ${JSON.stringify(type)}`);
    const cniPath = this.cniPathOption ?? locateCniPath();
    const env: NodeJS.ProcessEnv = {
      // Why a fresh environment: plugins read only CNI_* and PATH, and the
      // caller's environment must not leak in (a stray CNI_ARGS, for one).
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      CNI_COMMAND: command,
      CNI_CONTAINERID: containerId,
      CNI_NETNS: netnsPath,
      CNI_IFNAME: ifName,
      CNI_PATH: cniPath,
    };
    const out = await this.run(join(cniPath, type), [], { env, input: JSON.stringify(conf), timeoutMs: 30_000 });
    return parsePluginOutput(type, command, out.exitCode, out.stdout, out.stderr);
  }
  // #endregion invoke

  private resultPath(containerId: string): string {
    return join(this.cniDir, 'results', `${this.networkName}-${containerId}-eth0.json`);
  }

  private async cachedResult(containerId: string): Promise<CniResult | undefined> {
    try {
      return JSON.parse(await readFile(this.resultPath(containerId), 'utf8')) as CniResult;
    } catch {
      return undefined;
    }
  }

  private async recordedContainers(): Promise<string[]> {
    const prefix = `${this.networkName}-`;
    const files = await readdir(join(this.cniDir, 'results')).catch(() => [] as string[]);
    return files.filter((f) => f.startsWith(prefix) && f.endsWith('-eth0.json')).map((f) => f.slice(prefix.length, -'-eth0.json'.length));
  }

  /** Records the host's IP forwarding switch once, before the first ADD can change it. */
  private async recordIpForward(): Promise<void> {
    const file = join(this.cniDir, 'ip_forward.before');
    if (existsSync(file)) return;
    await writeFile(file, (await readFile(IP_FORWARD, 'utf8')).trim());
  }

  /** Turns host IP forwarding back off if it was off before our first ADD. */
  private async restoreIpForward(): Promise<void> {
    const before = await readFile(join(this.cniDir, 'ip_forward.before'), 'utf8').catch(() => undefined);
    // Why: with isGateway the bridge plugin switches forwarding on for the
    // whole host (net.ipv4.ip_forward=1), a change to the learner's machine
    // that cleanup must undo. Caveat: another network sharing this host would lose it too.
    if (before === '0') await writeFile(IP_FORWARD, '0');
  }

  private async markOwned(): Promise<void> {
    await mkdir(join(this.cniDir, 'results'), { recursive: true });
    await writeFile(join(this.cniDir, OWNED_MARK), 'created by kubernetes-behind-the-scenes; removed by its cleanup\n');
  }
}

function isNetnsName(name: string, prefix: string): boolean {
  try {
    validateNetnsName(name, prefix);
    return true;
  } catch {
    return false;
  }
}
