/**
 * What every command of the workbook's kubectl shares: the context it runs
 * in (a client, a namespace, where to write), the shape of a command, and
 * how a user names resources on the command line (`deploy`, `pods`,
 * `deployment/web`).
 */
import type { KubeObject } from '../../api/types.ts';
import { RESOURCES, resolveResourceName, resourceForKind, type ResourceInfo } from '../../apiserver/resources.ts';
import { KubeApiError, type KubeClient } from '../client.ts';
import { UsageError, type FlagSpec, type ParsedArgs } from './args.ts';

/** Somewhere to write text: process.stdout, or a buffer in a test. */
export interface Writer {
  write(text: string): unknown;
}

/** Everything a command needs from outside: a client, the namespace, and where to read and write. */
export interface CommandContext {
  client: KubeClient;
  /** From -n, else the kubeconfig context's namespace, else `default`. */
  namespace: string;
  /** True when the user gave -n, so a manifest naming another namespace is a mistake. */
  namespaceFromFlag: boolean;
  out: Writer;
  err: Writer;
  /** Read by `-f -`. */
  stdin: AsyncIterable<string | Buffer>;
  /** The current time in ms; ages in describe are measured from it. */
  now: () => number;
}

/** One kubectl command: its flags, and a function that runs it. */
export interface Command {
  name: string;
  /** One line for the list of commands. */
  summary: string;
  /** How to call it: `get TYPE [NAME...] [flags]`. */
  usage: string;
  flags: FlagSpec[];
  run(args: ParsedArgs, ctx: CommandContext): Promise<void>;
}

/** Resource types and the names asked for of each, in the order given. */
export interface Target {
  info: ResourceInfo;
  names: string[];
}

/** The resource a user means by a typed name (`po`, `pods`, `pod`, `deployments.apps`), or a clear error. */
export function resolveType(typed: string): ResourceInfo {
  const info = resolveResourceName(typed);
  // Why this wording: it is kubectl's, when discovery has no such resource.
  if (!info) throw new Error(`the server doesn't have a resource type "${typed}"`);
  return info;
}

/** The resources a typed name means: one resource, or each resource of a category such as `all`. */
export function resolveTypes(typed: string): ResourceInfo[] {
  const info = resolveResourceName(typed);
  if (info) return [info];
  // Why categories: `get all` means every resource in the category "all" (pods, services, deployments...), as in kubectl.
  const members = RESOURCES.filter((resource) => resource.categories.includes(typed.toLowerCase()));
  return members.length > 0 ? members : [resolveType(typed)];
}

/**
 * Reads the resources named on a command line, in kubectl's three forms:
 * `TYPE [NAME...]`, `TYPE1,TYPE2 [NAME...]` (or a category: `all`), and `TYPE/NAME...`.
 */
export function parseTargets(positionals: string[]): Target[] {
  const [first, ...rest] = positionals;
  if (first === undefined) throw new UsageError('expected a resource type such as pods, or TYPE/NAME, got nothing');
  if (!positionals.some((arg) => arg.includes('/'))) {
    return first.split(',').flatMap((typed) => resolveTypes(typed).map((info) => ({ info, names: rest })));
  }
  const targets: Target[] = [];
  for (const arg of positionals) {
    const [typed, name, ...extra] = arg.split('/');
    // Why refuse the mixed form: `get pods web/x` is ambiguous, and kubectl refuses it too.
    if (!typed || !name || extra.length > 0) throw new UsageError(`expected every argument in TYPE/NAME form, got "${arg}"`);
    const info = resolveType(typed);
    const existing = targets.find((target) => target.info === info);
    if (existing) existing.names.push(name);
    else targets.push({ info, names: [name] });
  }
  return targets;
}

/** One object named on the command line: `deployment/web`, or `deployment web`. */
export function parseSingleTarget(positionals: string[], what: string): { info: ResourceInfo; name: string } {
  const targets = parseTargets(positionals);
  const [target] = targets;
  if (!target || targets.length > 1 || target.names.length !== 1) {
    throw new UsageError(`expected one ${what} as TYPE NAME or TYPE/NAME, got "${positionals.join(' ')}"`);
  }
  return { info: target.info, name: target.names[0]! };
}

/** How kubectl names a resource type in its messages: `pod`, `deployment.apps`. */
export function resourceNoun(info: ResourceInfo): string {
  const kind = info.kind.toLowerCase();
  return info.group ? `${kind}.${info.group}` : kind;
}

/** The resource an object belongs to, from its apiVersion and kind. */
export function resourceOf(object: KubeObject, where: string): ResourceInfo {
  const info = resourceForKind(object.apiVersion, object.kind);
  if (!info) throw new Error(`no matches for kind "${object.kind}" in version "${object.apiVersion}" (${where})`);
  return info;
}

/** The namespace an object goes to: its own, else the command's; none for cluster-scoped kinds. */
export function namespaceFor(info: ResourceInfo, object: KubeObject, ctx: CommandContext): string | undefined {
  if (!info.namespaced) return undefined;
  const own = object.metadata.namespace;
  // Why refuse: with -n the user said where things go; a manifest that says otherwise is probably the wrong file.
  if (own && ctx.namespaceFromFlag && own !== ctx.namespace) {
    throw new Error(
      `the namespace from the provided object "${own}" does not match the namespace "${ctx.namespace}". ` +
        `You must pass '--namespace=${own}' to perform this operation.`,
    );
  }
  return own || ctx.namespace;
}

/** The line kubectl prints for an error: `Error from server (NotFound): pods "x" not found`, or `error: ...`. */
export function errorLine(error: unknown): string {
  if (error instanceof KubeApiError) {
    const reason = error.reason ? ` (${error.reason})` : '';
    return `Error from server${reason}: ${error.message}`;
  }
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  if (cause?.code === 'ECONNREFUSED') {
    return `The connection to the server was refused - did you specify the right host or port? (${(error as Error).message})`;
  }
  return `error: ${error instanceof Error ? error.message : String(error)}`;
}
