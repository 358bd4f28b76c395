/**
 * The controller manager as its own process, as kube-controller-manager
 * runs: `tsx lib/controllers/main.ts --kubeconfig FILE [--controllers a,b]`.
 * It reads a kubeconfig (the cluster writes one for it:
 * controller-manager.conf, as kubeadm does), runs until SIGTERM or SIGINT,
 * and then stops its controllers cleanly. Killing it and starting it again
 * is safe: everything it knows, it reads back from the API server.
 */
import { clientFromKubeconfig, flag, runIfMain, runUntilSignal } from '../client/component-process.ts';
import { CONTROLLERS, startControllerManager } from './manager.ts';

const USAGE = `usage: tsx lib/controllers/main.ts --kubeconfig FILE [--controllers a,b] [--node-monitor-grace-period 40s] [--node-monitor-period 5s] [--workers N] [--trace]

  controllers: ${Object.keys(CONTROLLERS).join(', ')} (default: all)`;

/** The value after `name` in argv, if any. */
/** A duration as upstream flags write it (`40s`, `500ms`, `1m`), in ms; undefined when not given. */
export function parseDuration(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  if (!match) throw new Error(`expected a duration like 40s, 500ms or 1m, got ${JSON.stringify(text)}`);
  const unit = match[2] ?? 's';
  return Number(match[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : 60_000);
}

/** Entry point: start the controller manager and run until a signal. */
export async function main(args: string[]): Promise<number> {
  const kubeconfig = flag(args, '--kubeconfig');
  if (!kubeconfig || args.includes('--help')) {
    console.error(USAGE);
    return 2;
  }
  const { client, user, server } = clientFromKubeconfig(kubeconfig, 'kube-controller-manager/v1.32.0 (workbook)');
  const controllers = flag(args, '--controllers')?.split(',').filter((name) => name !== '');
  const workers = flag(args, '--workers');
  const manager = await startControllerManager({
    client,
    controllers,
    workers: workers === undefined ? undefined : Number(workers),
    nodeMonitorGracePeriodMs: parseDuration(flag(args, '--node-monitor-grace-period')),
    nodeMonitorPeriodMs: parseDuration(flag(args, '--node-monitor-period')),
    onTrace: args.includes('--trace') ? (line) => console.log(line) : undefined,
    onEvent: (event) => console.log(`event ${event.type} ${event.reason} ${event.namespace ? `${event.namespace}/` : ''}${event.object}: ${event.message}`),
  });
  console.log(`controller manager running (pid ${process.pid}) as ${user} against ${server}: ${[...manager.controllers.keys()].join(', ')}`);

  return runUntilSignal(`the controller manager`, async () => {
    await manager.stop();
    client.close();
  });
}

runIfMain(import.meta.url, main);
