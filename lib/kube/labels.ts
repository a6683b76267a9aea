import { PluginError } from '../plugin/errors.js';
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


/**
 * The same selector as text for a server-side ?labelSelector=, so the
 * apiserver filters: {matchLabels: {k8s-app: kube-dns}} -> 'k8s-app=kube-dns';
 * matchExpressions become 'k in (a,b)', 'k notin (a,b)', 'k', '!k'. Terms are
 * sorted by key as the apiserver prints them. An empty selector ({}) is ''
 * (everything). A null selector selects nothing and has no text, and neither
 * has one the apiserver would reject: both throw a PluginError (UNKNOWN),
 * never a list of everything.
 */
export function selectorToString(selector: LabelSelector | null | undefined): string {
  if (!selector) throw new PluginError('label selector is null: it selects nothing');
  const terms: { key: string; text: string }[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) terms.push({ key, text: `${key}=${value}` });
  for (const e of selector.matchExpressions ?? []) {
    const key = e.key ?? '';
    const values = [...(e.values ?? [])].sort();
    const bad = (why: string) => new PluginError(`invalid label selector: ${e.operator ?? 'no operator'} on '${key}' ${why}`);
    if (!key) throw bad('has no key');
    switch (e.operator) {
      case 'In':
      case 'NotIn':
        if (!values.length) throw bad('needs values');
        terms.push({ key, text: `${key} ${e.operator === 'In' ? 'in' : 'notin'} (${values.join(',')})` });
        break;
      case 'Exists':
      case 'DoesNotExist':
        terms.push({ key, text: e.operator === 'Exists' ? key : `!${key}` });
        break;
      default:
        throw bad('is not an operator the apiserver knows');
    }
  }
  return terms.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((t) => t.text).join(',');
}
