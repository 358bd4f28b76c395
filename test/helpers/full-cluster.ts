/**
 * A whole in-process cluster for end-to-end tests: store, API server,
 * controller manager, scheduler and the three hollow nodes of the scenario,
 * in a fresh temporary directory.
 */
import type { ClusterOptions } from '../../lib/cluster/cluster.ts';
import { startTestCluster, type TestCluster } from './apiserver.ts';

/** Starts every component; options override (e.g. a short nodeMonitorGracePeriodMs). */
export function startFullCluster(options: Partial<ClusterOptions> = {}): Promise<TestCluster> {
  return startTestCluster({ controllers: true, scheduler: true, nodes: 'hollow', ...options });
}
