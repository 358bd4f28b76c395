/**
 * Network namespaces for Pods. A Pod's containers share one network
 * namespace: one `lo`, one `eth0`, one IP. The runtime makes it before any
 * container exists (containerd's "sandbox"), with the same tool a person
 * would use: `ip netns add <name>`, which creates the namespace and pins it
 * with a bind mount at /var/run/netns/<name> so it outlives every process.
 *
 * Safety: this runs as root on a learner's machine, so every name is checked
 * before it reaches a path or a command, every program runs through
 * `execFile` with an argument array (never a shell), and only namespaces that
 * carry the project's prefix are ever listed or deleted.
 */
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { locateTool } from '../workbook/doctor.ts';

/** Where `ip netns` pins named namespaces (the CNI_NETNS path lives here). */
export const NETNS_DIR = '/var/run/netns';

/** The longest namespace name we accept (a file name under /var/run/netns; short keeps it readable). */
export const MAX_NETNS_NAME = 63;

/** What a program run by `runProgram` left behind. */
export interface ProgramResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a program (never a shell) and resolves to its exit code and output, whatever the code. */
export type RunProgram = (
  file: string,
  args: readonly string[],
  options?: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
) => Promise<ProgramResult>;

// #region run-program
/** The real `RunProgram`: `execFile` with an argument array, optional stdin, a timeout. */
export const runProgram: RunProgram = (file, args, options = {}) =>
  new Promise((resolve, reject) => {
    const child = execFile(
      file,
      [...args],
      { env: options.env ?? process.env, timeout: options.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        // Why: a non-zero exit is an answer (the caller reads it); only a
        // program that could not start or was killed by the timeout is an error.
        const code = (error as (NodeJS.ErrnoException & { code?: unknown }) | null)?.code;
        if (error && typeof code !== 'number') {
          const killed = (error as { killed?: boolean }).killed ? ` (killed after ${options.timeoutMs ?? 30_000} ms)` : '';
          reject(new Error(`expected ${file} to run, got ${error.message}${killed}`));
          return;
        }
        resolve({ exitCode: typeof code === 'number' ? code : 0, stdout, stderr });
      },
    );
    child.stdin?.on('error', () => {}); // Why: a program that exits without reading stdin must not crash us with EPIPE.
    child.stdin?.end(options.input ?? '');
  });
// #endregion run-program

/** Where the `ip` program is, or a clear error naming the package to install. */
export function ipCommand(env: NodeJS.ProcessEnv = process.env): string {
  const path = locateTool('ip', env);
  if (path === null) throw new Error('expected the `ip` program (Debian package iproute2), found none');
  return path;
}

/** Checks a project prefix such as "kbs-": lowercase letters and digits ending in "-". */
export function validatePrefix(prefix: string): string {
  if (!/^[a-z][a-z0-9]{1,15}-$/.test(prefix)) {
    throw new Error(`expected a namespace prefix of 2-16 lowercase letters or digits followed by "-" (like "kbs-"), got ${JSON.stringify(prefix)}`);
  }
  return prefix;
}

// #region validate-name
/**
 * Checks a namespace name: the prefix, then an id of [a-z0-9-] that starts and
 * ends with a letter or digit, MAX_NETNS_NAME characters at most. Returns it.
 */
export function validateNetnsName(name: string, prefix: string): string {
  validatePrefix(prefix);
  const id = name.startsWith(prefix) ? name.slice(prefix.length) : null;
  // Why so strict: the name becomes a path under /var/run/netns and an argument
  // to `ip`; "../x", "/etc", "-f" or a name we did not make must never get there.
  if (id === null || name.length > MAX_NETNS_NAME || !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(id)) {
    const shown = name.length > 80 ? `${JSON.stringify(name.slice(0, 80))}... (${name.length} characters)` : JSON.stringify(name);
    throw new Error(
      `expected a network namespace name "${prefix}<id>" with an id of a-z, 0-9 and "-" and at most ${MAX_NETNS_NAME} characters in all, got ${shown}`,
    );
  }
  return name;
}
// #endregion validate-name

/** Options for `NetworkNamespaces`; `run` and `dir` are seams for tests. */
export interface NetworkNamespacesOptions {
  /** Every name this instance touches starts with it, e.g. "kbs-" (tests use "kbstest-"). */
  prefix: string;
  run?: RunProgram;
  dir?: string;
}

/** The Pods' network namespaces on this machine: those with our prefix, and no others. */
export class NetworkNamespaces {
  readonly prefix: string;
  readonly dir: string;
  private readonly run: RunProgram;

  constructor(options: NetworkNamespacesOptions) {
    this.prefix = validatePrefix(options.prefix);
    this.run = options.run ?? runProgram;
    this.dir = options.dir ?? NETNS_DIR;
  }

  /** The namespace name for a Pod sandbox id, e.g. "kbs-" + "3f2a...": validated. */
  nameFor(id: string): string {
    return validateNetnsName(this.prefix + id, this.prefix);
  }

  /** The path the CNI plugins receive as CNI_NETNS. */
  path(name: string): string {
    return join(this.dir, validateNetnsName(name, this.prefix));
  }

  // #region netns-add
  /** Creates the namespace (`ip netns add`), empty but for a down `lo`; returns its path. */
  async create(name: string): Promise<string> {
    const path = this.path(name);
    await this.ip(['netns', 'add', name]);
    return path;
  }

  /** Deletes the namespace (`ip netns delete`); idempotent: one already gone is fine. */
  async delete(name: string): Promise<void> {
    validateNetnsName(name, this.prefix);
    // Why check first: `ip netns delete` of a missing name fails, and deleting
    // a Pod's network must succeed when a crash already half-removed it.
    if (!(await this.listOwned()).includes(name)) return;
    await this.ip(['netns', 'delete', name]);
  }
  // #endregion netns-add

  /** The names of the namespaces with our prefix (what `ip netns list` reads), sorted. */
  async listOwned(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(this.dir);
    } catch (error) {
      // Why: the folder appears with the first `ip netns add`; before that, none exist.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return entries.filter((entry) => entry.startsWith(this.prefix) && isValidName(entry, this.prefix)).sort();
  }

  /** Runs a command inside the namespace (`ip netns exec`) and resolves to its exit code and output. */
  async exec(name: string, command: readonly string[], timeoutMs = 10_000): Promise<ProgramResult> {
    validateNetnsName(name, this.prefix);
    if (command.length === 0 || command[0] === '') throw new Error('expected a command to run in the namespace, got none');
    return this.run(ipCommand(), ['netns', 'exec', name, ...command], { timeoutMs });
  }

  private async ip(args: string[]): Promise<void> {
    const result = await this.run(ipCommand(), args);
    if (result.exitCode !== 0) {
      throw new Error(`expected \`ip ${args.join(' ')}\` to succeed, got exit ${result.exitCode}: ${result.stderr.trim()}`);
    }
  }
}

function isValidName(name: string, prefix: string): boolean {
  try {
    validateNetnsName(name, prefix);
    return true;
  } catch {
    return false;
  }
}
