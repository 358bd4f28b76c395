/**
 * The sim network: where simulated containers "listen" and where probes (and,
 * later, kube-proxy and curl-like labs) reach them. It stands in for the Pod
 * network the CNI plugins build on a real node: an address is an IP and a
 * port, and a connection reaches whatever listens there, or is refused. Several
 * SimRuntimes (one per node) can share one SimNetwork, so Pods on different
 * nodes reach each other as they do on a flat Pod network.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** A simulated HTTP response. */
export interface SimHttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** What a listening program answers to an HTTP GET. */
export type SimHttpHandler = (path: string) => SimHttpResponse | Promise<SimHttpResponse>;

/** Rewrites a destination (an IP or a name) before it is dialled: the hook a simulated kube-proxy (Service IPs) or DNS (names) uses. */
export type SimRouter = (host: string, port: number) => { ip: string; port: number } | undefined;

/** How many requests may nest (a server whose handler calls a server...) before the network calls it a loop. */
export const MAX_NESTED_REQUESTS = 16;

/** The simulated flat Pod network: a table of (ip, port) → listening program. */
export class SimNetwork {
  private listeners = new Map<string, SimHttpHandler>();
  private readonly depth = new AsyncLocalStorage<number>();
  private router: SimRouter | undefined;

  /** Starts answering on `ip:port`; throws if something already listens there. */
  listen(ip: string, port: number, handler: SimHttpHandler): void {
    const key = address(ip, port);
    if (this.listeners.has(key)) throw new Error(`listen tcp ${key}: bind: address already in use`);
    this.listeners.set(key, handler);
  }

  /** Stops answering on `ip:port`; idempotent. */
  close(ip: string, port: number): void {
    this.listeners.delete(address(ip, port));
  }

  /** Installs (or with `undefined` removes) the router consulted before every dial. */
  setRouter(router: SimRouter | undefined): void {
    this.router = router;
  }

  /** Opens and closes a TCP connection (a TCP probe); rejects as Go's dialer does when nothing listens. */
  async tcpConnect(host: string, port: number): Promise<void> {
    this.dial(host, port);
  }

  /** Sends `GET path` to `host:port`; rejects with "connection refused" when nothing listens. */
  async httpGet(host: string, port: number, path = '/'): Promise<SimHttpResponse> {
    const depth = (this.depth.getStore() ?? 0) + 1;
    // Why: a frontend whose backend endpoint leads back to itself would otherwise call itself forever.
    if (depth > MAX_NESTED_REQUESTS) throw new Error(`GET http://${address(host, port)}${path}: request loop (more than ${MAX_NESTED_REQUESTS} nested requests)`);
    const handler = this.dial(host, port);
    return this.depth.run(depth, () => handler(path));
  }

  private dial(host: string, port: number): SimHttpHandler {
    const target = this.router?.(host, port);
    // Why: a name nobody resolves fails before any connection, as a DNS lookup would.
    if (!target && !IPV4.test(host)) throw new Error(`dial tcp: lookup ${host}: no such host`);
    const { ip, port: to } = target ?? { ip: host, port };
    const handler = this.listeners.get(address(ip, to));
    // Why: the message is the one Go's net package gives, which is what the kubelet prints in a probe failure Event.
    if (!handler) throw new Error(`dial tcp ${address(host, port)}: connect: connection refused`);
    return handler;
  }
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function address(ip: string, port: number): string {
  return `${ip}:${port}`;
}
