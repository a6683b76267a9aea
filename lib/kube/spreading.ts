// Does a Deployment keep its own replicas on different nodes? Read from its
// pod template: podAntiAffinity and topologySpreadConstraints on
// kubernetes.io/hostname that select its own pods (check_k8s_coredns; any
// workload whose replicas should survive one node's reboot).
import { matchesSelector, selectorToString } from './labels.js';
import type { Deployment, LabelSelector, PodAffinityTerm, Pod } from './types.js';

export const HOSTNAME = 'kubernetes.io/hostname';

/** A selector in a few words, for the text. */
export function selectorText(sel: LabelSelector | undefined): string {
  if (!sel) return 'no labelSelector';
  try {
    return selectorToString(sel) || 'everything';
  } catch {
    return 'an invalid selector';
  }
}

export interface Spreading {
  /** The strongest rule that spreads the pods over hostnames, if any. */
  found?: { strength: 'required' | 'preferred'; text: string };
  /** Rules that look like spreading but are not (another key, other pods). */
  misses: string[];
}

/**
 * Does the pod template keep its own replicas on different nodes?
 * podAntiAffinity (required or preferred) on kubernetes.io/hostname whose
 * term selects the template's own labels in its own namespace, or a
 * topologySpreadConstraint on kubernetes.io/hostname over its own pods with
 * a maxSkew smaller than the replica count (otherwise all may share a node).
 */
export function hostnameSpreading(d: Deployment, desired: number): Spreading {
  const ns = d.metadata?.namespace ?? '';
  const labels = d.spec?.template?.metadata?.labels ?? {};
  const spec = d.spec?.template?.spec ?? {};
  const misses: string[] = [];
  const found: NonNullable<Spreading['found']>[] = [];

  const ownNamespace = (t: PodAffinityTerm) =>
    (!t.namespaces?.length && !t.namespaceSelector) ||
    (t.namespaces ?? []).includes(ns) ||
    matchesSelector(t.namespaceSelector, { 'kubernetes.io/metadata.name': ns });
  const term = (t: PodAffinityTerm | undefined, strength: 'required' | 'preferred', what: string) => {
    if (!t) return;
    if (t.topologyKey !== HOSTNAME) misses.push(`${what} on ${t.topologyKey || 'no topologyKey'}, not ${HOSTNAME}`);
    else if (!matchesSelector(t.labelSelector, labels)) misses.push(`${what} on ${HOSTNAME} selects ${selectorText(t.labelSelector)}, not its own pods`);
    else if (!ownNamespace(t)) misses.push(`${what} on ${HOSTNAME} looks only in other namespaces`);
    else found.push({ strength, text: `${what} on ${HOSTNAME}` });
  };
  const anti = spec.affinity?.podAntiAffinity;
  for (const t of anti?.requiredDuringSchedulingIgnoredDuringExecution ?? []) term(t, 'required', 'required podAntiAffinity');
  for (const w of anti?.preferredDuringSchedulingIgnoredDuringExecution ?? []) term(w.podAffinityTerm, 'preferred', `preferred podAntiAffinity (weight ${w.weight ?? '?'})`);
  for (const c of spec.topologySpreadConstraints ?? []) {
    const strength = c.whenUnsatisfiable === 'ScheduleAnyway' ? 'preferred' : 'required';
    const skew = c.maxSkew ?? 1;
    const what = `topologySpreadConstraint (maxSkew ${skew}, ${c.whenUnsatisfiable ?? 'DoNotSchedule'})`;
    if (c.topologyKey !== HOSTNAME) misses.push(`${what} on ${c.topologyKey || 'no topologyKey'}, not ${HOSTNAME}`);
    else if (!matchesSelector(c.labelSelector, labels)) misses.push(`${what} on ${HOSTNAME} selects ${selectorText(c.labelSelector)}, not its own pods`);
    else if (skew >= Math.max(desired, 2)) misses.push(`${what} on ${HOSTNAME} lets all ${desired} replicas share a node`);
    else found.push({ strength, text: `${what} on ${HOSTNAME}` });
  }
  return { found: found.find((f) => f.strength === 'required') ?? found[0], misses };
}

/** A pod that must not share its topology domain with its peers (required podAntiAffinity). */
export function requiresAntiAffinity(p: Pod): boolean {
  return (p.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0;
}
