/**
 * `kubectl logs`: the API server does not keep logs. It passes the request
 * on to the kubelet of the pod's node, which reads the container's output;
 * kubectl only asks for `pods/NAME/log` and prints what comes back, or, with
 * -f, keeps the answer open and prints each line as it is written.
 */
import { UsageError, type FlagSpec } from './args.ts';
import { parseSingleTarget, type Command } from './common.ts';

const FLAGS: FlagSpec[] = [
  { name: 'container', short: 'c', type: 'string', description: 'Which container of the pod (needed when it has several).' },
  { name: 'follow', short: 'f', type: 'boolean', description: 'Keep printing as the container writes.' },
  { name: 'tail', type: 'string', description: 'Only the last N lines; -1 for all.' },
  { name: 'previous', short: 'p', type: 'boolean', description: 'The previous, terminated run of the container.' },
];

/** `logs POD [-c CONTAINER] [-f] [--tail N]`: print a container's output. */
export const logsCommand: Command = {
  name: 'logs',
  summary: 'Print the logs for a container in a pod',
  usage: 'logs POD | pod/POD [-c CONTAINER] [-f] [--tail N] [-p]',
  flags: FLAGS,
  async run(args, ctx) {
    // Why add `pods`: `logs web-1` names a pod without saying so; `logs pod/web-1` says it.
    const typed = args.positionals.length === 1 && !args.positionals[0]!.includes('/') ? ['pods', ...args.positionals] : args.positionals;
    const { info, name } = parseSingleTarget(typed, 'pod');
    if (info.resource !== 'pods') throw new Error(`expected a pod, got ${info.resource}/${name} (this kubectl reads the logs of pods only)`);
    const options = { container: args.string('container'), tailLines: parseTail(args.string('tail')), previous: args.bool('previous') || undefined };
    if (!args.bool('follow')) {
      ctx.out.write(await ctx.client.logs(ctx.namespace, name, options));
      return;
    }
    // With follow the answer stays open; it ends when the container stops or the user presses Ctrl-C.
    const stream = await ctx.client.logs(ctx.namespace, name, { ...options, follow: true });
    for await (const chunk of stream) ctx.out.write(String(chunk));
  },
};

function parseTail(text: string | undefined): number | undefined {
  if (text === undefined || text === '-1') return undefined;
  const lines = Number(text);
  if (text.trim() === '' || !Number.isInteger(lines) || lines < 0) throw new UsageError(`expected --tail to be a whole number of lines, got "${text}"`);
  return lines;
}
