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
  return strictHolderNode(holderIdentity) ?? holderIdentity.split('_')[0];
}

const LEADER_IDENTITY = /^(.+?)_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The node of a "<hostname>_<uuid>" identity only; undefined for any other
 * shape (a custom leader-election client), so a check can report such a
 * holder as it is instead of looking up a node that was never meant.
 */
export function strictHolderNode(holderIdentity: string | undefined): string | undefined {
  return holderIdentity ? LEADER_IDENTITY.exec(holderIdentity)?.[1] : undefined;
}

/**
 * Is `node` the host a "<hostname>_<uuid>" leader identity names? The
 * hostname need not be the node name (--hostname-override, FQDN hostnames,
 * upper case): it matches the name, the kubernetes.io/hostname label or a
 * Hostname address, case-insensitively.
 */
export function holderIsNode(holderIdentity: string | undefined, node: Node): boolean {
  const host = strictHolderNode(holderIdentity)?.toLowerCase();
  if (!host) return false;
  const names = [
    node.metadata?.name,
    node.metadata?.labels?.['kubernetes.io/hostname'],
    ...(node.status?.addresses ?? []).filter((a) => a.type === 'Hostname').map((a) => a.address),
  ].filter((n): n is string => !!n).map((n) => n.toLowerCase());
  return names.includes(host);
}
