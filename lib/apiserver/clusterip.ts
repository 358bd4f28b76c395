/**
 * The ClusterIP allocator: every Service of type ClusterIP (or NodePort,
 * LoadBalancer) gets a free address from the service CIDR, `10.96.0.0/12`
 * by default as in kubeadm. The first address (`10.96.0.1`) belongs to the
 * `kubernetes` Service that fronts the API server itself. Which addresses are
 * taken is read from the Services in the store, so the allocator keeps no
 * state of its own that could drift.
 */

/** The default service CIDR (kube-apiserver `--service-cluster-ip-range` as kubeadm sets it). */
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';

/** The NodePort range (kube-apiserver `--service-node-port-range`). */
export const NODE_PORT_RANGE = { first: 30000, last: 32767 };

/** An IPv4 CIDR as numbers: the network address and how many addresses it holds. */
export interface Cidr {
  base: number;
  size: number;
}

/** Parses `10.96.0.0/12`; anything else is an error that says what was expected. */
export function parseCidr(text: string): Cidr {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(text);
  const octets = match ? match.slice(1, 5).map(Number) : [];
  const bits = match ? Number(match[5]) : -1;
  if (!match || octets.some((o) => o > 255) || bits < 8 || bits > 30) {
    throw new Error(`expected an IPv4 CIDR such as 10.96.0.0/12 (prefix 8 to 30), got ${JSON.stringify(text)}`);
  }
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - bits);
  return { base: address - (address % size), size };
}

/** A dotted IPv4 address from its number. */
export function formatIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** The number of a dotted IPv4 address, or NaN. */
export function ipNumber(text: string): number {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return NaN;
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

// #region allocate
/**
 * The next free ClusterIP: the lowest address in the CIDR, after the network
 * address, that no Service holds. Real kube-apiserver picks at random from
 * a bitmap; lowest-free keeps the workbook's output the same on every run.
 */
export function allocateClusterIP(cidr: Cidr, taken: Set<string>): string {
  // Skip the network address (offset 0) and the broadcast address (the last).
  for (let offset = 1; offset < cidr.size - 1; offset++) {
    const ip = formatIp(cidr.base + offset);
    if (!taken.has(ip)) return ip;
  }
  throw new Error(`the service CIDR ${formatIp(cidr.base)}/${32 - Math.log2(cidr.size)} is full: every ClusterIP is taken`);
}
// #endregion allocate

/** Whether an address lies inside the CIDR (and is neither its network nor broadcast address). */
export function inCidr(cidr: Cidr, ip: string): boolean {
  const n = ipNumber(ip);
  return n > cidr.base && n < cidr.base + cidr.size - 1;
}

/** The next free NodePort. */
export function allocateNodePort(taken: Set<number>): number {
  for (let port = NODE_PORT_RANGE.first; port <= NODE_PORT_RANGE.last; port++) if (!taken.has(port)) return port;
  throw new Error(`every NodePort from ${NODE_PORT_RANGE.first} to ${NODE_PORT_RANGE.last} is taken`);
}
