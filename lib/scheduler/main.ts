/**
 * The scheduler as its own process, as kube-scheduler runs:
 *   tsx lib/scheduler/main.ts --kubeconfig FILE [--scheduler-name NAME] [--percentage-of-nodes-to-score N] [-v]
 * It connects with the kubeconfig's identity (the cluster writes
 * scheduler.conf for system:kube-scheduler), schedules until SIGTERM or
 * SIGINT, then stops cleanly: no binding is left half done.
 */
import { clientFromKubeconfig, flag, runIfMain, runUntilSignal } from '../client/component-process.ts';
import { DEFAULT_SCHEDULER_NAME, startScheduler } from './scheduler.ts';

const USAGE = 'usage: tsx lib/scheduler/main.ts --kubeconfig FILE [--scheduler-name NAME] [--percentage-of-nodes-to-score N] [-v]';

/** Runs the scheduler until a signal, which stops it and exits 0. */
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
  const { client, user, server } = clientFromKubeconfig(kubeconfig, 'kube-scheduler/v1.32.0 (workbook)');
  const verbose = args.includes('-v');
  const scheduler = await startScheduler({
    client,
    schedulerName: flag(args, '--scheduler-name') ?? DEFAULT_SCHEDULER_NAME,
    percentageOfNodesToScore: percentage,
    onTrace: verbose ? (line) => console.log(line) : undefined,
    onEvent: (e) => console.log(`event ${e.type} ${e.reason} ${e.namespace}/${e.object}: ${e.message}`),
  });
  console.log(`scheduler running as ${user} against ${server}; ${scheduler.cache.nodeList.length} nodes`);
  return runUntilSignal('the scheduler', async () => {
    await scheduler.stop();
    client.close();
  });
}

runIfMain(import.meta.url, main);
