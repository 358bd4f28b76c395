/**
 * The kubelet as its own process, as it runs on a node: a plain program
 * (not a Pod), started by the machine's init system under kubeadm.
 * `tsx lib/kubelet/main.ts --kubeconfig FILE --name node-2 [--runtime sim|runc]
 * [--root-dir DIR] [--pod-cidr 10.244.1.0/24] [--static-pod-path DIR]
 * [--register-with-taints key=value:NoSchedule] [--node-labels a=b] [--trace]`.
 * With runc (Linux, root) the containers it starts outlive it: kill it and
 * start it again, and it adopts them. Runs until SIGTERM or SIGINT, which
 * stop the kubelet and leave its containers running, as the real one does.
 */
import { isAbsolute, resolve } from 'node:path';
import { clientFromKubeconfig, flag, runIfMain, runUntilSignal } from '../client/component-process.ts';
import { parsePairs, parseTaints } from '../nodes/main.ts';
import { defaultPodCIDR, KUBELET_VERSION, nodeIndex } from '../nodes/node-status.ts';
import type { ContainerRuntime } from '../runtime/cri.ts';
import { SimRuntime } from '../runtime/sim.ts';
import { startKubelet } from './kubelet.ts';

const USAGE = 'usage: tsx lib/kubelet/main.ts --kubeconfig FILE --name NODE [--runtime sim|runc] [--root-dir DIR] [--pod-cidr CIDR] [--static-pod-path DIR] [--register-with-taints key=value:Effect,...] [--node-labels k=v,...] [--trace]';

/** The runtime named by --runtime; runc keeps its state under --root-dir (required: an absolute folder the project owns). */
async function runtimeFrom(args: string[], name: string, podCIDR: string): Promise<ContainerRuntime> {
  const kind = flag(args, '--runtime') ?? 'sim';
  if (kind === 'sim') return new SimRuntime({ podCIDR });
  if (kind !== 'runc') throw new Error(`expected --runtime sim or runc, got ${JSON.stringify(kind)}`);
  const root = flag(args, '--root-dir');
  if (!root || !isAbsolute(root)) throw new Error(`expected --root-dir with an absolute folder for the runc runtime's state, got ${JSON.stringify(root)}`);
  const { RuncRuntime } = await import('../runtime/runc.ts');
  const n = nodeIndex(name) + 1;
  return new RuncRuntime({ stateDir: resolve(root), podCIDR, bridge: flag(args, '--bridge') ?? `kbs-n${n}`, netnsPrefix: flag(args, '--netns-prefix') ?? `kbsn${n}-` });
}

/** Entry point: start the kubelet and run until a signal. */
export async function main(args: string[]): Promise<number> {
  const kubeconfig = flag(args, '--kubeconfig');
  const name = flag(args, '--name');
  if (!kubeconfig || !name) {
    console.error(USAGE);
    return 2;
  }
  const { client, user, server } = clientFromKubeconfig(kubeconfig, `kubelet/${KUBELET_VERSION} (linux/amd64) ${name}`);
  const podCIDR = flag(args, '--pod-cidr') ?? defaultPodCIDR(nodeIndex(name));
  const runtime = await runtimeFrom(args, name, podCIDR);
  const staticPodPath = flag(args, '--static-pod-path');
  const kubelet = await startKubelet({
    client,
    name,
    runtime,
    podCIDR,
    ...(staticPodPath ? { staticPodPath: resolve(staticPodPath) } : {}),
    taints: parseTaints(flag(args, '--register-with-taints')),
    labels: parsePairs(flag(args, '--node-labels')),
    onTrace: args.includes('--trace') ? (line) => console.log(line) : undefined,
  });
  const version = await runtime.version();
  console.log(`kubelet ${name} running (pid ${process.pid}) with ${version.runtimeName}://${version.runtimeVersion} as ${user} against ${server}`);
  return runUntilSignal(`kubelet ${name}; its containers keep running`, async () => {
    await kubelet.stop();
    client.close();
  });
}

runIfMain(import.meta.url, main);
