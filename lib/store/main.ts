/**
 * `npm run etcd -- [flags]`: the store as its own process, speaking etcd's v3
 * gRPC API and taking etcd's own flag names, so a cluster (or a learner) can
 * start it exactly where it would start etcd. Also `snapshot save`, which
 * streams a backup as `etcdctl snapshot save` does, and `snapshot restore`,
 * which mirrors `etcdutl snapshot restore`.
 */
import { existsSync, readdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { saveSnapshot } from './backup.ts';
import { startServer } from './server.ts';
import { openStore, restoreSnapshot } from './store.ts';

/** Flags for serving, named as etcd names them. */
export interface ServeFlags {
  name: string;
  dataDir: string;
  host: string;
  port: number;
  advertiseClientUrls?: string[];
}

/** What the command line asks for. */
export type Command =
  | { kind: 'serve'; flags: ServeFlags }
  | { kind: 'restore'; file: string; dataDir: string }
  | { kind: 'save'; file: string; endpoint: string }
  | { kind: 'help' };

/** A command line we cannot follow; `main` prints it with the usage and exits 2. */
export class UsageError extends Error {}

export const USAGE = `usage:
  npm run etcd -- [--name NAME] [--data-dir DIR] [--listen-client-urls http://HOST:PORT]
                  [--advertise-client-urls URL,...]
  npm run etcd -- snapshot save FILE [--endpoints HOST:PORT]
  npm run etcd -- snapshot restore FILE [--data-dir DIR]

Serves the workbook's store over etcd's v3 gRPC API (etcdctl and etcd clients work against it).
  --name                   member name (default "default")
  --data-dir               where the log and snapshots live (default "NAME.etcd", as etcd)
  --listen-client-urls     where to listen; comma-separated, the first http:// URL is used
                           (default http://127.0.0.1:2379; port 0 picks a free port)
  --advertise-client-urls  the client URLs reported to MemberList (default: the listen URL)
snapshot save streams a backup from a running store (ours or etcd), as \`etcdctl snapshot save\` does;
snapshot restore writes such a backup into a new, empty data dir.`;

// #region parse
const SERVE_FLAGS = ['name', 'data-dir', 'listen-client-urls', 'advertise-client-urls', 'endpoints'] as const;
type FlagName = (typeof SERVE_FLAGS)[number];

/** Parses the command line (without `node` and the script). */
export function parseArgs(argv: string[]): Command {
  if (argv.includes('--help') || argv.includes('-h')) return { kind: 'help' };
  const { positional, flags } = splitFlags(argv);
  if (positional[0] === 'snapshot') return parseSnapshot(positional, flags);
  if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}": expected flags, or "snapshot save|restore FILE"`);
  const name = flags.get('name') ?? 'default';
  const { host, port } = parseListenUrls(flags.get('listen-client-urls') ?? 'http://127.0.0.1:2379');
  const advertise = flags.get('advertise-client-urls');
  return {
    kind: 'serve',
    flags: {
      name,
      dataDir: flags.get('data-dir') ?? `${name}.etcd`,
      host,
      port,
      ...(advertise ? { advertiseClientUrls: advertise.split(',').map((u) => u.trim()).filter(Boolean) } : {}),
    },
  };
}

/** Separates `--flag value` / `--flag=value` pairs (etcd accepts one or two dashes) from positional words. */
function splitFlags(argv: string[]): { positional: string[]; flags: Map<FlagName, string> } {
  const positional: string[] = [];
  const flags = new Map<FlagName, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('-')) {
      positional.push(arg);
      continue;
    }
    const [rawName, inlineValue] = splitOnce(arg.replace(/^--?/, ''), '=');
    if (!(SERVE_FLAGS as readonly string[]).includes(rawName)) {
      throw new UsageError(`unknown flag ${arg}: expected one of ${SERVE_FLAGS.map((f) => `--${f}`).join(', ')}`);
    }
    const value = inlineValue ?? argv[++i];
    if (value === undefined || value === '') throw new UsageError(`flag --${rawName} needs a value`);
    flags.set(rawName as FlagName, value);
  }
  return { positional, flags };
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

/** `snapshot save FILE [--endpoints HOST:PORT]` or `snapshot restore FILE [--data-dir DIR]`. */
function parseSnapshot(positional: string[], flags: Map<FlagName, string>): Command {
  const [, verb, file, ...rest] = positional;
  if (verb !== 'restore' && verb !== 'save') throw new UsageError(`unknown snapshot command "${verb ?? ''}": expected "snapshot save FILE" or "snapshot restore FILE"`);
  if (!file) throw new UsageError(`snapshot ${verb} needs the backup FILE`);
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}" after the snapshot file`);
  if (verb === 'save') return { kind: 'save', file, endpoint: (flags.get('endpoints') ?? '127.0.0.1:2379').split(',')[0]?.replace(/^https?:\/\//, '') ?? '' };
  return { kind: 'restore', file, dataDir: flags.get('data-dir') ?? `${flags.get('name') ?? 'default'}.etcd` };
}

/**
 * Picks where to listen from etcd's --listen-client-urls: the first http URL.
 * TLS is refused rather than silently served in plain text.
 */
export function parseListenUrls(list: string): { host: string; port: number } {
  const urls = list.split(',').map((u) => u.trim()).filter(Boolean);
  const secure = urls.find((u) => u.startsWith('https://'));
  if (secure) throw new UsageError(`--listen-client-urls ${secure}: https is not supported (the workbook's store serves plain gRPC); use http://`);
  const first = urls[0];
  if (!first) throw new UsageError('--listen-client-urls is empty: expected a URL like http://127.0.0.1:2379');
  let url: URL;
  try {
    url = new URL(first);
  } catch {
    throw new UsageError(`--listen-client-urls ${first}: expected a URL like http://127.0.0.1:2379`);
  }
  if (url.protocol !== 'http:') throw new UsageError(`--listen-client-urls ${first}: expected an http:// URL, got ${url.protocol}//`);
  // Why 80 for no port: URL drops http's default port, so an empty port means 80.
  // Why strip brackets: URL keeps them around IPv6 hosts, but a listen address wants the bare host.
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port === '' ? 80 : Number(url.port) };
}
// #endregion parse

// #region serve
/** Opens the store, serves it, prints the ready line, and closes cleanly on SIGTERM or SIGINT. */
async function serve(flags: ServeFlags): Promise<void> {
  const store = await openStore({ dataDir: flags.dataDir, log: (line) => console.error(line) });
  const server = await startServer({
    store,
    host: flags.host,
    port: flags.port,
    name: flags.name,
    advertiseClientUrls: flags.advertiseClientUrls,
    log: (line) => console.error(line),
  });
  console.log(`ready: serving etcd v3 gRPC on ${flags.host}:${server.port} (data dir ${flags.dataDir}, revision ${store.revision})`);
  let stopping = false;
  const stop = async (signal: string) => {
    // Why exit at once on a second signal: the user asked twice, something is stuck.
    if (stopping) process.exit(1);
    stopping = true;
    await server.close();
    await store.close();
    console.log(`stopped on ${signal}`);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
// #endregion serve

// #region restore
/**
 * Restores a backup into a new data dir. The file `etcdctl snapshot save`
 * writes is exactly the store's snapshot, so it is restored as it is.
 */
export async function restore(file: string, dataDir: string): Promise<{ revision: number }> {
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    throw new Error(`snapshot restore: expected a new or empty --data-dir, but ${dataDir} already has files; choose another directory`);
  }
  return restoreSnapshot(file, dataDir);
}
// #endregion restore

/** Runs the command line; returns the process exit code (serving keeps running until a signal). */
export async function main(argv: string[]): Promise<number | undefined> {
  let command: Command;
  try {
    command = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`error: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  try {
    if (command.kind === 'help') {
      console.log(USAGE);
      return 0;
    }
    if (command.kind === 'save') {
      const bytes = await saveSnapshot(command.endpoint, command.file);
      console.log(`saved a snapshot of ${command.endpoint} to ${command.file} (${bytes} bytes)`);
      return 0;
    }
    if (command.kind === 'restore') {
      const { revision } = await restore(command.file, command.dataDir);
      console.log(`restored revision ${revision} from ${command.file} into ${command.dataDir}`);
      return 0;
    }
    await serve(command.flags);
    return undefined;
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    return 1;
  }
}

// Why this check: tests import parseArgs from this file without starting a server.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const code = await main(process.argv.slice(2));
  if (code !== undefined) process.exit(code);
}
