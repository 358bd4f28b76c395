/**
 * Static Pods: Pods the kubelet reads from a folder on its node
 * (`/etc/kubernetes/manifests` under kubeadm) and runs without asking the
 * API server, which is how the control plane itself can run as Pods before
 * there is an API server to ask. So that `kubectl get pods` shows them, the
 * kubelet creates a *mirror Pod* for each in the API server: a read-only
 * copy named `<name>-<node>`, bound to the node, owned by the Node, and
 * marked with the annotation `kubernetes.io/config.mirror`. Deleting a
 * mirror Pod does not stop the static Pod; the kubelet makes it again.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { Pod } from '../api/types.ts';
import { isDNS1123Subdomain } from '../apiserver/validation.ts';
import { MANIFEST_EXTENSIONS, parseManifests } from '../client/manifests.ts';

/** The annotations upstream's kubelet puts on static and mirror Pods. */
export const CONFIG_SOURCE_ANNOTATION = 'kubernetes.io/config.source';
export const CONFIG_HASH_ANNOTATION = 'kubernetes.io/config.hash';
export const CONFIG_SEEN_ANNOTATION = 'kubernetes.io/config.seen';
export const CONFIG_MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

/** Whether a Pod from the API server is the mirror of a static Pod. */
export function isMirrorPod(pod: Pod): boolean {
  return pod.metadata.annotations?.[CONFIG_MIRROR_ANNOTATION] !== undefined;
}

// #region static-pod
/** A static Pod from a manifest: named `<name>-<node>`, bound to the node, with a uid that is the hash of what it says. */
export function staticPod(manifest: Pod, nodeName: string, source: string, now: number): Pod {
  if (manifest.kind !== 'Pod') throw new Error(`expected a Pod in the static Pod manifest ${source}, got ${manifest.kind ?? 'no kind'}`);
  const name = `${manifest.metadata?.name ?? ''}-${nodeName}`;
  const problems = isDNS1123Subdomain(name);
  if (!manifest.metadata?.name || problems.length > 0) throw new Error(`expected a valid Pod name in ${source}, got ${JSON.stringify(manifest.metadata?.name)}: ${problems.join('; ')}`);
  const pod = structuredClone(manifest);
  pod.metadata = { ...pod.metadata, name, namespace: pod.metadata.namespace ?? 'default' };
  pod.spec = { restartPolicy: 'Always', terminationGracePeriodSeconds: 30, ...pod.spec, nodeName };
  // Why tolerate every NoExecute taint: a static Pod cannot be evicted anywhere else; it belongs to this node.
  pod.spec.tolerations = [...(pod.spec.tolerations ?? []), { operator: 'Exists', effect: 'NoExecute' }];
  // Why a hash for the uid: the same manifest gives the same Pod after a kubelet restart, and a changed one a new Pod.
  const hash = createHash('md5').update(JSON.stringify(pod)).digest('hex');
  pod.metadata.uid = hash;
  pod.metadata.annotations = { ...pod.metadata.annotations, [CONFIG_HASH_ANNOTATION]: hash, [CONFIG_SEEN_ANNOTATION]: new Date(now).toISOString(), [CONFIG_SOURCE_ANNOTATION]: 'file' };
  delete pod.status;
  return pod;
}

/** The mirror Pod the kubelet creates in the API server for a static Pod. */
export function mirrorPod(pod: Pod, node: { name: string; uid: string }): Pod {
  const mirror = structuredClone(pod);
  const hash = pod.metadata.annotations?.[CONFIG_HASH_ANNOTATION] ?? '';
  mirror.metadata = {
    name: pod.metadata.name,
    namespace: pod.metadata.namespace,
    labels: pod.metadata.labels,
    annotations: { ...pod.metadata.annotations, [CONFIG_MIRROR_ANNOTATION]: hash },
    // Why the Node as owner: when the Node goes, its mirror Pods go with it.
    ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid, controller: true }],
  };
  delete mirror.status;
  return mirror;
}
// #endregion static-pod

/** Reads every static Pod in a folder; a manifest that does not parse is reported and skipped, the others still run. */
export function readStaticPods(dir: string, nodeName: string, now: number, report: (problem: string) => void): Pod[] {
  if (!existsSync(dir)) return [];
  const pods: Pod[] = [];
  const files = readdirSync(dir).filter((name) => MANIFEST_EXTENSIONS.includes(extname(name).toLowerCase())).sort();
  for (const file of files) {
    try {
      // Why one file at a time: one bad file must not stop the others (or the node).
      for (const manifest of parseManifests(readFileSync(join(dir, file), 'utf8'), file)) pods.push(staticPod(manifest.object as Pod, nodeName, `${manifest.document}`, now));
    } catch (error) {
      report((error as Error).message);
    }
  }
  return pods;
}
