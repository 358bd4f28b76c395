/**
 * The doctor: what this machine has for the workbook. The embedded default
 * needs only Node; real mode (runc, iptables, CNI, network namespaces) needs
 * Linux, root and a handful of Debian packages. `detectTools()` is what other
 * code and tests use to decide whether real-mode work may run.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, openSync, readFileSync, readSync, closeSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { release } from 'node:os';
import type { Write } from './output.ts';

/** The oldest Node the workbook supports (package.json engines). */
export const NODE_REQUIRED = '20.15.0';

/** Every external tool the doctor knows about. */
export type ToolName =
  | 'runc'
  | 'iptables'
  | 'iptables-restore'
  | 'ip'
  | 'cni-bridge'
  | 'cni-host-local'
  | 'cni-loopback'
  | 'busybox'
  | 'curl'
  | 'etcd'
  | 'etcdctl'
  | 'kubectl';

/** What a tool is needed for: real mode, the store's conformance chapters, or talking to a cluster. */
export type ToolPurpose = 'real mode' | 'store conformance' | 'cluster access';

interface ToolSpec {
  name: ToolName;
  /** The executable's file name. */
  command: string;
  versionArgs: string[];
  /** The Debian package that provides it, or null when Debian has none. */
  debianPackage: string | null;
  purpose: ToolPurpose;
  /** CNI plugins live in plugin folders, not on PATH. */
  cniPlugin?: boolean;
}

const TOOLS: ToolSpec[] = [
  { name: 'runc', command: 'runc', versionArgs: ['--version'], debianPackage: 'runc', purpose: 'real mode' },
  { name: 'iptables', command: 'iptables', versionArgs: ['--version'], debianPackage: 'iptables', purpose: 'real mode' },
  { name: 'iptables-restore', command: 'iptables-restore', versionArgs: ['--version'], debianPackage: 'iptables', purpose: 'real mode' },
  { name: 'ip', command: 'ip', versionArgs: ['-V'], debianPackage: 'iproute2', purpose: 'real mode' },
  { name: 'cni-bridge', command: 'bridge', versionArgs: ['--version'], debianPackage: 'containernetworking-plugins', purpose: 'real mode', cniPlugin: true },
  { name: 'cni-host-local', command: 'host-local', versionArgs: ['--version'], debianPackage: 'containernetworking-plugins', purpose: 'real mode', cniPlugin: true },
  { name: 'cni-loopback', command: 'loopback', versionArgs: ['--version'], debianPackage: 'containernetworking-plugins', purpose: 'real mode', cniPlugin: true },
  { name: 'busybox', command: 'busybox', versionArgs: [], debianPackage: 'busybox-static', purpose: 'real mode' },
  // Why curl: the real-mode labs reach Pods at their IPs from the host with it, as a reader would by hand.
  { name: 'curl', command: 'curl', versionArgs: ['--version'], debianPackage: 'curl', purpose: 'real mode' },
  { name: 'etcd', command: 'etcd', versionArgs: ['--version'], debianPackage: 'etcd-server', purpose: 'store conformance' },
  { name: 'etcdctl', command: 'etcdctl', versionArgs: ['version'], debianPackage: 'etcd-client', purpose: 'store conformance' },
  { name: 'kubectl', command: 'kubectl', versionArgs: ['version', '--client'], debianPackage: null, purpose: 'cluster access' },
];

/** The names of all tools, in the order the doctor reports them. */
export const TOOL_NAMES: ToolName[] = TOOLS.map((t) => t.name);

/** Folders searched for the CNI plugins (Debian's, then the upstream default). */
export const CNI_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];

/** Where kubectl comes from, since Debian does not package it. */
export const KUBECTL_ADVICE =
  'kubectl is not a Debian package: install it from the Kubernetes project (kubernetes.io/docs/tasks/tools); the workbook has its own small kubectl, so only the real-kubectl tests need it';

/** One tool's state on this machine. */
export interface ToolStatus {
  name: ToolName;
  purpose: ToolPurpose;
  /** Found on disk and executable. */
  present: boolean;
  /** Present and fit for use (e.g. busybox must be statically linked). */
  usable: boolean;
  path: string | null;
  /** First line of its version output, or null when absent or silent. */
  version: string | null;
  /** Why a present tool is not usable. */
  problem: string | null;
  debianPackage: string | null;
}

/** Everything the doctor reports. */
export interface Environment {
  node: { version: string; required: string; ok: boolean };
  os: { platform: NodeJS.Platform; release: string; distro: string | null };
  /** Effective uid 0; always false off POSIX. */
  root: boolean;
  uid: number | null;
  /** apt-get is available (Debian or a derivative). */
  apt: boolean;
  tools: Record<ToolName, ToolStatus>;
  realMode: Verdict;
  storeConformance: Verdict;
  /** Debian packages that would make every tool usable. */
  missingPackages: string[];
}

/** Whether something is possible here, and if not, each reason why. */
export interface Verdict {
  possible: boolean;
  reasons: string[];
}

function spec(name: ToolName): ToolSpec {
  const found = TOOLS.find((t) => t.name === name);
  if (!found) throw new Error(`expected a tool name (${TOOL_NAMES.join(', ')}), got ${JSON.stringify(name)}`);
  return found;
}

/** The Debian package that provides a tool, or null (kubectl). */
export function debianPackageOf(name: ToolName): string | null {
  return spec(name).debianPackage;
}

/** What a tool is needed for. */
export function purposeOf(name: ToolName): ToolPurpose {
  return spec(name).purpose;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds a tool's executable without running anything; null when it is not installed. */
export function locateTool(name: ToolName, env: NodeJS.ProcessEnv = process.env): string | null {
  const tool = spec(name);
  const dirs = tool.cniPlugin
    ? [...(env['CNI_PATH'] ? env['CNI_PATH'].split(delimiter) : []), ...CNI_DIRS]
    : // Why the sbin folders: runc, iptables and ip live in /usr/sbin on Debian,
      // which is not on a normal user's PATH.
      [...(env['PATH'] ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, tool.command);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

/**
 * Reads an ELF file's program headers and returns its interpreter (PT_INTERP),
 * or null for a statically linked program. Throws when the bytes are not ELF.
 */
export function elfInterpreter(bytes: Buffer): string | null {
  if (bytes.length < 52 || bytes.readUInt32BE(0) !== 0x7f454c46) {
    throw new Error(`expected an ELF file (starting 7f 45 4c 46), got ${bytes.subarray(0, 4).toString('hex') || 'nothing'}`);
  }
  const is64 = bytes[4] === 2;
  const little = bytes[5] === 1;
  const u16 = (at: number) => (little ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  const u32 = (at: number) => (little ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const u64 = (at: number) => Number(little ? bytes.readBigUInt64LE(at) : bytes.readBigUInt64BE(at));
  const phoff = is64 ? u64(0x20) : u32(0x1c);
  const phentsize = is64 ? u16(0x36) : u16(0x2a);
  const phnum = is64 ? u16(0x38) : u16(0x2c);
  const PT_INTERP = 3;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + phentsize > bytes.length) throw new Error(`expected ${phnum} program headers, but the file ends at header ${i}`);
    if (u32(at) !== PT_INTERP) continue;
    const offset = is64 ? u64(at + 8) : u32(at + 4);
    const size = is64 ? u64(at + 32) : u32(at + 16);
    if (offset + size > bytes.length) throw new Error('expected the interpreter name inside the file, but it points past the end');
    return bytes.subarray(offset, offset + size).toString('utf8').replace(/\0+$/, '');
  }
  return null;
}

/** Reads enough of a file (the first 64 KiB) for elfInterpreter. */
export function readElfHead(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const size = readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.subarray(0, size);
  } finally {
    closeSync(fd);
  }
}

/** Why a found busybox cannot be used, or null when it is statically linked. */
export function busyboxProblem(path: string): string | null {
  try {
    const interpreter = elfInterpreter(readElfHead(path));
    // Why it matters: real mode copies busybox into container root filesystems
    // that have no shared libraries, so only a static build can run there.
    return interpreter === null ? null : `dynamically linked (needs ${interpreter}); containers need the static build from busybox-static`;
  } catch (err) {
    return `cannot be read as a program: ${(err as Error).message}`;
  }
}

function firstLine(text: string): string | null {
  const line = text.split('\n').find((l) => l.trim() !== '');
  return line === undefined ? null : line.trim();
}

function runForVersion(path: string, args: string[]): Promise<string | null> {
  return new Promise((resolvePromise) => {
    execFile(path, args, { timeout: 5000, env: { ...process.env, LC_ALL: 'C' } }, (_err, stdout, stderr) => {
      // Why ignore the exit status: busybox and the CNI plugins print their
      // banner and then exit non-zero when given no real work.
      resolvePromise(firstLine(String(stdout)) ?? firstLine(String(stderr)));
    });
  });
}

function debianPackageVersion(pkg: string): Promise<string | null> {
  return new Promise((resolvePromise) => {
    execFile('dpkg-query', ['-W', '-f=${Version}', pkg], { timeout: 5000 }, (err, stdout) => {
      resolvePromise(err ? null : firstLine(String(stdout)));
    });
  });
}

/** Finds each tool, reads its version, and checks that it is fit for use. */
export async function detectTools(env: NodeJS.ProcessEnv = process.env): Promise<Record<ToolName, ToolStatus>> {
  const entries = await Promise.all(
    TOOLS.map(async (tool): Promise<[ToolName, ToolStatus]> => {
      const path = locateTool(tool.name, env);
      let version = path === null ? null : await runForVersion(path, tool.versionArgs);
      // Why ask dpkg: Debian builds the CNI plugins without a version stamp ("version unknown").
      if (version?.includes('version unknown') && tool.debianPackage) {
        const packaged = await debianPackageVersion(tool.debianPackage);
        if (packaged) version = version.replace('version unknown', `from ${tool.debianPackage} ${packaged}`);
      }
      const problem = path !== null && tool.name === 'busybox' ? busyboxProblem(path) : null;
      return [
        tool.name,
        { name: tool.name, purpose: tool.purpose, present: path !== null, usable: path !== null && problem === null, path, version, problem, debianPackage: tool.debianPackage },
      ];
    }),
  );
  return Object.fromEntries(entries) as Record<ToolName, ToolStatus>;
}

/** True when `version` (e.g. "20.15.1") is at least `required`. */
export function versionAtLeast(version: string, required: string): boolean {
  const parse = (v: string) => v.replace(/^v/, '').split('.').map((part) => Number.parseInt(part, 10) || 0);
  const have = parse(version);
  const need = parse(required);
  for (let i = 0; i < Math.max(have.length, need.length); i++) {
    const a = have[i] ?? 0;
    const b = need[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

function readDistro(): string | null {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    const match = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
    return match?.[1] ?? null;
  } catch {
    return null;
  }
}

/** The facts a verdict on real mode is drawn from. */
export interface RealModeFacts {
  platform: NodeJS.Platform;
  root: boolean;
  uid: number | null;
  tools: Record<ToolName, ToolStatus>;
}

function toolReason(tool: ToolStatus): string | null {
  if (tool.usable) return null;
  const label = tool.name.startsWith('cni-') ? `the CNI plugin ${tool.name.slice(4)}` : tool.name;
  if (tool.present) return `${label} is ${tool.problem ?? 'not usable'}`;
  return `${label} is missing${tool.debianPackage ? ` (Debian package ${tool.debianPackage})` : ''}`;
}

/** Decides whether real mode can run here, with every reason it cannot. */
export function realModeVerdict(facts: RealModeFacts): Verdict {
  const reasons: string[] = [];
  if (facts.platform !== 'linux') reasons.push(`it needs Linux (network namespaces, runc, iptables), and this is ${facts.platform}`);
  // Why root: creating network namespaces, veth pairs and iptables rules, and running runc, all need it.
  if (!facts.root) reasons.push(`it needs root, and this runs as uid ${facts.uid ?? 'unknown'} (use sudo)`);
  for (const tool of Object.values(facts.tools)) {
    if (tool.purpose !== 'real mode') continue;
    const reason = toolReason(tool);
    if (reason) reasons.push(reason);
  }
  return { possible: reasons.length === 0, reasons };
}

/** Decides whether the store's conformance work (against the real etcd and etcdctl) can run here. */
export function storeConformanceVerdict(tools: Record<ToolName, ToolStatus>): Verdict {
  const reasons = Object.values(tools)
    .filter((tool) => tool.purpose === 'store conformance')
    .map(toolReason)
    .filter((r): r is string => r !== null);
  return { possible: reasons.length === 0, reasons };
}

/** The Debian packages that would make every unusable tool usable, in install order, once each. */
export function missingPackages(tools: Record<ToolName, ToolStatus>): string[] {
  const packages: string[] = [];
  for (const tool of Object.values(tools)) {
    if (!tool.usable && tool.debianPackage && !packages.includes(tool.debianPackage)) packages.push(tool.debianPackage);
  }
  return packages;
}

/** Gathers the whole report: Node, OS, root, apt, tools and verdicts. */
export async function detectEnvironment(env: NodeJS.ProcessEnv = process.env): Promise<Environment> {
  const tools = await detectTools(env);
  const uid = typeof process.geteuid === 'function' ? process.geteuid() : null;
  const platform = process.platform;
  return {
    node: { version: process.versions.node, required: NODE_REQUIRED, ok: versionAtLeast(process.versions.node, NODE_REQUIRED) },
    os: { platform, release: release(), distro: platform === 'linux' ? readDistro() : null },
    root: uid === 0,
    uid,
    apt: platform === 'linux' && existsSync('/etc/debian_version') && locateAptGet() !== null,
    tools,
    realMode: realModeVerdict({ platform, root: uid === 0, uid, tools }),
    storeConformance: storeConformanceVerdict(tools),
    missingPackages: missingPackages(tools),
  };
}

function locateAptGet(): string | null {
  for (const candidate of ['/usr/bin/apt-get', '/bin/apt-get']) if (isExecutable(candidate)) return candidate;
  return null;
}

/** The one-line install command for `packages`. */
export function aptInstallLine(packages: string[], root: boolean): string {
  return `${root ? '' : 'sudo '}apt-get install -y ${packages.join(' ')}`;
}

/** Renders the doctor's report as lines of text. */
export function formatEnvironment(env: Environment): string {
  const out: string[] = [];
  out.push('Workbook doctor', '');
  out.push(`Node     v${env.node.version} (need >= ${env.node.required}): ${env.node.ok ? 'ok' : 'TOO OLD, upgrade Node'}`);
  out.push(`OS       ${env.os.platform} ${env.os.release}${env.os.distro ? ` (${env.os.distro})` : ''}`);
  out.push(`root     ${env.root ? 'yes' : `no (uid ${env.uid ?? 'unknown'})`}`);
  const groups: [ToolPurpose, string][] = [
    ['real mode', 'Tools for real mode (containers with runc, networking with CNI and iptables):'],
    ['store conformance', "Tools for the store's conformance checks (the real etcd as the oracle):"],
    ['cluster access', 'Tools for talking to the cluster:'],
  ];
  const width = Math.max(...TOOL_NAMES.map((n) => n.length));
  for (const [purpose, title] of groups) {
    out.push('', title);
    for (const tool of Object.values(env.tools).filter((t) => t.purpose === purpose)) {
      const state = !tool.present ? 'missing' : tool.problem ? `NOT USABLE: ${tool.problem}` : (tool.version ?? 'present (no version printed)');
      out.push(`  ${tool.name.padEnd(width)}  ${state}${tool.path ? `  [${tool.path}]` : ''}`);
    }
  }
  out.push('');
  out.push(env.realMode.possible ? 'real mode: possible' : `real mode: not possible because ${env.realMode.reasons.join('; ')}`);
  out.push(env.storeConformance.possible ? 'etcd conformance: possible' : `etcd conformance: not possible because ${env.storeConformance.reasons.join('; ')}`);
  out.push('The embedded default (the in-process cluster) needs nothing beyond Node and works on any OS.');
  if (env.missingPackages.length > 0) {
    out.push('', 'To install what is missing (Debian or Ubuntu):', `  ${aptInstallLine(env.missingPackages, env.root)}`);
    out.push('  or let the doctor do it: sudo npm run doctor -- --install');
  }
  if (!env.tools.kubectl.present) out.push('', KUBECTL_ADVICE);
  return out.join('\n');
}

/** What `doctor --install` would do here: the commands to run, or why it refuses. */
export type InstallPlan = { ok: true; packages: string[]; commands: string[][] } | { ok: false; reason: string };

/** Plans `doctor --install` from the report, refusing off Debian/apt or when not root. */
export function planInstall(env: Pick<Environment, 'apt' | 'root' | 'missingPackages' | 'os'>): InstallPlan {
  if (env.missingPackages.length === 0) return { ok: true, packages: [], commands: [] };
  if (!env.apt) {
    return { ok: false, reason: `--install uses apt-get and works only on Debian or Ubuntu (this is ${env.os.distro ?? env.os.platform}); install these yourself: ${env.missingPackages.join(' ')}` };
  }
  if (!env.root) return { ok: false, reason: 'installing packages needs root: run `sudo npm run doctor -- --install`' };
  return { ok: true, packages: env.missingPackages, commands: [['apt-get', 'update'], ['apt-get', 'install', '-y', ...env.missingPackages]] };
}

function runStreaming(command: string, args: string[], write: Write): Promise<number> {
  return new Promise((resolvePromise) => {
    const child = execFile(command, args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, maxBuffer: 256 * 1024 * 1024 }, (err) => {
      resolvePromise(err ? (typeof err.code === 'number' ? err.code : 1) : 0);
    });
    child.stdout?.on('data', (chunk: Buffer) => process.stdout.write(chunk));
    child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    write(`$ ${[command, ...args].join(' ')}`);
  });
}

/** `npm run doctor [-- --install]`: prints the report, installs when asked; returns the exit code. */
export async function doctorCommand(options: { install: boolean }, write: Write): Promise<number> {
  let env = await detectEnvironment();
  write(formatEnvironment(env));
  if (!options.install) return env.node.ok ? 0 : 1;

  write('');
  const plan = planInstall(env);
  if (!plan.ok) {
    write(`doctor --install: ${plan.reason}`);
    return 1;
  }
  if (plan.commands.length === 0) {
    write('doctor --install: every Debian package is already installed; nothing to do.');
    return env.node.ok ? 0 : 1;
  }
  for (const [command, ...args] of plan.commands) {
    if (command === undefined) continue;
    const code = await runStreaming(command, args, write);
    if (code !== 0) {
      write(`doctor --install: ${[command, ...args].join(' ')} failed with exit code ${code}`);
      return 1;
    }
  }
  env = await detectEnvironment();
  write(['', 'After installing:', env.realMode.possible ? 'real mode: possible' : `real mode: still not possible because ${env.realMode.reasons.join('; ')}`].join('\n'));
  return env.realMode.possible && env.node.ok ? 0 : 1;
}
