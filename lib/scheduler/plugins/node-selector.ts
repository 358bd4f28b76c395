/**
 * The NodeAffinity filter, for `spec.nodeSelector`: a Pod that names labels
 * only goes to nodes carrying every one of them (e.g. disktype: ssd).
 */

/** The reason upstream gives (NodeAffinity's ErrReasonPod). */
export const NODE_SELECTOR_REASON = "node(s) didn't match Pod's node affinity/selector";

const FITS: readonly string[] = Object.freeze([]);
const REFUSED: readonly string[] = Object.freeze([NODE_SELECTOR_REASON]);

/** Why a node with `nodeLabels` does not suit a Pod with `nodeSelector`: [] when every selector label matches. */
export function matchNodeSelector(nodeSelector: Readonly<Record<string, string>> | undefined, nodeLabels: Readonly<Record<string, string>> | undefined): readonly string[] {
  // Why shared, frozen answers: the scheduler asks once per node per Pod, and fresh arrays would keep the garbage collector busy.
  if (!nodeSelector) return FITS;
  for (const key in nodeSelector) {
    if (nodeLabels?.[key] !== nodeSelector[key]) return REFUSED;
  }
  return FITS;
}
