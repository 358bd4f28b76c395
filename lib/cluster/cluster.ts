/**
 * An in-process cluster, built up chapter by chapter. For now it is what
 * chapter 2 has: the store and the API server, with one bearer token per
 * identity (the admin, each control-plane component, each kubelet) and a
 * kubeconfig for the admin that the real kubectl reads.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { newToken, TokenAuthenticator, tokenFileLine, type UserInfo } from '../apiserver/auth.ts';
import type { Backend } from '../apiserver/backend.ts';
import { ADMIN, COMPONENTS, kubeletIdentity } from '../apiserver/bootstrap.ts';
import { connectEtcd } from '../apiserver/etcd-client.ts';
import { clusterPki } from '../apiserver/pki.ts';
import type { ApiServerSeams } from '../apiserver/seams.ts';
import { startApiServer, type RequestTrace, type RunningApiServer } from '../apiserver/server.ts';
import { KubeClient } from '../client/client.ts';
import { writeKubeconfig } from '../client/kubeconfig.ts';
import { openStore, type Store } from '../store/store.ts';

/** The scenario's laptops: node-1 runs the control plane, node-2 and node-3 are workers. */
export const NODE_NAMES = ['node-1', 'node-2', 'node-3'];

/** How to start a cluster. */
export interface ClusterOptions {
  /** Where the store keeps its data and the cluster its kubeconfig and tokens. */
  dir: string;
  /** Use this etcd (our store process or the real etcd, `host:port`) instead of an in-process store. */
  etcdEndpoint?: string;
  /** The API server's port; 0 picks a free one. */
  port?: number;
  compactionIntervalMs?: number;
  bookmarkIntervalMs?: number;
  /** The learner's versions of chapter 2's functions, for the lab. */
  seams?: Partial<ApiServerSeams>;
  onTrace?: (trace: RequestTrace) => void;
  log?: (line: string) => void;
}

/** A running cluster. */
export interface Cluster {
  apiserver: RunningApiServer;
  /** The in-process store, when the cluster runs one. */
  store?: Store;
  backend: Backend;
  /** Absolute path of the admin kubeconfig. */
  kubeconfig: string;
  /** The bearer token of each identity, by user name. */
  tokens: Map<string, string>;
  /** A client that acts as this user (which must be one the cluster knows). */
  clientAs(user: string, userAgent?: string): KubeClient;
  /** The cluster CA (PEM) that clients trust. */
  ca: string;
  /** The admin's client. */
  admin: KubeClient;
  stop(): Promise<void>;
}

// #region start-cluster
/** Start the store and the API server, and write the admin kubeconfig. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const store = options.etcdEndpoint ? undefined : await openStore({ dataDir: join(dir, 'etcd') });
  const backend: Backend = store ?? (await connectEtcd(options.etcdEndpoint!));

  const identities: UserInfo[] = [ADMIN, ...Object.values(COMPONENTS), ...NODE_NAMES.map(kubeletIdentity)];
  const authenticator = new TokenAuthenticator();
  const tokens = new Map<string, string>();
  for (const user of identities) {
    const token = newToken();
    tokens.set(user.name, token);
    authenticator.add(token, user);
  }
  // The same table as a kube-apiserver --token-auth-file, for the curious reader.
  writeFileSync(join(dir, 'tokens.csv'), identities.map((u) => tokenFileLine(tokens.get(u.name)!, u)).join('\n') + '\n', { mode: 0o600 });

  // The cluster CA and the API server's certificate, kept as kubeadm keeps them under pki/.
  const pki = clusterPki();
  mkdirSync(join(dir, 'pki'), { recursive: true });
  writeFileSync(join(dir, 'pki', 'ca.crt'), pki.ca.cert);
  writeFileSync(join(dir, 'pki', 'apiserver.crt'), pki.apiserver.cert);
  writeFileSync(join(dir, 'pki', 'apiserver.key'), pki.apiserver.key, { mode: 0o600 });

  const apiserver = await startApiServer({
    backend,
    authenticator,
    tls: pki.apiserver,
    port: options.port ?? 0,
    compactionIntervalMs: options.compactionIntervalMs,
    bookmarkIntervalMs: options.bookmarkIntervalMs,
    seams: options.seams,
    onTrace: options.onTrace,
    log: options.log,
  });
  const kubeconfig = join(dir, 'kubeconfig');
  writeKubeconfig(kubeconfig, { server: apiserver.url, ca: pki.ca.cert, token: tokens.get(ADMIN.name)!, user: ADMIN.name, cluster: 'workbook', context: 'workbook' });

  const clientAs = (user: string, userAgent = 'workbook') => {
    const token = tokens.get(user);
    if (!token) throw new Error(`expected one of the cluster's users (${[...tokens.keys()].join(', ')}), got ${JSON.stringify(user)}`);
    return new KubeClient({ server: apiserver.url, ca: pki.ca.cert, token, userAgent });
  };
  return {
    apiserver,
    store,
    backend,
    kubeconfig,
    tokens,
    ca: pki.ca.cert,
    clientAs,
    admin: clientAs(ADMIN.name, 'kubectl-workbook'),
    stop: async () => {
      await apiserver.close();
      await backend.close();
    },
  };
}
// #endregion start-cluster
