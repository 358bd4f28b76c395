/**
 * The NodeUnschedulable filter: `kubectl cordon` sets spec.unschedulable,
 * and from then on no new Pod goes there, unless it tolerates the
 * node.kubernetes.io/unschedulable:NoSchedule taint (as DaemonSet Pods do).
 */
import type { Toleration } from '../../api/types.ts';
import { toleratesTaint } from './taint-toleration.ts';

/** The reason upstream gives (ErrReasonUnschedulable). */
export const UNSCHEDULABLE_REASON = 'node(s) were unschedulable';

/** The taint a cordoned node is treated as having. */
export const UNSCHEDULABLE_TAINT = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' } as const;

const FITS: readonly string[] = Object.freeze([]);
const REFUSED: readonly string[] = Object.freeze([UNSCHEDULABLE_REASON]);

/** Why a node with spec.unschedulable = `unschedulable` refuses a Pod with `tolerations`: [] when it does not. */
export function checkUnschedulable(unschedulable: boolean | undefined, tolerations: readonly Toleration[]): readonly string[] {
  if (!unschedulable) return FITS;
  // Why a toleration can override: cordon means "no new workloads", not "nothing at all".
  if (tolerations.some((toleration) => toleratesTaint(toleration, UNSCHEDULABLE_TAINT))) return FITS;
  return REFUSED;
}
