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
