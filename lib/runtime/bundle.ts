/**
 * The OCI runtime bundle: a folder holding `config.json` and the container's
 * root filesystem, which is all `runc` needs to run a container. config.json
 * says which process to start (args, env, cwd), which folder is its root,
 * which namespaces isolate it, and what to mount inside it.
 */

/** What the runtime knows when it writes a container's config.json. */
export interface BundleSpec {
  args: string[];
  env: string[];
  cwd: string;
  /** The root filesystem, relative to the bundle folder (usually "rootfs") or absolute. */
  rootfsPath: string;
  hostname: string;
  /** The Pod's network namespace (e.g. /var/run/netns/...); without it the container gets a new, empty one. */
  networkNamespacePath?: string;
  /** Bytes; 0 or absent: no limit. */
  memoryLimitBytes?: number;
}

// Docker's default capability set: enough for servers (binding port 80 included), nothing to rule the host.
const CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

// #region process-section
/** The `process` section of config.json: what runs, with which environment, where. */
export function processSection(spec: Pick<BundleSpec, 'args' | 'env' | 'cwd'>) {
  if (spec.args.length === 0) throw new Error('expected at least one argument (the program to run), got none');
  if (!spec.cwd.startsWith('/')) throw new Error(`expected an absolute working directory, got ${JSON.stringify(spec.cwd)}`);
  return {
    terminal: false,
    user: { uid: 0, gid: 0 },
    args: spec.args,
    env: spec.env,
    cwd: spec.cwd,
    capabilities: { bounding: CAPABILITIES, effective: CAPABILITIES, permitted: CAPABILITIES },
    rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
    noNewPrivileges: true,
  };
}
// #endregion process-section

/** A whole config.json for runc: process, root, mounts, and the Linux namespaces. */
export function bundleConfig(spec: BundleSpec) {
  const namespaces: Array<{ type: string; path?: string }> = [
    { type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' },
    // Why a path: all containers of a Pod join the sandbox's network namespace, so they share localhost.
    spec.networkNamespacePath ? { type: 'network', path: spec.networkNamespacePath } : { type: 'network' },
  ];
  const nosuid = ['nosuid', 'noexec', 'nodev'];
  return {
    ociVersion: '1.0.2',
    process: processSection(spec),
    root: { path: spec.rootfsPath, readonly: false },
    hostname: spec.hostname,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: [...nosuid, 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: nosuid },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: [...nosuid, 'ro'] },
    ],
    linux: {
      namespaces,
      resources: spec.memoryLimitBytes ? { memory: { limit: spec.memoryLimitBytes } } : {},
      maskedPaths: ['/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/sched_debug', '/sys/firmware'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}
