import { optionalString } from '../plugin/args.js';
import { UsageError } from '../plugin/errors.js';
import { sanitize } from '../plugin/sanitize.js';
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
 * --node as an operator gave it: undefined when absent, else a valid node
 * name. Every check that takes --node parses it here: the name goes into a
 * field selector (spec.nodeName=NAME), where a ',' would add a selector term.
 */
export function parseNodeOption(value: unknown): string | undefined {
  const node = optionalString(value, '--node');
  if (node !== undefined && !isNodeName(node)) {
    throw new UsageError(`invalid --node '${sanitize(node, 60)}': a node name is lowercase letters, digits, '-' and '.'`);
  }
  return node;
}

/**
 * A node name as the API accepts it (DNS-1123 subdomain: lowercase letters,
 * digits, '-' and '.', at most 253). Checks validate --node with it before the
 * name goes into a field selector or a URL.
 */
export function isNodeName(name: string): boolean {
  return name.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name);
}
