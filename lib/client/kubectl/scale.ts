/**
 * `kubectl scale`: change only the replica count, through the `scale`
 * subresource. The client never sends the whole Deployment, so it cannot
 * overwrite a change someone else made to the rest of it in the meantime.
 */
import { UsageError, type FlagSpec } from './args.ts';
import { parseSingleTarget, resourceNoun, type Command } from './common.ts';

const FLAGS: FlagSpec[] = [{ name: 'replicas', type: 'string', description: 'The new number of replicas.' }];

/** `scale deploy/NAME --replicas=N`: set the replica count through the scale subresource. */
export const scaleCommand: Command = {
  name: 'scale',
  summary: 'Set a new size for a deployment or replica set',
  usage: 'scale TYPE/NAME --replicas=N | scale TYPE NAME --replicas=N',
  flags: FLAGS,
  async run(args, ctx) {
    const replicas = parseReplicas(args.string('replicas'));
    const { info, name } = parseSingleTarget(args.positionals, 'object to scale');
    if (!info.subresources.some((subresource) => subresource.name === 'scale')) {
      throw new Error(`expected a resource with a scale subresource (deployments, replicasets), got ${info.resource}`);
    }
    // #region scale-patch
    // PATCH .../deployments/NAME/scale, Content-Type: application/merge-patch+json, {"spec":{"replicas":N}}
    await ctx.client.patch(info, ctx.namespace, name, { spec: { replicas } }, 'merge', { subresource: 'scale' });
    // #endregion scale-patch
    ctx.out.write(`${resourceNoun(info)}/${name} scaled\n`);
  },
};

function parseReplicas(text: string | undefined): number {
  if (text === undefined) throw new UsageError('expected --replicas=N, got none');
  const replicas = Number(text);
  if (text.trim() === '' || !Number.isInteger(replicas) || replicas < 0) {
    throw new UsageError(`expected --replicas to be a whole number, 0 or more, got "${text}"`);
  }
  return replicas;
}
