/**
 * The control plane as static Pods, the way kubeadm lays it out: one
 * manifest per component in the control-plane node's manifest folder
 * (kubeadm: /etc/kubernetes/manifests), which that node's kubelet runs and
 * mirrors as etcd-node-1, kube-apiserver-node-1, kube-controller-manager-node-1
 * and kube-scheduler-node-1 in kube-system. In the workbook the real
 * components run in the cluster's own process; these Pods are their
 * stand-ins in the simulated runtime, with the images, commands and ports
 * kubeadm would give them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Pod } from '../api/types.ts';

/** The control-plane images of Kubernetes 1.32 and the port each component serves on. */
export const CONTROL_PLANE_IMAGES: Array<{ ref: string; server: { port: number; startupLine: string } }> = [
  { ref: 'registry.k8s.io/etcd:3.5.16-0', server: { port: 2379, startupLine: 'serving client traffic insecurely; this is strongly discouraged!' } },
  { ref: 'registry.k8s.io/kube-apiserver:v1.32.0', server: { port: 6443, startupLine: 'Serving securely on [::]:6443' } },
  { ref: 'registry.k8s.io/kube-controller-manager:v1.32.0', server: { port: 10257, startupLine: 'Serving securely on 127.0.0.1:10257' } },
  { ref: 'registry.k8s.io/kube-scheduler:v1.32.0', server: { port: 10259, startupLine: 'Serving securely on 127.0.0.1:10259' } },
];

// #region control-plane-manifests
/** kubeadm's four static Pod manifests for a control-plane node at `address`. */
export function controlPlaneManifests(address: string): Pod[] {
  const pod = (component: string, image: string, command: string[], port: number): Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: component, namespace: 'kube-system', labels: { component, tier: 'control-plane' } },
    spec: {
      // Why the host's network: the control plane must be reachable before any Pod network exists.
      hostNetwork: true,
      priorityClassName: 'system-node-critical',
      containers: [{ name: component, image, command, livenessProbe: { tcpSocket: { port }, initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 8 } }],
    },
  });
  return [
    pod('etcd', 'registry.k8s.io/etcd:3.5.16-0', ['etcd', `--advertise-client-urls=https://${address}:2379`, '--data-dir=/var/lib/etcd', `--listen-client-urls=https://127.0.0.1:2379,https://${address}:2379`], 2379),
    pod('kube-apiserver', 'registry.k8s.io/kube-apiserver:v1.32.0', ['kube-apiserver', `--advertise-address=${address}`, '--etcd-servers=https://127.0.0.1:2379', '--service-cluster-ip-range=10.96.0.0/12', '--secure-port=6443'], 6443),
    pod('kube-controller-manager', 'registry.k8s.io/kube-controller-manager:v1.32.0', ['kube-controller-manager', '--kubeconfig=/etc/kubernetes/controller-manager.conf', '--cluster-cidr=10.244.0.0/16', '--leader-elect=true'], 10257),
    pod('kube-scheduler', 'registry.k8s.io/kube-scheduler:v1.32.0', ['kube-scheduler', '--kubeconfig=/etc/kubernetes/scheduler.conf', '--leader-elect=true'], 10259),
  ];
}
// #endregion control-plane-manifests

/** Writes the control-plane manifests into `dir` (one YAML file per component, as kubeadm names them). */
export function writeControlPlaneManifests(dir: string, address: string): void {
  mkdirSync(dir, { recursive: true });
  for (const pod of controlPlaneManifests(address)) writeFileSync(join(dir, `${pod.metadata.name}.yaml`), stringify(pod));
}
