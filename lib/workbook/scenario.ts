/**
 * The story the workbook follows: three spare Linux laptops become a cluster
 * that runs a frontend and a backend, three replicas each, with the backend
 * behind a ClusterIP Service. Labs and the walkthrough read it from here.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** One laptop of the cluster and what runs on it. */
export interface ScenarioNode {
  name: string;
  role: 'control plane' | 'worker';
  components: string[];
}

// #region nodes
/** node-1 runs the control plane; node-2 and node-3 are the workers. */
export const nodes: ScenarioNode[] = [
  { name: 'node-1', role: 'control plane', components: ['kube-apiserver', 'etcd', 'kube-scheduler', 'kube-controller-manager'] },
  { name: 'node-2', role: 'worker', components: ['kubelet', 'kube-proxy', 'container runtime'] },
  { name: 'node-3', role: 'worker', components: ['kubelet', 'kube-proxy', 'container runtime'] },
];
// #endregion nodes

/** A Kubernetes object as written in a manifest. */
export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [field: string]: unknown };
  spec?: Record<string, unknown>;
  [field: string]: unknown;
}

/** The scenario's manifest files, in the order the scenario applies them. */
export const manifestFiles = ['frontend-deployment.yaml', 'backend-deployment.yaml', 'backend-service.yaml'];

/** The folder holding the manifests (lib/workbook/scenario/). */
export const scenarioDir = join(dirname(fileURLToPath(import.meta.url)), 'scenario');

/** Reads and parses one scenario manifest, refusing anything that is not a single Kubernetes object. */
export function readManifest(file: string): { file: string; text: string; object: ManifestObject } {
  const text = readFileSync(join(scenarioDir, file), 'utf8');
  // Why a small maxAliasCount: manifests need no aliases, and alias bombs must fail fast.
  const object = parse(text, { maxAliasCount: 10 }) as ManifestObject | null;
  if (!object || typeof object.kind !== 'string' || typeof object.metadata?.name !== 'string') {
    throw new Error(`${file}: expected a Kubernetes object with kind and metadata.name, got ${JSON.stringify(object)}`);
  }
  return { file, text, object };
}

/** The three manifests of the scenario: two Deployments and the backend Service. */
export function scenarioManifests(): { file: string; text: string; object: ManifestObject }[] {
  return manifestFiles.map(readManifest);
}

/** One chapter of the plan, with the component it builds. */
export interface PlannedChapter {
  number: number;
  title: string;
  builds: string;
}

/** The book's plan, chapter by chapter, in the order the cluster is built. */
export const chapterPlan: PlannedChapter[] = [
  { number: 0, title: 'Welcome', builds: 'the scenario, the map, the workbook loop' },
  { number: 1, title: 'The cluster store', builds: 'an etcd-like store: revisions, watch, leases' },
  { number: 2, title: 'The API server', builds: 'the REST API, the only door to the store' },
  { number: 3, title: 'The controllers', builds: 'loops that turn Deployments into Pods' },
  { number: 4, title: 'The scheduler', builds: 'a node for every Pod: filter, score, bind' },
  { number: 5, title: 'The kubelet and the container runtime', builds: 'the node agent that starts containers' },
  { number: 6, title: 'kube-proxy', builds: 'Service IPs turned into iptables rules' },
  { number: 7, title: 'DNS and namespaces', builds: 'backend.default.svc.cluster.local' },
  { number: 8, title: 'The whole workflow, and production', builds: 'kubectl apply end to end; real clusters' },
];

/** The chain of events after `kubectl apply`, each with the chapter that builds that link. */
export const applyChain: { chapter: number; text: string }[] = [
  { chapter: 2, text: 'kubectl turns each YAML file into JSON and sends it to the API server over HTTP.' },
  { chapter: 2, text: 'The API server authenticates and authorizes the request, validates the object, and stores it in etcd.' },
  { chapter: 3, text: 'The Deployment controller, watching Deployments through the API server, creates a ReplicaSet for each.' },
  { chapter: 3, text: 'The ReplicaSet controller sees no Pods match yet and creates three Pod objects per ReplicaSet.' },
  { chapter: 4, text: 'The scheduler watches for Pods with no node, picks node-2 or node-3 for each, and writes the binding back.' },
  { chapter: 5, text: "Each worker's kubelet sees the Pods bound to its node and asks the container runtime to start them." },
  { chapter: 6, text: "Each node's kube-proxy watches the Service and its endpoints and writes iptables rules for the ClusterIP." },
  { chapter: 7, text: 'Cluster DNS answers "backend" with the ClusterIP, so the frontend reaches the backend at http://backend.' },
];
