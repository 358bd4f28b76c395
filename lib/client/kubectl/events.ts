/**
 * `kubectl events`: Events are ordinary objects that components write to say
 * what they did ("Scheduled", "Pulled", "ScalingReplicaSet"). Listing them is
 * a `get events`; `--for pod/web-1` narrows the list with a field selector on
 * the object each event is about.
 */
import { resolveResourceName } from '../../apiserver/resources.ts';
import type { FlagSpec } from './args.ts';
import { parseSingleTarget, type Command } from './common.ts';
import { runGet } from './get.ts';

const FLAGS: FlagSpec[] = [
  { name: 'for', type: 'string', description: 'Only the events about one object, e.g. --for pod/web-1.' },
  { name: 'all-namespaces', short: 'A', type: 'boolean', description: 'Events of every namespace.' },
  { name: 'watch', short: 'w', type: 'boolean', description: 'After listing, print each new event.' },
];

const EVENTS = resolveResourceName('events')!;

/** `events [--for TYPE/NAME] [-A] [-w]`: the events of a namespace, or of one object. */
export const eventsCommand: Command = {
  name: 'events',
  summary: 'List events (the same as get events, with --for)',
  usage: 'events [--for TYPE/NAME] [-n NS | -A] [-w]',
  flags: FLAGS,
  run(args, ctx) {
    const about = args.string('for');
    const request = { targets: [{ info: EVENTS, names: [] }], output: 'table' as const, allNamespaces: args.bool('all-namespaces'), watch: args.bool('watch') };
    if (!about) return runGet(request, ctx);
    const { info, name } = parseSingleTarget([about], 'object for --for');
    // The real `kubectl events` also sorts by time on the client; the server's order (by name) is kept here.
    return runGet({ ...request, fieldSelector: `involvedObject.kind=${info.kind},involvedObject.name=${name}` }, ctx);
  },
};
