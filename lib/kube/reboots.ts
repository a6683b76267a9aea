import { condition } from './objects.js';
import { eventLastSeen, eventReporter, occurrencesSince } from './events.js';
import { parseTime } from './time.js';
import type { KubeEvent, Node } from './types.js';

// Nodes that came back at (nearly) the same time. A rolling reboot brings
// nodes back minutes apart, one at a time; a cluster-wide power cycle or an
// unattended-upgrades reboot brings them back together.

export interface NodeMoment {
  node: string;
  /** epoch ms */
  at: number;
}

/**
 * Groups of two or more moments whose first and last are at most `spreadMs`
 * apart, largest first. Each moment is in at most one group: the largest
 * group is taken, then the largest among the rest, and so on.
 */
export function togetherGroups(moments: NodeMoment[], spreadMs: number): NodeMoment[][] {
  let rest = [...moments].sort((a, b) => a.at - b.at || (a.node < b.node ? -1 : 1));
  const groups: NodeMoment[][] = [];
  for (;;) {
    let best: [number, number] = [0, 0];
    for (let i = 0, j = 0; i < rest.length; i++) {
      while (j < rest.length && rest[j]!.at - rest[i]!.at <= spreadMs) j++;
      if (j - i > best[1] - best[0]) best = [i, j];
    }
    if (best[1] - best[0] < 2) return groups;
    groups.push(rest.slice(best[0], best[1]));
    rest = [...rest.slice(0, best[0]), ...rest.slice(best[1])];
  }
}

/**
 * A node whose Ready condition turned True within this long of its creation
 * has been Ready since it joined: that transition is its first Ready, not a
 * return. Joining takes seconds to minutes (the kubelet registers the Node
 * with Ready=False until the container runtime's network is ready); a node
 * that went down and came back was created long before.
 */
export const FIRST_READY_WITHIN_S = 600;

/**
 * Since when the node has been Ready, and whether that is its first Ready
 * (it joined the cluster) or a return from NotReady/Unknown (a reboot, a
 * kubelet or network outage). undefined: not Ready, or no transition time.
 * Only a return is a reboot-like event; a Rebooted event (the kubelet's
 * report of a changed bootID) says more than either.
 */
export function readySince(node: Node): { at: number; first: boolean } | undefined {
  const ready = condition(node.status?.conditions, 'Ready');
  const at = parseTime(ready?.lastTransitionTime);
  if (ready?.status !== 'True' || at === undefined) return undefined;
  const created = parseTime(node.metadata?.creationTimestamp);
  return { at, first: created !== undefined && at - created <= FIRST_READY_WITHIN_S * 1000 };
}

/** Ready=True/False/Unknown changes of one node inside the flap window, from events and the condition itself. */
export function readyChanges(node: string, events: KubeEvent[], readyTransition: number | undefined, since: number): number {
  let ready = 0;
  const notReady = new Map<string, number>(); // the kubelet and the node controller both report NotReady: count the larger
  for (const e of events) {
    if (e.involvedObject?.name !== node) continue;
    const n = occurrencesSince(e, since);
    if (!n) continue;
    if (e.reason === 'NodeReady') ready += n;
    else if (e.reason === 'NodeNotReady') {
      const who = e.source?.component || e.reportingComponent || eventReporter(e) || '?';
      notReady.set(who, (notReady.get(who) ?? 0) + n);
    }
  }
  const fromEvents = ready + Math.max(0, ...notReady.values());
  // With no event left (TTL), the condition still shows the last change.
  return Math.max(fromEvents, readyTransition !== undefined && readyTransition >= since ? 1 : 0);
}

/**
 * When each node came back inside the window: its Rebooted event (the
 * kubelet's report that the node's bootID changed), else its Ready condition
 * turning True again. A node whose Ready is its first (it joined the cluster,
 * lib/kube/reboots.ts readySince) did not come back from anything.
 */
export function returnMoments(nodes: Node[], events: KubeEvent[], since: number): (NodeMoment & { how: 'Rebooted event' | 'Ready since' })[] {
  const out: (NodeMoment & { how: 'Rebooted event' | 'Ready since' })[] = [];
  for (const n of nodes) {
    const node = n.metadata?.name ?? '';
    let rebooted: number | undefined;
    for (const e of events) {
      if (e.reason !== 'Rebooted' || e.involvedObject?.name !== node) continue;
      const t = eventLastSeen(e);
      if (t !== undefined && t >= since && (rebooted === undefined || t > rebooted)) rebooted = t;
    }
    if (rebooted !== undefined) { out.push({ node, at: rebooted, how: 'Rebooted event' }); continue; }
    const back = readySince(n);
    if (back && !back.first && back.at >= since) out.push({ node, at: back.at, how: 'Ready since' });
  }
  return out;
}

/** Nodes whose first Ready lies inside the window: they joined the cluster, they did not reboot. */
export function joinedMoments(nodes: Node[], events: KubeEvent[], since: number): NodeMoment[] {
  const rebooted = new Set(events.filter((e) => e.reason === 'Rebooted').map((e) => e.involvedObject?.name));
  return nodes.flatMap((n) => {
    const back = readySince(n);
    const node = n.metadata?.name ?? '';
    return back?.first && back.at >= since && !rebooted.has(node) ? [{ node, at: back.at }] : [];
  });
}
