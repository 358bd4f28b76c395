/**
 * A hollow node as its own process, as a kubelet runs on its machine:
 * `tsx lib/nodes/main.ts --kubeconfig FILE --name node-2 [--capacity cpu=4,memory=8Gi]
 * [--register-with-taints key=value:NoSchedule] [--node-labels a=b]`.
 * The cluster writes a kubeconfig per scenario node (kubelet-node-2.conf);
 * the node acts as that identity. Runs until SIGTERM or SIGINT.
 */
import type { Taint } from '../api/types.ts';
import { clientFromKubeconfig, flag, runIfMain, runUntilSignal } from '../client/component-process.ts';
import { HOLLOW_KUBELET_VERSION, startHollowNode } from './hollow-node.ts';

const USAGE = 'usage: tsx lib/nodes/main.ts --kubeconfig FILE --name NODE [--capacity cpu=2,memory=4Gi,pods=110] [--register-with-taints key=value:Effect,...] [--node-labels k=v,...] [--trace]';

/** `a=1,b=2` as a record (kubelet's --node-labels format). */
export function parsePairs(text: string | undefined): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const item of (text ?? '').split(',').filter((i) => i !== '')) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new Error(`expected key=value, got ${JSON.stringify(item)}`);
    pairs[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return pairs;
}

/** `key=value:Effect,key:Effect` as taints (kubelet's --register-with-taints format). */
export function parseTaints(text: string | undefined): Taint[] {
  return (text ?? '').split(',').filter((i) => i !== '').map((item) => {
    const match = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(item);
    if (!match?.[1] || !match[3]) throw new Error(`expected key[=value]:NoSchedule|PreferNoSchedule|NoExecute, got ${JSON.stringify(item)}`);
    return { key: match[1], ...(match[2] ? { value: match[2] } : {}), effect: match[3] as Taint['effect'] };
  });
}

/** Entry point: register the node and run until a signal. */
export async function main(args: string[]): Promise<number> {
  const kubeconfig = flag(args, '--kubeconfig');
  const name = flag(args, '--name');
  if (!kubeconfig || !name) {
    console.error(USAGE);
    return 2;
  }
  const { client, user, server } = clientFromKubeconfig(kubeconfig, `kubelet/${HOLLOW_KUBELET_VERSION} (hollow) ${name}`);
  const capacity = parsePairs(flag(args, '--capacity'));
  const node = await startHollowNode({
    client,
    name,
    capacity: Object.keys(capacity).length > 0 ? capacity : undefined,
    taints: parseTaints(flag(args, '--register-with-taints')),
    labels: parsePairs(flag(args, '--node-labels')),
    onTrace: args.includes('--trace') ? (line) => console.log(line) : undefined,
  });
  console.log(`hollow node ${node.name} running (pid ${process.pid}) as ${user} against ${server}`);
  return runUntilSignal(`hollow node ${node.name}`, async () => {
    await node.stop();
    client.close();
  });
}

runIfMain(import.meta.url, main);
