import type { LabelSelector } from './types.js';

/**
 * Does a metav1.LabelSelector (as in PodDisruptionBudget, Deployment,
 * ReplicaSet, StatefulSet spec.selector) select an object with these labels?
 * The apiserver's own semantics (metav1.LabelSelectorAsSelector):
 * - a missing (null) selector selects nothing, an empty one ({}) selects
 *   everything (policy/v1 PDBs rely on this);
 * - matchLabels and matchExpressions are ANDed;
 * - In: the key is present with one of the values; NotIn: the key is absent
 *   or has none of the values; Exists / DoesNotExist: presence only.
 * An operator the apiserver would reject (or In/NotIn without values) makes
 * the whole selector select nothing, as the apiserver would not accept it.
 */
export function matchesSelector(selector: LabelSelector | null | undefined, labels: Record<string, string> | null | undefined): boolean {
  if (!selector) return false;
  const l = labels ?? {};
  const has = (k: string) => Object.prototype.hasOwnProperty.call(l, k);
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (!has(k) || l[k] !== v) return false;
  }
  for (const e of selector.matchExpressions ?? []) {
    const key = e.key ?? '';
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!values.length || !has(key) || !values.includes(l[key]!)) return false;
        break;
      case 'NotIn':
        if (!values.length || (has(key) && values.includes(l[key]!))) return false;
        break;
      case 'Exists':
        if (!has(key)) return false;
        break;
      case 'DoesNotExist':
        if (has(key)) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

