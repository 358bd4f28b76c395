/**
 * IP address management for the sim runtime, as the CNI `host-local` plugin
 * does it for one node's Pod CIDR: the first address is the gateway (the
 * bridge), addresses are handed out in order starting after the last one
 * given, wrapping around, and a released address is reused only after the
 * others were tried (which keeps a just-deleted Pod's IP from being reused at once).
 */
import { RuntimeError } from './cri.ts';

/** Hands out the host addresses of an IPv4 CIDR, like host-local with one range. */
export class HostLocalIpam {
  readonly gateway: string;
  private readonly first: number;
  private readonly last: number;
  private readonly used = new Set<number>();
  private lastReserved: number;

  constructor(readonly cidr: string) {
    const match = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr);
    const prefix = Number(match?.[2]);
    if (!match || prefix > 30) throw new Error(`expected an IPv4 CIDR with room for Pods such as "10.244.1.0/24", got ${JSON.stringify(cidr)}`);
    const size = 2 ** (32 - prefix);
    const network = Math.floor(toNumber(match[1]!) / size) * size;
    this.gateway = toIp(network + 1);
    this.first = network + 2;
    this.last = network + size - 2;
    this.lastReserved = this.last;
  }

  /** Reserves the next free address after the last one reserved; throws when the range is full. */
  allocate(): string {
    const count = this.last - this.first + 1;
    for (let step = 1; step <= count; step++) {
      const candidate = this.first + ((this.lastReserved - this.first + step) % count);
      if (this.used.has(candidate)) continue;
      this.used.add(candidate);
      this.lastReserved = candidate;
      return toIp(candidate);
    }
    throw new RuntimeError(
      'CreatePodSandboxError',
      `failed to allocate for range 0: no IP addresses available in range set: ${toIp(this.first)}-${toIp(this.last)}`,
    );
  }

  /** Gives an address back; idempotent. */
  release(ip: string): void {
    this.used.delete(toNumber(ip));
  }

  /** The addresses in use, in order. */
  inUse(): string[] {
    return [...this.used].sort((a, b) => a - b).map(toIp);
  }
}

function toNumber(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

function toIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}
