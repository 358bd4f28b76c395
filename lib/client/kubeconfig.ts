/**
 * Kubeconfig files: the YAML that tells kubectl (and our client) where the
 * API server is and who is asking. A file holds named clusters (a server
 * URL), named users (a bearer token), and named contexts that pair one
 * cluster with one user and a default namespace; `current-context` picks one.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';

/** A kubeconfig as it is written (v1 Config), keeping the fields the workbook uses. */
export interface Kubeconfig {
  apiVersion: 'v1';
  kind: 'Config';
  clusters: NamedCluster[];
  users: NamedUser[];
  contexts: NamedContext[];
  'current-context'?: string;
  preferences?: Record<string, unknown>;
}

export interface NamedCluster {
  name: string;
  cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string; 'insecure-skip-tls-verify'?: boolean };
}

export interface NamedUser {
  name: string;
  /** `tokenFile` is read when `token` is absent; a relative path is relative to the kubeconfig file. */
  user: { token?: string; tokenFile?: string };
}

export interface NamedContext {
  name: string;
  context: { cluster: string; user: string; namespace?: string };
}

/** What a client needs out of a kubeconfig: one context, resolved. */
export interface ResolvedContext {
  context: string;
  cluster: string;
  user: string;
  server: string;
  token?: string;
  /** The cluster CA (PEM), from certificate-authority-data or certificate-authority. */
  ca?: string;
  /** The context's namespace, `default` when it names none. */
  namespace: string;
}

/** The kubeconfig files to read, as kubectl picks them: each path in $KUBECONFIG, else ~/.kube/config. */
export function kubeconfigPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = (env.KUBECONFIG ?? '').split(delimiter).filter((path) => path !== '');
  return fromEnv.length > 0 ? fromEnv : [join(homedir(), '.kube', 'config')];
}

// #region read
/** Reads one kubeconfig file; a relative tokenFile is made absolute against the file's folder. */
export function readKubeconfig(path: string): Kubeconfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`expected a kubeconfig file at ${path}, got ${(error as Error).message}`);
  }
  // Why the alias limit: an alias bomb in a YAML file once hung kubectl (CVE-2019-11253).
  const config = checkShape(path, parse(text, { maxAliasCount: 100 }));
  for (const { user } of config.users) {
    if (user.tokenFile && !isAbsolute(user.tokenFile)) user.tokenFile = resolve(dirname(path), user.tokenFile);
  }
  return config;
}
// #endregion read

/**
 * Reads and merges several kubeconfig files as kubectl does: for each named
 * cluster, user and context, and for current-context, the first file that
 * sets it wins. Files that do not exist are skipped, unless none exists.
 */
export function loadKubeconfig(paths: string[] = kubeconfigPaths()): Kubeconfig {
  const merged: Kubeconfig = { apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [] };
  const found = paths.filter((path) => existsSync(path));
  if (found.length === 0) throw new Error(`expected a kubeconfig file at ${paths.join(delimiter)}, got none`);
  for (const path of found) {
    const config = readKubeconfig(path);
    mergeNamed(merged.clusters, config.clusters);
    mergeNamed(merged.users, config.users);
    mergeNamed(merged.contexts, config.contexts);
    merged['current-context'] ??= config['current-context'] || undefined;
  }
  return merged;
}

// #region resolve
/** The cluster, user and namespace of one context (the current one unless named), with the token read. */
export function resolveContext(config: Kubeconfig, contextName?: string): ResolvedContext {
  const name = contextName ?? config['current-context'];
  if (!name) throw new Error('expected a current-context in the kubeconfig, or a context name, got neither');
  const context = findNamed(config.contexts, 'context', name).context;
  const cluster = findNamed(config.clusters, 'cluster', context.cluster).cluster;
  const user = findNamed(config.users, 'user', context.user).user;
  const resolved: ResolvedContext = {
    context: name,
    cluster: context.cluster,
    user: context.user,
    server: cluster.server,
    namespace: context.namespace || 'default',
  };
  const token = user.token ?? (user.tokenFile ? readTokenFile(user.tokenFile) : undefined);
  if (token !== undefined) resolved.token = token;
  const caData = cluster['certificate-authority-data'];
  if (caData) resolved.ca = Buffer.from(caData, 'base64').toString('utf8');
  else if (cluster['certificate-authority']) resolved.ca = readFileSync(cluster['certificate-authority'], 'utf8');
  return resolved;
}
// #endregion resolve

/** Loads the kubeconfig (from `path`, or $KUBECONFIG, or ~/.kube/config) and resolves one context. */
export function loadContext(options: { path?: string; context?: string } = {}): ResolvedContext {
  const paths = options.path ? [options.path] : kubeconfigPaths();
  return resolveContext(loadKubeconfig(paths), options.context);
}

/** What writeKubeconfig puts in the file: one cluster, one user, one context that joins them. */
export interface KubeconfigEntry {
  server: string;
  /** The cluster CA (PEM); written as certificate-authority-data. */
  ca?: string;
  token: string;
  user: string;
  cluster: string;
  context: string;
  namespace?: string;
}

// #region write
/** The kubeconfig with one cluster, one user and one current context, as the real kubectl reads it. */
export function buildKubeconfig(entry: KubeconfigEntry): Kubeconfig {
  const context: NamedContext['context'] = { cluster: entry.cluster, user: entry.user };
  if (entry.namespace) context.namespace = entry.namespace;
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: entry.cluster, cluster: entry.ca ? { server: entry.server, 'certificate-authority-data': Buffer.from(entry.ca).toString('base64') } : { server: entry.server } }],
    users: [{ name: entry.user, user: { token: entry.token } }],
    contexts: [{ name: entry.context, context }],
    'current-context': entry.context,
    preferences: {},
  };
}

/**
 * Writes a kubeconfig for one cluster, user and context. The file holds a
 * credential, so only its owner may read it (mode 0600); it is written to a
 * temporary file and renamed, so a reader never sees half of it.
 */
export function writeKubeconfig(path: string, entry: KubeconfigEntry): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, stringify(buildKubeconfig(entry)), { mode: 0o600 });
  chmodSync(temporary, 0o600); // Why again: the mode passed to writeFileSync is only used when the file is new.
  renameSync(temporary, path);
}
// #endregion write

// ---- helpers ---------------------------------------------------------------------

function readTokenFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new Error(`expected a token in the tokenFile ${path}, got ${(error as Error).message}`);
  }
}

function mergeNamed<T extends { name: string }>(into: T[], from: T[]): void {
  for (const entry of from) {
    if (!into.some((existing) => existing.name === entry.name)) into.push(entry);
  }
}

function findNamed<T extends { name: string }>(entries: T[], what: string, name: string): T {
  const found = entries.find((entry) => entry.name === name);
  if (found) return found;
  const known = entries.map((entry) => JSON.stringify(entry.name)).join(', ') || 'none';
  throw new Error(`expected a ${what} named ${JSON.stringify(name)} in the kubeconfig, got ${known}`);
}

/** Checks the parsed YAML has the kubeconfig's shape, naming the first thing that is wrong. */
function checkShape(path: string, value: unknown): Kubeconfig {
  const fail = (expected: string, got: unknown): never => {
    throw new Error(`expected ${expected} in the kubeconfig ${path}, got ${JSON.stringify(got)}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('a YAML mapping', value);
  const raw = value as Record<string, unknown>;
  const list = (field: 'clusters' | 'users' | 'contexts'): Array<Record<string, unknown>> => {
    const entries = raw[field] ?? [];
    if (!Array.isArray(entries)) return fail(`a list under ${field}`, entries);
    return entries.map((entry: unknown) => {
      const named = entry as Record<string, unknown> | null;
      if (typeof named?.name !== 'string') return fail(`a name on every entry of ${field}`, entry);
      return named;
    });
  };
  const clusters = list('clusters').map((entry) => {
    const cluster = entry.cluster as NamedCluster['cluster'] | undefined;
    if (typeof cluster?.server !== 'string') return fail(`a server URL for cluster ${JSON.stringify(entry.name)}`, cluster);
    return entry as unknown as NamedCluster;
  });
  const users = list('users').map((entry) => ({ name: entry.name as string, user: { ...((entry.user ?? {}) as NamedUser['user']) } }));
  const contexts = list('contexts').map((entry) => {
    const context = entry.context as NamedContext['context'] | undefined;
    if (typeof context?.cluster !== 'string' || typeof context.user !== 'string') {
      return fail(`a cluster and a user for context ${JSON.stringify(entry.name)}`, context);
    }
    return entry as unknown as NamedContext;
  });
  const config: Kubeconfig = { apiVersion: 'v1', kind: 'Config', clusters, users, contexts };
  if (typeof raw['current-context'] === 'string') config['current-context'] = raw['current-context'];
  return config;
}
