import { condition } from './objects.js';
import { parseTime } from './time.js';
import type { Node } from './types.js';

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
