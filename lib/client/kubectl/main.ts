/**
 * The workbook's kubectl: `npm run kubectl -- get pods -v`. This file only
 * reads the command line, finds the cluster in the kubeconfig, and hands
 * over to one command; each command lives in its own file. Every command is
 * a few REST calls to the API server, and `-v` prints them.
 */
import { pathToFileURL } from 'node:url';
import { KubeClient } from '../client.ts';
import { kubeconfigPaths, loadKubeconfig, resolveContext } from '../kubeconfig.ts';
import { applyCommand } from './apply.ts';
import { flagUsage, parseArgs, UsageError, type FlagSpec, type ParsedArgs } from './args.ts';
import { errorLine, type Command, type CommandContext, type Writer } from './common.ts';
import { deleteCommand } from './delete.ts';
import { describeCommand } from './describe.ts';
import { eventsCommand } from './events.ts';
import { getCommand } from './get.ts';
import { logsCommand } from './logs.ts';
import { scaleCommand } from './scale.ts';
import { HEADERS_LEVEL, traceRequests, VerboseClient } from './verbose.ts';

/** Every command this kubectl knows. */
export const COMMANDS: Command[] = [getCommand, describeCommand, applyCommand, deleteCommand, scaleCommand, logsCommand, eventsCommand];

/** The flags every command takes. */
export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'namespace', short: 'n', type: 'string', description: 'The namespace to work in (default: the kubeconfig context\'s, else default).' },
  { name: 'kubeconfig', type: 'string', description: 'The kubeconfig file to use (default: $KUBECONFIG, else ~/.kube/config).' },
  { name: 'context', type: 'string', description: 'The kubeconfig context to use (default: its current-context).' },
  { name: 'v', short: 'v', type: 'string', bareValue: '6', description: 'Print each HTTP request and its status; -v=8 adds headers and bodies.' },
  { name: 'help', short: 'h', type: 'boolean', description: 'Show this help.' },
];

/** The level from which requests are printed, as in kubectl (`-v=6`). */
const REQUESTS_LEVEL = 6;

/** Where a run reads and writes; tests pass buffers, the entry point passes the process's own. */
export interface RunOptions {
  out: Writer;
  err: Writer;
  stdin?: AsyncIterable<string | Buffer>;
  /** Read for $KUBECONFIG. */
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

// #region run
/** Runs one kubectl command line and returns its exit code: 0 done, 1 failed, 2 wrong usage. */
export async function run(argv: string[], options: RunOptions): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    (name === undefined ? options.err : options.out).write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) return usageError(options.err, `unknown command "${name}" for "kubectl"`, usage());
  let args: ParsedArgs;
  try {
    args = parseArgs(rest, [...command.flags, ...GLOBAL_FLAGS]);
  } catch (error) {
    if (error instanceof UsageError) return usageError(options.err, error.message, commandUsage(command));
    throw error;
  }
  if (args.bool('help')) {
    options.out.write(commandUsage(command));
    return 0;
  }
  return runCommand(command, args, options);
}
// #endregion run

/** Connects to the cluster, runs the command, and prints an error as kubectl does. */
async function runCommand(command: Command, args: ParsedArgs, options: RunOptions): Promise<number> {
  let session: { ctx: CommandContext; close: () => void } | undefined;
  try {
    session = openSession(args, options);
    await command.run(args, session.ctx);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) return usageError(options.err, error.message, commandUsage(command));
    options.err.write(`${errorLine(error)}\n`);
    return 1;
  } finally {
    session?.close();
  }
}

// #region open-session
/** The client for the kubeconfig's cluster and user, and the namespace to work in. */
function openSession(args: ParsedArgs, options: RunOptions): { ctx: CommandContext; close: () => void } {
  const explicit = args.string('kubeconfig');
  const paths = explicit ? [explicit] : kubeconfigPaths(options.env ?? process.env);
  const context = resolveContext(loadKubeconfig(paths), args.string('context'));
  const level = verbosity(args.string('v'));
  // Why this User-Agent: the server names a write's field manager after the program (`kubectl`), as for the real one.
  const config = { server: context.server, token: context.token, ca: context.ca, userAgent: 'kubectl/workbook' };
  const client = level >= HEADERS_LEVEL ? new VerboseClient(config, options.err) : new KubeClient(config);
  const stopTracing = level >= REQUESTS_LEVEL ? traceRequests(client.server, level, options.err) : () => {};
  const namespace = args.string('namespace');
  const ctx: CommandContext = {
    client,
    namespace: namespace || context.namespace,
    namespaceFromFlag: Boolean(namespace),
    out: options.out,
    err: options.err,
    stdin: options.stdin ?? process.stdin,
    now: options.now ?? Date.now,
  };
  return { ctx, close: () => (stopTracing(), client.close()) };
}
// #endregion open-session

function verbosity(text: string | undefined): number {
  if (text === undefined) return 0;
  const level = Number(text);
  if (!Number.isInteger(level) || level < 0) throw new UsageError(`expected -v to be a level such as 6 or 8, got "${text}"`);
  return level;
}

function usageError(err: Writer, message: string, text: string): number {
  err.write(`error: ${message}\n\n${text}`);
  return 2;
}

/** The list of commands and the flags they all take. */
export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const commands = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
  return `kubectl (the workbook's own) talks to the API server of the workbook's cluster.\n\n` +
    `Usage: npm run kubectl -- COMMAND [ARGS] [flags]\n\nCommands:\n${commands}\n\n` +
    `Flags of every command:\n${flagUsage(GLOBAL_FLAGS)}\n`;
}

function commandUsage(command: Command): string {
  const own = command.flags.length > 0 ? `Flags:\n${flagUsage(command.flags)}\n\n` : '';
  return `${command.summary}.\n\nUsage: kubectl ${command.usage}\n\n${own}Flags of every command:\n${flagUsage(GLOBAL_FLAGS)}\n`;
}

// Why the check: tests import run() from this file; only `npm run kubectl` should run a command line.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await run(process.argv.slice(2), { out: process.stdout, err: process.stderr });
}
