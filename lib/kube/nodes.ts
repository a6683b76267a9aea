import type { KubeClient } from './client.js';
import { RESOURCES } from './resources.js';
import { isNodeName } from './names.js';
import { PluginError } from '../plugin/errors.js';
import { condition } from './objects.js';
import type { Node } from './types.js';
import { sanitize } from '../plugin/sanitize.js';

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
  return nodeHostNames(node).some((n) => n.value === host);
}

/** Where a Node says which host it is. */
export type HostNameSource = 'name' | 'kubernetes.io/hostname label' | 'Hostname address';

/** The host names a Node goes by, lowercased: its name, its kubernetes.io/hostname label, its Hostname addresses. */
export function nodeHostNames(node: Node): { value: string; by: HostNameSource }[] {
  const out: { value: string | undefined; by: HostNameSource }[] = [
    { value: node.metadata?.name, by: 'name' },
    { value: node.metadata?.labels?.['kubernetes.io/hostname'], by: 'kubernetes.io/hostname label' },
    ...(node.status?.addresses ?? []).filter((a) => a.type === 'Hostname').map((a) => ({ value: a.address, by: 'Hostname address' as const })),
  ];
  return out.filter((n): n is { value: string; by: HostNameSource } => !!n.value).map((n) => ({ value: n.value.toLowerCase(), by: n.by }));
}

/** The Node a "<hostname>_<uuid>" holder runs on, among `nodes`: the one named like the host first, else any holderIsNode matches. */
export function nodeForHolder(holderIdentity: string | undefined, nodes: readonly Node[]): Node | undefined {
  const host = strictHolderNode(holderIdentity)?.toLowerCase();
  if (!host) return undefined;
  return nodes.find((n) => n.metadata?.name === host) ?? nodes.find((n) => holderIsNode(holderIdentity, n));
}

const LABEL_VALUE = /^[a-z0-9]([-a-z0-9_.]{0,61}[a-z0-9])?$/;

/**
 * nodeForHolder against the API at the cost of one GET in the usual case: the
 * Node named like the lowercased hostname, else the nodes labelled
 * kubernetes.io/hostname=<lowercased hostname>. A node matching only by its
 * Hostname address under another name and label is not found this way.
 */
export async function findHolderNode(kube: KubeClient, holderIdentity: string | undefined): Promise<Node | undefined> {
  const host = strictHolderNode(holderIdentity)?.toLowerCase();
  if (!host) return undefined;
  const byName = isNodeName(host) ? await kube.getOptional<Node>(RESOURCES.nodes, host) : undefined;
  if (byName) return byName;
  if (!LABEL_VALUE.test(host)) return undefined;
  return nodeForHolder(holderIdentity, await kube.list<Node>(RESOURCES.nodes, { labelSelector: `kubernetes.io/hostname=${host}` }));
}

/**
 * The Node that --node names, fetched beside a check's lists: null when the
 * cluster has no such node, undefined when no --node was given.
 */
export async function nodeNamed(kube: KubeClient, name: string | undefined): Promise<Node | null | undefined> {
  if (name === undefined) return undefined;
  return (await kube.getOptional<Node>(RESOURCES.nodes, name)) ?? null;
}

/**
 * The one line for a --node that names no node. A typo in an NRPE command
 * must not read as a quiet, healthy node for ever: every node-scoped check
 * says it the same way, UNKNOWN. (A check that still finds objects bound to
 * a deleted node judges them instead: "node gone" is its finding.)
 */
export function unknownNode(name: string, hint = ''): NodeNotKnown {
  return new NodeNotKnown(`no node named ${name} in the cluster: pass --node with a name 'kubectl get nodes' shows${hint}`);
}

/**
 * Which node this host is cannot be known (no kubeconfig yet, no node or
 * several match it, an unknown --node): UNKNOWN, for every node-scoped check
 * alike, whatever this host's own evidence says (lib/kube/this-node.ts).
 */
export class NodeNotKnown extends PluginError {
  constructor(message: string) {
    super(message);
    this.name = 'NodeNotKnown';
  }
}

/** 'v1.32.3 (k8s01, k8s02), v1.31.9 (k8s03)' when versions differ. */
export function versionSkew(nodes: Node[]): string | undefined {
  const by = new Map<string, string[]>();
  for (const n of nodes) {
    const v = sanitize(n.status?.nodeInfo?.kubeletVersion ?? 'unknown', 40);
    by.set(v, [...(by.get(v) ?? []), sanitize(n.metadata?.name ?? '?', 80)]);
  }
  if (by.size < 2) return undefined;
  return [...by.entries()].map(([v, ns]) => `${v} (${ns.join(', ')})`).join(', ');
}

/** What check_k8s_nodes reads of a Node: not its images list (tens of KB per node). */
export function compactNode(n: Node): Node {
  return {
    // creationTimestamp: a first Ready is a node joining, not a reboot (readySince).
    metadata: { name: n.metadata?.name, creationTimestamp: n.metadata?.creationTimestamp },
    spec: { unschedulable: n.spec?.unschedulable },
    status: { conditions: n.status?.conditions, nodeInfo: n.status?.nodeInfo },
  };
}
