import type { Condition, Node } from './types.js';

export function condition(conds: Condition[] | undefined, type: string): Condition | undefined {
  return conds?.find((c) => c.type === type);
}

/** 'Ready', 'NotReady' (False), or 'Unknown' (kubelet stopped posting). */
export function nodeReadiness(node: Node | undefined): 'Ready' | 'NotReady' | 'Unknown' | 'Missing' {
  if (!node) return 'Missing';
  const c = condition(node.status?.conditions, 'Ready');
  if (c?.status === 'True') return 'Ready';
  if (c?.status === 'False') return 'NotReady';
  return 'Unknown';
}

/**
 * Leader election identities are "<hostname>_<uuid>" (kube-scheduler,
 * kube-controller-manager). Map one to the node name; other shapes are
 * returned as they are.
 */
export function holderNode(holderIdentity: string | undefined): string | undefined {
  if (!holderIdentity) return undefined;
  const m = /^(.+?)_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.exec(holderIdentity);
  return m ? m[1] : holderIdentity.split('_')[0];
}
