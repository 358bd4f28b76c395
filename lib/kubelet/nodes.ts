/**
 * The scenario's nodes with real kubelets: node-1 is the control-plane node
 * (labelled and tainted NoSchedule, as kubeadm does, and running the
 * control plane's static Pods), node-2 and node-3 are workers. Each kubelet
 * acts as its own identity, `system:node:<name>`, and has its own runtime:
 * simulated by default, all of them on one sim network so that Pods reach
 * each other; or runc for the workers (Linux, root).
 */
import { join } from 'node:path';
import type { KubeClient } from '../client/client.ts';
import { CONTROL_PLANE_LABEL, CONTROL_PLANE_TAINT, defaultPodCIDR, nodeIndex } from '../nodes/node-status.ts';
import type { ContainerRuntime } from '../runtime/cri.ts';
import { SimNetwork } from '../runtime/sim-network.ts';
import { SimRuntime } from '../runtime/sim.ts';
import { CONTROL_PLANE_IMAGES, writeControlPlaneManifests } from './control-plane.ts';
import { startKubelet, type Kubelet, type KubeletOptions } from './kubelet.ts';

/** What startKubelets needs from a cluster: a client per identity. */
export interface KubeletClients {
  clientAs(user: string, userAgent?: string): KubeClient;
}

/** How to run the scenario's kubelets. */
export interface ScenarioKubeletOptions extends Partial<Omit<KubeletOptions, 'client' | 'name' | 'runtime'>> {
  /** Where each node keeps its files (its static Pod folder: <dir>/<node>/manifests). */
  dir: string;
  /** The runtime of the workers: "sim" (default) or "runc" (Linux, root; node-1 stays on the sim). */
  runtime?: 'sim' | 'runc';
  /** The learner's `containerArgs` (exercise 5.3), given to every runtime. */
  containerArgs?: typeof import('../runtime/runc.ts').containerArgs;
}

/** A running kubelet with its runtime, which `stop` also cleans up when it is runc. */
export interface ScenarioKubelet extends Kubelet {
  /** Stops the kubelet and, for runc, removes every container, mount and network namespace it made. */
  stopAndClean(): Promise<void>;
}

/** Starts a kubelet per name; the first (node-1 when there are several) is the control-plane node. */
export async function startKubelets(cluster: KubeletClients, names: readonly string[], options: ScenarioKubeletOptions): Promise<Map<string, ScenarioKubelet>> {
  const network = new SimNetwork();
  const started = await Promise.all(
    names.map(async (name, i) => {
      const controlPlane = i === 0 && names.length > 1 && name === 'node-1';
      const podCIDR = defaultPodCIDR(nodeIndex(name));
      const runtime = await runtimeFor(name, podCIDR, controlPlane ? 'sim' : options.runtime ?? 'sim', network, options);
      const address = `172.18.0.${nodeIndex(name) + 2}`;
      let staticPodPath: string | undefined;
      if (controlPlane) {
        staticPodPath = join(options.dir, name, 'manifests');
        writeControlPlaneManifests(staticPodPath, address);
      }
      const client = cluster.clientAs(`system:node:${name}`, `kubelet/v1.32.0 (linux/amd64) ${name}`);
      const kubelet = await startKubelet({
        ...options,
        client,
        name,
        runtime,
        podCIDR,
        address,
        staticPodPath,
        labels: { ...options.labels, ...(controlPlane ? { [CONTROL_PLANE_LABEL]: '' } : {}) },
        taints: [...(options.taints ?? []), ...(controlPlane ? [CONTROL_PLANE_TAINT] : [])],
      });
      const stop = kubelet.stop.bind(kubelet);
      const entry = Object.assign(kubelet, {
        stop: async () => {
          await stop();
          client.close();
        },
        stopAndClean: async () => {
          await entry.stop();
          if ('cleanup' in runtime) await (runtime as { cleanup(): Promise<void> }).cleanup();
        },
      }) as ScenarioKubelet;
      return entry;
    }),
  );
  return new Map(started.map((k) => [k.name, k]));
}

async function runtimeFor(name: string, podCIDR: string, kind: 'sim' | 'runc', network: SimNetwork, options: ScenarioKubeletOptions): Promise<ContainerRuntime> {
  const argsOption = options.containerArgs ? { containerArgs: options.containerArgs } : {};
  if (kind === 'sim') return new SimRuntime({ podCIDR, network, clock: options.clock, extraImages: CONTROL_PLANE_IMAGES, ...argsOption });
  const { RuncRuntime } = await import('../runtime/runc.ts');
  const n = nodeIndex(name) + 1;
  // Why per-node names: two runtimes on one host must not share a bridge, a namespace prefix or a state folder.
  return new RuncRuntime({ stateDir: join(options.dir, name, 'runtime'), podCIDR, bridge: `kbs-n${n}`, netnsPrefix: `kbsn${n}-`, clock: options.clock, ...argsOption });
}
