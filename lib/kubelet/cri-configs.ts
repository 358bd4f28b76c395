/**
 * How the kubelet describes a Pod to the container runtime: the sandbox
 * config and one container config per container, in CRI terms. Everything
 * the runtime makes is labelled with the Pod's uid and the container's
 * name, so that a kubelet that restarts can find out, from the runtime
 * alone, what it was running.
 */
import type { Container, Pod } from '../api/types.ts';
import { parseQuantity } from '../apiserver/validation.ts';
import type { ContainerConfig, PodSandboxConfig } from '../runtime/cri.ts';

/** The labels the kubelet puts on sandboxes and containers (the real kubelet's names). */
export const LABEL_POD_NAME = 'io.kubernetes.pod.name';
export const LABEL_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const LABEL_POD_UID = 'io.kubernetes.pod.uid';
export const LABEL_CONTAINER_NAME = 'io.kubernetes.container.name';

// #region sandbox-config
/** The sandbox of a Pod: its identity, hostname and labels. */
export function sandboxConfig(pod: Pod): PodSandboxConfig {
  const { name = '', namespace = 'default', uid = '' } = pod.metadata;
  return {
    metadata: { name, namespace, uid, attempt: 0 },
    hostname: name,
    labels: { ...pod.metadata.labels, [LABEL_POD_NAME]: name, [LABEL_POD_NAMESPACE]: namespace, [LABEL_POD_UID]: uid },
    annotations: { ...pod.metadata.annotations },
  };
}
// #endregion sandbox-config

// #region container-config
/** One container of the Pod, as the runtime creates it: image, command, environment, limits, labels. */
export function containerConfig(pod: Pod, container: Container, attempt: number, hostIP: string, podIP: string | undefined): ContainerConfig {
  const limits = container.resources?.limits ?? {};
  return {
    metadata: { name: container.name, attempt },
    image: container.image ?? '',
    command: container.command ?? [],
    args: container.args ?? [],
    ...(container.workingDir ? { workingDir: container.workingDir } : {}),
    env: (container.env ?? []).map((e) => ({ key: e.name, value: e.value ?? fieldValue(pod, e.valueFrom, hostIP, podIP) })),
    labels: { [LABEL_CONTAINER_NAME]: container.name, [LABEL_POD_NAME]: pod.metadata.name ?? '', [LABEL_POD_NAMESPACE]: pod.metadata.namespace ?? 'default', [LABEL_POD_UID]: pod.metadata.uid ?? '' },
    annotations: { ...pod.metadata.annotations },
    logPath: `${container.name}/${attempt}.log`,
    memoryLimitBytes: limits.memory ? Math.round(parseQuantity(limits.memory)) : 0,
    milliCPULimit: limits.cpu ? Math.round(parseQuantity(limits.cpu) * 1000) : 0,
  };
}
// #endregion container-config

/** The downward API's `fieldRef` values the workbook supports; anything else is empty, as an unset variable. */
function fieldValue(pod: Pod, from: Record<string, unknown> | undefined, hostIP: string, podIP: string | undefined): string {
  const path = (from?.fieldRef as { fieldPath?: string } | undefined)?.fieldPath;
  switch (path) {
    case 'metadata.name': return pod.metadata.name ?? '';
    case 'metadata.namespace': return pod.metadata.namespace ?? 'default';
    case 'metadata.uid': return pod.metadata.uid ?? '';
    case 'spec.nodeName': return pod.spec.nodeName ?? '';
    case 'status.hostIP': return hostIP;
    case 'status.podIP': return podIP ?? '';
    default: return '';
  }
}
