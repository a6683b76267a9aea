// Could a pod run on a node? The scheduler's own hard rules that a reboot
// pre-flight can check from the objects alone: the node is Ready and
// schedulable, the pod's nodeSelector and required node affinity match its
// labels, and the pod tolerates its NoSchedule/NoExecute taints. Resources
// and pod (anti-)affinity are not modelled: a node that passes may still be
// full, so this says "could run elsewhere", not "will".
import { nodeReadiness } from './nodes.js';
import type { Node, NodeSelectorTerm, Pod, Taint, Toleration } from './types.js';

function matchesTerm(term: NodeSelectorTerm, labels: Record<string, string>): boolean {
  const exprs = term.matchExpressions ?? [];
  if (!exprs.length && !(term.matchFields ?? []).length) return false; // an empty term matches nothing
  return exprs.every((e) => {
    const v = e.key === undefined ? undefined : labels[e.key];
    switch (e.operator) {
      case 'In': return v !== undefined && (e.values ?? []).includes(v);
      case 'NotIn': return v === undefined || !(e.values ?? []).includes(v);
      case 'Exists': return v !== undefined;
      case 'DoesNotExist': return v === undefined;
      case 'Gt': return v !== undefined && Number(v) > Number(e.values?.[0]);
      case 'Lt': return v !== undefined && Number(v) < Number(e.values?.[0]);
      default: return false;
    }
  });
}

/** Node affinity's nodeSelectorTerms are ORed (also used by PersistentVolume nodeAffinity). */
export function matchesNodeSelectorTerms(terms: NodeSelectorTerm[] | undefined, node: Node): boolean {
  if (!terms?.length) return true;
  const labels = { ...node.metadata?.labels, 'metadata.name': node.metadata?.name ?? '' };
  return terms.some((t) => matchesTerm(t, labels));
}

function tolerates(tolerations: Toleration[], taint: Taint): boolean {
  return tolerations.some((t) =>
    (t.effect === undefined || t.effect === '' || t.effect === taint.effect) &&
    (t.operator === 'Exists' ? (t.key === undefined || t.key === '' || t.key === taint.key) : t.key === taint.key && (t.value ?? '') === (taint.value ?? '')));
}

/** Why the pod could not run on the node, or undefined when it could. */
export function whyNotOn(pod: Pod, node: Node): string | undefined {
  const name = node.metadata?.name ?? '?';
  if (nodeReadiness(node) !== 'Ready') return `${name} is not Ready`;
  if (node.spec?.unschedulable) return `${name} is cordoned`;
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) {
    if (labels[k] !== v) return `${name} lacks nodeSelector ${k}=${v}`;
  }
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!matchesNodeSelectorTerms(required, node)) return `${name} does not match the pod's required node affinity`;
  const taint = (node.spec?.taints ?? []).find((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(pod.spec?.tolerations ?? [], t));
  if (taint) return `${name} has taint ${taint.key}${taint.value ? `=${taint.value}` : ''}:${taint.effect} the pod does not tolerate`;
  return undefined;
}
