// Which Node this host is: the one rule every node-scoped check uses. Node
// names are often not the hostname (FQDN hostnames, upper case, cloud names,
// --hostname-override), and a node-local verdict judged against the wrong
// node, or against every node, pages for somebody else's problem.
import type { KubeClient } from './client.js';
import { RESOURCES } from './resources.js';
import { isNodeName } from './names.js';
import { MAKE_KUBECONFIG } from './kubeconfig-load.js';
import { nodeHostNames, nodeNamed, NodeNotKnown, unknownNode, type HostNameSource } from './nodes.js';
import type { Node } from './types.js';
import { hostNames } from '../host/node-name.js';
import type { CheckContext } from '../plugin/check.js';
import { sanitize } from '../plugin/sanitize.js';

export interface ThisNode {
  /** The node's name (what field selectors and URLs use). */
  name: string;
  node: Node;
  /** How it was found, for -v: 'by --node', 'by its name', 'by its kubernetes.io/hostname label'... */
  how: string;
}

/**
 * The precedence, most specific first; the first tier with a match decides,
 * and two nodes in that tier are ambiguous (UNKNOWN: pass --node):
 *   0. a Node named like the hostname (the kubelet's default, one GET);
 *   1. a Node whose name or kubernetes.io/hostname label is one of the host's
 *      names (hostname, short hostname, FQDN: lib/host/node-name.ts);
 *   2. a Node with one of them as a Hostname address;
 *   3. a Node whose name, label or Hostname address has the host's short name
 *      as its first label (the host is 'ip-10-0-0-1', the node 'ip-10-0-0-1.ec2.internal').
 * Every comparison ignores case.
 */
type Tier = 0 | 1 | 2 | 3;

interface Match {
  node: Node;
  by: HostNameSource;
}

const short = (s: string) => s.split('.')[0]!;

/** The matches of the first tier that has any (pure). `names` as hostNames() gives them, hostname first. */
export function matchHost(nodes: readonly Node[], names: readonly string[]): { tier: Tier; matches: Match[] } | undefined {
  const host = names[0] ?? '';
  const tiers: ((v: { value: string; by: HostNameSource }) => boolean)[] = [
    (v) => v.by === 'name' && v.value === host,
    (v) => v.by !== 'Hostname address' && names.includes(v.value),
    (v) => v.by === 'Hostname address' && names.includes(v.value),
    (v) => short(v.value) === short(host),
  ];
  for (let tier = 0; tier < tiers.length; tier++) {
    const matches: Match[] = [];
    for (const node of nodes) {
      const hit = nodeHostNames(node).find(tiers[tier]!);
      if (hit) matches.push({ node, by: hit.by });
    }
    if (matches.length) return { tier: tier as Tier, matches };
  }
  return undefined;
}

const HOW: Record<HostNameSource, string> = { name: 'by its name', 'kubernetes.io/hostname label': 'by its kubernetes.io/hostname label', 'Hostname address': 'by its Hostname address' };

/** The one node of a tier's matches, or the UNKNOWN that says to pass --node. */
function decide(found: { tier: Tier; matches: Match[] } | undefined, names: readonly string[], alt: string): ThisNode {
  const shown = names.map((n) => sanitize(n, 80)).join(', ');
  if (!found) {
    throw new NodeNotKnown(
      `this host is not a node of the cluster: no node has its name (${shown}) as its name, kubernetes.io/hostname label ` +
      `or Hostname address: pass --node${alt} with this host's node name as 'kubectl get nodes' shows it`);
  }
  if (found.matches.length > 1) {
    const which = found.matches.slice(0, 5).map((m) => `${sanitize(m.node.metadata?.name ?? '?', 80)} (${m.by})`).join(', ');
    throw new NodeNotKnown(`this host's name (${shown}) matches ${found.matches.length} nodes: ${which}: pass --node${alt} with the one this host is`);
  }
  const m = found.matches[0]!;
  const how = found.tier === 3 ? `${HOW[m.by]}, whose short form is this host's short name` : HOW[m.by];
  return { name: m.node.metadata?.name ?? '', node: m.node, how };
}

/** thisNode() over nodes already listed (a check that lists every node anyway). Pure. */
export function thisNodeAmong(nodes: readonly Node[], given: string | undefined, names: readonly string[] = hostNames(), alt = ''): ThisNode {
  if (given !== undefined) {
    const node = nodes.find((n) => n.metadata?.name === given);
    if (!node) throw unknownNode(given, alt);
    return { name: given, node, how: 'by --node' };
  }
  return decide(matchHost(nodes, names), names, alt);
}

const LABEL_VALUE = /^[a-z0-9]([-a-z0-9_.]{0,61}[a-z0-9])?$/;

/** Only what matching reads of a Node, when every node has to be listed. */
function identityOnly(n: Node): Node {
  return { metadata: { name: n.metadata?.name, labels: { 'kubernetes.io/hostname': n.metadata?.labels?.['kubernetes.io/hostname'] ?? '' } }, status: { addresses: n.status?.addresses?.filter((a) => a.type === 'Hostname') } };
}

/**
 * This host's Node, asked of the API at the cost of what it takes: --node is
 * one GET; a node named like the hostname is one GET; a name or label match
 * is a GET per other host name and one label-selected list; only a host known
 * by a Hostname address or its short name alone costs a list of every node
 * (then -v says to pass --node). Throws NodeNotKnown (UNKNOWN) when no node or
 * several match, and an unknown --node; `alt` names another way out (' (or --all-nodes)').
 */
export async function thisNode(kube: KubeClient, given: string | undefined, names: readonly string[] = hostNames(), alt = ''): Promise<ThisNode> {
  const byFlag = await nodeNamed(kube, given);
  if (byFlag === null) throw unknownNode(given!, alt);
  if (byFlag) return { name: given!, node: byFlag, how: 'by --node' };
  const host = names[0] ?? '';
  const byHost = isNodeName(host) ? await kube.getOptional<Node>(RESOURCES.nodes, host) : undefined;
  if (byHost) return { name: host, node: byHost, how: HOW.name };
  const others = names.slice(1).filter(isNodeName);
  const labels = names.filter((n) => LABEL_VALUE.test(n));
  const [named, labelled] = await Promise.all([
    Promise.all(others.map((n) => kube.getOptional<Node>(RESOURCES.nodes, n))),
    labels.length ? kube.list<Node>(RESOURCES.nodes, { labelSelector: `kubernetes.io/hostname in (${labels.join(',')})` }) : Promise.resolve([]),
  ]);
  const seen = new Map<string, Node>();
  for (const n of [...named, ...labelled]) if (n?.metadata?.name) seen.set(n.metadata.name, n);
  const found = matchHost([...seen.values()], names);
  if (found && found.tier <= 1) return decide(found, names, alt);
  const all = await kube.list<Node, Node>(RESOURCES.nodes, { project: identityOnly });
  const me = decide(matchHost(all, names), names, alt);
  // The Node itself, whole: the check reads its status.
  const node = await kube.getOptional<Node>(RESOURCES.nodes, me.name);
  if (!node) throw unknownNode(me.name);
  return { ...me, node, how: `${me.how}, after listing every node (pass --node ${me.name} to spare the list)` };
}

/**
 * The API client for a check whose verdict is about this host: a kubeconfig
 * that cannot be loaded (none written yet: the package is installed before
 * make-kubeconfig.sh runs) is NodeNotKnown, told apart from an API server that
 * does not answer (the host may well be a node in trouble).
 */
export async function nodeCheckClient(ctx: CheckContext): Promise<KubeClient> {
  try {
    return await ctx.kube();
  } catch (e) {
    const why = (e as Error).message;
    const step = /make-kubeconfig/.test(why) ? '' : `: write one with sudo ${MAKE_KUBECONFIG} (deploy/make-kubeconfig.sh)`;
    throw new NodeNotKnown(`cannot tell whether this host is a node of a cluster: ${why}${step}`);
  }
}
