/**
 * The scheduler as its own process, as kube-scheduler runs:
 *   tsx lib/scheduler/main.ts --kubeconfig FILE [--scheduler-name NAME] [--percentage-of-nodes-to-score N] [-v]
 * It connects with the kubeconfig's identity (the cluster writes
 * scheduler.conf for system:kube-scheduler), schedules until SIGTERM or
 * SIGINT, then stops cleanly: no binding is left half done.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeClient } from '../client/client.ts';
import { loadContext } from '../client/kubeconfig.ts';
import { DEFAULT_SCHEDULER_NAME, startScheduler } from './scheduler.ts';

const USAGE = 'usage: tsx lib/scheduler/main.ts --kubeconfig FILE [--scheduler-name NAME] [--percentage-of-nodes-to-score N] [-v]';

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Runs the scheduler until a signal; resolves with the exit code. */
export async function main(args: string[]): Promise<number> {
  const kubeconfig = flag(args, '--kubeconfig') ?? process.env.KUBECONFIG;
  if (!kubeconfig) {
    console.error(`expected --kubeconfig FILE (or KUBECONFIG), got neither\n${USAGE}`);
    return 2;
  }
  const percentageText = flag(args, '--percentage-of-nodes-to-score');
  const percentage = percentageText === undefined ? undefined : Number(percentageText);
  if (percentage !== undefined && !(Number.isInteger(percentage) && percentage >= 0 && percentage <= 100)) {
    console.error(`expected --percentage-of-nodes-to-score to be a whole number from 0 to 100, got ${JSON.stringify(percentageText)}`);
    return 2;
  }
  const context = loadContext({ path: kubeconfig });
  const client = new KubeClient({ server: context.server, ca: context.ca, token: context.token, userAgent: 'kube-scheduler/v1.32.0 (workbook)' });
  const verbose = args.includes('-v');
  const scheduler = await startScheduler({
    client,
    schedulerName: flag(args, '--scheduler-name') ?? DEFAULT_SCHEDULER_NAME,
    percentageOfNodesToScore: percentage,
    onTrace: verbose ? (line) => console.log(line) : undefined,
    onEvent: (e) => console.log(`event ${e.type} ${e.reason} ${e.namespace}/${e.object}: ${e.message}`),
  });
  console.log(`scheduler running as ${context.user} against ${context.server}; ${scheduler.cache.nodeList.length} nodes`);
  return new Promise<number>((done) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      console.log(`${signal}: stopping the scheduler`);
      await scheduler.stop();
      client.close();
      done(0);
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
