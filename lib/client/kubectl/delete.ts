/**
 * `kubectl delete`: one DELETE per object, with a DeleteOptions body that
 * says what happens to the objects it owns (its propagationPolicy):
 * Background deletes the owner now and lets the garbage collector remove the
 * dependents; Foreground removes the dependents first; Orphan leaves them.
 */
import type { DeleteOptions } from '../client.ts';
import { loadManifests } from '../manifests.ts';
import { UsageError, type FlagSpec } from './args.ts';
import { namespaceFor, parseTargets, resourceNoun, resourceOf, type Command, type CommandContext } from './common.ts';
import type { ResourceInfo } from '../../apiserver/resources.ts';

const FLAGS: FlagSpec[] = [
  { name: 'filename', short: 'f', type: 'list', description: 'Delete the objects named in a manifest file, a folder, or - for stdin.' },
  { name: 'cascade', type: 'string', description: 'background (default), foreground or orphan: what happens to dependents.' },
  { name: 'grace-period', type: 'string', description: 'Seconds a pod gets to shut down; -1 keeps the pod\'s own setting.' },
];

/** `delete TYPE NAME... | TYPE/NAME... | -f FILE`: delete objects, choosing what happens to their dependents. */
export const deleteCommand: Command = {
  name: 'delete',
  summary: 'Delete resources by file names, stdin, or type and names',
  usage: 'delete TYPE NAME... | TYPE/NAME... | -f FILE [--cascade=background|foreground|orphan] [--grace-period=N]',
  flags: FLAGS,
  async run(args, ctx) {
    const options = deleteOptions(args.string('cascade'), args.string('grace-period'));
    const paths = args.list('filename');
    const objects = paths.length > 0 ? await objectsFromFiles(paths, ctx) : objectsFromArgs(args.positionals, ctx);
    // The real kubectl goes on after an error and reports them all at the end; this one stops at the first.
    for (const { info, namespace, name } of objects) {
      await ctx.client.delete(info, namespace, name, options);
      ctx.out.write(`${resourceNoun(info)} "${name}" deleted\n`);
    }
  },
};

// #region delete-options
/** The DeleteOptions body: `--cascade` becomes propagationPolicy, as kubectl sends it. */
export function deleteOptions(cascade: string | undefined, gracePeriod: string | undefined): DeleteOptions {
  const policies: Record<string, DeleteOptions['propagationPolicy']> = {
    background: 'Background',
    foreground: 'Foreground',
    orphan: 'Orphan',
    // Why true and false: older kubectl took --cascade=true|false, and scripts still pass them.
    true: 'Background',
    false: 'Orphan',
  };
  const propagationPolicy = policies[cascade ?? 'background'];
  if (!propagationPolicy) {
    throw new UsageError(`expected --cascade to be "background", "foreground", or "orphan", got "${cascade}"`);
  }
  const options: DeleteOptions = { propagationPolicy };
  if (gracePeriod !== undefined && gracePeriod !== '-1') options.gracePeriodSeconds = parseGracePeriod(gracePeriod);
  return options;
}
// #endregion delete-options

function parseGracePeriod(text: string): number {
  const seconds = Number(text);
  if (!Number.isInteger(seconds) || seconds < 0) throw new UsageError(`expected --grace-period to be a whole number of seconds, got "${text}"`);
  return seconds;
}

interface ObjectRef {
  info: ResourceInfo;
  namespace: string | undefined;
  name: string;
}

function objectsFromArgs(positionals: string[], ctx: CommandContext): ObjectRef[] {
  const refs = parseTargets(positionals).flatMap(({ info, names }) =>
    names.map((name) => ({ info, namespace: info.namespaced ? ctx.namespace : undefined, name })),
  );
  // Why refuse: `delete pods` with no name would have to mean "all", which kubectl only does with --all.
  if (refs.length === 0) throw new UsageError(`expected the names of the ${positionals.join(' ')} to delete, got none`);
  return refs;
}

async function objectsFromFiles(paths: string[], ctx: CommandContext): Promise<ObjectRef[]> {
  const refs: ObjectRef[] = [];
  for (const path of paths) {
    for (const manifest of await loadManifests(path, ctx.stdin)) {
      const where = `document ${manifest.document} of ${manifest.source}`;
      const info = resourceOf(manifest.object, where);
      const name = manifest.object.metadata.name;
      if (!name) throw new Error(`expected metadata.name to delete in ${where}, got only generateName`);
      refs.push({ info, namespace: namespaceFor(info, manifest.object, ctx), name });
    }
  }
  return refs;
}
