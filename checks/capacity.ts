import { nodeReadiness } from '../lib/kube/nodes.js';
import { controllerOf } from '../lib/kube/objects.js';
import { NOT_FINISHED } from '../lib/kube/pods.js';
import { parseQuantity, podRequests, type Requests } from '../lib/kube/quantity.js';
import { RESOURCES } from '../lib/kube/resources.js';
import type { Node, Pod } from '../lib/kube/types.js';
import { formatBytes } from '../lib/kube/volumes.js';
import { defineCheck, opt } from '../lib/plugin/check.js';
import { declareMetrics, percent, range } from '../lib/plugin/context.js';
import type { Range } from '../lib/plugin/range.js';
import { judge, Report, type Judgement } from '../lib/plugin/report.js';
import { firstFew, plural } from '../lib/plugin/result.js';
import { sanitize } from '../lib/plugin/sanitize.js';
import { State, worst } from '../lib/plugin/state.js';

/** A Node as this check keeps it: what the scheduler may place there. */
export interface CapacityNode {
  name: string;
  /** Ready and not cordoned: the scheduler places new pods here. */
  schedulable: boolean;
  /** status.allocatable: CPU in millicores, memory in bytes, pods. */
  allocatable: Requests & { pods: number };
}

/** A non-terminal pod bound to a node, reduced to its requests. */
export interface CapacityPod {
  node: string;
  /** False for DaemonSet and static (mirror) pods: they are tied to their node and do not move. */
  moves: boolean;
  cpu: number;
  memory: number;
}

export interface CapacityData {
  nodes: CapacityNode[];
  pods: CapacityPod[];
}

export interface CapacityOptions {
  warning?: Range;
  critical?: Range;
  podsWarning?: Range;
  podsCritical?: Range;
}

/** A move that cannot fit at all (nothing free) is shown as this share: large, finite, valid perfdata. */
export const MOVE_PERCENT_CAP = 1000;

const RESOURCE = [
  { key: 'cpu', what: 'CPU', show: (m: number) => `${Math.round(m / 10) / 100} CPU` },
  { key: 'memory', what: 'memory', show: (b: number) => formatBytes(Math.max(0, b)) },
] as const;

/** One lost node, one resource: what its pods need against what the other schedulable nodes have free. */
export interface LossCase {
  node: string;
  need: number;
  free: number;
  /** need as a share of free, in percent (MOVE_PERCENT_CAP when nothing is free). */
  percent: number;
}

/** Requests of the non-terminal pods per node: all of them (they hold the room), and those that would move. */
function perNode(pods: readonly CapacityPod[]) {
  const used = new Map<string, Requests & { pods: number }>();
  const moving = new Map<string, Requests>();
  for (const p of pods) {
    const u = used.get(p.node) ?? { cpu: 0, memory: 0, pods: 0 };
    u.cpu += p.cpu; u.memory += p.memory; u.pods++;
    used.set(p.node, u);
    if (!p.moves) continue;
    const m = moving.get(p.node) ?? { cpu: 0, memory: 0 };
    m.cpu += p.cpu; m.memory += p.memory;
    moving.set(p.node, m);
  }
  return { used, moving };
}

/**
 * For each resource, the node whose loss hurts most: every node is tried (the
 * largest by allocatable is not always the worst: a smaller node packed with
 * movable pods can be), the pods that would move against the room left on the
 * schedulable nodes that remain (allocatable minus the requests already there,
 * never below 0: an overcommitted node takes nothing).
 */
export function worstLoss(d: CapacityData): Record<keyof Requests, LossCase | undefined> {
  const { used, moving } = perNode(d.pods);
  const freeOn = (n: CapacityNode, r: keyof Requests) => Math.max(0, n.allocatable[r] - (used.get(n.name)?.[r] ?? 0));
  const out = {} as Record<keyof Requests, LossCase | undefined>;
  for (const { key } of RESOURCE) {
    const totalFree = d.nodes.filter((n) => n.schedulable).reduce((s, n) => s + freeOn(n, key), 0);
    let worst: LossCase | undefined;
    for (const n of d.nodes) {
      const need = moving.get(n.name)?.[key] ?? 0;
      const free = totalFree - (n.schedulable ? freeOn(n, key) : 0);
      const percent = need <= 0 ? 0 : free <= 0 ? MOVE_PERCENT_CAP : Math.min(MOVE_PERCENT_CAP, Math.round((1000 * need) / free) / 10);
      const c = { node: n.name, need, free, percent };
      if (!worst || c.percent > worst.percent || (c.percent === worst.percent && c.need > worst.need)) worst = c;
    }
    out[key] = worst;
  }
  return out;
}

/** Pods per node against its allocatable pods, fullest first. */
export function podFill(d: CapacityData): { node: string; pods: number; allocatable: number; percent: number }[] {
  const { used } = perNode(d.pods);
  return d.nodes
    .filter((n) => n.allocatable.pods > 0)
    .map((n) => {
      const pods = used.get(n.name)?.pods ?? 0;
      return { node: n.name, pods, allocatable: n.allocatable.pods, percent: Math.round((1000 * pods) / n.allocatable.pods) / 10 };
    })
    .sort((a, b) => b.percent - a.percent || a.node.localeCompare(b.node));
}

export function evaluateCapacity(d: CapacityData, o: CapacityOptions) {
  const r = new Report();
  const nodeCount = d.nodes.length;
  const schedulable = d.nodes.filter((n) => n.schedulable).length;

  // 1. N-1: the worst single node loss, per resource.
  const loss = worstLoss(d);
  const okParts: { node: string; part: string }[] = [];
  let bad: LossCase[] = [];
  for (const { key, what, show } of RESOURCE) {
    const c = loss[key];
    if (nodeCount < 2 || !c) {
      perf.metric(r, `${key}_move` as const, undefined, o, { min: 0 });
      continue;
    }
    const j: Judgement = perf.judge(r, `${key}_move` as const, c.percent, o, { min: 0 });
    const facts = `its pods request ${show(c.need)}, the other schedulable nodes have ${show(c.free)} free`;
    const pct = c.percent >= MOVE_PERCENT_CAP ? 'more than all' : `${c.percent}%`;
    if (j.state !== State.OK) {
      const node = sanitize(c.node, 80);
      r.problem(j.state, `losing ${node} needs ${pct} of the ${what} free elsewhere`,
        `losing ${node}: ${facts}: the move needs ${pct} of it (${j.hint})`);
      bad.push(c);
    } else okParts.push({ node: sanitize(c.node, 80), part: `${c.percent}% of the ${what}` });
    r.info(`${what}: the worst node to lose is ${sanitize(c.node, 80)}: ${facts} (${c.percent >= MOVE_PERCENT_CAP ? 'nothing free' : `${c.percent}%`})`);
  }
  for (const { key } of RESOURCE) {
    const c = nodeCount < 2 ? undefined : loss[key];
    // Headroom in the metric's own unit: millicores as cores, bytes.
    const v = c ? (key === 'cpu' ? Math.round(c.free - c.need) / 1000 : c.free - c.need) : undefined;
    perf.metric(r, `${key}_headroom` as const, v, o);
  }
  if (nodeCount === 1) r.info('one node: losing it loses every pod, so N-1 is not judged (kubernetes-mixin does not judge single-node clusters either)');
  bad = [...new Map(bad.map((c) => [c.node, c])).values()];
  if (bad.length) {
    const names = bad.map((c) => sanitize(c.node, 80)).join(', ');
    r.action(worst(...r.problems().map((pr) => pr.state)), `add a node or capacity, or lower requests on ${names} (kubectl describe node ${sanitize(bad[0]!.node, 80)}) before ${bad.length > 1 ? 'they reboot' : 'it reboots'}`);
  }

  // 2. Pods per node against the node's allocatable pods (the kubelet's maxPods).
  const fill = podFill(d);
  const full: string[] = [];
  const pods = perf.options('pods_max', o);
  const byState = new Map<State, string[]>();
  for (const f of fill) {
    const j = judge(f.percent, pods.warn, pods.crit);
    if (j.state === State.OK) continue;
    const node = sanitize(f.node, 80);
    full.push(node);
    byState.set(j.state, [...(byState.get(j.state) ?? []), `${node} ${f.pods}/${f.allocatable} pods`]);
    r.add(j.state, `${node}: ${f.pods} of ${f.allocatable} allocatable pods (${f.percent}%, ${j.hint}): new pods for it fail with "Too many pods"`);
  }
  // The status line stays short on a large cluster: the fullest three of each state, then a count.
  for (const [state, items] of byState) {
    r.problem(state, items.length <= 3 ? items.join('; ') : `${items.length} nodes near their pod limit (${firstFew(items, 3)})`);
  }
  // Not bounded by 100: a node can hold more pods than a lowered maxPods allows.
  perf.metric(r, 'pods_max', fill[0]?.percent ?? 0, o, { min: 0 });
  perf.metric(r, 'nodes', nodeCount, o, { min: 0 });
  perf.metric(r, 'schedulable_nodes', schedulable, o, { min: 0, max: nodeCount });
  if (full.length) r.action(worst(...byState.keys()), `move pods off ${firstFew(full, 3)} or raise ${full.length > 1 ? 'their' : 'its'} kubelet's maxPods`);

  if (!nodeCount) return r.done('no nodes');
  const fullest = fill[0] ? `, fullest ${sanitize(fill[0].node, 80)} at ${fill[0].pods}/${fill[0].allocatable} pods` : '';
  // 'losing k8s01 needs 50% of the CPU and 40% of the memory free elsewhere'
  const byNode = new Map<string, string[]>();
  for (const p of okParts) byNode.set(p.node, [...(byNode.get(p.node) ?? []), p.part]);
  const n1 = nodeCount < 2 ? 'one node, N-1 not judged' : [...byNode].map(([n, parts]) => `losing ${n} needs ${parts.join(' and ')} free elsewhere`).join(', ');
  return r.done(`${plural(nodeCount, 'node')}: ${n1}${fullest}`);
}

const perf = declareMetrics({
  cpu_move: { describe: 'CPU requests of the worst node to lose as a share of the CPU free on the other schedulable nodes (capped at 1000; U on a one-node cluster)', judge: range('warning', 'critical'), uom: '%' },
  memory_move: { describe: 'The same for memory', judge: range('warning', 'critical'), uom: '%' },
  cpu_headroom: { describe: 'CPU (cores) left free on the other schedulable nodes after that move; negative when it does not fit' },
  memory_headroom: { describe: 'Memory (bytes) left free after the worst move; negative when it does not fit', uom: 'B' },
  pods_max: { describe: 'Pods on the fullest node as a percentage of its allocatable pods', judge: percent('podsWarning', 'podsCritical', 'a node\'s allocatable pods'), uom: '%' },
  nodes: { describe: 'Nodes' },
  schedulable_nodes: { describe: 'Nodes that are Ready and not cordoned' },
});

export default defineCheck({
  name: 'capacity',
  title: 'CAPACITY',
  scope: 'cluster',
  nrpe: {
    args: '-t 20',
    about: 'N-1: can the cluster lose its worst node (requests that would move vs room left on the schedulable nodes); pods per node near maxPods.',
  },
  summary: 'Can the cluster lose a node: requests that would move against the room left elsewhere; pods per node',
  description:
    'N-1 capacity: for every node, the CPU and memory requests of its non-terminal pods that would have to move if it ' +
    'were lost (not DaemonSet or static pods, which stay with their node) against what the remaining schedulable nodes ' +
    '(Ready, not cordoned) have free (allocatable minus the requests of their non-terminal pods). The worst node per ' +
    'resource is judged: -w/-c take the share of that free room the move needs, in percent (over 100: some pods would ' +
    'stay Pending). A one-node cluster is not judged N-1 (OK, with a note). Pods per node: the non-terminal pods on ' +
    'each node against its allocatable pods (the kubelet\'s maxPods); a node over --pods-warning percent is WARNING, ' +
    'named. One list of nodes and one paged list of non-terminal pods, each reduced as it arrives.',
  thresholds: { warning: '80', critical: '100', describe: 'Share of the free CPU or memory on the other schedulable nodes that the pods of the worst node to lose need, in percent' },
  options: {
    'pods-warning': opt.range({ default: '90', describe: 'Pods on one node as a percentage of its allocatable pods (the kubelet\'s maxPods)' }),
    'pods-critical': opt.range({ describe: 'Pods on one node as a percentage of its allocatable pods' }),
  },
  perfdata: perf.docs,
  examples: [
    ['$0 --kubeconfig /etc/nagios/k8s-nrpe.kubeconfig', 'WARNING when losing a node needs more than 80% of the room left, CRITICAL when it does not fit'],
    ['$0 -w 60 -c 90 --pods-warning 80', 'keep more room: a rolling reboot drains one node at a time'],
  ],

  async gather(ctx) {
    const kube = await ctx.kube();
    const [nodes, pods] = await Promise.all([
      kube.list<Node, CapacityNode>(RESOURCES.nodes, { project: capacityNode }),
      kube.list<Pod, CapacityPod>(RESOURCES.pods, { fieldSelector: NOT_FINISHED, project: capacityPod }),
    ]);
    return { nodes, pods } satisfies CapacityData;
  },

  evaluate(d, o) {
    return evaluateCapacity(d, o);
  },
});

/** Allocatable in the units Requests uses (a node without status has none). */
export function capacityNode(n: Node): CapacityNode {
  const a = n.status?.allocatable;
  const cpu = parseQuantity(a?.cpu) ?? 0;
  return {
    name: n.metadata?.name ?? '',
    schedulable: !n.spec?.unschedulable && nodeReadiness(n) === 'Ready',
    allocatable: { cpu: Math.round(cpu * 1000), memory: parseQuantity(a?.memory) ?? 0, pods: Math.floor(parseQuantity(a?.pods) ?? 0) },
  };
}

/** A pod bound to a node, reduced to its requests; unbound (Pending) pods hold no room and are dropped. */
export function capacityPod(p: Pod): CapacityPod | undefined {
  const node = p.spec?.nodeName;
  if (!node) return undefined;
  const owner = controllerOf(p.metadata)?.kind;
  return { node, moves: owner !== 'DaemonSet' && owner !== 'Node', ...podRequests(p) };
}
